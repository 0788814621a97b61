r"""Dynamic programming over users: the exact optimum of model 002 (spec section 5.1 [D]).

The objective :math:`\sum_kS_k(x_k)` is separable, so with
:math:`V_k[a][b]` = the best value of users 1..k using a assisted users and b blocks,

.. math:: V_k[a][b] = \max\Big(V_{k-1}[a][b],\ \max_{1\le x\le b}
          V_{k-1}[a-1][b-x] + S_k(x)\Big),\qquad V_0[0][0]=0,

at a cost of O(K A n_b^2). The answer is :math:`V_K[A][n_b]` when A is fixed, and the best
:math:`V_K[a][b]` over every a <= min(K, n_b), b <= n_b when A is free (the NLIP (15)-(17));
the allocation is read back from the stored choices. Every operation is vectorised over the
batch of scenarios; the loops run over users and block counts only.
"""

from __future__ import annotations

import numpy as np

from baselines.block_allocation.base import AllocationSolver
from irs_gym.models import block_allocation as model


def dp_allocate(table: np.ndarray, assisted_users: int | None = None) -> np.ndarray:
    """Exact maximiser of sum_k table[..., k, x_k] (module docstring), int64 ``[..., K]``.

    Args:
        table: ``[..., K, n_b + 1]`` value of giving x blocks to user k (column 0 must be the
            value of no block; :func:`model.saving_table` gives S_k(x) with S_k(0) = 0).
        assisted_users: A (exactly A users with x_k >= 1 and sum x = n_b), or ``None``
            (sum x <= n_b, any number of users).

    Ties go to the first maximiser in the order: fewer blocks for the later users.
    """
    table = np.asarray(table, dtype=np.float64)
    *batch, num_users, width = table.shape
    n_b = width - 1
    a_max = min(num_users, n_b) if assisted_users is None else assisted_users
    if not 0 <= a_max <= min(num_users, n_b):
        raise ValueError(
            f"assisted_users must be in [1, min(K, n_b)] = [1, {min(num_users, n_b)}], "
            f"got {assisted_users}"
        )
    value = np.full((*batch, a_max + 1, n_b + 1), -np.inf)
    value[..., 0, 0] = 0.0
    # choice[k][..., a, b]: blocks user k took on the best path to state (a, b)
    choice = np.zeros((num_users, *batch, a_max + 1, n_b + 1), dtype=np.int16)
    for k in range(num_users):
        best = value.copy()
        for x in range(1, n_b + 1):
            gain = table[..., k, x, None, None]
            candidate = value[..., :-1, :-x] + gain  # lands on (a + 1, b + x)
            target = best[..., 1:, x:]
            better = candidate > target
            best[..., 1:, x:] = np.where(better, candidate, target)
            choice[k][..., 1:, x:] = np.where(better, x, choice[k][..., 1:, x:])
        value = best
    if assisted_users is None:
        flat = value.reshape(*batch, -1).argmax(axis=-1)
        a, b = np.divmod(flat, n_b + 1)
    else:
        a = np.full(tuple(batch), assisted_users)
        b = np.full(tuple(batch), n_b)
    blocks = np.zeros((*batch, num_users), dtype=np.int64)
    for k in reversed(range(num_users)):
        x = np.take_along_axis(
            np.take_along_axis(choice[k], a[..., None, None], axis=-2)[..., 0, :],
            b[..., None],
            axis=-1,
        )[..., 0]
        blocks[..., k] = x
        a = a - (x > 0)
        b = b - x
    return blocks


class DynamicProgramming(AllocationSolver):
    """The exact optimum of (15)-(17), with or without the A constraint, by dynamic
    programming over users (O(K A n_b^2), vectorised over a batch of drops).

    This is the reference: it returns the same optimum as the paper's exhaustive search
    (tested realisation by realisation), at a cost that stays small for every K and n_b.
    """

    name = "dp"
    role = "reference"
    status = "optimal"

    def allocate(
        self, scenario: model.BlockAllocationScenario, config: model.BlockAllocationConfig
    ) -> np.ndarray:
        return dp_allocate(model.saving_table(config, scenario), config.assisted_users)
