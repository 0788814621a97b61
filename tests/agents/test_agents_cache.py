"""The solver cache: computed once, keyed by env id / config / options / seeds / solver."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import baselines
from agents import cache
from agents.callbacks import ReferenceEvalCallback
from agents.envs import env_signature
from agents.evaluation import evaluate_solver
from agents.factory import make_agent, merge_env_kwargs, resolve_hyperparams
from baselines.multi_irs import RandomPhasesMMSE


class CountingSolver(RandomPhasesMMSE):
    """The random-phase benchmark, counting its solves (class-level counter)."""

    name = "counting"
    role = "reference"
    calls = 0

    def _solve(self, scenario, config, rng):
        type(self).calls += 1
        return super()._solve(scenario, config, rng)


@pytest.fixture
def counting(monkeypatch):
    monkeypatch.setattr(CountingSolver, "calls", 0)
    return CountingSolver()


def test_solutions_are_computed_once(tiny, counting, cache_dir):
    env = gym.make(tiny["env_id"], **tiny["kwargs"])
    first = evaluate_solver(counting, env, [3, 4, 5])
    assert CountingSolver.calls == 3
    assert not any(r.cached for r in first)
    second = evaluate_solver(counting, env, [3, 4, 5])
    assert CountingSolver.calls == 3  # served from the cache
    assert all(r.cached for r in second)
    assert [r.objective for r in second] == [r.objective for r in first]
    files = list((cache_dir / "solutions").glob("*.json"))
    assert len(files) == 1
    assert not list((cache_dir / "solutions").glob(".*.tmp"))
    evaluate_solver(counting, env, [3, 4, 6])  # other seeds: another entry
    assert CountingSolver.calls == 6
    other = gym.make(tiny["env_id"], **{**tiny["kwargs"], "num_users": 3})
    evaluate_solver(counting, other, [3, 4, 5])  # other config: another entry
    assert CountingSolver.calls == 9
    evaluate_solver(counting, env, [3, 4, 5], use_cache=False)
    assert CountingSolver.calls == 12


def test_key_covers_config_options_seeds_and_solver(tiny):
    sig = env_signature(gym.make(tiny["env_id"], **tiny["kwargs"]))
    key = cache.cache_key(cache.key_fields(sig, [1, 2], "domalo", {"tol": 1e-4}))
    assert key == cache.cache_key(cache.key_fields(sig, [1, 2], "domalo", {"tol": 1e-4}))
    static = env_signature(gym.make(tiny["env_id"], channel_mode="static", **tiny["kwargs"]))
    others = [
        cache.key_fields(sig, [2, 1], "domalo", {"tol": 1e-4}),
        cache.key_fields(sig, [1, 2], "sdomalo", {"tol": 1e-4}),
        cache.key_fields(sig, [1, 2], "domalo", {"tol": 1e-3}),
        cache.key_fields(static, [1, 2], "domalo", {"tol": 1e-4}),
        cache.key_fields({**sig, "env_id": "irs_gym/Other-v0"}, [1, 2], "domalo", {"tol": 1e-4}),
    ]
    assert len({key, *(cache.cache_key(f) for f in others)}) == 6


def test_key_changes_with_the_solver_and_model_code(tiny, tmp_path, monkeypatch):
    """An entry made before baselines/ or irs_gym/models changed is not reused: the key
    hashes their source files (checked here on a copy of the package with one byte added)."""
    import shutil
    import sys

    sig = env_signature(gym.make(tiny["env_id"], **tiny["kwargs"]))
    before = cache.cache_key(cache.key_fields(sig, [1], "domalo", {}))
    root = Path(baselines.__file__).parent
    copy = tmp_path / "baselines"
    shutil.copytree(root, copy)
    (copy / "core.py").write_text((root / "core.py").read_text() + "\n")
    monkeypatch.setattr(sys.modules["baselines"], "__file__", str(copy / "__init__.py"))
    cache.code_fingerprint.cache_clear()
    try:
        after = cache.cache_key(cache.key_fields(sig, [1], "domalo", {}))
    finally:
        monkeypatch.undo()
        cache.code_fingerprint.cache_clear()
    assert after != before
    assert cache.cache_key(cache.key_fields(sig, [1], "domalo", {})) == before


def test_default_dir_and_env_var(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    assert cache.cache_dir().parts[-2:] == (".cache", "irs_gym")
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "x"))
    assert cache.cache_dir() == tmp_path / "x"


def test_unreadable_entry_is_recomputed(tiny, counting):
    env = gym.make(tiny["env_id"], **tiny["kwargs"])
    evaluate_solver(counting, env, [1])
    fields = cache.key_fields(env_signature(env), [1], counting.name, vars(counting))
    cache.entry_path(cache.cache_key(fields)).write_text("{ not json")
    again = evaluate_solver(counting, env, [1])
    assert CountingSolver.calls == 2 and not again[0].cached


def test_eval_callback_solves_the_reference_once(tiny, counting, monkeypatch):
    monkeypatch.setattr(
        baselines, "for_env", lambda env_id, config=None, **kw: {"counting": counting}
    )
    model, _ = make_agent("a2c", tiny["env_id"], n_envs=1, env_kwargs=tiny["kwargs"])
    for _ in range(2):  # e.g. two training runs on the same evaluation set
        cb = ReferenceEvalCallback(tiny["env_id"], tiny["kwargs"], n_episodes=4, eval_seed=50)
        cb.init_callback(model)
        assert cb.reference_name == "counting" and cb.reference_mean > 0
    assert CountingSolver.calls == 4


def test_final_evaluation_scores_the_final_policy(tiny, counting, monkeypatch):
    """With the budget a multiple of eval_freq, the evaluation at the last step runs inside
    the last rollout, before the last update; the end-of-training evaluation must then score
    the updated policy (its numbers equal a fresh evaluation of the trained model)."""
    from agents.evaluation import eval_seeds, evaluate_agent

    monkeypatch.setattr(
        baselines, "for_env", lambda env_id, config=None, **kw: {"counting": counting}
    )
    model, _ = make_agent(
        "ppo",
        tiny["env_id"],
        n_envs=1,
        env_kwargs=tiny["kwargs"],
        hyperparams={"n_steps": 32, "batch_size": 32, "learning_rate": 0.01},
    )
    # the ppo preset sets precoder="mmse": the evaluation env must be made the same way
    kwargs = merge_env_kwargs(resolve_hyperparams("ppo", tiny["env_id"]), tiny["kwargs"])
    with pytest.raises(ValueError, match="action_space"):
        ReferenceEvalCallback(tiny["env_id"], tiny["kwargs"], n_episodes=4).init_callback(model)
    cb = ReferenceEvalCallback(tiny["env_id"], kwargs, eval_freq=64, n_episodes=4)
    model.learn(total_timesteps=64, callback=cb)
    env = gym.make(tiny["env_id"], **kwargs)
    fresh = [r.objective for r in evaluate_agent(model, env, eval_seeds(10_000, 4))]
    assert cb.last["eval/objective"] == pytest.approx(sum(fresh) / len(fresh), rel=1e-12)
