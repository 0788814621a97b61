"""The paper's low-complexity heuristics MAX-BS and MIN-IRS (spec sections 5.2-5.3).

Both rank the users by distance, keep the first A, and give the most blocks to the first
ones [R]: every kept user gets floor(n_b / A) blocks and the n_b mod A remaining blocks go,
one each, to the first users in the ranking. Ties in distance go to the lower user index.
With A free the heuristics assist A = min(K, n_b) users (one block each when K >= n_b).
"""

from __future__ import annotations

import numpy as np

from baselines.block_allocation.base import AllocationSolver, assisted_count
from irs_gym.models import block_allocation as model


def ranked_allocation(priority: np.ndarray, num_blocks: int, assisted_users: int) -> np.ndarray:
    """Blocks ``[..., K]`` for the A users of highest ``priority [..., K]`` (rule above)."""
    priority = np.asarray(priority, dtype=np.float64)
    ranked = np.argsort(-priority, axis=-1, kind="stable")[..., :assisted_users]
    share, extra = divmod(num_blocks, assisted_users)
    counts = share + (np.arange(assisted_users) < extra)
    blocks = np.zeros(priority.shape, dtype=np.int64)
    np.put_along_axis(blocks, ranked, np.broadcast_to(counts, ranked.shape), axis=-1)
    return blocks


class MaxBS(AllocationSolver):
    """MAX-BS: the users farthest from the BS (lowest direct SNR) get the blocks."""

    name = "max_bs"
    role = "benchmark"
    status = "fixed"

    def allocate(self, scenario, config: model.BlockAllocationConfig) -> np.ndarray:
        return ranked_allocation(scenario.distance_bs_m, config.num_blocks, assisted_count(config))


class MinIRS(AllocationSolver):
    """MIN-IRS: the users nearest the IRS get the blocks."""

    name = "min_irs"
    role = "benchmark"
    status = "fixed"

    def allocate(self, scenario, config: model.BlockAllocationConfig) -> np.ndarray:
        return ranked_allocation(
            -scenario.distance_irs_m, config.num_blocks, assisted_count(config)
        )
