"""Solvers of model 004 (multi-IRS downlink)."""

from __future__ import annotations

from baselines.core import Solver, register
from baselines.multi_irs.aif import AIF
from baselines.multi_irs.alternating import AlternatingSolver, Domalo, SDomalo, paper_benchmarks
from baselines.multi_irs.benchmarks import RandomPhasesMMSE
from baselines.multi_irs.socp_sdr import SocpSdr
from irs_gym.models.multi_irs import MultiIRSConfig

ENV_ID = "irs_gym/MultiIRSDownlink-v0"


def solvers(config: MultiIRSConfig) -> dict[str, Solver]:
    """The reference follows the objective: DOMALO for the WSR, S-DOMALO for the min rate;
    the other one is then a benchmark, as are the section-7 schemes for that objective."""
    wsr = config.objective == "wsr"
    found: dict[str, Solver] = {
        "domalo": Domalo(role="reference" if wsr else "benchmark"),
        "sdomalo": SDomalo(role="benchmark" if wsr else "reference"),
        **paper_benchmarks(config.objective),
        "random_mmse": RandomPhasesMMSE(),
    }
    # AIF is a WSR method (spec 7.5), SOCP-SDR a max-min one (7.6)
    if wsr:
        found["aif"] = AIF()
    else:
        found["socp_sdr"] = SocpSdr()
    return found


register(ENV_ID, solvers)

__all__ = [
    "AIF",
    "AlternatingSolver",
    "Domalo",
    "RandomPhasesMMSE",
    "SDomalo",
    "SocpSdr",
    "paper_benchmarks",
    "solvers",
]
