"""Invalid actions and configurations raise ValueError naming the problem (ARCHITECTURE
"Public contract", "Reliability")."""

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

BAD_ENTRIES = [np.nan, np.inf, -np.inf]
NON_FINITE = r"NaN|inf|finite"  # the message names the problem


def valid_action(space: gym.Space) -> np.ndarray:
    space.seed(0)
    return np.asarray(space.sample())


def make_vec(env_id, small_kwargs, num_envs=2, **kwargs):
    return gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        **{**small_kwargs, **kwargs},
    )


@pytest.mark.parametrize("bad", BAD_ENTRIES)
def test_non_finite_action_single(make_env, variant, bad):
    env = make_env(**variant)
    env.reset(seed=0)
    action = valid_action(env.action_space).astype(np.float64)
    action[-1] = bad
    with pytest.raises(ValueError, match=NON_FINITE):
        env.step(action)
    with pytest.raises(ValueError, match=NON_FINITE):
        env.unwrapped.decode(action)
    # the env is still usable after the rejected action
    env.step(valid_action(env.action_space))


@pytest.mark.parametrize("bad", BAD_ENTRIES)
def test_non_finite_action_vector(env_id, small_kwargs, variant, bad):
    env = make_vec(env_id, small_kwargs, **variant)
    env.reset(seed=0)
    actions = valid_action(env.action_space).astype(np.float64)
    actions[1, 0] = bad
    with pytest.raises(ValueError, match=NON_FINITE):
        env.step(actions)
    env.step(valid_action(env.action_space))


def test_wrong_action_shape(make_env, env_id, small_kwargs, variant):
    env = make_env(**variant)
    env.reset(seed=0)
    action = valid_action(env.action_space)
    for bad in (action[:-1], np.append(action, action[:1]), action[None], action[0]):
        with pytest.raises(ValueError, match="shape"):
            env.step(bad)
    vec = make_vec(env_id, small_kwargs, **variant)
    vec.reset(seed=0)
    actions = valid_action(vec.action_space)
    for bad in (actions[0], actions[:1], actions[:, :-1]):
        with pytest.raises(ValueError, match="shape"):
            vec.step(bad)


def test_out_of_range_discrete_action(make_env, variant):
    env = make_env(**variant)
    if not isinstance(env.action_space, spaces.MultiDiscrete):
        pytest.skip("continuous action space (any finite value decodes to a feasible decision)")
    env.reset(seed=0)
    action = valid_action(env.action_space)
    for value in (-1, env.action_space.nvec[0], 0.5):
        bad = action.astype(np.float64)
        bad[0] = value
        with pytest.raises(ValueError):
            env.step(bad)


def test_step_before_reset(make_env):
    # gym.make's stack (registered without OrderEnforcing) and the bare env both refuse
    for env in (make_env(), make_env().unwrapped):
        with pytest.raises(gym.error.ResetNeeded):
            env.step(valid_action(env.action_space))


def test_unknown_kwarg_is_named(env_id, small_kwargs):
    with pytest.raises(ValueError, match="num_userz"):
        gym.make(env_id, num_userz=3, **small_kwargs)
    with pytest.raises(ValueError, match="num_userz"):
        make_vec(env_id, small_kwargs, num_userz=3)


def test_out_of_range_config_is_named(env_id, small_kwargs, bad_field, bad_value):
    kwargs = {**small_kwargs, bad_field: bad_value}
    with pytest.raises(ValueError, match=re.escape(bad_field)):
        gym.make(env_id, **kwargs)
    with pytest.raises(ValueError, match=re.escape(bad_field)):
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **kwargs)


def test_render_mode_rejected(env_id, small_kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium's own "not in render_modes" warning
        with pytest.raises(ValueError, match="render_mode"):
            gym.make(env_id, render_mode="human", **small_kwargs)
