"""Presets: every preset file names a registered env; every algo table builds an agent."""

from __future__ import annotations

import gymnasium as gym
import pytest
from stable_baselines3.common.vec_env import VecNormalize

import irs_gym
from agents import ALGOS, list_presets, load_preset, make_agent, preset_env_ids
from agents import hyperparams as hp
from agents.factory import ALGO_NAMES, algo_class, merge_env_kwargs, normalize_options

PRESET_CASES = [
    (env_id, algo, preset)
    for env_id in preset_env_ids()
    for algo, presets in list_presets(env_id).items()
    for preset in presets
]


def test_every_preset_file_names_a_registered_env():
    assert preset_env_ids(), "no preset files found"
    for env_id in preset_env_ids():
        assert env_id in irs_gym.ENV_IDS
        # every SB3 algo; the maskable ones only where the env has action masks
        assert set(ALGOS) <= set(list_presets(env_id)) <= set(ALGO_NAMES), env_id


@pytest.mark.parametrize(("env_id", "algo", "preset"), PRESET_CASES)
def test_every_preset_builds_an_agent(env_id, algo, preset, env_small_kwargs):
    values = load_preset(env_id, algo, preset)
    assert values["total_timesteps"] >= 1 and values["n_envs"] >= 1
    assert "net_arch" in values["policy_kwargs"]
    kwargs = env_small_kwargs.get(env_id, {})
    model, venv = make_agent(algo, env_id, preset=preset, n_envs=2, env_kwargs=kwargs)
    assert isinstance(model, algo_class(algo))
    assert venv.num_envs == 2
    space = gym.make(env_id, **merge_env_kwargs(values, kwargs)).action_space
    expected = space.shape
    assert model.action_space == space
    assert isinstance(venv, VecNormalize) == (
        normalize_options(values.get("normalize")) is not None
    )
    obs = venv.reset()
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (2, *expected) and all(space.contains(a) for a in action)


def test_make_agent_learns_and_takes_overrides(tiny):
    model, _ = make_agent(
        "a2c",
        tiny["env_id"],
        n_envs=1,
        env_kwargs=tiny["kwargs"],
        hyperparams={"n_steps": 4, "policy_kwargs": {"net_arch": [8]}},
    )
    assert model.n_steps == 4
    model.learn(8)
    assert model.num_timesteps == 8


def test_unknown_algo_env_and_preset_raise(tiny):
    with pytest.raises(ValueError, match="unknown algo 'dqn'"):
        make_agent("dqn", tiny["env_id"])
    with pytest.raises(ValueError, match="unknown env id"):
        make_agent("ppo", "irs_gym/Nope-v0")
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        make_agent("ppo", tiny["env_id"], preset="nope")
    with pytest.raises(ValueError, match="bogus"):
        make_agent("ppo", tiny["env_id"], hyperparams={"bogus": 1})
    with pytest.raises(ValueError, match="seed"):
        make_agent("ppo", tiny["env_id"], hyperparams={"seed": 1})


def test_preset_layout_variants_and_validation(tmp_path, monkeypatch, tiny):
    monkeypatch.setattr(hp, "PRESET_DIR", tmp_path)
    (tmp_path / "MultiIRSDownlink-v0.toml").write_text(
        """
[ppo]
n_envs = 2
n_steps = 64
normalize = { obs = true }
[ppo.policy_kwargs]
net_arch = [8]
activation_fn = "relu"
[ppo.small]
n_steps = 32
policy_kwargs = { net_arch = [4] }

[sac]
bogus = 1
"""
    )
    assert list_presets(tiny["env_id"]) == {"ppo": ["default", "small"], "sac": ["default"]}
    default = load_preset(tiny["env_id"], "ppo")
    assert default["n_steps"] == 64 and default["normalize"] == {"obs": True}
    small = load_preset(tiny["env_id"], "ppo", "small")
    assert small["n_steps"] == 32 and small["n_envs"] == 2
    assert small["policy_kwargs"] == {"net_arch": [4], "activation_fn": "relu"}
    with pytest.raises(ValueError, match="bogus"):
        load_preset(tiny["env_id"], "sac")
    with pytest.raises(ValueError, match=r"no \[td3\] table"):
        load_preset(tiny["env_id"], "td3")
    model, venv = make_agent("ppo", tiny["env_id"], preset="small", env_kwargs=tiny["kwargs"])
    assert model.n_steps == 32 and venv.num_envs == 2
    assert isinstance(venv, VecNormalize) and venv.norm_obs and not venv.norm_reward
