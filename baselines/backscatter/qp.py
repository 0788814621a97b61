r"""The convex quadratic subproblems of model 000's FP steps, solved in closed form or by
first-order methods, batched over leading axes.

Every subproblem is :math:`\max_{\mathbf x}\ 2\,\mathrm{Re}\{\mathbf b^H\mathbf x\}
-\|\mathbf R\mathbf x\|^2` (so :math:`\mathbf Q=\mathbf R^H\mathbf R\succeq0`) over one of

* ``"ball"``: :math:`\|\mathbf x\|^2\le P` (the PB beam of Step 2, the active UE beams of
  spec 6.2): exact, :math:`\mathbf x=(\mathbf Q+\mu\mathbf I)^{-1}\mathbf b` with the Lagrange
  multiplier :math:`\mu\ge0` found by bisection on the eigen-decomposition of Q (spec 5.2
  Step 2's closed form);
* ``"disc"``: :math:`|x_l|\le a` (the backscatter beams of (P3') with amplitude control):
  FISTA (accelerated projected gradient, step :math:`1/\lambda_{\max}(\mathbf Q)`) with
  gradient-based adaptive restart (O'Donoghue and Candes, 2015); the problem is convex, so it
  converges to the optimum (sublinearly at worst);
* ``"circle"``: :math:`|x_l|=a` (unit-amplitude backscatter beams; the passive variant,
  spec 6.3): the spec's route, the ``"disc"`` relaxation then phase projection, followed by
  minorise-maximise steps :math:`\mathbf x\leftarrow a\,e^{j\arg(\mathbf b+(\lambda\mathbf I-
  \mathbf Q)\mathbf x)}` (each does not decrease the objective; our addition).

Every solver takes a feasible warm start ``x0`` and never returns a point worse than it, so
an alternating method built on them is monotone.
"""

from __future__ import annotations

import numpy as np

KINDS = ("ball", "disc", "circle")


class Batch:
    """R ``[C, r, n]``, R^H, b and a warm start ``[C, n]``: C problems, contiguous (stacked
    ``matmul`` on contiguous arrays is much faster than on broadcast views)."""

    def __init__(self, R: np.ndarray, b: np.ndarray, x0: np.ndarray) -> None:
        self.shape = b.shape
        r, n = R.shape[-2:]
        full = np.broadcast_to(R, (*b.shape[:-1], r, n))
        self.R = np.ascontiguousarray(full, dtype=complex).reshape(-1, r, n)
        self.RH = np.ascontiguousarray(np.conj(np.swapaxes(self.R, -1, -2)))
        self.b = np.ascontiguousarray(b, dtype=complex).reshape(-1, n)
        self.x0 = np.ascontiguousarray(np.broadcast_to(x0, b.shape), dtype=complex).reshape(-1, n)
        # lambda_max(R^H R) = lambda_max(R R^H), the smaller Gram matrix
        gram = self.R @ self.RH
        self.lip = np.linalg.eigvalsh(gram)[:, -1] if r else np.zeros(len(self.b))

    def Rx(self, x: np.ndarray) -> np.ndarray:
        return (self.R @ x[..., None])[..., 0]

    def Qx(self, x: np.ndarray) -> np.ndarray:
        return (self.RH @ (self.R @ x[..., None]))[..., 0]

    def value(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * np.real(np.sum(self.b.conj() * x, axis=-1)) - np.sum(
            np.abs(self.Rx(x)) ** 2, axis=-1
        )

    def better(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per problem x or the warm start, whichever is better, reshaped back; and values."""
        v, v0 = self.value(x), self.value(self.x0)
        keep = v >= v0
        x = np.where(keep[:, None], x, self.x0)
        return x.reshape(self.shape), np.where(keep, v, v0).reshape(self.shape[:-1])


def value(R: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Objective 2 Re(b^H x) - ||R x||^2 ``[...]`` (R ``[..., r, n]`` broadcast with x)."""
    Rx = np.einsum("...rn,...n->...r", R, x)
    return 2.0 * np.real(np.sum(b.conj() * x, axis=-1)) - np.sum(np.abs(Rx) ** 2, axis=-1)


def keep_better(
    R: np.ndarray, b: np.ndarray, x: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per problem, ``x`` if its objective is at least that of ``x0``, else ``x0``; with the
    objective values."""
    batch = Batch(R, b, x0)
    return batch.better(np.broadcast_to(x, b.shape).reshape(batch.b.shape))


def ball_qp(Q: np.ndarray, b: np.ndarray, power: float, iterations: int = 50) -> np.ndarray:
    r"""argmax 2 Re(b^H x) - x^H Q x s.t. ||x||^2 <= power, batched.

    With :math:`\mathbf Q=\mathbf U\Lambda\mathbf U^H` and :math:`\mathbf z=\mathbf U^H\mathbf b`,
    :math:`\|\mathbf x(\mu)\|^2=\sum_i|z_i|^2/(\lambda_i+\mu)^2` decreases in mu. If the
    minimum-norm unconstrained optimum (mu = 0) fits, it is the answer; otherwise the
    multiplier solves :math:`\phi(\mu)=\|\mathbf x(\mu)\|^{-1}-P^{-1/2}=0`, found by Newton's
    method on phi (concave and increasing: from a point left of the root the iterates rise
    monotonically to it; More and Sorensen's secular equation), started at the lower bound
    :math:`\|\mathbf b\|/\sqrt P-\lambda_{\max}` (or just above 0).

    Args:
        Q: ``[..., n, n]`` Hermitian PSD (broadcastable with b's batch).
        b: ``[..., n]``.
        power: P > 0.
        iterations: Newton steps at most (it stops at machine precision, usually < 10).

    Returns:
        x ``[..., n]`` with ||x||^2 <= P.
    """
    lam, V = np.linalg.eigh(Q)
    lam = np.maximum(lam, 0.0)
    z = np.einsum("...ji,...j->...i", V.conj(), b)
    lam, V = np.broadcast_to(lam, z.shape), np.broadcast_to(V, (*z.shape, z.shape[-1]))
    z2 = np.abs(z) ** 2
    lam_max = lam.max(axis=-1)
    null = lam <= 1e-12 * np.maximum(lam_max, 1e-300)[..., None]
    # b with a component along Q's null space: the objective grows without bound inside the
    # ball along it, so the constraint is active (mu > 0).
    leaks = np.sum(np.where(null, z2, 0.0), axis=-1) > 1e-24 * np.sum(z2, axis=-1)
    inv0 = np.where(null, 0.0, 1.0 / np.where(null, 1.0, lam))
    fits = ~leaks & (np.sum(z2 * inv0**2, axis=-1) <= power)
    b_norm = np.sqrt(np.sum(z2, axis=-1))
    start = np.maximum(b_norm / np.sqrt(power) - lam_max, 1e-12 * (lam_max + b_norm))
    # where mu = 0 is the answer (b = 0 included) the iteration is idle: any mu > 0 will do
    mu = np.where(fits, 1.0, start)
    target = 1.0 / np.sqrt(power)
    for _ in range(iterations):
        d = lam + mu[..., None]
        n2 = np.sum(z2 / d**2, axis=-1)
        dn2 = -2.0 * np.sum(z2 / d**3, axis=-1)
        n2 = np.maximum(n2, 1e-150)  # b = 0 (idle entries) gives n2 = 0
        phi = 1.0 / np.sqrt(n2) - target
        dphi = -0.5 * dn2 / n2**1.5
        step = np.where(dphi > 0, -phi / np.where(dphi > 0, dphi, 1.0), 0.0)
        new = np.maximum(mu + step, mu)
        if np.all(new - mu <= 1e-15 * mu):
            break
        mu = new
    coef = np.where(fits[..., None], z * inv0, z / (lam + mu[..., None]))
    x = np.einsum("...ij,...j->...i", V, coef)
    # Newton stops a hair left of the root; rescale that excess away
    n2 = np.sum(np.abs(x) ** 2, axis=-1)
    return x * np.minimum(1.0, np.sqrt(power / np.where(n2 > 0, n2, 1.0)))[..., None]


def _unit_phase(x: np.ndarray, a: float) -> np.ndarray:
    mag = np.abs(x)
    return a * np.where(mag > 0, x / np.where(mag > 0, mag, 1.0), 1.0)


def _fista(batch: Batch, a: float, max_iterations: int, tol: float) -> np.ndarray:
    """FISTA on the contiguous batch; returns x ``[C, n]`` (not compared with x0)."""
    flat = batch.lip <= 1e-300
    step = (1.0 / np.where(flat, 1.0, batch.lip))[:, None]
    b_step = step * batch.b
    x = y = batch.x0.copy()
    t = np.ones(len(batch.b))
    for _ in range(max_iterations):
        z = y + b_step - step * batch.Qx(y)
        x_new = z * np.minimum(1.0, a / np.maximum(np.abs(z), 1e-300))
        diff = x_new - x
        # restart where the momentum points against the (generalised) gradient
        restart = np.real(np.sum(np.conj(y - x_new) * diff, axis=-1)) > 0
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        momentum = np.where(restart, 0.0, (t - 1.0) / t_new)[:, None]
        y = x_new + momentum * diff
        x, t = x_new, np.where(restart, 1.0, t_new)
        if np.max(np.abs(diff)) <= tol * a:
            break
    # Q = 0: the objective is linear, maximised by x_l = a b_l / |b_l|
    linear = np.where(np.abs(batch.b) > 0, _unit_phase(batch.b, a), batch.x0)
    return np.where(flat[:, None], linear, x)


def _mm_circle(batch: Batch, x: np.ndarray, a: float, iterations: int, tol: float) -> np.ndarray:
    """Minorise-maximise steps on |x_l| = a from the unit-modulus point x ``[C, n]``."""
    lip = batch.lip[:, None]
    for _ in range(iterations):
        x_new = _unit_phase(batch.b + lip * x - batch.Qx(x), a)
        done = np.max(np.abs(x_new - x)) <= tol * a
        x = x_new
        if done:
            break
    return x


def disc_qp(
    R: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    a: float,
    max_iterations: int = 60,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """argmax 2 Re(b^H x) - ||R x||^2 s.t. |x_l| <= a by FISTA with adaptive restart.

    Args:
        R: ``[..., r, n]`` (broadcastable with b's batch).
        b: ``[..., n]``.
        x0: feasible warm start ``[..., n]``.
        a: element amplitude bound > 0.
        max_iterations: FISTA iterations (the default suffices for the AO: more iterations
            leave its trajectory unchanged to about 1e-3 bit/s/Hz, see the tests).
        tol: stop when no entry moves by more than ``tol * a``.

    Returns:
        (x, objective value), both batched; never worse than ``x0``.
    """
    batch = Batch(R, b, x0)
    return batch.better(_fista(batch, a, max_iterations, tol))


def polish_circle(
    R: np.ndarray,
    b: np.ndarray,
    relaxed: np.ndarray,
    x0: np.ndarray,
    a: float,
    mm_iterations: int = 30,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """From a solution of the ``disc`` relaxation to |x_l| = a: phase projection (spec 6.3),
    then minorise-maximise steps; never worse than the (unit-modulus) warm start ``x0``."""
    batch = Batch(R, b, x0)
    x = _unit_phase(np.broadcast_to(relaxed, b.shape).reshape(batch.b.shape), a)
    return batch.better(_mm_circle(batch, x, a, mm_iterations, tol))


def circle_qp(
    R: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    a: float,
    max_iterations: int = 60,
    mm_iterations: int = 30,
    tol: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:
    """2 Re(b^H x) - ||R x||^2 over |x_l| = a: :func:`disc_qp`'s FISTA, phase projection,
    minorise-maximise steps; never worse than the (unit-modulus) warm start ``x0``."""
    batch = Batch(R, b, x0)
    x = _unit_phase(_fista(batch, a, max_iterations, tol), a)
    return batch.better(_mm_circle(batch, x, a, mm_iterations, tol))


def solve(
    kind: str,
    R: np.ndarray,
    b: np.ndarray,
    x0: np.ndarray,
    bound: float,
    **options: int | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch on ``kind``: ``bound`` is the power P (``"ball"``) or the amplitude a."""
    if kind == "ball":
        Q = np.einsum("...rn,...rm->...nm", R.conj(), R)
        return keep_better(R, b, ball_qp(Q, b, bound), x0)
    if kind == "disc":
        return disc_qp(R, b, x0, bound, **options)
    if kind == "circle":
        return circle_qp(R, b, x0, bound, **options)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
