"""The info contract (ARCHITECTURE "Public contract"): six keys, the same key set at reset and
at every step, scalar types, and the reward tied to the objective."""

import math

import gymnasium as gym
import numpy as np

CONTRACT = {
    "objective": float,
    "objective_name": str,
    "objective_unit": str,
    "objective_sense": str,
    "feasible": bool,
    "constraint_violation": float,
}


def check_contract(info: dict, where: str) -> None:
    for key, kind in CONTRACT.items():
        assert key in info, f"{where}: missing {key!r}"
        assert type(info[key]) is kind, f"{where}: {key} is {type(info[key]).__name__}"
    assert info["objective_sense"] in ("max", "min"), where
    assert info["objective_name"] and info["objective_unit"], where
    assert math.isfinite(info["objective"]), where
    assert math.isfinite(info["constraint_violation"]), where
    assert info["constraint_violation"] >= 0.0, where
    for key, value in info.items():
        assert value is not None, f"{where}: {key} is None"
        if isinstance(value, np.ndarray):
            assert value.ndim <= 1 and np.all(np.isfinite(value)), f"{where}: {key}"


def test_info_contract_single(make_env, channel_mode):
    env = make_env(channel_mode=channel_mode, max_episode_steps=4)
    _, info = env.reset(seed=0)
    check_contract(info, "reset")
    keys, constants = set(info), {k: info[k] for k in CONTRACT if k.startswith("objective_")}
    env.action_space.seed(0)
    for t in range(10):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        check_contract(info, f"step {t}")
        assert set(info) == keys, f"step {t}: key set differs from reset"
        assert {k: info[k] for k in constants} == constants
        assert isinstance(reward, float) and math.isfinite(reward)
        if terminated or truncated:
            _, info = env.reset()
            assert set(info) == keys


def test_reward_follows_objective(make_env, variant):
    """Sorting steps by reward sorts them by the objective in its sense (the reward is the
    objective rescaled, minus a penalty that is zero when feasible)."""
    env = make_env(channel_mode="static", **variant)
    env.reset(seed=1)
    env.action_space.seed(1)
    pairs = []
    for _ in range(12):
        _, reward, _, _, info = env.step(env.action_space.sample())
        if info["feasible"]:
            sign = 1.0 if info["objective_sense"] == "max" else -1.0
            pairs.append((reward, sign * info["objective"]))
    assert len(pairs) >= 2
    rewards, objectives = np.array(pairs).T
    assert len(set(objectives)) > 1, "the objective does not depend on the action"
    np.testing.assert_array_equal(
        np.argsort(rewards, kind="stable"), np.argsort(objectives, kind="stable")
    )


def test_info_contract_vector(env_id, small_kwargs):
    env = gym.make_vec(
        env_id,
        num_envs=3,
        vectorization_mode="vector_entry_point",
        max_episode_steps=2,
        **small_kwargs,
    )
    _, info = env.reset(seed=0)
    keys = set(info)
    for key in CONTRACT:
        assert key in info and f"_{key}" in info
        assert len(info[key]) == 3 and info[f"_{key}"].all()
    assert set(info["objective_sense"]) <= {"max", "min"}
    assert info["feasible"].dtype == bool and np.all(info["constraint_violation"] >= 0)
    env.action_space.seed(0)
    for t in range(5):
        *_, info = env.step(env.action_space.sample())
        assert set(info) == keys, f"step {t}"
        assert np.all(np.isfinite(info["objective"]))
