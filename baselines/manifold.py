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


def _inner(u: np.ndarray, v: np.ndarray, batch_ndim: int = 0) -> np.ndarray:
    """Re tr(u^H v), the real inner product of both manifolds' ambient space, per point of a
    batch (the leading ``batch_ndim`` axes)."""
    if batch_ndim == 0:
        return np.real(np.vdot(u, v))
    return np.real(u.conj() * v).sum(axis=tuple(range(batch_ndim, u.ndim)))


def _expand(a: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Per-point values ``a [B...]`` broadcast against points ``like [B..., *point]``."""
    return a.reshape(a.shape + (1,) * (like.ndim - a.ndim))


class ComplexCircle:
    """Product of unit circles; points are complex arrays of any shape."""

    @staticmethod
    def project(x: np.ndarray, z: np.ndarray, batch_ndim: int = 0) -> np.ndarray:
        """(20) P_x(z) = z - Re{z . x*} . x (elementwise, so batches need nothing)."""
        return z - np.real(z * np.conj(x)) * x

    @staticmethod
    def retract(x: np.ndarray, v: np.ndarray, batch_ndim: int = 0) -> np.ndarray:
        """(23) (x + v) / |x + v| elementwise."""
        y = x + v
        mag = np.abs(y)
        # A zero entry (v = -x exactly) has no direction; keep the old point there.
        return np.where(mag > 0, y / np.where(mag > 0, mag, 1.0), x)


class ComplexSphere:
    """Complex matrices of unit Frobenius norm."""

    @staticmethod
    def project(x: np.ndarray, z: np.ndarray, batch_ndim: int = 0) -> np.ndarray:
        """(15) P_X(Z) = Z - Re tr(X^H Z) X."""
        return z - _expand(_inner(x, z, batch_ndim), x) * x

    @staticmethod
    def retract(x: np.ndarray, v: np.ndarray, batch_ndim: int = 0) -> np.ndarray:
        """(17) (X + V) / ||X + V||_F."""
        y = x + v
        return y / _expand(np.sqrt(_inner(y, y, batch_ndim)), y)


@dataclass
class GCGResult:
    """Outcome of :func:`conjugate_gradient`.

    ``status``: ``"converged"`` (gradient norm below ``grad_tol``), ``"max_iterations"``, or
    ``"line_search_failed"`` (no Armijo step found: x is numerically stationary along d).
    From :func:`conjugate_gradient_batch` every field is per problem: ``x [B, ...]``, ``cost``,
    ``iterations``, ``status``, ``grad_norm`` arrays ``[B]`` and ``costs [B, T]`` (a finished
    problem repeats its last cost).
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

    This is :func:`conjugate_gradient_batch` on a batch of one problem.
    """
    res = conjugate_gradient_batch(
        manifold,
        lambda x: np.array([cost(x[0])]),
        lambda x: egrad(x[0])[None],
        x0[None],
        max_iterations=max_iterations,
        tau0=tau0,
        armijo_c=armijo_c,
        max_halvings=max_halvings,
        grad_tol=grad_tol,
    )
    return GCGResult(
        res.x[0],
        float(res.cost[0]),
        int(res.iterations[0]),
        str(res.status[0]),
        float(res.grad_norm[0]),
        [float(f) for f in res.costs[0, : int(res.iterations[0]) + 1]],
    )


def conjugate_gradient_batch(
    manifold: type[ComplexCircle] | type[ComplexSphere],
    cost: Callable[[np.ndarray], np.ndarray],
    egrad: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    max_iterations: int = 20,
    tau0: float = 1.0,
    armijo_c: float = 1e-4,
    max_halvings: int = 40,
    grad_tol: float = 1e-6,
) -> GCGResult:
    """:func:`conjugate_gradient` on B independent problems at once, in lockstep.

    ``x0 [B, ...]``; ``cost(x [B, ...]) -> [B]`` and ``egrad(x) -> [B, ...]`` evaluate every
    problem of the batch in one call (rows are independent). Each problem keeps its own
    step size, line search, direction and stopping rule, so its iterates are those of the
    single-problem algorithm; finished problems stay where they stopped while the others go
    on. The batch pays numpy's per-call overhead once per step instead of once per problem.
    """
    B = x0.shape[0]
    x = x0
    f = np.asarray(cost(x), dtype=float)
    g = manifold.project(x, egrad(x), 1)
    d = -g
    gg = _inner(g, g, 1)
    tau0 = np.full(B, float(tau0))
    costs = [f]
    status = np.full(B, "max_iterations", dtype=object)
    iterations = np.full(B, max_iterations)
    active = np.ones(B, dtype=bool)
    for it in range(1, max_iterations + 1):
        converged = active & (np.sqrt(gg) < grad_tol)
        if converged.any():
            status[converged], iterations[converged] = "converged", it - 1
            active &= ~converged
            if not active.any():
                break
        slope = _inner(g, d, 1)
        tau = tau0.copy()
        pending = active.copy()
        x_new, f_new = x, f
        for _ in range(max_halvings):
            trial = manifold.retract(x, _expand(tau, d) * d, 1)
            f_trial = np.asarray(cost(trial), dtype=float)
            accept = pending & (f_trial <= f + armijo_c * tau * slope)
            if accept.all():  # the common case, and always for a single problem
                x_new, f_new = trial, f_trial
            elif accept.any():
                x_new = np.where(_expand(accept, x), trial, x_new)
                f_new = np.where(accept, f_trial, f_new)
            pending &= ~accept
            if not pending.any():
                break
            tau[pending] *= 0.5
        step = active
        if pending.any():  # no Armijo step within max_halvings halvings
            status[pending], iterations[pending] = "line_search_failed", it - 1
            step = active & ~pending
            active = step
            if not step.any():
                break
        tau0 = np.where(step, np.where(tau == tau0, 2.0 * tau, tau), tau0)
        g_new = manifold.project(x_new, egrad(x_new), 1)
        g_old_t = manifold.project(x_new, g, 1)
        beta = np.maximum(0.0, _inner(g_new, g_new - g_old_t, 1) / np.where(step, gg, 1.0))
        d_new = -g_new + _expand(beta, d) * manifold.project(x_new, d, 1)
        restart = _inner(g_new, d_new, 1) >= 0  # not a descent direction
        if restart.any():
            d_new = np.where(_expand(restart, d), -g_new, d_new)
        if step.all():
            x, g, d, f, gg = x_new, g_new, d_new, f_new, _inner(g_new, g_new, 1)
        else:
            keep = _expand(step, x)
            x, g, d = np.where(keep, x_new, x), np.where(keep, g_new, g), np.where(keep, d_new, d)
            f = np.where(step, f_new, f)
            gg = np.where(step, _inner(g_new, g_new, 1), gg)
        costs.append(f)
    done = active & (np.sqrt(gg) < grad_tol)
    status[done] = "converged"
    return GCGResult(x, f, iterations, status, np.sqrt(gg), np.stack(costs, axis=1))
