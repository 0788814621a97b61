"""``irs_gym/BackscatterUplink-v0``: model 000 as a Gymnasium environment."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from irs_gym.envs import beams
from irs_gym.envs.core import IRSEnv, IRSVectorEnv, ModelTask
from irs_gym.models import backscatter as model
from irs_gym.models.tree import tree_index, tree_map, tree_stack

ACTION_MODES = ("joint", "schedule")
PHASE_ACTIONS = ("elements", "beams")
OBSERVATIONS = ("channels", "large_scale")


class BackscatterTask(ModelTask):
    """Adapter of model 000; see :class:`BackscatterUplinkEnv` for the interface."""

    config_cls = model.BackscatterConfig
    OPTIONS: ClassVar[dict[str, Any]] = {
        "action_mode": "joint",
        "phase_action": "elements",
        "beam_weights": "polar",
        "observation": "channels",
    }
    AGENT_OPTIONS: ClassVar[tuple[str, ...]] = (
        "action_mode",
        "phase_action",
        "beam_weights",
        "observation",
    )
    supports_markov = True
    objective_name = "weighted_sum_rate"
    objective_unit = "bit/s/Hz"
    objective_sense = "max"

    def configure(
        self, action_mode: str, phase_action: str, beam_weights: str, observation: str
    ) -> None:
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {action_mode!r}")
        if phase_action not in PHASE_ACTIONS:
            raise ValueError(f"phase_action must be one of {PHASE_ACTIONS}, got {phase_action!r}")
        cfg = self.config
        if phase_action == "beams" and action_mode == "schedule":
            raise ValueError(
                "phase_action='beams' needs action_mode='joint' (in the schedule mode the "
                "solver sets the beams)"
            )
        if phase_action == "beams" and (cfg.uplink == "active" or cfg.amplitude_control):
            raise ValueError(
                "phase_action='beams' sets unit-amplitude IRS phases: it needs uplink "
                f"'backscatter' or 'passive' (got {cfg.uplink!r}) and amplitude_control=False"
            )
        self.action_mode, self.phase_action = action_mode, phase_action
        self.beam_weights = beams.check_form(beam_weights, phase_action)
        if observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
        self.observation = observation
        self.reward_scale = 1.0 / (cfg.num_cells * cfg.num_bs_antennas)
        U, N = cfg.num_ues, cfg.num_bs_antennas
        if action_mode == "schedule":
            # The beams come from the FP solver (spec section 10, option 2); imported here so
            # that the joint mode does not depend on the baselines package.
            from baselines.backscatter.joint import schedule_beams

            self._schedule_beams = schedule_beams
            self.action_space = spaces.MultiDiscrete(np.full(U, N + 1))
            return
        sizes = {"w": 2 * cfg.num_pb_antennas if cfg.has_pb else 0}
        if cfg.uplink == "active":
            sizes["v"] = 2 * U * cfg.num_active_antennas
        elif phase_action == "beams":
            sizes["v"] = 2 * U * N
        else:
            sizes["v"] = U * cfg.num_elements * (2 if cfg.amplitude_control else 1)
        sizes["scores"] = U
        edges = np.cumsum([0, *sizes.values()])
        bounds = zip(sizes, edges[:-1], edges[1:], strict=True)
        self._slices = {k: slice(int(a), int(b)) for k, a, b in bounds}
        self.action_space = spaces.Box(-1.0, 1.0, (int(edges[-1]),), np.float32)

    def sample_batch(self, rng, batch_shape):
        return model.sample_scenario(self.config, rng, batch_shape)

    def evolve(self, scenario, rng):
        return model.evolve_scenario(self.config, scenario, rng, self.options["rho"])

    def channel_features(self, scenario) -> np.ndarray:
        if self.observation == "large_scale":
            return model.large_scale_observation(self.config, scenario)
        return model.observation(self.config, scenario)

    def channel_feature_size(self) -> int:
        if self.observation == "large_scale":
            return model.large_scale_observation_size(self.config)
        return model.observation_size(self.config)

    # Codec --------------------------------------------------------------------------------
    def _unit_beams(self, scenario, w: np.ndarray) -> np.ndarray:
        return beams.unit_rows(model.reflection_beams(self.config, scenario, w))

    def _streams_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """Per cell, the UEs with score >= 0 in decreasing order (ties: lower index first) take
        streams 0, 1, ..., N-1; the rest are unscheduled."""
        cfg = self.config
        batch = scores.shape[:-1]
        sc = scores.reshape(*batch, cfg.num_cells, cfg.num_users)
        order = np.argsort(-sc, axis=-1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(cfg.num_users), axis=-1)
        stream = np.where((sc >= 0) & (rank < cfg.num_bs_antennas), rank, -1)
        return stream.reshape(*batch, cfg.num_ues).astype(np.int64)

    def _streams_from_choices(self, choice: np.ndarray) -> np.ndarray:
        """choice 0 = unscheduled, n + 1 = stream n; a stream chosen by several UEs of a cell
        goes to the lowest-index one, the others stay unscheduled."""
        cfg = self.config
        batch = choice.shape[:-1]
        wanted = choice - 1
        onehot = wanted[..., None] == np.arange(cfg.num_bs_antennas)  # [..., U, N]
        per_cell = onehot.reshape(*batch, cfg.num_cells, cfg.num_users, -1)
        first = per_cell & (np.cumsum(per_cell, axis=-2) == 1)
        granted = first.reshape(onehot.shape).any(axis=-1)
        return np.where(granted, wanted, -1).astype(np.int64)

    def decode(self, action: np.ndarray, scenario) -> model.BackscatterDecision:
        cfg = self.config
        if self.action_mode == "schedule":
            stream = self._streams_from_choices(action)
            batch = stream.shape[:-1]
            if not batch:
                return self._schedule_beams(cfg, scenario, stream)
            parts = [
                self._schedule_beams(cfg, tree_index(scenario, idx), stream[idx])
                for idx in np.ndindex(batch)
            ]
            return tree_map(lambda x: x.reshape(*batch, *x.shape[1:]), tree_stack(parts))
        batch = action.shape[:-1]
        U = cfg.num_ues
        if cfg.has_pb:
            raw = action[..., self._slices["w"]]
            M = cfg.num_pb_antennas
            w = model.scale_to_power(raw[..., :M] + 1j * raw[..., M:], cfg.pb_power_w)
        else:
            w = np.zeros((*batch, cfg.num_pb_antennas), dtype=complex)
        raw = action[..., self._slices["v"]]
        if cfg.uplink == "active":
            Q = cfg.num_active_antennas
            z = (raw[..., : U * Q] + 1j * raw[..., U * Q :]).reshape(*batch, U, Q)
            norm = np.linalg.norm(z, axis=-1, keepdims=True)
            v = np.sqrt(cfg.ue_power_w) * z / np.maximum(norm, 1.0)
        elif self.phase_action == "beams":
            weights = raw.reshape(*batch, U, 2 * cfg.num_bs_antennas)
            v = cfg.beam_amplitude * beams.beam_phases(
                weights, self._unit_beams(scenario, w), self.beam_weights
            )
        else:
            L = cfg.num_elements
            phase = np.pi * raw[..., : U * L].reshape(*batch, U, L)
            if cfg.amplitude_control:
                amplitude = (raw[..., U * L :].reshape(*batch, U, L) + 1.0) / 2.0
            else:
                amplitude = cfg.beam_amplitude
            v = amplitude * np.exp(1j * phase)
        stream = self._streams_from_scores(action[..., self._slices["scores"]])
        return model.BackscatterDecision(w, v, stream)

    def encode(self, decision: model.BackscatterDecision, scenario=None) -> np.ndarray:
        cfg = self.config
        stream = np.asarray(decision.stream)
        if self.action_mode == "schedule":
            return (stream + 1).astype(np.int64)
        batch = stream.shape[:-1]
        parts = []
        if cfg.has_pb:
            w = decision.w
            peak = np.maximum(np.abs(w.real).max(axis=-1), np.abs(w.imag).max(axis=-1))
            peak = np.where(peak > 0, peak, 1.0)[..., None]
            parts += [w.real / peak, w.imag / peak]
        v = decision.v
        if cfg.uplink == "active":
            z = (v / np.sqrt(cfg.ue_power_w)).reshape(*batch, -1)
            parts += [z.real, z.imag]
        elif self.phase_action == "beams":
            if scenario is None:
                raise ValueError(
                    "phase_action='beams' encodes on the current realisation: reset first"
                )
            theta = np.exp(1j * np.angle(v))
            weights = beams.beam_action(
                theta, self._unit_beams(scenario, decision.w), self.beam_weights
            )
            parts.append(weights.reshape(*batch, -1))
        else:
            parts.append((np.angle(v) / np.pi).reshape(*batch, -1))
            if cfg.amplitude_control:
                parts.append((2.0 * np.abs(v) - 1.0).reshape(*batch, -1))
        N = cfg.num_bs_antennas
        parts.append(np.where(stream >= 0, 1.0 - stream / N, -1.0))
        return np.clip(np.concatenate(parts, axis=-1), -1.0, 1.0).astype(np.float32)

    def default_decision(self, scenario) -> model.BackscatterDecision:
        return model.default_decision(self.config, scenario)

    def score(self, scenario, decision) -> dict[str, np.ndarray]:
        return model.metrics(self.config, scenario, decision)

    def info_keys(self) -> tuple[str, ...]:
        return (
            "white_wsr_bps_hz",
            "real_wsr_bps_hz",
            "real_estimated_rx_wsr_bps_hz",
            "rate_bps_hz",
            "num_scheduled",
            "pb_power_w",
        )


class BackscatterUplinkEnv(IRSEnv):
    """IRS-backscatter coordinated multi-cell uplink with a power beacon (model 000, Xu et al.).

    ## Description

    ``num_cells`` (I) BSs with ``num_bs_antennas`` (N) antennas each sit 50 m from a power
    beacon (PB) with ``num_pb_antennas`` (M) antennas; each cell has ``num_users`` (K) UEs
    uniform in a disc of 60 m, every UE owning an IRS of ``num_elements`` (L) elements. The
    PB radiates a carrier (beam w, ||w||^2 <= P); a scheduled UE's IRS re-modulates it with
    its data through its passive beam v_u (|v_l| = 1, or <= 1 with ``amplitude_control``)
    towards its BS, which serves up to N streams with an MMSE receiver; the PB's direct
    signal and every other cell's streams interfere; unscheduled IRSs absorb. The agent
    chooses w, every v_u and the schedule; the reward is the weighted sum rate (WSR). Rician
    channels (kappa = 3), PL = -30 - 25 log10(d) dB, 3 dBi IRS gain, noise -94 dBm (spec
    ``000-backscatter-multicell.md``, sections 1-3 and 7). ``uplink="passive"`` (no PB, the
    IRS reflects P_a / L per element, spec 6.3) and ``uplink="active"`` (no PB, Q_a active
    antennas per UE with ||v_u||^2 <= P_a, spec 6.2) are the paper's comparison networks.

    ## Action Space

    Default (``action_mode="joint"``) ``Box(-1, 1, (A,), float32)``, blocks in this order:

    | block | size | decoded as | unit |
    |---|---|---|---|
    | PB beam (backscatter only) | 2M: Re then Im | w = sqrt(P) a / ||a|| (full power) | sqrt(W) |
    | IRS phases (backscatter, passive) | U L, UE-major | v_ul = c exp(j pi a_ul) [1] | rad/pi |
    | IRS amplitudes (``amplitude_control``) | U L | c_ul = (a_ul + 1) / 2 | - |
    | active beams (active) | 2 U Q_a: Re, Im | v_u = sqrt(P_a) a_u / max(1, ||a_u||) | sqrt(W) |
    | scheduling scores | U (u = i K + k) | per cell the top-N scores >= 0 take streams 0.. | - |

    [1] c = 1 (backscatter), sqrt(P_a / L) (passive), or the amplitude block.

    ``phase_action="beams"`` (backscatter and passive uplinks without ``amplitude_control``)
    replaces each UE's L phases by 2N beam weights: v_u = c exp(j arg sum_n w_n b_{u,n} /
    ||b_{u,n}||), w_n = (1 + a_n) / 2 exp(j pi a_{N+n}) (the default ``beam_weights="polar"``;
    :mod:`irs_gym.envs.beams`), where
    b_{u,n} (:func:`irs_gym.models.backscatter.reflection_beams`) holds the phases that make
    u's signal, carried by the PB beam w of the same action, coherent at antenna n of its own
    BS; the superpositions reach every receive direction of that BS. Chosen because an MLP
    does not find element phases that track the channel (the element-phase PPO agent: 0.23 of
    Joint's WSR, at the level of v = 1). On 6 realisations (seeds 20000..) with Joint's w and
    schedule, equal beam weights gave 0.32-0.84 of Joint's WSR (v = 1: 0.15-0.50) and
    Nelder-Mead-tuned weights 0.66-1.37 (above 1 where Joint stops at a local optimum).
    ``encode`` is then a least-squares projection onto the family, not an inverse.
    Every action decodes to a feasible decision, and ``decode(encode(d)) = d`` for every
    feasible decision with w at full power and streams numbered by rank (every solver's
    output scores the same after the round trip). ``action_mode="schedule"``:
    ``MultiDiscrete([N + 1] * U)``, per UE 0 = unscheduled or n + 1 = stream n (a stream
    picked by several UEs of a cell goes to the lowest index); w and v then come from the FP
    solver with that schedule fixed (spec section 10, option 2:
    ``baselines.backscatter.schedule_beams``: up to 10 AO iterations on the estimates, so a
    step costs a solve, median about 60 ms at I = K = N = 2, M = 2, L = 4 and 150 ms at the
    default config on one core of a shared 2-core machine).

    ## Observation Space

    ``Box(-F, F, (D,), float32)`` with F the largest finite float32: the channel *estimates*
    the optimisers use, each link divided by the square root of its large-scale gain (unit
    mean power), then the gains and the positions (``models.backscatter.observation``):

    | index | meaning | unit |
    |---|---|---|
    | 2 U L M (backscatter) | Re, Im of H_hat_u[l, m] / sqrt(Sigma_H_u), PB -> IRS u | - |
    | 2 I U N D | Re, Im of F_hat_{j,u}[n, d] / sqrt(Sigma_F_{j,u}), u -> BS j (D = L or Q_a) | - |
    | 2 I N M (backscatter) | Re, Im of G_hat_j[n, m] / sqrt(Sigma_G_j), PB -> BS j | - |
    | U (backscatter) | (10 log10 Sigma_H_u + 55) / 25 | dB/25 |
    | I U | (10 log10 Sigma_F_{j,u} + 55) / 25 | dB/25 |
    | I (backscatter) | (10 log10 Sigma_G_j + 55) / 25 | dB/25 |
    | 2 U | UE x, y / 100 m | 100 m |
    | static mode: next A entries | last action (in [-1, 1]; schedule: 2c/N - 1) | - |
    | static mode: last entry | last reward | bit/s/Hz/(I N) |

    Each block is flattened row-major (UE-major, cell-major); within Re/Im blocks all real
    parts come first.

    ``observation="large_scale"`` keeps only the gain features and the positions (the last
    U + I U + I + 2 U entries above, 22 at the defaults instead of 4150;
    ``models.backscatter.large_scale_observation``), then the static-mode entries. Our
    addition, meant for ``phase_action="beams"``, whose beams already follow the small-scale
    fading of the estimates: the agent then chooses the beam weights, the PB beam and the
    schedule from the geometry alone. PPO's preset, 30k steps, held-out seeds 20000..20063:
    0.661 of Joint's WSR against 0.638 with the channels (seed 0).

    ## Rewards

    WSR / (I N) (bit/s/Hz per stream slot); no penalty is needed because the codec only
    produces feasible decisions.

    ## Imperfect CSI

    With ``csi_error`` = rho > 0 the observation holds the estimates, the true channel is the
    estimate plus an error CN(0, rho^2 Sigma) per entry (spec 6.4), and the reward scores
    the truth. ``info["white_wsr_bps_hz"]`` is the WSR the white-noise model of spec 6.4
    predicts from the estimates for the applied decision ("White": for a solver's decision,
    exactly the WSR that solver predicted), ``info["real_wsr_bps_hz"]`` the true one
    ("Real" = ``objective``), ``info["real_estimated_rx_wsr_bps_hz"]`` the true one with
    each BS combining with the MMSE filter designed on the estimates. All equal when rho = 0.

    ## Starting State

    ``reset`` draws UE positions, channels and CSI errors; ``info`` scores Algorithm 1's
    initial point (w = sqrt(P) sum_u H_u^H 1 normalised, v all-ones, UE k on stream k < N).

    ## Episode End

    Never terminates; truncated after ``max_episode_steps`` (50 by registration).
    ``channel_mode="iid"`` draws a new realisation after every step, ``"static"`` keeps one per
    episode, ``"markov"`` evolves the NLoS parts and the CSI errors as Gauss-Markov processes
    with ``rho`` (positions fixed).

    ## Info

    ``objective`` (WSR on the true channels, bit/s/Hz), ``objective_name``
    (``weighted_sum_rate``), ``objective_unit``, ``objective_sense`` (``"max"``), ``feasible``,
    ``constraint_violation``, ``white_wsr_bps_hz``, ``real_wsr_bps_hz``,
    ``real_estimated_rx_wsr_bps_hz``, ``rate_bps_hz`` (per UE, 0 if unscheduled),
    ``num_scheduled``, ``pb_power_w``.

    ## Arguments

    Every field of :class:`irs_gym.models.backscatter.BackscatterConfig` (``num_cells``,
    ``num_users``, ``num_pb_antennas``, ``num_bs_antennas``, ``num_elements``,
    ``pb_power_dbm``, ``ue_power_dbm``, ``noise_dbm``, ``csi_error``, ``uplink``,
    ``num_active_antennas``, ``amplitude_control``, ``array``, ``weights``, ...) plus
    ``channel_mode`` (``"iid"``, ``"static"``, ``"markov"``), ``rho`` (markov, in [0, 1]) and
    ``action_mode`` (``"joint"`` or ``"schedule"``) and ``phase_action`` (``"elements"`` or
    ``"beams"``, joint mode) and, with ``phase_action="beams"``, ``beam_weights``
    (``"polar"`` or ``"cartesian"``, :mod:`irs_gym.envs.beams`), and ``observation``
    (``"channels"`` or ``"large_scale"``). Unknown or out-of-range values raise
    ``ValueError`` naming the argument.

    ## Version History

    * v0: initial version.
    """

    task_cls = BackscatterTask


class BackscatterUplinkVectorEnv(IRSVectorEnv):
    """Batched :class:`BackscatterUplinkEnv` (same arguments, plus ``num_envs``)."""

    task_cls = BackscatterTask
