"""The native batched env matches Gymnasium's SyncVectorEnv of single envs step for step
(STYLE ex. 10), including the truncation at ``max_episode_steps`` and the NEXT_STEP autoreset.

``gym.make_vec(id, max_episode_steps=T, ...)`` forwards ``T`` to ``gym.make`` in sync mode (a
``TimeLimit`` per sub-env) and to the vector entry point's constructor in vector mode, which
truncates by itself. Equality alone would not show that either applied the limit, so the
truncation pattern is asserted explicitly as well.
"""

import gymnasium as gym
import numpy as np
import pytest

LIMIT = 3
STEPS = 12  # truncations at steps 3, 7, 11; autoresets at steps 4, 8, 12


def make_pair(env_id, num_envs, **kwargs):
    native = gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        max_episode_steps=LIMIT,
        **kwargs,
    )
    sync = gym.make_vec(
        env_id, num_envs=num_envs, vectorization_mode="sync", max_episode_steps=LIMIT, **kwargs
    )
    return native, sync


def assert_info_equal(native: dict, sync: dict, where: str) -> None:
    assert sorted(native) == sorted(sync), where
    for key, value in sync.items():
        got = native[key]
        if np.asarray(value).dtype.kind in "fc":
            np.testing.assert_allclose(got, value, rtol=1e-12, atol=0, err_msg=f"{where} {key}")
        else:
            np.testing.assert_array_equal(got, value, err_msg=f"{where} {key}")


def assert_native_matches_sync(env_id, num_envs, **kwargs):
    native, sync = make_pair(env_id, num_envs, **kwargs)
    assert type(native).__name__ != "SyncVectorEnv" and type(sync).__name__ == "SyncVectorEnv"
    assert native.single_action_space == sync.single_action_space
    assert native.single_observation_space == sync.single_observation_space
    obs_n, info_n = native.reset(seed=42)
    obs_s, info_s = sync.reset(seed=42)
    np.testing.assert_allclose(obs_n, obs_s, rtol=1e-12, atol=0)
    assert_info_equal(info_n, info_s, "reset")
    native.action_space.seed(0)
    truncated_at = []
    for t in range(1, STEPS + 1):
        action = native.action_space.sample()
        obs_n, rew_n, term_n, trunc_n, info_n = native.step(action)
        obs_s, rew_s, term_s, trunc_s, info_s = sync.step(action)
        where = f"step {t}"
        np.testing.assert_allclose(obs_n, obs_s, rtol=1e-12, atol=0, err_msg=where)
        np.testing.assert_allclose(rew_n, rew_s, rtol=1e-12, atol=0, err_msg=where)
        np.testing.assert_array_equal(term_n, term_s, err_msg=where)
        np.testing.assert_array_equal(trunc_n, trunc_s, err_msg=where)
        assert_info_equal(info_n, info_s, where)
        if trunc_n.all():
            truncated_at.append(t)
        else:
            assert not trunc_n.any(), where
        if t - 1 in truncated_at:  # the autoreset step: reward 0, reset info
            np.testing.assert_array_equal(rew_n, 0.0, err_msg=where)
    assert truncated_at == [LIMIT, 2 * LIMIT + 1, 3 * LIMIT + 2], (
        "max_episode_steps not applied as expected"
    )
    assert not np.any(term_n)
    # an unseeded reset continues each sub-env's stream in both
    obs_n, info_n = native.reset()
    obs_s, info_s = sync.reset()
    np.testing.assert_allclose(obs_n, obs_s, rtol=1e-12, atol=0)
    assert_info_equal(info_n, info_s, "unseeded reset")
    # a list of per-sub-env seeds (None keeps that sub-env's stream)
    seeds = [7 if i % 2 else None for i in range(num_envs)]
    obs_n, info_n = native.reset(seed=seeds)
    obs_s, info_s = sync.reset(seed=seeds)
    np.testing.assert_allclose(obs_n, obs_s, rtol=1e-12, atol=0)
    assert_info_equal(info_n, info_s, "reset with a seed list")


@pytest.mark.parametrize("num_envs", [1, 3])
def test_native_matches_sync(env_id, small_kwargs, channel_mode, num_envs):
    assert_native_matches_sync(env_id, num_envs, channel_mode=channel_mode, **small_kwargs)


def test_native_matches_sync_variants(env_id, small_kwargs, variant):
    """Action-space variants (static mode, so the last action enters the observation)."""
    assert_native_matches_sync(env_id, 2, channel_mode="static", **{**small_kwargs, **variant})


def test_registered_limit_reaches_both_paths(env_id, small_kwargs):
    """Without an explicit limit both paths use the registered ``max_episode_steps``."""
    limit = gym.spec(env_id).max_episode_steps
    assert limit is not None
    native = gym.make_vec(
        env_id, num_envs=2, vectorization_mode="vector_entry_point", **small_kwargs
    )
    sync = gym.make_vec(env_id, num_envs=2, vectorization_mode="sync", **small_kwargs)
    assert native.unwrapped.max_episode_steps == limit
    assert all(e.spec.max_episode_steps == limit for e in sync.envs)


def test_default_make_vec_is_native(env_id, small_kwargs):
    env = gym.make_vec(env_id, num_envs=2, **small_kwargs)
    assert isinstance(env, gym.vector.VectorEnv) and type(env).__name__ != "SyncVectorEnv"
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP


@pytest.mark.parametrize("bad", [0, -1, 2.0])
def test_vector_rejects_bad_num_envs(env_id, small_kwargs, bad):
    with pytest.raises(ValueError, match="num_envs"):
        gym.make_vec(env_id, num_envs=bad, vectorization_mode="vector_entry_point", **small_kwargs)


def test_same_step_autoreset(env_id, small_kwargs):
    """SAME_STEP returns the reset observation at once, with the episode's last observation
    and info in ``final_obs`` / ``final_info``, equal to NEXT_STEP's ending step."""
    from gymnasium.vector import AutoresetMode

    kw = dict(num_envs=2, vectorization_mode="vector_entry_point", max_episode_steps=3)
    nxt = gym.make_vec(env_id, **kw, **small_kwargs)
    same = gym.make_vec(env_id, **kw, autoreset_mode=AutoresetMode.SAME_STEP, **small_kwargs)
    nxt.action_space.seed(0)
    actions = [nxt.action_space.sample() for _ in range(3)]
    nxt.reset(seed=5)
    same.reset(seed=5)
    for t, a in enumerate(actions):
        o1, r1, _, tr1, i1 = nxt.step(a)
        o2, r2, _, tr2, i2 = same.step(a)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(tr1, tr2)
        if t < 2:
            np.testing.assert_array_equal(o1, o2)
            assert "final_obs" not in i2
    assert tr2.all() and i2["_final_obs"].all()
    np.testing.assert_array_equal(np.stack(i2["final_obs"]), o1)
    assert i2["final_info"][1]["objective"] == i1["objective"][1]
    o_next, *_ = nxt.step(actions[0])  # NEXT_STEP resets now: the same fresh episode
    np.testing.assert_array_equal(o_next, o2)
    with pytest.raises(ValueError, match="autoreset_mode"):
        gym.make_vec(env_id, **kw, autoreset_mode="disabled", **small_kwargs)
