r"""DOMALO's steps (spec 004 section 5): FP + Riemannian CG for the WSR problem P1.

Per outer iteration t:

(a) Lagrangian dual transform, alpha_k = gamma_k (9);
(b) W-step: maximise sum_k w~_k |h_k^H W e_k|^2 / (||h_k^H W||^2 + sigma^2/P) over the complex
    sphere ||W_bar||_F = 1 (12)-(18), w~_k = omega_k (1 + alpha_k);
(c) theta-step: the same ratio sum over the complex circle |theta_i| = 1 (19)-(24); with the
    inter-IRS channel, theta_1 and theta_2 in turn (5.7);
(d) quantisation to the Q-level grid when ``config.phase_levels`` > 0 (5.6), refined by a
    single-element grid search (:mod:`baselines.multi_irs.grid`, our addition);
(e) the WSR, recorded in ``history``.

Each of (a)-(c) does not decrease the FP surrogate, whose value at alpha = gamma is the WSR,
so the WSR is non-decreasing for continuous phases. Everything runs on noise-normalised
channels (h <- h / sigma, noise 1; W keeps its units). The outer loop lives in
:mod:`baselines.multi_irs.alternating`.
"""

from __future__ import annotations

import math

import numpy as np

from baselines.manifold import (
    ComplexCircle,
    ComplexSphere,
    conjugate_gradient,
    conjugate_gradient_batch,
)
from baselines.multi_irs import grid
from irs_gym.models import multi_irs as model


def _ratio_parts(x: np.ndarray, noise: float):
    """s_k = |x_kk|^2, D_k = sum_j |x_kj|^2 + noise, and x_kk for gain matrices x [..., K, K]."""
    power = np.abs(x) ** 2
    x_kk = x.diagonal(0, -2, -1)
    return power.diagonal(0, -2, -1), power.sum(axis=-1) + noise, x_kk


def w_cost(Wb: np.ndarray, hbar: np.ndarray, wt: np.ndarray, noise: float) -> float:
    """(12): -sum_k wt_k |hbar_k^H W e_k|^2 / (||hbar_k^H W||^2 + noise)."""
    s, D, _ = _ratio_parts(hbar @ Wb, noise)
    return -float(np.sum(wt * s / D))


def w_egrad(Wb: np.ndarray, hbar: np.ndarray, wt: np.ndarray, noise: float) -> np.ndarray:
    """(14): -2 sum_k wt_k [hbar_k x_kk e_k^T / D_k - s_k / D_k^2 hbar_k x_k,:] (2 df/dW*)."""
    X = hbar @ Wb
    s, D, x_kk = _ratio_parts(X, noise)
    A = np.conj(hbar.T)  # column k = hbar_k
    return -2.0 * (A * (wt * x_kk / D) - A @ ((wt * s / D**2)[:, None] * X))


def theta_cost(tb: np.ndarray, c: np.ndarray, d: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """(19) with x_kj = c_kj + theta^T d_kj and noise 1; batch-first (``tb [..., M]``,
    ``c [..., K, K]``, ``d [..., K, K, M]``, ``wt [..., K]`` -> ``[...]``)."""
    s, D, _ = _ratio_parts(c + (d @ tb[..., None, :, None])[..., 0], 1.0)
    return -(wt * s / D).sum(axis=-1)


def theta_egrad(tb: np.ndarray, c: np.ndarray, d: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """(21): -2 sum_k wt_k [x_kk d_kk^* / D_k - s_k / D_k^2 sum_j x_kj d_kj^*] (2 df/dtheta*),
    batch-first like :func:`theta_cost`."""
    x = c + (d @ tb[..., None, :, None])[..., 0]
    s, D, x_kk = _ratio_parts(x, 1.0)
    coef = -(wt * s / D**2)[..., :, None] * x
    K = coef.shape[-1]
    coef[..., np.arange(K), np.arange(K)] += wt * x_kk / D
    # sum_kj coef_kj conj(d_kj) as one (batched) vector-matrix product, without conjugating d
    batch = coef.shape[:-2]
    flat = np.conj(coef).reshape(*batch, 1, K * K) @ d.reshape(*batch, K * K, -1)
    return -2.0 * np.conj(flat[..., 0, :])


def w_step(
    hbar: np.ndarray, W: np.ndarray, wt: np.ndarray, power: float, iterations: int
) -> np.ndarray:
    """Spec 5.2: GCG on the complex sphere for W_bar = W / sqrt(P) (noise 1, so the
    normalised noise is 1/P). ``hbar [K, N_t]`` rows hbar_k^H, ``wt [K]`` = omega (1 + alpha).
    """
    noise = 1.0 / power
    res = conjugate_gradient(
        ComplexSphere,
        lambda Wb: w_cost(Wb, hbar, wt, noise),
        lambda Wb: w_egrad(Wb, hbar, wt, noise),
        W / math.sqrt(power),
        max_iterations=iterations,
    )
    return math.sqrt(power) * res.x


def theta_step(
    c: np.ndarray, d: np.ndarray, theta_b: np.ndarray, wt: np.ndarray, iterations: int
) -> np.ndarray:
    """Spec 5.3 / 5.7: GCG on the complex circle for one phase block.

    A batch of problems (``theta_b [B, M_b]`` with ``c``, ``d``, ``wt`` carrying the same
    leading axis) runs in one call of :func:`~baselines.manifold.conjugate_gradient_batch`;
    each row gets the iterates it would get alone."""
    if theta_b.ndim == 1:
        return conjugate_gradient(
            ComplexCircle,
            lambda tb: theta_cost(tb, c, d, wt),
            lambda tb: theta_egrad(tb, c, d, wt),
            theta_b,
            max_iterations=iterations,
        ).x
    if theta_b.ndim != 2:
        raise ValueError(f"theta_b must be [M_b] or [B, M_b], got shape {theta_b.shape}")
    # every cost and gradient call reads d whole; a block of a larger d is strided
    d = np.ascontiguousarray(d)
    return conjugate_gradient_batch(
        ComplexCircle,
        lambda tb, rows: theta_cost(tb, c[rows], d[rows], wt[rows]),
        lambda tb, rows: theta_egrad(tb, c[rows], d[rows], wt[rows]),
        theta_b,
        max_iterations=iterations,
    ).x


def fp_theta_update(
    ch: model.NormalizedChannels,
    theta: np.ndarray,
    W: np.ndarray,
    wt: np.ndarray,
    blocks: list[slice | None],
    levels: int,
    iterations: int,
) -> np.ndarray:
    """Step (c)+(d): the theta-step on each block in turn; with Q levels each block's result
    is quantised and refined on the grid (:mod:`baselines.multi_irs.grid`)."""
    for block in blocks:
        c, d = model.affine_terms(ch, theta, W, block)
        sl = slice(None) if block is None else block
        step = theta_step(c, d, theta[sl], wt, iterations)
        theta = theta.copy()
        if levels:
            rounded = model.quantize_phases(step, levels)
            theta[sl] = grid.refine_on_grid(grid.fp_ratio_sum(wt), c, d, rounded, theta[sl], levels)
        else:
            theta[sl] = step
    return theta
