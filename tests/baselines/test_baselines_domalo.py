"""DOMALO (spec 004 section 5) and the random + MMSE benchmark."""

import math

import numpy as np
import pytest

from baselines import for_env
from baselines.manifold import ComplexCircle, ComplexSphere
from baselines.multi_irs import Domalo, RandomPhasesMMSE, SDomalo, paper_benchmarks
from baselines.multi_irs import domalo as dm
from baselines.multi_irs import sdomalo as sd
from irs_gym.models import multi_irs as m

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
SMALL = dict(num_bs_antennas=8, num_elements=8, num_irs=2, num_users=3)


def crandn(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def directional_fd(f, x, v, t=1e-6):
    return (f(x + t * v) - f(x - t * v)) / (2 * t)


def test_w_gradient_matches_finite_differences(rng):
    hbar = crandn(rng, 3, 8)
    wt = rng.random(3) + 0.5
    Wb = crandn(rng, 8, 3)
    Wb /= np.linalg.norm(Wb)
    noise = 0.3
    g = dm.w_egrad(Wb, hbar, wt, noise)
    for _ in range(3):
        V = crandn(rng, 8, 3)
        fd = directional_fd(lambda X: dm.w_cost(X, hbar, wt, noise), Wb, V)
        np.testing.assert_allclose(np.real(np.vdot(g, V)), fd, rtol=1e-6)
        # Riemannian gradient along a tangent direction
        Vt = ComplexSphere.project(Wb, V)
        np.testing.assert_allclose(
            np.real(np.vdot(ComplexSphere.project(Wb, g), Vt)),
            directional_fd(lambda X: dm.w_cost(X, hbar, wt, noise), Wb, Vt),
            rtol=1e-6,
        )


def test_theta_gradient_matches_finite_differences(rng):
    c = crandn(rng, 3, 3)
    d = crandn(rng, 3, 3, 10)
    wt = rng.random(3) + 0.5
    theta = np.exp(2j * np.pi * rng.random(10))
    g = dm.theta_egrad(theta, c, d, wt)
    for _ in range(3):
        v = crandn(rng, 10)
        fd = directional_fd(lambda t: dm.theta_cost(t, c, d, wt), theta, v)
        np.testing.assert_allclose(np.real(np.vdot(g, v)), fd, rtol=1e-6)
        vt = ComplexCircle.project(theta, v)
        np.testing.assert_allclose(
            np.real(np.vdot(ComplexCircle.project(theta, g), vt)),
            directional_fd(lambda t: dm.theta_cost(t, c, d, wt), theta, vt),
            rtol=1e-6,
        )


def test_theta_step_batch_rows_equal_single_steps(rng):
    """A batch of theta-step problems: cost and gradient per row equal the unbatched ones, and
    the lockstep GCG gives every row the phases of its own single run."""
    B, K, M = 4, 3, 6
    c, d = crandn(rng, B, K, K), crandn(rng, B, K, K, M)
    wt = rng.random((B, K)) + 0.5
    theta = np.exp(2j * np.pi * rng.random((B, M)))
    costs = dm.theta_cost(theta, c, d, wt)
    grads = dm.theta_egrad(theta, c, d, wt)
    steps = dm.theta_step(c, d, theta, wt, iterations=15)
    for b in range(B):
        np.testing.assert_allclose(costs[b], dm.theta_cost(theta[b], c[b], d[b], wt[b]), rtol=1e-13)
        np.testing.assert_allclose(
            grads[b], dm.theta_egrad(theta[b], c[b], d[b], wt[b]), rtol=1e-12
        )
        one = dm.theta_step(c[b], d[b], theta[b], wt[b], iterations=15)
        np.testing.assert_allclose(steps[b], one, atol=1e-9)
    with pytest.raises(ValueError, match="theta_b"):
        dm.theta_step(c[None], d[None], theta[None], wt[None], iterations=3)


@pytest.mark.parametrize("kwargs", [{}, {"inter_irs": True}, {"weights": (1.0, 2.0, 0.5)}])
def test_wsr_history_non_decreasing(kwargs):
    cfg = m.MultiIRSConfig(**SMALL, **kwargs)
    for seed in range(3):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        sol = Domalo().solve(scen, cfg)
        assert np.all(np.diff(sol.history) >= -1e-9 * np.abs(sol.history[1:])), sol.history
        assert sol.history[-1] > sol.history[0]
        assert sol.status in ("converged", "max_iterations")
        np.testing.assert_allclose(sol.objective, max(sol.history), rtol=1e-10)


def test_single_user_single_irs_reaches_closed_form():
    """K = 1, L = 1 and a single-path (rank-one) BS-IRS channel G = s u v^H: the optimum is MRT
    with coherent phases, SNR* = P s^2 (sum_m |h_m| |u_m|)^2 / sigma^2."""
    cfg = m.MultiIRSConfig(
        num_bs_antennas=8,
        num_elements=16,
        num_irs=1,
        num_users=1,
        num_nlos_paths=0,
        tx_power_dbm=30,
    )
    for seed in range(3):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        U, s, _ = np.linalg.svd(scen.G)
        snr_opt = cfg.tx_power_w * s[0] ** 2 * np.sum(np.abs(scen.h[0]) * np.abs(U[:, 0])) ** 2
        snr_opt /= cfg.noise_w
        tight = Domalo(max_outer=100, tol=1e-12).solve(scen, cfg)
        np.testing.assert_allclose(tight.objective, math.log2(1 + snr_opt), rtol=1e-6)
        # the default stopping rule (relative WSR change 1e-4) lands close to it
        np.testing.assert_allclose(
            Domalo().solve(scen, cfg).objective, math.log2(1 + snr_opt), rtol=1e-3
        )


def test_beats_random_phases_on_average():
    cfg = m.MultiIRSConfig()
    ours, bench = [], []
    for seed in range(4):
        scen = m.sample_scenario(cfg, np.random.default_rng(100 + seed))
        ours.append(Domalo().solve(scen, cfg).objective)
        bench.append(RandomPhasesMMSE().solve(scen, cfg, rng=np.random.default_rng(seed)).objective)
    assert np.mean(ours) > 2 * np.mean(bench)


def test_quantised_decisions_on_grid_and_feasible():
    cfg = m.MultiIRSConfig(**SMALL, phase_levels=4)
    scen = m.sample_scenario(cfg, np.random.default_rng(3))
    for solver in (Domalo(), RandomPhasesMMSE()):
        sol = solver.solve(scen, cfg)
        out = m.metrics(cfg, scen, sol.decision)
        assert out["feasible"], solver.name
        np.testing.assert_allclose(
            sol.decision.theta, m.quantize_phases(sol.decision.theta, 4), atol=1e-12
        )
        np.testing.assert_allclose(out["power_w"], cfg.tx_power_w, rtol=1e-9)


def test_iteration_cap_is_a_status_not_an_error():
    cfg = m.MultiIRSConfig(**SMALL)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    sol = Domalo(max_outer=1).solve(scen, cfg)
    assert sol.status == "max_iterations" and len(sol.history) == 2 and sol.seconds > 0


def test_registry_roles_follow_objective():
    solvers = for_env(ENV_ID)
    assert solvers["domalo"].role == "reference"
    assert solvers["random_mmse"].role == "benchmark"
    assert solvers["sdomalo"].role == "benchmark"
    min_rate = for_env(ENV_ID, objective="min_rate")
    assert min_rate["domalo"].role == "benchmark" and min_rate["sdomalo"].role == "reference"
    with pytest.raises(ValueError, match="init"):
        Domalo(init="zeros")
    with pytest.raises(ValueError, match="max_outer"):
        SDomalo(max_outer=0)
    with pytest.raises(ValueError, match="no baselines"):
        for_env("irs_gym/Nope-v0")


# S-DOMALO (spec 6) -------------------------------------------------------------------------
def test_smoothed_min_bounds(rng):
    """min f - mu ln K <= F_mu <= min f (37)."""
    for mu in (1e-3, 0.1, 10.0):
        f = rng.standard_normal(5) * 3
        F = sd.smoothed_min(f, mu)
        assert f.min() - mu * math.log(5) - 1e-12 <= F <= f.min() + 1e-12


def test_smoothed_gradients_match_finite_differences(rng):
    hbar = crandn(rng, 3, 6)
    target = rng.random(3) + 0.2
    Wb = crandn(rng, 6, 3)
    Wb /= np.linalg.norm(Wb)
    g = sd.w_egrad(Wb, hbar, target, 2.0, 0.7)
    V = crandn(rng, 6, 3)
    fd = directional_fd(lambda X: sd.w_cost(X, hbar, target, 2.0, 0.7), Wb, V)
    np.testing.assert_allclose(np.real(np.vdot(g, V)), fd, rtol=1e-6)
    c, d = crandn(rng, 3, 3), crandn(rng, 3, 3, 7)
    theta = np.exp(2j * np.pi * rng.random(7))
    g = sd.theta_egrad(theta, c, d, target, 0.7)
    v = crandn(rng, 7)
    fd = directional_fd(lambda t: sd.theta_cost(t, c, d, target, 0.7), theta, v)
    np.testing.assert_allclose(np.real(np.vdot(g, v)), fd, rtol=1e-6)


def test_redundancy_sign_is_the_sinr_test(rng):
    x = crandn(rng, 4, 4)
    gamma = m.sinr_from_gains(x)
    for lam in (0.5 * gamma.min(), 2 * gamma.max()):
        f = sd.redundancy(x, np.full(4, lam))
        np.testing.assert_array_equal(f >= 0, gamma >= lam)


@pytest.mark.parametrize("kwargs", [{}, {"inter_irs": True}, {"phase_levels": 4}])
def test_sdomalo_min_rate_non_decreasing_and_beats_others(kwargs):
    cfg = m.MultiIRSConfig(**SMALL, objective="min_rate", **kwargs)
    ours, others = [], []
    for seed in range(3):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        sol = SDomalo(max_outer=10).solve(scen, cfg)
        assert np.all(np.diff(sol.history) >= -1e-12), sol.history
        assert m.metrics(cfg, scen, sol.decision)["feasible"]
        ours.append(sol.objective)
        others.append(
            max(Domalo().solve(scen, cfg).objective, RandomPhasesMMSE().solve(scen, cfg).objective)
        )
    assert np.mean(ours) > np.mean(others)


# Section-7 benchmarks ----------------------------------------------------------------------
def test_zf_not_applicable_when_k_exceeds_rank():
    """One IRS and single-path channels: rank(Hbar) = 1 < K = 2."""
    cfg = m.MultiIRSConfig(
        num_bs_antennas=4, num_elements=4, num_irs=1, num_users=2, num_nlos_paths=0
    )
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    sol = paper_benchmarks("wsr")["ao_zf"].solve(scen, cfg)
    assert sol.status == "not_applicable" and sol.decision is None
    assert "rank" in sol.message


@pytest.mark.parametrize("objective", ["wsr", "min_rate"])
@pytest.mark.parametrize("kwargs", [{}, {"phase_levels": 2}, {"inter_irs": True}])
def test_every_solver_returns_a_feasible_decision(objective, kwargs):
    cfg = m.MultiIRSConfig(**SMALL, objective=objective, **kwargs)
    scen = m.sample_scenario(cfg, np.random.default_rng(1))
    for name, solver in for_env(ENV_ID, config=cfg).items():
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(0))
        out = m.metrics(cfg, scen, sol.decision)
        assert out["feasible"], name
        np.testing.assert_allclose(out["power_w"], cfg.tx_power_w, rtol=1e-9, err_msg=name)
        np.testing.assert_allclose(sol.objective, out["objective"], rtol=1e-12, err_msg=name)


def _mean_objectives(cfg, seeds, skip=()):
    solvers = {n: s for n, s in for_env(ENV_ID, config=cfg).items() if n not in skip}
    totals = dict.fromkeys(solvers, 0.0)
    for seed in seeds:
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        for name, solver in solvers.items():
            totals[name] += solver.solve(scen, cfg, rng=np.random.default_rng(seed)).objective
    ref = next(n for n, s in solvers.items() if s.role == "reference")
    return ref, {n: t / len(seeds) for n, t in totals.items()}


@pytest.mark.parametrize("objective", ["wsr", "min_rate"])
def test_reference_beats_every_benchmark_on_average(objective):
    """At 30 dBm (the spec's higher-SNR regime) interference matters and the margins are
    wide enough for 10 realisations; the default-power check needs more (slow test below):
    at 20 dBm the WSR optimum often serves one user, where AO-MRT is close to DOMALO. AIF and
    SOCP-SDR (SDPs in every iteration: seconds to minutes per realisation at M = 64) are left
    to the slow test."""
    ref, means = _mean_objectives(
        m.MultiIRSConfig(objective=objective, tx_power_dbm=30),
        range(500, 510),
        skip=("aif", "socp_sdr"),
    )
    for name, mean in means.items():
        assert name == ref or means[ref] > mean, (name, means)


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["wsr", "min_rate"])
def test_reference_beats_every_benchmark_at_default_config(objective):
    """40 realisations at the 20 dBm default; SOCP-SDR (minutes per realisation here) is
    compared in the reproduction script (``--with-slow``) instead."""
    ref, means = _mean_objectives(
        m.MultiIRSConfig(objective=objective), range(500, 540), skip=("socp_sdr",)
    )
    for name, mean in means.items():
        assert name == ref or means[ref] > mean, (name, means)
