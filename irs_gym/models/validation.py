"""Config validation shared by the models: each check raises ``ValueError`` naming the field
and its allowed range (``"num_elements must be an integer in [1, 4096], got 0"``)."""

from __future__ import annotations

import math

import numpy as np


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def is_int(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def is_real(v: object) -> bool:
    """A finite int, float or numpy number (not a bool)."""
    return (
        isinstance(v, int | float | np.number)
        and not isinstance(v, bool)
        and math.isfinite(float(v))
    )


def check_int(config: object, name: str, lo: int, hi: int) -> None:
    """``config.name`` is an integer in [lo, hi]."""
    v = getattr(config, name)
    check(is_int(v) and lo <= v <= hi, f"{name} must be an integer in [{lo}, {hi}], got {v!r}")


def check_real(config: object, name: str, lo: float, hi: float, *, open_lo: bool = False) -> None:
    """``config.name`` is a number in [lo, hi] (``open_lo``: (lo, hi])."""
    v = getattr(config, name)
    ok = is_real(v) and (lo < float(v) if open_lo else lo <= float(v)) and float(v) <= hi
    bracket = "(" if open_lo else "["
    check(ok, f"{name} must be a number in {bracket}{lo}, {hi}], got {v!r}")


def check_flag(config: object, name: str) -> None:
    """``config.name`` is True or False."""
    v = getattr(config, name)
    check(isinstance(v, bool | np.bool_), f"{name} must be True or False, got {v!r}")
