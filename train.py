"""Train a Stable-Baselines3 agent on an irs_gym environment.

Examples::

    python train.py --env irs_gym/MultiIRSDownlink-v0 --algo ppo --seed 0 --evaluate
    python train.py --env irs_gym/MultiIRSDownlink-v0 --algo sac --preset fast \\
        --env-kwargs num_users=2 objective=min_rate --total-timesteps 20000
    python train.py ... --resume --total-timesteps 2000000   # continue a run
    python train.py --env irs_gym/MultiIRSDownlink-v0 --bc-episodes 512   # BC warm start

The run goes to ``<log-dir>/<EnvName>__<algo>__s<seed>`` (e.g.
``runs/MultiIRSDownlink-v0__ppo__s0``) and holds the TensorBoard events (SB3 scalars plus
``env/*`` and ``eval/*``), ``config.json`` (resolved arguments, preset values, env id, kwargs
and config), ``checkpoints/`` and, at the end, ``model.zip``. Watch it with
``tensorboard --logdir <log-dir>``. The agent is compared with the papers' reference solver on
a fixed evaluation set during training (``eval/ratio_to_reference``) and, with ``--evaluate``,
with every baseline at the end (``<run>/evaluation/``, same code as ``python -m
agents.evaluate``). With ``--bc-episodes N`` the policy is first pre-trained by behaviour
cloning on the reference solver's decisions (:mod:`agents.imitation`; ``bc/loss`` per epoch in
TensorBoard, the dataset and losses under ``bc`` in config.json), then trained with RL.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import itertools
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALGO_CHOICES = ("ppo", "sac", "td3", "ddpg", "a2c", "maskable_ppo")
CHOICES = {"algo": ALGO_CHOICES, "vec": ("dummy", "batched")}
DEFAULT_ENV = "irs_gym/MultiIRSDownlink-v0"


@dataclass
class Args:
    env: str = DEFAULT_ENV
    """env id registered by ``import irs_gym`` (see irs_gym.ENV_IDS)"""
    algo: str = "ppo"
    """SB3 algorithm"""
    preset: str = "default"
    """hyperparameter preset from agents/presets/<EnvName>.toml: the [algo] table is "default",
    a sub-table [algo.NAME] is NAME"""
    total_timesteps: int | None = None
    """env steps of the whole run, all envs together (default: the preset's budget); with
    --resume, training continues until the run has this many steps"""
    seed: int = 0
    """seed of the agent and of the training envs (env copy i gets seed + i)"""
    n_envs: int | None = None
    """number of env copies (default: the preset's)"""
    vec: str = "dummy"
    """vector env: "dummy" (SB3's DummyVecEnv of single envs) or "batched" (the native batched
    env, one numpy call per step for all copies; same transitions)"""
    log_dir: str = "runs"
    """root folder; the run directory is <log-dir>/<EnvName>__<algo>__s<seed>"""
    run_name: str | None = None
    """replace the run directory name <EnvName>__<algo>__s<seed> (e.g. for sweeps over env
    kwargs)"""
    env_kwargs: list[str] | None = None
    """gymnasium.make kwargs as key=value (Config overrides and env options), e.g.
    num_users=2 objective=min_rate channel_mode=static; they override the preset's env_kwargs"""
    hyperparams: list[str] | None = None
    """override preset values as key=value, e.g. learning_rate=1e-4 n_steps=64
    "policy_kwargs={'net_arch': [64, 64]}" """
    resume: bool = False
    """continue an existing run from its latest checkpoint (same run directory; env kwargs,
    preset, hyperparameters and n_envs are taken from its config.json)"""
    overwrite: bool = False
    """delete an existing run directory first"""
    device: str = "cpu"
    """torch device"""
    num_threads: int = 1
    """torch CPU threads (the small MLPs train fastest on one; 0 keeps torch's default)"""
    eval_freq: int = 10_000
    """env steps between evaluations against the reference solver (logged as eval/*; also at
    the start and the end); 0 disables them"""
    eval_episodes: int = 32
    """realisations in the evaluation set (training-time evaluations and --evaluate)"""
    eval_seed: int = 10_000
    """first reset seed of the evaluation set (realisations eval_seed .. eval_seed + N - 1)"""
    checkpoint_freq: int = 50_000
    """env steps between checkpoints (model, replay buffer, VecNormalize statistics)"""
    evaluate: bool = False
    """after training, evaluate the agent against every baseline on --eval-episodes
    realisations, print the table and write <run>/evaluation/"""
    bc_episodes: int = 0
    """behaviour-cloning warm start: before RL, pre-train the policy on the reference
    solver's decisions on this many realisations (reset seeds --bc-seed ..., disjoint from the
    evaluation set; cached like the reference solutions); 0 = off. Not redone on --resume"""
    bc_epochs: int = 20
    """passes over the behaviour-cloning dataset (the loss per epoch is logged as bc/loss)"""
    bc_seed: int = 1_000_000
    """first reset seed of the behaviour-cloning realisations"""
    progress_bar: bool = True
    """show SB3's progress bar"""
    verbose: int = 0
    """SB3 verbosity (1: also print the logged scalars)"""


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a dataclass (CleanRL style)."""
    body = ast.parse(inspect.getsource(cls)).body[0].body
    docs = {}
    for node, nxt in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(nxt, ast.Expr)
            and isinstance(nxt.value, ast.Constant)
            and isinstance(nxt.value.value, str)
        ):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Run directory: <log-dir>/<EnvName>__<algo>__s<seed>, e.g. "
        "runs/MultiIRSDownlink-v0__ppo__s0. View with: tensorboard --logdir <log-dir>",
    )
    docs = _field_docs(Args)
    for f in dataclasses.fields(Args):
        flag, help_ = "--" + f.name.replace("_", "-"), docs.get(f.name, "")
        kind = str(f.type)
        if f.name == "progress_bar":
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_
            )
        elif kind == "bool":
            parser.add_argument(flag, action="store_true", help=help_)
        elif kind.startswith("list[str]"):
            parser.add_argument(flag, nargs="+", default=None, metavar="K=V", help=help_)
        else:
            typ = int if kind.startswith("int") else str
            extra: dict[str, Any] = {"choices": CHOICES[f.name]} if f.name in CHOICES else {}
            default = f.default
            suffix = f" (default: {default})" if default is not None else ""
            parser.add_argument(flag, type=typ, default=default, help=help_ + suffix, **extra)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> tuple[Args, argparse.ArgumentParser]:
    parser = build_parser()
    ns = parser.parse_args(argv)
    return Args(**vars(ns)), parser


def _fail(message: str) -> None:
    print(f"train.py: error: {message}", file=sys.stderr)
    sys.exit(2)


def _check_resume_compat(args: Args, previous: dict[str, Any], env_kwargs, overrides) -> None:
    """Explicit arguments must agree with the run being resumed."""
    prev = previous["args"]
    diffs = []
    for key in ("env", "algo", "seed"):
        if getattr(args, key) != prev[key]:
            diffs.append(f"--{key.replace('_', '-')} {getattr(args, key)!r} != {prev[key]!r}")
    if args.preset != "default" and args.preset != prev["preset"]:
        diffs.append(f"--preset {args.preset!r} != {prev['preset']!r}")
    if args.n_envs is not None and args.n_envs != previous["n_envs"]:
        diffs.append(f"--n-envs {args.n_envs} != {previous['n_envs']}")
    if args.env_kwargs is not None and env_kwargs != previous["env_kwargs_parsed"]:
        diffs.append(f"--env-kwargs {args.env_kwargs} != {prev['env_kwargs']}")
    if args.hyperparams is not None and overrides != previous["hyperparam_overrides"]:
        diffs.append(f"--hyperparams {args.hyperparams} != {prev['hyperparams']}")
    for key in ("bc_episodes", "bc_epochs", "bc_seed"):  # given explicitly: must match
        default = getattr(Args, key)
        if getattr(args, key) != default and getattr(args, key) != prev.get(key, default):
            diffs.append(f"--{key.replace('_', '-')} {getattr(args, key)} != {prev.get(key)}")
    if diffs:
        _fail("--resume with arguments that differ from the run's config.json: " + "; ".join(diffs))


def main(argv: Sequence[str] | None = None) -> int:
    args, parser = parse_args(argv)
    import irs_gym

    if args.env not in irs_gym.ENV_IDS:
        parser.error(f"unknown env id {args.env!r}; known: {sorted(irs_gym.ENV_IDS)}")
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    for name in ("total_timesteps", "n_envs", "eval_episodes", "checkpoint_freq"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.eval_freq < 0:
        parser.error(f"--eval-freq must be >= 0, got {args.eval_freq}")
    if args.num_threads < 0:
        parser.error(f"--num-threads must be >= 0, got {args.num_threads}")
    if args.bc_episodes < 0:
        parser.error(f"--bc-episodes must be >= 0, got {args.bc_episodes}")
    if args.bc_epochs < 1:
        parser.error(f"--bc-epochs must be >= 1, got {args.bc_epochs}")
    if args.bc_episodes:
        from agents.imitation import check_disjoint

        try:
            check_disjoint(args.bc_seed, args.bc_episodes, args.eval_seed, args.eval_episodes)
        except ValueError as exc:
            parser.error(f"--bc-seed: {exc}")

    from agents.envs import env_name, parse_kv

    log_dir = Path(args.log_dir)
    run_dir = log_dir / (args.run_name or f"{env_name(args.env)}__{args.algo}__s{args.seed}")
    exists = run_dir.exists() and any(run_dir.iterdir())
    if exists and not (args.resume or args.overwrite):
        _fail(
            f"run directory {run_dir} already exists; pass --resume to continue it from its "
            "latest checkpoint or --overwrite to delete it and start again"
        )
    if args.resume and not exists:
        _fail(f"--resume: run directory {run_dir} does not exist or is empty")

    try:
        env_kwargs = parse_kv(args.env_kwargs, what="env kwarg")
        overrides = parse_kv(args.hyperparams, what="hyperparameter", tuples=False)
    except ValueError as exc:
        parser.error(str(exc))

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("agents").setLevel(logging.INFO)
    return _train(args, run_dir, log_dir, env_kwargs, overrides)


def _train(
    args: Args,
    run_dir: Path,
    log_dir: Path,
    env_kwargs: dict[str, Any],
    overrides: dict[str, Any],
) -> int:
    import stable_baselines3
    import torch
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecNormalize

    import irs_gym
    from agents._io import jsonable, write_json
    from agents.callbacks import EnvMetricsCallback, ReferenceEvalCallback, RunCheckpointCallback
    from agents.envs import env_signature, make_env, normalize_env_kwargs
    from agents.factory import (
        algo_class,
        make_agent,
        make_vec,
        merge_env_kwargs,
        normalize_options,
        resolve_hyperparams,
    )
    from agents.runs import (
        CHECKPOINT_DIR,
        CONFIG_FILE,
        MODEL_FILE,
        VECNORMALIZE_FILE,
        latest_checkpoint,
        read_run_config,
        save_checkpoint,
        save_model_files,
    )

    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    previous = None
    checkpoint = None
    if args.resume:
        try:
            previous = read_run_config(run_dir)
        except ValueError as exc:
            _fail(f"--resume: {exc}")
        previous["env_kwargs_parsed"] = normalize_env_kwargs(previous["env_kwargs"])
        _check_resume_compat(
            args, previous, merge_env_kwargs(previous["hyperparams"], env_kwargs), overrides
        )
        env_kwargs = previous["env_kwargs_parsed"]
        overrides = previous["hyperparam_overrides"]
        args.preset = previous["args"]["preset"]
        args.n_envs = previous["n_envs"]
        args.vec = previous["args"].get("vec", "dummy")
        for key in ("bc_episodes", "bc_epochs", "bc_seed"):
            setattr(args, key, previous["args"].get(key, getattr(Args, key)))
        checkpoint = latest_checkpoint(run_dir)
        if checkpoint is None:
            _fail(f"--resume: no checkpoint in {run_dir / CHECKPOINT_DIR}")
    elif args.overwrite and run_dir.exists():
        shutil.rmtree(run_dir)

    try:
        hyper = resolve_hyperparams(args.algo, args.env, args.preset, overrides)
        if previous is None:  # a resumed run keeps the env kwargs its config.json holds
            env_kwargs = merge_env_kwargs(hyper, env_kwargs)
        probe = make_env(args.env, env_kwargs)
    except (ValueError, ImportError) as exc:
        _fail(str(exc))
    signature = env_signature(probe)
    probe.close()
    n_envs = args.n_envs or int(hyper.get("n_envs", 1))
    total = args.total_timesteps or int(hyper["total_timesteps"])
    run_dir.mkdir(parents=True, exist_ok=True)

    if checkpoint is None:
        model, vec_env = make_agent(
            args.algo,
            args.env,
            preset=args.preset,
            seed=args.seed,
            n_envs=n_envs,
            env_kwargs=env_kwargs,
            device=args.device,
            verbose=args.verbose,
            hyperparams=overrides,
            vec=args.vec,
        )
    else:
        if checkpoint.steps >= total:
            print(
                f"{run_dir} already has {checkpoint.steps} >= --total-timesteps {total} steps; "
                "raise --total-timesteps to train further."
            )
            return 0
        # A fresh seed for the envs, so that the resumed run does not replay its first data.
        vec_env = make_vec(args.env, n_envs, args.seed + checkpoint.steps, env_kwargs, args.vec)
        if checkpoint.vecnormalize is not None:
            vec_env = VecNormalize.load(str(checkpoint.vecnormalize), vec_env)
        elif normalize_options(hyper.get("normalize")) is not None:
            _fail(f"--resume: the checkpoint {checkpoint.model} lacks its VecNormalize stats")
        model = algo_class(args.algo).load(
            str(checkpoint.model), env=vec_env, device=args.device, verbose=args.verbose
        )
        model.set_random_seed(args.seed + checkpoint.steps)
        if checkpoint.replay_buffer is not None and hasattr(model, "replay_buffer"):
            model.load_replay_buffer(str(checkpoint.replay_buffer))
        print(f"resuming {run_dir} from {checkpoint.model.name} ({checkpoint.steps} steps)")

    formats = ["tensorboard"] + (["stdout"] if args.verbose else [])
    model.set_logger(configure(str(run_dir), formats))
    if checkpoint is None and args.bc_episodes:
        bc = _behaviour_clone(args, model, env_kwargs)
    else:  # a resumed run keeps the record of its warm start
        bc = previous.get("bc") if previous else None

    history = list(previous.get("history", [])) if previous else []
    history.append(
        {
            "event": "resume" if checkpoint else "start",
            "from_steps": checkpoint.steps if checkpoint else 0,
            "target_steps": total,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )
    resolved_args = dataclasses.asdict(args) | {"total_timesteps": total, "n_envs": n_envs}
    config = {
        "args": resolved_args,
        "env_id": args.env,
        "algo": args.algo,
        "seed": args.seed,
        "preset": args.preset,
        "hyperparams": hyper,
        "hyperparam_overrides": overrides,
        "n_envs": n_envs,
        "total_timesteps": total,
        "env_kwargs": env_kwargs,
        "env_config": signature["config"],
        "env_options": signature["options"],
        "observation_shape": list(vec_env.observation_space.shape),
        "action_shape": list(vec_env.action_space.shape),
        "versions": {
            "irs_gym": irs_gym.__version__,
            "stable_baselines3": stable_baselines3.__version__,
            "torch": torch.__version__,
            "python": sys.version.split()[0],
        },
        "history": history,
        "bc": bc,
        "status": "running",
        "num_timesteps": int(model.num_timesteps),
    }
    write_json(run_dir / CONFIG_FILE, jsonable(config))

    callbacks = [
        RunCheckpointCallback(str(run_dir), args.checkpoint_freq, n_envs),
        EnvMetricsCallback(),
    ]
    if args.eval_freq > 0:
        callbacks.append(
            ReferenceEvalCallback(
                args.env,
                env_kwargs,
                eval_freq=args.eval_freq,
                n_episodes=args.eval_episodes,
                eval_seed=args.eval_seed,
                progress=True,
            )
        )
    remaining = total - int(model.num_timesteps)
    try:
        model.learn(
            total_timesteps=remaining,
            callback=CallbackList(callbacks),
            reset_num_timesteps=checkpoint is None,
            progress_bar=args.progress_bar,
        )
    except KeyboardInterrupt:
        ckpt = save_checkpoint(model, run_dir)
        write_json(
            run_dir / CONFIG_FILE,
            jsonable(config | {"status": "interrupted", "num_timesteps": ckpt.steps}),
        )
        again = f"--env {args.env} --algo {args.algo} --seed {args.seed} --log-dir {log_dir}"
        again += f" --run-name {args.run_name}" if args.run_name else ""
        print(
            f"\ninterrupted at {ckpt.steps} steps; checkpoint {ckpt.model}. Continue with: "
            f"python train.py {again} --total-timesteps {total} --resume",
            file=sys.stderr,
        )
        return 130
    save_checkpoint(model, run_dir)
    save_model_files(model, run_dir / MODEL_FILE, run_dir / VECNORMALIZE_FILE)
    config |= {"status": "finished", "num_timesteps": int(model.num_timesteps)}
    write_json(run_dir / CONFIG_FILE, jsonable(config))
    vec_env.close()
    print(f"saved {run_dir / MODEL_FILE} after {model.num_timesteps} steps")

    if args.evaluate:
        _evaluate(args, run_dir, env_kwargs)
    print(f"TensorBoard: tensorboard --logdir {log_dir}")
    return 0


def _behaviour_clone(args: Args, model: Any, env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Pre-train ``model`` on the reference solver's decisions (:mod:`agents.imitation`); logs
    ``bc/loss`` at TensorBoard steps 1 .. epochs and returns the record for config.json."""
    from agents.envs import make_env
    from agents.imitation import build_dataset, pretrain

    env = make_env(args.env, env_kwargs)
    start = time.perf_counter()
    try:
        dataset = build_dataset(
            env, args.bc_episodes, seed=args.bc_seed, progress=args.progress_bar
        )
        losses = pretrain(model, dataset, epochs=args.bc_epochs, progress=args.progress_bar)
    except ValueError as exc:
        _fail(f"--bc-episodes: {exc}")
    finally:
        env.close()
    for epoch, loss in enumerate(losses, start=1):
        model.logger.record("bc/loss", loss)
        model.logger.dump(epoch)
    seconds = time.perf_counter() - start
    print(
        f"behaviour cloning: {len(dataset)} samples of {dataset.solver} "
        f"({'cached' if dataset.cached else 'solved'}), loss {losses[0]:.4g} -> "
        f"{losses[-1]:.4g} in {args.bc_epochs} epochs ({seconds:.1f} s)"
    )
    return {
        "dataset": dataset.describe(),
        "epochs": args.bc_epochs,
        "loss": losses,
        "seconds": seconds,
    }


def _evaluate(args: Args, run_dir: Path, env_kwargs: dict[str, Any]) -> None:
    from agents.evaluate import show_and_write
    from agents.evaluation import run_evaluation

    report = run_evaluation(
        args.env,
        env_kwargs,
        agents=[run_dir],
        baselines_spec="all",
        episodes=args.eval_episodes,
        seed=args.eval_seed,
        device=args.device,
        progress=args.progress_bar,
    )
    show_and_write(report, run_dir / "evaluation")


if __name__ == "__main__":
    sys.exit(main())
