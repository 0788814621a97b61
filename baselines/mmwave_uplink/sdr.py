r"""SDR theta-step: semidefinite relaxation of the latency-residual problem (spec section 7).

(P5) relaxed: :math:`\max_V\ \mathrm{tr}(RV)` s.t. :math:`V\succeq 0`,
:math:`V_{mm} = 1` (m = 1..M+1). It is solved through its Lagrangian dual
:math:`\min_\lambda \sum_m\lambda_m` s.t. :math:`\mathrm{diag}(\lambda) - R\succeq 0` (equal
optimal values; V is the dual variable of the LMI) [R]: with R as a Hermitian cvxpy
parameter this builds in seconds, whereas the primal's ``tr(R V)`` with a matrix parameter
makes cvxpy's DPP compilation take minutes (and tens of GB) at M = 200. The problem is built
once per size (DPP) and shared; R is scaled to unit spectral norm first (the solution V does
not change, the value is scaled back). Solver: CVXOPT's interior point method (accurate:
the value must bound CCMO's; about 0.7 s at M = 50 and 90 s at M = 200 on one core), SCS as
fallback (fast but with relative errors near 1e-4, and thousands of iterations on these
low-rank R); a failure gives ``solver_error`` with the cvxpy status.

Rank-one extraction [P]: the principal eigenvector e of V, :math:`v = e^{j\arg(e/e_{M+1})}`.
Optional Gaussian randomisation [R]: ``randomizations`` candidates
:math:`v = e^{j\arg(U\Lambda^{1/2}r)}`, r ~ CN(0, I), plus the rank-one one; the candidate
with the lowest total power after step (a) (the fixed point of (18) with the current u) wins.
"""

from __future__ import annotations

import functools

import cvxpy as cp
import numpy as np

from baselines.cvx import solve_in_turn
from baselines.mmwave_uplink.reflection import ReflectionData, StepResult
from irs_gym.physics import complex_normal


class SDRProblem:
    """min sum(lambda) s.t. diag(lambda) - R >= 0 (Hermitian), the dual of the SDR."""

    SOLVERS = ("CVXOPT", "SCS")

    def __init__(self, n: int) -> None:
        self.n = n
        self.R = cp.Parameter((n, n), hermitian=True)
        self.lam = cp.Variable(n)
        self.lmi = cp.diag(self.lam) - self.R >> 0
        self.problem = cp.Problem(cp.Minimize(cp.sum(self.lam)), [self.lmi])

    def solve(self, R: np.ndarray) -> tuple[np.ndarray | None, float, str]:
        """(V or None, optimal value tr(R V) in R's units, cvxpy status with the solver)."""
        norm = float(np.linalg.norm(R, 2))
        if norm == 0.0:
            return np.ones((self.n, self.n), dtype=complex), 0.0, "R = 0"
        self.R.value = (R + R.conj().T) / (2.0 * norm)
        ok, statuses = solve_in_turn(
            self.problem, self.SOLVERS, ready=lambda: self.lmi.dual_value is not None
        )
        if ok:
            V = np.asarray(self.lmi.dual_value, dtype=complex)
            return (V + V.conj().T) / 2.0, float(self.problem.value) * norm, statuses[-1]
        return None, float("nan"), "; ".join(statuses)


@functools.cache
def sdr_problem(n: int) -> SDRProblem:
    """One compiled SDP per size M + 1 for the whole process."""
    return SDRProblem(n)


class SDRStep:
    """The SDR theta-step.

    Args:
        randomizations: Gaussian randomisation candidates (0: rank-one extraction only, the
            paper's "rank-one approximation").
    """

    name = "sdr"

    def __init__(self, randomizations: int = 0) -> None:
        if not (isinstance(randomizations, int) and randomizations >= 0):
            raise ValueError(f"randomizations must be an integer >= 0, got {randomizations!r}")
        self.randomizations = randomizations

    def __call__(
        self, data: ReflectionData, v0: np.ndarray, rng: np.random.Generator
    ) -> StepResult:
        R = data.residual_matrix()
        V, value, status = sdr_problem(data.size).solve(R)
        if V is None:
            return StepResult(v0, "solver_error", f"SDR: cvxpy status {status}")
        eigvals, vecs = np.linalg.eigh(V)
        e = vecs[:, -1]
        v = np.exp(1j * np.angle(e * np.conj(e[-1])))
        if self.randomizations:
            root = vecs * np.sqrt(np.maximum(eigvals, 0.0))
            r = complex_normal(rng, (data.size, self.randomizations))
            candidates = np.concatenate([v[None], np.exp(1j * np.angle(root @ r)).T])
            totals = data.powers(candidates).sum(axis=-1)
            v = candidates[int(np.argmin(totals))]
        return StepResult(v, "converged", f"SDR: cvxpy status {status}", bound=value)
