"""Behaviour cloning: the reference solver's decisions as a dataset, and supervised
pre-training of an SB3 policy on it (the warm start of ``train.py --bc-episodes``).

Dataset (:func:`build_dataset`): sample ``i`` is the realisation of ``env.reset(seed=seed +
i)``; the env's reference solver (``baselines.reference_solver``) solves
``env.unwrapped.scenario`` with the generator ``agents.evaluation.solver_rng(seed + i)``, as
in the evaluation protocol, and ``env.unwrapped.encode`` turns its decision into the action.
The observation is the one ``reset`` returns. Realisations without a decision, or whose
decision the env scores as infeasible, are dropped (counted in :attr:`Dataset.dropped`).
The seeds start at :data:`BC_SEED` = 1,000,000 by default, far from the evaluation sets
(``train.py`` scores on 10,000 .. 10,000 + N - 1, the learning report on 20,000 ..) and from
the training envs (reset seeds ``agent seed + env index``, a few dozen at most);
:func:`check_disjoint` refuses a dataset that overlaps an evaluation set.

Cache: the solver-result cache of :mod:`agents.cache` keeps objectives, not decisions, so the
dataset has its own entries, ``$IRS_GYM_CACHE_DIR/imitation/<key>.npz``, keyed like
:mod:`agents.cache` (env signature, seeds, solver name and parameters, the solver/model code
fingerprint) plus a fingerprint of ``irs_gym/envs`` (observation and codec code).

Losses (:func:`pretrain`), chosen so that the pre-trained network is the one RL fine-tunes:

* on-policy algorithms (PPO, A2C, sb3-contrib's MaskablePPO): the negative log-likelihood of
  the expert action under the policy's action distribution, ``-log pi(a* | s)``, averaged over
  the batch. For a ``Box`` space this trains the Gaussian's mean and its state-independent
  ``log_std`` (summed over the action dimensions, in nats), so after cloning the exploration
  noise is about as large as the remaining imitation error; for ``Discrete`` and
  ``MultiDiscrete`` spaces it is the cross-entropy (summed over the sub-actions).
* SAC: the mean squared error between the squashed mean action ``tanh(mu(s))`` and the expert
  action rescaled to [-1, 1] (the actor only; the critics learn in RL).
* TD3 and DDPG: the mean squared error between the deterministic actor's output and the
  rescaled expert action; the target actor is then set to the cloned actor.

Observations go through the model's ``VecNormalize`` observation normalisation when it has one
(its running statistics are first updated with the dataset's observations).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.sac.policies import SACPolicy
from stable_baselines3.td3.policies import TD3Policy
from tqdm.auto import tqdm

import baselines
from agents import cache
from agents._io import atomic_write_with, canonical
from agents.envs import env_signature
from agents.evaluation import eval_seeds, solver_rng

logger = logging.getLogger(__name__)

#: First reset seed of the behaviour-cloning datasets (see the module docstring).
BC_SEED = 1_000_000
#: Bump when the stored dataset layout or the way samples are drawn changes.
DATASET_FORMAT = 1
DEFAULT_EPOCHS = 20
DEFAULT_BATCH_SIZE = 64
DEFAULT_LR = 1e-3


@dataclasses.dataclass
class Dataset:
    """Expert (observation, action) pairs of one env configuration.

    Attributes:
        obs: ``[N, D]`` float32 observations, as ``env.reset`` returns them.
        actions: ``[N, A]`` float32 (``Box``) or int64 (discrete) expert actions,
            ``env.unwrapped.encode(reference decision)``.
        objectives: ``[N]`` the env's ``info["objective"]`` after stepping the expert action.
        seeds: ``[N]`` reset seeds of the kept realisations.
        solver: name of the reference solver.
        dropped: realisations left out (no decision, solver error or infeasible decision).
        solver_seconds: total solve time when the dataset was built.
        cached: whether it was read from the cache.
        key: the cache key (SHA-256 hex).
    """

    obs: np.ndarray
    actions: np.ndarray
    objectives: np.ndarray
    seeds: np.ndarray
    solver: str
    dropped: int
    solver_seconds: float
    cached: bool
    key: str

    def __len__(self) -> int:
        return len(self.obs)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (for ``config.json`` and reports)."""
        return {
            "samples": len(self),
            "dropped": self.dropped,
            "solver": self.solver,
            "first_seed": int(self.seeds.min()),
            "last_seed": int(self.seeds.max()),
            "expert_objective_mean": float(np.mean(self.objectives)),
            "solver_seconds": self.solver_seconds,
            "cached": self.cached,
            "key": self.key,
        }


def check_disjoint(
    seed: int,
    episodes: int,
    other_seed: int,
    other_episodes: int,
    *,
    name: str = "behaviour-cloning seeds",
    what: str = "evaluation set",
) -> None:
    """``ValueError`` when the ``name`` seeds ``seed .. seed + episodes - 1`` meet the
    ``what`` seeds ``other_seed .. other_seed + other_episodes - 1``."""
    if seed < other_seed + other_episodes and other_seed < seed + episodes:
        raise ValueError(
            f"{name} {seed}..{seed + episodes - 1} overlap the {what} (seeds "
            f"{other_seed}..{other_seed + other_episodes - 1}); choose a first seed "
            f">= {other_seed + other_episodes} or <= {other_seed - episodes}"
        )


@functools.cache
def envs_fingerprint() -> str:
    """SHA-256 over the source files of ``irs_gym.envs`` (observations and codecs)."""
    import irs_gym.envs

    root = Path(irs_gym.envs.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def dataset_path(key: str) -> Path:
    return cache.cache_dir() / "imitation" / f"{key}.npz"


def build_dataset(
    env: gym.Env,
    episodes: int,
    *,
    seed: int = BC_SEED,
    use_cache: bool = True,
    progress: bool = False,
) -> Dataset:
    """Solve ``episodes`` realisations with the env's reference solver (see the module
    docstring); read from and written to the cache unless ``use_cache`` is False.

    Args:
        env: an env made by ``gymnasium.make`` of an irs_gym id (it is reset and stepped).
        episodes: number of realisations, an integer >= 1.
        seed: first reset seed (realisations ``seed .. seed + episodes - 1``).
        use_cache: read/write ``$IRS_GYM_CACHE_DIR/imitation``.
        progress: show a progress bar while solving.

    Returns:
        The :class:`Dataset`.

    Raises:
        ValueError: ``episodes`` < 1; an env whose decision takes several steps
            (``multi_step_decisions``); no reference solver for the configuration; no
            realisation gave a feasible decision.
    """
    u = env.unwrapped
    env_id = env.spec.id if env.spec is not None else type(u).__name__
    if getattr(u, "multi_step_decisions", False):
        raise ValueError(
            f"behaviour cloning needs one decision per step; {env_id} with these env kwargs "
            "takes several steps per decision (multi_step_decisions, e.g. BlockAllocation-v0 "
            "with action_mode='sequential'), which is not supported"
        )
    seeds = eval_seeds(seed, episodes)
    _, solver = baselines.reference_solver(baselines.for_env(env_id, config=u.config))
    fields = cache.key_fields(env_signature(env), seeds, solver.name, vars(solver))
    fields |= {"dataset": "behaviour_cloning", "dataset_format": DATASET_FORMAT}
    fields |= {"envs_code": envs_fingerprint()}
    key = cache.cache_key(fields)
    path = dataset_path(key)
    if use_cache:
        stored = _load(path, fields, solver.name, key)
        if stored is not None:
            return stored

    obs, actions, objectives, kept = [], [], [], []
    seconds, dropped, mismatched = 0.0, 0, 0
    for s in tqdm(seeds, desc=f"{solver.name} (BC dataset)", disable=not progress, leave=False):
        first_obs, _ = env.reset(seed=s)
        try:
            sol = solver.solve(u.scenario, u.config, rng=solver_rng(s))
            seconds += sol.seconds
            if sol.decision is None:
                raise ValueError(f"no decision (status {sol.status}: {sol.message})")
            action = np.asarray(u.encode(sol.decision))
            _, _, _, _, info = env.step(action)
        except Exception as exc:  # one bad realisation never stops the dataset
            logger.warning("%s on seed %d dropped from the BC dataset: %s", solver.name, s, exc)
            dropped += 1
            continue
        if not info["feasible"]:
            logger.warning("%s on seed %d: infeasible decision dropped", solver.name, s)
            dropped += 1
            continue
        if not math.isclose(info["objective"], sol.objective, rel_tol=1e-6, abs_tol=1e-9):
            mismatched += 1
        obs.append(first_obs)
        actions.append(action)
        objectives.append(float(info["objective"]))
        kept.append(s)
    if not kept:
        raise ValueError(f"{solver.name} gave no feasible decision on seeds {seeds[0]}..")
    if mismatched:  # e.g. an env that recomputes the precoder from the encoded phases
        logger.warning(
            "%d of %d %s decisions score differently in the env than the solver reported; "
            "the dataset keeps the env's objectives",
            mismatched,
            len(kept),
            solver.name,
        )
    discrete = isinstance(env.action_space, spaces.Discrete | spaces.MultiDiscrete)
    dataset = Dataset(
        obs=np.stack(obs).astype(np.float32),
        actions=np.stack(actions).astype(np.int64 if discrete else np.float32),
        objectives=np.asarray(objectives, dtype=np.float64),
        seeds=np.asarray(kept, dtype=np.int64),
        solver=solver.name,
        dropped=dropped,
        solver_seconds=seconds,
        cached=False,
        key=key,
    )
    if use_cache:
        atomic_write_with(path, lambda fh: _save(fh, dataset, fields))
        logger.info("cached a BC dataset of %d samples in %s", len(dataset), path)
    return dataset


def _save(fh: Any, dataset: Dataset, fields: dict[str, Any]) -> None:
    np.savez_compressed(
        fh,
        obs=dataset.obs,
        actions=dataset.actions,
        objectives=dataset.objectives,
        seeds=dataset.seeds,
        dropped=np.int64(dataset.dropped),
        solver_seconds=np.float64(dataset.solver_seconds),
        fields=np.array(canonical(fields)),
    )


def _load(path: Path, fields: dict[str, Any], solver: str, key: str) -> Dataset | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["fields"]) != canonical(fields):
                logger.warning("ignoring BC dataset %s: stored key fields differ", path)
                return None
            return Dataset(
                obs=data["obs"],
                actions=data["actions"],
                objectives=data["objectives"],
                seeds=data["seeds"],
                solver=solver,
                dropped=int(data["dropped"]),
                solver_seconds=float(data["solver_seconds"]),
                cached=True,
                key=key,
            )
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("ignoring unreadable BC dataset %s: %s", path, exc)
        return None


# Pre-training ---------------------------------------------------------------------------


def _loss_and_params(
    model: BaseAlgorithm,
) -> tuple[Callable[[torch.Tensor, np.ndarray], torch.Tensor], list[torch.nn.Parameter]]:
    """The imitation loss ``loss(obs, expert_actions)`` of ``model`` and the parameters it
    trains (see the module docstring)."""
    policy = model.policy
    box = isinstance(model.action_space, spaces.Box)

    def target(actions: np.ndarray) -> torch.Tensor:
        # off-policy actors (and squashed on-policy ones) act in [-1, 1], rescaled to the space
        scaled = policy.scale_action(actions) if box else actions
        return torch.as_tensor(scaled, device=policy.device)

    if isinstance(model, OnPolicyAlgorithm):

        def nll(obs: torch.Tensor, actions: np.ndarray) -> torch.Tensor:
            a = target(actions) if policy.squash_output else torch.as_tensor(actions)
            return -policy.get_distribution(obs).log_prob(a.to(policy.device)).mean()

        return nll, list(policy.parameters())
    if isinstance(policy, SACPolicy):

        def sac_mse(obs: torch.Tensor, actions: np.ndarray) -> torch.Tensor:
            mean, _, _ = policy.actor.get_action_dist_params(obs)
            return F.mse_loss(torch.tanh(mean), target(actions))

        return sac_mse, list(policy.actor.parameters())
    if isinstance(policy, TD3Policy):  # TD3 and DDPG

        def actor_mse(obs: torch.Tensor, actions: np.ndarray) -> torch.Tensor:
            return F.mse_loss(policy.actor(obs), target(actions))

        return actor_mse, list(policy.actor.parameters())
    raise ValueError(
        f"behaviour cloning supports on-policy algorithms, SAC, TD3 and DDPG, got "
        f"{type(model).__name__}"
    )


def model_obs(model: BaseAlgorithm, obs: np.ndarray, *, update: bool = False) -> np.ndarray:
    """``obs`` as the policy sees them: through the model's ``VecNormalize`` observation
    normalisation when it has one (with ``update``, its running statistics first absorb
    ``obs`` when it is in training mode)."""
    vec_norm = model.get_vec_normalize_env()
    if vec_norm is None or not vec_norm.norm_obs:
        return obs
    if update and vec_norm.training:
        vec_norm.obs_rms.update(obs)
    return vec_norm.normalize_obs(obs)


def imitation_loss(model: BaseAlgorithm, dataset: Dataset) -> float:
    """The :func:`pretrain` loss of ``model`` on the whole dataset (no update)."""
    loss_fn, _ = _loss_and_params(model)
    obs = torch.as_tensor(model_obs(model, dataset.obs), device=model.policy.device)
    with torch.no_grad():
        return float(loss_fn(obs, dataset.actions))


def pretrain(
    model: BaseAlgorithm,
    dataset: Dataset,
    epochs: int = DEFAULT_EPOCHS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lr: float = DEFAULT_LR,
    *,
    seed: int | None = None,
    progress: bool = False,
) -> list[float]:
    """Behaviour cloning of ``model``'s policy on ``dataset`` (losses in the module
    docstring), with its own Adam optimiser, so the RL optimiser's state is left untouched.

    Args:
        model: an SB3 algorithm (PPO, A2C, MaskablePPO, SAC, TD3 or DDPG) built for the
            dataset's env.
        dataset: from :func:`build_dataset` on the same env configuration.
        epochs: passes over the dataset, an integer >= 1.
        batch_size: samples per gradient step, an integer >= 1.
        lr: Adam learning rate, > 0.
        seed: seed of the minibatch shuffling (default: the model's seed).
        progress: show a progress bar over the epochs.

    Returns:
        The mean minibatch loss of each epoch (``epochs`` values).

    Raises:
        ValueError: a bad ``epochs``, ``batch_size`` or ``lr``; an unsupported algorithm;
            observations or actions whose shape does not match the model's spaces.
    """
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}")
    _check_shapes(model, dataset)
    loss_fn, params = _loss_and_params(model)
    policy = model.policy
    obs = torch.as_tensor(model_obs(model, dataset.obs, update=True), device=policy.device)
    optimizer = torch.optim.Adam(params, lr=lr)
    rng = np.random.default_rng(model.seed if seed is None else seed)
    n = len(dataset)
    history = []
    policy.set_training_mode(True)
    try:
        for _ in tqdm(range(epochs), desc="behaviour cloning", disable=not progress, leave=False):
            order = rng.permutation(n)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                loss = loss_fn(obs[idx], dataset.actions[idx])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(idx)
            history.append(total / n)
    finally:
        policy.set_training_mode(False)
    if isinstance(policy, TD3Policy):  # TD3/DDPG bootstrap their critics with the target actor
        policy.actor_target.load_state_dict(policy.actor.state_dict())
    return history


def _check_shapes(model: BaseAlgorithm, dataset: Dataset) -> None:
    obs_shape = model.observation_space.shape
    if dataset.obs.shape[1:] != obs_shape:
        raise ValueError(
            f"dataset observations have shape {dataset.obs.shape[1:]}, the model expects "
            f"{obs_shape} (another env configuration?)"
        )
    act_shape = model.action_space.shape
    if dataset.actions.shape[1:] != act_shape:
        raise ValueError(
            f"dataset actions have shape {dataset.actions.shape[1:]}, the model expects "
            f"{act_shape} (another env configuration?)"
        )
