"""The beam-superposition action (``irs_gym.envs.beams``), every weight form, against
element-by-element sums and the invariances the phases must have."""

import numpy as np
import pytest

from irs_gym.envs import beams


def random_unit_beams(rng, L, N, batch=()):
    b = rng.normal(size=(*batch, L, N)) + 1j * rng.normal(size=(*batch, L, N))
    return beams.unit_rows(b)


def phases_by_hand(w, U):
    L, N = U.shape
    return np.array(
        [np.exp(1j * np.angle(sum(w[l] * U[l, n] for l in range(L)))) for n in range(N)]
    )


@pytest.mark.parametrize("form", beams.FORMS)
def test_beam_phases_follow_the_weight_formulas(form):
    rng = np.random.default_rng(0)
    U = random_unit_beams(rng, 3, 7)
    a = rng.uniform(-1, 1, 6)
    if form == "polar":
        w = 0.5 * (1 + a[:3]) * np.exp(1j * np.pi * a[3:])
    elif form == "log_polar":
        w = np.array([10 ** (x - 1) for x in a[:3]]) * np.exp(1j * np.pi * a[3:])
    else:
        w = (1 + a[:3]) + 1j * a[3:]
    np.testing.assert_allclose(beams.beam_phases(a, U, form), phases_by_hand(w, U), atol=1e-12)


def test_every_form_weighs_the_beams_equally_at_the_zero_action():
    rng = np.random.default_rng(1)
    U = random_unit_beams(rng, 4, 9)
    equal = phases_by_hand(np.ones(4), U)
    for form in beams.FORMS:
        np.testing.assert_allclose(beams.beam_phases(np.zeros(8), U, form), equal, atol=1e-12)


def test_one_beam_alone_gives_its_coherent_phases():
    """w = e_l: theta = exp(j arg u_l), so |theta^H u_l| = sum_n |u_ln| (triangle bound)."""
    rng = np.random.default_rng(2)
    U = random_unit_beams(rng, 3, 8)
    a_polar = np.array([1.0, -1.0, -1.0, 0.3, 0.0, 0.0])
    a_cart = np.array([0.0, -1.0, -1.0, 0.0, 0.0, 0.0])
    for a, form in [(a_polar, "polar"), (a_cart, "cartesian")]:
        theta = beams.beam_phases(a, U, form)
        np.testing.assert_allclose(abs(np.vdot(theta, U[0])), np.abs(U[0]).sum(), rtol=1e-12)


def test_cartesian_phases_depend_only_on_the_direction_of_w():
    """Scaling w, or turning it by a global phase that keeps it in the box, turns theta by
    that phase (and scaling leaves it as it is): the agent's weights are relative."""
    rng = np.random.default_rng(3)
    U = random_unit_beams(rng, 2, 6)
    w = np.array([1.2 + 0.3j, 0.4 - 0.5j])
    a = np.concatenate([w.real - 1, w.imag])
    a_half = np.concatenate([0.5 * w.real - 1, 0.5 * w.imag])
    theta = beams.beam_phases(a, U, "cartesian")
    np.testing.assert_allclose(beams.beam_phases(a_half, U, "cartesian"), theta, atol=1e-12)
    turned = w * np.exp(0.2j)
    a_turned = np.concatenate([turned.real - 1, turned.imag])
    np.testing.assert_allclose(
        beams.beam_phases(a_turned, U, "cartesian"), theta * np.exp(0.2j), atol=1e-12
    )


def test_the_forms_reach_the_same_phases_for_the_same_relative_weights():
    """A polar action and the cartesian action of the same weights (turned into the right
    half-plane and scaled into the box by hand) give theta up to one global phase."""
    rng = np.random.default_rng(4)
    U = random_unit_beams(rng, 3, 10)
    a_polar = np.array([0.2, -0.4, 0.9, 0.1, 0.3, -0.2])
    w = 0.5 * (1 + a_polar[:3]) * np.exp(1j * np.pi * a_polar[3:])  # phases within +-0.3 pi
    a_cart = np.concatenate([w.real / np.abs(w).max() - 1, w.imag / np.abs(w).max()])
    np.testing.assert_allclose(
        beams.beam_phases(a_cart, U, "cartesian"),
        beams.beam_phases(a_polar, U, "polar"),
        atol=1e-12,
    )


@pytest.mark.parametrize("form", ["polar", "log_polar"])
def test_beam_action_is_in_the_box_and_recovers_a_family_member(form):
    """Batched: for theta equal to a superposition that the least-squares fit reproduces
    exactly (N = L, U invertible) the code decodes back to theta (the weights within the
    log-polar range: magnitudes 0.2 .. 1)."""
    rng = np.random.default_rng(5)
    U = random_unit_beams(rng, 3, 3, batch=(4,))
    w = rng.uniform(0.2, 1.0, (4, 3)) * np.exp(1j * rng.uniform(-1, 1, (4, 3)) * np.pi)
    theta = np.exp(1j * np.angle(np.einsum("bl,bln->bn", w, U)))
    code = beams.beam_action(theta, U, form)
    assert code.shape == (4, 6) and np.all(np.abs(code) <= 1 + 1e-12)
    np.testing.assert_allclose(beams.beam_phases(code, U, form), theta, atol=1e-9)


def test_log_polar_weights_never_vanish_and_encode_clips_below_their_range():
    """At a_l = -1 the weight is 1 % of the largest, not 0: its phase entry still turns
    theta (with "polar" it does not). A weight under 1 % encodes to -1 (here 0: theta = 1 is
    orthogonal to the second DFT beam)."""
    rng = np.random.default_rng(6)
    U = random_unit_beams(rng, 2, 5)
    a = np.array([1.0, -1.0, 0.0, 0.0])
    turned = np.array([1.0, -1.0, 0.0, 0.5])
    assert not np.allclose(
        beams.beam_phases(a, U, "log_polar"), beams.beam_phases(turned, U, "log_polar")
    )
    np.testing.assert_allclose(
        beams.beam_phases(a, U, "polar"), beams.beam_phases(turned, U, "polar")
    )
    dft = np.exp(2j * np.pi * np.outer([0, 1], np.arange(4)) / 4) / 2  # orthonormal rows
    code = beams.beam_action(np.ones(4, complex), dft, "log_polar")  # weights (2, 0)
    np.testing.assert_allclose(code[:3], [1.0, -1.0, 0.0], atol=1e-12)  # code[3]: angle of ~0


def test_cartesian_beam_action_turns_the_weights_into_the_half_plane():
    """With N = L the least-squares weights of theta = U^T w are w itself. Weights whose
    angles span less than pi come back as w up to one positive scale and one global phase,
    with the middle of their arc on the real axis; angles 120 degrees apart cannot all be
    in the half-plane, and the code stays in the box with a clipped real part."""
    rng = np.random.default_rng(6)
    U = random_unit_beams(rng, 3, 3)
    w = np.array([0.9, 0.5, 0.7]) * np.exp(1j * np.array([2.0, 2.8, -2.9]))  # arc 2.0..3.38
    code = beams.beam_action(U.T @ w, U, "cartesian")
    assert np.all(np.abs(code) <= 1 + 1e-12)
    w_code = (1 + code[:3]) + 1j * code[3:]
    ratio = w_code / w
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    np.testing.assert_allclose(np.angle(ratio[0]), -(2.0 + (2 * np.pi - 2.9)) / 2, atol=1e-9)
    spread = np.exp(2j * np.pi * np.arange(3) / 3)
    code = beams.beam_action(U.T @ spread, U, "cartesian")
    assert np.all(np.abs(code) <= 1 + 1e-12) and code[:3].min() == -1.0


def test_beam_weights_option_is_checked():
    assert beams.check_form("cartesian", "beams") == "cartesian"
    with pytest.raises(ValueError, match="beam_weights must be one of"):
        beams.check_form("spherical", "beams")
    with pytest.raises(ValueError, match="beam_weights='cartesian' needs phase_action='beams'"):
        beams.check_form("cartesian", "elements")
