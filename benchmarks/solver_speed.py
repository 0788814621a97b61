"""Solver seconds per realisation for every solver in ``baselines.for_env``.

Run from the repository root::

    python -m benchmarks.solver_speed                     # 5 realisations
    python -m benchmarks.solver_speed --realisations 20 --out benchmarks/solver_speed.md

For each env id and config (default, small) every solver solves the same realisations
(``env.reset(seed=r)``, r = 0 .. n-1, with ``rng = default_rng(r)``); the table gives the mean
and median of ``Solution.seconds`` (wall clock of ``solve``), the mean objective in the env's
unit (the same number the env reports for the encoded decision) and the statuses. For the
vectorised solvers (``solver.batched``) the column "batch ms" gives the wall clock of one
``solve_batch`` call on all the realisations divided by their number ("-" for the others,
whose ``solve_batch`` is a loop of ``solve``). Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym
import numpy as np

import baselines
import irs_gym
from benchmarks.common import configs, describe_configs, emit, machine, markdown_table


def fmt_ms(seconds: float) -> str:
    """Milliseconds, 3 significant digits (thousands separators above 1000)."""
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 1000 else f"{ms:.3g}"


def bench(env_id: str, kwargs: dict[str, Any], realisations: int, names: set[str] | None):
    """Rows (solver, role, mean s, median s, batch s, mean objective, statuses) for one
    config."""
    env = gym.make(env_id, **kwargs)
    u = env.unwrapped
    solvers = baselines.for_env(env_id, config=u.config)
    results: dict[str, list] = {n: [] for n in solvers if names is None or n in names}
    scenarios = []
    unit = ""
    for r in range(realisations):
        _, info = env.reset(seed=r)
        unit = info["objective_unit"]
        scenarios.append(u.scenario)
        for name in results:
            sol = solvers[name].solve(u.scenario, u.config, rng=np.random.default_rng(r))
            results[name].append(sol)
        print(f"  {env_id} realisation {r + 1}/{realisations}", file=sys.stderr)
    rows = []
    for name, sols in results.items():
        seconds = [s.seconds for s in sols]
        objectives = [s.objective for s in sols if np.isfinite(s.objective)]
        statuses = Counter(s.status for s in sols)
        batch = "-"
        if solvers[name].batched:
            rngs = [np.random.default_rng(r) for r in range(realisations)]
            batch = fmt_ms(solvers[name].solve_batch(scenarios, u.config, rngs)[0].seconds)
        rows.append(
            [
                name,
                solvers[name].role,
                fmt_ms(statistics.fmean(seconds)),
                fmt_ms(statistics.median(seconds)),
                batch,
                f"{statistics.fmean(objectives):.4g} {unit}" if objectives else "-",
                ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
            ]
        )
    return rows


def run(env_ids: list[str], realisations: int, names: set[str] | None) -> str:
    header = ["env", "config", "solver", "role", "mean ms", "median ms", "batch ms"]
    header += ["mean objective", "statuses"]
    rows = []
    for env_id in env_ids:
        for label, kwargs in configs(env_id):
            for row in bench(env_id, kwargs, realisations, names):
                rows.append([env_id.split("/")[-1], label, *row])
    return (
        "### Solver seconds per realisation\n\n"
        f"Machine: {machine()}. {realisations} realisations per config (seeds 0 to "
        f"{realisations - 1}); mean and median wall-clock milliseconds of one solve; batch "
        "ms: one solve_batch call on all of them, per realisation (vectorised solvers only). "
        f"{describe_configs(env_ids)}\n\n" + markdown_table(header, rows)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--realisations", type=int, default=5, help="channel realisations")
    parser.add_argument("--out", help="also write the markdown to this file")
    parser.add_argument(
        "--env", action="append", help="env id (repeatable; default: all registered)"
    )
    parser.add_argument("--solver", action="append", help="solver name (repeatable; default all)")
    args = parser.parse_args(argv)
    if args.realisations < 1:
        parser.error("--realisations must be >= 1")
    env_ids = args.env or sorted(irs_gym.ENV_IDS)
    unknown = sorted(set(env_ids) - set(irs_gym.ENV_IDS))
    if unknown:
        parser.error(f"unknown env id(s) {unknown}; registered: {sorted(irs_gym.ENV_IDS)}")
    names = set(args.solver) if args.solver else None
    emit(run(env_ids, args.realisations, names), args.out)


if __name__ == "__main__":
    main()
