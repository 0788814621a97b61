"""Env-test cases of model 001 (``irs_gym/MmWaveUplinkPower-v0``); see ``conftest.py``."""

from typing import Any

ENV_ID = "irs_gym/MmWaveUplinkPower-v0"

#: Small config that keeps every test fast (M = 8 elements, N = 4, K = 2).
SMALL: dict[str, Any] = dict(num_ap_antennas=4, elements_h=4, elements_v=2)

#: Extra kwargs (on top of SMALL) that change the action space, the decision or the channels
#: while every action stays feasible (phases only; perfect CSI). ``control="phases_and_powers"``
#: and ``csi_uncertainty > 0`` can miss latency targets by design; they are tested in
#: ``test_envs_mmwave_uplink.py``.
VARIANTS: list[dict[str, Any]] = [
    {"num_user_antennas": 2},
    {"phase_action": "beams", "num_user_antennas": 2},
    {"phase_action": "beams", "beam_weights": "cartesian"},
    {"num_users": 1, "blockage_prob": 0.0},
    {"carrier_ghz": 73, "blockage_prob": (0.0, 1.0)},
]

#: Variants whose action can express any solver decision (phases; powers from the inner loop).
#: Without the IRS the action is inert (every phase gives the same decision), hence not a
#: VARIANT, but the no-IRS baseline's decision must still round-trip.
SOLVER_VARIANTS: list[dict[str, Any]] = [
    {},
    {"num_user_antennas": 2},
    {"irs_enabled": False},
]

#: Out-of-range Config values: (field, value); the ValueError must name the field.
BAD_CONFIG: list[tuple[str, Any]] = [
    ("num_users", 0),
    ("num_users", 5),  # more users than num_ap_antennas = 4: MVDR needs N >= K
    ("carrier_ghz", 60),
    ("blockage_prob", 1.5),
    ("blockage_prob", -0.1),
    ("csi_uncertainty", -0.1),
    ("latency_s", 0.0),
    ("latency_s", -0.02),
    ("data_nats", 0.0),
    ("noise_dbm", float("nan")),
    ("elements_h", 0),
    ("num_user_antennas", 0),
    ("max_power_dbm", 100.0),
    ("data_range_nats", (5e6, 1e6)),
    ("user_positions_m", ((75.0, 5.0),)),  # one point for two users
    ("control", "powers"),
    ("power_range_dbm", (10.0, 0.0)),
    ("phase_action", "elementwise"),
    ("beam_weights", "spherical"),
    ("beam_weights", "cartesian"),  # with element phases: refused, not ignored
]
