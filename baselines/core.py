"""Shared baseline types: the Solution record, the solver base class and the registry.

Batches: :meth:`Solver.solve_batch` solves a list of realisations. Solvers whose math is one
pass of batch-first numpy override :meth:`Solver._solve_batch` and solve the whole list in
one vectorised computation on the stacked scenario (:func:`irs_gym.models.tree.tree_stack`);
every other solver loops over :meth:`Solver.solve`. Either way the Solutions equal the
per-realisation solves (tested to 1e-12). Vectorised (``Solver.batched`` is True):

==========================  =====  =====================================================
solver                      model  batch computation
==========================  =====  =====================================================
``no_irs``                  001    the inner loop (masked fixed point + MVDR) on the batch
``dp``                      002    the DP over users, vectorised over the drops
``exhaustive``              002    the enumeration, vectorised over the drops
``max_bs``, ``min_irs``     002    the distance ranking
``dft_phase_epa``           003    every DFT codeword on every realisation at once
``random_mmse``             004    random phases (one generator per realisation) + MMSE
==========================  =====  =====================================================

Per realisation (a loop of :meth:`Solver.solve`): the iterative solvers, whose iteration
count and acceptance tests differ between realisations, and everything that calls cvxpy:
model 000 (Joint, Passive, Antenna, Discrete, the exhaustive schedule search), model 001
(CCMO, ADMM, SDR), model 003 (DFT-Phase OPA: an LP per realisation; Opt-Phase OPA: BCD)
and model 004 (DOMALO, S-DOMALO, the AO and random-reflection benchmarks, AIF, SOCP-SDR).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from irs_gym.models.tree import tree_stack

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


#: The failures :meth:`Solver.solve` reports as ``solver_error`` instead of raising.
NUMERICAL_ERRORS = (np.linalg.LinAlgError, FloatingPointError, ArithmeticError)


class Solver:
    """Base class: subclasses set ``name``, ``role`` and implement :meth:`_solve` (and, where
    the math vectorises, :meth:`_solve_batch`).

    :meth:`solve` times the call and turns numerical failures into ``solver_error``
    Solutions, so a sweep never dies on one realisation.
    """

    name: ClassVar[str]
    role: ClassVar[str]

    @property
    def batched(self) -> bool:
        """Whether :meth:`solve_batch` solves a batch in one vectorised computation (the
        solver overrides :meth:`_solve_batch`) rather than in a loop of :meth:`solve`."""
        return type(self)._solve_batch is not Solver._solve_batch

    def solve(
        self, scenario: Any, config: Any, *, rng: np.random.Generator | None = None
    ) -> Solution:
        rng = np.random.default_rng(0) if rng is None else rng
        start = time.perf_counter()
        try:
            sol = self._solve(scenario, config, rng)
        except NUMERICAL_ERRORS as exc:
            logger.warning("%s failed: %s", self.name, exc)
            sol = Solution(
                None, float("nan"), "solver_error", message=f"{type(exc).__name__}: {exc}"
            )
        sol.seconds = time.perf_counter() - start
        return sol

    def solve_batch(
        self,
        scenarios: Sequence[Any],
        config: Any,
        rngs: Sequence[np.random.Generator | None] | None = None,
    ) -> list[Solution]:
        """Solve every realisation of ``scenarios``: the same Solutions as
        ``[solve(s, config, rng=g) for s, g in zip(scenarios, rngs)]``.

        A vectorised solver (:attr:`batched`) solves the stacked batch at once and gives
        each Solution the batch's wall-clock time divided by its size; should a numerical
        failure stop the batch, it falls back to the per-realisation loop so that only the
        failing realisations come back as ``solver_error``.

        Args:
            scenarios: unbatched scenarios of the solver's model, all of one config.
            config: the config they were drawn with.
            rngs: one generator per scenario (``None``: ``default_rng(0)`` each, as
                :meth:`solve`); a solver that draws at random draws from its realisation's
                generator only, so the results do not depend on the batch around it.

        Returns:
            One Solution per scenario, in order.
        """
        scenarios = list(scenarios)
        rngs = [None] * len(scenarios) if rngs is None else list(rngs)
        if len(rngs) != len(scenarios):
            raise ValueError(
                f"rngs must have one generator per scenario ({len(scenarios)}), got {len(rngs)}"
            )
        rngs = [np.random.default_rng(0) if g is None else g for g in rngs]
        if not self.batched or not scenarios:
            return [self.solve(s, config, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
        # a fallback re-solve must see each generator as the batch found it
        states = [g.bit_generator.state for g in rngs]
        start = time.perf_counter()
        try:
            sols = self._solve_batch(tree_stack(scenarios), config, rngs)
        except NUMERICAL_ERRORS as exc:
            logger.warning("%s batch failed (%s); solving one by one", self.name, exc)
            for g, state in zip(rngs, states, strict=True):
                g.bit_generator.state = state
            return [self.solve(s, config, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
        seconds = (time.perf_counter() - start) / len(scenarios)
        for sol in sols:
            sol.seconds = seconds
        return sols

    def _solve(self, scenario: Any, config: Any, rng: np.random.Generator) -> Solution:
        raise NotImplementedError

    def _solve_batch(
        self, scenarios: Any, config: Any, rngs: list[np.random.Generator]
    ) -> list[Solution]:
        """Vectorised solve of ``scenarios`` (stacked: every leaf has a leading batch axis
        of ``len(rngs)``); one Solution per realisation. Overridden where the math allows."""
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
