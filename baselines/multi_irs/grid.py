r"""The quantised theta-step of model 004 (spec 5.6) with a single-element grid search.

Spec 5.6 quantises the continuous theta-step's result to the nearest of the Q levels. With
coarse grids (Q = 2, 4) the continuous step from a grid point is often too short to cross
half a level, so rounding returns the start point and the alternating loop stops there,
reported as converged, far from the grid optimum. Our addition [R]: after rounding, a
best-improvement search over single-element changes on the grid, on the step's own
objective, started from the better of the rounded candidate and the current (grid) theta.
So the quantised theta-step never lowers its objective, and a coordinate-wise grid optimum
is reached at every call. Each pass scores every (element, level) change in one vectorised
call through the affine form :math:`x_{kj} = c_{kj} + \theta_b^Td_{kj}` (spec (19)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: objective of a gain matrix ``x [..., K, K]`` (x_kj = hbar_k^H w_j, noise 1) -> ``[...]``,
#: larger is better.
GainObjective = Callable[[np.ndarray], np.ndarray]


def levels_grid(levels: int) -> np.ndarray:
    """The Q phase levels exp(j 2 pi q / Q), q = 0..Q-1."""
    return np.exp(2j * np.pi * np.arange(levels) / levels)


def refine_on_grid(
    objective: GainObjective,
    c: np.ndarray,
    d: np.ndarray,
    candidate: np.ndarray,
    current: np.ndarray,
    levels: int,
) -> np.ndarray:
    """Best single-element changes on the Q-level grid until none improves ``objective``.

    Args:
        objective: the step's objective of the gain matrix (vectorised over leading axes).
        c, d: affine terms of the phase block, ``[K, K]`` and ``[K, K, M_b]``.
        candidate: the rounded continuous step ``[M_b]`` (on the grid).
        current: the block's phases before the step ``[M_b]`` (on the grid).
        levels: Q >= 2.

    Returns:
        Phases ``[M_b]`` on the grid, no worse than ``candidate`` and ``current``.
    """
    grid = levels_grid(levels)
    starts = np.stack([candidate, current])
    gains = _gains(c, d, starts)
    values = objective(gains)
    best = int(np.argmax(values))
    theta, x, value = starts[best].copy(), gains[best], float(values[best])
    d_first = np.moveaxis(d, -1, 0)  # [M_b, K, K]
    for _ in range(theta.size * levels):  # each pass accepts one strictly better change
        change = grid[None, :] - theta[:, None]  # [M_b, Q]
        trial = x + change[..., None, None] * d_first[:, None]  # [M_b, Q, K, K]
        scores = objective(trial)
        m, q = np.unravel_index(int(np.argmax(scores)), scores.shape)
        if not scores[m, q] > value + 1e-12 * abs(value):
            break
        theta[m], x, value = grid[q], trial[m, q], float(scores[m, q])
    return theta


def fp_ratio_sum(wt: np.ndarray) -> GainObjective:
    """DOMALO's theta objective (19): sum_k wt_k |x_kk|^2 / (sum_j |x_kj|^2 + 1)."""

    def objective(x: np.ndarray) -> np.ndarray:
        power = np.abs(x) ** 2
        signal = np.diagonal(power, axis1=-2, axis2=-1)
        return np.sum(wt * signal / (power.sum(axis=-1) + 1.0), axis=-1)

    return objective


def weighted_min_sinr(omega: np.ndarray) -> GainObjective:
    """S-DOMALO's acceptance level lambda = min_k omega_k gamma_k (41)."""

    def objective(x: np.ndarray) -> np.ndarray:
        power = np.abs(x) ** 2
        signal = np.diagonal(power, axis1=-2, axis2=-1)
        return np.min(omega * signal / (power.sum(axis=-1) - signal + 1.0), axis=-1)

    return objective


def _gains(c: np.ndarray, d: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """x = c + d @ theta for ``theta [..., M_b]`` -> ``[..., K, K]``."""
    return c + np.einsum("kjm,...m->...kj", d, theta)
