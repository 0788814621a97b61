"""Shared baseline types: the Solution record, the solver base class and the registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

logger = logging.getLogger(__name__)

ROLES = ("reference", "bound", "benchmark")

#: Statuses a Solution may carry (readable stopping reasons, pymanopt style).
STATUSES = (
    "optimal",  # exact optimum (closed form, exhaustive search, DP)
    "converged",  # an iterative method met its tolerance
    "max_iterations",  # stopped at the iteration cap before the tolerance
    "fixed",  # a one-shot scheme (no iteration)
    "infeasible",  # no feasible point exists
    "not_applicable",  # the scheme is undefined for this instance (e.g. ZF with K > rank)
    "solver_error",  # a numerical solver failed; see message
)


@dataclass
class Solution:
    """The result of one solve.

    Attributes:
        decision: the model's Decision (feasible whenever ``status`` is not an error).
        objective: the paper's metric for ``decision`` in natural units, computed by the
            model's ``metrics`` (the same function the env scores with).
        status: one of :data:`STATUSES`.
        history: objective after each outer iteration (empty for one-shot schemes).
        seconds: wall-clock time of the solve.
        message: human-readable detail (e.g. the cvxpy status on failure).
    """

    decision: Any
    objective: float
    status: str
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


class Solver:
    """Base class: subclasses set ``name``, ``role`` and implement :meth:`_solve`.

    :meth:`solve` times the call and turns numerical failures into ``solver_error``
    Solutions, so a sweep never dies on one realisation.
    """

    name: ClassVar[str]
    role: ClassVar[str]

    def solve(
        self, scenario: Any, config: Any, *, rng: np.random.Generator | None = None
    ) -> Solution:
        rng = np.random.default_rng(0) if rng is None else rng
        start = time.perf_counter()
        try:
            sol = self._solve(scenario, config, rng)
        except (np.linalg.LinAlgError, FloatingPointError, ArithmeticError) as exc:
            logger.warning("%s failed: %s", self.name, exc)
            sol = Solution(
                None, float("nan"), "solver_error", message=f"{type(exc).__name__}: {exc}"
            )
        sol.seconds = time.perf_counter() - start
        return sol

    def _solve(self, scenario: Any, config: Any, rng: np.random.Generator) -> Solution:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, role={self.role!r})"


_REGISTRY: dict[str, Callable[[Any], dict[str, Solver]]] = {}


def register(env_id: str, factory: Callable[[Any], dict[str, Solver]]) -> None:
    """Register ``factory(config) -> {name: solver}`` for an env id."""
    _REGISTRY[env_id] = factory


def for_env(env_id: str, config: Any = None, **env_kwargs: Any) -> dict[str, Solver]:
    """The solvers for an env id, keyed by name.

    The set (and which one is the ``reference``) may depend on the configuration, e.g. on
    the objective of model 004; pass the env's ``config`` or the same kwargs as
    ``gymnasium.make``. With neither, the defaults apply.
    """
    import irs_gym  # noqa: F401  (registers the env ids)

    if env_id not in _REGISTRY:
        raise ValueError(f"no baselines registered for {env_id!r}; known: {sorted(_REGISTRY)}")
    if config is None:
        import gymnasium as gym

        config = gym.make(env_id, **env_kwargs).unwrapped.config
    return _REGISTRY[env_id](config)


def reference_solver(solvers: dict[str, Solver]) -> tuple[str, Solver]:
    """The single solver with role ``reference``."""
    refs = [(n, s) for n, s in solvers.items() if s.role == "reference"]
    if len(refs) != 1:
        raise ValueError(f"expected exactly one reference solver, found {[n for n, _ in refs]}")
    return refs[0]
