r"""Large-scale path-loss laws, returned as linear power gains.

Every ``*_gain`` function returns :math:`\beta = P_{\mathrm{rx}}/P_{\mathrm{tx}}` (a linear
power gain, normally < 1): multiply a received power by it, or a channel amplitude by its
square root. ``*_gain_db`` variants return :math:`10\log_{10}\beta` (negative dB = loss).

Distances are in metres, carriers in Hz (``carrier_hz``) or GHz (``carrier_ghz``, only where
the law is tabulated per carrier). Every law accepts array distances of any shape ``[...]``.
A ``min_distance_m`` argument clips distances from below before the law is applied (the
specs' rule that gains never exceed the reference value, or the law's validity range);
``None`` means no clipping.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AKDENIZ_PARAMETERS",
    "SPEED_OF_LIGHT_M_S",
    "AkdenizParameters",
    "akdeniz_gain",
    "akdeniz_gain_db",
    "blockage_probability",
    "free_space_gain",
    "log_distance_gain",
    "umi_gain",
    "umi_gain_db",
]

FloatArray = NDArray[np.float64]

#: Speed of light in vacuum, m/s (exact).
SPEED_OF_LIGHT_M_S = 299_792_458.0


class AkdenizParameters(NamedTuple):
    """One row of Akdeniz et al. (2014) Table I: PL[dB] = alpha_db + 10 beta log10(d) + xi."""

    alpha_db: float
    beta: float
    sigma_db: float


#: Akdeniz et al., IEEE JSAC 2014, Table I, keyed by (carrier in GHz, LoS?); model 001 section 2.
AKDENIZ_PARAMETERS: dict[tuple[int, bool], AkdenizParameters] = {
    (28, True): AkdenizParameters(61.4, 2.0, 5.8),
    (28, False): AkdenizParameters(72.0, 2.92, 8.7),
    (73, True): AkdenizParameters(69.8, 2.0, 5.8),
    (73, False): AkdenizParameters(86.6, 2.45, 8.0),
}


def _positive(name: str, x: ArrayLike, unit: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    # `not all(x > 0)` also rejects NaN, which `any(x <= 0)` would let through.
    if not np.all(arr > 0):
        bad = arr[~(arr > 0)].flat[0]
        raise ValueError(f"{name} must be > 0 {unit} (finite, positive), got {bad!r}")
    return arr


def _distance(distance_m: ArrayLike, min_distance_m: float | None) -> FloatArray:
    d = _positive("distance_m", distance_m, "m")
    if min_distance_m is None:
        return d
    if not min_distance_m > 0:
        raise ValueError(f"min_distance_m must be > 0 m or None, got {min_distance_m!r}")
    return np.maximum(d, min_distance_m)


def free_space_gain(
    distance_m: ArrayLike,
    carrier_hz: float,
    *,
    min_distance_m: float | None = None,
) -> FloatArray | float:
    r"""Friis free-space gain :math:`\beta(d) = \left(\frac{c}{4\pi f_c d}\right)^2`.

    Model 004 eq. (48) (f_c = 3 GHz). Example: 3 GHz, 100 m gives -81.99 dB.

    Args:
        distance_m: Link distance(s) d in metres, > 0, shape ``[...]``.
        carrier_hz: Carrier frequency f_c in Hz, > 0.
        min_distance_m: Clip d to at least this value first (``None``: no clipping).

    Returns:
        Linear power gain, shape ``[...]``.

    Raises:
        ValueError: if a distance or the carrier is not > 0.
    """
    f = _positive("carrier_hz", carrier_hz, "Hz")
    d = _distance(distance_m, min_distance_m)
    return (SPEED_OF_LIGHT_M_S / (4.0 * np.pi * f * d)) ** 2


def log_distance_gain(
    distance_m: ArrayLike,
    ref_gain_db: float,
    exponent: float,
    ref_distance_m: float = 1.0,
    *,
    min_distance_m: float | None = None,
) -> FloatArray | float:
    r"""Log-distance gain :math:`\beta(d) = 10^{\mathrm{PL}_0/10}\,(d/d_0)^{-\epsilon}`.

    Model 000 section 2 (:math:`\mathrm{PL}_0 = -30` dB, :math:`d_0 = 1` m, exponent 2.5,
    distances clipped to >= d_0) and model 003 section 2 (:math:`C_0 = -30` dB, exponents
    2.2 / 3.6).

    Args:
        distance_m: Link distance(s) d in metres, > 0, shape ``[...]``.
        ref_gain_db: Gain :math:`\mathrm{PL}_0` at the reference distance, in dB (e.g. -30).
        exponent: Path-loss exponent :math:`\epsilon` (>= 0).
        ref_distance_m: Reference distance :math:`d_0` in metres, > 0.
        min_distance_m: Clip d to at least this value first (``None``: no clipping).

    Returns:
        Linear power gain, shape ``[...]``.

    Raises:
        ValueError: if a distance or ``ref_distance_m`` is not > 0, or the exponent is < 0.
    """
    d = _distance(distance_m, min_distance_m)
    d0 = _positive("ref_distance_m", ref_distance_m, "m")
    if not exponent >= 0:
        raise ValueError(f"exponent must be >= 0, got {exponent!r}")
    return 10.0 ** (ref_gain_db / 10.0) * (d / d0) ** (-exponent)


def umi_gain_db(
    distance_m: ArrayLike,
    carrier_hz: float,
    los: ArrayLike,
    *,
    antenna_gain_db: ArrayLike = 0.0,
    min_distance_m: float | None = 10.0,
) -> FloatArray | float:
    r"""3GPP TR 36.814 UMi path gain in dB, antenna gains included (model 002 eq. (18)).

    .. math::
        \beta(d)[\mathrm{dB}] = G + \begin{cases}
            -28.0 - 20\log_{10} f_{\mathrm{GHz}} - 22.0\log_{10} d & \text{LoS}\\
            -22.7 - 26\log_{10} f_{\mathrm{GHz}} - 36.7\log_{10} d & \text{NLoS}
        \end{cases}

    with d in metres and :math:`G = G_s + G_d` the sum of the two antenna gains in dBi.
    At 3 GHz the constants are -37.54 dB (LoS) and -35.10 dB (NLoS); the spec prints them
    rounded to -37.5 and -35.1. The law holds for d >= 10 m, hence the default clipping
    (model 002 section 1). The LoS breakpoint distance of TR 36.814 is not modelled (the
    spec does not use it).

    Args:
        distance_m: Link distance(s) d in metres, > 0, shape ``[...]``.
        carrier_hz: Carrier frequency in Hz, > 0.
        los: Line-of-sight flag(s), bool, broadcastable with ``distance_m``.
        antenna_gain_db: Total antenna gain :math:`G_s + G_d` in dBi (which gains each link
            carries is a model choice: model 002 section 2 readings (a)-(c)).
        min_distance_m: Clip d to at least this value first (default 10 m; ``None``: none).

    Returns:
        Power gain in dB, shape ``broadcast(distance_m, los, antenna_gain_db)``.

    Raises:
        ValueError: if a distance or the carrier is not > 0.
    """
    f_ghz = _positive("carrier_hz", carrier_hz, "Hz") / 1e9
    d = _distance(distance_m, min_distance_m)
    los_b = np.asarray(los, dtype=bool)
    log_d = np.log10(d)
    log_f = np.log10(f_ghz)
    gain_los = -28.0 - 20.0 * log_f - 22.0 * log_d
    gain_nlos = -22.7 - 26.0 * log_f - 36.7 * log_d
    return np.asarray(antenna_gain_db, dtype=np.float64) + np.where(los_b, gain_los, gain_nlos)


def umi_gain(
    distance_m: ArrayLike,
    carrier_hz: float,
    los: ArrayLike,
    *,
    antenna_gain_db: ArrayLike = 0.0,
    min_distance_m: float | None = 10.0,
) -> FloatArray | float:
    r"""3GPP UMi linear power gain :math:`10^{\beta_{\mathrm{dB}}/10}`; see :func:`umi_gain_db`."""
    return 10.0 ** (
        umi_gain_db(
            distance_m,
            carrier_hz,
            los,
            antenna_gain_db=antenna_gain_db,
            min_distance_m=min_distance_m,
        )
        / 10.0
    )


def _akdeniz_table(carrier_ghz: float) -> tuple[AkdenizParameters, AkdenizParameters]:
    f = float(_positive("carrier_ghz", carrier_ghz, "GHz"))
    for key_f in (28, 73):
        # Tolerate 28.0 or a float like 28.000000001 from a Hz -> GHz conversion.
        if abs(f - key_f) < 1e-6:
            return AKDENIZ_PARAMETERS[(key_f, True)], AKDENIZ_PARAMETERS[(key_f, False)]
    raise ValueError(
        f"carrier_ghz must be 28 or 73 (the carriers Akdeniz et al. tabulate), got {carrier_ghz!r}"
    )


def akdeniz_gain_db(
    distance_m: ArrayLike,
    carrier_ghz: float,
    los: ArrayLike,
    rng: np.random.Generator | None = None,
    *,
    shadowing_std_db: float | None = None,
    min_distance_m: float | None = None,
) -> FloatArray | float:
    r"""Akdeniz et al. mmWave path gain in dB (model 001 eqs. (60)-(61)).

    .. math::
        \beta(d)[\mathrm{dB}] = -\mathrm{PL}(d), \qquad
        \mathrm{PL}(d) = \alpha + 10\beta\log_{10}(d) + \xi,\quad
        \xi \sim \mathcal N(0, \sigma_\xi^2),

    with d in metres and :math:`(\alpha, \beta, \sigma_\xi)` from :data:`AKDENIZ_PARAMETERS`:
    28 GHz LoS (61.4, 2, 5.8 dB), NLoS (72.0, 2.92, 8.7 dB); 73 GHz LoS (69.8, 2, 5.8 dB),
    NLoS (86.6, 2.45, 8.0 dB). One independent :math:`\xi` is drawn per output entry.

    Shadowing is **off** (:math:`\xi = 0`, the median gain) when ``rng`` is ``None`` or the
    standard deviation is 0; otherwise it is drawn from ``rng``.

    Args:
        distance_m: Link distance(s) d in metres, > 0, shape ``[...]``.
        carrier_ghz: Carrier in GHz: 28 or 73.
        los: Line-of-sight flag(s), bool, broadcastable with ``distance_m`` (selects the row).
        rng: Generator for the log-normal shadowing, or ``None`` for none.
        shadowing_std_db: Override :math:`\sigma_\xi` in dB for every entry (``None``: the
            table's value, which depends on ``los``; 0: no shadowing).
        min_distance_m: Clip d to at least this value first (``None``: no clipping).

    Returns:
        Power gain in dB, shape ``broadcast(distance_m, los)``.

    Raises:
        ValueError: if a distance is not > 0, or the carrier is not 28 or 73 GHz.
    """
    p_los, p_nlos = _akdeniz_table(carrier_ghz)
    d = _distance(distance_m, min_distance_m)
    los_b = np.asarray(los, dtype=bool)
    d, los_b = np.broadcast_arrays(d, los_b)
    alpha = np.where(los_b, p_los.alpha_db, p_nlos.alpha_db)
    beta = np.where(los_b, p_los.beta, p_nlos.beta)
    pl_db = alpha + 10.0 * beta * np.log10(d)
    if shadowing_std_db is None:
        sigma = np.where(los_b, p_los.sigma_db, p_nlos.sigma_db)
    else:
        if not shadowing_std_db >= 0:
            raise ValueError(f"shadowing_std_db must be >= 0 dB or None, got {shadowing_std_db!r}")
        sigma = np.full(d.shape, float(shadowing_std_db))
    if rng is not None and np.any(sigma > 0):
        pl_db = pl_db + sigma * rng.standard_normal(d.shape)
    return -pl_db


def akdeniz_gain(
    distance_m: ArrayLike,
    carrier_ghz: float,
    los: ArrayLike,
    rng: np.random.Generator | None = None,
    *,
    shadowing_std_db: float | None = None,
    min_distance_m: float | None = None,
) -> FloatArray | float:
    r"""Akdeniz mmWave linear power gain :math:`10^{-\mathrm{PL}(d)/10}`.

    This is the variance of a path coefficient :math:`\alpha \sim \mathcal{CN}(0, 10^{-0.1\,
    \mathrm{PL}(d)})` in model 001 section 2. See :func:`akdeniz_gain_db` for the law,
    the table and the shadowing rule.
    """
    return 10.0 ** (
        akdeniz_gain_db(
            distance_m,
            carrier_ghz,
            los,
            rng,
            shadowing_std_db=shadowing_std_db,
            min_distance_m=min_distance_m,
        )
        / 10.0
    )


def blockage_probability(
    distance_m: ArrayLike, prob_per_unit: float, unit_distance_m: float
) -> FloatArray | float:
    r"""Distance-based blockage probability :math:`P_b(d) = 1 - (1 - p)^{d/d_u}` (model 004 (52)).

    Each stretch of :math:`d_u` metres is blocked independently with probability p.

    Args:
        distance_m: Link distance(s) d in metres, > 0, shape ``[...]``.
        prob_per_unit: Blockage probability p per ``unit_distance_m``, in [0, 1].
        unit_distance_m: The distance :math:`d_u` that p refers to, in metres, > 0.

    Returns:
        Probability that the link is blocked, shape ``[...]``, in [0, 1].
    """
    d = _positive("distance_m", distance_m, "m")
    d_u = _positive("unit_distance_m", unit_distance_m, "m")
    if not 0.0 <= prob_per_unit <= 1.0:
        raise ValueError(f"prob_per_unit must be in [0, 1], got {prob_per_unit!r}")
    return 1.0 - (1.0 - prob_per_unit) ** (d / d_u)
