"""Solvers of model 000 (IRS-backscatter multi-cell uplink); see :mod:`.solvers`."""

from __future__ import annotations

from baselines.backscatter.fp import FPEngine
from baselines.backscatter.joint import (
    Antenna,
    Discrete,
    Exhaustive,
    Joint,
    Passive,
    schedule_beams,
)
from baselines.backscatter.robustness import WhiteReal, white_real
from baselines.core import Solver, register
from irs_gym.models.backscatter import BackscatterConfig

ENV_ID = "irs_gym/BackscatterUplink-v0"


def solvers(config: BackscatterConfig) -> dict[str, Solver]:
    """Per architecture variant: the backscatter network has Joint (reference), Discrete4/8
    and the exhaustive schedule search; the passive and active variants have their Algorithm 1
    (Passive; Antenna<Q_a>) as reference."""
    if config.uplink == "passive":
        return {"passive": Passive()}
    if config.uplink == "active":
        antenna = Antenna(config.num_active_antennas)
        return {antenna.name: antenna}
    return {
        "joint": Joint(),
        "discrete4": Discrete(4),
        "discrete8": Discrete(8),
        "exhaustive": Exhaustive(),
    }


register(ENV_ID, solvers)

__all__ = [
    "Antenna",
    "Discrete",
    "Exhaustive",
    "FPEngine",
    "Joint",
    "Passive",
    "WhiteReal",
    "schedule_beams",
    "solvers",
    "white_real",
]
