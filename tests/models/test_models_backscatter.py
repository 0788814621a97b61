"""Model 000 against independent computations: explicit received signals y_j, Monte Carlo,
the geometry and path-loss law by hand, Rician and CSI-error statistics, brute-force
quantisation."""

import dataclasses
import math

import numpy as np
import pytest

from irs_gym.models import backscatter as m
from irs_gym.models.tree import tree_index

TINY = dict(num_cells=2, num_users=2, num_pb_antennas=3, num_bs_antennas=2, num_elements=5)


def random_decision(cfg, rng, batch=(), stream=None):
    U, D, M = cfg.num_ues, cfg.beam_size, cfg.num_pb_antennas
    cn = lambda *s: rng.standard_normal(s) + 1j * rng.standard_normal(s)  # noqa: E731
    if cfg.has_pb:
        w = m.scale_to_power(cn(*batch, M), cfg.pb_power_w)
    else:
        w = np.zeros((*batch, M), dtype=complex)
    if cfg.uplink == "active":
        v = cn(*batch, U, D)
        v *= math.sqrt(cfg.ue_power_w) / np.linalg.norm(v, axis=-1, keepdims=True)
        v *= rng.uniform(0.3, 1.0, (*batch, U, 1))
    else:
        amp = rng.uniform(0.2, 1.0, (*batch, U, D)) if cfg.amplitude_control else 1.0
        v = cfg.beam_amplitude * amp * np.exp(2j * np.pi * rng.random((*batch, U, D)))
    if stream is None:
        stream = np.broadcast_to(m.first_streams(cfg), (*batch, U))
    return m.BackscatterDecision(w, v, np.array(stream, dtype=np.int64))


def signatures_by_hand(cfg, H, F, G, dec):
    """h[j][u] = F_{j,u} diag(H_u w) v_u (or F_{j,u} v_u) with explicit diag matrices, and
    g[j] = G_j w; physical units."""
    I, U = cfg.num_cells, cfg.num_ues
    h = [[None] * U for _ in range(I)]
    for j in range(I):
        for u in range(U):
            if cfg.has_pb:
                T = F[j, u] @ np.diag(H[u] @ dec.w)
                h[j][u] = T @ dec.v[u]
            else:
                h[j][u] = F[j, u] @ dec.v[u]
    N = cfg.num_bs_antennas
    g = [G[j] @ dec.w if cfg.has_pb else np.zeros(N, dtype=complex) for j in range(I)]
    return h, g


def sinr_by_hand(cfg, scen, dec, noise=None):
    """MMSE SINR from the covariance of y_j built stream by stream (spec section 3)."""
    sigma2 = cfg.noise_w
    h, g = signatures_by_hand(cfg, scen.H, scen.F, scen.G, dec)
    gamma = np.zeros(cfg.num_ues)
    for u in range(cfg.num_ues):
        if dec.stream[u] < 0:
            continue
        i = u // cfg.num_users
        R = sigma2 * np.eye(cfg.num_bs_antennas) + np.outer(g[i], g[i].conj())
        for u2 in range(cfg.num_ues):
            if u2 != u and dec.stream[u2] >= 0:
                R += np.outer(h[i][u2], h[i][u2].conj())
        if noise is not None:
            R += noise[i]
        gamma[u] = np.real(h[i][u].conj() @ np.linalg.solve(R, h[i][u]))
    return gamma


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"amplitude_control": True}, {"uplink": "passive"}, {"uplink": "active"}],
    ids=["backscatter", "amplitude", "passive", "active"],
)
def test_sinr_matches_received_signal_by_hand(rng, kwargs):
    cfg = m.BackscatterConfig(**TINY, **kwargs)
    scen = m.sample_scenario(cfg, rng)
    stream = np.array([0, -1, 1, 0])  # UE 1 unscheduled
    dec = random_decision(cfg, rng, stream=stream)
    expected = sinr_by_hand(cfg, scen, dec)
    out = m.metrics(cfg, scen, dec)
    np.testing.assert_allclose(out["sinr"], expected, rtol=1e-9)
    np.testing.assert_allclose(out["wsr_bps_hz"], np.log2(1 + expected).sum(), rtol=1e-10)
    assert out["rate_bps_hz"][1] == 0.0 and out["num_scheduled"] == 3


@pytest.mark.parametrize("uplink", ["backscatter", "passive"])
def test_reflection_beams_make_the_signal_coherent_at_each_antenna(rng, uplink):
    """v_u = exp(j arg b_{u,n}) gives |a_{i,u}[n]| = ||b_{u,n}||_1 (by hand from
    signatures_by_hand), which no unit-modulus v_u exceeds (2000 random draws)."""
    cfg = m.BackscatterConfig(**TINY, uplink=uplink)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    b = m.reflection_beams(cfg, scen, dec.w)
    assert b.shape == (cfg.num_ues, cfg.num_bs_antennas, cfg.num_elements)
    for n in range(cfg.num_bs_antennas):
        v = cfg.beam_amplitude * np.exp(1j * np.angle(b[:, n]))
        h, _ = signatures_by_hand(cfg, scen.H, scen.F, scen.G, dataclasses.replace(dec, v=v))
        for u in range(cfg.num_ues):
            own = h[u // cfg.num_users][u][n]
            scale = cfg.beam_amplitude * np.abs(b[u, n]).sum()
            assert abs(own) == pytest.approx(scale, rel=1e-9)
    phases = cfg.beam_amplitude * np.exp(2j * np.pi * rng.random((2000, cfg.num_elements)))
    for u in range(cfg.num_ues):
        i = u // cfg.num_users
        T = scen.F[i, u] @ np.diag(scen.H[u] @ dec.w) if cfg.has_pb else scen.F[i, u]
        best = np.abs(phases @ T.T).max(axis=0)
        assert np.all(best <= cfg.beam_amplitude * np.abs(b[u]).sum(axis=-1) * (1 + 1e-12))


def test_reflection_beams_need_a_reflecting_uplink(rng):
    cfg = m.BackscatterConfig(**TINY, uplink="active")
    scen = m.sample_scenario(cfg, rng)
    with pytest.raises(ValueError, match="uplink"):
        m.reflection_beams(cfg, scen, np.zeros(cfg.num_pb_antennas, dtype=complex))


def test_sinr_by_monte_carlo(rng):
    """Sample y_j = sum_u h_{j,u} x_u + G_j w s + n_j, apply the MMSE combiner of each
    scheduled UE and measure its output SINR."""
    cfg = m.BackscatterConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng, stream=[0, 1, 1, -1])
    h, g = signatures_by_hand(cfg, scen.H, scen.F, scen.G, dec)
    n_samples, N = 200_000, cfg.num_bs_antennas
    cn = lambda *s: (rng.standard_normal(s) + 1j * rng.standard_normal(s)) / math.sqrt(2)  # noqa: E731
    x = cn(cfg.num_ues, n_samples)
    s = np.exp(2j * np.pi * rng.random(n_samples))  # unmodulated carrier, |s| = 1
    expected = m.metrics(cfg, scen, dec)["sinr"]
    for u in np.flatnonzero(dec.stream >= 0):
        i = u // cfg.num_users
        y = np.outer(g[i], s) + math.sqrt(cfg.noise_w) * cn(N, n_samples)
        for u2 in np.flatnonzero(dec.stream >= 0):
            y += np.outer(h[i][u2], x[u2])
        interference = y - np.outer(h[i][u], x[u])
        R = interference @ interference.conj().T / n_samples
        comb = np.linalg.solve(R, h[i][u])
        out_signal = np.abs(comb.conj() @ h[i][u]) ** 2
        out_rest = np.mean(np.abs(comb.conj() @ interference) ** 2)
        assert out_signal / out_rest == pytest.approx(expected[u], rel=0.03)


def test_unscheduled_ues_contribute_nothing(rng):
    cfg = m.BackscatterConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng, stream=[0, -1, 0, 1])
    base = m.metrics(cfg, scen, dec)
    v = dec.v.copy()
    v[1] = np.exp(2j * np.pi * rng.random(cfg.num_elements))
    F_hat = scen.F_hat.copy()
    F_hat[:, 1] *= 1e3
    scen2 = dataclasses.replace(scen, F_hat=F_hat)
    other = m.metrics(cfg, scen2, dataclasses.replace(dec, v=v))
    np.testing.assert_allclose(other["sinr"], base["sinr"], rtol=1e-12)
    assert base["rate_bps_hz"][1] == 0.0
    none = m.metrics(cfg, scen, dataclasses.replace(dec, stream=np.full(4, -1)))
    assert none["wsr_bps_hz"] == 0.0 and none["num_scheduled"] == 0


def test_geometry_and_path_loss_by_hand(rng):
    for I in (1, 2, 3, 4):
        cfg = m.BackscatterConfig(**{**TINY, "num_cells": I})
        expected = [(50, 0), (-50, 0), (50, 0), (0, 50), (0, -50)]
        sites = {1: expected[:1], 2: expected[1:3], 3: expected[1:4], 4: expected[1:5]}[I]
        np.testing.assert_allclose(cfg.bs_positions_m[:, :2], sites)
        scen = m.sample_scenario(cfg, rng, (50,))
        ue = scen.ue_positions_m
        own = cfg.bs_positions_m[cfg.cell_of_ue]
        assert np.all(np.linalg.norm(ue - own, axis=-1) <= 60.0)
        assert np.all(ue[..., 2] == 0)

        def pl(d):
            return 10 ** ((-30 - 25 * np.log10(np.maximum(d, 1.0))) / 10)

        d_h = np.linalg.norm(ue, axis=-1)
        d_f = np.linalg.norm(ue[..., None, :, :] - cfg.bs_positions_m[:, None, :], axis=-1)
        np.testing.assert_allclose(scen.gain_H, pl(d_h), rtol=1e-12)
        np.testing.assert_allclose(scen.gain_F, pl(d_f) * 10**0.3, rtol=1e-12)
        np.testing.assert_allclose(scen.gain_G, np.broadcast_to(pl(50.0), (50, I)), rtol=1e-12)


def test_ues_fill_their_disc_uniformly(rng):
    cfg = m.BackscatterConfig(**{**TINY, "num_cells": 1, "num_users": 1})
    scen = m.sample_scenario(cfg, rng, (20_000,))
    r = np.linalg.norm(scen.ue_positions_m[..., 0, :] - cfg.bs_positions_m[0], axis=-1)
    # area-uniform: P(r <= 30 m) = (30/60)^2
    assert np.mean(r <= 30.0) == pytest.approx(0.25, abs=0.015)


def test_los_components_by_hand(rng):
    """With kappa -> inf the channels are their LoS parts a_R(-s) a_T(s)^H, s = u_y."""
    cfg = m.BackscatterConfig(**TINY, rician_factor=1e6)
    scen = m.sample_scenario(cfg, rng)
    ue = scen.ue_positions_m[:, :2]
    bs = cfg.bs_positions_m[:, :2]

    def ula(n, s):
        return np.exp(1j * np.pi * np.arange(n) * s)

    def sine(src, dst):
        d = np.asarray(dst) - np.asarray(src)
        return d[1] / np.linalg.norm(d)

    L, M, N = cfg.num_elements, cfg.num_pb_antennas, cfg.num_bs_antennas
    for u in range(cfg.num_ues):
        s = sine((0, 0), ue[u])
        los = np.outer(ula(L, -s), ula(M, s).conj())
        np.testing.assert_allclose(scen.H_hat[u] / np.sqrt(scen.gain_H[u]), los, atol=8e-3)
        for j in range(cfg.num_cells):
            s = sine(ue[u], bs[j])
            los = np.outer(ula(N, -s), ula(L, s).conj())
            F = scen.F_hat[j, u] / np.sqrt(scen.gain_F[j, u])
            np.testing.assert_allclose(F, los, atol=8e-3)
    for j in range(cfg.num_cells):
        s = sine((0, 0), bs[j])
        los = np.outer(ula(N, -s), ula(M, s).conj())
        np.testing.assert_allclose(scen.G_hat[j] / np.sqrt(scen.gain_G[j]), los, atol=8e-3)


def test_upa_irs_response(rng):
    """array='upa': a_y(s) (x) a_z(0) (elevation 0), i.e. each y phase repeated sqrt(L)
    times."""
    cfg = m.BackscatterConfig(**{**TINY, "num_elements": 9}, array="upa", rician_factor=1e6)
    scen = m.sample_scenario(cfg, rng)
    s = scen.ue_positions_m[0, 1] / np.linalg.norm(scen.ue_positions_m[0])
    a = np.kron(np.exp(-1j * np.pi * np.arange(3) * s), np.ones(3))
    col = scen.H_hat[0][:, 0] / np.sqrt(scen.gain_H[0])
    np.testing.assert_allclose(col, a, atol=8e-3)


def test_rician_statistics(rng):
    """E|X|^2 = Sigma_X and E[X conj(LoS)] / sqrt(Sigma_X) = sqrt(kappa / (1 + kappa))."""
    cfg = m.BackscatterConfig(**TINY)
    scen = m.sample_scenario(cfg, rng, (4000,))
    H_los, F_los, G_los = m._los(cfg, scen.ue_positions_m)
    for X, gain, los in (
        (scen.H_hat, scen.gain_H, H_los),
        (scen.F_hat, scen.gain_F, F_los),
        (scen.G_hat, scen.gain_G, G_los),
    ):
        unit = X / np.sqrt(gain)[..., None, None]
        assert np.mean(np.abs(unit) ** 2) == pytest.approx(1.0, rel=0.02)
        assert np.mean(unit * np.conj(los)) == pytest.approx(math.sqrt(3 / 4), abs=0.01)


def test_csi_errors_statistics_and_views(rng):
    cfg = m.BackscatterConfig(**TINY, csi_error=0.3)
    scen = m.sample_scenario(cfg, rng, (3000,))
    for err, gain in (
        (scen.H_err, scen.gain_H),
        (scen.F_err, scen.gain_F),
        (scen.G_err, scen.gain_G),
    ):
        ratio = np.abs(err) ** 2 / gain[..., None, None]
        assert np.mean(ratio) == pytest.approx(0.09, rel=0.03)
    np.testing.assert_array_equal(scen.F, scen.F_hat + scen.F_err)
    perfect = m.sample_scenario(dataclasses.replace(cfg, csi_error=0.0), rng)
    assert perfect.H_err is None and perfect.H is perfect.H_hat


def test_white_wsr_by_hand(rng):
    """White: the SINR on the estimates with Sigma_j = sigma^2 I + Omega_G + sum over the
    scheduled UEs of Omega_H + Omega_F (spec 6.4), built element by element."""
    cfg = m.BackscatterConfig(**TINY, csi_error=0.2)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng, stream=[0, 1, -1, 0])
    P, rho2, M = cfg.pb_power_w, 0.04, cfg.num_pb_antennas
    N = cfg.num_bs_antennas
    extra = []
    for j in range(cfg.num_cells):
        sigma = rho2 * P * scen.gain_G[j] * np.eye(N)
        for u in np.flatnonzero(dec.stream >= 0):
            for n in range(N):
                row = scen.F_hat[j, u, n]
                sigma[n, n] += rho2 * P * scen.gain_H[u] * np.sum(np.abs(row) ** 2)
                sigma[n, n] += rho2 * P * scen.gain_F[j, u] * np.sum(np.abs(scen.H_hat[u]) ** 2) / M
        extra.append(sigma)
    estimate = dataclasses.replace(scen, H_err=None, F_err=None, G_err=None)
    gamma = sinr_by_hand(cfg, estimate, dec, noise=extra)
    out = m.metrics(cfg, scen, dec)
    assert out["white_wsr_bps_hz"] == pytest.approx(np.log2(1 + gamma).sum(), rel=1e-9)
    # Real uses the true channels
    assert out["real_wsr_bps_hz"] == pytest.approx(
        np.log2(1 + sinr_by_hand(cfg, scen, dec)).sum(), rel=1e-9
    )


def test_white_equals_real_without_csi_error(rng):
    cfg = m.BackscatterConfig(**TINY)
    scen = m.sample_scenario(cfg, rng, (5,))
    out = m.metrics(cfg, scen, random_decision(cfg, rng, (5,)))
    np.testing.assert_array_equal(out["white_wsr_bps_hz"], out["real_wsr_bps_hz"])
    np.testing.assert_array_equal(out["real_estimated_rx_wsr_bps_hz"], out["objective"])


def test_estimated_receiver_by_hand(rng):
    """Real with the combiner u = R_hat^-1 h_hat designed on the estimates (White's model),
    applied to the true signals."""
    cfg = m.BackscatterConfig(**TINY, csi_error=0.1)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    ch_e = m.channels(cfg, scen, "estimate")
    estimate = dataclasses.replace(scen, H_err=None, F_err=None, G_err=None)
    h_e, g_e = signatures_by_hand(cfg, estimate.H, estimate.F, estimate.G, dec)
    h_t, g_t = signatures_by_hand(cfg, scen.H, scen.F, scen.G, dec)
    sigma2 = cfg.noise_w
    expected = []
    for u in range(cfg.num_ues):
        i = u // cfg.num_users
        noise = np.diag(ch_e.noise[i] + ch_e.noise_per_ue[i].sum(axis=0)) * sigma2
        R_e = noise + np.outer(g_e[i], g_e[i].conj())
        R_t = sigma2 * np.eye(cfg.num_bs_antennas) + np.outer(g_t[i], g_t[i].conj())
        for u2 in range(cfg.num_ues):
            if u2 != u:
                R_e += np.outer(h_e[i][u2], h_e[i][u2].conj())
                R_t += np.outer(h_t[i][u2], h_t[i][u2].conj())
        comb = np.linalg.solve(R_e, h_e[i][u])
        expected.append(np.abs(comb.conj() @ h_t[i][u]) ** 2 / np.real(comb.conj() @ R_t @ comb))
    np.testing.assert_allclose(m.mismatched_sinr(cfg, scen, dec), expected, rtol=1e-8)


def test_batched_metrics_match_single(rng):
    cfg = m.BackscatterConfig(**TINY, csi_error=0.1)
    scen = m.sample_scenario(cfg, rng, (3, 2))
    dec = random_decision(cfg, rng, (3, 2))
    out = m.metrics(cfg, scen, dec)
    for idx in np.ndindex(3, 2):
        single = m.metrics(cfg, tree_index(scen, idx), tree_index(dec, idx))
        for key in ("sinr", "wsr_bps_hz", "white_wsr_bps_hz", "real_estimated_rx_wsr_bps_hz"):
            np.testing.assert_allclose(out[key][idx], single[key], rtol=1e-12, err_msg=key)


def test_constraint_violations(rng):
    cfg = m.BackscatterConfig(**TINY, amplitude_control=True)
    scen = m.sample_scenario(cfg, rng)
    dec = random_decision(cfg, rng)
    assert m.metrics(cfg, scen, dec)["feasible"]
    bad = [
        dataclasses.replace(dec, w=dec.w * 1.1),  # 21 % over the PB budget
        dataclasses.replace(dec, v=dec.v * 1.5 / np.abs(dec.v).max()),  # |v| = 1.5
        dataclasses.replace(dec, stream=np.array([0, 0, 1, -1])),  # two UEs on a stream
        dataclasses.replace(dec, stream=np.array([2, -1, 0, 1])),  # stream N
    ]
    expected = [0.21, 0.5, 1.0, 1.0]
    for d, e in zip(bad, expected, strict=True):
        out = m.metrics(cfg, scen, d)
        assert not out["feasible"] and out["constraint_violation"] == pytest.approx(e, rel=1e-9)
    unit = m.BackscatterConfig(**TINY)
    assert not m.metrics(unit, scen, dataclasses.replace(dec, v=0.5 * dec.v))["feasible"]
    passive = m.BackscatterConfig(**TINY, uplink="passive")
    p_dec = random_decision(passive, rng)
    assert m.metrics(passive, m.sample_scenario(passive, rng), p_dec)["feasible"]
    with_w = dataclasses.replace(p_dec, w=np.ones(cfg.num_pb_antennas, dtype=complex))
    assert not m.metrics(passive, m.sample_scenario(passive, rng), with_w)["feasible"]
    active = m.BackscatterConfig(**TINY, uplink="active")
    a_dec = random_decision(active, rng)
    loud = dataclasses.replace(a_dec, v=a_dec.v * 2 / np.abs(a_dec.v).max())
    assert not m.metrics(active, m.sample_scenario(active, rng), loud)["feasible"]


def test_quantize_phases_is_the_nearest_codeword(rng):
    v = np.exp(2j * np.pi * rng.random(200)) * rng.uniform(0.1, 1.0, 200)
    for Q in (2, 4, 8):
        book = np.exp(2j * np.pi * np.arange(Q) / Q)
        nearest = book[np.argmin(np.abs(v[:, None] - book[None, :]), axis=1)]
        np.testing.assert_allclose(m.quantize_phases(v, Q), nearest, atol=1e-12)


def test_evolve_keeps_positions_and_correlates(rng):
    cfg = m.BackscatterConfig(**TINY, csi_error=0.1)
    scen = m.sample_scenario(cfg, rng, (2000,))
    same = m.evolve_scenario(cfg, scen, rng, 1.0)
    np.testing.assert_allclose(same.F_hat, scen.F_hat, rtol=1e-9, atol=0)
    np.testing.assert_allclose(same.H_err, scen.H_err)
    nxt = m.evolve_scenario(cfg, scen, rng, 0.6)
    np.testing.assert_array_equal(nxt.ue_positions_m, scen.ue_positions_m)
    _, F_los, _ = m._los(cfg, scen.ue_positions_m)
    w_los, w_nlos = math.sqrt(0.75), math.sqrt(0.25)

    def nlos(s):
        return (s.F_hat / np.sqrt(s.gain_F)[..., None, None] - w_los * F_los) / w_nlos

    a, b = nlos(scen), nlos(nxt)
    assert np.mean(np.abs(b) ** 2) == pytest.approx(1.0, rel=0.03)
    assert np.real(np.mean(b * a.conj())) == pytest.approx(0.6, abs=0.03)


def test_observation_layout(rng):
    for kwargs in ({}, {"uplink": "passive"}, {"uplink": "active"}):
        cfg = m.BackscatterConfig(**TINY, **kwargs)
        scen = m.sample_scenario(cfg, rng, (400,))
        obs = m.observation(cfg, scen)
        assert obs.shape == (400, m.observation_size(cfg)) and np.all(np.isfinite(obs))
        n_channel = 2 * cfg.num_cells * cfg.num_ues * cfg.num_bs_antennas * cfg.beam_size
        if cfg.has_pb:
            n_channel += 2 * cfg.num_ues * cfg.num_elements * cfg.num_pb_antennas
            n_channel += 2 * cfg.num_cells * cfg.num_bs_antennas * cfg.num_pb_antennas
        # every channel entry has unit mean power (Re and Im half each)
        assert np.mean(obs[:, :n_channel] ** 2) == pytest.approx(0.5, rel=0.03)
        assert np.all(np.abs(obs[:, n_channel:]) < 2.5)
    cfg = m.BackscatterConfig(**TINY)
    scen = m.sample_scenario(cfg, rng)
    obs = m.observation(cfg, scen)
    U = cfg.num_ues
    np.testing.assert_allclose(obs[-2 * U :], scen.ue_positions_m[:, :2].ravel() / 100.0)
    size = 2 * U * cfg.num_elements * cfg.num_pb_antennas
    np.testing.assert_allclose(
        obs[: size // 2], (scen.H_hat / np.sqrt(scen.gain_H)[:, None, None]).real.ravel()
    )


def test_observation_shows_the_estimates(rng):
    cfg = m.BackscatterConfig(**TINY, csi_error=0.5)
    scen = m.sample_scenario(cfg, rng)
    moved = dataclasses.replace(scen, F_err=scen.F_err * 3.0, G_err=None)
    np.testing.assert_array_equal(m.observation(cfg, scen), m.observation(cfg, moved))


def test_default_decision(rng):
    cfg = m.BackscatterConfig(**{**TINY, "num_users": 3})
    scen = m.sample_scenario(cfg, rng)
    dec = m.default_decision(cfg, scen)
    w0 = np.conj(scen.H_hat).sum(axis=(0, 1))
    np.testing.assert_allclose(dec.w, w0 * math.sqrt(cfg.pb_power_w) / np.linalg.norm(w0))
    np.testing.assert_array_equal(dec.stream, [0, 1, -1, 0, 1, -1])
    assert m.metrics(cfg, scen, dec)["feasible"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("num_bs_antennas", 0),
        ("num_elements", 0),
        ("num_cells", 5),
        ("num_users", 0),
        ("pb_power_dbm", -31.0),
        ("ue_power_dbm", 41.0),
        ("csi_error", 2.0),
        ("uplink", "relay"),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        m.BackscatterConfig(**{field: value})


def test_config_cross_checks():
    with pytest.raises(ValueError, match="amplitude_control"):
        m.BackscatterConfig(uplink="passive", amplitude_control=True)
    with pytest.raises(ValueError, match="num_elements"):
        m.BackscatterConfig(array="upa", num_elements=60)
    with pytest.raises(ValueError, match="weights"):
        m.BackscatterConfig(weights=(1.0, 1.0, 1.0, -1.0))
    cfg = m.BackscatterConfig(weights=[1, 2, 3, 4])
    assert cfg.weights == (1.0, 2.0, 3.0, 4.0)
    assert m.BackscatterConfig(pb_power_dbm=-30.0).pb_power_w == pytest.approx(1e-6)
