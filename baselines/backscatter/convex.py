r"""cvxpy routes of model 000's FP steps: the direct convex solves and the paper's SDRs.

Each problem is built once per size with ``cp.Parameter`` values (DPP) and cached for the
process; a solve sets the parameter values, tries the solvers in ``SOLVERS`` order and checks
``problem.status``. A failed solve raises :class:`StepFailure` (an ``ArithmeticError``, so a
solver turns it into status ``solver_error``) carrying the cvxpy status.

* Step 2 (spec 5.2, PB beam w), both for :math:`\min\ \mathbf w^H\mathbf Y\mathbf w-2\mathrm{Re}
  \{\mathbf w^H\mathbf x\}` s.t. :math:`\|\mathbf w\|^2\le P`:

  - :class:`WStepQP`: the direct convex (SOC) problem;
  - :class:`WStepSDP`: the paper's (P2), :math:`\hat{\mathbf W}\succeq0` of size M+1 with
    :math:`\mathrm{tr}(\mathbf W)\le P`, :math:`\hat W_{M+1,M+1}=1`, w recovered by Gaussian
    randomisation (the principal eigenvector is one of the candidates).

* (P3') (UE beam v of one candidate (UE, stream)), :math:`\max\ 2\mathrm{Re}\{\mathbf b^H
  \mathbf v\}-\|\mathbf R\mathbf v\|^2` with :math:`|v_l|\le a` (``"disc"``) or
  :math:`\|\mathbf v\|^2\le P_a` (``"ball"``):

  - :class:`VStepQP`: the direct convex problem;
  - :class:`VStepSDP`: the paper's SDR (C9-C11), :math:`[\hat{\mathbf V}]_{ll}\le1`,
    :math:`\hat V_{L+1,L+1}=1`, :math:`\hat{\mathbf V}\succeq0`, with Gaussian randomisation.

Data are scaled first (x = t u with t the power or amplitude bound, objective divided by its
magnitude), which leaves the maximiser unchanged.
"""

from __future__ import annotations

import functools

import cvxpy as cp
import numpy as np

from baselines.backscatter import qp
from baselines.cvx import solve_in_turn
from irs_gym.physics import complex_normal

SOLVERS = ("CLARABEL", "SCS")


class StepFailure(ArithmeticError):
    """A cvxpy solve of an FP step failed; the message holds the cvxpy status per solver."""


def _solve(problem: cp.Problem, variable: cp.Variable, name: str) -> np.ndarray:
    ok, statuses = solve_in_turn(problem, SOLVERS, ready=lambda: variable.value is not None)
    if ok:
        return np.asarray(variable.value)
    raise StepFailure(f"{name} failed: " + "; ".join(statuses))


def _scale(*magnitudes: float) -> float:
    return max(*magnitudes, 1e-300)


def _factor(Y: np.ndarray) -> np.ndarray:
    """R with R^H R = Y (Y Hermitian PSD)."""
    lam, V = np.linalg.eigh((Y + Y.conj().T) / 2)
    return np.sqrt(np.maximum(lam, 0.0))[:, None] * V.conj().T


def randomize(
    Z: np.ndarray,
    score,
    project,
    rng: np.random.Generator,
    draws: int,
) -> np.ndarray:
    """Rank-one recovery from a lifted solution Z ((n+1) x (n+1), last entry the constant 1).

    Candidates: the principal eigenvector and ``draws`` Gaussian draws xi ~ CN(0, Z), each
    normalised so that its last entry is 1 (x = xi[:n] / xi[n]) and ``project``-ed onto the
    feasible set; the one with the largest ``score`` wins. ``score`` and ``project`` act on
    ``[n, c]`` arrays of c candidates.
    """
    n = Z.shape[0] - 1
    lam, V = np.linalg.eigh((Z + Z.conj().T) / 2)
    root = V * np.sqrt(np.maximum(lam, 0.0))
    xi = np.concatenate([root[:, -1:], root @ complex_normal(rng, (n + 1, draws))], axis=1)
    ok = np.abs(xi[n]) > 1e-12 * np.maximum(np.abs(xi).max(axis=0), 1e-300)
    if not np.any(ok):
        raise StepFailure("Gaussian randomisation: no candidate with a nonzero last entry")
    cands = project(xi[:n, ok] / xi[n, ok])
    return cands[:, int(np.argmax(score(cands)))]


def _project_ball(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=0)
    return x / np.maximum(norm, 1.0)


def _project_disc(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.abs(x), 1.0)


class WStepQP:
    """min P||R u||^2 - 2 sqrt(P) Re(x^H u) s.t. ||u|| <= 1 (w = sqrt(P) u), direct SOCP."""

    def __init__(self, m: int) -> None:
        self.u = cp.Variable(m, complex=True)
        self.R = cp.Parameter((m, m), complex=True)
        self.c = cp.Parameter(m, complex=True)
        objective = cp.sum_squares(self.R @ self.u) - 2 * cp.real(self.c @ self.u)
        self.problem = cp.Problem(cp.Minimize(objective), [cp.norm(self.u, 2) <= 1])

    def solve(self, Y: np.ndarray, x: np.ndarray, power: float) -> np.ndarray:
        t = np.sqrt(power)
        s = _scale(power * np.linalg.norm(Y, 2), t * np.linalg.norm(x))
        self.R.value = _factor(Y) * (t / np.sqrt(s))
        self.c.value = np.conj(x) * (t / s)
        return t * _solve(self.problem, self.u, "w-step QP")


class WStepSDP:
    """Spec 5.2 (P2) in u = w / sqrt(P): min tr(Y' U) - tr(X' U_hat) s.t. tr(U) <= 1,
    U_hat[M, M] = 1, U_hat >= 0, with Y' = P Y / s and X' = [[0, x'], [x'^H, 0]],
    x' = sqrt(P) x / s."""

    def __init__(self, m: int) -> None:
        self.m = m
        self.Z = cp.Variable((m + 1, m + 1), hermitian=True)
        self.Y = cp.Parameter((m, m), hermitian=True)
        self.X = cp.Parameter((m + 1, m + 1), hermitian=True)
        objective = cp.real(cp.trace(self.Y @ self.Z[:m, :m])) - cp.real(cp.trace(self.X @ self.Z))
        constraints = [self.Z >> 0, cp.real(cp.trace(self.Z[:m, :m])) <= 1, self.Z[m, m] == 1]
        self.problem = cp.Problem(cp.Minimize(objective), constraints)

    def solve(
        self, Y: np.ndarray, x: np.ndarray, power: float, rng: np.random.Generator, draws: int
    ) -> np.ndarray:
        m, t = self.m, np.sqrt(power)
        s = _scale(power * np.linalg.norm(Y, 2), t * np.linalg.norm(x))
        Ys, xs = power * (Y + Y.conj().T) / (2 * s), t * x / s
        X = np.zeros((m + 1, m + 1), dtype=complex)
        X[:m, m], X[m, :m] = xs, xs.conj()
        self.Y.value, self.X.value = Ys, X
        Z = _solve(self.problem, self.Z, "w-step SDP (P2)")
        R = _factor(Ys)

        def score(u: np.ndarray) -> np.ndarray:
            return qp.value(R, xs, u.T)

        return t * randomize(Z, score, _project_ball, rng, draws)


class VStepQP:
    """max 2 t Re(b^H u) - t^2 ||R u||^2 over |u_l| <= 1 (disc) or ||u|| <= 1 (ball), v = t u,
    the direct convex problem of (P3')."""

    def __init__(self, r: int, n: int, kind: str) -> None:
        if kind not in ("disc", "ball"):
            raise ValueError(f"kind must be 'disc' or 'ball', got {kind!r}")
        self.u = cp.Variable(n, complex=True)
        self.R = cp.Parameter((r, n), complex=True)
        self.c = cp.Parameter(n, complex=True)
        objective = 2 * cp.real(self.c @ self.u) - cp.sum_squares(self.R @ self.u)
        bound = cp.abs(self.u) <= 1 if kind == "disc" else cp.norm(self.u, 2) <= 1
        self.problem = cp.Problem(cp.Maximize(objective), [bound])

    def solve(self, R: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
        s = _scale(t * t * np.linalg.norm(R, 2) ** 2, t * np.linalg.norm(b))
        self.R.value = R * (t / np.sqrt(s))
        self.c.value = np.conj(b) * (t / s)
        return t * _solve(self.problem, self.u, "(P3') QP")


class VStepSDP:
    """Spec 5.2 (P3') SDR in u = v / t: max tr(O' U_hat) - tr(Q' U) s.t. U_ll <= 1 (C9; the
    trace <= 1 for a ball), U_hat[n, n] = 1 (C10), U_hat >= 0 (C11), with
    O' = [[0, b'], [b'^H, 0]], b' = t b / s, Q' = t^2 R^H R / s."""

    def __init__(self, n: int, kind: str) -> None:
        if kind not in ("disc", "ball"):
            raise ValueError(f"kind must be 'disc' or 'ball', got {kind!r}")
        self.n, self.kind = n, kind
        self.Z = cp.Variable((n + 1, n + 1), hermitian=True)
        self.Q = cp.Parameter((n, n), hermitian=True)
        self.O = cp.Parameter((n + 1, n + 1), hermitian=True)
        objective = cp.real(cp.trace(self.O @ self.Z)) - cp.real(cp.trace(self.Q @ self.Z[:n, :n]))
        diag = cp.real(cp.diag(self.Z[:n, :n]))
        bound = diag <= 1 if kind == "disc" else cp.sum(diag) <= 1
        constraints = [self.Z >> 0, bound, self.Z[n, n] == 1]
        self.problem = cp.Problem(cp.Maximize(objective), constraints)

    def solve(
        self, R: np.ndarray, b: np.ndarray, t: float, rng: np.random.Generator, draws: int
    ) -> np.ndarray:
        n = self.n
        s = _scale(t * t * np.linalg.norm(R, 2) ** 2, t * np.linalg.norm(b))
        Rs, bs = R * (t / np.sqrt(s)), b * (t / s)
        O = np.zeros((n + 1, n + 1), dtype=complex)
        O[:n, n], O[n, :n] = bs, bs.conj()
        Q = Rs.conj().T @ Rs
        self.Q.value, self.O.value = (Q + Q.conj().T) / 2, O
        Z = _solve(self.problem, self.Z, "(P3') SDP")

        def score(u: np.ndarray) -> np.ndarray:
            return qp.value(Rs, bs, u.T)

        project = _project_disc if self.kind == "disc" else _project_ball
        return t * randomize(Z, score, project, rng, draws)


@functools.cache
def w_qp(m: int) -> WStepQP:
    """One compiled problem per size for the whole process."""
    return WStepQP(m)


@functools.cache
def w_sdp(m: int) -> WStepSDP:
    return WStepSDP(m)


@functools.cache
def v_qp(r: int, n: int, kind: str) -> VStepQP:
    return VStepQP(r, n, kind)


@functools.cache
def v_sdp(n: int, kind: str) -> VStepSDP:
    return VStepSDP(n, kind)
