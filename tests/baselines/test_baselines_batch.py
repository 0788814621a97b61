"""``Solver.solve_batch``: every vectorised solver returns, realisation by realisation, the
Solution of its own ``solve`` (decision to 1e-12, same status, history and message); the
default loop, the generator handling and the fallback after a numerical failure."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import baselines
from baselines import as_policy
from baselines.block_allocation import DynamicProgramming, ExhaustiveSearch, MaxBS, MinIRS
from baselines.core import Solution, Solver
from baselines.mmwave_uplink import NoIRS
from baselines.multi_irs import RandomPhasesMMSE
from baselines.swipt import DFTPhaseEPA
from irs_gym.models import block_allocation, mmwave_uplink, multi_irs, swipt
from irs_gym.models.tree import tree_index

B = 16

#: (id, model module, config, solver) for every vectorised solver, with configs that reach
#: the branches of the batch code (PPZF, shared pilots, quantised phases, the inter-IRS
#: path, user beamformers, infeasible realisations next to feasible ones, A free).
CASES = [
    ("epa", swipt, swipt.SwiptConfig(num_elements=16, num_bs_antennas=16), DFTPhaseEPA()),
    (
        "epa_ppzf_shared",
        swipt,
        swipt.SwiptConfig(num_elements=64, precoder="ppzf", pilot_reuse_energy=4),
        DFTPhaseEPA(),
    ),
    ("random_mmse", multi_irs, multi_irs.MultiIRSConfig(num_elements=(8, 8)), RandomPhasesMMSE()),
    (
        "random_mmse_q_inter",
        multi_irs,
        multi_irs.MultiIRSConfig(
            num_elements=(8, 8), phase_levels=4, inter_irs=True, objective="min_rate"
        ),
        RandomPhasesMMSE(),
    ),
    (
        "no_irs",
        mmwave_uplink,
        mmwave_uplink.MmWaveUplinkConfig(irs_enabled=False, num_users=2, max_power_dbm=10.0),
        NoIRS(),
    ),
    (
        "no_irs_beamformers",
        mmwave_uplink,
        mmwave_uplink.MmWaveUplinkConfig(irs_enabled=False, num_users=2, num_user_antennas=2),
        NoIRS(),
    ),
    (
        "dp",
        block_allocation,
        block_allocation.BlockAllocationConfig(num_users=8),
        DynamicProgramming(),
    ),
    (
        "dp_free",
        block_allocation,
        block_allocation.BlockAllocationConfig(num_users=8, assisted_users=None),
        DynamicProgramming(),
    ),
    (
        "exhaustive",
        block_allocation,
        block_allocation.BlockAllocationConfig(num_users=6),
        ExhaustiveSearch(),
    ),
    ("max_bs", block_allocation, block_allocation.BlockAllocationConfig(num_users=8), MaxBS()),
    ("min_irs", block_allocation, block_allocation.BlockAllocationConfig(num_users=8), MinIRS()),
]


def draws(module, config, n=B):
    scenarios = [module.sample_scenario(config, np.random.default_rng([s, 0])) for s in range(n)]
    return scenarios, [np.random.default_rng([s, 1]) for s in range(n)]


def assert_same(batch: Solution, single: Solution) -> None:
    assert (batch.status, batch.history, batch.message) == (
        single.status,
        single.history,
        single.message,
    )
    np.testing.assert_allclose(batch.objective, single.objective, rtol=1e-12, atol=0)
    if single.decision is None:
        assert batch.decision is None
        return
    for field in dataclasses.fields(single.decision):
        got, want = getattr(batch.decision, field.name), getattr(single.decision, field.name)
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(("case", "module", "config", "solver"), CASES, ids=[c[0] for c in CASES])
def test_solve_batch_equals_solve(case, module, config, solver):
    assert solver.batched
    scenarios, rngs = draws(module, config)
    singles = [solver.solve(s, config, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
    scenarios, rngs = draws(module, config)  # fresh generators: random_mmse draws from them
    batch = solver.solve_batch(scenarios, config, rngs)
    assert len(batch) == B
    for got, want in zip(batch, singles, strict=True):
        assert_same(got, want)
    if case == "no_irs":  # the case mixes statuses, so the per-realisation split is tested
        assert {"converged", "infeasible"} <= {s.status for s in singles}
    if case.startswith("random_mmse"):  # the phases differ between realisations
        assert len({s.decision.theta.tobytes() for s in batch}) == B


def test_no_irs_with_an_irs_is_not_applicable_for_every_realisation():
    config = mmwave_uplink.MmWaveUplinkConfig()
    scenarios, rngs = draws(mmwave_uplink, config, 3)
    sols = NoIRS().solve_batch(scenarios, config, rngs)
    assert [s.status for s in sols] == ["not_applicable"] * 3
    assert all(s.decision is None and "irs_enabled=False" in s.message for s in sols)


def test_exhaustive_refusal_applies_to_the_batch():
    config = block_allocation.BlockAllocationConfig(num_users=8)
    scenarios, rngs = draws(block_allocation, config, 3)
    sols = ExhaustiveSearch(max_candidates=10).solve_batch(scenarios, config, rngs)
    single = ExhaustiveSearch(max_candidates=10).solve(scenarios[0], config)
    assert [s.status for s in sols] == ["not_applicable"] * 3
    assert all(s.message == single.message and "DP" in s.message for s in sols)


def test_a_numerical_failure_falls_back_to_one_by_one():
    """Short latency targets make some direct channels singular for the MVDR step: the batch
    raises LinAlgError, the fallback solves each realisation on its own, and only the
    failing ones report solver_error."""
    config = mmwave_uplink.MmWaveUplinkConfig(irs_enabled=False, num_users=2, latency_s=5e-4)
    scenarios, rngs = draws(mmwave_uplink, config)
    singles = [NoIRS().solve(s, config, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
    statuses = {s.status for s in singles}
    assert "solver_error" in statuses and len(statuses) > 1
    for got, want in zip(NoIRS().solve_batch(scenarios, config, rngs), singles, strict=True):
        assert_same(got, want)


class Draw(Solver):
    """Objective = one uniform draw; ``fail_batch``: the vectorised path draws, then fails."""

    name = "draw"
    role = "benchmark"

    def _solve(self, scenario, config, rng):
        if scenario == "bad":
            raise np.linalg.LinAlgError("singular")
        return Solution(scenario, float(rng.random()), "fixed")


class BatchedDraw(Draw):
    def _solve_batch(self, scenarios, config, rngs):
        for rng in rngs:
            rng.random()  # advances every generator before failing
        raise FloatingPointError("overflow")


def test_default_loop_and_generators():
    solver = Draw()
    assert not solver.batched
    rngs = [np.random.default_rng(s) for s in (3, 4)]
    sols = solver.solve_batch(["a", "bad"], None, rngs)
    assert sols[0].objective == np.random.default_rng(3).random() and sols[0].decision == "a"
    assert sols[1].status == "solver_error" and "singular" in sols[1].message
    # no generators: default_rng(0) for each, as solve
    assert [s.objective for s in solver.solve_batch(["a", "b"], None)] == [
        np.random.default_rng(0).random()
    ] * 2
    assert solver.solve_batch([], None) == []
    with pytest.raises(ValueError, match="rngs must have one generator per scenario"):
        solver.solve_batch(["a", "b"], None, [np.random.default_rng(0)])


def test_fallback_restores_the_generators():
    solver = BatchedDraw()
    assert solver.batched
    sols = solver.solve_batch(["a", "b"], None, [np.random.default_rng(s) for s in (3, 4)])
    assert [s.objective for s in sols] == [np.random.default_rng(s).random() for s in (3, 4)]


def test_batched_solvers_are_the_documented_ones():
    """The table of :mod:`baselines.core` lists every solver the registry vectorises."""
    configs = {
        "irs_gym/BackscatterUplink-v0": [None],
        "irs_gym/MmWaveUplinkPower-v0": [None, {"irs_enabled": False}],
        "irs_gym/BlockAllocation-v0": [None],
        "irs_gym/SwiptMassiveMIMO-v0": [None],
        "irs_gym/MultiIRSDownlink-v0": [None, {"objective": "min_rate"}],
    }
    found = set()
    for env_id, variants in configs.items():
        for kwargs in variants:
            solvers = baselines.for_env(env_id, **(kwargs or {}))
            found |= {name for name, s in solvers.items() if s.batched}
    documented = {"no_irs", "dp", "exhaustive", "max_bs", "min_irs", "dft_phase_epa", "random_mmse"}
    assert found == documented
    for name in documented:
        assert f"``{name}``" in baselines.core.__doc__


class CountingMMSE(RandomPhasesMMSE):
    """random_mmse counting its vectorised calls (its own solve is a batch of one)."""

    calls = 0

    def _solve_batch(self, scenarios, config, rngs):
        CountingMMSE.calls += 1
        return super()._solve_batch(scenarios, config, rngs)


def test_policy_solves_the_sub_envs_in_one_batch():
    env = gym.make_vec(
        "irs_gym/MultiIRSDownlink-v0",
        num_envs=4,
        vectorization_mode="vector_entry_point",
        num_bs_antennas=4,
        num_elements=(4, 4),
    )
    obs, _ = env.reset(seed=0)
    CountingMMSE.calls = 0
    policy = as_policy(CountingMMSE(), env, seed=7)
    actions, _ = policy.predict(obs)
    assert CountingMMSE.calls == 1
    # the per-env loop with the policy's generator, drawn from in sub-env order
    u, rng = env.unwrapped, np.random.default_rng(7)
    sols = [
        RandomPhasesMMSE().solve(tree_index(u.scenario, i), u.config, rng=rng) for i in range(4)
    ]
    np.testing.assert_allclose(actions, np.stack([u.encode(s.decision) for s in sols]), rtol=1e-12)
    env.close()
