"""The shared reproduction machinery: statistics, CSV round trip, minimisation checks."""

import csv

import numpy as np
import pytest
from scipy import stats

from benchmarks import figures as f


def _spec(**kw) -> f.FigureSpec:
    base = dict(
        name="fig04",
        slug="power_vs_m",
        title="power vs M",
        paper="Fig. 4",
        source="spec 001 §10",
        x_name="num_elements",
        x_axis="IRS elements $M$",
        x_short="M",
        y_axis="total power (dBm)",
        unit="dBm",
        metric="total_power_dbm",
    )
    return f.FigureSpec(**{**base, **kw})


def test_cell_stats_match_student_t():
    values = [1.0, 2.5, 4.0, 3.0]
    fig = f.Figure(_spec(), [10], ["10"])
    for v in values:
        fig.add("a", "benchmark", 0, v)
    fig.add("a", "benchmark", 0, float("nan"))
    n, mean, half = fig.cells["a"][0].stats()
    sem = np.std(values, ddof=1) / np.sqrt(len(values))
    assert (n, fig.cells["a"][0].failed) == (4, 1)
    assert mean == pytest.approx(np.mean(values))
    assert half == pytest.approx(stats.t.ppf(0.975, 3) * sem)


def test_csv_round_trip(tmp_path):
    fig = f.Figure(_spec(), [10, 20], ["10", "20"])
    for i, vals in enumerate(([1.0, 3.0], [5.0, 7.0])):
        for v in vals:
            fig.add("ccmo", "reference", i, v)
    csv_name, png_name = f.write_figure(fig, tmp_path, mc=2)
    rows = list(csv.DictReader((tmp_path / csv_name).open()))
    assert [float(r["mean"]) for r in rows] == [2.0, 6.0]
    assert {r["unit"] for r in rows} == {"dBm"} and rows[0]["role"] == "reference"
    assert (tmp_path / png_name).stat().st_size > 0


def test_check_best_for_minimisation():
    fig = f.Figure(_spec(), [10, 20], ["10", "20"])
    for i, (ref, rival) in enumerate(((1.0, 2.0), (3.0, 2.9))):
        fig.add("ccmo", "reference", i, ref)
        fig.add("sdr", "benchmark", i, rival)
    assert f.check_best(fig, "ccmo", "least power", sense="min").status == "FAIL"
    assert f.check_best(fig, "ccmo", "least power", sense="min", tolerance=0.2).status == "PASS"
    assert f.check_best(fig, "ccmo", "most", sense="max").status == "FAIL"
    assert f.check_best(fig, "missing", "x").status == "SKIP"


def test_parse_helpers_and_bad_style():
    assert f.parse_names(" a, b,,") == frozenset({"a", "b"})
    assert f.parse_names(None) is None
    assert f.parse_figures("4,fig4", ["fig04", "fig05"]) == ["fig04"]
    with pytest.raises(ValueError, match="style"):
        _spec(style="bars")
