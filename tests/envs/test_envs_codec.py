"""The codec and the contract with the solvers (ARCHITECTURE "Public contract"): every action
decodes to a feasible decision, ``decode(encode(d))`` reproduces ``d``, and scoring
``encode(solution.decision)`` in the env gives ``solution.objective``."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import baselines
from baselines.core import reference_solver

RTOL = 1e-6  # the action is float32, so a round trip is exact to ~1e-7
NO_DECISION = ("infeasible", "not_applicable", "solver_error")


def decision_arrays(decision) -> dict[str, np.ndarray]:
    return {f.name: np.asarray(getattr(decision, f.name)) for f in dataclasses.fields(decision)}


def test_decoded_actions_are_feasible_and_round_trip(make_env, variant):
    """The beam action (``phase_action="beams"``) encodes by a least-squares projection onto
    its family, so there only feasibility is checked; its own tests cover the projection."""
    # static mode: the scenario stays fixed, so consecutive steps score the same channel
    exact = variant.get("phase_action") != "beams"
    env = make_env(channel_mode="static", **variant)
    u = env.unwrapped
    env.reset(seed=3)
    space = env.action_space
    space.seed(3)
    extremes = [np.zeros(space.shape), np.full(space.shape, -1.0), np.full(space.shape, 1.0)]
    actions = [space.sample() for _ in range(20)]
    if isinstance(space, gym.spaces.Box):
        actions += [a.astype(space.dtype) for a in extremes]
    for i, action in enumerate(actions):
        decision = u.decode(action)
        encoded = u.encode(decision)
        assert encoded in space, f"action {i}: encode() left the action space"
        again = u.decode(encoded)
        if exact:
            for name, value in decision_arrays(decision).items():
                scale = max(np.abs(value).max(), 1e-300)
                np.testing.assert_allclose(
                    decision_arrays(again)[name], value, rtol=0, atol=RTOL * scale, err_msg=name
                )
        _, _, _, _, info = env.step(action)
        assert info["feasible"] and info["constraint_violation"] <= 1e-6, f"action {i}"
        _, _, _, _, info_again = env.step(encoded)
        assert info_again["feasible"], f"action {i}"
        if not exact:
            continue
        np.testing.assert_allclose(
            info_again["objective"], info["objective"], rtol=RTOL, err_msg=f"action {i}"
        )


def test_decode_is_pure(make_env, variant):
    """decode() neither consumes randomness nor changes the env's state."""
    env = make_env(channel_mode="iid", **variant)
    env.reset(seed=4)
    action = env.action_space.sample()
    state = env.unwrapped.np_random.bit_generator.state
    first = decision_arrays(env.unwrapped.decode(action))
    second = decision_arrays(env.unwrapped.decode(action))
    assert env.unwrapped.np_random.bit_generator.state == state
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_solver_objective_matches_env(make_env, env_id, solver_variant):
    env = make_env(**solver_variant)
    u = env.unwrapped
    solvers = baselines.for_env(env_id, config=u.config)
    assert solvers, "no solver registered"
    for seed in (0, 1):
        env.reset(seed=seed)
        for name, solver in solvers.items():
            sol = solver.solve(u.scenario, u.config, rng=np.random.default_rng(seed))
            assert sol.status in baselines.STATUSES
            if sol.decision is None:  # e.g. ZF with K > rank: a status, never an exception
                assert sol.status in NO_DECISION and solver.role != "reference", name
                continue
            action = u.encode(sol.decision)
            assert action in env.action_space, name
            _, _, _, _, info = env.step(action)
            assert info["feasible"], name
            np.testing.assert_allclose(info["objective"], sol.objective, rtol=RTOL, err_msg=name)


def test_exactly_one_reference_for_default_config(env_id):
    assert_one_reference(env_id, gym.make(env_id).unwrapped.config)


def test_exactly_one_reference_per_variant(make_env, env_id, solver_variant):
    assert_one_reference(env_id, make_env(**solver_variant).unwrapped.config)


def assert_one_reference(env_id, config):
    solvers = baselines.for_env(env_id, config=config)
    assert [s.role for s in solvers.values()].count("reference") == 1
    assert all(s.role in baselines.ROLES for s in solvers.values())
    name, solver = reference_solver(solvers)
    assert solvers[name] is solver and solver.name == name


@pytest.mark.parametrize(
    "kwargs", [{"precoder": "mmse"}, {"phase_levels": 4, "phase_action": "discrete"}]
)
def test_phase_only_actions_keep_solver_phases(kwargs):
    """With the MMSE precoder (the W part is not in the action) a solver's W cannot be encoded;
    its phases still round-trip, and the env scores them with the MMSE precoder."""
    env = gym.make(
        "irs_gym/MultiIRSDownlink-v0",
        num_bs_antennas=4,
        num_elements=4,
        num_irs=1,
        num_users=2,
        **kwargs,
    )
    u = env.unwrapped
    env.reset(seed=0)
    for solver in baselines.for_env("irs_gym/MultiIRSDownlink-v0", config=u.config).values():
        sol = solver.solve(u.scenario, u.config)
        theta = u.decode(u.encode(sol.decision)).theta
        np.testing.assert_allclose(theta, sol.decision.theta, rtol=0, atol=1e-6)
