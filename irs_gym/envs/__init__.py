"""Environments: the generic machinery and one thin class per model."""

from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.envs.multi_irs import MultiIRSDownlinkEnv, MultiIRSDownlinkVectorEnv

__all__ = [
    "IRSEnv",
    "IRSVectorEnv",
    "ModelTask",
    "MultiIRSDownlinkEnv",
    "MultiIRSDownlinkVectorEnv",
]
