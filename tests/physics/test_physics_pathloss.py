"""Path-loss laws against numbers computed by hand from the specs' formulas and tables."""

import math

import numpy as np
import pytest

from irs_gym.physics import (
    akdeniz_gain,
    akdeniz_gain_db,
    blockage_probability,
    free_space_gain,
    linear_to_db,
    log_distance_gain,
    umi_gain,
    umi_gain_db,
)

C = 299_792_458.0


def test_free_space_known_values():
    # Model 004: f_c = 3 GHz. 20 log10(c / (4 pi f d)) at 100 m = -81.99 dB.
    assert linear_to_db(free_space_gain(100.0, 3e9)) == pytest.approx(-81.99, abs=0.005)
    d = np.array([1.0, 10.0, 37.0, 1000.0])
    expected = [(C / (4 * math.pi * 3e9 * x)) ** 2 for x in d]
    np.testing.assert_allclose(free_space_gain(d, 3e9), expected, rtol=1e-13)
    # 20 dB per decade of distance and of frequency.
    assert free_space_gain(1000.0, 3e9) / free_space_gain(100.0, 3e9) == pytest.approx(0.01)
    assert free_space_gain(100.0, 30e9) / free_space_gain(100.0, 3e9) == pytest.approx(0.01)


def test_log_distance_models_000_and_003():
    # Model 000: PL(d) = -30 - 25 log10(d) dB; model 003: C0 = -30 dB, exponent 2.2.
    assert linear_to_db(log_distance_gain(50.0, -30.0, 2.5)) == pytest.approx(
        -30 - 25 * math.log10(50), abs=1e-10
    )
    assert log_distance_gain(50.0, -30.0, 2.5) == pytest.approx(1e-3 * 50**-2.5, rel=1e-12)
    assert log_distance_gain(30.0, -30.0, 2.2) == pytest.approx(10 ** (-62.49667 / 10), rel=1e-6)
    assert log_distance_gain(20.0, -30.0, 2.0, ref_distance_m=2.0) == pytest.approx(1e-5)
    # Model 000 clips distances to d0 = 1 m, so the gain never exceeds PL0.
    gains = log_distance_gain(np.array([0.2, 1.0, 2.0]), -30.0, 2.5, min_distance_m=1.0)
    np.testing.assert_allclose(gains, [1e-3, 1e-3, 1e-3 * 2**-2.5])
    assert log_distance_gain(0.2, -30.0, 2.5) > 1e-3  # no hidden clipping by default


def test_umi_by_hand_at_3ghz():
    f_ghz = 3.0
    for d in (10.0, 100.0, 237.0):
        los_db = 15.0 - 28.0 - 20 * math.log10(f_ghz) - 22.0 * math.log10(d)
        nlos_db = 15.0 - 22.7 - 26 * math.log10(f_ghz) - 36.7 * math.log10(d)
        assert umi_gain_db(d, 3e9, True, antenna_gain_db=15.0) == pytest.approx(los_db, abs=1e-10)
        assert umi_gain_db(d, 3e9, False, antenna_gain_db=15.0) == pytest.approx(nlos_db, abs=1e-10)
        assert umi_gain(d, 3e9, True, antenna_gain_db=15.0) == pytest.approx(
            10 ** (los_db / 10), rel=1e-10
        )
    # Model 002 eq. (18) prints the 3 GHz constants rounded: -37.5 and -35.1 dB at 1 m.
    assert umi_gain_db(100.0, 3e9, True) == pytest.approx(-37.5 - 44.0, abs=0.05)
    assert umi_gain_db(100.0, 3e9, False) == pytest.approx(-35.1 - 73.4, abs=0.05)


def test_umi_clipping_and_broadcasting():
    # The law holds for d >= 10 m (model 002): by default closer links get the 10 m gain.
    assert umi_gain_db(3.0, 3e9, True) == umi_gain_db(10.0, 3e9, True)
    assert umi_gain_db(3.0, 3e9, True, min_distance_m=None) > umi_gain_db(10.0, 3e9, True)
    d = np.array([[20.0], [200.0]])
    los = np.array([True, False, True])
    g = umi_gain_db(d, 3e9, los)
    assert g.shape == (2, 3)
    np.testing.assert_allclose(g[:, 0], g[:, 2])
    assert np.all(g[:, 1] < g[:, 0])


def test_akdeniz_median_by_hand():
    # PL = alpha + 10 beta log10(d); gain = -PL dB (model 001 eqs. (60)-(61)).
    cases = [
        (28, True, 61.4, 2.0),
        (28, False, 72.0, 2.92),
        (73, True, 69.8, 2.0),
        (73, False, 86.6, 2.45),
    ]
    for f, los, alpha, beta in cases:
        for d in (10.0, 60.0):
            expected = -(alpha + 10 * beta * math.log10(d))
            assert akdeniz_gain_db(d, f, los) == pytest.approx(expected, abs=1e-10)
            assert akdeniz_gain(d, f, los) == pytest.approx(10 ** (expected / 10), rel=1e-10)
    assert akdeniz_gain_db(60.0, 28, True) == pytest.approx(-96.963, abs=1e-3)


def test_akdeniz_budget_example_of_spec_001():
    # Spec 001 section 2: the direct NLoS link at 60 m with N = 8, L = 2 and
    # G_t = G_r = 9.82 dBi is "about -92 dB".
    total_db = akdeniz_gain_db(60.0, 28, False) + 2 * 9.82 + 10 * math.log10(8 * 2)
    assert total_db == pytest.approx(-92.0, abs=0.5)


@pytest.mark.parametrize(("los", "sigma"), [(True, 5.8), (False, 8.7)])
def test_akdeniz_shadowing_statistics(los, sigma):
    n = 40_000
    d = np.full(n, 60.0)
    g_db = akdeniz_gain_db(d, 28, los, np.random.default_rng(11))
    median = akdeniz_gain_db(60.0, 28, los)
    assert abs(g_db.mean() - median) < 5 * sigma / math.sqrt(n)
    assert abs(g_db.std(ddof=1) - sigma) < 5 * sigma / math.sqrt(2 * n)
    # Linear gain: E[10^(X/10)] = median * exp(s^2 / 2) with s = sigma ln(10) / 10.
    s = sigma * math.log(10) / 10
    g_lin = akdeniz_gain(d, 28, los, np.random.default_rng(11))
    np.testing.assert_allclose(g_lin, 10 ** (g_db / 10), rtol=1e-12)
    rel_se = math.sqrt(math.exp(s * s) - 1) / math.sqrt(n)
    assert g_lin.mean() / (10 ** (median / 10) * math.exp(s * s / 2)) == pytest.approx(
        1.0, abs=5 * rel_se
    )


def test_akdeniz_shadowing_switches():
    rng = np.random.default_rng(3)
    state = rng.bit_generator.state
    median = akdeniz_gain_db(60.0, 73, False)
    assert akdeniz_gain_db(60.0, 73, False, rng, shadowing_std_db=0.0) == median
    assert rng.bit_generator.state == state  # nothing drawn when shadowing is off
    g = akdeniz_gain_db(np.full(4, 60.0), 73, False, rng, shadowing_std_db=2.0)
    assert g.shape == (4,)
    assert np.all(g != median)
    # Per-entry LoS flags select the row (and its sigma).
    mixed = akdeniz_gain_db(np.array([60.0, 60.0]), 28, np.array([True, False]))
    np.testing.assert_allclose(
        mixed, [akdeniz_gain_db(60.0, 28, True), akdeniz_gain_db(60.0, 28, False)]
    )


@pytest.mark.parametrize("bad", [0.0, -5.0, math.nan])
def test_distance_validation(bad):
    d = np.array([10.0, bad])
    for call in (
        lambda: free_space_gain(d, 3e9),
        lambda: log_distance_gain(d, -30.0, 2.5),
        lambda: umi_gain(d, 3e9, True),
        lambda: akdeniz_gain(d, 28, True),
    ):
        with pytest.raises(ValueError, match=r"distance_m must be > 0 m"):
            call()


def test_frequency_validation():
    with pytest.raises(ValueError, match=r"carrier_hz must be > 0 Hz"):
        free_space_gain(10.0, 0.0)
    with pytest.raises(ValueError, match=r"carrier_hz must be > 0 Hz"):
        umi_gain_db(10.0, -3e9, True)
    with pytest.raises(ValueError, match=r"carrier_ghz must be > 0 GHz"):
        akdeniz_gain(10.0, 0.0, True)
    with pytest.raises(ValueError, match=r"28 or 73"):
        akdeniz_gain(10.0, 60.0, True)
    with pytest.raises(ValueError, match="min_distance_m"):
        free_space_gain(10.0, 3e9, min_distance_m=0.0)


def test_blockage_probability():
    d = np.array([10.0, 20.0, 35.0])
    np.testing.assert_allclose(
        blockage_probability(d, 0.1, 10.0), [0.1, 1 - 0.9**2, 1 - 0.9**3.5], rtol=1e-12
    )
    np.testing.assert_array_equal(blockage_probability(d, 0.0, 10.0), 0.0)
    with pytest.raises(ValueError, match="prob_per_unit"):
        blockage_probability(d, 1.5, 10.0)
