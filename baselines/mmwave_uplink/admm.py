r"""SIMin fraction transform + ADMM theta-step (spec 6.1, Algorithm 2).

The exact forms of the paper's Theorem 1 and ADMM updates are not recoverable (spec 11.1);
this follows the spec's reconstruction.

SIMin transform (27)-(28): for :math:`A_k, B_k > 0`,
:math:`A/B = \min_{y > 1/(2\sqrt B)} A y^2 / (2y\sqrt B - 1)`, attained at
:math:`y^\star = 1/\sqrt B` (32). For (25), :math:`A_k(v) = \bar\gamma_k(v^HC_kv + c_k)` and
:math:`\sqrt{B_k(v)} = |a_{kk}^Hv|`, replaced by its linear minorant
:math:`\mathrm{Re}\{e^{-j\varphi_k}a_{kk}^Hv\}` with :math:`\varphi_k = \arg(a_{kk}^Hz)` at the
current point; every term is then quadratic-over-affine, convex in v (29)-(31).

ADMM (33)-(41) on the split v = z, z unit-modulus, penalty rho_A, dual lambda:

1. v-update (35)/(39): the convex problem

   .. math:: \min_v \sum_k\frac{\bar\gamma_k y_k^2(\|L_k^Hv\|^2 + c_k)}
             {2y_k\mathrm{Re}\{e^{-j\varphi_k}a_{kk}^Hv\} - 1}
             + \frac{\rho_A}{2}\|v - z + \lambda/\rho_A\|^2
             \quad\text{s.t. } |v_m|\le 1\ (38),

   with :math:`C_k = L_kL_k^H`, :math:`L_k = [\sqrt{p_j}a_{kj}]_{j\ne k}` (rank K - 1), built
   once per (M + 1, K) with cvxpy parameters (DPP): ``quad_over_lin`` of the stacked
   numerator over an auxiliary variable t_k tied to the affine denominator by an equality
   (``quad_over_lin`` with a parametrised affine denominator is not DPP), t_k >= 1e-9;
2. z-update (40)-(41): :math:`z = e^{j\arg(v + \lambda/\rho_A)}`;
3. dual update (37): :math:`\lambda \leftarrow \lambda + \rho_A(v - z)`;
4. y-update (42): the closed form (32) at z, and :math:`\varphi_k` recomputed (the paper's
   quasi-Newton step has the same fixed point).

Stop when :math:`\|v - z\|\le 10^{-4}\sqrt{M+1}` and (25) changed by less than 1e-4
relative, or after ``max_iterations``. [R] choices: the objective is divided by its value at
the starting point (so it is 1 there); :math:`\rho_A = 2/(M+1)` (the penalty of moving every
element by O(1) then matches the objective), doubled every 10 iterations in which the primal
residual did not halve; the step returns the iterate z with the lowest (25) (the ADMM on
this nonconvex set is not monotone). Subproblem solver: Clarabel, SCS as fallback; a failed
solve gives ``solver_error`` with the cvxpy status.
"""

from __future__ import annotations

import functools

import cvxpy as cp
import numpy as np

from baselines.cvx import solve_in_turn
from baselines.mmwave_uplink.reflection import ReflectionData, StepResult

DENOM_MIN = 1e-9


class SIMinSubproblem:
    """The v-update (39) for size n = M + 1 and K users, built once (DPP)."""

    SOLVERS = ("CLARABEL", "SCS")

    def __init__(self, n: int, num_users: int) -> None:
        K = num_users
        self.n, self.K = n, K
        self.v = cp.Variable(n, complex=True)
        self.t = cp.Variable(K)
        self.Lw = [cp.Parameter((K - 1, n), complex=True) for _ in range(K)] if K > 1 else []
        self.cw = [cp.Parameter(1, nonneg=True) for _ in range(K)]
        self.dc = [cp.Parameter(n, complex=True) for _ in range(K)]
        self.sr = cp.Parameter(nonneg=True)
        self.szl = cp.Parameter(n, complex=True)
        terms = []
        for k in range(K):
            x = cp.hstack([self.Lw[k] @ self.v, self.cw[k]]) if K > 1 else self.cw[k]
            terms.append(cp.quad_over_lin(x, self.t[k]))
        objective = cp.sum(cp.hstack(terms)) + cp.sum_squares(self.sr * self.v - self.szl)
        constraints = [self.t[k] == cp.real(self.dc[k] @ self.v) - 1 for k in range(K)]
        constraints += [self.t >= DENOM_MIN, cp.abs(self.v) <= 1]
        self.problem = cp.Problem(cp.Minimize(objective), constraints)

    def solve(self) -> tuple[np.ndarray | None, str]:
        """Solve with the current parameter values: (v or None, cvxpy status per solver)."""
        ok, statuses = solve_in_turn(
            self.problem, self.SOLVERS, ready=lambda: self.v.value is not None
        )
        if ok:
            return np.asarray(self.v.value, dtype=complex), statuses[-1]
        return None, "; ".join(statuses)


@functools.cache
def simin_subproblem(n: int, num_users: int) -> SIMinSubproblem:
    """One compiled subproblem per (M + 1, K) for the whole process."""
    return SIMinSubproblem(n, num_users)


class ADMMStep:
    """The SIMin-ADMM theta-step (Algorithm 2).

    Args:
        max_iterations: ADMM iterations (100).
        rho_scale: rho_A = rho_scale / (M + 1) (2).
        tol: residual and relative-objective tolerance (1e-4).
    """

    name = "admm"

    def __init__(
        self, max_iterations: int = 100, rho_scale: float = 2.0, tol: float = 1e-4
    ) -> None:
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if not (rho_scale > 0 and tol > 0):
            raise ValueError(f"rho_scale and tol must be > 0, got {rho_scale!r}, {tol!r}")
        self.max_iterations, self.rho_scale, self.tol = max_iterations, rho_scale, tol

    def __call__(
        self, data: ReflectionData, v0: np.ndarray, rng: np.random.Generator
    ) -> StepResult:
        n, K = data.size, len(data.power_w)
        sub = simin_subproblem(n, K)
        f0 = float(data.inverse_sinr_objective(v0))
        if not np.isfinite(f0) or f0 <= 0:
            return StepResult(v0, "converged", f"(25) is {f0} at the start: nothing to do")
        scale = 1.0 / f0
        p, gb, c = data.power_w, data.gamma_bar, data.noise_gain
        a_own = np.einsum("kkm->km", data.a)
        others = ~np.eye(K, dtype=bool)
        rho = self.rho_scale / n
        z, lam = v0.copy(), np.zeros(n, dtype=complex)
        best_v, best_f = v0, f0
        costs, previous, residuals = [f0], f0, []
        status = "max_iterations"
        for it in range(1, self.max_iterations + 1):
            s = a_own.conj() @ z
            y, phase = 1.0 / np.abs(s), np.exp(-1j * np.angle(s))
            weight = np.sqrt(gb * scale) * y
            for k in range(K):
                if K > 1:
                    rows = np.sqrt(p[others[k]])[:, None] * data.a[k, others[k]].conj()
                    sub.Lw[k].value = weight[k] * rows
                sub.cw[k].value = np.array([weight[k] * np.sqrt(c[k])])
                sub.dc[k].value = 2.0 * y[k] * phase[k] * a_own[k].conj()
            sub.sr.value = np.sqrt(rho / 2.0)
            sub.szl.value = np.sqrt(rho / 2.0) * (z - lam / rho)
            v, solver_status = sub.solve()
            if v is None:
                return StepResult(best_v, "solver_error", solver_status, costs)
            shifted = v + lam / rho
            mag = np.abs(shifted)
            z = np.where(mag > 0, shifted / np.where(mag > 0, mag, 1.0), z)
            lam = lam + rho * (v - z)
            f = float(data.inverse_sinr_objective(z))
            costs.append(f)
            if f < best_f:
                best_v, best_f = z, f
            residual = float(np.linalg.norm(v - z))
            residuals.append(residual)
            if residual <= self.tol * np.sqrt(n) and abs(f - previous) <= self.tol * previous:
                status = "converged"
                break
            if it % 10 == 0 and residual > 0.5 * residuals[it - 10]:
                rho *= 2.0
            previous = f
        return StepResult(best_v, status, "", costs)
