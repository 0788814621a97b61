r"""The inter-IRS study of model 004 (spec ``shared/models/004-multi-irs-manifold.md``, section 8).

Three ways to treat the IRS1 -> IRS2 channel S (spec section 8, equations (4) and (6)):

==========  ===========================  ============================
scheme      optimise with                evaluate with
==========  ===========================  ============================
Scheme 1    (4): no inter-IRS channel    (4): no inter-IRS channel
Scheme 2    (4): no inter-IRS channel    (6): with the inter-IRS path
Scheme 3    (6): with the inter-IRS path (6): with the inter-IRS path
==========  ===========================  ============================

"Without the inter-IRS channel" means the config with ``inter_irs=False`` (and
``reverse_path=False``) and the scenario with ``S=None``: the same G, h and blockage draws,
only the double-reflection term of (6) removed (``dataclasses.replace``, no re-sampling).

Also :func:`colocated_config`, the co-located counterpart of a separated two-IRS config
(spec section 8, Figs. 3-4).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models import multi_irs as model

SCHEMES = (1, 2, 3)


def _check_scheme(scheme: object) -> int:
    is_int = isinstance(scheme, int | np.integer) and not isinstance(scheme, bool)
    if not is_int or scheme not in SCHEMES:
        raise ValueError(f"scheme must be 1, 2 or 3 (spec 004 section 8), got {scheme!r}")
    return int(scheme)


def _check_inputs(scenario: model.MultiIRSScenario, config: model.MultiIRSConfig) -> None:
    if scenario.S is None:
        raise ValueError(
            "scenario must carry the inter-IRS channel S (sample it with a config that has "
            "inter_irs=True), got scenario.S=None"
        )
    if not config.inter_irs:
        raise ValueError(
            "config must have inter_irs=True (the config of the evaluation with S), "
            f"got inter_irs={config.inter_irs!r}"
        )


def without_inter_irs(
    scenario: model.MultiIRSScenario, config: model.MultiIRSConfig
) -> tuple[model.MultiIRSScenario, model.MultiIRSConfig]:
    """The same realisation and parameters with the inter-IRS path removed (model (4)).

    Returns ``(scenario with S = None, config with inter_irs = reverse_path = False)``; the
    channels G, h and every blockage draw are unchanged.
    """
    return (
        dataclasses.replace(scenario, S=None, inter_irs_paths=None),
        dataclasses.replace(config, inter_irs=False, reverse_path=False),
    )


def evaluate(
    config: model.MultiIRSConfig,
    scenario: model.MultiIRSScenario,
    decision: model.MultiIRSDecision | None,
) -> float:
    """The configured objective of ``decision`` (``nan`` when there is none)."""
    if decision is None:
        return float("nan")
    return float(model.metrics(config, scenario, decision)["objective"])


def _scored(sol: Solution, objective: float) -> Solution:
    return Solution(
        sol.decision,
        objective,
        sol.status,
        history=list(sol.history),
        seconds=sol.seconds,
        message=sol.message,
    )


def solve_scheme(
    solver: Solver,
    scenario: model.MultiIRSScenario,
    config: model.MultiIRSConfig,
    scheme: int,
    *,
    rng: np.random.Generator | None = None,
) -> Solution:
    """Solve one realisation under Scheme 1, 2 or 3 of spec section 8.

    Args:
        solver: any model-004 solver (e.g. DOMALO or S-DOMALO).
        scenario: a realisation sampled with ``inter_irs=True`` (``scenario.S`` present).
        config: the config with ``inter_irs=True``; the objective, power, Q, ... of both the
            solve and the evaluation.
        scheme: 1 (optimise and evaluate without S), 2 (optimise without S, evaluate with
            S) or 3 (optimise and evaluate with S).
        rng: passed to ``solver.solve``.

    Returns:
        A :class:`~baselines.core.Solution` whose ``decision``, ``status``, ``history``,
        ``seconds`` and ``message`` come from the solve (``history`` in the solve's model,
        i.e. without S for Schemes 1 and 2) and whose ``objective`` is the evaluated one:
        ``metrics(...)["objective"]`` under the evaluation's config and scenario (``nan``
        when the solve returned no decision).

    Raises:
        ValueError: ``scheme`` not in {1, 2, 3}, ``scenario.S`` is None, or
            ``config.inter_irs`` is False.
    """
    scheme = _check_scheme(scheme)
    _check_inputs(scenario, config)
    plain_scenario, plain_config = without_inter_irs(scenario, config)
    if scheme == 3:
        sol = solver.solve(scenario, config, rng=rng)
    else:
        sol = solver.solve(plain_scenario, plain_config, rng=rng)
    if scheme == 1:
        return _scored(sol, evaluate(plain_config, plain_scenario, sol.decision))
    return _scored(sol, evaluate(config, scenario, sol.decision))


def solve_schemes(
    solver: Solver,
    scenario: model.MultiIRSScenario,
    config: model.MultiIRSConfig,
    schemes: Iterable[int] = SCHEMES,
    *,
    rng: np.random.Generator | None = None,
) -> dict[int, Solution]:
    """Several schemes of spec section 8 at the cost of at most two solves.

    Schemes 1 and 2 share one solve without S. Every solve starts from a copy of ``rng`` in
    its state at the call, so the result for each scheme equals ``solve_scheme(..., scheme,
    rng=<a generator in that state>)``.

    Returns:
        ``{scheme: Solution}`` in the order asked, same contents as :func:`solve_scheme`.
    """
    schemes = [_check_scheme(s) for s in schemes]
    _check_inputs(scenario, config)
    plain_scenario, plain_config = without_inter_irs(scenario, config)

    def fresh() -> np.random.Generator | None:
        return None if rng is None else copy.deepcopy(rng)

    plain = full = None
    if 1 in schemes or 2 in schemes:
        plain = solver.solve(plain_scenario, plain_config, rng=fresh())
    if 3 in schemes:
        full = solver.solve(scenario, config, rng=fresh())
    out: dict[int, Solution] = {}
    for s in schemes:
        if s == 1:
            out[s] = _scored(plain, evaluate(plain_config, plain_scenario, plain.decision))
        elif s == 2:
            out[s] = _scored(plain, evaluate(config, scenario, plain.decision))
        else:
            out[s] = _scored(full, evaluate(config, scenario, full.decision))
    return out


def colocated_config(config: model.MultiIRSConfig) -> model.MultiIRSConfig:
    """The co-located counterpart of a separated two-IRS config (spec section 8, Figs. 3-4).

    One IRS with M_1 + M_2 elements (a UPA with the same ``elements_per_row``) at **IRS1's
    site**; every other parameter (BS, users, power, noise, paths, objective, Q, blockage
    probability of the IRS links) is unchanged, and the inter-IRS options are off (one IRS
    has no inter-IRS link). IRS1's site is our choice: spec section 8 says only "a single
    IRS with M_1 + M_2 elements at one site"; at the spec's default geometry (section 1) the
    two sites are mirror images about the BS-user axis, so either gives the same statistics.

    Raises:
        ValueError: ``config.num_irs`` is not 2.
    """
    if config.num_irs != 2:
        raise ValueError(f"config must describe two separated IRSs, got num_irs={config.num_irs}")
    return dataclasses.replace(
        config,
        num_irs=1,
        num_elements=(config.total_elements,),
        irs_positions_m=(config.irs_positions_m[0],),
        inter_irs=False,
        reverse_path=False,
    )
