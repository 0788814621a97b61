"""Solvers of model 004 (multi-IRS downlink)."""

from __future__ import annotations

from baselines.core import Solver, register
from baselines.multi_irs.benchmarks import RandomPhasesMMSE
from baselines.multi_irs.domalo import Domalo
from irs_gym.models.multi_irs import MultiIRSConfig

ENV_ID = "irs_gym/MultiIRSDownlink-v0"


def solvers(config: MultiIRSConfig) -> dict[str, Solver]:
    """DOMALO is the reference for the WSR objective (for the min rate it is a benchmark)."""
    role = "reference" if config.objective == "wsr" else "benchmark"
    return {"domalo": Domalo(role=role), "random_mmse": RandomPhasesMMSE()}


register(ENV_ID, solvers)

__all__ = ["Domalo", "RandomPhasesMMSE", "solvers"]
