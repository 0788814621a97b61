"""``irs_gym/SwiptMassiveMIMO-v0``: model 003 as a Gymnasium environment."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from irs_gym.envs import beams
from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.models import swipt as model
from irs_gym.models.swipt_monte_carlo import monte_carlo_metrics

CONTROLS = ("joint", "phases")
PHASE_ACTIONS = ("elements", "beams")
EVALUATIONS = ("closed_form", "monte_carlo")
EU_ORDERS = ("index", "gain")


def _positive_number(name: str, value: Any, lo: float, hi: float) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not (ok and math.isfinite(float(value)) and lo <= float(value) <= hi):
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    return float(value)


class SwiptTask(ModelTask):
    """Adapter of model 003; see :class:`SwiptMassiveMIMOEnv` for the interface."""

    config_cls = model.SwiptConfig
    OPTIONS: ClassVar[dict[str, Any]] = {
        "control": "joint",
        "evaluation": "closed_form",
        "mc_samples": 200,
        "power_logit_scale": 8.0,
        "constraint_penalty": 10.0,
        "phase_action": "elements",
        "beam_weights": "polar",
        "eu_order": "index",
    }
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = (
        "control",
        "phase_action",
        "beam_weights",
        "eu_order",
        "power_logit_scale",
        "constraint_penalty",
    )
    objective_name = "min_harvested_energy"
    objective_unit = "mJ"
    objective_sense = "max"

    def configure(
        self,
        control: str,
        evaluation: str,
        mc_samples: int,
        power_logit_scale: float,
        constraint_penalty: float,
        phase_action: str,
        beam_weights: str,
        eu_order: str,
    ) -> None:
        if control not in CONTROLS:
            raise ValueError(f"control must be one of {CONTROLS}, got {control!r}")
        if phase_action not in PHASE_ACTIONS:
            raise ValueError(f"phase_action must be one of {PHASE_ACTIONS}, got {phase_action!r}")
        if evaluation not in EVALUATIONS:
            raise ValueError(f"evaluation must be one of {EVALUATIONS}, got {evaluation!r}")
        if eu_order not in EU_ORDERS:
            raise ValueError(f"eu_order must be one of {EU_ORDERS}, got {eu_order!r}")
        if not (
            isinstance(mc_samples, int | np.integer)
            and not isinstance(mc_samples, bool)
            and 1 <= mc_samples <= 10**7
        ):
            raise ValueError(f"mc_samples must be an integer in [1, 1e7], got {mc_samples!r}")
        self.power_logit_scale = _positive_number("power_logit_scale", power_logit_scale, 0.1, 50.0)
        self.constraint_penalty = _positive_number("constraint_penalty", constraint_penalty, 0, 1e6)
        self.control, self.evaluation, self.mc_samples = control, evaluation, int(mc_samples)
        self.phase_action, self.eu_order = phase_action, eu_order
        self.beam_weights = beams.check_form(beam_weights, phase_action)
        cfg = self.config
        self.num_phase_actions = (
            cfg.num_elements if phase_action == "elements" else 2 * cfg.num_energy_users
        )
        size = self.num_phase_actions + (cfg.num_streams + 1 if control == "joint" else 0)
        self.action_space = spaces.Box(-1.0, 1.0, (size,), np.float32)

    def sample_batch(self, rng, batch_shape):
        return model.sample_scenario(self.config, rng, batch_shape)

    def channel_features(self, scenario) -> np.ndarray:
        features = model.observation(self.config, scenario)
        if self.eu_order == "gain":
            L, batch = self.config.num_energy_users, features.shape[:-1]
            rows = features[..., : 6 * L].reshape(*batch, L, 6)
            eu = beams.take_rows(rows, self._order(scenario))
            features = np.concatenate([eu.reshape(*batch, 6 * L), features[..., 6 * L :]], axis=-1)
        if self.phase_action != "beams":
            return features
        overlaps = beams.gram_features(self._unit_beams(scenario))
        return np.concatenate([features, overlaps], axis=-1)

    def channel_feature_size(self) -> int:
        L = self.config.num_energy_users
        return model.observation_size(self.config) + (
            L * (L - 1) if self.phase_action == "beams" else 0
        )

    def _order(self, scenario) -> np.ndarray:
        """EU indices ``[..., K_E]`` in the agent's slot order: strongest RIS-EU gain first
        with ``eu_order="gain"`` (ties by index)."""
        if self.eu_order == "gain":
            return np.argsort(-scenario.varsigma, axis=-1, kind="stable")
        return np.broadcast_to(np.arange(self.config.num_energy_users), scenario.varsigma.shape)

    def _unit_beams(self, scenario, stats: model.SwiptStatistics | None = None) -> np.ndarray:
        """Unit beams of the EUs in slot order (:meth:`_order`)."""
        if stats is None:
            stats = model.statistics(self.config, scenario)
        U = beams.unit_rows(stats.b)
        return U if self.eu_order == "index" else beams.take_rows(U, self._order(scenario))

    def decode(self, action: np.ndarray, scenario) -> model.SwiptDecision:
        cfg = self.config
        P = self.num_phase_actions
        needs_stats = self.phase_action == "beams" or self.control == "phases"
        stats = model.statistics(cfg, scenario) if needs_stats else None
        if self.phase_action == "elements":
            theta = np.exp(1j * np.pi * action[..., :P])
        else:
            theta = beams.beam_phases(
                action[..., :P], self._unit_beams(scenario, stats), self.beam_weights
            )
        if self.control == "phases":
            eta, _ = model.optimal_power(cfg, stats, theta)
        else:
            eta = self._eta_slots(self._split(action[..., P:])[..., :-1], scenario, inverse=True)
        return model.decision_from_eta(theta, eta, cfg.num_info_users)

    def _eta_slots(self, eta: np.ndarray, scenario, inverse: bool = False) -> np.ndarray:
        """``eta [..., K_I + K_E]`` with the EU part in slot order (:meth:`_order`), or back
        in EU order with ``inverse``."""
        if self.eu_order == "index":
            return eta
        if scenario is None:
            raise ValueError("eu_order='gain' encodes on the current realisation: reset first")
        order = self._order(scenario)
        if inverse:
            order = np.argsort(order, axis=-1)
        K_I = self.config.num_info_users
        return np.concatenate([eta[..., :K_I], np.take_along_axis(eta[..., K_I:], order, -1)], -1)

    def _beam_action(self, theta: np.ndarray, scenario) -> np.ndarray:
        """:func:`irs_gym.envs.beams.beam_action` on this realisation's beams (75-93 % of
        opt_phase_opa's objective kept on seeds 30000..30003)."""
        if scenario is None:
            raise ValueError("phase_action='beams' encodes on the current realisation: reset first")
        return beams.beam_action(theta, self._unit_beams(scenario), self.beam_weights)

    def _split(self, logits: np.ndarray) -> np.ndarray:
        """Masked softmax: entries <= -1 are off, the rest share the budget by
        exp(scale * a); all off means all on."""
        on = logits > -1.0
        on = np.where(on.any(axis=-1, keepdims=True), on, True)
        z = np.where(on, self.power_logit_scale * logits, -np.inf)
        weights = np.exp(z - z.max(axis=-1, keepdims=True))
        return weights / weights.sum(axis=-1, keepdims=True)

    def encode(self, decision: model.SwiptDecision, scenario=None) -> np.ndarray:
        if self.phase_action == "elements":
            parts = [np.angle(decision.theta) / np.pi]
        else:
            parts = [self._beam_action(decision.theta, scenario)]
        if self.control == "joint":
            eta = self._eta_slots(np.maximum(decision.eta, 0.0), scenario)
            slack = np.maximum(1.0 - eta.sum(axis=-1, keepdims=True), 0.0)
            v = np.concatenate([eta, slack], axis=-1)
            peak = v.max(axis=-1, keepdims=True)
            ratio = v / np.where(peak > 0, peak, 1.0)
            with np.errstate(divide="ignore"):
                logits = 1.0 + np.log(ratio) / self.power_logit_scale
            parts.append(np.where(ratio > 0, logits, -1.0))
        return np.clip(np.concatenate(parts, axis=-1), -1.0, 1.0).astype(np.float32)

    def default_decision(self, scenario) -> model.SwiptDecision:
        return model.default_decision(self.config, scenario)

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        if self.evaluation == "monte_carlo":
            return monte_carlo_metrics(self.config, scenario, decision, num_samples=self.mc_samples)
        return model.metrics(self.config, scenario, decision)

    def info_keys(self) -> tuple[str, ...]:
        return ("q_bar_j", "harvested_j", "se_bps_hz", "min_se_bps_hz", "power")


class SwiptMassiveMIMOEnv(IRSEnv):
    """RIS-aided massive-MIMO SWIPT: max-min harvested energy under SE targets (model 003,
    Mohammadi, Ngo, Matthaiou, IEEE TCOM 2025).

    ## Description

    A BS with ``num_bs_antennas`` (M) antennas serves ``num_info_users`` (K_I) information
    users (IUs) with ZF and ``num_energy_users`` (K_E) energy users (EUs) that it reaches only
    through a RIS of ``num_elements`` (N, a square USPA) elements. One step is one
    **slow-timescale** decision: the RIS phases theta and the power split eta, chosen from
    statistical CSI (positions, angles, path gains) and kept over many coherence blocks. The
    env scores it with the paper's closed forms (averages over the fast fading, pilots and
    estimates; spec ``003-swipt-massive-mimo.md`` sections 3-5): the average received energy
    Q_bar_l of every EU, its harvested energy Phi(Q_bar_l) through the logistic EH model,
    and every IU's SE (hardening bound). ``evaluation="monte_carlo"`` measures the same
    quantities on ``mc_samples`` sampled coherence blocks instead (the same draws for every
    decision on a realisation).

    ## Action Space

    Default (``control="joint"``) ``Box(-1, 1, (N + K_I + K_E + 1,), float32)``:

    | index | meaning | decoded as | unit |
    |---|---|---|---|
    | 0 .. N-1 | phase of RIS element n (USPA, row-major) | theta_n = exp(j pi a_n) | rad/pi |
    | N .. N+K_I-1 | power logit of IU stream k | eta^I_k (masked softmax [1]) | - |
    | N+K_I .. N+K_I+K_E-1 | power logit of EU stream l | eta^E_l | - |
    | N+K_I+K_E | logit of the unused power (slack) | discarded | - |

    [1] eta = softmax(s a) over the K_I + K_E + 1 entries (s = ``power_logit_scale``, 8),
    where an entry at or below -1 is switched off (0) and all entries off means all on. So
    every action meets the budget sum(eta) <= 1 with eta >= 0. ``encode`` inverts it for any
    decision whose non-zero powers are within a factor exp(2 s) of the largest.
    ``control="phases"``: ``Box(-1, 1, (N,))``, only the phases; eta is the optimum of the
    power LP of spec 7.1 for them (max-min Q_bar under the budget and the SE targets), or
    equal powers where the targets cannot be met.

    ``phase_action="beams"`` replaces the N phase entries by 2 K_E beam weights (an
    agent-side parametrisation, our addition; the decision space it reaches is a subset of
    the paper's): entries l and K_E + l give w_l = (1 + a_l) / 2 exp(j pi a_{K_E+l}) (the default
    ``beam_weights="polar"``; :mod:`irs_gym.envs.beams`) and
    theta_n = exp(j arg sum_l w_l b_{l,n} / ||b_l||), with b_l the cascaded LoS vector of EU
    l (spec section 3), whose phases alone maximise EU l's coherent gain |theta^H b_l|. The
    agent then learns K_E complex weights instead of N phases that wrap with the element
    index. On seeds 30000..30007 at the defaults with ``control="phases"``, weights tuned
    per realisation (Nelder-Mead) reach 1.48 mJ on average, the reference ``opt_phase_opa``
    1.15 mJ, equal weights 0.64 mJ and ``dft_phase_opa`` 0.040 mJ. ``encode`` projects a
    decision's theta onto the family (least squares over w): an approximation, not an
    inverse.

    ``eu_order="gain"`` (an agent-side option, our addition) lists the EUs by decreasing
    RIS-EU gain varsigma_l instead of by index, in the observation and in the action alike:
    slot s is the EU with the s-th largest gain, and the per-EU observation rows, the beam
    overlaps, the beam weights and the EU power logits all refer to slots. The objective and
    the constraints are symmetric in the EUs, so this canonical order spares an MLP learning
    the same map once per relabelling of the K_E EUs (K_E! = 24 at the defaults).
    Measured with PPO's preset (``control="phases"``, beam action, held-out seeds
    20000..20063, mean of seeds 0 and 1): 0.746 of ``opt_phase_opa``'s objective after 30k
    steps against 0.678 by index, 0.799 after 120k steps, 0.913 after 1M.

    ## Observation Space

    ``Box(-F, F, (6 K_E + 2 K_I,), float32)`` (F the largest finite float32; with
    ``phase_action="beams"`` K_E (K_E - 1) more): the statistical CSI the optimisers use.
    The beam overlaps (u_l = b_l / ||b_l||, :func:`irs_gym.envs.beams.gram_features`) say how
    the beam weights interfere, which an MLP does not compute from the cosines.

    | index | meaning | unit |
    |---|---|---|
    | 6l + 0, 6l + 1 | cos, sin of pi (u_y(EU l) - u_y(BS)), cosines seen from the RIS | - |
    | 6l + 2, 6l + 3 | cos, sin of pi (u_z(EU l) - u_z(BS)) (with the above they fix b_l) | - |
    | 6l + 4 | log10(varsigma_l / varsigma_ref), RIS-EU gain vs the EU-zone centre | dB/10 |
    | 6l + 5 | gamma_l / r_l, EU estimation quality | - |
    | 6K_E + 2k | log10(beta_k / beta_ref), BS-IU gain vs the IU-zone centre | dB/10 |
    | 6K_E + 2k + 1 | gamma_k / beta_k, IU estimation quality | - |
    | beams: next K_E (K_E - 1) | Re, then Im, of the beam overlaps u_i^H u_j, i < j | - |
    | static mode: next A entries | last action (in [-1, 1]) | - |
    | static mode: last entry | last reward | mJ |

    ## Rewards

    min_l Phi(Q_bar_l) in mJ (the objective) minus ``constraint_penalty`` (10 mJ per bit/s/Hz)
    times the summed SE shortfall sum_k max(0, SE target_k - SE_k) (bit/s/Hz). The objective
    is about 1e-3 mJ for theta = 1 and up to a few mJ for optimised phases at the defaults;
    the EH model saturates at P_max = 24 mJ.

    ## Starting State

    ``reset`` draws the EU positions (half-disc of radius 5 m below the RIS, facing the BS)
    and the IU positions (disc of radius 20 m around (0, 100, 0) m), hence the angles and
    path gains. ``info`` at reset scores theta = 1 with equal powers.

    ## Episode End

    Never terminates; truncated after ``max_episode_steps`` (50 by registration).
    ``channel_mode="iid"`` draws a new realisation after every step, ``"static"`` keeps one
    per episode. ``"markov"`` is not defined (the state is slow-timescale statistics).

    ## Info

    ``objective`` (mJ), ``objective_name`` (``min_harvested_energy``), ``objective_unit``,
    ``objective_sense`` (``"max"``), ``feasible`` (SE targets met to 1e-5 bit/s/Hz),
    ``constraint_violation`` (SE shortfall, bit/s/Hz), ``q_bar_j`` (per-EU average received
    energy, J), ``harvested_j`` (per-EU Phi(Q_bar), J), ``se_bps_hz`` (per-IU SE),
    ``min_se_bps_hz``, ``power`` (sum of eta).

    ## Arguments

    Every field of :class:`irs_gym.models.swipt.SwiptConfig` (``num_bs_antennas``,
    ``num_elements``, ``num_info_users``, ``num_energy_users``, ``pilot_reuse_energy``,
    ``precoder`` ("pzf" or "ppzf"), ``se_target_bps_hz``, ``eh_model``, ``angles``,
    ``exact_cross_corr``, ...) plus ``channel_mode`` ("iid", "static"), ``control``
    ("joint", "phases"), ``evaluation`` ("closed_form", "monte_carlo"), ``mc_samples``
    (200), ``power_logit_scale`` (8), ``constraint_penalty`` (10), ``phase_action``
    ("elements", "beams") and, with ``phase_action="beams"``, ``beam_weights`` ("polar",
    "cartesian", :mod:`irs_gym.envs.beams`), ``eu_order`` ("index", "gain"). Unknown or
    out-of-range values raise ``ValueError``.

    ## Version History

    * v0: initial version.
    """

    task_cls = SwiptTask


class SwiptMassiveMIMOVectorEnv(IRSVectorEnv):
    """Batched :class:`SwiptMassiveMIMOEnv` (same arguments, plus ``num_envs``)."""

    task_cls = SwiptTask
