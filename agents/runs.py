"""Run directories written by ``train.py`` and loading trained agents from them.

Layout of ``<log-dir>/<EnvName>__<algo>__s<seed>/`` (:func:`run_name`)::

    config.json          resolved arguments, preset values, env id/kwargs/config
    events.out.tfevents.*  TensorBoard (SB3 scalars, env/*, eval/*)
    checkpoints/         model_<steps>_steps.zip (+ replay buffer, VecNormalize stats)
    model.zip            the final model
    vecnormalize.pkl     the final VecNormalize statistics (only when the preset normalises)
    evaluation/          written by ``train.py --evaluate``
"""

from __future__ import annotations

import json
import logging
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from agents._io import atomic_write_with
from agents.envs import env_name, make_env, normalize_env_kwargs
from agents.factory import algo_class

logger = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
MODEL_FILE = "model.zip"
VECNORMALIZE_FILE = "vecnormalize.pkl"
CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_PREFIX = "model"
_CKPT = re.compile(rf"^{CHECKPOINT_PREFIX}_(\d+)_steps\.zip$")


def run_name(env_id: str, algo: str, seed: int) -> str:
    """``<EnvName>__<algo>__s<seed>``, e.g. ``MultiIRSDownlink-v0__ppo__s0``."""
    return f"{env_name(env_id)}__{algo}__s{seed}"


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a train.py run directory (no {CONFIG_FILE})")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Checkpoint:
    steps: int
    model: Path
    replay_buffer: Path | None
    vecnormalize: Path | None


def latest_checkpoint(run_dir: str | Path) -> Checkpoint | None:
    """The checkpoint with the most steps in ``<run_dir>/checkpoints`` (None if none)."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    found = [
        (int(m.group(1)), p)
        for p in folder.glob(f"{CHECKPOINT_PREFIX}_*_steps.zip")
        if (m := _CKPT.match(p.name))
    ]
    if not found:
        return None
    steps, model = max(found)
    replay = folder / f"{CHECKPOINT_PREFIX}_replay_buffer_{steps}_steps.pkl"
    vecnorm = folder / f"{CHECKPOINT_PREFIX}_vecnormalize_{steps}_steps.pkl"
    return Checkpoint(
        steps,
        model,
        replay if replay.is_file() else None,
        vecnorm if vecnorm.is_file() else None,
    )


def obs_normalizer(
    stats_path: Path | None, env_id: str, env_kwargs: dict[str, Any]
) -> Callable[[np.ndarray], np.ndarray] | None:
    """A frozen copy of saved ``VecNormalize`` statistics as ``obs -> normalised obs``."""
    if stats_path is None:
        return None
    venv = VecNormalize.load(str(stats_path), DummyVecEnv([lambda: make_env(env_id, env_kwargs)]))
    venv.training, venv.norm_reward = False, False
    return venv.normalize_obs


@dataclass
class LoadedRun:
    """A trained agent and what it was trained on."""

    name: str
    run_dir: Path
    algo: str
    env_id: str
    env_kwargs: dict[str, Any]
    model: BaseAlgorithm
    normalize_obs: Callable[[np.ndarray], np.ndarray] | None
    model_path: Path


def load_run(run_dir: str | Path, device: str = "cpu") -> LoadedRun:
    """Load ``model.zip`` (or, with a warning, the latest checkpoint) of a run directory."""
    run_dir = Path(run_dir)
    cfg = read_run_config(run_dir)
    algo, env_id = cfg["algo"], cfg["env_id"]
    env_kwargs = normalize_env_kwargs(cfg.get("env_kwargs"))
    model_path, stats = run_dir / MODEL_FILE, run_dir / VECNORMALIZE_FILE
    if not model_path.is_file():
        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise ValueError(f"run {run_dir} has neither {MODEL_FILE} nor a checkpoint")
        logger.warning("run %s has no %s; using checkpoint %s", run_dir, MODEL_FILE, ckpt.model)
        model_path, stats = ckpt.model, ckpt.vecnormalize
    model = algo_class(algo).load(str(model_path), device=device)
    normalize = obs_normalizer(stats if stats and stats.is_file() else None, env_id, env_kwargs)
    return LoadedRun(run_dir.name, run_dir, algo, env_id, env_kwargs, model, normalize, model_path)


def save_model_files(model: BaseAlgorithm, model_path: Path, vecnormalize_path: Path) -> None:
    """Write ``model_path`` and, when the model's env normalises, ``vecnormalize_path``
    (each atomically)."""
    atomic_write_with(model_path, model.save)
    vec_norm = model.get_vec_normalize_env()
    if vec_norm is not None:
        atomic_write_with(vecnormalize_path, lambda fh: pickle.dump(vec_norm, fh))


def save_checkpoint(model: BaseAlgorithm, run_dir: str | Path) -> Checkpoint:
    """A checkpoint at the model's current step, named like SB3's ``CheckpointCallback``
    (model, replay buffer when there is one, VecNormalize statistics when used)."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    steps = int(model.num_timesteps)
    model_path = folder / f"{CHECKPOINT_PREFIX}_{steps}_steps.zip"
    vecnorm = folder / f"{CHECKPOINT_PREFIX}_vecnormalize_{steps}_steps.pkl"
    save_model_files(model, model_path, vecnorm)
    replay = None
    if getattr(model, "replay_buffer", None) is not None:
        replay = folder / f"{CHECKPOINT_PREFIX}_replay_buffer_{steps}_steps.pkl"
        atomic_write_with(replay, model.save_replay_buffer)
        prune_replay_buffers(run_dir)
    return Checkpoint(steps, model_path, replay, vecnorm if vecnorm.is_file() else None)


def prune_replay_buffers(run_dir: str | Path, keep: int = 1) -> list[Path]:
    """Delete all but the ``keep`` newest replay-buffer checkpoints (they can be GBs each);
    returns the deleted files."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    pattern = re.compile(rf"^{CHECKPOINT_PREFIX}_replay_buffer_(\d+)_steps\.pkl$")
    found = sorted(
        (int(m.group(1)), p) for p in folder.glob("*.pkl") if (m := pattern.match(p.name))
    )
    doomed = [p for _, p in found[: max(len(found) - keep, 0)]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
