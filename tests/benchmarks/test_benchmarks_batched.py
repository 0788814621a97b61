"""``benchmarks/batched.py`` against the per-realisation calls it replaces, and the "batch ms"
column of ``benchmarks/solver_speed.py``."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from baselines.core import Solution, Solver  # noqa: E402
from baselines.multi_irs import RandomPhasesMMSE  # noqa: E402
from benchmarks import solver_speed  # noqa: E402
from benchmarks.batched import attempt_batch, scores  # noqa: E402
from irs_gym.models import multi_irs as m  # noqa: E402

CFG = m.MultiIRSConfig(num_bs_antennas=4, num_elements=(4, 4), num_users=2)


def draws(n: int = 6):
    scenarios = [m.sample_scenario(CFG, np.random.default_rng([r, 0])) for r in range(n)]
    return scenarios, [np.random.default_rng([r, 1]) for r in range(n)]


def test_scores_equal_one_metrics_call_per_realisation():
    scenarios, rngs = draws()
    sols = [RandomPhasesMMSE().solve(s, CFG, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
    sols[1] = None  # the solve raised
    sols[4] = Solution(None, math.nan, "not_applicable")
    for key in ("wsr_bps_hz", "min_rate_bps_hz", "feasible"):
        got = scores(m.metrics, CFG, scenarios, sols, key)
        assert got.shape == (6,) and np.isnan(got[[1, 4]]).all()
        for r in (0, 2, 3, 5):
            want = float(m.metrics(CFG, scenarios[r], sols[r].decision)[key])
            assert got[r] == pytest.approx(want, rel=1e-12, abs=0)
    assert np.isnan(scores(m.metrics, CFG, scenarios[:2], [None, None], "wsr_bps_hz")).all()


def test_scores_reject_bad_input():
    scenarios, rngs = draws(2)
    sols = RandomPhasesMMSE().solve_batch(scenarios, CFG, rngs)
    with pytest.raises(ValueError, match="one entry per scenario"):
        scores(m.metrics, CFG, scenarios, sols[:1], "wsr_bps_hz")
    with pytest.raises(ValueError, match="'rate_bps_hz' has shape"):
        scores(m.metrics, CFG, scenarios, sols, "rate_bps_hz")  # per user


class Boom(RandomPhasesMMSE):
    """random_mmse whose vectorised path draws, then raises a non-numerical error."""

    def _solve_batch(self, scenarios, config, rngs):
        if len(rngs) > 1:
            for rng in rngs:
                rng.random()
            raise RuntimeError("batch bug")
        return super()._solve_batch(scenarios, config, rngs)


class Broken(Solver):
    name, role = "broken", "benchmark"

    def _solve(self, scenario, config, rng):
        raise RuntimeError("boom")


def test_attempt_batch_matches_attempt():
    scenarios, rngs = draws()
    want = [RandomPhasesMMSE().solve(s, CFG, rng=g) for s, g in zip(scenarios, rngs, strict=True)]
    for solver in (RandomPhasesMMSE(), Boom()):  # Boom: the fallback on fresh generators
        got = attempt_batch(solver, scenarios, CFG, draws()[1])
        assert [s.objective for s in got] == pytest.approx([s.objective for s in want], rel=1e-12)
    assert attempt_batch(Broken(), scenarios, CFG, draws()[1]) == [None] * 6


def test_solver_speed_times_solve_batch_for_vectorised_solvers_only():
    rows = solver_speed.bench("irs_gym/MultiIRSDownlink-v0", {}, 2, {"random_mmse", "ao_mrt"})
    by_name = {row[0]: row for row in rows}
    assert float(by_name["random_mmse"][4]) > 0
    assert by_name["ao_mrt"][4] == "-"
