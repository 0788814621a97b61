"""Riemannian CG on the complex circle and sphere against closed-form optima."""

import numpy as np

from baselines.manifold import (
    ComplexCircle,
    ComplexSphere,
    conjugate_gradient,
    conjugate_gradient_batch,
)


def crandn(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def test_projections_are_tangent_and_retractions_stay_on_manifold(rng):
    x = np.exp(2j * np.pi * rng.random(10))
    v = ComplexCircle.project(x, crandn(rng, 10))
    np.testing.assert_allclose(np.real(np.conj(x) * v), 0, atol=1e-12)
    np.testing.assert_allclose(np.abs(ComplexCircle.retract(x, v)), 1, atol=1e-12)
    X = crandn(rng, 4, 3)
    X /= np.linalg.norm(X)
    V = ComplexSphere.project(X, crandn(rng, 4, 3))
    assert abs(np.real(np.vdot(X, V))) < 1e-12
    np.testing.assert_allclose(np.linalg.norm(ComplexSphere.retract(X, V)), 1, atol=1e-12)


def test_circle_reaches_coherent_phase_optimum(rng):
    """max |a^H theta|^2 over |theta_i| = 1 is (sum |a_i|)^2 at theta = exp(j arg a)."""
    a = crandn(rng, 16)
    res = conjugate_gradient(
        ComplexCircle,
        lambda t: -(abs(np.vdot(a, t)) ** 2),
        lambda t: -2 * a * np.vdot(a, t),
        np.exp(2j * np.pi * rng.random(16)),
        max_iterations=500,
    )
    np.testing.assert_allclose(-res.cost, np.sum(np.abs(a)) ** 2, rtol=1e-8)
    assert np.all(np.diff(res.costs) <= 1e-12)


def test_sphere_reaches_top_eigenvalue(rng):
    B = crandn(rng, 6, 6)
    A = B @ B.conj().T
    x0 = crandn(rng, 6, 1)
    res = conjugate_gradient(
        ComplexSphere,
        lambda x: -np.real(np.vdot(x, A @ x)),
        lambda x: -2 * A @ x,
        x0 / np.linalg.norm(x0),
        max_iterations=500,
    )
    np.testing.assert_allclose(-res.cost, np.linalg.eigvalsh(A)[-1], rtol=1e-8)
    assert res.grad_norm < 1e-3 * np.linalg.norm(A)
    assert np.all(np.diff(res.costs) <= 1e-12)


def _coherent(a):
    """Cost and gradient of -|a^H theta|^2 for a batch of rows ``a [B, n]``."""

    def cost(t):
        return -(np.abs(np.sum(a.conj() * t, axis=-1)) ** 2)

    def egrad(t):
        return -2 * a * np.sum(a.conj() * t, axis=-1, keepdims=True)

    return cost, egrad


def _batch_api(make, data, seen=None):
    """``make(data)``'s cost and gradient in the batch API ``(x, rows)``; ``seen`` collects the
    rows each cost call evaluates."""

    def cost(x, rows):
        if seen is not None:
            seen.append(np.arange(len(data))[rows])
        return make(data[rows])[0](x)

    return cost, lambda x, rows: make(data[rows])[1](x)


def test_batch_gives_each_problem_its_single_run(rng):
    """Lockstep batches: every row's iterates, status and iteration count are those of the
    problem solved alone (same arithmetic, so exactly), also when rows stop at different
    times (row 0 starts at its optimum and converges at once; the others run to the cap or to
    the tolerance)."""
    a = crandn(rng, 5, 12)
    x0 = np.exp(2j * np.pi * rng.random((5, 12)))
    x0[0] = np.exp(1j * np.angle(a[0]))  # the coherent optimum: gradient 0
    statuses = []
    for max_iterations in (7, 300):
        seen = []
        batch = conjugate_gradient_batch(
            ComplexCircle, *_batch_api(_coherent, a, seen), x0, max_iterations=max_iterations
        )
        for i in range(5):
            cost, egrad = _coherent(a[i : i + 1])
            one = conjugate_gradient(
                ComplexCircle,
                lambda t, cost=cost: cost(t[None])[0],
                lambda t, egrad=egrad: egrad(t[None])[0],
                x0[i],
                max_iterations=max_iterations,
            )
            assert batch.status[i] == one.status
            assert batch.iterations[i] == one.iterations
            np.testing.assert_array_equal(batch.x[i], one.x)
            np.testing.assert_array_equal(batch.costs[i, : one.iterations + 1], one.costs)
            # the optimum it reaches: (sum |a_i|)^2
            if max_iterations == 300:
                np.testing.assert_allclose(-one.cost, np.sum(np.abs(a[i])) ** 2, rtol=1e-8)
        statuses.append(set(batch.status))
        # finished problems cost nothing: row 0 only at the start point
        assert sum(0 in rows for rows in seen) == 1
        # and a backtracking halving evaluates only the rows whose trial failed
        assert min(len(rows) for rows in seen) < 4
    assert batch.iterations[0] == 0 and batch.status[0] == "converged"
    assert statuses[0] >= {"converged", "max_iterations"}


def test_sphere_batch_matches_single_runs(rng):
    B = crandn(rng, 3, 5, 5)
    A = B @ np.conj(np.swapaxes(B, -1, -2))
    x0 = crandn(rng, 3, 5, 2)
    x0 /= np.linalg.norm(x0, axis=(-2, -1), keepdims=True)

    def functions(A):
        return (
            lambda x: -np.real(np.sum(x.conj() * (A @ x), axis=(-2, -1))),
            lambda x: -2 * A @ x,
        )

    batch = conjugate_gradient_batch(
        ComplexSphere, *_batch_api(functions, A), x0, max_iterations=300
    )
    np.testing.assert_allclose(np.linalg.norm(batch.x, axis=(-2, -1)), 1, atol=1e-12)
    for i in range(3):
        cost, egrad = functions(A[i : i + 1])
        one = conjugate_gradient(
            ComplexSphere,
            lambda x, cost=cost: cost(x[None])[0],
            lambda x, egrad=egrad: egrad(x[None])[0],
            x0[i],
            max_iterations=300,
        )
        np.testing.assert_array_equal(batch.x[i], one.x)
        assert batch.iterations[i] == one.iterations
        # max tr(X^H A X) on ||X||_F = 1: the top eigenvalue (all mass on its eigenvector)
        np.testing.assert_allclose(-one.cost, np.linalg.eigvalsh(A[i])[-1], rtol=1e-6)
