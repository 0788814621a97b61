r"""Model 002: IRS blocks as shareable resources (Kassem, Al Haj Hassan, Nasser, Mansour, Yao).

System (spec ``shared/models/002-irs-block-allocation.md``, sections 1-4): a single-antenna BS
at the origin serves K single-antenna users dropped in a disc of radius R_a; each needs the
rate R_b. Without the IRS (Case 1) the users share the band equally, B_k = B_T / K (4), and
the BS sets p_k so that user k just meets R_b (5). An IRS of N_tot elements at (d_SR, 0) is
cut into n_b = N_tot / N_a^min blocks (14); user k gets x_k blocks (N = x_k N_a^min
elements), keeps its power p_k, and needs less bandwidth (12):

.. math:: \mathcal B^k_I = \frac{R_b}{\log_2\!\big(1 + p_k(\sqrt{\beta_{sk}}
          + N\alpha\sqrt{\beta_{sr}\beta_{rk}})^2/\sigma^2\big)}.

With :math:`\mathrm{SNR}_0 = 2^{R_bK/B_T}-1` the per-user saving (13) is, in closed form
(spec section 3; the noise power cancels),

.. math:: S_{B_k}(x_k) = 1 - \frac{\log_2(1+\mathrm{SNR}_0)}
          {\log_2\!\big(1+\mathrm{SNR}_0\,(1+x_k c_k)^2\big)},\qquad
          c_k = N_a^{\min}\alpha\sqrt{\beta_{sr}\beta_{rk}/\beta_{sk}},

and the system saving is :math:`\bar S = \frac{100}{K}\sum_k S_{B_k}` % of B_T. Gains follow
3GPP UMi at f_c (18): LoS for BS-IRS and IRS-user, NLoS for BS-user, every distance clipped
to at least ``min_distance_m``. The problem (15)-(17): maximise :math:`\sum_k S_{B_k}(x_k)`
over :math:`x\in\mathbb N^K` with :math:`\sum_k x_k\le n_b`; with A assisted users fixed
(Figs. 2-5), exactly A users get :math:`x_k\ge1` and :math:`\sum_k x_k = n_b`.

Array conventions (batch axes ``...`` first): per-user arrays ``[..., K]``, allocations
``blocks [..., K]`` (int64), saving tables ``[..., K, n_b + 1]``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from irs_gym.models.validation import check, check_int, check_real, is_int
from irs_gym.physics import distance_m, umi_gain, uniform_sector
from irs_gym.physics.bs_power import EARTH_PARAMETERS, earth_input_power_w

#: Antenna-gain bookkeeping (spec section 2): (a) "literal", (b) "bjornson", (c) "physical".
GAIN_READINGS = ("literal", "bjornson", "physical")
#: User placement in the cell: uniform over the disc's area, or uniform in radius.
PLACEMENTS = ("area", "radius")
BS_TYPES = tuple(EARTH_PARAMETERS)
#: Largest n_b and K (the observation grows as K (3 + n_b), the DP as K A n_b^2).
MAX_BLOCKS = 256
MAX_USERS = 256
#: Largest spectral efficiency R_b K / B_T (bit/s/Hz): 2^64 - 1 keeps SNR_0 finite with room.
MAX_SPECTRAL_EFFICIENCY = 64.0


@dataclass(frozen=True)
class BlockAllocationConfig:
    """Parameters of model 002 (defaults: spec section 7; ``[R]`` items are reconstructed).

    Attributes:
        num_users: K, users in the cell, in [1, 256]. Default 6 (the figures sweep 6-30).
        cell_radius_m: R_a (m), > ``min_distance_m``. Default 250.
        num_elements: N_tot, IRS elements, >= 1. Default 150.
        block_size: N_a^min, elements per block [R: default 30, so n_b = 5]. It must divide
            ``num_elements`` (no rounding: a remainder is refused) and n_b = N_tot / N_a^min
            must lie in [1, 256].
        assisted_users: A, the number of users that get at least one block, ``None`` (free:
            the NLIP (15)-(17), sum of blocks <= n_b) or an integer in [1, min(K, n_b)]
            (exactly A users assisted and every block used, as in Figs. 2-5).
        irs_distance_m: d_SR (m), the IRS sits at (d_SR, 0), > 0. Default 50.
        rate_bps: R_b, the rate of every user (bit/s), > 0, with R_b K / B_T <= 64.
        bandwidth_hz: B_T, total band (Hz), > 0. Default 10 MHz.
        carrier_hz: f_c (Hz), in [1e6, 1e12]. Default 3 GHz.
        bs_gain_dbi, user_gain_dbi: G_s = 15, G_d = 0 dBi, each in [-50, 50].
        irs_gain_dbi: G_r, IRS element gain (dBi) used by reading ``"bjornson"`` only. Default 5.
        antenna_gains: which links carry which antenna gains (spec section 2):
            ``"literal"`` (a, default) G_s + G_d on every link; ``"bjornson"`` (b) BS-IRS
            G_s + G_r, IRS-user G_r + G_d, BS-user G_s + G_d; ``"physical"`` (c) BS-IRS G_s,
            IRS-user G_d, BS-user G_s + G_d.
        reflection_amplitude: alpha in (0, 1]. Default 1.
        min_distance_m: every distance is clipped to at least this (m) before the UMi law,
            in [1e-3, 1e3]. Default 10 (the law's validity range).
        user_placement: ``"area"`` (r = R_a sqrt(U), default) or ``"radius"`` (r = R_a U).
        bs_type: EARTH base-station type for the power saving: ``"macro"`` (default),
            ``"rrh"``, ``"micro"``, ``"pico"`` or ``"femto"``.
    """

    num_users: int = 6
    cell_radius_m: float = 250.0
    num_elements: int = 150
    block_size: int = 30
    assisted_users: int | None = None
    irs_distance_m: float = 50.0
    rate_bps: float = 1e6
    bandwidth_hz: float = 10e6
    carrier_hz: float = 3e9
    bs_gain_dbi: float = 15.0
    user_gain_dbi: float = 0.0
    irs_gain_dbi: float = 5.0
    antenna_gains: str = "literal"
    reflection_amplitude: float = 1.0
    min_distance_m: float = 10.0
    user_placement: str = "area"
    bs_type: str = "macro"

    def __post_init__(self) -> None:
        def choice(name: str, allowed: tuple[str, ...]) -> None:
            v = getattr(self, name)
            check(v in allowed, f"{name} must be one of {allowed}, got {v!r}")

        check_int(self, "num_users", 1, MAX_USERS)
        check_int(self, "num_elements", 1, 1_000_000)
        n_tot, size = self.num_elements, self.block_size
        check(
            is_int(size) and 1 <= size <= n_tot,
            f"block_size must be an integer in [1, num_elements={n_tot}] (n_b = num_elements / "
            f"block_size must be >= 1), got {size!r}",
        )
        check(
            n_tot % size == 0,
            f"block_size must divide num_elements (n_b = N_tot / N_a^min, spec (14); a "
            f"remainder is refused, not rounded), got block_size={size}, num_elements={n_tot}",
        )
        check(
            n_tot // size <= MAX_BLOCKS,
            f"block_size must give n_b = num_elements / block_size <= {MAX_BLOCKS}, got "
            f"n_b = {n_tot // size}",
        )
        a = self.assisted_users
        a_max = min(self.num_users, n_tot // size)
        check(
            a is None or (is_int(a) and 1 <= a <= a_max),
            f"assisted_users must be None or an integer in [1, min(num_users, n_b)] = "
            f"[1, {a_max}], got {a!r}",
        )
        check_real(self, "min_distance_m", 1e-3, 1e3)
        r_a = self.cell_radius_m
        check(
            isinstance(r_a, int | float | np.number)
            and not isinstance(r_a, bool)
            and float(self.min_distance_m) < float(r_a) <= 1e5,
            f"cell_radius_m must be a number in (min_distance_m={self.min_distance_m}, 1e5] m, "
            f"got {r_a!r}",
        )
        check_real(self, "irs_distance_m", 0.0, 1e5, open_lo=True)
        check_real(self, "bandwidth_hz", 0.0, 1e12, open_lo=True)
        check_real(self, "rate_bps", 0.0, 1e12, open_lo=True)
        efficiency = float(self.rate_bps) * self.num_users / float(self.bandwidth_hz)
        check(
            efficiency <= MAX_SPECTRAL_EFFICIENCY,
            f"rate_bps must satisfy rate_bps * num_users / bandwidth_hz <= "
            f"{MAX_SPECTRAL_EFFICIENCY} bit/s/Hz, got {efficiency:.4g}",
        )
        check_real(self, "carrier_hz", 1e6, 1e12)
        for name in ("bs_gain_dbi", "user_gain_dbi", "irs_gain_dbi"):
            check_real(self, name, -50.0, 50.0)
        check_real(self, "reflection_amplitude", 0.0, 1.0, open_lo=True)
        choice("antenna_gains", GAIN_READINGS)
        choice("user_placement", PLACEMENTS)
        choice("bs_type", BS_TYPES)

    # Derived quantities -------------------------------------------------------------------
    @property
    def num_blocks(self) -> int:
        """n_b = N_tot / N_a^min (14)."""
        return self.num_elements // self.block_size

    @property
    def user_bandwidth_hz(self) -> float:
        """B_k = B_T / K (4), Case 1."""
        return self.bandwidth_hz / self.num_users

    @property
    def snr0(self) -> float:
        """SNR_0 = 2^(R_b K / B_T) - 1, the SNR every user needs without the IRS (3)."""
        return math.expm1(math.log(2.0) * self.rate_bps / self.user_bandwidth_hz)

    @property
    def irs_position_m(self) -> np.ndarray:
        """(d_SR, 0) in metres."""
        return np.array([float(self.irs_distance_m), 0.0])

    @property
    def link_gains_db(self) -> tuple[float, float, float]:
        """Antenna gains (dB) of the BS-IRS, IRS-user and BS-user links, per the reading."""
        g_s, g_d, g_r = self.bs_gain_dbi, self.user_gain_dbi, self.irs_gain_dbi
        direct = g_s + g_d
        if self.antenna_gains == "literal":
            return direct, direct, direct
        if self.antenna_gains == "bjornson":
            return g_s + g_r, g_r + g_d, direct
        return g_s, g_d, direct

    @functools.cached_property
    def beta_sr(self) -> float:
        """BS-IRS power gain per element (UMi LoS at d_SR, clipped), linear."""
        d = max(float(self.irs_distance_m), float(self.min_distance_m))
        return float(umi_gain(d, self.carrier_hz, True, antenna_gain_db=self.link_gains_db[0]))

    @property
    def earth(self):
        """The EARTH parameters of ``bs_type``."""
        return EARTH_PARAMETERS[self.bs_type]

    @functools.cached_property
    def full_load_power_w(self) -> float:
        """P_in at full load (W): the BS power without the IRS."""
        return float(earth_input_power_w(1.0, self.earth))


@dataclass(frozen=True)
class BlockAllocationScenario:
    """One (or a batch of) user drop(s) of model 002.

    Attributes:
        user_positions_m: ``[..., K, 2]`` user coordinates (m), BS at the origin.
        distance_bs_m: ``[..., K]`` d_sk, BS-user distance (m, not clipped).
        distance_irs_m: ``[..., K]`` d_rk, IRS-user distance (m, not clipped).
        beta_sr: ``[...]`` BS-IRS power gain (linear, per element).
        beta_rk: ``[..., K]`` IRS-user power gains (linear, per element).
        beta_sk: ``[..., K]`` BS-user power gains (linear).
        gain_ratio: ``[..., K]`` sqrt(beta_sr beta_rk / beta_sk), the reflected amplitude of
            one element relative to the direct path (all the metrics need of the drop).
    """

    user_positions_m: np.ndarray
    distance_bs_m: np.ndarray
    distance_irs_m: np.ndarray
    beta_sr: np.ndarray
    beta_rk: np.ndarray
    beta_sk: np.ndarray
    gain_ratio: np.ndarray


@dataclass(frozen=True)
class BlockAllocationDecision:
    """The allocation x: ``blocks [..., K]`` (int64), x_k blocks of N_a^min elements each."""

    blocks: np.ndarray


# Sampling ---------------------------------------------------------------------------------
def scenario_from_positions(
    config: BlockAllocationConfig, user_positions_m: np.ndarray
) -> BlockAllocationScenario:
    """Distances and UMi gains (18) for given user positions ``[..., K, 2]`` (m)."""
    users = np.asarray(user_positions_m, dtype=np.float64)
    check(
        users.ndim >= 2 and users.shape[-2:] == (config.num_users, 2),
        f"user_positions_m must have shape [..., num_users={config.num_users}, 2], "
        f"got {users.shape}",
    )
    d_sk = distance_m(users, np.zeros(2))
    d_rk = distance_m(users, config.irs_position_m)
    _, g_rk, g_sk = config.link_gains_db
    # IRS-user (LoS) and BS-user (NLoS) in one call of the law; distances are clipped here
    # rather than by the law, which rejects a user standing at d = 0.
    d = np.maximum(np.stack([d_rk, d_sk]), config.min_distance_m)
    shape = (2,) + (1,) * (d.ndim - 1)
    beta_rk, beta_sk = umi_gain(
        d,
        config.carrier_hz,
        np.array([True, False]).reshape(shape),
        antenna_gain_db=np.array([g_rk, g_sk]).reshape(shape),
        min_distance_m=None,
    )
    return BlockAllocationScenario(
        user_positions_m=users,
        distance_bs_m=d_sk,
        distance_irs_m=d_rk,
        beta_sr=np.full(users.shape[:-2], config.beta_sr),
        beta_rk=beta_rk,
        beta_sk=beta_sk,
        gain_ratio=np.sqrt(config.beta_sr * beta_rk / beta_sk),
    )


def sample_scenario(
    config: BlockAllocationConfig, rng: np.random.Generator, batch_shape: tuple[int, ...] = ()
) -> BlockAllocationScenario:
    """Drop K users in the disc of radius R_a around the BS (spec section 1): area-uniform
    (r = R_a sqrt(U)) or radius-uniform (r = R_a U), angle uniform; the only randomness."""
    points = uniform_sector(
        rng,
        np.zeros(3),
        float(config.cell_radius_m),
        batch_shape=(*tuple(batch_shape), config.num_users),
        area_uniform=config.user_placement == "area",
    )
    return scenario_from_positions(config, points[..., :2])


# Metrics ----------------------------------------------------------------------------------
def block_gain(config: BlockAllocationConfig, scenario: BlockAllocationScenario) -> np.ndarray:
    r"""c_k = N_a^min alpha sqrt(beta_sr beta_rk / beta_sk) ``[..., K]``: the amplitude of one
    block's reflected path relative to the direct path (with x blocks: 1 + x c_k, from (10))."""
    return (config.block_size * config.reflection_amplitude) * scenario.gain_ratio


def saving_from_gain(snr0: float, gain: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """S_Bk (13) in closed form for ``blocks`` >= 0 blocks of amplitude gain ``gain``
    (broadcast); exactly 0 for no block."""
    amplitude = 1.0 + np.asarray(blocks, dtype=np.float64) * gain
    # numpy's log1p on both sides: math.log1p can differ from it in the last bit, which made
    # the no-block saving -2e-16 and the EARTH load 1 + 2e-16
    return 1.0 - np.log1p(np.float64(snr0)) / np.log1p(snr0 * amplitude**2)


def user_saving(
    config: BlockAllocationConfig, scenario: BlockAllocationScenario, blocks: np.ndarray
) -> np.ndarray:
    """Per-user bandwidth saving S_Bk (13), a fraction in [0, 1), ``[..., K]``."""
    return saving_from_gain(config.snr0, block_gain(config, scenario), blocks)


def saving_table(config: BlockAllocationConfig, scenario: BlockAllocationScenario) -> np.ndarray:
    """S_k(x) for x = 0..n_b, ``[..., K, n_b + 1]`` (column 0 is 0): what the solvers use."""
    x = np.arange(config.num_blocks + 1)
    return saving_from_gain(config.snr0, block_gain(config, scenario)[..., None], x)


def bs_power_w(config: BlockAllocationConfig, bandwidth_saving_pct: np.ndarray) -> np.ndarray:
    r"""EARTH BS input power (W) with the IRS, spec section 3 [R]: the RF output power follows
    the used share of the band, load chi = 1 - S/100 (chi = 1 without the IRS)."""
    load = 1.0 - np.asarray(bandwidth_saving_pct, dtype=np.float64) / 100.0
    return earth_input_power_w(load, config.earth)


def power_saving_pct(config: BlockAllocationConfig, power_w: np.ndarray) -> np.ndarray:
    """EARTH power saving (%), 1 - P_in(chi) / P_in(1), from :func:`bs_power_w`."""
    return 100.0 * (1.0 - power_w / config.full_load_power_w)


def allocation_violation(config: BlockAllocationConfig, blocks: np.ndarray) -> np.ndarray:
    """Distance (in blocks) of ``blocks`` from the feasible set, ``[...]``: negative counts,
    blocks beyond n_b (16)-(17) and, with A fixed, unused blocks plus the gap to A users."""
    x = np.asarray(blocks)
    used = x.sum(axis=-1)
    violation = np.maximum(-x, 0).sum(axis=-1) + np.maximum(used - config.num_blocks, 0)
    if config.assisted_users is not None:
        assisted = (x > 0).sum(axis=-1)
        violation = (
            violation
            + np.maximum(config.num_blocks - used, 0)
            + np.abs(assisted - config.assisted_users)
        )
    return violation.astype(np.float64)


def metrics(
    config: BlockAllocationConfig,
    scenario: BlockAllocationScenario,
    decision: BlockAllocationDecision,
) -> dict[str, np.ndarray]:
    """Every metric of model 002 for a (batch of) allocation(s), batch-first.

    Negative counts score as 0 blocks (and count as a violation). Returns arrays with the
    batch shape (per-user entries ``[..., K]``): ``user_saving`` (S_Bk, fraction),
    ``bandwidth_hz`` (B_I^k = B_k (1 - S_Bk), Hz), ``bandwidth_saving_pct`` (S-bar, % of B_T),
    ``objective`` (the same), ``power_saving_pct`` (EARTH, %), ``bs_power_w`` (P_in with the
    IRS, W), ``blocks`` (x as float), ``used_blocks``, ``assisted_users``,
    ``constraint_violation`` (:func:`allocation_violation`) and ``feasible`` (violation 0).
    """
    x = np.asarray(decision.blocks)
    s = user_saving(config, scenario, np.maximum(x, 0))
    saving_pct = 100.0 * s.mean(axis=-1)
    violation = allocation_violation(config, x)
    power_w = bs_power_w(config, saving_pct)
    return {
        "user_saving": s,
        "bandwidth_hz": config.user_bandwidth_hz * (1.0 - s),
        "bandwidth_saving_pct": saving_pct,
        "objective": saving_pct,
        "power_saving_pct": power_saving_pct(config, power_w),
        "bs_power_w": power_w,
        "blocks": x.astype(np.float64),
        "used_blocks": x.sum(axis=-1).astype(np.float64),
        "assisted_users": (x > 0).sum(axis=-1).astype(np.float64),
        "constraint_violation": violation,
        "feasible": violation == 0.0,
    }


# Feasible allocations ---------------------------------------------------------------------
def project_allocation(
    target: np.ndarray, num_blocks: int, assisted_users: int | None = None
) -> np.ndarray:
    r"""The feasible allocation nearest to real targets ``t [..., K]`` (Euclidean), int64.

    Feasible set: :math:`x\in\mathbb N^K`, :math:`\sum_k x_k\le n_b` (A free), or exactly
    A entries >= 1 with :math:`\sum_k x_k=n_b` (A fixed). Both are exact minimisers of
    :math:`\|x-t\|^2`:

    * A free: start from x = 0 and add one block at a time to the user with the largest
      unmet request :math:`t_k-x_k`, while that exceeds 1/2 (the block then lowers the
      distance) and blocks remain. Greedy is exact for a separable convex cost under a
      budget. So x = round(t) when that fits in n_b; otherwise every request is lowered by
      about the same shortfall (clipped at 0), e.g. t = (5, 1, 3), n_b = 5 gives (4, 0, 1).
    * A fixed: keep the A largest targets (swapping a kept user for a larger unkept one never
      raises the cost), give each one block, then add the other n_b - A blocks greedily to
      the kept user with the largest :math:`t_k-x_k`.

    Ties go to the lower user index; a deficit of exactly 1/2 rounds down. The greedy runs in
    one shot: the blocks it places are the largest of the marginal gains
    :math:`t_k-j-\tfrac12` (:math:`t_k-1-j` with A fixed) over users k and counts j, taken in
    the order of a stable sort, which is the greedy's order of choice.
    """
    t = np.asarray(target, dtype=np.float64)
    if assisted_users is None:
        marginal = t[..., None] - np.arange(num_blocks) - 0.5
        return _count_largest(marginal, num_blocks, positive_only=True)
    kept = np.zeros(t.shape, dtype=np.int64)
    order = np.argsort(-t, axis=-1, kind="stable")[..., :assisted_users]
    np.put_along_axis(kept, order, 1, axis=-1)
    extra = num_blocks - assisted_users
    marginal = np.where(kept[..., None] > 0, t[..., None] - 1.0 - np.arange(extra), -np.inf)
    return kept + _count_largest(marginal, extra, positive_only=False)


def _count_largest(marginal: np.ndarray, count: int, *, positive_only: bool) -> np.ndarray:
    """How many of the ``count`` largest entries of ``marginal [..., K, J]`` (ties: lower
    flat index first; with ``positive_only`` only entries > 0) lie in each row k, ``[..., K]``."""
    *batch, K, J = marginal.shape
    flat = marginal.reshape(*batch, K * J)
    top = np.argsort(-flat, axis=-1, kind="stable")[..., :count]
    chosen = np.take_along_axis(flat, top, axis=-1) > 0 if positive_only else True
    hits = (top[..., None] // max(J, 1) == np.arange(K)) & np.asarray(chosen)[..., None]
    return hits.sum(axis=-2).astype(np.int64)


def default_decision(
    config: BlockAllocationConfig, scenario: BlockAllocationScenario
) -> BlockAllocationDecision:
    """The allocation scored at reset. A free: no block (Case 1, the paper's reference,
    saving 0). A fixed (x = 0 is then infeasible): users 0..A-1 share the blocks evenly,
    the first ones taking the remainder; users are exchangeable, so this uses no channel
    knowledge."""
    batch = scenario.distance_bs_m.shape[:-1]
    x = np.zeros((*batch, config.num_users), dtype=np.int64)
    a = config.assisted_users
    if a is not None:
        n = config.num_blocks
        x[..., :a] = n // a + (np.arange(a) < n % a)
    return BlockAllocationDecision(x)


# Observation ------------------------------------------------------------------------------
def observation(config: BlockAllocationConfig, scenario: BlockAllocationScenario) -> np.ndarray:
    """Per-user features ``[..., D]``, D = K (3 + n_b), float64, O(1).

    Layout: d_sk / R_a (K entries), d_rk / R_a (K), log10 c_k (K, the one-block amplitude
    gain of :func:`block_gain`), then S_k(x) for x = 1..n_b (K n_b, user-major): the saving
    table the exact solver uses. SNR_0 is a constant of the config and is left out.
    """
    r_a = float(config.cell_radius_m)
    batch = scenario.distance_bs_m.shape[:-1]
    table = saving_table(config, scenario)[..., 1:]
    return np.concatenate(
        [
            scenario.distance_bs_m / r_a,
            scenario.distance_irs_m / r_a,
            np.log10(block_gain(config, scenario)),
            table.reshape(*batch, -1),
        ],
        axis=-1,
    )


def observation_size(config: BlockAllocationConfig) -> int:
    """Length D of :func:`observation`."""
    return config.num_users * (3 + config.num_blocks)
