"""The single-element grid search of model 004's quantised theta-step, against brute force."""

import itertools

import numpy as np
import pytest

from baselines.multi_irs import grid
from irs_gym.models import multi_irs as m
from irs_gym.physics import complex_normal


@pytest.mark.parametrize("levels", [2, 4])
def test_refinement_is_a_single_flip_optimum_no_worse_than_its_starts(levels):
    rng = np.random.default_rng(0)
    K, M = 2, 5
    points = grid.levels_grid(levels)
    for _ in range(20):
        c, d = complex_normal(rng, (K, K)), complex_normal(rng, (K, K, M))
        wt = rng.uniform(0.5, 2.0, K)
        for objective in (grid.fp_ratio_sum(wt), grid.weighted_min_sinr(wt)):

            def value(th, f=objective, c=c, d=d):
                return float(f(c + np.einsum("kjm,m->kj", d, th)))

            start, current = points[rng.integers(levels, size=(2, M))]
            theta = grid.refine_on_grid(objective, c, d, start, current, levels)
            assert np.allclose(m.quantize_phases(theta, levels), theta)
            best = value(theta)
            assert best >= max(value(start), value(current)) - 1e-12
            for i, p in itertools.product(range(M), points):  # every single-element change
                trial = theta.copy()
                trial[i] = p
                assert value(trial) <= best * (1 + 1e-9) + 1e-12


def test_objectives_by_hand():
    x = np.array([[2.0, 1.0j], [0.5, -1.0]])
    wt = np.array([1.0, 3.0])
    # |x_kk|^2 / (sum_j |x_kj|^2 + 1): 4 / 6 and 1 / 2.25
    assert grid.fp_ratio_sum(wt)(x) == pytest.approx(4 / 6 + 3 * 1 / 2.25)
    # SINR_k = |x_kk|^2 / (sum_{j != k} |x_kj|^2 + 1): 4 / 2 and 1 / 1.25
    assert grid.weighted_min_sinr(wt)(x) == pytest.approx(min(2.0, 3 * 0.8))
