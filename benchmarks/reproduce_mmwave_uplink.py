r"""Reproduce the simulation figures of model 001 (IRS-assisted uplink mmWave, minimum power).

Run from the repository root::

    python -m benchmarks.reproduce_mmwave_uplink                      # every figure
    python -m benchmarks.reproduce_mmwave_uplink --figures 4,8 --mc 50
    python -m benchmarks.reproduce_mmwave_uplink --sdr-max-elements 200 --mc-slow 10  # hours
    python -m benchmarks.reproduce_mmwave_uplink --small --mc 1 --out /tmp/smoke  # smoke run

The figures of spec ``shared/models/001-mmwave-uplink-latency.md`` section 10, at the
defaults of section 9 (28 GHz, N = 8, M = 20 x 10, G_IRS = 15 dB, B = 100 MHz,
sigma^2 = -85 dBm, T = 20 ms, AP (0, 0), IRS (75, 5), user 1 (60, 0), user 2 (50, 20)):

=======  =================================================================================
figure   what (series: no IRS, CCMO = the reference, ADMM, SDR)
=======  =================================================================================
fig04a/b total power vs M (M_h swept, M_v = 10), one user, LoS / OLoS (p_b = 0 / 1)
fig05a/b total power vs d_1 (user 1 at (d_1, 0)), one user, LoS / OLoS
fig06a/b total power vs the data size D, one user, LoS / OLoS
fig07    total power vs G_IRS, one user, OLoS
fig08    total power vs the blockage probability p_b, one user
fig09    per-user power, two users (D = 4, 2 Mnats), cases (a) both LoS, (b) both blocked,
         (c) user 1 LoS / user 2 blocked, (d) the mirror
fig10    sum rate (true channel) vs the CSI uncertainty delta, two users, OLoS
fig11    sum rate vs the user antennas N_u at delta = 0.1, two users, OLoS
fig12a   total power per outer iteration (best so far), CCMO and ADMM at 28 and 73 GHz
fig12b   sum rate vs the latency T at 28 and 73 GHz, with a 23 dBm per-user cap (CCMO)
=======  =================================================================================

Counts (the time budget; documented in summary.md): every point solves ``--mc``
realisations with the no-IRS baseline and CCMO; ADMM (a cvxpy SOCP per ADMM iteration,
``--admm-iterations`` of them per theta-step) and SDR (a CVXOPT SDP per outer iteration:
about 0.7 s at M = 50 and 90 s at M = 200) solve only the first ``--mc-slow`` of them, SDR
only where M <= ``--sdr-max-elements``. Comparisons with ADMM or SDR in the trend checks use
the drops both sides solved (paired). In the PNGs, ADMM and SDR are drawn as CCMO's mean
over all drops plus their mean paired difference from CCMO (band: CI of that difference),
because their own means over a few drops would mostly show the drop-to-drop spread of the
shadowing; the CSVs hold every series' raw mean over its own drops. Powers are averaged over
the drops with a feasible solution (an infeasible one counts in the CSV's status column);
sum rates include every drop.

Channels: realisation ``r`` of figure ``f`` is drawn from ``default_rng([seed, f, r, 0])``
at every x (common random numbers along the sweep: the no-IRS curve of the M sweep is then
exactly flat, and a larger p_b blocks a superset of the users); the no-IRS baseline sees the
same draws with the IRS switched off; every solver gets ``default_rng([seed, f, r, 1])``.
The no-IRS baseline solves the realisations of a point in one ``solve_batch`` call (its inner
loop is batch-first) and sum rates are scored in one metrics call per scheme and point; the
numbers are those of the per-realisation calls.

Output in ``--out`` (atomic writes): per figure a CSV (mean, 95 % CI, counts per series per
x) and a PNG, and ``summary.md`` with the trend checks of section 10 (also printed; reported,
never asserted).
"""

from __future__ import annotations

import os

# The matrices are small (N = 8, M <= 301): BLAS threads only add overhead, and on a shared
# machine they slow every product down by an order of magnitude. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import dataclasses
import logging
import math
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from tqdm import tqdm

from baselines.core import Solution, Solver
from baselines.mmwave_uplink import NoIRS, admm, ccmo, sdr
from benchmarks import figures as out_figs
from benchmarks.batched import attempt_batch, scores
from benchmarks.common import machine
from benchmarks.figures import Check, Figure, attempt, verdict, write_atomic
from irs_gym.models import mmwave_uplink as model

logger = logging.getLogger(__name__)

DEFAULT_OUT = "docs/figures/mmwave_uplink"
LABELS = {"no_irs": "without IRS", "ccmo": "CCMO", "admm": "ADMM", "sdr": "SDR"}
COLORS = {"no_irs": "tab:gray", "ccmo": "tab:red", "admm": "tab:blue", "sdr": "tab:green"}
IRS_SCHEMES = ("ccmo", "admm", "sdr")
TWO_USERS = {"num_users": 2, "data_nats": (4e6, 2e6)}
FIG9_CASES = (
    ("(a) both LoS", (0.0, 0.0)),
    ("(b) both blocked", (1.0, 1.0)),
    ("(c) U1 LoS, U2 blocked", (0.0, 1.0)),
    ("(d) U1 blocked, U2 LoS", (1.0, 0.0)),
)


def label(name: str) -> str:
    """Display name of a series (``"ccmo 73 GHz"`` -> ``"CCMO 73 GHz"``)."""
    head, _, tail = name.partition(" ")
    return LABELS.get(head, head) + (f" {tail}" if tail else "")


# The grid of a run ------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    """What a run sweeps: config overrides for every point, and the x values per figure."""

    base: dict[str, Any]
    elements_h: tuple[int, ...]
    d1_m: tuple[float, ...]
    data_nats: tuple[float, ...]
    irs_gain_db: tuple[float, ...]
    blockage_prob: tuple[float, ...]
    delta: tuple[float, ...]
    user_antennas: tuple[int, ...]
    latency_s: tuple[float, ...]
    fig11_delta: float = 0.1
    fig12_cap_dbm: float = 23.0


FULL = Grid(
    base={},
    elements_h=(2, 5, 10, 20, 30),
    d1_m=(10.0, 25.0, 40.0, 55.0, 70.0),
    data_nats=(1e6, 2e6, 3e6, 4e6, 5e6),
    irs_gain_db=(10.0, 12.5, 15.0, 17.5, 20.0),
    blockage_prob=(0.0, 0.25, 0.5, 0.75, 1.0),
    delta=(0.0, 0.05, 0.1, 0.2, 0.3),
    user_antennas=(1, 2, 4, 8),
    latency_s=(0.02, 0.03, 0.04, 0.05, 0.06),
)

#: ``--small``: tiny sizes for smoke runs (seconds, not minutes); numbers mean little.
SMALL = Grid(
    base={"num_ap_antennas": 4, "elements_h": 2, "elements_v": 3},
    elements_h=(1, 2),
    d1_m=(30.0, 60.0),
    data_nats=(2e6, 4e6),
    irs_gain_db=(10.0, 20.0),
    blockage_prob=(0.0, 1.0),
    delta=(0.0, 0.2),
    user_antennas=(1, 2),
    latency_s=(0.02, 0.04),
)


# Figures ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class FigureSpec(out_figs.FigureSpec):
    """One figure (panel) of spec section 10 plus the id that seeds its realisations."""

    number: int


POWER = {"y_axis": "total transmit power (dBm)", "unit": "dBm", "metric": "total_power_dbm"}
RATE = {"y_axis": "sum rate (Mbit/s)", "unit": "Mbit/s", "metric": "sum_rate_bps"}


def _spec(name: str, slug: str, title: str, x_name: str, x_axis: str, short: str, **kw):
    kind = kw.pop("kind", POWER)
    return FigureSpec(
        name=name,
        slug=slug,
        title=title,
        paper=f"Fig. {int(name[3:5])}{name[5:]}",
        source="spec 001 §10",
        x_name=x_name,
        x_axis=x_axis,
        x_short=short,
        number=int(name[3:5]) * 10 + (ord(name[5]) - 96 if len(name) > 5 else 0),
        **kind,
        **kw,
    )


def _panels(n: int, slug: str, what: str, x_name: str, x_axis: str, short: str):
    return [
        _spec(
            f"fig{n:02d}{p}",
            f"{slug}_{case.lower()}",
            f"{what}, one user, {case}",
            x_name,
            x_axis,
            short,
        )
        for p, case in (("a", "LoS"), ("b", "OLoS"))
    ]


SPECS: dict[str, FigureSpec] = {
    s.name: s
    for s in (
        *_panels(
            4, "power_vs_m", "power vs M", "num_elements", "IRS elements $M$ ($M_v$ = 10)", "M"
        ),
        *_panels(5, "power_vs_d1", "power vs d_1", "d1_m", "AP - user 1 distance $d_1$ (m)", "d_1"),
        *_panels(
            6,
            "power_vs_data",
            "power vs data size",
            "data_nats",
            "data size $D$ ($10^6$ nats)",
            "D",
        ),
        _spec(
            "fig07",
            "power_vs_irs_gain",
            "power vs G_IRS, one user, OLoS",
            "irs_gain_db",
            "relative reflection gain $G_{{IRS}}$ (dB)",
            "G_IRS",
        ),
        _spec(
            "fig08",
            "power_vs_blockage",
            "power vs blockage probability, one user",
            "blockage_prob",
            "LoS blockage probability $p_b$",
            "p_b",
        ),
        _spec(
            "fig09",
            "two_user_power",
            "per-user power, two users",
            "case",
            "case and user: (a) both LoS, (b) both blocked, (c) U1 LoS / U2 blocked, (d) U1 "
            "blocked / U2 LoS ($D_1$ = 4, $D_2$ = 2 Mnats)",
            "case",
            style="dodge",
        ),
        _spec(
            "fig10",
            "sum_rate_vs_delta",
            "sum rate under imperfect CSI, two users, OLoS",
            "csi_uncertainty",
            r"CSI uncertainty $\delta$",
            "delta",
            kind=RATE,
        ),
        _spec(
            "fig11",
            "sum_rate_vs_user_antennas",
            "sum rate under imperfect CSI vs user antennas, two users",
            "num_user_antennas",
            "user antennas $N_u$ ($\\delta$ = {delta})",
            "N_u",
            kind=RATE,
        ),
        _spec(
            "fig12a",
            "convergence",
            "convergence at 28 and 73 GHz, two users, OLoS",
            "iteration",
            "outer iteration $t$ of Algorithm 1",
            "t",
            style="convergence",
        ),
        _spec(
            "fig12b",
            "sum_rate_vs_latency",
            "sum rate vs latency at 28 and 73 GHz",
            "latency_s",
            "latency requirement $T$ (ms), per-user cap {cap} dBm",
            "T",
            kind=RATE,
        ),
    )
}
FIGURE_NAMES = tuple(sorted(SPECS))


def parse_figures(text: str) -> list[str]:
    """``"all"`` or a comma list (``"4"``, ``"fig04"``: both panels; ``"12a"``, ``"fig12a"``)."""
    if text.strip().lower() == "all":
        return list(FIGURE_NAMES)
    out: set[str] = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        match = re.fullmatch(r"(?:fig)?(\d+)([ab]?)", part)
        stem = f"fig{int(match.group(1)):02d}{match.group(2)}" if match else part
        found = [n for n in FIGURE_NAMES if n == stem or (len(stem) == 5 and n[:5] == stem)]
        if not found:
            raise ValueError(f"unknown figure {part!r}; known: all, {', '.join(FIGURE_NAMES)}")
        out.update(found)
    return sorted(out)


# Solving ----------------------------------------------------------------------------------
@dataclass
class Context:
    """Counts and solvers of a run."""

    grid: Grid
    mc: int
    mc_slow: int
    sdr_max_elements: int
    seed: int
    solvers: dict[str, Solver]
    bar: Any
    no_irs: Solver = dataclasses.field(default_factory=lambda: NoIRS(role="benchmark"))

    def runs(self, name: str, config: model.MmWaveUplinkConfig, r: int) -> bool:
        """Whether solver ``name`` solves realisation ``r`` at ``config``."""
        if name in ("no_irs", "ccmo"):
            return True
        if r >= self.mc_slow:
            return False
        return name != "sdr" or config.num_elements <= self.sdr_max_elements


def rngs(seed: int, number: int, r: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(scenario, solver) generators of realisation r of figure ``number``."""
    return np.random.default_rng([seed, number, r, 0]), np.random.default_rng([seed, number, r, 1])


def power_dbm(config, scenarios, sols: Sequence[Solution | None]) -> list[float]:
    """Total power of each feasible solution (nan otherwise: averaged over feasible drops)."""
    return [
        float("nan")
        if sol is None or sol.decision is None or sol.status == "infeasible"
        else float(sol.objective)
        for sol in sols
    ]


def sum_rate_mbps(config, scenarios, sols: Sequence[Solution | None]) -> np.ndarray:
    """Sum rate (Mbit/s) of each solution's decision on its true channel (one metrics call)."""
    return scores(model.metrics, config, scenarios, sols, "sum_rate_bps") / 1e6


@dataclass
class Points:
    """One scheme's solves at one x: its config and, per solved realisation, the index r,
    the scenario and the solution (``None``: the solve raised)."""

    config: model.MmWaveUplinkConfig
    rs: list[int] = dataclasses.field(default_factory=list)
    scenarios: list[model.MmWaveUplinkScenario] = dataclasses.field(default_factory=list)
    solutions: list[Solution | None] = dataclasses.field(default_factory=list)


def solve_points(
    ctx: Context, config: model.MmWaveUplinkConfig, number: int, *, with_no_irs: bool
) -> dict[str, Points]:
    """Every scheme on the ``--mc`` realisations at ``config`` (those :meth:`Context.runs`
    selects), name -> :class:`Points`: the no-IRS baseline in one batch solve, the other
    schemes one realisation at a time (the progress bar counts realisations)."""
    out: dict[str, Points] = {}
    if with_no_irs:
        off = dataclasses.replace(config, irs_enabled=False)
        scens = [model.sample_scenario(off, rngs(ctx.seed, number, r)[0]) for r in range(ctx.mc)]
        solver_rngs = [rngs(ctx.seed, number, r)[1] for r in range(ctx.mc)]
        sols = attempt_batch(ctx.no_irs, scens, off, solver_rngs)
        out["no_irs"] = Points(off, list(range(ctx.mc)), scens, sols)
    points = {name: Points(config) for name in ctx.solvers}
    for r in range(ctx.mc):
        scenario = model.sample_scenario(config, rngs(ctx.seed, number, r)[0])
        for name, solver in ctx.solvers.items():
            if ctx.runs(name, config, r):
                sol = attempt(solver, scenario, config, rngs(ctx.seed, number, r)[1])
                points[name].rs.append(r)
                points[name].scenarios.append(scenario)
                points[name].solutions.append(sol)
        ctx.bar.update(1)
    out.update((name, p) for name, p in points.items() if p.rs)
    return out


def record(fig: Figure, series: str, i: int, r: int, sol: Solution | None, value: float) -> None:
    """``Figure.record`` plus the value keyed by realisation (``extra["drops"]``), so that
    series solved on different subsets of the drops can be paired exactly."""
    head = series.split(" ")[0]
    fig.record(series, "reference" if head == "ccmo" else "benchmark", i, sol, value)
    fig.extra.setdefault("drops", {}).setdefault((series, i), {})[r] = value


def base_config(ctx: Context, **overrides) -> model.MmWaveUplinkConfig:
    return model.MmWaveUplinkConfig(**{**ctx.grid.base, **overrides})


def run_sweep(
    ctx: Context,
    spec: FigureSpec,
    xs: Sequence[Any],
    ticks: Sequence[str],
    configure: Callable[[Any], model.MmWaveUplinkConfig],
    value: Callable[[Any, list, list[Solution | None]], Sequence[float]],
    *,
    with_no_irs: bool = True,
) -> Figure:
    """One value per scheme, x and realisation (Figs. 4-8, 10, 11); ``value(config,
    scenarios, solutions)`` scores a scheme's solves at one x."""
    fig = Figure(spec, xs, ticks)
    for i, x in enumerate(xs):
        points = solve_points(ctx, configure(x), spec.number, with_no_irs=with_no_irs)
        for name, p in points.items():
            got = value(p.config, p.scenarios, p.solutions)
            for r, sol, v in zip(p.rs, p.solutions, got, strict=True):
                record(fig, name, i, r, sol, float(v))
    return fig


def run_fig09(ctx: Context, spec: FigureSpec) -> Figure:
    """Per-user power (dBm) in the four blockage cases: x = (case, user)."""
    ticks = [f"{case.split(' ')[0]} U{k + 1}" for case, _ in FIG9_CASES for k in range(2)]
    fig = Figure(spec, list(range(len(ticks))), ticks, categorical=True)
    for c, (_, blockage) in enumerate(FIG9_CASES):
        config = base_config(ctx, **TWO_USERS, blockage_prob=blockage)
        for name, p in solve_points(ctx, config, spec.number, with_no_irs=True).items():
            for r, sol in zip(p.rs, p.solutions, strict=True):
                ok = sol is not None and sol.decision is not None and sol.status != "infeasible"
                for k in range(2):
                    v = 10 * math.log10(sol.decision.power_w[k]) + 30 if ok else float("nan")
                    record(fig, name, 2 * c + k, r, sol, v)
    return fig


def run_fig12a(ctx: Context, spec: FigureSpec) -> Figure:
    """Histories (best total power so far, dBm) of CCMO and ADMM at 28 and 73 GHz, padded
    with their last value after the solver stopped."""
    runs: dict[str, dict[int, Solution | None]] = {}
    for carrier in (28, 73):
        config = base_config(ctx, **TWO_USERS, carrier_ghz=carrier)
        points = solve_points(ctx, config, spec.number, with_no_irs=False)
        for name in ("ccmo", "admm"):
            if name in points:
                p = points[name]
                runs[f"{name} {carrier} GHz"] = dict(zip(p.rs, p.solutions, strict=True))
    length = max(
        (len(s.history) for v in runs.values() for s in v.values() if s and s.history), default=1
    )
    fig = Figure(spec, list(range(length)), [str(t) for t in range(length)])
    for series, sols in runs.items():
        for r, sol in sols.items():
            for t in range(length):
                ok = sol is not None and bool(sol.history) and sol.status != "infeasible"
                v = sol.history[min(t, len(sol.history) - 1)] if ok else float("nan")
                record(fig, series, t, r, sol, v)
    fig.extra["runs"] = runs
    return fig


def run_fig12b(ctx: Context, spec: FigureSpec) -> Figure:
    xs = ctx.grid.latency_s
    fig = Figure(spec, xs, [f"{1e3 * t:g}" for t in xs])
    fig.extra["axis"] = {"cap": f"{ctx.grid.fig12_cap_dbm:g}"}
    for carrier in (28, 73):
        for i, t in enumerate(xs):
            config = base_config(
                ctx,
                **TWO_USERS,
                carrier_ghz=carrier,
                latency_s=t,
                max_power_dbm=ctx.grid.fig12_cap_dbm,
            )
            scens, sols = [], []
            for r in range(ctx.mc):
                scen_rng, solver_rng = rngs(ctx.seed, spec.number, r)
                scens.append(model.sample_scenario(config, scen_rng))
                sols.append(attempt(ctx.solvers["ccmo"], scens[-1], config, solver_rng))
                ctx.bar.update(1)
            rates = sum_rate_mbps(config, scens, sols)
            for r, (sol, rate) in enumerate(zip(sols, rates, strict=True)):
                record(fig, f"ccmo {carrier} GHz", i, r, sol, float(rate))
    return fig


def run_figure(ctx: Context, name: str) -> Figure:
    g, spec = ctx.grid, SPECS[name]
    los = {"a": 0.0, "b": 1.0}.get(name[5:], 1.0)
    one = {"num_users": 1, "blockage_prob": los}
    if name.startswith("fig04"):
        xs = g.elements_h
        ticks = [str(mh * base_config(ctx).elements_v) for mh in xs]
        return run_sweep(
            ctx, spec, xs, ticks, lambda x: base_config(ctx, **one, elements_h=x), power_dbm
        )
    if name.startswith("fig05"):
        xs = g.d1_m
        return run_sweep(
            ctx,
            spec,
            xs,
            [f"{x:g}" for x in xs],
            lambda x: base_config(ctx, **one, user_positions_m=((x, 0.0),)),
            power_dbm,
        )
    if name.startswith("fig06"):
        xs = g.data_nats
        return run_sweep(
            ctx,
            spec,
            xs,
            [f"{x / 1e6:g}" for x in xs],
            lambda x: base_config(ctx, **one, data_nats=x),
            power_dbm,
        )
    if name == "fig07":
        xs = g.irs_gain_db
        return run_sweep(
            ctx,
            spec,
            xs,
            [f"{x:g}" for x in xs],
            lambda x: base_config(ctx, **one, irs_gain_db=x),
            power_dbm,
        )
    if name == "fig08":
        xs = g.blockage_prob
        return run_sweep(
            ctx,
            spec,
            xs,
            [f"{x:g}" for x in xs],
            lambda x: base_config(ctx, num_users=1, blockage_prob=x),
            power_dbm,
        )
    if name == "fig09":
        return run_fig09(ctx, spec)
    if name == "fig10":
        xs = g.delta
        return run_sweep(
            ctx,
            spec,
            xs,
            [f"{x:g}" for x in xs],
            lambda x: base_config(ctx, **TWO_USERS, csi_uncertainty=x),
            sum_rate_mbps,
            with_no_irs=False,
        )
    if name == "fig11":
        xs = g.user_antennas
        fig = run_sweep(
            ctx,
            spec,
            xs,
            [str(x) for x in xs],
            lambda x: base_config(
                ctx, **TWO_USERS, csi_uncertainty=g.fig11_delta, num_user_antennas=x
            ),
            sum_rate_mbps,
            with_no_irs=False,
        )
        fig.extra["axis"] = {"delta": f"{g.fig11_delta:g}"}
        return fig
    if name == "fig12a":
        return run_fig12a(ctx, spec)
    return run_fig12b(ctx, spec)


def job_size(grid: Grid, name: str) -> int:
    """Progress-bar units per realisation of a figure."""
    sizes = {
        "fig04": len(grid.elements_h),
        "fig05": len(grid.d1_m),
        "fig06": len(grid.data_nats),
        "fig07": len(grid.irs_gain_db),
        "fig08": len(grid.blockage_prob),
        "fig09": len(FIG9_CASES),
        "fig10": len(grid.delta),
        "fig11": len(grid.user_antennas),
    }
    if name == "fig12a":
        return 2
    if name == "fig12b":
        return 2 * len(grid.latency_s)
    return sizes[name[:5]]


# Trend checks (spec section 10) -----------------------------------------------------------
def paired(fig: Figure, a: str, b: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Means of series a and b per x over the drops where both have a finite value, and the
    number of such drops."""
    drops = fig.extra.get("drops", {})
    ma, mb, counts = [], [], []
    for i in range(len(fig.xs)):
        va, vb = drops.get((a, i), {}), drops.get((b, i), {})
        common = [r for r in va if r in vb and np.isfinite(va[r]) and np.isfinite(vb[r])]
        counts.append(len(common))
        ma.append(np.mean([va[r] for r in common]) if common else np.nan)
        mb.append(np.mean([vb[r] for r in common]) if common else np.nan)
    return np.array(ma), np.array(mb), counts


def plot_view(fig: Figure) -> Figure:
    """The figure drawn in the PNG: series solved on every drop as they are; ADMM and SDR
    (solved on the first ``--mc-slow`` drops) as CCMO's mean over all drops plus their
    per-drop difference from CCMO, so their band is the CI of that paired difference. With
    common random numbers this compares like with like; the raw means are in the CSV."""
    view = Figure(fig.spec, fig.xs, fig.ticks, fig.categorical)
    view.extra = dict(fig.extra)
    drops = fig.extra.get("drops", {})
    for series, cells in fig.cells.items():
        head, _, tail = series.partition(" ")
        ref = " ".join(filter(None, ("ccmo", tail)))
        slow = head in ("admm", "sdr") and ref in fig.cells
        for i, cell in enumerate(cells):
            target = view.cell(series, fig.roles[series], i)
            if not slow:
                target.values = list(cell.values)
                continue
            base = fig.cells[ref][i].stats()[1]
            va, vb = drops.get((series, i), {}), drops.get((ref, i), {})
            target.values = [
                base + va[r] - vb[r]
                for r in sorted(va)
                if r in vb and np.isfinite(va[r]) and np.isfinite(vb[r])
            ]
    return view


def has(fig: Figure, *names: str) -> bool:
    return all(n in fig.cells and any(c.values for c in fig.cells[n]) for n in names)


def check_not_above(fig: Figure, scheme: str, ref: str = "no_irs", tol: float = 0.0) -> Check:
    claim = (
        f"{label(scheme)} needs no more power than {label(ref)} (mean, every {fig.spec.x_short})"
    )
    if not has(fig, scheme, ref):
        return Check(fig.spec.paper, claim, "SKIP", f"needs {scheme} and {ref}")
    a, b, n = paired(fig, scheme, ref)
    gap = b - a
    ok = bool(np.all(gap[np.isfinite(gap)] >= -tol))
    return Check(
        fig.spec.paper,
        claim,
        verdict(ok),
        "gain (dB) " + out_figs.sequence_text(fig, gap) + f" [pairs {min(n)}-{max(n)}]",
    )


def check_gap(fig: Figure, claim: str, test: Callable[[np.ndarray], bool], scheme="ccmo") -> Check:
    if not has(fig, scheme, "no_irs"):
        return Check(fig.spec.paper, claim, "SKIP", f"needs {scheme} and no_irs")
    a, b, _ = paired(fig, scheme, "no_irs")
    gap = b - a
    return Check(
        fig.spec.paper, claim, verdict(test(gap)), "gain (dB) " + out_figs.sequence_text(fig, gap)
    )


def rising(v: np.ndarray) -> bool:
    """Non-decreasing along x and higher at the end (ties occur with common random numbers,
    e.g. when no drop changes blockage state between two p_b values)."""
    v = v[np.isfinite(v)]
    return len(v) >= 2 and bool(np.all(np.diff(v) >= 0) and v[-1] > v[0])


def falling(v: np.ndarray) -> bool:
    """Non-increasing along x and lower at the end."""
    return rising(-v)


def check_close(fig: Figure, a: str, b: str, tol_db: float) -> Check:
    claim = f"{label(a)} ≈ {label(b)} (paired means within {tol_db:g} dB)"
    if not has(fig, a, b):
        return Check(fig.spec.paper, claim, "SKIP", f"needs {a} and {b}")
    ma, mb, n = paired(fig, a, b)
    diff = ma - mb
    ok = bool(np.all(np.abs(diff[np.isfinite(diff)]) <= tol_db))
    return Check(
        fig.spec.paper,
        claim,
        verdict(ok),
        "difference " + out_figs.sequence_text(fig, diff) + f" [pairs {min(n)}-{max(n)}]",
    )


def check_beats_sdr(fig: Figure, scheme: str, sense: str = "min") -> Check:
    claim = f"{label(scheme)} beats SDR (paired means, every {fig.spec.x_short} SDR ran)"
    if not has(fig, scheme, "sdr"):
        return Check(fig.spec.paper, claim, "SKIP", "SDR not run (M > --sdr-max-elements)")
    ma, mb, n = paired(fig, scheme, "sdr")
    margin = (mb - ma) if sense == "min" else (ma - mb)
    finite = np.isfinite(margin) & (np.array(n) > 0)
    ok = bool(np.all(margin[finite] > 0))
    return Check(
        fig.spec.paper,
        claim,
        verdict(ok),
        "margin " + out_figs.sequence_text(fig, np.where(finite, margin, np.nan), 3),
    )


def check_series(fig: Figure, names: Sequence[str], claim: str, test) -> Check:
    names = [n for n in names if has(fig, n)]
    if not names:
        return Check(fig.spec.paper, claim, "SKIP", "no series")
    bad, parts = [], []
    for n in names:
        mean = fig.mean(n)
        parts.append(f"{label(n)} " + out_figs.sequence_text(fig, mean))
        if not test(mean):
            bad.append(label(n))
    detail = "; ".join(parts) + (f"; fails: {', '.join(bad)}" if bad else "")
    return Check(fig.spec.paper, claim, verdict(not bad), detail)


def checks_fig09(fig: Figure) -> list[Check]:
    out = []
    if not has(fig, "ccmo", "no_irs"):
        return [Check(fig.spec.paper, "two-user cases", "SKIP", "no results")]
    ccmo_m, none_m, _ = paired(fig, "ccmo", "no_irs")
    gain = none_m - ccmo_m  # per (case, user)
    g = gain.reshape(4, 2)
    p = ccmo_m.reshape(4, 2)

    def fmt(c: int) -> str:
        return (
            f"U1 {p[c, 0]:.2f} dBm (gain {g[c, 0]:.2f} dB), "
            f"U2 {p[c, 1]:.2f} dBm (gain {g[c, 1]:.2f} dB)"
        )

    paper = fig.spec.paper
    out.append(
        Check(
            paper + "(a)",
            "both LoS: small IRS gain (< 1 dB per user)",
            verdict(bool(np.all(g[0] < 1.0))),
            fmt(0),
        )
    )
    out.append(
        Check(
            paper + "(a)",
            "both LoS: user 1 (larger gamma_bar) needs more power",
            verdict(bool(p[0, 0] > p[0, 1])),
            fmt(0),
        )
    )
    out.append(
        Check(
            paper + "(b)",
            "both blocked: the IRS is key for both (gain >= 1 dB each)",
            verdict(bool(np.all(g[1] >= 1.0))),
            fmt(1),
        )
    )
    for c, (lo, bl) in ((2, (0, 1)), (3, (1, 0))):
        case = "(c)" if c == 2 else "(d)"
        out.append(
            Check(
                paper + case,
                f"large gain for the blocked user {bl + 1}, little for "
                f"the LoS user {lo + 1} (gain_blocked > 1 dB > gain_LoS)",
                verdict(bool(g[c, bl] > 1.0 > g[c, lo])),
                fmt(c),
            )
        )
        out.append(
            Check(
                paper + case,
                f"the LoS user {lo + 1} needs less power than the blocked user {bl + 1}",
                verdict(bool(p[c, lo] < p[c, bl])),
                fmt(c),
            )
        )
    return out


def checks_fig12a(fig: Figure) -> list[Check]:
    runs, paper = fig.extra.get("runs", {}), fig.spec.paper
    finals, iters = {}, {}
    for series, by_drop in runs.items():
        sols = [by_drop[r] for r in sorted(by_drop)]
        good = [s for s in sols if s is not None and s.history and s.status != "infeasible"]
        finals[series] = [s.objective for s in good]
        iters[series] = [len(s.history) - 1 for s in good]
    every = [s for v in runs.values() for s in v.values() if s is not None and s.history]
    rises = sum(bool(np.any(np.diff(s.history) > 0)) for s in every)
    out = [
        Check(
            paper,
            "the reported (best-so-far) total power never rises over the iterations",
            verdict(bool(every) and rises == 0),
            f"{rises}/{len(every)} runs with a rise",
        )
    ]
    for carrier in (28, 73):
        a, b = f"ccmo {carrier} GHz", f"admm {carrier} GHz"
        if finals.get(a) and finals.get(b):
            n = min(len(finals[a]), len(finals[b]))
            d = np.mean(finals[a][:n]) - np.mean(finals[b][:n])
            out.append(
                Check(
                    paper,
                    f"CCMO and ADMM converge alike at {carrier} GHz (paired final "
                    "powers within 0.5 dB)",
                    verdict(abs(d) <= 0.5),
                    f"CCMO - ADMM {d:+.3f} dB over {n} runs; mean iterations CCMO "
                    f"{np.mean(iters[a][:n]):.1f}, ADMM {np.mean(iters[b][:n]):.1f}",
                )
            )
    if finals.get("ccmo 28 GHz") and finals.get("ccmo 73 GHz"):
        p28, p73 = np.mean(finals["ccmo 28 GHz"]), np.mean(finals["ccmo 73 GHz"])
        out.append(
            Check(
                paper,
                "total power higher at 73 GHz (CCMO)",
                verdict(p73 > p28),
                f"28 GHz {p28:.2f} dBm, 73 GHz {p73:.2f} dBm",
            )
        )
        i28, i73 = np.mean(iters["ccmo 28 GHz"]), np.mean(iters["ccmo 73 GHz"])
        out.append(
            Check(
                paper,
                "faster convergence at 73 GHz (fewer outer iterations, CCMO)",
                verdict(i73 < i28),
                f"28 GHz {i28:.2f}, 73 GHz {i73:.2f} iterations",
            )
        )
    return out


def checks_fig12b(fig: Figure) -> list[Check]:
    paper, a, b = fig.spec.paper, "ccmo 28 GHz", "ccmo 73 GHz"
    if not has(fig, a, b):
        return [Check(paper, "28 vs 73 GHz", "SKIP", "no results")]
    m28, m73 = fig.mean(a), fig.mean(b)
    xs = np.asarray(fig.xs)
    late = xs >= 0.04 - 1e-12
    rel = np.abs(m73 - m28) / np.maximum(np.abs(m28), 1e-12)
    detail = f"28 GHz {out_figs.sequence_text(fig, m28)}; 73 GHz {out_figs.sequence_text(fig, m73)}"
    out = [
        Check(
            paper,
            "same sum rate at 28 and 73 GHz for T >= 40 ms (within 1 %)",
            verdict(bool(np.all(rel[late] <= 0.01))) if late.any() else "SKIP",
            detail,
        )
    ]
    first = int(np.argmin(xs))
    out.append(
        Check(
            paper,
            f"higher sum rate at 73 GHz at T = {1e3 * xs[first]:g} ms",
            verdict(bool(m73[first] > m28[first])),
            detail,
        )
    )
    return out


def trend_checks(figs: dict[str, Figure]) -> list[Check]:
    out: list[Check] = []
    for name in FIGURE_NAMES:
        if name not in figs:
            continue
        fig, x = figs[name], SPECS[name].x_short
        if name[:5] in ("fig04", "fig05", "fig06", "fig07", "fig08"):
            out += [check_not_above(fig, s, tol=0.01) for s in IRS_SCHEMES if has(fig, s)]
        if name == "fig04a":
            out.append(
                check_gap(
                    fig,
                    "LoS: only a slight gain (< 1 dB at every M)",
                    lambda g: bool(np.all(g < 1.0)),
                )
            )
            out += [check_close(fig, "ccmo", s, 0.1) for s in ("admm", "sdr")]
        if name == "fig04b":
            out.append(check_gap(fig, "OLoS: the gain grows with M", rising))
            out.append(
                check_gap(
                    fig,
                    "OLoS: a substantial gain at the largest M (>= 2 dB)",
                    lambda g: bool(g[np.isfinite(g)][-1] >= 2.0),
                )
            )
            out.append(check_close(fig, "ccmo", "admm", 0.5))
            out += [check_beats_sdr(fig, s) for s in ("ccmo", "admm")]
        if name[:5] in ("fig04",):
            out.append(
                check_series(
                    fig,
                    ["no_irs"],
                    "no-IRS power does not depend on M",
                    lambda v: bool(np.ptp(v[np.isfinite(v)]) < 1e-9),
                )
            )
        if name[:5] == "fig05":
            out.append(check_series(fig, ["no_irs"], f"without IRS, power rises with {x}", rising))
            out.append(check_gap(fig, f"the IRS gain widens with {x}", rising))
        if name[:5] == "fig06":
            out.append(check_series(fig, ["no_irs", *IRS_SCHEMES], f"power rises with {x}", rising))
            out += [check_beats_sdr(fig, s) for s in ("ccmo", "admm")]
        if name == "fig07":
            out.append(
                check_series(fig, IRS_SCHEMES, f"power falls with {x} (IRS schemes)", falling)
            )
        if name == "fig08":
            out.append(check_series(fig, ["no_irs", *IRS_SCHEMES], f"power rises with {x}", rising))
            out.append(
                check_gap(
                    fig, "IRS gain negligible at p_b = 0 (< 0.5 dB)", lambda g: bool(g[0] < 0.5)
                )
            )
            out.append(
                check_gap(fig, "IRS gain large at p_b = 1 (>= 2 dB)", lambda g: bool(g[-1] >= 2.0))
            )
            out += [check_beats_sdr(fig, s) for s in ("ccmo", "admm")]
        if name == "fig09":
            out += checks_fig09(fig)
        if name == "fig10":
            out.append(
                check_series(fig, ["ccmo", "admm"], "sum rate degrades as delta grows", falling)
            )
            out += [check_beats_sdr(fig, s, "max") for s in ("ccmo", "admm")]
        if name == "fig11":
            out.append(check_series(fig, ["ccmo", "admm"], "sum rate grows with N_u", rising))
        if name == "fig12a":
            out += checks_fig12a(fig)
        if name == "fig12b":
            out += checks_fig12b(fig)
    return out


# Driver -----------------------------------------------------------------------------------
def run(figures: Sequence[str], ctx_args: dict[str, Any], progress: bool):
    grid = ctx_args["grid"]
    total = sum(job_size(grid, n) * ctx_args["mc"] for n in figures)
    figs, seconds = {}, {}
    with tqdm(
        total=total, desc="reproduce", unit="pt", disable=not progress, file=sys.stderr
    ) as bar:
        ctx = Context(bar=bar, **ctx_args)
        for name in figures:
            bar.set_postfix_str(name)
            start = time.perf_counter()
            figs[name] = run_figure(ctx, name)
            seconds[name] = time.perf_counter() - start
    return figs, seconds


def summary_text(figs, checks, files, *, command, args, grid, seconds, wall) -> str:
    base = model.MmWaveUplinkConfig(**grid.base)
    setup = [
        f"The spec's Monte Carlo count is 500; here {args.mc} per point for the no-IRS "
        f"baseline and CCMO, and the first {args.mc_slow} of them for ADMM "
        f"({args.admm_iterations} ADMM iterations per theta-step) and SDR (only where "
        f"M <= {args.sdr_max_elements}: CVXOPT takes about 0.7 s per SDP at M = 50 and 90 s "
        "at M = 200)" + ("; `--small` sizes (smoke run)." if args.small else "."),
        f"Base config (spec section 9 defaults{' with --small overrides' if args.small else ''}"
        f"): {base.carrier_ghz} GHz, N = {base.num_ap_antennas}, M = {base.elements_h} x "
        f"{base.elements_v}, G_IRS = {base.irs_gain_db:g} dB, B = {base.bandwidth_hz / 1e6:g} "
        f"MHz, sigma^2 = {base.noise_dbm:g} dBm, T = 20 ms, {base.num_nlos_paths} NLoS paths; "
        "one user: D ~ U[1, 5] Mnats (Fig. 6: fixed D); two users: D = (4, 2) Mnats.",
        "Realisation r of figure f is drawn from `default_rng([seed, f, r, 0])` at every x "
        "(common random numbers along each sweep), with the IRS switched off for the no-IRS "
        "baseline. In the PNGs, ADMM and SDR are drawn as CCMO's mean over all drops plus "
        "their mean paired difference from CCMO on the drops they solved (band: CI of that "
        "difference); the CSVs hold each series' raw mean over its own drops.",
        "Algorithm 1 starts from random phases; power curves average the drops with a "
        "feasible solution, sum-rate curves every drop. Fig. 12(b) (CCMO) caps each user at "
        f"{grid.fig12_cap_dbm:g} dBm (without a cap the sum rate is sum_k B log2(1 + "
        "gamma_bar_k) at every carrier).",
        "Time per figure: " + ", ".join(f"{n} {s:.0f} s" for n, s in seconds.items()) + ".",
    ]
    lines = out_figs.summary_lines(
        title="Model 001 (IRS-assisted uplink mmWave, minimum power): reproduction of spec "
        "section 10",
        command=command,
        mc=args.mc,
        seed=args.seed,
        setup=setup,
        machine=machine(),
        wall_s=wall,
        checks=checks,
        figures=figs,
        files=files,
        label=label,
        quiet=[n for n in figs if n == "fig12a"],
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mc", type=int, default=20, help="realisations per point")
    parser.add_argument("--mc-slow", type=int, default=4, help="of which ADMM and SDR solve")
    parser.add_argument("--admm-iterations", type=int, default=20, help="per theta-step")
    parser.add_argument("--sdr-max-elements", type=int, default=50, help="SDR only if M <= this")
    out_figs.add_run_arguments(parser, FIGURE_NAMES, DEFAULT_OUT)
    args = parser.parse_args(argv)
    for option, value in (("--mc", args.mc), ("--admm-iterations", args.admm_iterations)):
        if value < 1:
            parser.error(f"{option} must be >= 1, got {value}")
    if args.mc_slow < 0 or args.sdr_max_elements < 0:
        parser.error("--mc-slow and --sdr-max-elements must be >= 0")
    try:
        figures = parse_figures(args.figures)
    except ValueError as exc:
        parser.error(str(exc))
    grid = SMALL if args.small else FULL
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    solvers = {"ccmo": ccmo(), "admm": admm(args.admm_iterations), "sdr": sdr()}
    start = time.perf_counter()
    figs, seconds = run(
        figures,
        dict(
            grid=grid,
            mc=args.mc,
            mc_slow=min(args.mc_slow, args.mc),
            sdr_max_elements=args.sdr_max_elements,
            seed=args.seed,
            solvers=solvers,
        ),
        progress=not args.no_progress,
    )
    out = Path(args.out)
    files = []
    for name in sorted(figs):
        fig = figs[name]
        csv_name, png_name = f"{fig.spec.stem}.csv", f"{fig.spec.stem}.png"
        out.mkdir(parents=True, exist_ok=True)
        out_figs.write_csv(fig, out / csv_name)
        out_figs.write_png(
            plot_view(fig), out / png_name, args.mc, colors=_colors(fig), label=legend
        )
        files.append((name, csv_name, png_name))
    checks = trend_checks(figs)
    wall = time.perf_counter() - start
    command = "python -m benchmarks.reproduce_mmwave_uplink " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    text = summary_text(
        figs,
        checks,
        files,
        command=command.strip(),
        args=args,
        grid=grid,
        seconds=seconds,
        wall=wall,
    )
    write_atomic(out / "summary.md", lambda tmp: tmp.write_text(text))
    print(
        f"Trend checks of spec 001 section 10 ({args.mc} realisations per point, ADMM/SDR "
        f"{min(args.mc_slow, args.mc)}; reported, not asserted):"
    )
    for c in checks:
        print(c.line())
    print(f"Wrote {2 * len(files)} files and summary.md to {out} in {wall:.0f} s.")
    return 0


def legend(series: str) -> str:
    """Legend text: ADMM and SDR are drawn as CCMO + their paired difference (plot_view)."""
    head = series.split(" ")[0]
    return label(series) + (" (CCMO + paired Δ)" if head in ("admm", "sdr") else "")


def _colors(fig: Figure) -> dict[str, str]:
    """Scheme colours; the 73 GHz series of Fig. 12 are drawn in a darker shade."""
    dark = {"tab:red": "darkred", "tab:blue": "navy"}
    out = {}
    for series in fig.cells:
        head = series.split(" ")[0]
        color = COLORS.get(head, "black")
        out[series] = dark.get(color, color) if series.endswith("73 GHz") else color
    return out


if __name__ == "__main__":
    sys.exit(main())
