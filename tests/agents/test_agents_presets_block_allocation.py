"""The BlockAllocation-v0 presets build an agent for every (algo, preset) at a small config,
and PPO trains a few steps in the sequential (Discrete) action mode (MaskablePPO's presets:
``test_agents_maskable_ppo.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from agents import ALGOS, list_presets, make_agent
from agents.factory import ALGO_NAMES

ENV_ID = "irs_gym/BlockAllocation-v0"
SMALL = {"num_users": 4, "block_size": 50}  # K = 4, n_b = 3

CASES = [
    (algo, p) for algo, presets in list_presets(ENV_ID).items() if algo in ALGOS for p in presets
]


def test_presets_cover_every_algo():
    assert set(list_presets(ENV_ID)) == set(ALGO_NAMES)


@pytest.mark.parametrize(("algo", "preset"), CASES)
def test_preset_builds_and_predicts(algo, preset):
    model, venv = make_agent(algo, ENV_ID, preset=preset, n_envs=2, env_kwargs=SMALL)
    assert isinstance(model, ALGOS[algo]) and model.action_space.shape == (4,)
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (2, 4) and np.all(np.abs(action) <= 1.0)


def test_ppo_runs_on_the_sequential_mode():
    model, venv = make_agent(
        "ppo",
        ENV_ID,
        preset="fast",
        n_envs=2,
        env_kwargs={**SMALL, "action_mode": "sequential"},
        hyperparams={"n_steps": 8, "batch_size": 8},
    )
    model.learn(16)
    assert model.num_timesteps == 16
    action, _ = model.predict(venv.reset())
    assert action.shape == (2,) and np.all((action >= 0) & (action < 4))
