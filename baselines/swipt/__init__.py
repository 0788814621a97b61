"""Solvers of model 003 (RIS-aided massive-MIMO SWIPT); see :mod:`baselines.swipt.schemes`."""

from __future__ import annotations

from baselines.core import Solver, register
from baselines.swipt.schemes import (
    DFTPhaseEPA,
    DFTPhaseOPA,
    OptPhaseOPA,
    best_codeword,
    dft_codebook,
)
from irs_gym.models.swipt import SwiptConfig

ENV_ID = "irs_gym/SwiptMassiveMIMO-v0"


def solvers(config: SwiptConfig) -> dict[str, Solver]:
    """Opt-Phase OPA is the reference (the paper's method: the SDP phase step, the manifold
    step above :data:`~baselines.swipt.schemes.SDP_MAX_ELEMENTS` elements); its manifold-only
    variant and the two DFT-phase schemes of section 8 are benchmarks."""
    return {
        "opt_phase_opa": OptPhaseOPA("auto"),
        "opt_phase_opa_mfd": OptPhaseOPA("manifold", name="opt_phase_opa_mfd", role="benchmark"),
        "dft_phase_opa": DFTPhaseOPA(),
        "dft_phase_epa": DFTPhaseEPA(),
    }


register(ENV_ID, solvers)

__all__ = [
    "DFTPhaseEPA",
    "DFTPhaseOPA",
    "OptPhaseOPA",
    "best_codeword",
    "dft_codebook",
    "solvers",
]
