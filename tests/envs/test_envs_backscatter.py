"""BackscatterUplink-v0 specifics: the scheduling codecs, the schedule action mode, the
White / Real info under imperfect CSI, extreme configurations."""

import math

import gymnasium as gym
import numpy as np
import pytest

import irs_gym  # noqa: F401
from baselines.backscatter import Joint, schedule_beams
from irs_gym.models import backscatter as m

ENV_ID = "irs_gym/BackscatterUplink-v0"
SMALL = dict(num_cells=2, num_users=3, num_pb_antennas=2, num_bs_antennas=2, num_elements=4)


def make(**kwargs):
    return gym.make(ENV_ID, **{**SMALL, **kwargs})


def test_scores_schedule_the_top_n_non_negative_ues_per_cell():
    env = make(channel_mode="static")
    env.reset(seed=0)
    u = env.unwrapped
    cases = [
        ([0.2, 0.9, -0.1, 0.0, 0.0, 0.5], [1, 0, -1, 1, -1, 0]),
        ([-1.0, -0.5, -0.01, 1.0, 0.9, 0.8], [-1, -1, -1, 0, 1, -1]),
        ([0.0, 0.0, 0.0, -1.0, 0.3, -1.0], [0, 1, -1, -1, 0, -1]),  # ties: lower index first
    ]
    for scores, expected in cases:
        action = np.zeros(env.action_space.shape, dtype=np.float32)
        action[-6:] = scores
        stream = u.decode(action).stream
        np.testing.assert_array_equal(stream, expected)


def test_joint_codec_blocks():
    env = make(amplitude_control=True)
    env.reset(seed=1)
    u = env.unwrapped
    cfg = u.config
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[0] = 1.0  # Re w_0
    U, L = cfg.num_ues, cfg.num_elements
    action[4 : 4 + U * L] = 0.5  # phases pi / 2
    action[4 + U * L : 4 + 2 * U * L] = -1.0  # amplitude 0
    action[4 + U * L] = 1.0  # element 0 of UE 0 at amplitude 1
    d = u.decode(action)
    np.testing.assert_allclose(d.w, [math.sqrt(cfg.pb_power_w), 0.0])
    assert d.v[0, 0] == pytest.approx(1j) and d.v[0, 1] == 0 and d.v[5, 3] == 0
    assert env.action_space.shape == (4 + 2 * U * L + U,)
    active = make(uplink="active", num_active_antennas=2)
    active.reset(seed=0)
    a = np.full(active.action_space.shape, 1.0, dtype=np.float32)
    v = active.unwrapped.decode(a).v  # every UE at full power sqrt(P_a) along (1+j, 1+j)
    P_a = active.unwrapped.config.ue_power_w
    np.testing.assert_allclose(np.sum(np.abs(v) ** 2, axis=-1), P_a)
    a[:] = 0.1  # inside the ball: kept as is
    v = active.unwrapped.decode(a).v
    np.testing.assert_allclose(v, math.sqrt(P_a) * (0.1 + 0.1j))


def test_beam_action_weighs_the_reflection_beams_of_the_actions_pb_beam():
    """phase_action="beams": w from the first 2M entries, then per UE 2N beam weights; one
    beam at full weight gives exp(j arg b_{u,n}) with b from the same action's w, the zero
    weights the equal superposition of the unit beams (models.backscatter.reflection_beams)."""
    env = make(phase_action="beams")
    env.reset(seed=2)
    u = env.unwrapped
    cfg = u.config
    U, N, M = cfg.num_ues, cfg.num_bs_antennas, cfg.num_pb_antennas
    assert env.action_space.shape == (2 * M + 2 * U * N + U,)
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[: 2 * M] = [0.3, -1.0, 0.5, 0.2]
    weights = action[2 * M : 2 * M + 2 * U * N].reshape(U, 2 * N)
    weights[:, :N] = -1.0  # every beam at weight 0 ...
    weights[np.arange(U), np.arange(U) % N] = 1.0  # ... but beam u mod N
    action[2 * M : 2 * M + 2 * U * N] = weights.ravel()
    d = u.decode(action)
    np.testing.assert_allclose(
        d.w, m.scale_to_power(np.array([0.3 + 0.5j, -1.0 + 0.2j]), cfg.pb_power_w)
    )
    b = m.reflection_beams(cfg, u.scenario, d.w)
    np.testing.assert_allclose(d.v, np.exp(1j * np.angle(b[np.arange(U), np.arange(U) % N])))
    action[2 * M : 2 * M + 2 * U * N] = 0.0
    unit = b / np.linalg.norm(b, axis=-1, keepdims=True)
    np.testing.assert_allclose(u.decode(action).v, np.exp(1j * np.angle(unit.sum(axis=1))))


@pytest.mark.parametrize(
    "kwargs", [{"action_mode": "schedule"}, {"uplink": "active"}, {"amplitude_control": True}]
)
def test_beam_action_refuses_what_it_cannot_express(kwargs):
    with pytest.raises(ValueError, match="phase_action='beams'"):
        make(phase_action="beams", **kwargs)


def test_schedule_mode_resolves_collisions_and_uses_the_fp_beams():
    env = make(action_mode="schedule", channel_mode="static")
    env.reset(seed=2)
    u = env.unwrapped
    assert env.action_space == gym.spaces.MultiDiscrete([3] * 6)
    action = np.array([1, 1, 2, 0, 2, 2])  # UEs 0, 1 want stream 0; UEs 4, 5 want stream 1
    d = u.decode(action)
    np.testing.assert_array_equal(d.stream, [0, -1, 1, -1, 1, -1])
    ref = schedule_beams(u.config, u.scenario, d.stream)
    np.testing.assert_array_equal(d.v, ref.v)
    np.testing.assert_array_equal(d.w, ref.w)
    np.testing.assert_array_equal(u.encode(d), [1, 0, 2, 0, 2, 0])
    _, reward, _, _, info = env.step(action)
    assert info["objective"] == pytest.approx(
        float(m.metrics(u.config, u.scenario, d)["objective"])
    )
    assert reward == pytest.approx(info["objective"] / 4)


def test_white_and_real_info_under_imperfect_csi():
    env = make(channel_mode="static", csi_error=0.2, amplitude_control=True)
    obs, info = env.reset(seed=3)
    u = env.unwrapped
    assert info["white_wsr_bps_hz"] != info["real_wsr_bps_hz"] == info["objective"]
    sol = Joint().solve(u.scenario, u.config, rng=np.random.default_rng(0))
    _, _, _, _, info = env.step(u.encode(sol.decision))
    assert info["objective"] == pytest.approx(sol.objective, rel=1e-6)
    assert info["white_wsr_bps_hz"] == pytest.approx(sol.history[-1], rel=1e-6)
    # the observation shows the estimates, not the truth
    n = m.observation_size(u.config)
    np.testing.assert_allclose(obs[:n], m.observation(u.config, u.scenario), rtol=1e-6)
    perfect = make()
    _, info = perfect.reset(seed=3)
    assert info["white_wsr_bps_hz"] == info["real_wsr_bps_hz"] == info["objective"]


EXTREMES = [
    dict(pb_power_dbm=60.0, noise_dbm=-200.0),  # SNR ~ 1e26
    dict(pb_power_dbm=-30.0, noise_dbm=0.0),  # SNR ~ 1e-19
    dict(uplink="active", ue_power_dbm=40.0, noise_dbm=-200.0),
    dict(uplink="passive", ue_power_dbm=-30.0, noise_dbm=0.0),
    dict(uplink="passive", ue_power_dbm=40.0, noise_dbm=-200.0),  # beyond float64's range
    dict(csi_error=1.0, amplitude_control=True),
    dict(num_cells=4, num_users=1, num_bs_antennas=1),
    dict(channel_mode="markov", rho=0.0, csi_error=0.3),
    dict(channel_mode="markov", rho=1.0),
    dict(weights=(1e-3, 1e3, 1.0, 1.0, 1.0, 1.0), rician_factor=0.0, array="upa"),
    dict(rician_factor=1e6, cell_radius_m=1e-3, bs_distance_m=1e-3),  # UEs on the PB
]


@pytest.mark.parametrize(
    "kwargs", EXTREMES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
)
def test_extreme_configs_stay_finite(kwargs):
    env = make(max_episode_steps=2, **kwargs)
    obs, info = env.reset(seed=0)
    assert np.all(np.isfinite(obs)) and info["feasible"]
    space = env.action_space
    space.seed(0)
    actions = [np.full(space.shape, x, np.float32) for x in (-1.0, 0.0, 1.0)] + [space.sample()]
    for t, action in enumerate(actions):
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.all(np.isfinite(obs)) and math.isfinite(reward), t
        assert info["feasible"], (t, info["constraint_violation"])
        for key, value in info.items():
            if not isinstance(value, str):
                assert np.all(np.isfinite(np.asarray(value, dtype=float))), (t, key)
        if terminated or truncated:
            env.reset()


@pytest.mark.parametrize("uplink", ["backscatter", "passive"])
def test_large_scale_observation_is_the_gains_then_the_positions(uplink):
    """observation="large_scale": (10 log10 Sigma - GAIN_OFFSET_DB) / GAIN_SPAN_DB of Sigma_H
    (U, with PB), Sigma_F (I U), Sigma_G (I, with PB), then x, y / POSITION_SCALE_M per UE,
    computed here from the scenario; the same entries end the channel observation."""
    kwargs = dict(SMALL, uplink=uplink, phase_action="beams")
    env = gym.make(ENV_ID, **kwargs, observation="large_scale")
    full = gym.make(ENV_ID, **kwargs)
    obs, _ = env.reset(seed=3)
    full_obs, _ = full.reset(seed=3)
    sc = env.unwrapped.scenario
    gains = [sc.gain_H, sc.gain_F, sc.gain_G] if uplink == "backscatter" else [sc.gain_F]
    db = np.concatenate([10 * np.log10(np.ravel(g)) for g in gains])
    expected = np.concatenate(
        [(db - m.GAIN_OFFSET_DB) / m.GAIN_SPAN_DB, np.ravel(sc.ue_positions_m[:, :2]) / 100.0]
    )
    np.testing.assert_allclose(obs, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(obs, full_obs[-obs.size :])
