r"""CCMO: latency-residual maximisation on the complex circle manifold (spec 6.2, Algorithm 3).

(P5): maximise :math:`\sum_k\Delta_k(v)`, i.e. minimise :math:`f(v) = -v^HRv` over
:math:`\mathcal M = \{v\in\mathbb C^{M+1}: |v_m| = 1\}` (49)-(50), by Riemannian steepest
descent: Euclidean gradient :math:`\nabla f = -2Rv` (52), Riemannian gradient
:math:`\nabla f - \mathrm{Re}\{\nabla f\odot v^*\}\odot v` (53) (``ComplexCircle.project``),
step :math:`\bar v = v - \mu\,\mathrm{grad}f` (54), retraction :math:`\bar v\oslash|\bar v|`
(55) (``ComplexCircle.retract``).

Step size: the paper's constant :math:`\mu = 1/(2\lambda_{\max})` with
:math:`\lambda_{\max} = \|R\|_2` (the largest eigenvalue magnitude; spec 6.2 footnote).
The paper points to Manopt for this problem, and the spec allows Armijo backtracking or a
conjugate gradient: the default direction is the Riemannian conjugate gradient of
``baselines.manifold`` with Armijo backtracking from mu (see :class:`CCMOStep`); the
literal constant-step descent is ``method="steepest"``, with the [R] safeguard that a step
that would increase f is retried with mu halved. Either way f never increases. Stop when
:math:`\|\mathrm{grad}f\| < 10^{-6}\|\nabla f(v_0)\|` or after the iteration cap.
"""

from __future__ import annotations

import numpy as np

from baselines.manifold import ComplexCircle, conjugate_gradient
from baselines.mmwave_uplink.reflection import ReflectionData, StepResult


def cost(R: np.ndarray, v: np.ndarray) -> float:
    """f(v) = -v^H R v (49)."""
    return -float(np.real(np.vdot(v, R @ v)))


def euclidean_gradient(R: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(52) grad f = -2 R v (the Manopt convention 2 df/dv*)."""
    return -2.0 * (R @ v)


def riemannian_gradient(R: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(53) the projection of (52) onto the tangent space at v."""
    return ComplexCircle.project(v, euclidean_gradient(R, v))


class CCMOStep:
    """The CCMO theta-step (Algorithm 3).

    Args:
        method: ``"cg"`` (default): Riemannian conjugate gradient with Armijo backtracking
            (:func:`baselines.manifold.conjugate_gradient`, PR+ directions), the first trial
            step of every iteration being the paper's mu; ``"steepest"``: the paper's
            constant-step steepest descent (54). The constant step is safe but slow when one
            coordinate of R dominates (the direct path's entry v_{M+1} sets lambda_max while
            each IRS coordinate moves by O(1/M) per step): at the defaults it barely moves
            in 500 steps, where CG reaches the optimum of (P5) in about 100 (measured).
        max_iterations: iterations (300 for ``"cg"``, 500 for ``"steepest"``; ``None``).
        grad_tol: stop when ||grad f|| < grad_tol ||nabla f(v0)|| (1e-6).
        max_halvings: step halvings allowed per iteration (30; CG: 40).
    """

    name = "ccmo"
    METHODS = ("cg", "steepest")

    def __init__(
        self,
        method: str = "cg",
        max_iterations: int | None = None,
        grad_tol: float = 1e-6,
        max_halvings: int = 30,
    ) -> None:
        if method not in self.METHODS:
            raise ValueError(f"method must be one of {self.METHODS}, got {method!r}")
        if max_iterations is None:
            max_iterations = 300 if method == "cg" else 500
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if not grad_tol > 0:
            raise ValueError(f"grad_tol must be > 0, got {grad_tol!r}")
        self.method, self.max_iterations = method, max_iterations
        self.grad_tol, self.max_halvings = grad_tol, max_halvings

    def __call__(
        self, data: ReflectionData, v0: np.ndarray, rng: np.random.Generator
    ) -> StepResult:
        return self.maximize(data.residual_matrix(), v0)

    def maximize(self, R: np.ndarray, v0: np.ndarray) -> StepResult:
        """Minimise -v^H R v on the complex circle from ``v0`` (unit modulus)."""
        lam = float(np.max(np.abs(np.linalg.eigvalsh(R))))
        if lam == 0.0:
            return StepResult(v0, "converged", "R = 0: every v is optimal", [0.0])
        mu = 1.0 / (2.0 * lam)
        tol = self.grad_tol * float(np.linalg.norm(euclidean_gradient(R, v0)))
        if self.method == "cg":
            out = conjugate_gradient(
                ComplexCircle,
                lambda v: cost(R, v),
                lambda v: euclidean_gradient(R, v),
                v0,
                max_iterations=self.max_iterations,
                tau0=mu,
                grad_tol=tol,
                max_halvings=40,
            )
            status = "max_iterations" if out.status == "max_iterations" else "converged"
            return StepResult(out.x, status, out.status, out.costs)
        return self._steepest(R, v0, mu, tol)

    def _steepest(self, R: np.ndarray, v0: np.ndarray, mu: float, tol: float) -> StepResult:
        v, f = v0, cost(R, v0)
        costs = [f]
        for _ in range(self.max_iterations):
            rgrad = riemannian_gradient(R, v)
            if np.linalg.norm(rgrad) < tol:
                return StepResult(v, "converged", "", costs)
            step = mu
            for _ in range(self.max_halvings):
                v_new = ComplexCircle.retract(v, -step * rgrad)
                f_new = cost(R, v_new)
                if f_new <= f:
                    break
                step *= 0.5
            else:
                return StepResult(v, "converged", "no decreasing step: stationary", costs)
            v, f = v_new, f_new
            costs.append(f)
        return StepResult(v, "max_iterations", "", costs)
