"""SB3 ``VecEnv`` over an irs_gym native batched env: B envs stepped in one numpy call.

``DummyVecEnv`` steps B single envs in a Python loop; :class:`BatchedVecEnv` hands the whole
batch of actions to the model's :class:`~irs_gym.envs.core.IRSVectorEnv` (in Gymnasium's
``SAME_STEP`` autoreset mode, which is SB3's convention) and only converts the batched info
dict into SB3's list of per-env dicts. Sub-env ``i`` is seeded ``seed + i`` and draws its
realisations from its own generator, so the transitions (observations, rewards, dones,
``terminal_observation``, infos) equal those of ``DummyVecEnv`` over ``gym.make`` copies with
the same seeds (tested in ``tests/agents/test_agents_vec_env.py``).

The batched env's methods are batch-first, so :meth:`BatchedVecEnv.env_method` calls a method
once and hands sub-env ``i`` row ``i`` of the result; that is how sb3-contrib's
``MaskablePPO`` gets the ``[num_envs, K]`` action masks of
``BlockAllocation-v0``'s sequential mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn


def make_batched(
    env_id: str,
    num_envs: int,
    env_kwargs: dict[str, Any] | None = None,
    autoreset_mode: AutoresetMode = AutoresetMode.NEXT_STEP,
) -> gym.vector.VectorEnv:
    """``gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point")``: the
    irs_gym native batched env (``render_mode`` in ``env_kwargs`` is dropped: the batched env
    takes none)."""
    kwargs = {k: v for k, v in (env_kwargs or {}).items() if k != "render_mode"}
    return gym.make_vec(
        env_id,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=autoreset_mode,
        **kwargs,
    )


class BatchedVecEnv(VecEnv):
    """SB3 view of ``gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point")``.

    Args:
        env_id: a registered irs_gym id.
        num_envs: batch size B.
        env_kwargs: ``gymnasium.make`` kwargs (Config overrides and env options).
    """

    def __init__(self, env_id: str, num_envs: int, env_kwargs: dict[str, Any] | None = None):
        self.venv = make_batched(env_id, num_envs, env_kwargs, AutoresetMode.SAME_STEP)
        super().__init__(
            num_envs, self.venv.single_observation_space, self.venv.single_action_space
        )
        self._actions: np.ndarray | None = None

    # Stepping ---------------------------------------------------------------------------
    def reset(self):
        seeds = [None if s is None else int(s) for s in self._seeds]
        seed: int | list[int | None] | None = None if all(s is None for s in seeds) else seeds
        obs, _ = self.venv.reset(seed=seed)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_async() must be called before step_wait()")
        obs, rewards, terminated, truncated, info = self.venv.step(self._actions)
        self._actions = None
        dones = terminated | truncated
        infos = self._split(info, dones, truncated & ~terminated)
        return obs, rewards.astype(np.float32), dones, infos

    def _split(self, info: dict[str, Any], dones: np.ndarray, time_limit: np.ndarray):
        """Gymnasium's batched info -> SB3's per-env dicts (the step's own info for an env
        whose episode ended, with its final observation as ``terminal_observation``)."""
        keys = [k for k in info if not k.startswith("_") and k not in ("final_obs", "final_info")]
        infos: list[dict[str, Any]] = []
        for i in range(self.num_envs):
            if dones[i]:
                item = dict(info["final_info"][i])
                item["terminal_observation"] = info["final_obs"][i]
            else:
                item = {k: info[k][i] for k in keys}
            item["TimeLimit.truncated"] = bool(time_limit[i])  # as DummyVecEnv sets it
            infos.append(item)
        return infos

    def close(self) -> None:
        self.venv.close()

    # Introspection (SB3's VecEnv API; attributes live on the batched env) -----------------
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise AttributeError(
            f"BatchedVecEnv cannot set {attr_name!r} per sub-env: the batch shares one env"
        )

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        """Row ``i`` of the batched env's ``method_name(...)`` for each sub-env ``i`` (one
        call for the whole batch; the result must be an array with ``num_envs`` rows)."""
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        if not (isinstance(result, np.ndarray) and result.shape[:1] == (self.num_envs,)):
            raise ValueError(
                f"BatchedVecEnv.env_method({method_name!r}) needs a batch-first method (an "
                f"array with num_envs={self.num_envs} rows), got {type(result).__name__} "
                f"{getattr(result, 'shape', '')}"
            )
        return [result[i] for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None] * self.num_envs
