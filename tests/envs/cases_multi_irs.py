"""Env-test cases of model 004 (``irs_gym/MultiIRSDownlink-v0``); see ``conftest.py``."""

from typing import Any

ENV_ID = "irs_gym/MultiIRSDownlink-v0"

#: Small config that keeps every test fast.
SMALL: dict[str, Any] = dict(num_bs_antennas=4, num_elements=4, num_irs=1, num_users=2)

#: Extra kwargs (on top of SMALL) that change the action space or the codec.
VARIANTS: list[dict[str, Any]] = [
    {"phase_levels": 4},
    {"phase_levels": 4, "phase_action": "discrete"},
    {"precoder": "mmse"},
    {"phase_action": "beams", "precoder": "mmse"},
    {"phase_action": "beams", "phase_levels": 4},
    {"phase_action": "beams", "beam_weights": "cartesian", "precoder": "mmse"},
    {"phase_action": "beams", "observation": "beams", "precoder": "mmse"},
    {"phase_action": "beams", "user_order": "snr"},
    {"phase_action": "beams", "observation": "beams", "user_order": "snr", "precoder": "mmse"},
    {"objective": "min_rate"},
    {"num_irs": 2, "num_elements": (4, 8), "inter_irs": True, "reverse_path": True},
]

#: Variants whose action can express any solver decision (the precoder is in the action).
SOLVER_VARIANTS: list[dict[str, Any]] = [
    {},
    {"phase_levels": 4},
    {"objective": "min_rate"},
    {"num_irs": 2, "num_elements": (4, 8), "inter_irs": True, "reverse_path": True},
]

#: Out-of-range Config values: (field, value); the ValueError must name the field.
BAD_CONFIG: list[tuple[str, Any]] = [
    ("num_users", 0),
    ("num_users", 2.5),
    ("tx_power_dbm", 1e9),
    ("tx_power_dbm", float("nan")),
    ("noise_dbm", 10.0),
    ("phase_levels", 1),
    ("phase_levels", -4),
    ("num_irs", 0),
    ("num_bs_antennas", 6),  # not a multiple of elements_per_row = 4
    ("num_elements", 0),
    ("blockage_prob", 1.5),
    ("objective", "sum_power"),
    ("inter_irs", True),  # with num_irs = 1
    ("precoder", "zf"),
    ("phase_action", "binary"),
    ("beam_weights", "spherical"),
    ("beam_weights", "cartesian"),  # with element phases: refused, not ignored
    ("observation", "raw"),
    ("observation", "beams"),  # with element phases
    ("user_order", "gain"),
    ("user_order", "snr"),  # with element phases
]
