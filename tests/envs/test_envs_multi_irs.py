"""MultiIRSDownlink-v0 beyond the generic conformance tests: ``phase_action="beams"``."""

import gymnasium as gym
import numpy as np
import pytest
from test_envs_vector import assert_native_matches_sync

import irs_gym  # noqa: F401
from irs_gym.models import multi_irs as m

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
SMALL = dict(num_bs_antennas=4, num_elements=4, num_irs=2, num_users=2)


def test_reflection_beams_are_each_users_coherent_optimum():
    """b_k = sigma_1 conj(u_1) of A_k = diag(h_k^H / sigma) G (numpy's SVD, up to phase);
    theta = exp(j arg b_k) reaches |theta^T A_k v_1| = ||b_k||_1, which no random
    unit-modulus theta beats; sum_m b_km is real and >= 0."""
    cfg = m.MultiIRSConfig(**SMALL)
    scenario = m.sample_scenario(cfg, np.random.default_rng(2), (3,))
    b = m.reflection_beams(cfg, scenario)
    ch = m.normalized(cfg, scenario)
    rng = np.random.default_rng(0)
    for i in range(3):
        for k in range(cfg.num_users):
            A = ch.hH[i, k][:, None] * ch.G[i]
            U, S, Vh = np.linalg.svd(A)
            expected = S[0] * U[:, 0].conj()
            np.testing.assert_allclose(np.abs(np.vdot(expected, b[i, k])), S[0] ** 2, rtol=1e-9)
            theta = np.exp(1j * np.angle(b[i, k]))
            gain = np.abs(theta @ A @ Vh[0].conj())
            np.testing.assert_allclose(gain, np.abs(b[i, k]).sum(), rtol=1e-9)
            others = np.exp(2j * np.pi * rng.random((200, A.shape[0])))
            assert np.all(np.abs(others @ A @ Vh[0].conj()) <= gain * (1 + 1e-12))
            total = b[i, k].sum()
            assert abs(total.imag) <= 1e-9 * abs(total) and total.real >= 0


@pytest.mark.parametrize("precoder", ["mmse", "action"])
def test_beam_action_decodes_one_users_beam_and_matches_the_vector_env(precoder):
    kwargs = dict(SMALL, phase_action="beams", precoder=precoder)
    env = gym.make(ENV_ID, **kwargs)
    n_w = 0 if precoder == "mmse" else 2 * 4 * 2
    assert env.action_space.shape == (4 + n_w,)
    env.reset(seed=3)
    u = env.unwrapped
    b = m.reflection_beams(u.config, u.scenario)
    a = np.zeros(env.action_space.shape, np.float32)
    a[:4] = (-1.0, 1.0, 0.0, 0.0)  # w = (0, 1): user 1's beam alone
    np.testing.assert_allclose(u.decode(a).theta, np.exp(1j * np.angle(b[1])), atol=1e-6)
    assert_native_matches_sync(ENV_ID, 2, channel_mode="static", **kwargs)


def test_beam_encode_needs_a_realisation():
    env = gym.make(ENV_ID, **SMALL, phase_action="beams", precoder="mmse")
    env.reset(seed=0)
    decision = env.unwrapped.decode(np.zeros(4, np.float32))
    fresh = gym.make(ENV_ID, **SMALL, phase_action="beams", precoder="mmse").unwrapped
    with pytest.raises(ValueError, match="phase_action='beams'"):
        fresh.encode(decision)


def test_beam_observation_ends_with_each_users_single_beam_snr():
    """The K extra entries are log10 of the SNR that model.metrics gives user k when it is
    served alone, at full power, through theta = exp(j arg b_k) and W = sqrt(P) v_1 (numpy's
    SVD of A_k) in column k."""
    env = gym.make(ENV_ID, **SMALL, phase_action="beams", precoder="mmse")
    obs, _ = env.reset(seed=7)
    u = env.unwrapped
    cfg = u.config
    assert obs.shape == (m.observation_size(cfg) + cfg.num_users,)
    b = m.reflection_beams(cfg, u.scenario)
    ch = m.normalized(cfg, u.scenario)
    for k in range(cfg.num_users):
        v = np.linalg.svd(ch.hH[k][:, None] * ch.G)[2][0].conj()
        W = np.zeros((cfg.num_bs_antennas, cfg.num_users), complex)
        W[:, k] = np.sqrt(cfg.tx_power_w) * v
        rate = m.metrics(cfg, u.scenario, m.MultiIRSDecision(np.exp(1j * np.angle(b[k])), W))
        snr = 2.0 ** rate["rate_bps_hz"][k] - 1.0
        np.testing.assert_allclose(obs[-cfg.num_users + k], np.log10(snr), rtol=1e-5)


def test_beam_only_observation_is_the_beam_snrs_then_the_beam_overlaps():
    """observation="beams": the same K log10 SNRs the channel observation ends with, then
    Re, then Im, of u_i^H u_j (i < j, u_k = b_k / ||b_k||), summed here element by element;
    the static mode appends the last action and reward after them."""
    kwargs = dict(SMALL, num_users=3, phase_action="beams", precoder="mmse")
    full = gym.make(ENV_ID, **kwargs)
    env = gym.make(ENV_ID, **kwargs, observation="beams")
    obs, _ = env.reset(seed=9)
    full_obs, _ = full.reset(seed=9)
    assert env.observation_space.shape == (3 + 6,)
    np.testing.assert_array_equal(obs[:3], full_obs[-3:])
    b = m.reflection_beams(env.unwrapped.config, env.unwrapped.scenario)
    u = b / np.linalg.norm(b, axis=-1, keepdims=True)
    overlaps = [
        sum(np.conj(u[i, n]) * u[j, n] for n in range(b.shape[-1]))
        for i, j in ((0, 1), (0, 2), (1, 2))
    ]
    expected = [z.real for z in overlaps] + [z.imag for z in overlaps]
    np.testing.assert_allclose(obs[3:], expected, rtol=0, atol=1e-6)
    static = gym.make(ENV_ID, **kwargs, observation="beams", channel_mode="static")
    assert static.observation_space.shape == (9 + static.action_space.shape[0] + 1,)
    assert_native_matches_sync(ENV_ID, 2, channel_mode="static", observation="beams", **kwargs)


SNR_ORDER_SEED = 1  # slot order (1, 2, 0) at num_users=3


@pytest.mark.parametrize("observation", ["channels", "beams"])
def test_snr_order_is_the_index_order_with_the_users_relabelled(observation):
    """user_order="snr": slot s is the user with the s-th largest single-beam SNR. The
    observation is the index-order env's with the users relabelled (the rows of h, the SNRs,
    the beam overlaps), and an action decodes to the index-order env's decision for the action
    whose per-user entries (beam weights, precoder columns) are moved back to the users'
    indices."""
    K, n_t = 3, 4
    kwargs = dict(SMALL, num_users=K, phase_action="beams", observation=observation)
    plain = gym.make(ENV_ID, **kwargs)
    env = gym.make(ENV_ID, **kwargs, user_order="snr")
    obs, _ = env.reset(seed=SNR_ORDER_SEED)
    plain_obs, _ = plain.reset(seed=SNR_ORDER_SEED)
    u = env.unwrapped
    b = m.reflection_beams(u.config, u.scenario)
    order = np.argsort(-m.single_beam_snr(u.config, u.scenario))
    assert not np.any(order == np.arange(K))  # no user keeps its slot
    if observation == "beams":
        np.testing.assert_array_equal(obs[:K], plain_obs[order])
        assert np.all(np.diff(obs[:K]) < 0)
        unit = b[order] / np.linalg.norm(b[order], axis=-1, keepdims=True)
        overlaps = [np.vdot(unit[i], unit[j]) for i, j in ((0, 1), (0, 2), (1, 2))]
        expected = [z.real for z in overlaps] + [z.imag for z in overlaps]
        np.testing.assert_allclose(obs[K:], expected, rtol=0, atol=1e-6)
    else:
        M = u.config.total_elements
        start = 2 * M * n_t
        np.testing.assert_array_equal(obs[:start], plain_obs[:start])
        for block in range(2):
            lo = start + block * K * M
            h, plain_h = (x[lo : lo + K * M].reshape(K, M) for x in (obs, plain_obs))
            np.testing.assert_array_equal(h, plain_h[order])
        np.testing.assert_array_equal(obs[-K:], plain_obs[-K:][order])

    a = np.random.default_rng(4).uniform(-0.9, 1, env.action_space.shape).astype(np.float32)
    relabelled = a.copy()
    relabelled[order], relabelled[K + order] = a[:K], a[K : 2 * K]
    for part in range(2):  # Re W, then Im W, row-major [n_t, K]: columns are users
        lo = 2 * K + part * n_t * K
        block = relabelled[lo : lo + n_t * K].reshape(n_t, K)
        block[:, order] = a[lo : lo + n_t * K].reshape(n_t, K)
    got, want = u.decode(a), plain.unwrapped.decode(relabelled)
    np.testing.assert_allclose(got.theta, want.theta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.W, want.W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(u.decode(u.encode(got)).W, got.W, rtol=0, atol=1e-6)


def test_snr_order_needs_equal_user_weights():
    kwargs = dict(SMALL, phase_action="beams", user_order="snr")
    gym.make(ENV_ID, **kwargs, weights=(2.0, 2.0))
    with pytest.raises(ValueError, match="user_order='snr' needs equal user weights"):
        gym.make(ENV_ID, **kwargs, weights=(1.0, 2.0))
