"""Model 004 against independent computations: explicit received signals, Monte Carlo,
brute-force quantisation and the SV channel rebuilt path by path."""

import dataclasses
import math

import numpy as np
import pytest

from irs_gym.models import multi_irs as m
from irs_gym.models.tree import tree_index
from irs_gym.physics import free_space_gain

TINY = dict(num_bs_antennas=4, num_elements=(4, 8), num_irs=2, num_users=3)


def random_decision(cfg, rng, batch=()):
    theta = np.exp(2j * np.pi * rng.random((*batch, cfg.total_elements)))
    W = rng.standard_normal((*batch, cfg.num_bs_antennas, cfg.num_users)) + 1j * (
        rng.standard_normal((*batch, cfg.num_bs_antennas, cfg.num_users))
    )
    W = W * math.sqrt(cfg.tx_power_w) / np.linalg.norm(W, axis=(-2, -1), keepdims=True)
    return m.MultiIRSDecision(theta, W)


def received_gains_by_hand(cfg, scen, dec):
    """x[k, j] = hbar_k^H w_j built from per-IRS blocks with explicit diag matrices (spec (4),
    (6)); the implementation instead uses stacked element-wise products."""
    sl = cfg.irs_slices
    K = cfg.num_users
    x = np.zeros((K, K), dtype=complex)
    Th = [np.diag(dec.theta[s]) for s in sl]
    Gs = [scen.G[s, :] for s in sl]
    for k in range(K):
        hks = [scen.h[k, s] for s in sl]  # h_{l,k}
        row = sum(hks[l].conj() @ Th[l] @ Gs[l] for l in range(cfg.num_irs))
        if scen.S is not None:
            row = row + hks[1].conj() @ Th[1] @ scen.S @ Th[0] @ Gs[0]
            if cfg.reverse_path:
                row = row + hks[0].conj() @ Th[0] @ scen.S.T @ Th[1] @ Gs[1]
        for j in range(K):
            x[k, j] = row @ dec.W[:, j]
    return x


@pytest.mark.parametrize("inter_irs,reverse", [(False, False), (True, False), (True, True)])
def test_sinr_matches_received_signal_by_hand(rng, inter_irs, reverse):
    cfg = m.MultiIRSConfig(**TINY, inter_irs=inter_irs, reverse_path=reverse)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    x = received_gains_by_hand(cfg, scen, dec)
    sigma2 = cfg.noise_w
    expected = np.array(
        [
            abs(x[k, k]) ** 2
            / (sum(abs(x[k, j]) ** 2 for j in range(cfg.num_users) if j != k) + sigma2)
            for k in range(cfg.num_users)
        ]
    )
    out = m.metrics(cfg, scen, dec)
    np.testing.assert_allclose(out["sinr"], expected, rtol=1e-10)
    rates = np.log2(1 + expected)
    np.testing.assert_allclose(out["wsr_bps_hz"], rates.sum(), rtol=1e-10)
    np.testing.assert_allclose(out["min_rate_bps_hz"], rates.min(), rtol=1e-10)
    assert out["objective"] == out["wsr_bps_hz"]
    assert bool(out["feasible"]) and out["constraint_violation"] < 1e-9


def test_sinr_matches_monte_carlo(rng):
    """Transmit random symbols through the channel and measure signal and interference."""
    cfg = m.MultiIRSConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    x = received_gains_by_hand(cfg, scen, dec)
    n = 200_000
    K = cfg.num_users
    s = (rng.standard_normal((K, n)) + 1j * rng.standard_normal((K, n))) / math.sqrt(2)
    noise = math.sqrt(cfg.noise_w / 2) * (
        rng.standard_normal((K, n)) + 1j * rng.standard_normal((K, n))
    )
    y = x @ s + noise
    wanted = np.diag(x)[:, None] * s
    sinr_mc = np.mean(np.abs(wanted) ** 2, axis=1) / np.mean(np.abs(y - wanted) ** 2, axis=1)
    np.testing.assert_allclose(m.metrics(cfg, scen, dec)["sinr"], sinr_mc, rtol=0.03)


def test_channels_rebuilt_path_by_path(rng):
    """G_l and h_{l,k} equal sqrt(N_T N_R / P) sqrt(PL) sum_p alpha_p a_R a_T^H from the paths."""
    cfg = m.MultiIRSConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    irs = np.asarray(cfg.irs_positions_m)
    for l, sl in enumerate(cfg.irs_slices):
        paths = scen.bs_irs_paths[l]
        n_r, n_t, P = paths.a_rx.shape[-1], paths.a_tx.shape[-1], paths.gains.shape[-1]
        pl = free_space_gain(np.linalg.norm(irs[l]), cfg.carrier_hz)
        G = sum(paths.gains[p] * np.outer(paths.a_rx[p], paths.a_tx[p].conj()) for p in range(P))
        np.testing.assert_allclose(scen.G[sl], math.sqrt(n_r * n_t / P * pl) * G, rtol=1e-12)
        up = scen.irs_user_paths[l]
        for k in range(cfg.num_users):
            d = np.linalg.norm(scen.user_positions_m[k] - irs[l])
            pl = free_space_gain(d, cfg.carrier_hz)
            row = sum(up.gains[k, p] * up.a_rx[k, p, 0] * up.a_tx[k, p].conj() for p in range(P))
            hH = math.sqrt(up.a_tx.shape[-1] / P * pl) * row
            np.testing.assert_allclose(scen.h[k, sl], hH.conj(), rtol=1e-12)


def test_user_positions_in_disc(rng):
    cfg = m.MultiIRSConfig()
    scen = m.sample_scenario(cfg, rng, (500,))
    r = np.linalg.norm(scen.user_positions_m - np.asarray(cfg.user_center_m), axis=-1)
    assert r.max() <= cfg.user_radius_m
    # area-uniform: P(r < R/2) = 1/4
    assert abs(np.mean(r < cfg.user_radius_m / 2) - 0.25) < 0.03


def test_affine_terms_are_exact(rng):
    """x(theta') = c + theta'_b^T d for any theta' that differs from theta only in block b."""
    cfg = m.MultiIRSConfig(**TINY, inter_irs=True, reverse_path=True)
    scen = m.sample_scenario(cfg, rng)
    ch = m.normalized(cfg, scen)
    dec = random_decision(cfg, rng)
    for block in cfg.irs_slices:
        c, d = m.affine_terms(ch, dec.theta, dec.W, block)
        theta2 = dec.theta.copy()
        theta2[block] = np.exp(2j * np.pi * rng.random(block.stop - block.start))
        x_direct = m.effective_channel(ch, theta2) @ dec.W
        np.testing.assert_allclose(c + d @ theta2[block], x_direct, rtol=1e-10)
    cfg1 = m.MultiIRSConfig(**TINY)
    scen1 = m.sample_scenario(cfg1, rng)
    ch1 = m.normalized(cfg1, scen1)
    c, d = m.affine_terms(ch1, dec.theta, dec.W)
    np.testing.assert_allclose(np.abs(c), 0, atol=1e-9 * np.abs(d).max())


def test_batch_equals_loop(rng):
    cfg = m.MultiIRSConfig(**TINY, inter_irs=True)
    scen = m.sample_scenario(cfg, rng, (3, 2))
    dec = random_decision(cfg, rng, (3, 2))
    batched = m.metrics(cfg, scen, dec)
    for i in range(3):
        for j in range(2):
            single_s = tree_index(scen, (i, j))
            single = m.metrics(cfg, single_s, tree_index(dec, (i, j)))
            for key in ("sinr", "wsr_bps_hz", "min_rate_bps_hz", "power_w"):
                np.testing.assert_allclose(batched[key][i, j], single[key], rtol=1e-12)


def test_quantize_is_nearest_level_by_brute_force(rng):
    theta = np.exp(2j * np.pi * rng.random(200))
    for Q in (2, 3, 4, 8):
        levels = np.exp(2j * np.pi * np.arange(Q) / Q)
        nearest = levels[np.argmin(np.abs(theta[:, None] - levels[None, :]), axis=1)]
        np.testing.assert_allclose(m.quantize_phases(theta, Q), nearest, atol=1e-12)


def test_min_rate_objective_and_weights(rng):
    cfg = m.MultiIRSConfig(**TINY, objective="min_rate", weights=(1.0, 2.0, 0.5))
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    out = m.metrics(cfg, scen, dec)
    rates = np.log2(1 + out["sinr"])
    np.testing.assert_allclose(out["objective"], np.min(rates * [1.0, 2.0, 0.5]))
    np.testing.assert_allclose(out["wsr_bps_hz"], np.sum(rates * [1.0, 2.0, 0.5]))


def test_violation_measures_power_modulus_and_grid(rng):
    cfg = m.MultiIRSConfig(**TINY, phase_levels=4)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    on_grid = m.MultiIRSDecision(m.quantize_phases(dec.theta, 4), dec.W)
    assert m.metrics(cfg, scen, on_grid)["feasible"]
    off_grid = m.metrics(cfg, scen, dec)
    assert not off_grid["feasible"] and off_grid["constraint_violation"] > 1e-3
    over = m.MultiIRSDecision(on_grid.theta, dec.W * math.sqrt(1.21))
    np.testing.assert_allclose(m.metrics(cfg, scen, over)["constraint_violation"], 0.21, rtol=1e-9)


def test_precoders(rng):
    cfg = m.MultiIRSConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    ch = m.normalized(cfg, scen)
    hbar = m.effective_channel(ch, np.exp(2j * np.pi * rng.random(cfg.total_elements)))
    P = cfg.tx_power_w
    for W in (m.mrt_precoder(hbar, P), m.zf_precoder(hbar, P), m.mmse_precoder(hbar, P)):
        np.testing.assert_allclose(np.linalg.norm(W) ** 2, P, rtol=1e-12)
    x = hbar @ m.zf_precoder(hbar, P)
    off = x - np.diag(np.diag(x))
    assert np.abs(off).max() < 1e-10 * np.abs(np.diag(x)).min()
    # MMSE = (H^H H + K/P I)^-1 H^H up to scale, checked through the push-through identity
    # H^H (H H^H + K/P I)^-1.
    W_alt = hbar.conj().T @ np.linalg.inv(hbar @ hbar.conj().T + cfg.num_users / P * np.eye(3))
    W_alt *= math.sqrt(P) / np.linalg.norm(W_alt)
    np.testing.assert_allclose(m.mmse_precoder(hbar, P), W_alt, rtol=1e-8)


def test_blockage_frequency_matches_law(rng):
    cfg = m.MultiIRSConfig(**TINY, blockage_prob=0.1)
    scen = m.sample_scenario(cfg, rng, (4000,))
    d_bi = np.linalg.norm(np.asarray(cfg.irs_positions_m), axis=-1)
    expected = 1 - (1 - 0.1) ** (d_bi / cfg.blockage_unit_m)
    np.testing.assert_allclose(scen.blocked_bs_irs.mean(axis=0), expected, atol=0.025)
    blocked = scen.blocked_bs_irs[:, 0]
    assert np.all(scen.G[blocked][:, cfg.irs_slices[0]] == 0)
    assert np.all(np.abs(scen.G[~blocked][:, cfg.irs_slices[0]]).max(axis=(-2, -1)) > 0)


def test_per_irs_bs_link_blockage(rng):
    """blockage_prob_bs_irs: each BS-IRS link follows its own p, the IRS-user links keep
    blockage_prob, and with p = 0 the draws equal those of the scalar p = 0 config."""
    cfg = m.MultiIRSConfig(**TINY, blockage_prob_bs_irs=(0.0, 0.2))
    scen = m.sample_scenario(cfg, rng, (4000,))
    d_bi = np.linalg.norm(np.asarray(cfg.irs_positions_m), axis=-1)
    expected = np.array([0.0, 1 - 0.8 ** (d_bi[1] / cfg.blockage_unit_m)])
    np.testing.assert_allclose(scen.blocked_bs_irs.mean(axis=0), expected, atol=0.025)
    assert not scen.blocked_irs_user.any()
    assert np.all(scen.G[scen.blocked_bs_irs[:, 1]][:, cfg.irs_slices[1]] == 0)
    zero = m.MultiIRSConfig(**TINY, blockage_prob_bs_irs=(0.0, 0.0))
    a = m.sample_scenario(zero, np.random.default_rng(3))
    b = m.sample_scenario(m.MultiIRSConfig(**TINY), np.random.default_rng(3))
    np.testing.assert_array_equal(a.G, b.G)


def test_all_blocked_gives_zero_rate_and_finite_default(rng):
    cfg = m.MultiIRSConfig(**TINY, blockage_prob=1.0)
    scen = m.sample_scenario(cfg, rng)
    dec = m.default_decision(cfg, scen)
    out = m.metrics(cfg, scen, dec)
    assert out["wsr_bps_hz"] == 0.0 and np.isfinite(dec.W).all()
    np.testing.assert_allclose(out["power_w"], cfg.tx_power_w)


def test_markov_evolution(rng):
    cfg = m.MultiIRSConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    same = m.evolve_scenario(cfg, scen, rng, 1.0)
    np.testing.assert_allclose(same.G, scen.G)
    np.testing.assert_allclose(same.h, scen.h)
    batch = m.sample_scenario(cfg, rng, (20000,))
    nxt = m.evolve_scenario(cfg, batch, rng, 0.6)
    a, b = batch.bs_irs_paths[0].gains, nxt.bs_irs_paths[0].gains
    corr = np.mean(np.conj(a) * b) / np.sqrt(np.mean(np.abs(a) ** 2) * np.mean(np.abs(b) ** 2))
    assert abs(corr - 0.6) < 0.02
    np.testing.assert_array_equal(nxt.user_positions_m, batch.user_positions_m)


def test_observation_is_order_one(rng):
    cfg = m.MultiIRSConfig(inter_irs=True)
    scen = m.sample_scenario(cfg, rng, (200,))
    obs = m.observation(cfg, scen)
    assert obs.shape == (200, m.observation_size(cfg))
    rms = np.sqrt(np.mean(obs**2))
    assert 0.2 < rms < 5.0


@pytest.mark.parametrize(
    "field,value",
    [
        ("num_users", 0),
        ("num_bs_antennas", 6),
        ("num_elements", 30),
        ("tx_power_dbm", 1e9),
        ("phase_levels", 1),
        ("objective", "sum"),
        ("blockage_prob", 1.5),
        ("blockage_prob_bs_irs", (0.1,)),  # one value for two IRSs
        ("blockage_prob_bs_irs", (0.1, 2.0)),
        ("num_irs", 0),
        ("weights", (1.0, -1.0, 1.0, 1.0)),
        ("carrier_hz", -1.0),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        m.MultiIRSConfig(**{field: value})


def test_config_cross_field_errors():
    with pytest.raises(ValueError, match="inter_irs"):
        m.MultiIRSConfig(num_irs=1, inter_irs=True)
    with pytest.raises(ValueError, match="reverse_path"):
        m.MultiIRSConfig(reverse_path=True)
    with pytest.raises(ValueError, match="irs_positions_m"):
        m.MultiIRSConfig(num_irs=3)
    cfg = m.MultiIRSConfig(num_elements=(8, 24))
    assert cfg.total_elements == 32 and cfg.irs_slices[1] == slice(8, 32)
    assert dataclasses.replace(cfg, num_users=2).num_users == 2
