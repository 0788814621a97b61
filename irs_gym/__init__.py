"""irs_gym: Gymnasium environments for intelligent reflecting surfaces (IRS).

``import irs_gym`` registers every environment id (namespace ``irs_gym``), e.g.::

    import gymnasium as gym
    import irs_gym  # noqa: F401

    env = gym.make("irs_gym/MultiIRSDownlink-v0", objective="min_rate")
    vec = gym.make_vec("irs_gym/MultiIRSDownlink-v0", num_envs=64)  # native batched env
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

#: Episode length of every registered env (episodes only group steps in iid mode).
MAX_EPISODE_STEPS = 50

ENV_IDS = {
    "irs_gym/BackscatterUplink-v0": ("irs_gym.envs.backscatter", "BackscatterUplink"),
    "irs_gym/MultiIRSDownlink-v0": ("irs_gym.envs.multi_irs", "MultiIRSDownlink"),
    "irs_gym/SwiptMassiveMIMO-v0": ("irs_gym.envs.swipt", "SwiptMassiveMIMO"),
    "irs_gym/MmWaveUplinkPower-v0": ("irs_gym.envs.mmwave_uplink", "MmWaveUplinkPower"),
    "irs_gym/BlockAllocation-v0": ("irs_gym.envs.block_allocation", "BlockAllocation"),
}

for _env_id, (_module, _name) in ENV_IDS.items():
    if _env_id not in registry:
        register(
            id=_env_id,
            entry_point=f"{_module}:{_name}Env",
            vector_entry_point=f"{_module}:{_name}VectorEnv",
            max_episode_steps=MAX_EPISODE_STEPS,
            # The envs raise ResetNeeded themselves; Gymnasium's OrderEnforcing wrapper would
            # only add a Python call to every step.
            order_enforce=False,
        )
