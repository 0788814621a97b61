"""Model 000's FP engine (spec section 5) step by step: the quadratic subproblems against
cvxpy and bisection, the surrogate against the WSR, monotone steps, xi as each UE's exact
contribution, the matching against brute force, the cvxpy problems (DPP, SDR tightness) and
the SDP failure path."""

import dataclasses
import itertools
import math

import cvxpy as cp
import numpy as np
import pytest

from baselines.backscatter import convex, fp, joint, qp
from irs_gym.models import backscatter as m

TINY = dict(num_cells=2, num_users=2, num_pb_antennas=2, num_bs_antennas=2, num_elements=4)
VARIANTS = [
    {"amplitude_control": True},
    {},
    {"uplink": "passive"},
    {"uplink": "active"},
    {"amplitude_control": True, "csi_error": 0.1},
]
IDS = ["amplitude", "unit", "passive", "active", "csi"]


def cn(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def setup(kwargs, seed, num_users=2):
    cfg = m.BackscatterConfig(**{**TINY, "num_users": num_users}, **kwargs)
    scen = m.sample_scenario(cfg, np.random.default_rng(seed))
    prob = fp.Problem.of(cfg, scen)
    w, v = model_initial(cfg, prob)
    return cfg, scen, prob, w, v


def model_initial(cfg, prob):
    return m.initial_pb_beam(cfg, prob.ch.H, ()), m.initial_beams(cfg, ())


# Quadratic subproblems -------------------------------------------------------------------
def test_ball_qp_matches_bisection_and_cvxpy(rng):
    for _ in range(40):
        n, r = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        R = cn(rng, r, n) * 10 ** rng.uniform(-2, 2)
        b = cn(rng, n) * 10 ** rng.uniform(-2, 2)
        P = 10 ** rng.uniform(-1, 1)
        Q = R.conj().T @ R
        x = qp.ball_qp(Q, b, P)
        assert np.linalg.norm(x) ** 2 <= P * (1 + 1e-12)
        u = cp.Variable(n, complex=True)
        prob = cp.Problem(
            cp.Maximize(2 * cp.real(np.conj(b) @ u) - cp.sum_squares(R @ u)),
            [cp.sum_squares(u) <= P],
        )
        prob.solve(solver="CLARABEL")
        best = prob.value
        assert qp.value(R, b, x) >= best - 1e-6 * abs(best)


def test_disc_qp_reaches_the_cvxpy_optimum(rng):
    for _ in range(10):
        n, r = 6, 3
        R, b = cn(rng, 2, r, n), cn(rng, 2, n) * 3
        x0 = np.exp(2j * np.pi * rng.random((2, n)))
        x, val = qp.disc_qp(R, b, x0, 1.0, max_iterations=5000, tol=1e-12)
        assert np.all(np.abs(x) <= 1 + 1e-12)
        for k in range(2):
            u = cp.Variable(n, complex=True)
            obj = 2 * cp.real(np.conj(b[k]) @ u) - cp.sum_squares(R[k] @ u)
            cvx = cp.Problem(cp.Maximize(obj), [cp.abs(u) <= 1])
            cvx.solve(solver="CLARABEL")
            assert val[k] == pytest.approx(cvx.value, rel=1e-5)
            assert val[k] == pytest.approx(qp.value(R[k], b[k], x[k]), rel=1e-12)


def test_first_order_solvers_never_lose_to_the_warm_start(rng):
    R, b = cn(rng, 5, 4, 8), cn(rng, 5, 8)
    x0 = 0.7 * np.exp(2j * np.pi * rng.random((5, 8)))
    unit0 = x0 / np.abs(x0) * 0.7
    for kind, start in (("disc", x0), ("circle", unit0)):
        x, val = qp.solve(kind, R, b, start, 0.7, max_iterations=3)
        assert np.all(val >= qp.value(R, b, start) - 1e-12)
        if kind == "circle":
            np.testing.assert_allclose(np.abs(x), 0.7, rtol=1e-12)
    # Q = 0: the linear objective is maximised by the phases of b
    x, _ = qp.disc_qp(np.zeros((1, 2, 8)), b[:1], x0[:1], 1.0)
    np.testing.assert_allclose(x, b[:1] / np.abs(b[:1]), rtol=1e-12)


def test_circle_qp_beats_random_unit_modulus_points(rng):
    R, b = cn(rng, 3, 5), cn(rng, 5)
    _x, val = qp.circle_qp(R, b, np.ones(5, dtype=complex), 1.0)
    samples = np.exp(2j * np.pi * rng.random((20000, 5)))
    assert val >= qp.value(R, b, samples).max() - 1e-6


# The surrogate and the steps -------------------------------------------------------------
@pytest.mark.parametrize("kwargs", VARIANTS, ids=IDS)
def test_surrogate_equals_wsr_at_optimal_alpha_beta(kwargs):
    cfg, scen, prob, w, v = setup(kwargs, 0, num_users=3)
    stream = np.array([0, -1, 1, 1, 0, -1])
    aux, wsr = fp.auxiliaries(prob, w, v, stream, tentative=True)
    f = fp.surrogate(prob, w, v, stream, aux)
    assert f / math.log(2) == pytest.approx(wsr, rel=1e-10)
    assert wsr == pytest.approx(
        float(m.metrics(cfg, scen, m.BackscatterDecision(w, v, stream))["white_wsr_bps_hz"]),
        rel=1e-12,
    )
    # beta = sqrt(omega (1 + alpha)) B^-1 a maximises f over beta: perturbing lowers f
    rng = np.random.default_rng(1)
    for _ in range(5):
        bumped = dataclasses.replace(aux, beta=aux.beta + 1e-3 * cn(rng, *aux.beta.shape))
        assert fp.surrogate(prob, w, v, stream, bumped) < f


@pytest.mark.parametrize("kwargs", VARIANTS, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_ao_step_does_not_decrease_the_surrogate(kwargs, seed):
    cfg, scen, prob, w, v = setup(kwargs, seed, num_users=3)
    engine = fp.FPEngine()
    rng = np.random.default_rng(seed)
    stream = joint.random_streams(cfg, rng)
    wsr_prev = -np.inf
    for _ in range(6):
        aux, wsr = fp.auxiliaries(prob, w, v, stream, tentative=True)
        assert wsr >= wsr_prev - 1e-9 * abs(wsr)
        f0 = fp.surrogate(prob, w, v, stream, aux)
        assert f0 == pytest.approx(wsr * math.log(2), rel=1e-10)
        if cfg.has_pb:
            w = engine.w_step(prob, w, v, stream, aux, rng, [])
            assert np.linalg.norm(w) ** 2 <= cfg.pb_power_w * (1 + 1e-12)
        f1 = fp.surrogate(prob, w, v, stream, aux)
        assert f1 >= f0 - 1e-9 * abs(f0)
        v, stream = engine.v_step(prob, w, v, stream, aux, rng, [], schedule=True)
        f2 = fp.surrogate(prob, w, v, stream, aux)
        assert f2 >= f1 - 1e-9 * abs(f1)
        dec = m.BackscatterDecision(w, v, stream)
        assert m.metrics(cfg, scen, dec)["constraint_violation"] <= 1e-9
        wsr_prev = wsr


def test_w_step_is_the_exact_maximiser(rng):
    cfg, _scen, prob, w, v = setup({"amplitude_control": True}, 4)
    stream = m.first_streams(cfg)
    aux, _ = fp.auxiliaries(prob, w, v, stream, tentative=False)
    w_star = fp.FPEngine().w_step(prob, w, v, stream, aux, rng, [])
    f_star = fp.surrogate(prob, w_star, v, stream, aux)
    P = cfg.pb_power_w
    for _ in range(2000):
        trial = cn(rng, cfg.num_pb_antennas)
        trial *= math.sqrt(P) * rng.random() ** 0.5 / np.linalg.norm(trial)
        assert fp.surrogate(prob, trial, v, stream, aux) <= f_star + 1e-9 * abs(f_star)
    # and f(w) = const + 2 Re(x^H w) - w^H Y w
    Y, x = fp.w_terms(prob, v, stream, aux)
    const = fp.surrogate(prob, np.zeros_like(w), v, stream, aux)
    for trial in (w, w_star, cn(rng, cfg.num_pb_antennas)):
        quad = 2 * np.real(x.conj() @ trial) - np.real(trial.conj() @ Y @ trial)
        assert fp.surrogate(prob, trial, v, stream, aux) == pytest.approx(const + quad, rel=1e-9)


@pytest.mark.parametrize("kwargs", VARIANTS, ids=IDS)
def test_xi_is_each_ues_exact_contribution(kwargs):
    """With every stream filled (no tentative stream), f = sum over the current pairs of xi
    evaluated at the current beams (spec 5.2 3b with the corrected minus signs)."""
    cfg, _scen, prob, w, v = setup(kwargs, 5)
    stream = np.array([1, 0, 0, 1])
    aux, _ = fp.auxiliaries(prob, w, v, stream, tentative=True)
    assert aux.filled.all()
    engine = fp.FPEngine()
    cand = engine.candidates(prob, w, v, aux, np.random.default_rng(0), [])
    u = np.arange(cfg.num_ues)
    R, _pen, bT = engine._leakage(prob, w, aux, aux.occupant >= 0)
    alpha = aux.alpha[prob.cell, stream]
    c = np.sqrt(prob.omega * (1 + alpha))
    b = c[:, None] * np.conj(bT[prob.cell, stream, u, :])
    at_current = cand.xi[u, stream] - cand.values[u, stream] + qp.value(R, b, v)
    f = fp.surrogate(prob, w, v, stream, aux)
    assert at_current.sum() == pytest.approx(f, rel=1e-10)
    # the optimal values dominate the current beams
    assert np.all(cand.values[u, stream] >= qp.value(R, b, v) - 1e-12)


def brute_force_matching(xi):
    """Max sum of xi over partial assignments (UE -> distinct stream or none)."""
    K, N = xi.shape
    best, best_stream = 0.0, np.full(K, -1)
    for choice in itertools.product(range(-1, N), repeat=K):
        used = [c for c in choice if c >= 0]
        if len(used) != len(set(used)):
            continue
        total = sum(xi[k, c] for k, c in enumerate(choice) if c >= 0)
        if total > best + 1e-12:
            best, best_stream = total, np.array(choice)
    return best, best_stream


def test_matching_equals_brute_force(rng):
    engine = fp.FPEngine()
    for K, N in [(2, 2), (3, 2), (4, 2), (2, 3), (4, 3), (5, 1)]:
        cfg = m.BackscatterConfig(num_cells=2, num_users=K, num_bs_antennas=N, num_elements=2)
        prob = fp.Problem(cfg, None, cfg.weights_array, cfg.cell_of_ue)
        for _ in range(10):
            xi = rng.normal(0.0, 1.0, (cfg.num_ues, N))
            xi[rng.random(xi.shape) < 0.1] = -np.inf  # streams without beta
            cand = fp.Candidates(None, None, xi)
            stream = engine.match(prob, cand)
            for i in range(cfg.num_cells):
                block = xi[i * K : (i + 1) * K]
                best, _ = brute_force_matching(block)
                got = stream[i * K : (i + 1) * K]
                value = sum(block[k, c] for k, c in enumerate(got) if c >= 0)
                assert value == pytest.approx(best, abs=1e-12)
                assert all(block[k, c] > 0 for k, c in enumerate(got) if c >= 0)
            assert m.schedule_violation(cfg, stream) == 0


# cvxpy routes ------------------------------------------------------------------------------
def test_cvxpy_problems_are_dpp():
    assert convex.WStepQP(3).problem.is_dpp()
    assert convex.WStepSDP(3).problem.is_dpp()
    for kind in ("disc", "ball"):
        assert convex.VStepQP(2, 4, kind).problem.is_dpp()
        assert convex.VStepSDP(4, kind).problem.is_dpp()


def test_sdr_routes_are_tight(rng):
    """Step 2's SDR (P2) and the (P3') SDR reach the exact optimum on small instances."""
    for _ in range(3):
        M = 3
        R = cn(rng, 4, M)
        Y, x, P = R.conj().T @ R, cn(rng, M) * 2, 2.0
        exact = qp.ball_qp(Y, x, P)
        sdr = convex.w_sdp(M).solve(Y, x, P, rng, 100)
        direct = convex.w_qp(M).solve(Y, x, P)
        ref = qp.value(R, x, exact)
        for cand in (sdr, direct):
            assert np.linalg.norm(cand) ** 2 <= P * (1 + 1e-6)
            assert qp.value(R, x, cand) == pytest.approx(ref, rel=1e-4)
        Rv, bv = cn(rng, 2, 4), cn(rng, 4) * 2
        best, _ = qp.disc_qp(Rv, bv, np.ones(4, dtype=complex), 1.0, 5000, 1e-12)
        for cand in (
            convex.v_sdp(4, "disc").solve(Rv, bv, 1.0, rng, 100),
            convex.v_qp(2, 4, "disc").solve(Rv, bv, 1.0),
        ):
            assert np.all(np.abs(cand) <= 1 + 1e-6)
            assert qp.value(Rv, bv, cand) == pytest.approx(qp.value(Rv, bv, best), rel=1e-3)


@pytest.mark.parametrize("kwargs", [{"amplitude_control": True}, {"uplink": "active"}])
def test_cvxpy_routes_agree_with_the_fast_routes(kwargs):
    cfg = m.BackscatterConfig(**TINY, **kwargs)
    scen = m.sample_scenario(cfg, np.random.default_rng(2))
    name = joint.Antenna(4) if cfg.uplink == "active" else None
    results = []
    for routes in (("closed_form", "first_order"), ("cvxpy", "cvxpy"), ("sdr", "sdr")):
        args = dict(w_method=routes[0], v_method=routes[1], max_iterations=4)
        solver = joint.Antenna(4, **args) if name else joint.Joint(**args)
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(0))
        assert sol.status in ("converged", "max_iterations"), sol.message
        results.append(sol.objective)
    np.testing.assert_allclose(results, results[0], rtol=2e-3)


def failing_solve(problem, variable, name):
    raise convex.StepFailure(f"{name} failed: CLARABEL: infeasible_inaccurate")


def test_sdp_failure_falls_back_or_reports_solver_error(monkeypatch):
    cfg = m.BackscatterConfig(**TINY, amplitude_control=True)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    monkeypatch.setattr(convex, "_solve", failing_solve)
    exact = joint.Joint(max_iterations=3).solve(scen, cfg, rng=np.random.default_rng(0))
    sol = joint.Joint(w_method="sdr", v_method="sdr", max_iterations=3).solve(
        scen, cfg, rng=np.random.default_rng(0)
    )
    assert sol.status in ("converged", "max_iterations")
    assert "w-step SDP (P2) failed" in sol.message and "used the closed form" in sol.message
    assert "(P3') SDP failed" in sol.message and "first-order route" in sol.message
    assert sol.objective == pytest.approx(exact.objective, rel=1e-6)
    strict = joint.Joint(w_method="sdr", fallback=False).solve(scen, cfg)
    assert strict.status == "solver_error" and strict.decision is None
    assert "infeasible_inaccurate" in strict.message
    direct = joint.Joint(w_method="cvxpy").solve(scen, cfg)
    assert direct.status == "solver_error" and "w-step QP failed" in direct.message


def test_engine_rejects_bad_settings():
    with pytest.raises(ValueError, match="w_method"):
        fp.FPEngine(w_method="newton")
    with pytest.raises(ValueError, match="v_method"):
        fp.FPEngine(v_method="sgd")
    with pytest.raises(ValueError, match="max_iterations"):
        fp.FPEngine(max_iterations=0)
