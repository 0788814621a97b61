r"""S-DOMALO's steps (spec 004 section 6, Algorithm 3): weighted max-min rate (problem P6).

Dinkelbach-type parametric form (33)-(34): for a level lambda, user k's power redundancy is

.. math:: f_k = |x_{kk}|^2 - \frac{\lambda}{\omega_k}\Big(\sum_{j\ne k}|x_{kj}|^2+1\Big)

(noise-normalised, x_kj = hbar_k^H w_j), and min_k f_k >= 0 iff min_k omega_k gamma_k >= lambda.
The min is smoothed by log-sum-exp (35)-(37), F_mu = -mu ln sum_k exp(-f_k / mu), with
min_k f_k - mu ln K <= F_mu <= min_k f_k, and maximised by Riemannian CG over W (complex
sphere, (38)-(40)) and theta (complex circle, (42)-(43)) in turn. Acceptance rule (41): a step
is kept only if lambda' = min_k omega_k gamma_k does not drop, and then lambda <- lambda';
otherwise the step is undone and its mu shrinks by ``shrink`` (floor ``mu_min``). So lambda,
and with it the weighted minimum rate in ``history``, never decreases.

Quantised phases (5.6) are applied to each theta candidate before the acceptance test, which
keeps lambda monotone there too; the rounded candidate is refined by a single-element grid
search on lambda itself (:mod:`baselines.multi_irs.grid`, our addition). The outer loop
lives in :mod:`baselines.multi_irs.alternating`.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy.special import logsumexp, softmax

from baselines.manifold import ComplexCircle, ComplexSphere, conjugate_gradient
from baselines.multi_irs import grid
from irs_gym.models import multi_irs as model

#: Remark 3: mu <- c mu after a rejected step, floored at MU_MIN after each outer iteration.
SHRINK = 0.5
MU_MIN = 1e-4


def redundancy(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """f_k = |x_kk|^2 - target_k (sum_{j != k} |x_kj|^2 + 1) for gains ``x [K, K]``,
    ``target = lambda / omega``."""
    power = np.abs(x) ** 2
    signal = np.diagonal(power)
    return signal - target * (power.sum(axis=-1) - signal + 1.0)


def redundancy_scale(x: np.ndarray, target: np.ndarray) -> float:
    """The size of the f_k at gains ``x``: their mean magnitude, or (all f_k = 0, e.g. K = 1
    at lambda = omega gamma) the mean received signal |x_kk|^2 (noise-normalised units)."""
    scale = float(np.mean(np.abs(redundancy(x, target))))
    if scale > 0:
        return scale
    return float(np.mean(np.abs(np.diagonal(x)) ** 2)) or 1.0


def smoothed_min(f: np.ndarray, mu: float) -> float:
    """F_mu = -mu ln sum_k exp(-f_k / mu) (35), computed stably."""
    return -mu * float(logsumexp(-f / mu))


def _weights_grad(x: np.ndarray, target: np.ndarray, mu: float) -> np.ndarray:
    """coef[k, j] = pi_k (delta_kj - target_k (1 - delta_kj)) x_kj = dF_mu / dx_kj^*."""
    pi = softmax(-redundancy(x, target) / mu)
    K = x.shape[-1]
    sign = np.where(np.eye(K, dtype=bool), 1.0, -target[:, None])
    return pi[:, None] * sign * x


def w_cost(Wb: np.ndarray, hbar: np.ndarray, target: np.ndarray, power: float, mu: float) -> float:
    """-F_mu as a function of W_bar on the sphere (W = sqrt(P) W_bar), (39)."""
    return -smoothed_min(redundancy(math.sqrt(power) * hbar @ Wb, target), mu)


def w_egrad(
    Wb: np.ndarray, hbar: np.ndarray, target: np.ndarray, power: float, mu: float
) -> np.ndarray:
    """(40): -2 P sum_k pi_k [a_k a_k^H W e_k e_k^T - target_k a_k a_k^H W (I - e_k e_k^T)],
    a_k = hbar_k (in W_bar units, hence one sqrt(P) here and one inside x)."""
    coef = _weights_grad(math.sqrt(power) * hbar @ Wb, target, mu)
    return -2.0 * math.sqrt(power) * np.conj(hbar.T) @ coef


def theta_cost(
    tb: np.ndarray, c: np.ndarray, d: np.ndarray, target: np.ndarray, mu: float
) -> float:
    """-F_mu as a function of one phase block, x_kj = c_kj + theta^T d_kj (42)."""
    return -smoothed_min(redundancy(c + d @ tb, target), mu)


def theta_egrad(
    tb: np.ndarray, c: np.ndarray, d: np.ndarray, target: np.ndarray, mu: float
) -> np.ndarray:
    """(43): -2 sum_k pi_k [x_kk d_kk^* - target_k sum_{j != k} x_kj d_kj^*]."""
    coef = _weights_grad(c + d @ tb, target, mu)
    return -2.0 * np.einsum("kj,kjm->m", coef, np.conj(d))


def level(hbar: np.ndarray, W: np.ndarray, omega: np.ndarray) -> float:
    """lambda = min_k omega_k gamma_k."""
    return float(np.min(omega * model.sinr_from_gains(hbar @ W)))


def smooth_w_update(
    hbar: np.ndarray,
    W: np.ndarray,
    lam: float,
    omega: np.ndarray,
    power: float,
    mu: float,
    iterations: int,
) -> tuple[np.ndarray, float, float]:
    """W-step 6.3 with the acceptance rule (41); returns (W, lambda, mu_W)."""
    res = conjugate_gradient(
        ComplexSphere,
        partial(w_cost, hbar=hbar, target=lam / omega, power=power, mu=mu),
        partial(w_egrad, hbar=hbar, target=lam / omega, power=power, mu=mu),
        W / math.sqrt(power),
        max_iterations=iterations,
    )
    W_new = math.sqrt(power) * res.x
    lam_new = level(hbar, W_new, omega)
    if lam_new >= lam:
        return W_new, lam_new, mu
    return W, lam, mu * SHRINK


def smooth_theta_update(
    ch: model.NormalizedChannels,
    theta: np.ndarray,
    W: np.ndarray,
    lam: float,
    omega: np.ndarray,
    mu: float,
    blocks: list[slice | None],
    levels: int,
    iterations: int,
) -> tuple[np.ndarray, float, float]:
    """theta-step 6.4 per block, each candidate quantised and then accepted by (41)."""
    for block in blocks:
        c, d = model.affine_terms(ch, theta, W, block)
        sl = slice(None) if block is None else block
        res = conjugate_gradient(
            ComplexCircle,
            partial(theta_cost, c=c, d=d, target=lam / omega, mu=mu),
            partial(theta_egrad, c=c, d=d, target=lam / omega, mu=mu),
            theta[sl],
            max_iterations=iterations,
        )
        candidate = theta.copy()
        if levels:
            rounded = model.quantize_phases(res.x, levels)
            objective = grid.weighted_min_sinr(omega)
            candidate[sl] = grid.refine_on_grid(objective, c, d, rounded, theta[sl], levels)
        else:
            candidate[sl] = res.x
        lam_new = level(model.effective_channel(ch, candidate), W, omega)
        if lam_new >= lam:
            theta, lam = candidate, lam_new
        else:
            mu *= SHRINK
    return theta, lam, mu
