"""Physics shared by the IRS system models: units, geometry, steering vectors, path loss, fading.

Small pure functions on float64/complex128 arrays with batch axes first; every random draw
takes ``rng: np.random.Generator`` explicitly. No model-specific constants live here (the
tabulated Akdeniz parameters are a published law, not a model choice).
"""

from irs_gym.physics.arrays import (
    los_channel,
    planar_response,
    ula_response,
    ula_response_from_sine,
    upa_response,
    ura_response,
)
from irs_gym.physics.bs_power import EARTH_PARAMETERS, EarthParameters, earth_input_power_w
from irs_gym.physics.fading import (
    SVPaths,
    complex_normal,
    gauss_markov,
    multipath_channel,
    rayleigh,
    rician,
    sv_channel,
    sv_draw_paths,
)
from irs_gym.physics.geometry import (
    angles_rad,
    distance_m,
    uniform_annulus,
    uniform_disc,
    uniform_sector,
    unit_direction,
)
from irs_gym.physics.pathloss import (
    AKDENIZ_PARAMETERS,
    SPEED_OF_LIGHT_M_S,
    AkdenizParameters,
    akdeniz_gain,
    akdeniz_gain_db,
    blockage_probability,
    free_space_gain,
    log_distance_gain,
    umi_gain,
    umi_gain_db,
)
from irs_gym.physics.units import (
    THERMAL_NOISE_PSD_DBM_PER_HZ,
    db_to_linear,
    dbm_to_w,
    linear_to_db,
    thermal_noise_dbm,
    w_to_dbm,
)

__all__ = [
    "AKDENIZ_PARAMETERS",
    "EARTH_PARAMETERS",
    "SPEED_OF_LIGHT_M_S",
    "THERMAL_NOISE_PSD_DBM_PER_HZ",
    "AkdenizParameters",
    "EarthParameters",
    "SVPaths",
    "akdeniz_gain",
    "akdeniz_gain_db",
    "angles_rad",
    "blockage_probability",
    "complex_normal",
    "db_to_linear",
    "dbm_to_w",
    "distance_m",
    "earth_input_power_w",
    "free_space_gain",
    "gauss_markov",
    "linear_to_db",
    "log_distance_gain",
    "los_channel",
    "multipath_channel",
    "planar_response",
    "rayleigh",
    "rician",
    "sv_channel",
    "sv_draw_paths",
    "thermal_noise_dbm",
    "ula_response",
    "ula_response_from_sine",
    "umi_gain",
    "umi_gain_db",
    "uniform_annulus",
    "uniform_disc",
    "uniform_sector",
    "unit_direction",
    "upa_response",
    "ura_response",
    "w_to_dbm",
]
