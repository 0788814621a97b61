r"""Model 004: multi-IRS multi-user MISO downlink (Zhang et al., arXiv:2201.09031).

System (spec ``shared/models/004-multi-irs-manifold.md``, sections 1-3, 8): one BS with an
N_t-antenna UPA serves K single-antenna users through L IRSs (no direct link). IRS ``l`` has
M_l elements; the stacked phase vector is :math:`\theta\in\mathbb C^{M}` with
:math:`M=\sum_l M_l`. The received signal of user k is

.. math:: y_k = \bar h_k^H W s + n_k,\qquad
          \bar h_k^H = \sum_l h_{l,k}^H\Theta_l G_l
          \;[+\, h_{2,k}^H\Theta_2 S\Theta_1 G_1\;[+\, h_{1,k}^H\Theta_1 S^T\Theta_2 G_2]],

with :math:`\gamma_k = |\bar h_k^H w_k|^2 / (\sum_{j\ne k}|\bar h_k^H w_j|^2+\sigma^2)`,
:math:`R_k=\log_2(1+\gamma_k)`, WSR :math:`=\sum_k\omega_kR_k`, weighted min rate
:math:`=\min_k\omega_kR_k`.

Array conventions (batch axes ``...`` first, receiver x transmitter):

* ``G``  ``[..., M, N_t]``  stacked BS -> IRS channels :math:`[G_1;\dots;G_L]`.
* ``h``  ``[..., K, M]``    row k is :math:`h_k=[h_{1,k};\dots;h_{L,k}]` (so :math:`h_k^H` is
  its conjugate).
* ``S``  ``[..., M_2, M_1]`` IRS1 -> IRS2 channel (only with ``inter_irs``), else ``None``.
* ``theta`` ``[..., M]`` unit-modulus, ``W`` ``[..., N_t, K]`` with :math:`\|W\|_F^2\le P`.

Channels are stored in physical units (amplitude gains); :func:`normalized` divides ``h`` by
the noise standard deviation so that every SINR and every solver sees noise power 1.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from irs_gym.models.validation import check, check_int, check_real, is_real
from irs_gym.physics import (
    SVPaths,
    dbm_to_w,
    distance_m,
    free_space_gain,
    gauss_markov,
    sv_channel,
    sv_draw_paths,
    uniform_disc,
)

OBJECTIVES = ("wsr", "min_rate")

_DEFAULT_IRS_POSITIONS_M = {
    1: ((40.0, -15.0, 0.0),),
    2: ((40.0, -15.0, 0.0), (40.0, 15.0, 0.0)),
}


@dataclass(frozen=True)
class MultiIRSConfig:
    """Parameters of model 004 (defaults: spec section 9; ``[R]`` items are reconstructed).

    Attributes:
        carrier_hz: carrier frequency f_c (Hz), > 0. Default 3 GHz.
        num_bs_antennas: N_t, BS UPA size; a positive multiple of ``elements_per_row``.
        num_elements: elements per IRS, one int (same for every IRS) or one per IRS; each a
            positive multiple of ``elements_per_row``. Default 32.
        num_irs: L >= 1. Default 2.
        num_users: K >= 1. Default 4.
        elements_per_row: UPA elements per row for the BS and every IRS (>= 1). Default 4.
        tx_power_dbm: BS power budget P in dBm, in [-30, 60]. Default 20.
        noise_dbm: noise power sigma^2 in dBm, in [-200, 0]. Default -90.
        weights: user weights omega_k (> 0), ``None`` for all ones.
        num_nlos_paths: NLoS paths per link (L_BI = L_IU = L_II), in [0, 20]. Default 2.
        bs_position_m, irs_positions_m, user_center_m: coordinates (m). ``irs_positions_m``
            ``None`` gives the spec's sites for L = 1 or 2 (L = 1: the IRS1 site, i.e. a
            co-located single IRS).
        user_radius_m: users are area-uniform in a disc of this radius (m), >= 0. Default 10.
        objective: ``"wsr"`` (P1, DOMALO) or ``"min_rate"`` (P6, S-DOMALO).
        phase_levels: Q, number of phase levels (``0``: continuous; else >= 2).
        inter_irs: include the IRS1 -> IRS2 double-reflection path (needs L = 2).
        reverse_path: also include the reciprocal IRS2 -> IRS1 path (needs ``inter_irs``).
        blockage_prob: p, blockage probability per ``blockage_unit_m`` of the BS-IRS and
            IRS-user links, in [0, 1]. A blocked link's channel is zero (spec section 8).
        blockage_prob_inter: p_II for the IRS1-IRS2 link, in [0, 1].
        blockage_prob_bs_irs: ``None`` (default: ``blockage_prob``) or one p per IRS for its
            BS-IRS link, in [0, 1]: the spec's case of a BS-IRS2 link blocked more often than
            IRS1-IRS2 (section 10, Figs. 5-6), where only the double-reflection path feeds IRS2.
        blockage_unit_m: d_u (m), > 0. Default 10.
    """

    carrier_hz: float = 3e9
    num_bs_antennas: int = 16
    num_elements: int | tuple[int, ...] = 32
    num_irs: int = 2
    num_users: int = 4
    elements_per_row: int = 4
    tx_power_dbm: float = 20.0
    noise_dbm: float = -90.0
    weights: tuple[float, ...] | None = None
    num_nlos_paths: int = 2
    bs_position_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    irs_positions_m: tuple[tuple[float, float, float], ...] | None = None
    user_center_m: tuple[float, float, float] = (60.0, 0.0, 0.0)
    user_radius_m: float = 10.0
    objective: str = "wsr"
    phase_levels: int = 0
    inter_irs: bool = False
    reverse_path: bool = False
    blockage_prob: float = 0.0
    blockage_prob_inter: float = 0.0
    blockage_prob_bs_irs: tuple[float, ...] | None = None
    blockage_unit_m: float = 10.0

    def __post_init__(self) -> None:
        check_real(self, "carrier_hz", 1e6, 1e12)
        check_int(self, "elements_per_row", 1, 64)
        check_int(self, "num_irs", 1, 8)
        check_int(self, "num_users", 1, 64)
        check_int(self, "num_bs_antennas", 1, 1024)
        check_int(self, "num_nlos_paths", 0, 20)
        check_real(self, "tx_power_dbm", -30.0, 60.0)
        check_real(self, "noise_dbm", -200.0, 0.0)
        check_real(self, "user_radius_m", 0.0, 1e4)
        check_real(self, "blockage_prob", 0.0, 1.0)
        check_real(self, "blockage_prob_inter", 0.0, 1.0)
        check_real(self, "blockage_unit_m", 1e-3, 1e6)
        per_irs = self.blockage_prob_bs_irs
        if per_irs is not None:
            values = tuple(per_irs) if isinstance(per_irs, tuple | list) else ()
            check(
                len(values) == self.num_irs
                and all(is_real(v) and 0.0 <= float(v) <= 1.0 for v in values),
                f"blockage_prob_bs_irs must be None or num_irs={self.num_irs} numbers in "
                f"[0, 1], got {per_irs!r}",
            )
            object.__setattr__(self, "blockage_prob_bs_irs", tuple(float(v) for v in values))
        row = self.elements_per_row
        check(
            self.num_bs_antennas % row == 0,
            f"num_bs_antennas must be a positive multiple of elements_per_row={row}, "
            f"got {self.num_bs_antennas}",
        )
        elements = self.num_elements
        if isinstance(elements, int | np.integer) and not isinstance(elements, bool):
            elements = (int(elements),) * self.num_irs
        check(
            isinstance(elements, tuple | list) and len(elements) == self.num_irs,
            f"num_elements must be an int or a tuple of num_irs={self.num_irs} ints, "
            f"got {self.num_elements!r}",
        )
        for m in elements:
            check(
                isinstance(m, int | np.integer) and 1 <= m <= 4096 and m % row == 0,
                f"num_elements entries must be multiples of elements_per_row={row} in "
                f"[{row}, 4096], got {self.num_elements!r}",
            )
        object.__setattr__(self, "num_elements", tuple(int(m) for m in elements))
        positions = self.irs_positions_m
        if positions is None:
            check(
                self.num_irs in _DEFAULT_IRS_POSITIONS_M,
                f"irs_positions_m must be given when num_irs > 2, got num_irs={self.num_irs}",
            )
            positions = _DEFAULT_IRS_POSITIONS_M[self.num_irs]
        positions = tuple(tuple(float(c) for c in p) for p in positions)
        check(
            len(positions) == self.num_irs and all(len(p) == 3 for p in positions),
            f"irs_positions_m must hold num_irs={self.num_irs} (x, y, z) triples, "
            f"got {self.irs_positions_m!r}",
        )
        object.__setattr__(self, "irs_positions_m", positions)
        for name in ("bs_position_m", "user_center_m"):
            v = tuple(float(c) for c in getattr(self, name))
            check(len(v) == 3, f"{name} must be an (x, y, z) triple, got {v!r}")
            object.__setattr__(self, name, v)
        if self.weights is not None:
            w = tuple(float(x) for x in np.ravel(self.weights))
            check(
                len(w) == self.num_users and all(math.isfinite(x) and x > 0 for x in w),
                f"weights must hold num_users={self.num_users} positive numbers, "
                f"got {self.weights!r}",
            )
            object.__setattr__(self, "weights", w)
        check(
            self.objective in OBJECTIVES,
            f"objective must be one of {OBJECTIVES}, got {self.objective!r}",
        )
        check(
            isinstance(self.phase_levels, int | np.integer)
            and (self.phase_levels == 0 or 2 <= self.phase_levels <= 1024),
            f"phase_levels must be 0 (continuous) or an integer in [2, 1024], "
            f"got {self.phase_levels!r}",
        )
        check(
            not self.inter_irs or self.num_irs == 2,
            f"inter_irs=True needs num_irs == 2, got num_irs={self.num_irs}",
        )
        check(
            not self.reverse_path or self.inter_irs,
            "reverse_path=True needs inter_irs=True",
        )
        for k in (self.bs_position_m, self.user_center_m, *positions):
            check(all(math.isfinite(c) for c in k), f"positions must be finite, got {k!r}")
        irs = np.asarray(positions)
        for name in ("bs_position_m", "user_center_m"):
            gap = float(np.min(distance_m(irs, np.asarray(getattr(self, name)))))
            check(gap > 0, f"irs_positions_m must differ from {name}, got {positions!r}")

    # Derived quantities -------------------------------------------------------------------
    @functools.cached_property  # configs are frozen; the env reads these every step
    def tx_power_w(self) -> float:
        """P in W."""
        return float(dbm_to_w(self.tx_power_dbm))

    @functools.cached_property  # configs are frozen; the env reads these every step
    def noise_w(self) -> float:
        """sigma^2 in W."""
        return float(dbm_to_w(self.noise_dbm))

    @functools.cached_property  # configs are frozen; the env reads these every step
    def total_elements(self) -> int:
        """M = sum_l M_l, the length of the stacked phase vector."""
        return int(sum(self.num_elements))

    @functools.cached_property  # configs are frozen; the env reads these every step
    def irs_slices(self) -> tuple[slice, ...]:
        """Slice of IRS l in the stacked element axis."""
        edges = np.cumsum((0, *self.num_elements))
        return tuple(slice(int(a), int(b)) for a, b in itertools.pairwise(edges))

    @functools.cached_property  # configs are frozen; the env reads these every step
    def weights_array(self) -> np.ndarray:
        """omega [K]."""
        omega = np.ones(self.num_users) if self.weights is None else np.array(self.weights, float)
        omega.setflags(write=False)  # cached and shared
        return omega

    @functools.cached_property
    def feature_scales(self) -> tuple[np.ndarray, np.ndarray, float]:
        """sqrt of the path gains at the nominal distances that scale the observation: per
        element of G (BS -> IRS_l), per element of h (IRS_l -> user centre), and of S
        (IRS1 -> IRS2; nan with one IRS)."""
        irs = np.asarray(self.irs_positions_m)
        g = np.sqrt(
            free_space_gain(distance_m(irs, np.asarray(self.bs_position_m)), self.carrier_hz)
        )
        h = np.sqrt(
            free_space_gain(distance_m(irs, np.asarray(self.user_center_m)), self.carrier_hz)
        )
        s = float("nan")
        if len(irs) > 1:
            s = math.sqrt(free_space_gain(float(distance_m(irs[0], irs[1])), self.carrier_hz))
        per_g, per_h = np.repeat(g, self.num_elements), np.repeat(h, self.num_elements)
        for a in (per_g, per_h):
            a.setflags(write=False)
        return per_g, per_h, s

    @property
    def num_paths(self) -> int:
        """Paths per link (LoS + NLoS)."""
        return self.num_nlos_paths + 1

    def upa_shape(self, num: int) -> tuple[int, int]:
        """(elements per row, columns) of a UPA with ``num`` elements."""
        return (self.elements_per_row, num // self.elements_per_row)


@dataclass(frozen=True)
class MultiIRSScenario:
    """One (or a batch of) channel realisation(s) of model 004.

    Attributes:
        user_positions_m: ``[..., K, 3]`` user coordinates (m).
        bs_irs_paths: per IRS l, Saleh-Valenzuela factors of G_l (batch ``[...]``).
        irs_user_paths: per IRS l, factors of h_{l,k}^H (batch ``[..., K]``, rx = 1 antenna).
        inter_irs_paths: factors of S (IRS1 -> IRS2) or ``None``.
        blocked_bs_irs: ``[..., L]`` bool, blocked_irs_user ``[..., L, K]``,
        blocked_inter_irs: ``[...]`` bool.
        G: ``[..., M, N_t]``, h: ``[..., K, M]``, S: ``[..., M_2, M_1]`` or ``None``
            (physical amplitude gains, blocked links zeroed).
    """

    user_positions_m: np.ndarray
    bs_irs_paths: tuple[SVPaths, ...]
    irs_user_paths: tuple[SVPaths, ...]
    inter_irs_paths: SVPaths | None
    blocked_bs_irs: np.ndarray
    blocked_irs_user: np.ndarray
    blocked_inter_irs: np.ndarray
    G: np.ndarray = field(repr=False)
    h: np.ndarray = field(repr=False)
    S: np.ndarray | None = field(repr=False)


@dataclass(frozen=True)
class MultiIRSDecision:
    """Optimisation variables: ``theta [..., M]`` (complex, unit modulus) and
    ``W [..., N_t, K]`` (complex, ``||W||_F^2 <= P`` in W)."""

    theta: np.ndarray
    W: np.ndarray


# Sampling ---------------------------------------------------------------------------------
def _blocked(
    rng: np.random.Generator,
    length_m: np.ndarray,
    p: float | tuple[float, ...],
    unit_m: float,
    shape: tuple[int, ...],
) -> np.ndarray:
    """Spec (52): P_b(d) = 1 - (1 - p)^(d / d_u) (``p`` broadcasts against ``length_m``)."""
    prob = 1.0 - (1.0 - np.asarray(p)) ** (np.asarray(length_m) / unit_m)
    return rng.random(shape) < prob


def _link_lengths(config: MultiIRSConfig, user_positions_m: np.ndarray):
    irs = np.asarray(config.irs_positions_m)  # [L, 3]
    d_bi = distance_m(irs, np.asarray(config.bs_position_m))  # [L]
    d_iu = distance_m(irs[:, None, :], user_positions_m[..., None, :, :])  # [..., L, K]
    d_ii = float(distance_m(irs[0], irs[-1])) if config.num_irs > 1 else 0.0
    return d_bi, d_iu, d_ii


def _build_channels(
    config: MultiIRSConfig,
    user_positions_m,
    bs_irs_paths,
    irs_user_paths,
    inter_irs_paths,
    blocked_bs_irs,
    blocked_irs_user,
    blocked_inter_irs,
):
    d_bi, d_iu, d_ii = _link_lengths(config, user_positions_m)
    batch = user_positions_m.shape[:-2]
    G_blocks, h_blocks = [], []
    for l in range(config.num_irs):
        G_l = sv_channel(
            bs_irs_paths[l], np.broadcast_to(free_space_gain(d_bi[l], config.carrier_hz), batch)
        )
        G_blocks.append(G_l * ~blocked_bs_irs[..., l, None, None])
        # h_{l,k}^H is the 1 x M_l channel IRS l -> user k; store h_{l,k} = its conjugate.
        hH = sv_channel(irs_user_paths[l], free_space_gain(d_iu[..., l, :], config.carrier_hz))
        h_blocks.append(np.conj(hH[..., 0, :]) * ~blocked_irs_user[..., l, :, None])
    S = None
    if inter_irs_paths is not None:
        S = sv_channel(
            inter_irs_paths, np.broadcast_to(free_space_gain(d_ii, config.carrier_hz), batch)
        )
        S = S * ~blocked_inter_irs[..., None, None]
    return np.concatenate(G_blocks, axis=-2), np.concatenate(h_blocks, axis=-1), S


def sample_scenario(
    config: MultiIRSConfig, rng: np.random.Generator, batch_shape: tuple[int, ...] = ()
) -> MultiIRSScenario:
    """Draw user positions, SV paths (spec section 2) and blockage (section 8)."""
    batch_shape = tuple(batch_shape)
    K, L, P = config.num_users, config.num_irs, config.num_paths
    users = uniform_disc(
        rng, np.asarray(config.user_center_m), config.user_radius_m, (*batch_shape, K)
    )
    bs_shape = config.upa_shape(config.num_bs_antennas)
    bs_irs, irs_user = [], []
    for m in config.num_elements:
        bs_irs.append(sv_draw_paths(rng, batch_shape, P, config.upa_shape(m), bs_shape))
        irs_user.append(sv_draw_paths(rng, (*batch_shape, K), P, (1, 1), config.upa_shape(m)))
    inter = None
    if config.inter_irs:
        inter = sv_draw_paths(
            rng,
            batch_shape,
            P,
            config.upa_shape(config.num_elements[1]),
            config.upa_shape(config.num_elements[0]),
        )
    d_bi, d_iu, d_ii = _link_lengths(config, users)
    p_bi = (
        config.blockage_prob if config.blockage_prob_bs_irs is None else config.blockage_prob_bs_irs
    )
    blocked_bi = _blocked(rng, d_bi, p_bi, config.blockage_unit_m, (*batch_shape, L))
    blocked_iu = _blocked(
        rng, d_iu, config.blockage_prob, config.blockage_unit_m, (*batch_shape, L, K)
    )
    blocked_ii = _blocked(
        rng, d_ii, config.blockage_prob_inter, config.blockage_unit_m, batch_shape
    )
    G, h, S = _build_channels(
        config, users, bs_irs, irs_user, inter, blocked_bi, blocked_iu, blocked_ii
    )
    return MultiIRSScenario(
        users, tuple(bs_irs), tuple(irs_user), inter, blocked_bi, blocked_iu, blocked_ii, G, h, S
    )


def evolve_scenario(
    config: MultiIRSConfig, scenario: MultiIRSScenario, rng: np.random.Generator, rho: float
) -> MultiIRSScenario:
    """Gauss-Markov step of every SV path gain (alpha' = rho alpha + sqrt(1-rho^2) n);
    angles, positions and blockage stay, so the channel is correlated over time."""

    def step(paths: SVPaths) -> SVPaths:
        return dataclasses.replace(paths, gains=gauss_markov(rng, paths.gains, rho))

    bs_irs = tuple(step(p) for p in scenario.bs_irs_paths)
    irs_user = tuple(step(p) for p in scenario.irs_user_paths)
    inter = None if scenario.inter_irs_paths is None else step(scenario.inter_irs_paths)
    G, h, S = _build_channels(
        config,
        scenario.user_positions_m,
        bs_irs,
        irs_user,
        inter,
        scenario.blocked_bs_irs,
        scenario.blocked_irs_user,
        scenario.blocked_inter_irs,
    )
    return dataclasses.replace(
        scenario, bs_irs_paths=bs_irs, irs_user_paths=irs_user, inter_irs_paths=inter, G=G, h=h, S=S
    )


# Channels as the optimisers see them ------------------------------------------------------
@dataclass(frozen=True)
class NormalizedChannels:
    """Channels scaled so that the noise power is 1 (h <- h / sigma, spec 5.4): ``G [..., M,
    N_t]``, ``hH [..., K, M]`` (row k = h_k^H / sigma), ``S`` or ``None``. W keeps its
    physical units (power budget P in W), so x_kj = hbar_k^H w_j / sigma."""

    G: np.ndarray
    hH: np.ndarray
    S: np.ndarray | None
    slices: tuple[slice, ...]
    reverse_path: bool


def normalized(config: MultiIRSConfig, scenario: MultiIRSScenario) -> NormalizedChannels:
    """Noise-normalised channels (ARCHITECTURE "Numerics").

    Memoised on the scenario object for the last noise power asked (scenarios are never
    modified in place), so a static episode builds them once instead of at every step."""
    sigma = math.sqrt(config.noise_w)
    memo = scenario.__dict__.get("_normalized")
    if memo is not None and memo[0] == (sigma, config.irs_slices, config.reverse_path):
        return memo[1]
    ch = NormalizedChannels(
        scenario.G, np.conj(scenario.h) / sigma, scenario.S, config.irs_slices, config.reverse_path
    )
    # frozen dataclass: the memo is not a field, so replace()/tree_stack never copy it
    object.__setattr__(scenario, "_normalized", ((sigma, ch.slices, ch.reverse_path), ch))
    return ch


def effective_channel(ch: NormalizedChannels, theta: np.ndarray) -> np.ndarray:
    r"""Rows :math:`\bar h_k^H` ``[..., K, N_t]`` (noise-normalised), spec (4) and (6)."""
    hbar = (ch.hH * theta[..., None, :]) @ ch.G
    if ch.S is not None:
        s1, s2 = ch.slices[0], ch.slices[1]
        via_2 = (ch.hH[..., s2] * theta[..., None, s2]) @ ch.S  # [..., K, M_1]
        hbar = hbar + (via_2 * theta[..., None, s1]) @ ch.G[..., s1, :]
        if ch.reverse_path:
            via_1 = (ch.hH[..., s1] * theta[..., None, s1]) @ np.swapaxes(ch.S, -1, -2)
            hbar = hbar + (via_1 * theta[..., None, s2]) @ ch.G[..., s2, :]
    return hbar


def reflection_beams(config: MultiIRSConfig, scenario: MultiIRSScenario) -> np.ndarray:
    r"""Each user's strongest single-reflection beam b_k ``[..., K, M]``.

    The single-reflection part of user k's effective channel is :math:`\bar h_k^H =
    \theta^T A_k` with A_k = diag(h_k^H / sigma) G ``[M, N_t]``; for its principal singular
    triple (sigma_1, u_1, v_1), b_k = conj(A_k v_1) = sigma_1 conj(u_1), so theta = exp(j arg
    b_k) maximises |theta^T A_k v_1| = ||b_k||_1: the phases (all IRSs together) that make
    user k's reflected paths coherent. The inter-IRS double reflection (``S``) is left out of
    the beams (it is second order; the env still scores it). Chosen convention for the phase
    that the SVD leaves free (there is no direct link to align with): sum_m b_km is real and
    >= 0, so that the beam varies smoothly with the channel."""
    ch = normalized(config, scenario)
    A = ch.hH[..., :, :, None] * ch.G[..., None, :, :]  # [..., K, M, N_t]
    _, vecs = np.linalg.eigh(np.swapaxes(A, -1, -2).conj() @ A)
    b = np.conj(A @ vecs[..., :, -1:])[..., 0]  # [..., K, M]
    return b * np.exp(-1j * np.angle(b.sum(axis=-1, keepdims=True)))


def single_beam_snr(
    config: MultiIRSConfig, scenario: MultiIRSScenario, b: np.ndarray | None = None
) -> np.ndarray:
    """SNR ``[..., K]`` of user k served alone at full power through theta = exp(j arg b_k)
    (:func:`reflection_beams`, or ``b`` where the caller has them) and the matching
    precoder: P (sum_m |b_km|)^2."""
    if b is None:
        b = reflection_beams(config, scenario)
    return config.tx_power_w * np.abs(b).sum(axis=-1) ** 2


def affine_terms(
    ch: NormalizedChannels, theta: np.ndarray, W: np.ndarray, block: slice | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Write :math:`x_{kj}=\bar h_k^Hw_j = c_{kj}+\theta_b^Td_{kj}` for the phase block ``b``.

    With the other blocks fixed, the effective channel is affine in one block (spec 5.3 and
    5.7: (19), (27), (28)). ``block=None`` means every element (exact without ``S``).

    Returns:
        c ``[..., K, K]`` and d ``[..., K, K, M_b]`` (indices k = user, j = stream).
    """
    if block is None:
        block = slice(0, theta.shape[-1])
    GW = ch.G @ W  # [..., M, K]; column j = G w_j
    # direct reflection through the block: d_kj = conj(h_k)_b * (G w_j)_b
    coeff = ch.hH[..., block]  # [..., K, M_b] rows multiply theta_b
    d = coeff[..., :, None, :] * np.swapaxes(GW[..., block, :], -1, -2)[..., None, :, :]
    if ch.S is not None:
        s1, s2 = ch.slices[0], ch.slices[1]
        S = ch.S
        terms = [(s2, s1, S)]  # h2^H Th2 S Th1 G1 : second factor block, first factor block
        if ch.reverse_path:
            terms.append((s1, s2, np.swapaxes(S, -1, -2)))
        for outer, inner, Smat in terms:
            # x += (hH_outer * th_outer) @ Smat @ diag(th_inner) @ G_inner w
            if block == outer:
                inner_w = Smat @ (theta[..., inner, None] * GW[..., inner, :])  # [..., M_o, K]
                d = d + ch.hH[..., None, outer] * np.swapaxes(inner_w, -1, -2)[..., None, :, :]
            elif block == inner:
                row = (ch.hH[..., outer] * theta[..., None, outer]) @ Smat  # [..., K, M_i]
                d = (
                    d
                    + row[..., :, None, :] * np.swapaxes(GW[..., inner, :], -1, -2)[..., None, :, :]
                )
    x = effective_channel(ch, theta) @ W
    c = x - np.einsum("...m,...kjm->...kj", theta[..., block], d)
    return c, d


# Metrics ----------------------------------------------------------------------------------
def sinr(ch: NormalizedChannels, decision: MultiIRSDecision) -> np.ndarray:
    """gamma_k ``[..., K]`` (spec (3)) for normalised channels and a physical ``W``."""
    x = effective_channel(ch, decision.theta) @ decision.W
    return sinr_from_gains(x)


def sinr_from_gains(x: np.ndarray) -> np.ndarray:
    """SINR from the gain matrix ``x[..., k, j] = hbar_k^H w_j`` (noise power 1)."""
    power = np.abs(x) ** 2
    signal = power.diagonal(0, -2, -1)
    return signal / (power.sum(axis=-1) - signal + 1.0)


def quantize_phases(theta: np.ndarray, levels: int) -> np.ndarray:
    """Nearest point of {exp(j 2 pi q / Q)} in circular distance (spec (31)); Q = 0: unchanged."""
    if levels == 0:
        return theta
    q = np.round(np.angle(theta) * levels / (2 * np.pi)) % levels
    return np.exp(2j * np.pi * q / levels)


def metrics(
    config: MultiIRSConfig, scenario: MultiIRSScenario, decision: MultiIRSDecision
) -> dict[str, np.ndarray]:
    """Every metric of model 004 for a (batch of) decision(s), batch-first.

    Returns a dict of arrays with the batch shape (per-user entries ``[..., K]``):
    ``sinr``, ``rate_bps_hz`` (R_k), ``wsr_bps_hz``, ``min_rate_bps_hz`` (min_k omega_k R_k),
    ``objective`` (one of the two, per ``config.objective``), ``power_w``,
    ``constraint_violation`` (relative power excess + largest unit-modulus error + largest
    distance to the Q-level grid; 0 when feasible) and ``feasible`` (violation <= 1e-6).
    """
    gamma = sinr(normalized(config, scenario), decision)
    rate = np.log2(1.0 + gamma)
    weighted = config.weights_array * rate
    wsr = weighted.sum(axis=-1)
    min_rate = weighted.min(axis=-1)
    power_w = (np.abs(decision.W) ** 2).sum(axis=(-2, -1))
    violation = np.maximum(power_w / config.tx_power_w - 1.0, 0.0)
    modulus = np.abs(decision.theta)
    violation = violation + np.abs(modulus - 1.0).max(axis=-1)
    if config.phase_levels:
        unit = decision.theta / np.where(modulus > 0, modulus, 1.0)
        grid_gap = np.abs(unit - quantize_phases(unit, config.phase_levels))
        violation = violation + grid_gap.max(axis=-1)
    objective = wsr if config.objective == "wsr" else min_rate
    return {
        "sinr": gamma,
        "rate_bps_hz": rate,
        "wsr_bps_hz": wsr,
        "min_rate_bps_hz": min_rate,
        "objective": objective,
        "power_w": power_w,
        "constraint_violation": violation,
        "feasible": violation <= 1e-6,
    }


# Closed-form precoders (spec (49)-(51)), all at full power -------------------------------
def scale_to_power(W: np.ndarray, power: float) -> np.ndarray:
    """W * sqrt(P) / ||W||_F over the last two axes (equal entries when W = 0)."""
    norm = np.sqrt((np.abs(W) ** 2).sum(axis=(-2, -1), keepdims=True))
    if norm.min() > 0:
        return W * (math.sqrt(power) / norm)
    # An all-zero effective channel (every link blocked) leaves no direction to prefer.
    fallback = np.full(W.shape, 1.0 + 0j) / math.sqrt(W.shape[-1] * W.shape[-2])
    safe = np.where(norm > 0, W / np.where(norm > 0, norm, 1.0), fallback)
    return math.sqrt(power) * safe


def mrt_precoder(hbar: np.ndarray, power: float) -> np.ndarray:
    """(49) W = sqrt(P) Hbar^H / ||Hbar||_F, ``hbar [..., K, N_t]`` -> ``[..., N_t, K]``."""
    return scale_to_power(np.conj(np.swapaxes(hbar, -1, -2)), power)


def zf_precoder(hbar: np.ndarray, power: float) -> np.ndarray:
    """(50) W = Hbar^H (Hbar Hbar^H)^-1, scaled to power P (needs rank K; caller checks)."""
    hH = np.conj(np.swapaxes(hbar, -1, -2))
    return scale_to_power(hH @ np.linalg.inv(hbar @ hH), power)


def mmse_precoder(hbar: np.ndarray, power: float, noise: float = 1.0) -> np.ndarray:
    """(51) W = (Hbar^H Hbar + K sigma^2/P I)^-1 Hbar^H, scaled to power P.

    ``hbar`` and ``noise`` must share units (noise 1 for normalised channels)."""
    K, n_t = hbar.shape[-2], hbar.shape[-1]
    hH = np.conj(np.swapaxes(hbar, -1, -2))
    gram = hH @ hbar + (K * noise / power) * np.eye(n_t)
    return scale_to_power(np.linalg.solve(gram, hH), power)


def default_decision(config: MultiIRSConfig, scenario: MultiIRSScenario) -> MultiIRSDecision:
    """The env's reset decision: theta = 1 (spec 5.5's theta^0) and W = MRT at full power."""
    batch = scenario.h.shape[:-2]
    theta = np.ones((*batch, config.total_elements), dtype=complex)
    hbar = effective_channel(normalized(config, scenario), theta)
    return MultiIRSDecision(theta, mrt_precoder(hbar, config.tx_power_w))


def observation(config: MultiIRSConfig, scenario: MultiIRSScenario) -> np.ndarray:
    """Channel features ``[..., D]`` scaled to O(1), float64.

    Layout: Re G, Im G (each ``M*N_t``, G_l divided by sqrt(PL(d_{BS,IRS_l}))), Re h, Im h
    (each ``K*M``, h_{l,k} divided by sqrt(PL(d_{IRS_l, user centre}))), and with
    ``inter_irs`` Re S, Im S (each ``M_2*M_1``, divided by sqrt(PL(d_{IRS1,IRS2}))). Every
    entry then has unit mean power at the nominal distances (the SV normalisation gives
    E|X_ij|^2 = PL); the residual spread carries the users' distance differences.
    """
    per_elem_g, per_elem_h, s_scale = config.feature_scales
    G = scenario.G / per_elem_g[:, None]
    h = scenario.h / per_elem_h
    batch = scenario.h.shape[:-2]
    parts = [G.real, G.imag, h.real, h.imag]
    if scenario.S is not None:
        parts += [scenario.S.real / s_scale, scenario.S.imag / s_scale]
    return np.concatenate([p.reshape(*batch, -1) for p in parts], axis=-1)


def observation_size(config: MultiIRSConfig) -> int:
    """Length D of :func:`observation`."""
    M, n_t, K = config.total_elements, config.num_bs_antennas, config.num_users
    size = 2 * M * n_t + 2 * K * M
    if config.inter_irs:
        size += 2 * config.num_elements[0] * config.num_elements[1]
    return size
