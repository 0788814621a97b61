"""Model 003's power step (spec 7.1): the LP against HiGHS and brute force, the SCA loop's
fixed point, infeasible targets, and the DFT-phase schemes (spec 8)."""

import numpy as np
import pytest

import baselines
from baselines.swipt import power
from baselines.swipt.schemes import DFTPhaseEPA, DFTPhaseOPA, best_codeword, dft_codebook
from irs_gym.models import swipt as m
from irs_gym.models.tree import tree_map

SMALL = dict(num_bs_antennas=16, num_elements=16, num_info_users=3, num_energy_users=3)


def setup(rng, **kwargs):
    cfg = m.SwiptConfig(**{**SMALL, **kwargs})
    scen = m.sample_scenario(cfg, rng)
    return cfg, scen, m.statistics(cfg, scen)


def test_problems_are_dpp():
    assert power.power_lp_problem(3, 2).problem.is_dpp()
    assert power.power_sca_problem(3, 2).problem.is_dpp()


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"precoder": "ppzf", "pilot_reuse_info": 3, "se_target_bps_hz": 0.3},
        {"se_target_bps_hz": (0.0, 2.0, 0.5)},
    ],
)
def test_lp_meets_targets_and_matches_highs_and_sca(rng, kwargs):
    """The cvxpy LP: feasible (every SE target met, budget held, eta >= 0), equal to the
    independent HiGHS solve of the model, and equal to the fixed point of the paper's SCA
    loop: f(t*) = max min Q_bar, reached by rising iterates."""
    cfg, scen, stats = setup(rng, **kwargs)
    for _ in range(2):
        theta = np.exp(2j * np.pi * rng.random(cfg.num_elements))
        lp = power.lp_power(cfg, stats, theta)
        assert lp.status == "optimal" and lp.message.endswith("optimal")
        out = m.metrics(cfg, scen, m.decision_from_eta(theta, lp.eta, cfg.num_info_users))
        assert out["feasible"] and np.all(lp.eta >= 0) and out["power"] <= 1 + 1e-9
        assert out["min_q_bar_j"] == pytest.approx(lp.value_j, rel=1e-12)
        highs, ok = m.optimal_power(cfg, stats, theta)
        assert ok
        highs_q = m.metrics(cfg, scen, m.decision_from_eta(theta, highs, cfg.num_info_users))
        assert lp.value_j == pytest.approx(float(highs_q["min_q_bar_j"]), rel=1e-6)
        sca = power.sca_power(cfg, stats, theta)
        assert sca.status == "converged"
        assert sca.value_j == pytest.approx(lp.value_j, rel=2e-3)
        assert sca.history_j[-1] == pytest.approx(lp.value_j, rel=2e-3)  # f(t*) = s*
        assert np.all(np.diff(sca.history_j) > 0)
        assert np.all(np.array(sca.history_j) <= lp.value_j * (1 + 1e-6))


def test_lp_beats_random_feasible_splits(rng):
    cfg, scen, stats = setup(rng, se_target_bps_hz=1.0)
    theta = np.exp(2j * np.pi * rng.random(cfg.num_elements))
    lp = power.lp_power(cfg, stats, theta)
    n = 20_000
    eta = rng.dirichlet(np.ones(cfg.num_streams + 1), n)[:, :-1]
    batch_stats = tree_map(lambda x: np.broadcast_to(x, (n, *np.shape(x))), stats)
    thetas = np.broadcast_to(theta, (n, cfg.num_elements))
    out = m.metrics(cfg, scen, m.decision_from_eta(thetas, eta, cfg.num_info_users), batch_stats)
    assert out["feasible"].sum() > 50
    assert out["min_q_bar_j"][out["feasible"]].max() <= lp.value_j * (1 + 1e-9)


def test_unreachable_targets_are_infeasible_never_negative(rng):
    cfg, scen, stats = setup(rng, se_target_bps_hz=20.0)
    theta = np.ones(cfg.num_elements, complex)
    for step in (power.lp_power, power.sca_power):
        res = step(cfg, stats, theta)
        assert res.status == "infeasible" and "infeasible" in res.message
        assert np.all(res.eta >= 0)
    for solver in baselines.for_env("irs_gym/SwiptMassiveMIMO-v0", config=cfg).values():
        sol = solver.solve(scen, cfg)
        if solver.name == "dft_phase_epa":
            assert sol.status == "fixed"
        else:
            assert sol.status == "infeasible", solver.name
        assert np.all(sol.decision.eta >= 0)
        out = m.metrics(cfg, scen, sol.decision)
        assert not out["feasible"] and out["objective"] == pytest.approx(sol.objective)


def test_dft_codebook_is_orthogonal_and_unit_modulus():
    for n in (4, 16, 25):
        cb = dft_codebook(n)
        assert cb.shape == (n, n)
        np.testing.assert_allclose(np.abs(cb), 1.0)
        np.testing.assert_allclose(cb.conj() @ cb.T, n * np.eye(n), atol=1e-9)
        side = int(np.sqrt(n))
        p, q = 1, side - 1
        i, j = np.divmod(np.arange(n), side)
        expected = np.exp(-2j * np.pi * (p * i + q * j) / side)
        np.testing.assert_allclose(cb[p * side + q], expected, atol=1e-12)
    with pytest.raises(ValueError, match="perfect square"):
        dft_codebook(8)


def test_dft_choice_is_the_best_codeword(rng):
    """Exhaustive: score every codeword on its own with the model's metrics."""
    cfg, scen, stats = setup(rng, num_elements=25)
    theta, values = best_codeword(cfg, stats)
    epa = m.equal_power(cfg)
    scores = [
        float(m.metrics(cfg, scen, m.decision_from_eta(c, epa, cfg.num_info_users))["min_q_bar_j"])
        for c in dft_codebook(cfg.num_elements)
    ]
    np.testing.assert_allclose(values, scores, rtol=1e-12)
    assert np.array_equal(theta, dft_codebook(cfg.num_elements)[int(np.argmax(scores))])
    sol = DFTPhaseEPA().solve(scen, cfg)
    assert sol.status == "fixed" and np.array_equal(sol.decision.theta, theta)
    assert sol.objective == pytest.approx(1e3 * float(m.harvested_energy(cfg, max(scores))))


def test_opa_never_below_epa_when_epa_is_feasible(rng):
    cfg, _, _ = setup(rng, se_target_bps_hz=0.5)
    for _ in range(3):
        scen = m.sample_scenario(cfg, rng)
        epa = DFTPhaseEPA().solve(scen, cfg)
        opa = DFTPhaseOPA().solve(scen, cfg)
        assert m.metrics(cfg, scen, epa.decision)["feasible"]
        assert opa.status == "optimal"
        assert opa.objective >= epa.objective * (1 - 1e-9)
        np.testing.assert_array_equal(opa.decision.theta, epa.decision.theta)


def test_registry_roles():
    cfg = m.SwiptConfig(**SMALL)
    solvers = baselines.for_env("irs_gym/SwiptMassiveMIMO-v0", config=cfg)
    assert set(solvers) == {"opt_phase_opa", "opt_phase_opa_mfd", "dft_phase_opa", "dft_phase_epa"}
    assert baselines.reference_solver(solvers)[0] == "opt_phase_opa"
