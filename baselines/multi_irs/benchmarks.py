"""Benchmark schemes of model 004 (spec section 7) that need no iteration."""

from __future__ import annotations

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models import multi_irs as model


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
        theta = model.quantize_phases(
            np.exp(2j * np.pi * rng.random(config.total_elements)), config.phase_levels
        )
        hbar = model.effective_channel(model.normalized(config, scenario), theta)
        W = model.mmse_precoder(hbar, config.tx_power_w)
        decision = model.MultiIRSDecision(theta, W)
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, "fixed")
