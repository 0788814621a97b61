"""Unit conversions: known values from the specs and round trips."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from irs_gym.physics import db_to_linear, dbm_to_w, linear_to_db, thermal_noise_dbm, w_to_dbm


@pytest.mark.parametrize(
    ("p_dbm", "p_w"),
    [
        (30.0, 1.0),
        (0.0, 1e-3),
        (20.0, 0.1),
        (-90.0, 1e-12),
        (39.0, 7.943282347242814),  # model 000: P = 9 dBW = 39 dBm ~ 7.94 W
    ],
)
def test_dbm_known_values(p_dbm, p_w):
    assert dbm_to_w(p_dbm) == pytest.approx(p_w, rel=1e-12)
    assert w_to_dbm(p_w) == pytest.approx(p_dbm, abs=1e-9)


@pytest.mark.parametrize(
    ("x_db", "x"),
    [(0.0, 1.0), (10.0, 10.0), (-30.0, 1e-3), (3.0, 1.9952623149688795), (15.0, 31.62277660168379)],
)
def test_db_known_values(x_db, x):
    assert db_to_linear(x_db) == pytest.approx(x, rel=1e-12)
    assert linear_to_db(x) == pytest.approx(x_db, abs=1e-9)


@given(st.floats(min_value=1e-30, max_value=1e30))
def test_linear_db_round_trip(x):
    assert db_to_linear(linear_to_db(x)) == pytest.approx(x, rel=1e-12)


@given(st.floats(min_value=-250.0, max_value=120.0))
def test_dbm_w_round_trip(p_dbm):
    assert w_to_dbm(dbm_to_w(p_dbm)) == pytest.approx(p_dbm, abs=1e-9)


def test_scalar_gives_float_and_array_keeps_shape():
    assert isinstance(db_to_linear(3), float)
    assert isinstance(w_to_dbm(2.0), float)
    x = np.linspace(-20.0, 20.0, 12).reshape(3, 4)
    out = dbm_to_w(x)
    assert out.shape == (3, 4)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[10 ** ((v - 30) / 10) for v in row] for row in x])


def test_zero_power_is_minus_infinity_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert linear_to_db(0.0) == -math.inf
        assert w_to_dbm(np.array([0.0, 1.0]))[0] == -math.inf


@pytest.mark.parametrize("func", [linear_to_db, w_to_dbm])
def test_negative_power_rejected(func):
    with pytest.raises(ValueError, match=">= 0"):
        func(np.array([1.0, -1e-3]))


def test_thermal_noise_matches_specs():
    # Model 002: -174 dBm/Hz + 10 log10(10 MHz) + 10 dB NF = -94 dBm.
    assert thermal_noise_dbm(10e6, 10.0) == pytest.approx(-94.0, abs=1e-12)
    # Model 001: -174 + 80 + 9 = -85 dBm, which the author code writes as 3.16e-12 W.
    assert thermal_noise_dbm(100e6, 9.0) == pytest.approx(-85.0, abs=1e-12)
    assert dbm_to_w(thermal_noise_dbm(100e6, 9.0)) == pytest.approx(3.16e-12, rel=1e-3)
    with pytest.raises(ValueError, match="bandwidth_hz"):
        thermal_noise_dbm(0.0)
