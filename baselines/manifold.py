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
        lambda x, rows: np.array([cost(x[0])]),
        lambda x, rows: egrad(x[0])[None],
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


Rows = slice | np.ndarray


def _subset(rows: Rows, local: np.ndarray, n: int) -> Rows:
    """The batch rows of the ``local`` entries of ``rows`` (``rows`` itself when they are all
    of its ``n`` entries, so an all-rows slice stays a slice and the caller's data a view)."""
    if local.size == n:
        return rows
    return (np.arange(n) if isinstance(rows, slice) else rows)[local]


def conjugate_gradient_batch(
    manifold: type[ComplexCircle] | type[ComplexSphere],
    cost: Callable[[np.ndarray, Rows], np.ndarray],
    egrad: Callable[[np.ndarray, Rows], np.ndarray],
    x0: np.ndarray,
    *,
    max_iterations: int = 20,
    tau0: float = 1.0,
    armijo_c: float = 1e-4,
    max_halvings: int = 40,
    grad_tol: float = 1e-6,
) -> GCGResult:
    """:func:`conjugate_gradient` on B independent problems at once.

    ``x0 [B, ...]``. ``cost(x, rows) -> [n]`` and ``egrad(x, rows) -> [n, ...]`` evaluate the
    problems ``rows`` of the batch at the points ``x [n, ...]`` in one call: ``rows`` is
    ``slice(None)`` (all B problems, in order) or an integer index array, so indexing the
    problems' data with it (``c[rows]``) works either way and copies nothing in the first
    case. Each problem keeps its own step size, line search, direction and stopping rule, so
    its iterates are those of the single-problem algorithm. Only the problems that still
    need it are evaluated: a backtracking halving costs the rows whose trial step failed, and
    finished problems cost nothing, so the batch does about the arithmetic of the problems
    solved one by one while paying numpy's per-call overhead once per step for all of them.
    """
    B = x0.shape[0]
    everything = slice(None)
    f = np.asarray(cost(x0, everything), dtype=float)
    g = manifold.project(x0, egrad(x0, everything), 1)
    x = x0.astype(np.result_type(x0, g))  # a copy: the iterates are written in place
    d = -g
    gg = _inner(g, g, 1)
    tau0 = np.full(B, float(tau0))
    costs = [f.copy()]
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
        rows = everything if active.all() else np.flatnonzero(active)
        xa, ga, da, fa, ta, gga = x[rows], g[rows], d[rows], f[rows], tau0[rows], gg[rows]
        n = xa.shape[0]
        slope = _inner(ga, da, 1)
        tau = ta.copy()
        x_new, f_new = xa.copy(), fa.copy()
        pending = np.arange(n)
        for _ in range(max_halvings):
            trial = manifold.retract(xa[pending], _expand(tau[pending], da) * da[pending], 1)
            f_trial = np.asarray(cost(trial, _subset(rows, pending, n)), dtype=float)
            ok = f_trial <= fa[pending] + armijo_c * tau[pending] * slope[pending]
            accepted = pending[ok]
            x_new[accepted], f_new[accepted] = trial[ok], f_trial[ok]
            pending = pending[~ok]
            if pending.size == 0:
                break
            tau[pending] *= 0.5
        step = np.ones(n, dtype=bool)
        if pending.size:  # no Armijo step within max_halvings halvings
            failed = np.flatnonzero(active)[pending]
            status[failed], iterations[failed] = "line_search_failed", it - 1
            active[failed] = False
            step[pending] = False
        moved = np.flatnonzero(step)
        if moved.size:
            xs, gs, ds = x_new[moved], ga[moved], da[moved]
            g_new = manifold.project(xs, egrad(xs, _subset(rows, moved, n)), 1)
            g_old_t = manifold.project(xs, gs, 1)
            beta = np.maximum(0.0, _inner(g_new, g_new - g_old_t, 1) / gga[moved])
            d_new = -g_new + _expand(beta, ds) * manifold.project(xs, ds, 1)
            restart = _inner(g_new, d_new, 1) >= 0  # not a descent direction
            if restart.any():
                d_new[restart] = -g_new[restart]
            target = _subset(rows, moved, n)
            tm = tau[moved]
            tau0[target] = np.where(tm == ta[moved], 2.0 * tm, tm)
            x[target], g[target], d[target] = xs, g_new, d_new
            f[target], gg[target] = f_new[moved], _inner(g_new, g_new, 1)
        costs.append(f.copy())
        if not active.any():
            break
    done = active & (np.sqrt(gg) < grad_tol)
    status[done] = "converged"
    return GCGResult(x, f, iterations, status, np.sqrt(gg), np.stack(costs, axis=1))
