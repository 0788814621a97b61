r"""AIF (Cao, Lv, Ni, PIMRC 2020; spec 004 section 7.5 from the author code ``Opt_1.m``).

WSR by fractional programming with closed-form updates:

1. alpha_k = gamma_k;
2. beta_k = sqrt(w~_k) x_kk / (sum_j |x_kj|^2 + 1), with w~_k = omega_k (1 + alpha_k);
3. W = (mu I + Hbar^H diag(|beta|^2) Hbar)^-1 Hbar^H diag(sqrt(w~) beta), mu >= 0 found by
   bisection so that ||W||_F^2 = P (mu = 0 when the unconstrained optimum is inside);
4. the phase step: with the quadratic transform, the FP surrogate in theta is
   2 Re{theta^H b} - theta^H A theta + const, solved through the Schur-complement SDP

   .. math:: \max_{f,\zeta\ge0}\ f-\textstyle\sum_m\zeta_m\quad\text{s.t.}\quad
             \begin{bmatrix}A+\mathrm{diag}(\zeta)&b\\ b^H&-f\end{bmatrix}\succeq0,

   (the Lagrangian dual of the unit-modulus QCQP) and theta = exp(j arg((A + diag zeta)^-1 b)).

Deviations, each documented here: channels are noise-normalised, so the author code's
bisection interval [1e-6, 50] for mu (tuned to its own scaling) is replaced by a bracket that
grows until it holds the root, with the bisection run to a relative power error of 1e-9; the
rounded theta is kept only when it does not lower the surrogate (the rounding of the dual
solution has no such guarantee), so each iteration does not decrease the FP surrogate; the
final W is scaled to full power (raising every SINR, as the env's codec does); with the
inter-IRS path, the phase step runs on theta_1 and theta_2 in turn (x = c + theta_b^T d). The
initial W is ZF, or MMSE when K exceeds rank(Hbar). Stop: relative WSR change <= 1e-2 after
at least 3 iterations (author code), or ``max_iterations``.

The SDP is built once per block size with cvxpy parameters (DPP) and shared by every AIF
instance; it is solved with CVXOPT (SCS as fallback); failures give status ``solver_error``
with the cvxpy status in the message.
"""

from __future__ import annotations

import functools
import math

import cvxpy as cp
import numpy as np

from baselines.core import Solution, Solver
from baselines.cvx import solve_in_turn
from baselines.multi_irs.alternating import phase_blocks
from irs_gym.models import multi_irs as model


class SchurPhaseSDP:
    """max f - sum(zeta) s.t. [[A + diag(zeta), b], [b^H, -f]] >= 0 (Hermitian), zeta >= 0.

    Built once per size with Hermitian/complex parameters (DPP). Solved by CVXOPT's interior
    point method: on these instances SCS needs thousands of iterations (15-90 s at n = 64)
    where CVXOPT takes about 1 s; SCS remains the fallback. The LMI is homogeneous in
    (A, b, zeta, f), so the data are scaled to unit size first and zeta is scaled back, which
    leaves (A + diag zeta)^-1 b, and so theta, unchanged.
    """

    SOLVERS = ("CVXOPT", "SCS")

    def __init__(self, n: int) -> None:
        self.n = n
        self.A = cp.Parameter((n, n), hermitian=True)
        self.b = cp.Parameter((n, 1), complex=True)
        self.zeta = cp.Variable(n, nonneg=True)
        self.f = cp.Variable((1, 1))
        lmi = cp.bmat([[self.A + cp.diag(self.zeta), self.b], [self.b.H, -self.f]])
        self.problem = cp.Problem(cp.Maximize(self.f[0, 0] - cp.sum(self.zeta)), [lmi >> 0])

    def solve(self, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, str, float]:
        """Returns (zeta or None, cvxpy status with the solver name, optimal value)."""
        scale = 1.0 / max(np.linalg.norm(A, 2), np.linalg.norm(b), 1e-300)
        self.A.value = scale * (A + A.conj().T) / 2
        self.b.value = scale * b[:, None]
        ok, statuses = solve_in_turn(
            self.problem, self.SOLVERS, ready=lambda: self.zeta.value is not None
        )
        if ok:
            zeta = np.maximum(self.zeta.value, 0.0) / scale
            return zeta, statuses[-1], float(self.problem.value) / scale
        return None, statuses[-1], float("nan")


@functools.cache
def schur_sdp(n: int) -> SchurPhaseSDP:
    """One compiled SDP per block size for the whole process (compilation dominates)."""
    return SchurPhaseSDP(n)


def bisect_power(
    hbar: np.ndarray, beta: np.ndarray, wt: np.ndarray, power: float, rel_tol: float = 1e-9
) -> tuple[np.ndarray, float]:
    """Step 3: W(mu) = (mu I + Hbar^H diag|beta|^2 Hbar)^-1 Hbar^H diag(sqrt(wt) beta).

    ||W(mu)||_F^2 decreases in mu, and as mu -> 0 it tends to the minimum-norm solution (the
    right-hand side lies in the range of the Gram matrix). If that one fits the budget, mu = 0;
    otherwise geometric bisection finds mu with P (1 - rel_tol) <= ||W||_F^2 <= P.
    """
    hH = np.conj(hbar.T)
    gram = hH @ (np.abs(beta)[:, None] ** 2 * hbar)
    rhs = hH * (np.sqrt(wt) * beta)
    eye = np.eye(gram.shape[0])

    def w_of(mu: float) -> np.ndarray:
        if mu == 0.0:
            return np.linalg.lstsq(gram, rhs, rcond=None)[0]
        return np.linalg.solve(gram + mu * eye, rhs)

    def excess(mu: float) -> float:
        return float(np.linalg.norm(w_of(mu)) ** 2) / power - 1.0

    if excess(0.0) <= 0:
        return w_of(0.0), 0.0
    hi = max(float(np.trace(gram).real) / gram.shape[0], 1e-300)
    while excess(hi) > 0:
        hi *= 4.0
    lo = hi
    while excess(lo) <= 0:
        lo /= 4.0
    for _ in range(200):
        if excess(hi) >= -rel_tol:
            break
        mid = math.sqrt(lo * hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    return w_of(hi), hi


def phase_qcqp(
    c: np.ndarray, d: np.ndarray, rho: np.ndarray, sw: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A, b of the surrogate 2 Re{theta^H b} - theta^H A theta for x_kj = c_kj + theta^T d_kj
    and quadratic-transform variables rho (sw = sqrt(w~))."""
    r2 = np.abs(rho) ** 2
    A = np.einsum("k,kjm,kjn->mn", r2, np.conj(d), d)
    b = np.einsum("k,km->m", sw * rho, np.conj(np.einsum("kkm->km", d)))
    b -= np.einsum("k,kj,kjm->m", r2, c, np.conj(d))
    return A, b


def surrogate(x: np.ndarray, rho: np.ndarray, alpha: np.ndarray, omega: np.ndarray) -> float:
    """The FP surrogate (Lagrangian dual + quadratic transform, natural log):
    sum_k omega_k (ln(1 + alpha_k) - alpha_k) + 2 Re(rho_k^* sw_k x_kk)
    - |rho_k|^2 (sum_j |x_kj|^2 + 1), sw = sqrt(omega (1 + alpha)). At alpha = gamma and the
    optimal rho it equals sum_k omega_k ln(1 + gamma_k)."""
    sw = np.sqrt(omega * (1.0 + alpha))
    quad = 2 * np.real(np.conj(rho) * sw * np.diagonal(x)) - np.abs(rho) ** 2 * (
        (np.abs(x) ** 2).sum(axis=-1) + 1.0
    )
    return float(np.sum(omega * (np.log1p(alpha) - alpha) + quad))


class AIF(Solver):
    """AIF benchmark for the WSR (spec 7.5). See the module docstring for the steps.

    Args:
        max_iterations: outer iteration cap (30).
        tol: relative WSR change that stops the loop (1e-2, author code).
        min_iterations: at least this many iterations (3, author code).
    """

    name = "aif"
    role = "benchmark"

    def __init__(
        self, max_iterations: int = 30, tol: float = 1e-2, min_iterations: int = 3
    ) -> None:
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        self.max_iterations, self.tol, self.min_iterations = max_iterations, tol, min_iterations
        #: FP surrogate after the W-step and after the phase step of each iteration (last solve)
        self.last_surrogates: list[float] = []

    def _solve(
        self,
        scenario: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rng: np.random.Generator,
    ) -> Solution:
        ch = model.normalized(config, scenario)
        power, omega = config.tx_power_w, config.weights_array
        M = config.total_elements
        theta = model.quantize_phases(np.exp(2j * np.pi * rng.random(M)), config.phase_levels)
        hbar = model.effective_channel(ch, theta)
        rank = np.linalg.matrix_rank(hbar)
        W = (model.zf_precoder if config.num_users <= rank else model.mmse_precoder)(hbar, power)

        def wsr(theta: np.ndarray, W: np.ndarray) -> tuple[float, np.ndarray]:
            x = model.effective_channel(ch, theta) @ W
            return float(np.sum(omega * np.log2(1 + model.sinr_from_gains(x)))), x

        value, x = wsr(theta, W)
        history = [value]
        self.last_surrogates = []
        status, message = "max_iterations", ""
        for it in range(1, self.max_iterations + 1):
            alpha = model.sinr_from_gains(x)  # step 1
            sw = np.sqrt(omega * (1.0 + alpha))
            beta = sw * np.diagonal(x) / ((np.abs(x) ** 2).sum(axis=-1) + 1.0)  # step 2
            hbar = model.effective_channel(ch, theta)
            W, _ = bisect_power(hbar, beta, sw**2, power)  # step 3
            x = hbar @ W
            self.last_surrogates.append(surrogate(x, beta, alpha, omega))
            rho = sw * np.diagonal(x) / ((np.abs(x) ** 2).sum(axis=-1) + 1.0)
            for block in phase_blocks(config):  # step 4
                sl = slice(None) if block is None else block
                c, d = model.affine_terms(ch, theta, W, block)
                A, b = phase_qcqp(c, d, rho, sw)
                zeta, sdp_status, _ = schur_sdp(A.shape[0]).solve(A, b)
                if zeta is None:
                    return Solution(
                        model.MultiIRSDecision(theta, model.scale_to_power(W, power)),
                        wsr(theta, W)[0],
                        "solver_error",
                        history,
                        message=f"Schur SDP: cvxpy status {sdp_status}",
                    )
                if not sdp_status.endswith(cp.OPTIMAL):
                    message = f"Schur SDP: cvxpy status {sdp_status} in iteration {it}"
                candidate = theta.copy()
                candidate[sl] = np.exp(1j * np.angle(np.linalg.solve(A + np.diag(zeta), b)))
                candidate = model.quantize_phases(candidate, config.phase_levels)
                x_new = model.effective_channel(ch, candidate) @ W
                if surrogate(x_new, rho, alpha, omega) >= surrogate(x, rho, alpha, omega):
                    theta, x = candidate, x_new
            self.last_surrogates.append(surrogate(x, rho, alpha, omega))
            previous = value
            value, x = wsr(theta, W)
            history.append(value)
            if it >= self.min_iterations and abs(value - previous) <= self.tol * abs(previous):
                status = "converged"
                break
        decision = model.MultiIRSDecision(theta, model.scale_to_power(W, power))
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, status, history, message=message)
