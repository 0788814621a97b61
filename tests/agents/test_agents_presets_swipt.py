"""The SwiptMassiveMIMO-v0 presets: every algo with a fast variant, and A2C and SAC learn a
few steps at a small config (``tests/agents/test_agents_presets.py`` builds every preset)."""

from __future__ import annotations

import pytest

from agents import ALGOS, list_presets, make_agent

ENV_ID = "irs_gym/SwiptMassiveMIMO-v0"
SMALL = {"num_bs_antennas": 16, "num_elements": 16, "num_info_users": 2, "num_energy_users": 2}


def test_presets_cover_every_algo_with_a_fast_variant():
    presets = list_presets(ENV_ID)
    assert set(presets) == set(ALGOS)
    assert all("fast" in names for names in presets.values())


@pytest.mark.parametrize(
    ("algo", "hyperparams"),
    [("a2c", {"n_steps": 4}), ("sac", {"learning_starts": 8, "batch_size": 8})],
)
def test_fast_preset_learns_a_few_steps(algo, hyperparams):
    model, _ = make_agent(
        algo, ENV_ID, preset="fast", n_envs=2, env_kwargs=SMALL, hyperparams=hyperparams
    )
    model.learn(32)
    assert model.num_timesteps >= 32
