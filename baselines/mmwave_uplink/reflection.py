r"""The passive-beamforming subproblem of model 001 (spec 5.3): data shared by the theta-steps.

With p, u (and w) fixed, write the detector output of user j's signal at user k's detector
as :math:`u_k^Hh_j = a_{kj}^Hv` with :math:`a_{kj} = \Phi_j^Hu_k\in\mathbb C^{M+1}` and
:math:`v = [\theta; 1]` (23). Then (24)

.. math:: \gamma_k(v) = \frac{p_k|a_{kk}^Hv|^2}{\sum_{j\ne k}p_j|a_{kj}^Hv|^2 + c_k},
          \qquad c_k = \|u_k\|^2 \text{ (noise power 1)},

the weighted sum of inverse SINRs (25) is
:math:`\sum_k\bar\gamma_k(v^HC_kv + c_k)/|a_{kk}^Hv|^2` with
:math:`C_k = \sum_{j\ne k}p_ja_{kj}a_{kj}^H`, and the latency residuals (44) are
:math:`\Delta_k(v) = v^HR_kv - \bar\gamma_kc_k`, :math:`R_k = p_kA_{kk} -
\bar\gamma_k\sum_{j\ne k}p_jA_{kj}`, :math:`R = \sum_kR_k` (Hermitian, indefinite).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from irs_gym.models import mmwave_uplink as model


@dataclass
class StepResult:
    """Outcome of one theta-step: the new v (unit modulus), a status (``"converged"``,
    ``"max_iterations"``, ``"solver_error"``), detail, the step's own cost trace, and (SDR)
    the relaxation's optimal value, an upper bound on max v^H R v over unit-modulus v."""

    v: np.ndarray
    status: str
    message: str = ""
    costs: list[float] = field(default_factory=list)
    bound: float = float("nan")


@dataclass(frozen=True)
class ReflectionData:
    """Fixed quantities of one theta-step.

    Attributes:
        a: ``[K, K, M+1]``, a[k, j] = Phi_j^H u_k.
        power_w: ``[K]`` p (W).
        gamma_bar: ``[K]`` SINR targets.
        noise_gain: ``[K]`` c_k = ||u_k||^2.
    """

    a: np.ndarray
    power_w: np.ndarray
    gamma_bar: np.ndarray
    noise_gain: np.ndarray

    @property
    def size(self) -> int:
        """M + 1."""
        return self.a.shape[-1]

    def gains(self, v: np.ndarray) -> np.ndarray:
        """g[..., k, j] = |a_kj^H v|^2 for ``v [..., M+1]``."""
        return np.abs(np.einsum("kjm,...m->...kj", self.a.conj(), v)) ** 2

    def weights(self) -> np.ndarray:
        """W[k, j] with R = sum_kj W_kj a_kj a_kj^H: W_kk = p_k, W_kj = -gamma_bar_k p_j."""
        K = len(self.power_w)
        return np.where(
            np.eye(K, dtype=bool), self.power_w, -self.gamma_bar[:, None] * self.power_w
        )

    def residual_matrix(self) -> np.ndarray:
        """R = sum_k R_k ``[M+1, M+1]`` (Hermitian), the matrix of (P5)."""
        R = np.einsum("kj,kjm,kjn->mn", self.weights(), self.a, self.a.conj())
        return (R + R.conj().T) / 2

    def residuals(self, v: np.ndarray) -> np.ndarray:
        """Delta_k(v) = p_k g_kk - gamma_bar_k (sum_{j != k} p_j g_kj + c_k), ``[..., K]`` (44)."""
        return np.sum(self.weights() * self.gains(v), axis=-1) - self.gamma_bar * self.noise_gain

    def inverse_sinr_objective(self, v: np.ndarray) -> np.ndarray:
        """(25): sum_k gamma_bar_k p_k / gamma_k(v) ``[...]`` (the fixed-point total power
        when every gamma_k meets its target with equality)."""
        gamma = model.sinr(self.power_w, self.gains(v), self.noise_gain)
        return np.sum(self.gamma_bar * self.power_w / gamma, axis=-1)

    def powers(self, v: np.ndarray) -> np.ndarray:
        """Step (a) for phases v with u fixed: the fixed point of (18), ``[..., K]``, inf
        where rho(F) >= 1 (vectorised over candidate vectors ``v [..., M+1]``)."""
        F, b = model.interference_matrices(self.gains(v), self.noise_gain, self.gamma_bar)
        ok = model.spectral_radius(F) < model.RHO_LIMIT
        p = model.fixed_point_powers(
            np.where(ok[..., None, None], F, 0.0), np.where(ok[..., None], b, 0.0)
        )
        return np.where(ok[..., None], p, np.inf)


def reflection_data(
    ch: model.NormalizedChannels,
    decision: model.MmWaveUplinkDecision,
    gamma_bar: np.ndarray,
) -> ReflectionData:
    """:class:`ReflectionData` at a decision (its p, u and w), for one realisation."""
    phi = model.cascade_matrix(ch, decision.beamformers)  # [K, N, M+1]
    a = np.einsum("jnm,kn->kjm", phi.conj(), decision.detectors)
    return ReflectionData(a, decision.power_w, gamma_bar, model.noise_gains(decision.detectors))


def phases_from(v: np.ndarray) -> np.ndarray:
    """theta_m = v_m / v_{M+1} (the common phase of v is irrelevant)."""
    return v[..., :-1] * np.conj(v[..., -1:]) / np.abs(v[..., -1:])


def augmented(theta: np.ndarray) -> np.ndarray:
    """v = [theta; 1]."""
    return np.concatenate([theta, np.ones((*theta.shape[:-1], 1), dtype=complex)], axis=-1)
