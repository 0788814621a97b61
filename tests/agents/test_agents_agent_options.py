"""Agent options (``ModelTask.AGENT_OPTIONS``): envs that differ only in them draw the same
realisations, and agents trained under them are compared with baselines scored with their
full decisions (``agents.evaluate``, the training-time reference)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import baselines
import irs_gym
from agents.callbacks import ReferenceEvalCallback
from agents.envs import agent_options, env_signature, scoring_signature
from agents.evaluation import eval_seeds, evaluate_solver, run_evaluation, solver_rng
from agents.factory import make_agent
from irs_gym.models.tree import tree_map

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
TINY_KW = {"num_bs_antennas": 4, "num_elements": 4, "num_irs": 1, "num_users": 2}

#: (env id, Config overrides, one non-default value of every agent option)
CASES = [
    ("irs_gym/BackscatterUplink-v0", {}, {"action_mode": "schedule"}),
    ("irs_gym/BlockAllocation-v0", {}, {"action_mode": "sequential"}),
    (
        "irs_gym/MmWaveUplinkPower-v0",
        {},
        {"control": "phases_and_powers", "power_range_dbm": (-10.0, 20.0)},
    ),
    ("irs_gym/MultiIRSDownlink-v0", {"phase_levels": 4}, {"precoder": "mmse"}),
    (
        "irs_gym/MultiIRSDownlink-v0",
        {"phase_levels": 4},
        {"precoder": "mmse", "phase_action": "discrete"},
    ),
    (
        "irs_gym/SwiptMassiveMIMO-v0",
        {},
        {"control": "phases", "power_logit_scale": 2.0, "constraint_penalty": 1.0},
    ),
]


@pytest.mark.parametrize(("env_id", "config", "options"), CASES)
def test_agent_options_keep_the_realisations_and_the_scoring_signature(env_id, config, options):
    plain, other = gym.make(env_id, **config), gym.make(env_id, **config, **options)
    assert set(options) <= set(agent_options(plain))
    assert env_signature(plain) != env_signature(other)
    own = agent_options(plain)
    assert scoring_signature(env_signature(plain), own) == scoring_signature(
        env_signature(other), own
    )
    for seed in (3, 17):
        plain.reset(seed=seed)
        other.reset(seed=seed)
        _assert_same_tree(plain.unwrapped.scenario, other.unwrapped.scenario)


@pytest.mark.parametrize("env_id", sorted(irs_gym.ENV_IDS))
def test_channel_mode_leaves_the_reset_realisation(env_id):
    modes = ["iid", "static"] + (["markov"] if _supports_markov(env_id) else [])
    envs = [gym.make(env_id, channel_mode=mode) for mode in modes]
    own = agent_options(envs[0])
    assert {"channel_mode", "rho"} <= set(own)
    assert len({str(scoring_signature(env_signature(e), own)) for e in envs}) == 1
    scenarios = []
    for env in envs:
        env.reset(seed=11)
        scenarios.append(env.unwrapped.scenario)
    for other in scenarios[1:]:
        _assert_same_tree(scenarios[0], other)


def _supports_markov(env_id: str) -> bool:
    return gym.make(env_id).unwrapped.task.supports_markov


def _assert_same_tree(a, b):
    pairs = []  # (leaf, leaf) of the two trees; tree_map rebuilds from the first
    tree_map(lambda x, y: pairs.append((x, y)) or x, a, b)
    assert pairs
    for x, y in pairs:
        np.testing.assert_array_equal(x, y)


def _solver_objectives(env_kwargs, seeds):
    """DOMALO's own objective (W included) on each seed, solved directly."""
    env = gym.make(ENV_ID, **env_kwargs)
    solver = baselines.for_env(ENV_ID, config=env.unwrapped.config)["domalo"]
    out = []
    for seed in seeds:
        env.reset(seed=seed)
        u = env.unwrapped
        out.append(solver.solve(u.scenario, u.config, rng=solver_rng(seed)).objective)
    return out


def test_evaluation_scores_baselines_with_their_full_decision(trained_run):
    """The smoke run was trained with the PPO preset's precoder="mmse"; the evaluation on the
    plain env accepts it, lets it act in its own action space and scores DOMALO with its own
    precoder (its env objective is the solver's), not with the MMSE one."""
    import json

    cfg = json.loads((trained_run["run_dir"] / "config.json").read_text())
    assert cfg["env_kwargs"]["precoder"] == "mmse"
    seeds = eval_seeds(40_000, 3)
    report = run_evaluation(
        ENV_ID,
        TINY_KW,
        agents=[trained_run["run_dir"]],
        baselines_spec="domalo",
        episodes=3,
        seed=40_000,
        progress=False,
    )
    agent = [r for r in report.results if r.kind == "agent"]
    ref = [r for r in report.results if r.policy == "domalo"]
    assert len(agent) == len(ref) == 3 and all(math.isfinite(r.objective) for r in agent)
    np.testing.assert_allclose(
        [r.objective for r in ref], _solver_objectives(TINY_KW, seeds), rtol=1e-6
    )
    # the same phases with the MMSE precoder score differently: the env choice matters
    mmse = evaluate_solver(
        baselines.for_env(ENV_ID)["domalo"],
        gym.make(ENV_ID, **TINY_KW, precoder="mmse"),
        seeds,
        use_cache=False,
        progress=False,
    )
    assert [r.objective for r in mmse] != pytest.approx([r.objective for r in ref])


def test_training_reference_is_the_full_decision():
    # observation="channels", user_order="index": the preset's beam-only observation and SNR
    # user order need the beam action
    kwargs = {
        **TINY_KW,
        "precoder": "mmse",
        "phase_action": "continuous",
        "observation": "channels",
        "user_order": "index",
    }
    model, _ = make_agent("ppo", ENV_ID, n_envs=1, env_kwargs=kwargs)
    cb = ReferenceEvalCallback(ENV_ID, kwargs, n_episodes=3, eval_seed=41_000)
    cb.init_callback(model)
    expected = _solver_objectives(TINY_KW, eval_seeds(41_000, 3))
    assert cb.reference_name == "domalo"
    np.testing.assert_allclose(
        [cb.reference_by_seed[s] for s in eval_seeds(41_000, 3)], expected, rtol=1e-6
    )
