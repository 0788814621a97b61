"""Solvers of model 002 (IRS block allocation): DP (reference, exact), the paper's exhaustive
search (exact, for small instances), and its MAX-BS and MIN-IRS heuristics."""

from __future__ import annotations

from baselines.block_allocation.base import AllocationSolver, assisted_count
from baselines.block_allocation.dp import DynamicProgramming, dp_allocate
from baselines.block_allocation.exhaustive import (
    MAX_CANDIDATES,
    ExhaustiveSearch,
    candidate_count,
    candidates,
    exhaustive_allocate,
)
from baselines.block_allocation.heuristics import MaxBS, MinIRS, ranked_allocation
from baselines.core import Solver, register
from irs_gym.models.block_allocation import BlockAllocationConfig

ENV_ID = "irs_gym/BlockAllocation-v0"


def solvers(config: BlockAllocationConfig) -> dict[str, Solver]:
    """The same four for every config; DP is the reference (and exact)."""
    return {
        "dp": DynamicProgramming(),
        "exhaustive": ExhaustiveSearch(),
        "max_bs": MaxBS(),
        "min_irs": MinIRS(),
    }


register(ENV_ID, solvers)

__all__ = [
    "MAX_CANDIDATES",
    "AllocationSolver",
    "DynamicProgramming",
    "ExhaustiveSearch",
    "MaxBS",
    "MinIRS",
    "assisted_count",
    "candidate_count",
    "candidates",
    "dp_allocate",
    "exhaustive_allocate",
    "ranked_allocation",
    "solvers",
]
