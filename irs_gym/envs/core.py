"""Generic env machinery: one single Env and one native batched VectorEnv driven by a task.

A *task* adapts one system model to the Gymnasium interface: it parses and validates the
``gymnasium.make`` kwargs (Config overrides plus env options), owns the spaces and the codec
(``decode(action) -> Decision``, ``encode(Decision) -> action``) and delegates every formula to
the model module. The two env classes below hold no physics: they only sequence
sample -> observe -> decode -> score -> advance, so the single env and the batched env cannot
drift apart.

Channel modes (ARCHITECTURE "Env design decisions"):

* ``"iid"``: a new realisation after every step (the agent learns channel -> configuration).
* ``"static"``: one realisation per episode; the observation also carries the last action
  (in [-1, 1]) and the last objective (scaled like the reward), so the agent refines.
* ``"markov"``: Gauss-Markov correlated small-scale fading with coefficient ``rho``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector.utils import batch_space
from gymnasium.vector.vector_env import AutoresetMode

from irs_gym.envs.streams import CountingStream, UniformStream
from irs_gym.models.tree import tree_assign, tree_index, tree_stack

CHANNEL_MODES = ("iid", "static", "markov")

#: Observation bound: the largest finite float32. Gymnasium's ``check_env`` warns on infinite
#: Box bounds; observations are clipped to this range before the float32 cast, which changes
#: no representable value (anything larger would otherwise become inf).
OBS_BOUND = float(np.finfo(np.float32).max)


class ModelTask:
    """Base class of the per-model adapters.

    Subclasses set ``config_cls`` and ``OPTIONS`` (env options with defaults beyond the generic
    ``channel_mode``, ``rho``) and implement the abstract methods. Every method is
    batch-agnostic: arrays may carry leading batch axes.
    """

    config_cls: ClassVar[type]
    OPTIONS: ClassVar[dict[str, Any]] = {}
    #: The OPTIONS that change only the agent's side of the env: which decisions an action
    #: can express and how it is decoded, or reward shaping. The realisations of a seed, the
    #: objective and the constraints are the same under any of their values, so agents
    #: trained with different values are compared with the same baselines, scored with their
    #: full decisions in the env without these options (``agents.envs.scoring_signature``).
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = ()
    #: whether the model's small-scale fading is Gaussian, so that ``markov`` is defined
    supports_markov: ClassVar[bool] = False
    objective_name: str
    objective_unit: str
    objective_sense: str
    #: reward = reward_scale * objective (sign flipped for "min") - penalty * violation
    reward_scale: float = 1.0
    constraint_penalty: float = 0.0

    def __init__(self, env_name: str, **kwargs: Any) -> None:
        options = {"channel_mode": "iid", "rho": 0.9, **self.OPTIONS}
        config_fields = {f.name for f in dataclasses.fields(self.config_cls) if f.init}
        unknown = sorted(set(kwargs) - config_fields - set(options))
        if unknown:
            raise ValueError(
                f"unknown argument(s) {unknown} for {env_name}; config fields: "
                f"{sorted(config_fields)}; env options: {sorted(options)}"
            )
        self.config = self.config_cls(**{k: v for k, v in kwargs.items() if k in config_fields})
        self.options = {**options, **{k: v for k, v in kwargs.items() if k in options}}
        mode = self.options["channel_mode"]
        if mode not in CHANNEL_MODES:
            raise ValueError(f"channel_mode must be one of {CHANNEL_MODES}, got {mode!r}")
        if mode == "markov" and not self.supports_markov:
            raise ValueError(f"channel_mode='markov' is not defined for {env_name}")
        rho = self.options["rho"]
        if not (isinstance(rho, int | float) and 0.0 <= rho <= 1.0):
            raise ValueError(f"rho must be a number in [0, 1], got {rho!r}")
        self.channel_mode = mode
        self.configure(**{k: self.options[k] for k in self.OPTIONS})

    # Model hooks ------------------------------------------------------------------------
    def configure(self, **options: Any) -> None:
        """Validate model-specific options and build ``self.action_space``."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator):
        """One realisation. Implement this or :meth:`sample_batch` (preferred: fast batches)."""
        if not self.samples_in_batches:
            raise NotImplementedError
        return self.sample_batch(rng, ())

    def sample_batch(self, rng, batch_shape: tuple[int, ...]):
        """Optional hook: ``batch_shape`` realisations in one vectorised call, drawing only
        through ``rng.random``, ``rng.uniform`` and ``rng.standard_normal`` with sizes that
        start with ``batch_shape`` (the contract of :class:`~irs_gym.envs.streams.
        UniformStream`); then the batched env builds B realisations at once and still equals
        B single envs draw for draw."""
        raise NotImplementedError

    @property
    def samples_in_batches(self) -> bool:
        return type(self).sample_batch is not ModelTask.sample_batch

    def draw_scenario(self, rng: np.random.Generator):
        """The realisation a single env draws from ``rng``."""
        if not self.samples_in_batches:
            return self.sample(rng)
        return self.sample_batch(UniformStream(rng.random(self.uniforms_per_sample)), ())

    def draw_scenarios(self, rngs: list[np.random.Generator]):
        """Sub-env ``i``'s realisation from ``rngs[i]`` for every ``i``, stacked: equal to
        ``tree_stack([draw_scenario(r) for r in rngs])``."""
        if not self.samples_in_batches:
            return tree_stack([self.sample(r) for r in rngs])
        u = np.empty((len(rngs), self.uniforms_per_sample))
        for r, row in zip(rngs, u, strict=True):
            r.random(out=row)
        return self.sample_batch(UniformStream(u, (len(rngs),)), (len(rngs),))

    @property
    def uniforms_per_sample(self) -> int:
        """How many uniforms one realisation consumes (counted once per task)."""
        if getattr(self, "_uniforms_per_sample", None) is None:
            counter = CountingStream()
            self.sample_batch(counter, ())
            self._uniforms_per_sample = counter.position
        return self._uniforms_per_sample

    def evolve(self, scenario, rng: np.random.Generator):
        raise NotImplementedError

    def channel_features(self, scenario) -> np.ndarray:
        """Float64 features ``[..., D]`` of the channel state, O(1)."""
        raise NotImplementedError

    def channel_feature_size(self) -> int:
        raise NotImplementedError

    def decode(self, action: np.ndarray, scenario):
        raise NotImplementedError

    def encode(self, decision, scenario) -> np.ndarray:
        """The action that decodes to ``decision`` on ``scenario`` (which most tasks ignore:
        their actions do not depend on the channel; ``None`` before the first reset)."""
        raise NotImplementedError

    def default_decision(self, scenario):
        raise NotImplementedError

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        """Model metrics; must hold ``objective``, ``feasible``, ``constraint_violation``."""
        raise NotImplementedError

    def info_keys(self) -> tuple[str, ...]:
        """Model metric keys copied into ``info`` besides the contract keys."""
        return ()

    # Generic parts ----------------------------------------------------------------------
    @functools.cached_property  # the spaces are fixed by configure(); read every step
    def action_size(self) -> int:
        return int(np.prod(self.action_space.shape))

    @functools.cached_property
    def observation_size(self) -> int:
        extra = self.action_size + 1 if self.channel_mode == "static" else 0
        return self.channel_feature_size() + extra

    @property
    def observation_space(self) -> spaces.Box:
        return spaces.Box(-OBS_BOUND, OBS_BOUND, (self.observation_size,), np.float32)

    @functools.cached_property
    def discrete_actions(self) -> bool:
        return isinstance(self.action_space, spaces.MultiDiscrete)

    def check_action(self, action: Any, batch: tuple[int, ...] = ()) -> np.ndarray:
        """Validate shape and finiteness; returns a new float64 (Box) or int64 (discrete)
        array, never the caller's."""
        if self.discrete_actions:
            arr = np.asarray(action)
            self._check_shape(arr, batch)
            if not np.issubdtype(arr.dtype, np.integer):
                if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                    raise ValueError("action must hold finite integers for MultiDiscrete")
            arr = arr.astype(np.int64)
            if np.any(arr < 0) or np.any(arr >= self.action_space.nvec):
                raise ValueError(f"action entries must lie in [0, {self.action_space.nvec.max()})")
            return arr
        arr = np.array(action, dtype=np.float64)
        self._check_shape(arr, batch)
        # One reduction instead of an elementwise test: a finite sum proves every entry finite
        # (a sum can overflow only for finite inputs near float64's limit; the exact test
        # decides those).
        if not math.isfinite(arr.sum()) and not np.isfinite(arr).all():
            raise ValueError("action contains NaN or inf")
        return arr

    def _check_shape(self, arr: np.ndarray, batch: tuple[int, ...]) -> None:
        expected = (*batch, *self.action_space.shape)
        if arr.shape != expected:
            raise ValueError(f"action must have shape {expected}, got {arr.shape}")

    def normalized_action(self, action: np.ndarray) -> np.ndarray:
        """The action as floats in [-1, 1] (for the static-mode observation)."""
        if self.discrete_actions:
            n = self.action_space.nvec
            return 2.0 * action / np.maximum(n - 1, 1) - 1.0
        return np.minimum(np.maximum(action, -1.0), 1.0)

    def reward(self, m: dict[str, np.ndarray]) -> np.ndarray:
        sign = 1.0 if self.objective_sense == "max" else -1.0
        return sign * self.reward_scale * m["objective"] - (
            self.constraint_penalty * m["constraint_violation"]
        )

    def features(self, scenario) -> np.ndarray:
        """:meth:`channel_features` clipped to the observation bounds as float32, computed once
        per scenario object (scenarios are never modified in place, so a static episode reuses
        its features at every step). Read-only: callers copy."""
        if getattr(self, "_features_of", None) is not scenario:
            feats = self.channel_features(scenario)
            self._features = np.clip(feats, -OBS_BOUND, OBS_BOUND).astype(np.float32)
            self._features.setflags(write=False)
            self._features_of = scenario
        return self._features

    def observe(self, scenario, last_action=None, last_reward=None) -> np.ndarray:
        feats = self.features(scenario)
        if self.channel_mode != "static":
            return feats.copy()
        batch, size = feats.shape[:-1], feats.shape[-1]
        obs = np.empty((*batch, self.observation_size), dtype=np.float32)
        obs[..., :size] = feats
        obs[..., size:-1] = np.reshape(last_action, (*batch, -1))  # already in [-1, 1]
        if isinstance(last_reward, float):  # the single env: Python arithmetic is cheaper
            obs[-1] = min(max(last_reward, -OBS_BOUND), OBS_BOUND)
        else:
            obs[..., -1] = np.clip(last_reward, -OBS_BOUND, OBS_BOUND)
        return obs

    def contract_info(self, m: dict[str, np.ndarray]) -> dict[str, Any]:
        """The info dict of one unbatched step (contract keys first)."""
        info: dict[str, Any] = {
            "objective": float(m["objective"]),
            "objective_name": self.objective_name,
            "objective_unit": self.objective_unit,
            "objective_sense": self.objective_sense,
            "feasible": bool(m["feasible"]),
            "constraint_violation": float(m["constraint_violation"]),
        }
        for key in self.info_keys():
            v = np.asarray(m[key])
            info[key] = float(v) if v.ndim == 0 else v.astype(np.float64)
        return info

    def batched_info(self, m: dict[str, np.ndarray], num_envs: int) -> dict[str, Any]:
        """The VectorEnv info dict: per key a batch array and a ``_key`` mask (all present)."""
        info: dict[str, Any] = {
            "objective": np.asarray(m["objective"], dtype=np.float64),
            "objective_name": np.full(num_envs, self.objective_name, dtype=object),
            "objective_unit": np.full(num_envs, self.objective_unit, dtype=object),
            "objective_sense": np.full(num_envs, self.objective_sense, dtype=object),
            "feasible": np.asarray(m["feasible"], dtype=bool),
            "constraint_violation": np.asarray(m["constraint_violation"], dtype=np.float64),
        }
        for key in self.info_keys():
            info[key] = np.asarray(m[key], dtype=np.float64)
        for key in list(info):
            info[f"_{key}"] = np.ones(num_envs, dtype=bool)
        return info


class IRSEnv(gym.Env):
    """Generic single environment; subclasses set ``task_cls`` and document the model."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    task_cls: ClassVar[type[ModelTask]]
    #: one decision per step; True where a decision takes several steps (its episode)
    multi_step_decisions: bool = False

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode must be None (no rendering), got {render_mode!r}")
        self.task = self.task_cls(type(self).__name__, **kwargs)
        self.config = self.task.config
        self.action_space = self.task.action_space
        self.observation_space = self.task.observation_space
        self.scenario = None
        self._last_action: np.ndarray | None = None
        self._last_reward: float = 0.0

    def decode(self, action: Any):
        """Map an action of ``action_space`` to the model's Decision on the current scenario."""
        self._require_reset()
        return self.task.decode(self.task.check_action(action), self.scenario)

    def encode(self, decision) -> np.ndarray:
        """Inverse of :meth:`decode` for feasible decisions (see the class docstring)."""
        return self.task.encode(decision, self.scenario)

    def _require_reset(self) -> None:
        if self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before step(), decode() or encode()")

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.scenario = self.task.draw_scenario(self.np_random)
        decision = self.task.default_decision(self.scenario)
        m = self.task.score(self.scenario, decision)
        self._last_action = self.task.normalized_action(self.task.encode(decision, self.scenario))
        self._last_reward = float(self.task.reward(m))
        obs = self.task.observe(self.scenario, self._last_action, self._last_reward)
        return obs, self.task.contract_info(m)

    def step(self, action: Any):
        self._require_reset()
        action = self.task.check_action(action)
        m = self.task.score(self.scenario, self.task.decode(action, self.scenario))
        reward = float(self.task.reward(m))
        info = self.task.contract_info(m)
        if self.task.channel_mode == "static":  # only the static observation shows them
            self._last_action = self.task.normalized_action(action)
        self._last_reward = reward
        if self.task.channel_mode == "iid":
            self.scenario = self.task.draw_scenario(self.np_random)
        elif self.task.channel_mode == "markov":
            self.scenario = self.task.evolve(self.scenario, self.np_random)
        obs = self.task.observe(self.scenario, self._last_action, self._last_reward)
        return obs, reward, False, False, info


class IRSVectorEnv(gym.vector.VectorEnv):
    """Native batched env: ``num_envs`` copies stepped with one batch-first model call.

    Sub-env ``i`` owns its generator (seeded ``seed + i`` like ``SyncVectorEnv``) and draws its
    realisations exactly as the single env does, so the two agree step for step. Episodes are
    truncated after ``max_episode_steps`` (given by the registry's ``vector_entry_point``).

    Autoreset (``autoreset_mode``): Gymnasium's default ``NEXT_STEP`` (the step after an
    episode's end resets that sub-env and ignores its action), or ``SAME_STEP`` (the ending
    step resets at once; ``info["final_obs"]`` and ``info["final_info"]`` hold the last
    observation and info, masked by ``info["_final_obs"]``), which is what SB3's ``VecEnv``
    expects (see ``agents.vec_env``).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }
    task_cls: ClassVar[type[ModelTask]]

    def __init__(
        self,
        num_envs: int = 1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **kwargs: Any,
    ) -> None:
        if not (isinstance(num_envs, int) and num_envs >= 1):
            raise ValueError(f"num_envs must be an integer >= 1, got {num_envs!r}")
        modes = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
        try:
            autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            autoreset_mode = None
        if autoreset_mode not in modes:
            raise ValueError(
                f"autoreset_mode must be one of {[m.value for m in modes]}, got {autoreset_mode!r}"
            )
        self.metadata = {**self.metadata, "autoreset_mode": autoreset_mode}
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        if render_mode is not None:
            raise ValueError(f"render_mode must be None (no rendering), got {render_mode!r}")
        self.task = self.task_cls(type(self).__name__, **kwargs)
        self.config = self.task.config
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.single_action_space = self.task.action_space
        self.single_observation_space = self.task.observation_space
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.scenario = None
        self._rngs: list[np.random.Generator | None] = [None] * num_envs
        self._steps = np.zeros(num_envs, dtype=np.int64)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._last_action = np.zeros((num_envs, self.task.action_size))
        self._last_reward = np.zeros(num_envs)

    def decode(self, actions: Any):
        """Batched :meth:`IRSEnv.decode` on the current scenarios."""
        if self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before step() or decode()")
        return self.task.decode(self.task.check_action(actions, (self.num_envs,)), self.scenario)

    def encode(self, decision) -> np.ndarray:
        return self.task.encode(decision, self.scenario)

    def _fresh(self, index: np.ndarray) -> tuple[Any, dict[str, np.ndarray]]:
        """New episodes for ``index``: sample, score the default decision, set memory."""
        scen = self.task.draw_scenarios([self._rngs[i] for i in index])
        self.scenario = (
            scen
            if self.scenario is None or len(index) == self.num_envs
            else (tree_assign(self.scenario, index, scen))
        )
        decision = self.task.default_decision(scen)
        m = self.task.score(scen, decision)
        self._last_action[index] = self.task.normalized_action(self.task.encode(decision, scen))
        self._last_reward[index] = self.task.reward(m)
        self._steps[index] = 0
        return scen, m

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ):
        super().reset(seed=seed if isinstance(seed, int) else None)
        seeds = (
            [seed + i for i in range(self.num_envs)]
            if isinstance(seed, int)
            else (seed if seed is not None else [None] * self.num_envs)
        )
        if len(seeds) != self.num_envs:
            raise ValueError(f"seed list must have num_envs={self.num_envs} entries")
        for i, s in enumerate(seeds):
            if s is not None or self._rngs[i] is None:
                self._rngs[i] = seeding.np_random(s)[0]
        self.scenario = None
        _, m = self._fresh(np.arange(self.num_envs))
        self._autoreset[:] = False
        obs = self.task.observe(self.scenario, self._last_action, self._last_reward)
        return obs, self.task.batched_info(m, self.num_envs)

    def step(self, actions: Any):
        if self.scenario is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        actions = self.task.check_action(actions, (self.num_envs,))
        m = self.task.score(self.scenario, self.task.decode(actions, self.scenario))
        rewards = np.asarray(self.task.reward(m), dtype=np.float64)
        active = ~self._autoreset
        live = np.flatnonzero(active)
        self._last_action[live] = self.task.normalized_action(actions[live])
        self._last_reward[live] = rewards[live]
        self._steps[live] += 1
        if self.task.channel_mode == "iid" and live.size:
            self.scenario = tree_assign(
                self.scenario, live, self.task.draw_scenarios([self._rngs[i] for i in live])
            )
        elif self.task.channel_mode == "markov" and live.size:
            self.scenario = tree_assign(
                self.scenario,
                live,
                tree_stack(
                    [self.task.evolve(tree_index(self.scenario, i), self._rngs[i]) for i in live]
                ),
            )
        restart = np.flatnonzero(self._autoreset)
        if restart.size:  # NEXT_STEP only: SAME_STEP never leaves a sub-env pending
            _, m_reset = self._fresh(restart)
            m = {k: np.array(v, copy=True) for k, v in m.items()}
            for k in m:
                m[k][restart] = m_reset[k]
            rewards[restart] = 0.0
        terminations = np.zeros(self.num_envs, dtype=bool)
        truncations = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncations = active & (self._steps >= self.max_episode_steps)
        done = terminations | truncations
        obs = self.task.observe(self.scenario, self._last_action, self._last_reward)
        info = self.task.batched_info(m, self.num_envs)
        if self.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP:
            self._autoreset = done
            return obs, rewards, terminations, truncations, info
        ended = np.flatnonzero(done)
        if ended.size:
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_info = np.full(self.num_envs, None, dtype=object)
            for i in ended:
                final_obs[i] = obs[i].copy()
                final_info[i] = {k: v[i] for k, v in info.items() if not k.startswith("_")}
            _, m_reset = self._fresh(ended)
            obs = self.task.observe(self.scenario, self._last_action, self._last_reward)
            m = {k: np.array(v, copy=True) for k, v in m.items()}
            for k in m:
                m[k][ended] = m_reset[k]
            info = self.task.batched_info(m, self.num_envs)
            info.update(final_obs=final_obs, _final_obs=done, final_info=final_info)
            info["_final_info"] = done
        return obs, rewards, terminations, truncations, info
