"""Pytree helpers for scenario and decision containers.

Scenarios and decisions are frozen dataclasses whose leaves are arrays with the same leading
batch axes (tuples and nested dataclasses allowed, ``None`` is a leaf that stays ``None``). The
vector env draws one realisation per sub-env from that sub-env's own generator (so that it
matches the single env draw for draw) and stacks them; these helpers do the stacking, indexing
and partial replacement without knowing the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def tree_map(fn: Callable[..., Any], tree: T, *rest: T) -> T:
    """Apply ``fn`` to matching array leaves of one or more trees of the same structure."""
    if tree is None:
        return None  # type: ignore[return-value]
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        kwargs = {
            f.name: tree_map(fn, getattr(tree, f.name), *(getattr(r, f.name) for r in rest))
            for f in dataclasses.fields(tree)
            if f.init
        }
        return type(tree)(**kwargs)
    if isinstance(tree, tuple | list):
        return type(tree)(tree_map(fn, *items) for items in zip(tree, *rest, strict=True))
    if isinstance(tree, str | bool | int | float) and not isinstance(tree, np.generic):
        return tree
    return fn(tree, *rest)


def tree_stack(trees: Sequence[T]) -> T:
    """Stack unbatched trees along a new leading axis."""
    return tree_map(lambda *leaves: np.stack(leaves), *trees)


def tree_index(tree: T, index: Any) -> T:
    """Index every leaf on its leading axes (``tree_index(batch, 3)`` gives realisation 3)."""
    return tree_map(lambda leaf: leaf[index], tree)


def tree_assign(tree: T, index: Any, values: T) -> T:
    """Return a copy of ``tree`` with ``tree[index] = values`` on every leaf."""

    def assign(leaf: np.ndarray, value: np.ndarray) -> np.ndarray:
        out = leaf.copy()
        out[index] = value
        return out

    return tree_map(assign, tree, values)
