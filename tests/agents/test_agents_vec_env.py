"""The SB3 adapter over the native batched env gives DummyVecEnv's transitions."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO

import irs_gym
from agents.factory import make_agent, make_vec


def _rollout(vec_env, steps: int, seed: int):
    rng = np.random.default_rng(seed)
    out = [vec_env.reset()]
    for _ in range(steps):
        actions = np.stack([vec_env.action_space.sample() for _ in range(vec_env.num_envs)])
        if np.issubdtype(actions.dtype, np.floating):  # keep the rollout seed-independent
            actions = rng.uniform(-1, 1, actions.shape).astype(actions.dtype)
        out.append(vec_env.step(actions))
    return out


@pytest.mark.parametrize("env_id", sorted(irs_gym.ENV_IDS))
@pytest.mark.parametrize("channel_mode", ["iid", "static"])
def test_batched_equals_dummy(env_id, channel_mode, env_small_kwargs):
    """Two truncations per env (50 steps per episode): obs, rewards, dones, infos and the
    terminal observations agree."""
    kwargs = {**env_small_kwargs.get(env_id, {}), "channel_mode": channel_mode}
    dummy = make_vec(env_id, 3, seed=7, env_kwargs=kwargs, vec="dummy")
    batched = make_vec(env_id, 3, seed=7, env_kwargs=kwargs, vec="batched")
    for venv in (dummy, batched):
        venv.action_space.seed(0)
    a, b = _rollout(dummy, 110, 1), _rollout(batched, 110, 1)
    np.testing.assert_array_equal(a[0], b[0])
    dones_seen = 0
    for (oa, ra, da, ia), (ob, rb, db, ib) in zip(a[1:], b[1:], strict=True):
        np.testing.assert_allclose(ob, oa, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(rb, ra, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(db, da)
        for x, y in zip(ia, ib, strict=True):
            assert x.keys() - {"episode"} == y.keys() - {"episode"}
            assert x["objective"] == pytest.approx(y["objective"])
            if "terminal_observation" in x:
                dones_seen += 1
                np.testing.assert_allclose(
                    y["terminal_observation"], x["terminal_observation"], rtol=1e-6, atol=1e-7
                )
                assert x["TimeLimit.truncated"] == y["TimeLimit.truncated"]
                # Monitor rounds the return to 6 decimals, VecMonitor does not
                assert x["episode"]["r"] == pytest.approx(y["episode"]["r"], rel=1e-6, abs=1e-6)
                assert x["episode"]["l"] == y["episode"]["l"]
    assert dones_seen == 3 * 2


def test_make_agent_trains_on_the_batched_env(env_small_kwargs):
    env_id = "irs_gym/MultiIRSDownlink-v0"
    model, _ = make_agent(
        "ppo",
        env_id,
        n_envs=4,
        env_kwargs=env_small_kwargs[env_id],
        hyperparams={"n_steps": 16, "batch_size": 32, "n_epochs": 1},
        vec="batched",
    )
    assert isinstance(model, PPO)
    model.learn(128)
    assert model.num_timesteps == 128
    assert len(model.ep_info_buffer) == 0 or "r" in model.ep_info_buffer[0]


def test_unknown_vec_kind():
    with pytest.raises(ValueError, match="vec must be one of"):
        make_vec("irs_gym/MultiIRSDownlink-v0", 2, 0, vec="subproc")


def test_env_method_hands_each_sub_env_its_row():
    """``env_method`` splits the batched env's batch-first result (here the action masks
    sb3-contrib's MaskablePPO asks for) as DummyVecEnv's per-env calls give it."""
    kwargs = {"num_users": 4, "block_size": 50, "assisted_users": 2, "action_mode": "sequential"}
    env_id = "irs_gym/BlockAllocation-v0"
    dummy = make_vec(env_id, 3, seed=7, env_kwargs=kwargs, vec="dummy")
    batched = make_vec(env_id, 3, seed=7, env_kwargs=kwargs, vec="batched")
    for venv in (dummy, batched):
        venv.reset()
    for actions in ([0, 1, 2], [0, 0, 3]):  # the second makes the masks differ between envs
        a, b = dummy.env_method("action_masks"), batched.env_method("action_masks")
        assert len(a) == len(b) == 3
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(batched.env_method("action_masks", indices=[2])[0], a[2])
        for venv in (dummy, batched):
            venv.step(np.array(actions))
    masks = np.stack(batched.env_method("action_masks"))
    assert masks.shape == (3, 4) and not np.all(masks == masks[0])
    other = make_vec("irs_gym/MultiIRSDownlink-v0", 2, seed=0, vec="batched")
    other.reset()
    with pytest.raises(ValueError, match="needs a batch-first method"):
        other.env_method("decode", np.zeros((2, *other.action_space.shape), dtype=np.float32))
