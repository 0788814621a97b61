"""Geometry: distances, random placement (area vs radius uniform), angles."""

import math

import numpy as np
import pytest

from irs_gym.physics import (
    angles_rad,
    distance_m,
    uniform_annulus,
    uniform_disc,
    uniform_sector,
    unit_direction,
)

N_MC = 100_000


def test_distance_known_value_and_broadcasting():
    assert distance_m([0.0, 0.0, 0.0], [3.0, 4.0, 12.0]) == pytest.approx(13.0)
    assert distance_m([1.0, 1.0], [4.0, 5.0]) == pytest.approx(5.0)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 1, 3))
    b = rng.normal(size=(1, 4, 3))
    d = distance_m(a, b)
    assert d.shape == (5, 4)
    expected = [[math.dist(a[i, 0], b[0, j]) for j in range(4)] for i in range(5)]
    np.testing.assert_allclose(d, expected, rtol=1e-12)


def test_uniform_disc_is_area_uniform():
    rng = np.random.default_rng(1)
    center = np.array([50.0, -20.0, 7.0])
    radius = 60.0
    pts = uniform_disc(rng, center, radius, batch_shape=(N_MC,))
    assert pts.shape == (N_MC, 3)
    np.testing.assert_array_equal(pts[:, 2], 7.0)
    r = distance_m(pts, center)
    assert r.max() <= radius * (1 + 1e-12)
    # Area-uniform: P(r < R/2) = 1/4, E[r] = 2R/3, Var r = R^2/18.
    p_inner = np.mean(r < radius / 2)
    assert abs(p_inner - 0.25) < 5 * math.sqrt(0.25 * 0.75 / N_MC)
    assert abs(r.mean() - 2 * radius / 3) < 5 * radius / math.sqrt(18 * N_MC)
    # Isotropic: the mean offset is the centre.
    offset = (pts - center)[:, :2]
    assert np.all(np.abs(offset.mean(axis=0)) < 5 * radius / math.sqrt(4 * N_MC))


def test_uniform_disc_batch_shape_and_seed():
    a = uniform_disc(np.random.default_rng(7), [0.0, 0.0, 0.0], 10.0, batch_shape=(3, 4))
    b = uniform_disc(np.random.default_rng(7), [0.0, 0.0, 0.0], 10.0, batch_shape=(3, 4))
    c = uniform_disc(np.random.default_rng(8), [0.0, 0.0, 0.0], 10.0, batch_shape=(3, 4))
    assert a.shape == (3, 4, 3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert uniform_disc(np.random.default_rng(0), [1.0, 2.0, 3.0], 5.0).shape == (3,)


def test_uniform_annulus_area_and_radius_uniform():
    center = np.zeros(3)
    r_min, r_max = 10.0, 250.0
    pts = uniform_annulus(np.random.default_rng(2), center, r_min, r_max, batch_shape=(N_MC,))
    r = distance_m(pts, center)
    assert r.min() >= r_min - 1e-9
    assert r.max() <= r_max + 1e-9
    # Area-uniform: r^2 ~ U[r_min^2, r_max^2].
    mean_r2 = (r_min**2 + r_max**2) / 2
    se_r2 = (r_max**2 - r_min**2) / math.sqrt(12 * N_MC)
    assert abs(np.mean(r**2) - mean_r2) < 5 * se_r2

    pts = uniform_annulus(
        np.random.default_rng(3), center, r_min, r_max, batch_shape=(N_MC,), area_uniform=False
    )
    r = distance_m(pts, center)
    se_r = (r_max - r_min) / math.sqrt(12 * N_MC)
    assert abs(r.mean() - (r_min + r_max) / 2) < 5 * se_r


def test_half_disc_sector_stays_on_bs_side():
    # Model 003: EUs in the half-disc of radius 5 m around the RIS, on the side x <= x_RIS.
    ris = np.array([30.0, 0.0, 0.0])
    pts = uniform_sector(
        np.random.default_rng(4),
        ris,
        5.0,
        azimuth_min_rad=math.pi / 2,
        azimuth_max_rad=3 * math.pi / 2,
        batch_shape=(10_000,),
    )
    assert np.all(pts[:, 0] <= ris[0] + 1e-12)
    assert np.all(distance_m(pts, ris) <= 5.0 + 1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"r_max_m": 5.0, "r_min_m": 5.0}, "r_max_m"),
        ({"r_max_m": 5.0, "r_min_m": -1.0}, "r_min_m"),
        ({"r_max_m": 5.0, "azimuth_min_rad": 1.0, "azimuth_max_rad": 1.0}, "azimuth_max_rad"),
    ],
)
def test_sector_rejects_bad_ranges(kwargs, match):
    with pytest.raises(ValueError, match=match):
        uniform_sector(np.random.default_rng(0), np.zeros(3), **kwargs)


def test_angles_of_axis_directions():
    origin = np.zeros(3)
    az, zen = angles_rad(origin, [[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 4.0], [-1, 0, -1]])
    np.testing.assert_allclose(az, [0.0, math.pi / 2, 0.0, math.pi], atol=1e-15)
    np.testing.assert_allclose(zen, [math.pi / 2, math.pi / 2, 0.0, 3 * math.pi / 4], atol=1e-15)


def test_angles_reconstruct_direction_and_2d_sine_rule():
    rng = np.random.default_rng(5)
    src = rng.normal(size=(50, 3)) * 20
    dst = rng.normal(size=(50, 3)) * 20
    az, zen = angles_rad(src, dst)
    u = np.stack([np.sin(zen) * np.cos(az), np.sin(zen) * np.sin(az), np.cos(zen)], axis=-1)
    diff = dst - src
    np.testing.assert_allclose(u, diff / np.linalg.norm(diff, axis=-1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(unit_direction(src, dst), u, atol=1e-12)
    # Model 000: equal heights, ULA along y, so sin(phi) is dy / distance.
    dst[:, 2] = src[:, 2]
    az, zen = angles_rad(src, dst)
    np.testing.assert_allclose(zen, math.pi / 2)
    np.testing.assert_allclose(
        np.sin(az), (dst[:, 1] - src[:, 1]) / distance_m(src, dst), atol=1e-12
    )


def test_angles_reject_coincident_points():
    with pytest.raises(ValueError, match="differ"):
        angles_rad([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
