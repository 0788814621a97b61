"""agents.tune: search space, a tiny study end to end, resuming, failures, pruning, bad args."""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import shutil
import tomllib
import types

import numpy as np
import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

import agents.hyperparams as hp
from agents import tune
from agents.envs import make_env
from agents.evaluation import eval_seeds, evaluate_agent
from agents.factory import ALGO_NAMES, make_agent, merge_env_kwargs, resolve_hyperparams
from agents.hyperparams import load_preset

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
BLOCK_ID = "irs_gym/BlockAllocation-v0"
TINY = ["num_bs_antennas=4", "num_elements=4", "num_irs=1", "num_users=2"]
TINY_KW = {"num_bs_antennas": 4, "num_elements": 4, "num_irs": 1, "num_users": 2}
TIMESTEPS = 256
EPISODES = 4
#: Observation normalisation on, so that the evaluation must use the training statistics.
FIXED = {"n_envs": 2, "normalize": {"obs": True, "reward": True}}
STUDY_ARGS = [
    "--env",
    ENV_ID,
    "--algo",
    "ppo",
    "--timesteps",
    str(TIMESTEPS),
    "--env-kwargs",
    *TINY,
    "--hyperparams",
    "n_envs=2",
    "normalize={'obs': True, 'reward': True}",
    "--eval-episodes",
    str(EPISODES),
    "--no-progress",
]

torch.set_num_threads(1)


def _settings(**kw) -> tune.TuneSettings:
    base = dict(
        env_id=ENV_ID,
        algo="ppo",
        trials=1,
        timesteps=TIMESTEPS,
        env_kwargs=dict(TINY_KW),
        hyperparams={"n_envs": 2},
        eval_episodes=EPISODES,
    )
    return tune.TuneSettings(**{**base, **kw})


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """A 2-trial study through the CLI, stored in sqlite, with its own solver cache."""
    base = tmp_path_factory.mktemp("tune")
    db, out = base / "study.db", base / "best.toml"
    args = [*STUDY_ARGS, "--trials", "2", "--storage", f"sqlite:///{db}", "--out", str(out)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IRS_GYM_CACHE_DIR", str(base / "cache"))
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = tune.main(args)
    return {"rc": rc, "db": db, "out": out, "args": args, "stdout": buf.getvalue(), "base": base}


# Search space ---------------------------------------------------------------------------


def test_search_spaces_are_small_and_cover_every_algo():
    assert set(tune.SEARCH_SPACES) == set(ALGO_NAMES)
    for algo, space in tune.SEARCH_SPACES.items():
        assert 4 <= len(space) <= 7, algo
        assert {"learning_rate", "gamma", "net_width"} <= set(space), algo


@pytest.mark.parametrize("algo", sorted(ALGO_NAMES))
def test_search_space_samples_valid_preset_values(algo):
    # MaskablePPO has a preset table only where the env has action masks
    env_id, env_kwargs = (BLOCK_ID, {}) if algo == "maskable_ppo" else (ENV_ID, TINY_KW)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    n_envs = 2
    for _ in range(25):
        trial = study.ask()
        params = tune.sample_params(trial, algo)
        space = tune.search_space(algo)
        assert set(params) == set(space)
        for name, value in params.items():
            dist = space[name]
            if isinstance(dist, CategoricalDistribution):
                assert value in dist.choices, (name, value)
            else:
                assert isinstance(dist, FloatDistribution)
                assert dist.low <= value <= dist.high, (name, value)
        overrides = tune.params_to_hyperparams(algo, params, n_envs)
        values = resolve_hyperparams(algo, env_id, "default", overrides)
        hp.validate(algo, values)  # every key usable by make_agent
        w = params["net_width"]
        arch = values["policy_kwargs"]["net_arch"]
        on_policy = algo in ("ppo", "a2c", "maskable_ppo")
        assert arch == ({"pi": [w, w], "vf": [w, w]} if on_policy else [w, w])
        assert values["learning_rate"] == params["learning_rate"]
        if algo in ("ppo", "maskable_ppo"):
            assert values["batch_size"] == min(params["batch_size"], params["n_steps"] * n_envs)
            assert values["batch_size"] <= values["n_steps"] * n_envs
        if "train_freq" in params:
            assert (values["train_freq"], values["gradient_steps"]) == (params["train_freq"], -1)
        if "noise_std" in params:
            assert values["noise_std"] == params["noise_std"]
        study.tell(trial, 0.0)
    # SB3 accepts the last sample
    model, venv = make_agent(algo, env_id, env_kwargs=env_kwargs, n_envs=1, hyperparams=overrides)
    assert model.gamma == params["gamma"]
    venv.close()


def test_fixed_values_merge_with_sampled_ones_and_clashes_raise():
    sampled = tune.params_to_hyperparams("ppo", tune.first_point("ppo"), 1)
    merged = tune.merge_overrides({"policy_kwargs": {"activation_fn": "relu"}}, sampled)
    assert merged["policy_kwargs"] == {
        "activation_fn": "relu",
        "net_arch": sampled["policy_kwargs"]["net_arch"],
        "log_std_init": -2.3,
    }
    with pytest.raises(ValueError, match=r"policy_kwargs\.net_arch"):
        tune.merge_overrides({"policy_kwargs": {"net_arch": [8]}}, sampled)
    with pytest.raises(ValueError, match="learning_rate"):
        _settings(hyperparams={"learning_rate": 1e-3})


# TOML -----------------------------------------------------------------------------------


def test_toml_values_round_trip_through_tomllib():
    doc = {
        "a": 1,
        "b": 1e-05,
        "c": 0.1 + 0.2,
        "d": True,
        "e": 'quote " and \\ and\nnewline, ü',
        "f": [1, 2.5, "x"],
        "g": {"net_arch": {"pi": [64, 64]}, "activation_fn": "tanh"},
        "h": {},
        "key with space": -3,
        "i": float("inf"),
    }
    text = "".join(f"{tune.toml_key(k)} = {tune.toml_value(v)}\n" for k, v in doc.items())
    assert tomllib.loads(text) == doc
    assert math.isnan(tomllib.loads(f"x = {tune.toml_value(math.nan)}")["x"])
    with pytest.raises(TypeError, match="set"):
        tune.toml_value({1, 2})


# A tiny study ---------------------------------------------------------------------------


def test_tiny_study_writes_best_trials_file(study_run):
    assert study_run["rc"] == 0
    doc = tomllib.loads(study_run["out"].read_text())
    assert doc["env_id"] == ENV_ID and doc["algo"] == "ppo" and doc["preset"] == "default"
    # the preset's env kwargs (precoder="mmse") under the study's
    assert doc["env_kwargs"] == merge_env_kwargs(load_preset(ENV_ID, "ppo"), TINY_KW)
    assert doc["hyperparams"] == FIXED
    assert doc["budget_timesteps"] == TIMESTEPS
    assert doc["n_envs"] == 2 and doc["seed"] == 0
    assert doc["eval_episodes"] == EPISODES and doc["eval_seed"] == 30_000
    assert doc["objective_sense"] == "max" and doc["objective_unit"] == "bit/s/Hz"
    assert doc["trials_complete"] == 2
    assert doc["trials_pruned"] == doc["trials_failed"] == 0
    assert doc["reference"] == "domalo" and doc["reference_objective"] > 0
    datetime.datetime.fromisoformat(doc["date"])
    assert doc["command"].startswith("python -m agents.tune --env " + ENV_ID)
    assert set(doc["search_space"]) == set(tune.SEARCH_SPACES["ppo"])

    trials = doc["trials"]
    assert [t["rank"] for t in trials] == [1, 2]
    assert sorted(t["number"] for t in trials) == [0, 1]
    assert trials[0]["value"] >= trials[1]["value"]
    for t in trials:
        assert set(t["params"]) == set(tune.SEARCH_SPACES["ppo"])
        assert t["hyperparams"]["n_envs"] == 2
        assert t["feasible_rate"] == 1.0
        # paired ratio; the reference decides on every realisation here
        assert t["ratio_to_reference"] == pytest.approx(t["value"] / doc["reference_objective"])

    out = study_run["stdout"]
    assert "| rank | trial |" in out
    assert "[ppo.tuned]" in out and f"total_timesteps = {TIMESTEPS}" in out


def test_best_value_is_reproduced_by_an_independent_training(study_run):
    """Train the best trial's values again and score them on the same seeds: same number
    (which needs the training VecNormalize statistics at evaluation time)."""
    doc = tomllib.loads(study_run["out"].read_text())
    best = doc["trials"][0]
    model, venv = make_agent(
        "ppo", ENV_ID, seed=0, env_kwargs=TINY_KW, hyperparams=best["hyperparams"]
    )
    model.learn(TIMESTEPS)
    vec_norm = model.get_vec_normalize_env()
    env = make_env(ENV_ID, doc["env_kwargs"])
    seeds = eval_seeds(30_000, EPISODES)
    results = evaluate_agent(model, env, seeds, normalize_obs=vec_norm.normalize_obs)
    assert np.mean([r.objective for r in results]) == pytest.approx(best["value"], rel=1e-9)
    raw = evaluate_agent(model, env, seeds)  # without the statistics: another policy input
    assert np.mean([r.objective for r in raw]) != pytest.approx(best["value"], rel=1e-9)
    venv.close()


def test_best_preset_pasted_into_a_preset_file_reproduces_the_trial(
    study_run, tmp_path, monkeypatch
):
    doc = tomllib.loads(study_run["out"].read_text())
    snippet = tune.preset_snippet(doc)
    original = (hp.PRESET_DIR / "MultiIRSDownlink-v0.toml").read_text()
    (tmp_path / "MultiIRSDownlink-v0.toml").write_text(original + "\n" + snippet)
    expected = resolve_hyperparams("ppo", ENV_ID, "default", doc["trials"][0]["hyperparams"])
    monkeypatch.setattr(hp, "PRESET_DIR", tmp_path)
    tuned = hp.load_preset(ENV_ID, "ppo", "tuned")
    assert tuned == {**expected, "total_timesteps": TIMESTEPS}
    assert doc["best_preset"]["total_timesteps"] == TIMESTEPS
    assert "gae_lambda" not in doc["best_preset"]  # only what differs from [ppo]


def test_resuming_a_stored_study_adds_trials(study_run, tmp_path, monkeypatch):
    db = tmp_path / "study.db"
    shutil.copy(study_run["db"], db)
    storage = f"sqlite:///{db}"
    name = "MultiIRSDownlink-v0__ppo"
    before = optuna.load_study(study_name=name, storage=storage).trials
    args = [*STUDY_ARGS, "--storage", storage, "--out", str(tmp_path / "best.toml")]
    assert tune.main([*args, "--trials", "3"]) == 0
    after = optuna.load_study(study_name=name, storage=storage).trials
    assert [t.number for t in after] == [0, 1, 2]
    assert [t.params for t in after[:2]] == [t.params for t in before]
    assert after[2].params not in [t.params for t in before]  # the sampler was reseeded
    assert tomllib.loads((tmp_path / "best.toml").read_text())["trials_complete"] == 3
    # already complete: nothing runs
    assert tune.main([*args, "--trials", "3"]) == 0
    assert len(optuna.load_study(study_name=name, storage=storage).trials) == 3
    # another setup under the same name is refused
    with pytest.raises(SystemExit):
        tune.main([*args, "--trials", "3", "--timesteps", "128"])
    with pytest.raises(ValueError, match=r"another setup \(timesteps: stored 256, now 128"):
        tune.open_study(
            _settings(
                timesteps=128,
                hyperparams=FIXED,
                storage=storage,
            )
        )


def test_maskable_study_trains_and_evaluates_with_the_preset_env_kwargs(tmp_path):
    """[maskable_ppo] selects action_mode="sequential" through its env_kwargs: the trials
    must be trained and scored on that mode (MaskablePPO cannot act in the default one)."""
    settings = tune.TuneSettings(
        env_id=BLOCK_ID,
        algo="maskable_ppo",
        trials=1,
        timesteps=128,
        hyperparams={"n_envs": 2},
        eval_episodes=EPISODES,
        pruner="none",
    )
    assert settings.make_kwargs() == {"action_mode": "sequential"}
    study = tune.run_study(settings, progress=False)
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE, trial.user_attrs.get("error")
    doc = tune.best_trials_document(study, settings)
    assert doc["env_kwargs"] == {"action_mode": "sequential"}
    assert doc["objective_unit"] == "%"
    assert doc["reference"] == "dp"
    assert 0 < doc["trials"][0]["ratio_to_reference"] <= 1 + 1e-9  # dp is the optimum
    assert tomllib.loads(tune.render_toml(doc))["env_kwargs"] == {"action_mode": "sequential"}


# Failures and pruning -------------------------------------------------------------------


def test_failed_and_non_finite_trials_are_recorded_not_raised(monkeypatch):
    outcomes = iter([RuntimeError("boom"), math.nan, 1.5])  # an exception, a NaN objective, a value

    def fake(settings, overrides, trial=None, *, progress=False):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return types.SimpleNamespace(
            last={"eval/objective": outcome}, reference_name=None, pruned=False
        )

    monkeypatch.setattr(tune, "train_and_score", fake)
    study = tune.run_study(_settings(trials=3), progress=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.FAIL, TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[0].user_attrs["error"] == "RuntimeError: boom"
    assert "no finite objective" in study.trials[1].user_attrs["error"]
    doc = tune.best_trials_document(study, _settings(trials=3))
    assert (doc["trials_complete"], doc["trials_failed"]) == (1, 2)
    assert [t["value"] for t in doc["trials"]] == [1.5]


def test_no_complete_trial_writes_nothing_and_fails(monkeypatch, tmp_path):
    def fake(*args, **kwargs):
        raise RuntimeError("always")

    monkeypatch.setattr(tune, "train_and_score", fake)
    out = tmp_path / "best.toml"
    assert tune.main([*STUDY_ARGS, "--trials", "1", "--out", str(out)]) == 1
    assert not out.exists()


class _AlwaysPrune(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return True


def test_pruned_trial_stops_training_early(monkeypatch):
    monkeypatch.setattr(tune.optuna.pruners, "MedianPruner", lambda **kw: _AlwaysPrune())
    study = tune.run_study(_settings(trials=1), progress=False)
    (trial,) = study.trials
    assert trial.state == TrialState.PRUNED
    assert list(trial.intermediate_values) == [0]  # the evaluation before training
    assert trial.user_attrs["train_seconds"] > 0


# Bad arguments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"algo": "dqn"}, "unknown algo 'dqn'"),
        ({"env_id": "irs_gym/Nope-v0"}, "unknown env id"),
        ({"trials": 0}, "trials must be an integer >= 1, got 0"),
        ({"timesteps": -5}, "timesteps must be an integer >= 1"),
        ({"eval_episodes": 0}, "eval_episodes must be an integer >= 1"),
        ({"n_evaluations": 0}, "n_evaluations must be an integer >= 1"),
        ({"pruner": "hyperband"}, "pruner must be one of"),
        ({"vec": "subproc"}, "vec must be one of"),
        ({"preset": "nope"}, "unknown preset 'nope'"),
        ({"hyperparams": {"lerning_rate": 1e-3}}, "lerning_rate"),
        ({"hyperparams": {"gamma": 0.9}}, "gamma"),
    ],
)
def test_bad_settings_raise(kw, match):
    with pytest.raises(ValueError, match=match):
        _settings(**kw)


def test_bad_env_kwargs_and_action_spaces_raise():
    with pytest.raises(ValueError, match="num_users"):
        tune.open_study(_settings(env_kwargs={"num_users": 0}))
    with pytest.raises(ValueError, match="sac cannot run on irs_gym/BlockAllocation-v0"):
        tune.open_study(
            _settings(
                env_id="irs_gym/BlockAllocation-v0",
                algo="sac",
                env_kwargs={"action_mode": "sequential"},
                hyperparams={},
            )
        )


@pytest.mark.parametrize(
    "extra", [["--top", "0"], ["--trials", "0"], ["--algo", "dqn"], ["--preset-name", "a b"]]
)
def test_cli_rejects_bad_arguments(extra, capsys):
    with pytest.raises(SystemExit) as exc:
        tune.main([*STUDY_ARGS, *extra])
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
