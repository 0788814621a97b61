"""Env ids, ``k=v`` env kwargs from the command line, and env signatures.

An env *signature* (:func:`env_signature`) is what determines the realisations an env draws
for a seed and how they are scored: the env id, the model Config (all fields, defaults
included) and the resolved env options (``channel_mode``, ...). Two runs are comparable, and a
cached solution is reusable, exactly when their signatures are equal. The *scoring*
signature (:func:`scoring_signature`) leaves out the options an agent is bound to but that
leave ``reset(seed)`` and the scoring of a decision unchanged (:func:`agent_options`: action
parametrisation and reward shaping, e.g. model 004's ``precoder``, and ``channel_mode``): envs
that share it draw the same realisation for a seed and score a decision on it the same way,
so agents trained under different agent options are compared with the same baselines.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

import gymnasium as gym

import irs_gym

NAMESPACE = "irs_gym/"


def check_env_id(env_id: str) -> str:
    """``env_id`` if ``import irs_gym`` registered it, else ``ValueError`` listing the known."""
    if env_id not in irs_gym.ENV_IDS:
        raise ValueError(f"unknown env id {env_id!r}; known: {sorted(irs_gym.ENV_IDS)}")
    return env_id


def env_name(env_id: str) -> str:
    """The env id without the ``irs_gym/`` namespace (preset file and run directory names)."""
    return env_id.split("/", 1)[1] if "/" in env_id else env_id


def _parse_value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _tuples(value: Any) -> Any:
    """Lists (from JSON or the command line) as tuples, as the frozen Configs expect."""
    if isinstance(value, list | tuple):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def parse_kv(items: Iterable[str] | None, *, what: str = "env kwarg", tuples: bool = True):
    """Parse ``["num_users=2", "objective=min_rate", "weights=(1, 2)"]`` into a dict.

    Values are Python literals where they parse as one (``4``, ``0.5``, ``(1, 2)``,
    ``{'a': [1]}``, ``True``/``true``, ``None``), otherwise strings. With ``tuples``, lists
    become tuples (the frozen Configs hold tuples).
    """
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"{what} must look like key=value, got {item!r}")
        if key in out:
            raise ValueError(f"{what} {key!r} given twice")
        parsed = _parse_value(value)
        out[key] = _tuples(parsed) if tuples else parsed
    return out


def parse_env_kwargs(items: Iterable[str] | None) -> dict[str, Any]:
    """``k=v`` strings as ``gymnasium.make`` kwargs (see :func:`parse_kv`)."""
    return parse_kv(items, what="env kwarg")


def normalize_env_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Env kwargs read back from JSON (lists -> tuples)."""
    return {k: _tuples(v) for k, v in (kwargs or {}).items()}


def make_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Env:
    """``gymnasium.make(env_id, **env_kwargs)`` after checking the id."""
    return gym.make(check_env_id(env_id), **normalize_env_kwargs(env_kwargs))


def env_signature(env: gym.Env) -> dict[str, Any]:
    """JSON-ready ``{"env_id", "config", "options"}`` of a made env (see module docstring)."""
    u = env.unwrapped
    config = dataclasses.asdict(u.config)
    options = getattr(getattr(u, "task", None), "options", None)
    if options is None:  # an env without the generic task: the non-Config make kwargs
        fields = {f.name for f in dataclasses.fields(u.config)}
        spec_kwargs = env.spec.kwargs if env.spec is not None else {}
        options = {k: v for k, v in spec_kwargs.items() if k not in fields}
    env_id = env.spec.id if env.spec is not None else type(u).__name__
    sig = {"env_id": env_id, "config": config, "options": dict(options)}
    return json.loads(json.dumps(sig, sort_keys=True, default=str))


def signature_of(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:func:`env_signature` of ``make_env(env_id, env_kwargs)``."""
    env = make_env(env_id, env_kwargs)
    try:
        return env_signature(env)
    finally:
        env.close()


#: Options of every irs_gym env that shape the episodes after ``reset`` but not the
#: realisation that ``reset(seed)`` draws (tested): on the agent's side for the evaluation
#: protocol, one decision on each ``reset(seed)`` realisation.
EPISODE_OPTIONS = ("channel_mode", "rho")


def agent_options(env: gym.Env) -> tuple[str, ...]:
    """The options a trained agent is bound to (its action and observation spaces, reward
    shaping) that leave the realisation of ``reset(seed)`` and its scoring unchanged: the
    env's ``ModelTask.AGENT_OPTIONS`` and :data:`EPISODE_OPTIONS`."""
    task = getattr(env.unwrapped, "task", None)
    if task is None:  # not an irs_gym env
        return ()
    return (*task.AGENT_OPTIONS, *EPISODE_OPTIONS)


def scoring_signature(signature: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``signature`` without the options ``names`` (the env's :func:`agent_options`)."""
    drop = set(names)
    options = {k: v for k, v in signature["options"].items() if k not in drop}
    return {**signature, "options": options}


def signature_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two signatures (empty when equal)."""
    out = []
    if a["env_id"] != b["env_id"]:
        out.append(f"env id {a['env_id']!r} != {b['env_id']!r}")
    for part in ("config", "options"):
        for key in sorted(set(a[part]) | set(b[part])):
            va, vb = a[part].get(key, "<unset>"), b[part].get(key, "<unset>")
            if va != vb:
                out.append(f"{key}: {va!r} != {vb!r}")
    return out
