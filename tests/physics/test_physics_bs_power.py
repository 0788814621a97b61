"""The EARTH base-station power model against Auer et al. (2011) by hand."""

import numpy as np
import pytest

from irs_gym.physics.bs_power import EARTH_PARAMETERS, earth_input_power_w


def test_macro_values_by_hand():
    macro = EARTH_PARAMETERS["macro"]
    # full load: 6 (130 + 4.7 * 20) = 1344 W; half load: 6 (130 + 4.7 * 10) = 1062 W
    assert earth_input_power_w(1.0, macro) == pytest.approx(1344.0)
    assert earth_input_power_w(0.5, macro) == pytest.approx(1062.0)
    assert earth_input_power_w(0.0, macro) == pytest.approx(6 * 75.0)  # sleep mode


def test_linear_in_load_above_zero_for_every_type():
    chi = np.array([0.1, 0.4, 1.0])
    for params in EARTH_PARAMETERS.values():
        p = earth_input_power_w(chi, params)
        slope = params.num_trx * params.load_slope * params.max_power_w
        np.testing.assert_allclose(np.diff(p) / np.diff(chi), slope, rtol=1e-12)
        assert earth_input_power_w(1e-9, params) > params.num_trx * params.sleep_power_w


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_load_out_of_range_raises(bad):
    with pytest.raises(ValueError, match="load"):
        earth_input_power_w(np.array([0.5, bad]), EARTH_PARAMETERS["micro"])
