"""Model 002 against independent computations: the bandwidth of (1)-(12) with physical powers
and noise, coherent combining with explicit phases (8)-(9), UMi gains by hand, Monte Carlo
placement statistics, the EARTH power saving by hand and a brute-force nearest allocation."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irs_gym.models import block_allocation as m
from irs_gym.models.tree import tree_index


def umi_db_by_hand(d, los, gain_db):
    """(18) with the 3GPP constants at 3 GHz (-28 - 20 log10 3 LoS, -22.7 - 26 log10 3 NLoS)."""
    d = max(d, 10.0)
    if los:
        return gain_db - 28.0 - 20 * math.log10(3.0) - 22.0 * math.log10(d)
    return gain_db - 22.7 - 26 * math.log10(3.0) - 36.7 * math.log10(d)


def db(x):
    return 10 * np.log10(x)


def scenario_at(cfg, points):
    return m.scenario_from_positions(cfg, np.asarray(points, dtype=float))


def test_gains_by_hand_and_clipping():
    cfg = m.BlockAllocationConfig(num_users=3)
    # user 0 on the BS (d_sk = 0 -> 10 m), user 1 at 100 m, user 2 on the IRS (d_rk -> 10 m)
    scen = scenario_at(cfg, [[0.0, 0.0], [100.0, 0.0], [50.0, 0.0]])
    np.testing.assert_allclose(scen.distance_bs_m, [0.0, 100.0, 50.0])
    np.testing.assert_allclose(scen.distance_irs_m, [50.0, 50.0, 0.0])
    np.testing.assert_allclose(db(scen.beta_sr), umi_db_by_hand(50.0, True, 15.0), atol=1e-9)
    for k, (d_sk, d_rk) in enumerate([(0.0, 50.0), (100.0, 50.0), (50.0, 0.0)]):
        assert db(scen.beta_sk[k]) == pytest.approx(umi_db_by_hand(d_sk, False, 15.0))
        assert db(scen.beta_rk[k]) == pytest.approx(umi_db_by_hand(d_rk, True, 15.0))


@pytest.mark.parametrize(
    ("reading", "offsets"),
    # dB carried by (BS-IRS, IRS-user, BS-user) with G_s = 15, G_d = 0, G_r = 5 (spec section 2)
    [("literal", (15, 15, 15)), ("bjornson", (20, 5, 15)), ("physical", (15, 0, 15))],
)
def test_antenna_gain_readings(reading, offsets):
    cfg = m.BlockAllocationConfig(num_users=1, antenna_gains=reading)
    scen = scenario_at(cfg, [[120.0, 40.0]])
    d_sk, d_rk = math.hypot(120, 40), math.hypot(70, 40)
    assert db(scen.beta_sr) == pytest.approx(umi_db_by_hand(50.0, True, offsets[0]))
    assert db(scen.beta_rk[0]) == pytest.approx(umi_db_by_hand(d_rk, True, offsets[1]))
    assert db(scen.beta_sk[0]) == pytest.approx(umi_db_by_hand(d_sk, False, offsets[2]))


def test_closed_form_equals_bandwidth_from_equations_1_to_13(rng):
    """The spec-3 closed form (noise cancelled) against the paper's chain with absolute
    powers: sigma^2 = -174 dBm/Hz + 10 log10 B_k + 10 dB, p_k from (5), P_RI(N) from (10),
    B_I from (12), S from (13)."""
    cfg = m.BlockAllocationConfig(num_users=7, rate_bps=1.3e6, reflection_amplitude=0.8)
    scen = m.sample_scenario(cfg, rng)
    B_k = cfg.bandwidth_hz / cfg.num_users
    sigma2 = 10 ** ((-174 + 10 * math.log10(B_k) + 10 - 30) / 10)
    snr_k = 2 ** (cfg.rate_bps / B_k) - 1  # (3)
    p_k = snr_k * sigma2 / scen.beta_sk  # (5), |h_sk|^2 = beta_sk
    for x in range(cfg.num_blocks + 1):
        N = x * cfg.block_size
        p_rx = p_k * (np.sqrt(scen.beta_sk) + N * 0.8 * np.sqrt(scen.beta_sr * scen.beta_rk)) ** 2
        B_I = cfg.rate_bps / np.log2(1 + p_rx / sigma2)  # (12)
        expected = (B_k - B_I) / B_k  # (13)
        blocks = np.full(cfg.num_users, x)
        out = m.metrics(cfg, scen, m.BlockAllocationDecision(blocks))
        np.testing.assert_allclose(out["user_saving"], expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out["bandwidth_hz"], B_I, rtol=1e-9)
        np.testing.assert_allclose(out["objective"], 100 * expected.mean(), rtol=1e-9, atol=1e-9)


def test_received_power_10_from_explicit_phases_8_9(rng):
    """|h_sk + h_sr^T Theta h_rk|^2 with random channel phases and the optimal theta of (9)
    equals (sqrt(beta_sk) + N alpha sqrt(beta_IRS))^2 of (10)."""
    N, alpha = 60, 0.7
    b_sk, b_sr, b_rk = 3e-9, 2e-6, 5e-8
    h_sk = math.sqrt(b_sk) * np.exp(2j * np.pi * rng.random())
    h_sr = math.sqrt(b_sr) * np.exp(2j * np.pi * rng.random(N))
    h_rk = math.sqrt(b_rk) * np.exp(2j * np.pi * rng.random(N))
    theta = np.angle(h_sk) - np.angle(h_sr * h_rk)  # (9)
    received = abs(h_sk + h_sr @ (alpha * np.diag(np.exp(1j * theta))) @ h_rk) ** 2
    assert received == pytest.approx((math.sqrt(b_sk) + N * alpha * math.sqrt(b_sr * b_rk)) ** 2)
    # and no other phase choice does better
    other = np.exp(2j * np.pi * rng.random((200, N)))
    assert np.all(np.abs(h_sk + (alpha * other * h_sr * h_rk).sum(axis=-1)) ** 2 <= received)


def test_savings_zero_without_blocks_and_increasing(rng):
    cfg = m.BlockAllocationConfig(num_users=10, block_size=10)  # n_b = 15
    scen = m.sample_scenario(cfg, rng, (50,))
    table = m.saving_table(cfg, scen)
    assert table.shape == (50, 10, 16)
    np.testing.assert_array_equal(table[..., 0], 0.0)
    assert np.all(np.diff(table, axis=-1) > 0) and np.all(table < 1)
    out = m.metrics(cfg, scen, m.default_decision(cfg, scen))
    np.testing.assert_array_equal(out["objective"], 0.0)
    np.testing.assert_allclose(out["power_saving_pct"], 0.0, atol=1e-12)


def test_no_block_saving_is_exactly_zero_at_every_snr0():
    """Zero blocks save exactly nothing (no rounding below 0, which would put the EARTH load
    above 1), over 20,001 SNR_0 values from 1e-6 to 1e19 (one of them failed with math.log1p
    against np.log1p)."""
    snr0 = np.logspace(-6, 19, 20001)
    savings = [m.saving_from_gain(float(s), 0.3, 0) for s in snr0]
    np.testing.assert_array_equal(savings, 0.0)
    cfg = m.BlockAllocationConfig(num_users=1, block_size=5, rate_bps=12276932.25)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    out = m.metrics(cfg, scen, m.default_decision(cfg, scen))
    assert out["objective"] == 0.0 and out["power_saving_pct"] == 0.0


def test_snr0_and_noise_independence():
    cfg = m.BlockAllocationConfig(num_users=12, rate_bps=2e6)
    assert cfg.snr0 == pytest.approx(2 ** (2e6 * 12 / 10e6) - 1)
    assert cfg.num_blocks == 5 and cfg.user_bandwidth_hz == pytest.approx(10e6 / 12)


def test_power_saving_by_hand(rng):
    """EARTH macro, load-proportional: 1 - (P0 + dp chi Pmax) / (P0 + dp Pmax), chi = 1 - S."""
    cfg = m.BlockAllocationConfig()
    scen = m.sample_scenario(cfg, rng, (20,))
    x = np.zeros((20, 6), dtype=np.int64)
    x[:, :5] = 1
    out = m.metrics(cfg, scen, m.BlockAllocationDecision(x))
    s = out["bandwidth_saving_pct"] / 100
    expected = 1 - (130 + 4.7 * (1 - s) * 20) / (130 + 4.7 * 20)
    np.testing.assert_allclose(out["power_saving_pct"], 100 * expected, rtol=1e-12)
    np.testing.assert_allclose(out["power_saving_pct"], 100 * 94 / 224 * s, rtol=1e-12)
    assert np.all(out["power_saving_pct"] < out["bandwidth_saving_pct"])
    np.testing.assert_allclose(out["bs_power_w"], 6 * (130 + 4.7 * (1 - s) * 20), rtol=1e-12)
    pico = m.metrics(dataclasses.replace(cfg, bs_type="pico"), scen, m.BlockAllocationDecision(x))
    expected_pico = 4.0 * 0.13 * s / (6.8 + 4.0 * 0.13)
    np.testing.assert_allclose(pico["power_saving_pct"], 100 * expected_pico, rtol=1e-12)


@pytest.mark.parametrize(
    ("assisted", "blocks", "violation"),
    [
        (None, [2, 2, 2, 0], 1),  # 6 > n_b = 5 blocks
        (None, [1, 0, 0, 0], 0),  # fewer blocks than n_b is feasible when A is free
        (None, [-1, 3, 0, 0], 1),
        (2, [3, 2, 0, 0], 0),
        (2, [1, 1, 1, 2], 2),  # 4 users assisted instead of 2
        (2, [2, 2, 0, 0], 1),  # one block unused
        (3, [0, 0, 0, 0], 8),  # 5 unused + 3 users missing
    ],
)
def test_violation_by_hand(assisted, blocks, violation):
    cfg = m.BlockAllocationConfig(num_users=4, assisted_users=assisted)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    out = m.metrics(cfg, scen, m.BlockAllocationDecision(np.array(blocks)))
    assert out["constraint_violation"] == violation
    assert bool(out["feasible"]) == (violation == 0)
    assert np.all(np.isfinite(out["user_saving"])) and np.all(out["user_saving"] >= 0)


def test_batch_metrics_equal_one_by_one(rng):
    cfg = m.BlockAllocationConfig(num_users=5, assisted_users=2)
    scen = m.sample_scenario(cfg, rng, (4, 3))
    x = rng.integers(0, 3, (4, 3, 5))
    batch = m.metrics(cfg, scen, m.BlockAllocationDecision(x))
    for i, j in itertools.product(range(4), range(3)):
        one = m.metrics(cfg, tree_index(scen, (i, j)), m.BlockAllocationDecision(x[i, j]))
        for key, value in one.items():
            np.testing.assert_allclose(batch[key][i, j], value, rtol=1e-13, err_msg=key)


@pytest.mark.parametrize(("placement", "inner_share"), [("area", 0.25), ("radius", 0.5)])
def test_user_placement_statistics(placement, inner_share):
    """Share of users within R_a / 2: 1/4 for area-uniform, 1/2 for radius-uniform (Monte
    Carlo, 4-sigma tolerance); every user inside the cell; angles uniform."""
    cfg = m.BlockAllocationConfig(num_users=10, user_placement=placement, cell_radius_m=300.0)
    scen = m.sample_scenario(cfg, np.random.default_rng(5), (4000,))
    r = scen.distance_bs_m
    assert r.shape == (4000, 10) and np.all(r <= 300.0)
    n = r.size
    assert abs(np.mean(r < 150.0) - inner_share) < 4 * math.sqrt(inner_share * 0.75 / n) + 1e-3
    upper = np.mean(scen.user_positions_m[..., 1] > 0)
    assert abs(upper - 0.5) < 4 * math.sqrt(0.25 / n)


def test_sampling_is_seeded(rng):
    cfg = m.BlockAllocationConfig()
    a = m.sample_scenario(cfg, np.random.default_rng(3), (5,))
    b = m.sample_scenario(cfg, np.random.default_rng(3), (5,))
    c = m.sample_scenario(cfg, np.random.default_rng(4), (5,))
    np.testing.assert_array_equal(a.user_positions_m, b.user_positions_m)
    assert not np.any(a.user_positions_m == c.user_positions_m)


def test_observation_layout_by_hand():
    cfg = m.BlockAllocationConfig(num_users=2, block_size=50, cell_radius_m=200.0)
    scen = scenario_at(cfg, [[100.0, 0.0], [0.0, -80.0]])
    obs = m.observation(cfg, scen)
    assert obs.shape == (m.observation_size(cfg),) == (2 * (3 + 3),)
    np.testing.assert_allclose(obs[0:2], [0.5, 0.4])
    np.testing.assert_allclose(obs[2:4], [50 / 200, math.hypot(50, 80) / 200])
    c = 50 * np.sqrt(scen.beta_sr * scen.beta_rk / scen.beta_sk)
    np.testing.assert_allclose(obs[4:6], np.log10(c))
    snr0 = cfg.snr0
    for k in range(2):
        for x in (1, 2, 3):
            s = 1 - math.log2(1 + snr0) / math.log2(1 + snr0 * (1 + x * c[k]) ** 2)
            assert obs[6 + 3 * k + x - 1] == pytest.approx(s, rel=1e-12)


# Projection onto the feasible set --------------------------------------------------------
def feasible_allocations(K, n_b, A):
    for x in itertools.product(range(n_b + 1), repeat=K):
        if A is None and sum(x) <= n_b:
            yield x
        elif A is not None and sum(x) == n_b and sum(v > 0 for v in x) == A:
            yield x


@settings(max_examples=150, deadline=None)
@given(
    K=st.integers(1, 4),
    n_b=st.integers(1, 4),
    a_choice=st.integers(0, 4),
    data=st.data(),
)
def test_projection_is_a_nearest_feasible_allocation(K, n_b, a_choice, data):
    """Against brute force over every feasible allocation: the projection is feasible and
    as close to the target as the nearest one (ties may pick any nearest)."""
    A = None if a_choice == 0 or a_choice > min(K, n_b) else a_choice
    integer = data.draw(st.booleans(), label="integer targets")
    elems = (
        st.integers(0, n_b).map(float)
        if integer
        else st.floats(0.0, float(n_b), allow_nan=False, width=32)
    )
    t = np.array(data.draw(st.lists(elems, min_size=K, max_size=K), label="target"))
    x = m.project_allocation(t, n_b, A)
    assert tuple(x) in set(feasible_allocations(K, n_b, A))
    best = min(float(np.sum((np.array(f) - t) ** 2)) for f in feasible_allocations(K, n_b, A))
    assert float(np.sum((x - t) ** 2)) == pytest.approx(best, abs=1e-9)


def greedy_by_hand(t, n_b, A):
    """The docstring's greedy, one block at a time with Python loops."""
    K = len(t)
    x = [0] * K
    if A is None:
        for _ in range(n_b):
            k = max(range(K), key=lambda k: (t[k] - x[k], -k))
            if t[k] - x[k] <= 0.5:
                break
            x[k] += 1
        return x
    kept = sorted(range(K), key=lambda k: (-t[k], k))[:A]
    for k in kept:
        x[k] = 1
    for _ in range(n_b - A):
        k = max(kept, key=lambda k: (t[k] - x[k], -k))
        x[k] += 1
    return x


def test_projection_equals_the_greedy_loop_with_its_ties(rng):
    for _ in range(300):
        K, n_b = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        A = None if rng.random() < 0.4 else int(rng.integers(1, min(K, n_b) + 1))
        t = rng.integers(0, n_b + 1, K) / rng.choice([1, 2])  # integer and half targets: ties
        np.testing.assert_array_equal(m.project_allocation(t, n_b, A), greedy_by_hand(t, n_b, A))


def test_projection_keeps_feasible_and_is_batched(rng):
    for A in (None, 1, 2, 3):
        allocations = np.array(list(feasible_allocations(4, 3, A)))
        np.testing.assert_array_equal(m.project_allocation(allocations, 3, A), allocations)
        # float32 round trip through the box codec's scaling
        t = ((2 * allocations / 3 - 1).astype(np.float32) + 1.0) * 1.5
        np.testing.assert_array_equal(m.project_allocation(t, 3, A), allocations)
    t = rng.random((7, 5)) * 4
    batch = m.project_allocation(t, 4, 2)
    for i in range(7):
        np.testing.assert_array_equal(batch[i], m.project_allocation(t[i], 4, 2))


def test_projection_examples_by_hand():
    # nearest: every request lowered by the same shortfall (4/3 here), in whole blocks;
    # (4, 0, 1) and (3, 0, 2) are both at squared distance 6, the tie goes to user 0
    np.testing.assert_array_equal(
        m.project_allocation(np.array([5.0, 1.0, 3.0]), 5, None), [4, 0, 1]
    )
    np.testing.assert_array_equal(
        m.project_allocation(np.array([2.0, 1.0, 1.0]), 5, None), [2, 1, 1]
    )
    np.testing.assert_array_equal(
        m.project_allocation(np.array([0.4, 0.6, 0.0]), 5, None), [0, 1, 0]
    )
    np.testing.assert_array_equal(m.project_allocation(np.array([0.0, 0.0, 0.0]), 5, 2), [3, 2, 0])


# Validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        (dict(block_size=151), "block_size", "num_elements"),  # n_b < 1
        (dict(block_size=40), "block_size", "divide"),
        (dict(num_elements=100, block_size=30), "block_size", "divide"),
        (dict(assisted_users=6), "assisted_users", "min(num_users, n_b)"),
        (dict(num_users=3, assisted_users=4), "assisted_users", "[1, 3]"),
        (dict(cell_radius_m=8.0), "cell_radius_m", "min_distance_m"),
        (dict(cell_radius_m=20.0, min_distance_m=25.0), "cell_radius_m", "min_distance_m"),
        (dict(num_users=True), "num_users", "integer"),
        (dict(rate_bps=float("inf")), "rate_bps", "number"),
    ],
)
def test_bad_config_names_the_field(kwargs, field, words):
    with pytest.raises(ValueError, match=field) as info:
        m.BlockAllocationConfig(**kwargs)
    assert words in str(info.value)


def test_positions_shape_checked():
    with pytest.raises(ValueError, match="user_positions_m"):
        m.scenario_from_positions(m.BlockAllocationConfig(num_users=2), np.zeros((3, 2)))
