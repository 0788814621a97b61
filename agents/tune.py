"""Hyperparameter tuning of the SB3 agents with Optuna: ``python -m agents.tune``.

Usage::

    python -m agents.tune --env irs_gym/MultiIRSDownlink-v0 --algo ppo \\
        --trials 20 --timesteps 20000 [--preset default] [--seed 0] \\
        [--env-kwargs k=v ...] [--hyperparams k=v ...] [--eval-episodes 32] \\
        [--eval-seed 30000] [--n-evaluations 4] [--pruner median|none] \\
        [--storage sqlite:///study.db] [--study-name NAME] [--top 5] [--out FILE]

Trial protocol. Each trial samples the search space below, builds the agent with
:func:`agents.factory.make_agent` (the ``--preset`` values, then the fixed ``--hyperparams``,
then the sampled values), trains it for ``--timesteps`` env steps (all envs together; an
on-policy algorithm may overshoot by less than one rollout) with seed ``--seed``, the same
for every trial, so that trials differ by their hyperparameters only, and scores it with
:class:`agents.callbacks.ReferenceEvalCallback`, the training-time evaluation of
``train.py``: the deterministic agent takes one decision on each realisation
``reset(seed=eval_seed + i)``, ``i < eval_episodes``, with the observations normalised by the
training ``VecNormalize`` statistics when the preset normalises them. The final evaluation
scores the policy after its last update.

Value of a trial: the mean ``info["objective"]`` (natural units, e.g. bit/s/Hz) of that
final evaluation, maximised for ``objective_sense == "max"`` and minimised for ``"min"``.
The mean objective is used rather than the ratio to the reference because it is defined for
every configuration (model 004 with ``objective="min_rate"`` has no reference solver) and,
on a fixed evaluation set, ranks trials exactly like the ratio does whenever the reference
succeeds on every realisation. The ratio to the reference solver (1.0 = as good as the
paper's method; reference solutions cached on disk, :mod:`agents.cache`) is recorded next to
each value. The tuning set starts at seed 30000 by default, apart from the evaluation set of
``train.py`` and ``python -m agents.evaluate`` (seed 10000), from the held-out set of
``benchmarks/learning_report.py`` (20000 .. 20063) and from the behaviour-cloning seeds
(1,000,000 ..), so that a tuned preset is not reported on the realisations it was selected
on.

Search space (:data:`SEARCH_SPACES`; deliberately small, 5-7 values per algo):

=============  ===================  ==================================================
algo           value                range
=============  ===================  ==================================================
all            ``learning_rate``    log-uniform [1e-5, 3e-3]
all but        ``gamma``            one of 0.0, 0.5, 0.9, 0.99 (most envs are contextual
maskable_ppo                        bandits in the default ``channel_mode="iid"``)
maskable_ppo   ``gamma``            one of 0.9, 0.99, 1.0 (sequential decisions whose
                                    rewards telescope)
all            ``net_width``        64, 128 or 256: two hidden layers of that width
                                    (``policy_kwargs.net_arch``; separate ``pi``/``vf``
                                    nets for the on-policy algos)
ppo,           ``n_steps``          32, 64, 128 or 256 (per env)
maskable_ppo   ``batch_size``       32, 64, 128 or 256, capped at the rollout size
                                    ``n_steps * n_envs``
ppo, a2c,      ``ent_coef``         log-uniform [1e-6, 1e-2]
maskable_ppo
ppo, a2c       ``log_std_init``     one of -2.3, -1.6, -0.7, 0.0 (the Gaussian policy's
                                    initial log std, ``policy_kwargs.log_std_init``: how
                                    far from its mean the agent explores on [-1, 1]
                                    actions)
a2c            ``n_steps``          4, 8, 16 or 32 (per env)
sac/td3/ddpg   ``train_freq``       1, 4 or 16 env steps, with ``gradient_steps = -1``
                                    (one gradient step per collected transition in
                                    every case: only the policy's staleness varies)
sac            ``tau``              0.005, 0.01, 0.02 or 0.05
td3, ddpg      ``noise_std``        uniform [0.05, 0.5] (Gaussian action noise)
=============  ===================  ==================================================

Every other value comes from the preset (``--preset``) and ``--hyperparams``; a fixed value
that the search space also sets raises ``ValueError``. The env is made with the preset's
``env_kwargs`` (e.g. ``action_mode="sequential"`` for ``maskable_ppo``) and ``--env-kwargs``
on top, for training and evaluation alike, as in ``train.py``.

Sampler and pruner: Optuna's TPE sampler (5 random startup trials) seeded with ``--seed``
plus the number of trials already in the study, so a fresh study is reproducible and a
resumed one draws new points. With ``--pruner median`` (default) the agent is also evaluated
every ``timesteps / n_evaluations`` steps and a trial whose intermediate value is worse than
the median of the earlier trials at the same step is stopped (Optuna's ``MedianPruner``,
after 5 trials and the first third of the budget). A trial whose training raises (e.g. NaN
actions, which the envs reject) or whose value is not finite is recorded as failed, with the
error in its ``error`` user attribute, and the study goes on.

Resuming: with ``--storage sqlite:///study.db`` the study (named ``--study-name``, default
``<EnvName>__<algo>``) is kept in that database; running the same command again runs trials
until the study holds ``--trials`` finished (complete, pruned or failed) trials; a trial
stopped by Ctrl-C is recorded as failed by Optuna but does not count. The study
remembers its setup (env, kwargs, budget, evaluation set, search space, ...): resuming it
with a different one raises ``ValueError``.

Output: the best ``--top`` complete trials go to ``--out`` (default
``agents/presets/tuning/<EnvName>__<algo>.toml``, ``__<preset>`` appended for a named
preset): the setup, the search space, the best trial as a ready-to-paste preset table
(only the values that differ from the ``[algo]`` table, with ``total_timesteps`` = the
budget per trial) and one ``[[trials]]`` entry per trial (number, value, its 95% confidence
interval over the evaluation set, ratio to the reference, sampled params, preset values).
The numbers are stored, not the database (``agents/presets/tuning/README.md``). The command
also prints a markdown table of those trials and the preset snippet (as ``[<algo>.tuned]``,
see ``--preset-name``) to paste into ``agents/presets/<EnvName>.toml``; the tool never edits
the preset files itself, so that their comments and layout stay as written.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import optuna
    from optuna.distributions import (
        BaseDistribution,
        CategoricalDistribution,
        FloatDistribution,
    )
    from optuna.trial import FrozenTrial, TrialState
except ImportError as exc:  # optuna is a dev extra, not a runtime dependency
    raise ImportError(
        "agents.tune needs optuna: pip install -e '.[dev]' (or pip install 'optuna>=3.6')"
    ) from exc

from stable_baselines3.common.logger import Logger

from agents._io import atomic_write_text, jsonable
from agents.callbacks import ReferenceEvalCallback
from agents.envs import check_env_id, env_name, env_signature, make_env, parse_kv
from agents.evaluation import objective_meta
from agents.factory import (
    VEC_KINDS,
    algo_class,
    make_agent,
    merge_env_kwargs,
    resolve_hyperparams,
)
from agents.hyperparams import DEFAULT, PRESET_DIR, load_preset

logger = logging.getLogger(__name__)

ON_POLICY = ("ppo", "a2c", "maskable_ppo")
#: Algorithms with PPO's minibatches (``batch_size`` capped at the rollout size).
PPO_LIKE = ("ppo", "maskable_ppo")
PRUNERS = ("median", "none")
#: Trial states that count toward ``--trials`` (a trial left RUNNING by a killed process
#: does not).
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
TUNING_DIR = PRESET_DIR / "tuning"
#: Random startup trials of the TPE sampler and trials before the median pruner acts.
STARTUP_TRIALS = 5

_LR = FloatDistribution(1e-5, 3e-3, log=True)
_GAMMA = CategoricalDistribution((0.0, 0.5, 0.9, 0.99))
_WIDTH = CategoricalDistribution((64, 128, 256))
_ENT_COEF = FloatDistribution(1e-6, 1e-2, log=True)
_LOG_STD = CategoricalDistribution((-2.3, -1.6, -0.7, 0.0))
_TRAIN_FREQ = CategoricalDistribution((1, 4, 16))
_NOISE_STD = FloatDistribution(0.05, 0.5)

#: The search space per algo (see the module docstring for what each value sets).
SEARCH_SPACES: dict[str, dict[str, BaseDistribution]] = {
    "ppo": {
        "learning_rate": _LR,
        "n_steps": CategoricalDistribution((32, 64, 128, 256)),
        "batch_size": CategoricalDistribution((32, 64, 128, 256)),
        "gamma": _GAMMA,
        "ent_coef": _ENT_COEF,
        "net_width": _WIDTH,
        "log_std_init": _LOG_STD,
    },
    # sequential decisions whose rewards telescope (BlockAllocation-v0): long horizons only
    "maskable_ppo": {
        "learning_rate": _LR,
        "n_steps": CategoricalDistribution((32, 64, 128, 256)),
        "batch_size": CategoricalDistribution((32, 64, 128, 256)),
        "gamma": CategoricalDistribution((0.9, 0.99, 1.0)),
        "ent_coef": _ENT_COEF,
        "net_width": _WIDTH,
    },
    "a2c": {
        "learning_rate": _LR,
        "n_steps": CategoricalDistribution((4, 8, 16, 32)),
        "gamma": _GAMMA,
        "ent_coef": _ENT_COEF,
        "net_width": _WIDTH,
        "log_std_init": _LOG_STD,
    },
    "sac": {
        "learning_rate": _LR,
        "gamma": _GAMMA,
        "tau": CategoricalDistribution((0.005, 0.01, 0.02, 0.05)),
        "net_width": _WIDTH,
        "train_freq": _TRAIN_FREQ,
    },
    "td3": {
        "learning_rate": _LR,
        "gamma": _GAMMA,
        "net_width": _WIDTH,
        "train_freq": _TRAIN_FREQ,
        "noise_std": _NOISE_STD,
    },
    "ddpg": {
        "learning_rate": _LR,
        "gamma": _GAMMA,
        "net_width": _WIDTH,
        "train_freq": _TRAIN_FREQ,
        "noise_std": _NOISE_STD,
    },
}


def search_space(algo: str) -> dict[str, BaseDistribution]:
    """The search space of ``algo`` (``ValueError`` for an unknown algo or one without)."""
    if algo not in SEARCH_SPACES:
        algo_class(algo)  # the unknown-algo message
        raise ValueError(f"no search space for algo {algo!r}; tunable: {sorted(SEARCH_SPACES)}")
    return SEARCH_SPACES[algo]


def describe_distribution(dist: BaseDistribution) -> str:
    """``"log-uniform [1e-05, 0.003]"``, ``"one of [64, 128, 256]"``, ..."""
    if isinstance(dist, CategoricalDistribution):
        return f"one of {list(dist.choices)}"
    if isinstance(dist, FloatDistribution):
        return f"{'log-uniform' if dist.log else 'uniform'} [{dist.low:g}, {dist.high:g}]"
    raise TypeError(f"unsupported distribution {dist!r}")


def sample_params(trial: optuna.Trial, algo: str) -> dict[str, Any]:
    """Sample the search space of ``algo`` (Optuna parameter names and values)."""
    params = {}
    for name, dist in search_space(algo).items():
        if isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        else:
            raise TypeError(f"unsupported distribution {dist!r} for {name}")
    return params


def first_point(algo: str) -> dict[str, Any]:
    """A point of the search space of ``algo``: the first choice or the lower bound of each
    value (for checks that need any valid sample)."""
    return {
        name: dist.choices[0] if isinstance(dist, CategoricalDistribution) else dist.low
        for name, dist in search_space(algo).items()
    }


def params_to_hyperparams(algo: str, params: dict[str, Any], n_envs: int) -> dict[str, Any]:
    """Sampled params as preset values (the keys of ``agents/presets/*.toml``).

    Args:
        algo: the algorithm the params were sampled for.
        params: the Optuna params of one trial (:func:`sample_params`).
        n_envs: env copies of the agent (caps PPO's ``batch_size`` at the rollout size).

    Returns:
        Hyperparameter overrides for :func:`agents.factory.make_agent` (TOML types).
    """
    out = {k: v for k, v in params.items() if k not in ("net_width", "train_freq", "log_std_init")}
    width = int(params["net_width"])
    layers = [width, width]
    out["policy_kwargs"] = {
        "net_arch": {"pi": layers, "vf": list(layers)} if algo in ON_POLICY else layers
    }
    if "log_std_init" in params:
        out["policy_kwargs"]["log_std_init"] = float(params["log_std_init"])
    if "train_freq" in params:
        out["train_freq"] = int(params["train_freq"])
        out["gradient_steps"] = -1
    if algo in PPO_LIKE:
        out["batch_size"] = min(int(params["batch_size"]), int(params["n_steps"]) * n_envs)
    return out


def merge_overrides(fixed: dict[str, Any], sampled: dict[str, Any]) -> dict[str, Any]:
    """``fixed`` values with ``sampled`` on top; ``ValueError`` where both set one value
    (tables such as ``policy_kwargs`` are compared key by key)."""
    out = dict(fixed)
    clashes = []
    for key, value in sampled.items():
        if key not in fixed:
            out[key] = value
        elif isinstance(value, dict) and isinstance(fixed[key], dict):
            clashes += [f"{key}.{k}" for k in value if k in fixed[key]]
            out[key] = {**fixed[key], **value}
        else:
            clashes.append(key)
    if clashes:
        raise ValueError(
            f"--hyperparams fixes {sorted(clashes)}, which the search space samples; "
            "drop them from --hyperparams"
        )
    return out


# Settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TuneSettings:
    """One study: what is tuned, on what, with which budget (validated at construction).

    Args:
        env_id: registered irs_gym env id with a preset file.
        algo: ``"ppo"``, ``"sac"``, ``"td3"``, ``"ddpg"`` or ``"a2c"``.
        trials: finished trials the study should hold (a resumed study runs the rest).
        timesteps: training env steps per trial (all envs together): the budget.
        preset: preset the trials start from.
        seed: seed of every trial's agent and training envs; the sampler's seed.
        env_kwargs: ``gymnasium.make`` kwargs, on top of the preset's ``env_kwargs``.
        hyperparams: preset values fixed for every trial (not sampled).
        eval_episodes: realisations in the tuning evaluation set.
        eval_seed: first reset seed of that set.
        n_evaluations: evaluations per trial for the pruner (besides the one at step 0).
        pruner: ``"median"`` or ``"none"``.
        storage: Optuna storage URL (e.g. ``sqlite:///study.db``); None keeps it in memory.
        study_name: name in the storage; None gives ``<EnvName>__<algo>`` (+ ``__<preset>``).
        vec: ``"dummy"`` or ``"batched"`` (see :func:`agents.factory.make_vec`).
        device: torch device.
    """

    env_id: str
    algo: str
    trials: int
    timesteps: int
    preset: str = DEFAULT
    seed: int = 0
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    hyperparams: dict[str, Any] = field(default_factory=dict)
    eval_episodes: int = 32
    eval_seed: int = 30_000
    n_evaluations: int = 4
    pruner: str = "median"
    storage: str | None = None
    study_name: str | None = None
    vec: str = "dummy"
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_env_id(self.env_id)
        search_space(self.algo)
        for name in ("trials", "timesteps", "eval_episodes", "n_evaluations"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {PRUNERS}, got {self.pruner!r}")
        if self.vec not in VEC_KINDS:
            raise ValueError(f"vec must be one of {VEC_KINDS}, got {self.vec!r}")
        # unknown preset, algo table or fixed value, and clashes with the search space
        resolve_hyperparams(self.algo, self.env_id, self.preset, self.hyperparams)
        merge_overrides(
            self.hyperparams, params_to_hyperparams(self.algo, first_point(self.algo), 1)
        )

    @property
    def name(self) -> str:
        """The study name (``study_name`` or ``<EnvName>__<algo>[__<preset>]``)."""
        return self.study_name or self._stem()

    def default_out(self) -> Path:
        """``agents/presets/tuning/<EnvName>__<algo>[__<preset>].toml``."""
        return TUNING_DIR / f"{self._stem()}.toml"

    def _stem(self) -> str:
        suffix = "" if self.preset == DEFAULT else f"__{self.preset}"
        return f"{env_name(self.env_id)}__{self.algo}{suffix}"

    def resolved(self, sampled: dict[str, Any] | None = None) -> dict[str, Any]:
        """The preset values of a trial: preset, fixed values, then ``sampled``."""
        overrides = merge_overrides(self.hyperparams, sampled or {})
        return resolve_hyperparams(self.algo, self.env_id, self.preset, overrides)

    def n_envs(self) -> int:
        """Env copies of every trial's agent (the preset's, or the fixed ``n_envs``)."""
        return int(self.resolved().get("n_envs", 1))

    def make_kwargs(self) -> dict[str, Any]:
        """The ``gymnasium.make`` kwargs of every trial: the preset's ``env_kwargs`` with
        ``env_kwargs`` on top (as ``train.py`` merges them)."""
        return merge_env_kwargs(self.resolved(), self.env_kwargs)


# Trials ----------------------------------------------------------------------------------


class TrialEvalCallback(ReferenceEvalCallback):
    """:class:`~agents.callbacks.ReferenceEvalCallback` that reports every evaluation's mean
    objective to an Optuna trial (step = env steps) and stops training once the trial's
    pruner says so (``pruned`` is then True; a pruned trial skips the final evaluation)."""

    def __init__(self, trial: optuna.Trial | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trial = trial
        self.pruned = False
        self._reported: set[int] = set()

    def _evaluate(self) -> None:
        super()._evaluate()
        value = self.last["eval/objective"]
        # Optuna keeps one value per step (the final evaluation may share the last one's)
        if (
            self.trial is not None
            and math.isfinite(value)
            and self.num_timesteps not in self._reported
        ):
            self._reported.add(self.num_timesteps)
            self.trial.report(value, self.num_timesteps)
            self.pruned = self.trial.should_prune()

    def _on_step(self) -> bool:
        return super()._on_step() and not self.pruned

    def _on_training_end(self) -> None:
        if not self.pruned:
            super()._on_training_end()


def train_and_score(
    settings: TuneSettings,
    overrides: dict[str, Any],
    trial: optuna.Trial | None = None,
    *,
    progress: bool = False,
) -> TrialEvalCallback:
    """Train one agent with the preset values ``overrides`` for ``settings.timesteps`` steps.

    Returns:
        The evaluation callback: ``last`` holds the final (or, when ``pruned``, the last)
        evaluation's ``eval/*`` values, ``reference_name`` and ``reference_mean`` the
        reference solver on the evaluation set.
    """
    make_kwargs = settings.make_kwargs()
    model, vec_env = make_agent(
        settings.algo,
        settings.env_id,
        preset=settings.preset,
        seed=settings.seed,
        env_kwargs=make_kwargs,
        device=settings.device,
        hyperparams=overrides,
        vec=settings.vec,
    )
    # no files: a trial's numbers go to Optuna (the default SB3 logger makes a temp folder)
    model.set_logger(Logger(folder=None, output_formats=[]))
    every = settings.timesteps // settings.n_evaluations if settings.pruner != "none" else 0
    callback = TrialEvalCallback(
        trial,
        settings.env_id,
        make_kwargs,
        eval_freq=every,
        n_episodes=settings.eval_episodes,
        eval_seed=settings.eval_seed,
        progress=progress,
    )
    try:
        model.learn(total_timesteps=settings.timesteps, callback=callback)
    finally:
        vec_env.close()
    return callback


def _objective(settings: TuneSettings, progress: bool) -> Callable[[optuna.Trial], float]:
    n_envs = settings.n_envs()

    def objective(trial: optuna.Trial) -> float:
        params = sample_params(trial, settings.algo)
        overrides = merge_overrides(
            settings.hyperparams, params_to_hyperparams(settings.algo, params, n_envs)
        )
        trial.set_user_attr("hyperparams", overrides)
        start = time.perf_counter()
        try:
            cb = train_and_score(settings, overrides, trial, progress=progress)
        except Exception as exc:  # recorded as a failed trial; the study goes on
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            raise
        trial.set_user_attr("train_seconds", time.perf_counter() - start)
        last = cb.last
        for key in ("objective_ci95", "feasible_rate", "ratio_to_reference"):
            value = last.get(f"eval/{key}", math.nan)
            if math.isfinite(value):
                trial.set_user_attr(key, value)
        if cb.reference_name is not None:
            trial.set_user_attr("reference", cb.reference_name)
            trial.set_user_attr("reference_objective", cb.reference_mean)
        if cb.pruned:
            raise optuna.TrialPruned(f"pruned at {cb.num_timesteps} steps")
        value = last["eval/objective"]
        if not math.isfinite(value):
            trial.set_user_attr("error", "no finite objective on the evaluation set")
            raise FloatingPointError(f"trial {trial.number}: no finite objective")
        return value

    return objective


def _setup(settings: TuneSettings, signature: dict[str, Any], meta: dict[str, str]) -> dict:
    """What a resumed study must share with the one in the storage (JSON types)."""
    setup = {
        "env_id": settings.env_id,
        "env_config": signature["config"],
        "env_options": signature["options"],
        "algo": settings.algo,
        "preset": settings.preset,
        "hyperparams": settings.hyperparams,
        "timesteps": settings.timesteps,
        "seed": settings.seed,
        "eval_episodes": settings.eval_episodes,
        "eval_seed": settings.eval_seed,
        "search_space": {
            k: describe_distribution(d) for k, d in search_space(settings.algo).items()
        },
        **meta,
    }
    return json.loads(json.dumps(jsonable(setup)))


def _check_setup(study: optuna.Study, setup: dict[str, Any], settings: TuneSettings) -> None:
    stored = study.user_attrs.get("setup")
    if stored is None:
        if study.trials:
            raise ValueError(
                f"study {study.study_name!r} in {settings.storage} has trials but no "
                "agents.tune setup; use another --study-name"
            )
        study.set_user_attr("setup", setup)
        return
    diff = sorted(k for k in set(stored) | set(setup) if stored.get(k) != setup.get(k))
    if diff:
        details = "; ".join(f"{k}: stored {stored.get(k)!r}, now {setup.get(k)!r}" for k in diff)
        raise ValueError(
            f"study {study.study_name!r} in {settings.storage} was made with another setup "
            f"({details}); use the same arguments or another --study-name"
        )


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The trials that count toward ``--trials``: complete, pruned or failed, except the
    ones interrupted by the user (Optuna records those as failed)."""
    return [
        t
        for t in study.get_trials(deepcopy=False, states=FINISHED)
        if not t.user_attrs.get("interrupted")
    ]


def open_study(settings: TuneSettings) -> optuna.Study:
    """Create the study of ``settings``, or load it from ``settings.storage``.

    Raises:
        ValueError: bad env kwargs, an algo that cannot act in the env's action space, or a
            stored study with another setup.
    """
    make_kwargs = settings.make_kwargs()
    env = make_env(settings.env_id, make_kwargs)
    signature, meta = env_signature(env), objective_meta(env)
    env.close()
    try:  # SB3 asserts on unsupported action spaces; say so before any trial
        _, probe = make_agent(
            settings.algo,
            settings.env_id,
            preset=settings.preset,
            env_kwargs=make_kwargs,
            hyperparams=merge_overrides(
                settings.hyperparams,
                params_to_hyperparams(settings.algo, first_point(settings.algo), 1),
            ),
            vec=settings.vec,
        )
        probe.close()
    except AssertionError as exc:
        raise ValueError(
            f"{settings.algo} cannot run on {settings.env_id} with env kwargs {make_kwargs}: {exc}"
        ) from exc

    study = optuna.create_study(
        storage=settings.storage,
        study_name=settings.name,
        direction="maximize" if meta["objective_sense"] == "max" else "minimize",
        pruner=(
            optuna.pruners.MedianPruner(
                n_startup_trials=STARTUP_TRIALS, n_warmup_steps=settings.timesteps // 3
            )
            if settings.pruner == "median"
            else optuna.pruners.NopPruner()
        ),
        load_if_exists=True,
    )
    _check_setup(study, _setup(settings, signature, meta), settings)
    # seeded past the trials already drawn, so that a resumed study does not repeat them
    study.sampler = optuna.samplers.TPESampler(
        seed=settings.seed + len(study.trials), n_startup_trials=STARTUP_TRIALS
    )
    return study


def run_trials(study: optuna.Study, settings: TuneSettings, *, progress: bool = True) -> int:
    """Run trials until ``study`` holds ``settings.trials`` finished ones; returns how many
    were run (a ``KeyboardInterrupt`` propagates; the trials finished so far are kept)."""
    remaining = settings.trials - len(finished_trials(study))
    if remaining <= 0:
        logger.info("study %s already holds %d finished trials", study.study_name, settings.trials)
        return 0
    study.optimize(
        _objective(settings, progress),
        n_trials=remaining,
        catch=(Exception,),
        gc_after_trial=True,
        show_progress_bar=progress,
    )
    return remaining


def run_study(settings: TuneSettings, *, progress: bool = True) -> optuna.Study:
    """:func:`open_study` then :func:`run_trials` (see the module docstring)."""
    study = open_study(settings)
    run_trials(study, settings, progress=progress)
    return study


# Results ---------------------------------------------------------------------------------


def best_trials(study: optuna.Study, top: int) -> list[FrozenTrial]:
    """The ``top`` complete trials, best first (ties: lower trial number first)."""
    if not (isinstance(top, int) and top >= 1):
        raise ValueError(f"top must be an integer >= 1, got {top!r}")
    sign = -1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(complete, key=lambda t: (sign * t.value, t.number))[:top]


def preset_values(settings: TuneSettings, trial: FrozenTrial) -> dict[str, Any]:
    """The trial's values that differ from the ``[algo]`` table, budget first: the body of
    a named preset that reproduces the trial."""
    default = load_preset(settings.env_id, settings.algo)
    values = settings.resolved(_sampled(settings, trial))
    diff = {k: v for k, v in values.items() if default.get(k) != v and k != "total_timesteps"}
    return {"total_timesteps": settings.timesteps, **diff}


def _sampled(settings: TuneSettings, trial: FrozenTrial) -> dict[str, Any]:
    return params_to_hyperparams(settings.algo, trial.params, settings.n_envs())


def _seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return math.nan
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def trial_record(rank: int, trial: FrozenTrial) -> dict[str, Any]:
    """One ``[[trials]]`` entry of the best-trials file."""
    attrs = trial.user_attrs
    rec: dict[str, Any] = {"rank": rank, "number": trial.number, "value": float(trial.value)}
    for key in ("objective_ci95", "ratio_to_reference", "feasible_rate"):
        if key in attrs:
            rec[key] = float(attrs[key])
    rec["seconds"] = round(_seconds(trial), 1)
    rec["params"] = dict(trial.params)
    rec["hyperparams"] = attrs.get("hyperparams", {})
    return rec


def best_trials_document(
    study: optuna.Study, settings: TuneSettings, top: int = 5, command: str = ""
) -> dict[str, Any]:
    """The content of the best-trials file (see the module docstring)."""
    setup = study.user_attrs["setup"]
    best = best_trials(study, top)
    states = [t.state for t in finished_trials(study)]
    attrs = best[0].user_attrs if best else {}
    sense = setup["objective_sense"]
    doc: dict[str, Any] = {
        "env_id": settings.env_id,
        "algo": settings.algo,
        "preset": settings.preset,
        "env_kwargs": settings.make_kwargs(),
        "hyperparams": settings.hyperparams,
        "budget_timesteps": settings.timesteps,
        "n_envs": settings.n_envs(),
        "seed": settings.seed,
        "eval_episodes": settings.eval_episodes,
        "eval_seed": settings.eval_seed,
        "objective_name": setup["objective_name"],
        "objective_unit": setup["objective_unit"],
        "objective_sense": sense,
        "value": f"mean {setup['objective_name']} [{setup['objective_unit']}] of the "
        f"deterministic agent on the evaluation set after the budget ({sense}imised)",
        "study_name": study.study_name,
        "trials_complete": states.count(TrialState.COMPLETE),
        "trials_pruned": states.count(TrialState.PRUNED),
        "trials_failed": states.count(TrialState.FAIL),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    if "reference" in attrs:
        doc["reference"] = attrs["reference"]
        doc["reference_objective"] = float(attrs["reference_objective"])
    if command:
        doc["command"] = command
    doc["search_space"] = setup["search_space"]
    if best:
        doc["best_preset"] = preset_values(settings, best[0])
    doc["trials"] = [trial_record(i + 1, t) for i, t in enumerate(best)]
    return doc


# TOML output (tomllib reads only; the values here are plain scalars, lists and tables) ----

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """``value`` as a TOML value (inline tables for dicts)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_table(header: str, values: dict[str, Any]) -> str:
    """``[header]`` (or ``[[header]]`` when ``header`` starts with ``[``) and its lines."""
    lines = [f"[{header}]"] + [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def render_toml(doc: dict[str, Any], preset_name: str = "tuned") -> str:
    """The best-trials file: top-level values, ``[search_space]``, ``[best_preset]``,
    ``[[trials]]``."""
    tables = ("search_space", "best_preset", "trials")
    head = {k: v for k, v in doc.items() if k not in tables}
    parts = [
        "# Best trials of an Optuna study of agents.tune (python -m agents.tune --help).\n"
        "# Numbers only; the study database is not kept in the repository.\n"
        + "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in head.items()),
        toml_table("search_space", doc["search_space"]),
    ]
    if "best_preset" in doc:
        parts.append(
            f"# the best trial as a preset: paste as [{doc['algo']}.{preset_name}] into "
            f"agents/presets/{env_name(doc['env_id'])}.toml\n"
            + toml_table("best_preset", doc["best_preset"])
        )
    parts += [toml_table("[trials]", t) for t in doc["trials"]]
    return "\n".join(parts)


def preset_snippet(doc: dict[str, Any], preset_name: str = "tuned") -> str:
    """The best trial as ``[<algo>.<preset_name>]`` for ``agents/presets/<EnvName>.toml``."""
    best = doc["trials"][0]
    comment = (
        f"# tuned with agents.tune: trial {best['number']} of study {doc['study_name']!r}, "
        f"value {best['value']:.4g} {doc['objective_unit']} on {doc['eval_episodes']} "
        f"realisations, budget {doc['budget_timesteps']} steps\n"
    )
    return comment + toml_table(f"{doc['algo']}.{preset_name}", doc["best_preset"])


def write_best_trials(doc: dict[str, Any], out: str | Path, preset_name: str = "tuned") -> Path:
    """Write :func:`render_toml` of ``doc`` atomically; returns the path."""
    out = Path(out)
    atomic_write_text(out, render_toml(doc, preset_name))
    return out


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "-"
    return str(value)


def markdown_table(doc: dict[str, Any]) -> str:
    """The best trials as a markdown table (one column per sampled param)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.MARKDOWN)
    columns = ["rank", "trial", "value", "±95% CI", "ratio", "feasible", *doc["search_space"]]
    for col in columns:
        table.add_column(col, justify="right")
    for t in doc["trials"]:
        table.add_row(
            str(t["rank"]),
            str(t["number"]),
            _fmt(t["value"]),
            _fmt(t.get("objective_ci95", math.nan), 2),
            _fmt(t.get("ratio_to_reference", math.nan), 3),
            f"{t['feasible_rate']:.0%}" if "feasible_rate" in t else "-",
            *(_fmt(t["params"].get(name, "-"), 3) for name in doc["search_space"]),
        )
    console = Console(width=1000)
    with console.capture() as cap:
        console.print(table)
    return "\n".join(line.rstrip() for line in cap.get().splitlines() if line.strip())


# CLI -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m agents.tune",
        description="Tune the hyperparameters of an SB3 agent on an irs_gym env with Optuna "
        "and write the best trials to agents/presets/tuning/.",
        epilog="The search space, the trial value and the output file are described in the "
        "docstring of agents/tune.py.",
    )
    p.add_argument("--env", required=True, help="env id, e.g. irs_gym/MultiIRSDownlink-v0")
    p.add_argument("--algo", required=True, help="ppo, sac, td3, ddpg or a2c")
    p.add_argument(
        "--trials",
        type=int,
        default=20,
        help="finished trials the study should hold; a resumed study runs the rest (default: 20)",
    )
    p.add_argument(
        "--timesteps", type=int, required=True, help="training env steps per trial (the budget)"
    )
    p.add_argument("--preset", default=DEFAULT, help="preset the trials start from")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of every trial's agent and of the sampler"
    )
    p.add_argument(
        "--env-kwargs", nargs="+", default=[], metavar="K=V", help="gymnasium.make kwargs"
    )
    p.add_argument(
        "--hyperparams",
        nargs="+",
        default=[],
        metavar="K=V",
        help="preset values fixed for every trial (not sampled), e.g. n_envs=4",
    )
    p.add_argument(
        "--eval-episodes", type=int, default=32, help="realisations per evaluation (default: 32)"
    )
    p.add_argument(
        "--eval-seed",
        type=int,
        default=30_000,
        help="first reset seed of the tuning evaluation set (default: 30000, apart from the "
        "evaluation sets of train.py and agents.evaluate, 10000.., and of the learning "
        "report, 20000..)",
    )
    p.add_argument(
        "--n-evaluations",
        type=int,
        default=4,
        help="evaluations per trial for the pruner (default: 4)",
    )
    p.add_argument("--pruner", choices=PRUNERS, default="median", help="default: median")
    p.add_argument("--storage", default=None, help="Optuna storage, e.g. sqlite:///study.db")
    p.add_argument("--study-name", default=None, help="default: <EnvName>__<algo>")
    p.add_argument("--top", type=int, default=5, help="best trials to record (default: 5)")
    p.add_argument(
        "--out",
        default=None,
        help="best-trials file (default: agents/presets/tuning/<EnvName>__<algo>.toml)",
    )
    p.add_argument(
        "--preset-name",
        default="tuned",
        help="name of the printed preset table [<algo>.<name>] (default: tuned)",
    )
    p.add_argument("--vec", choices=VEC_KINDS, default="dummy", help="vector env kind")
    p.add_argument("--device", default="cpu", help="torch device")
    p.add_argument(
        "--num-threads",
        type=int,
        default=1,
        help="torch CPU threads (default: 1; 0 keeps torch's default)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger(__name__).setLevel(logging.INFO)
    if args.top < 1:
        parser.error(f"--top must be >= 1, got {args.top}")
    if args.num_threads < 0:
        parser.error(f"--num-threads must be >= 0, got {args.num_threads}")
    if not _BARE_KEY.match(args.preset_name):
        parser.error(f"--preset-name must match {_BARE_KEY.pattern}, got {args.preset_name!r}")
    try:
        settings = TuneSettings(
            env_id=args.env,
            algo=args.algo,
            trials=args.trials,
            timesteps=args.timesteps,
            preset=args.preset,
            seed=args.seed,
            env_kwargs=parse_kv(args.env_kwargs, what="env kwarg"),
            hyperparams=parse_kv(args.hyperparams, what="hyperparameter", tuples=False),
            eval_episodes=args.eval_episodes,
            eval_seed=args.eval_seed,
            n_evaluations=args.n_evaluations,
            pruner=args.pruner,
            storage=args.storage,
            study_name=args.study_name,
            vec=args.vec,
            device=args.device,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.num_threads:
        import torch

        torch.set_num_threads(args.num_threads)
    command = "python -m agents.tune " + shlex.join(argv)
    try:
        study = open_study(settings)
    except ValueError as exc:
        parser.error(str(exc))
    interrupted = False
    try:
        run_trials(study, settings, progress=not args.no_progress)
    except KeyboardInterrupt:
        interrupted = True
    doc = best_trials_document(study, settings, args.top, command)
    if doc["trials"]:
        out = write_best_trials(doc, args.out or settings.default_out(), args.preset_name)
        print(markdown_table(doc))
        print(f"\nwrote {out}; preset for agents/presets/{env_name(settings.env_id)}.toml:\n")
        print(preset_snippet(doc, args.preset_name))
    else:
        print(
            f"no complete trial in study {study.study_name!r} ({doc['trials_pruned']} pruned, "
            f"{doc['trials_failed']} failed); nothing written",
            file=sys.stderr,
        )
    if interrupted:
        again = (
            f"run the same command again to resume: {command}"
            if settings.storage
            else "pass --storage sqlite:///study.db to be able to resume"
        )
        print(f"interrupted; {again}", file=sys.stderr)
        return 130
    return 0 if doc["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
