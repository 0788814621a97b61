r"""SOCP-SDR (Kai, Ding, Huang, GLOBECOM 2020; spec 004 section 7.6): weighted max-min rate.

Alternates, until the relative change of the min weighted SINR is below ``tol`` (1e-3) or
after ``max_iterations`` (20):

* **W-step (SOCP bisection).** For a target t, the SINR constraints
  :math:`\omega_k\gamma_k\ge t` are, with :math:`\mathrm{Im}(\bar h_k^Hw_k)=0`,
  :math:`\sqrt{1+\omega_k/t}\,\mathrm{Re}(\bar h_k^Hw_k)\ge\|[\bar h_k^HW,\ 1]\|_2`
  (noise 1). We solve the minimum-power version (min ||W||_F under those cones), which is
  feasible within the budget iff its value is <= sqrt(P), and bisect t.
* **theta-step (SDR bisection + Gaussian randomisation).** With v = [theta_b; 1] and
  x_kj = c_kj + theta_b^T d_kj = v^T e_kj, |x_kj|^2 = tr(R_kj V) for R_kj = conj(e_kj) e_kj^T
  and V = v v^H. Relaxing rank(V) = 1, the target t is feasible if some V >= 0 with
  diag(V) = 1 has tr(R_kk V) >= (t / omega_k) (sum_{j != k} tr(R_kj V) + 1). Each test is the
  max-slack SDP max s s.t. tr(Q_k V) - r_k >= s (always solvable; feasible iff s >= 0), with
  Q_k = R_kk - (t/omega_k) sum_{j!=k} R_kj and r_k = t / omega_k. From the V of the largest
  feasible t, ``randomizations`` (100 000, spec) candidates r ~ CN(0, V) give
  theta = exp(j (arg r_m - arg r_{M+1})) (quantised when Q > 0); the best min weighted SINR
  among them and the current theta is kept (keeping the current one makes the step
  monotone; the paper keeps the best candidate).

Both problems are built once per size with cvxpy parameters (DPP). The SOCP is solved by
Clarabel, the SDP by SCS (CVXOPT as fallback); each row of the SDP is scaled to unit size.
Bisections stop at a relative gap of ``bisection_tol`` (1e-2). The SDR upper bound t_SDR of
the last theta-step is kept in ``last_sdr_bound`` (with ``last_candidates`` the candidates'
min weighted SINRs) for inspection. Solver failures give status ``solver_error``.
"""

from __future__ import annotations

import functools
import math

import cvxpy as cp
import numpy as np

from baselines.core import Solution, Solver
from baselines.cvx import DECIDED, OPTIMAL, solve_in_turn
from baselines.multi_irs.alternating import phase_blocks
from irs_gym.models import multi_irs as model

#: The theta-step's bracket on the weighted SINR level stops growing here (a relaxation that
#: stays feasible this far up means a broken solve).
MAX_SINR_BRACKET = 1e30


def _solve(problem: cp.Problem, solvers: tuple[str, ...]) -> tuple[bool, str]:
    """(a solution is available, the status): optimal (or inaccurate) from this very solve,
    never a previous solve's values left behind by a solver error."""
    ok, statuses = solve_in_turn(problem, solvers, accept=DECIDED)
    return ok and problem.status in OPTIMAL, statuses[-1]


class MinPowerSOCP:
    """min ||W||_F s.t. sqrt(1 + omega_k/t) Re(h_k^H w_k) >= ||[h_k^H W, 1]||, Im(h_k^H w_k) = 0."""

    def __init__(self, n_t: int, K: int) -> None:
        self.hbar = cp.Parameter((K, n_t), complex=True)
        self.scaled = cp.Parameter((K, n_t), complex=True)  # sqrt(1 + omega_k/t) hbar_k
        self.W = cp.Variable((n_t, K), complex=True)
        cons = []
        for k in range(K):
            gains = self.hbar[k, :] @ self.W
            cons += [
                cp.real(self.scaled[k, :] @ self.W[:, k]) >= cp.norm(cp.hstack([gains, 1.0])),
                cp.imag(self.hbar[k, :] @ self.W[:, k]) == 0,
            ]
        self.problem = cp.Problem(cp.Minimize(cp.norm(self.W, "fro")), cons)

    def min_power_w(self, hbar: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray | None, str]:
        """W of least power meeting gamma_k >= targets_k, or None if none exists."""
        self.hbar.value = hbar
        self.scaled.value = np.sqrt(1.0 + 1.0 / targets)[:, None] * hbar
        ok, status = _solve(self.problem, ("CLARABEL", "SCS"))
        if ok:
            return self.W.value, status
        return None, status


class SlackSDR:
    """max s s.t. V >= 0 (Hermitian), diag(V) = 1, tr(Q_k V) - r_k >= s for every k."""

    def __init__(self, n: int, K: int) -> None:
        self.Q = [cp.Parameter((n, n), hermitian=True) for _ in range(K)]
        self.r = cp.Parameter(K)
        self.V = cp.Variable((n, n), hermitian=True)
        self.s = cp.Variable()
        cons = [self.V >> 0, cp.real(cp.diag(self.V)) == 1]
        cons += [cp.real(cp.trace(self.Q[k] @ self.V)) - self.r[k] >= self.s for k in range(K)]
        self.problem = cp.Problem(cp.Maximize(self.s), cons)

    def test(self, Q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray | None, float, str]:
        """(V, slack, status); rows are scaled to unit size first (feasibility unchanged)."""
        scales = np.array(
            [1.0 / max(np.linalg.norm(Q[k], 2), abs(r[k]), 1e-300) for k in range(len(self.Q))]
        )
        for k, param in enumerate(self.Q):
            param.value = scales[k] * (Q[k] + Q[k].conj().T) / 2
        self.r.value = scales * r
        ok, status = _solve(self.problem, ("SCS", "CVXOPT"))
        if ok:
            return self.V.value, float(self.s.value), status
        return None, float("nan"), status


@functools.cache
def min_power_socp(n_t: int, K: int) -> MinPowerSOCP:
    return MinPowerSOCP(n_t, K)


@functools.cache
def slack_sdr(n: int, K: int) -> SlackSDR:
    return SlackSDR(n, K)


def min_weighted_sinr(x: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """min_k omega_k gamma_k for gain matrices ``x [..., K, K]``."""
    return np.min(omega * model.sinr_from_gains(x), axis=-1)


class SocpSdr(Solver):
    """SOCP-SDR benchmark for the min-rate objective (see the module docstring).

    Args:
        randomizations: Gaussian randomisation candidates per theta-step (100 000, spec).
        max_iterations: outer iterations (20); tol: relative change that stops (1e-3).
        bisection_tol: relative gap at which a bisection stops (1e-2).
    """

    name = "socp_sdr"
    role = "benchmark"

    def __init__(
        self,
        randomizations: int = 100_000,
        max_iterations: int = 20,
        tol: float = 1e-3,
        bisection_tol: float = 1e-2,
    ) -> None:
        for field, v in (("randomizations", randomizations), ("max_iterations", max_iterations)):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{field} must be an integer >= 1, got {v!r}")
        if not (0 < bisection_tol < 1 and tol > 0):
            raise ValueError(
                f"bisection_tol must be in (0, 1) and tol > 0, got {bisection_tol}, {tol}"
            )
        self.randomizations, self.max_iterations = randomizations, max_iterations
        self.tol, self.bisection_tol = tol, bisection_tol
        self.last_sdr_bound = float("nan")
        self.last_candidates = np.empty(0)

    # W-step -----------------------------------------------------------------------------
    def _w_step(
        self, hbar: np.ndarray, W: np.ndarray, omega: np.ndarray, power: float
    ) -> tuple[np.ndarray, str]:
        socp = min_power_socp(*hbar.shape[::-1])
        lo = float(min_weighted_sinr(hbar @ W, omega))
        # no user can beat its single-user SNR with the whole budget
        hi = float(np.min(omega * power * np.sum(np.abs(hbar) ** 2, axis=-1)))
        best, status = W, "kept"
        while hi - lo > self.bisection_tol * hi:
            t = 0.5 * (lo + hi)
            W_t, status = socp.min_power_w(hbar, np.full(len(omega), t) / omega)
            if W_t is not None and np.linalg.norm(W_t) ** 2 <= power:
                lo, best = t, W_t
            elif W_t is None and not status.endswith(cp.INFEASIBLE):
                raise ArithmeticError(f"W-step SOCP: cvxpy status {status}")
            else:
                hi = t
        return model.scale_to_power(best, power), status

    # theta-step -------------------------------------------------------------------------
    def _theta_step(
        self,
        ch: model.NormalizedChannels,
        theta: np.ndarray,
        W: np.ndarray,
        block: slice | None,
        omega: np.ndarray,
        levels: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        c, d = model.affine_terms(ch, theta, W, block)
        sl = slice(None) if block is None else block
        K = len(omega)
        e = np.concatenate([d, c[..., None]], axis=-1)  # [K, K, M_b + 1]
        R = np.einsum("kjm,kjn->kjmn", np.conj(e), e)
        signal = R[np.arange(K), np.arange(K)]
        interference = R.sum(axis=1) - signal

        def gains(theta_b: np.ndarray) -> np.ndarray:
            return c + np.einsum("kjm,...m->...kj", d, theta_b)

        lo = float(min_weighted_sinr(gains(theta[sl]), omega))
        hi = max(2.0 * lo, 1e-6)
        sdr = slack_sdr(e.shape[-1], K)
        V_best = None
        while True:  # grow the bracket until the relaxation is infeasible
            t_over = np.full(K, hi) / omega
            V, slack, status = sdr.test(signal - t_over[:, None, None] * interference, t_over)
            if V is None:
                raise ArithmeticError(f"theta-step SDR: cvxpy status {status}")
            if slack < 0:
                break
            if not hi < MAX_SINR_BRACKET:
                raise ArithmeticError(f"theta-step SDR: no infeasible level below {hi:.3g}")
            lo, hi, V_best = hi, 2.0 * hi, V
        while hi - lo > self.bisection_tol * hi:
            t = 0.5 * (lo + hi)
            t_over = np.full(K, t) / omega
            V, slack, status = sdr.test(signal - t_over[:, None, None] * interference, t_over)
            if V is None:
                raise ArithmeticError(f"theta-step SDR: cvxpy status {status}")
            if slack >= 0:
                lo, V_best = t, V
            else:
                hi = t
        self.last_sdr_bound = hi
        if V_best is None:  # the current theta already sits at the relaxation's level
            self.last_candidates = np.empty(0)
            return theta
        eigval, eigvec = np.linalg.eigh((V_best + V_best.conj().T) / 2)
        factor = eigvec * np.sqrt(np.maximum(eigval, 0.0))
        best_theta = theta[sl]
        best_value = float(min_weighted_sinr(gains(best_theta), omega))
        values = []
        for start in range(0, self.randomizations, 10_000):
            n = min(10_000, self.randomizations - start)
            z = (
                rng.standard_normal((n, factor.shape[1]))
                + 1j * rng.standard_normal((n, factor.shape[1]))
            ) / math.sqrt(2)
            r = z @ factor.T
            cand = model.quantize_phases(
                np.exp(1j * (np.angle(r[:, :-1]) - np.angle(r[:, -1:]))), levels
            )
            value = min_weighted_sinr(gains(cand), omega)
            values.append(value)
            i = int(np.argmax(value))
            if value[i] > best_value:
                best_theta, best_value = cand[i], float(value[i])
        self.last_candidates = np.concatenate(values)
        out = theta.copy()
        out[sl] = best_theta
        return out

    def _solve(
        self,
        scenario: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rng: np.random.Generator,
    ) -> Solution:
        ch = model.normalized(config, scenario)
        power, omega = config.tx_power_w, config.weights_array
        theta = model.quantize_phases(np.ones(config.total_elements, complex), config.phase_levels)
        hbar = model.effective_channel(ch, theta)
        W = model.mmse_precoder(hbar, power)

        def min_rate(theta: np.ndarray, W: np.ndarray) -> tuple[float, float]:
            """(min_k omega_k R_k, min_k omega_k gamma_k)."""
            gamma = model.sinr_from_gains(model.effective_channel(ch, theta) @ W)
            return float(np.min(omega * np.log2(1 + gamma))), float(np.min(omega * gamma))

        value, level = min_rate(theta, W)
        history, status, message = [value], "max_iterations", ""
        try:
            for _ in range(self.max_iterations):
                W, _ = self._w_step(model.effective_channel(ch, theta), W, omega, power)
                for block in phase_blocks(config):
                    theta = self._theta_step(ch, theta, W, block, omega, config.phase_levels, rng)
                previous = level
                value, level = min_rate(theta, W)
                history.append(value)
                if abs(level - previous) <= self.tol * max(level, 1e-300):
                    status = "converged"
                    break
        except ArithmeticError as exc:
            status, message = "solver_error", str(exc)
        decision = model.MultiIRSDecision(theta, W)
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, status, history, message=message)
