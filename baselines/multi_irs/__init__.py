"""Solvers of model 004 (multi-IRS downlink)."""

from __future__ import annotations

from baselines.core import Solver, register
from baselines.multi_irs.benchmarks import RandomPhasesMMSE
from baselines.multi_irs.domalo import Domalo
from baselines.multi_irs.sdomalo import SDomalo
from irs_gym.models.multi_irs import MultiIRSConfig

ENV_ID = "irs_gym/MultiIRSDownlink-v0"


def solvers(config: MultiIRSConfig) -> dict[str, Solver]:
    """The reference follows the objective: DOMALO for the WSR, S-DOMALO for the min rate;
    the other one is then a benchmark."""
    wsr = config.objective == "wsr"
    return {
        "domalo": Domalo(role="reference" if wsr else "benchmark"),
        "sdomalo": SDomalo(role="benchmark" if wsr else "reference"),
        "random_mmse": RandomPhasesMMSE(),
    }


register(ENV_ID, solvers)

__all__ = ["Domalo", "RandomPhasesMMSE", "SDomalo", "solvers"]
