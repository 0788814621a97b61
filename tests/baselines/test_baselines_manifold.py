"""Riemannian CG on the complex circle and sphere against closed-form optima."""

import numpy as np

from baselines.manifold import ComplexCircle, ComplexSphere, conjugate_gradient


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
