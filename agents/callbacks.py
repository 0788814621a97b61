"""TensorBoard callbacks: the env's domain metrics and the ratio to the reference solver.

Tags (next to SB3's ``rollout/``, ``train/``, ``time/``):

* ``env/objective``, ``env/feasible_rate``, ``env/constraint_violation``: means of the step
  ``info`` values of the training envs since the previous log dump (one PPO/A2C rollout, or
  the ``log_interval`` episodes of an off-policy algorithm).
* ``eval/objective`` (deterministic agent, mean over a fixed seeded evaluation set),
  ``eval/objective_ci95``, ``eval/feasible_rate``, ``eval/reference_objective`` and
  ``eval/ratio_to_reference`` (see :mod:`agents.evaluation`; 1.0 = as good as the reference,
  larger is better also for ``"min"`` objectives). The reference solutions come from the
  on-disk cache (:mod:`agents.cache`), so they are solved once per evaluation set.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback

import baselines
from agents.envs import agent_options, make_env
from agents.evaluation import (
    eval_seeds,
    evaluate_agent,
    evaluate_solver,
    mean_ci95,
    objective_meta,
    ratio_to_reference,
)
from agents.runs import CHECKPOINT_DIR, CHECKPOINT_PREFIX, prune_replay_buffers

logger = logging.getLogger(__name__)


class RunCheckpointCallback(CheckpointCallback):
    """SB3's ``CheckpointCallback`` in ``<run_dir>/checkpoints`` (model, replay buffer and
    VecNormalize statistics, named ``model_<steps>_steps...``), every ``every_steps`` env
    steps (all envs together); only the newest replay buffer is kept."""

    def __init__(self, run_dir: str, every_steps: int, n_envs: int, verbose: int = 0) -> None:
        super().__init__(
            save_freq=max(every_steps // n_envs, 1),
            save_path=str(Path(run_dir) / CHECKPOINT_DIR),
            name_prefix=CHECKPOINT_PREFIX,
            save_replay_buffer=True,
            save_vecnormalize=True,
            verbose=verbose,
        )
        self.run_dir = run_dir

    def _on_step(self) -> bool:
        result = super()._on_step()
        if self.n_calls % self.save_freq == 0:
            prune_replay_buffers(self.run_dir)
        return result


class EnvMetricsCallback(BaseCallback):
    """Logs ``env/*`` means of the training envs' step infos (averaged until each dump)."""

    def _on_step(self) -> bool:
        infos = [i for i in self.locals.get("infos", ()) if "objective" in i]
        if infos:
            rec = self.logger.record_mean
            rec("env/objective", float(np.mean([i["objective"] for i in infos])))
            rec("env/feasible_rate", float(np.mean([bool(i["feasible"]) for i in infos])))
            rec(
                "env/constraint_violation",
                float(np.mean([i["constraint_violation"] for i in infos])),
            )
        return True


class ReferenceEvalCallback(BaseCallback):
    """Evaluates the agent on ``n_episodes`` fixed realisations every ``eval_freq`` steps.

    Realisation ``i`` is ``env.reset(seed=eval_seed + i)``; the agent takes its decision
    (deterministic; the whole set in one batch with :func:`~agents.evaluation.evaluate_agent`,
    with the env's action masks for a maskable model) and ``info["objective"]`` is recorded.
    Evaluations also run at the start of a fresh training and at its end, then the logger is
    dumped at the current step.

    Args:
        env_id, env_kwargs: the training env (the evaluation env is made the same way).
        eval_freq: total env steps (all envs) between evaluations; ``<= 0`` only at the
            start and end.
        n_episodes: size of the evaluation set.
        eval_seed: first reset seed of the set.
        use_cache: read/write reference solutions in the on-disk cache.
        progress: show a progress bar while the reference is solved (cache miss).
    """

    def __init__(
        self,
        env_id: str,
        env_kwargs: dict[str, Any] | None = None,
        *,
        eval_freq: int = 10_000,
        n_episodes: int = 32,
        eval_seed: int = 10_000,
        use_cache: bool = True,
        progress: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        self.eval_freq, self.n_episodes, self.eval_seed = eval_freq, n_episodes, eval_seed
        self.use_cache, self.progress = use_cache, progress
        self.seeds = eval_seeds(eval_seed, n_episodes)
        self._env = None
        self._last_eval = -1
        self.reference_name: str | None = None
        self.reference_mean = math.nan
        self.reference_by_seed: dict[int, float] = {}
        self.sense = "max"
        self.last: dict[str, float] = {}

    def _init_callback(self) -> None:
        self._env = make_env(self.env_id, self.env_kwargs)
        for name in ("action_space", "observation_space"):
            if getattr(self._env, name) != getattr(self.model, name):
                raise ValueError(
                    f"evaluation env {self.env_id} with env_kwargs={self.env_kwargs} has "
                    f"{name} {getattr(self._env, name)}, the model {getattr(self.model, name)}: "
                    "pass the kwargs the model was trained with (the preset's env_kwargs "
                    "included, agents.factory.merge_env_kwargs)"
                )
        self.sense = objective_meta(self._env)["objective_sense"]
        solvers = baselines.for_env(self.env_id, config=self._env.unwrapped.config)
        try:
            self.reference_name, solver = baselines.reference_solver(solvers)
        except ValueError as exc:
            logger.warning("no reference solver for %s (%s): eval ratios skipped", self.env_id, exc)
            return
        logger.info(
            "reference %s on %d evaluation realisations (cached after the first time)",
            self.reference_name,
            len(self.seeds),
        )
        # The reference is scored with its full decision, in the env without the agent
        # options (e.g. model 004's precoder="mmse" would re-score its W): the same number as
        # agents.evaluate reports for it.
        own = agent_options(self._env)
        ref_env = self._env
        if any(k in own for k in self.env_kwargs):
            ref_env = make_env(
                self.env_id, {k: v for k, v in self.env_kwargs.items() if k not in own}
            )
        ref = evaluate_solver(
            solver, ref_env, self.seeds, use_cache=self.use_cache, progress=self.progress
        )
        if ref_env is not self._env:
            ref_env.close()
        self.reference_by_seed = {r.seed: r.objective for r in ref}
        self.reference_mean = mean_ci95(list(self.reference_by_seed.values()))[0]

    def _on_training_start(self) -> None:
        if self.num_timesteps == 0:
            self._evaluate()
        else:  # resumed: the previous run evaluated this step already
            self._last_eval = self.num_timesteps

    def _on_step(self) -> bool:
        # at the first step past each multiple of eval_freq (aligned across runs)
        f = self.eval_freq
        # At the budget's last step the policy has one update still to come (PPO trains after
        # the rollout, SAC after the step): that evaluation is left to _on_training_end, so the
        # final numbers are the final policy's.
        last_step = self.num_timesteps >= getattr(self.model, "_total_timesteps", math.inf)
        if f > 0 and not last_step and self.num_timesteps // f > max(self._last_eval, 0) // f:
            self._evaluate()
        return True

    def _on_training_end(self) -> None:
        if self.num_timesteps != self._last_eval:
            self._evaluate()

    def _evaluate(self) -> None:
        vec_norm = self.model.get_vec_normalize_env()
        results = evaluate_agent(
            self.model,
            self._env,
            self.seeds,
            normalize_obs=vec_norm.normalize_obs if vec_norm is not None else None,
        )
        mean, half = mean_ci95([r.objective for r in results])
        self.last = {
            "eval/objective": mean,
            "eval/objective_ci95": half,
            "eval/feasible_rate": float(np.mean([r.feasible for r in results])),
        }
        if self.reference_name is not None:
            self.last["eval/reference_objective"] = self.reference_mean
            # paired, as in agents.evaluation: realisations where both have a decision
            pairs = [
                (r.objective, self.reference_by_seed[r.seed])
                for r in results
                if math.isfinite(r.objective) and math.isfinite(self.reference_by_seed[r.seed])
            ]
            if pairs:
                agent_mean, ref_mean = np.mean(pairs, axis=0)
                self.last["eval/ratio_to_reference"] = ratio_to_reference(
                    float(agent_mean), float(ref_mean), self.sense
                )
        for key, value in self.last.items():
            if math.isfinite(value):
                self.logger.record(key, value)
        self.logger.dump(self.num_timesteps)
        self._last_eval = self.num_timesteps
        if self.verbose:
            logger.info("eval at %d steps: %s", self.num_timesteps, self.last)
