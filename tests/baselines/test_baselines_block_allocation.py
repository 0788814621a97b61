"""Model-002 solvers against brute force: DP and the paper's exhaustive search equal the best
of every allocation in {0..n_b}^K on every realisation; the heuristics follow their rules
(checked against sorted distances by hand) and never beat the optimum."""

import itertools
import math

import numpy as np
import pytest

import baselines
from baselines.block_allocation import (
    DynamicProgramming,
    ExhaustiveSearch,
    MaxBS,
    MinIRS,
    candidate_count,
    candidates,
    dp_allocate,
    exhaustive_allocate,
)
from baselines.core import reference_solver
from irs_gym.models import block_allocation as m

ENV_ID = "irs_gym/BlockAllocation-v0"


def brute_force(table, assisted):
    """Best value of sum_k table[..., k, x_k] over every x in {0..n_b}^K that is feasible."""
    *_, K, width = table.shape
    n_b = width - 1
    grid = np.array(list(itertools.product(range(n_b + 1), repeat=K)))
    used, count = grid.sum(axis=1), (grid > 0).sum(axis=1)
    ok = used <= n_b if assisted is None else (used == n_b) & (count == assisted)
    grid = grid[ok]
    values = table[..., np.arange(K), grid].sum(axis=-1)  # [..., G]
    return values.max(axis=-1), grid


def value_of(table, blocks):
    return np.take_along_axis(table, blocks[..., None], axis=-1)[..., 0].sum(axis=-1)


CASES = [
    # (K, block_size -> n_b, A); K <= 8, with and without the A constraint
    *[(K, 30, A) for K in (1, 2, 3, 5, 6) for A in (None, 1, 2, 5) if A is None or A <= min(K, 5)],
    *[(K, 50, A) for K in (7, 8) for A in (None, 1, 2, 3)],
    (4, 75, None),
    (4, 150, 1),
]


@pytest.mark.parametrize(("K", "block_size", "A"), CASES)
def test_dp_and_exhaustive_equal_brute_force_on_every_realisation(K, block_size, A):
    cfg = m.BlockAllocationConfig(num_users=K, block_size=block_size, assisted_users=A)
    rng = np.random.default_rng(K * 1000 + block_size + (A or 0))
    scen = m.sample_scenario(cfg, rng, (40,))
    table = m.saving_table(cfg, scen)
    best, _ = brute_force(table, A)
    for allocate in (dp_allocate, exhaustive_allocate):
        x = allocate(table, A)
        assert x.shape == (40, K)
        out = m.metrics(cfg, scen, m.BlockAllocationDecision(x))
        assert out["feasible"].all(), allocate.__name__
        np.testing.assert_allclose(value_of(table, x), best, rtol=1e-12, err_msg=allocate.__name__)


def test_dp_on_tables_with_ties_and_zero_gains():
    """Integer-valued tables (many ties) and users whose blocks are worthless."""
    rng = np.random.default_rng(7)
    for A in (None, 1, 2, 3):
        table = rng.integers(0, 4, (60, 5, 4)).astype(float)
        table[..., 0] = 0.0
        table[:, 0, :] = 0.0
        best, _ = brute_force(table, A)
        for allocate in (dp_allocate, exhaustive_allocate):
            x = allocate(table, A)
            np.testing.assert_allclose(value_of(table, x), best, err_msg=allocate.__name__)
            assert np.all(x.sum(axis=-1) <= 3)
            if A is not None:
                assert np.all((x > 0).sum(axis=-1) == A) and np.all(x.sum(axis=-1) == 3)


def test_candidates_are_every_feasible_allocation_once():
    for K, n_b in [(4, 3), (5, 4), (3, 5)]:
        for A in (None, *range(1, min(K, n_b) + 1)):
            cands = candidates(K, n_b, A)
            _, grid = brute_force(np.zeros((K, n_b + 1)), A)
            assert sorted(map(tuple, cands)) == sorted(map(tuple, grid))
            assert len(cands) == candidate_count(K, n_b, A)
    # the paper's example: 3 blocks, 4 users -> 4 options with A = 3, 12 with A = 2
    assert candidate_count(4, 3, 3) == 4 and candidate_count(4, 3, 2) == 12
    assert candidate_count(30, 5, None) == math.comb(35, 5)


def test_dp_with_a_equal_nb_is_top_users_by_one_block_saving(rng):
    """Spec 5.1: with A = n_b every assisted user gets one block: the top-A by S_k(1)."""
    cfg = m.BlockAllocationConfig(num_users=12, assisted_users=5)
    scen = m.sample_scenario(cfg, rng, (30,))
    table = m.saving_table(cfg, scen)
    x = dp_allocate(table, 5)
    top = np.argsort(-table[..., 1], axis=-1)[..., :5]
    expected = np.zeros_like(x)
    np.put_along_axis(expected, top, 1, axis=-1)
    np.testing.assert_array_equal(x, expected)


def test_exhaustive_refuses_large_instances_and_points_to_dp(rng):
    cfg = m.BlockAllocationConfig(num_users=30)
    scen = m.sample_scenario(cfg, rng)
    solver = ExhaustiveSearch(max_candidates=100_000)
    sol = solver.solve(scen, cfg)
    assert sol.status == "not_applicable" and sol.decision is None
    assert "324632 candidates" in sol.message and "'dp'" in sol.message
    with pytest.raises(ValueError, match="DP solver"):
        exhaustive_allocate(m.saving_table(cfg, scen), None, max_candidates=100_000)
    with pytest.raises(ValueError, match="max_candidates"):
        ExhaustiveSearch(max_candidates=0)
    # within the limit it runs (A = 5: 142506 candidates)
    fixed = m.BlockAllocationConfig(num_users=30, assisted_users=5)
    assert ExhaustiveSearch().solve(scen, fixed).status == "optimal"


def test_heuristics_follow_their_rules_by_hand():
    """n_b = 5, A = 2: the first-ranked user gets 3 blocks, the second 2."""
    cfg = m.BlockAllocationConfig(num_users=4, assisted_users=2)
    points = np.array([[30.0, 0.0], [0.0, 200.0], [-120.0, 0.0], [60.0, 10.0]])
    scen = m.scenario_from_positions(cfg, points)
    # distance to the BS: 30, 200, 120, 60.8 -> farthest: user 1 (3 blocks), user 2 (2)
    np.testing.assert_array_equal(MaxBS().allocate(scen, cfg), [0, 3, 2, 0])
    # distance to the IRS at (50, 0): 20, 206, 170, 14.1 -> nearest: user 3, user 0
    np.testing.assert_array_equal(MinIRS().allocate(scen, cfg), [2, 0, 0, 3])
    free = m.BlockAllocationConfig(num_users=4)  # A free -> A = min(K, n_b) = 4, one extra
    np.testing.assert_array_equal(MaxBS().allocate(scen, free), [1, 2, 1, 1])


def test_heuristics_against_sorted_distances(rng):
    for K, A in [(6, None), (10, 3), (8, 5), (3, None)]:
        cfg = m.BlockAllocationConfig(num_users=K, assisted_users=A)
        scen = m.sample_scenario(cfg, rng, (25,))
        a = min(K, 5) if A is None else A
        for solver, key in ((MaxBS(), -scen.distance_bs_m), (MinIRS(), scen.distance_irs_m)):
            x = solver.allocate(scen, cfg)
            for i in range(25):
                order = sorted(range(K), key=lambda k, i=i, key=key: key[i, k])[:a]
                expected = np.zeros(K, dtype=int)
                for rank, user in enumerate(order):
                    expected[user] = 5 // a + (rank < 5 % a)
                np.testing.assert_array_equal(x[i], expected, err_msg=f"{solver.name} {i}")


def test_heuristics_never_beat_dp_and_solutions_match_metrics(rng):
    cfg = m.BlockAllocationConfig(num_users=8, assisted_users=5)
    scen = m.sample_scenario(cfg, rng, (200,))
    table = m.saving_table(cfg, scen)
    best = value_of(table, DynamicProgramming().allocate(scen, cfg))
    for solver in (MaxBS(), MinIRS()):
        assert np.all(value_of(table, solver.allocate(scen, cfg)) <= best + 1e-12)
    one = m.sample_scenario(cfg, rng)
    for solver in (DynamicProgramming(), ExhaustiveSearch(), MaxBS(), MinIRS()):
        sol = solver.solve(one, cfg)
        assert sol.status == solver.status and sol.seconds >= 0
        out = m.metrics(cfg, one, sol.decision)
        assert out["feasible"] and sol.objective == out["objective"]


def test_batched_allocate_equals_one_solve_per_scenario(rng):
    cfg = m.BlockAllocationConfig(num_users=6, assisted_users=3)
    scen = m.sample_scenario(cfg, rng, (5,))
    for solver in (DynamicProgramming(), ExhaustiveSearch(), MaxBS(), MinIRS()):
        batch = solver.allocate(scen, cfg)
        for i in range(5):
            one = m.BlockAllocationScenario(
                *(getattr(scen, f)[i] for f in scen.__dataclass_fields__)
            )
            np.testing.assert_array_equal(batch[i], solver.solve(one, cfg).decision.blocks)


def test_registry_roles():
    solvers = baselines.for_env(ENV_ID)
    assert sorted(solvers) == ["dp", "exhaustive", "max_bs", "min_irs"]
    assert reference_solver(solvers)[0] == "dp"
    assert {s.name: s.role for s in solvers.values()} == {
        "dp": "reference",
        "exhaustive": "bound",
        "max_bs": "benchmark",
        "min_irs": "benchmark",
    }
    fixed = baselines.for_env(ENV_ID, assisted_users=2)
    assert reference_solver(fixed)[0] == "dp"


def test_dp_rejects_impossible_a():
    with pytest.raises(ValueError, match="assisted_users"):
        dp_allocate(np.zeros((3, 3)), 3)  # K = 3 users but n_b = 2
