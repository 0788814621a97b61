r"""The lifted SDP phase step of model 003 (spec 7.2, Algorithm 2), for fixed powers.

With :math:`\mathbf V=\boldsymbol\theta\boldsymbol\theta^H` (V >= 0, diag V = 1) every
:math:`\bar Q_\ell` is :math:`E_0[(AZ_{\ell\ell}+r_\ell)\sum_k\eta^I_k+\sum_{\ell'}\eta^E_{\ell'}
\mathrm{Num}_{\ell\ell'}(\mathbf Z)/\mathrm{Den}_{\ell'}(\mathbf Z)]` with
:math:`\mathbf Z=\mathbf B^H\mathbf V\mathbf B` (:mod:`baselines.swipt.lifted`). Iteration i,
from :math:`\mathbf V^{(i)}`:

1. **SCA** (62): every :math:`|x|^2` in Num (convex) is replaced by its tangent minorant
   :math:`2\mathrm{Re}\{x_i^*x\}-|x_i|^2`, giving the affine :math:`\mathrm{Num}^{(i)}`;
2. **quadratic transform** (55)-(57): :math:`\mathrm{Num}^{(i)}/\mathrm{Den}\ge
   2y\sqrt{\mathrm{Num}^{(i)}}-y^2\mathrm{Den}` with the closed-form
   :math:`y=\sqrt{\mathrm{Num}^{(i)}(\mathbf V^{(i)})}/\mathrm{Den}(\mathbf V^{(i)})`;
3. **rank-one penalty** (64)-(66): with diag V = 1,
   :math:`\|\mathbf V\|_*-\|\mathbf V\|_2=N-\lambda_{\max}(\mathbf V)`, linearised by
   :math:`\lambda_{\max}(\mathbf V)\ge\mathbf u^H\mathbf V\mathbf u` (u the unit principal
   eigenvector of :math:`\mathbf V^{(i)}`);
4. the convex SDP (67):

   .. math:: \max_{\mathbf V\succeq0,\ \mathrm{diag}\mathbf V=1,\ s}\ s-\tfrac1\mu
             \Big(1-\frac{\mathbf u^H\mathbf V\mathbf u}{N}\Big)\quad\text{s.t.}\quad
             \text{lin}_\ell(\mathbf Z)+\textstyle\sum_{\ell'}2\eta_{\ell'}y_{\ell\ell'}
             \sqrt{\mathrm{Num}^{(i)}_{\ell\ell'}(\mathbf Z)}\ge s\ \ \forall\ell,

   where lin_l collects :math:`(AZ_{\ell\ell}+r_\ell)\sum_k\eta^I_k-\sum_{\ell'}
   \eta_{\ell'}y^2_{\ell\ell'}\mathrm{Den}_{\ell'}(\mathbf Z)`.

Every surrogate is a lower bound of the lifted Q_bar, tight at V^(i) (a minorise-maximise
step). Double loop: inner SCA iterations until the relative change of s is below
``inner_tol`` (1e-3, at most 30); outer mu <- 0.2 mu from mu_0 = 1 until
N - lambda_max(V) <= 1e-5 N (at most 15). "The scaled problem" of the spec is read as: the
energies divided by the starting min Q_bar (so s ~ 1) and the rank gap divided by N; with the
gap in absolute terms the penalty would act as a proximal term that slows every step
~N-fold. theta is recovered as exp(j arg u). Every SDP's principal eigenvector is rounded to
a candidate theta; the step returns the best candidate by the true min Q_bar, never worse
than its starting theta, so BCD stays monotone.

DPP: Z enters through the variables Y = V [B_hat, u] and Z = B_hat^H Y, so the
scenario-dependent B_hat and u are parameters multiplying variables, and every
iteration-dependent coefficient multiplies a variable: the square roots are written
:math:`T_{\ell\ell'}\le\sqrt{\mathrm{Num}^{(i)}/\mathrm{Num}(\mathbf V^{(i)})}` (arguments
normalised to 1 at V^(i)) with the weights :math:`2\eta y\sqrt{\mathrm{Num}(\mathbf V^{(i)})}`
on T, and every row l is divided by its value at V^(i). Without these normalisations SCS
needs its full 100 000 iterations (a stream with eta = 0 would give a degenerate sqrt(0)
cone). The problem is built once per (N, K_E) and solved by SCS, warm-started (Clarabel as
fallback, far slower for N >= 36). Scaling: :math:`\hat{\mathbf b}_\ell=\mathbf b_\ell/
(N\max_n|b_{\ell n}|)` (so :math:`|\hat Z|\le1`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from baselines.swipt.lifted import EnergyForm
from baselines.swipt.power import solve_problem

SOLVERS = ("SCS", "CLARABEL")


class LiftedPhaseSDP:
    """The SDP (67) for N elements and K EUs, with parameters (see the module docstring):

    ``B`` ``[N, K + 1]`` (the scaled b_hat columns, then u), ``u_mu`` = u / mu,
    ``inv_mu`` = 1 / mu, ``C`` ``[K*K, K*K]`` and ``c0`` ``[K*K]`` (the sqrt arguments
    Re(C vec Z) + c0 = Num^(i)_ll' / Num_ll'(V^(i)), row l*K + l', so each is 1 at V^(i)),
    ``m`` ``[K, K]`` (their weights 2 eta_l' y_ll' sqrt(Num_ll'(V^(i))), through the variables
    T_ll' <= sqrt(.)), ``G`` ``[K, K*K]`` and ``g0`` ``[K]`` (the linear parts).
    ``vec`` is row-major: entry (a, b) of Z is ``a * K + b``. Row l of the energy
    constraints is divided by its value at V^(i) (``row`` = the inverse scales, multiplying
    s), so every row is O(1) whatever the spread of the EUs' energies.
    """

    def __init__(self, n: int, k: int) -> None:
        self.n, self.k = n, k
        self.B = cp.Parameter((n, k + 1), complex=True)
        self.u_mu = cp.Parameter(n, complex=True)
        self.inv_mu = cp.Parameter(nonneg=True)
        self.C = cp.Parameter((k * k, k * k), complex=True)
        self.c0 = cp.Parameter(k * k)
        self.G = cp.Parameter((k, k * k), complex=True)
        self.g0 = cp.Parameter(k)
        self.row = cp.Parameter(k, nonneg=True)
        self.m = cp.Parameter((k, k), nonneg=True)
        self.V = cp.Variable((n, n), hermitian=True)
        self.Y = cp.Variable((n, k + 1), complex=True)
        self.Z = cp.Variable((k, k), complex=True)
        self.T = cp.Variable((k, k))
        self.s = cp.Variable()
        z = cp.vec(self.Z, order="C")
        roots = cp.reshape(cp.sqrt(cp.real(self.C @ z) + self.c0), (k, k), order="C")
        lhs = cp.real(self.G @ z) + self.g0 + cp.sum(cp.multiply(self.m, self.T), axis=1)
        penalty = cp.real(self.u_mu.H @ self.Y[:, k]) - n * self.inv_mu
        self.problem = cp.Problem(
            cp.Maximize(self.s + penalty),
            [
                self.V >> 0,
                cp.real(cp.diag(self.V)) == 1,
                self.Y == self.V @ self.B,
                self.Z == self.B[:, :k].H @ self.Y[:, :k],
                self.T <= roots,
                lhs >= cp.multiply(self.row, self.s),
            ],
        )


@functools.cache
def lifted_sdp(n: int, k: int) -> LiftedPhaseSDP:
    """One compiled SDP per (N, K_E) for the whole process."""
    return LiftedPhaseSDP(n, k)


@dataclass
class PhaseResult:
    """Outcome of a phase step: ``theta``; ``status`` ("converged", "max_iterations" or
    "solver_error"); ``message``; ``history_j``: true min Q_bar (J) of the candidate after
    each SDP (the starting value first); ``surrogate_j``: the SDP's s (J) per solve;
    ``solver_statuses``: the cvxpy status of every solve ("SCS: optimal", ...)."""

    theta: np.ndarray
    status: str
    message: str
    history_j: list[float] = field(default_factory=list)
    surrogate_j: list[float] = field(default_factory=list)
    solver_statuses: list[str] = field(default_factory=list)


def principal(V: np.ndarray) -> tuple[float, np.ndarray]:
    """(lambda_max, unit eigenvector) of a Hermitian matrix."""
    w, U = np.linalg.eigh((V + V.conj().T) / 2)
    return float(w[-1]), U[:, -1]


def _surrogate_data(form: EnergyForm, Zhat, scale, eta_info_sum, eta_energy, q_scale):
    """(C, c0, G, g0, m, row) of iteration i in the scaled variables Z_hat (Z = D Z_hat D)."""
    K = len(form.r)
    A = form.A
    Z = scale[:, None] * Zhat * scale[None, :]
    num, den = form.num(Z), form.den(Z)  # [K, K], [K]
    y = np.sqrt(np.maximum(num, 0.0)) / den[None, :]
    x1 = A * Z + form.chi  # tangent points of |A Z + chi|^2 and |Z|^2
    # Num^(i)(Z) = 2 Re{omega^* Z_ll'} + c_a Z_ll + c_b Z_l'l' + const
    omega = form.p * A * x1 + form.q * A * A * Z + form.w
    const = (
        form.p * (2 * np.real(np.conj(x1) * form.chi) - np.abs(x1) ** 2)
        - form.q * A * A * np.abs(Z) ** 2
        + form.c_0
    )
    # Row l is divided by its value lhs_l(V^(i)) / q_scale = Q_l / Q_s (>= 1 at the start).
    row = np.maximum(form.q_per_e0(Z, eta_info_sum, eta_energy) / q_scale, 1e-12)
    # sqrt arguments normalised to 1 at V^(i); weights 2 eta y sqrt(Num) = 2 eta Num / Den
    norm = np.maximum(num, 1e-300)
    C = np.zeros((K, K, K, K), dtype=complex)  # [l, l', a, b]
    idx = np.arange(K)
    ll, mm = np.meshgrid(idx, idx, indexing="ij")
    C[ll, mm, ll, mm] += 2 * np.conj(omega)
    C[ll, mm, ll, ll] += form.c_a
    C[ll, mm, mm, mm] += form.c_b
    C *= (scale[:, None] * scale[None, :])[None, None] / norm[:, :, None, None]
    c0 = const / norm
    m = 2.0 * eta_energy[None, :] * y * np.sqrt(norm) / (q_scale * row[:, None])
    # lin_l = (A Z_ll + r_l) sum eta_I - sum_l' eta_l' y_ll'^2 k_d (A Z_l'l' + gamma_l')
    G = np.zeros((K, K, K))  # [l, a, b], real coefficients
    G[idx, idx, idx] += A * eta_info_sum
    quad = eta_energy[None, :] * y**2 * form.k_d  # [l, l']
    G[ll, mm, mm] -= quad * A
    G *= (scale[:, None] * scale[None, :])[None] / (q_scale * row[:, None, None])
    g0 = (form.r * eta_info_sum - quad @ form.gamma) / (q_scale * row)
    return C.reshape(K * K, K * K), c0.reshape(K * K), G.reshape(K, K * K), g0, m, 1.0 / row


def sdp_phase_step(
    form: EnergyForm,
    eta_info_sum: float,
    eta_energy: np.ndarray,
    theta0: np.ndarray,
    *,
    inner_tol: float = 1e-3,
    max_inner: int = 30,
    max_outer: int = 15,
    mu0: float = 1.0,
    mu_factor: float = 0.2,
    rank_tol: float = 1e-5,
    max_solves: int | None = None,
) -> PhaseResult:
    """Algorithm 2 from ``theta0`` (see the module docstring); ``max_solves`` caps the total
    number of SDPs (``None``: only the loop caps)."""
    N, K = form.b.shape[1], form.b.shape[0]
    scale = N * np.max(np.abs(form.b), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    b_hat = form.b / scale[:, None]

    def true_min(theta: np.ndarray) -> float:
        return float(np.min(form.q_bar_j(theta, eta_info_sum, eta_energy)))

    best_theta, best = theta0, true_min(theta0)
    q_scale = max(best / form.e0, 1e-300)
    V = np.outer(theta0, np.conj(theta0))
    history, surrogate, statuses = [best], [], []
    sdp = lifted_sdp(N, K)
    status, message, solves = "max_iterations", "", 0
    mu = mu0
    for _ in range(max_outer):
        s_old = None
        for _ in range(max_inner):
            if max_solves is not None and solves >= max_solves:
                break
            _, u = principal(V)
            Zhat = np.conj(b_hat) @ V @ b_hat.T
            C, c0, G, g0, m, row = _surrogate_data(
                form, Zhat, scale, eta_info_sum, eta_energy, q_scale
            )
            sdp.B.value = np.column_stack([b_hat.T, u])
            # the rank gap enters relative to N: (1/mu) (1 - u^H V u / N)
            sdp.u_mu.value = u / (mu * N)
            sdp.inv_mu.value = 1.0 / (mu * N)
            sdp.C.value, sdp.c0.value, sdp.G.value, sdp.g0.value = C, c0, G.astype(complex), g0
            sdp.m.value, sdp.row.value = m, row
            ok, cvx_status = solve_problem(sdp.problem, SOLVERS)
            statuses.append(cvx_status)
            solves += 1
            solved = ok and sdp.problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
            if not solved or sdp.V.value is None:
                return PhaseResult(
                    best_theta,
                    "solver_error",
                    f"phase SDP: cvxpy status {cvx_status}",
                    history,
                    surrogate,
                    statuses,
                )
            if sdp.problem.status != cp.OPTIMAL:
                message = f"phase SDP: cvxpy status {cvx_status}"
            V = (sdp.V.value + sdp.V.value.conj().T) / 2
            s = float(sdp.s.value)
            surrogate.append(s * q_scale * form.e0)
            candidate = np.exp(1j * np.angle(principal(V)[1]))
            value = true_min(candidate)
            if value > best:
                best_theta, best = candidate, value
            history.append(best)
            if s_old is not None and abs(s - s_old) <= inner_tol * max(abs(s), 1e-12):
                break
            s_old = s
        if max_solves is not None and solves >= max_solves:
            break
        if N - principal(V)[0] <= rank_tol * N:
            status = "converged"
            break
        mu *= mu_factor
    return PhaseResult(best_theta, status, message, history, surrogate, statuses)
