r"""Small-scale fading draws: complex Gaussian, Rayleigh, Rician, Saleh-Valenzuela, Gauss-Markov.

Every draw takes the generator as its first argument, ``rng: np.random.Generator``, and
returns complex128 arrays. :math:`\mathcal{CN}(0, v)` means a circularly symmetric complex
Gaussian with :math:`\mathbb E|x|^2 = v` (real and imaginary parts each of variance v/2).
Matrix channels are receiver x transmitter, batch axes first: ``[..., N_R, N_T]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from irs_gym.physics.arrays import upa_response

__all__ = [
    "SVPaths",
    "complex_normal",
    "gauss_markov",
    "multipath_channel",
    "rayleigh",
    "rician",
    "sv_channel",
    "sv_draw_paths",
]

ComplexArray = NDArray[np.complex128]


def _shape(shape: int | tuple[int, ...]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int | np.integer) else tuple(shape)


def complex_normal(
    rng: np.random.Generator,
    shape: int | tuple[int, ...],
    variance: ArrayLike = 1.0,
) -> ComplexArray:
    r"""I.i.d. :math:`\mathcal{CN}(0, v)` entries: :math:`\sqrt{v/2}\,(x + jy)`, x, y ~ N(0, 1).

    Args:
        rng: Random generator (real parts drawn first, then imaginary parts).
        shape: Output shape ``[...]``.
        variance: Variance v >= 0 (a power), scalar or broadcastable to ``shape``; per-entry
            variances give independent entries with different powers (e.g. per-path gains).

    Returns:
        Samples, shape ``shape``, complex128.

    Raises:
        ValueError: if a variance is negative.
    """
    shape = _shape(shape)
    v = np.asarray(variance, dtype=np.float64)
    if not np.all(v >= 0):
        raise ValueError(f"variance must be >= 0, got min {np.min(v)!r}")
    z = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return np.sqrt(v / 2.0) * z


def rayleigh(rng: np.random.Generator, shape: int | tuple[int, ...]) -> ComplexArray:
    r"""Rayleigh fading: i.i.d. :math:`\mathcal{CN}(0, 1)` entries (model 003 BS->IU,
    the NLoS parts of models 000 and 003).

    Args:
        rng: Random generator.
        shape: Output shape ``[...]``.

    Returns:
        Samples, shape ``shape``, complex128, :math:`\mathbb E|x|^2 = 1`.
    """
    return complex_normal(rng, shape, 1.0)


def rician(
    rng: np.random.Generator,
    los: ArrayLike,
    k_factor: ArrayLike,
    shape: int | tuple[int, ...] | None = None,
) -> ComplexArray:
    r"""Rician fading :math:`\mathbf X = \sqrt{\tfrac{K}{K+1}}\,\mathbf X^{\mathrm{LoS}}
    + \sqrt{\tfrac{1}{K+1}}\,\mathbf X^{\mathrm{NLoS}}`, :math:`[\mathbf X^{\mathrm{NLoS}}]
    \sim \mathcal{CN}(0, 1)` i.i.d.

    Models 000 section 2 (:math:`\kappa = 3` on every link) and 003 section 2 (BS->RIS). The
    large-scale factor :math:`\sqrt{\beta}` is applied by the caller. With unit-modulus LoS
    entries (unnormalised steering vectors, ``arrays.los_channel``), :math:`\mathbb E|X|^2 = 1`
    and the K factor :math:`|\mathbb E X|^2 / \mathrm{Var}\,X` equals K.

    Args:
        rng: Random generator.
        los: Deterministic LoS component, broadcastable to ``shape``.
        k_factor: Rician factor K, **linear** (not dB), >= 0, broadcastable to ``shape``;
            ``np.inf`` gives the pure LoS component.
        shape: Output shape; ``None`` means ``broadcast(los, k_factor).shape``.

    Returns:
        Samples, shape ``shape``, complex128.

    Raises:
        ValueError: if a K factor is negative or NaN.
    """
    los_c = np.asarray(los, dtype=np.complex128)
    k = np.asarray(k_factor, dtype=np.float64)
    if not np.all(k >= 0):
        raise ValueError(f"k_factor must be >= 0 (linear), got min {np.min(k)!r}")
    out_shape = np.broadcast_shapes(los_c.shape, k.shape) if shape is None else _shape(shape)
    # Written via 1/(1+K) so K = inf gives weights (1, 0) instead of inf/inf = nan.
    w_nlos = np.sqrt(1.0 / (1.0 + k))
    w_los = np.sqrt(1.0 - w_nlos**2)
    x = w_los * los_c + w_nlos * rayleigh(rng, out_shape)
    if x.shape != out_shape:
        raise ValueError(f"los and k_factor must broadcast to shape {out_shape}, got {x.shape}")
    return x


def multipath_channel(
    gains: ArrayLike, a_rx: ArrayLike, a_tx: ArrayLike | None = None
) -> ComplexArray:
    r"""Sum of paths :math:`\sum_{p} g_p\,\mathbf a_{R,p}\,\mathbf a_{T,p}^H` (no normalisation).

    The building block of the Saleh-Valenzuela channels: :func:`sv_channel` (model 004) adds
    the :math:`\sqrt{N_T N_R/P}\sqrt{PL}` factor; model 001's direct link
    :math:`\sum_l \alpha_l \mathbf a_N(\psi_l)` (eq. (2)) uses it with ``a_tx=None`` and
    per-path gains :math:`\alpha_l \sim \mathcal{CN}(0, \beta_l)` from
    ``complex_normal(rng, shape, pathloss.akdeniz_gain(...))``.

    Args:
        gains: Path coefficients :math:`g_p`, shape ``[..., P]``.
        a_rx: Receive responses, shape ``[..., P, N_R]``.
        a_tx: Transmit responses, shape ``[..., P, N_T]``, or ``None`` for a single-antenna
            transmitter (response 1).

    Returns:
        ``[..., N_R, N_T]`` if ``a_tx`` is given, else the vector ``[..., N_R]``; complex128.
    """
    g = np.asarray(gains, dtype=np.complex128)
    a_r = np.asarray(a_rx, dtype=np.complex128)
    if a_r.shape[-2:-1] != g.shape[-1:]:
        raise ValueError(f"a_rx must be [..., P, N_R] with P = {g.shape[-1]}, got {a_r.shape}")
    weighted = a_r * g[..., :, None]  # [..., P, N_R]
    if a_tx is None:
        return weighted.sum(axis=-2)
    a_t = np.asarray(a_tx, dtype=np.complex128)
    if a_t.shape[-2:-1] != g.shape[-1:]:
        raise ValueError(f"a_tx must be [..., P, N_T] with P = {g.shape[-1]}, got {a_t.shape}")
    return np.matmul(np.swapaxes(weighted, -1, -2), a_t.conj())


@dataclass(frozen=True, eq=False)
class SVPaths:
    """Saleh-Valenzuela path parameters of one link type (model 004 section 2).

    Attributes:
        gains: Complex path gains :math:`\\alpha_p`, shape ``[..., P]``.
        a_rx: Receive-array responses per path, shape ``[..., P, N_R]``.
        a_tx: Transmit-array responses per path, shape ``[..., P, N_T]``.
    """

    gains: ComplexArray
    a_rx: ComplexArray
    a_tx: ComplexArray

    def __post_init__(self) -> None:
        p = self.gains.shape[-1:]
        if self.a_rx.shape[-2:-1] != p or self.a_tx.shape[-2:-1] != p:
            raise ValueError(
                "SVPaths needs gains [..., P], a_rx [..., P, N_R], a_tx [..., P, N_T]; got "
                f"{self.gains.shape}, {self.a_rx.shape}, {self.a_tx.shape}"
            )

    @property
    def n_paths(self) -> int:
        """Number of paths P (LoS included)."""
        return self.gains.shape[-1]

    @property
    def n_rx(self) -> int:
        """Receive elements N_R."""
        return self.a_rx.shape[-1]

    @property
    def n_tx(self) -> int:
        """Transmit elements N_T."""
        return self.a_tx.shape[-1]


def _check_upa_shape(name: str, shape: tuple[int, int]) -> tuple[int, int]:
    shape = tuple(shape)
    if len(shape) != 2 or any(isinstance(s, bool) or int(s) != s or s < 1 for s in shape):
        raise ValueError(f"{name} must be a UPA shape (n_x, n_y) of integers >= 1, got {shape!r}")
    return int(shape[0]), int(shape[1])


def sv_draw_paths(
    rng: np.random.Generator,
    batch_shape: tuple[int, ...],
    n_paths: int,
    rx_shape: tuple[int, int],
    tx_shape: tuple[int, int],
) -> SVPaths:
    r"""Draw Saleh-Valenzuela paths with random angles (model 004 section 2, eqs. (44)-(47)).

    For every batch entry and every path p = 0..P-1 (p = 0 is the LoS path, drawn like the
    others): :math:`\alpha_p \sim \mathcal{CN}(0, 1)`; at each end an azimuth
    :math:`\phi \sim U[0, 2\pi)` and an elevation :math:`\vartheta \sim U[0, \pi)`, all
    independent; responses from ``arrays.upa_response`` (eq. (47), unit norm). A (1, 1)
    shape is a single antenna with response [1].

    Draw order (for reproducibility): gains, rx azimuth, rx elevation, tx azimuth,
    tx elevation.

    Args:
        rng: Random generator.
        batch_shape: Leading batch shape ``[...]`` (e.g. ``(B,)`` or ``(B, K)``).
        n_paths: Number of paths P >= 1 (model 004 default: 1 LoS + 2 NLoS = 3).
        rx_shape: Receive UPA ``(n_x, n_y)``.
        tx_shape: Transmit UPA ``(n_x, n_y)``.

    Returns:
        :class:`SVPaths` with gains ``[..., P]``, a_rx ``[..., P, N_R]``, a_tx ``[..., P, N_T]``.
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or n_paths < 1:
        raise ValueError(f"n_paths must be an integer >= 1, got {n_paths!r}")
    rx = _check_upa_shape("rx_shape", rx_shape)
    tx = _check_upa_shape("tx_shape", tx_shape)
    shape = (*tuple(batch_shape), int(n_paths))
    gains = rayleigh(rng, shape)
    rx_az = rng.uniform(0.0, 2.0 * np.pi, shape)
    rx_el = rng.uniform(0.0, np.pi, shape)
    tx_az = rng.uniform(0.0, 2.0 * np.pi, shape)
    tx_el = rng.uniform(0.0, np.pi, shape)
    return SVPaths(
        gains=gains,
        a_rx=upa_response(*rx, rx_az, rx_el),
        a_tx=upa_response(*tx, tx_az, tx_el),
    )


def sv_channel(paths: SVPaths, power_gain: ArrayLike) -> ComplexArray:
    r"""Saleh-Valenzuela channel matrix (model 004 eqs. (44)-(46)).

    .. math::
        \mathbf X = \sqrt{\frac{N_T N_R}{P}}\,\sqrt{\mathrm{PL}}
            \sum_{p=0}^{P-1} \alpha_p\,\mathbf a_{R,p}\,\mathbf a_{T,p}^H .

    With :math:`\alpha_p \sim \mathcal{CN}(0, 1)` and unit-norm responses,
    :math:`\mathbb E|X_{ij}|^2 = \mathrm{PL}` for every entry. For a single-antenna receiver
    (N_R = 1) the result is the row :math:`\mathbf h^H` of eq. (45), shape ``[..., 1, N_T]``.

    Args:
        paths: Path draws (:func:`sv_draw_paths`).
        power_gain: Large-scale power gain PL (linear, e.g. ``pathloss.free_space_gain``),
            shape broadcastable to the batch shape ``[...]``.

    Returns:
        Channels, shape ``[..., N_R, N_T]``, complex128.
    """
    pl = np.asarray(power_gain, dtype=np.float64)
    if not np.all(pl >= 0):
        raise ValueError(f"power_gain must be >= 0 (linear), got min {np.min(pl)!r}")
    scale = np.sqrt(paths.n_tx * paths.n_rx / paths.n_paths * pl)
    return scale[..., None, None] * multipath_channel(paths.gains, paths.a_rx, paths.a_tx)


def gauss_markov(
    rng: np.random.Generator,
    x: ArrayLike,
    rho: float,
    variance: ArrayLike = 1.0,
) -> ComplexArray:
    r"""First-order Gauss-Markov step
    :math:`\mathbf x' = \rho\,\mathbf x + \sqrt{1-\rho^2}\,\mathbf e`,
    :math:`\mathbf e \sim \mathcal{CN}(0, v)`.

    If :math:`\mathbf x \sim \mathcal{CN}(0, v)` then so is :math:`\mathbf x'`, and the lag-1
    correlation :math:`\mathbb E[x' x^*]/v = \rho`. Used for the envs' ``channel_mode="markov"``
    on the Gaussian (NLoS) part of a channel: apply it to the unit-variance part (v = 1,
    default) and rescale, or pass the per-entry variance.

    Args:
        rng: Random generator.
        x: Current state, shape ``[...]``.
        rho: Correlation coefficient in [0, 1] (1: frozen, 0: independent redraw).
        variance: Stationary variance v of the entries, broadcastable to ``x``.

    Returns:
        Next state, shape of ``x``, complex128.

    Raises:
        ValueError: if ``rho`` is outside [0, 1].
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must be in [0, 1], got {rho!r}")
    x_c = np.asarray(x, dtype=np.complex128)
    innovation = complex_normal(rng, x_c.shape, variance)
    return rho * x_c + np.sqrt(1.0 - rho * rho) * innovation
