"""Pre-drawn uniforms behind the ``numpy.random.Generator`` methods the models use.

The batched env must draw, for sub-env ``i``, exactly what a single env seeded like it draws,
yet build all ``B`` realisations in one vectorised call. So each sub-env's generator draws
one flat block of ``U`` uniforms (``rng.random(U)``, one cheap call per sub-env), and the
model's batch-first ``sample_scenario(config, stream, batch_shape)`` runs once on a
:class:`UniformStream` over the stacked ``[B, U]`` block. The stream hands out consecutive
chunks of every row, so sub-env ``i``'s realisation depends on its own row only and equals
the single env's (which runs the same code on its own ``[U]`` block).

Only distributions with an exact inverse transform are offered (``random``, ``uniform``,
``standard_normal`` through the normal quantile ``ndtri``); a model whose sampler calls
anything else keeps the per-sub-env loop.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtri

#: Half the spacing of ``Generator.random``'s grid (multiples of 2**-53 in [0, 1)): the
#: midpoint u + 2**-54 lies strictly inside (0, 1), so the normal quantile stays finite.
_HALF_ULP = 2.0**-54


def _shape(size: Any) -> tuple[int, ...]:
    if size is None:
        return ()
    if isinstance(size, int | np.integer):
        return (int(size),)
    return tuple(int(s) for s in size)


class UniformStream:
    """Generator-like reader of uniforms ``u [*batch_shape, U]``.

    Every request's ``size`` must start with ``batch_shape``; the remaining ``n`` entries per
    batch element are the next ``n`` uniforms of its row.
    """

    def __init__(self, u: np.ndarray, batch_shape: tuple[int, ...] = ()) -> None:
        self.u = np.asarray(u, dtype=np.float64)
        self.batch_shape = tuple(batch_shape)
        if self.u.shape[:-1] != self.batch_shape:
            raise ValueError(
                f"uniforms of shape {self.u.shape} do not match batch_shape {self.batch_shape}"
            )
        self.position = 0

    def random(self, size: Any = None) -> np.ndarray:
        shape = _shape(size)
        nb = len(self.batch_shape)
        if shape[:nb] != self.batch_shape:
            raise ValueError(f"request of shape {shape} does not start with {self.batch_shape}")
        n = math.prod(shape[nb:])
        end = self.position + n
        if end > self.u.shape[-1]:
            raise ValueError(f"stream exhausted: {end} uniforms needed, {self.u.shape[-1]} drawn")
        chunk = self.u[..., self.position : end].reshape(shape)
        self.position = end
        return chunk

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None) -> np.ndarray:
        return low + (np.asarray(high) - low) * self.random(size)

    def standard_normal(self, size: Any = None) -> np.ndarray:
        u = self.random(size)
        # Phi^-1(u + h) = -Phi^-1(1 - u - h); the upper half goes through the second form
        # because u + h rounds to 1.0 near the top, while 1 - u - h is exact there.
        return np.where(u < 0.5, ndtri(u + _HALF_ULP), -ndtri((1.0 - u) - _HALF_ULP))


class CountingStream(UniformStream):
    """A stream that draws as it goes and counts: run a sampler on it once (``batch_shape``
    ``()``) to learn how many uniforms one realisation takes."""

    def __init__(self) -> None:
        self._rng = np.random.default_rng(0)
        self.batch_shape = ()
        self.position = 0

    def random(self, size: Any = None) -> np.ndarray:
        shape = _shape(size)
        self.position += math.prod(shape)
        return self._rng.random(shape)
