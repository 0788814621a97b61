"""Power-ratio and power-level conversions (dB, dBm, W).

All functions are elementwise. A scalar input gives a ``numpy.float64`` (a ``float``); an
array input gives a float64 array of the same shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "THERMAL_NOISE_PSD_DBM_PER_HZ",
    "db_to_linear",
    "dbm_to_w",
    "linear_to_db",
    "thermal_noise_dbm",
    "w_to_dbm",
]

FloatArray = NDArray[np.float64]

#: Thermal noise power spectral density k_B T at T = 290 K, in dBm/Hz (rounded, as in 3GPP).
THERMAL_NOISE_PSD_DBM_PER_HZ = -174.0


def _as_float(x: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(x)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got a complex array")
    return arr.astype(np.float64, copy=False)


def _ratio_to_db(x: ArrayLike, name: str) -> FloatArray | float:
    arr = _as_float(x, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (a power), got min {arr.min()!r}")
    # 0 W (an absorbing IRS, an unscheduled stream) is a legitimate power: it maps to -inf dB
    # without the divide-by-zero warning that pytest turns into an error.
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(arr)


def db_to_linear(x_db: ArrayLike) -> FloatArray | float:
    r"""Power ratio from decibels: :math:`x = 10^{x_{\mathrm{dB}}/10}`.

    Args:
        x_db: Power ratio in dB, any shape.

    Returns:
        Linear power ratio, same shape as ``x_db``.
    """
    return 10.0 ** (_as_float(x_db, "x_db") / 10.0)


def linear_to_db(x: ArrayLike) -> FloatArray | float:
    r"""Power ratio in decibels: :math:`x_{\mathrm{dB}} = 10\log_{10}x`.

    Args:
        x: Linear power ratio >= 0, any shape. 0 maps to ``-inf``.

    Returns:
        Power ratio in dB, same shape as ``x``.

    Raises:
        ValueError: if any entry is negative.
    """
    return _ratio_to_db(x, "x")


def dbm_to_w(p_dbm: ArrayLike) -> FloatArray | float:
    r"""Power in watts from dBm: :math:`p_{\mathrm W} = 10^{(p_{\mathrm{dBm}} - 30)/10}`.

    Args:
        p_dbm: Power in dBm (dB relative to 1 mW), any shape.

    Returns:
        Power in W, same shape as ``p_dbm``.
    """
    return 10.0 ** ((_as_float(p_dbm, "p_dbm") - 30.0) / 10.0)


def w_to_dbm(p_w: ArrayLike) -> FloatArray | float:
    r"""Power in dBm from watts: :math:`p_{\mathrm{dBm}} = 10\log_{10}p_{\mathrm W} + 30`.

    Args:
        p_w: Power in W, >= 0, any shape. 0 W maps to ``-inf`` dBm.

    Returns:
        Power in dBm, same shape as ``p_w``.

    Raises:
        ValueError: if any entry is negative.
    """
    return _ratio_to_db(p_w, "p_w") + 30.0


def thermal_noise_dbm(
    bandwidth_hz: ArrayLike,
    noise_figure_db: ArrayLike = 0.0,
    *,
    psd_dbm_per_hz: float = THERMAL_NOISE_PSD_DBM_PER_HZ,
) -> FloatArray | float:
    r"""Receiver noise power :math:`\sigma^2_{\mathrm{dBm}} = N_0 + 10\log_{10}B + \mathrm{NF}`.

    Used by model 001 (:math:`-174 + 80 + 9 = -85` dBm at B = 100 MHz, NF = 9 dB, spec section 9)
    and model 002 (:math:`-174 + 10\log_{10}B_k + 10` dB, spec section 3).

    Args:
        bandwidth_hz: Noise bandwidth B in Hz, > 0.
        noise_figure_db: Receiver noise figure NF in dB.
        psd_dbm_per_hz: Thermal noise density N_0 in dBm/Hz.

    Returns:
        Noise power in dBm, broadcast shape of ``bandwidth_hz`` and ``noise_figure_db``.

    Raises:
        ValueError: if any bandwidth is not > 0.
    """
    b = _as_float(bandwidth_hz, "bandwidth_hz")
    if not np.all(b > 0):
        raise ValueError(f"bandwidth_hz must be > 0 Hz, got min {b.min()!r}")
    return psd_dbm_per_hz + 10.0 * np.log10(b) + _as_float(noise_figure_db, "noise_figure_db")
