"""Model 000's solvers (spec sections 5-6): feasibility, codebooks, monotone histories, the
matching against the exhaustive schedule search, estimates-only optimisation, White/Real."""

import dataclasses

import numpy as np
import pytest

import baselines
from baselines.backscatter import (
    Antenna,
    Discrete,
    Exhaustive,
    Joint,
    Passive,
    joint,
    schedule_beams,
    white_real,
)
from irs_gym.models import backscatter as m

ENV_ID = "irs_gym/BackscatterUplink-v0"
TINY = dict(num_cells=2, num_users=2, num_pb_antennas=2, num_bs_antennas=2, num_elements=4)


def make(seed=0, **kwargs):
    cfg = m.BackscatterConfig(**{**TINY, **kwargs})
    return cfg, m.sample_scenario(cfg, np.random.default_rng(seed))


def test_registry_per_variant():
    names = {
        "backscatter": {"joint", "discrete4", "discrete8", "exhaustive"},
        "passive": {"passive"},
        "active": {"antenna8"},
    }
    for uplink, expected in names.items():
        cfg = m.BackscatterConfig(uplink=uplink, num_active_antennas=8)
        solvers = baselines.for_env(ENV_ID, config=cfg)
        assert set(solvers) == expected
        assert [s.role for s in solvers.values()].count("reference") == 1
        assert all(s.name == n for n, s in solvers.items())


@pytest.mark.parametrize(
    "kwargs,solver",
    [
        ({}, Joint()),
        ({"amplitude_control": True}, Joint()),
        ({"amplitude_control": True}, Discrete(4)),
        ({}, Discrete(8)),
        ({"num_users": 2}, Exhaustive()),
        ({"uplink": "passive"}, Passive()),
        ({"uplink": "active"}, Antenna(4)),
        ({"uplink": "active", "num_active_antennas": 8}, Antenna(8)),
        ({"csi_error": 0.2, "amplitude_control": True}, Joint()),
    ],
    ids=lambda x: x.name if hasattr(x, "name") else ",".join(map(str, x.values())) or "unit",
)
def test_decisions_are_feasible_and_scored_by_the_model(kwargs, solver):
    for seed in (0, 1):
        cfg, scen = make(seed, **{"num_users": 3, **kwargs})
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(seed))
        assert sol.status in ("converged", "max_iterations"), sol.message
        out = m.metrics(cfg, scen, sol.decision)
        assert out["feasible"] and out["constraint_violation"] <= 1e-9
        assert sol.objective == float(out["objective"])
        d = sol.decision
        if cfg.has_pb:  # the returned PB beam is at full power
            assert np.linalg.norm(d.w) ** 2 == pytest.approx(cfg.pb_power_w, rel=1e-12)
        if cfg.uplink == "passive":
            np.testing.assert_allclose(np.abs(d.v) ** 2, cfg.ue_power_w / cfg.num_elements)
        if cfg.uplink == "active":
            assert np.all(np.sum(np.abs(d.v) ** 2, axis=-1) <= cfg.ue_power_w * (1 + 1e-12))
        if cfg.uplink == "backscatter" and not cfg.amplitude_control:
            np.testing.assert_allclose(np.abs(d.v), 1.0, rtol=1e-12)


@pytest.mark.parametrize("levels", [4, 8])
def test_discrete_decisions_lie_on_their_codebook(levels):
    cfg, scen = make(3, amplitude_control=True)
    solver = Discrete(levels)
    sol = solver.solve(scen, cfg, rng=np.random.default_rng(0))
    v = sol.decision.v
    np.testing.assert_allclose(np.abs(v), 1.0, rtol=1e-12)
    q = np.angle(v) * levels / (2 * np.pi)
    np.testing.assert_allclose(q, np.round(q), atol=1e-9)
    # same Joint run underneath: the same schedule, v the nearest codeword of Joint's v
    ref = Joint().solve(scen, cfg, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(sol.decision.stream, ref.decision.stream)
    np.testing.assert_allclose(v, m.quantize_phases(ref.decision.v, levels))
    assert sol.history[: len(ref.history)] == ref.history


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"amplitude_control": True}, {"uplink": "passive"}, {"uplink": "active"}],
    ids=["unit", "amplitude", "passive", "active"],
)
def test_history_is_non_decreasing_and_ends_at_the_prediction(kwargs):
    solver = {"passive": Passive(), "active": Antenna(4)}.get(kwargs.get("uplink"), Joint())
    for seed in range(3):
        cfg, scen = make(seed, num_users=3, **kwargs)
        sol = solver.solve(scen, cfg, rng=np.random.default_rng(seed))
        h = np.array(sol.history)
        assert len(h) >= 2 and np.all(np.diff(h) >= -1e-9 * h[1:])
        assert h[-1] == pytest.approx(sol.objective, rel=1e-9)  # perfect CSI: White = Real


def joint_over_exhaustive(kwargs, seeds):
    ratios = []
    for seed in seeds:
        cfg, scen = make(seed, amplitude_control=True, **kwargs)
        a = Joint().solve(scen, cfg, rng=np.random.default_rng(seed))
        b = Exhaustive().solve(scen, cfg, rng=np.random.default_rng(seed))
        ratios.append(a.objective / b.objective)
    return np.array(ratios)


def test_joint_finds_the_best_schedule_on_single_cell_drops():
    """K = 3 UEs for N = 2 streams: the matching must choose whom to serve."""
    ratios = joint_over_exhaustive({"num_cells": 1, "num_users": 3}, range(3))
    assert np.all(ratios >= 1 - 1e-3), ratios


@pytest.mark.slow
def test_joint_matches_the_exhaustive_schedule_search():
    """Over tiny instances Joint's matching finds the exhaustive search's WSR in most drops;
    where it does not, AO settled in another local optimum (measured: 21 of 26 drops within
    0.1 %, 25 within 3.5 %, the worst at 80 % of the exhaustive value, mean 99 %)."""
    ratios = np.concatenate(
        [
            joint_over_exhaustive({"num_cells": 1, "num_users": 3}, range(10)),
            joint_over_exhaustive({"num_cells": 2, "num_users": 2}, range(10)),
            joint_over_exhaustive({"num_cells": 2, "num_users": 3, "num_elements": 6}, range(6)),
        ]
    )
    assert np.mean(ratios >= 1 - 1e-3) >= 0.75, ratios
    assert ratios.min() >= 0.75 and ratios.mean() >= 0.97, ratios


def test_exhaustive_is_the_best_fixed_schedule():
    cfg, scen = make(2, amplitude_control=True)
    best = Exhaustive().solve(scen, cfg)
    engine = Exhaustive().joint.engine
    assert joint.count_schedules(cfg) == 15
    seen = 0
    for schedule in joint.schedules(cfg):
        stream = joint.streams_of(cfg, schedule)
        if not np.any(stream >= 0):
            continue
        seen += 1
        dec = schedule_beams(cfg, scen, stream, engine)
        assert m.metrics(cfg, scen, dec)["objective"] <= best.objective + 1e-9
    assert seen == 15
    big = m.BackscatterConfig(num_users=6, num_bs_antennas=3)
    sol = Exhaustive(max_schedules=100).solve(m.sample_scenario(big, np.random.default_rng(0)), big)
    assert sol.status == "not_applicable" and "schedules" in sol.message


def test_solvers_see_only_the_estimates():
    cfg, scen = make(0, csi_error=0.3, amplitude_control=True)
    other = dataclasses.replace(
        scen, H_err=-scen.H_err, F_err=2 * scen.F_err, G_err=np.zeros_like(scen.G_err)
    )
    for solver in (Joint(), Discrete(4)):
        a = solver.solve(scen, cfg, rng=np.random.default_rng(1)).decision
        b = solver.solve(other, cfg, rng=np.random.default_rng(1)).decision
        for f in ("w", "v", "stream"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_white_real_evaluation():
    cfg, scen = make(4, amplitude_control=True)
    res = white_real(Joint(), scen, cfg, np.random.default_rng(0))
    assert res.white_bps_hz == res.real_bps_hz == res.solution.objective
    cfg, scen = make(4, amplitude_control=True, csi_error=0.2)
    res = white_real(Joint(), scen, cfg, np.random.default_rng(0))
    assert res.real_bps_hz == res.solution.objective
    # White is what the solver predicted for its final iterate
    assert res.white_bps_hz == pytest.approx(res.solution.history[-1], rel=1e-9)
    assert res.white_bps_hz != res.real_bps_hz
    assert np.isfinite(res.real_estimated_rx_bps_hz)
    failed = white_real(Joint(), *make(0, uplink="active")[::-1])
    assert failed.solution.status == "not_applicable" and np.isnan(failed.white_bps_hz)


def test_variant_solvers_are_not_applicable_elsewhere():
    cfg, scen = make(0)
    for solver in (Passive(), Antenna(4)):
        assert solver.solve(scen, cfg).status == "not_applicable"
    cfg, scen = make(0, uplink="active", num_active_antennas=8)
    assert Antenna(4).solve(scen, cfg).status == "not_applicable"
    for solver in (Joint(), Discrete(4), Exhaustive()):
        assert solver.solve(scen, cfg).status == "not_applicable"


def test_schedule_beams_keep_the_schedule_and_improve_the_start():
    cfg, scen = make(5, amplitude_control=True)
    stream = np.array([1, -1, 0, 1])
    a = schedule_beams(cfg, scen, stream)
    b = schedule_beams(cfg, scen, stream)
    np.testing.assert_array_equal(a.stream, stream)
    np.testing.assert_array_equal(a.v, b.v)
    start = m.default_decision(cfg, scen)
    start = dataclasses.replace(start, stream=stream)
    assert m.metrics(cfg, scen, a)["objective"] > m.metrics(cfg, scen, start)["objective"]


def test_random_initial_schedule():
    cfg = m.BackscatterConfig(num_cells=3, num_users=4, num_bs_antennas=2)
    seen = set()
    for seed in range(20):
        stream = joint.random_streams(cfg, np.random.default_rng(seed))
        assert m.schedule_violation(cfg, stream) == 0
        per_cell = (stream.reshape(3, 4) >= 0).sum(axis=1)
        np.testing.assert_array_equal(per_cell, 2)
        seen.add(tuple(stream))
    assert len(seen) > 10


def test_warm_starts_lift_joint_out_of_the_spec_start_local_optimum():
    """At the default config Algorithm 1 from the spec's start stalls far below what the same
    algorithm reaches from the rho_0 robust design (12-19 vs 21-30 bit/s/Hz on these drops);
    Joint keeps the best run, so it is never below the single start."""
    cfg = m.BackscatterConfig()
    gains = []
    for seed in range(3):
        scen = m.sample_scenario(cfg, np.random.default_rng(seed))
        single = Joint(warm_starts=()).solve(scen, cfg, rng=np.random.default_rng(0))
        warm = Joint().solve(scen, cfg, rng=np.random.default_rng(0))
        assert warm.history[-1] >= single.history[-1]
        assert warm.objective == pytest.approx(warm.history[-1], rel=1e-9)  # perfect CSI
        gains.append(warm.objective / single.objective)
    assert np.mean(gains) > 1.3, gains
    with pytest.raises(ValueError, match="warm_starts"):
        Joint(warm_starts=(0.0,))
