r"""Far-field array responses (steering vectors) for half-wavelength spaced arrays.

Every response here is a product of per-axis phase ramps :math:`e^{j\pi i s}`, where
:math:`i = 0, 1, \dots` is the element index along an axis and :math:`s` is the direction
cosine along that axis (the spatial frequency in units of :math:`\pi` rad per element).
The planar responses are Kronecker products of two such ramps, flattened with the second
axis fastest (index = i_x * n_y + i_y).

Which function serves which spec:

=======================  ===========================================================
:func:`ula_response`     models 000 (unnormalised), 001 eq. (5), 003 section 2
:func:`upa_response`     model 004 eq. (47) (normalised); model 003 USPA (unnormalised)
:func:`ura_response`     model 001 eq. (6) (elevation-first convention)
=======================  ===========================================================

Angles broadcast over leading (batch) axes; the element axis is appended last.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "los_channel",
    "planar_response",
    "ula_response",
    "ula_response_from_sine",
    "upa_response",
    "ura_response",
]

ComplexArray = NDArray[np.complex128]


def _check_size(name: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    return int(n)


def ula_response_from_sine(n: int, sine: ArrayLike, *, normalized: bool = True) -> ComplexArray:
    r"""ULA response from the direction cosine along the array axis.

    :math:`[\mathbf a]_m = c\,e^{j\pi m s}`, :math:`m = 0..n-1`, with
    :math:`c = 1/\sqrt n` when ``normalized`` else 1. For a broadside angle :math:`\psi`,
    :math:`s = \sin\psi`; from geometry, :math:`s = u_y` for an array along the y axis
    (model 003 section 2: :math:`s = \sin x \sin y`).

    Args:
        n: Number of elements, >= 1.
        sine: Direction cosine(s) s along the array axis, shape ``[...]``.
        normalized: Divide by :math:`\sqrt n` (unit norm) or not (norm :math:`\sqrt n`).

    Returns:
        Responses, shape ``[..., n]``, complex128.
    """
    n = _check_size("n", n)
    s = np.asarray(sine, dtype=np.float64)
    m = np.arange(n, dtype=np.float64)
    a = np.exp(1j * np.pi * s[..., None] * m)
    if normalized:
        a /= np.sqrt(n)
    return a


def ula_response(n: int, angle_rad: ArrayLike, *, normalized: bool = True) -> ComplexArray:
    r"""Half-wavelength ULA response :math:`[\mathbf a_n(\psi)]_m = c\,e^{j\pi m\sin\psi}`.

    :math:`m = 0..n-1`, :math:`\psi` measured from broadside, :math:`c = 1/\sqrt n` when
    ``normalized`` (model 001 eq. (5), :math:`\|\mathbf a\| = 1`) else 1 (model 000 section 2,
    :math:`\|\mathbf a\|^2 = n`).

    Args:
        n: Number of elements, >= 1.
        angle_rad: Angle(s) from broadside in radians, shape ``[...]``.
        normalized: Unit-norm (default) or unit-modulus entries.

    Returns:
        Responses, shape ``[..., n]``, complex128.
    """
    return ula_response_from_sine(
        n, np.sin(np.asarray(angle_rad, dtype=np.float64)), normalized=normalized
    )


def planar_response(
    n_x: int,
    n_y: int,
    sine_x: ArrayLike,
    sine_y: ArrayLike,
    *,
    normalized: bool = True,
) -> ComplexArray:
    r"""Planar array response from the direction cosines along its two axes.

    :math:`[\mathbf a]_{i_x n_y + i_y} = c\,e^{j\pi(i_x s_x + i_y s_y)}
    = [\mathbf a_{n_x}(s_x) \otimes \mathbf a_{n_y}(s_y)]_{i_x n_y + i_y}`,
    :math:`i_x = 0..n_x-1`, :math:`i_y = 0..n_y-1`, :math:`c = 1/\sqrt{n_x n_y}` when
    ``normalized`` else 1.

    Args:
        n_x: Elements along the first (slow) axis, >= 1.
        n_y: Elements along the second (fast) axis, >= 1.
        sine_x: Direction cosine(s) along the first axis, shape ``[...]``.
        sine_y: Direction cosine(s) along the second axis, broadcastable with ``sine_x``.
        normalized: Unit-norm (default) or unit-modulus entries.

    Returns:
        Responses, shape ``[..., n_x * n_y]``, complex128.
    """
    n_x = _check_size("n_x", n_x)
    n_y = _check_size("n_y", n_y)
    s_x, s_y = np.broadcast_arrays(
        np.asarray(sine_x, dtype=np.float64), np.asarray(sine_y, dtype=np.float64)
    )
    # Kronecker product of the two axes' ULA responses: n_x + n_y phasors instead of n_x n_y
    a_x = _phasor(np.pi * s_x[..., None] * np.arange(n_x, dtype=np.float64))
    a_y = _phasor(np.pi * s_y[..., None] * np.arange(n_y, dtype=np.float64))
    if normalized:
        a_x *= 1.0 / np.sqrt(n_x * n_y)
    return (a_x[..., :, None] * a_y[..., None, :]).reshape(*s_x.shape, n_x * n_y)


def _phasor(phase: np.ndarray) -> ComplexArray:
    """exp(j phase) from cos and sin (several times faster than a complex exp)."""
    out = np.empty(phase.shape, dtype=np.complex128)
    np.cos(phase, out=out.real)
    np.sin(phase, out=out.imag)
    return out


def upa_response(
    n_x: int,
    n_y: int,
    azimuth_rad: ArrayLike,
    elevation_rad: ArrayLike,
    *,
    normalized: bool = True,
) -> ComplexArray:
    r"""UPA response of model 004 eq. (47) (and model 003's USPA, unnormalised).

    .. math::
        [\mathbf a(\phi, \vartheta)]_{i_x n_y + i_y}
        = \frac{1}{\sqrt{n_x n_y}} \exp\{j\pi(i_x \sin\phi\sin\vartheta + i_y\cos\vartheta)\},

    :math:`i_x = 0..n_x-1`, :math:`i_y = 0..n_y-1` (:math:`i_y` fastest). :math:`\vartheta`
    is the polar angle from the array axis that :math:`i_y` runs along, :math:`\phi` the
    azimuth, so :math:`\sin\phi\sin\vartheta` and :math:`\cos\vartheta` are direction cosines
    (see ``geometry.angles_rad``). Model 004 draws :math:`\phi \sim U[0, 2\pi)`,
    :math:`\vartheta \sim U[0, \pi)`. Model 003 (section 2) uses the same form with
    :math:`i_n = \lfloor n/\sqrt N\rfloor`, :math:`j_n = n \bmod \sqrt N` and no
    normalisation: ``upa_response(r, r, x, y, normalized=False)`` with r = sqrt(N).

    Args:
        n_x: Elements along the first (slow) axis, >= 1.
        n_y: Elements along the second (fast) axis, >= 1.
        azimuth_rad: Azimuth(s) :math:`\phi` in radians, shape ``[...]``.
        elevation_rad: Elevation(s) :math:`\vartheta` in radians, broadcastable with azimuth.
        normalized: Divide by :math:`\sqrt{n_x n_y}` (default, eq. (47)) or not.

    Returns:
        Responses, shape ``[..., n_x * n_y]``, complex128.
    """
    az = np.asarray(azimuth_rad, dtype=np.float64)
    el = np.asarray(elevation_rad, dtype=np.float64)
    return planar_response(n_x, n_y, np.sin(az) * np.sin(el), np.cos(el), normalized=normalized)


def ura_response(
    n_h: int,
    n_v: int,
    elevation_rad: ArrayLike,
    azimuth_rad: ArrayLike,
    *,
    normalized: bool = True,
) -> ComplexArray:
    r"""URA response of model 001 eq. (6) (IRS with :math:`M = M_h M_v` elements).

    .. math::
        [\mathbf a_M(\vartheta, \phi)]_{m_h M_v + m_v}
        = \frac{1}{\sqrt M} \exp\{j\pi(m_h \sin\vartheta\cos\phi + m_v \sin\phi)\},

    :math:`m_h = 0..M_h-1`, :math:`m_v = 0..M_v-1` (:math:`m_v` fastest). Note the argument
    order (elevation first) and the trigonometry differ from :func:`upa_response`.

    Args:
        n_h: Horizontal elements :math:`M_h`, >= 1.
        n_v: Vertical elements :math:`M_v`, >= 1.
        elevation_rad: Elevation(s) :math:`\vartheta` in radians, shape ``[...]``.
        azimuth_rad: Azimuth(s) :math:`\phi` in radians, broadcastable with elevation.
        normalized: Divide by :math:`\sqrt M` (default, eq. (6)) or not.

    Returns:
        Responses, shape ``[..., n_h * n_v]``, complex128.
    """
    el = np.asarray(elevation_rad, dtype=np.float64)
    az = np.asarray(azimuth_rad, dtype=np.float64)
    return planar_response(n_h, n_v, np.sin(el) * np.cos(az), np.sin(az), normalized=normalized)


def los_channel(a_rx: ArrayLike, a_tx: ArrayLike) -> ComplexArray:
    r"""Rank-one LoS matrix :math:`\mathbf X = \mathbf a_R \mathbf a_T^H`.

    Args:
        a_rx: Receive responses, shape ``[..., N_R]``.
        a_tx: Transmit responses, shape ``[..., N_T]`` (batch broadcastable with ``a_rx``).

    Returns:
        Channel matrices, shape ``[..., N_R, N_T]`` (receiver x transmitter), complex128.
    """
    a_r = np.asarray(a_rx, dtype=np.complex128)
    a_t = np.asarray(a_tx, dtype=np.complex128)
    return a_r[..., :, None] * a_t.conj()[..., None, :]
