r"""Base-station input power as a function of load: the EARTH model (Auer et al., 2011).

Auer, Giannini, Desset, Godor, Skillermark, Olsson, Imran, Sabella, Gonzalez, Blume and
Fehske, "How much energy is needed to run a wireless network?", IEEE Wireless Commun. 18(5),
2011. The linear load model (model 002, section 3):

.. math::
    P_{\mathrm{in}} = \begin{cases}
        N_{\mathrm{TRX}}\,(P_0 + \Delta_p\,\chi P_{\max}) & 0 < \chi \le 1,\\
        N_{\mathrm{TRX}}\,P_{\mathrm{sleep}} & \chi = 0,
    \end{cases}

with :math:`\chi = P_{\mathrm{out}}/P_{\max}` the load (the RF output power as a share of its
maximum). The model jumps from :math:`P_0` to :math:`P_{\mathrm{sleep}}` at zero load (sleep
mode), as in the paper.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_PARAMETERS", "EarthParameters", "earth_input_power_w"]

FloatArray = NDArray[np.float64]


class EarthParameters(NamedTuple):
    """One base-station type of the EARTH model (Auer et al. 2011, Table 2).

    Attributes:
        num_trx: N_TRX, transceiver chains (sectors x antennas).
        max_power_w: P_max, RF output power per chain at full load (W).
        static_power_w: P_0, input power per chain at the smallest non-zero load (W).
        load_slope: Delta_p, input-power slope per W of RF output (dimensionless).
        sleep_power_w: P_sleep, input power per chain in sleep mode (zero load, W).
    """

    num_trx: int
    max_power_w: float
    static_power_w: float
    load_slope: float
    sleep_power_w: float


#: Auer et al. 2011, Table 2, keyed by base-station type (model 002, section 3).
EARTH_PARAMETERS: dict[str, EarthParameters] = {
    "macro": EarthParameters(6, 20.0, 130.0, 4.7, 75.0),
    "rrh": EarthParameters(6, 20.0, 84.0, 2.8, 56.0),
    "micro": EarthParameters(2, 6.3, 56.0, 2.6, 39.0),
    "pico": EarthParameters(2, 0.13, 6.8, 4.0, 4.3),
    "femto": EarthParameters(2, 0.05, 4.8, 8.0, 2.9),
}


def earth_input_power_w(load: ArrayLike, params: EarthParameters) -> FloatArray | float:
    r"""BS input power :math:`P_{\mathrm{in}}(\chi)` in W (module docstring).

    Args:
        load: Load :math:`\chi \in [0, 1]`, any shape.
        params: The base-station type, e.g. ``EARTH_PARAMETERS["macro"]``.

    Returns:
        Input power in W, same shape as ``load``.

    Raises:
        ValueError: if a load lies outside [0, 1] (or is NaN).
    """
    chi = np.asarray(load, dtype=np.float64)
    if not np.all((chi >= 0.0) & (chi <= 1.0)):
        bad = chi[~((chi >= 0.0) & (chi <= 1.0))].flat[0]
        raise ValueError(f"load must lie in [0, 1], got {bad!r}")
    active = params.static_power_w + params.load_slope * chi * params.max_power_w
    return params.num_trx * np.where(chi > 0.0, active, params.sleep_power_w)
