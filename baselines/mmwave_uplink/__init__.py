"""Solvers of model 001 (IRS-assisted uplink mmWave, minimum power under latency targets).

With the IRS (the default): Algorithm 1 (spec 5.4) with the CCMO theta-step (6.2, the
reference), the SIMin-ADMM theta-step (6.1) and the SDR theta-step (section 7). With
``irs_enabled=False``: the no-IRS baseline (the inner loop on the direct channels), which is
then the reference (the theta-steps have nothing to optimise).
"""

from __future__ import annotations

from baselines.core import Solver, register
from baselines.mmwave_uplink.admm import ADMMStep
from baselines.mmwave_uplink.alternating import AlternatingSolver, NoIRS
from baselines.mmwave_uplink.ccmo import CCMOStep
from baselines.mmwave_uplink.sdr import SDRStep
from irs_gym.models.mmwave_uplink import MmWaveUplinkConfig

ENV_ID = "irs_gym/MmWaveUplinkPower-v0"


def ccmo(**kwargs) -> AlternatingSolver:
    """Algorithm 1 + CCMO (the reference); ``kwargs`` go to :class:`AlternatingSolver`."""
    return AlternatingSolver(CCMOStep(), name="ccmo", role="reference", **kwargs)


def admm(max_iterations: int = 100, **kwargs) -> AlternatingSolver:
    """Algorithm 1 + SIMin-ADMM with ``max_iterations`` ADMM iterations per theta-step."""
    return AlternatingSolver(ADMMStep(max_iterations), name="admm", **kwargs)


def sdr(randomizations: int = 0, **kwargs) -> AlternatingSolver:
    """Algorithm 1 + SDR (rank-one extraction; ``randomizations`` Gaussian candidates)."""
    return AlternatingSolver(SDRStep(randomizations), name="sdr", **kwargs)


def solvers(config: MmWaveUplinkConfig) -> dict[str, Solver]:
    """CCMO (reference), ADMM and SDR with the IRS; the no-IRS baseline without it."""
    if not config.irs_enabled:
        return {"no_irs": NoIRS(role="reference")}
    return {"ccmo": ccmo(), "admm": admm(), "sdr": sdr()}


register(ENV_ID, solvers)

__all__ = [
    "ADMMStep",
    "AlternatingSolver",
    "CCMOStep",
    "NoIRS",
    "SDRStep",
    "admm",
    "ccmo",
    "sdr",
    "solvers",
]
