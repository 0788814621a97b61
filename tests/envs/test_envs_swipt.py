"""What the generic conformance tests do not cover for ``irs_gym/SwiptMassiveMIMO-v0``: the
masked-softmax power codec, the SE penalty in the reward, ``control="phases"`` (the LP of spec
7.1), ``evaluation="monte_carlo"`` and ``phase_action="beams"``."""

import gymnasium as gym
import numpy as np
import pytest
from test_envs_vector import assert_native_matches_sync

import irs_gym  # noqa: F401
from irs_gym.models import swipt as m

ENV_ID = "irs_gym/SwiptMassiveMIMO-v0"
SMALL = dict(num_bs_antennas=8, num_elements=4, num_info_users=2, num_energy_users=2)


def test_power_codec_budget_off_entries_and_round_trip():
    env = gym.make(ENV_ID, **SMALL, channel_mode="static")
    env.reset(seed=0)
    u = env.unwrapped
    N, n = 4, 2 + 2 + 1
    action = np.zeros(N + n, dtype=np.float32)
    action[N:] = [0.5, 0.0, -1.0, 1.0, -1.0]  # EU stream 0 and the slack switched off
    d = u.decode(action)
    assert d.eta_energy[0] == 0.0 and d.eta.sum() == pytest.approx(1.0)
    w = np.exp(8.0 * np.array([0.5, 0.0, 1.0]))
    np.testing.assert_allclose(d.eta[[0, 1, 3]], w / w.sum(), rtol=1e-12)
    # all off = all on (equal split with the slack)
    action[N:] = -1.0
    np.testing.assert_allclose(u.decode(action).eta, 1 / n, rtol=1e-12)
    # exact zeros and a 1e-6 ratio survive the round trip
    eta = np.array([0.3, 0.0, 0.7 * (1 - 1e-6), 0.7e-6])
    theta = np.exp(1j * np.array([0.1, -3.0, 2.0, 3.1]))
    again = u.decode(u.encode(m.decision_from_eta(theta, eta, 2)))
    np.testing.assert_allclose(again.eta, eta, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(again.theta, theta, atol=1e-6)


def test_reward_is_objective_minus_se_penalty():
    env = gym.make(ENV_ID, **SMALL, se_target_bps_hz=3.0, constraint_penalty=7.0)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    seen_infeasible = False
    for _ in range(10):
        _, reward, _, _, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        shortfall = np.maximum(3.0 - info["se_bps_hz"], 0).sum()
        assert info["constraint_violation"] == pytest.approx(shortfall)
        assert info["feasible"] == (shortfall <= m.FEASIBILITY_TOL)
        assert reward == pytest.approx(info["objective"] - 7.0 * shortfall)
        seen_infeasible |= not info["feasible"]
    assert seen_infeasible


def test_phase_control_uses_the_optimal_powers():
    env = gym.make(ENV_ID, **SMALL, control="phases", se_target_bps_hz=1.0)
    env.reset(seed=2)
    u = env.unwrapped
    assert env.action_space.shape == (4,)
    action = np.array([0.3, -0.2, 0.9, -0.7], dtype=np.float32)
    d = u.decode(action)
    eta, ok = m.optimal_power(u.config, m.statistics(u.config, u.scenario), d.theta)
    assert ok
    np.testing.assert_allclose(d.eta, eta)
    _, _, _, _, info = env.step(action)
    assert info["feasible"]
    # no other split of the budget that meets the targets does better for these phases
    joint = gym.make(ENV_ID, **SMALL, se_target_bps_hz=1.0, channel_mode="static")
    joint.reset(seed=2)
    rng = np.random.default_rng(1)
    for _ in range(30):
        logits = rng.uniform(-1, 1, 5)
        _, _, _, _, other = joint.step(np.concatenate([action, logits]).astype(np.float32))
        if other["feasible"]:
            assert other["objective"] <= info["objective"] * (1 + 1e-9)


def test_monte_carlo_evaluation_agrees_with_the_closed_form():
    kw = dict(SMALL, exact_cross_corr=True, channel_mode="static")
    closed = gym.make(ENV_ID, **kw)
    sampled = gym.make(ENV_ID, **kw, evaluation="monte_carlo", mc_samples=20_000)
    closed.reset(seed=3)
    sampled.reset(seed=3)
    action = np.linspace(-1, 1, closed.action_space.shape[0]).astype(np.float32)
    _, _, _, _, a = closed.step(action)
    _, _, _, _, b = sampled.step(action)
    np.testing.assert_allclose(b["q_bar_j"], a["q_bar_j"], rtol=0.02)
    np.testing.assert_allclose(b["se_bps_hz"], a["se_bps_hz"], rtol=0.02)
    _, _, _, _, b2 = sampled.step(action)  # same realisation, same draws
    assert b2["objective"] == b["objective"]


@pytest.mark.parametrize("control", ["joint", "phases"])
def test_beam_action_space_and_native_vector_env(control):
    """2 K_E beam weights replace the N phases; the batched env matches single envs."""
    kwargs = dict(SMALL, se_target_bps_hz=0.0, phase_action="beams", control=control)
    env = gym.make(ENV_ID, **kwargs)
    extra = 0 if control == "phases" else 2 + 2 + 1
    assert env.action_space.shape == (2 * 2 + extra,)
    assert_native_matches_sync(ENV_ID, 2, channel_mode="static", **kwargs)


def test_one_beam_is_the_coherent_phase_optimum():
    """With K_E = 1, theta = exp(j arg b_1): |z_1| = |theta^H b_1| reaches its maximum
    sum_n |b_1n| (no unit-modulus theta does better: triangle inequality), for any weight."""
    env = gym.make(ENV_ID, **{**SMALL, "num_energy_users": 1}, phase_action="beams")
    env.reset(seed=5)
    u = env.unwrapped
    b = m.statistics(u.config, u.scenario).b[0]
    rng = np.random.default_rng(0)
    for a in rng.uniform(-0.99, 1, (5, env.action_space.shape[0])).astype(np.float32):
        z = m.reflect(u.decode(a).theta, b[None])[0]
        np.testing.assert_allclose(abs(z), np.abs(b).sum(), rtol=1e-12)
    random_phases = np.exp(2j * np.pi * rng.random((100, b.size)))
    assert np.all(np.abs(m.reflect(random_phases, b[None])[..., 0]) < np.abs(b).sum())


def test_beam_decode_and_encode_follow_their_formulas():
    """decode: theta = exp(j arg sum_l w_l b_l / ||b_l||) computed here element by element;
    encode: the least-squares weights of the decision's theta (numpy's lstsq), scaled so that
    the largest magnitude is 1."""
    env = gym.make(ENV_ID, **{**SMALL, "num_elements": 9}, phase_action="beams", control="phases")
    env.reset(seed=6)
    u = env.unwrapped
    b = m.statistics(u.config, u.scenario).b  # [2, 9]
    a = np.array([0.5, -0.2, 0.3, -0.9], dtype=np.float32)
    w = 0.5 * (1 + a[:2].astype(float)) * np.exp(1j * np.pi * a[2:].astype(float))
    theta = np.array(
        [
            np.exp(1j * np.angle(sum(w[l] * b[l, n] / np.linalg.norm(b[l]) for l in range(2))))
            for n in range(9)
        ]
    )
    decision = u.decode(a)
    np.testing.assert_allclose(decision.theta, theta, rtol=0, atol=1e-6)
    target = np.exp(1j * np.random.default_rng(1).uniform(0, 2 * np.pi, 9))
    U = b / np.linalg.norm(b, axis=-1, keepdims=True)
    w_ls = np.linalg.lstsq(U.T, target, rcond=None)[0]
    w_ls /= np.abs(w_ls).max()
    code = u.encode(m.decision_from_eta(target, decision.eta, 2)).astype(float)
    np.testing.assert_allclose(
        0.5 * (1 + code[:2]) * np.exp(1j * np.pi * code[2:]), w_ls, atol=1e-6
    )


def test_beam_encode_needs_a_realisation():
    env = gym.make(ENV_ID, **SMALL, phase_action="beams")
    env.reset(seed=0)
    decision = env.unwrapped.decode(np.zeros(env.action_space.shape, np.float32))
    fresh = gym.make(ENV_ID, **SMALL, phase_action="beams").unwrapped
    with pytest.raises(ValueError, match="phase_action='beams'"):
        fresh.encode(decision)


def test_beam_observation_ends_with_the_beam_overlaps():
    """phase_action="beams" appends Re, then Im, of u_i^H u_j (i < j, u_l = b_l / ||b_l||),
    here summed element by element; the model's features come first, unchanged."""
    kwargs = {**SMALL, "num_energy_users": 3, "num_elements": 9}
    plain = gym.make(ENV_ID, **kwargs)
    env = gym.make(ENV_ID, **kwargs, phase_action="beams")
    obs, _ = env.reset(seed=4)
    plain_obs, _ = plain.reset(seed=4)
    assert env.observation_space.shape == (plain.observation_space.shape[0] + 6,)
    np.testing.assert_array_equal(obs[: plain_obs.size], plain_obs)
    b = m.statistics(env.unwrapped.config, env.unwrapped.scenario).b
    u = b / np.linalg.norm(b, axis=-1, keepdims=True)
    pairs = [(0, 1), (0, 2), (1, 2)]
    overlaps = [sum(np.conj(u[i, n]) * u[j, n] for n in range(9)) for i, j in pairs]
    expected = [z.real for z in overlaps] + [z.imag for z in overlaps]
    np.testing.assert_allclose(obs[plain_obs.size :], expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("control", ["joint", "phases"])
def test_gain_order_is_the_index_order_with_the_eus_relabelled(control):
    """eu_order="gain": slot s is the EU with the s-th largest varsigma. The observation's EU
    rows and beam overlaps are those of the index-order env with the EUs relabelled, and an
    action decodes to the decision of the index-order env on the action whose per-EU entries
    (beam weights, EU power logits) are moved back to the EUs' own indices."""
    L = 3
    kwargs = {**SMALL, "num_energy_users": L, "num_elements": 9, "phase_action": "beams"}
    plain = gym.make(ENV_ID, **kwargs, control=control)
    env = gym.make(ENV_ID, **kwargs, control=control, eu_order="gain")
    obs, _ = env.reset(seed=1)  # order (2, 0, 1): no slot keeps its EU
    plain_obs, _ = plain.reset(seed=1)
    varsigma = env.unwrapped.scenario.varsigma
    order = np.argsort(-varsigma)
    assert len(set(varsigma.tolist())) == L and not np.array_equal(order, np.arange(L))
    eu, plain_eu = obs[: 6 * L].reshape(L, 6), plain_obs[: 6 * L].reshape(L, 6)
    np.testing.assert_array_equal(eu, plain_eu[order])
    assert np.all(np.diff(eu[:, 4]) < 0)  # log10 varsigma, strongest first
    np.testing.assert_array_equal(obs[6 * L : 6 * L + 4], plain_obs[6 * L : 6 * L + 4])
    b = m.statistics(env.unwrapped.config, env.unwrapped.scenario).b[order]
    u = b / np.linalg.norm(b, axis=-1, keepdims=True)
    pairs = [(0, 1), (0, 2), (1, 2)]
    overlaps = [np.vdot(u[i], u[j]) for i, j in pairs]
    expected = [z.real for z in overlaps] + [z.imag for z in overlaps]
    np.testing.assert_allclose(obs[6 * L + 4 :], expected, rtol=0, atol=1e-6)

    a = np.random.default_rng(2).uniform(-0.9, 1, env.action_space.shape).astype(np.float32)
    relabelled = a.copy()
    relabelled[order], relabelled[L + order] = a[:L], a[L : 2 * L]
    if control == "joint":
        eu_logits = slice(2 * L + 2, 3 * L + 2)  # after the beam weights and K_I = 2 IU logits
        relabelled[eu_logits][order] = a[eu_logits]
    got, want = env.unwrapped.decode(a), plain.unwrapped.decode(relabelled)
    np.testing.assert_allclose(got.theta, want.theta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.eta, want.eta, rtol=0, atol=1e-12)
    if control == "joint":
        assert not np.allclose(got.eta_energy, got.eta_energy[0])  # the relabelling showed
        code = env.unwrapped.encode(got)
        np.testing.assert_allclose(env.unwrapped.decode(code).eta, got.eta, atol=1e-6)


def test_gain_order_with_joint_control_encodes_on_a_realisation():
    env = gym.make(ENV_ID, **SMALL, eu_order="gain")
    env.reset(seed=0)
    decision = env.unwrapped.decode(np.zeros(env.action_space.shape, np.float32))
    fresh = gym.make(ENV_ID, **SMALL, eu_order="gain").unwrapped
    with pytest.raises(ValueError, match="eu_order='gain'"):
        fresh.encode(decision)
