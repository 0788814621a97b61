"""Steering vectors checked against explicit loops, closed forms and Kronecker products."""

import cmath
import math

import numpy as np
import pytest

from irs_gym.physics import (
    los_channel,
    planar_response,
    ula_response,
    ula_response_from_sine,
    upa_response,
    ura_response,
)


def _ula_loop(n, angle, normalized):
    c = 1 / math.sqrt(n) if normalized else 1.0
    return np.array([c * cmath.exp(1j * math.pi * m * math.sin(angle)) for m in range(n)])


@pytest.mark.parametrize("n", [1, 4, 7, 16])
def test_ula_norm(n):
    angles = np.random.default_rng(n).uniform(-np.pi, np.pi, size=(5, 3))
    a = ula_response(n, angles)
    assert a.shape == (5, 3, n)
    assert a.dtype == np.complex128
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 1.0, rtol=1e-12)
    a_un = ula_response(n, angles, normalized=False)
    np.testing.assert_allclose(np.sum(np.abs(a_un) ** 2, axis=-1), n, rtol=1e-12)
    np.testing.assert_allclose(np.abs(a_un), 1.0, rtol=1e-12)


@pytest.mark.parametrize("normalized", [True, False])
def test_ula_entries_match_loop(normalized):
    for angle in (-1.2, 0.0, 0.3, 2.5):
        np.testing.assert_allclose(
            ula_response(8, angle, normalized=normalized),
            _ula_loop(8, angle, normalized),
            atol=1e-13,
        )
    # Broadside: all phases zero.
    np.testing.assert_allclose(ula_response(5, 0.0), np.full(5, 1 / math.sqrt(5)), atol=1e-15)


def test_ula_inner_product_is_dirichlet_kernel():
    n = 10
    rng = np.random.default_rng(0)
    psi1 = rng.uniform(-np.pi / 2, np.pi / 2, 200)
    psi2 = rng.uniform(-np.pi / 2, np.pi / 2, 200)
    a1 = ula_response(n, psi1, normalized=False)
    a2 = ula_response(n, psi2, normalized=False)
    inner = np.sum(a1.conj() * a2, axis=-1)
    delta = np.sin(psi1) - np.sin(psi2)
    dirichlet = np.abs(np.sin(n * np.pi * delta / 2) / np.sin(np.pi * delta / 2))
    np.testing.assert_allclose(np.abs(inner), dirichlet, rtol=1e-9, atol=1e-9)
    # Self inner product: n unnormalised, 1 normalised.
    np.testing.assert_allclose(np.sum(np.abs(a1) ** 2, axis=-1), n)
    a = ula_response(n, psi1)
    np.testing.assert_allclose(np.einsum("...i,...i->...", a.conj(), a).real, 1.0)


def test_ula_dft_grid_is_orthogonal():
    # sin(psi) spaced by 2/n gives orthogonal responses (the Dirichlet kernel's zeros).
    n = 8
    sines = -1 + 2 * np.arange(n) / n
    a = ula_response_from_sine(n, sines)
    np.testing.assert_allclose(a.conj() @ a.T, np.eye(n), atol=1e-12)


def test_upa_matches_eq47_loop():
    n_x, n_y = 4, 8
    rng = np.random.default_rng(1)
    for az, el in rng.uniform([0, 0], [2 * np.pi, np.pi], size=(6, 2)):
        expected = np.zeros(n_x * n_y, dtype=complex)
        for i_x in range(n_x):
            for i_y in range(n_y):
                phase = math.pi * (i_x * math.sin(az) * math.sin(el) + i_y * math.cos(el))
                expected[i_x * n_y + i_y] = cmath.exp(1j * phase) / math.sqrt(n_x * n_y)
        np.testing.assert_allclose(upa_response(n_x, n_y, az, el), expected, atol=1e-13)


def test_upa_is_kronecker_of_two_ramps():
    n_x, n_y = 3, 5
    az, el = 1.1, 0.7
    s_x, s_y = math.sin(az) * math.sin(el), math.cos(el)
    v_x = np.exp(1j * np.pi * np.arange(n_x) * s_x) / math.sqrt(n_x)
    v_y = np.exp(1j * np.pi * np.arange(n_y) * s_y) / math.sqrt(n_y)
    np.testing.assert_allclose(upa_response(n_x, n_y, az, el), np.kron(v_x, v_y), atol=1e-13)
    np.testing.assert_allclose(
        planar_response(n_x, n_y, s_x, s_y, normalized=False),
        np.kron(v_x, v_y) * math.sqrt(n_x * n_y),
        atol=1e-12,
    )


def test_upa_norms_broadcasting_and_single_element():
    az = np.random.default_rng(2).uniform(0, 2 * np.pi, size=(3, 1))
    el = np.random.default_rng(3).uniform(0, np.pi, size=(1, 4))
    a = upa_response(4, 8, az, el)
    assert a.shape == (3, 4, 32)
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 1.0, rtol=1e-12)
    a_un = upa_response(4, 8, az, el, normalized=False)
    np.testing.assert_allclose(np.linalg.norm(a_un, axis=-1) ** 2, 32, rtol=1e-12)
    np.testing.assert_array_equal(upa_response(1, 1, az, el), np.ones((3, 4, 1)))


def test_uspa_index_mapping_of_model_003():
    # [a_N(x, y)]_n = exp(j pi (i_n sin x sin y + j_n cos y)), i_n = floor(n / sqrt N),
    # j_n = n mod sqrt N (0-based), unnormalised.
    root = 3
    x, y = 0.4, 1.9
    expected = [
        cmath.exp(
            1j * math.pi * ((n // root) * math.sin(x) * math.sin(y) + (n % root) * math.cos(y))
        )
        for n in range(root * root)
    ]
    np.testing.assert_allclose(
        upa_response(root, root, x, y, normalized=False), expected, atol=1e-13
    )


def test_ura_matches_model_001_eq6():
    m_h, m_v = 5, 3
    el, az = 0.5, -0.8
    expected = np.zeros(m_h * m_v, dtype=complex)
    for i_h in range(m_h):
        for i_v in range(m_v):
            phase = math.pi * (i_h * math.sin(el) * math.cos(az) + i_v * math.sin(az))
            expected[i_h * m_v + i_v] = cmath.exp(1j * phase) / math.sqrt(m_h * m_v)
    np.testing.assert_allclose(ura_response(m_h, m_v, el, az), expected, atol=1e-13)
    # Not the same convention as eq. (47): guard against swapping the two.
    assert not np.allclose(ura_response(m_h, m_v, el, az), upa_response(m_h, m_v, az, el))


def test_los_channel_is_outer_product():
    a_r = ula_response(4, 0.3, normalized=False)
    a_t = upa_response(2, 2, 1.0, 0.5, normalized=False)
    h = los_channel(a_r, a_t)
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h, np.outer(a_r, a_t.conj()))
    assert np.linalg.matrix_rank(h) == 1
    batch = los_channel(ula_response(4, [0.1, 0.2]), ula_response(3, [0.3, 0.4]))
    assert batch.shape == (2, 4, 3)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True])
def test_sizes_validated(bad):
    with pytest.raises(ValueError, match="n"):
        ula_response(bad, 0.1)
    with pytest.raises(ValueError, match="n_x"):
        upa_response(bad, 2, 0.1, 0.2)
