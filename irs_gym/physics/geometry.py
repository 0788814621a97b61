"""Positions, distances and angles, in metres and radians.

Points are arrays whose last axis holds the Cartesian coordinates (x, y, z) in metres
(2-D points (x, y) work wherever only distances are needed). Batch axes lead.

Angle convention (used by :func:`angles_rad` and by ``arrays.upa_response``): for a
direction with unit vector u = (u_x, u_y, u_z),

    azimuth  = atan2(u_y, u_x)       in (-pi, pi],
    zenith   = arccos(u_z)           in [0, pi]   (polar angle from the +z axis),

so that u = (sin(zenith) cos(azimuth), sin(zenith) sin(azimuth), cos(zenith)). This is the
(phi, vartheta) pair of model 004 eq. (47) and the (x, y) pair of model 003 section 2,
where sin(x) sin(y) = u_y and cos(y) = u_z.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "angles_rad",
    "distance_m",
    "uniform_annulus",
    "uniform_disc",
    "uniform_sector",
    "unit_direction",
]

FloatArray = NDArray[np.float64]


def distance_m(a: ArrayLike, b: ArrayLike) -> FloatArray | float:
    r"""Euclidean distance :math:`\|\mathbf a - \mathbf b\|_2` over the last axis.

    Args:
        a: Points, shape ``[..., D]`` in metres (D = 2 or 3).
        b: Points, shape broadcastable with ``a``, ``[..., D]`` in metres.

    Returns:
        Distances in metres, shape ``broadcast(a, b)[:-1]``.
    """
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.sqrt(np.sum(diff * diff, axis=-1))


def unit_direction(src_m: ArrayLike, dst_m: ArrayLike) -> FloatArray:
    r"""Unit vector :math:`\mathbf u = (\mathbf d - \mathbf s)/\|\mathbf d - \mathbf s\|`.

    Args:
        src_m: Source points, shape ``[..., 3]`` in metres.
        dst_m: Destination points, shape broadcastable with ``src_m``, ``[..., 3]``.

    Returns:
        Unit direction vectors from source to destination, shape ``[..., 3]``.

    Raises:
        ValueError: if a source and destination coincide (the direction is undefined).
    """
    diff = np.asarray(dst_m, dtype=np.float64) - np.asarray(src_m, dtype=np.float64)
    if diff.shape[-1] != 3:
        raise ValueError(f"points must have 3 coordinates on the last axis, got {diff.shape}")
    norm = np.sqrt(np.sum(diff * diff, axis=-1, keepdims=True))
    if not np.all(norm > 0):
        raise ValueError("src_m and dst_m must differ: the direction of a zero vector is undefined")
    return diff / norm


def angles_rad(src_m: ArrayLike, dst_m: ArrayLike) -> tuple[FloatArray, FloatArray]:
    r"""Azimuth and zenith of the direction from ``src_m`` to ``dst_m``.

    :math:`\phi = \mathrm{atan2}(u_y, u_x)`, :math:`\vartheta = \arccos u_z`, with
    :math:`\mathbf u` the unit direction (module docstring). In a 2-D layout (equal heights)
    :math:`\vartheta = \pi/2` and :math:`\phi` is the angle from the x axis, so for a ULA along
    the y axis (broadside = x axis, model 000 section 2) :math:`\sin\phi = u_y`.

    Args:
        src_m: Source points, shape ``[..., 3]`` in metres (the array's position for an AoA
            or AoD, expressed in the array's frame).
        dst_m: Destination points, broadcastable with ``src_m``, ``[..., 3]`` in metres.

    Returns:
        ``(azimuth_rad, zenith_rad)``, each of shape ``broadcast(src_m, dst_m)[:-1]``;
        azimuth in (-pi, pi], zenith in [0, pi].
    """
    u = unit_direction(src_m, dst_m)
    azimuth = np.arctan2(u[..., 1], u[..., 0])
    zenith = np.arccos(np.clip(u[..., 2], -1.0, 1.0))
    return azimuth, zenith


def uniform_sector(
    rng: np.random.Generator,
    center_m: ArrayLike,
    r_max_m: float,
    *,
    r_min_m: float = 0.0,
    azimuth_min_rad: float = 0.0,
    azimuth_max_rad: float = 2.0 * np.pi,
    batch_shape: tuple[int, ...] = (),
    area_uniform: bool = True,
) -> FloatArray:
    r"""Random points in a horizontal annular sector around ``center_m``.

    Radius :math:`r` and azimuth :math:`\varphi \sim U[\varphi_{\min}, \varphi_{\max})`:

    * ``area_uniform=True``: uniform over the area,
      :math:`r = \sqrt{r_{\min}^2 + U (r_{\max}^2 - r_{\min}^2)}`, :math:`U \sim U[0, 1)`;
    * ``area_uniform=False``: uniform in radius, :math:`r = r_{\min} + U (r_{\max} - r_{\min})`
      (denser near the centre; model 002 section 9 item 5 variant).

    The point is :math:`\mathbf c + (r\cos\varphi, r\sin\varphi, 0)`: the height is the centre's.

    Args:
        rng: Random generator (radius drawn first, then azimuth).
        center_m: Centre, shape ``[3]`` (or ``[*batch_shape, 3]``), metres.
        r_max_m: Outer radius in metres, > r_min_m.
        r_min_m: Inner radius in metres, >= 0.
        azimuth_min_rad: Start of the azimuth range, radians.
        azimuth_max_rad: End of the azimuth range, radians, > azimuth_min_rad.
        batch_shape: Number of points per axis.
        area_uniform: Area-uniform (default) or radius-uniform placement.

    Returns:
        Points, shape ``[*batch_shape, 3]``, metres.
    """
    center = np.asarray(center_m, dtype=np.float64)
    if center.shape[-1:] != (3,):
        raise ValueError(f"center_m must have 3 coordinates, got shape {center.shape}")
    if not r_min_m >= 0.0:
        raise ValueError(f"r_min_m must be >= 0 m, got {r_min_m}")
    if not r_max_m > r_min_m:
        raise ValueError(f"r_max_m must be > r_min_m = {r_min_m} m, got {r_max_m}")
    if not azimuth_max_rad > azimuth_min_rad:
        raise ValueError(
            f"azimuth_max_rad must be > azimuth_min_rad = {azimuth_min_rad}, got {azimuth_max_rad}"
        )
    shape = tuple(batch_shape)
    u = rng.random(shape)
    if area_uniform:
        r = np.sqrt(r_min_m**2 + u * (r_max_m**2 - r_min_m**2))
    else:
        r = r_min_m + u * (r_max_m - r_min_m)
    phi = rng.uniform(azimuth_min_rad, azimuth_max_rad, shape)
    offset = np.stack([r * np.cos(phi), r * np.sin(phi), np.zeros_like(r)], axis=-1)
    return center + offset


def uniform_disc(
    rng: np.random.Generator,
    center_m: ArrayLike,
    radius_m: float,
    batch_shape: tuple[int, ...] = (),
) -> FloatArray:
    r"""Points uniform in area in the horizontal disc of radius ``radius_m`` around ``center_m``.

    :math:`r = R\sqrt{U}`, :math:`\varphi \sim U[0, 2\pi)`, z = centre z
    (models 000, 002, 003, 004).

    Args:
        rng: Random generator.
        center_m: Disc centre, shape ``[3]``, metres.
        radius_m: Disc radius in metres, > 0.
        batch_shape: Number of points per axis.

    Returns:
        Points, shape ``[*batch_shape, 3]``, metres.
    """
    return uniform_sector(rng, center_m, radius_m, batch_shape=batch_shape)


def uniform_annulus(
    rng: np.random.Generator,
    center_m: ArrayLike,
    r_min_m: float,
    r_max_m: float,
    batch_shape: tuple[int, ...] = (),
    area_uniform: bool = True,
) -> FloatArray:
    r"""Points in the horizontal annulus :math:`r_{\min} \le r \le r_{\max}` around ``center_m``.

    Area-uniform (default) or radius-uniform; see :func:`uniform_sector`. Model 002
    (section 1) draws users this way, with the radius-uniform variant as an option.

    Args:
        rng: Random generator.
        center_m: Centre, shape ``[3]``, metres.
        r_min_m: Inner radius in metres, >= 0.
        r_max_m: Outer radius in metres, > r_min_m.
        batch_shape: Number of points per axis.
        area_uniform: Area-uniform (default) or radius-uniform placement.

    Returns:
        Points, shape ``[*batch_shape, 3]``, metres.
    """
    return uniform_sector(
        rng,
        center_m,
        r_max_m,
        r_min_m=r_min_m,
        batch_shape=batch_shape,
        area_uniform=area_uniform,
    )
