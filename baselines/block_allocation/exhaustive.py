r"""Exhaustive search, as the paper describes it (section III-A; spec section 5.1).

Every candidate allocation is enumerated: a set of assisted users, then a split of the blocks
among them (a composition: ordered positive parts), and the best total saving wins.

* A fixed: a set of A users and a composition of n_b into A parts:
  :math:`\binom KA\binom{n_b-1}{A-1}` candidates (3 blocks, 4 users: 4 candidates for A = 3,
  12 for A = 2, the paper's example).
* A free (the NLIP (15)-(17)): a = 0..min(K, n_b) users, b = a..n_b blocks, a composition of
  b into a parts: :math:`\sum_a\binom Ka\binom{n_b}{a}=\binom{K+n_b}{n_b}` candidates (every
  x in N^K with sum <= n_b).

The count grows combinatorially, so the search refuses instances above ``max_candidates``
(``Solution`` status ``not_applicable``, :func:`exhaustive_allocate` a ``ValueError``), with a
message that points to the DP solver, which finds the same optimum in O(K A n_b^2).
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from baselines.block_allocation.base import AllocationSolver
from baselines.core import Solution
from irs_gym.models import block_allocation as model

#: Default refusal threshold; K = 30, n_b = 5 needs 142 506 (A = 5) or 324 632 (A free).
MAX_CANDIDATES = 1_000_000
#: Entries gathered at once ([scenarios, candidates, K]), which bounds the memory.
_GATHER = 1 << 22


def candidate_count(num_users: int, num_blocks: int, assisted_users: int | None = None) -> int:
    """Number of allocations the search enumerates (module docstring)."""
    if assisted_users is None:
        return math.comb(num_users + num_blocks, num_blocks)
    return math.comb(num_users, assisted_users) * math.comb(num_blocks - 1, assisted_users - 1)


def compositions(total: int, parts: int):
    """Every tuple of ``parts`` positive integers summing to ``total`` (cut points of a row of
    ``total`` blocks); one empty tuple for 0 parts of 0."""
    if parts == 0:
        if total == 0:
            yield ()
        return
    for cuts in itertools.combinations(range(1, total), parts - 1):
        edges = (0, *cuts, total)
        yield tuple(b - a for a, b in itertools.pairwise(edges))


@functools.lru_cache(maxsize=32)
def candidates(num_users: int, num_blocks: int, assisted_users: int | None = None) -> np.ndarray:
    """The enumerated allocations, ``[C, K]`` int64 (users, then splits; read-only)."""
    sizes = range(min(num_users, num_blocks) + 1) if assisted_users is None else (assisted_users,)
    rows = []
    for a in sizes:
        totals = range(a, num_blocks + 1) if assisted_users is None else (num_blocks,)
        for users in itertools.combinations(range(num_users), a):
            for b in totals:
                for split in compositions(b, a):
                    row = [0] * num_users
                    for user, x in zip(users, split, strict=True):
                        row[user] = x
                    rows.append(row)
    out = np.array(rows, dtype=np.int64).reshape(-1, num_users)
    out.flags.writeable = False
    return out


def refusal(count: int, max_candidates: int) -> str:
    return (
        f"exhaustive search refused: {count} candidates exceed max_candidates="
        f"{max_candidates}; use the DP solver ('dp', baselines.block_allocation."
        f"DynamicProgramming), which finds the same optimum in O(K A n_b^2)"
    )


def exhaustive_allocate(
    table: np.ndarray,
    assisted_users: int | None = None,
    max_candidates: int = MAX_CANDIDATES,
) -> np.ndarray:
    """Best enumerated allocation for ``table [..., K, n_b + 1]`` (as in
    :func:`baselines.block_allocation.dp.dp_allocate`), int64 ``[..., K]``; the first best
    candidate in enumeration order wins ties.

    Raises:
        ValueError: when there are more than ``max_candidates`` candidates (use DP).
    """
    table = np.asarray(table, dtype=np.float64)
    *batch, num_users, width = table.shape
    count = candidate_count(num_users, width - 1, assisted_users)
    if count > max_candidates:
        raise ValueError(refusal(count, max_candidates))
    cands = candidates(num_users, width - 1, assisted_users)
    flat = table.reshape(-1, num_users, width)
    users = np.arange(num_users)
    best_value = np.full(flat.shape[0], -np.inf)
    best_index = np.zeros(flat.shape[0], dtype=np.int64)
    step = max(1, _GATHER // (flat.shape[0] * num_users))
    for start in range(0, len(cands), step):
        chunk = cands[start : start + step]
        values = flat[:, users, chunk].sum(axis=-1)  # [scenarios, chunk]
        top = values.argmax(axis=-1)
        top_value = values[np.arange(len(top)), top]
        better = top_value > best_value
        best_value = np.where(better, top_value, best_value)
        best_index = np.where(better, start + top, best_index)
    return cands[best_index].reshape(*batch, num_users)


class ExhaustiveSearch(AllocationSolver):
    """The paper's exhaustive search: the exact optimum by enumeration (module docstring).

    Role ``bound`` (an exact optimum, like DP); refuses instances with more than
    ``max_candidates`` candidates with status ``not_applicable`` and a message naming DP.
    """

    name = "exhaustive"
    role = "bound"
    status = "optimal"

    def __init__(self, max_candidates: int = MAX_CANDIDATES) -> None:
        if not (isinstance(max_candidates, int) and max_candidates >= 1):
            raise ValueError(f"max_candidates must be an integer >= 1, got {max_candidates!r}")
        self.max_candidates = max_candidates

    def allocate(
        self, scenario: model.BlockAllocationScenario, config: model.BlockAllocationConfig
    ) -> np.ndarray:
        return exhaustive_allocate(
            model.saving_table(config, scenario), config.assisted_users, self.max_candidates
        )

    def _refused(self, config: model.BlockAllocationConfig) -> Solution | None:
        """The ``not_applicable`` Solution when ``config`` has too many candidates."""
        count = candidate_count(config.num_users, config.num_blocks, config.assisted_users)
        if count > self.max_candidates:
            return Solution(
                None, float("nan"), "not_applicable", message=refusal(count, self.max_candidates)
            )
        return None

    def _solve(self, scenario, config, rng) -> Solution:
        return self._refused(config) or super()._solve(scenario, config, rng)

    def _solve_batch(self, scenarios, config, rngs) -> list[Solution]:
        if self._refused(config) is not None:
            return [self._refused(config) for _ in rngs]
        return super()._solve_batch(scenarios, config, rngs)
