r"""Riemannian optimisation on the complex circle and the complex sphere.

Algorithm 1 of spec 004 (geometric conjugate gradient, GCG): Polak-Ribiere+ directions,
Armijo backtracking from ``tau0`` with halving, retraction by normalisation and vector
transport by tangent projection (Absil-Mahony-Sepulchre 2008; Boumal 2020). Gradients follow
the Manopt convention: the Euclidean gradient of a real cost f(z) is 2 df/dz*.

* :class:`ComplexCircle`: :math:`\{\theta\in\mathbb C^n: |\theta_i|=1\}` (spec (20), (23), (24)).
* :class:`ComplexSphere`: :math:`\{W\in\mathbb C^{n\times k}: \|W\|_F=1\}` (spec (15)-(18)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def _inner(u: np.ndarray, v: np.ndarray) -> float:
    """Re tr(u^H v), the real inner product of both manifolds' ambient space."""
    return float(np.real(np.vdot(u, v)))


class ComplexCircle:
    """Product of unit circles; points are complex arrays of any shape."""

    @staticmethod
    def project(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(20) P_x(z) = z - Re{z . x*} . x."""
        return z - np.real(z * np.conj(x)) * x

    @staticmethod
    def retract(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(23) (x + v) / |x + v| elementwise."""
        y = x + v
        mag = np.abs(y)
        # A zero entry (v = -x exactly) has no direction; keep the old point there.
        return np.where(mag > 0, y / np.where(mag > 0, mag, 1.0), x)


class ComplexSphere:
    """Complex matrices of unit Frobenius norm."""

    @staticmethod
    def project(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(15) P_X(Z) = Z - Re tr(X^H Z) X."""
        return z - _inner(x, z) * x

    @staticmethod
    def retract(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(17) (X + V) / ||X + V||_F."""
        y = x + v
        return y / np.linalg.norm(y)


@dataclass
class GCGResult:
    """Outcome of :func:`conjugate_gradient`.

    ``status``: ``"converged"`` (gradient norm below ``grad_tol``), ``"max_iterations"``, or
    ``"line_search_failed"`` (no Armijo step found: x is numerically stationary along d).
    """

    x: np.ndarray
    cost: float
    iterations: int
    status: str
    grad_norm: float
    costs: list[float] = field(default_factory=list)


def conjugate_gradient(
    manifold: type[ComplexCircle] | type[ComplexSphere],
    cost: Callable[[np.ndarray], float],
    egrad: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    max_iterations: int = 20,
    tau0: float = 1.0,
    armijo_c: float = 1e-4,
    max_halvings: int = 40,
    grad_tol: float = 1e-6,
) -> GCGResult:
    """Minimise ``cost`` on ``manifold`` from ``x0`` (Algorithm 1 of spec 004, section 5.4).

    The cost never increases: every accepted step satisfies the Armijo condition
    f(R_x(tau d)) <= f(x) + c tau Re<g, d> with Re<g, d> < 0.

    Initial step of the backtracking (our choice; the spec's tau_0 = 1 is [R]): ``tau0`` at the
    first iteration, then the last accepted step, doubled when it was accepted without
    halving (pymanopt's adaptive line search does the same). A fixed tau_0 = 1 ignores the
    scale of the gradient: on model 004's theta-steps it left the cost 10-15 % above
    pymanopt's after 20 iterations, and still above it after 500
    (``python -m benchmarks.manifold_speed``).
    """
    x = x0
    f = cost(x)
    g = manifold.project(x, egrad(x))
    d = -g
    gg = _inner(g, g)
    costs = [f]
    status = "max_iterations"
    it = 0
    for it in range(1, max_iterations + 1):
        if np.sqrt(gg) < grad_tol:
            status, it = "converged", it - 1
            break
        slope = _inner(g, d)
        tau = tau0
        for _ in range(max_halvings):
            x_new = manifold.retract(x, tau * d)
            f_new = cost(x_new)
            if f_new <= f + armijo_c * tau * slope:
                break
            tau *= 0.5
        else:
            status, it = "line_search_failed", it - 1
            break
        tau0 = 2.0 * tau if tau == tau0 else tau
        g_new = manifold.project(x_new, egrad(x_new))
        g_old_t = manifold.project(x_new, g)
        beta = max(0.0, _inner(g_new, g_new - g_old_t) / gg)
        d_new = -g_new + beta * manifold.project(x_new, d)
        if _inner(g_new, d_new) >= 0:  # not a descent direction: restart
            d_new = -g_new
        x, f, g, d = x_new, f_new, g_new, d_new
        gg = _inner(g, g)
        costs.append(f)
    else:
        if np.sqrt(gg) < grad_tol:
            status = "converged"
    return GCGResult(x, f, it, status, float(np.sqrt(gg)), costs)
