r"""Power allocation for fixed phases (spec 7.1, Algorithm 1) as parametrised cvxpy LPs.

For fixed theta, Q_bar_l and SINR_k are linear in eta (:func:`irs_gym.models.swipt.power_lp`
gives the scaled data), so the max-min problem (P3.1) is exactly the LP

.. math:: \max_{\eta\ge0,s}\ s\quad\text{s.t.}\ \hat L\eta\ge s\mathbf 1,\
          \mathbf 1^T\eta\le1,\ G\eta\ge\mathbf 1

(:class:`PowerLP`, the power step of every OPA scheme). The paper reaches the same point by
SCA on the inverse of the (exponentially approximated) logistic,
:math:`f(t)=b+\ln(t/\mathcal P_{\max})/a`: (P3.2) maximises t subject to
:math:`\bar Q_\ell(\eta)\ge f(t_i)+f'(t_i)(t-t_i)` with :math:`f'(t)=1/(at)`. Its optimum
obeys :math:`t_{i+1}=t_i(1+a(s^*-f(t_i)))`, a Newton step on :math:`f(t)=s^*`; from
:math:`f(t_0)\le s^*` the iterates rise monotonically to the fixed point
:math:`f(t^*)=s^*` (:class:`PowerSCA`, kept to show Fig. 5's convergence and that both agree).

Both problems are built once per size (``functools.cache``) with cvxpy parameters (DPP) and
solved by HiGHS through ``scipy.optimize.linprog`` (cvxpy's SCIPY interface; cvxpy's own
HIGHS interface prints a banner to stdout), Clarabel as fallback. HiGHS returns a vertex, so
unused streams get an exact zero; after Clarabel, powers below 1e-9 of the largest are zeroed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from baselines.cvx import DECIDED, solve_in_turn
from irs_gym.models import swipt as model

SOLVERS = ("SCIPY", "CLARABEL")


#: SCIPY runs HiGHS (dual simplex: an exact vertex); SCS is warm-started from the previous
#: solve of the same problem (consecutive SCA iterations are close).
SOLVER_OPTIONS: dict[str, dict] = {
    "SCIPY": {"scipy_options": {"method": "highs"}},
    "SCS": {"warm_start": True},
}


def solve_problem(problem: cp.Problem, solvers: tuple[str, ...]) -> tuple[bool, str]:
    """Solve with the first solver that gives an optimal (or infeasible) verdict; returns
    (verdict reached, ``"<solver>: <cvxpy status>"``). Without a verdict the problem's
    variables and status may be a previous solve's, so callers check the flag first."""
    ok, statuses = solve_in_turn(problem, solvers, accept=DECIDED, options=SOLVER_OPTIONS)
    return ok, statuses[-1]


@dataclass
class PowerResult:
    """Outcome of a power step.

    ``eta`` ``[K_I + K_E]`` (EPA where infeasible or failed), ``status`` ("optimal",
    "converged", "max_iterations", "infeasible" or "solver_error"), ``message`` (cvxpy
    status), ``value_j`` (min_l Q_bar_l at ``eta``), ``history_j`` (SCA: f(t_i) per
    iteration, in J).
    """

    eta: np.ndarray
    status: str
    message: str
    value_j: float
    history_j: list[float] = field(default_factory=list)


class PowerLP:
    """max s s.t. L eta >= s 1, 1^T eta <= 1, G eta >= rhs, eta >= 0 (parameters L, G, rhs).

    Rows of G are scaled to unit largest entry (rhs scaled with them); inactive rows (zero
    SE target) are zero with rhs 0.
    """

    def __init__(self, num_energy_users: int, num_info_users: int, num_streams: int) -> None:
        self.L = cp.Parameter((num_energy_users, num_streams))
        self.G = cp.Parameter((num_info_users, num_streams))
        self.rhs = cp.Parameter(num_info_users)
        self.eta = cp.Variable(num_streams, nonneg=True)
        self.s = cp.Variable()
        self.problem = cp.Problem(
            cp.Maximize(self.s),
            [self.L @ self.eta >= self.s, cp.sum(self.eta) <= 1, self.G @ self.eta >= self.rhs],
        )

    def solve(self, lp: model.PowerLP) -> tuple[np.ndarray | None, str]:
        """(eta or None, status text); None when infeasible or failed."""
        self.L.value = lp.L
        G, rhs = scaled_rows(lp)
        self.G.value, self.rhs.value = G, rhs
        ok, status = solve_problem(self.problem, SOLVERS)
        if (
            ok
            and self.problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
            and self.eta.value is not None
        ):
            return clean(self.eta.value), status
        return None, status


def clean(eta: np.ndarray) -> np.ndarray:
    """Interior-point output: clip negatives and zero the entries below 1e-9 of the largest."""
    eta = np.maximum(np.asarray(eta, dtype=float), 0.0)
    return np.where(eta >= 1e-9 * eta.max(initial=0.0), eta, 0.0)


def scaled_rows(lp: model.PowerLP) -> tuple[np.ndarray, np.ndarray]:
    """SINR rows G eta >= 1 scaled by their largest entry; inactive rows 0 >= 0."""
    peak = np.max(np.abs(lp.G), axis=-1)
    peak = np.where(lp.active & (peak > 0), peak, 1.0)
    return lp.G / peak[:, None], np.where(lp.active, 1.0 / peak, 0.0)


class PowerSCA:
    """(P3.2): max t_hat s.t. L eta >= c0 + c1 t_hat, 1^T eta <= 1, G eta >= rhs, with
    t = t_hat t_i, c0 = (f(t_i) - 1/a) / q_scale and c1 = 1 / (a q_scale)."""

    def __init__(self, num_energy_users: int, num_info_users: int, num_streams: int) -> None:
        self.L = cp.Parameter((num_energy_users, num_streams))
        self.G = cp.Parameter((num_info_users, num_streams))
        self.rhs = cp.Parameter(num_info_users)
        self.c0 = cp.Parameter()
        self.c1 = cp.Parameter(nonneg=True)
        self.eta = cp.Variable(num_streams, nonneg=True)
        self.t = cp.Variable()
        self.problem = cp.Problem(
            cp.Maximize(self.t),
            [
                self.L @ self.eta >= self.c0 + self.c1 * self.t,
                cp.sum(self.eta) <= 1,
                self.G @ self.eta >= self.rhs,
            ],
        )


@functools.cache
def power_lp_problem(num_energy_users: int, num_info_users: int) -> PowerLP:
    """One compiled LP per size for the whole process."""
    return PowerLP(num_energy_users, num_info_users, num_energy_users + num_info_users)


@functools.cache
def power_sca_problem(num_energy_users: int, num_info_users: int) -> PowerSCA:
    return PowerSCA(num_energy_users, num_info_users, num_energy_users + num_info_users)


def inverse_eh(config: model.SwiptConfig, t: float) -> float:
    """f(t) = b + ln(t / P_max) / a (J): the inverse of the exponential approximation of the
    logistic EH model, Psi(Q) ~ P_max exp(a (Q - b)) (spec section 6)."""
    a, b, p_max = config.eh_parameters
    return b + math.log(t / p_max) / a


def lp_power(config: model.SwiptConfig, stats: model.SwiptStatistics, theta) -> PowerResult:
    """The exact power step (LP of spec 7.1) for one realisation."""
    lp = model.power_lp(config, stats, theta)
    eta, status = power_lp_problem(config.num_energy_users, config.num_info_users).solve(lp)
    return _result(config, lp, eta, status, "optimal")


def sca_power(
    config: model.SwiptConfig,
    stats: model.SwiptStatistics,
    theta,
    *,
    tol: float = 1e-3,
    max_iterations: int = 100,
) -> PowerResult:
    """Algorithm 1 as the paper runs it: SCA (P3.2) until |t_{i+1} - t_i| <= tol t_i.

    Starts from t_0 with f(t_0) = 0 (no energy), below every achievable level, so the
    iterates rise. ``history_j`` holds f(t_i) (J) per iteration.
    """
    lp = model.power_lp(config, stats, theta)
    a, b, p_max = config.eh_parameters
    prob = power_sca_problem(config.num_energy_users, config.num_info_users)
    prob.L.value = lp.L
    prob.G.value, prob.rhs.value = scaled_rows(lp)
    q_scale = float(lp.q_scale)
    prob.c1.value = 1.0 / (a * q_scale)
    t = p_max * math.exp(-a * b)  # f(t_0) = 0
    history = [inverse_eh(config, t)]
    eta, status, verdict = None, "not solved", "max_iterations"
    for _ in range(max_iterations):
        prob.c0.value = (inverse_eh(config, t) - 1.0 / a) / q_scale
        ok, status = solve_problem(prob.problem, SOLVERS)
        if not ok or prob.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            eta = None
            break
        eta = clean(prob.eta.value)
        t_new = float(prob.t.value) * t
        if not t_new > 0:  # cannot happen from below; guards the logarithm
            eta, status = None, f"{status} (non-positive t)"
            break
        history.append(inverse_eh(config, t_new))
        done = abs(t_new - t) <= tol * t
        t = t_new
        if done:
            verdict = "converged"
            break
    res = _result(config, lp, eta, status, verdict)
    res.history_j = history
    return res


def _result(config, lp: model.PowerLP, eta, status: str, verdict: str) -> PowerResult:
    if eta is None:
        kind = "infeasible" if status.endswith(cp.INFEASIBLE) else "solver_error"
        eta = model.equal_power(config)
        return PowerResult(eta, kind, status, float(np.min(lp.L @ eta) * lp.q_scale))
    return PowerResult(eta, verdict, status, float(np.min(lp.L @ eta) * lp.q_scale))
