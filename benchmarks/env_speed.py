"""Env steps per second: single env vs the native batched env, for every registered id.

Run from the repository root::

    python -m benchmarks.env_speed                 # ~1 s per cell
    python -m benchmarks.env_speed --seconds 3 --out benchmarks/env_speed.md
    python -m benchmarks.env_speed --profile       # cProfile of the batched iid env

For each env id, config (default, small) and ``channel_mode`` (iid, static) it times

* ``single``: ``gym.make(id)`` (with its wrappers), stepping pre-sampled actions and calling
  ``reset()`` whenever an episode is truncated (every ``max_episode_steps`` steps);
* ``B=n``: the native batched env ``gym.make_vec(id, num_envs=n,
  vectorization_mode="vector_entry_point")`` (autoreset included), counted as env-steps/s =
  ``n * steps / seconds``;

and prints the ratio batched / single measured in the same run. Times are wall clock on an
idle machine; nothing here asserts a speed.

Reference row: when mobile-env (``pip install mobile-env``, an optional package outside the
project's dependencies) is importable, the table ends with its ``mobile-small-central-v0``
(a Gymnasium env of cell association in a mobile network, one central agent), timed in the
same run with the same loop as ``single`` (``gym.make`` with its wrappers, resets on episode
end; mobile-env has no native batched env, so its batched columns are "-"). Without
mobile-env the row is left out and the table says so.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym

import irs_gym
from benchmarks.common import configs, describe_configs, emit, fmt_rate, machine, markdown_table

BATCH_SIZES = (1, 64, 1024)
MODES = ("iid", "static")
NUM_ACTIONS = 64  # pre-sampled actions, cycled
#: The reference env of mobile-env timed next to ours (when mobile-env is installed).
MOBILE_ENV_ID = "mobile-small-central-v0"


def time_single(env_id: str, kwargs: dict[str, Any], seconds: float) -> float:
    """Steps/s of one ``gym.make`` env, resets included."""
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(NUM_ACTIONS)]
    env.step(actions[0])  # warm-up (first-call checks of the wrappers)
    steps, start = 0, time.perf_counter()
    while True:
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += len(actions)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return steps / elapsed


def make_batched(env_id: str, num_envs: int, kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    return gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs
    )


def time_batched(env_id: str, num_envs: int, kwargs: dict[str, Any], seconds: float) -> float:
    """Env-steps/s (``num_envs`` * steps / s) of the native batched env."""
    env = make_batched(env_id, num_envs, kwargs)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(4)]
    env.step(actions[0])  # warm-up
    steps, start = 0, time.perf_counter()
    while True:
        for action in actions:
            env.step(action)
        steps += len(actions)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return num_envs * steps / elapsed


def mobile_env_row(seconds: float, num_batch_sizes: int) -> list[str] | None:
    """The reference row: single-env steps/s of mobile-env's ``mobile-small-central-v0`` with
    the loop of :func:`time_single`; ``None`` when mobile-env is not installed."""
    try:
        import mobile_env  # noqa: F401  (importing registers its env ids)
    except ImportError:
        return None
    single = time_single(MOBILE_ENV_ID, {}, seconds)
    batched = ["-"] * (2 * num_batch_sizes)  # mobile-env has no native batched env
    return [f"{MOBILE_ENV_ID} (mobile-env)", "default", "-", fmt_rate(single), *batched]


def run(env_ids: list[str], seconds: float, batch_sizes: tuple[int, ...]) -> str:
    header = ["env", "config", "channel_mode", "single"]
    header += [f"B={b}" for b in batch_sizes] + [f"B={b} / single" for b in batch_sizes]
    rows = []
    for env_id in env_ids:
        for label, kwargs in configs(env_id):
            for mode in MODES:
                kw = {**kwargs, "channel_mode": mode}
                single = time_single(env_id, kw, seconds)
                batched = [time_batched(env_id, b, kw, seconds) for b in batch_sizes]
                rows.append(
                    [
                        env_id.split("/")[-1],
                        label,
                        mode,
                        fmt_rate(single),
                        *(fmt_rate(x) for x in batched),
                        *(f"{x / single:.2f}x" for x in batched),
                    ]
                )
                print(f"  done: {env_id} {label} {mode}", file=sys.stderr)
    reference = mobile_env_row(seconds, len(batch_sizes))
    if reference is None:
        note = f"Reference row left out: mobile-env is not installed ({MOBILE_ENV_ID})."
    else:
        rows.append(reference)
        note = (
            f"Last row: mobile-env's {MOBILE_ENV_ID} as a reference, timed with the same "
            "single-env loop in this run."
        )
    return (
        "### Env steps per second\n\n"
        f"Machine: {machine()}. About {seconds:g} s per cell; env-steps/s (batched: "
        f"num_envs x steps / s). {describe_configs(env_ids)} {note}\n\n"
        + markdown_table(header, rows)
    )


def profile(env_id: str, num_envs: int, seconds: float, top: int = 15) -> str:
    """cProfile of the batched env in iid mode at the default config (cumulative time)."""
    env = make_batched(env_id, num_envs, {"channel_mode": "iid"})
    env.reset(seed=0)
    env.action_space.seed(0)
    action = env.action_space.sample()
    env.step(action)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    while time.perf_counter() - start < seconds:
        env.step(action)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    parts = []
    for order, n in (("cumulative", top), ("tottime", top // 2)):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(order).print_stats(n)
        lines = [ln for ln in stream.getvalue().splitlines() if ln.strip()]
        first = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
        parts.append(f"sorted by {order}:\n" + "\n".join(lines[first:]))
    body = "\n\n".join(parts)
    return (
        f"### Profile: {env_id}, B={num_envs}, channel_mode=iid, default config\n\n"
        f"{total:.2f} s profiled.\n\n```\n{body}\n```"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time budget per cell")
    parser.add_argument("--out", help="also write the markdown to this file")
    parser.add_argument(
        "--env", action="append", help="env id (repeatable; default: all registered)"
    )
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES), help="num_envs values"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the largest batch (iid)"
    )
    args = parser.parse_args(argv)
    env_ids = args.env or sorted(irs_gym.ENV_IDS)
    unknown = sorted(set(env_ids) - set(irs_gym.ENV_IDS))
    if unknown:
        parser.error(f"unknown env id(s) {unknown}; registered: {sorted(irs_gym.ENV_IDS)}")
    text = run(env_ids, args.seconds, tuple(args.batch_sizes))
    if args.profile:
        text += "\n\n" + "\n\n".join(
            profile(e, max(args.batch_sizes), max(args.seconds, 2.0)) for e in env_ids
        )
    emit(text, args.out)


if __name__ == "__main__":
    main()
