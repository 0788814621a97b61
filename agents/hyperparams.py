"""Hyperparameter presets: one TOML file per env id in ``agents/presets/`` (rl-zoo style).

File name: the env id without the ``irs_gym/`` namespace plus ``.toml``, e.g.
``agents/presets/MultiIRSDownlink-v0.toml``. Layout::

    [ppo]                     # preset "default" of PPO
    policy = "MlpPolicy"
    n_envs = 8
    total_timesteps = 1_000_000
    normalize = { obs = false, reward = true }
    learning_rate = 3e-4
    [ppo.policy_kwargs]
    net_arch = [256, 256]

    [ppo.fast]                # preset "fast": only what differs from [ppo]
    total_timesteps = 100_000

A sub-table of ``[algo]`` is a named preset unless its name is a keyword of the SB3 constructor
(``policy_kwargs``, ``replay_buffer_kwargs``, ...), ``normalize`` or ``env_kwargs``; those are
values. A named preset's keys override the default's; tables (``policy_kwargs``,
``env_kwargs``) are merged key by key. Keys: ``policy``, ``n_envs``, ``total_timesteps`` (the
budget the values are meant for), ``normalize`` (``false``, ``true`` or ``{obs, reward}``: SB3
``VecNormalize``), ``noise_type`` (``"normal"`` or ``"ornstein-uhlenbeck"``) and ``noise_std``
(TD3/DDPG action noise), ``env_kwargs`` (a table of ``gymnasium.make`` kwargs the preset is
meant for, e.g. ``env_kwargs = { action_mode = "sequential" }`` for MaskablePPO on
``BlockAllocation-v0``; ``make_agent`` and ``train.py`` put the user's env kwargs on top, so
the user's value of a key wins), and every keyword of the algorithm's constructor; an unknown
key raises ``ValueError``. ``policy_kwargs.activation_fn`` is a name (``"tanh"``, ``"relu"``,
...). Algorithm tables are named like ``--algo`` (``[ppo]``, ``[maskable_ppo]``, ...; see
:mod:`agents.factory`).
"""

from __future__ import annotations

import copy
import inspect
import tomllib
from pathlib import Path
from typing import Any

from agents.envs import check_env_id, env_name

PRESET_DIR = Path(__file__).resolve().parent / "presets"
DEFAULT = "default"

#: Keys handled by :func:`agents.make_agent` rather than passed to the constructor.
META_KEYS = (
    "policy",
    "n_envs",
    "total_timesteps",
    "normalize",
    "noise_type",
    "noise_std",
    "env_kwargs",
)
#: Meta keys whose value is a table (so a sub-table of that name is a value, not a preset).
_META_TABLES = ("normalize", "env_kwargs")
#: Constructor keywords set by ``make_agent``'s own arguments, not by a preset.
_FORBIDDEN = ("env", "seed", "device", "verbose", "tensorboard_log", "_init_setup_model")


def preset_path(env_id: str) -> Path:
    return PRESET_DIR / f"{env_name(env_id)}.toml"


def preset_env_ids() -> list[str]:
    """The env ids that have a preset file (``irs_gym/`` + file stem)."""
    return sorted(f"irs_gym/{p.stem}" for p in PRESET_DIR.glob("*.toml"))


def _algo_params(algo: str) -> set[str]:
    from agents.factory import algo_class

    return set(inspect.signature(algo_class(algo).__init__).parameters) - {"self"}


def _load_file(env_id: str) -> dict[str, Any]:
    check_env_id(env_id)
    path = preset_path(env_id)
    if not path.is_file():
        raise ValueError(f"no presets for {env_id!r}: {path} does not exist")
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _split(algo: str, table: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict]]:
    """(values, named presets) of one ``[algo]`` table."""
    value_tables = _algo_params(algo) | set(_META_TABLES)
    values, named = {}, {}
    for key, value in table.items():
        if isinstance(value, dict) and key not in value_tables:
            named[key] = value
        else:
            values[key] = value
    return values, named


def list_presets(env_id: str) -> dict[str, list[str]]:
    """``{algo: [preset names]}`` defined for ``env_id`` (``"default"`` first)."""
    data = _load_file(env_id)
    return {algo: [DEFAULT, *_split(algo, table)[1]] for algo, table in data.items()}


def merge_values(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` on top; tables (dicts) are merged key by key."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **copy.deepcopy(value)}
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_preset(env_id: str, algo: str, preset: str = DEFAULT) -> dict[str, Any]:
    """The resolved hyperparameters of ``preset`` for ``(env_id, algo)`` (TOML values).

    Raises ``ValueError`` for an unknown env id, algo (no table in the file) or preset, and
    for keys that are neither meta keys nor constructor keywords of the algorithm.
    """
    from agents.factory import algo_class

    algo_class(algo)  # validates the algo name
    data = _load_file(env_id)
    if algo not in data:
        raise ValueError(
            f"no [{algo}] table in {preset_path(env_id)}; algos with presets: {sorted(data)}"
        )
    values, named = _split(algo, data[algo])
    if preset != DEFAULT:
        if preset not in named:
            raise ValueError(
                f"unknown preset {preset!r} for {algo} on {env_id}; "
                f"known: {[DEFAULT, *sorted(named)]}"
            )
        values = merge_values(values, named[preset])
    validate(algo, values, where=f"{preset_path(env_id).name} [{algo}] preset {preset!r}")
    return values


def validate(algo: str, values: dict[str, Any], where: str = "hyperparameters") -> None:
    """Raise ``ValueError`` naming every key that ``make_agent`` could not use."""
    params = _algo_params(algo)
    bad = sorted(k for k in values if k in _FORBIDDEN or (k not in params and k not in META_KEYS))
    if bad:
        raise ValueError(
            f"{where}: unknown or reserved key(s) {bad} for {algo}; allowed: "
            f"{sorted((params - set(_FORBIDDEN)) | set(META_KEYS))}"
        )
    for key in ("n_envs", "total_timesteps"):
        v = values.get(key)
        if v is not None and not (isinstance(v, int) and v >= 1):
            raise ValueError(f"{where}: {key} must be an integer >= 1, got {v!r}")
    env_kwargs = values.get("env_kwargs")
    if env_kwargs is not None and not isinstance(env_kwargs, dict):
        raise ValueError(
            f"{where}: env_kwargs must be a table of gymnasium.make kwargs, got {env_kwargs!r}"
        )
