"""SOCP-SDR (spec 004 section 7.6): cones, relaxation bound, randomisation, monotonicity."""

import numpy as np
import pytest

from baselines.multi_irs import socp_sdr as ss
from irs_gym.models import multi_irs as m

CFG = dict(
    num_bs_antennas=4, num_elements=4, num_irs=2, num_users=2, objective="min_rate", tx_power_dbm=30
)


def crandn(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_problems_are_dpp():
    assert ss.MinPowerSOCP(4, 3).problem.is_dpp()
    assert ss.SlackSDR(5, 3).problem.is_dpp()


def test_min_power_socp_meets_targets_with_equality_where_tight(rng):
    hbar = crandn(rng, 3, 6)
    targets = np.array([0.5, 1.0, 2.0])
    W, status = ss.MinPowerSOCP(6, 3).min_power_w(hbar, targets)
    assert W is not None, status
    gamma = m.sinr_from_gains(hbar @ W)
    assert np.all(gamma >= targets * (1 - 1e-4))
    # minimum power: every constraint is active (otherwise W could shrink)
    np.testing.assert_allclose(gamma, targets, rtol=1e-3)


def test_relaxation_bounds_every_candidate_and_steps_are_monotone():
    cfg = m.MultiIRSConfig(**CFG)
    for seed in range(2):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        solver = ss.SocpSdr(randomizations=2000, max_iterations=3)
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(seed))
        assert sol.status in ("converged", "max_iterations"), sol.message
        assert np.all(np.diff(sol.history) >= -1e-12), sol.history
        # the SDR value (largest feasible t, up to the bisection gap) bounds every candidate
        if solver.last_candidates.size:
            assert solver.last_candidates.max() <= solver.last_sdr_bound * (1 + 1e-6)
        out = m.metrics(cfg, scen, sol.decision)
        assert out["feasible"]
        np.testing.assert_allclose(out["power_w"], cfg.tx_power_w, rtol=1e-9)


def test_quantised_candidates_on_grid():
    cfg = m.MultiIRSConfig(**CFG, phase_levels=2)
    scen = m.sample_scenario(cfg, np.random.default_rng(3))
    sol = ss.SocpSdr(randomizations=500, max_iterations=2).solve(scen, cfg)
    np.testing.assert_allclose(
        sol.decision.theta, m.quantize_phases(sol.decision.theta, 2), atol=1e-12
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="randomizations"):
        ss.SocpSdr(randomizations=0)
    with pytest.raises(ValueError, match="bisection_tol"):
        ss.SocpSdr(bisection_tol=2.0)


def test_solver_failure_is_solver_error_with_the_cvxpy_status(monkeypatch):
    cfg = m.MultiIRSConfig(**CFG)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    failed = (False, "CLARABEL: solver error (mocked)")
    monkeypatch.setattr(ss, "_solve", lambda problem, solvers: failed)
    sol = ss.SocpSdr(max_iterations=2, randomizations=10).solve(
        scen, cfg, rng=np.random.default_rng(0)
    )
    assert sol.status == "solver_error" and "mocked" in sol.message
    assert sol.decision is not None and np.isfinite(sol.objective)
