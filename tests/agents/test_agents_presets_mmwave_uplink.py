"""The MmWaveUplinkPower-v0 presets: every algo with a fast variant, and A2C learns a few
steps at a small config (``tests/agents/test_agents_presets.py`` builds every preset)."""

from __future__ import annotations

from agents import ALGOS, list_presets, make_agent

ENV_ID = "irs_gym/MmWaveUplinkPower-v0"
SMALL = {"num_ap_antennas": 4, "elements_h": 4, "elements_v": 2}  # M = 8 phases


def test_presets_cover_every_algo_with_a_fast_variant():
    presets = list_presets(ENV_ID)
    assert set(presets) == set(ALGOS)
    assert all("fast" in names for names in presets.values())


def test_a2c_learns_a_few_steps():
    model, _ = make_agent(
        "a2c", ENV_ID, preset="fast", n_envs=2, env_kwargs=SMALL, hyperparams={"n_steps": 4}
    )
    model.learn(16)
    assert model.num_timesteps == 16
