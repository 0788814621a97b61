"""Evaluation CLI: trained agents and baselines on the same channel realisations.

Usage::

    python -m agents.evaluate --env irs_gym/MultiIRSDownlink-v0 \\
        [--agents RUN_DIR [RUN_DIR ...]] [--baselines all|none|NAME,NAME] \\
        [--episodes 32] [--seed 10000] [--out DIR] [--env-kwargs k=v ...] \\
        [--device cpu] [--batch-size 256] [--no-cache] [--no-progress]

Realisation ``i`` is ``env.reset(seed=SEED + i)``; every policy takes one decision on it (an
agent from the observation, a baseline by solving ``env.unwrapped.scenario``) and is scored by
the env's ``info["objective"]``. Agents decide on up to ``--batch-size`` realisations per call
of the env's native batched env (same realisations and objectives as one at a time). Prints a
table and writes ``results.csv`` (one row per policy and realisation), ``summary.csv``,
``results.json`` and ``results.png`` into ``--out``. Solver results are cached under
``$IRS_GYM_CACHE_DIR`` (default ``~/.cache/irs_gym``); see :mod:`agents.evaluation` for the
definitions (ratio to the reference, confidence intervals).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from agents.evaluation import (
    EVAL_BATCH_SIZE,
    Report,
    render_table,
    run_evaluation,
    write_report,
)


def show_and_write(report: Report, out: str | Path) -> dict[str, Path]:
    """Print the table and notes, write the result files into ``out``, print their paths."""
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(render_table(report))
    for note in report.notes:
        console.print(f"note: {note}", markup=False)
    paths = write_report(report, out)
    console.print(f"wrote {', '.join(str(p) for p in paths.values())}", markup=False)
    return paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m agents.evaluate",
        description="Evaluate trained agents (train.py run directories) and the papers' "
        "baselines on the same seeded channel realisations.",
    )
    p.add_argument("--env", required=True, help="env id, e.g. irs_gym/MultiIRSDownlink-v0")
    p.add_argument(
        "--agents",
        nargs="+",
        default=[],
        metavar="RUN_DIR",
        help="run directories written by train.py (optional: baselines only)",
    )
    p.add_argument(
        "--baselines",
        default="all",
        help="'all', 'none' or comma-separated solver names (default: all)",
    )
    p.add_argument("--episodes", type=int, default=32, help="number of realisations (default: 32)")
    p.add_argument(
        "--seed",
        type=int,
        default=10_000,
        help="first reset seed: realisations SEED..SEED+N-1 (default: 10000, the evaluation set "
        "of train.py, whose cached reference solutions are then reused)",
    )
    p.add_argument("--out", default="evaluation", help="output directory (default: evaluation)")
    p.add_argument(
        "--env-kwargs",
        nargs="+",
        default=[],
        metavar="K=V",
        help="gymnasium.make kwargs, e.g. num_users=2 objective=min_rate",
    )
    p.add_argument("--device", default="cpu", help="torch device for the agents")
    p.add_argument(
        "--batch-size",
        type=int,
        default=EVAL_BATCH_SIZE,
        help=f"realisations per batched agent call (bounds memory; default: {EVAL_BATCH_SIZE})",
    )
    p.add_argument(
        "--no-cache", action="store_true", help="re-solve instead of using the solver cache"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from agents.envs import parse_env_kwargs

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    if args.batch_size < 1:
        parser.error(f"--batch-size must be >= 1, got {args.batch_size}")
    try:
        env_kwargs = parse_env_kwargs(args.env_kwargs)
        report = run_evaluation(
            args.env,
            env_kwargs,
            agents=args.agents,
            baselines_spec=args.baselines,
            episodes=args.episodes,
            seed=args.seed,
            use_cache=not args.no_cache,
            device=args.device,
            progress=not args.no_progress,
            batch_size=args.batch_size,
        )
    except ValueError as exc:  # usage errors, including RunMismatchError
        parser.error(str(exc))
    show_and_write(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
