"""Hypothesis over ``BlockAllocation-v0`` configs and arbitrary actions: every decoded
allocation is feasible (sum <= n_b, or exactly A users and every block with A fixed), the
step info agrees, and every number stays finite (RuntimeWarnings are errors)."""

import math

import gymnasium as gym
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

ENV_ID = "irs_gym/BlockAllocation-v0"
BIG = float(np.float32(1e30))
DIVISORS_150 = [1, 2, 3, 5, 6, 10, 15, 25, 30, 50, 75, 150]


@st.composite
def configs(draw) -> dict:
    num_users = draw(st.integers(1, 12))
    block_size = draw(st.sampled_from(DIVISORS_150[3:]))  # n_b <= 30
    n_b = 150 // block_size
    assisted = draw(st.one_of(st.none(), st.integers(1, min(num_users, n_b))))
    radius = draw(st.floats(10.5, 3000.0))
    return dict(
        num_users=num_users,
        block_size=block_size,
        assisted_users=assisted,
        cell_radius_m=radius,
        irs_distance_m=draw(st.floats(1.0, 2 * radius)),
        rate_bps=draw(st.floats(1e3, 2e7)) / num_users,
        reflection_amplitude=draw(st.floats(0.01, 1.0)),
        antenna_gains=draw(st.sampled_from(["literal", "bjornson", "physical"])),
        user_placement=draw(st.sampled_from(["area", "radius"])),
        bs_type=draw(st.sampled_from(["macro", "rrh", "micro", "pico", "femto"])),
        action_mode=draw(st.sampled_from(["box", "multidiscrete"])),
        channel_mode=draw(st.sampled_from(["iid", "static"])),
    )


def actions_for(space: gym.Space):
    if isinstance(space, gym.spaces.MultiDiscrete):
        return arrays(np.int64, space.shape, elements=st.integers(0, int(space.nvec[0]) - 1))
    special = st.sampled_from([np.float32(-1.0), np.float32(0.0), np.float32(1.0)])
    return st.one_of(
        arrays(np.float32, space.shape, elements=st.floats(-1.0, 1.0, width=32)),
        arrays(np.float32, space.shape, elements=special),
        # any finite value decodes (clipped to [-1, 1] first)
        arrays(np.float32, space.shape, elements=st.floats(-BIG, BIG, width=32)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kwargs=configs(), seed=st.integers(0, 2**32 - 1))
def test_codec_always_feasible(data, kwargs, seed):
    env = gym.make(ENV_ID, max_episode_steps=3, **kwargs)
    u = env.unwrapped
    cfg = u.config
    obs, info = env.reset(seed=seed)
    assert obs in env.observation_space and np.all(np.isfinite(obs))
    for t in range(4):
        action = data.draw(actions_for(env.action_space), label=f"action {t}")
        x = u.decode(action).blocks
        assert x.shape == (cfg.num_users,) and np.all(x >= 0), t
        if cfg.assisted_users is None:
            assert x.sum() <= cfg.num_blocks, t
        else:
            assert x.sum() == cfg.num_blocks and np.sum(x > 0) == cfg.assisted_users, t
        np.testing.assert_array_equal(u.decode(u.encode(u.decode(action))).blocks, x)
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["feasible"] and info["constraint_violation"] == 0.0, t
        np.testing.assert_array_equal(info["blocks"], x)
        assert math.isfinite(reward) and np.all(np.isfinite(obs)), t
        assert 0.0 <= info["objective"] < 100.0 and info["power_saving_pct"] < 100.0
        if terminated or truncated:
            env.reset()
