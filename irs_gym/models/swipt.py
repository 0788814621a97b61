r"""Model 003: RIS-aided massive-MIMO SWIPT (Mohammadi, Ngo, Matthaiou, IEEE TCOM 2025).

System (spec ``shared/models/003-swipt-massive-mimo.md``): a BS with an M-antenna ULA serves
K_I information users (IUs, Rayleigh channels :math:`\mathbf g_k`) and K_E energy users (EUs)
that it reaches only through a RIS of N elements (a square USPA, :math:`\sqrt N\times\sqrt N`).
Everything here is the **slow timescale**: the RIS phases :math:`\boldsymbol\theta` and the
power split :math:`\boldsymbol\eta` use only statistical CSI, and the metrics are the paper's
closed forms, averaged over the fast fading (Rician BS-RIS NLoS, Rayleigh BS-IU, pilot noise):

* MMSE channel estimation from uplink pilots with reuse (section 3): :func:`statistics`;
* IU SINR and SE of the hardening bound for PZF and PPZF precoding (5.1): :func:`sinr_terms`;
* the average received RF energy :math:`\bar Q_\ell` of every EU (5.2): :func:`energy_matrix`;
* the non-linear (logistic) energy harvester :math:`\Phi` (5.3): :func:`harvested_energy`.

:mod:`irs_gym.models.swipt_monte_carlo` draws the fast fading, the pilots and the estimates,
builds the actual precoders and measures the same quantities empirically: the independent
check of every closed form here.

Array conventions (batch axes ``...`` first):

* ``theta [..., N]`` unit modulus; ``eta_info [..., K_I]``, ``eta_energy [..., K_E]`` with
  :math:`\sum_k\eta^I_k+\sum_\ell\eta^E_\ell\le1`, :math:`\eta\ge0`.
* ``b [..., K_E, N]``: :math:`\mathbf b_\ell=\mathbf a_N^*(\varphi_R)\odot\mathbf f_\ell`, so
  that :math:`z_\ell=\boldsymbol\theta^H\mathbf b_\ell` and the mean of the cascaded channel
  of EU :math:`\ell` is :math:`\sqrt A\,z_\ell\,\mathbf a_M`.

Channels are physical amplitude gains; SNRs are :math:`\rho=P_{BS}/\sigma_n^2` and
:math:`\rho_p=p_p/\sigma_n^2` (noise power 1 after normalisation, ARCHITECTURE "Numerics").
Energies are in J with :math:`E_0=(\tau_c-\tau_p)T_sP_{BS}` (spec 5.2; T_s = 1 s per symbol).

Choices where the spec leaves room (each also in the docstring where it acts):

* :math:`\tau_I=\lceil K_I/\zeta_I\rceil`, :math:`\tau_E=\lceil K_E/\zeta_E\rceil`; pilots are
  assigned round robin (user k uses pilot k mod tau).
* The EU estimator is the MMSE estimate from the user's own pilot observation (spec 3). With
  ``exact_cross_corr=False`` the closed forms neglect the cross-EU NLoS correlations
  :math:`R_{\ell\ell'}`, :math:`\ell\ne\ell'` (the paper's simplification); the Monte Carlo
  evaluator always uses the true model.
* The reported harvested energy is :math:`\Phi(\bar Q_\ell)` (spec 5.3); the objective is
  :math:`\min_\ell\Phi(\bar Q_\ell)` in mJ.
* The EU half-disc faces the BS: azimuths within 90 degrees of the RIS -> BS direction.
* ``angles="random"`` draws every azimuth uniformly in [0, 2 pi) and every polar angle in
  [0, pi) (Zhi et al.); path losses still follow the drawn positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.special import expit

from irs_gym.models.validation import check, check_int, check_real, is_real
from irs_gym.physics import (
    db_to_linear,
    dbm_to_w,
    distance_m,
    log_distance_gain,
    planar_response,
    ula_response_from_sine,
    uniform_disc,
    uniform_sector,
    unit_direction,
)

PRECODERS = ("pzf", "ppzf")
ANGLE_MODES = ("geometry", "random")

#: Logistic EH parameters (a in 1/J, b in J, P_max in J), spec 5.3 and section 9.
EH_MODELS: dict[str, tuple[float, float, float]] = {
    "boshkovska2015": (150.0, 0.014, 0.024),
    "boshkovska2017": (6400.0, 0.003, 0.02),
}

#: Largest SE shortfall (bit/s/Hz, summed over IUs) still reported as feasible. The codec
#: carries powers as float32 logits, which moves an SE that meets its target with equality
#: by ~1e-7 bit/s/Hz.
FEASIBILITY_TOL = 1e-5

#: Scale of the reported objective: harvested energy in mJ.
J_TO_MJ = 1e3


@dataclass(frozen=True)
class SwiptConfig:
    """Parameters of model 003 (defaults: spec section 9; most numbers are ``[R]``).

    Attributes:
        num_bs_antennas: M, BS ULA size; must exceed tau_I (ZF needs M >= tau_I + 1).
        num_elements: N, RIS elements; a perfect square (sqrt(N) x sqrt(N) USPA). Default 100.
        num_info_users: K_I >= 1. Default 4.
        num_energy_users: K_E >= 1. Default 4.
        coherence_symbols: tau_c, symbols per coherence block, > tau_p. Default 200.
        pilot_reuse_info: zeta_I, IUs per IU pilot, in [1, K_I]. Default 1 (orthogonal).
        pilot_reuse_energy: zeta_E, EUs per EU pilot, in [1, K_E]. ``K_E``: one shared pilot.
        rician_factor_db: kappa of the BS-RIS link in dB, in [-50, 50], or ``-inf`` for
            kappa = 0 (a Rayleigh BS-RIS link, Corollary 2). Default 10.
        ref_gain_db: C_0, path gain at 1 m in dB, in [-100, 0]. Default -30.
        pathloss_exponent_bs_ris, pathloss_exponent_ris_eu, pathloss_exponent_bs_iu:
            epsilon of each link, in [1, 6]. Defaults 2.2, 2.2, 3.6.
        bs_position_m, ris_position_m: (x, y, z) in m. Defaults (0, 0, 10), (30, 0, 5).
        eu_height_m: height of the EUs (m). Default 0.
        eu_zone_radius_m: EUs are uniform on the half-disc of this radius centred below the
            RIS, on the BS-facing side (m), > 0. Default 5.
        iu_center_m: centre (x, y, z) of the IU disc (m; z is the IU height). Default
            (0, 100, 0).
        iu_zone_radius_m: radius of the IU disc (m), >= 0. Default 20.
        min_distance_m: every distance is clipped to at least this (m), > 0. Default 1.
        tx_power_dbm: P_BS in dBm, in [-30, 70]. Default 40.
        pilot_power_dbm: p_p in dBm, in [-30, 70]. Default 20.
        noise_dbm: sigma_n^2 in dBm, in [-200, 0]. Default -80.
        eh_model: a name of :data:`EH_MODELS` or an (a [1/J], b [J], P_max [J]) triple.
        symbol_time_s: T_s, seconds per symbol index (energy unit), > 0. Default 1.
        se_target_bps_hz: IU SE target(s) in bit/s/Hz, one number or one per IU, in
            [0, 30]. Default 1. 0 disables the constraint.
        precoder: ``"pzf"`` (ZF to IUs, MRT to EUs) or ``"ppzf"`` (protective MRT).
        exact_cross_corr: keep the cross-EU NLoS correlations in the closed forms.
        angles: ``"geometry"`` (from the positions) or ``"random"`` (uniform AoA/AoD).
    """

    num_bs_antennas: int = 64
    num_elements: int = 100
    num_info_users: int = 4
    num_energy_users: int = 4
    coherence_symbols: int = 200
    pilot_reuse_info: int = 1
    pilot_reuse_energy: int = 1
    rician_factor_db: float = 10.0
    ref_gain_db: float = -30.0
    pathloss_exponent_bs_ris: float = 2.2
    pathloss_exponent_ris_eu: float = 2.2
    pathloss_exponent_bs_iu: float = 3.6
    bs_position_m: tuple[float, float, float] = (0.0, 0.0, 10.0)
    ris_position_m: tuple[float, float, float] = (30.0, 0.0, 5.0)
    eu_height_m: float = 0.0
    eu_zone_radius_m: float = 5.0
    iu_center_m: tuple[float, float, float] = (0.0, 100.0, 0.0)
    iu_zone_radius_m: float = 20.0
    min_distance_m: float = 1.0
    tx_power_dbm: float = 40.0
    pilot_power_dbm: float = 20.0
    noise_dbm: float = -80.0
    eh_model: str | tuple[float, float, float] = "boshkovska2015"
    symbol_time_s: float = 1.0
    se_target_bps_hz: float | tuple[float, ...] = 1.0
    precoder: str = "pzf"
    exact_cross_corr: bool = False
    angles: str = "geometry"

    def __post_init__(self) -> None:
        check_int(self, "num_bs_antennas", 1, 4096)
        check_int(self, "num_elements", 1, 4096)
        check(
            math.isqrt(self.num_elements) ** 2 == self.num_elements,
            f"num_elements must be a perfect square (sqrt(N) x sqrt(N) USPA), "
            f"got {self.num_elements}",
        )
        check_int(self, "num_info_users", 1, 256)
        check_int(self, "num_energy_users", 1, 256)
        check_int(self, "coherence_symbols", 2, 100_000)
        check_int(self, "pilot_reuse_info", 1, self.num_info_users)
        check_int(self, "pilot_reuse_energy", 1, self.num_energy_users)
        if self.rician_factor_db != -math.inf:
            check_real(self, "rician_factor_db", -50.0, 50.0)
        check_real(self, "ref_gain_db", -100.0, 0.0)
        for name in (
            "pathloss_exponent_bs_ris",
            "pathloss_exponent_ris_eu",
            "pathloss_exponent_bs_iu",
        ):
            check_real(self, name, 1.0, 6.0)
        check_real(self, "eu_height_m", -1e4, 1e4)
        check_real(self, "eu_zone_radius_m", 1e-3, 1e4)
        check_real(self, "iu_zone_radius_m", 0.0, 1e5)
        check_real(self, "min_distance_m", 1e-3, 1e3)
        check_real(self, "tx_power_dbm", -30.0, 70.0)
        check_real(self, "pilot_power_dbm", -30.0, 70.0)
        check_real(self, "noise_dbm", -200.0, 0.0)
        check_real(self, "symbol_time_s", 1e-12, 1e6)
        for name in ("bs_position_m", "ris_position_m", "iu_center_m"):
            v = getattr(self, name)
            check(
                isinstance(v, tuple | list | np.ndarray)
                and len(v) == 3
                and all(is_real(c) for c in v),
                f"{name} must be a finite (x, y, z) triple in m, got {v!r}",
            )
            object.__setattr__(self, name, tuple(float(c) for c in v))
        check(
            float(distance_m(self.bs_position_m, self.ris_position_m)) > 0,
            f"ris_position_m must differ from bs_position_m, got {self.ris_position_m!r}",
        )
        check(
            self.ris_position_m[2] != self.eu_height_m,
            "eu_height_m must differ from the RIS height (an EU at the RIS has no direction), "
            f"got {self.eu_height_m!r}",
        )
        eh = self.eh_model
        if isinstance(eh, str):
            check(
                eh in EH_MODELS,
                f"eh_model must be one of {sorted(EH_MODELS)} or an "
                f"(a, b, P_max) triple, got {eh!r}",
            )
        else:
            check(
                isinstance(eh, tuple | list)
                and len(eh) == 3
                and all(is_real(x) and float(x) > 0 for x in eh),
                f"eh_model must be one of {sorted(EH_MODELS)} or an (a, b, P_max) triple of "
                f"positive numbers, got {eh!r}",
            )
            object.__setattr__(self, "eh_model", tuple(float(x) for x in eh))
        target = self.se_target_bps_hz
        targets = (target,) * self.num_info_users if is_real(target) else target
        check(
            isinstance(targets, tuple | list | np.ndarray)
            and len(targets) == self.num_info_users
            and all(is_real(t) and 0.0 <= float(t) <= 30.0 for t in targets),
            f"se_target_bps_hz must be a number in [0, 30] or num_info_users="
            f"{self.num_info_users} such numbers, got {target!r}",
        )
        if not is_real(target):
            object.__setattr__(self, "se_target_bps_hz", tuple(float(t) for t in targets))
        check(
            self.precoder in PRECODERS,
            f"precoder must be one of {PRECODERS}, got {self.precoder!r}",
        )
        check(
            isinstance(self.exact_cross_corr, bool | np.bool_),
            f"exact_cross_corr must be a bool, got {self.exact_cross_corr!r}",
        )
        check(
            self.angles in ANGLE_MODES, f"angles must be one of {ANGLE_MODES}, got {self.angles!r}"
        )
        check(
            self.num_bs_antennas > self.tau_info,
            f"num_bs_antennas must be > tau_I = {self.tau_info} (ZF to the IU pilots needs "
            f"M >= tau_I + 1), got {self.num_bs_antennas}",
        )
        check(
            self.coherence_symbols > self.tau_pilot,
            f"coherence_symbols must be > tau_p = {self.tau_pilot} (pilots plus at least one "
            f"downlink symbol), got {self.coherence_symbols}",
        )

    # Derived quantities -------------------------------------------------------------------
    @property
    def side(self) -> int:
        """sqrt(N), USPA elements per axis."""
        return math.isqrt(self.num_elements)

    @property
    def tau_info(self) -> int:
        """tau_I = ceil(K_I / zeta_I), number of IU pilots."""
        return -(-self.num_info_users // self.pilot_reuse_info)

    @property
    def tau_energy(self) -> int:
        """tau_E = ceil(K_E / zeta_E), number of EU pilots."""
        return -(-self.num_energy_users // self.pilot_reuse_energy)

    @property
    def tau_pilot(self) -> int:
        """tau_p = tau_I + tau_E (IU and EU pilots are never shared across groups)."""
        return self.tau_info + self.tau_energy

    @property
    def prelog(self) -> float:
        """1 - tau_p / tau_c, the fraction of symbols that carry data."""
        return 1.0 - self.tau_pilot / self.coherence_symbols

    @property
    def num_streams(self) -> int:
        """K_I + K_E, the length of eta."""
        return self.num_info_users + self.num_energy_users

    @property
    def tx_power_w(self) -> float:
        return float(dbm_to_w(self.tx_power_dbm))

    @property
    def noise_w(self) -> float:
        return float(dbm_to_w(self.noise_dbm))

    @property
    def rho(self) -> float:
        """Downlink SNR rho = P_BS / sigma_n^2 (linear)."""
        return self.tx_power_w / self.noise_w

    @property
    def rho_pilot(self) -> float:
        """Pilot SNR rho_p = p_p / sigma_n^2 (linear)."""
        return float(dbm_to_w(self.pilot_power_dbm)) / self.noise_w

    @property
    def kappa(self) -> float:
        """Rician factor (linear)."""
        return float(db_to_linear(self.rician_factor_db))

    @property
    def energy_per_gain_j(self) -> float:
        """E_0 = (tau_c - tau_p) T_s P_BS: received energy (J) per unit channel power gain."""
        return (self.coherence_symbols - self.tau_pilot) * self.symbol_time_s * self.tx_power_w

    @property
    def eh_parameters(self) -> tuple[float, float, float]:
        """(a [1/J], b [J], P_max [J]) of the logistic EH model."""
        eh = self.eh_model
        return EH_MODELS[eh] if isinstance(eh, str) else tuple(eh)

    @property
    def se_targets(self) -> np.ndarray:
        """SE targets [K_I] in bit/s/Hz."""
        return np.broadcast_to(
            np.asarray(self.se_target_bps_hz, dtype=float), (self.num_info_users,)
        ).copy()

    @property
    def sinr_targets(self) -> np.ndarray:
        r"""gamma_bar_k = 2^(SE_k / (1 - tau_p / tau_c)) - 1 [K_I]."""
        return np.expm1(np.log(2.0) * self.se_targets / self.prelog)

    @property
    def info_pilot(self) -> np.ndarray:
        """Pilot index i_k of every IU [K_I] (round robin)."""
        return np.arange(self.num_info_users) % self.tau_info

    @property
    def energy_pilot(self) -> np.ndarray:
        """Pilot index p_l of every EU [K_E] (round robin)."""
        return np.arange(self.num_energy_users) % self.tau_energy


@dataclass(frozen=True)
class SwiptScenario:
    """One (or a batch of) slow-timescale realisation(s) of model 003.

    Attributes:
        eu_positions_m: ``[..., K_E, 3]`` EU coordinates (m).
        iu_positions_m: ``[..., K_I, 3]`` IU coordinates (m).
        bs_cosine: ``[...]`` direction cosine of the RIS seen from the BS ULA
            (:math:`\\sin\\varphi^a_B\\sin\\varphi^e_B`).
        ris_cosines: ``[..., 2]`` direction cosines (sin x sin y, cos y) of the BS seen
            from the RIS (:math:`\\varphi_R`).
        eu_cosines: ``[..., K_E, 2]`` direction cosines of EU l seen from the RIS
            (:math:`\\phi_\\ell`).
        alpha: ``[...]`` BS-RIS path gain alpha = beta(d_BR).
        varsigma: ``[..., K_E]`` RIS-EU path gains.
        beta: ``[..., K_I]`` BS-IU path gains beta_k.
        fading_seed: ``[...]`` int64 seed of the fast-fading draws of the Monte Carlo
            evaluator: every decision on this scenario is evaluated on the same draws.
        a_bs: ``[..., M]`` a_M (BS ULA response towards the RIS, unnormalised).
        a_ris: ``[..., N]`` a_N(varphi_R) (RIS response towards the BS).
        f: ``[..., K_E, N]`` RIS -> EU LoS channels f_l = sqrt(varsigma_l) a_N(phi_l).
    """

    eu_positions_m: np.ndarray
    iu_positions_m: np.ndarray
    bs_cosine: np.ndarray
    ris_cosines: np.ndarray
    eu_cosines: np.ndarray
    alpha: np.ndarray
    varsigma: np.ndarray
    beta: np.ndarray
    fading_seed: np.ndarray
    a_bs: np.ndarray = field(repr=False)
    a_ris: np.ndarray = field(repr=False)
    f: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class SwiptDecision:
    """Slow-timescale variables: ``theta [..., N]`` (unit modulus), ``eta_info [..., K_I]`` and
    ``eta_energy [..., K_E]`` (power fractions, >= 0, summing to at most 1)."""

    theta: np.ndarray
    eta_info: np.ndarray
    eta_energy: np.ndarray

    @property
    def eta(self) -> np.ndarray:
        """[eta_info, eta_energy] ``[..., K_I + K_E]`` (the LP's variable order)."""
        return np.concatenate([self.eta_info, self.eta_energy], axis=-1)


def decision_from_eta(theta: np.ndarray, eta: np.ndarray, num_info_users: int) -> SwiptDecision:
    """Split a stacked ``eta [..., K_I + K_E]`` into a :class:`SwiptDecision`."""
    eta = np.asarray(eta, dtype=float)
    return SwiptDecision(
        np.asarray(theta, dtype=complex), eta[..., :num_info_users], eta[..., num_info_users:]
    )


# Sampling ---------------------------------------------------------------------------------
def _random_cosines(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """(sin x sin y, cos y) with azimuth x ~ U[0, 2 pi), polar y ~ U[0, pi)."""
    x = rng.uniform(0.0, 2.0 * np.pi, shape)
    y = rng.uniform(0.0, np.pi, shape)
    return np.stack([np.sin(x) * np.sin(y), np.cos(y)], axis=-1)


def _array_responses(config: SwiptConfig, bs_cosine, ris_cosines, eu_cosines):
    side = config.side
    a_bs = ula_response_from_sine(config.num_bs_antennas, bs_cosine, normalized=False)
    a_ris = planar_response(side, side, ris_cosines[..., 0], ris_cosines[..., 1], normalized=False)
    a_eu = planar_response(side, side, eu_cosines[..., 0], eu_cosines[..., 1], normalized=False)
    return a_bs, a_ris, a_eu


def sample_scenario(
    config: SwiptConfig, rng: np.random.Generator, batch_shape: tuple[int, ...] = ()
) -> SwiptScenario:
    """Draw EU and IU positions, the angles and the path gains (spec sections 1-2).

    Draw order: EU positions, IU positions, then (``angles="random"``) the BS, RIS and EU
    angles, then the fading seed.
    """
    batch = tuple(batch_shape)
    K_I, K_E = config.num_info_users, config.num_energy_users
    bs = np.asarray(config.bs_position_m)
    ris = np.asarray(config.ris_position_m)
    towards_bs = math.atan2(bs[1] - ris[1], bs[0] - ris[0])
    eu = uniform_sector(
        rng,
        (ris[0], ris[1], config.eu_height_m),
        config.eu_zone_radius_m,
        azimuth_min_rad=towards_bs - np.pi / 2,
        azimuth_max_rad=towards_bs + np.pi / 2,
        batch_shape=(*batch, K_E),
    )
    iu = uniform_disc(rng, np.asarray(config.iu_center_m), config.iu_zone_radius_m, (*batch, K_I))
    if config.angles == "geometry":
        # BS ULA along y: its cosine is u_y; RIS USPA in the y-z plane: (u_y, u_z).
        bs_cos = np.full(batch, unit_direction(bs, ris)[1])
        ris_cos = np.broadcast_to(unit_direction(ris, bs)[1:], (*batch, 2)).copy()
        eu_cos = unit_direction(ris, eu)[..., 1:]
    else:
        bs_cos = _random_cosines(rng, batch)[..., 0]
        ris_cos = _random_cosines(rng, batch)
        eu_cos = _random_cosines(rng, (*batch, K_E))
    # through rng.random so the batched env can draw it from pre-drawn uniforms
    fading_seed = (rng.random(batch) * 2.0**62).astype(np.int64)
    d_min = config.min_distance_m
    alpha = np.full(
        batch,
        log_distance_gain(
            float(distance_m(bs, ris)),
            config.ref_gain_db,
            config.pathloss_exponent_bs_ris,
            min_distance_m=d_min,
        ),
    )
    varsigma = log_distance_gain(
        distance_m(eu, ris),
        config.ref_gain_db,
        config.pathloss_exponent_ris_eu,
        min_distance_m=d_min,
    )
    beta = log_distance_gain(
        distance_m(iu, bs),
        config.ref_gain_db,
        config.pathloss_exponent_bs_iu,
        min_distance_m=d_min,
    )
    a_bs, a_ris, a_eu = _array_responses(config, bs_cos, ris_cos, eu_cos)
    return SwiptScenario(
        eu_positions_m=eu,
        iu_positions_m=iu,
        bs_cosine=bs_cos,
        ris_cosines=ris_cos,
        eu_cosines=eu_cos,
        alpha=alpha,
        varsigma=varsigma,
        beta=beta,
        fading_seed=fading_seed,
        a_bs=a_bs,
        a_ris=a_ris,
        f=np.sqrt(varsigma)[..., None] * a_eu,
    )


# Statistics (section 3) -------------------------------------------------------------------
@dataclass(frozen=True)
class SwiptStatistics:
    """The statistical CSI every closed form and optimiser uses (batch ``[...]``).

    Attributes:
        A: ``[...]`` alpha kappa / (kappa + 1), power of the BS-RIS LoS part.
        b: ``[..., K_E, N]`` b_l = conj(a_N(varphi_R)) * f_l.
        R: ``[..., K_E, K_E]`` NLoS correlations R_ll' = alpha/(kappa+1) f_l'^H f_l
            (diagonal when cross correlations are neglected).
        r: ``[..., K_E]`` r_l = R_ll = alpha N varsigma_l / (kappa + 1).
        gamma_energy: ``[..., K_E]`` EU estimate variances gamma_l (14).
        chi: ``[..., K_E, K_E]`` pilot-contamination gains chi_ll' (spec 5.2).
        beta: ``[..., K_I]`` IU path gains.
        gamma_info: ``[..., K_I]`` IU estimate variances gamma_k (13).
    """

    A: np.ndarray
    b: np.ndarray
    R: np.ndarray
    r: np.ndarray
    gamma_energy: np.ndarray
    chi: np.ndarray
    beta: np.ndarray
    gamma_info: np.ndarray


def pilot_matrix(pilot: np.ndarray, tau: int) -> np.ndarray:
    """Membership ``P [K, tau]``: P[k, i] = 1 if user k sends pilot i."""
    return (pilot[:, None] == np.arange(tau)[None, :]).astype(float)


def statistics(
    config: SwiptConfig, scenario: SwiptScenario, exact_cross_corr: bool | None = None
) -> SwiptStatistics:
    r"""MMSE estimation quantities of spec section 3 (``exact_cross_corr=None``: the config's).

    IU: :math:`D^I_i=\tau_p\rho_p\sum_{k\in\mathcal P_i}\beta_k+1`,
    :math:`\gamma_k=\tau_p\rho_p\beta_k^2/D^I_{i_k}`.
    EU (estimate from its own pilot): :math:`\bar s_{\ell,p}=\sqrt{\tau_p\rho_p}
    \sum_{b\in\mathcal P_p}R_{\ell b}`, :math:`D_p=\tau_p\rho_p\sum_{a,b\in\mathcal P_p}R_{ab}+1`,
    :math:`\gamma_\ell=|\bar s_{\ell,p_\ell}|^2/D_{p_\ell}`,
    :math:`\chi_{\ell\ell'}=\bar s_{\ell',p}\bar s^*_{\ell,p}/D_p` with :math:`p=p_{\ell'}`.
    """
    exact = config.exact_cross_corr if exact_cross_corr is None else exact_cross_corr
    kappa, tp = config.kappa, config.tau_pilot * config.rho_pilot
    A = scenario.alpha * kappa / (kappa + 1.0)
    b = np.conj(scenario.a_ris)[..., None, :] * scenario.f
    gram = np.einsum("...bn,...an->...ab", np.conj(scenario.f), scenario.f)  # f_b^H f_a
    R = (scenario.alpha / (kappa + 1.0))[..., None, None] * gram
    r = np.real(np.diagonal(R, axis1=-2, axis2=-1))
    if not exact:
        R = r[..., :, None] * np.eye(config.num_energy_users)
    P_E = pilot_matrix(config.energy_pilot, config.tau_energy)  # [K_E, tau_E]
    s_bar = math.sqrt(tp) * R @ P_E  # [..., K_E, tau_E]
    D_E = tp * np.real(np.einsum("ap,...ab,bp->...p", P_E, R, P_E)) + 1.0  # [..., tau_E]
    s_own = s_bar @ P_E.T  # [..., K_E(l), K_E(l')]: s_bar[l, p_l']
    D_own = D_E @ P_E.T  # [..., K_E]: D_{p_l}
    gamma_energy = np.abs(np.diagonal(s_own, axis1=-2, axis2=-1)) ** 2 / D_own
    # chi[l, l'] = s_bar[l', p_l'] conj(s_bar[l, p_l']) / D_{p_l'}
    chi = (
        np.diagonal(s_own, axis1=-2, axis2=-1)[..., None, :] * np.conj(s_own) / D_own[..., None, :]
    )
    P_I = pilot_matrix(config.info_pilot, config.tau_info)
    D_I = tp * scenario.beta @ P_I + 1.0  # [..., tau_I]
    gamma_info = tp * scenario.beta**2 / (D_I @ P_I.T)
    return SwiptStatistics(A, b, R, r, gamma_energy, chi, scenario.beta, gamma_info)


# Metrics ----------------------------------------------------------------------------------
def reflect(theta: np.ndarray, b: np.ndarray) -> np.ndarray:
    """z_l = theta^H b_l, ``[..., K_E]``."""
    return np.einsum("...n,...ln->...l", np.conj(theta), b)


def haar_moments(M: int, d: int) -> tuple[float, float]:
    """(a_d, b_d): second moments of a Haar projection of rank d in C^M (spec 5.2)."""
    if M == 1:
        return float(d), 0.0
    den = M * (M * M - 1.0)
    return d * (d * M - 1.0) / den, d * (M - d) / den


def energy_transfer(config: SwiptConfig, stats: SwiptStatistics, z: np.ndarray) -> np.ndarray:
    r"""T^X_ll' ``[..., K_E, K_E]``: E|h_l^H w_E,l'|^2 for the config's precoder (spec 5.2).

    PZF: :math:`T=\frac{M|x|^2+A\gamma_{\ell'}|z_\ell|^2+Ar_\ell|z_{\ell'}|^2+r_\ell\gamma_{\ell'}}
    {A|z_{\ell'}|^2+\gamma_{\ell'}}`, :math:`x=Az^*_\ell z_{\ell'}+\chi_{\ell\ell'}`.
    PPZF: :math:`T=(a_d\mathcal N+b_d\mathcal E)/(d(A|z_{\ell'}|^2+\gamma_{\ell'}))`,
    d = M - tau_I (exact for a Haar projection).
    """
    M = config.num_bs_antennas
    A = stats.A[..., None, None]
    r_l = stats.r[..., :, None]
    g_m = stats.gamma_energy[..., None, :]
    z2 = np.abs(z) ** 2
    z2_l, z2_m = z2[..., :, None], z2[..., None, :]
    cross = np.conj(z)[..., :, None] * z[..., None, :]  # z_l^* z_l'
    x2 = np.abs(A * cross + stats.chi) ** 2
    den = A * z2_m + g_m
    if config.precoder == "pzf":
        return (M * x2 + A * g_m * z2_l + A * r_l * z2_m + r_l * g_m) / den
    d = M - config.tau_info
    a_d, b_d = haar_moments(M, d)
    num_n = M * (M * x2 + A * g_m * z2_l + A * r_l * z2_m + r_l * g_m)
    num_e = (
        M * M * (A * z2_l + r_l) * den
        + 2.0 * M * np.real(np.conj(stats.chi) * A * cross)
        + M * np.abs(stats.chi) ** 2
    )
    return (a_d * num_n + b_d * num_e) / (d * den)


def energy_matrix(config: SwiptConfig, stats: SwiptStatistics, z: np.ndarray) -> np.ndarray:
    r"""``L [..., K_E, K_I + K_E]`` in J per unit power fraction, so that
    :math:`\bar Q_\ell=\sum_i L_{\ell i}\eta_i` (spec 5.2): the ZF leakage
    :math:`E_0(A|z_\ell|^2+r_\ell)` for every IU stream, then :math:`E_0T_{\ell\ell'}`."""
    leak = stats.A[..., None] * np.abs(z) ** 2 + stats.r
    leak = np.broadcast_to(leak[..., None], (*leak.shape, config.num_info_users))
    T = energy_transfer(config, stats, z)
    return config.energy_per_gain_j * np.concatenate([leak, T], axis=-1)


def sinr_terms(config: SwiptConfig, stats: SwiptStatistics) -> tuple[np.ndarray, np.ndarray]:
    r"""(a ``[..., K_I]``, C ``[..., K_I, K_I + K_E]``) with
    :math:`\mathrm{SINR}_k=a_k\eta^I_k/(\mathbf c_k^T\boldsymbol\eta+1)` (spec 5.1).

    :math:`a_k=(M-\tau_I)\gamma_k\rho`; :math:`\mathbf c_k` holds
    :math:`(M-\tau_I)\gamma_k\rho` for the other IUs on pilot i_k, :math:`\rho(\beta_k-\gamma_k)`
    for every IU stream, and :math:`\rho\beta_k` (PZF) or :math:`\rho(\beta_k-\gamma_k)` (PPZF)
    for every EU stream. Independent of theta.
    """
    K_I, K_E = config.num_info_users, config.num_energy_users
    rho, d = config.rho, config.num_bs_antennas - config.tau_info
    beta, gamma = stats.beta, stats.gamma_info
    a = d * gamma * rho
    pilot = config.info_pilot
    co_pilot = (pilot[:, None] == pilot[None, :]) & ~np.eye(K_I, dtype=bool)
    c_info = a[..., :, None] * co_pilot + (rho * (beta - gamma))[..., :, None]
    eu_gain = beta if config.precoder == "pzf" else beta - gamma
    c_energy = np.broadcast_to((rho * eu_gain)[..., :, None], (*beta.shape, K_E))
    return a, np.concatenate([c_info, c_energy], axis=-1)


def sinr(config: SwiptConfig, stats: SwiptStatistics, eta: np.ndarray) -> np.ndarray:
    """SINR_k ``[..., K_I]`` for stacked powers ``eta [..., K_I + K_E]``."""
    a, C = sinr_terms(config, stats)
    interference = np.einsum("...ki,...i->...k", C, eta)
    return a * eta[..., : config.num_info_users] / (interference + 1.0)


def spectral_efficiency(config: SwiptConfig, sinr_value: np.ndarray) -> np.ndarray:
    """SE_k = (1 - tau_p/tau_c) log2(1 + SINR_k) in bit/s/Hz."""
    return config.prelog * np.log2(1.0 + sinr_value)


def harvested_energy(config: SwiptConfig, q_j: np.ndarray) -> np.ndarray:
    r"""Logistic EH model :math:`\Phi(Q)=\frac{\Psi(Q)-\mathcal P_{\max}\Omega}{1-\Omega}`,
    :math:`\Psi(Q)=\mathcal P_{\max}/(1+e^{-a(Q-b)})`, :math:`\Omega=1/(1+e^{ab})` (J in, J out;
    Phi(0) = 0, increasing, saturating at P_max)."""
    a, b, p_max = config.eh_parameters
    omega = expit(-a * b)
    return p_max * (expit(a * (np.asarray(q_j, dtype=float) - b)) - omega) / (1.0 - omega)


def se_violation(config: SwiptConfig, se_bps_hz: np.ndarray) -> np.ndarray:
    """Sum over IUs of the SE shortfall max(0, target - SE) in bit/s/Hz ``[...]``."""
    return np.maximum(config.se_targets - se_bps_hz, 0.0).sum(axis=-1)


def decision_violation(config: SwiptConfig, decision: SwiptDecision) -> np.ndarray:
    """Budget excess + largest negative power + largest unit-modulus error ``[...]``."""
    eta = decision.eta
    excess = np.maximum(eta.sum(axis=-1) - 1.0, 0.0)
    negative = np.maximum(-eta.min(axis=-1), 0.0)
    modulus = np.max(np.abs(np.abs(decision.theta) - 1.0), axis=-1)
    return excess + negative + modulus


def summarize(
    config: SwiptConfig, decision: SwiptDecision, q_bar_j: np.ndarray, sinr_value: np.ndarray
) -> dict[str, np.ndarray]:
    """The metric dict from per-EU average energies and per-IU SINRs (shared by the closed
    forms and the Monte Carlo evaluator)."""
    harvested = harvested_energy(config, q_bar_j)
    se = spectral_efficiency(config, sinr_value)
    violation = se_violation(config, se) + decision_violation(config, decision)
    min_harvested_mj = J_TO_MJ * harvested.min(axis=-1)
    return {
        "q_bar_j": q_bar_j,
        "harvested_j": harvested,
        "min_q_bar_j": q_bar_j.min(axis=-1),
        "min_harvested_mj": min_harvested_mj,
        "objective": min_harvested_mj,
        "sinr": sinr_value,
        "se_bps_hz": se,
        "min_se_bps_hz": se.min(axis=-1),
        "power": decision.eta.sum(axis=-1),
        "constraint_violation": violation,
        "feasible": violation <= FEASIBILITY_TOL,
    }


def metrics(
    config: SwiptConfig,
    scenario: SwiptScenario,
    decision: SwiptDecision,
    stats: SwiptStatistics | None = None,
) -> dict[str, np.ndarray]:
    """Every closed-form metric of model 003 for a (batch of) decision(s), batch-first.

    Returns arrays with the batch shape (per-EU ``[..., K_E]``, per-IU ``[..., K_I]``):
    ``q_bar_j`` (average received energy, J), ``harvested_j`` (Phi(Q_bar), J),
    ``min_q_bar_j``, ``min_harvested_mj`` (= ``objective``, mJ), ``sinr``, ``se_bps_hz``,
    ``min_se_bps_hz``, ``power`` (sum of eta), ``constraint_violation`` (SE shortfall in
    bit/s/Hz summed over IUs, plus any budget excess, negative power or unit-modulus error)
    and ``feasible`` (violation <= :data:`FEASIBILITY_TOL`).
    """
    stats = statistics(config, scenario) if stats is None else stats
    eta = decision.eta
    L = energy_matrix(config, stats, reflect(decision.theta, stats.b))
    q_bar = np.einsum("...li,...i->...l", L, eta)
    return summarize(config, decision, q_bar, sinr(config, stats, eta))


def equal_power(config: SwiptConfig, batch_shape: tuple[int, ...] = ()) -> np.ndarray:
    """EPA: eta_i = 1 / (K_I + K_E) for every stream, ``[*batch, K_I + K_E]``."""
    return np.full((*batch_shape, config.num_streams), 1.0 / config.num_streams)


def default_decision(config: SwiptConfig, scenario: SwiptScenario) -> SwiptDecision:
    """theta = 1 (the DFT codeword (0, 0)) with EPA."""
    batch = scenario.beta.shape[:-1]
    theta = np.ones((*batch, config.num_elements), dtype=complex)
    return decision_from_eta(theta, equal_power(config, batch), config.num_info_users)


# Power allocation LP (spec 7.1) -----------------------------------------------------------
@dataclass(frozen=True)
class PowerLP:
    r"""Data of the exact power LP of spec 7.1 for fixed theta, scaled to O(1):

    .. math:: \max_{\eta\ge0,s}\ s\ \text{s.t.}\ \hat L\eta\ge s\mathbf 1,\quad
              \mathbf 1^T\eta\le1,\quad G\eta\ge\mathbf 1\ (\text{rows with a target}),

    where :math:`\hat L=L/q_{\rm scale}` (J -> O(1)) and row k of G is
    :math:`(a_k\mathbf e_k-\bar\gamma_k\mathbf c_k)/\bar\gamma_k` (SINR_k >= target_k).
    IUs with a zero target have no row (``G`` holds zeros there and ``active`` is False).

    Attributes:
        L: ``[..., K_E, K_I + K_E]`` scaled energy matrix; q_scale: ``[...]`` its scale (J).
        G: ``[..., K_I, K_I + K_E]`` SINR rows; active: ``[K_I]`` bool.
    """

    L: np.ndarray
    q_scale: np.ndarray
    G: np.ndarray
    active: np.ndarray


def power_lp(config: SwiptConfig, stats: SwiptStatistics, theta: np.ndarray) -> PowerLP:
    """Build :class:`PowerLP` for phases ``theta [..., N]``."""
    L = energy_matrix(config, stats, reflect(theta, stats.b))
    q_scale = np.max(L, axis=(-2, -1))
    q_scale = np.where(q_scale > 0, q_scale, 1.0)
    a, C = sinr_terms(config, stats)
    targets = config.sinr_targets
    active = targets > 0
    K_I = config.num_info_users
    signal = a[..., :, None] * np.eye(K_I, config.num_streams)
    G = np.where(
        active[:, None],
        (signal - targets[:, None] * C) / np.where(active, targets, 1.0)[:, None],
        0.0,
    )
    return PowerLP(L / q_scale[..., None, None], q_scale, G, active)


def optimal_power(
    config: SwiptConfig, stats: SwiptStatistics, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Solve the power LP of spec 7.1 with HiGHS (``scipy.optimize.linprog``) per realisation.

    The env's ``control="phases"`` uses this; the baselines solve the same LP
    (:func:`power_lp`) with a parametrised cvxpy problem. Returns
    ``(eta [..., K_I + K_E], ok [...])``; where the SE targets cannot be met ``ok`` is False
    and ``eta`` is EPA.
    """
    lp = power_lp(config, stats, theta)
    batch = lp.q_scale.shape
    n, K_E = config.num_streams, config.num_energy_users
    eta = equal_power(config, batch)
    ok = np.zeros(batch, dtype=bool)
    G_rows = lp.G[..., lp.active, :]
    cost = np.zeros(n + 1)
    cost[-1] = -1.0  # maximise s
    for idx in np.ndindex(batch):
        # L eta >= s  ->  -L eta + s <= 0;  G eta >= 1  ->  -G eta <= -1;  1^T eta <= 1
        A_ub = np.vstack(
            [
                np.hstack([-lp.L[idx], np.ones((K_E, 1))]),
                np.hstack([-G_rows[idx], np.zeros((G_rows.shape[-2], 1))]),
                np.hstack([np.ones((1, n)), np.zeros((1, 1))]),
            ]
        )
        b_ub = np.concatenate([np.zeros(K_E), -np.ones(G_rows.shape[-2]), [1.0]])
        bounds = [(0.0, None)] * n + [(None, None)]
        res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status == 0:
            eta[idx] = np.maximum(res.x[:n], 0.0)
            ok[idx] = True
    return eta, ok


# Observation ------------------------------------------------------------------------------
def observation(config: SwiptConfig, scenario: SwiptScenario) -> np.ndarray:
    r"""Statistical-CSI features ``[..., 6 K_E + 2 K_I]``, O(1), float64.

    Per EU l (6 entries, EU-major): cos, sin of :math:`\pi\Delta_x` and of
    :math:`\pi\Delta_y`, with :math:`\Delta` the direction cosines of the EU minus those of
    the BS, both seen from the RIS (they fix :math:`\mathbf b_\ell` up to its gain); the RIS-EU
    gain :math:`(\varsigma_{\ell,\mathrm{dB}}-\varsigma_{\mathrm{ref,dB}})/10` with the
    reference at the distance from the RIS to the centre of the EU zone; the estimation
    quality :math:`\gamma_\ell/r_\ell\in(0,1]`. Then per IU k (2 entries):
    :math:`(\beta_{k,\mathrm{dB}}-\beta_{\mathrm{ref,dB}})/10` with the reference at the
    distance from the BS to the IU-zone centre, and :math:`\gamma_k/\beta_k\in(0,1]`.
    """
    stats = statistics(config, scenario)
    delta = np.pi * (scenario.eu_cosines - scenario.ris_cosines[..., None, :])
    ris = np.asarray(config.ris_position_m)
    eu_center = (ris[0], ris[1], config.eu_height_m)
    ref_eu = log_distance_gain(
        float(distance_m(ris, eu_center)),
        config.ref_gain_db,
        config.pathloss_exponent_ris_eu,
        min_distance_m=config.min_distance_m,
    )
    ref_iu = log_distance_gain(
        max(float(distance_m(config.bs_position_m, config.iu_center_m)), config.min_distance_m),
        config.ref_gain_db,
        config.pathloss_exponent_bs_iu,
    )
    eu = np.stack(
        [
            np.cos(delta[..., 0]),
            np.sin(delta[..., 0]),
            np.cos(delta[..., 1]),
            np.sin(delta[..., 1]),
            np.log10(scenario.varsigma / ref_eu),
            stats.gamma_energy / stats.r,
        ],
        axis=-1,
    )
    iu = np.stack([np.log10(scenario.beta / ref_iu), stats.gamma_info / stats.beta], axis=-1)
    batch = scenario.beta.shape[:-1]
    return np.concatenate([eu.reshape(*batch, -1), iu.reshape(*batch, -1)], axis=-1)


def observation_size(config: SwiptConfig) -> int:
    """Length of :func:`observation`: 6 K_E + 2 K_I."""
    return 6 * config.num_energy_users + 2 * config.num_info_users
