"""Stable-Baselines3 agents for the irs_gym environments.

* :func:`make_agent` builds an SB3 algorithm from a preset (:mod:`agents.hyperparams`,
  ``agents/presets/<EnvName>.toml``).
* :class:`EnvMetricsCallback` and :class:`ReferenceEvalCallback` log ``env/*`` and
  ``eval/*`` scalars to TensorBoard; :class:`RunCheckpointCallback` checkpoints a run
  (:mod:`agents.callbacks`).
* :func:`run_evaluation` puts trained runs and baselines on the same realisations; its CLI is
  ``python -m agents.evaluate`` (:mod:`agents.evaluation`, :mod:`agents.evaluate`).
* :mod:`agents.cache` stores solver results on evaluation sets on disk.

Training runs are made with the top-level ``train.py``.
"""

from agents.callbacks import EnvMetricsCallback, ReferenceEvalCallback, RunCheckpointCallback
from agents.evaluation import evaluate_agent, evaluate_solver, run_evaluation, write_report
from agents.factory import ALGOS, make_agent, resolve_hyperparams
from agents.hyperparams import list_presets, load_preset, preset_env_ids
from agents.runs import load_run, run_name

__all__ = [
    "ALGOS",
    "EnvMetricsCallback",
    "ReferenceEvalCallback",
    "RunCheckpointCallback",
    "evaluate_agent",
    "evaluate_solver",
    "list_presets",
    "load_preset",
    "load_run",
    "make_agent",
    "preset_env_ids",
    "resolve_hyperparams",
    "run_evaluation",
    "run_name",
    "write_report",
]
