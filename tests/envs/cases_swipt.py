"""Env-test cases of model 003 (``irs_gym/SwiptMassiveMIMO-v0``); see ``conftest.py``."""

from typing import Any

ENV_ID = "irs_gym/SwiptMassiveMIMO-v0"

#: Small config that keeps every test fast. The SE target is 0 here because the generic codec
#: test asks every random action to decode to a feasible decision, and an SE target is a
#: coupling constraint that a random power split can miss (its violation is penalised, not
#: prevented, by design); tests/models and tests/baselines cover active targets.
SMALL: dict[str, Any] = dict(
    num_bs_antennas=8,
    num_elements=4,
    num_info_users=2,
    num_energy_users=2,
    se_target_bps_hz=0.0,
)

#: Extra kwargs (on top of SMALL) that change the action space, the codec or the scoring.
VARIANTS: list[dict[str, Any]] = [
    {"control": "phases"},
    {"phase_action": "beams"},
    {"phase_action": "beams", "beam_weights": "cartesian", "control": "phases"},
    {"phase_action": "beams", "eu_order": "gain"},
    {"eu_order": "gain", "control": "phases"},
    {"evaluation": "monte_carlo", "mc_samples": 16},
    {"precoder": "ppzf", "pilot_reuse_energy": 2},
    {"angles": "random", "exact_cross_corr": True, "power_logit_scale": 3.0},
]

#: Variants whose action can express any solver decision (powers in the action, closed form).
SOLVER_VARIANTS: list[dict[str, Any]] = [
    {},
    {"se_target_bps_hz": 1.0},
    {"precoder": "ppzf", "pilot_reuse_energy": 2, "se_target_bps_hz": (0.5, 1.5)},
]

#: Out-of-range Config values and env options: (field, value); the ValueError names the field.
BAD_CONFIG: list[tuple[str, Any]] = [
    ("num_elements", 8),  # not a perfect square (USPA)
    ("num_elements", 0),
    ("num_bs_antennas", 2),  # M <= tau_I = 2: ZF impossible
    ("num_energy_users", 0),
    ("pilot_reuse_energy", 3),  # more than K_E = 2 EUs per pilot
    ("coherence_symbols", 4),  # no downlink symbol left after tau_p = 4 pilots
    ("tx_power_dbm", float("nan")),
    ("rician_factor_db", float("inf")),
    ("se_target_bps_hz", -1.0),
    ("se_target_bps_hz", (1.0, 1.0, 1.0)),
    ("eh_model", "linear"),
    ("precoder", "mrt"),
    ("angles", "uniform"),
    ("control", "powers"),
    ("evaluation", "exact"),
    ("mc_samples", 0),
    ("power_logit_scale", 0.0),
    ("constraint_penalty", -1.0),
    ("phase_action", "elementwise"),
    ("beam_weights", "spherical"),
    ("beam_weights", "cartesian"),  # with element phases: refused, not ignored
    ("eu_order", "random"),
]
