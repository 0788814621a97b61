"""``make_agent``: an SB3 algorithm on a monitored vector env of an irs_gym env
(``DummyVecEnv`` of single envs, or :class:`agents.vec_env.BatchedVecEnv` over the native
batched env).

Algorithms: Stable-Baselines3's (:data:`ALGOS`, offered on every env, so every preset file has
a table for each) and sb3-contrib's ``MaskablePPO`` (:data:`MASKABLE_ALGOS`, for envs with
invalid-action masks, ``env.action_masks()``: ``BlockAllocation-v0`` with
``action_mode="sequential"``). sb3-contrib is a dependency of irs_gym, imported only when such
an algorithm is asked for.
"""

from __future__ import annotations

import copy
import importlib
import logging
from typing import Any

import numpy as np
import torch.nn as nn
from gymnasium import spaces
from stable_baselines3 import A2C, DDPG, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecMonitor, VecNormalize

from agents.envs import check_env_id, normalize_env_kwargs
from agents.hyperparams import DEFAULT, META_KEYS, load_preset, merge_values, validate
from agents.vec_env import BatchedVecEnv

logger = logging.getLogger(__name__)

ALGOS: dict[str, type[BaseAlgorithm]] = {
    "ppo": PPO,
    "sac": SAC,
    "td3": TD3,
    "ddpg": DDPG,
    "a2c": A2C,
}
#: sb3-contrib algorithms (name -> class in ``sb3_contrib``) that need the env's action masks;
#: only the preset files of envs with ``action_masks()`` have tables for them.
MASKABLE_ALGOS: dict[str, str] = {"maskable_ppo": "MaskablePPO"}
#: Every algorithm name :func:`make_agent` and ``train.py --algo`` accept.
ALGO_NAMES: tuple[str, ...] = (*ALGOS, *MASKABLE_ALGOS)

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def algo_class(algo: str) -> type[BaseAlgorithm]:
    """The class of ``algo`` (see :data:`ALGO_NAMES`).

    Raises:
        ValueError: unknown name.
        ImportError: a :data:`MASKABLE_ALGOS` name without sb3-contrib installed.
    """
    if algo in ALGOS:
        return ALGOS[algo]
    if algo in MASKABLE_ALGOS:
        try:
            module = importlib.import_module("sb3_contrib")
        except ImportError as exc:
            raise ImportError(
                f"algo {algo!r} needs sb3-contrib, a dependency of irs_gym: pip install -e ."
            ) from exc
        return getattr(module, MASKABLE_ALGOS[algo])
    raise ValueError(f"unknown algo {algo!r}; known: {sorted(ALGO_NAMES)}")


def merge_env_kwargs(values: dict[str, Any], env_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """The preset's ``env_kwargs`` (``values["env_kwargs"]``) with ``env_kwargs`` on top (the
    caller's keys win); lists become tuples as the Configs expect."""
    return normalize_env_kwargs({**(values.get("env_kwargs") or {}), **(env_kwargs or {})})


def check_maskable_env(algo: str, vec_env: VecEnv) -> None:
    """``ValueError`` unless ``vec_env`` suits a :data:`MASKABLE_ALGOS` algorithm (a discrete
    action space and an ``action_masks`` method); nothing for the other algorithms."""
    if algo not in MASKABLE_ALGOS:
        return
    space = vec_env.action_space
    if not isinstance(space, spaces.Discrete | spaces.MultiDiscrete | spaces.MultiBinary):
        raise ValueError(
            f"algo {algo!r} needs a discrete action space with action masks (e.g. "
            f"irs_gym/BlockAllocation-v0 with env kwarg action_mode='sequential'), got {space}"
        )
    if not vec_env.has_attr("action_masks"):
        raise ValueError(f"algo {algo!r} needs an env with an action_masks() method")


def resolve_hyperparams(
    algo: str,
    env_id: str,
    preset: str = DEFAULT,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The preset's values with ``overrides`` applied on top (validated, TOML types)."""
    values = merge_values(load_preset(env_id, algo, preset), overrides or {})
    validate(algo, values, where="hyperparameter overrides")
    return values


def normalize_options(value: Any) -> dict[str, bool] | None:
    """``normalize`` preset value -> ``{"obs": bool, "reward": bool}`` or None (off)."""
    if value is None or value is False:
        return None
    if value is True:
        return {"obs": True, "reward": True}
    if isinstance(value, dict) and set(value) <= {"obs", "reward"}:
        opts = {"obs": bool(value.get("obs", False)), "reward": bool(value.get("reward", False))}
        return opts if any(opts.values()) else None
    raise ValueError(f"normalize must be false, true or {{obs, reward}}, got {value!r}")


#: Vector env kinds: B single envs in SB3's ``DummyVecEnv``, or the native batched env.
VEC_KINDS = ("dummy", "batched")


def make_vec(
    env_id: str,
    n_envs: int,
    seed: int,
    env_kwargs: dict[str, Any] | None = None,
    vec: str = "dummy",
) -> VecEnv:
    """``n_envs`` monitored copies; copy ``i`` is seeded ``seed + i``.

    ``vec="dummy"``: ``DummyVecEnv`` of ``Monitor``-wrapped single envs; ``vec="batched"``:
    :class:`~agents.vec_env.BatchedVecEnv` (one numpy call per step for the whole batch)
    under ``VecMonitor``. Both give the same transitions.
    """
    import irs_gym  # noqa: F401  (registers the ids in this process)

    check_env_id(env_id)
    if not (isinstance(n_envs, int) and n_envs >= 1):
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    if vec not in VEC_KINDS:
        raise ValueError(f"vec must be one of {VEC_KINDS}, got {vec!r}")
    if vec == "batched":
        venv = BatchedVecEnv(env_id, n_envs, normalize_env_kwargs(env_kwargs))
        venv.seed(seed)
        venv.action_space.seed(seed)
        return VecMonitor(venv)
    # make_vec_env asks for render_mode="rgb_array" unless told otherwise; the irs_gym envs
    # do not render (and reject any render mode), so pass None explicitly.
    return make_vec_env(
        env_id,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={"render_mode": None, **normalize_env_kwargs(env_kwargs)},
        vec_env_cls=DummyVecEnv,
    )


def _constructor_kwargs(values: dict[str, Any], vec_env: VecEnv) -> dict[str, Any]:
    kwargs = {k: copy.deepcopy(v) for k, v in values.items() if k not in META_KEYS}
    pk = kwargs.get("policy_kwargs")
    if pk is not None:
        pk = dict(pk)
        act = pk.get("activation_fn")
        if isinstance(act, str):
            if act not in ACTIVATIONS:
                raise ValueError(f"unknown activation_fn {act!r}; known: {sorted(ACTIVATIONS)}")
            pk["activation_fn"] = ACTIVATIONS[act]
        kwargs["policy_kwargs"] = pk
    if isinstance(kwargs.get("train_freq"), list):
        kwargs["train_freq"] = tuple(kwargs["train_freq"])
    noise_type = values.get("noise_type")
    if noise_type is not None:
        dim = int(np.prod(vec_env.action_space.shape))
        sigma = float(values.get("noise_std", 0.1)) * np.ones(dim)
        if noise_type == "normal":
            kwargs["action_noise"] = NormalActionNoise(np.zeros(dim), sigma)
        elif noise_type == "ornstein-uhlenbeck":
            kwargs["action_noise"] = OrnsteinUhlenbeckActionNoise(np.zeros(dim), sigma)
        else:
            raise ValueError(
                f"noise_type must be 'normal' or 'ornstein-uhlenbeck', got {noise_type!r}"
            )
    return kwargs


def make_agent(
    algo: str,
    env_id: str,
    *,
    preset: str = DEFAULT,
    seed: int = 0,
    n_envs: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    tensorboard_log: str | None = None,
    device: str = "cpu",
    verbose: int = 0,
    hyperparams: dict[str, Any] | None = None,
    vec: str = "dummy",
) -> tuple[BaseAlgorithm, VecEnv]:
    """Build an SB3 agent for ``env_id`` from a preset.

    Args:
        algo: ``"ppo"``, ``"sac"``, ``"td3"``, ``"ddpg"``, ``"a2c"`` or ``"maskable_ppo"``
            (sb3-contrib; needs action masks, see :data:`MASKABLE_ALGOS`).
        env_id: a registered irs_gym id with a preset file (see :mod:`agents.hyperparams`).
        preset: preset name (``"default"`` is the ``[algo]`` table itself).
        seed: seed of the algorithm and of the envs (copy ``i`` gets ``seed + i``).
        n_envs: number of env copies; ``None`` takes the preset's ``n_envs`` (else 1).
        env_kwargs: ``gymnasium.make`` kwargs (Config overrides and env options), on top of
            the preset's ``env_kwargs`` (:func:`merge_env_kwargs`).
        tensorboard_log: SB3's TensorBoard root (``train.py`` installs its own logger).
        device: torch device.
        verbose: SB3 verbosity.
        hyperparams: values overriding the preset (same keys).
        vec: ``"dummy"`` or ``"batched"`` (see :func:`make_vec`).

    Returns:
        ``(model, vec_env)``; ``vec_env`` is a ``VecNormalize`` when the preset asks for it.

    Raises:
        ValueError: unknown algo, env id, preset or hyperparameter; a maskable algo on an
            env without action masks.
        ImportError: a maskable algo without sb3-contrib.
    """
    cls = algo_class(algo)
    check_env_id(env_id)
    values = resolve_hyperparams(algo, env_id, preset, hyperparams)
    n = n_envs if n_envs is not None else int(values.get("n_envs", 1))
    vec_env = make_vec(env_id, n, seed, merge_env_kwargs(values, env_kwargs), vec)
    try:
        check_maskable_env(algo, vec_env)
    except ValueError:
        vec_env.close()
        raise
    norm = normalize_options(values.get("normalize"))
    if norm is not None:
        vec_env = VecNormalize(
            vec_env,
            norm_obs=norm["obs"],
            norm_reward=norm["reward"],
            gamma=float(values.get("gamma", 0.99)),
        )
    model = cls(
        values.get("policy", "MlpPolicy"),
        vec_env,
        seed=seed,
        device=device,
        verbose=verbose,
        tensorboard_log=tensorboard_log,
        **_constructor_kwargs(values, vec_env),
    )
    logger.info("built %s on %s (preset %r, %d envs)", cls.__name__, env_id, preset, n)
    return model, vec_env
