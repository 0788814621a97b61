"""``BlockAllocation-v0`` with ``action_mode="sequential"`` (one block per step): the
checkers, the telescoping reward, the action mask against brute-force reachability, the
redirect of disallowed actions, the encode path of the solvers, seeding, and the native
batched env against ``SyncVectorEnv``."""

import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import baselines
from irs_gym.models import block_allocation as m

ENV_ID = "irs_gym/BlockAllocation-v0"
SMALL = dict(num_users=4, block_size=50)  # n_b = 3
A_CASES = [None, 1, 2, 3]


def make(**kwargs):
    return gym.make(ENV_ID, action_mode="sequential", **{**SMALL, **kwargs})


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"assisted_users": 2}, {"block_size": 150}, {"num_users": 6, "block_size": 25}],
)
def test_checkers_silent(kwargs):
    env = make(**kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env, warn=True)
    assert [str(w.message) for w in caught] == []
    assert env.action_space == gym.spaces.Discrete(kwargs.get("num_users", 4))


def test_default_registered_config_passes_checkers():
    env = gym.make(ENV_ID, action_mode="sequential")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env, warn=True)
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize("A", A_CASES)
def test_total_reward_is_the_final_saving(A):
    env = make(assisted_users=A)
    rng = np.random.default_rng(0)
    for episode in range(15):
        _, info = env.reset(seed=episode)
        assert info["objective"] == 0.0 and info["used_blocks"] == 0
        total, steps, terminated = 0.0, 0, False
        while not terminated:
            _, reward, terminated, truncated, info = env.step(rng.integers(0, 4))
            assert not truncated
            total += reward
            steps += 1
        assert steps == 3 and info["used_blocks"] == 3 and info["feasible"]
        u = env.unwrapped
        final = m.metrics(u.config, u.scenario, m.BlockAllocationDecision(u.blocks))
        assert info["objective"] == final["objective"]
        np.testing.assert_allclose(total, final["objective"] / 100, rtol=1e-12, atol=1e-15)


def completions_exist(blocks, n_b, A):
    """Brute force: some feasible final allocation is reachable by adding blocks."""
    K = len(blocks)
    for final in itertools.product(range(n_b + 1), repeat=K):
        if any(f < b for f, b in zip(final, blocks, strict=True)):
            continue
        if A is None and sum(final) <= n_b and sum(final) >= sum(blocks):
            return True
        if A is not None and sum(final) == n_b and sum(f > 0 for f in final) == A:
            return True
    return False


@pytest.mark.parametrize("A", A_CASES)
def test_mask_is_exactly_the_steps_that_keep_the_episode_feasible(A):
    """A user is allowed iff one more block for it can still be completed into a feasible
    allocation (brute force), over every reachable state."""
    env = make(assisted_users=A)
    env.reset(seed=0)
    task = env.unwrapped.task
    for state in itertools.product(range(4), repeat=4):
        x = np.array(state)
        if x.sum() > 3 or not completions_exist(x, 3, A):
            continue
        mask = task.action_mask(x)
        for k in range(4):
            step = x + (np.arange(4) == k)
            expected = x.sum() < 3 and completions_exist(step, 3, A)
            assert mask[k] == expected, (state, k)


def test_disallowed_action_goes_to_the_next_allowed_user():
    env = make(assisted_users=2)
    env.reset(seed=1)
    u = env.unwrapped
    env.step(1)
    env.step(3)  # two users assisted, one block left: only users 1 and 3 are allowed
    np.testing.assert_array_equal(env.unwrapped.action_masks(), [False, True, False, True])
    np.testing.assert_array_equal(u.decode(0).blocks, [0, 2, 0, 1])  # 0 -> 1
    np.testing.assert_array_equal(u.decode(2).blocks, [0, 1, 0, 2])  # 2 -> 3
    *_, terminated, _, info = env.step(2)
    assert terminated and info["feasible"]
    np.testing.assert_array_equal(info["blocks"], [0, 1, 0, 2])
    assert not u.action_masks().any()
    for after_the_end in (env.step, u.decode):
        with pytest.raises(gym.error.ResetNeeded):
            after_the_end(0)


@pytest.mark.parametrize("A", A_CASES)
def test_solver_decisions_replayed_through_encode(A):
    """Stepping encode(solution.decision) n_b times from reset rebuilds the allocation and
    its objective, for every solver (so ``as_policy`` drives the sequential env too)."""
    env = make(assisted_users=A)
    u = env.unwrapped
    for seed in (0, 1):
        for solver in baselines.for_env(ENV_ID, config=u.config).values():
            env.reset(seed=seed)
            sol = solver.solve(u.scenario, u.config)
            terminated = False
            while not terminated:
                action = u.encode(sol.decision)
                assert action in env.action_space and u.action_masks()[action]
                *_, terminated, _, info = env.step(action)
            np.testing.assert_array_equal(u.blocks, sol.decision.blocks)
            np.testing.assert_allclose(info["objective"], sol.objective, rtol=1e-12)


def test_as_policy_reaches_the_dp_optimum():
    env = make(assisted_users=2)
    policy = baselines.as_policy(baselines.for_env(ENV_ID, config=env.unwrapped.config)["dp"], env)
    obs, _ = env.reset(seed=3)
    total, terminated = 0.0, False
    while not terminated:
        action, _ = policy.predict(obs)
        obs, reward, terminated, _, _ = env.step(action)
        total += reward
    np.testing.assert_allclose(100 * total, policy.last_solutions[0].objective, rtol=1e-12)


def test_observation_tracks_the_allocation():
    env = make()
    obs, _ = env.reset(seed=2)
    u = env.unwrapped
    D = m.observation_size(u.config)
    assert obs.shape == (D + 3 * 4 + 1,) and obs in env.observation_space
    np.testing.assert_allclose(obs[-1], 1.0)
    obs, *_ = env.step(2)
    np.testing.assert_allclose(obs[D : D + 4], [0, 0, 1 / 3, 0], rtol=1e-6)
    table = m.saving_table(u.config, u.scenario)
    gain = table[np.arange(4), [1, 1, 2, 1]] - table[np.arange(4), [0, 0, 1, 0]]
    np.testing.assert_allclose(obs[D + 4 : D + 8], gain, rtol=1e-5)
    np.testing.assert_array_equal(obs[D + 8 : D + 12], 1.0)
    np.testing.assert_allclose(obs[-1], 2 / 3, rtol=1e-6)


def test_seeding_and_bad_actions():
    a, b = make(), make()
    oa, _ = a.reset(seed=5)
    ob, _ = b.reset(seed=5)
    np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(a.reset(seed=6)[0], oa)
    for bad in (np.nan, 1.5, -1, 4, np.array([0, 1])):
        with pytest.raises(ValueError):
            a.step(bad)
    a.step(np.int64(0))  # the env survives rejected actions


def test_sequential_mode_options():
    with pytest.raises(ValueError, match="channel_mode"):
        make(channel_mode="iid")
    assert make().unwrapped.task.channel_mode == "static"
    box = gym.make(ENV_ID, **SMALL)
    box.reset(seed=0)
    with pytest.raises(ValueError, match="action_mode='sequential'"):
        box.unwrapped.action_masks()


@pytest.mark.parametrize("A", [None, 2])
@pytest.mark.parametrize("limit", [None, 2])
def test_native_vector_matches_sync(A, limit):
    """Terminations after n_b = 3 steps (or truncations at a limit of 2), NEXT_STEP autoreset,
    rewards, observations, infos and masks equal SyncVectorEnv's step for step."""
    kwargs = dict(action_mode="sequential", assisted_users=A, **SMALL)
    native = gym.make_vec(
        ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", max_episode_steps=limit,
        **kwargs,
    )  # fmt: skip
    sync = gym.make_vec(
        ENV_ID, num_envs=3, vectorization_mode="sync", max_episode_steps=limit, **kwargs
    )
    obs_n, info_n = native.reset(seed=11)
    obs_s, info_s = sync.reset(seed=11)
    np.testing.assert_array_equal(obs_n, obs_s)
    assert sorted(info_n) == sorted(info_s)
    for key, value in info_s.items():
        np.testing.assert_array_equal(info_n[key], value, err_msg=f"reset {key}")
    rng = np.random.default_rng(0)
    ends = 0
    for t in range(14):
        masks = native.unwrapped.action_masks()
        np.testing.assert_array_equal(masks, np.stack(sync.call("action_masks")))
        action = rng.integers(0, 4, 3)
        out_n, out_s = native.step(action), sync.step(action)
        for name, x, y in zip(
            ("obs", "reward", "term", "trunc"), out_n[:4], out_s[:4], strict=True
        ):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-15, err_msg=f"{name} step {t}")
        assert sorted(out_n[4]) == sorted(out_s[4])
        for key, value in out_s[4].items():
            np.testing.assert_array_equal(out_n[4][key], value, err_msg=f"{key} step {t}")
        ends += int(np.sum(out_n[2] | out_n[3]))
    assert ends >= 3


def test_maskable_ppo_trains_a_few_steps():
    import sb3_contrib

    env = make(assisted_users=2)
    model = sb3_contrib.MaskablePPO("MlpPolicy", env, n_steps=32, batch_size=16, seed=0)
    model.learn(64)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[int(action)]


@pytest.mark.parametrize("A", [None, 2])
def test_same_step_autoreset_equals_next_step(A):
    """SAME_STEP: the ending step returns the next episode's first observation, with the last
    one in ``final_obs``; rewards and terminations equal NEXT_STEP's."""
    kw = dict(
        num_envs=2, vectorization_mode="vector_entry_point", action_mode="sequential",
        assisted_users=A, **SMALL,
    )  # fmt: skip
    nxt = gym.make_vec(ENV_ID, **kw)
    same = gym.make_vec(ENV_ID, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP, **kw)
    nxt.reset(seed=4)
    same.reset(seed=4)
    actions = np.random.default_rng(0).integers(0, 4, (3, 2))
    for t, a in enumerate(actions):
        o1, r1, te1, _, i1 = nxt.step(a)
        o2, r2, te2, _, i2 = same.step(a)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(te1, te2)
        if t < 2:
            np.testing.assert_array_equal(o1, o2)
    assert te2.all() and i2["_final_obs"].all()
    np.testing.assert_array_equal(np.stack(i2["final_obs"]), o1)
    assert i2["final_info"][0]["objective"] == i1["objective"][0] > 0
    np.testing.assert_array_equal(i2["used_blocks"], 0.0)  # already the next episode
    o_next, r_next, *_ = nxt.step(actions[0])  # NEXT_STEP resets now
    np.testing.assert_array_equal(o_next, o2)
    np.testing.assert_array_equal(r_next, 0.0)


def test_sb3_batched_vec_env_equals_dummy_in_sequential_mode():
    from agents.factory import make_vec

    kwargs = {**SMALL, "action_mode": "sequential", "assisted_users": 2}
    dummy = make_vec(ENV_ID, 3, seed=7, env_kwargs=kwargs, vec="dummy")
    batched = make_vec(ENV_ID, 3, seed=7, env_kwargs=kwargs, vec="batched")
    np.testing.assert_array_equal(dummy.reset(), batched.reset())
    rng = np.random.default_rng(1)
    episodes = 0
    for _ in range(10):
        a = rng.integers(0, 4, 3)
        (oa, ra, da, ia), (ob, rb, db, ib) = dummy.step(a), batched.step(a)
        np.testing.assert_allclose(ob, oa, rtol=1e-6)
        np.testing.assert_allclose(rb, ra, rtol=1e-6)
        np.testing.assert_array_equal(db, da)
        for x, y in zip(ia, ib, strict=True):
            assert x["objective"] == pytest.approx(y["objective"])
            if "terminal_observation" in x:
                episodes += 1
                np.testing.assert_allclose(y["terminal_observation"], x["terminal_observation"])
                assert x["episode"]["r"] == pytest.approx(y["episode"]["r"], abs=1e-6)
                assert x["episode"]["l"] == y["episode"]["l"] == 3
    assert episodes == 9  # 3 envs x 3 episodes of n_b = 3 steps
