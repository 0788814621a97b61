"""Behaviour cloning: the expert dataset, the imitation losses, train.py --bc-episodes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import baselines
from agents.envs import make_env
from agents.factory import make_agent
from agents.imitation import (
    BC_SEED,
    DEFAULT_EPOCHS,
    build_dataset,
    check_disjoint,
    dataset_path,
    imitation_loss,
    pretrain,
)

torch.set_num_threads(1)

ENV_ID = "irs_gym/MultiIRSDownlink-v0"
KW = {"num_bs_antennas": 4, "num_elements": 4, "num_irs": 1, "num_users": 2}
#: The PPO preset's beam-only observation and SNR user order need its beam action: with
#: another action the tests ask for the channel observation and the index order.
CHANNELS = {"observation": "channels", "user_order": "index"}
SMALL_NET = {"ppo": {"net_arch": {"pi": [32, 32], "vf": [32, 32]}}, "sac": {"net_arch": [32, 32]}}


@pytest.fixture
def env():
    e = make_env(ENV_ID, KW)
    yield e
    e.close()


@pytest.fixture
def dataset(env):
    return build_dataset(env, 12)


def _agent(algo: str, **hyper):
    net = SMALL_NET["ppo" if algo in ("ppo", "a2c") else "sac"]
    # precoder=None, phase_action="continuous", observation="channels" and user_order="index"
    # override the PPO preset's values: every agent acts in the dataset's env
    model, _ = make_agent(
        algo,
        ENV_ID,
        env_kwargs={**KW, "precoder": None, "phase_action": "continuous", **CHANNELS},
        n_envs=1,
        hyperparams={"policy_kwargs": net, **hyper},
    )
    return model


def test_dataset_actions_reproduce_the_reference_solutions(env, dataset, cache_dir):
    assert len(dataset) == 12 and dataset.dropped == 0
    np.testing.assert_array_equal(dataset.seeds, np.arange(BC_SEED, BC_SEED + 12))
    assert dataset.obs.shape == (12, *env.observation_space.shape)
    assert dataset.actions.shape == (12, *env.action_space.shape)
    assert dataset.obs.dtype == np.float32 and dataset.actions.dtype == np.float32
    _, solver = baselines.reference_solver(baselines.for_env(ENV_ID, config=env.unwrapped.config))
    assert dataset.solver == solver.name == "domalo"
    for i, seed in enumerate(dataset.seeds):
        obs, _ = env.reset(seed=int(seed))
        np.testing.assert_array_equal(dataset.obs[i], obs)
        sol = solver.solve(
            env.unwrapped.scenario, env.unwrapped.config, rng=np.random.default_rng(seed)
        )
        decision = env.unwrapped.decode(dataset.actions[i])
        np.testing.assert_allclose(decision.theta, sol.decision.theta, rtol=1e-6, atol=1e-6)
        _, _, _, _, info = env.step(dataset.actions[i])
        assert info["objective"] == pytest.approx(sol.objective, rel=1e-6)
        assert dataset.objectives[i] == pytest.approx(sol.objective, rel=1e-6)

    # the second build reads the cache entry (keyed in the isolated cache of this test)
    assert dataset_path(dataset.key).is_relative_to(cache_dir)
    again = build_dataset(env, 12)
    assert again.cached and not dataset.cached and again.key == dataset.key
    np.testing.assert_array_equal(again.obs, dataset.obs)
    np.testing.assert_array_equal(again.actions, dataset.actions)
    # other seeds are another entry
    assert build_dataset(env, 2, seed=BC_SEED + 100).key != dataset.key


def _gaussian_nll(mu: np.ndarray, log_std: np.ndarray, a: np.ndarray) -> float:
    """-log N(a; mu, exp(log_std)^2), summed over the action, averaged over the batch."""
    z = (a - mu) / np.exp(log_std)
    return float(np.mean(np.sum(0.5 * z**2 + log_std + 0.5 * math.log(2 * math.pi), axis=1)))


def test_ppo_loss_is_the_gaussian_nll_and_bc_reduces_it(dataset):
    model = _agent("ppo")
    mu = model.predict(dataset.obs, deterministic=True)[0]  # PPO's Gaussian mean, unclipped
    log_std = model.policy.log_std.detach().numpy()
    before = imitation_loss(model, dataset)
    assert before == pytest.approx(_gaussian_nll(mu, log_std, dataset.actions), rel=1e-5)

    history = pretrain(model, dataset, epochs=40, batch_size=4)
    assert len(history) == 40
    assert history[-1] < 0.8 * history[0]
    after = imitation_loss(model, dataset)
    mu_after = model.predict(dataset.obs, deterministic=True)[0]
    log_std_after = model.policy.log_std.detach().numpy()
    assert after == pytest.approx(_gaussian_nll(mu_after, log_std_after, dataset.actions), rel=1e-5)
    assert after < 0.8 * before
    # the mean action moved toward the expert's
    mse = [np.mean((m - dataset.actions) ** 2) for m in (mu, mu_after)]
    assert mse[1] < 0.2 * mse[0]


def test_multidiscrete_loss_is_the_cross_entropy():
    kw = {**KW, "phase_levels": 4, "precoder": "mmse", "phase_action": "discrete", **CHANNELS}
    env = make_env(ENV_ID, kw)
    data = build_dataset(env, 12)
    env.close()
    assert data.actions.dtype == np.int64 and data.actions.shape == (12, 4)
    net = SMALL_NET["ppo"]
    model, _ = make_agent(
        "ppo", ENV_ID, env_kwargs=kw, n_envs=1, hyperparams={"policy_kwargs": net}
    )

    def cross_entropy() -> float:
        obs = torch.as_tensor(data.obs)
        with torch.no_grad():
            cats = model.policy.get_distribution(obs).distribution  # one Categorical per element
        probs = np.stack([c.probs.numpy() for c in cats], axis=1)  # [N, M, Q]
        picked = np.take_along_axis(probs, data.actions[..., None], axis=2)[..., 0]
        return float(np.mean(-np.log(picked).sum(axis=1)))

    before = imitation_loss(model, data)
    assert before == pytest.approx(cross_entropy(), rel=1e-5)
    assert before == pytest.approx(4 * math.log(4), rel=1e-2)  # near-uniform at the start
    pretrain(model, data, epochs=40, batch_size=4)
    assert imitation_loss(model, data) == pytest.approx(cross_entropy(), rel=1e-5)
    assert imitation_loss(model, data) < 0.6 * before
    hits = np.mean(model.predict(data.obs, deterministic=True)[0] == data.actions)
    assert hits > 0.8  # the most likely phase level is the expert's for most elements


@pytest.mark.parametrize("algo", ["sac", "td3"])
def test_off_policy_bc_is_the_actor_mse(algo, dataset):
    model = _agent(algo)
    pred = model.predict(dataset.obs, deterministic=True)[0]  # SAC: tanh(mean)
    before = imitation_loss(model, dataset)
    assert before == pytest.approx(np.mean((pred - dataset.actions) ** 2), rel=1e-5)

    history = pretrain(model, dataset, epochs=40, batch_size=4)
    after_pred = model.predict(dataset.obs, deterministic=True)[0]
    after = float(np.mean((after_pred - dataset.actions) ** 2))
    assert history[-1] < 0.5 * history[0]
    assert after < 0.3 * before
    assert imitation_loss(model, dataset) == pytest.approx(after, rel=1e-5)
    if algo == "td3":  # the target actor starts as the cloned actor
        obs = torch.as_tensor(dataset.obs)
        with torch.no_grad():
            np.testing.assert_allclose(
                model.policy.actor_target(obs).numpy(), model.policy.actor(obs).numpy()
            )


def test_bc_goes_through_the_vecnormalize_statistics(dataset):
    model = _agent("ppo", normalize={"obs": True, "reward": False})
    vec_norm = model.get_vec_normalize_env()
    history = pretrain(model, dataset, epochs=3)
    assert history[-1] < history[0]
    # the running statistics start from the dataset (the initial count is 1e-4)
    np.testing.assert_allclose(vec_norm.obs_rms.mean, dataset.obs.mean(axis=0), atol=1e-4)
    np.testing.assert_allclose(vec_norm.obs_rms.var, dataset.obs.var(axis=0), rtol=1e-3)


def test_bad_input_is_refused(env, dataset):
    model = _agent("ppo")
    with pytest.raises(ValueError, match="epochs must be"):
        pretrain(model, dataset, epochs=0)
    with pytest.raises(ValueError, match="batch_size must be"):
        pretrain(model, dataset, batch_size=0)
    with pytest.raises(ValueError, match="lr must be"):
        pretrain(model, dataset, lr=-1.0)
    with pytest.raises(ValueError, match="episodes must be"):
        build_dataset(env, 0)
    other, _ = make_agent("ppo", ENV_ID, env_kwargs={**KW, "num_users": 3}, n_envs=1)
    with pytest.raises(ValueError, match="dataset observations have shape"):
        pretrain(other, dataset)
    sequential = make_env("irs_gym/BlockAllocation-v0", {"action_mode": "sequential"})
    with pytest.raises(ValueError, match="several steps per decision"):
        build_dataset(sequential, 2)


def test_check_disjoint():
    check_disjoint(100, 10, 110, 5)  # 100..109 and 110..114 touch, no overlap
    check_disjoint(115, 3, 110, 5)
    with pytest.raises(ValueError, match=r"overlap the evaluation set \(seeds 110\.\.114\)"):
        check_disjoint(100, 11, 110, 5)
    with pytest.raises(ValueError, match=r"held-out seeds 112\.\.112"):
        check_disjoint(112, 1, 110, 5, name="held-out seeds")


def _scalars(run_dir, tag):
    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_train_bc_episodes_end_to_end_and_resume(train_module, tiny, tmp_path, capsys):
    log_dir = tmp_path / "runs"
    base = [*tiny["train"], "--log-dir", str(log_dir), "--no-progress-bar"]
    bc = ["--bc-episodes", "8", "--bc-epochs", "3"]
    assert train_module.main([*base, *bc, "--total-timesteps", "128"]) == 0
    assert "behaviour cloning: 8 samples of domalo (solved)" in capsys.readouterr().out
    run = log_dir / "MultiIRSDownlink-v0__ppo__s0"
    cfg = json.loads((run / "config.json").read_text())
    losses = cfg["bc"]["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert cfg["bc"]["dataset"]["samples"] == 8
    assert cfg["bc"]["dataset"]["first_seed"] == BC_SEED
    assert cfg["args"]["bc_episodes"] == 8
    logged = _scalars(run, "bc/loss")
    assert [s for s, _ in logged] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in logged], losses, rtol=1e-6)
    assert _scalars(run, "eval/ratio_to_reference")[0][0] == 0  # evaluated after the BC

    # resume: no second behaviour cloning, the record is kept
    assert train_module.main([*base, *bc, "--total-timesteps", "256", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "behaviour cloning" not in out
    cfg2 = json.loads((run / "config.json").read_text())
    assert cfg2["bc"] == cfg["bc"] and cfg2["num_timesteps"] == 256
    assert len(_scalars(run, "bc/loss")) == 3
    # the resumed run refuses another BC size
    with pytest.raises(SystemExit):
        train_module.main([*base, "--bc-episodes", "9", "--total-timesteps", "384", "--resume"])
    assert "--bc-episodes 9 != 8" in capsys.readouterr().err


def test_train_refuses_bc_seeds_in_the_evaluation_set(train_module, tiny, tmp_path, capsys):
    argv = [*tiny["train"], "--log-dir", str(tmp_path), "--bc-episodes", "4"]
    with pytest.raises(SystemExit):
        train_module.main([*argv, "--bc-seed", "10001"])
    assert "overlap the evaluation set (seeds 10000..10002)" in capsys.readouterr().err
    assert not (tmp_path / "MultiIRSDownlink-v0__ppo__s0").exists()


def test_train_defaults_match_the_library(train_module):
    # train.py keeps literal defaults (its --help imports nothing heavy)
    assert train_module.Args.bc_seed == BC_SEED
    assert train_module.Args.bc_epochs == DEFAULT_EPOCHS
    assert train_module.Args.bc_episodes == 0
