"""benchmarks/learning_report.py: budgets, learning curves, the report end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import irs_gym
from agents.factory import resolve_hyperparams
from benchmarks import learning_report as lr

torch.set_num_threads(1)

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
TINY = ["num_bs_antennas=4", "num_elements=4", "num_irs=1", "num_users=2"]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """An isolated solver and dataset cache (never the user's ~/.cache/irs_gym)."""
    monkeypatch.setenv("IRS_GYM_CACHE_DIR", str(tmp_path / "cache"))


def test_budgets():
    ids = list(irs_gym.ENV_IDS)
    assert lr.budget_steps("default", ids) == lr.DEFAULT_BUDGET
    assert set(lr.DEFAULT_BUDGET) == set(lr.PPO_STEPS_PER_SECOND) == set(ids)
    assert lr.budget_steps("tiny", ids[:2]) == dict.fromkeys(ids[:2], 256)
    assert lr.budget_steps("30_000", [ENV_ID]) == {ENV_ID: 30_000}
    assert lr.budget_steps("preset", [ENV_ID]) == {
        ENV_ID: resolve_hyperparams("ppo", ENV_ID)["total_timesteps"]
    }
    for bad in ("huge", "0", "-5"):
        with pytest.raises(ValueError, match="budget must be"):
            lr.budget_steps(bad, [ENV_ID])
    # the documented default: about 1.5 h of training for 3 seeds at 2 jobs
    hours = 3 * sum(lr.DEFAULT_BUDGET[e] / lr.PPO_STEPS_PER_SECOND[e] for e in ids) / 3600 / 2
    assert 1.0 < hours < 2.0


def test_curve_is_mean_min_max_on_the_common_steps():
    a = {"t": (np.array([0, 10, 20]), np.array([0.0, 1.0, 2.0]))}
    b = {"t": (np.array([0, 5, 20, 30]), np.array([1.0, 1.0, 4.0, 9.0]))}
    c = lr.curve([a, b], "t")
    assert c.runs == 2
    np.testing.assert_array_equal(c.steps, [0, 5, 10, 20])  # up to the shorter run's end
    # a at 5 -> 0.5; b at 10 -> 1 + 3 * 5/15 = 2
    np.testing.assert_allclose(c.mean, [0.5, 0.75, 1.5, 3.0])
    np.testing.assert_allclose(c.low, [0.0, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(c.high, [1.0, 1.0, 2.0, 4.0])
    assert lr.curve_tag([{"eval/objective": 0, "eval/ratio_to_reference": 0}]) == (
        "eval/ratio_to_reference"
    )
    assert lr.curve_tag([{"eval/objective": 0}, {"eval/objective": 0}]) == "eval/objective"
    assert lr.curve_tag([{"x": 0}]) is None


def _argv(tmp_path, *extra):
    return [
        "--budget",
        "tiny",
        "--env",
        ENV_ID,
        "--seeds",
        "0",
        "--episodes",
        "3",
        "--baselines",
        "domalo,random_mmse",
        "--log-dir",
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path / "out"),
        "--eval-freq",
        "128",
        "--n-envs",
        "2",
        "--hyperparams",
        "n_steps=64",
        "batch_size=64",
        "--env-kwargs",
        *TINY,
        "--no-progress",
        *extra,
    ]


def test_report_end_to_end_at_a_tiny_budget(tmp_path, capsys):
    argv = _argv(tmp_path, "--jobs", "1", "--bc", "--bc-episodes", "8", "--bc-epochs", "2")
    assert lr.main(argv) == 0
    out = tmp_path / "out"
    assert (out / "MultiIRSDownlink-v0_learning.png").stat().st_size > 1000
    for run in ("MultiIRSDownlink-v0__ppo__s0", "MultiIRSDownlink-v0__ppo_bc__s0"):
        cfg = json.loads((tmp_path / "runs" / run / "config.json").read_text())
        assert cfg["status"] == "finished" and cfg["env_config"]["num_users"] == 2
    assert (tmp_path / "runs" / "evaluation" / "MultiIRSDownlink-v0" / "results.csv").is_file()

    text = (out / "learning_report.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| env | agent"))
    assert [c.strip() for c in header.strip("|").split("|")] == list(lr.TABLE_HEADER)
    assert "python -m benchmarks.learning_report --budget tiny" in text
    assert "![irs_gym/MultiIRSDownlink-v0](MultiIRSDownlink-v0_learning.png)" in text

    report = json.loads((out / "learning_report.json").read_text())
    rows = {r["variant"]: r for r in report["rows"]}
    assert set(rows) == {"rl", "bc"}
    evaluation = json.loads(
        (tmp_path / "runs" / "evaluation" / "MultiIRSDownlink-v0" / "results.json").read_text()
    )
    summary = {s["policy"]: s for s in evaluation["summary"]}
    for variant, run in (
        ("rl", "MultiIRSDownlink-v0__ppo__s0"),
        ("bc", "MultiIRSDownlink-v0__ppo_bc__s0"),
    ):
        row = rows[variant]
        assert row["steps"] == 256 and row["seeds"] == 1
        assert row["agent_mean"] == pytest.approx(summary[run]["mean"])
        assert row["ratio_mean"] == pytest.approx(summary[run]["ratio_to_reference"])
        assert row["feasible_rate"] == pytest.approx(summary[run]["feasible_rate"])
        assert row["reference_mean"] == pytest.approx(summary["domalo"]["mean"])
        assert row["baselines"] == {"random_mmse": pytest.approx(summary["random_mmse"]["mean"])}
        assert row["curve_tag"] == "eval/ratio_to_reference"
    capsys.readouterr()

    # a second invocation reuses the finished runs; --keep-other-envs keeps another env's
    # rows, notes and curve from the report in --out, in its place, and replaces this env's
    other = {k: v for k, v in rows["rl"].items() if k != "command"}
    other["env"] = "irs_gym/BlockAllocation-v0"
    earlier = {**report, "command": "python -m x", "rows": [other, *report["rows"]]}
    earlier["notes"] = ["BlockAllocation-v0: a note", "MultiIRSDownlink-v0: stale note"]
    (out / "learning_report.json").write_text(json.dumps(earlier))
    (out / "BlockAllocation-v0_learning.png").write_bytes(b"png")
    assert lr.main([*argv, "--keep-other-envs"]) == 0
    printed = capsys.readouterr().out
    assert "[1/2] MultiIRSDownlink-v0__ppo__s0: 256 steps, resume" in printed
    assert printed.count("already has 256 >= --total-timesteps 256") == 2
    merged = json.loads((out / "learning_report.json").read_text())
    assert [(r["env"], r["variant"]) for r in merged["rows"]] == [
        ("irs_gym/BlockAllocation-v0", "rl"),
        (ENV_ID, "rl"),
        (ENV_ID, "bc"),
    ]
    assert merged["rows"][0]["command"] == "python -m x"
    assert merged["rows"][1]["command"] == merged["command"] != "python -m x"
    assert merged["rows"][1]["agent_mean"] == pytest.approx(rows["rl"]["agent_mean"])
    assert merged["notes"][0] == "BlockAllocation-v0: a note"
    assert "MultiIRSDownlink-v0: stale note" not in merged["notes"]
    assert any("BlockAllocation-v0 kept from an earlier run" in n for n in merged["notes"])
    text = (out / "learning_report.md").read_text()
    assert text.index("| BlockAllocation-v0 | ppo") < text.index("| MultiIRSDownlink-v0 | ppo")
    assert "![irs_gym/BlockAllocation-v0](BlockAllocation-v0_learning.png)" in text
    # merging again does not repeat the note on the kept rows
    assert lr.main([*argv, "--keep-other-envs"]) == 0
    again = json.loads((out / "learning_report.json").read_text())
    assert sum("kept from an earlier run" in n for n in again["notes"]) == 1
    capsys.readouterr()

    # ... but not runs trained on other hyperparameters or env kwargs (dry run: the plan only)
    run = tmp_path / "runs" / "MultiIRSDownlink-v0__ppo__s0"
    changed = [a.replace("n_steps=64", "n_steps=32") for a in argv]
    assert lr.main([*changed, "--dry-run"]) == 0
    assert f"{run}: 256 steps, restart (the preset or --hyperparams changed)" in (
        capsys.readouterr().out
    )
    at = argv.index(TINY[-1]) + 1
    assert lr.main([*argv[:at], "phase_levels=4", *argv[at:], "--dry-run"]) == 0
    assert f"{run}: 256 steps, restart (--env-kwargs changed)" in capsys.readouterr().out
    # the env's code changed under the same kwargs: other defaults, another observation
    config_path = run / "config.json"
    stored = config_path.read_text()
    for key, value, why in (
        ("env_config", {**cfg["env_config"], "num_users": 3}, "the env's configuration changed"),
        ("observation_shape", [1], "the env's observation or action space changed"),
    ):
        config_path.write_text(json.dumps({**json.loads(stored), key: value}))
        assert lr.main([*argv, "--dry-run"]) == 0
        assert f"{run}: 256 steps, restart ({why})" in capsys.readouterr().out
    config_path.write_text(stored)
    assert lr.main([*argv, "--dry-run"]) == 0
    assert f"{run}: 256 steps, resume" in capsys.readouterr().out


def test_report_refuses_overlapping_seed_sets(tmp_path, capsys):
    with pytest.raises(SystemExit):
        lr.main(_argv(tmp_path, "--eval-seed", "10010"))
    assert "held-out seeds 10010..10012 overlap the training-time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lr.main(_argv(tmp_path, "--bc", "--eval-seed", "1000002"))
    assert "overlap the held-out set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lr.main([*_argv(tmp_path), "--env", ENV_ID, "irs_gym/BlockAllocation-v0"])
    assert "--env-kwargs needs exactly one --env" in capsys.readouterr().err


@pytest.mark.slow
def test_report_with_parallel_jobs(tmp_path):
    """Two runs in two spawned worker processes (interpreter start-up makes this slow)."""
    assert lr.main([*_argv(tmp_path, "--jobs", "2"), "--seeds", "0", "1"]) == 0
    report = json.loads((tmp_path / "out" / "learning_report.json").read_text())
    assert [r["seeds"] for r in report["rows"]] == [2]


def test_dry_run_prints_the_plan_and_trains_nothing(tmp_path, capsys):
    log_dir = tmp_path / "runs"
    assert lr.main(["--dry-run", "--bc", "--log-dir", str(log_dir)]) == 0
    printed = capsys.readouterr().out
    # 6 runs per env (RL and BC, 3 seeds), each steps / rate seconds, shared by 2 jobs
    seconds = sum(6 * lr.DEFAULT_BUDGET[e] / lr.PPO_STEPS_PER_SECOND[e] for e in lr.DEFAULT_BUDGET)
    assert f"estimated training time {seconds / 3600 / 2:.2f} h at --jobs 2" in printed
    runs = [line for line in printed.splitlines() if line.startswith(str(log_dir))]
    assert len(runs) == 5 * 2 * 3  # envs x (rl, bc) x seeds
    assert f"{log_dir}/MultiIRSDownlink-v0__ppo_bc__s2: 400,000 steps, fresh" in runs
    assert not log_dir.exists()
