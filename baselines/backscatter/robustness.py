"""The White / Real robustness evaluation of spec 6.4 (paper Fig. 9).

A solver optimises on the channel estimates with the CSI errors modelled as white noise; its
decision is then scored twice by :func:`model.metrics`: "White" (the WSR that model predicts,
``white_wsr_bps_hz``) and "Real" (the WSR on the true channels, ``real_wsr_bps_hz``, the
env's objective). ``real_estimated_rx_wsr_bps_hz`` adds the reading where every BS keeps the
MMSE combiner it designed from the estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models import backscatter as model


@dataclass(frozen=True)
class WhiteReal:
    """One robustness evaluation: the solve and its three WSRs (bit/s/Hz, nan on failure)."""

    solution: Solution
    white_bps_hz: float
    real_bps_hz: float
    real_estimated_rx_bps_hz: float


def white_real(
    solver: Solver,
    scenario: model.BackscatterScenario,
    config: model.BackscatterConfig,
    rng: np.random.Generator | None = None,
) -> WhiteReal:
    """Solve on the estimates, then score the decision on the estimates (White) and on the
    truth (Real)."""
    sol = solver.solve(scenario, config, rng=rng)
    if sol.decision is None:
        nan = float("nan")
        return WhiteReal(sol, nan, nan, nan)
    m = model.metrics(config, scenario, sol.decision)
    return WhiteReal(
        sol,
        float(m["white_wsr_bps_hz"]),
        float(m["real_wsr_bps_hz"]),
        float(m["real_estimated_rx_wsr_bps_hz"]),
    )
