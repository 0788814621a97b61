"""The spec-000 reproduction script: a subprocess smoke run and its trend checks."""

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of scripts, not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import reproduce_backscatter as rep  # noqa: E402
from benchmarks.figures import Figure, parse_figures  # noqa: E402


def test_smoke_run_writes_csv_png_and_trend_lines(tmp_path):
    out = tmp_path / "figs"
    cmd = [sys.executable, "-m", "benchmarks.reproduce_backscatter", "--small", "--mc", "1"]
    cmd += ["--figures", "fig04,fig09", "--out", str(out), "--no-progress"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for stem in ("fig04_wsr_vs_l", "fig09_white_vs_real"):
        assert (out / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "fig04_wsr_vs_l.csv") as f:
        rows = list(csv.DictReader(f))
    series = {r["series"] for r in rows}
    assert series == {"joint", "discrete4", "discrete8", "passive", "antenna4", "antenna8"}
    assert {r["x"] for r in rows} == {"4", "8"}
    assert all(math.isfinite(float(r["mean"])) for r in rows)
    with open(out / "fig09_white_vs_real.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["series"].split(",")[0] for r in rows} == {"White", "Real"}
    trend = [ln for ln in proc.stdout.splitlines() if ln.split(" ", 1)[0] in ("PASS", "FAIL")]
    assert any("Fig. 4: Passive best at every L" in ln for ln in trend), proc.stdout
    assert any("Fig. 9: Real <= White for rho > 0" in ln for ln in trend), proc.stdout
    summary = (out / "summary.md").read_text()
    assert "--mc 1" in summary and "Fig. 4: Joint WSR increases with L" in summary
    assert not list(out.glob("*.tmp"))


def test_parse_figures():
    assert parse_figures("all", rep.FIGURE_NAMES) == sorted(rep.FIGURE_NAMES)
    assert parse_figures("4,fig09rx", rep.FIGURE_NAMES) == ["fig04", "fig09rx"]
    with pytest.raises(ValueError, match="unknown figure"):
        parse_figures("fig10", rep.FIGURE_NAMES)


def synthetic(name, values):
    fig = Figure(rep.SPECS[name], [0.0, 0.2, 0.5], ["0", "0.2", "0.5"])
    for series, ys in values.items():
        for i, y in enumerate(ys):
            fig.add(series, "reference", i, y)
    return fig


def test_csi_checks_read_the_curves():
    good = synthetic(
        "fig09",
        {
            "White, σ² = -94 dBm": [10, 9, 8],
            "Real, σ² = -94 dBm": [10, 8, 6],
            "White, σ² = -76 dBm": [5, 4.8, 4.6],
            "Real, σ² = -76 dBm": [5, 4.7, 4.4],
        },
    )
    assert all(c.status == "PASS" for c in rep.checks_csi(good, "Real"))
    bad = synthetic(
        "fig09",
        {
            "White, σ² = -94 dBm": [10, 9, 8],
            "Real, σ² = -94 dBm": [10, 9.5, 9],  # above White and not falling fast
            "White, σ² = -76 dBm": [5, 4, 3],
            "Real, σ² = -76 dBm": [5, 5.1, 2],
        },
    )
    status = {c.claim: c.status for c in rep.checks_csi(bad, "Real")}
    assert status["Real <= White for rho > 0 (σ² = -94 dBm)"] == "FAIL"
    assert status["Real declines as rho grows (σ² = -76 dBm)"] == "FAIL"
    assert status["Real declines as rho grows (σ² = -94 dBm)"] == "PASS"


def test_variants_share_the_drop():
    base = rep.model.BackscatterConfig(amplitude_control=True)
    assert rep.variant(base, "passive").uplink == "passive"
    ant = rep.variant(base, "antenna8", ue_power_dbm=5.0)
    assert ant.uplink == "active" and ant.num_active_antennas == 8 and ant.ue_power_dbm == 5.0
    import numpy as np

    a = rep.model.sample_scenario(base, np.random.default_rng(3))
    b = rep.model.sample_scenario(ant, np.random.default_rng(3))
    np.testing.assert_array_equal(a.ue_positions_m, b.ue_positions_m)
