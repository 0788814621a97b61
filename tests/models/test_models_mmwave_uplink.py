"""Model 001 against independent computations: channels rebuilt path by path, SINRs from the
received signal written out, the power fixed point against a linear solve and the plain
iteration (18), MVDR against a generalised eigensolver, the inner loop against the joint
(Yates) power iteration, Monte Carlo statistics of the channel draws."""

import dataclasses
import math

import numpy as np
import pytest
import scipy.linalg

from irs_gym.models import mmwave_uplink as m
from irs_gym.physics import akdeniz_gain, ula_response

TINY = dict(num_ap_antennas=4, elements_h=3, elements_v=2)


def random_theta(cfg, rng, batch=()):
    return np.exp(2j * np.pi * rng.random((*batch, cfg.num_elements)))


# Channels ---------------------------------------------------------------------------------
def test_geometry_angles_and_ura_from_direction_cosines():
    cfg = m.MmWaveUplinkConfig()
    geo = m._geometry(cfg)
    # user 1 on the AP's broadside axis, user 2 at sin(psi) = 20 / |(50, 20)|
    np.testing.assert_allclose(geo.psi_user_rad, [0.0, math.asin(20 / math.hypot(50, 20))])
    np.testing.assert_allclose(geo.psi_irs_rad, math.asin(5 / math.hypot(75, 5)))
    # IRS in the plane x = 75, rows along y: phase of element (m_h, m_v) = pi m_h u_y
    u_y = (0.0 - 5.0) / math.hypot(75, 5)  # IRS -> AP
    mh, _ = np.meshgrid(np.arange(cfg.elements_h), np.arange(cfg.elements_v), indexing="ij")
    expected = np.exp(1j * np.pi * mh * u_y).ravel() / math.sqrt(cfg.num_elements)
    np.testing.assert_allclose(geo.a_irs_ap, expected, atol=1e-12)


def test_channels_rebuilt_path_by_path(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=2, blockage_prob=(0.0, 1.0))
    s = m.sample_scenario(cfg, rng)
    N, M, Nu, L = 4, 6, 2, cfg.num_nlos_paths
    g_t = g_r = 10 ** (9.82 / 10)
    g_irs = 10**1.5
    for k in range(2):
        H = np.zeros((N, Nu), complex)
        for path in range(L + 1):
            if (path == 0) != bool(s.los[k]):
                continue  # LoS-only when available, NLoS-only when blocked
            alpha = s.direct_gains[k, path] * math.sqrt(s.direct_power[k, path])
            a_n = ula_response(N, s.direct_aoa_rad[k, path])
            a_u = ula_response(Nu, s.user_aod_rad[k, path])
            H += math.sqrt(N * Nu * g_t * g_r) * alpha * np.outer(a_n, a_u.conj())
        np.testing.assert_allclose(s.H_d[k], H, rtol=1e-12, atol=1e-20)
    assert s.los[0] and not s.los[1]
    geo = m._geometry(cfg)
    alpha_g = s.ap_irs_gain * math.sqrt(s.ap_irs_power)
    G = (
        math.sqrt(N * M * g_r * g_irs)
        * alpha_g
        * np.outer(ula_response(N, geo.psi_irs_rad), geo.a_irs_ap.conj())
    )
    np.testing.assert_allclose(s.G, G, rtol=1e-12)
    assert np.linalg.matrix_rank(s.G) == 1
    for k in range(2):
        alpha = s.irs_gains[k] * math.sqrt(s.irs_power[k])
        a_u = ula_response(Nu, s.user_aod_rad[k, L + 1])
        Hr = math.sqrt(M * Nu * g_t) * alpha * np.outer(geo.a_irs_user[k], a_u.conj())
        np.testing.assert_allclose(s.H_r_est[k], Hr, rtol=1e-12)
    np.testing.assert_array_equal(s.H_r, s.H_r_est)  # delta = 0


def test_author_code_gain_convention_adds_gt_gr_to_the_cascade(rng):
    base = m.MmWaveUplinkConfig(**TINY)
    author = dataclasses.replace(base, author_code_gain_convention=True)
    s0 = m.sample_scenario(base, np.random.default_rng(1))
    s1 = m.sample_scenario(author, np.random.default_rng(1))
    theta = random_theta(base, rng)
    cascade = lambda s: s.G @ (theta[:, None] * s.H_r[..., 0].T)  # noqa: E731
    ratio = np.abs(cascade(s1)) ** 2 / np.abs(cascade(s0)) ** 2
    np.testing.assert_allclose(ratio, 10 ** (2 * 9.82 / 10), rtol=1e-10)
    np.testing.assert_array_equal(s0.H_d, s1.H_d)


def test_path_gain_statistics_monte_carlo():
    """Without shadowing, E|alpha|^2 = PL(d): the LoS direct entries have mean power
    PL G_t G_r, and the blocked fraction is p_b."""
    cfg = m.MmWaveUplinkConfig(**TINY, num_users=1, blockage_prob=0.3, shadowing=False)
    s = m.sample_scenario(cfg, np.random.default_rng(7), (20000,))
    assert abs((~s.los).mean() - 0.3) < 0.02
    d = math.hypot(60, 0)
    g = 10 ** (2 * 9.82 / 10)
    los_power = np.mean(np.abs(s.H_d[s.los[:, 0], 0]) ** 2)
    np.testing.assert_allclose(los_power, akdeniz_gain(d, 28, True) * g, rtol=0.05)
    # the observation's scale makes those entries unit-power on average
    obs = m.observation(cfg, s)
    n = cfg.num_ap_antennas
    block = obs[:, :n] ** 2 + obs[:, n : 2 * n] ** 2
    np.testing.assert_allclose(block[s.los[:, 0]].mean(), 1.0, rtol=0.05)
    nlos_power = np.mean(np.abs(s.H_d[~s.los[:, 0], 0]) ** 2)
    expected = cfg.num_nlos_paths * akdeniz_gain(d, 28, False) * g
    np.testing.assert_allclose(nlos_power, expected, rtol=0.05)


def test_shadowing_spreads_the_path_loss_by_sigma():
    cfg = m.MmWaveUplinkConfig(**TINY, num_users=1)
    s = m.sample_scenario(cfg, np.random.default_rng(3), (20000,))
    db = 10 * np.log10(s.irs_power[:, 0])
    np.testing.assert_allclose(np.std(db), 5.8, rtol=0.03)
    d = math.hypot(15, 5)
    np.testing.assert_allclose(np.mean(db), -(61.4 + 20 * math.log10(d)), atol=0.15)


def test_csi_error_has_the_bounded_norm_and_no_bias():
    cfg = m.MmWaveUplinkConfig(**TINY, csi_uncertainty=0.2, num_user_antennas=2)
    s = m.sample_scenario(cfg, np.random.default_rng(5), (4000,))
    err = s.H_r - s.H_r_est
    np.testing.assert_allclose(
        np.linalg.norm(err, axis=(-2, -1)), 0.2 * np.linalg.norm(s.H_r_est, axis=(-2, -1))
    )
    direction = err / np.linalg.norm(err, axis=(-2, -1), keepdims=True)
    assert np.abs(direction.mean(axis=0)).max() < 0.05  # uniform on the sphere: mean 0
    # the estimates do not depend on delta (same draws)
    exact = dataclasses.replace(cfg, csi_uncertainty=0.0)
    s0 = m.sample_scenario(exact, np.random.default_rng(5), (4000,))
    np.testing.assert_array_equal(s0.H_r_est, s.H_r_est)
    np.testing.assert_array_equal(s0.H_r, s0.H_r_est)


def test_irs_switch_and_draws_are_shared():
    cfg = m.MmWaveUplinkConfig(**TINY)
    on = m.sample_scenario(cfg, np.random.default_rng(9), (3,))
    off = m.sample_scenario(
        dataclasses.replace(cfg, irs_enabled=False), np.random.default_rng(9), (3,)
    )
    np.testing.assert_array_equal(on.H_d, off.H_d)
    np.testing.assert_array_equal(on.H_r, off.H_r)
    assert not off.G.any() and on.G.any()


def test_batched_sampling_matches_fields_and_evolve(rng):
    cfg = m.MmWaveUplinkConfig(**TINY)
    s = m.sample_scenario(cfg, rng, (5, 2))
    assert s.H_d.shape == (5, 2, 2, 4, 1) and s.G.shape == (5, 2, 4, 6)
    assert s.H_r.shape == (5, 2, 2, 6, 1) and s.data_nats.shape == (5, 2, 2)
    assert np.all((s.data_nats >= 1e6) & (s.data_nats <= 5e6))
    frozen = m.evolve_scenario(cfg, s, rng, 1.0)
    np.testing.assert_array_equal(frozen.H_d, s.H_d)
    np.testing.assert_array_equal(frozen.G, s.G)
    big = m.sample_scenario(cfg, np.random.default_rng(1), (20000,))
    fresh = m.evolve_scenario(cfg, big, np.random.default_rng(2), 0.3)
    corr = np.mean(fresh.irs_gains * big.irs_gains.conj()) / np.mean(np.abs(big.irs_gains) ** 2)
    assert abs(corr - 0.3) < 0.03
    np.testing.assert_array_equal(fresh.los, big.los)


# Signal model -----------------------------------------------------------------------------
def received_sinr_by_hand(cfg, s, dec):
    """(9) with the effective channels written as (H_d + G diag(theta) H_r) w, explicit
    diag matrix, physical units (noise sigma^2)."""
    K = cfg.num_users
    h = [(s.H_d[k] + s.G @ np.diag(dec.theta) @ s.H_r[k]) @ dec.beamformers[k] for k in range(K)]
    out = []
    for k in range(K):
        u = dec.detectors[k]
        signal = dec.power_w[k] * abs(np.vdot(u, h[k])) ** 2
        interference = sum(dec.power_w[j] * abs(np.vdot(u, h[j])) ** 2 for j in range(K) if j != k)
        out.append(signal / (interference + cfg.noise_w * np.vdot(u, u).real))
    return np.array(out)


def random_decision(cfg, rng, batch=()):
    K, N, Nu = cfg.num_users, cfg.num_ap_antennas, cfg.num_user_antennas
    U = rng.standard_normal((*batch, K, N)) + 1j * rng.standard_normal((*batch, K, N))
    w = rng.standard_normal((*batch, K, Nu)) + 1j * rng.standard_normal((*batch, K, Nu))
    w /= np.linalg.norm(w, axis=-1, keepdims=True)
    p = rng.uniform(1e-3, 1.0, (*batch, K))
    return m.MmWaveUplinkDecision(random_theta(cfg, rng, batch), p, U, w)


@pytest.mark.parametrize("nu", [1, 3])
def test_sinr_rate_latency_match_the_received_signal(rng, nu):
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=nu, blockage_prob=0.5)
    s = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    expected = received_sinr_by_hand(cfg, s, dec)
    out = m.metrics(cfg, s, dec)
    np.testing.assert_allclose(out["sinr"], expected, rtol=1e-10)
    rate_nats = 100e6 * np.log(1 + expected)
    np.testing.assert_allclose(out["latency_s"], s.data_nats / rate_nats, rtol=1e-10)
    np.testing.assert_allclose(out["sum_rate_bps"], np.sum(100e6 * np.log2(1 + expected)))
    np.testing.assert_allclose(out["objective"], 10 * np.log10(dec.power_w.sum()) + 30)
    shortfall = np.sum(np.maximum(1 - expected / out["target_sinr"], 0))
    np.testing.assert_allclose(out["constraint_violation"], shortfall, rtol=1e-9, atol=1e-12)


def test_cascade_matrix_gives_the_effective_channel(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=2)
    s = m.sample_scenario(cfg, rng)
    ch = m.normalized(cfg, s)
    dec = random_decision(cfg, rng)
    phi = m.cascade_matrix(ch, dec.beamformers)
    v = np.append(dec.theta, 1.0)
    np.testing.assert_allclose(phi @ v, m.effective_channels(ch, dec.theta, dec.beamformers))


def test_target_sinr_gives_latency_exactly_t():
    cfg = m.MmWaveUplinkConfig(**TINY, data_nats=(4e6, 2e6), latency_s=(0.02, 0.05))
    s = m.sample_scenario(cfg, np.random.default_rng(0))
    gamma_bar = m.target_sinr(cfg, s)
    np.testing.assert_allclose(gamma_bar, [math.exp(2.0) - 1, math.exp(0.4) - 1])
    np.testing.assert_allclose(4e6 / (100e6 * math.log1p(gamma_bar[0])), 0.02)


# Power control, detection ------------------------------------------------------------------
def test_fixed_point_matches_solve_and_the_plain_iteration(rng):
    K = 4
    gains = rng.uniform(0, 1, (50, K, K)) + np.eye(K) * 0.8
    c = rng.uniform(0.5, 2, (50, K))
    gamma_bar = rng.uniform(0.2, 1.5, (50, K))
    F, b = m.interference_matrices(gains, c, gamma_bar)
    rho = m.spectral_radius(F)
    ok = rho < 1
    assert ok.sum() > 10 and (~ok).sum() > 0
    np.testing.assert_allclose(rho, [max(abs(np.linalg.eigvals(f))) for f in F])
    p = m.fixed_point_powers(F[ok], b[ok])
    pairs = zip(F[ok], b[ok], strict=True)
    inverse = np.array([scipy.linalg.inv(np.eye(K) - f) @ bb for f, bb in pairs])
    np.testing.assert_allclose(p, inverse, rtol=1e-10)  # (16), an explicit inverse
    naive = np.zeros_like(b[ok])  # (18) from p = 0, one step at a time
    for _ in range(20000):
        naive = (F[ok] @ naive[..., None])[..., 0] + b[ok]
    np.testing.assert_allclose(p, naive, rtol=1e-9)
    # every SINR target met with equality
    gamma = m.sinr(p, gains[ok], c[ok])
    np.testing.assert_allclose(gamma, gamma_bar[ok], rtol=1e-12)


def test_mvdr_maximises_the_rayleigh_quotient(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_users=3, user_positions_m=((60, 0), (50, 20), (40, -10)))
    s = m.sample_scenario(cfg, rng)
    h = m.effective_channels(m.normalized(cfg, s), random_theta(cfg, rng), np.ones((3, 1)))
    p = rng.uniform(0.01, 1.0, 3)
    U = m.mvdr_detectors(h, p)
    for k in range(3):
        Q = np.eye(4) + sum(p[j] * np.outer(h[j], h[j].conj()) for j in range(3) if j != k)
        vals, vecs = scipy.linalg.eigh(np.outer(h[k], h[k].conj()), Q)
        best = vecs[:, -1] / np.vdot(vecs[:, -1], h[k]).conj()  # normalise u^H h = 1
        np.testing.assert_allclose(U[k], best, rtol=1e-8)
        np.testing.assert_allclose(np.vdot(U[k], h[k]), 1.0)
        # and no random detector beats it
        for _ in range(20):
            u = rng.standard_normal(4) + 1j * rng.standard_normal(4)
            ratio = abs(np.vdot(u, h[k])) ** 2 / np.vdot(u, Q @ u).real
            assert ratio <= vals[-1] * (1 + 1e-12)


def test_zf_detectors_null_the_other_users(rng):
    h = rng.standard_normal((3, 6)) + 1j * rng.standard_normal((3, 6))
    U = m.zf_detectors(h)
    np.testing.assert_allclose(U.conj() @ h.T, np.eye(3), atol=1e-12)


def yates_powers(h, gamma_bar, iterations=20000):
    """Independent check: the joint power iteration p_k <- gamma_bar_k / (h_k^H Q_k(p)^-1 h_k)
    (standard interference function, converges to the least feasible p)."""
    K, N = h.shape
    p = np.zeros(K)
    for _ in range(iterations):
        new = np.empty(K)
        for k in range(K):
            Q = np.eye(N) + sum(p[j] * np.outer(h[j], h[j].conj()) for j in range(K) if j != k)
            new[k] = gamma_bar[k] / np.vdot(h[k], np.linalg.solve(Q, h[k])).real
        if np.allclose(new, p, rtol=1e-14, atol=0):
            break
        p = new
    return new


@pytest.mark.parametrize("blockage", [0.0, 1.0])
def test_inner_loop_reaches_the_least_power_vector(rng, blockage):
    cfg = m.MmWaveUplinkConfig(**TINY, blockage_prob=blockage, data_nats=(4e6, 2e6))
    s = m.sample_scenario(cfg, rng, (4,))
    theta = random_theta(cfg, rng, (4,))
    dec, ok = m.decision_for_phases(cfg, s, theta)
    assert ok.all()
    out = m.metrics(cfg, s, dec)
    assert out["feasible"].all()
    np.testing.assert_allclose(out["sinr"], out["target_sinr"], rtol=1e-9)
    h = m.effective_channels(m.normalized(cfg, s), dec.theta, dec.beamformers)
    gamma_bar = m.target_sinr(cfg, s)
    for b in range(4):
        np.testing.assert_allclose(dec.power_w[b], yates_powers(h[b], gamma_bar[b]), rtol=1e-7)


def test_single_user_power_is_the_mrc_closed_form(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_users=1, data_nats=3e6)
    s = m.sample_scenario(cfg, rng, (6,))
    dec, _ = m.decision_for_phases(cfg, s, random_theta(cfg, rng, (6,)))
    h = m.effective_channels(m.normalized(cfg, s), dec.theta, dec.beamformers)[..., 0, :]
    expected = (math.exp(1.5) - 1) / np.sum(np.abs(h) ** 2, axis=-1)  # p = gamma_bar / ||h||^2
    np.testing.assert_allclose(dec.power_w[..., 0], expected, rtol=1e-10)


def test_multi_antenna_w_step_minimises_its_rayleigh_quotient(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=3)
    s = m.sample_scenario(cfg, rng)
    H = m.user_channels(m.normalized(cfg, s), random_theta(cfg, rng))
    w = m.dominant_beamformers(H)
    h = (H @ w[..., None])[..., 0]
    U = m.mvdr_detectors(h, np.array([0.1, 0.2]))
    gamma_bar = np.array([2.0, 1.0])
    new = m.beamformer_step(H, w, U, gamma_bar)
    for k in range(2):
        j = 1 - k
        g_jj = abs(np.vdot(U[j], H[j] @ w[j])) ** 2
        b_j = H[k].conj().T @ U[j]
        Z = np.eye(3) + gamma_bar[j] / g_jj * np.outer(b_j, b_j.conj())
        b = H[k].conj().T @ U[k]
        _, vecs = scipy.linalg.eigh(np.outer(b, b.conj()), Z)
        target = vecs[:, -1] / np.linalg.norm(vecs[:, -1])
        np.testing.assert_allclose(abs(np.vdot(target, new[k])), 1.0, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(new, axis=-1), 1.0)


def test_multi_antenna_inner_loop_beats_fixed_beamformers(rng):
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=4, data_nats=(4e6, 4e6))
    s = m.sample_scenario(cfg, rng, (8,))
    theta = random_theta(cfg, rng, (8,))
    dec, _ = m.decision_for_phases(cfg, s, theta)
    H = m.user_channels(m.normalized(cfg, s), dec.theta)
    w0 = m.dominant_beamformers(H)
    h0 = (H @ w0[..., None])[..., 0]
    fixed = [yates_powers(h0[b], m.target_sinr(cfg, s)[b]).sum() for b in range(8)]
    assert np.all(dec.power_w.sum(-1) <= np.array(fixed) * (1 + 1e-7))
    assert m.metrics(cfg, s, dec)["feasible"].all()


def test_rank_deficient_channels_are_infeasible_with_finite_powers():
    # two LoS users at the same AoA (both on the x axis), no IRS: collinear channels
    cfg = m.MmWaveUplinkConfig(
        **TINY,
        blockage_prob=0.0,
        irs_enabled=False,
        user_positions_m=((60.0, 0.0), (30.0, 0.0)),
        infeasible_power_dbm=20.0,
    )
    s = m.sample_scenario(cfg, np.random.default_rng(0), (3,))
    dec, ok = m.decision_for_phases(cfg, s, np.ones((3, cfg.num_elements)))
    assert not ok.any()
    np.testing.assert_allclose(dec.power_w, 0.1)  # 20 dBm per user
    out = m.metrics(cfg, s, dec)
    assert not out["feasible"].any() and np.all(np.isfinite(out["constraint_violation"]))
    assert np.all(np.isfinite(out["objective"])) and np.all(out["latency_s"] <= m.LATENCY_CAP_S)


def test_power_cap_makes_expensive_targets_infeasible():
    cfg = m.MmWaveUplinkConfig(**TINY, max_power_dbm=-20.0, data_nats=5e6)
    s = m.sample_scenario(cfg, np.random.default_rng(1), (5,))
    dec, ok = m.decision_for_phases(cfg, s, np.ones((5, cfg.num_elements)))
    assert not ok.any()  # OLoS at -20 dBm: hopeless
    assert np.all(dec.power_w <= 1e-5 * (1 + 1e-12)) and np.all(dec.power_w > 0)
    assert not m.metrics(cfg, s, dec)["feasible"].any()


def test_decisions_survive_the_float32_phase_grid(rng):
    theta = random_theta(m.MmWaveUplinkConfig(**TINY), rng)
    q = m.quantize_phases(theta)
    np.testing.assert_allclose(q, theta, atol=1e-6)
    action = (np.angle(q) / np.pi).astype(np.float32)  # the env action, read as float64
    again = np.exp(1j * np.pi * action.astype(np.float64))
    np.testing.assert_array_equal(again, q)


# Config -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("blockage_prob", 1.2),
        ("blockage_prob", (0.0, -0.5)),
        ("csi_uncertainty", -0.01),
        ("latency_s", 0.0),
        ("latency_s", (0.02, -1.0)),
        ("data_nats", -1.0),
        ("data_nats", "random"),
        ("data_nats", 2e9),  # D / (B T) = 1000: the target SINR overflows
        ("carrier_ghz", 38),
        ("num_ap_antennas", 1),  # fewer antennas than the 2 users
        ("user_positions_m", ((0.0, 0.0), (50.0, 20.0))),  # user 1 at the AP
        ("latency_range_s", (0.0, 0.1)),
        ("max_power_dbm", float("inf")),
    ],
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        m.MmWaveUplinkConfig(**{field: value})


def test_data_sizes_follow_the_section_9_table():
    rng = np.random.default_rng(0)
    two = m.sample_scenario(m.MmWaveUplinkConfig(), rng, (50,))
    np.testing.assert_array_equal(two.data_nats, np.tile([4e6, 2e6], (50, 1)))
    one = m.sample_scenario(m.MmWaveUplinkConfig(num_users=1), rng, (2000,)).data_nats
    drawn = m.sample_scenario(m.MmWaveUplinkConfig(data_nats="uniform"), rng, (2000,)).data_nats
    for d in (one, drawn):  # U[1, 5] Mnats: mean 3e6, standard deviation 4e6 / sqrt(12)
        assert d.min() >= 1e6 and d.max() <= 5e6
        assert abs(d.mean() - 3e6) < 4 * (4e6 / math.sqrt(12)) / math.sqrt(d.size)


def test_more_users_than_antennas_is_rejected():
    with pytest.raises(ValueError, match="num_ap_antennas must be >= num_users"):
        m.MmWaveUplinkConfig(num_ap_antennas=2, num_users=3, user_positions_m=((1, 1),) * 3)


def test_observation_layout():
    cfg = m.MmWaveUplinkConfig(**TINY, num_user_antennas=2, data_nats=(4e6, 2e6))
    s = m.sample_scenario(cfg, np.random.default_rng(2), (3,))
    obs = m.observation(cfg, s)
    assert obs.shape == (3, m.observation_size(cfg)) and np.all(np.isfinite(obs))
    np.testing.assert_allclose(obs[:, -2:], np.tile([2.0, 1.0], (3, 1)))  # D / (B T)
    np.testing.assert_array_equal(obs[:, -4:-2], s.los.astype(float))
