"""Solving a compiled cvxpy problem with fallback solvers, the status kept for the Solution.

Every cvxpy problem in ``baselines`` is built once with parameters (DPP) and re-solved per
realisation; a solve tries the solvers in order until one returns an accepted status and the
caller's result is available, and reports ``"<solver>: <cvxpy status>"`` per attempt, so a
failure reaches the Solution's status and message instead of raising.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import cvxpy as cp

#: statuses after which the solution (or the infeasibility verdict) can be used
OPTIMAL = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
DECIDED = (*OPTIMAL, cp.INFEASIBLE)


def solve_in_turn(
    problem: cp.Problem,
    solvers: Sequence[str],
    *,
    accept: Sequence[str] = OPTIMAL,
    ready: Callable[[], bool] = lambda: True,
    options: dict[str, dict[str, Any]] | None = None,
) -> tuple[bool, list[str]]:
    """Solve with each solver in turn until the status is in ``accept`` and ``ready()``.

    Returns:
        (accepted, one ``"<solver>: <status>"`` line per attempt; the last one is the
        attempt whose result the problem's variables now hold).
    """
    statuses: list[str] = []
    for solver in solvers:
        try:
            with warnings.catch_warnings():
                # an inaccurate solve is reported through the status, not a warning
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=solver, **(options or {}).get(solver, {}))
        except cp.error.SolverError as exc:
            statuses.append(f"{solver}: solver error ({exc})")
            continue
        statuses.append(f"{solver}: {problem.status}")
        if problem.status in accept and ready():
            return True, statuses
    return False, statuses or ["not solved"]
