"""Gymnasium's and SB3's env checkers pass with no exception and no warning (STYLE ex. 10)."""

import warnings

import gymnasium as gym
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env


def assert_checkers_silent(env) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env, warn=True)
    messages = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    assert messages == []


def test_checkers_per_channel_mode(make_env, channel_mode):
    assert_checkers_silent(make_env(channel_mode=channel_mode))


def test_checkers_per_variant(make_env, variant):
    """Action-space variants (quantised, MultiDiscrete, MMSE precoder, two IRSs...)."""
    assert_checkers_silent(make_env(**variant))


def test_checkers_default_config(env_id):
    """The registered default config, not only the small one."""
    assert_checkers_silent(gym.make(env_id))
