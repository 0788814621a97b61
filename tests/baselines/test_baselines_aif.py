"""AIF (spec 004 section 7.5): bisection, Schur SDP against brute force, FP monotonicity."""

import itertools
import math

import numpy as np
import pytest

from baselines.multi_irs import aif
from irs_gym.models import multi_irs as m


def crandn(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


@pytest.mark.parametrize("n_t,K", [(8, 3), (2, 3)])
def test_bisection_meets_power_budget(rng, n_t, K):
    """Active budget: ||W||^2 = P to 1e-6 relative; with N_t < K the Gram matrix can be
    invertible and the budget inactive (mu = 0, ||W||^2 <= P)."""
    for _ in range(5):
        hbar = crandn(rng, K, n_t)
        beta = crandn(rng, K) * 0.1
        wt = rng.random(K) + 1
        for power in (1e-3, 1.0, 1e3):
            W, mu = aif.bisect_power(hbar, beta, wt, power)
            p = np.linalg.norm(W) ** 2
            if mu > 0:
                assert abs(p / power - 1) <= 1e-6
            else:
                assert p <= power * (1 + 1e-9)
            # stationarity of the Lagrangian: (mu I + H^H B H) W = H^H diag(sqrt(wt) beta)
            lhs = (mu * np.eye(n_t) + hbar.conj().T @ (np.abs(beta)[:, None] ** 2 * hbar)) @ W
            np.testing.assert_allclose(
                lhs, hbar.conj().T * (np.sqrt(wt) * beta), atol=1e-8 * np.abs(lhs).max()
            )


def test_schur_sdp_is_dpp_and_bounds_brute_force(rng):
    """The SDP value -v bounds max_{|theta|=1} 2Re(theta^H b) - theta^H A theta (weak duality),
    checked against a fine grid of phase vectors; the rounded theta is close to the grid max."""
    n = 3
    sdp = aif.SchurPhaseSDP(n)
    assert sdp.problem.is_dpp()
    grid = np.exp(2j * np.pi * np.arange(48) / 48)
    for _ in range(3):
        D = crandn(rng, n, 2)
        A = D @ D.conj().T
        b = crandn(rng, n)
        zeta, status, value = sdp.solve(A, b)
        assert zeta is not None and status.endswith("optimal")
        best = max(
            2 * np.real(np.vdot(t, b)) - np.real(np.vdot(t, A @ t))
            for t in (np.array((1.0, *c)) for c in itertools.product(grid, repeat=n - 1))
        )  # a common phase does not matter: theta_1 = 1 without loss of generality
        assert best <= -value + 1e-6 * max(1.0, abs(value))
        theta = np.exp(1j * np.angle(np.linalg.solve(A + np.diag(zeta), b)))
        rounded = 2 * np.real(np.vdot(theta, b)) - np.real(np.vdot(theta, A @ theta))
        assert rounded >= best - 0.05 * abs(best) - 1e-9


def test_phase_qcqp_matches_surrogate_in_theta(rng):
    """2Re(theta^H b) - theta^H A theta + const equals the quadratic-transform surrogate."""
    K, M = 3, 5
    c, d = crandn(rng, K, K), crandn(rng, K, K, M)
    rho, alpha, omega = crandn(rng, K), rng.random(K), rng.random(K) + 0.5
    sw = np.sqrt(omega * (1 + alpha))
    A, b = aif.phase_qcqp(c, d, rho, sw)
    values = []
    for _ in range(4):
        theta = np.exp(2j * np.pi * rng.random(M))
        x = c + d @ theta
        quad = 2 * np.real(np.vdot(theta, b)) - np.real(np.vdot(theta, A @ theta))
        values.append(aif.surrogate(x, rho, alpha, omega) - quad)
    np.testing.assert_allclose(values, values[0], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kwargs", [{}, {"inter_irs": True}, {"phase_levels": 4}])
def test_fp_surrogate_never_decreases(kwargs):
    cfg = m.MultiIRSConfig(num_bs_antennas=8, num_elements=8, num_users=3, **kwargs)
    for seed in range(2):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        solver = aif.AIF(tol=1e-4, max_iterations=8)
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(seed))
        assert sol.status in ("converged", "max_iterations"), sol.message
        s = np.asarray(solver.last_surrogates)
        assert np.all(np.diff(s) >= -1e-9 * np.abs(s[1:])), s
        # at alpha = gamma and optimal rho, the surrogate is the WSR in nats
        assert s[-1] <= sol.history[-1] * math.log(2) + 1e-9
        out = m.metrics(cfg, scen, sol.decision)
        assert out["feasible"]
        np.testing.assert_allclose(out["power_w"], cfg.tx_power_w, rtol=1e-9)


def test_sdp_failure_is_solver_error_with_the_cvxpy_status(monkeypatch):
    cfg = m.MultiIRSConfig(num_bs_antennas=8, num_elements=8, num_users=3)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    monkeypatch.setattr(aif.SchurPhaseSDP, "SOLVERS", ("NOPE",))
    sol = aif.AIF(max_iterations=3).solve(scen, cfg, rng=np.random.default_rng(0))
    assert sol.status == "solver_error" and "NOPE" in sol.message
    assert sol.decision is not None and np.isfinite(sol.objective)  # the last iterate
    assert m.metrics(cfg, scen, sol.decision)["feasible"]
