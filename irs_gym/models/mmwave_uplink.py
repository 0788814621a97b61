r"""Model 001: IRS-assisted uplink mmWave SIMO with latency constraints (Cao, Lv, Lin, Ni,
arXiv:1912.10030).

System (spec ``shared/models/001-mmwave-uplink-latency.md``, sections 1-4, 6.3, 8): K users
with N_u antennas each send to an AP with an N-antenna ULA, directly and through an IRS of
M = M_h M_v passive elements. User k's effective channel for IRS phases :math:`\theta` and
unit-norm transmit beamformer :math:`w_k` is

.. math:: h_k = (H_{d,k} + G\,\mathrm{diag}(\theta)\,H_{r,k})\,w_k
          = \Phi_k v,\qquad \Phi_k = [G\,\mathrm{diag}(H_{r,k}w_k),\ H_{d,k}w_k],\quad
          v = [\theta; 1]\quad (23),

the AP detects user k with :math:`u_k`, so that (9)

.. math:: \gamma_k = \frac{p_k|u_k^Hh_k|^2}{\sum_{j\ne k}p_j|u_k^Hh_j|^2+\sigma^2\|u_k\|^2},

and the latency :math:`D_k/(B\ln(1+\gamma_k))\le T_k` is the SINR target (11)
:math:`\gamma_k\ge\bar\gamma_k = e^{D_k/(BT_k)}-1`. Problem (P1) minimises
:math:`\sum_k p_k` over the powers, detectors and phases.

Array conventions (batch axes ``...`` first, receiver x transmitter):

* ``H_d`` ``[..., K, N, N_u]`` AP <- user k (direct), ``G`` ``[..., N, M]`` AP <- IRS,
  ``H_r`` ``[..., K, M, N_u]`` IRS <- user k (true), ``H_r_est`` its estimate (section 8).
* ``theta`` ``[..., M]`` unit modulus, ``power_w`` ``[..., K]``, ``detectors`` ``[..., K, N]``
  (row k is :math:`u_k`), ``beamformers`` ``[..., K, N_u]`` (row k is :math:`w_k`).

Channels are stored in physical units (amplitude gains); :func:`normalized` divides them by
the noise standard deviation, so every SINR and solver sees noise power 1 (the powers keep
their unit, W).

The power/detector inner loop (:func:`power_control`, spec 5.1-5.2 and 5.4 steps a-c) is part
of the model because the env's default action is the phases alone: the env scores the
minimum total power reachable with the chosen phases, which this loop computes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from irs_gym.models.validation import check, check_flag, check_int, check_real, is_real
from irs_gym.physics import (
    akdeniz_gain,
    complex_normal,
    db_to_linear,
    dbm_to_w,
    distance_m,
    gauss_markov,
    ula_response,
    unit_direction,
    ura_response,
    w_to_dbm,
)

#: Spec section 9: user 1 at d_1 = 60 m on the x axis, user 2 off the axis so the two users
#: do not share the AP's angle of arrival (collinear LoS channels make two users infeasible).
DEFAULT_USER_POSITIONS_M = ((60.0, 0.0, 0.0), (50.0, 20.0, 0.0))
#: Data sizes D_k (nats) of the two-user figures, the default for K = 2 (spec section 9).
TWO_USER_DATA_NATS = (4e6, 2e6)
#: Largest D_k / (B T_k): beyond it the target SINR e^(D/(BT)) - 1 exceeds 1e300.
MAX_NATS_PER_CHANNEL_USE = 690.0
#: Nominal power of every user for the initial MVDR detectors (spec 5.4 step 1), W.
NOMINAL_POWER_W = 1e-3
#: A reported latency D_k / R_k is capped here (a zero rate has an infinite latency), s.
LATENCY_CAP_S = 1e6
#: Relative tolerance of the latency (SINR) and power-cap constraints in ``feasible``.
FEASIBILITY_TOL = 1e-6
#: Spectral radius at or above which (I - F) p >= b has no nonnegative solution (Lemma 1).
RHO_LIMIT = 1.0 - 1e-9


def _per_user(name: str, value, k: int, lo: float, hi: float, *, open_lo: bool = False):
    """A scalar or a K-tuple in [lo, hi] (``open_lo``: (lo, hi]) as a K-tuple of floats."""
    try:
        values = (value,) * k if is_real(value) else tuple(np.ravel(np.asarray(value, float)))
    except (TypeError, ValueError):
        values = ()
    bound = f"({lo}, {hi}]" if open_lo else f"[{lo}, {hi}]"
    check(
        len(values) == k
        and all(math.isfinite(v) and (v > lo if open_lo else v >= lo) and v <= hi for v in values),
        f"{name} must be a number or {k} numbers (one per user) in {bound}, got {value!r}",
    )
    return tuple(float(v) for v in values)


def _range(name: str, value, lo: float, hi: float) -> tuple[float, float]:
    check(
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(is_real(v) and math.isfinite(v) for v in value)
        and lo < value[0] <= value[1] <= hi,
        f"{name} must be a pair (low, high) with {lo} < low <= high <= {hi}, got {value!r}",
    )
    return float(value[0]), float(value[1])


def _point(name: str, value) -> tuple[float, float, float]:
    p = tuple(float(c) for c in value) if isinstance(value, tuple | list) else ()
    check(
        len(p) in (2, 3) and all(math.isfinite(c) for c in p),
        f"{name} must be a finite (x, y) or (x, y, z) point in metres, got {value!r}",
    )
    return p if len(p) == 3 else (*p, 0.0)


@dataclass(frozen=True)
class MmWaveUplinkConfig:
    """Parameters of model 001 (defaults: spec section 9; ``[R]`` items are reconstructed).

    Attributes:
        carrier_ghz: carrier f_c in GHz, 28 or 73 (selects the Akdeniz path-loss rows).
        num_users: K >= 1 (at most ``num_ap_antennas``: MVDR needs N >= K). Default 2.
        num_ap_antennas: N, AP ULA size, in [1, 256]. Default 8.
        elements_h: M_h, horizontal IRS elements, in [1, 256]. Default 20.
        elements_v: M_v, vertical IRS elements, in [1, 256]. Default 10 (M = 200).
        irs_gain_db: G_IRS, relative reflection gain applied once to the cascade, in
            [-50, 50]. Default 15 dB.
        user_gain_dbi, ap_gain_dbi: element gains G_t, G_r (dBi), in [-30, 50]. Default 9.82.
        bandwidth_hz: B (Hz), > 0. Default 100 MHz.
        noise_dbm: sigma^2 (dBm), in [-200, 0]. Default -85 dBm.
        num_nlos_paths: L NLoS paths of the direct link, in [1, 20]. Default 2.
        latency_s: T_k (s), one value or one per user, in (0, 100]; ``None`` draws T_k
            uniformly from ``latency_range_s`` per realisation. Default 0.02.
        latency_range_s: (low, high) for drawn latencies (s). Default (0.02, 0.06).
        data_nats: D_k (nats), one value or one per user, in (0, 1e12]; ``"uniform"`` draws
            D_k uniformly from ``data_range_nats`` per realisation; ``None`` (default) follows
            the spec's section 9 table: (4e6, 2e6) for two users, drawn for any other K.
        data_range_nats: (low, high) for drawn data sizes. Default (1e6, 5e6).
        ap_position_m, irs_position_m: (x, y[, z]) in metres. AP (0, 0), IRS (75, 5).
        user_positions_m: one (x, y[, z]) per user; ``None`` gives user 1 (60, 0) and user 2
            (50, 20) of spec section 9 (needs K <= 2).
        blockage_prob: p_b, probability that user k's direct LoS path is blocked (then its
            direct channel is NLoS-only, else LoS-only: spec section 2), one value or one per
            user, in [0, 1]. Default 1.0 (OLoS, the case where the IRS matters; Figs. 4-7
            use 0 and 1, Fig. 8 sweeps it).
        num_user_antennas: N_u (extension 6.3), in [1, 64]. Default 1.
        csi_uncertainty: delta >= 0, in [0, 1]: the IRS -> user channel is known only as an
            estimate with error norm delta * ||H_r_est|| (section 8). Default 0.
        max_power_dbm: optional per-user power cap p_max (dBm, in [-50, 60]); ``None``: none
            (the paper's problem).
        infeasible_power_dbm: per-user power (dBm) reported when no feasible power vector
            exists and there is no cap (the env's penalty point), in [-50, 60]. Default 30.
        irs_enabled: ``False`` removes the IRS (G = 0): the no-IRS baseline.
        shadowing: draw the log-normal shadowing of every path (Akdeniz sigma). Default True.
        author_code_gain_convention: multiply sqrt(G_t G_r) into both G and H_r as the
            author code does (spec 11.3; about 19.6 dB extra on the cascade). Default False.
    """

    carrier_ghz: int = 28
    num_users: int = 2
    num_ap_antennas: int = 8
    elements_h: int = 20
    elements_v: int = 10
    irs_gain_db: float = 15.0
    user_gain_dbi: float = 9.82
    ap_gain_dbi: float = 9.82
    bandwidth_hz: float = 100e6
    noise_dbm: float = -85.0
    num_nlos_paths: int = 2
    latency_s: float | tuple[float, ...] | None = 0.02
    latency_range_s: tuple[float, float] = (0.02, 0.06)
    data_nats: float | tuple[float, ...] | str | None = None
    data_range_nats: tuple[float, float] = (1e6, 5e6)
    ap_position_m: tuple[float, ...] = (0.0, 0.0, 0.0)
    irs_position_m: tuple[float, ...] = (75.0, 5.0, 0.0)
    user_positions_m: tuple[tuple[float, ...], ...] | None = None
    blockage_prob: float | tuple[float, ...] = 1.0
    num_user_antennas: int = 1
    csi_uncertainty: float = 0.0
    max_power_dbm: float | None = None
    infeasible_power_dbm: float = 30.0
    irs_enabled: bool = True
    shadowing: bool = True
    author_code_gain_convention: bool = False

    def __post_init__(self) -> None:
        check(
            self.carrier_ghz in (28, 73) and not isinstance(self.carrier_ghz, bool),
            f"carrier_ghz must be 28 or 73 (the Akdeniz carriers), got {self.carrier_ghz!r}",
        )
        check_int(self, "num_users", 1, 64)
        check_int(self, "num_ap_antennas", 1, 256)
        check_int(self, "elements_h", 1, 256)
        check_int(self, "elements_v", 1, 256)
        check_int(self, "num_nlos_paths", 1, 20)
        check_int(self, "num_user_antennas", 1, 64)
        check(
            self.num_ap_antennas >= self.num_users,
            f"num_ap_antennas must be >= num_users for MVDR detection (N >= K), got "
            f"num_ap_antennas={self.num_ap_antennas}, num_users={self.num_users}",
        )
        check_real(self, "irs_gain_db", -50.0, 50.0)
        check_real(self, "user_gain_dbi", -30.0, 50.0)
        check_real(self, "ap_gain_dbi", -30.0, 50.0)
        check_real(self, "bandwidth_hz", 1.0, 1e12)
        check_real(self, "noise_dbm", -200.0, 0.0)
        check_real(self, "csi_uncertainty", 0.0, 1.0)
        check_real(self, "infeasible_power_dbm", -50.0, 60.0)
        if self.max_power_dbm is not None:
            check_real(self, "max_power_dbm", -50.0, 60.0)
        for name in ("irs_enabled", "shadowing", "author_code_gain_convention"):
            check_flag(self, name)
        K = self.num_users
        set_ = lambda name, v: object.__setattr__(self, name, v)  # noqa: E731
        set_("latency_range_s", _range("latency_range_s", self.latency_range_s, 0.0, 100.0))
        set_("data_range_nats", _range("data_range_nats", self.data_range_nats, 0.0, 1e12))
        if self.latency_s is not None:
            set_("latency_s", _per_user("latency_s", self.latency_s, K, 0.0, 100.0, open_lo=True))
        if self.data_nats is None:
            set_("data_nats", TWO_USER_DATA_NATS if K == 2 else "uniform")
        if self.data_nats != "uniform":
            set_("data_nats", _per_user("data_nats", self.data_nats, K, 0.0, 1e12, open_lo=True))
        # the target SINR e^(D/(BT)) - 1 overflows float64 beyond D/(BT) = 709
        data_max = max(self.data_range_nats if self.data_nats == "uniform" else self.data_nats)
        latency_min = min(self.latency_range_s if self.latency_s is None else self.latency_s)
        nats_per_use = data_max / (self.bandwidth_hz * latency_min)
        check(
            nats_per_use <= MAX_NATS_PER_CHANNEL_USE,
            f"data_nats / (bandwidth_hz * latency_s) must be <= {MAX_NATS_PER_CHANNEL_USE} "
            f"(target SINR e^(D/(BT)) - 1 below 1e300), got {nats_per_use:.4g} (largest D "
            f"{data_max:.4g} nats, smallest T {latency_min:.4g} s, B {self.bandwidth_hz:.4g} Hz)",
        )
        set_("blockage_prob", _per_user("blockage_prob", self.blockage_prob, K, 0.0, 1.0))
        set_("ap_position_m", _point("ap_position_m", self.ap_position_m))
        set_("irs_position_m", _point("irs_position_m", self.irs_position_m))
        users = self.user_positions_m
        if users is None:
            check(
                K <= len(DEFAULT_USER_POSITIONS_M),
                f"user_positions_m must be given when num_users > 2, got num_users={K}",
            )
            users = DEFAULT_USER_POSITIONS_M[:K]
        check(
            isinstance(users, tuple | list) and len(users) == K,
            f"user_positions_m must hold num_users={K} points, got {self.user_positions_m!r}",
        )
        set_("user_positions_m", tuple(_point("user_positions_m", p) for p in users))
        sites = np.array([self.ap_position_m, self.irs_position_m, *self.user_positions_m])
        gaps = distance_m(sites[:, None, :], sites[None, :, :]) + np.eye(len(sites))
        check(
            bool(np.all(gaps > 0)),
            "user_positions_m, ap_position_m and irs_position_m must be distinct points, got "
            f"AP {self.ap_position_m}, IRS {self.irs_position_m}, users {self.user_positions_m}",
        )

    # Derived quantities -------------------------------------------------------------------
    @property
    def num_elements(self) -> int:
        """M = M_h M_v."""
        return self.elements_h * self.elements_v

    @property
    def noise_w(self) -> float:
        """sigma^2 in W."""
        return float(dbm_to_w(self.noise_dbm))

    @property
    def max_power_w(self) -> float | None:
        """p_max in W (``None``: no cap)."""
        return None if self.max_power_dbm is None else float(dbm_to_w(self.max_power_dbm))

    @property
    def fallback_power_w(self) -> float:
        """Per-user power of an infeasible decision: p_max, else ``infeasible_power_dbm``."""
        dbm = self.infeasible_power_dbm if self.max_power_dbm is None else self.max_power_dbm
        return float(dbm_to_w(dbm))

    def _distances(self) -> tuple[np.ndarray, np.ndarray, float]:
        ap, irs = np.asarray(self.ap_position_m), np.asarray(self.irs_position_m)
        users = np.asarray(self.user_positions_m)
        return distance_m(users, ap), distance_m(users, irs), float(distance_m(ap, irs))

    def nominal_amplitudes(self) -> tuple[np.ndarray, float, np.ndarray]:
        """RMS entry amplitudes of (H_d [K] for a LoS direct path, G, H_r [K]) at the median
        (unshadowed) LoS path loss: the observation's scales."""
        return _nominal_amplitudes(self)


@functools.lru_cache(maxsize=64)
def _nominal_amplitudes(config: MmWaveUplinkConfig) -> tuple[np.ndarray, float, np.ndarray]:
    d_ap, d_irs, d_g = config._distances()
    pl = lambda d: akdeniz_gain(d, config.carrier_ghz, True)  # noqa: E731
    g_t, g_r = db_to_linear(config.user_gain_dbi), db_to_linear(config.ap_gain_dbi)
    g_cascade_r, g_cascade_t = _cascade_gains(config)
    s_d, s_r = np.sqrt(pl(d_ap) * g_t * g_r), np.sqrt(pl(d_irs) * g_cascade_t)
    s_d.flags.writeable = s_r.flags.writeable = False
    return s_d, float(np.sqrt(pl(d_g) * g_cascade_r)), s_r


def _cascade_gains(config: MmWaveUplinkConfig) -> tuple[float, float]:
    """Power gains folded into (G, H_r): (G_r G_IRS, G_t), or with the author-code convention
    (G_t G_r G_IRS, G_t G_r) (spec 2 and 11.3)."""
    g_t, g_r = db_to_linear(config.user_gain_dbi), db_to_linear(config.ap_gain_dbi)
    g_irs = db_to_linear(config.irs_gain_db)
    if config.author_code_gain_convention:
        return float(g_t * g_r * g_irs), float(g_t * g_r)
    return float(g_r * g_irs), float(g_t)


@dataclass(frozen=True)
class MmWaveUplinkScenario:
    """One (or a batch of) realisation(s) of model 001.

    Unit-variance complex gains and linear large-scale power gains (path loss with shadowing)
    are kept apart so that ``channel_mode="markov"`` can evolve the small-scale part.

    Attributes:
        los: ``[..., K]`` bool, b_k: user k's direct LoS path is available (then its direct
            channel is LoS-only, else NLoS-only).
        direct_gains: ``[..., K, L+1]`` CN(0, 1); path 0 is the LoS path.
        direct_power: ``[..., K, L+1]`` Akdeniz power gains (LoS row for path 0).
        direct_aoa_rad: ``[..., K, L+1]`` AoA at the AP (path 0 from the geometry, the NLoS
            paths ~ U[-pi/2, pi/2]).
        user_aod_rad: ``[..., K, L+2]`` AoD at the user ULA per direct path, then for the
            IRS link (used when N_u > 1), ~ U[-pi/2, pi/2].
        irs_gains, irs_power: ``[..., K]`` IRS -> user k LoS gain (CN(0, 1)) and power gain.
        ap_irs_gain, ap_irs_power: ``[...]`` AP <- IRS LoS gain and power gain.
        data_nats, latency_s: ``[..., K]`` D_k (nats) and T_k (s).
        csi_error_dir: ``[..., K, M, N_u]`` unit-Frobenius-norm direction of the estimation
            error e_k of each IRS -> user channel.
        H_d ``[..., K, N, N_u]``, G ``[..., N, M]``, H_r_est ``[..., K, M, N_u]``, H_r
            ``[..., K, M, N_u]``: the channels (physical amplitude gains), H_r = H_r_est +
            delta ||H_r_est||_F csi_error_dir.
    """

    los: np.ndarray
    direct_gains: np.ndarray
    direct_power: np.ndarray
    direct_aoa_rad: np.ndarray
    user_aod_rad: np.ndarray
    irs_gains: np.ndarray
    irs_power: np.ndarray
    ap_irs_gain: np.ndarray
    ap_irs_power: np.ndarray
    data_nats: np.ndarray
    latency_s: np.ndarray
    csi_error_dir: np.ndarray
    H_d: np.ndarray = field(repr=False)
    G: np.ndarray = field(repr=False)
    H_r_est: np.ndarray = field(repr=False)
    H_r: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class MmWaveUplinkDecision:
    """Optimisation variables: ``theta [..., M]`` (unit modulus), ``power_w [..., K]`` (W,
    >= 0), ``detectors [..., K, N]`` (row k = u_k), ``beamformers [..., K, N_u]`` (row k =
    w_k, unit norm; all ones when N_u = 1)."""

    theta: np.ndarray
    power_w: np.ndarray
    detectors: np.ndarray
    beamformers: np.ndarray


# Geometry ---------------------------------------------------------------------------------
def _ula_angle(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Angle from broadside of a ULA along the y axis: sin(psi) = u_y (spec section 1)."""
    return np.arcsin(np.clip(unit_direction(src, dst)[..., 1], -1.0, 1.0))


def _ura_angles(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(vartheta, phi) of eq. (6) for the IRS in the plane x = x_IRS (normal along -x, rows
    along y, columns along z): the direction cosines are sin(vartheta) cos(phi) = u_y and
    sin(phi) = u_z. In the spec's horizontal-plane layout phi = 0."""
    u = unit_direction(src, dst)
    phi = np.arcsin(np.clip(u[..., 2], -1.0, 1.0))
    vartheta = np.arcsin(np.clip(u[..., 1] / np.cos(phi), -1.0, 1.0))
    return vartheta, phi


@dataclass(frozen=True)
class _Geometry:
    d_ap_m: np.ndarray  # [K] user -> AP
    d_irs_m: np.ndarray  # [K] user -> IRS
    d_g_m: float  # AP -> IRS
    psi_user_rad: np.ndarray  # [K] LoS AoA of user k at the AP
    psi_irs_rad: float  # AoA of the IRS at the AP
    a_irs_ap: np.ndarray  # [M] IRS response towards the AP
    a_irs_user: np.ndarray  # [K, M] IRS response towards user k
    link_distances_m: np.ndarray  # [K(L+1) + K + 1] direct paths, IRS links, AP-IRS
    link_los: np.ndarray  # [K(L+1) + K + 1] which Akdeniz row each path uses


@functools.lru_cache(maxsize=64)
def _geometry(config: MmWaveUplinkConfig) -> _Geometry:
    """Deterministic geometry of a config (cached: every draw of an env reuses it; the
    arrays are read-only)."""
    ap, irs = np.asarray(config.ap_position_m), np.asarray(config.irs_position_m)
    users = np.asarray(config.user_positions_m)
    d_ap, d_irs, d_g = config._distances()
    mh, mv = config.elements_h, config.elements_v
    L = config.num_nlos_paths
    path_los = np.tile(np.arange(L + 1) == 0, len(users))
    geo = _Geometry(
        d_ap,
        d_irs,
        d_g,
        _ula_angle(ap, users),
        float(_ula_angle(ap, irs)),
        ura_response(mh, mv, *_ura_angles(irs, ap)),
        ura_response(mh, mv, *_ura_angles(irs, users)),
        np.concatenate([np.repeat(d_ap, L + 1), d_irs, [d_g]]),
        np.concatenate([path_los, np.ones(len(users) + 1, dtype=bool)]),
    )
    for array in vars(geo).values():
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return geo


# Sampling ---------------------------------------------------------------------------------
def sample_scenario(
    config: MmWaveUplinkConfig, rng: np.random.Generator, batch_shape: tuple[int, ...] = ()
) -> MmWaveUplinkScenario:
    """Draw one realisation per batch entry (spec sections 1, 2, 8).

    Draw order: blockage, small-scale gains (direct paths, IRS -> user, AP <- IRS),
    shadowing of every path in that order, NLoS AoAs, user-side AoDs, data sizes (if drawn),
    latencies (if drawn), CSI error directions. Every draw happens whatever the
    config's switches (IRS on/off, delta, N_u = 1), so those variants see the same channels.
    """
    B = tuple(batch_shape)
    K, L = config.num_users, config.num_nlos_paths
    M, Nu = config.num_elements, config.num_user_antennas
    geo = _geometry(config)
    los = rng.random((*B, K)) >= np.asarray(config.blockage_prob)
    direct_gains = complex_normal(rng, (*B, K, L + 1))
    irs_gains = complex_normal(rng, (*B, K))
    ap_irs_gain = complex_normal(rng, B)
    # one path-loss draw for every path: direct paths (LoS row for path 0), IRS links, AP-IRS
    n_direct = K * (L + 1)
    power = akdeniz_gain(
        np.broadcast_to(geo.link_distances_m, (*B, n_direct + K + 1)),
        config.carrier_ghz,
        geo.link_los,
        rng if config.shadowing else None,
    )
    direct_power = power[..., :n_direct].reshape(*B, K, L + 1)
    irs_power = power[..., n_direct : n_direct + K]
    ap_irs_power = power[..., -1]
    nlos_aoa = rng.uniform(-np.pi / 2, np.pi / 2, (*B, K, L))
    aoa = np.concatenate([np.broadcast_to(geo.psi_user_rad[:, None], (*B, K, 1)), nlos_aoa], -1)
    user_aod = rng.uniform(-np.pi / 2, np.pi / 2, (*B, K, L + 2))
    if config.data_nats == "uniform":
        data = rng.uniform(*config.data_range_nats, (*B, K))
    else:
        data = np.broadcast_to(np.asarray(config.data_nats), (*B, K)).copy()
    if config.latency_s is None:
        latency = rng.uniform(*config.latency_range_s, (*B, K))
    else:
        latency = np.broadcast_to(np.asarray(config.latency_s), (*B, K)).copy()
    error_dir = _unit_frobenius(complex_normal(rng, (*B, K, M, Nu)))
    return _assemble(
        config, geo, los, direct_gains, direct_power, aoa, user_aod, irs_gains, irs_power,
        ap_irs_gain, ap_irs_power, data, latency, error_dir,
    )  # fmt: skip


def _unit_frobenius(x: np.ndarray) -> np.ndarray:
    """x / ||x||_F over the last two axes: uniform on the unit sphere for Gaussian x."""
    return x / np.linalg.norm(x, axis=(-2, -1), keepdims=True)


def _assemble(
    config, geo, los, direct_gains, direct_power, aoa, user_aod, irs_gains, irs_power,
    ap_irs_gain, ap_irs_power, data, latency, error_dir,
) -> MmWaveUplinkScenario:  # fmt: skip
    """Channels (2)-(4) and (56)-(58) from the drawn parameters."""
    N, M, Nu, L = (
        config.num_ap_antennas,
        config.num_elements,
        config.num_user_antennas,
        config.num_nlos_paths,
    )
    g_t, g_r = db_to_linear(config.user_gain_dbi), db_to_linear(config.ap_gain_dbi)
    g_cascade_r, g_cascade_t = _cascade_gains(config)
    # LoS-only when b_k = 1, NLoS-only when blocked (spec section 2, recommended mapping)
    keep = np.concatenate([los[..., None], np.repeat(~los[..., None], L, axis=-1)], axis=-1)
    alpha = direct_gains * np.sqrt(direct_power) * keep  # [..., K, L+1]
    a_ap = ula_response(N, aoa)  # [..., K, L+1, N]
    a_user = ula_response(Nu, user_aod)  # [..., K, L+2, Nu]
    H_d = math.sqrt(N * Nu * g_t * g_r) * np.einsum(
        "...kl,...kln,...kls->...kns", alpha, a_ap, a_user[..., : L + 1, :].conj()
    )
    alpha_r = irs_gains * np.sqrt(irs_power) * math.sqrt(M * Nu * g_cascade_t)
    H_r_est = (
        alpha_r[..., None, None] * geo.a_irs_user[:, :, None] * a_user[..., L + 1, None, :].conj()
    )
    alpha_g = ap_irs_gain * np.sqrt(ap_irs_power) * math.sqrt(N * M * g_cascade_r)
    G = alpha_g[..., None, None] * np.outer(ula_response(N, geo.psi_irs_rad), geo.a_irs_ap.conj())
    if not config.irs_enabled:
        G = np.zeros_like(G)
    radius = config.csi_uncertainty * np.linalg.norm(H_r_est, axis=(-2, -1), keepdims=True)
    H_r = H_r_est + radius * error_dir
    return MmWaveUplinkScenario(
        los, direct_gains, direct_power, aoa, user_aod, irs_gains, irs_power, ap_irs_gain,
        ap_irs_power, data, latency, error_dir, H_d, G, H_r_est, H_r,
    )  # fmt: skip


def evolve_scenario(
    config: MmWaveUplinkConfig,
    scenario: MmWaveUplinkScenario,
    rng: np.random.Generator,
    rho: float,
) -> MmWaveUplinkScenario:
    """Gauss-Markov step of every small-scale gain (alpha' = rho alpha + sqrt(1 - rho^2) n);
    angles, shadowing, blockage and traffic stay. A new estimate comes with a new CSI error
    (its direction is redrawn)."""
    s = scenario
    direct = gauss_markov(rng, s.direct_gains, rho)
    irs = gauss_markov(rng, s.irs_gains, rho)
    ap_irs = gauss_markov(rng, s.ap_irs_gain, rho)
    error_dir = _unit_frobenius(complex_normal(rng, s.csi_error_dir.shape))
    return _assemble(
        config, _geometry(config), s.los, direct, s.direct_power, s.direct_aoa_rad,
        s.user_aod_rad, irs, s.irs_power, ap_irs, s.ap_irs_power, s.data_nats, s.latency_s,
        error_dir,
    )  # fmt: skip


# Channels as the optimisers see them ------------------------------------------------------
@dataclass(frozen=True)
class NormalizedChannels:
    """Channels divided by sigma (noise power 1): ``H_d [..., K, N, N_u]``, ``G [..., N, M]``,
    ``H_r [..., K, M, N_u]`` (estimated or true, see :func:`normalized`)."""

    H_d: np.ndarray
    G: np.ndarray
    H_r: np.ndarray


def normalized(
    config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario, *, true_csi: bool = False
) -> NormalizedChannels:
    """Noise-normalised channels; the estimate of H_r (what the AP designs with) unless
    ``true_csi`` (what the signal sees)."""
    sigma = math.sqrt(config.noise_w)
    H_r = scenario.H_r if true_csi else scenario.H_r_est
    return NormalizedChannels(scenario.H_d / sigma, scenario.G / sigma, H_r)


def user_channels(ch: NormalizedChannels, theta: np.ndarray) -> np.ndarray:
    """H_k(theta) = H_d,k + G diag(theta) H_r,k, ``[..., K, N, N_u]`` (spec 6.3)."""
    return ch.H_d + ch.G[..., None, :, :] @ (theta[..., None, :, None] * ch.H_r)


def effective_channels(ch: NormalizedChannels, theta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """h_k = H_k(theta) w_k, ``[..., K, N]``."""
    return (user_channels(ch, theta) @ w[..., :, :, None])[..., 0]


def cascade_matrix(ch: NormalizedChannels, w: np.ndarray) -> np.ndarray:
    """Phi_k = [G diag(H_r,k w_k), H_d,k w_k] ``[..., K, N, M+1]`` (23): h_k = Phi_k [theta; 1]."""
    r = (ch.H_r @ w[..., :, :, None])[..., 0]  # [..., K, M]
    d = (ch.H_d @ w[..., :, :, None])[..., 0]  # [..., K, N]
    reflected = ch.G[..., None, :, :] * r[..., None, :]
    return np.concatenate([reflected, d[..., None]], axis=-1)


# Closed-form steps (sections 3, 5.1, 5.2, 6.3) --------------------------------------------
def target_sinr(config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario) -> np.ndarray:
    """Minimum protection ratio (11): gamma_bar_k = exp(D_k / (B T_k)) - 1, ``[..., K]``."""
    return np.expm1(scenario.data_nats / (config.bandwidth_hz * scenario.latency_s))


def cross_gains(detectors: np.ndarray, h: np.ndarray) -> np.ndarray:
    """g[..., k, j] = |u_k^H h_j|^2 ``[..., K, K]``."""
    return np.abs(detectors.conj() @ np.swapaxes(h, -1, -2)) ** 2


def noise_gains(detectors: np.ndarray) -> np.ndarray:
    """c_k = ||u_k||^2 ``[..., K]``: the detected noise power (noise power 1)."""
    return np.sum(np.abs(detectors) ** 2, axis=-1)


def sinr(power_w: np.ndarray, gains: np.ndarray, noise_gain: np.ndarray) -> np.ndarray:
    """(9) with noise power 1: p_k g_kk / (sum_{j != k} p_j g_kj + c_k)."""
    received = gains * power_w[..., None, :]
    signal = np.diagonal(received, axis1=-2, axis2=-1)
    return signal / (received.sum(axis=-1) - signal + noise_gain)


def interference_matrices(
    gains: np.ndarray, noise_gain: np.ndarray, gamma_bar: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(13)-(14): F_kj = gamma_bar_k g_kj / g_kk (j != k, F_kk = 0), b_k = gamma_bar_k c_k /
    g_kk. ``gains [..., K, K]``, ``noise_gain`` c ``[..., K]`` -> ``F [..., K, K]``,
    ``b [..., K]``; a zero own gain g_kk gives inf entries (the user cannot be served)."""
    g_kk = np.diagonal(gains, axis1=-2, axis2=-1)
    served = g_kk > 0
    scale = np.where(served, gamma_bar / np.where(served, g_kk, 1.0), np.inf)
    off = ~np.eye(gains.shape[-1], dtype=bool)
    F = np.where(off & served[..., :, None], gains * np.where(served, scale, 0.0)[..., None], 0.0)
    F = np.where(off & ~served[..., :, None], np.inf, F)
    return F, noise_gain * scale


def spectral_radius(F: np.ndarray) -> np.ndarray:
    """rho(F) ``[...]`` (the Perron root of the nonnegative F); inf if F has an inf entry."""
    finite = np.all(np.isfinite(F), axis=(-2, -1))
    safe = np.where(finite[..., None, None], F, 0.0)
    return np.where(finite, np.max(np.abs(np.linalg.eigvals(safe)), axis=-1), np.inf)


def fixed_point_powers(F: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""The fixed point of (18), p = F p + b, for rho(F) < 1 (the caller checks).

    Lemma 1: iterating (18) from any start converges to the unique fixed point
    p = (I - F)^-1 b = sum_i F^i b ((16)-(17)), the least p with (I - F) p >= b, which meets
    every SINR target with equality. The paper iterates (18) to avoid the inverse; for the
    K x K systems here a batched linear solve of (16) is both faster in numpy and exact to
    rounding, so that is how the fixed point is computed (the tests compare it with the
    iteration itself).

    Args:
        F: ``[..., K, K]`` nonnegative with spectral radius < 1 (mask infeasible entries).
        b: ``[..., K]`` nonnegative.

    Returns:
        p ``[..., K]``.
    """
    eye = np.eye(F.shape[-1])
    return np.linalg.solve(eye - F, b[..., None])[..., 0]


def mvdr_detectors(h: np.ndarray, power_w: np.ndarray) -> np.ndarray:
    r"""MVDR (22): u_k = Q_k^{-1} h_k / (h_k^H Q_k^{-1} h_k), Q_k = sum_{j != k} p_j h_j h_j^H
    + I (noise power 1). ``h [..., K, N]``, ``power_w [..., K]`` (finite) -> ``[..., K, N]``."""
    N = h.shape[-1]
    outer = h[..., :, :, None] * h[..., :, None, :].conj()  # [..., K, N, N]
    weighted = power_w[..., :, None, None] * outer
    Q = np.eye(N) + weighted.sum(axis=-3)[..., None, :, :] - weighted  # Q_k, [..., K, N, N]
    x = np.linalg.solve(Q, h[..., None])[..., 0]
    scale = np.sum(h.conj() * x, axis=-1).real
    return x / scale[..., None]


def zf_detectors(h: np.ndarray) -> np.ndarray:
    """Zero-forcing detectors u_k^H h_j = delta_kj (the high-power limit of MVDR), rows of the
    conjugated pseudo-inverse of [h_1 .. h_K]; ``[..., K, N]``."""
    return np.linalg.pinv(np.swapaxes(h, -1, -2)).conj()


def beamformer_step(
    H: np.ndarray, w: np.ndarray, detectors: np.ndarray, gamma_bar: np.ndarray
) -> np.ndarray:
    r"""Multi-antenna-user w-step (spec 6.3): w_k ∝ Z_k^{-1} H_k^H u_k, ||w_k|| = 1, with
    Z_k = I + sum_{j != k} (gamma_bar_j / g_jj) H_k^H u_j u_j^H H_k, the minimiser of the
    Rayleigh quotient of the terms of (19) that involve w_k (g_jj held at the current w).

    Args:
        H: ``[..., K, N, N_u]`` user channels H_k(theta).
        w: ``[..., K, N_u]`` current beamformers (for g_jj = |u_j^H H_j w_j|^2).
        detectors: ``[..., K, N]``.
        gamma_bar: ``[..., K]``.

    Returns:
        ``[..., K, N_u]`` unit-norm beamformers.
    """
    K, Nu = H.shape[-3], H.shape[-1]
    B = np.einsum("...jn,...kns->...kjs", detectors.conj(), H)  # B[k, j] = u_j^H H_k
    own = np.einsum("...kks->...ks", B)  # u_k^H H_k
    g_own = np.abs(np.sum(own * w, axis=-1)) ** 2  # g_jj
    weight = (gamma_bar / g_own)[..., None, :] * (1.0 - np.eye(K))  # [..., K(k), K(j)]
    Z = np.eye(Nu) + np.einsum("...kj,...kjs,...kjt->...kst", weight, B.conj(), B)
    v = np.linalg.solve(Z, own.conj()[..., None])[..., 0]
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def dominant_beamformers(H: np.ndarray) -> np.ndarray:
    """Unit-norm w_k maximising ||H_k w_k|| (principal right singular vector), ``[..., K, N_u]``."""
    _, vecs = np.linalg.eigh(np.swapaxes(H, -1, -2).conj() @ H)
    return vecs[..., :, -1]


def reflection_beams(config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario) -> np.ndarray:
    """Each user's strongest reflection beam b_k ``[..., K, M]`` on the estimated channel.

    With r_k = H_r,k w_k (w_k: the dominant right singular vector of H_r,k, the IRS -> user
    LoS beam; w_k = 1 when N_u = 1) and A_k = G diag(r_k) ``[N, M]``, b_k = A_k^H u_k for the
    principal left singular vector u_k of A_k, so theta = exp(j arg b_k) maximises
    |u_k^H A_k theta| = ||b_k||_1 over unit-modulus theta: the phases that make user k's
    cascade coherent at the AP. Chosen convention for the phase that the SVD leaves free: the
    reflected signal of theta = exp(j arg b_k) adds in phase with the direct one,
    h_d,k^H A_k theta real and >= 0 (h_d,k = H_d,k w_k; kept as the eigensolver returns it
    when h_d,k^H A_k theta = 0, e.g. without a direct link)."""
    ch = normalized(config, scenario)
    if config.num_user_antennas == 1:
        w = np.ones((*ch.H_r.shape[:-2], 1), dtype=complex)
    else:
        w = dominant_beamformers(ch.H_r)
    r = (ch.H_r @ w[..., :, :, None])[..., 0]  # [..., K, M]
    A = ch.G[..., None, :, :] * r[..., None, :]  # [..., K, N, M]
    _, vecs = np.linalg.eigh(A @ np.swapaxes(A, -1, -2).conj())
    b = (np.swapaxes(A, -1, -2).conj() @ vecs[..., :, -1:])[..., 0]  # [..., K, M]
    h_d = (ch.H_d @ w[..., :, :, None])[..., 0]  # [..., K, N]
    c = np.einsum("...kn,...knm,...km->...k", h_d.conj(), A, np.exp(1j * np.angle(b)))
    return b * np.exp(-1j * np.angle(c))[..., None]


# The inner loop: powers, detectors (and beamformers) for fixed phases ---------------------
@dataclass(frozen=True)
class PowerControl:
    """Outcome of :func:`power_control` (batch-first).

    Attributes:
        power_w: ``[..., K]`` powers (W): the minimum-power fixed point where ``feasible``,
            else the fallback (``config.fallback_power_w``) or the cap-clipped fixed point.
        detectors: ``[..., K, N]`` MVDR detectors for ``power_w``.
        beamformers: ``[..., K, N_u]``.
        feasible: ``[...]`` bool: the latency targets are met (rho(F) < 1 and, with a cap,
            every power <= p_max) on the channel the loop was given.
        iterations: number of a-c passes run (the largest over the batch).
    """

    power_w: np.ndarray
    detectors: np.ndarray
    beamformers: np.ndarray
    feasible: np.ndarray
    iterations: int


def _powers_for(h: np.ndarray, U: np.ndarray, gamma_bar: np.ndarray):
    """(18) at its fixed point for detectors U: (p, feasible); p = inf where rho(F) >= 1."""
    F, b = interference_matrices(cross_gains(U, h), noise_gains(U), gamma_bar)
    ok = spectral_radius(F) < RHO_LIMIT
    p = fixed_point_powers(np.where(ok[..., None, None], F, 0.0), np.where(ok[..., None], b, 0.0))
    return np.where(ok[..., None], p, np.inf), ok


def power_control(
    config: MmWaveUplinkConfig,
    H: np.ndarray,
    gamma_bar: np.ndarray,
    *,
    max_iterations: int = 200,
    rel_tol: float = 1e-10,
) -> PowerControl:
    r"""Minimum total power for fixed phases: spec 5.4 steps a-c iterated to convergence.

    1. w_k: all ones for N_u = 1, else the principal right singular vector of H_k [R];
       u_k: MVDR (22) at the nominal power 1 mW per user (spec 5.4 step 1, not MRC). If
       rho(F) >= 1 for these detectors, the zero-forcing detectors (the limit of MVDR as
       the interferers' powers grow) replace them [R]: infeasibility is then only declared
       when the channels themselves cannot meet the targets (rank deficiency).
    2. p: the fixed point of (18) (:func:`fixed_point_powers`), after checking rho(F) < 1.
    3. Repeat: u <- MVDR(p), p <- fixed point (steps b, c); with N_u > 1 also the w-step
       (:func:`beamformer_step`), kept only where it lowers the total power. Each pass
       lowers every p_k (MVDR at p meets the targets at p, and the fixed point is the least
       feasible vector), so the loop stops when the total changes by <= ``rel_tol``
       relative, or after ``max_iterations`` passes. For N_u = 1 the limit is the minimum
       of (P1) over p and u at these phases (a standard interference function).
    4. With a cap p_max, a fixed point above it is infeasible and is clipped to p_max; an
       infeasible entry (rho(F) >= 1) gets ``config.fallback_power_w`` per user. Detectors
       are then MVDR for the reported powers.

    Args:
        config: the model config (cap and fallback power).
        H: ``[..., K, N, N_u]`` noise-normalised user channels H_k(theta).
        gamma_bar: ``[..., K]`` SINR targets (11).

    Returns:
        :class:`PowerControl`.
    """
    Nu = H.shape[-1]
    w = np.ones((*H.shape[:-2], 1), dtype=complex) if Nu == 1 else dominant_beamformers(H)
    h = (H @ w[..., None])[..., 0]
    U = mvdr_detectors(h, np.full(gamma_bar.shape, NOMINAL_POWER_W))
    p, ok = _powers_for(h, U, gamma_bar)
    if not np.all(ok):
        U = np.where(ok[..., None, None], U, zf_detectors(h))
        p, ok = _powers_for(h, U, gamma_bar)
    active = ok.copy()
    iterations = 0
    while np.any(active) and iterations < max_iterations:
        iterations += 1
        total = p.sum(axis=-1)
        safe_p = np.where(active[..., None], p, NOMINAL_POWER_W)
        U_new = mvdr_detectors(h, safe_p)
        p_new, ok_new = _powers_for(h, U_new, gamma_bar)
        take = active & ok_new & (p_new.sum(axis=-1) <= total)
        if Nu > 1:
            w_try = beamformer_step(H, w, U_new, gamma_bar)
            h_try = (H @ w_try[..., None])[..., 0]
            U_try = mvdr_detectors(h_try, safe_p)
            p_try, ok_try = _powers_for(h_try, U_try, gamma_bar)
            better = take & ok_try & (p_try.sum(axis=-1) < p_new.sum(axis=-1))
            w = np.where(better[..., None, None], w_try, w)
            h = np.where(better[..., None, None], h_try, h)
            U_new = np.where(better[..., None, None], U_try, U_new)
            p_new = np.where(better[..., None], p_try, p_new)
        U = np.where(take[..., None, None], U_new, U)
        p_next = np.where(take[..., None], p_new, p)
        change = np.abs(total - p_next.sum(axis=-1))
        active = take & (change > rel_tol * total)
        p = p_next
    feasible = ok
    if config.max_power_w is not None:
        feasible = feasible & np.all(p <= config.max_power_w, axis=-1)
        p = np.minimum(p, config.max_power_w)
    p = np.where(ok[..., None], p, config.fallback_power_w)
    if not np.all(feasible):
        U = np.where(feasible[..., None, None], U, mvdr_detectors(h, p))
    return PowerControl(p, U, w, feasible, iterations)


def quantize_phases(theta: np.ndarray) -> np.ndarray:
    """exp(j pi a) with a = angle(theta) / pi rounded to float32 (about 2e-7 rad).

    The env's action holds a = angle / pi as float32, so a decision whose phases are on this
    grid survives ``decode(encode(.))`` bit for bit: the env then reproduces a solver's
    objective exactly. Every decision is built through this grid.
    """
    a = (np.angle(theta) / np.pi).astype(np.float32).astype(np.float64)
    return np.exp(1j * np.pi * a)


def decision_for_phases(
    config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario, theta: np.ndarray
) -> tuple[MmWaveUplinkDecision, np.ndarray]:
    """The env's default decoder and every solver's last step: phases on the float32 grid,
    then :func:`power_control` on the *estimated* channel (the AP designs with what it
    knows). Returns the decision and the design-time feasibility ``[...]``."""
    theta = quantize_phases(theta)
    H = user_channels(normalized(config, scenario), theta)
    pc = power_control(config, H, target_sinr(config, scenario))
    return MmWaveUplinkDecision(theta, pc.power_w, pc.detectors, pc.beamformers), pc.feasible


def decision_for_powers(
    config: MmWaveUplinkConfig,
    scenario: MmWaveUplinkScenario,
    theta: np.ndarray,
    power_w: np.ndarray,
) -> MmWaveUplinkDecision:
    """Phases and powers given (``control="phases_and_powers"``): MVDR detectors for them
    on the estimated channel; w_k the principal right singular vector of H_k when N_u > 1."""
    theta = quantize_phases(theta)
    H = user_channels(normalized(config, scenario), theta)
    if config.num_user_antennas == 1:
        w = np.ones((*H.shape[:-2], 1), dtype=complex)
    else:
        w = dominant_beamformers(H)
    h = (H @ w[..., None])[..., 0]
    return MmWaveUplinkDecision(theta, power_w, mvdr_detectors(h, power_w), w)


def default_decision(
    config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario
) -> MmWaveUplinkDecision:
    """theta = 1 (Algorithm 1's deterministic start) with its inner-loop powers."""
    batch = scenario.data_nats.shape[:-1]
    return decision_for_phases(config, scenario, np.ones((*batch, config.num_elements)))[0]


# Metrics ----------------------------------------------------------------------------------
def metrics(
    config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario, decision: MmWaveUplinkDecision
) -> dict[str, np.ndarray]:
    """Every metric of model 001 for a (batch of) decision(s), on the *true* channel.

    Returns a dict of arrays with the batch shape (per-user entries ``[..., K]``):
    ``sinr`` (gamma_k, linear), ``target_sinr`` (gamma_bar_k), ``rate_bps`` (B log2(1 +
    gamma_k)), ``sum_rate_bps``, ``latency_s`` (D_k / (B ln(1 + gamma_k)), capped at
    ``LATENCY_CAP_S``), ``power_w``, ``power_dbm``, ``total_power_w``,
    ``total_power_dbm`` (= ``objective``), ``constraint_violation`` (sum over users of the
    relative SINR shortfall max(0, 1 - gamma_k / gamma_bar_k), i.e. the latency constraint
    (7c), plus the relative excess over the power cap, plus the largest unit-modulus and
    beamformer-norm errors and any negative power) and ``feasible`` (violation <= 1e-6).
    """
    p = decision.power_w
    ch = normalized(config, scenario, true_csi=True)
    h = effective_channels(ch, decision.theta, decision.beamformers)
    U = decision.detectors
    gamma = sinr(p, cross_gains(U, h), noise_gains(U))
    gamma_bar = target_sinr(config, scenario)
    rate_nats = config.bandwidth_hz * np.log1p(gamma)
    with np.errstate(divide="ignore"):
        latency = np.minimum(scenario.data_nats / rate_nats, LATENCY_CAP_S)
    total_w = p.sum(axis=-1)
    violation = np.sum(np.maximum(1.0 - gamma / gamma_bar, 0.0), axis=-1)
    if config.max_power_w is not None:
        violation = violation + np.sum(np.maximum(p / config.max_power_w - 1.0, 0.0), axis=-1)
    violation = violation + np.max(np.abs(np.abs(decision.theta) - 1.0), axis=-1)
    violation = violation + np.max(
        np.abs(np.linalg.norm(decision.beamformers, axis=-1) - 1.0), axis=-1
    )
    violation = violation + np.sum(np.maximum(-p, 0.0), axis=-1)
    total_dbm = w_to_dbm(np.maximum(total_w, 1e-300))
    return {
        "sinr": gamma,
        "target_sinr": gamma_bar,
        "rate_bps": rate_nats / math.log(2.0),
        "sum_rate_bps": rate_nats.sum(axis=-1) / math.log(2.0),
        "latency_s": latency,
        "power_w": p,
        "power_dbm": w_to_dbm(np.maximum(p, 1e-300)),
        "total_power_w": total_w,
        "total_power_dbm": total_dbm,
        "objective": total_dbm,
        "constraint_violation": violation,
        "feasible": violation <= FEASIBILITY_TOL,
    }


# Observation ------------------------------------------------------------------------------
def observation(config: MmWaveUplinkConfig, scenario: MmWaveUplinkScenario) -> np.ndarray:
    """Channel features ``[..., D]`` scaled to O(1), float64 (the agent's view: H_r is the
    estimate).

    Layout: Re H_d, Im H_d (each ``K*N*N_u``, user k's block divided by the RMS entry of a
    LoS direct channel at its distance without shadowing), Re G, Im G (each ``N*M``, divided
    by its RMS entry without shadowing), Re H_r_est, Im H_r_est (each ``K*M*N_u``, per user
    likewise), then per user the LoS flag b_k (0/1) and the required spectral efficiency
    D_k / (B T_k) (nats/s/Hz; gamma_bar_k = e^x - 1). Blocked users' (NLoS) direct entries
    are some 25 dB below 1; shadowing spreads every block by several dB.
    """
    s_d, s_g, s_r = config.nominal_amplitudes()
    batch = scenario.data_nats.shape[:-1]
    H_d = scenario.H_d / s_d[:, None, None]
    G = scenario.G / s_g
    H_r = scenario.H_r_est / s_r[:, None, None]
    parts = [H_d.real, H_d.imag, G.real, G.imag, H_r.real, H_r.imag]
    flat = [x.reshape(*batch, -1) for x in parts]
    flat.append(scenario.los.astype(np.float64))
    flat.append(scenario.data_nats / (config.bandwidth_hz * scenario.latency_s))
    return np.concatenate(flat, axis=-1)


def observation_size(config: MmWaveUplinkConfig) -> int:
    """Length D of :func:`observation`."""
    K, N, M, Nu = (
        config.num_users,
        config.num_ap_antennas,
        config.num_elements,
        config.num_user_antennas,
    )
    return 2 * K * N * Nu + 2 * N * M + 2 * K * M * Nu + 2 * K
