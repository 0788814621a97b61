"""UniformStream: per-row chunks, exact distributions, clear errors."""

import numpy as np
import pytest
from scipy import stats

from irs_gym.envs.streams import CountingStream, UniformStream


def test_rows_are_independent_of_the_batch():
    """Row i of a batched request equals the same request on row i alone."""
    u = np.random.default_rng(0).random((3, 10))
    batched = UniformStream(u, (3,))
    a, b = batched.random((3, 2, 2)), batched.standard_normal((3, 4))
    for i in range(3):
        single = UniformStream(u[i])
        np.testing.assert_array_equal(single.random((2, 2)), a[i])
        np.testing.assert_array_equal(single.standard_normal(4), b[i])
    assert batched.position == 8


def test_distributions():
    n = 200_000
    s = UniformStream(np.random.default_rng(1).random(2 * n))
    z = s.standard_normal(n)
    assert np.all(np.isfinite(z))
    assert stats.kstest(z, "norm").pvalue > 1e-3
    x = s.uniform(-2.0, 3.0, n)
    assert stats.kstest(x, "uniform", args=(-2.0, 5.0)).pvalue > 1e-3
    edge = UniformStream(np.array([0.0, 1.0 - 2.0**-53]))
    assert np.all(np.isfinite(edge.standard_normal(2)))


def test_errors():
    s = UniformStream(np.zeros((2, 3)), (2,))
    with pytest.raises(ValueError, match="does not start with"):
        s.random((3, 1))
    with pytest.raises(ValueError, match="exhausted"):
        s.random((2, 4))
    with pytest.raises(ValueError, match="batch_shape"):
        UniformStream(np.zeros((2, 3)), (3,))


def test_counting_stream_counts():
    c = CountingStream()
    c.random((2, 3))
    c.standard_normal(4)
    c.uniform(0, 1, ())
    assert c.position == 11
