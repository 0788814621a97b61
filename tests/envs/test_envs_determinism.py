"""Seeding contract (STYLE ex. 3 and 10): the same seed gives the same rollout, across episode
boundaries; another seed gives another one. Gymnasium's ``test_env_determinism_rollout``."""

from typing import Any

import gymnasium as gym
import numpy as np

STEPS = 30
EPISODE = 7  # several truncations within STEPS


def assert_same(a: Any, b: Any, where: str) -> None:
    """Exact equality of nested observations, rewards and infos (arrays bit for bit)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, tuple | list):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert np.asarray(a).dtype == np.asarray(b).dtype, where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def rollout(env: gym.Env, seed: int, actions: list[Any]) -> list[tuple]:
    """reset(seed), then step through ``actions``, resetting (unseeded) at episode ends."""
    obs, info = env.reset(seed=seed)
    record = [(obs, info)]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        record.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            record.append(env.reset())
    return record


def sample_actions(space: gym.Space, n: int, seed: int = 0) -> list[Any]:
    space.seed(seed)
    return [space.sample() for _ in range(n)]


def test_same_seed_same_rollout(make_env, channel_mode):
    env_a = make_env(channel_mode=channel_mode, max_episode_steps=EPISODE)
    env_b = make_env(channel_mode=channel_mode, max_episode_steps=EPISODE)
    actions = sample_actions(env_a.action_space, STEPS)
    run_a, run_b = rollout(env_a, 123, actions), rollout(env_b, 123, actions)
    assert len(run_a) == len(run_b) > STEPS + 1  # at least one reset inside the rollout
    assert_same(run_a, run_b, "rollout")
    # The same env object reseeded replays the rollout too.
    assert_same(run_a, rollout(env_a, 123, actions), "replay")


def test_other_seed_other_rollout(make_env, channel_mode):
    env = make_env(channel_mode=channel_mode, max_episode_steps=EPISODE)
    actions = sample_actions(env.action_space, STEPS)
    run_a, run_b = rollout(env, 1, actions), rollout(env, 2, actions)
    obs_a = np.stack([entry[0] for entry in run_a])
    obs_b = np.stack([entry[0] for entry in run_b])
    assert not np.any(np.all(obs_a == obs_b, axis=-1)), "two seeds gave an identical observation"


def test_unseeded_reset_continues_the_stream(make_env, channel_mode):
    """reset() without a seed draws a new realisation (the seed is not re-applied)."""
    env = make_env(channel_mode=channel_mode)
    first, _ = env.reset(seed=7)
    second, _ = env.reset()
    assert not np.array_equal(first, second)


def test_vector_env_same_seed_same_rollout(env_id, small_kwargs, channel_mode):
    def run() -> list[tuple]:
        env = gym.make_vec(
            env_id,
            num_envs=3,
            vectorization_mode="vector_entry_point",
            max_episode_steps=EPISODE,
            channel_mode=channel_mode,
            **small_kwargs,
        )
        record = [env.reset(seed=5)]
        for action in sample_actions(env.action_space, STEPS):
            record.append(env.step(action))
        return record

    run_a, run_b = run(), run()
    assert any(entry[3].any() for entry in run_a[1:])  # the rollout crossed a truncation
    assert_same(run_a, run_b, "vector rollout")
