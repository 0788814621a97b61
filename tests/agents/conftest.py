"""Shared fixtures of the agents tests: the tiny config, an isolated cache, one trained run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV_ID = "irs_gym/MultiIRSDownlink-v0"
TINY = ["num_bs_antennas=4", "num_elements=4", "num_irs=1", "num_users=2"]
TINY_KW = {"num_bs_antennas": 4, "num_elements": 4, "num_irs": 1, "num_users": 2}
#: A PPO run of 256 steps: 2 envs x 64 steps per rollout, evaluation every 128 steps.
TRAIN_ARGS = [
    "--env",
    ENV_ID,
    "--algo",
    "ppo",
    "--seed",
    "0",
    "--n-envs",
    "2",
    "--hyperparams",
    "n_steps=64",
    "batch_size=64",
    "--eval-freq",
    "128",
    "--eval-episodes",
    "3",
    "--checkpoint-freq",
    "128",
    "--env-kwargs",
    *TINY,
]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own solver cache (never the user's ~/.cache/irs_gym)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("IRS_GYM_CACHE_DIR", str(path))
    return path


def run_train(args: list[str], cache: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python train.py ARGS`` from the repository root, with its own solver cache."""
    env = {**os.environ, "IRS_GYM_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, str(ROOT / "train.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """One smoke training run (subprocess), shared read-only by the tests."""
    base = tmp_path_factory.mktemp("trained")
    log_dir, cache = base / "runs", base / "cache"
    proc = run_train([*TRAIN_ARGS, "--total-timesteps", "256", "--log-dir", str(log_dir)], cache)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return {
        "log_dir": log_dir,
        "run_dir": log_dir / "MultiIRSDownlink-v0__ppo__s0",
        "cache": cache,
        "proc": proc,
    }


@pytest.fixture(scope="session")
def train_module():
    """``train.py`` imported as a module (for in-process calls of ``main``)."""
    spec = importlib.util.spec_from_file_location("irs_gym_train_script", ROOT / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny():
    """The tiny config: env id, ``k=v`` strings, kwargs dict and the smoke-run arguments."""
    return {"env_id": ENV_ID, "args": list(TINY), "kwargs": dict(TINY_KW), "train": TRAIN_ARGS}


@pytest.fixture(scope="session")
def train_cli():
    """``train_cli(args, cache_dir)`` runs ``python train.py`` in a subprocess."""
    return run_train
