r"""The schemes of model 003 (spec sections 7.3 and 8) as solvers.

=====================  ==========  ===========================================  =========
solver                 role        phases / powers                              spec
=====================  ==========  ===========================================  =========
``opt_phase_opa``      reference   BCD: LP power step + lifted SDP phase step   7.3
                                   (manifold step for N > 36, ``"auto"``)
``opt_phase_opa_mfd``  benchmark   BCD: LP power step + manifold phase step     7.2, 7.3
``dft_phase_opa``      benchmark   best DFT codeword + LP powers                8.2
``dft_phase_epa``      benchmark   best DFT codeword + equal powers             8.1
=====================  ==========  ===========================================  =========

DFT codebook (section 8): :math:`\boldsymbol\theta^{(p,q)}=\mathbf d_p\otimes\mathbf d_q`,
:math:`[\mathbf d_p]_i=e^{-j2\pi pi/\sqrt N}`, p, q = 0..sqrt(N)-1 (row p*sqrt(N) + q); the
chosen codeword maximises min_l Q_bar_l under EPA.

BCD (Algorithm 3): theta_0 = best DFT codeword, eta_0 = EPA; repeat eta <- LP(theta),
theta <- phase step(eta) until the relative improvement of min_l Q_bar_l is below ``tol``
(1e-3) or after ``max_iterations`` (20); a last LP step makes the returned eta optimal for the
returned theta. Both steps never lower min_l Q_bar_l (the LP is exact and its previous
solution stays feasible, the phase steps keep their start when they find nothing better), so
``history`` (the objective, min-EU harvested energy in mJ, after each iteration) never falls.

SE targets that no power split meets give status ``infeasible`` with EPA powers (never a
negative power; the metrics then report ``feasible=False``).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from baselines.core import Solution, Solver
from baselines.swipt.lifted import energy_form
from baselines.swipt.phase_manifold import manifold_phase_step
from baselines.swipt.phase_sdp import PhaseResult, sdp_phase_step
from baselines.swipt.power import PowerResult, lp_power, sca_power
from irs_gym.models import swipt as model
from irs_gym.models.tree import tree_index, tree_map

PHASE_METHODS = ("auto", "sdp", "manifold")
#: ``phase_method="auto"`` runs the SDP up to this many elements and the manifold step above:
#: one SCS solve of the lifted SDP takes about 0.3 s at N = 16, 2 s at N = 36 and 10-60 s at
#: N = 64 on a shared 2-core machine, and a phase step needs 5-15 of them.
SDP_MAX_ELEMENTS = 36
POWER_METHODS = ("lp", "sca")


def dft_codebook(num_elements: int) -> np.ndarray:
    """All USPA DFT codewords ``[N, N]`` (row p * sqrt(N) + q is d_p kron d_q)."""
    side = math.isqrt(num_elements)
    if side * side != num_elements:
        raise ValueError(f"num_elements must be a perfect square, got {num_elements}")
    i = np.arange(side)
    d = np.exp(-2j * np.pi * np.outer(i, i) / side)  # row p = d_p
    return (d[:, None, :, None] * d[None, :, None, :]).reshape(num_elements, num_elements)


def best_codeword(
    config: model.SwiptConfig, stats: model.SwiptStatistics, eta: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(theta of the best codeword ``[..., N]``, min_l Q_bar_l of every codeword ``[..., N]``
    in J) under ``eta`` (default EPA) for a (batch of) realisation(s) ``stats [...]``; ties
    go to the lowest index."""
    codebook = dft_codebook(config.num_elements)
    eta = model.equal_power(config) if eta is None else eta
    batch = np.shape(stats.A)
    b = np.expand_dims(stats.b, len(batch))  # [..., 1, K_E, N]: every codeword
    L = model.energy_matrix(
        config, _broadcast_stats(stats, len(codebook)), model.reflect(codebook, b)
    )
    values = (L @ eta).min(axis=-1)
    return codebook[np.argmax(values, axis=-1)], values


def _broadcast_stats(stats: model.SwiptStatistics, n: int) -> model.SwiptStatistics:
    """The statistics ``[...]`` with an axis of n copies (one per codeword) after the batch
    axes."""
    axis = np.ndim(stats.A)

    def copies(leaf: np.ndarray) -> np.ndarray:
        leaf = np.expand_dims(leaf, axis)
        return np.broadcast_to(leaf, (*leaf.shape[:axis], n, *leaf.shape[axis + 1 :]))

    return tree_map(copies, stats)


def _solution(config, scenario, stats, theta, eta, status, history, message="") -> Solution:
    decision = model.decision_from_eta(theta, eta, config.num_info_users)
    objective = float(model.metrics(config, scenario, decision, stats)["objective"])
    return Solution(decision, objective, status, history, message=message)


def _objective_mj(config: model.SwiptConfig, q_j: float) -> float:
    return float(model.J_TO_MJ * model.harvested_energy(config, q_j))


class DFTPhaseEPA(Solver):
    """Best DFT codeword with equal power allocation (spec 8.1), one shot; ``solve_batch``
    scores every codeword of every realisation in one computation."""

    name = "dft_phase_epa"
    role = "benchmark"

    def _solve(self, scenario, config, rng) -> Solution:
        stats = model.statistics(config, scenario)
        theta, _ = best_codeword(config, stats)
        return _solution(config, scenario, stats, theta, model.equal_power(config), "fixed", [])

    def _solve_batch(self, scenarios, config, rngs) -> list[Solution]:
        stats = model.statistics(config, scenarios)
        theta, _ = best_codeword(config, stats)
        eta = model.equal_power(config, theta.shape[:-1])
        decisions = model.decision_from_eta(theta, eta, config.num_info_users)
        values = model.metrics(config, scenarios, decisions, stats)["objective"]
        return [
            Solution(tree_index(decisions, b), value, "fixed", [])
            for b, value in enumerate(values.tolist())
        ]


class DFTPhaseOPA(Solver):
    """Best DFT codeword (chosen under EPA) with the LP powers of spec 7.1 (spec 8.2)."""

    name = "dft_phase_opa"
    role = "benchmark"

    def _solve(self, scenario, config, rng) -> Solution:
        stats = model.statistics(config, scenario)
        theta, _ = best_codeword(config, stats)
        power = lp_power(config, stats, theta)
        return _solution(config, scenario, stats, theta, power.eta, power.status, [], power.message)


class OptPhaseOPA(Solver):
    """BCD of spec 7.3 (Algorithm 3); see the module docstring.

    Args:
        phase_method: ``"sdp"`` (the lifted SDP double loop of 7.2, the paper's method),
            ``"manifold"`` (the soft-min Riemannian alternative, for large N) or ``"auto"``
            (the SDP for N <= :data:`SDP_MAX_ELEMENTS`, else the manifold step).
        power_method: ``"lp"`` (the exact LP of 7.1) or ``"sca"`` (the paper's SCA loop).
        max_iterations: BCD iterations (20); tol: relative improvement that stops (1e-3).
        phase_options: keyword arguments of the phase step (e.g. ``max_inner``,
            ``max_solves`` for the SDP, ``mus`` for the manifold).
        name, role: registry name and role.

    After a solve, ``last_trace`` holds the per-iteration traces for the convergence figures:
    ``"power"`` (list of :class:`PowerResult`), ``"phase"`` (list of :class:`PhaseResult`).
    """

    def __init__(
        self,
        phase_method: str = "auto",
        power_method: str = "lp",
        *,
        max_iterations: int = 20,
        tol: float = 1e-3,
        phase_options: dict | None = None,
        name: str = "opt_phase_opa",
        role: str = "reference",
    ) -> None:
        if phase_method not in PHASE_METHODS:
            raise ValueError(f"phase_method must be one of {PHASE_METHODS}, got {phase_method!r}")
        if power_method not in POWER_METHODS:
            raise ValueError(f"power_method must be one of {POWER_METHODS}, got {power_method!r}")
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol!r}")
        self.phase_method, self.power_method = phase_method, power_method
        self.max_iterations, self.tol = max_iterations, tol
        self.phase_options = dict(phase_options or {})
        self.name, self.role = name, role  # type: ignore[misc]
        self.last_trace: dict[str, list] = {"power": [], "phase": []}

    def __repr__(self) -> str:
        return (
            f"OptPhaseOPA(name={self.name!r}, role={self.role!r}, "
            f"phase_method={self.phase_method!r}, power_method={self.power_method!r})"
        )

    def _power(self, config, stats, theta) -> PowerResult:
        step = lp_power if self.power_method == "lp" else sca_power
        return step(config, stats, theta)

    def uses_sdp(self, num_elements: int) -> bool:
        """Whether the phase step is the SDP for N = ``num_elements``."""
        if self.phase_method == "auto":
            return num_elements <= SDP_MAX_ELEMENTS
        return self.phase_method == "sdp"

    def _phase(self, form, eta, theta) -> PhaseResult:
        K_I = len(eta) - len(form.r)
        step = sdp_phase_step if self.uses_sdp(form.b.shape[1]) else manifold_phase_step
        return step(form, float(eta[:K_I].sum()), eta[K_I:], theta, **self.phase_options)

    def _solve(self, scenario, config, rng) -> Solution:
        stats = model.statistics(config, scenario)
        form = energy_form(config, stats)
        theta, _ = best_codeword(config, stats)
        self.last_trace = {"power": [], "phase": []}
        K_I = config.num_info_users
        solves: Counter[str] = Counter()  # cvxpy status of every LP and SDP solve
        errors: list[str] = []

        def min_q(theta: np.ndarray, eta: np.ndarray) -> float:
            return float(np.min(form.q_bar_j(theta, float(eta[:K_I].sum()), eta[K_I:])))

        def power_step(theta: np.ndarray) -> PowerResult:
            power = self._power(config, stats, theta)
            self.last_trace["power"].append(power)
            solves[power.message] += 1
            if power.status == "solver_error":
                errors.append(power.message)
            return power

        def finish(theta, eta, status, history) -> Solution:
            summary = ", ".join(f"{k} x{v}" for k, v in solves.items())
            message = "; ".join([*dict.fromkeys(errors), f"cvxpy: {summary}"])
            return _solution(config, scenario, stats, theta, eta, status, history, message)

        power = power_step(theta)
        if power.status in ("infeasible", "solver_error"):
            return finish(theta, power.eta, power.status, [])
        eta = power.eta
        value = min_q(theta, eta)
        history = [_objective_mj(config, value)]
        for _ in range(self.max_iterations):
            phase = self._phase(form, eta, theta)
            self.last_trace["phase"].append(phase)
            solves.update(phase.solver_statuses)
            if phase.message:
                errors.append(phase.message)
            theta = phase.theta
            power = power_step(theta)
            if power.status == "solver_error":
                return finish(theta, eta, "solver_error", history)
            # keep the previous eta on a tie: the LP optimum can only be at least as good
            if min_q(theta, power.eta) >= min_q(theta, eta):
                eta = power.eta
            previous, value = value, min_q(theta, eta)
            history.append(_objective_mj(config, value))
            if phase.status == "solver_error":
                return finish(theta, eta, "solver_error", history)
            if value - previous <= self.tol * max(abs(value), 1e-300):
                return finish(theta, eta, "converged", history)
        return finish(theta, eta, "max_iterations", history)
