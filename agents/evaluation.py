"""Agents and baselines on the same channel realisations: one evaluation path for both.

Protocol (one decision per realisation): for episode ``i`` the env is reset with seed
``seed + i``; an agent maps the observation to an action (deterministic ``predict``); a
baseline solves ``env.unwrapped.scenario`` with ``rng = numpy.random.default_rng(seed + i)``
(:func:`solver_rng`) and its decision is encoded and stepped. Both are scored by the env's
``info["objective"]`` after that single step, so every number comes from the same metric code.
Envs whose decision takes several steps (``env.unwrapped.multi_step_decisions``, e.g. the
sequential block allocation) are stepped until the episode ends: the agent predicts at every
step, the baseline steps ``encode(decision)`` (the next step toward it) each time, and the
last step's ``info`` scores the decision.

Agents are scored in batches (:func:`evaluate_agent`): up to ``batch_size`` seeds at a time on
the env's native batched env, whose sub-env ``i`` reset with seed ``s_i`` draws exactly the
realisation of ``env.reset(seed=s_i)``; one ``predict`` call takes the whole batch of
observations, so the objectives equal those of the one-seed-at-a-time protocol above (tested).
An agent's seconds per decision is its batch's ``predict`` time divided by the batch size.

Summaries (per policy): mean objective, 95% confidence interval of the mean (Student t),
feasibility rate, solver statuses, seconds per decision, and the *ratio to the reference*:
``mean(policy) / mean(reference)`` for ``objective_sense == "max"`` and
``mean(reference) / mean(policy)`` for ``"min"``, so that 1.0 means "as good as the paper's
method" and larger is better in both cases. The ratio is paired: it uses the episodes where
both the policy and the reference returned a decision. Without a reference solver for the
configuration (e.g. model 004 with ``objective="min_rate"``) ratios are skipped and the report
says so.
"""

from __future__ import annotations

import csv
import inspect
import io
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from scipy import stats
from tqdm.auto import tqdm

import baselines
from agents import cache
from agents._io import atomic_write_text, atomic_write_with, write_json
from agents.envs import (
    agent_options,
    env_signature,
    make_env,
    normalize_env_kwargs,
    scoring_signature,
    signature_diff,
    signature_of,
)
from agents.vec_env import make_batched

logger = logging.getLogger(__name__)

AGENT_ROLE = "agent"
RESULT_FILES = ("results.csv", "summary.csv", "results.json", "results.png")


def eval_seeds(seed: int, episodes: int) -> list[int]:
    """The reset seeds of an evaluation set: ``seed, seed + 1, ..., seed + episodes - 1``."""
    if not (isinstance(episodes, int) and episodes >= 1):
        raise ValueError(f"episodes must be an integer >= 1, got {episodes!r}")
    return [int(seed) + i for i in range(episodes)]


def solver_rng(seed: int) -> np.random.Generator:
    """The generator a baseline gets on the realisation drawn with reset seed ``seed``."""
    return np.random.default_rng(seed)


@dataclass
class EpisodeResult:
    """One decision of one policy on one realisation."""

    policy: str
    kind: str  # "agent" or "baseline"
    role: str  # "agent", "reference", "bound" or "benchmark"
    episode: int
    seed: int
    objective: float  # the env's info["objective"]; NaN when no decision was returned
    feasible: bool
    constraint_violation: float
    status: str  # solver status, "ok" for agents
    seconds: float  # time to decide (predict or solve)
    cached: bool = False
    message: str = ""


def objective_meta(env: gym.Env) -> dict[str, str]:
    """``objective_name``, ``objective_unit`` and ``objective_sense`` of an env."""
    _, info = env.reset(seed=0)
    return {k: info[k] for k in ("objective_name", "objective_unit", "objective_sense")}


#: Seeds scored per batched env call by :func:`evaluate_agent` (bounds its memory).
EVAL_BATCH_SIZE = 256
#: The ``info`` keys an :class:`EpisodeResult` keeps.
_SCORE_KEYS = ("objective", "feasible", "constraint_violation")


def evaluate_agent(
    model: Any,
    env: gym.Env,
    seeds: Sequence[int],
    *,
    name: str = "agent",
    normalize_obs: Callable[[np.ndarray], np.ndarray] | None = None,
    progress: bool = False,
    batch_size: int = EVAL_BATCH_SIZE,
) -> list[EpisodeResult]:
    """Score ``model.predict(obs, deterministic=True)`` on the realisation of every seed.

    The seeds go ``batch_size`` at a time to the native batched env of ``env``'s id and make
    kwargs (see the module docstring): ``predict`` gets the batch of observations (after
    ``normalize_obs``), and each sub-env is stepped once, or, for multi-step decisions, until
    its episode ends, ``predict`` then seeing only the sub-envs still deciding. A model whose
    ``predict`` takes ``action_masks`` (sb3-contrib's ``MaskablePPO``) gets the rows of the
    env's ``action_masks()`` at every step. ``seconds`` is the batch's ``predict`` time
    divided by its size.

    Args:
        model: anything with SB3's ``predict(obs, deterministic=True) -> (actions, state)``
            for a batch of observations.
        env: an env made by ``gymnasium.make`` of an irs_gym id (it names the batched env;
            it is not stepped).
        seeds: the reset seeds, one realisation each.
        name: the policy name of the results.
        normalize_obs: maps a batch of observations to the model's input (``VecNormalize``).
        progress: show a progress bar.
        batch_size: most seeds per batched env (memory bound), an integer >= 1.

    Returns:
        One :class:`EpisodeResult` per seed, in the order of ``seeds``.

    Raises:
        ValueError: ``batch_size`` < 1, an env without a native batched env, a masked model
            on an env without action masks, or actions of the wrong shape.
    """
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    spec = env.spec
    if spec is None or spec.vector_entry_point is None:
        raise ValueError(
            "evaluate_agent needs an env made by gymnasium.make of an id with a native batched "
            f"env (every irs_gym id), got {env}"
        )
    multi = bool(getattr(env.unwrapped, "multi_step_decisions", False))
    seeds = [int(s) for s in seeds]
    out: list[EpisodeResult] = []
    venv = None
    with tqdm(total=len(seeds), desc=name, disable=not progress, leave=False) as bar:
        for first in range(0, len(seeds), batch_size):
            chunk = seeds[first : first + batch_size]
            if venv is None or venv.num_envs != len(chunk):  # at most one smaller, last batch
                if venv is not None:
                    venv.close()
                venv = make_batched(spec.id, len(chunk), spec.kwargs)
            scores, seconds = _decide_batch(model, venv, chunk, multi, normalize_obs)
            for j, seed in enumerate(chunk):
                out.append(
                    EpisodeResult(
                        name,
                        "agent",
                        AGENT_ROLE,
                        first + j,
                        seed,
                        float(scores["objective"][j]),
                        bool(scores["feasible"][j]),
                        float(scores["constraint_violation"][j]),
                        "ok",
                        seconds / len(chunk),
                    )
                )
            bar.update(len(chunk))
    if venv is not None:
        venv.close()
    return out


def _takes_action_masks(model: Any) -> bool:
    """Whether ``model.predict`` accepts ``action_masks`` (sb3-contrib's maskable models)."""
    return "action_masks" in inspect.signature(model.predict).parameters


def _decide_batch(
    model: Any,
    venv: gym.vector.VectorEnv,
    seeds: list[int],
    multi: bool,
    normalize_obs: Callable[[np.ndarray], np.ndarray] | None,
) -> tuple[dict[str, np.ndarray], float]:
    """Every sub-env's decision on the realisation of its seed (``NEXT_STEP`` autoreset, so a
    sub-env's ending step reports its own info): the :data:`_SCORE_KEYS` arrays of each
    sub-env's last step and the seconds spent in ``predict``."""
    masked = _takes_action_masks(model)
    if masked and not hasattr(venv, "action_masks"):
        raise ValueError(f"{type(model).__name__} needs action masks, which {venv} lacks")
    obs, _ = venv.reset(seed=seeds)
    n = venv.num_envs
    single_shape = venv.single_action_space.shape
    scores = {k: np.full(n, np.nan) for k in _SCORE_KEYS}
    live = np.ones(n, dtype=bool)
    seconds = 0.0
    while live.any():
        rows = np.flatnonzero(live)
        extra = {"action_masks": venv.action_masks()[rows]} if masked else {}
        start = time.perf_counter()
        x = normalize_obs(obs[rows]) if normalize_obs is not None else obs[rows]
        act, _ = model.predict(x, deterministic=True, **extra)
        seconds += time.perf_counter() - start
        act = np.asarray(act)
        if act.shape != (rows.size, *single_shape):
            raise ValueError(
                f"predict on a batch of {rows.size} observations must return actions of shape "
                f"{(rows.size, *single_shape)}, got {act.shape}"
            )
        # the model's own dtype, as a single env would get it; ended sub-envs get 0 (valid
        # in every irs_gym action space), which the env ignores while they wait to reset
        actions = np.zeros((n, *single_shape), dtype=act.dtype)
        actions[rows] = act
        obs, _, terminated, truncated, info = venv.step(actions)
        ended = live & (terminated | truncated) if multi else live
        for key in _SCORE_KEYS:
            scores[key][ended] = info[key][ended]
        live &= ~ended
    return scores, seconds


def decide(env: gym.Env, obs: np.ndarray, act: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    """Step ``act(obs)`` once, or until the episode ends for multi-step decisions; returns
    the last step's info."""
    multi = bool(getattr(env.unwrapped, "multi_step_decisions", False))
    while True:
        obs, _, terminated, truncated, info = env.step(act(obs))
        if not multi or terminated or truncated:
            return info


def _solve_one(solver: Any, env: gym.Env, episode: int, seed: int) -> dict[str, Any]:
    """One baseline decision as a JSON-ready record (never raises for solver trouble)."""
    env.reset(seed=seed)
    u = env.unwrapped
    start = time.perf_counter()
    try:
        sol = solver.solve(u.scenario, u.config, rng=solver_rng(seed))
    except Exception as exc:  # a sweep never dies on one realisation
        logger.warning("%s raised on seed %d: %r", solver.name, seed, exc)
        return _failed(episode, seed, "solver_error", f"{type(exc).__name__}: {exc}", start)
    rec = {
        "episode": episode,
        "seed": seed,
        "status": sol.status,
        "seconds": float(sol.seconds),
        "message": sol.message,
        "solver_objective": float(sol.objective),
    }
    if sol.decision is None:
        return {**rec, "objective": math.nan, "feasible": False, "constraint_violation": math.nan}
    try:
        info = decide(env, None, lambda _: u.encode(sol.decision))
    except Exception as exc:
        logger.warning("%s decision rejected by the env on seed %d: %r", solver.name, seed, exc)
        return _failed(episode, seed, "solver_error", f"invalid decision: {exc}", start)
    objective = float(info["objective"])
    if not math.isclose(objective, sol.objective, rel_tol=1e-6, abs_tol=1e-9):
        logger.warning(
            "%s on seed %d: env objective %.9g != solver objective %.9g",
            solver.name,
            seed,
            objective,
            sol.objective,
        )
    return {
        **rec,
        "objective": objective,
        "feasible": bool(info["feasible"]),
        "constraint_violation": float(info["constraint_violation"]),
    }


def _failed(episode: int, seed: int, status: str, message: str, start: float) -> dict[str, Any]:
    return {
        "episode": episode,
        "seed": seed,
        "status": status,
        "seconds": time.perf_counter() - start,
        "message": message,
        "solver_objective": math.nan,
        "objective": math.nan,
        "feasible": False,
        "constraint_violation": math.nan,
    }


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def evaluate_solver(
    solver: Any,
    env: gym.Env,
    seeds: Sequence[int],
    *,
    use_cache: bool = True,
    progress: bool = False,
) -> list[EpisodeResult]:
    """Score ``solver`` once per seed; results are cached on disk (:mod:`agents.cache`).

    Cached entries keep the ``seconds`` measured when they were computed (``cached=True``).
    """
    seeds = [int(s) for s in seeds]
    fields = cache.key_fields(env_signature(env), seeds, solver.name, vars(solver))
    records = cache.load(fields) if use_cache else None
    cached = records is not None
    if records is None:
        records = [
            _solve_one(solver, env, i, s)
            for i, s in enumerate(tqdm(seeds, desc=solver.name, disable=not progress, leave=False))
        ]
        if use_cache:
            cache.save(fields, records)
    return [
        EpisodeResult(
            solver.name,
            "baseline",
            solver.role,
            int(r["episode"]),
            int(r["seed"]),
            _nan(r["objective"]),
            bool(r["feasible"]),
            _nan(r["constraint_violation"]),
            str(r["status"]),
            float(r["seconds"]),
            cached,
            str(r.get("message", "")),
        )
        for r in records
    ]


# Summaries ------------------------------------------------------------------------------


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of the 95% Student-t interval of the mean (NaN when undefined)."""
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def ratio_to_reference(policy_mean: float, reference_mean: float, sense: str) -> float:
    """``policy / reference`` for ``"max"``, ``reference / policy`` for ``"min"`` (1 = equal)."""
    num, den = (policy_mean, reference_mean) if sense == "max" else (reference_mean, policy_mean)
    if not (math.isfinite(num) and math.isfinite(den)) or den == 0:
        return math.nan
    return num / den


@dataclass
class Summary:
    policy: str
    kind: str
    role: str
    episodes: int
    failures: int  # episodes without a decision (solver_error, not_applicable, ...)
    mean: float
    ci95: float  # half-width
    std: float
    ratio_to_reference: float
    feasible_rate: float
    statuses: dict[str, int]
    seconds_per_decision: float
    cached: bool


def summarize(results: Sequence[EpisodeResult], sense: str, reference: str | None) -> list[Summary]:
    """One :class:`Summary` per policy, in first-seen order (see the module docstring)."""
    by_policy: dict[str, list[EpisodeResult]] = {}
    for r in results:
        by_policy.setdefault(r.policy, []).append(r)
    ref = {r.seed: r.objective for r in by_policy.get(reference, [])} if reference else {}
    out = []
    for name, rows in by_policy.items():
        objs = [r.objective for r in rows]
        mean, half = mean_ci95(objs)
        finite = [v for v in objs if math.isfinite(v)]
        paired = [
            (r.objective, ref[r.seed])
            for r in rows
            if r.seed in ref and math.isfinite(r.objective) and math.isfinite(ref[r.seed])
        ]
        ratio = math.nan
        if paired:
            p_mean, r_mean = np.mean(paired, axis=0)
            ratio = ratio_to_reference(float(p_mean), float(r_mean), sense)
        out.append(
            Summary(
                policy=name,
                kind=rows[0].kind,
                role=rows[0].role,
                episodes=len(rows),
                failures=len(rows) - len(finite),
                mean=mean,
                ci95=half,
                std=float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan,
                ratio_to_reference=ratio,
                feasible_rate=float(np.mean([r.feasible for r in rows])),
                statuses=dict(Counter(r.status for r in rows)),
                seconds_per_decision=float(np.mean([r.seconds for r in rows])),
                cached=all(r.cached for r in rows),
            )
        )
    return out


# Full evaluation ------------------------------------------------------------------------


class RunMismatchError(ValueError):
    """An agent's run was trained on another env id or other env kwargs."""


def select_baselines(solvers: dict[str, Any], spec: str) -> dict[str, Any]:
    """``"all"``, ``"none"`` or comma-separated names (``ValueError`` for unknown names)."""
    spec = spec.strip()
    if spec == "all":
        return dict(solvers)
    if spec in ("none", ""):
        return {}
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in solvers]
    if unknown:
        raise ValueError(f"unknown baseline(s) {unknown}; known: {sorted(solvers)}")
    return {n: solvers[n] for n in names}


@dataclass
class Report:
    """Everything :func:`run_evaluation` computed; :func:`write_report` stores it."""

    env_id: str
    env_kwargs: dict[str, Any]
    signature: dict[str, Any]
    seeds: list[int]
    objective_name: str
    objective_unit: str
    objective_sense: str
    reference: str | None
    notes: list[str]
    results: list[EpisodeResult]
    summaries: list[Summary]
    agents: dict[str, str] = field(default_factory=dict)  # name -> run directory

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "env_kwargs": self.env_kwargs,
            "env_config": self.signature["config"],
            "env_options": self.signature["options"],
            "seeds": self.seeds,
            "objective_name": self.objective_name,
            "objective_unit": self.objective_unit,
            "objective_sense": self.objective_sense,
            "reference": self.reference,
            "ratio_definition": (
                "mean(policy)/mean(reference)"
                if self.objective_sense == "max"
                else "mean(reference)/mean(policy)"
            )
            + " over the episodes where both returned a decision; 1.0 = as good as the reference",
            "notes": self.notes,
            "agents": self.agents,
            "summary": [asdict(s) for s in self.summaries],
            "episodes": [asdict(r) for r in self.results],
        }


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 2
    while out in taken:
        out, k = f"{name}#{k}", k + 1
    return out


def run_evaluation(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    agents: Sequence[str | Path] = (),
    baselines_spec: str = "all",
    episodes: int = 32,
    seed: int = 10_000,
    use_cache: bool = True,
    device: str = "cpu",
    progress: bool = True,
    batch_size: int = EVAL_BATCH_SIZE,
) -> Report:
    """Evaluate trained runs and baselines on seeds ``seed .. seed + episodes - 1`` (agents
    ``batch_size`` realisations per batched call, see :func:`evaluate_agent`).

    Baselines are scored in the env of ``env_kwargs``. Each agent acts in that env with its
    run's own agent options (:func:`agents.envs.agent_options`, e.g. ``precoder="mmse"`` of
    model 004's PPO preset): the action space it was trained on, on the same realisations.
    So a baseline is always scored with its full decision, however the agents parametrise
    theirs.

    Raises:
        RunMismatchError: a run was trained on another env id or on env kwargs that change
            the realisations or the scoring (anything but the agent options).
        ValueError: unknown env id, env kwarg or baseline name; a path is not a run.
    """
    from agents.runs import load_run, read_run_config

    env_kwargs = dict(env_kwargs or {})
    env = make_env(env_id, env_kwargs)
    signature = env_signature(env)
    own = agent_options(env)
    seeds = eval_seeds(seed, episodes)
    meta = objective_meta(env)
    notes: list[str] = []

    # Check every run before any long computation; each agent acts in the env of its own
    # agent options (the action space it was trained on), on the same realisations.
    agent_kwargs: dict[str | Path, dict[str, Any]] = {}
    for run_dir in agents:
        cfg = read_run_config(run_dir)
        if cfg["env_id"] != env_id:
            raise RunMismatchError(
                f"run {run_dir} was trained on {cfg['env_id']}, not on --env {env_id}"
            )
        run_kwargs = normalize_env_kwargs(cfg.get("env_kwargs"))
        diff = signature_diff(
            scoring_signature(signature_of(env_id, run_kwargs), own),
            scoring_signature(signature, own),
        )
        agent_kwargs[run_dir] = {
            **{k: v for k, v in env_kwargs.items() if k not in own},
            **{k: v for k, v in run_kwargs.items() if k in own},
        }
        if diff:
            raise RunMismatchError(
                f"run {run_dir} was trained on {cfg['env_id']} with env kwargs "
                f"{cfg.get('env_kwargs') or {}}, which differ from --env {env_id} with env "
                f"kwargs {env_kwargs}: {'; '.join(diff)}"
            )

    all_solvers = baselines.for_env(env_id, config=env.unwrapped.config)
    chosen = select_baselines(all_solvers, baselines_spec)
    try:
        reference, _ = baselines.reference_solver(all_solvers)
    except ValueError as exc:
        reference = None
        notes.append(f"no reference solver for this configuration ({exc}): ratios skipped")
    if reference is not None and reference not in chosen:
        notes.append(f"reference {reference!r} not among the evaluated baselines: ratios skipped")
        reference = None

    results: list[EpisodeResult] = []
    agent_dirs: dict[str, str] = {}
    for run_dir in agents:
        run = load_run(run_dir, device=device)
        name = _unique(run.name, set(agent_dirs) | set(chosen))
        agent_dirs[name] = str(run_dir)
        agent_env = make_env(env_id, agent_kwargs[run_dir])
        results += evaluate_agent(
            run.model,
            agent_env,
            seeds,
            name=name,
            normalize_obs=run.normalize_obs,
            progress=progress,
            batch_size=batch_size,
        )
        agent_env.close()
    for solver in chosen.values():
        part = evaluate_solver(solver, env, seeds, use_cache=use_cache, progress=progress)
        failed = sum(not math.isfinite(r.objective) for r in part)
        if failed:
            notes.append(f"{solver.name}: {failed}/{len(part)} realisations without a decision")
        results += part
    env.close()
    summaries = summarize(results, meta["objective_sense"], reference)
    return Report(
        env_id,
        env_kwargs,
        signature,
        seeds,
        meta["objective_name"],
        meta["objective_unit"],
        meta["objective_sense"],
        reference,
        notes,
        results,
        summaries,
        agent_dirs,
    )


# Output ---------------------------------------------------------------------------------


def _fmt(value: float, digits: int = 4) -> str:
    return "-" if not math.isfinite(value) else f"{value:.{digits}g}"


def table_rows(report: Report) -> list[dict[str, str]]:
    """The printed table as strings (column -> cell)."""
    rows = []
    for s in report.summaries:
        rows.append(
            {
                "policy": s.policy,
                "role": s.role,
                "mean": _fmt(s.mean),
                "±95% CI": _fmt(s.ci95, 2),
                "ratio": _fmt(s.ratio_to_reference, 3),
                "feasible": f"{s.feasible_rate:.0%}",
                "failed": str(s.failures),
                "statuses": " ".join(f"{k}:{v}" for k, v in sorted(s.statuses.items())),
                "s/decision": f"{s.seconds_per_decision:.2g}" + (" (cached)" if s.cached else ""),
            }
        )
    return rows


def render_table(report: Report) -> Any:
    """A ``rich.table.Table`` of the summaries (print it with ``rich.console.Console``)."""
    from rich.markup import escape
    from rich.table import Table

    first, last = report.seeds[0], report.seeds[-1]
    table = Table(
        title=escape(
            f"{report.env_id}: mean {report.objective_name} [{report.objective_unit}] "
            f"({report.objective_sense}) on {len(report.seeds)} realisations "
            f"(seeds {first}..{last})"
        ),
        caption=f"ratio: to the reference {report.reference or '(none)'}, 1 = as good; "
        "failed: realisations without a decision",
    )
    rows = table_rows(report)
    for col in rows[0] if rows else ["policy"]:
        table.add_column(col, justify="left" if col in ("policy", "role", "statuses") else "right")
    for row in rows:
        table.add_row(*(escape(v) for v in row.values()))
    return table


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def _plot(report: Report, fh: Any) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    colours = {"agent": "tab:blue", "reference": "tab:red", "bound": "tab:green"}
    s = report.summaries
    fig = Figure(figsize=(max(4.0, 1.3 * len(s) + 2.0), 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(s))
    means = np.array([v.mean for v in s])
    errs = np.array([v.ci95 if math.isfinite(v.ci95) else 0.0 for v in s])
    ax.bar(
        x,
        np.nan_to_num(means),
        yerr=errs,
        capsize=4,
        color=[colours.get(v.role, "tab:gray") for v in s],
    )
    for xi, v in zip(x, s, strict=True):
        label = _fmt(v.mean, 3)
        if math.isfinite(v.ratio_to_reference):
            label += f"\n({v.ratio_to_reference:.2f}x ref)"
        ax.annotate(
            label,
            (xi, np.nan_to_num(v.mean) + (v.ci95 if math.isfinite(v.ci95) else 0.0)),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(x, [f"{v.policy}\n({v.role})" for v in s], fontsize=8)
    ax.set_ylabel(f"mean {report.objective_name} [{report.objective_unit}]")
    ax.set_title(
        f"{report.env_id}, {len(report.seeds)} realisations, 95% CI",
        fontsize=10,
    )
    ax.margins(y=0.2)
    finite = means[np.isfinite(means)]
    if finite.size and finite.min() >= 0:
        ax.set_ylim(bottom=0.0)
    fig.savefig(fh, format="png", dpi=120)


def write_report(report: Report, out: str | Path) -> dict[str, Path]:
    """Write ``results.csv`` (per episode), ``summary.csv``, ``results.json`` and
    ``results.png`` atomically into ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in RESULT_FILES}
    atomic_write_text(paths["results.csv"], _csv([asdict(r) for r in report.results]))
    summary_rows = [
        {**asdict(s), "statuses": ";".join(f"{k}:{v}" for k, v in sorted(s.statuses.items()))}
        for s in report.summaries
    ]
    atomic_write_text(paths["summary.csv"], _csv(summary_rows))
    write_json(paths["results.json"], report.to_dict())
    atomic_write_with(paths["results.png"], lambda fh: _plot(report, fh))
    return paths
