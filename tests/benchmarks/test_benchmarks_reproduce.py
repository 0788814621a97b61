"""The spec-004 reproduction script: a subprocess smoke run and its building blocks."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from baselines.core import Solution, Solver  # noqa: E402
from benchmarks import reproduce_multi_irs as rep  # noqa: E402
from benchmarks.figures import parse_figures  # noqa: E402
from irs_gym.models import multi_irs as m  # noqa: E402


def test_smoke_run_writes_csv_png_and_trend_lines(tmp_path):
    out = tmp_path / "figs"
    cmd = [sys.executable, "-m", "benchmarks.reproduce_multi_irs", "--small", "--mc", "1"]
    cmd += ["--figures", "fig08,fig05", "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for stem in ("fig08_wsr_vs_nt", "fig05_wsr_inter_irs_schemes"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with open(out / f"{stem}.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows and {"mean", "ci95_low", "ci95_high", "n_failed"} <= set(rows[0])
    with open(out / "fig08_wsr_vs_nt.csv") as f:
        rows = list(csv.DictReader(f))
    series = {r["series"] for r in rows}
    assert {"domalo", "ao_mmse", "random_mmse"} <= series
    assert {r["x"] for r in rows} == {"4", "8"}
    assert all(math.isfinite(float(r["mean"])) for r in rows if r["series"] == "domalo")
    lines = proc.stdout.splitlines()
    trend = [ln for ln in lines if ln.split(" ", 1)[0] in ("PASS", "FAIL", "SKIP")]
    assert any("Fig. 8: DOMALO best at every N_t" in ln for ln in trend), proc.stdout
    assert any("Fig. 5: schemes differ negligibly" in ln for ln in trend), proc.stdout
    summary = (out / "summary.md").read_text()
    assert "--mc 1" in summary and "Fig. 8: DOMALO best" in summary
    assert not list(out.glob("*.tmp"))


def test_parse_figures():
    assert parse_figures("all", rep.FIGURE_NAMES) == list(rep.FIGURE_NAMES)
    assert parse_figures("8, fig13,fig08", rep.FIGURE_NAMES) == ["fig08", "fig13"]
    with pytest.raises(ValueError, match="unknown figure"):
        parse_figures("fig99", rep.FIGURE_NAMES)
    assert len(rep.FIGURE_NAMES) == 16  # Figs. 3-18


def test_selection_skips_slow_solvers_unless_asked():
    default = rep.Selection()
    assert default.keep("domalo") and not default.keep("aif") and not default.keep("socp_sdr")
    assert rep.Selection(with_slow=True).keep("aif")
    assert rep.Selection(names=frozenset({"aif"})).keep("aif")
    named = rep.Selection(names=frozenset({"domalo"}), skip=frozenset({"domalo"}))
    assert not named.keep("domalo") and not named.keep("ao_mmse")


def test_plan_shares_objective_independent_solvers():
    configs = {o: m.MultiIRSConfig(objective=o) for o in ("wsr", "min_rate")}
    entries = {e.name: e for e in rep.plan(configs, rep.Selection())}
    # DOMALO, S-DOMALO and random + MMSE optimise the same thing under either objective
    for name in ("domalo", "sdomalo", "random_mmse"):
        assert set(entries[name].roles) == {"wsr", "min_rate"}, name
    assert entries["domalo"].roles == {"wsr": "reference", "min_rate": "benchmark"}
    # the AO schemes' theta-step follows the objective: one solve per objective
    names = [e.name for e in rep.plan(configs, rep.Selection())]
    assert names.count("ao_mmse") == 2 and names.count("domalo") == 1


def test_cell_statistics_and_failure_counting():
    fig = rep.Figure(rep.SPECS["fig08"], [4, 8], ["4", "8"], False)
    values = [1.0, 2.0, 4.0]
    for v in values:
        fig.record("a", "reference", 0, Solution(None, v, "converged"), v)
    fig.record("a", "reference", 0, None, float("nan"))  # an exception
    fig.record("a", "reference", 0, Solution(None, float("nan"), "solver_error"), float("nan"))
    fig.record("a", "reference", 1, Solution(None, float("nan"), "not_applicable"), float("nan"))
    cell = fig.cells["a"][0]
    n, mean, half = cell.stats()
    expected = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / math.sqrt(3)
    assert (n, cell.failed, cell.not_applicable) == (3, 2, 0)
    np.testing.assert_allclose([mean, half], [7 / 3, expected])
    assert fig.cells["a"][1].not_applicable == 1 and np.isnan(fig.mean("a")[1])


def test_attempt_turns_an_exception_into_a_failure():
    class Broken(Solver):
        name, role = "broken", "benchmark"

        def _solve(self, scenario, config, rng):
            raise RuntimeError("boom")

    cfg = m.MultiIRSConfig(num_bs_antennas=4, num_elements=4, num_users=2)
    scen = m.sample_scenario(cfg, np.random.default_rng(0))
    assert rep.attempt(Broken(), scen, cfg, np.random.default_rng(0)) is None


def _figure(means: dict[str, list[float]]) -> rep.Figure:
    fig = rep.Figure(rep.SPECS["fig08"], [4, 8, 16], ["4", "8", "16"], False)
    for name, row in means.items():
        for i, v in enumerate(row):
            role = "reference" if name == "domalo" else "benchmark"
            fig.record(name, role, i, Solution(None, v, "converged"), v)
    return fig


def test_trend_checks_pass_and_fail_on_the_numbers():
    good = _figure({"domalo": [1.0, 2.0, 2.5], "ao_mmse": [0.5, 1.5, 2.4]})
    bad = _figure({"domalo": [1.0, 2.0, 2.5], "ao_mmse": [0.5, 2.1, 2.4]})
    assert rep.check_best(good, "domalo", "DOMALO").status == "PASS"
    failing = rep.check_best(bad, "domalo", "DOMALO")
    assert failing.status == "FAIL" and "-0.1 vs AO-MMSE" in failing.detail
    assert rep.check_monotone(good, "domalo", True, "rises").status == "PASS"
    assert rep.check_monotone(good, "domalo", False, "falls").status == "FAIL"
    assert rep.check_diminishing(good, "domalo").status == "PASS"  # slopes 0.25, 0.0625
    assert rep.check_diminishing(_figure({"domalo": [1.0, 1.1, 3.0]}), "domalo").status == "FAIL"
    assert rep.check_second(good, "second").status == "SKIP"  # one benchmark only
    line = rep.check_best(good, "domalo", "DOMALO").line()
    assert line.startswith("PASS Fig. 8: DOMALO best at every N_t [")
