"""Batched solving and scoring for the reproduction scripts.

A reproduction point solves many realisations of one config. :func:`attempt_batch` hands
them to a vectorised solver in one :meth:`~baselines.core.Solver.solve_batch` call (and to
any other solver one by one, through :func:`benchmarks.figures.attempt`); :func:`scores`
evaluates the decisions of all realisations in one call of the model's batch-first
``metrics``. Both give, realisation by realisation, what the per-realisation calls give.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from baselines.core import Solution, Solver
from benchmarks.figures import attempt
from irs_gym.models.tree import tree_stack

logger = logging.getLogger(__name__)


def attempt_batch(
    solver: Solver,
    scenarios: Sequence[Any],
    config: Any,
    rngs: Sequence[np.random.Generator],
) -> list[Solution | None]:
    """:func:`~benchmarks.figures.attempt` for every realisation: one ``solve_batch`` call
    when the solver is vectorised (``solver.batched``), else one ``attempt`` each.

    Should the batch raise, every realisation is attempted on its own with its generator in
    the state of the call, so that a failure is counted for its realisation only (``None``).
    """
    if solver.batched:
        fresh = [copy.deepcopy(g) for g in rngs]
        try:
            return list(solver.solve_batch(scenarios, config, rngs))
        except Exception as exc:  # counted per realisation below, never fatal
            logger.warning("%s batch raised %s: %s", solver.name, type(exc).__name__, exc)
            rngs = fresh
    return [attempt(solver, s, config, g) for s, g in zip(scenarios, rngs, strict=True)]


def scores(
    metrics: Callable[[Any, Any, Any], dict[str, np.ndarray]],
    config: Any,
    scenarios: Sequence[Any],
    solutions: Sequence[Solution | None],
    key: str,
) -> np.ndarray:
    """``metrics(config, scenario, solution.decision)[key]`` for every realisation, from one
    ``metrics`` call on the stacked scenarios and decisions.

    Args:
        metrics: the model's batch-first metrics function.
        config: the config the decisions are scored under.
        scenarios: one unbatched scenario per realisation.
        solutions: the solution of each realisation (``None``: the solve failed).
        key: a metric with one value per realisation (e.g. ``"objective"``).

    Returns:
        ``[len(solutions)]`` float64; nan where there is no solution or no decision.
    """
    if len(scenarios) != len(solutions):
        raise ValueError(
            f"solutions must have one entry per scenario ({len(scenarios)}), got {len(solutions)}"
        )
    out = np.full(len(solutions), np.nan)
    rows = [r for r, sol in enumerate(solutions) if sol is not None and sol.decision is not None]
    if rows:
        scenario = tree_stack([scenarios[r] for r in rows])
        decision = tree_stack([solutions[r].decision for r in rows])
        values = np.asarray(metrics(config, scenario, decision)[key], dtype=np.float64)
        if values.shape != (len(rows),):
            raise ValueError(
                f"key must name a metric with one value per realisation, {key!r} has shape "
                f"{values.shape[1:]} per realisation"
            )
        out[rows] = values
    return out
