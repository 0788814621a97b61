"""On-disk cache of solver results on evaluation sets (so references are solved once).

Location: ``$IRS_GYM_CACHE_DIR`` (default ``~/.cache/irs_gym``), files
``solutions/<key>.json``. The key is the SHA-256 of the canonical JSON (sorted keys) of::

    {"format": FORMAT, "env_id": ..., "config": dataclasses.asdict(env config),
     "options": resolved env options, "seeds": [...], "solver": name,
     "solver_params": vars(solver)}

    plus "code": code_fingerprint()

i.e. everything that fixes the realisations (env id, Config, env options such as
``channel_mode``, the reset seeds), the solver (name and constructor parameters) and the code
that computes it: a hash of every source file of ``baselines``, ``irs_gym.models`` and
``irs_gym.physics``, so an entry made before a solver or model changed is never reused. The
file also stores these fields in clear, for inspection. Files are written atomically
(temporary file + ``os.replace``), so concurrent runs at worst compute the same entry twice.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from agents._io import canonical, jsonable, write_json

logger = logging.getLogger(__name__)

ENV_VAR = "IRS_GYM_CACHE_DIR"
#: Bump when the stored layout or the evaluation protocol changes.
FORMAT = 1


def cache_dir() -> Path:
    """``$IRS_GYM_CACHE_DIR`` or ``~/.cache/irs_gym`` (read at every call)."""
    return Path(os.environ.get(ENV_VAR) or Path.home() / ".cache" / "irs_gym").expanduser()


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the source files of the solvers and the models they score with."""
    import baselines
    import irs_gym.models
    import irs_gym.physics

    digest = hashlib.sha256()
    for package in (baselines, irs_gym.models, irs_gym.physics):
        root = Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def key_fields(
    signature: dict[str, Any], seeds: list[int], solver_name: str, solver_params: dict[str, Any]
) -> dict[str, Any]:
    """The fields hashed into a key (``signature`` from :func:`agents.envs.env_signature`)."""
    return jsonable(
        {
            "format": FORMAT,
            "env_id": signature["env_id"],
            "config": signature["config"],
            "options": signature["options"],
            "seeds": [int(s) for s in seeds],
            "solver": solver_name,
            "solver_params": {k: v for k, v in solver_params.items() if not k.startswith("_")},
            "code": code_fingerprint(),
        }
    )


def cache_key(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def entry_path(key: str) -> Path:
    return cache_dir() / "solutions" / f"{key}.json"


def load(fields: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The stored episode records for ``fields``, or None (missing or unreadable)."""
    path = entry_path(cache_key(fields))
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable cache entry %s: %s", path, exc)
        return None
    if canonical(data.get("key")) != canonical(fields):
        logger.warning("ignoring cache entry %s: stored key fields differ", path)
        return None
    return data["episodes"]


def save(fields: dict[str, Any], episodes: list[dict[str, Any]]) -> Path:
    """Store ``episodes`` (JSON-ready dicts) under ``fields``; returns the file."""
    path = entry_path(cache_key(fields))
    write_json(path, {"key": fields, "episodes": episodes})
    logger.info("cached %d solutions in %s", len(episodes), path)
    return path
