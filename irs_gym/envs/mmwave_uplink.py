"""``irs_gym/MmWaveUplinkPower-v0``: model 001 as a Gymnasium environment."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from irs_gym.envs import beams
from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.models import mmwave_uplink as model
from irs_gym.physics import dbm_to_w, w_to_dbm

CONTROLS = ("phases", "phases_and_powers")
PHASE_ACTIONS = ("elements", "beams")
#: Upper end of the power action (dBm) when the config sets no cap, and the span below it.
DEFAULT_POWER_TOP_DBM = 30.0
DEFAULT_POWER_SPAN_DB = 60.0


class MmWaveUplinkTask(ModelTask):
    """Adapter of model 001; see :class:`MmWaveUplinkPowerEnv` for the interface."""

    config_cls = model.MmWaveUplinkConfig
    OPTIONS: ClassVar[dict[str, Any]] = {
        "control": "phases",
        "power_range_dbm": None,
        "phase_action": "elements",
        "beam_weights": "polar",
    }
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = (
        "control",
        "power_range_dbm",
        "phase_action",
        "beam_weights",
    )
    supports_markov = True
    objective_name = "total_power"
    objective_unit = "dBm"
    objective_sense = "min"
    reward_scale = 0.1
    constraint_penalty = 10.0

    def configure(
        self,
        control: str,
        power_range_dbm: tuple[float, float] | None,
        phase_action: str,
        beam_weights: str,
    ) -> None:
        cfg = self.config
        if control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")
        if phase_action not in PHASE_ACTIONS:
            raise ValueError(f"phase_action must be one of {PHASE_ACTIONS}, got {phase_action!r}")
        if power_range_dbm is None:
            top = DEFAULT_POWER_TOP_DBM if cfg.max_power_dbm is None else cfg.max_power_dbm
            power_range_dbm = (top - DEFAULT_POWER_SPAN_DB, top)
        ok = (
            isinstance(power_range_dbm, tuple | list)
            and len(power_range_dbm) == 2
            and all(
                isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
                for x in power_range_dbm
            )
            and -100.0 <= power_range_dbm[0] < power_range_dbm[1] <= 60.0
        )
        if not ok:
            raise ValueError(
                "power_range_dbm must be (low, high) dBm with -100 <= low < high <= 60, "
                f"got {power_range_dbm!r}"
            )
        if cfg.max_power_dbm is not None and power_range_dbm[1] > cfg.max_power_dbm:
            raise ValueError(
                f"power_range_dbm must end at or below max_power_dbm={cfg.max_power_dbm}, "
                f"got {power_range_dbm!r}"
            )
        self.control, self.phase_action = control, phase_action
        self.beam_weights = beams.check_form(beam_weights, phase_action)
        self.power_low_dbm, self.power_high_dbm = map(float, power_range_dbm)
        self.num_phase_actions = (
            cfg.num_elements if phase_action == "elements" else 2 * cfg.num_users
        )
        size = self.num_phase_actions + (cfg.num_users if control == "phases_and_powers" else 0)
        self.action_space = spaces.Box(-1.0, 1.0, (size,), np.float32)

    def sample_batch(self, rng, batch_shape):
        return model.sample_scenario(self.config, rng, batch_shape)

    def evolve(self, scenario, rng):
        return model.evolve_scenario(self.config, scenario, rng, self.options["rho"])

    def channel_features(self, scenario) -> np.ndarray:
        return model.observation(self.config, scenario)

    def channel_feature_size(self) -> int:
        return model.observation_size(self.config)

    def _unit_beams(self, scenario) -> np.ndarray:
        return beams.unit_rows(model.reflection_beams(self.config, scenario))

    def decode(self, action: np.ndarray, scenario) -> model.MmWaveUplinkDecision:
        P = self.num_phase_actions
        if self.phase_action == "elements":
            theta = np.exp(1j * np.pi * action[..., :P])
        else:
            theta = beams.beam_phases(
                action[..., :P], self._unit_beams(scenario), self.beam_weights
            )
        if self.control == "phases":
            return model.decision_for_phases(self.config, scenario, theta)[0]
        span = self.power_high_dbm - self.power_low_dbm
        power_dbm = self.power_high_dbm - span * (1.0 - action[..., P:]) / 2.0
        return model.decision_for_powers(self.config, scenario, theta, dbm_to_w(power_dbm))

    def encode(self, decision: model.MmWaveUplinkDecision, scenario=None) -> np.ndarray:
        if self.phase_action == "elements":
            parts = [np.angle(decision.theta) / np.pi]
        elif scenario is None:
            raise ValueError("phase_action='beams' encodes on the current realisation: reset first")
        else:
            parts = [
                beams.beam_action(decision.theta, self._unit_beams(scenario), self.beam_weights)
            ]
        if self.control == "phases_and_powers":
            span = self.power_high_dbm - self.power_low_dbm
            power_dbm = w_to_dbm(np.maximum(decision.power_w, 1e-300))
            parts.append(1.0 - 2.0 * (self.power_high_dbm - power_dbm) / span)
        return np.clip(np.concatenate(parts, axis=-1), -1.0, 1.0).astype(np.float32)

    def default_decision(self, scenario) -> model.MmWaveUplinkDecision:
        return model.default_decision(self.config, scenario)

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        return model.metrics(self.config, scenario, decision)

    def info_keys(self) -> tuple[str, ...]:
        return (
            "total_power_w",
            "power_w",
            "sinr",
            "target_sinr",
            "latency_s",
            "sum_rate_bps",
        )


class MmWaveUplinkPowerEnv(IRSEnv):
    """IRS-assisted uplink mmWave: minimum user power under latency targets (model 001,
    Cao, Lv, Lin, Ni, arXiv:1912.10030).

    ## Description

    ``num_users`` (K) users with ``num_user_antennas`` (N_u) antennas send D_k nats within
    T_k seconds to an AP with ``num_ap_antennas`` (N) antennas, directly (LoS-only, or
    NLoS-only when blocked with probability ``blockage_prob``) and through an IRS of
    M = ``elements_h`` x ``elements_v`` elements, at 28 or 73 GHz (Akdeniz path loss with
    shadowing; spec ``001-mmwave-uplink-latency.md``, sections 1-4, 8). The latency target is
    the SINR target gamma_bar_k = exp(D_k / (B T_k)) - 1. The agent sets the IRS phases; by
    default the env then computes the powers and MVDR detectors of the paper's inner loop
    (fixed point of (18) + MVDR (22), iterated: spec 5.4 steps a-c), so the reward is the
    minimum total power reachable with those phases. The paper's solvers (Algorithm 1 with
    CCMO, ADMM or SDR) are in ``baselines.for_env("irs_gym/MmWaveUplinkPower-v0")``.

    ## Action Space

    Default (``control="phases"``) ``Box(-1, 1, (M,), float32)``: theta_m = exp(j pi a_m)
    (element m = m_h M_v + m_v, eq. (6)). Every action is a valid decision; phases are kept
    on the float32 grid of a, so ``decode(encode(d)) = d`` for every decision the solvers
    return.

    ``control="phases_and_powers"``: ``Box(-1, 1, (M + K,), float32)``; entries M .. M+K-1
    set each user's power in dBm, linearly from ``power_range_dbm[0]`` (a = -1) to
    ``power_range_dbm[1]`` (a = +1) (default: p_max - 60 dB to p_max, with p_max =
    ``max_power_dbm`` or 30 dBm without a cap); detectors are MVDR for those powers, and for
    N_u > 1 each user beamforms on its strongest singular direction. Latency targets can then
    be missed (``feasible=False``, penalised).

    ``phase_action="beams"`` replaces the M phase entries by 2K beam weights (then the power
    entries, if any): theta = exp(j arg sum_k w_k b_k / ||b_k||), w_k = (1 + a_k) / 2
    exp(j pi a_{K+k}) (the default ``beam_weights="polar"``; :mod:`irs_gym.envs.beams`), where b_k
    (:func:`irs_gym.models.mmwave_uplink.reflection_beams`) holds the phases that make user
    k's cascade coherent at the AP. The zero action weighs the users' beams equally (32
    realisations, seeds 20000..: 15.8 dBm total power against 17.8 dBm for theta = 1; CCMO
    about 14.9); per-realisation Nelder-Mead weights matched CCMO to 0.1 dB on 6 seeds.
    ``encode`` is then a least-squares projection onto the family, exact for one beam's
    phases, approximate otherwise.

    ## Observation Space

    ``Box(-F, F, (D,), float32)`` (F: the largest finite float32), D =
    2KNN_u + 2NM + 2KMN_u + 2K, channels divided by the RMS entry of their LoS path at the
    median path loss (unit mean power at the nominal distances, before shadowing):

    | index | meaning | unit |
    |---|---|---|
    | 0 .. KNN_u-1 | Re H_d[k, n, s] (AP <- user k, direct) / LoS RMS of user k | - |
    | .. +KNN_u | Im H_d | - |
    | .. +NM | Re G[n, m] (AP <- IRS) / its RMS | - |
    | .. +NM | Im G | - |
    | .. +KMN_u | Re H_r[k, m, s] (IRS <- user k), the *estimate* when delta > 0 | - |
    | .. +KMN_u | Im H_r (estimate) | - |
    | .. +K | b_k: 1 if user k's direct LoS path is available | - |
    | .. +K | D_k / (B T_k), required spectral efficiency | nat/s/Hz |
    | static mode: next entries | last action (in [-1, 1]) | - |
    | static mode: last entry | last reward | - |

    ## Rewards

    ``-0.1 * P_total[dBm] - 10 * constraint_violation``: ``P_total`` is the total transmit
    power (``info["objective"]``), the violation is the sum over users of the relative SINR
    shortfall max(0, 1 - gamma_k / gamma_bar_k) (the latency constraint (7c)) plus the relative
    excess over the cap. A 1 dB power saving is worth 0.1; missing one user's target by 10 %
    costs 1. When the phases admit no feasible power vector (rho(F) >= 1, or a fixed point
    above ``max_power_dbm``), every user transmits ``infeasible_power_dbm`` (or p_max), the
    reward stays finite, and ``feasible=False``.

    ## Starting State

    ``reset`` draws a realisation: blockage, path gains with shadowing, NLoS angles, data
    sizes D_k ~ U[1, 5] 10^6 nats where drawn (one user, or ``data_nats="uniform"``; two users
    default to the fixed (4, 2) 10^6 nats of spec section 9), CSI errors. ``info`` at reset scores
    theta = 1 with its inner-loop powers.

    ## Episode End

    Never terminates; truncated after ``max_episode_steps`` (50 by registration).
    ``channel_mode="iid"`` draws a new realisation after every step, ``"static"`` keeps one
    per episode, ``"markov"`` evolves every small-scale path gain as a Gauss-Markov process
    with ``rho`` (angles, shadowing, blockage and traffic stay; the CSI error is redrawn).

    ## Info

    ``objective`` (total power, dBm), ``objective_name`` (``total_power``),
    ``objective_unit`` (``dBm``), ``objective_sense`` (``"min"``), ``feasible`` (every
    latency target met on the *true* channel, powers within the cap),
    ``constraint_violation``, ``total_power_w``, per user ``power_w``, ``sinr``,
    ``target_sinr``, ``latency_s`` (D_k / (B ln(1 + gamma_k)), capped at 1e6 s), and
    ``sum_rate_bps`` (sum_k B log2(1 + gamma_k)). With ``csi_uncertainty`` delta > 0 the
    decision is designed on the estimated IRS -> user channel (which the agent observes) and
    scored on the true one.

    ## Arguments

    Every field of :class:`irs_gym.models.mmwave_uplink.MmWaveUplinkConfig` (``carrier_ghz``,
    ``num_users``, ``num_ap_antennas``, ``elements_h``, ``elements_v``, ``irs_gain_db``,
    ``latency_s``, ``data_nats``, ``blockage_prob``, ``num_user_antennas``,
    ``csi_uncertainty``, ``max_power_dbm``, ``irs_enabled``, ...) plus ``channel_mode``
    (``"iid"``, ``"static"``, ``"markov"``), ``rho`` (markov, in [0, 1]), ``control``
    (``"phases"`` or ``"phases_and_powers"``), ``power_range_dbm`` and ``phase_action``
    (``"elements"`` or ``"beams"``) and, with ``phase_action="beams"``, ``beam_weights``
    (``"polar"`` or ``"cartesian"``, :mod:`irs_gym.envs.beams`). Unknown or out-of-range
    values raise ``ValueError``.

    ## Version History

    * v0: initial version.
    """

    task_cls = MmWaveUplinkTask


class MmWaveUplinkPowerVectorEnv(IRSVectorEnv):
    """Batched :class:`MmWaveUplinkPowerEnv` (same arguments, plus ``num_envs``)."""

    task_cls = MmWaveUplinkTask
