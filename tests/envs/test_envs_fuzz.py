"""Hypothesis fuzzing of MultiIRSDownlink-v0 (model 004) across the documented config ranges
and arbitrary actions in the action space: observations, rewards and every numeric info value
stay finite, and every decoded action is feasible. RuntimeWarnings from irs_gym are errors
(pyproject), so an overflow or a 0/0 inside the model fails here too."""

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

ENV_ID = "irs_gym/MultiIRSDownlink-v0"

mult4 = st.sampled_from([4, 8, 12, 16])


@st.composite
def configs(draw) -> dict:
    num_irs = draw(st.integers(1, 2))
    per_irs = draw(st.booleans())
    elements = tuple(draw(mult4) for _ in range(num_irs)) if per_irs else draw(mult4)
    inter_irs = num_irs == 2 and draw(st.booleans())
    num_users = draw(st.integers(1, 4))
    kwargs = dict(
        num_bs_antennas=draw(mult4),
        num_elements=elements,
        num_irs=num_irs,
        num_users=num_users,
        tx_power_dbm=draw(st.floats(-30.0, 60.0)),
        noise_dbm=draw(st.floats(-200.0, 0.0)),
        objective=draw(st.sampled_from(["wsr", "min_rate"])),
        phase_levels=draw(st.sampled_from([0, 2, 3, 4, 8, 16])),
        inter_irs=inter_irs,
        reverse_path=inter_irs and draw(st.booleans()),
        blockage_prob=draw(st.floats(0.0, 1.0)),
        blockage_prob_inter=draw(st.floats(0.0, 1.0)),
        channel_mode=draw(st.sampled_from(["iid", "static", "markov"])),
        rho=draw(st.floats(0.0, 1.0)),
    )
    if draw(st.booleans()):
        kwargs["weights"] = tuple(draw(st.floats(1e-3, 1e3)) for _ in range(num_users))
    if kwargs["phase_levels"] >= 2 and draw(st.booleans()):
        kwargs.update(phase_action="discrete")
    elif draw(st.booleans()):
        kwargs.update(precoder="mmse")
    return kwargs


def actions_for(space: gym.Space):
    """Actions of ``space``; a batched MultiDiscrete is an integer Box in gymnasium 1.x."""
    if isinstance(space, gym.spaces.MultiDiscrete):
        return arrays(np.int64, space.shape, elements=st.integers(0, int(space.nvec.max()) - 1))
    if np.issubdtype(space.dtype, np.integer):
        high = int(space.high.max())
        return arrays(np.int64, space.shape, elements=st.integers(0, high))
    special = st.sampled_from([np.float32(-1.0), np.float32(0.0), np.float32(1.0)])
    return st.one_of(
        arrays(np.float32, space.shape, elements=st.floats(-1.0, 1.0, width=32)),
        arrays(np.float32, space.shape, elements=special),
    )


def assert_finite_info(info: dict, where: str) -> None:
    for key, value in info.items():
        if isinstance(value, str):
            continue
        arr = np.asarray(value, dtype=np.float64)
        assert np.all(np.isfinite(arr)), f"{where}: info[{key!r}] = {value!r}"
    assert info["feasible"] is True, f"{where}: violation {info['constraint_violation']}"


#: Corners of the config space that random draws rarely hit together.
EXTREMES = [
    dict(blockage_prob=1.0),  # every link blocked: zero channels
    dict(num_irs=2, inter_irs=True, reverse_path=True, blockage_prob=1.0, blockage_prob_inter=1.0),
    dict(tx_power_dbm=60.0, noise_dbm=-200.0, num_users=4),  # SNR ~ 1e27
    dict(tx_power_dbm=-30.0, noise_dbm=0.0, objective="min_rate"),  # SNR ~ 1e-16
    dict(tx_power_dbm=60.0, noise_dbm=-200.0, precoder="mmse", num_users=4),
    dict(tx_power_dbm=-30.0, noise_dbm=0.0, phase_levels=2, phase_action="discrete"),
    dict(channel_mode="markov", rho=0.0),
    dict(channel_mode="markov", rho=1.0, blockage_prob=1.0),
    dict(channel_mode="static", phase_levels=16, weights=(1e-3, 1e3)),
]


@pytest.mark.parametrize(
    "kwargs", EXTREMES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
)
def test_extreme_configs_finite(kwargs):
    base = dict(num_bs_antennas=4, num_elements=4, num_irs=1, num_users=2)
    env = gym.make(ENV_ID, max_episode_steps=2, **{**base, **kwargs})
    obs, info = env.reset(seed=0)
    assert np.all(np.isfinite(obs))
    assert_finite_info(info, "reset")
    space = env.action_space
    space.seed(0)
    if isinstance(space, gym.spaces.MultiDiscrete):
        actions = [np.zeros(space.shape, np.int64), space.nvec - 1, space.sample()]
    else:
        actions = [np.full(space.shape, v, np.float32) for v in (-1.0, 0.0, 1.0)]
        actions.append(space.sample())
    for t, action in enumerate(actions):
        obs, reward, terminated, truncated, info = env.step(action)
        assert np.all(np.isfinite(obs)) and math.isfinite(reward), f"step {t}"
        assert_finite_info(info, f"step {t}")
        if terminated or truncated:
            env.reset()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kwargs=configs(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_finite_and_feasible(data, kwargs, seed):
    env = gym.make(ENV_ID, max_episode_steps=3, **kwargs)
    obs, info = env.reset(seed=seed)
    assert obs in env.observation_space and np.all(np.isfinite(obs))
    assert_finite_info(info, "reset")
    for t in range(4):  # crosses the truncation at step 3
        action = data.draw(actions_for(env.action_space), label=f"action {t}")
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs in env.observation_space and np.all(np.isfinite(obs)), f"step {t}"
        assert isinstance(reward, float) and math.isfinite(reward), f"step {t}"
        assert_finite_info(info, f"step {t}")
        if terminated or truncated:
            obs, info = env.reset()
            assert np.all(np.isfinite(obs))
            assert_finite_info(info, "reset")


@settings(max_examples=15, deadline=None)
@given(data=st.data(), kwargs=configs(), seed=st.integers(0, 2**32 - 1))
def test_fuzz_vector_finite(data, kwargs, seed):
    env = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    obs, _ = env.reset(seed=seed)
    assert np.all(np.isfinite(obs))
    for t in range(2):
        action = data.draw(actions_for(env.action_space), label=f"action {t}")
        obs, reward, _, _, info = env.step(action)
        assert np.all(np.isfinite(obs)) and np.all(np.isfinite(reward)), f"step {t}"
        for key, value in info.items():
            if not key.startswith("_") and np.asarray(value).dtype != object:
                assert np.all(np.isfinite(np.asarray(value, dtype=np.float64))), key
        assert info["feasible"].all()
