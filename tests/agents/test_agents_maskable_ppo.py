"""MaskablePPO (sb3-contrib) on BlockAllocation-v0's sequential mode: the preset selects the
mode through its ``env_kwargs``, training and evaluation hand the env's action masks to the
model, so no masked user is ever chosen, and presets' env kwargs sit under the user's."""

from __future__ import annotations

import json
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import MaskablePPO

from agents import hyperparams as hp
from agents import list_presets, load_preset, make_agent
from agents.evaluation import evaluate_agent
from agents.factory import algo_class, merge_env_kwargs
from irs_gym.envs.block_allocation import BlockAllocationEnv, BlockAllocationVectorEnv

ENV_ID = "irs_gym/BlockAllocation-v0"
#: K = 4 users, n_b = 3 blocks, exactly 2 assisted users: the masks bind (with A free every
#: user is allowed until the last block)
SMALL = {"num_users": 4, "block_size": 50, "assisted_users": 2}
SMALL_ARGS = ["num_users=4", "block_size=50", "assisted_users=2"]
TINY_PPO = {"n_steps": 32, "batch_size": 32, "n_epochs": 1}
SEEDS = list(range(40, 56))


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def chosen(monkeypatch):
    """Every action a BlockAllocation env (single or batched) is stepped with, as
    ``(allowed, action)`` pairs: whether the env's mask just before the step allowed it."""
    record: list[tuple[bool, int]] = []
    single_step, vector_step = BlockAllocationEnv.step, BlockAllocationVectorEnv.step

    def single(self, action):
        record.append((bool(self.action_masks()[int(action)]), int(action)))
        return single_step(self, action)

    def vector(self, actions):
        masks, live = self.action_masks(), np.flatnonzero(~self._autoreset)
        record.extend((bool(masks[i, int(actions[i])]), int(actions[i])) for i in live)
        return vector_step(self, actions)

    monkeypatch.setattr(BlockAllocationEnv, "step", single)
    monkeypatch.setattr(BlockAllocationVectorEnv, "step", vector)
    return record


def test_preset_selects_the_sequential_mode():
    assert list_presets(ENV_ID)["maskable_ppo"] == ["default", "fast"]
    assert algo_class("maskable_ppo") is MaskablePPO
    for preset in ("default", "fast"):
        values = load_preset(ENV_ID, "maskable_ppo", preset)
        assert values["env_kwargs"] == {"action_mode": "sequential"}
        assert values["gamma"] == 1.0
    assert load_preset(ENV_ID, "maskable_ppo", "fast")["total_timesteps"] == 50_000


@pytest.mark.parametrize("vec", ["dummy", "batched"])
def test_training_never_takes_a_masked_action(vec, chosen):
    model, venv = make_agent(
        "maskable_ppo",
        ENV_ID,
        preset="fast",
        n_envs=2,
        env_kwargs=SMALL,
        hyperparams=TINY_PPO,
        vec=vec,
    )
    assert isinstance(model, MaskablePPO)
    assert venv.action_space == gym.spaces.Discrete(4)  # the preset's action_mode reached it
    model.learn(256)
    assert model.num_timesteps == 256
    assert len(chosen) >= 256 and all(allowed for allowed, _ in chosen)


def test_evaluation_passes_the_masks_at_every_step(chosen):
    model, _ = make_agent("maskable_ppo", ENV_ID, preset="fast", n_envs=1, env_kwargs=SMALL)
    env = gym.make(ENV_ID, **merge_env_kwargs(load_preset(ENV_ID, "maskable_ppo"), SMALL))
    n_b = env.unwrapped.config.num_blocks
    results = evaluate_agent(model, env, SEEDS, batch_size=5)
    assert len(chosen) == n_b * len(SEEDS) and all(allowed for allowed, _ in chosen)
    assert len({a for _, a in chosen}) > 1

    # the same decisions as one env per seed with env.action_masks()
    expected = []
    for seed in SEEDS:
        obs, _ = env.reset(seed=seed)
        for _ in range(n_b):
            mask = env.unwrapped.action_masks()
            action, _ = model.predict(obs, deterministic=True, action_masks=mask)
            obs, _, terminated, _, info = env.step(action)
        assert terminated
        expected.append(info["objective"])
    assert [r.objective for r in results] == expected

    # without the masks the same network picks masked users: the check above can fail
    chosen.clear()

    class Unmasked:
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return model.predict(obs, deterministic=deterministic)

    evaluate_agent(Unmasked(), env, SEEDS)
    assert not all(allowed for allowed, _ in chosen)


def test_a_clear_error_without_sb3_contrib(monkeypatch):
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)  # makes the import fail
    with pytest.raises(ImportError, match="'maskable_ppo' needs sb3-contrib"):
        make_agent("maskable_ppo", ENV_ID, n_envs=1, env_kwargs=SMALL)


def test_user_env_kwargs_override_the_preset():
    assert merge_env_kwargs({"env_kwargs": {"a": 1, "b": [1, 2]}}, {"a": 2}) == {
        "a": 2,
        "b": (1, 2),
    }
    assert merge_env_kwargs({}, None) == {}
    with pytest.raises(ValueError, match="needs a discrete action space with action masks"):
        make_agent("maskable_ppo", ENV_ID, n_envs=1, env_kwargs={**SMALL, "action_mode": "box"})


def test_env_kwargs_preset_key(tmp_path, monkeypatch, tiny):
    """A preset's ``env_kwargs`` table (not a named preset) reaches the env; the user's win."""
    monkeypatch.setattr(hp, "PRESET_DIR", tmp_path)
    (tmp_path / "MultiIRSDownlink-v0.toml").write_text(
        """
[ppo]
n_steps = 8
batch_size = 8
env_kwargs = { num_users = 3, objective = "min_rate" }
[ppo.two]
env_kwargs = { num_users = 2 }
"""
    )
    assert list_presets(tiny["env_id"]) == {"ppo": ["default", "two"]}
    assert load_preset(tiny["env_id"], "ppo", "two")["env_kwargs"] == {
        "num_users": 2,
        "objective": "min_rate",
    }
    small = {k: v for k, v in tiny["kwargs"].items() if k != "num_users"}
    _, venv = make_agent("ppo", tiny["env_id"], n_envs=1, env_kwargs=small)
    assert venv.envs[0].unwrapped.config.num_users == 3
    assert venv.envs[0].unwrapped.config.objective == "min_rate"
    _, venv = make_agent("ppo", tiny["env_id"], preset="two", n_envs=1, env_kwargs=small)
    assert venv.envs[0].unwrapped.config.num_users == 2
    _, venv = make_agent(
        "ppo", tiny["env_id"], preset="two", n_envs=1, env_kwargs={**small, "objective": "wsr"}
    )
    assert venv.envs[0].unwrapped.config.num_users == 2
    assert venv.envs[0].unwrapped.config.objective == "wsr"
    (tmp_path / "MultiIRSDownlink-v0.toml").write_text("[ppo]\nenv_kwargs = 3\n")
    with pytest.raises(ValueError, match="env_kwargs must be a table"):
        load_preset(tiny["env_id"], "ppo")


def test_train_py_runs_evaluates_and_resumes_the_preset(train_module, tmp_path, capsys):
    log_dir = tmp_path / "runs"
    run = log_dir / "BlockAllocation-v0__maskable_ppo__s0"
    base = ["--env", ENV_ID, "--algo", "maskable_ppo", "--preset", "fast", "--n-envs", "2"]
    base += ["--log-dir", str(log_dir), "--env-kwargs", *SMALL_ARGS, "--no-progress-bar"]
    argv = [*base, "--hyperparams", "n_steps=32", "batch_size=32", "n_epochs=1"]
    argv += ["--total-timesteps", "256", "--eval-freq", "128", "--eval-episodes", "3"]
    assert train_module.main([*argv, "--evaluate"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["env_kwargs"] == {**SMALL, "action_mode": "sequential"}
    assert config["num_timesteps"] == 256
    assert MaskablePPO.load(run / "model.zip").num_timesteps == 256
    report = json.loads((run / "evaluation" / "results.json").read_text())
    agent = [e for e in report["episodes"] if e["kind"] == "agent"]
    assert len(agent) == 3 and all(e["objective"] > 0 and e["feasible"] for e in agent)
    assert report["env_options"]["action_mode"] == "sequential"
    # resuming with the same user env kwargs is no change (the preset's sit under them) ...
    capsys.readouterr()
    assert train_module.main([*argv, "--resume"]) == 0
    assert "already has 256" in capsys.readouterr().out
    # ... while a user value that differs from the run's (the preset's action_mode) is refused
    with pytest.raises(SystemExit):
        train_module.main([*argv, "--resume", "--env-kwargs", *SMALL_ARGS, "action_mode=box"])
    assert "--env-kwargs" in capsys.readouterr().err
