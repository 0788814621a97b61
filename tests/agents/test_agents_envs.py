"""Command-line env kwargs and env signatures."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agents.envs import env_name, env_signature, parse_env_kwargs, parse_kv, signature_diff
from agents.runs import run_name


def test_parse_env_kwargs_values():
    kw = parse_env_kwargs(
        [
            "num_users=2",
            "tx_power_dbm=10.5",
            "objective=min_rate",
            "inter_irs=true",
            "weights=(1, 2)",
            "irs_positions_m=[[1, 2, 3]]",
            "precoder=None",
        ]
    )
    assert kw == {
        "num_users": 2,
        "tx_power_dbm": 10.5,
        "objective": "min_rate",
        "inter_irs": True,
        "weights": (1, 2),
        "irs_positions_m": ((1, 2, 3),),
        "precoder": None,
    }
    assert parse_kv(["policy_kwargs={'net_arch': [8]}"], tuples=False) == {
        "policy_kwargs": {"net_arch": [8]}
    }


@pytest.mark.parametrize("bad", [["num_users"], ["=2"], ["a=1", "a=2"]])
def test_parse_env_kwargs_errors(bad):
    with pytest.raises(ValueError):
        parse_env_kwargs(bad)


def test_signature_ignores_explicit_defaults_and_names_differences(tiny):
    env_id = tiny["env_id"]
    a = env_signature(gym.make(env_id, **tiny["kwargs"]))
    b = env_signature(gym.make(env_id, channel_mode="iid", **tiny["kwargs"]))
    assert a == b and signature_diff(a, b) == []
    c = env_signature(gym.make(env_id, **{**tiny["kwargs"], "num_users": 3}))
    assert signature_diff(a, c) == ["num_users: 2 != 3"]


def test_names():
    assert env_name("irs_gym/MultiIRSDownlink-v0") == "MultiIRSDownlink-v0"
    assert run_name("irs_gym/MultiIRSDownlink-v0", "sac", 3) == "MultiIRSDownlink-v0__sac__s3"
