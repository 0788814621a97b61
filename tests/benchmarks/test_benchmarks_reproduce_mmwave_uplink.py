"""The spec-001 reproduction script: a subprocess smoke run and its building blocks."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from baselines.core import Solution  # noqa: E402
from benchmarks import reproduce_mmwave_uplink as rep  # noqa: E402


def test_smoke_run_writes_csv_png_and_trend_lines(tmp_path):
    out = tmp_path / "figs"
    cmd = [sys.executable, "-m", "benchmarks.reproduce_mmwave_uplink", "--small", "--mc", "2"]
    cmd += ["--mc-slow", "1", "--figures", "4,9,12a", "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stems = ("fig04a_power_vs_m_los", "fig04b_power_vs_m_olos", "fig09_two_user_power")
    for stem in (*stems, "fig12a_convergence"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with open(out / f"{stem}.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows and {"mean", "ci95_low", "ci95_high", "n_failed"} <= set(rows[0])
    with open(out / "fig04b_power_vs_m_olos.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["series"] for r in rows} == {"no_irs", "ccmo", "admm", "sdr"}
    assert {r["x"] for r in rows} == {"1", "2"}  # M_h of the small grid
    by = {(r["series"], r["x"]): r for r in rows}
    assert by[("ccmo", "1")]["n"] == "2" and by[("admm", "1")]["n"] == "1"  # --mc-slow 1
    assert all(math.isfinite(float(r["mean"])) for r in rows if r["series"] == "ccmo")
    trend = [ln for ln in proc.stdout.splitlines() if ln.split(" ", 1)[0] in ("PASS", "FAIL")]
    assert any("Fig. 4b: OLoS: the gain grows with M" in ln for ln in trend), proc.stdout
    assert any("Fig. 9(a)" in ln for ln in trend) and any("Fig. 12a" in ln for ln in trend)
    summary = (out / "summary.md").read_text()
    assert "--mc 2" in summary and "Fig. 4b" in summary
    assert not list(out.glob("*.tmp"))


def test_parse_figures():
    assert rep.parse_figures("all") == list(rep.FIGURE_NAMES)
    assert rep.parse_figures("4, fig12b") == ["fig04a", "fig04b", "fig12b"]
    assert rep.parse_figures("fig07,12") == ["fig07", "fig12a", "fig12b"]
    for bad in ("fig13", "fig04c", "x"):
        with pytest.raises(ValueError, match="unknown figure"):
            rep.parse_figures(bad)
    assert len(rep.FIGURE_NAMES) == 13  # Figs. 4-12 with their panels


def test_pairing_and_the_plot_view_use_the_common_drops():
    fig = rep.Figure(rep.SPECS["fig07"], [10.0, 20.0], ["10", "20"])
    ok = Solution(None, 0.0, "converged")
    for r, v in enumerate((1.0, 2.0, 3.0, 4.0)):
        rep.record(fig, "ccmo", 0, r, ok, v)
    rep.record(fig, "admm", 0, 0, ok, float("nan"))  # drop 0 failed
    rep.record(fig, "admm", 0, 1, ok, 5.0)  # solved drop 1 only
    a, b, n = rep.paired(fig, "ccmo", "admm")
    assert n[0] == 1 and a[0] == 2.0 and b[0] == 5.0
    assert n[1] == 0 and np.isnan(a[1])
    view = rep.plot_view(fig)
    assert view.cells["ccmo"][0].values == [1.0, 2.0, 3.0, 4.0]
    # CCMO's mean over all drops (2.5) plus ADMM - CCMO on drop 1 (5 - 2)
    assert view.cells["admm"][0].values == [5.5]
    assert fig.cells["admm"][0].values == [5.0]  # the raw figure (CSV) is untouched


def test_only_the_first_mc_slow_realisations_run_the_slow_solvers():
    ctx = rep.Context(rep.SMALL, mc=5, mc_slow=2, sdr_max_elements=10, seed=0, solvers={}, bar=None)
    small = rep.model.MmWaveUplinkConfig(elements_h=1, elements_v=4)
    big = rep.model.MmWaveUplinkConfig(elements_h=4, elements_v=4)
    assert ctx.runs("ccmo", big, 4) and ctx.runs("no_irs", big, 4)
    assert ctx.runs("admm", big, 1) and not ctx.runs("admm", big, 2)
    assert ctx.runs("sdr", small, 0) and not ctx.runs("sdr", big, 0)


def test_power_curves_leave_out_infeasible_drops():
    sols = [
        Solution(object(), 33.0, "infeasible"),
        Solution(object(), 12.5, "converged"),
        None,
        Solution(None, float("nan"), "solver_error"),
    ]
    got = rep.power_dbm(None, [None] * 4, sols)
    assert got[1] == 12.5 and all(math.isnan(v) for i, v in enumerate(got) if i != 1)
