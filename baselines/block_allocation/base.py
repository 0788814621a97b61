"""The solver base of model 002: a batch-first allocation rule scored by the model."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models import block_allocation as model


class AllocationSolver(Solver):
    """A solver of model 002 defined by :meth:`allocate` (batch-first, no randomness).

    ``solve`` scores the allocation of one scenario with :func:`model.metrics`, the function
    the env scores with, so ``Solution.objective`` is the env's ``info["objective"]`` (the
    system bandwidth saving in %). Sweeps call :meth:`allocate` on a whole batch of drops;
    ``solve_batch`` does the same (one :meth:`allocate` and one metrics call) and returns
    one Solution per drop.
    """

    #: the Solution status of a successful solve ("optimal" for exact methods)
    status: ClassVar[str]

    def allocate(
        self, scenario: model.BlockAllocationScenario, config: model.BlockAllocationConfig
    ) -> np.ndarray:
        """The allocation ``blocks [..., K]`` (int64) for a (batch of) scenario(s)."""
        raise NotImplementedError

    def _solve(
        self,
        scenario: model.BlockAllocationScenario,
        config: model.BlockAllocationConfig,
        rng: np.random.Generator,
    ) -> Solution:
        decision = model.BlockAllocationDecision(self.allocate(scenario, config))
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, self.status)

    def _solve_batch(
        self,
        scenarios: model.BlockAllocationScenario,
        config: model.BlockAllocationConfig,
        rngs: list[np.random.Generator],
    ) -> list[Solution]:
        blocks = self.allocate(scenarios, config)
        objective = model.metrics(config, scenarios, model.BlockAllocationDecision(blocks))
        return [
            Solution(model.BlockAllocationDecision(x), float(v), self.status)
            for x, v in zip(blocks, objective["objective"], strict=True)
        ]


def assisted_count(config: model.BlockAllocationConfig) -> int:
    """A for the heuristics: the configured A, or min(K, n_b) when A is free (the spec's
    default for the algorithm comparison, Figs. 6-7: A = n_b, one block each)."""
    if config.assisted_users is not None:
        return config.assisted_users
    return min(config.num_users, config.num_blocks)
