r"""Model 000: IRS-backscatter uplink, coordinated multi-cell MIMO with a power beacon (Xu et al.).

System (spec ``shared/models/000-backscatter-multicell.md``, sections 1-3, 6): I cells, each a
BS with N antennas at ``BS_SITES_M`` and K UEs uniform in the disc of radius r around it; every
UE owns an IRS of L elements. A power beacon (PB) with M antennas at the origin radiates the
carrier ``w s``; the IRS of a scheduled UE u re-modulates it with its symbol x_u and its
passive beam v_u, so BS j receives

.. math:: \mathbf y_j=\sum_{u\ \mathrm{scheduled}}\mathbf F_{j,u}\,\mathrm{diag}(\mathbf H_u
          \mathbf w)\,\mathbf v_u\,x_u+\mathbf G_j\mathbf w\,s+\mathbf n_j,

with MMSE reception at the UE's own BS i (spec section 3):
:math:`\gamma_u=\mathbf a_{i,u}^H(\sigma^2\mathbf I+\mathbf G_i\mathbf w\mathbf w^H\mathbf G_i^H
+\sum_{u'\ne u}\mathbf a_{i,u'}\mathbf a_{i,u'}^H)^{-1}\mathbf a_{i,u}`,
:math:`\mathbf a_{j,u}=\mathbf F_{j,u}\mathrm{diag}(\mathbf H_u\mathbf w)\mathbf v_u`,
:math:`R_u=\log_2(1+\gamma_u)`, WSR :math:`=\sum_u\omega_uR_u`. Unscheduled UEs absorb: they
contribute neither signal nor interference.

Architecture variants (``uplink``): ``"backscatter"`` (above), ``"passive"`` (spec 6.3: no PB,
:math:`\mathbf a_{j,u}=\mathbf F_{j,u}\mathbf v_u` with :math:`|v_l|^2=P_a/L`) and ``"active"``
(spec 6.2: no PB, Q_a antennas per UE, :math:`\mathbf a_{j,u}=\mathbf F^{\rm act}_{j,u}\mathbf v_u`,
:math:`\|\mathbf v_u\|^2\le P_a`, no IRS gain).

UEs are indexed flat, ``u = i K + k`` (cell i, UE k of that cell); ``cell_of_ue`` maps back.
Array conventions (batch axes ``...`` first, receiver x transmitter):

* ``H`` ``[..., U, L, M]`` PB -> IRS u (``None`` without PB).
* ``F`` ``[..., I, U, N, D]`` IRS (or active UE) u -> BS j; D = L, or Q_a when active.
* ``G`` ``[..., I, N, M]`` PB -> BS j (``None`` without PB).
* decision: ``w [..., M]`` (all zeros without PB), ``v [..., U, D]``, ``stream [..., U]`` (the
  stream of its own BS a UE occupies, -1 = unscheduled).

Imperfect CSI (spec 6.4, ``csi_error`` = rho > 0): the scenario holds the estimates
:math:`\bar{\mathbf X}` (drawn from the channel model) and the errors
:math:`\tilde{\mathbf X}\sim\mathcal{CN}(0,\rho^2\Sigma_X)` i.i.d. per entry (Sigma_X the
link's large-scale gain); the true channel is :math:`\mathbf X=\bar{\mathbf X}+\tilde{\mathbf X}`.
The env scores the truth ("Real"); :func:`metrics` also reports the WSR that the white-noise
approximation predicts from the estimates ("White"), see :func:`channels`.

Channels are stored in physical units (amplitude gains); :func:`channels` divides F and G by
the noise standard deviation so that every SINR and every solver sees noise power 1, while
``w`` keeps its physical unit (sqrt(W)) and so multiplies the unnormalised H.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from irs_gym.models.validation import check, check_int, check_real
from irs_gym.physics import (
    complex_normal,
    db_to_linear,
    dbm_to_w,
    distance_m,
    gauss_markov,
    log_distance_gain,
    planar_response,
    rician,
    ula_response_from_sine,
    uniform_disc,
)

UPLINKS = ("backscatter", "passive", "active")
ARRAYS = ("ula", "upa")

#: BS sites as unit directions from the PB, in the spec's recommended order for I = 1..4
#: (section 1): I = 1 uses (d, 0); I >= 2 starts with (-d, 0), (d, 0), then (0, d), (0, -d).
BS_DIRECTIONS = {
    1: ((1.0, 0.0),),
    2: ((-1.0, 0.0), (1.0, 0.0)),
    3: ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0)),
    4: ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, -1.0)),
}

#: Tolerance of the feasibility flag on ``constraint_violation``.
FEASIBILITY_TOL = 1e-6


@dataclass(frozen=True)
class BackscatterConfig:
    """Parameters of model 000 (defaults: spec section 7, Table I; ``[R]``: reconstructed).

    Attributes:
        num_cells: I, number of cells / BSs, in [1, 4] (sites: ``BS_DIRECTIONS``). Default 2.
        num_users: K, UEs per cell, in [1, 32]. Default 2.
        num_pb_antennas: M, PB antennas, in [1, 64]. Default 4.
        num_bs_antennas: N, antennas per BS = streams per cell, in [1, 64]. Default 2.
        num_elements: L, elements per IRS, in [1, 1024]. Default 64.
        pb_power_dbm: P, PB power budget in dBm, in [-30, 60] (floor -30 dBm). Default 39
            (9 dBW).
        ue_power_dbm: P_a, per-UE power of the passive / active variants in dBm, in
            [-30, 40]. Default 3.
        noise_dbm: sigma^2 in dBm, in [-200, 0]. Default -94.
        rician_factor: kappa (linear) of every link, in [0, 1e6]. Default 3.
        ref_gain_db: PL_0, path gain at d_0 in dB, in [-200, 0]. Default -30.
        pathloss_exponent: 2.5 (PL = PL_0 - 25 log10(d/d_0)), in [0, 10].
        ref_distance_m: d_0 in m, > 0; link distances are clipped to >= d_0. Default 1.
        irs_gain_dbi: reflection gain on every IRS -> BS link, in [0, 30] dBi. Default 3.
        bs_distance_m: PB-BS distance d (m), > 0. Default 50.
        cell_radius_m: UE disc radius r (m), > 0. Default 60.
        weights: omega_u per UE (I K positive numbers, cell-major), ``None`` for all ones.
        csi_error: rho, relative CSI-error standard deviation (spec 6.4), in [0, 1].
            Default 0 (perfect CSI).
        uplink: ``"backscatter"`` (the paper's network), ``"passive"`` (6.3) or ``"active"``
            (6.2).
        num_active_antennas: Q_a, antennas per UE in the active variant, in [1, 64].
            Default 4.
        amplitude_control: backscatter only. ``True``: the paper's C2, any reflection
            amplitude |v_l| <= 1; ``False`` (default): unit amplitude |v_l| = 1 (phases only).
        array: IRS geometry, ``"ula"`` (default) or ``"upa"`` (sqrt(L) x sqrt(L), 2-D
            layout, so only sqrt(L) distinct phases; needs a square L) [R].
    """

    num_cells: int = 2
    num_users: int = 2
    num_pb_antennas: int = 4
    num_bs_antennas: int = 2
    num_elements: int = 64
    pb_power_dbm: float = 39.0
    ue_power_dbm: float = 3.0
    noise_dbm: float = -94.0
    rician_factor: float = 3.0
    ref_gain_db: float = -30.0
    pathloss_exponent: float = 2.5
    ref_distance_m: float = 1.0
    irs_gain_dbi: float = 3.0
    bs_distance_m: float = 50.0
    cell_radius_m: float = 60.0
    weights: tuple[float, ...] | None = None
    csi_error: float = 0.0
    uplink: str = "backscatter"
    num_active_antennas: int = 4
    amplitude_control: bool = False
    array: str = "ula"

    def __post_init__(self) -> None:
        check_int(self, "num_cells", 1, 4)
        check_int(self, "num_users", 1, 32)
        check_int(self, "num_pb_antennas", 1, 64)
        check_int(self, "num_bs_antennas", 1, 64)
        check_int(self, "num_elements", 1, 1024)
        check_int(self, "num_active_antennas", 1, 64)
        check_real(self, "pb_power_dbm", -30.0, 60.0)
        check_real(self, "ue_power_dbm", -30.0, 40.0)
        check_real(self, "noise_dbm", -200.0, 0.0)
        check_real(self, "rician_factor", 0.0, 1e6)
        check_real(self, "ref_gain_db", -200.0, 0.0)
        check_real(self, "pathloss_exponent", 0.0, 10.0)
        check_real(self, "ref_distance_m", 1e-3, 1e3)
        check_real(self, "irs_gain_dbi", 0.0, 30.0)
        check_real(self, "bs_distance_m", 1e-3, 1e5)
        check_real(self, "cell_radius_m", 1e-3, 1e5)
        check_real(self, "csi_error", 0.0, 1.0)
        check(self.uplink in UPLINKS, f"uplink must be one of {UPLINKS}, got {self.uplink!r}")
        check(self.array in ARRAYS, f"array must be one of {ARRAYS}, got {self.array!r}")
        check(
            isinstance(self.amplitude_control, bool | np.bool_),
            f"amplitude_control must be a bool, got {self.amplitude_control!r}",
        )
        check(
            not self.amplitude_control or self.uplink == "backscatter",
            f"amplitude_control=True needs uplink='backscatter', got uplink={self.uplink!r}",
        )
        if self.array == "upa":
            side = math.isqrt(self.num_elements)
            check(
                side * side == self.num_elements,
                f"array='upa' needs a square num_elements, got {self.num_elements}",
            )
        if self.weights is not None:
            try:
                w = tuple(float(x) for x in np.ravel(self.weights))
            except (TypeError, ValueError):
                w = ()
            check(
                len(w) == self.num_ues and all(math.isfinite(x) and x > 0 for x in w),
                f"weights must hold num_cells * num_users = {self.num_ues} positive numbers, "
                f"got {self.weights!r}",
            )
            object.__setattr__(self, "weights", w)

    # Derived quantities -------------------------------------------------------------------
    @property
    def num_ues(self) -> int:
        """U = I K, UEs in total."""
        return self.num_cells * self.num_users

    @property
    def has_pb(self) -> bool:
        """Whether a PB radiates (backscatter variant only)."""
        return self.uplink == "backscatter"

    @property
    def beam_size(self) -> int:
        """D, length of v_u: L (IRS variants) or Q_a (active)."""
        return self.num_active_antennas if self.uplink == "active" else self.num_elements

    @property
    def pb_power_w(self) -> float:
        """P in W."""
        return float(dbm_to_w(self.pb_power_dbm))

    @property
    def ue_power_w(self) -> float:
        """P_a in W."""
        return float(dbm_to_w(self.ue_power_dbm))

    @property
    def noise_w(self) -> float:
        """sigma^2 in W."""
        return float(dbm_to_w(self.noise_dbm))

    @property
    def irs_gain(self) -> float:
        """g_IRS, linear power factor on IRS -> BS links (1 for the active variant)."""
        return 1.0 if self.uplink == "active" else float(db_to_linear(self.irs_gain_dbi))

    @property
    def beam_amplitude(self) -> float:
        """Element amplitude bound a of v: 1 (backscatter), sqrt(P_a / L) (passive)."""
        if self.uplink == "passive":
            return math.sqrt(self.ue_power_w / self.num_elements)
        return 1.0

    @property
    def bs_positions_m(self) -> np.ndarray:
        """``[I, 3]`` BS coordinates (m), the PB at the origin."""
        d = np.asarray(BS_DIRECTIONS[self.num_cells], dtype=float) * self.bs_distance_m
        return np.concatenate([d, np.zeros((self.num_cells, 1))], axis=1)

    @property
    def cell_of_ue(self) -> np.ndarray:
        """``[U]`` cell index of every UE."""
        return np.repeat(np.arange(self.num_cells), self.num_users)

    @property
    def weights_array(self) -> np.ndarray:
        """omega ``[U]``."""
        if self.weights is None:
            return np.ones(self.num_ues)
        return np.asarray(self.weights, dtype=float)


@dataclass(frozen=True)
class BackscatterScenario:
    """One (or a batch of) realisation(s) of model 000 (physical units, batch axes first).

    Attributes:
        ue_positions_m: ``[..., U, 3]`` UE (= IRS) coordinates (m), z = 0.
        gain_H: ``[..., U]`` large-scale power gain Sigma_H of PB -> IRS u (``None`` w/o PB).
        gain_F: ``[..., I, U]`` Sigma_F of u -> BS j (IRS gain included where it applies).
        gain_G: ``[..., I]`` Sigma_G of PB -> BS j (``None`` without PB).
        H_hat, F_hat, G_hat: the channel estimates (spec 6.4 bar X; the channels themselves
            under perfect CSI), shapes in the module docstring; ``H_hat``/``G_hat`` ``None``
            without PB.
        H_err, F_err, G_err: the CSI errors (tilde X), ``None`` when ``csi_error`` = 0.
    """

    ue_positions_m: np.ndarray
    gain_H: np.ndarray | None
    gain_F: np.ndarray
    gain_G: np.ndarray | None
    H_hat: np.ndarray | None = field(repr=False)
    F_hat: np.ndarray = field(repr=False)
    G_hat: np.ndarray | None = field(repr=False)
    H_err: np.ndarray | None = field(default=None, repr=False)
    F_err: np.ndarray | None = field(default=None, repr=False)
    G_err: np.ndarray | None = field(default=None, repr=False)

    @property
    def H(self) -> np.ndarray | None:
        """True PB -> IRS channels (estimate + error)."""
        return _plus(self.H_hat, self.H_err)

    @property
    def F(self) -> np.ndarray:
        """True u -> BS channels."""
        return _plus(self.F_hat, self.F_err)

    @property
    def G(self) -> np.ndarray | None:
        """True PB -> BS channels."""
        return _plus(self.G_hat, self.G_err)


def _plus(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return a if b is None else a + b


@dataclass(frozen=True)
class BackscatterDecision:
    """Optimisation variables: ``w [..., M]`` (PB beam, sqrt(W); zeros without PB),
    ``v [..., U, D]`` (passive or active UE beams) and ``stream [..., U]`` (int64: stream of
    its own BS, -1 = unscheduled; at most one UE per (cell, stream))."""

    w: np.ndarray
    v: np.ndarray
    stream: np.ndarray


# Sampling ---------------------------------------------------------------------------------
def _sine(src_m: np.ndarray, dst_m: np.ndarray) -> np.ndarray:
    """u_y of the unit direction src -> dst (0 for coincident points): sin(phi) of a ULA
    along the y axis (spec section 2)."""
    diff = dst_m - src_m
    d = np.sqrt(np.sum(diff * diff, axis=-1))
    return np.where(d > 0, diff[..., 1] / np.where(d > 0, d, 1.0), 0.0)


def _irs_response(config: BackscatterConfig, sine: np.ndarray) -> np.ndarray:
    """Unnormalised IRS response ``[..., L]``: ULA, or the UPA a_y (x) a_z with elevation 0."""
    if config.array == "upa":
        side = math.isqrt(config.num_elements)
        return planar_response(side, side, sine, np.zeros_like(sine), normalized=False)
    return ula_response_from_sine(config.num_elements, sine, normalized=False)


def _tx_response(config: BackscatterConfig, sine: np.ndarray) -> np.ndarray:
    """Response of the transmitting end of u -> BS links: the IRS, or the active UE's ULA."""
    if config.uplink == "active":
        return ula_response_from_sine(config.num_active_antennas, sine, normalized=False)
    return _irs_response(config, sine)


def _los(config: BackscatterConfig, ue_m: np.ndarray):
    """LoS matrices a_R(AoA) a_T(AoD)^H (spec section 2): for a link tx -> rx with
    s = u_y(tx -> rx), AoD sine s at the transmitter and AoA sine -s at the receiver.

    Returns ``(H_los [..., U, L, M] | None, F_los [..., I, U, N, D], G_los [I, N, M] | None)``.
    """
    pb = np.zeros(3)
    bs = config.bs_positions_m
    M, N = config.num_pb_antennas, config.num_bs_antennas
    s_f = _sine(ue_m[..., None, :, :], bs[:, None, :])  # [..., I, U]
    F_los = ula_response_from_sine(N, -s_f, normalized=False)[..., :, None] * np.conj(
        _tx_response(config, s_f)[..., None, :]
    )
    if not config.has_pb:
        return None, F_los, None
    s_h = _sine(pb, ue_m)  # [..., U]
    H_los = _irs_response(config, -s_h)[..., :, None] * np.conj(
        ula_response_from_sine(M, s_h, normalized=False)[..., None, :]
    )
    s_g = _sine(pb, bs)  # [I]
    G_los = ula_response_from_sine(N, -s_g, normalized=False)[..., :, None] * np.conj(
        ula_response_from_sine(M, s_g, normalized=False)[..., None, :]
    )
    return H_los, F_los, G_los


def _gains(config: BackscatterConfig, ue_m: np.ndarray):
    """Large-scale power gains (Sigma_H [..., U], Sigma_F [..., I, U], Sigma_G [..., I])."""
    pl = dict(
        ref_gain_db=config.ref_gain_db,
        exponent=config.pathloss_exponent,
        ref_distance_m=config.ref_distance_m,
    )
    bs = config.bs_positions_m
    batch = ue_m.shape[:-2]
    # Clip before the law so that a UE exactly on the PB or a BS (distance 0) stays valid.
    d_f = np.maximum(distance_m(ue_m[..., None, :, :], bs[:, None, :]), config.ref_distance_m)
    gain_F = log_distance_gain(d_f, **pl) * config.irs_gain
    if not config.has_pb:
        return None, gain_F, None
    d_h = np.maximum(distance_m(ue_m, np.zeros(3)), config.ref_distance_m)
    d_g = np.maximum(distance_m(bs, np.zeros(3)), config.ref_distance_m)
    gain_G = np.broadcast_to(log_distance_gain(d_g, **pl), (*batch, config.num_cells)).copy()
    return log_distance_gain(d_h, **pl), gain_F, gain_G


def _fading_weights(config: BackscatterConfig) -> tuple[float, float]:
    """(sqrt(kappa/(1+kappa)), sqrt(1/(1+kappa))): LoS and NLoS weights of the Rician law."""
    w_nlos = math.sqrt(1.0 / (1.0 + config.rician_factor))
    return math.sqrt(1.0 - w_nlos**2), w_nlos


def sample_scenario(
    config: BackscatterConfig, rng: np.random.Generator, batch_shape: tuple[int, ...] = ()
) -> BackscatterScenario:
    """Draw UE positions, Rician channels (spec sections 1-2) and CSI errors (6.4).

    Draw order: UE positions (cell by cell), the NLoS parts of H, F, G, then the errors of
    H, F, G (only when ``csi_error`` > 0).
    """
    b = tuple(batch_shape)
    I, K, U = config.num_cells, config.num_users, config.num_ues
    centers = config.bs_positions_m[:, None, :]  # [I, 1, 3]
    ue = uniform_disc(rng, centers, config.cell_radius_m, (*b, I, K)).reshape(*b, U, 3)
    H_los, F_los, G_los = _los(config, ue)
    gain_H, gain_F, gain_G = _gains(config, ue)
    kappa = config.rician_factor
    N, D = config.num_bs_antennas, config.beam_size
    M, L = config.num_pb_antennas, config.num_elements
    H_hat = G_hat = None
    if config.has_pb:
        H_hat = np.sqrt(gain_H)[..., None, None] * rician(rng, H_los, kappa, (*b, U, L, M))
    F_hat = np.sqrt(gain_F)[..., None, None] * rician(rng, F_los, kappa, (*b, I, U, N, D))
    if config.has_pb:
        G_hat = np.sqrt(gain_G)[..., None, None] * rician(rng, G_los, kappa, (*b, I, N, M))
    errors: dict[str, np.ndarray | None] = {"H_err": None, "F_err": None, "G_err": None}
    if config.csi_error > 0:
        var = config.csi_error**2
        if config.has_pb:
            errors["H_err"] = complex_normal(rng, H_hat.shape, var * gain_H[..., None, None])
        errors["F_err"] = complex_normal(rng, F_hat.shape, var * gain_F[..., None, None])
        if config.has_pb:
            errors["G_err"] = complex_normal(rng, G_hat.shape, var * gain_G[..., None, None])
    return BackscatterScenario(ue, gain_H, gain_F, gain_G, H_hat, F_hat, G_hat, **errors)


def evolve_scenario(
    config: BackscatterConfig,
    scenario: BackscatterScenario,
    rng: np.random.Generator,
    rho: float,
) -> BackscatterScenario:
    """Gauss-Markov step (coefficient ``rho``) of the NLoS part of every estimate and of every
    CSI error; positions, gains and LoS parts stay, so the channels are correlated in time."""
    H_los, F_los, G_los = _los(config, scenario.ue_positions_m)
    w_los, w_nlos = _fading_weights(config)

    def step(hat, gain, los):
        if hat is None:
            return None
        amp = np.sqrt(gain)[..., None, None]
        nlos = (hat / amp - w_los * los) / w_nlos
        return amp * (w_los * los + w_nlos * gauss_markov(rng, nlos, rho))

    def step_err(err, gain):
        if err is None:
            return None
        var = config.csi_error**2 * gain[..., None, None]
        return gauss_markov(rng, err, rho, np.broadcast_to(var, err.shape))

    return dataclasses.replace(
        scenario,
        H_hat=step(scenario.H_hat, scenario.gain_H, H_los),
        F_hat=step(scenario.F_hat, scenario.gain_F, F_los),
        G_hat=step(scenario.G_hat, scenario.gain_G, G_los),
        H_err=step_err(scenario.H_err, scenario.gain_H),
        F_err=step_err(scenario.F_err, scenario.gain_F),
        G_err=step_err(scenario.G_err, scenario.gain_G),
    )


# Channels as the optimisers see them ------------------------------------------------------
@dataclass(frozen=True)
class Channels:
    r"""Noise-normalised channels and the per-antenna noise covariance model.

    Attributes:
        H: ``[..., U, L, M]`` PB -> IRS (physical; it multiplies w), or ``None``.
        F: ``[..., I, U, N, D]`` divided by sigma.
        G: ``[..., I, N, M]`` divided by sigma, or ``None``.
        noise: ``[..., I, N]`` diagonal of the covariance every scheduled set sees at BS j
            (1, plus Omega_G / sigma^2 in the estimate view).
        noise_per_ue: ``[..., I, U, N]`` what scheduling UE u adds to that diagonal at BS j
            (0, or (Omega_{j,u,H} + Omega_{j,u,F}) / sigma^2 in the estimate view).
    """

    H: np.ndarray | None
    F: np.ndarray
    G: np.ndarray | None
    noise: np.ndarray
    noise_per_ue: np.ndarray


def channels(
    config: BackscatterConfig, scenario: BackscatterScenario, view: str = "truth"
) -> Channels:
    r"""The channels of one ``view``, normalised (noise power 1).

    ``"truth"``: the true channels, noise sigma^2 I. ``"estimate"``: the estimates with the
    white-noise model of spec 6.4, sigma^2 I replaced at BS j by
    :math:`\sigma^2\mathbf I+\Omega_{\mathbf G_j}+\sum_{u\ \mathrm{sched}}(\Omega_{j,u,\mathbf H}
    +\Omega_{j,u,\mathbf F})`, all diagonal, with
    :math:`[\Omega_{j,u,\mathbf H}]_{mm}=\rho^2P\Sigma_{\mathbf H_u}
    \|\bar{\mathbf f}^{(m)}_{j,u}\|^2`,
    :math:`[\Omega_{j,u,\mathbf F}]_{mm}=\rho^2P\Sigma_{\mathbf F_{j,u}}
    \|\bar{\mathbf H}_u\|_F^2/M`,
    :math:`\Omega_{\mathbf G_j}=\rho^2P\Sigma_{\mathbf G_j}\mathbf I`. The covariance at BS j uses
    the rows of :math:`\bar{\mathbf F}_{j,u}` (UE u's channel into BS j: the variance of
    :math:`\bar{\mathbf F}_{j,u}\mathrm{diag}(\tilde{\mathbf H}_u\mathbf w)\mathbf v_u` with
    |v_l| = 1, ||w||^2 = P); the paper's indices are ambiguous there. Without PB (passive /
    active variants, our extension) only the F error remains:
    :math:`\Omega_{j,u,\mathbf F}=\rho^2P_a\Sigma_{\mathbf F_{j,u}}\mathbf I` (||v_u||^2 = P_a).
    With rho = 0 both views coincide.
    """
    if view not in ("truth", "estimate"):
        raise ValueError(f"view must be 'truth' or 'estimate', got {view!r}")
    sigma2 = config.noise_w
    sigma = math.sqrt(sigma2)
    truth = view == "truth"
    H = scenario.H if truth else scenario.H_hat
    F = (scenario.F if truth else scenario.F_hat) / sigma
    G = scenario.G if truth else scenario.G_hat
    G = None if G is None else G / sigma
    batch_iu = scenario.gain_F.shape  # [..., I, U]
    N = config.num_bs_antennas
    noise = np.ones((*batch_iu[:-1], N))
    per_ue = np.zeros((*batch_iu, N))
    rho2 = config.csi_error**2
    if truth or rho2 == 0:
        return Channels(H, F, G, noise, per_ue)
    if config.has_pb:
        P = config.pb_power_w
        noise = noise + (rho2 * P * scenario.gain_G / sigma2)[..., None]
        row_power = np.sum(np.abs(F) ** 2, axis=-1)  # [..., I, U, N], normalised F
        omega_h = rho2 * P * scenario.gain_H[..., None, :, None] * row_power
        h_power = np.sum(np.abs(H) ** 2, axis=(-2, -1))  # [..., U]
        M = config.num_pb_antennas
        omega_f = rho2 * P * scenario.gain_F / sigma2 * h_power[..., None, :] / M
        per_ue = omega_h + omega_f[..., None]
    else:
        per_ue = per_ue + (rho2 * config.ue_power_w * scenario.gain_F / sigma2)[..., None]
    return Channels(H, F, G, noise, per_ue)


def received_beams(ch: Channels, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""Received signature of every UE at every BS,
    :math:`\mathbf a_{j,u}=\mathbf F_{j,u}\mathrm{diag}(\mathbf H_u\mathbf w)\mathbf v_u`
    (or :math:`\mathbf F_{j,u}\mathbf v_u` without PB): ``[..., I, U, N]``."""
    x = v if ch.H is None else v * np.einsum("...ulm,...m->...ul", ch.H, w)
    return np.einsum("...junl,...ul->...jun", ch.F, x)


def pb_interference(ch: Channels, w: np.ndarray) -> np.ndarray:
    """G_j w ``[..., I, N]`` (zeros without PB)."""
    if ch.G is None:
        return np.zeros(ch.noise.shape, dtype=complex)
    return np.einsum("...jnm,...m->...jn", ch.G, w)


def covariance(ch: Channels, a: np.ndarray, g: np.ndarray, active: np.ndarray) -> np.ndarray:
    r""":math:`\mathbf B_j=\mathrm{diag}(\text{noise}_j+\sum_u s_u\,\text{noise\_per\_ue}_{j,u})
    +\mathbf g_j\mathbf g_j^H+\sum_u s_u\mathbf a_{j,u}\mathbf a_{j,u}^H` ``[..., I, N, N]``
    (spec 5.1's B_i: every scheduled signal included), s = ``active`` ``[..., U]`` in {0, 1}."""
    s = active.astype(float)
    B = np.einsum("...jun,...u,...jum->...jnm", a, s, a.conj())
    B = B + g[..., :, None] * g.conj()[..., None, :]
    diag = ch.noise + np.einsum("...jun,...u->...jn", ch.noise_per_ue, s)
    idx = np.arange(diag.shape[-1])
    B[..., idx, idx] += diag
    return B


def _own_and_interference(
    ch: Channels, a: np.ndarray, g: np.ndarray, active: np.ndarray, cell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every UE's signature at its own BS ``[..., U, N]`` and the covariance of everything
    else it sees there (noise, PB, the other scheduled UEs) ``[..., U, N, N]``."""
    B = covariance(ch, a, g, active)
    U = a.shape[-2]
    own = a[..., cell, np.arange(U), :]
    s = active.astype(float)[..., None, None]
    return own, B[..., cell, :, :] - s * own[..., :, None] * own.conj()[..., None, :]


def _solve_psd(R: np.ndarray, b: np.ndarray) -> np.ndarray:
    """R^-1 b for the Hermitian R >= I ``[..., N, N]``; where an SNR beyond float64's range
    (~1e16) makes R numerically singular (the noise is lost next to the interference), the
    pseudo-inverse gives a finite answer instead of an exception."""
    try:
        return np.linalg.solve(R, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return (np.linalg.pinv(R, hermitian=True) @ b[..., None])[..., 0]


def reflection_beams(
    config: BackscatterConfig, scenario: BackscatterScenario, w: np.ndarray
) -> np.ndarray:
    r"""Per UE u the N element-wise phase references towards the antennas of its own BS i,
    ``[..., U, N, L]``: row n is :math:`\overline{[\mathbf F_{i,u}]_{n,:}\odot(\mathbf H_u
    \mathbf w)^T}` on the estimates (without PB, :math:`\overline{[\mathbf F_{i,u}]_{n,:}}`),
    so v_u = exp(j arg b_{u,n}) makes u's signal coherent at antenna n: ``|a_{i,u}[n]|`` is
    then the l1 norm of that row, the largest over unit-modulus v_u. Their superpositions
    :math:`\mathbf A_{i,u}^H\mathbf c` (c in C^N) hold the phases of every receive direction
    of BS i. Only the backscatter and passive uplinks reflect."""
    if config.uplink == "active":
        raise ValueError("reflection_beams needs uplink 'backscatter' or 'passive', got 'active'")
    U = config.num_ues
    F_own = scenario.F_hat[..., config.cell_of_ue, np.arange(U), :, :]  # [..., U, N, L]
    if not config.has_pb:
        return F_own.conj()
    x = np.einsum("...ulm,...m->...ul", scenario.H_hat, w)
    return (F_own * x[..., None, :]).conj()


def sinr_from_beams(
    ch: Channels, a: np.ndarray, g: np.ndarray, active: np.ndarray, cell: np.ndarray
) -> np.ndarray:
    """MMSE SINR of every UE at its own BS (0 for unscheduled UEs), ``[..., U]``."""
    own, R = _own_and_interference(ch, a, g, active, cell)
    x = _solve_psd(R, own)
    gamma = np.real(np.sum(own.conj() * x, axis=-1))
    return np.where(active, np.maximum(gamma, 0.0), 0.0)


def sinr(config: BackscatterConfig, ch: Channels, decision: BackscatterDecision) -> np.ndarray:
    """gamma_u ``[..., U]`` of a decision on channels ``ch`` (spec section 3)."""
    active = decision.stream >= 0
    a = received_beams(ch, decision.w, decision.v)
    return sinr_from_beams(ch, a, pb_interference(ch, decision.w), active, config.cell_of_ue)


def mismatched_sinr(
    config: BackscatterConfig, scenario: BackscatterScenario, decision: BackscatterDecision
) -> np.ndarray:
    r"""SINR on the true channels when every BS combines with the MMSE filter it computes from
    the estimates and the white-noise model, :math:`\mathbf u=\hat{\mathbf R}^{-1}\hat{\mathbf a}`:
    :math:`|\mathbf u^H\mathbf a|^2/\mathbf u^H\mathbf R\mathbf u` ``[..., U]`` (an alternative
    reading of spec 6.4's "Real"; ours is :func:`sinr` on the truth, a receiver that knows the
    true channels)."""
    active = decision.stream >= 0
    cell = config.cell_of_ue

    def parts(view: str) -> tuple[np.ndarray, np.ndarray]:
        ch = channels(config, scenario, view)
        a = received_beams(ch, decision.w, decision.v)
        return _own_and_interference(ch, a, pb_interference(ch, decision.w), active, cell)

    own_e, R_e = parts("estimate")
    own_t, R_t = parts("truth")
    u = _solve_psd(R_e, own_e)
    signal = np.abs(np.sum(u.conj() * own_t, axis=-1)) ** 2
    # R_t >= I (noise), so the denominator is > 0 whenever u != 0
    rest = np.real(np.einsum("...n,...nm,...m->...", u.conj(), R_t, u))
    gamma = signal / np.where(rest > 0, rest, 1.0)
    return np.where(active & (rest > 0), gamma, 0.0)


# Feasibility ------------------------------------------------------------------------------
def schedule_violation(config: BackscatterConfig, stream: np.ndarray) -> np.ndarray:
    """Number of broken scheduling rules ``[...]``: streams outside [-1, N-1] plus UEs beyond
    the first on one (cell, stream)."""
    N = config.num_bs_antennas
    out_of_range = np.sum((stream < -1) | (stream >= N), axis=-1)
    onehot = stream[..., None] == np.arange(N)  # [..., U, N]
    per_cell = onehot.reshape(*stream.shape[:-1], config.num_cells, config.num_users, N).sum(-2)
    return (out_of_range + np.maximum(per_cell - 1, 0).sum(axis=(-2, -1))).astype(float)


def beam_violation(config: BackscatterConfig, v: np.ndarray) -> np.ndarray:
    """Largest violation of the beam constraint ``[...]`` (relative): |v_l| <= 1 (amplitude
    control), |v_l| = 1 (backscatter), |v_l| = sqrt(P_a / L) (passive), ||v_u||^2 <= P_a
    (active)."""
    if config.uplink == "active":
        power = np.sum(np.abs(v) ** 2, axis=-1) / config.ue_power_w
        return np.max(np.maximum(power - 1.0, 0.0), axis=-1)
    modulus = np.abs(v) / config.beam_amplitude
    gap = np.maximum(modulus - 1.0, 0.0) if config.amplitude_control else np.abs(modulus - 1.0)
    return np.max(gap, axis=(-2, -1))


def pb_violation(config: BackscatterConfig, w: np.ndarray) -> np.ndarray:
    """Relative PB power excess ||w||^2 / P - 1 (>= 0); without PB, w must be 0."""
    ratio = np.sum(np.abs(w) ** 2, axis=-1) / config.pb_power_w
    return np.maximum(ratio - 1.0, 0.0) if config.has_pb else ratio


# Metrics ----------------------------------------------------------------------------------
def metrics(
    config: BackscatterConfig, scenario: BackscatterScenario, decision: BackscatterDecision
) -> dict[str, np.ndarray]:
    """Every metric of model 000 for a (batch of) decision(s), batch-first.

    Returns a dict of arrays with the batch shape (per-UE entries ``[..., U]``): ``sinr``,
    ``rate_bps_hz`` (R_u, 0 when unscheduled), ``wsr_bps_hz`` (on the true channels, the
    ``objective``), ``real_wsr_bps_hz`` (the same: "Real", spec 6.4), ``white_wsr_bps_hz``
    (the WSR predicted from the estimates with the white-noise model: "White"; equal to the
    real one under perfect CSI), ``real_estimated_rx_wsr_bps_hz`` (true channels, but each BS
    combines with the filter designed on the estimates: :func:`mismatched_sinr`),
    ``num_scheduled``, ``pb_power_w``, ``constraint_violation``
    (PB power excess + beam violation + broken scheduling rules; 0 when feasible) and
    ``feasible`` (violation <= ``FEASIBILITY_TOL``).
    """
    omega = config.weights_array

    def wsr_of(view: str) -> tuple[np.ndarray, np.ndarray]:
        gamma = sinr(config, channels(config, scenario, view), decision)
        rate = np.log2(1.0 + gamma)
        return gamma, rate

    gamma, rate = wsr_of("truth")
    wsr = np.sum(omega * rate, axis=-1)
    white = mismatched = wsr
    if config.csi_error > 0:
        white = np.sum(omega * wsr_of("estimate")[1], axis=-1)
        mismatched_rate = np.log2(1.0 + mismatched_sinr(config, scenario, decision))
        mismatched = np.sum(omega * mismatched_rate, axis=-1)
    violation = (
        pb_violation(config, decision.w)
        + beam_violation(config, decision.v)
        + schedule_violation(config, decision.stream)
    )
    return {
        "sinr": gamma,
        "rate_bps_hz": rate,
        "wsr_bps_hz": wsr,
        "objective": wsr,
        "real_wsr_bps_hz": wsr,
        "white_wsr_bps_hz": white,
        "real_estimated_rx_wsr_bps_hz": mismatched,
        "num_scheduled": np.sum(decision.stream >= 0, axis=-1).astype(float),
        "pb_power_w": np.sum(np.abs(decision.w) ** 2, axis=-1),
        "constraint_violation": violation,
        "feasible": violation <= FEASIBILITY_TOL,
    }


# Decisions --------------------------------------------------------------------------------
def scale_to_power(x: np.ndarray, power: float) -> np.ndarray:
    """x sqrt(power) / ||x|| over the last axis (equal entries when x = 0)."""
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    fallback = np.full(x.shape, 1.0 + 0j) / math.sqrt(x.shape[-1])
    safe = np.where(norm > 0, x / np.where(norm > 0, norm, 1.0), fallback)
    return math.sqrt(power) * safe


def quantize_phases(v: np.ndarray, levels: int) -> np.ndarray:
    """Nearest codeword of {exp(j 2 pi q / Q)}^L (spec 6.1, arg *min*): per-element phase
    rounding, unit amplitude."""
    q = np.round(np.angle(v) * levels / (2 * np.pi)) % levels
    return np.exp(2j * np.pi * q / levels)


def initial_beams(config: BackscatterConfig, batch: tuple[int, ...]) -> np.ndarray:
    """Algorithm 1's initial v: all-ones at the element amplitude bound (backscatter, passive);
    equal power sqrt(P_a / Q_a) per antenna (active)."""
    U, D = config.num_ues, config.beam_size
    if config.uplink == "active":
        scale = math.sqrt(config.ue_power_w / D)
    else:
        scale = config.beam_amplitude
    return np.full((*batch, U, D), scale + 0j)


def initial_pb_beam(config: BackscatterConfig, H: np.ndarray | None, batch) -> np.ndarray:
    """Algorithm 1's initial w = sqrt(P) w0 / ||w0||, w0 = sum_u H_u^H 1 (zeros without PB)."""
    if H is None:
        return np.zeros((*batch, config.num_pb_antennas), dtype=complex)
    w0 = np.conj(H).sum(axis=(-3, -2))
    return scale_to_power(w0, config.pb_power_w)


def first_streams(config: BackscatterConfig, batch: tuple[int, ...] = ()) -> np.ndarray:
    """UE k of every cell on stream k when k < N, else unscheduled: ``[..., U]`` int64."""
    k = np.tile(np.arange(config.num_users), config.num_cells)
    stream = np.where(k < config.num_bs_antennas, k, -1)
    return np.broadcast_to(stream, (*batch, config.num_ues)).astype(np.int64)


def default_decision(
    config: BackscatterConfig, scenario: BackscatterScenario
) -> BackscatterDecision:
    """Algorithm 1's initial point on the estimates (w aimed at the IRSs, v all-ones), with the
    deterministic schedule of :func:`first_streams` instead of the paper's random one."""
    batch = scenario.gain_F.shape[:-2]
    return BackscatterDecision(
        initial_pb_beam(config, scenario.H_hat, batch),
        initial_beams(config, batch),
        first_streams(config, batch),
    )


# Observation ------------------------------------------------------------------------------
#: Gain features: (10 log10(Sigma_X) - GAIN_OFFSET_DB) / GAIN_SPAN_DB, about [-1, 1] for the
#: spec's distances (Sigma_X from -30 dB at 1 m to about -80 dB at 110 m).
GAIN_OFFSET_DB = -55.0
GAIN_SPAN_DB = 25.0
#: UE coordinates are divided by this length (m).
POSITION_SCALE_M = 100.0


def observation(config: BackscatterConfig, scenario: BackscatterScenario) -> np.ndarray:
    """Features ``[..., D_obs]`` of the channel *estimates*, O(1), float64.

    Layout (UE-major, cell-major, row-major within a matrix): with PB, Re and Im of
    H_hat_u / sqrt(Sigma_H_u) (each ``U L M``); always Re and Im of F_hat_{j,u} /
    sqrt(Sigma_F_{j,u}) (each ``I U N D``); with PB, Re and Im of G_hat_j / sqrt(Sigma_G_j)
    (each ``I N M``); then the gain features (see ``GAIN_OFFSET_DB``) of Sigma_H (``U``, with
    PB), Sigma_F (``I U``), Sigma_G (``I``, with PB); then UE coordinates x, y per UE
    (``2 U``) divided by ``POSITION_SCALE_M``. Every channel entry has unit mean power.
    """
    batch = scenario.gain_F.shape[:-2]
    parts = []

    def add_channel(hat: np.ndarray, gain: np.ndarray) -> None:
        x = hat / np.sqrt(gain)[..., None, None]
        parts.extend([x.real.reshape(*batch, -1), x.imag.reshape(*batch, -1)])

    if config.has_pb:
        add_channel(scenario.H_hat, scenario.gain_H)
    add_channel(scenario.F_hat, scenario.gain_F)
    if config.has_pb:
        add_channel(scenario.G_hat, scenario.gain_G)
    parts.append(large_scale_observation(config, scenario))
    return np.concatenate(parts, axis=-1)


def large_scale_observation(config: BackscatterConfig, scenario: BackscatterScenario) -> np.ndarray:
    """The tail of :func:`observation` without the channel entries, ``[..., D_ls]``: the gain
    features of Sigma_H (``U``, with PB), Sigma_F (``I U``), Sigma_G (``I``, with PB), then
    the UE coordinates x, y (``2 U``) divided by ``POSITION_SCALE_M``."""
    batch = scenario.gain_F.shape[:-2]
    gains = [scenario.gain_F]
    if config.has_pb:
        gains = [scenario.gain_H, scenario.gain_F, scenario.gain_G]
    parts = [
        ((10.0 * np.log10(g) - GAIN_OFFSET_DB) / GAIN_SPAN_DB).reshape(*batch, -1) for g in gains
    ]
    parts.append(scenario.ue_positions_m[..., :2].reshape(*batch, -1) / POSITION_SCALE_M)
    return np.concatenate(parts, axis=-1)


def large_scale_observation_size(config: BackscatterConfig) -> int:
    """Length of :func:`large_scale_observation`."""
    I, U = config.num_cells, config.num_ues
    return I * U + 2 * U + (U + I if config.has_pb else 0)


def observation_size(config: BackscatterConfig) -> int:
    """Length of :func:`observation`."""
    I, U, N = config.num_cells, config.num_ues, config.num_bs_antennas
    M, L, D = config.num_pb_antennas, config.num_elements, config.beam_size
    size = 2 * I * U * N * D + large_scale_observation_size(config)
    if config.has_pb:
        size += 2 * U * L * M + 2 * I * N * M
    return size
