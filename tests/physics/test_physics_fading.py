"""Fading draws: Monte Carlo moments with tolerances from the standard error."""

import math

import numpy as np
import pytest

from irs_gym.physics import (
    SVPaths,
    complex_normal,
    gauss_markov,
    los_channel,
    multipath_channel,
    rayleigh,
    rician,
    sv_channel,
    sv_draw_paths,
    ula_response,
    upa_response,
)

N_MC = 200_000


def test_complex_normal_moments():
    v = 2.5
    x = complex_normal(np.random.default_rng(0), (N_MC,), v)
    assert x.dtype == np.complex128
    assert x.shape == (N_MC,)
    # |x|^2 ~ Exp(mean v): standard error v / sqrt(n).
    assert abs(np.mean(np.abs(x) ** 2) - v) < 5 * v / math.sqrt(N_MC)
    # Circular symmetry: Re and Im each carry v/2 and E[x^2] = 0.
    assert abs(np.var(x.real) - v / 2) < 5 * (v / 2) * math.sqrt(2 / N_MC)
    assert abs(np.var(x.imag) - v / 2) < 5 * (v / 2) * math.sqrt(2 / N_MC)
    assert abs(np.mean(x * x)) < 5 * v / math.sqrt(N_MC)
    assert abs(np.mean(x)) < 5 * math.sqrt(v / N_MC)


def test_complex_normal_per_entry_variance_and_validation():
    v = np.array([1e-6, 1.0, 4.0])
    x = complex_normal(np.random.default_rng(1), (N_MC // 4, 3), v)
    power = np.mean(np.abs(x) ** 2, axis=0)
    np.testing.assert_allclose(power, v, rtol=5 / math.sqrt(N_MC // 4))
    with pytest.raises(ValueError, match="variance"):
        complex_normal(np.random.default_rng(0), 3, -1.0)
    assert complex_normal(np.random.default_rng(0), 4).shape == (4,)


def test_rayleigh_is_unit_power_and_seeded():
    a = rayleigh(np.random.default_rng(5), (N_MC,))
    assert abs(np.mean(np.abs(a) ** 2) - 1) < 5 / math.sqrt(N_MC)
    b = rayleigh(np.random.default_rng(5), (3, 2))
    np.testing.assert_array_equal(b, rayleigh(np.random.default_rng(5), (3, 2)))
    assert not np.allclose(b, rayleigh(np.random.default_rng(6), (3, 2)))


@pytest.mark.parametrize("k_factor", [0.5, 3.0, 10.0])
def test_rician_k_factor_and_power(k_factor):
    # Unit-modulus LoS (an unnormalised ULA response, as in model 000).
    los = ula_response(8, 0.4, normalized=False)
    n = N_MC // 8
    x = rician(np.random.default_rng(2), los, k_factor, shape=(n, 8))
    assert x.shape == (n, 8)
    mean = x.mean(axis=0)
    np.testing.assert_allclose(
        mean, math.sqrt(k_factor / (k_factor + 1)) * los, atol=5 / math.sqrt(n * (k_factor + 1))
    )
    var = np.mean(np.abs(x - mean) ** 2, axis=0)
    k_hat = np.abs(mean) ** 2 / var
    # Relative SE of var ~ 1/sqrt(n), averaged over 8 elements.
    assert abs(k_hat.mean() - k_factor) < 5 * k_factor / math.sqrt(8 * n) + 0.01
    assert abs(np.mean(np.abs(x) ** 2) - 1.0) < 5 * math.sqrt(2 / (8 * n))


def test_rician_limits_and_matrix_los():
    rng = np.random.default_rng(3)
    los = los_channel(
        ula_response(4, 0.2, normalized=False), ula_response(2, -0.5, normalized=False)
    )
    np.testing.assert_allclose(rician(rng, los, np.inf), los)
    x = rician(rng, los, 3.0)
    assert x.shape == (4, 2)
    z = rician(rng, 1.0, 0.0, shape=(N_MC,))  # K = 0 is Rayleigh
    assert abs(np.mean(z)) < 5 / math.sqrt(N_MC)
    assert abs(np.mean(np.abs(z) ** 2) - 1) < 5 / math.sqrt(N_MC)
    with pytest.raises(ValueError, match="k_factor"):
        rician(rng, los, -1.0)


def test_multipath_channel_matches_explicit_sum():
    rng = np.random.default_rng(4)
    g = rayleigh(rng, (2, 3))
    a_r = upa_response(2, 3, rng.uniform(0, 6, (2, 3)), rng.uniform(0, 3, (2, 3)))
    a_t = ula_response(5, rng.uniform(-1, 1, (2, 3)))
    h = multipath_channel(g, a_r, a_t)
    assert h.shape == (2, 6, 5)
    for b in range(2):
        expected = sum(g[b, p] * np.outer(a_r[b, p], a_t[b, p].conj()) for p in range(3))
        np.testing.assert_allclose(h[b], expected, atol=1e-14)
    v = multipath_channel(g, a_r)  # single-antenna transmitter
    assert v.shape == (2, 6)
    for b in range(2):
        np.testing.assert_allclose(v[b], sum(g[b, p] * a_r[b, p] for p in range(3)), atol=1e-14)
    with pytest.raises(ValueError, match="a_rx"):
        multipath_channel(g, a_r[:, :2])


def test_sv_shapes_seed_and_formula():
    paths = sv_draw_paths(np.random.default_rng(7), (5, 2), 3, (2, 4), (4, 4))
    assert isinstance(paths, SVPaths)
    assert paths.gains.shape == (5, 2, 3)
    assert paths.a_rx.shape == (5, 2, 3, 8)
    assert paths.a_tx.shape == (5, 2, 3, 16)
    assert (paths.n_paths, paths.n_rx, paths.n_tx) == (3, 8, 16)
    again = sv_draw_paths(np.random.default_rng(7), (5, 2), 3, (2, 4), (4, 4))
    np.testing.assert_array_equal(paths.a_tx, again.a_tx)
    pl = 1e-7
    x = sv_channel(paths, pl)
    assert x.shape == (5, 2, 8, 16)
    # eq. (44) written out path by path.
    b = (3, 1)
    expected = (
        math.sqrt(8 * 16 / 3)
        * math.sqrt(pl)
        * sum(
            paths.gains[b][p] * np.outer(paths.a_rx[b][p], paths.a_tx[b][p].conj())
            for p in range(3)
        )
    )
    np.testing.assert_allclose(x[b], expected, rtol=1e-12, atol=1e-20)
    # At most P paths: rank <= 3 although the matrix is 8 x 16.
    assert np.all(np.linalg.matrix_rank(x.reshape(-1, 8, 16), tol=1e-12 * math.sqrt(pl)) <= 3)


def test_sv_single_antenna_end():
    paths = sv_draw_paths(np.random.default_rng(8), (4,), 3, (1, 1), (4, 8))
    np.testing.assert_array_equal(paths.a_rx, np.ones((4, 3, 1)))
    h = sv_channel(paths, 1.0)
    assert h.shape == (4, 1, 32)


def test_sv_mean_entry_power_equals_path_gain():
    n = 20_000
    rng = np.random.default_rng(9)
    paths = sv_draw_paths(rng, (n,), 3, (2, 2), (4, 2))
    pl = np.where(np.arange(n) % 2 == 0, 1e-6, 4e-6)  # broadcast over the batch
    x = sv_channel(paths, pl)
    power = np.abs(x) ** 2 / pl[:, None, None]
    # Entries of unit-modulus responses times CN(0,1) gains are CN(0,1): SE 1/sqrt(n).
    np.testing.assert_allclose(power.mean(axis=0), 1.0, atol=5 / math.sqrt(n))
    assert abs(power.mean() - 1.0) < 5 / math.sqrt(n)  # entries are correlated, so no sqrt(32)


def test_sv_validation():
    with pytest.raises(ValueError, match="rx_shape"):
        sv_draw_paths(np.random.default_rng(0), (2,), 3, (0, 4), (1, 1))
    with pytest.raises(ValueError, match="n_paths"):
        sv_draw_paths(np.random.default_rng(0), (2,), 0, (1, 4), (1, 1))
    with pytest.raises(ValueError, match="SVPaths"):
        SVPaths(np.zeros((2, 3)), np.zeros((2, 2, 4)), np.zeros((2, 3, 4)))
    paths = sv_draw_paths(np.random.default_rng(0), (2,), 3, (1, 4), (1, 1))
    with pytest.raises(ValueError, match="power_gain"):
        sv_channel(paths, -1.0)


@pytest.mark.parametrize(("rho", "variance"), [(0.0, 1.0), (0.8, 1.0), (0.95, 3.0)])
def test_gauss_markov_variance_and_correlation(rho, variance):
    rng = np.random.default_rng(10)
    x0 = complex_normal(rng, (N_MC,), variance)
    x1 = gauss_markov(rng, x0, rho, variance)
    assert x1.shape == x0.shape
    assert x1.dtype == np.complex128
    assert abs(np.mean(np.abs(x1) ** 2) / variance - 1) < 5 / math.sqrt(N_MC)
    corr = np.mean(x1 * x0.conj()) / variance
    assert abs(corr - rho) < 5 / math.sqrt(N_MC)
    # Two steps: lag-2 correlation rho^2.
    x2 = gauss_markov(rng, x1, rho, variance)
    assert abs(np.mean(x2 * x0.conj()) / variance - rho**2) < 5 / math.sqrt(N_MC)


def test_gauss_markov_limits_and_validation():
    rng = np.random.default_rng(11)
    x = rayleigh(rng, (3, 4))
    np.testing.assert_array_equal(gauss_markov(rng, x, 1.0), x)
    for bad in (-0.1, 1.1, math.nan):
        with pytest.raises(ValueError, match="rho"):
            gauss_markov(rng, x, bad)
