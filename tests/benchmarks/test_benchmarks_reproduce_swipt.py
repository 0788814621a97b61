"""The spec-003 reproduction script: a subprocess smoke run and its trend checks."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import reproduce_swipt as rep  # noqa: E402
from benchmarks.figures import parse_figures  # noqa: E402


def test_smoke_run_writes_csv_png_and_trend_lines(tmp_path):
    out = tmp_path / "figs"
    cmd = [sys.executable, "-m", "benchmarks.reproduce_swipt", "--small", "--mc", "2"]
    cmd += ["--mc-opt", "1", "--fading", "50", "--fading-mc", "1"]
    cmd += ["--figures", "fig03,fig07", "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stems = ("fig03a_eh_vs_m", "fig03b_se_vs_m", "fig03c_closed_form_vs_monte_carlo")
    for stem in (*stems, "fig07_min_eh_vs_m"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "fig07_min_eh_vs_m.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["series"].split(",")[0] for r in rows} == set(rep.SCHEMES)
    assert {r["x"] for r in rows} == {"8", "16"}
    assert all(math.isfinite(float(r["mean"])) and float(r["mean"]) > 0 for r in rows)
    with open(out / "fig03a_eh_vs_m.csv") as f:
        assert len({r["series"] for r in csv.DictReader(f)}) == 8  # 2 precoders x 2 pilots x 2 N
    with open(out / "fig03c_closed_form_vs_monte_carlo.csv") as f:
        assert {r["series"] for r in csv.DictReader(f)} == {
            "closed form",
            "Monte Carlo (50 blocks)",
        }
    trend = [ln for ln in proc.stdout.splitlines() if ln.split(" ", 1)[0] in ("PASS", "FAIL")]
    assert any("Fig. 7: Opt-Phase OPA adds more" in ln for ln in trend), proc.stdout
    assert any("closed-form EH = Monte Carlo" in ln for ln in trend), proc.stdout
    summary = (out / "summary.md").read_text()
    assert "--mc-opt 1" in summary and "Fig. 3: PPZF >> PZF in IU SE" in summary
    assert not list(out.glob("*.tmp"))


def test_parse_figures():
    assert parse_figures("all", rep.FIGURE_NAMES) == sorted(rep.FIGURE_NAMES)
    assert parse_figures("5,fig07", rep.FIGURE_NAMES) == ["fig05", "fig07"]
    with pytest.raises(ValueError, match="unknown figure"):
        parse_figures("fig09", rep.FIGURE_NAMES)


def test_smoke_run_of_the_other_figures(tmp_path):
    """Figs. 4, 5, 6 and 8 at tiny sizes: every file written, finite nonnegative values (the
    convergence curves start at t = 0 from zero), and the convergence and trade-off checks
    printed."""
    out = tmp_path / "figs"
    cmd = [sys.executable, "-m", "benchmarks.reproduce_swipt", "--small", "--mc", "2"]
    cmd += ["--mc-opt", "1", "--fading", "0", "--figures", "fig04,fig05,fig06,fig08"]
    cmd += ["--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    stems = (
        "fig04a_eh_vs_ke",
        "fig04b_se_vs_ke",
        "fig05a_power_step_convergence",
        "fig05b_phase_step_convergence",
        "fig06_bcd_convergence",
        "fig08_eh_se_tradeoff",
    )
    for stem in stems:
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with open(out / f"{stem}.csv") as f:
            rows = list(csv.DictReader(f))
        values = [float(r["mean"]) for r in rows if r["mean"] not in ("", "nan")]
        assert all(math.isfinite(v) and v >= 0 for v in values) and max(values) > 0, stem
    for claim in ("Fig. 5: Algorithm 1 converges", "Fig. 6: BCD converges", "Fig. 8: EH falls"):
        assert claim in proc.stdout, proc.stdout
