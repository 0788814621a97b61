"""``irs_gym/BlockAllocation-v0``: model 002 (IRS blocks shared among users) as an environment.

Two interaction styles share the model's metrics:

* ``action_mode="box"`` (default) and ``"multidiscrete"``: one whole allocation per step, run
  by the generic machinery of :mod:`irs_gym.envs.core` (channel modes ``iid`` and
  ``static``).
* ``action_mode="sequential"``: one block per step, ``n_b`` steps per episode on one drop,
  the reward being the marginal saving. The episode's state (the allocation so far) does not
  fit the generic one-decision-per-step loop, so :class:`BlockAllocationEnv` and
  :class:`BlockAllocationVectorEnv` run that mode themselves, on batch-first helpers of
  :class:`BlockAllocationTask` shared by both (so the two cannot drift apart), and reuse the
  generic seeding and sampling.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.models import block_allocation as model
from irs_gym.models.tree import tree_assign

ACTION_MODES = ("box", "multidiscrete", "sequential")


class BlockAllocationTask(ModelTask):
    """Adapter of model 002; see :class:`BlockAllocationEnv` for the interface."""

    config_cls = model.BlockAllocationConfig
    OPTIONS: ClassVar[dict[str, Any]] = {"action_mode": "box"}
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = ("action_mode",)
    objective_name = "bandwidth_saving"
    objective_unit = "%"
    objective_sense = "max"
    #: the reward is the saving as a fraction of B_T (O(1)); the codecs are always feasible
    reward_scale = 0.01

    def __init__(self, env_name: str, **kwargs: Any) -> None:
        # one drop per allocation episode: the sequential mode's natural channel mode
        if kwargs.get("action_mode") == "sequential":
            kwargs.setdefault("channel_mode", "static")
        super().__init__(env_name, **kwargs)

    def configure(self, action_mode: str) -> None:
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {action_mode!r}")
        self.action_mode = action_mode
        self.sequential = action_mode == "sequential"
        if self.sequential and self.channel_mode != "static":
            raise ValueError(
                "channel_mode must be 'static' with action_mode='sequential' (an episode "
                f"allocates the blocks of one drop), got {self.channel_mode!r}"
            )
        K, n_b = self.config.num_users, self.config.num_blocks
        if action_mode == "box":
            self.action_space = spaces.Box(-1.0, 1.0, (K,), np.float32)
        elif action_mode == "multidiscrete":
            self.action_space = spaces.MultiDiscrete(np.full(K, n_b + 1))
        else:
            self.action_space = spaces.Discrete(K)

    def sample_batch(self, rng, batch_shape):
        return model.sample_scenario(self.config, rng, batch_shape)

    def channel_features(self, scenario) -> np.ndarray:
        return model.observation(self.config, scenario)

    def channel_feature_size(self) -> int:
        return model.observation_size(self.config)

    @property
    def observation_size(self) -> int:
        if self.sequential:  # + allocation, marginal gains, mask (K each), blocks left
            return self.channel_feature_size() + 3 * self.config.num_users + 1
        return super().observation_size

    def decode(self, action: np.ndarray, scenario) -> model.BlockAllocationDecision:
        cfg = self.config
        if self.action_mode == "box":
            target = (np.clip(action, -1.0, 1.0) + 1.0) * (cfg.num_blocks / 2.0)
        else:
            target = action
        return model.BlockAllocationDecision(
            model.project_allocation(target, cfg.num_blocks, cfg.assisted_users)
        )

    def encode(self, decision: model.BlockAllocationDecision, scenario=None) -> np.ndarray:
        x = np.asarray(decision.blocks, dtype=np.int64)
        if self.action_mode == "multidiscrete":
            return np.clip(x, 0, self.config.num_blocks)
        return (2.0 * x / self.config.num_blocks - 1.0).clip(-1.0, 1.0).astype(np.float32)

    def default_decision(self, scenario) -> model.BlockAllocationDecision:
        return model.default_decision(self.config, scenario)

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        return model.metrics(self.config, scenario, decision)

    def info_keys(self) -> tuple[str, ...]:
        return (
            "bandwidth_saving_pct",
            "power_saving_pct",
            "bs_power_w",
            "user_saving",
            "blocks",
            "used_blocks",
            "assisted_users",
        )

    def check_action(self, action: Any, batch: tuple[int, ...] = ()) -> np.ndarray:
        if not self.sequential:
            return super().check_action(action, batch)
        arr = np.asarray(action)
        if arr.shape != batch:
            raise ValueError(f"action must have shape {batch} (a user index), got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError("action must be a finite integer user index (no NaN or inf)")
        arr = arr.astype(np.int64)
        K = self.config.num_users
        if np.any(arr < 0) or np.any(arr >= K):
            raise ValueError(f"action must be a user index in [0, {K}), got {action!r}")
        return arr

    # Sequential mode (batch-first: blocks [..., K], action [...]) ------------------------
    def action_mask(self, blocks: np.ndarray) -> np.ndarray:
        """Users that may take the next block, ``[..., K]`` bool; all False once the n_b
        blocks are placed. A free: every user. A fixed: a new user only while fewer than A
        are assisted, an assisted one only while more blocks remain than new users are
        still needed, so that every episode ends with exactly A assisted users."""
        x = np.asarray(blocks)
        left = self.config.num_blocks - x.sum(axis=-1, keepdims=True)
        mask = np.broadcast_to(left > 0, x.shape)
        a = self.config.assisted_users
        if a is None:
            return mask.copy()
        assisted = x > 0
        missing = a - assisted.sum(axis=-1, keepdims=True)
        return mask & np.where(assisted, left > missing, missing > 0)

    def redirect(self, blocks: np.ndarray, action: np.ndarray) -> np.ndarray:
        """The user that gets the block: ``action`` if allowed by :meth:`action_mask`, else
        the next allowed user after it, cyclically (no information about the channel)."""
        K = self.config.num_users
        mask = self.action_mask(blocks)
        offset = (np.arange(K) - np.asarray(action)[..., None]) % K
        return np.argmin(np.where(mask, offset, K), axis=-1)

    def place(self, blocks: np.ndarray, action: np.ndarray) -> np.ndarray:
        """The allocation after one step: one more block for :meth:`redirect`'s user."""
        user = self.redirect(blocks, action)
        return blocks + (np.arange(self.config.num_users) == user[..., None])

    def next_action(self, blocks: np.ndarray, decision: model.BlockAllocationDecision):
        """A step toward ``decision`` from ``blocks``: the first user still below its target
        (always allowed when the target is feasible), else the first allowed user, else 0."""
        short = np.asarray(decision.blocks) > blocks
        candidates = np.where(short.any(axis=-1, keepdims=True), short, self.action_mask(blocks))
        return np.argmax(candidates, axis=-1).astype(np.int64)

    def sequential_observe(self, scenario, blocks: np.ndarray) -> np.ndarray:
        """Channel features, then x_k / n_b, S_k(x_k + 1) - S_k(x_k), the action mask (0/1),
        and the share of blocks left."""
        cfg = self.config
        n_b = cfg.num_blocks
        gain = model.block_gain(cfg, scenario)
        marginal = model.saving_from_gain(cfg.snr0, gain, blocks + 1) - model.saving_from_gain(
            cfg.snr0, gain, blocks
        )
        left = (n_b - blocks.sum(axis=-1, keepdims=True)) / n_b
        state = np.concatenate(
            [blocks / n_b, marginal, self.action_mask(blocks).astype(np.float64), left], axis=-1
        )
        # the drop's features are cached by the generic task: one drop per episode
        return np.concatenate([self.features(scenario), state.astype(np.float32)], axis=-1)


class BlockAllocationEnv(IRSEnv):
    """IRS blocks as shareable resources (model 002, Kassem et al.).

    ## Description

    A single-antenna BS serves ``num_users`` (K) users dropped in a disc of radius
    ``cell_radius_m`` (R_a); each needs ``rate_bps`` (R_b) and, without the IRS, uses
    B_T / K of the band. An IRS at ``irs_distance_m`` (d_SR) from the BS is cut into
    n_b = ``num_elements`` / ``block_size`` blocks, each serving one user with coherent
    phases. A user given x_k blocks keeps its power and needs less bandwidth; the agent
    allocates the blocks to maximise the freed share of the band (the paper's NLIP (15)-(17),
    optionally with exactly ``assisted_users`` (A) users assisted). Gains: 3GPP UMi at 3 GHz
    (LoS BS-IRS and IRS-user, NLoS BS-user), distances clipped at 10 m; no fading, so the
    drop (user positions) is the only randomness. Spec ``002-irs-block-allocation.md``.

    ## Action Space

    ``action_mode="box"`` (default): ``Box(-1, 1, (K,), float32)``, one score per user,
    read as requested block counts t_k = (a_k + 1) n_b / 2 and decoded to the nearest
    feasible allocation (Euclidean; :func:`irs_gym.models.block_allocation.project_allocation`):

    * A free: x = round(t) when sum(round(t)) <= n_b; otherwise every request is lowered
      by about the same shortfall (greedy: blocks go one at a time to the user with the
      largest unmet request t_k - x_k, while it exceeds 1/2);
    * A fixed: the A users with the largest t_k get one block each, and the other n_b - A
      blocks go one at a time to the kept user with the largest t_k - x_k.

    Ties go to the lower user index. ``encode(x) = 2 x / n_b - 1``, and
    ``decode(encode(x)) = x`` for every feasible allocation.

    ``action_mode="multidiscrete"``: ``MultiDiscrete([n_b + 1] * K)``, the block counts
    themselves, projected onto the feasible set by the same nearest-point rule (a feasible
    request is kept as is; with A free an excess is spread as equal shortfalls, e.g.
    (5, 1, 3) with n_b = 5 gives (4, 0, 1)).

    ``action_mode="sequential"``: ``Discrete(K)``, the user that gets the next block; an
    episode places the n_b blocks one by one on one drop. :meth:`action_masks` gives the
    allowed users (for sb3-contrib's ``MaskablePPO``): with A fixed, a new user only while
    fewer than A are assisted, an assisted one only while more blocks remain than new users
    are still needed. A disallowed action is not an error: the block goes to the next
    allowed user after it (cyclically), so every episode ends feasible.

    ## Observation Space

    ``Box(-F, F, (D,), float32)``, F the largest finite float32, D = K (3 + n_b) (+ extras):

    | index | meaning | unit |
    |---|---|---|
    | 0 .. K-1 | d_sk / R_a, BS-user distance | - |
    | K .. 2K-1 | d_rk / R_a, IRS-user distance | - |
    | 2K .. 3K-1 | log10 c_k, c_k = N_a^min alpha sqrt(beta_sr beta_rk / beta_sk) | log10 |
    | 3K .. 3K+Kn_b-1 | S_k(x), x = 1..n_b (user-major), saving of user k with x blocks | - |
    | static mode: next K | last action (box: as sent, in [-1, 1]; multidiscrete: 2 x/n_b - 1) | - |
    | static mode: last | last reward | fraction |
    | sequential: next K | x_k / n_b, blocks placed so far | - |
    | sequential: next K | S_k(x_k + 1) - S_k(x_k), saving of one more block | fraction |
    | sequential: next K | action mask (1 = allowed) | - |
    | sequential: last | blocks left / n_b | - |

    ## Rewards

    Box and multidiscrete: the system bandwidth saving of the allocation as a fraction of
    B_T, i.e. ``info["objective"] / 100`` (no penalty: every decoded allocation is
    feasible). Sequential: the increase of that fraction from the block just placed, so an
    episode's total reward is the final allocation's saving / 100.

    ## Starting State

    ``reset`` drops the users (area-uniform by default). ``info`` at reset scores no block
    (Case 1, saving 0) when A is free; with A fixed, users 0..A-1 sharing the blocks evenly.
    In sequential mode it scores the empty allocation (feasible only when A is free).

    ## Episode End

    Box and multidiscrete never terminate; truncated after ``max_episode_steps`` (50 by
    registration). ``channel_mode="iid"`` (default) draws a new drop after every step,
    ``"static"`` keeps one per episode. Sequential mode (``channel_mode="static"`` only, the
    default there): terminates after n_b steps, when every block is placed; stepping (or
    decoding) again before ``reset`` raises ``ResetNeeded``. With n_b > 50, pass
    ``max_episode_steps`` >= n_b to ``gymnasium.make``, or the time limit cuts episodes short.

    ## Info

    ``objective`` (system bandwidth saving S-bar, %), ``objective_name``
    (``bandwidth_saving``), ``objective_unit`` (``%``), ``objective_sense`` (``max``),
    ``feasible``, ``constraint_violation`` (blocks away from the feasible set),
    ``bandwidth_saving_pct``, ``power_saving_pct`` (EARTH, %), ``bs_power_w`` (BS input
    power with the IRS, W), ``user_saving`` (per user, fraction), ``blocks`` (the
    allocation), ``used_blocks``, ``assisted_users``. In sequential mode these describe the
    allocation placed so far.

    ## Arguments

    Every field of :class:`irs_gym.models.block_allocation.BlockAllocationConfig`
    (``num_users``, ``cell_radius_m``, ``num_elements``, ``block_size``,
    ``assisted_users``, ``irs_distance_m``, ``rate_bps``, ``bandwidth_hz``,
    ``antenna_gains``, ``user_placement``, ``bs_type``, ...) plus ``action_mode`` (``"box"``,
    ``"multidiscrete"``, ``"sequential"``) and ``channel_mode`` (``"iid"``, ``"static"``; no
    ``"markov"``: the model has no fading). Unknown or out-of-range values raise
    ``ValueError``.

    ## Version History

    * v0: initial version.
    """

    task_cls = BlockAllocationTask

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(render_mode=render_mode, **kwargs)
        #: sequential mode: the allocation placed so far (``None`` before reset)
        self.blocks: np.ndarray | None = None
        self._value = 0.0
        self.multi_step_decisions = self.task.sequential  # one allocation per episode

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if not self.task.sequential:
            return super().reset(seed=seed, options=options)
        gym.Env.reset(self, seed=seed)
        self.scenario = self.task.draw_scenario(self.np_random)
        self.blocks = np.zeros(self.config.num_users, dtype=np.int64)
        m = self.task.score(self.scenario, model.BlockAllocationDecision(self.blocks))
        self._value = float(self.task.reward(m))
        obs = self.task.sequential_observe(self.scenario, self.blocks)
        return obs, self.task.contract_info(m)

    def step(self, action: Any):
        if not self.task.sequential:
            return super().step(action)
        self._require_episode()
        action = self.task.check_action(action)
        self.blocks = self.task.place(self.blocks, action)
        m = self.task.score(self.scenario, model.BlockAllocationDecision(self.blocks))
        value = float(self.task.reward(m))
        reward, self._value = value - self._value, value
        terminated = not self.task.action_mask(self.blocks).any()
        obs = self.task.sequential_observe(self.scenario, self.blocks)
        return obs, reward, terminated, False, self.task.contract_info(m)

    def decode(self, action: Any) -> model.BlockAllocationDecision:
        """The allocation that ``action`` gives (sequential mode: after this one step)."""
        if not self.task.sequential:
            return super().decode(action)
        self._require_episode()
        return model.BlockAllocationDecision(
            self.task.place(self.blocks, self.task.check_action(action))
        )

    def _require_episode(self) -> None:
        self._require_reset()
        if not self.task.action_mask(self.blocks).any():
            raise gym.error.ResetNeeded("every block is placed (episode over): call reset()")

    def encode(self, decision: model.BlockAllocationDecision) -> np.ndarray:
        """The action for ``decision`` (sequential mode: the next step toward it, so that
        stepping ``encode(d)`` n_b times from reset builds the feasible allocation d)."""
        if not self.task.sequential:
            return super().encode(decision)
        self._require_reset()
        return self.task.next_action(self.blocks, decision)

    def action_masks(self) -> np.ndarray:
        """Sequential mode: the users allowed to take the next block, ``[K]`` bool (class
        docstring), as sb3-contrib's ``MaskablePPO`` expects. Other modes have no invalid
        action and raise ``ValueError``."""
        _require_sequential(self.task)
        self._require_reset()
        return self.task.action_mask(self.blocks)


class BlockAllocationVectorEnv(IRSVectorEnv):
    """Batched :class:`BlockAllocationEnv` (same arguments, plus ``num_envs`` and
    ``autoreset_mode``). In sequential mode sub-envs terminate after n_b steps and are reset
    as in :class:`~irs_gym.envs.core.IRSVectorEnv` (``NEXT_STEP``: on the next step, as
    ``SyncVectorEnv`` does; ``SAME_STEP``: at once, with ``final_obs`` / ``final_info``)."""

    task_cls = BlockAllocationTask

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(num_envs, max_episode_steps, render_mode, **kwargs)
        self.blocks = np.zeros((num_envs, self.config.num_users), dtype=np.int64)
        self._value = np.zeros(num_envs)

    def _fresh(self, index: np.ndarray):
        if not self.task.sequential:
            return super()._fresh(index)
        scen = self.task.draw_scenarios([self._rngs[i] for i in index])
        full = self.scenario is None or len(index) == self.num_envs
        self.scenario = scen if full else tree_assign(self.scenario, index, scen)
        self.blocks[index] = 0
        self._steps[index] = 0
        m = self.task.score(scen, model.BlockAllocationDecision(self.blocks[index]))
        self._value[index] = self.task.reward(m)
        return scen, m

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ):
        # The generic reset seeds the sub-env generators and draws the drops (via _fresh).
        obs, info = super().reset(seed=seed, options=options)
        if not self.task.sequential:
            return obs, info
        return self.task.sequential_observe(self.scenario, self.blocks), info

    def step(self, actions: Any):
        if not self.task.sequential:
            return super().step(actions)
        if self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = self.task.check_action(actions, (self.num_envs,))
        live = ~self._autoreset
        placed = self.task.place(self.blocks, actions)
        self.blocks[live] = placed[live]
        m = self.task.score(self.scenario, model.BlockAllocationDecision(self.blocks))
        value = np.asarray(self.task.reward(m), dtype=np.float64)
        rewards = np.where(live, value - self._value, 0.0)
        self._value = np.where(live, value, self._value)
        self._steps[live] += 1
        terminations = live & ~self.task.action_mask(self.blocks).any(axis=-1)
        truncations = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncations = live & (self._steps >= self.max_episode_steps)
        m = self._restart(np.flatnonzero(self._autoreset), m)  # NEXT_STEP: pending resets
        done = terminations | truncations
        obs = self.task.sequential_observe(self.scenario, self.blocks)
        info = self.task.batched_info(m, self.num_envs)
        if self.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP:
            self._autoreset = done
            return obs, rewards, terminations, truncations, info
        ended = np.flatnonzero(done)
        if ended.size:  # SAME_STEP: reset now, keeping the last observation and info
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_info = np.full(self.num_envs, None, dtype=object)
            for i in ended:
                final_obs[i] = obs[i].copy()
                final_info[i] = {k: v[i] for k, v in info.items() if not k.startswith("_")}
            m = self._restart(ended, m)
            obs = self.task.sequential_observe(self.scenario, self.blocks)
            info = self.task.batched_info(m, self.num_envs)
            info.update(final_obs=final_obs, _final_obs=done, final_info=final_info)
            info["_final_info"] = done
        return obs, rewards, terminations, truncations, info

    def _restart(self, index: np.ndarray, m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """New episodes for ``index``; ``m`` with their entries replaced by the fresh ones."""
        if not index.size:
            return m
        _, m_reset = self._fresh(index)
        m = {k: np.array(v, copy=True) for k, v in m.items()}
        for k in m:
            m[k][index] = m_reset[k]
        return m

    def action_masks(self) -> np.ndarray:
        """Allowed actions ``[num_envs, K]`` (see :meth:`BlockAllocationEnv.action_masks`)."""
        _require_sequential(self.task)
        if self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before action_masks()")
        return self.task.action_mask(self.blocks)


def _require_sequential(task: BlockAllocationTask) -> None:
    if not task.sequential:
        raise ValueError(
            f"action_masks() needs action_mode='sequential' (every {task.action_mode!r} "
            "action decodes to a feasible allocation), got action_mode="
            f"{task.action_mode!r}"
        )
