"""Env-test cases of model 002 (``irs_gym/BlockAllocation-v0``); see ``conftest.py``.

The sequential action mode (one block per step, episodes that terminate) is not a variant
here: the generic tests assume one whole decision per step. It has its own tests in
``test_envs_block_allocation_sequential.py``.
"""

from typing import Any

ENV_ID = "irs_gym/BlockAllocation-v0"

#: Small config that keeps every test fast (K = 4 users, n_b = 3 blocks).
SMALL: dict[str, Any] = dict(num_users=4, block_size=50)

#: Extra kwargs (on top of SMALL) that change the action space or the codec.
VARIANTS: list[dict[str, Any]] = [
    {"action_mode": "multidiscrete"},
    {"assisted_users": 2},
    {"assisted_users": 3, "action_mode": "multidiscrete"},
    {"antenna_gains": "bjornson", "user_placement": "radius", "bs_type": "micro"},
]

#: Variants whose action can express any solver decision (every action mode can).
SOLVER_VARIANTS: list[dict[str, Any]] = [
    {},
    {"assisted_users": 1},
    {"assisted_users": 2, "action_mode": "multidiscrete"},
    {"action_mode": "multidiscrete", "antenna_gains": "physical"},
]

#: Out-of-range Config values: (field, value); the ValueError must name the field.
BAD_CONFIG: list[tuple[str, Any]] = [
    ("num_users", 0),
    ("num_users", 2.5),
    ("block_size", 151),  # n_b = num_elements / block_size < 1
    ("block_size", 0),
    ("block_size", 40),  # does not divide num_elements = 150
    ("num_elements", 0),
    ("assisted_users", 0),
    ("assisted_users", 4),  # > min(K, n_b) = 3
    ("cell_radius_m", 5.0),  # below min_distance_m = 10
    ("cell_radius_m", float("nan")),
    ("irs_distance_m", 0.0),
    ("rate_bps", -1.0),
    ("rate_bps", 1e9),  # R_b K / B_T = 400 bit/s/Hz
    ("bandwidth_hz", 0.0),
    ("reflection_amplitude", 1.5),
    ("min_distance_m", 0.0),
    ("antenna_gains", "d"),
    ("user_placement", "gaussian"),
    ("bs_type", "satellite"),
    ("action_mode", "continuous"),
    ("channel_mode", "markov"),  # no fading to correlate
]
