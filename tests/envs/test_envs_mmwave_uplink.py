"""MmWaveUplinkPower-v0 beyond the generic conformance tests: the reward formula, the
phases-and-powers control, infeasible phases (finite reward, feasible=False) and imperfect
CSI (the agent sees the estimate, the env scores the true channel) and
``phase_action="beams"``."""

import gymnasium as gym
import numpy as np
import pytest
from test_envs_vector import assert_native_matches_sync

import baselines
from irs_gym.models import mmwave_uplink as m

ENV_ID = "irs_gym/MmWaveUplinkPower-v0"
SMALL = dict(num_ap_antennas=4, elements_h=4, elements_v=2)


def test_reward_is_scaled_power_minus_penalty():
    env = gym.make(ENV_ID, **SMALL, control="phases_and_powers", channel_mode="static")
    env.reset(seed=0)
    env.action_space.seed(0)
    seen_infeasible = False
    for _ in range(10):
        _, reward, _, _, info = env.step(env.action_space.sample())
        expected = -0.1 * info["objective"] - 10.0 * info["constraint_violation"]
        np.testing.assert_allclose(reward, expected, rtol=1e-12)
        seen_infeasible |= not info["feasible"]
    assert seen_infeasible  # random powers miss the latency targets


def test_power_action_maps_linearly_in_dbm():
    env = gym.make(ENV_ID, **SMALL, control="phases_and_powers", power_range_dbm=(-20.0, 10.0))
    env.reset(seed=1)
    u = env.unwrapped
    M = u.config.num_elements
    assert env.action_space.shape == (M + 2,)
    action = np.zeros(M + 2, np.float32)
    action[M:] = (-1.0, 1.0)
    dec = u.decode(action)
    np.testing.assert_allclose(10 * np.log10(dec.power_w) + 30, [-20.0, 10.0])
    action[M:] = (0.0, 0.5)
    np.testing.assert_allclose(10 * np.log10(u.decode(action).power_w) + 30, [-5.0, 2.5])
    np.testing.assert_allclose(u.encode(u.decode(action)), action, atol=1e-6)


def test_power_control_reproduces_a_solver_decision_within_float32():
    env = gym.make(ENV_ID, **SMALL, control="phases_and_powers", channel_mode="static")
    env.reset(seed=2)
    u = env.unwrapped
    sol = baselines.for_env(ENV_ID, config=u.config)["ccmo"].solve(u.scenario, u.config)
    _, _, _, _, info = env.step(u.encode(sol.decision))
    np.testing.assert_allclose(info["objective"], sol.objective, atol=1e-4)  # dB
    assert info["constraint_violation"] < 1e-4  # float32 power steps (~1e-6 dB)


def test_power_range_is_validated():
    with pytest.raises(ValueError, match="power_range_dbm"):
        gym.make(ENV_ID, **SMALL, control="phases_and_powers", power_range_dbm=(0.0, 70.0))
    with pytest.raises(ValueError, match="power_range_dbm"):
        gym.make(ENV_ID, **SMALL, max_power_dbm=10.0, power_range_dbm=(-30.0, 20.0))
    env = gym.make(ENV_ID, **SMALL, max_power_dbm=10.0, control="phases_and_powers")
    assert (env.unwrapped.task.power_low_dbm, env.unwrapped.task.power_high_dbm) == (-50, 10)


def test_infeasible_phases_give_feasible_false_and_a_finite_penalised_reward():
    # two LoS users at the same AoA and no IRS: no power vector meets both targets
    env = gym.make(
        ENV_ID,
        **SMALL,
        blockage_prob=0.0,
        irs_enabled=False,
        user_positions_m=((60.0, 0.0), (30.0, 0.0)),
    )
    _, info = env.reset(seed=0)
    assert not info["feasible"]
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert not info["feasible"] and info["constraint_violation"] > 0
    assert np.isfinite(reward) and np.all(np.isfinite(info["power_w"]))
    np.testing.assert_allclose(info["power_w"], 1.0)  # infeasible_power_dbm = 30 dBm each
    np.testing.assert_allclose(reward, -0.1 * info["objective"] - 10 * info["constraint_violation"])
    solver = baselines.for_env(ENV_ID, config=env.unwrapped.config)["no_irs"]
    assert solver.solve(env.unwrapped.scenario, env.unwrapped.config).status == "infeasible"


def test_imperfect_csi_observes_the_estimate_and_scores_the_truth():
    # a strong cascade (G_IRS = 30 dB) so that the IRS -> user error matters
    kwargs = dict(**SMALL, csi_uncertainty=0.3, irs_gain_db=30.0, channel_mode="static")
    env = gym.make(ENV_ID, **kwargs)
    obs, _ = env.reset(seed=3)
    env.action_space.seed(3)
    u = env.unwrapped
    s, cfg = u.scenario, u.config
    K, N, M = 2, 4, 8
    _, _, s_r = cfg.nominal_amplitudes()
    start = 2 * K * N + 2 * N * M
    seen = obs[start : start + K * M].reshape(K, M)
    np.testing.assert_allclose(seen, (s.H_r_est[..., 0] / s_r[:, None]).real, rtol=1e-6)
    action = env.action_space.sample()
    _, _, _, _, info = env.step(action)
    dec = u.decode(action)
    truth = m.metrics(cfg, s, dec)
    np.testing.assert_allclose(info["sinr"], truth["sinr"])
    # designed on the estimate: the true SINRs miss the targets the estimate meets exactly
    assert np.max(np.abs(info["sinr"] / info["target_sinr"] - 1)) > 1e-5  # exact: < 1e-9
    exact = gym.make(ENV_ID, **{**kwargs, "csi_uncertainty": 0.0})
    exact.reset(seed=3)
    _, _, _, _, info0 = exact.step(action)
    np.testing.assert_allclose(info0["sinr"], info0["target_sinr"], rtol=1e-9)


def test_vector_env_matches_single_env_with_power_control():
    vec = gym.make_vec(
        ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", **SMALL, num_user_antennas=2
    )
    obs_v, _ = vec.reset(seed=5)
    actions = vec.action_space.sample()
    _, r_v, _, _, info_v = vec.step(actions)
    for i in range(3):
        env = gym.make(ENV_ID, **SMALL, num_user_antennas=2)
        obs, _ = env.reset(seed=5 + i)
        np.testing.assert_allclose(obs, obs_v[i])
        _, r, _, _, info = env.step(actions[i])
        np.testing.assert_allclose(r, r_v[i], rtol=1e-10)
        np.testing.assert_allclose(info["power_w"], info_v["power_w"][i], rtol=1e-10)


@pytest.mark.parametrize("num_user_antennas", [1, 2])
def test_reflection_beams_are_each_users_coherent_optimum(num_user_antennas):
    """b_k = sigma_1 v_1 of A_k = G diag(H_r,k w_k) (numpy's SVD, up to phase), theta =
    exp(j arg b_k) reaches |u_1^H A_k theta| = ||b_k||_1, which no random unit-modulus theta
    beats (triangle inequality), and the phase convention makes the reflected signal add in
    phase with the direct one."""
    cfg = m.MmWaveUplinkConfig(**SMALL, num_user_antennas=num_user_antennas, blockage_prob=0.5)
    scenario = m.sample_scenario(cfg, np.random.default_rng(3), (2,))
    b = m.reflection_beams(cfg, scenario)  # [2, K, M]
    ch = m.normalized(cfg, scenario)
    rng = np.random.default_rng(0)
    for i in range(2):
        for k in range(cfg.num_users):
            H_r = ch.H_r[i, k]
            w = np.linalg.svd(H_r)[2][0].conj()  # dominant right singular vector
            A = ch.G[i] * (H_r @ w)[None, :]
            U, S, Vh = np.linalg.svd(A)
            v = Vh[0].conj() * S[0]
            phase = np.vdot(v, b[i, k])
            np.testing.assert_allclose(np.abs(phase), np.linalg.norm(v) ** 2, rtol=1e-9)
            theta = np.exp(1j * np.angle(b[i, k]))
            gain = np.abs(U[:, 0].conj() @ A @ theta)
            np.testing.assert_allclose(gain, np.abs(b[i, k]).sum(), rtol=1e-9)
            others = np.exp(2j * np.pi * rng.random((200, A.shape[1])))
            assert np.all(np.abs(others @ A.T @ U[:, 0].conj()) <= gain * (1 + 1e-12))
            direct = (ch.H_d[i, k] @ w).conj() @ A @ theta
            assert abs(direct.imag) <= 1e-9 * abs(direct) and direct.real > 0


def test_beam_action_selects_one_users_beam_and_matches_the_vector_env():
    """a = (1, -1, 0, 0): w = (1, 0), theta = exp(j arg b_1); encode gives it back (the LoS
    beams have constant modulus, so the least-squares projection of one beam's phases is
    that beam); the native batched env equals single envs, also with the power entries."""
    kwargs = dict(SMALL, phase_action="beams")
    env = gym.make(ENV_ID, **kwargs)
    assert env.action_space.shape == (4,)
    env.reset(seed=4)
    u = env.unwrapped
    b = m.reflection_beams(u.config, u.scenario)
    decision = u.decode(np.array([1.0, -1.0, 0.0, 0.0], np.float32))
    np.testing.assert_allclose(
        decision.theta, m.quantize_phases(np.exp(1j * np.angle(b[0]))), atol=1e-6
    )
    code = u.encode(decision)
    np.testing.assert_allclose(u.decode(code).theta, decision.theta, atol=1e-5)
    assert_native_matches_sync(ENV_ID, 2, channel_mode="static", **kwargs)
    powers = dict(kwargs, control="phases_and_powers")
    assert gym.make(ENV_ID, **powers).action_space.shape == (6,)
    assert_native_matches_sync(ENV_ID, 2, channel_mode="iid", **powers)


def test_beam_encode_needs_a_realisation():
    env = gym.make(ENV_ID, **SMALL, phase_action="beams")
    env.reset(seed=0)
    decision = env.unwrapped.decode(np.zeros(4, np.float32))
    fresh = gym.make(ENV_ID, **SMALL, phase_action="beams").unwrapped
    with pytest.raises(ValueError, match="phase_action='beams'"):
        fresh.encode(decision)
