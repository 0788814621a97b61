"""Batched evaluation (``agents.evaluation.evaluate_agent``) scores exactly what one env per
seed scores, in any batch split."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import irs_gym
from agents.evaluation import evaluate_agent
from irs_gym.envs.block_allocation import BlockAllocationEnv

SEEDS = list(range(500, 516))
BLOCKS = "irs_gym/BlockAllocation-v0"


class LinearPolicy:
    """A fixed map obs -> action, row by row (the same bits for any batch size): tanh(W obs)
    for Box, argmax(W obs) for Discrete, tanh(W obs) quantised to the levels for
    MultiDiscrete."""

    def __init__(self, observation_space: spaces.Box, action_space: spaces.Space, seed: int):
        self.space = action_space
        rows = action_space.n if isinstance(action_space, spaces.Discrete) else action_space.shape
        d = observation_space.shape[0]
        self.w = np.random.default_rng(seed).standard_normal((*np.atleast_1d(rows), d)) / d**0.5

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        z = (np.asarray(obs, dtype=np.float64)[:, None, :] * self.w).sum(axis=-1)
        if isinstance(self.space, spaces.Discrete):
            return z.argmax(axis=-1), None
        if isinstance(self.space, spaces.MultiDiscrete):
            levels = np.floor((np.tanh(z) + 1.0) / 2.0 * self.space.nvec)
            return np.minimum(levels, self.space.nvec - 1).astype(np.int64), None
        return np.tanh(z).astype(np.float32), None


def per_seed(model, env: gym.Env, seeds, masked: bool = False) -> list[float]:
    """The one-env-per-seed protocol: reset with the seed, step ``predict`` (on a batch of
    one) until the decision is complete, take the last info's objective."""
    multi = env.unwrapped.multi_step_decisions
    out = []
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        while True:
            extra = {"action_masks": env.unwrapped.action_masks()[None]} if masked else {}
            action, _ = model.predict(obs[None], deterministic=True, **extra)
            obs, _, terminated, truncated, info = env.step(action[0])
            if not multi or terminated or truncated:
                break
        out.append(info["objective"])
    return out


CASES = [(env_id, {}) for env_id in sorted(irs_gym.ENV_IDS)] + [
    (BLOCKS, {"action_mode": "multidiscrete"}),
    (BLOCKS, {"action_mode": "sequential"}),
    (BLOCKS, {"action_mode": "sequential", "assisted_users": 2}),
]


@pytest.mark.parametrize(("env_id", "extra"), CASES)
def test_batched_equals_one_env_per_seed(env_id, extra, env_small_kwargs):
    env = gym.make(env_id, **env_small_kwargs.get(env_id, {}), **extra)
    policy = LinearPolicy(env.observation_space, env.action_space, seed=3)
    expected = per_seed(policy, env, SEEDS)
    for batch_size in (256, 5):  # one batch; batches of 5, 5, 5 and 1
        results = evaluate_agent(policy, env, SEEDS, name="lin", batch_size=batch_size)
        assert [r.seed for r in results] == SEEDS
        assert [r.episode for r in results] == list(range(len(SEEDS)))
        assert [r.objective for r in results] == expected
        assert all(r.policy == "lin" and r.status == "ok" and r.seconds >= 0 for r in results)
    assert len(set(expected)) > 1  # the realisations differ


def test_observation_normalisation_is_applied_to_the_batch():
    env = gym.make(BLOCKS, num_users=4, block_size=50)
    policy = LinearPolicy(env.observation_space, env.action_space, seed=1)
    shift = np.linspace(-1.0, 1.0, env.observation_space.shape[0], dtype=np.float32)

    class Shifted:  # the policy on the normalised observation, for the per-seed reference
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return policy.predict(obs - shift)

    results = evaluate_agent(policy, env, SEEDS, normalize_obs=lambda x: x - shift)
    assert [r.objective for r in results] == per_seed(Shifted(), env, SEEDS)
    assert [r.objective for r in results] != per_seed(policy, env, SEEDS)


def test_multi_step_batch_scores_complete_allocations():
    env = gym.make(BLOCKS, num_users=4, block_size=50, action_mode="sequential")
    n_b = env.unwrapped.config.num_blocks
    policy = LinearPolicy(env.observation_space, env.action_space, seed=2)
    calls = []

    class Counting:
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            calls.append(len(obs))
            return policy.predict(obs)

    evaluate_agent(Counting(), env, SEEDS[:6], batch_size=4)
    # every sub-env decides n_b times: batches of 4 then 2, one predict call per step
    assert calls == [4] * n_b + [2] * n_b


def test_bad_arguments():
    env = gym.make(BLOCKS, num_users=4, block_size=50)
    policy = LinearPolicy(env.observation_space, env.action_space, seed=0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        evaluate_agent(policy, env, SEEDS, batch_size=0)
    with pytest.raises(ValueError, match="native batched env"):
        evaluate_agent(policy, BlockAllocationEnv(num_users=4, block_size=50), SEEDS)

    class OneAction:  # one action for a whole batch
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return np.zeros(4, dtype=np.float32), None

    with pytest.raises(ValueError, match=r"must return actions of shape \(3, 4\)"):
        evaluate_agent(OneAction(), env, SEEDS[:3])


def test_cli_batch_size(capsys):
    from agents.evaluate import build_parser, main

    assert build_parser().parse_args(["--env", BLOCKS]).batch_size == 256
    with pytest.raises(SystemExit):
        main(["--env", BLOCKS, "--batch-size", "0", "--baselines", "none"])
    assert "--batch-size must be >= 1, got 0" in capsys.readouterr().err
