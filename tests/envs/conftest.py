"""Shared tables and parametrisation of the env conformance tests.

Every test that takes an ``env_id`` argument runs for every id in ``irs_gym.ENV_IDS``, so an
env registered later is covered without editing these files. A test that also takes
``channel_mode`` runs for each mode the env supports. The tables below only make the runs
cheap (``SMALL``) or add model-specific cases; an id missing from a table falls back to the
default config and the generic cases.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import irs_gym
from irs_gym.envs.core import CHANNEL_MODES

#: Per env id, from the ``cases_*.py`` files beside this one (one file per model, each with
#: ``ENV_ID`` and any of the tables): the small config that keeps every test fast (default
#: config for ids not listed); extra kwargs (on top of SMALL) that change the action space or
#: the codec, every id also being run with ``{}``; variants whose action can express any solver
#: decision, so ``encode(solution.decision)`` must reproduce ``solution.objective`` exactly;
#: out-of-range Config values as (field, value), the ValueError naming the field.
SMALL: dict[str, dict[str, Any]] = {}
VARIANTS: dict[str, list[dict[str, Any]]] = {}
SOLVER_VARIANTS: dict[str, list[dict[str, Any]]] = {}
BAD_CONFIG: dict[str, list[tuple[str, Any]]] = {}


def _load_cases() -> None:
    tables = {
        "SMALL": SMALL,
        "VARIANTS": VARIANTS,
        "SOLVER_VARIANTS": SOLVER_VARIANTS,
        "BAD_CONFIG": BAD_CONFIG,
    }
    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"_env_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, table in tables.items():
            if hasattr(module, name):
                table[module.ENV_ID] = getattr(module, name)


_load_cases()

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
