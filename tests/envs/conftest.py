"""Shared tables and parametrisation of the env conformance tests.

Every test that takes an ``env_id`` argument runs for every id in ``irs_gym.ENV_IDS``, so an
env registered later is covered without editing these files. A test that also takes
``channel_mode`` runs for each mode the env supports. The tables below only make the runs
cheap (``SMALL``) or add model-specific cases; an id missing from a table falls back to the
default config and the generic cases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import pytest

import irs_gym
from irs_gym.envs.core import CHANNEL_MODES

MULTI_IRS = "irs_gym/MultiIRSDownlink-v0"

#: Small configs that keep every test fast (default config for ids not listed).
SMALL: dict[str, dict[str, Any]] = {
    MULTI_IRS: dict(num_bs_antennas=4, num_elements=4, num_irs=1, num_users=2),
}

#: Extra kwargs (applied on top of SMALL) that change the action space or the codec; every
#: id is also run with ``{}``.
VARIANTS: dict[str, list[dict[str, Any]]] = {
    MULTI_IRS: [
        {"phase_levels": 4},
        {"phase_levels": 4, "phase_action": "discrete"},
        {"precoder": "mmse"},
        {"objective": "min_rate"},
        {"num_irs": 2, "num_elements": (4, 8), "inter_irs": True, "reverse_path": True},
    ],
}

#: Variants whose action can express any solver decision (the precoder is part of the action),
#: so ``encode(solution.decision)`` must reproduce ``solution.objective`` exactly.
SOLVER_VARIANTS: dict[str, list[dict[str, Any]]] = {
    MULTI_IRS: [
        {},
        {"phase_levels": 4},
        {"objective": "min_rate"},
        {"num_irs": 2, "num_elements": (4, 8), "inter_irs": True, "reverse_path": True},
    ],
}

#: Out-of-range Config values per model: (field, value); the ValueError must name the field.
BAD_CONFIG: dict[str, list[tuple[str, Any]]] = {
    MULTI_IRS: [
        ("num_users", 0),
        ("num_users", 2.5),
        ("tx_power_dbm", 1e9),
        ("tx_power_dbm", float("nan")),
        ("noise_dbm", 10.0),
        ("phase_levels", 1),
        ("phase_levels", -4),
        ("num_irs", 0),
        ("num_bs_antennas", 6),  # not a multiple of elements_per_row = 4
        ("num_elements", 0),
        ("blockage_prob", 1.5),
        ("objective", "sum_power"),
        ("inter_irs", True),  # with num_irs = 1
        ("precoder", "zf"),
        ("phase_action", "binary"),
    ],
}

#: Env options every env accepts, with out-of-range values.
GENERIC_BAD: list[tuple[str, Any]] = [
    ("channel_mode", "bogus"),
    ("rho", 2),
    ("rho", -0.1),
    ("rho", "high"),
]


def supported_modes(env_id: str) -> list[str]:
    """The channel modes ``env_id`` accepts (markov only where the model defines it)."""
    modes = []
    for mode in CHANNEL_MODES:
        try:
            gym.make(env_id, channel_mode=mode, **SMALL.get(env_id, {}))
        except ValueError:
            continue
        modes.append(mode)
    return modes


def variant_id(kwargs: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in kwargs.items()) or "default"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise by argument names: ``env_id`` alone, with ``channel_mode``, with
    ``variant`` (VARIANTS plus the default), with ``solver_variant`` (SOLVER_VARIANTS), or
    with ``bad_field, bad_value`` (BAD_CONFIG plus GENERIC_BAD)."""
    names = metafunc.fixturenames
    if "env_id" not in names:
        return
    ids = sorted(irs_gym.ENV_IDS)
    if "channel_mode" in names:
        argnames, cases = (
            ("env_id", "channel_mode"),
            [(i, m) for i in ids for m in supported_modes(i)],
        )
        labels = [f"{i}-{m}" for i, m in cases]
    elif "variant" in names:
        argnames = ("env_id", "variant")
        cases = [(i, v) for i in ids for v in [{}, *VARIANTS.get(i, [])]]
        labels = [f"{i}-{variant_id(v)}" for i, v in cases]
    elif "solver_variant" in names:
        argnames = ("env_id", "solver_variant")
        cases = [(i, v) for i in ids for v in SOLVER_VARIANTS.get(i, [{}])]
        labels = [f"{i}-{variant_id(v)}" for i, v in cases]
    elif "bad_field" in names:
        argnames = ("env_id", "bad_field", "bad_value")
        cases = [(i, f, v) for i in ids for f, v in [*BAD_CONFIG.get(i, []), *GENERIC_BAD]]
        labels = [f"{i}-{f}={v!r}" for i, f, v in cases]
    else:
        argnames, cases, labels = ("env_id",), [(i,) for i in ids], ids
    metafunc.parametrize(argnames, cases, ids=labels)


@pytest.fixture
def small_kwargs(env_id: str) -> dict[str, Any]:
    """The small config of ``env_id`` as ``gym.make`` kwargs."""
    return dict(SMALL.get(env_id, {}))


@pytest.fixture
def make_env(env_id: str) -> Callable[..., gym.Env]:
    """``make_env(**kw)``: ``gym.make(env_id)`` with the small config under ``kw``."""

    def make(**kwargs: Any) -> gym.Env:
        return gym.make(env_id, **{**SMALL.get(env_id, {}), **kwargs})

    return make
