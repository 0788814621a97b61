"""Benchmark schemes of model 004 (spec section 7) that need no iteration (batch-capable)."""

from __future__ import annotations

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models import multi_irs as model
from irs_gym.models.tree import tree_index, tree_stack


class RandomPhasesMMSE(Solver):
    """Random phases (uniform, on the Q-level grid when quantised) + the MMSE precoder (51)
    at full power. The spec's "random reflection" benchmark pairs random phases with the
    proposed W-step instead; this is the cheaper closed-form variant."""

    name = "random_mmse"
    role = "benchmark"

    def _solve(
        self,
        scenario: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rng: np.random.Generator,
    ) -> Solution:
        return self._solve_batch(tree_stack([scenario]), config, [rng])[0]

    def _solve_batch(
        self,
        scenarios: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rngs: list[np.random.Generator],
    ) -> list[Solution]:
        # each realisation's phases come from its own generator, as in its own solve
        phases = np.stack([rng.random(config.total_elements) for rng in rngs])
        theta = model.quantize_phases(np.exp(2j * np.pi * phases), config.phase_levels)
        hbar = model.effective_channel(model.normalized(config, scenarios), theta)
        W = model.mmse_precoder(hbar, config.tx_power_w)
        decisions = model.MultiIRSDecision(theta, W)
        values = model.metrics(config, scenarios, decisions)["objective"]
        return [
            Solution(tree_index(decisions, b), value, "fixed")
            for b, value in enumerate(values.tolist())
        ]
