"""``irs_gym/MultiIRSDownlink-v0``: model 004 as a Gymnasium environment."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from irs_gym.envs import beams
from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.models import multi_irs as model

PRECODERS = ("action", "mmse")
PHASE_ACTIONS = ("continuous", "discrete", "beams")
OBSERVATIONS = ("channels", "beams")
USER_ORDERS = ("index", "snr")


class MultiIRSTask(ModelTask):
    """Adapter of model 004; see :class:`MultiIRSDownlinkEnv` for the interface."""

    config_cls = model.MultiIRSConfig
    OPTIONS: ClassVar[dict[str, Any]] = {
        "precoder": None,
        "phase_action": "continuous",
        "beam_weights": "polar",
        "observation": "channels",
        "user_order": "index",
    }
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = (
        "precoder",
        "phase_action",
        "beam_weights",
        "observation",
        "user_order",
    )
    supports_markov = True
    objective_unit = "bit/s/Hz"
    objective_sense = "max"

    def configure(
        self,
        precoder: str | None,
        phase_action: str,
        beam_weights: str,
        observation: str,
        user_order: str,
    ) -> None:
        cfg = self.config
        if phase_action not in PHASE_ACTIONS:
            raise ValueError(f"phase_action must be one of {PHASE_ACTIONS}, got {phase_action!r}")
        if precoder is None:
            precoder = "mmse" if phase_action == "discrete" else "action"
        if precoder not in PRECODERS:
            raise ValueError(f"precoder must be one of {PRECODERS}, got {precoder!r}")
        if phase_action == "discrete":
            if cfg.phase_levels < 2:
                raise ValueError(
                    f"phase_action='discrete' needs phase_levels >= 2, got {cfg.phase_levels}"
                )
            if precoder != "mmse":
                raise ValueError(
                    "phase_action='discrete' needs precoder='mmse' (a mixed "
                    "discrete/continuous action space is not supported by SB3)"
                )
        self.precoder, self.phase_action = precoder, phase_action
        self.beam_weights = beams.check_form(beam_weights, phase_action)
        self.observation = beams.beam_option("observation", observation, OBSERVATIONS, phase_action)
        self.user_order = beams.beam_option("user_order", user_order, USER_ORDERS, phase_action)
        if user_order == "snr" and cfg.weights is not None and len(set(cfg.weights)) > 1:
            raise ValueError(
                "user_order='snr' needs equal user weights (the observation does not say "
                f"which slot holds which weight), got weights={cfg.weights!r}"
            )
        M, n_w = cfg.total_elements, 2 * cfg.num_bs_antennas * cfg.num_users
        if phase_action == "discrete":
            self.action_space = spaces.MultiDiscrete(np.full(M, cfg.phase_levels))
        else:
            self.num_phase_actions = M if phase_action == "continuous" else 2 * cfg.num_users
            size = self.num_phase_actions + (n_w if precoder == "action" else 0)
            self.action_space = spaces.Box(-1.0, 1.0, (size,), np.float32)
        self.objective_name = "weighted_sum_rate" if cfg.objective == "wsr" else "weighted_min_rate"

    def sample_batch(self, rng, batch_shape):
        return model.sample_scenario(self.config, rng, batch_shape)

    def evolve(self, scenario, rng):
        return model.evolve_scenario(self.config, scenario, rng, self.options["rho"])

    def channel_features(self, scenario) -> np.ndarray:
        if self.phase_action != "beams":
            return model.observation(self.config, scenario)
        U, snr, order = self._slot_beams(scenario)
        log_snr = np.log10(snr)
        if self.observation == "beams":
            return np.concatenate([log_snr, beams.gram_features(U)], axis=-1)
        features = model.observation(self.config, scenario)
        if order is not None:
            features = self._slot_user_rows(features, order)
        return np.concatenate([features, log_snr], axis=-1)

    def _slot_user_rows(self, features: np.ndarray, order: np.ndarray) -> np.ndarray:
        """The channel observation with the rows of Re h and Im h in slot order."""
        cfg = self.config
        M, K = cfg.total_elements, cfg.num_users
        start, batch = 2 * M * cfg.num_bs_antennas, features.shape[:-1]
        parts = [features[..., :start]]
        for block in range(2):
            lo = start + block * K * M
            rows = beams.take_rows(features[..., lo : lo + K * M].reshape(*batch, K, M), order)
            parts.append(rows.reshape(*batch, K * M))
        parts.append(features[..., start + 2 * K * M :])
        return np.concatenate(parts, axis=-1)

    def channel_feature_size(self) -> int:
        K = self.config.num_users
        if self.observation == "beams":
            return K + K * (K - 1)
        return model.observation_size(self.config) + (K if self.phase_action == "beams" else 0)

    def _slot_beams(self, scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The unit beams ``[..., K, M]`` and the single-beam SNRs ``[..., K]``
        (:func:`~irs_gym.models.multi_irs.single_beam_snr`, observed as log10: which beam is
        worth weighing, in units of 10 dB; an MLP does not read it off the raw channels,
        which hold it only through a product and an SVD) in the agent's slot order, with that
        order (user indices by decreasing SNR, ties by index; None for ``user_order="index"``)."""
        b = model.reflection_beams(self.config, scenario)
        snr = model.single_beam_snr(self.config, scenario, b)
        U = beams.unit_rows(b)
        if self.user_order == "index":
            return U, snr, None
        order = np.argsort(-snr, axis=-1, kind="stable")
        return beams.take_rows(U, order), np.take_along_axis(snr, order, -1), order

    def decode(self, action: np.ndarray, scenario) -> model.MultiIRSDecision:
        cfg = self.config
        n_t, K = cfg.num_bs_antennas, cfg.num_users
        if self.phase_action == "discrete":
            theta = np.exp(2j * np.pi * action / cfg.phase_levels)
        else:
            P = self.num_phase_actions
            if self.phase_action == "continuous":
                theta = np.exp(1j * np.pi * action[..., :P])
            else:
                U, _, order = self._slot_beams(scenario)
                theta = beams.beam_phases(action[..., :P], U, self.beam_weights)
            theta = model.quantize_phases(theta, cfg.phase_levels)
        if self.precoder == "mmse":
            hbar = model.effective_channel(model.normalized(cfg, scenario), theta)
            W = model.mmse_precoder(hbar, cfg.tx_power_w)
        else:
            n = n_t * K
            flat = action[..., P : P + n] + 1j * action[..., P + n : P + 2 * n]
            W = model.scale_to_power(flat.reshape(*flat.shape[:-1], n_t, K), cfg.tx_power_w)
            if self.user_order == "snr":
                W = self._slot_columns(W, np.argsort(order, axis=-1))
        return model.MultiIRSDecision(theta, W)

    @staticmethod
    def _slot_columns(W: np.ndarray, order: np.ndarray) -> np.ndarray:
        """The user columns of ``W [..., N_t, K]`` in the order ``order [..., K]``."""
        return np.take_along_axis(W, order[..., None, :], axis=-1)

    def encode(self, decision: model.MultiIRSDecision, scenario=None) -> np.ndarray:
        cfg = self.config
        angle = np.angle(decision.theta)
        if self.phase_action == "discrete":
            levels = cfg.phase_levels
            return (np.round(angle * levels / (2 * np.pi)) % levels).astype(np.int64)
        if self.phase_action == "continuous":
            parts = [angle / np.pi]
        elif scenario is None:
            raise ValueError("phase_action='beams' encodes on the current realisation: reset first")
        else:
            U, _, order = self._slot_beams(scenario)
            parts = [beams.beam_action(decision.theta, U, self.beam_weights)]
        if self.precoder == "action":
            W = decision.W
            if self.user_order == "snr":
                W = self._slot_columns(W, order)
            W = W.reshape(*W.shape[:-2], -1)
            peak = np.maximum(np.abs(W.real).max(axis=-1), np.abs(W.imag).max(axis=-1))
            peak = np.where(peak > 0, peak, 1.0)[..., None]
            parts += [W.real / peak, W.imag / peak]
        return np.clip(np.concatenate(parts, axis=-1), -1.0, 1.0).astype(np.float32)

    def default_decision(self, scenario) -> model.MultiIRSDecision:
        return model.default_decision(self.config, scenario)

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        return model.metrics(self.config, scenario, decision)

    def info_keys(self) -> tuple[str, ...]:
        return ("wsr_bps_hz", "min_rate_bps_hz", "rate_bps_hz", "power_w")


class MultiIRSDownlinkEnv(IRSEnv):
    """Multi-IRS multi-user MISO downlink (model 004, Zhang et al., arXiv:2201.09031).

    ## Description

    A BS with ``num_bs_antennas`` (N_t) antennas serves ``num_users`` (K) single-antenna users
    through ``num_irs`` (L) IRSs of ``num_elements`` elements each (M in total), with no direct
    link. The agent chooses the stacked IRS phases theta and, by default, the precoder W; the
    reward is the paper's objective: the weighted sum rate (``objective="wsr"``, problem P1)
    or the weighted minimum rate (``objective="min_rate"``, P6). Channels are Saleh-Valenzuela
    with free-space path loss at 3 GHz (spec ``004-multi-irs-manifold.md``, sections 1-3, 8).

    ## Action Space

    Default ``Box(-1, 1, (M + 2 N_t K,), float32)``:

    | index | meaning | decoded as | unit |
    |---|---|---|---|
    | 0 .. M-1 | phase of element m (IRS1, IRS2, ...) | theta_m = exp(j pi a_m) [1] | rad/pi |
    | M .. M+N_tK-1 | Re W[n, k] (row-major, n antenna, k user) | W = sqrt(P) A / ||A||_F | - |
    | M+N_tK .. M+2N_tK-1 | Im W[n, k] | (same) | - |

    [1] rounded to the nearest of Q levels when ``phase_levels`` = Q > 0.

    So every action is feasible: unit-modulus (or on-grid) phases, ``||W||_F^2 = P``. The
    encoder divides W by its largest real/imaginary entry, so ``decode(encode(d)) = d`` for
    every decision at full power (all solvers' outputs). ``precoder="mmse"`` drops the W part:
    W is the MMSE precoder (spec (51)) for the chosen phases. ``phase_action="discrete"``
    (needs ``phase_levels`` >= 2 and ``precoder="mmse"``) uses ``MultiDiscrete([Q] * M)``,
    theta_m = exp(j 2 pi q_m / Q). ``phase_action="beams"`` replaces the M phase entries by 2K
    beam weights (then the W part, if any): theta = exp(j arg sum_k w_k b_k / ||b_k||), w_k =
    (1 + a_k) / 2 exp(j pi a_{K+k}) (the default ``beam_weights="polar"``,
    :mod:`irs_gym.envs.beams`; rounded to the Q levels when
    ``phase_levels`` > 0), where b_k (:func:`irs_gym.models.multi_irs.reflection_beams`) holds
    the phases that make user k's reflected paths coherent. At the default config with the
    MMSE precoder, on seeds 20000..20004: the zero action (equal weights) scores 0.45 of
    DOMALO, the best single beam 0.80, Nelder-Mead weights 0.92, random phases 0.12.
    ``encode`` is then a least-squares projection onto the family (approximate).

    ## Observation Space

    ``Box(-F, F, (D,), float32)`` with F the largest finite float32 (finite bounds, as
    ``check_env`` asks), the channels the optimisers use, each block scaled by the square root
    of its path gain at the nominal distance (unit mean power):

    | index | meaning | unit |
    |---|---|---|
    | 0 .. MN_t-1 | Re G[m, n], BS -> IRS (stacked), / sqrt(PL(d_BS,IRS_l)) | - |
    | MN_t .. 2MN_t-1 | Im G[m, n] | - |
    | 2MN_t .. 2MN_t+KM-1 | Re h[k, m], IRS -> user k, / sqrt(PL(d_IRS_l, centre)) | - |
    | .. +KM | Im h[k, m] | - |
    | .. +2 M_2 M_1 | Re, Im S (IRS1 -> IRS2), only with ``inter_irs=True`` | - |
    | .. +K | beams only: log10 P (sum_m abs(b_km))^2, user k's SNR on its own beam [2] | - |
    | static mode: next A entries | last action (in [-1, 1]; discrete: 2q/(Q-1) - 1) | - |
    | static mode: last entry | last reward | bit/s/Hz |

    [2] With ``phase_action="beams"``: the SNR of user k served alone at full power through
    theta = exp(j arg b_k) and the matching precoder, which tells the agent which beam is
    worth weighing.

    ``observation="beams"`` (needs ``phase_action="beams"``) replaces the channel entries by
    what the beam weights act on, ``K + K (K - 1)`` entries: the K log10 beam SNRs above,
    then Re, then Im, of the unit beams' overlaps u_i^H u_j, i < j (u_k = b_k / ||b_k||,
    :func:`irs_gym.envs.beams.gram_features`), then the static-mode entries as above. Our
    addition: the default observation has 2 M (N_t + K) + K entries (2,564 at the defaults),
    among which an MLP did not find the K that matter; PPO's preset after 30k steps on
    held-out seeds 20000..20063, ratio to DOMALO: 0.54 with the channels, 0.70 with this
    observation (seed 0).

    ``user_order="snr"`` (needs ``phase_action="beams"`` and equal user ``weights``; an
    agent-side option, our addition) lists the users by decreasing single-beam SNR instead of
    by index, in the observation and in the action alike: slot s is the user with the s-th
    largest SNR, and the rows of h, the SNR entries, the beam overlaps, the beam weights and
    the precoder columns all refer to slots. The objective is symmetric in users of equal
    weight, so this canonical order spares an MLP learning the same map once per relabelling
    of the K users (K! = 24 at the defaults). With ``channel_mode="markov"`` the order may
    change between steps. PPO's preset (``observation="beams"``) after 30k steps, same
    held-out set: 0.70 by index, 0.78 sorted (seed 0).

    ## Rewards

    The objective in bit/s/Hz (WSR or weighted min rate) of the decision just applied; no
    penalty is needed because the codec only produces feasible decisions.

    ## Starting State

    ``reset`` draws user positions (disc of radius 10 m around (60, 0, 0) m), SV path gains
    and angles, and blockage. ``info`` at reset scores the default decision (theta = 1, the
    spec's theta^0, and MRT at full power).

    ## Episode End

    Never terminates; truncated after ``max_episode_steps`` (50 by registration).
    ``channel_mode="iid"`` draws a new realisation after every step, ``"static"`` keeps one per
    episode, ``"markov"`` evolves every SV path gain as a Gauss-Markov process with ``rho``.

    ## Info

    ``objective`` (bit/s/Hz), ``objective_name`` (``weighted_sum_rate`` or
    ``weighted_min_rate``), ``objective_unit``, ``objective_sense`` (``"max"``), ``feasible``,
    ``constraint_violation``, ``wsr_bps_hz``, ``min_rate_bps_hz``, ``rate_bps_hz`` (per user),
    ``power_w``.

    ## Arguments

    Every field of :class:`irs_gym.models.multi_irs.MultiIRSConfig` (``num_bs_antennas``,
    ``num_elements``, ``num_irs``, ``num_users``, ``tx_power_dbm``, ``noise_dbm``,
    ``objective``, ``phase_levels``, ``inter_irs``, ``blockage_prob``, ...) plus
    ``channel_mode`` (``"iid"``, ``"static"``, ``"markov"``), ``rho`` (markov, in [0, 1]),
    ``precoder`` (``"action"`` or ``"mmse"``), ``phase_action`` (``"continuous"``,
    ``"discrete"`` or ``"beams"``) and, with ``phase_action="beams"``, ``beam_weights``
    (``"polar"`` or ``"cartesian"``, :mod:`irs_gym.envs.beams`), ``observation``
    (``"channels"`` or ``"beams"``) and ``user_order`` (``"index"`` or ``"snr"``). Unknown or
    out-of-range values raise ``ValueError``.

    ## Version History

    * v0: initial version.
    """

    task_cls = MultiIRSTask


class MultiIRSDownlinkVectorEnv(IRSVectorEnv):
    """Batched :class:`MultiIRSDownlinkEnv` (same arguments, plus ``num_envs``)."""

    task_cls = MultiIRSTask
