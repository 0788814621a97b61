"""Env-test cases of model 000 (``irs_gym/BackscatterUplink-v0``); see ``conftest.py``."""

from typing import Any

ENV_ID = "irs_gym/BackscatterUplink-v0"

#: Small config that keeps every test fast (4 UEs, 2 PB antennas, 4 elements per IRS).
SMALL: dict[str, Any] = dict(
    num_cells=2, num_users=2, num_pb_antennas=2, num_bs_antennas=2, num_elements=4
)

#: Extra kwargs (on top of SMALL) that change the action space or the codec.
VARIANTS: list[dict[str, Any]] = [
    {"amplitude_control": True},
    {"uplink": "passive"},
    {"uplink": "active"},
    {"csi_error": 0.2},
    {"action_mode": "schedule"},
    {"phase_action": "beams"},
    {"phase_action": "beams", "uplink": "passive"},
    {"phase_action": "beams", "beam_weights": "cartesian"},
    {"phase_action": "beams", "observation": "large_scale"},
    {"uplink": "passive", "observation": "large_scale"},
    {"num_users": 3, "num_bs_antennas": 1, "num_cells": 3},
]

#: Variants whose action can express any solver decision.
SOLVER_VARIANTS: list[dict[str, Any]] = [
    {},
    {"amplitude_control": True},
    {"uplink": "passive"},
    {"uplink": "active", "num_active_antennas": 8},
    {"csi_error": 0.2},
]

#: Out-of-range Config values: (field, value); the ValueError must name the field.
BAD_CONFIG: list[tuple[str, Any]] = [
    ("num_bs_antennas", 0),
    ("num_elements", 0),
    ("num_cells", 0),
    ("num_cells", 5),
    ("num_users", 0),
    ("num_users", 1.5),
    ("num_pb_antennas", 0),
    ("pb_power_dbm", -31.0),
    ("pb_power_dbm", float("nan")),
    ("ue_power_dbm", -40.0),
    ("noise_dbm", 5.0),
    ("csi_error", -0.1),
    ("csi_error", 1.5),
    ("rician_factor", -1.0),
    ("uplink", "hybrid"),
    ("array", "circular"),
    ("num_active_antennas", 0),
    ("weights", (1.0, 2.0)),
    ("amplitude_control", "yes"),
    ("action_mode", "beams"),
    ("phase_action", "element"),
    ("beam_weights", "spherical"),
    ("beam_weights", "cartesian"),  # with element phases: refused, not ignored
    ("observation", "gains"),
]
