"""Model 003's phase step and BCD (spec 7.2-7.3): the lifted form against the closed form,
the SDP surrogate's minorisation, both phase methods against an exhaustive phase grid, BCD
monotonicity, and solver failures as statuses."""

import itertools

import numpy as np
import pytest

from baselines.swipt import phase_sdp
from baselines.swipt.lifted import energy_form
from baselines.swipt.phase_manifold import manifold_phase_step
from baselines.swipt.phase_sdp import LiftedPhaseSDP, sdp_phase_step
from baselines.swipt.power import lp_power
from baselines.swipt.schemes import DFTPhaseOPA, OptPhaseOPA, best_codeword
from irs_gym.models import swipt as m

SMALL = dict(num_bs_antennas=16, num_elements=16, num_info_users=2, num_energy_users=3)


def setup(rng, **kwargs):
    cfg = m.SwiptConfig(**{**SMALL, **kwargs})
    scen = m.sample_scenario(cfg, rng)
    stats = m.statistics(cfg, scen)
    return cfg, scen, stats, energy_form(cfg, stats)


def rank_one(theta, b):
    z = m.reflect(theta, b)
    return np.conj(z)[:, None] * z[None, :]


def test_sdp_is_dpp():
    assert LiftedPhaseSDP(4, 2).problem.is_dpp()


@pytest.mark.parametrize("precoder", ["pzf", "ppzf"])
@pytest.mark.parametrize("exact", [False, True])
def test_lifted_form_equals_closed_form_and_its_gradient(rng, precoder, exact):
    cfg, scen, _, form = setup(rng, precoder=precoder, exact_cross_corr=exact, pilot_reuse_energy=3)
    theta = np.exp(2j * np.pi * rng.random(cfg.num_elements))
    eta = rng.dirichlet(np.ones(cfg.num_streams))
    s_i, eta_e = eta[:2].sum(), eta[2:]
    closed = m.metrics(cfg, scen, m.decision_from_eta(theta, eta, 2))["q_bar_j"]
    np.testing.assert_allclose(form.q_bar_j(theta, s_i, eta_e), closed, rtol=1e-12)
    weights = rng.random(3)
    grad = form.gradient(theta, weights, s_i, eta_e)

    def value(t):
        return weights @ form.q_per_e0(rank_one(t, form.b), s_i, eta_e)

    for _ in range(3):
        d = rng.standard_normal(16) + 1j * rng.standard_normal(16)
        h = 1e-6
        fd = (value(theta + h * d) - value(theta - h * d)) / (2 * h)
        assert np.real(np.vdot(grad, d)) == pytest.approx(fd, rel=1e-5)


def sdp_rows(data, Zhat, K):
    """The left-hand sides of the SDP's energy rows, with T at its bound sqrt(.)."""
    C, c0, G, g0, mult, _ = data
    z = Zhat.reshape(-1)
    roots = np.sqrt(np.maximum(np.real(C @ z) + c0, 0)).reshape(K, K)
    return np.real(G @ z) + g0 + (mult * roots).sum(axis=1)


def test_sdp_surrogate_is_tight_at_the_point_and_a_minorant_elsewhere(rng):
    """Evaluate the SDP's constraint rows in numpy: equal to Q_l / (Q_s row_l) at V^(i)
    (so 1 for every row) and below the true lifted value at other rank-one V."""
    for precoder in ("pzf", "ppzf"):
        cfg, _, _, form = setup(rng, precoder=precoder, pilot_reuse_energy=3)
        eta = rng.dirichlet(np.ones(cfg.num_streams))
        eta[3] = 0.0  # a switched-off EU stream
        s_i, eta_e = eta[:2].sum(), eta[2:]
        N, K = cfg.num_elements, 3
        scale = N * np.max(np.abs(form.b), axis=1)
        b_hat = form.b / scale[:, None]
        theta0 = np.exp(2j * np.pi * rng.random(N))
        q_scale = form.q_bar_j(theta0, s_i, eta_e).min() / form.e0
        Zhat0 = rank_one(theta0, b_hat)
        data = phase_sdp._surrogate_data(form, Zhat0, scale, s_i, eta_e, q_scale)
        row_inv = data[-1]
        np.testing.assert_allclose(sdp_rows(data, Zhat0, K), 1.0, rtol=1e-9)
        for _ in range(20):
            theta = np.exp(2j * np.pi * rng.random(N))
            true = form.q_bar_j(theta, s_i, eta_e) / form.e0 / q_scale * row_inv
            assert np.all(sdp_rows(data, rank_one(theta, b_hat), K) <= true * (1 + 1e-9))


def grid_best(form, s_i, eta_e, levels):
    """Exhaustive max-min over theta in {exp(j 2 pi q / levels)}^N, theta_0 = 1 (a common
    phase does not change Q_bar)."""
    n = form.b.shape[1]
    grid = np.exp(2j * np.pi * np.arange(levels) / levels)
    thetas = np.array([(1.0, *c) for c in itertools.product(grid, repeat=n - 1)])
    z = thetas.conj() @ form.b.T  # [G, K]
    Z = np.conj(z)[:, :, None] * z[:, None, :]
    return max(float(np.min(form.q_per_e0(Zg, s_i, eta_e))) for Zg in Z) * form.e0


@pytest.mark.parametrize("precoder", ["pzf", "ppzf"])
def test_phase_steps_reach_the_exhaustive_grid_optimum(rng, precoder):
    """N = 4 (2 x 2 USPA), K_E = 2: both phase methods from the DFT start come within 1 % of
    the best of 16^3 grid points (continuous phases may beat the grid)."""
    cfg, _, stats, form = setup(
        rng, num_elements=4, num_energy_users=2, num_bs_antennas=8, precoder=precoder
    )
    theta0, _ = best_codeword(cfg, stats)
    eta = lp_power(cfg, stats, theta0).eta
    s_i, eta_e = eta[:2].sum(), eta[2:]
    best = grid_best(form, s_i, eta_e, 16)
    start = form.q_bar_j(theta0, s_i, eta_e).min()
    for step in (sdp_phase_step, manifold_phase_step):
        res = step(form, s_i, eta_e, theta0)
        value = form.q_bar_j(res.theta, s_i, eta_e).min()
        assert value >= 0.99 * best, step.__name__
        assert value >= start
        assert np.all(np.diff(res.history_j) >= 0)
        np.testing.assert_allclose(np.abs(res.theta), 1.0)


def test_sdp_phase_step_converges_to_rank_one(rng):
    cfg, _, stats, form = setup(rng)
    theta0, _ = best_codeword(cfg, stats)
    eta = lp_power(cfg, stats, theta0).eta
    res = sdp_phase_step(form, eta[:2].sum(), eta[2:], theta0)
    assert res.status == "converged"
    assert res.history_j[-1] > res.history_j[0]
    assert len(res.surrogate_j) <= 30


@pytest.mark.parametrize("method", ["sdp", "manifold"])
def test_bcd_never_decreases_and_ends_with_optimal_powers(rng, method):
    cfg, scen, stats, _ = setup(rng, se_target_bps_hz=1.0, pilot_reuse_energy=3)
    solver = OptPhaseOPA(method)
    sol = solver.solve(scen, cfg)
    assert sol.status == "converged"
    assert np.all(np.diff(sol.history) >= 0) and len(sol.history) >= 2
    out = m.metrics(cfg, scen, sol.decision)
    assert out["feasible"] and sol.objective == pytest.approx(float(out["objective"]))
    lp = lp_power(cfg, stats, sol.decision.theta)
    assert float(out["min_q_bar_j"]) == pytest.approx(lp.value_j, rel=1e-6)
    # BCD starts from the DFT codeword with LP powers (DFT-Phase OPA): it must move well
    # beyond that start, not only keep it
    assert sol.objective > 1.2 * DFTPhaseOPA().solve(scen, cfg).objective
    assert sol.history[-1] > 1.2 * sol.history[0]
    assert solver.uses_sdp(cfg.num_elements) == (method == "sdp")
    assert len(solver.last_trace["phase"]) == len(sol.history) - 1
    # every cvxpy solve is counted in the message
    assert "SCIPY: optimal x" in sol.message
    assert ("SCS: optimal" in sol.message) == (method == "sdp")


def test_auto_uses_the_sdp_only_for_small_surfaces():
    solver = OptPhaseOPA()
    assert solver.uses_sdp(36) and not solver.uses_sdp(49)
    with pytest.raises(ValueError, match="phase_method"):
        OptPhaseOPA("random")


def test_sdp_failure_is_a_status(rng, monkeypatch):
    cfg, scen, _, _ = setup(rng)
    fresh = LiftedPhaseSDP(cfg.num_elements, cfg.num_energy_users)
    monkeypatch.setattr(phase_sdp, "lifted_sdp", lambda n, k: fresh)
    monkeypatch.setattr(phase_sdp, "solve_problem", lambda problem, solvers: (False, "SCS: mocked"))
    sol = OptPhaseOPA("sdp").solve(scen, cfg)
    assert sol.status == "solver_error" and "cvxpy status SCS: mocked" in sol.message
    assert sol.decision is not None and np.isfinite(sol.objective)
