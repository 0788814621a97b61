"""The BackscatterUplink-v0 presets build an agent for every (algo, preset) at a small config,
and PPO trains a few steps in the scheduling-only (MultiDiscrete) action mode."""

from __future__ import annotations

import numpy as np
import pytest

from agents import ALGOS, list_presets, load_preset, make_agent

ENV_ID = "irs_gym/BackscatterUplink-v0"
SMALL = dict(num_cells=2, num_users=2, num_pb_antennas=2, num_bs_antennas=2, num_elements=6)
# PB beam (Re, Im), U x 2N beam weights (every table's phase_action="beams"; L phases would
# make 4 x 6), U scores
ACTION = 2 * 2 + 4 * 2 * 2 + 4

CASES = [(algo, p) for algo, presets in list_presets(ENV_ID).items() for p in presets]


def test_presets_cover_every_algo_and_state_their_tuning_status():
    assert set(list_presets(ENV_ID)) == set(ALGOS)
    for algo in ALGOS:
        assert "fast" in list_presets(ENV_ID)[algo]
        assert load_preset(ENV_ID, algo)["total_timesteps"] >= 1
    from agents.hyperparams import preset_path

    text = preset_path(ENV_ID).read_text()
    assert "untuned starting points" in text and "agents/presets/tuning/" in text


@pytest.mark.parametrize(("algo", "preset"), CASES)
def test_preset_builds_and_predicts(algo, preset):
    model, venv = make_agent(algo, ENV_ID, preset=preset, n_envs=2, env_kwargs=SMALL)
    assert isinstance(model, ALGOS[algo]) and model.action_space.shape == (ACTION,)
    action, _ = model.predict(venv.reset(), deterministic=True)
    assert action.shape == (2, ACTION) and np.all(np.abs(action) <= 1.0)


def test_ppo_runs_on_the_schedule_mode():
    model, venv = make_agent(
        "ppo",
        ENV_ID,
        preset="fast",
        n_envs=2,
        env_kwargs={**SMALL, "action_mode": "schedule", "phase_action": "elements"},
        hyperparams={"n_steps": 4, "batch_size": 8},
    )
    model.learn(8)
    assert model.num_timesteps == 8
    action, _ = model.predict(venv.reset())
    assert action.shape == (2, 4) and np.all((action >= 0) & (action <= 2))
