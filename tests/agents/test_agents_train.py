"""train.py: smoke run, TensorBoard tags, resume, refusal of existing runs."""

from __future__ import annotations

import json
import shutil

import pytest
from stable_baselines3 import PPO
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import agents
from agents.factory import merge_env_kwargs, resolve_hyperparams


def _scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    return {t: [(e.step, e.value) for e in ea.Scalars(t)] for t in ea.Tags()["scalars"]}


def test_smoke_run_writes_events_model_and_config(trained_run, tiny):
    run = trained_run["run_dir"]
    assert (run / "model.zip").is_file()
    assert (run / "vecnormalize.pkl").is_file()  # the PPO preset normalises rewards
    assert sorted(p.name for p in (run / "checkpoints").glob("model_*_steps.zip")) == [
        "model_128_steps.zip",
        "model_256_steps.zip",
    ]
    scalars = _scalars(run)
    for tag in ("env/objective", "env/feasible_rate", "env/constraint_violation"):
        assert tag in scalars, sorted(scalars)
    for tag in (
        "eval/objective",
        "eval/reference_objective",
        "eval/ratio_to_reference",
        "eval/feasible_rate",
    ):
        assert tag in scalars, sorted(scalars)
    assert [s for s, _ in scalars["eval/objective"]] == [0, 128, 256]
    # objectives in bit/s/Hz are >= 0; the ratio is agent / reference
    (_, obj), (_, ref), (_, ratio) = (
        scalars["eval/objective"][-1],
        scalars["eval/reference_objective"][-1],
        scalars["eval/ratio_to_reference"][-1],
    )
    assert ref > 0
    assert ratio == pytest.approx(obj / ref, rel=1e-5)
    assert 0.0 <= scalars["env/feasible_rate"][-1][1] <= 1.0

    cfg = json.loads((run / "config.json").read_text())
    assert cfg["env_id"] == tiny["env_id"]
    assert cfg["algo"] == "ppo"
    # the command line's env kwargs on top of the preset's
    preset = resolve_hyperparams("ppo", tiny["env_id"])
    assert cfg["env_kwargs"] == merge_env_kwargs(preset, tiny["kwargs"]) != tiny["kwargs"]
    assert cfg["env_config"]["num_users"] == 2
    assert cfg["env_options"]["channel_mode"] == "iid"
    assert cfg["hyperparams"]["n_steps"] == 64
    # the preset's values that the command line leaves alone reach the run
    assert cfg["hyperparams"]["policy_kwargs"]["net_arch"] == preset["policy_kwargs"]["net_arch"]
    assert cfg["n_envs"] == 2
    assert cfg["status"] == "finished"
    assert cfg["num_timesteps"] == 256
    assert "tensorboard --logdir" in trained_run["proc"].stdout
    assert PPO.load(run / "model.zip").num_timesteps == 256


def test_resume_continues_the_run(trained_run, tiny, train_cli, tmp_path):
    log_dir = tmp_path / "runs"
    shutil.copytree(trained_run["log_dir"], log_dir)
    run = log_dir / "MultiIRSDownlink-v0__ppo__s0"
    proc = train_cli(
        [*tiny["train"], "--total-timesteps", "384", "--log-dir", str(log_dir), "--resume"],
        trained_run["cache"],  # the evaluation set's reference is already cached there
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "resuming" in proc.stdout
    assert PPO.load(run / "model.zip").num_timesteps == 384
    cfg = json.loads((run / "config.json").read_text())
    assert [h["event"] for h in cfg["history"]] == ["start", "resume"]
    assert cfg["num_timesteps"] == 384
    steps = [s for s, _ in _scalars(run)["env/objective"]]
    assert max(steps) == 384  # logging continued at the global step count


def test_existing_run_dir_is_refused(trained_run, tiny, train_module, tmp_path, capsys):
    log_dir = tmp_path / "runs"
    shutil.copytree(trained_run["log_dir"], log_dir)
    argv = [*tiny["train"], "--total-timesteps", "256", "--log-dir", str(log_dir)]
    with pytest.raises(SystemExit) as exc:
        train_module.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--resume" in err and "--overwrite" in err


def test_resume_with_other_env_kwargs_is_refused(trained_run, tiny, train_module, tmp_path, capsys):
    log_dir = tmp_path / "runs"
    shutil.copytree(trained_run["log_dir"], log_dir)
    argv = [*tiny["train"], "--log-dir", str(log_dir), "--resume"]
    argv[argv.index("num_users=2")] = "num_users=3"
    with pytest.raises(SystemExit) as exc:
        train_module.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--env-kwargs" in err and "num_users=3" in err


def test_resume_without_a_run_fails(tiny, train_module, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train_module.main([*tiny["train"], "--log-dir", str(tmp_path / "none"), "--resume"])
    assert "does not exist" in capsys.readouterr().err


def test_overwrite_starts_again(trained_run, tiny, train_module, tmp_path):
    log_dir = tmp_path / "runs"
    shutil.copytree(trained_run["log_dir"], log_dir)
    run = log_dir / "MultiIRSDownlink-v0__ppo__s0"
    argv = [*tiny["train"], "--log-dir", str(log_dir), "--overwrite", "--total-timesteps", "128"]
    argv += ["--eval-freq", "0", "--no-progress-bar"]
    assert train_module.main(argv) == 0
    assert PPO.load(run / "model.zip").num_timesteps == 128
    assert not (run / "checkpoints" / "model_256_steps.zip").exists()
    assert json.loads((run / "config.json").read_text())["history"][0]["event"] == "start"


def test_help_and_algo_choices(train_module):
    text = train_module.build_parser().format_help()
    assert "<log-dir>/<EnvName>__<algo>__s<seed>" in text
    assert "tensorboard --logdir" in text
    assert train_module.ALGO_CHOICES == agents.factory.ALGO_NAMES
    args, _ = train_module.parse_args(["--algo", "sac", "--env-kwargs", "num_users=2"])
    assert args.algo == "sac" and args.env_kwargs == ["num_users=2"] and args.progress_bar


def test_off_policy_resume_restores_the_replay_buffer(tiny, train_module, tmp_path):
    from stable_baselines3.common.save_util import load_from_pkl

    log_dir = tmp_path / "runs"
    base = ["--env", tiny["env_id"], "--algo", "sac", "--seed", "3", "--log-dir", str(log_dir)]
    base += [
        "--hyperparams",
        "learning_starts=16",
        "batch_size=16",
        "policy_kwargs={'net_arch': [8]}",
    ]
    base += ["--eval-freq", "0", "--checkpoint-freq", "32", "--no-progress-bar"]
    base += ["--env-kwargs", *tiny["args"]]
    assert train_module.main([*base, "--total-timesteps", "64"]) == 0
    assert train_module.main([*base, "--total-timesteps", "96", "--resume"]) == 0
    ckpts = log_dir / "MultiIRSDownlink-v0__sac__s3" / "checkpoints"
    assert (ckpts / "model_96_steps.zip").is_file()
    buffers = sorted(p.name for p in ckpts.glob("model_replay_buffer_*"))
    assert buffers == ["model_replay_buffer_96_steps.pkl"]  # older ones pruned
    assert load_from_pkl(ckpts / buffers[0]).size() == 96  # the first 64 were restored
