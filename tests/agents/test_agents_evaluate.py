"""The evaluation CLI and library: same seeds for every policy, files, refusals, failures."""

from __future__ import annotations

import csv
import json
import math
import shutil

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import baselines
from agents import evaluate as cli
from agents.evaluation import (
    mean_ci95,
    ratio_to_reference,
    run_evaluation,
    select_baselines,
    solver_rng,
    write_report,
)
from baselines.core import Solution, Solver
from baselines.multi_irs import RandomPhasesMMSE


def _argv(tiny, out, *extra):
    return [
        "--env",
        tiny["env_id"],
        "--episodes",
        "3",
        "--seed",
        "7",
        "--out",
        str(out),
        "--no-progress",
        *extra,
        "--env-kwargs",
        *tiny["args"],
    ]


def test_cli_agents_and_baselines_on_the_same_seeds(trained_run, tiny, tmp_path, capsys):
    out = tmp_path / "eval"
    assert cli.main(_argv(tiny, out, "--agents", str(trained_run["run_dir"]))) == 0
    printed = capsys.readouterr().out
    assert "ratio" in printed and "domalo" in printed

    for name in ("results.csv", "summary.csv", "results.json", "results.png"):
        assert (out / name).is_file(), name
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*.tmp"))  # atomic writes leave nothing behind

    env = gym.make(tiny["env_id"], **tiny["kwargs"])
    solvers = baselines.for_env(tiny["env_id"], config=env.unwrapped.config)
    agent = trained_run["run_dir"].name
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    seeds_by_policy: dict[str, list[int]] = {}
    for row in rows:
        seeds_by_policy.setdefault(row["policy"], []).append(int(row["seed"]))
    assert set(seeds_by_policy) == {agent, *solvers}
    assert all(seeds == [7, 8, 9] for seeds in seeds_by_policy.values())

    # A baseline's row is what solving that seed's realisation directly gives (seed 8: the
    # middle one, so that the episode index and the seed are not confused).
    for row in rows:
        if row["kind"] != "baseline" or row["seed"] != "8" or row["objective"] == "nan":
            continue
        env.reset(seed=int(row["seed"]))
        u = env.unwrapped
        sol = solvers[row["policy"]].solve(u.scenario, u.config, rng=solver_rng(int(row["seed"])))
        assert float(row["objective"]) == pytest.approx(sol.objective, rel=1e-6, abs=1e-12)

    report = json.loads((out / "results.json").read_text())
    assert report["seeds"] == [7, 8, 9]
    assert report["reference"] == baselines.reference_solver(solvers)[0]
    summary = {s["policy"]: s for s in report["summary"]}
    assert set(summary) == {agent, *solvers}
    assert summary[report["reference"]]["ratio_to_reference"] == pytest.approx(1.0)
    agent_rows = [r for r in report["episodes"] if r["policy"] == agent]
    assert summary[agent]["mean"] == pytest.approx(np.mean([r["objective"] for r in agent_rows]))
    assert summary[agent]["role"] == "agent"


def test_cli_refuses_a_run_on_other_env_kwargs(trained_run, tiny, tmp_path, capsys):
    argv = _argv(tiny, tmp_path / "eval", "--agents", str(trained_run["run_dir"]))
    argv[argv.index("num_users=2")] = "num_users=3"
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "num_users" in err and "differ" in err
    assert not (tmp_path / "eval").exists()


def test_cli_refuses_a_run_on_another_env_id(trained_run, tiny, tmp_path, capsys):
    run = tmp_path / trained_run["run_dir"].name
    shutil.copytree(trained_run["run_dir"], run)
    cfg = json.loads((run / "config.json").read_text())
    cfg["env_id"] = "irs_gym/SomethingElse-v0"
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SystemExit):
        cli.main(_argv(tiny, tmp_path / "eval", "--agents", str(run)))
    assert "irs_gym/SomethingElse-v0" in capsys.readouterr().err


def test_cli_rejects_unknown_baseline_and_non_run(tiny, tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(_argv(tiny, tmp_path / "eval", "--baselines", "nope"))
    assert "nope" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(_argv(tiny, tmp_path / "eval", "--agents", str(tmp_path)))
    assert "config.json" in capsys.readouterr().err


def test_baselines_only_without_reference_skips_ratios(tiny, tmp_path):
    out = tmp_path / "eval"
    assert cli.main(_argv(tiny, out, "--baselines", "random_mmse")) == 0
    report = json.loads((out / "results.json").read_text())
    assert [s["policy"] for s in report["summary"]] == ["random_mmse"]
    assert report["summary"][0]["ratio_to_reference"] is None
    assert report["reference"] is None
    assert any("ratios skipped" in n for n in report["notes"])


class _NoDecision(Solver):
    name = "no_decision"
    role = "benchmark"

    def _solve(self, scenario, config, rng):
        return Solution(None, math.nan, "not_applicable", message="undefined here")


class _Raises(Solver):
    name = "raises"
    role = "benchmark"

    def _solve(self, scenario, config, rng):
        raise RuntimeError("boom")


class _Random(RandomPhasesMMSE):
    name = "random_benchmark"


def test_failures_are_counted_and_no_reference_is_reported(tiny, tmp_path, monkeypatch):
    fake = {"no_decision": _NoDecision(), "raises": _Raises(), "random_benchmark": _Random()}
    monkeypatch.setattr(baselines, "for_env", lambda env_id, config=None, **kw: dict(fake))
    report = run_evaluation(tiny["env_id"], tiny["kwargs"], episodes=3, seed=1, progress=False)
    summary = {s.policy: s for s in report.summaries}
    assert report.reference is None
    assert any("no reference solver" in n for n in report.notes)
    assert summary["no_decision"].failures == 3
    assert summary["no_decision"].statuses == {"not_applicable": 3}
    assert summary["raises"].failures == 3
    assert summary["raises"].statuses == {"solver_error": 3}
    assert summary["random_benchmark"].failures == 0
    assert all(math.isnan(s.ratio_to_reference) for s in report.summaries)
    paths = write_report(report, tmp_path / "out")
    data = json.loads(paths["results.json"].read_text())  # strict JSON: NaN written as null
    assert any(r["objective"] is None for r in data["episodes"])


def test_mean_ci_and_ratio_definitions():
    mean, half = mean_ci95([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))
    assert math.isnan(mean_ci95([4.0])[1])
    assert mean_ci95([1.0, math.nan, 3.0])[0] == pytest.approx(2.0)
    assert ratio_to_reference(2.0, 4.0, "max") == pytest.approx(0.5)
    assert ratio_to_reference(8.0, 4.0, "min") == pytest.approx(0.5)  # twice the cost
    assert math.isnan(ratio_to_reference(1.0, 0.0, "max"))


def test_select_baselines():
    solvers = {"a": 1, "b": 2}
    assert select_baselines(solvers, "all") == solvers
    assert select_baselines(solvers, "none") == {}
    assert select_baselines(solvers, "b, a") == {"b": 2, "a": 1}
    with pytest.raises(ValueError, match="c"):
        select_baselines(solvers, "a,c")
