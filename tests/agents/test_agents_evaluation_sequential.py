"""Multi-step decisions (sequential block allocation) are evaluated over whole episodes."""

import gymnasium as gym
import numpy as np
import pytest

import irs_gym  # noqa: F401
from agents.evaluation import evaluate_agent, evaluate_solver
from baselines import for_env

ENV_ID = "irs_gym/BlockAllocation-v0"
KW = {"num_users": 4, "block_size": 50, "action_mode": "sequential"}


class FirstAllowed:
    """Always asks for user 0 (the env redirects a masked choice to the next allowed user)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.zeros(len(obs), dtype=np.int64), None


def test_agent_is_scored_on_the_complete_allocation():
    env = gym.make(ENV_ID, **KW)
    n_b = env.unwrapped.config.num_blocks
    [res] = evaluate_agent(FirstAllowed(), env, [3])
    env.reset(seed=3)
    objectives = []
    for _ in range(n_b):
        *_, terminated, _, info = env.step(0)
        objectives.append(info["objective"])
    assert terminated and np.sum(info["blocks"]) == n_b
    assert res.objective == pytest.approx(objectives[-1])
    assert res.objective > objectives[0]  # more than the first block's saving


def test_solver_is_scored_on_its_decision():
    env = gym.make(ENV_ID, **KW)
    dp = for_env(ENV_ID, config=env.unwrapped.config)["dp"]
    records = evaluate_solver(dp, env, [0, 1, 2])
    for rec, seed in zip(records, [0, 1, 2], strict=True):
        env.reset(seed=seed)
        sol = dp.solve(env.unwrapped.scenario, env.unwrapped.config)
        assert rec.objective == pytest.approx(sol.objective, rel=1e-9)
        assert rec.objective > 0
