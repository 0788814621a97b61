"""Shared machinery of the reproduction scripts: figures of Monte Carlo means, CSV and PNG
output, trend checks and the summary file.

A reproduction script describes each figure with a :class:`FigureSpec` (subclass it to add
script-specific fields), fills a :class:`Figure` with one value per (series, x index,
realisation) through :meth:`Figure.record` (a solver's :class:`~baselines.core.Solution`) or
:meth:`Figure.add` (a plain number), then calls :func:`write_figure` and
:func:`summary_lines`. Trend checks are :class:`Check` records, reported and never asserted.

Common random numbers: :func:`scenario_rng` and :func:`solver_rng` give the generators of
realisation ``r`` at x index ``i``, so every series of a figure sees the same channels.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from baselines.core import Solution, Solver

logger = logging.getLogger(__name__)

#: Plot styles: mean lines with CI bands; markers with CI bars dodged sideways (a few nearly
#: equal series over categories); lines without markers (per-iteration convergence curves).
STYLES = ("lines", "dodge", "convergence")


@dataclass(frozen=True, kw_only=True)
class FigureSpec:
    """Static description of one figure.

    Attributes:
        name: short id used in file names and on the command line (``"fig08"``).
        slug: file-name stem after the name (``"wsr_vs_nt"``).
        title: plot title after ``paper``.
        paper: what the figure reproduces (``"Fig. 8"``), used in trend-check lines.
        source: where it is specified (``"spec 004 §10"``), shown in the plot title.
        x_name: meaning of the CSV ``x`` column (a config field or a quantity).
        x_axis: x-axis label with unit; ``str.format`` fields are filled from
            ``Figure.extra["axis"]``.
        x_short: the x symbol in trend-check lines.
        y_axis: y-axis label with unit.
        unit: unit of the values (CSV column).
        metric: the metric key the values are (CSV column; may be empty).
        style: one of :data:`STYLES`.
        log_y: logarithmic y axis.
    """

    name: str
    slug: str
    title: str
    paper: str
    source: str
    x_name: str
    x_axis: str
    x_short: str
    y_axis: str
    unit: str
    metric: str = ""
    style: str = "lines"
    log_y: bool = False

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")

    @property
    def stem(self) -> str:
        return f"{self.name}_{self.slug}"


@dataclass
class Cell:
    """Outcomes of one series at one x."""

    values: list[float] = field(default_factory=list)
    failed: int = 0
    not_applicable: int = 0
    seconds: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def stats(self) -> tuple[int, float, float]:
        """(n, mean, 95 % Student-t CI half-width); the half-width is nan for n < 2."""
        n = len(self.values)
        if n == 0:
            return 0, float("nan"), float("nan")
        mean = float(np.mean(self.values))
        if n < 2:
            return n, mean, float("nan")
        sem = float(np.std(self.values, ddof=1)) / math.sqrt(n)
        return n, mean, float(stats.t.ppf(0.975, n - 1)) * sem


@dataclass
class Figure:
    """Collected results of one figure: ``cells[series][x index]``.

    ``roles[series]`` is the solver role (``"reference"`` draws a thicker line); ``extra``
    holds script data (``"axis"``: format fields of ``spec.x_axis``).
    """

    spec: FigureSpec
    xs: list[Any]
    ticks: list[str]
    categorical: bool = False
    cells: dict[str, list[Cell]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xs, self.ticks = list(self.xs), list(self.ticks)
        if len(self.xs) != len(self.ticks):
            raise ValueError(f"{len(self.xs)} x values but {len(self.ticks)} tick labels")

    def cell(self, series: str, role: str, i: int) -> Cell:
        if series not in self.cells:
            self.cells[series] = [Cell() for _ in self.xs]
            self.roles[series] = role
        return self.cells[series][i]

    def record(self, series: str, role: str, i: int, sol: Solution | None, value: float) -> None:
        """Count one solve: ``value`` (the metric of its decision), a failure (``sol`` None,
        status ``solver_error`` or a non-finite value) or not-applicable."""
        cell = self.cell(series, role, i)
        if sol is None:
            cell.failed += 1
            cell.statuses["exception"] += 1
            return
        cell.statuses[sol.status] += 1
        cell.seconds.append(sol.seconds)
        if sol.history:
            cell.iterations.append(len(sol.history) - 1)
        if sol.status == "not_applicable":
            cell.not_applicable += 1
        elif sol.status != "solver_error" and np.isfinite(value):
            cell.values.append(float(value))
        else:
            cell.failed += 1

    def add(self, series: str, role: str, i: int, value: float) -> None:
        """Count one plain value (no solver); a non-finite value counts as a failure."""
        cell = self.cell(series, role, i)
        if np.isfinite(value):
            cell.values.append(float(value))
        else:
            cell.failed += 1

    def mean(self, series: str) -> np.ndarray:
        """Mean per x (nan where no value)."""
        return np.array([c.stats()[1] for c in self.cells[series]])

    def x_text(self, i: int) -> str:
        return self.ticks[i] if self.categorical else f"{self.spec.x_short}={self.ticks[i]}"

    def problems(self) -> list[tuple[str, int, int]]:
        """(series, failed, not applicable) for every series with any."""
        out = []
        for series, cells in self.cells.items():
            failed = sum(c.failed for c in cells)
            na = sum(c.not_applicable for c in cells)
            if failed or na:
                out.append((series, failed, na))
        return out


# Solving ----------------------------------------------------------------------------------
def scenario_rng(seed: int, i: int, r: int) -> np.random.Generator:
    """Generator of the scenario of realisation ``r`` at x index ``i``."""
    return np.random.default_rng([seed, i, r, 0])


def solver_rng(seed: int, i: int, r: int) -> np.random.Generator:
    """Generator handed to every solver on that scenario (the same for each solver)."""
    return np.random.default_rng([seed, i, r, 1])


def attempt(
    solver: Solver, scenario: Any, config: Any, rng: np.random.Generator
) -> Solution | None:
    """``solver.solve``; any exception is logged and returned as ``None`` (a failure), so a
    sweep never dies on one realisation."""
    try:
        return solver.solve(scenario, config, rng=rng)
    except Exception as exc:  # counted by Figure.record, never fatal
        logger.warning("%s raised %s: %s", solver.name, type(exc).__name__, exc)
        return None


def parse_names(text: str | None) -> frozenset[str] | None:
    """A comma list as a set of names (``None`` stays ``None``: no selection)."""
    if text is None:
        return None
    return frozenset(filter(None, (p.strip() for p in text.split(","))))


def add_run_arguments(
    parser: argparse.ArgumentParser,
    figure_names: Iterable[str],
    default_out: str,
    small_help: str = "tiny sizes for smoke runs",
) -> None:
    """The options every reproduction script shares: --figures, --out, --seed, --small and
    --no-progress."""
    names = ", ".join(figure_names)
    parser.add_argument("--figures", default="all", help=f"'all' or a comma list of {names}")
    parser.add_argument("--out", default=default_out, help="output folder (created)")
    parser.add_argument("--seed", type=int, default=0, help="base seed")
    parser.add_argument("--small", action="store_true", help=small_help)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_figures(text: str, known: Iterable[str]) -> list[str]:
    """``"all"`` or a comma list of figure names (``"8"``, ``"fig08"``) -> sorted names."""
    known = sorted(known)
    if text.strip().lower() == "all":
        return known
    names = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        digits = part.removeprefix("fig")
        name = f"fig{int(digits):02d}" if digits.isdigit() else part
        if name not in known:
            raise ValueError(f"unknown figure {part!r}; known: all, {', '.join(known)}")
        names.add(name)
    return sorted(names)


# Output -----------------------------------------------------------------------------------
def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """``write(tmp)`` then ``os.replace(tmp, path)``: a reader never sees a partial file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


CSV_HEADER = (
    "figure",
    "metric",
    "x_name",
    "x",
    "x_label",
    "series",
    "role",
    "n",
    "mean",
    "ci95_half_width",
    "ci95_low",
    "ci95_high",
    "n_failed",
    "n_not_applicable",
    "mean_seconds",
    "mean_iterations",
    "statuses",
    "unit",
)


def _num(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.6g}"


def write_csv(fig: Figure, path: Path) -> None:
    """One row per (series, x): mean, 95 % CI, counts, mean seconds and iterations."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(CSV_HEADER)
    for series, cells in fig.cells.items():
        for i, cell in enumerate(cells):
            n, mean, half = cell.stats()
            secs = float(np.mean(cell.seconds)) if cell.seconds else float("nan")
            its = float(np.mean(cell.iterations)) if cell.iterations else float("nan")
            out.writerow(
                [
                    fig.spec.name,
                    fig.spec.metric,
                    fig.spec.x_name,
                    fig.xs[i],
                    fig.ticks[i],
                    series,
                    fig.roles[series],
                    n,
                    _num(mean),
                    _num(half),
                    _num(mean - half),
                    _num(mean + half),
                    cell.failed,
                    cell.not_applicable,
                    _num(secs),
                    _num(its),
                    ";".join(f"{k}:{v}" for k, v in sorted(cell.statuses.items())),
                    fig.spec.unit,
                ]
            )
    write_atomic(path, lambda tmp: tmp.write_text(buf.getvalue()))


def write_png(
    fig: Figure,
    path: Path,
    mc: int,
    *,
    colors: dict[str, str] | None = None,
    label: Callable[[str], str] = str,
    mark_reference: bool = True,
) -> None:
    """Mean per series with its 95 % CI (band, or error bars in the ``dodge`` style).

    ``colors`` and ``label`` map series names to colours and legend text; with
    ``mark_reference`` the reference series is drawn thicker and labelled so.
    """
    spec = fig.spec
    f, ax = plt.subplots(figsize=(9.0, 4.8), layout="constrained")
    positions = np.arange(len(fig.xs)) if fig.categorical else np.asarray(fig.xs, dtype=float)
    palette = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 3)
    styles = iter(zip(("-", "--", ":", "-.") * 3, ("o", "s", "^", "D") * 3, strict=True))
    for k, (series, cells) in enumerate(fig.cells.items()):
        st = np.array([c.stats() for c in cells])  # [x, (n, mean, half)]
        mean, half = st[:, 1], np.nan_to_num(st[:, 2], nan=0.0)
        color = (colors or {}).get(series) or next(palette)
        is_ref = mark_reference and fig.roles[series] == "reference"
        text = label(series) + (" (reference)" if is_ref else "")
        na = sum(c.not_applicable for c in cells)
        if na:
            text += f" [N/A: {na}]"
        if spec.style == "dodge":  # nearly equal series: dodge them so each stays visible
            line, marker = next(styles)
            x = positions + 0.08 * (k - (len(fig.cells) - 1) / 2)
            ax.errorbar(
                x, mean, yerr=half, color=color, ls=line, marker=marker, ms=5, lw=1.4,
                capsize=3, label=text,
            )  # fmt: skip
            continue
        ax.plot(
            positions,
            mean,
            marker=None if spec.style == "convergence" else "o",
            ms=4,
            color=color,
            lw=2.4 if is_ref else 1.4,
            label=text,
        )
        ax.fill_between(positions, mean - half, mean + half, color=color, alpha=0.15, lw=0)
    if spec.style != "convergence":
        ax.set_xticks(positions, fig.ticks)
    if spec.log_y:
        ax.set_yscale("log")
    ax.set_xlabel(spec.x_axis.format(**fig.extra.get("axis", {})))
    ax.set_ylabel(spec.y_axis)
    ax.set_title(
        f"{spec.paper} ({spec.source}): {spec.title}\n"
        f"mean and 95 % CI over {mc} realisation{'s' * (mc != 1)}",
        fontsize=10,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside the data
    write_atomic(path, lambda tmp: f.savefig(tmp, format="png", dpi=110))
    plt.close(f)


def write_figure(fig: Figure, out: Path, mc: int, **png_kwargs: Any) -> tuple[str, str]:
    """CSV and PNG of ``fig`` in ``out``; returns their file names."""
    out.mkdir(parents=True, exist_ok=True)
    csv_name, png_name = f"{fig.spec.stem}.csv", f"{fig.spec.stem}.png"
    write_csv(fig, out / csv_name)
    write_png(fig, out / png_name, mc, **png_kwargs)
    return csv_name, png_name


# Trend checks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """One trend of the paper, measured: ``status`` is PASS, FAIL or SKIP."""

    figure: str
    claim: str
    status: str
    detail: str

    def line(self) -> str:
        return f"{self.status} {self.figure}: {self.claim} [{self.detail}]"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def sequence_text(fig: Figure, values: np.ndarray, digits: int = 3) -> str:
    """``"tick: value, ..."`` along the x axis."""
    return ", ".join(f"{fig.ticks[i]}: {v:.{digits}g}" for i, v in enumerate(values))


def check_best(
    fig: Figure,
    ref: str,
    claim: str,
    *,
    sense: str = "max",
    label: Callable[[str], str] = str,
    tolerance: float = 0.0,
) -> Check:
    """``ref`` has the best mean of all series at every x (within ``tolerance``, in the
    figure's unit); the detail lists the margin to the best rival per x."""
    others = [s for s in fig.cells if s != ref]
    if ref not in fig.cells or not others:
        return Check(fig.spec.paper, claim, "SKIP", f"needs {ref} and another series")
    sign = 1.0 if sense == "max" else -1.0
    ref_mean = fig.mean(ref)
    parts, ok = [], True
    for i in range(len(fig.xs)):
        rivals = {s: fig.mean(s)[i] for s in others if np.isfinite(fig.mean(s)[i])}
        if not rivals or not np.isfinite(ref_mean[i]):
            continue
        top = max(rivals, key=lambda s: sign * rivals[s])
        margin = sign * (ref_mean[i] - rivals[top])
        ok &= margin >= -tolerance
        parts.append(f"{fig.ticks[i]}: {margin:+.3g} vs {label(top)}")
    if not parts:
        return Check(fig.spec.paper, claim, "SKIP", "no finite means")
    return Check(fig.spec.paper, claim, verdict(ok), "margin " + "; ".join(parts))


def check_monotone(
    fig: Figure, series: str, rising: bool, claim: str, *, label: Callable[[str], str] = str
) -> Check:
    """The finite means of ``series`` strictly rise (or fall) along x."""
    if series not in fig.cells:
        return Check(fig.spec.paper, claim, "SKIP", f"{series} not run")
    mean = fig.mean(series)
    finite = mean[np.isfinite(mean)]
    diffs = np.diff(finite)
    ok = len(finite) >= 2 and bool(np.all(diffs > 0) if rising else np.all(diffs < 0))
    return Check(fig.spec.paper, claim, verdict(ok), f"{label(series)} " + sequence_text(fig, mean))


def summary_lines(
    *,
    title: str,
    command: str,
    mc: int,
    seed: int,
    setup: Sequence[str],
    machine: str,
    wall_s: float,
    checks: Sequence[Check],
    figures: dict[str, Figure],
    files: Sequence[tuple[str, str, str]],
    label: Callable[[str], str] = str,
    quiet: Iterable[str] = (),
) -> list[str]:
    """The ``summary.md`` of a run: command, Monte Carlo count, setup lines, machine, wall
    time, the trend checks, failed solves (except in the figures named in ``quiet``) and the
    file table (``files``: name, CSV, PNG)."""
    counts = Counter(c.status for c in checks)
    lines = [
        f"# {title}",
        "",
        f"Command: `{command}`",
        "",
        f"Monte Carlo: {mc} realisation{'s' * (mc != 1)} per point, seed {seed}.",
        *setup,
        f"Machine: {machine}.",
        f"Wall time: {wall_s:.0f} s.",
        "",
        "Every series solves the same realisations at each x (scenario seed "
        "`[seed, x index, realisation]`). Bands: 95 % Student-t confidence interval of the "
        "mean. The trend checks are reported, never asserted.",
        "",
        f"## Trend checks ({counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['SKIP']} SKIP)",
        "",
        "```",
        *(c.line() for c in checks),
        "```",
        "",
        "## Failures and not-applicable solves",
        "",
    ]
    bad = [
        f"- {name} {label(series)}: {failed} failed, {na} not applicable"
        for name, fig in sorted(figures.items())
        if name not in set(quiet)
        for series, failed, na in fig.problems()
    ]
    lines += bad or ["None."]
    lines += ["", "## Files", "", "| figure | content | CSV | PNG |", "|---|---|---|---|"]
    for name, csv_name, png_name in files:
        spec = figures[name].spec
        lines.append(
            f"| {spec.paper} | {spec.title} | [{csv_name}]({csv_name}) | [{png_name}]({png_name}) |"
        )
    return lines
