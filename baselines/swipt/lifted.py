r"""The average received energy of model 003 as a function of the lifted phases (spec 7.2).

Q_bar has no term linear in theta: it depends on theta only through the Gram matrix
:math:`\mathbf Z=\mathbf B^H\mathbf V\mathbf B` of the reflections, :math:`Z_{ab}=\mathbf b_a^H
\mathbf V\mathbf b_b`, which for :math:`\mathbf V=\boldsymbol\theta\boldsymbol\theta^H` is
:math:`Z_{ab}=z_a^*z_b`. Both precoders' energy transfer (spec 5.2) then reads

.. math::
    T_{\ell\ell'}=\frac{\mathrm{Num}_{\ell\ell'}(\mathbf Z)}{\mathrm{Den}_{\ell'}(\mathbf Z)},\quad
    \mathrm{Num}=p|AZ_{\ell\ell'}+\chi_{\ell\ell'}|^2+qA^2|Z_{\ell\ell'}|^2
    +2\mathrm{Re}\{w^*_{\ell\ell'}Z_{\ell\ell'}\}+c^a_{\ell\ell'}Z_{\ell\ell}
    +c^b_{\ell\ell'}Z_{\ell'\ell'}+c^0_{\ell\ell'},\quad
    \mathrm{Den}=k_d(AZ_{\ell'\ell'}+\gamma_{\ell'}),

with PZF: p = M, q = 0, w = 0, (c^a, c^b, c^0) = (A gamma_l', A r_l, r_l gamma_l'), k_d = 1;
PPZF (d = M - tau_I, (a_d, b_d) the Haar moments): p = a_d M^2, q = b_d M^2,
w = b_d M A chi, k_1 = a_d M + b_d M^2 times (A gamma_l', A r_l, r_l gamma_l') plus
b_d M |chi|^2 in c^0, k_d = d. The PPZF term :math:`|z_\ell|^2|z_{\ell'}|^2` is written
:math:`|Z_{\ell\ell'}|^2` (equal at rank one, convex in V). Num is convex in V and Den
affine, so the ratio suits the quadratic transform of the SDP step; the same form gives the
analytic gradient used by the manifold step.

Everything is per realisation (no batch axes) and per unit E_0:

.. math:: \bar Q_\ell/E_0=(AZ_{\ell\ell}+r_\ell)\sum_k\eta^I_k
          +\sum_{\ell'}\eta^E_{\ell'}T_{\ell\ell'}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from irs_gym.models import swipt as model


@dataclass(frozen=True)
class EnergyForm:
    """Coefficients of Q_bar / E_0 as a function of Z (see the module docstring).

    Attributes:
        A: alpha kappa / (kappa + 1); r: ``[K_E]``; gamma: ``[K_E]`` (gamma_l');
        chi: ``[K_E, K_E]``; p, q, k_d: scalars; w, c_a, c_b, c_0: ``[K_E, K_E]`` indexed
        (l receiving, l' beam); b: ``[K_E, N]``; e0: E_0 (J per unit gain).
    """

    A: float
    r: np.ndarray
    gamma: np.ndarray
    chi: np.ndarray
    p: float
    q: float
    k_d: float
    w: np.ndarray
    c_a: np.ndarray
    c_b: np.ndarray
    c_0: np.ndarray
    b: np.ndarray
    e0: float

    def num(self, Z: np.ndarray) -> np.ndarray:
        """Num_ll' ``[K_E, K_E]``."""
        A = self.A
        u = np.real(np.diagonal(Z))
        return (
            self.p * np.abs(A * Z + self.chi) ** 2
            + self.q * A * A * np.abs(Z) ** 2
            + 2.0 * np.real(np.conj(self.w) * Z)
            + self.c_a * u[:, None]
            + self.c_b * u[None, :]
            + self.c_0
        )

    def den(self, Z: np.ndarray) -> np.ndarray:
        """Den_l' ``[K_E]``."""
        return self.k_d * (self.A * np.real(np.diagonal(Z)) + self.gamma)

    def q_per_e0(self, Z: np.ndarray, eta_info_sum: float, eta_energy: np.ndarray) -> np.ndarray:
        """Q_bar_l / E_0 ``[K_E]`` for the lifted Z."""
        u = np.real(np.diagonal(Z))
        T = self.num(Z) / self.den(Z)[None, :]
        return (self.A * u + self.r) * eta_info_sum + T @ eta_energy

    def q_bar_j(self, theta: np.ndarray, eta_info_sum: float, eta_energy: np.ndarray) -> np.ndarray:
        """Q_bar_l (J) ``[K_E]`` at phases ``theta`` (rank one)."""
        z = model.reflect(theta, self.b)
        Z = np.conj(z)[:, None] * z[None, :]
        return self.e0 * self.q_per_e0(Z, eta_info_sum, eta_energy)

    def gradient(
        self, theta: np.ndarray, weights: np.ndarray, eta_info_sum: float, eta_energy: np.ndarray
    ) -> np.ndarray:
        r"""Euclidean gradient :math:`2\partial F/\partial\boldsymbol\theta^*` of
        :math:`F(\boldsymbol\theta)=\sum_\ell \pi_\ell\bar Q_\ell/E_0` (weights ``pi [K_E]``),
        at rank one (Manopt convention, as in :mod:`baselines.manifold`)."""
        A = self.A
        z = model.reflect(theta, self.b)
        Z = np.conj(z)[:, None] * z[None, :]
        num, den = self.num(Z), self.den(Z)[None, :]
        # dT/dZ_ll'^* (Z_ll' = z_l^* z_l'), dT/du_l, dT/du_l' (u = |z|^2)
        g_cross = (self.p * A * (A * Z + self.chi) + self.q * A * A * Z + self.w) / den
        g_u_rx = self.c_a / den
        g_u_beam = self.c_b / den - num * self.k_d * A / den**2
        Pi = weights[:, None] * eta_energy[None, :]
        dz = (
            A * eta_info_sum * weights * z
            + (Pi * np.conj(g_cross)) @ z
            + (Pi * g_u_rx).sum(axis=1) * z
            + (Pi * g_cross).T @ z
            + (Pi * g_u_beam).sum(axis=0) * z
        )  # dF / dz^*
        return 2.0 * self.b.T @ np.conj(dz)


def energy_form(config: model.SwiptConfig, stats: model.SwiptStatistics) -> EnergyForm:
    """:class:`EnergyForm` of one (unbatched) realisation for the config's precoder."""
    M = config.num_bs_antennas
    A = float(stats.A)
    r, gamma, chi = stats.r, stats.gamma_energy, stats.chi
    base = (A * gamma[None, :], A * r[:, None], r[:, None] * gamma[None, :])
    if config.precoder == "pzf":
        k1, k2, p, q, k_d = 1.0, 0.0, float(M), 0.0, 1.0
    else:
        d = M - config.tau_info
        a_d, b_d = model.haar_moments(M, d)
        k1, k2, p, q, k_d = a_d * M + b_d * M * M, b_d * M, a_d * M * M, b_d * M * M, float(d)
    K = len(r)
    c_a = np.broadcast_to(k1 * base[0], (K, K)).copy()
    c_b = np.broadcast_to(k1 * base[1], (K, K)).copy()
    c_0 = k1 * base[2] + k2 * np.abs(chi) ** 2
    w = (k2 * A) * chi
    return EnergyForm(
        A, r, gamma, chi, p, q, k_d, w, c_a, c_b, c_0, stats.b, config.energy_per_gain_j
    )
