r"""Reproduce the simulation figures of model 003 (RIS-aided massive-MIMO SWIPT).

Run from the repository root::

    python -m benchmarks.reproduce_swipt                       # every figure (~8 min)
    python -m benchmarks.reproduce_swipt --figures fig07 --mc-opt 50
    python -m benchmarks.reproduce_swipt --small --out /tmp/smoke   # smoke run (seconds)

Spec ``shared/models/003-swipt-massive-mimo.md`` section 10 at the section-9 defaults (M = 64,
N = 100, K_I = K_E = 4, tau_c = 200, kappa = 10 dB, P_BS = 40 dBm, p_p = 20 dBm,
sigma^2 = -80 dBm, SE target 1 bit/s/Hz, EH a = 150, b = 0.014, P_max = 0.024):

=========  ===================================================  ==============================
figure     what                                                 series
=========  ===================================================  ==============================
fig03a/b   EH per EU / SE per IU vs M, two N (64, 256),         PZF, PPZF x orthogonal, shared
           DFT-Phase EPA                                        EU pilots x N
fig03c     the closed form of fig03a against the Monte Carlo    closed form, Monte Carlo
           evaluator on the same realisations
fig04a/b   EH per EU / SE per IU vs K_E (DFT-Phase EPA)         PZF, PPZF x orthogonal, shared
fig05a     Algorithm 1 (SCA power step) per iteration, at the   K_E = 2, 4
           DFT start, N = 16
fig05b     Algorithm 2 (lifted SDP phase step) per SDP, first   K_E = 2, 4
           BCD phase step, N = 16
fig06      BCD (Opt-Phase OPA with the SDP step) per            orthogonal, shared EU pilots
           iteration, N = 16
fig07      min EH vs M, PZF; IU SINR targets = EPA's SINRs      DFT-EPA, DFT-OPA, Opt-Phase OPA
           (spec 8, fairness)                                   x (K_E = 2, 4 orthogonal,
                                                                K_E = 4 shared)
fig08      min EH vs the IU SE target (EH-SE trade-off)         the three schemes
=========  ===================================================  ==============================

"EH" is the harvested energy Phi(Q_bar) in mJ: averaged over the EUs in Figs. 3-4 (per-EU
EH), the minimum over the EUs (the objective) in Figs. 5-8. Opt-Phase OPA is the registry's
reference (``phase_method="auto"``): the lifted SDP step of spec 7.2 for N <= 36 (Figs. 5-6
at N = 16), the manifold soft-min step above (Figs. 7-8 at N = 100, where one SDP takes
10-60 s on a shared 2-core machine and a phase step needs 5-15 of them).

Monte Carlo counts: ``--mc`` slow-timescale realisations per point for the closed-form
figures (3, 4; default 200, the spec's count) and ``--mc-opt`` for the figures that run the
optimisers (5-8; default 20). ``--fading N`` (default 2000; 0: off) adds Fig. 3c: the
evaluator that draws N coherence blocks per realisation against the closed form (PZF,
orthogonal pilots, the smaller N, on the first ``--fading-mc`` = 5 realisations), a check of
the closed forms inside the sweep. The defaults take about 8 minutes on a shared 2-core machine.

Channels (common random numbers): at x index i, realisation r draws its scenario with
``default_rng([seed, i, r, 0])`` for every series (the positions come first, so the series
that differ in N, K_E or the pilots still share the drop) and solvers get
``default_rng([seed, i, r, 1])``. A failed solve is counted, never fatal; EPA where it misses
the SE target (Fig. 8) counts as not applicable. DFT-Phase EPA solves all the realisations of a
point in one batch (``Solver.solve_batch``: every codeword of every realisation at once) and
they are scored in one call of the batch-first metrics, with the same numbers as one solve
and one metrics call per realisation.

Output in ``--out`` (written atomically): per figure a CSV (mean, 95 % Student-t CI, counts)
and a PNG, and ``summary.md`` (command, counts, machine, run time, trend checks). The trend
checks of section 10 are printed as PASS / FAIL / SKIP lines with the measured numbers; they
are reported, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib
import numpy as np
from tqdm import tqdm

from baselines.swipt.power import sca_power
from baselines.swipt.schemes import DFTPhaseEPA, DFTPhaseOPA, OptPhaseOPA, best_codeword
from benchmarks import figures as out_figs
from benchmarks.batched import attempt_batch, scores
from benchmarks.common import machine
from benchmarks.figures import (
    Check,
    Figure,
    FigureSpec,
    attempt,
    check_best,
    check_monotone,
    scenario_rng,
    sequence_text,
    solver_rng,
    verdict,
    write_atomic,
)
from irs_gym.models import swipt as model
from irs_gym.models.swipt_monte_carlo import monte_carlo_metrics
from irs_gym.models.tree import tree_stack

logger = logging.getLogger(__name__)

DEFAULT_OUT = "docs/figures/swipt"
SCHEMES = ("dft_phase_epa", "dft_phase_opa", "opt_phase_opa")
LABELS = {
    "dft_phase_epa": "DFT-Phase EPA",
    "dft_phase_opa": "DFT-Phase OPA",
    "opt_phase_opa": "Opt-Phase OPA",
}
PAPER_GAIN = 2.32  # "improved by 132 %" (abstract)


#: Colour families of the schemes (Figs. 7-8): one shade per case within a family.
FAMILIES = {"dft_phase_epa": "Blues", "dft_phase_opa": "Oranges", "opt_phase_opa": "Greens"}


def scheme_colors(fig: Figure) -> dict[str, Any]:
    """A shade of each scheme's colour family per series (darkest for the first case)."""
    out: dict[str, Any] = {}
    for scheme, cmap in FAMILIES.items():
        names = [name for name in fig.cells if name.startswith(scheme)]
        shades = np.linspace(0.85, 0.45, max(len(names), 1))
        for name, shade in zip(names, shades, strict=False):
            out[name] = matplotlib.colormaps[cmap](shade)
    return out


def label(name: str) -> str:
    for key, text in LABELS.items():
        name = name.replace(key, text)
    return name


@dataclass(frozen=True)
class Grid:
    """What a run sweeps.

    Attributes:
        base: config overrides of every point (``{}``: the section-9 defaults).
        antennas: M values (Figs. 3, 7). elements: the two N of Fig. 3.
        energy_users: K_E values of Fig. 4. opt_cases: (K_E, shared pilot) cases of Fig. 7.
        se_targets: SE targets of Fig. 8 (bit/s/Hz). conv_elements: N of Figs. 5-6 (SDP).
        conv_energy_users: K_E values of Fig. 5.
    """

    base: dict[str, Any]
    antennas: tuple[int, ...]
    elements: tuple[int, ...]
    energy_users: tuple[int, ...]
    opt_cases: tuple[tuple[int, bool], ...]
    se_targets: tuple[float, ...]
    conv_elements: int
    conv_energy_users: tuple[int, ...]


FULL = Grid(
    base={},
    antennas=(32, 64, 128, 256),
    elements=(64, 256),
    energy_users=(2, 4, 8, 12),
    opt_cases=((2, False), (4, False), (4, True)),
    se_targets=(0.5, 1.0, 2.0, 3.0, 4.0),
    conv_elements=16,
    conv_energy_users=(2, 4),
)

#: ``--small``: tiny sizes for smoke runs (seconds); the numbers mean little.
SMALL = Grid(
    base={"num_info_users": 2, "num_elements": 16, "num_bs_antennas": 16},
    antennas=(8, 16),
    elements=(4, 16),
    energy_users=(2, 3),
    opt_cases=((2, False), (2, True)),
    se_targets=(0.5, 2.0),
    conv_elements=4,
    conv_energy_users=(2,),
)


def _spec(name, slug, title, x_name, x_axis, short, y_axis, unit, metric, **kw) -> FigureSpec:
    return FigureSpec(
        name=name,
        slug=slug,
        title=title,
        paper=f"Fig. {int(name[3:5])}",
        source="spec 003 §10",
        x_name=x_name,
        x_axis=x_axis,
        x_short=short,
        y_axis=y_axis,
        unit=unit,
        metric=metric,
        **kw,
    )


EH_AXIS = "harvested energy per EU, mean of Phi(Q_bar) (mJ)"
MIN_AXIS = "min-EU harvested energy (mJ)"
SPECS = {
    s.name: s
    for s in (
        _spec(
            "fig03a",
            "eh_vs_m",
            "EH per EU vs M (DFT-Phase EPA)",
            "num_bs_antennas",
            "BS antennas M",
            "M",
            EH_AXIS,
            "mJ",
            "mean harvested_j",
            log_y=True,
        ),
        _spec(
            "fig03b",
            "se_vs_m",
            "SE per IU vs M (DFT-Phase EPA)",
            "num_bs_antennas",
            "BS antennas M",
            "M",
            "SE per IU (bit/s/Hz)",
            "bit/s/Hz",
            "mean se_bps_hz",
        ),
        _spec(
            "fig03c",
            "closed_form_vs_monte_carlo",
            "EH per EU, closed form vs the Monte Carlo evaluator (PZF, orthogonal pilots)",
            "num_bs_antennas",
            "BS antennas M (N = {n})",
            "M",
            EH_AXIS,
            "mJ",
            "mean harvested_j",
            style="dodge",
            log_y=True,
        ),
        _spec(
            "fig04a",
            "eh_vs_ke",
            "EH per EU vs K_E (DFT-Phase EPA)",
            "num_energy_users",
            "energy users K_E",
            "K_E",
            EH_AXIS,
            "mJ",
            "mean harvested_j",
            log_y=True,
        ),
        _spec(
            "fig04b",
            "se_vs_ke",
            "SE per IU vs K_E (DFT-Phase EPA)",
            "num_energy_users",
            "energy users K_E",
            "K_E",
            "SE per IU (bit/s/Hz)",
            "bit/s/Hz",
            "mean se_bps_hz",
        ),
        _spec(
            "fig05a",
            "power_step_convergence",
            "Algorithm 1 (SCA power step) per iteration",
            "iteration",
            "SCA iteration i (N = {n})",
            "i",
            "Phi(f(t_i)) (mJ)",
            "mJ",
            "objective",
            style="convergence",
        ),
        _spec(
            "fig05b",
            "phase_step_convergence",
            "Algorithm 2 (lifted SDP phase step) per SDP",
            "iteration",
            "SDP solve (first BCD phase step, N = {n})",
            "i",
            MIN_AXIS,
            "mJ",
            "objective",
            style="convergence",
        ),
        _spec(
            "fig06",
            "bcd_convergence",
            "BCD (Opt-Phase OPA, SDP phase step) per iteration",
            "iteration",
            "BCD iteration (N = {n})",
            "t",
            MIN_AXIS,
            "mJ",
            "objective",
            style="convergence",
        ),
        _spec(
            "fig07",
            "min_eh_vs_m",
            "min EH vs M, PZF, SE targets = EPA's",
            "num_bs_antennas",
            "BS antennas M",
            "M",
            MIN_AXIS,
            "mJ",
            "objective",
            log_y=True,
        ),
        _spec(
            "fig08",
            "eh_se_tradeoff",
            "min EH vs the IU SE target (EH-SE trade-off)",
            "se_target_bps_hz",
            "SE target per IU (bit/s/Hz)",
            "SE",
            MIN_AXIS,
            "mJ",
            "objective",
            log_y=True,
        ),
    )
}
FIGURE_NAMES = ("fig03", "fig04", "fig05", "fig06", "fig07", "fig08")


@dataclass
class Context:
    base: model.SwiptConfig
    grid: Grid
    mc: int
    mc_opt: int
    fading: int
    fading_mc: int
    seed: int
    bar: tqdm


def _figure(name: str, xs: Sequence[Any], ticks: Sequence[str] | None = None) -> Figure:
    return Figure(SPECS[name], list(xs), [str(t) for t in (ticks or xs)])


def _pilots(cfg: model.SwiptConfig, shared: bool) -> model.SwiptConfig:
    return dataclasses.replace(cfg, pilot_reuse_energy=cfg.num_energy_users if shared else 1)


def _series(precoder: str, shared: bool, extra: str = "") -> str:
    return f"{precoder.upper()}, {'shared' if shared else 'orthogonal'}{extra}"


def _drops(ctx: Context, cfg: model.SwiptConfig, i: int, count: int) -> list[model.SwiptScenario]:
    """The scenarios of realisations 0 .. count - 1 at x index i."""
    return [model.sample_scenario(cfg, scenario_rng(ctx.seed, i, r)) for r in range(count)]


def _epa_metrics(cfg: model.SwiptConfig, scens: list) -> tuple[list, dict[str, np.ndarray]]:
    """DFT-Phase EPA on every realisation (one batch solve) and the metrics of its decisions
    (one call): (decisions, metrics with a leading realisation axis)."""
    decisions = [sol.decision for sol in DFTPhaseEPA().solve_batch(scens, cfg)]
    return decisions, model.metrics(cfg, tree_stack(scens), tree_stack(decisions))


def _epa_record(fig_eh, fig_se, series, i, cfg, scens) -> tuple[list, np.ndarray]:
    """Record DFT-Phase EPA's per-EU EH and per-IU SE of every realisation; returns its
    decisions and EHs (mJ)."""
    decisions, out = _epa_metrics(cfg, scens)
    eh = model.J_TO_MJ * out["harvested_j"].mean(axis=-1)
    for eh_r, se_r in zip(eh, out["se_bps_hz"].mean(axis=-1), strict=True):
        fig_eh.add(series, "benchmark", i, float(eh_r))
        fig_se.add(series, "benchmark", i, float(se_r))
    return decisions, eh


# Figs. 3-4: closed forms under DFT-Phase EPA ------------------------------------------------
def run_fig03(ctx: Context) -> dict[str, Figure]:
    xs = ctx.grid.antennas
    eh, se, check = _figure("fig03a", xs), _figure("fig03b", xs), _figure("fig03c", xs)
    check.extra["axis"] = {"n": ctx.grid.elements[0]}
    for i, M in enumerate(xs):
        for n in ctx.grid.elements:
            for precoder in ("pzf", "ppzf"):
                for shared in (False, True):
                    cfg = _pilots(
                        dataclasses.replace(
                            ctx.base, num_bs_antennas=M, num_elements=n, precoder=precoder
                        ),
                        shared,
                    )
                    scens = _drops(ctx, cfg, i, ctx.mc)
                    series = _series(precoder, shared, f", N={n}")
                    decisions, values = _epa_record(eh, se, series, i, cfg, scens)
                    first = n == ctx.grid.elements[0] and precoder == "pzf" and not shared
                    for r in range(min(ctx.fading_mc, ctx.mc) if ctx.fading and first else 0):
                        mc = monte_carlo_metrics(
                            cfg,
                            scens[r],
                            decisions[r],
                            num_samples=ctx.fading,
                            rng=solver_rng(ctx.seed, i, r),
                        )
                        check.add("closed form", "reference", i, float(values[r]))
                        check.add(
                            f"Monte Carlo ({ctx.fading} blocks)",
                            "benchmark",
                            i,
                            model.J_TO_MJ * float(mc["harvested_j"].mean()),
                        )
        ctx.bar.update(ctx.mc)
    out = {"fig03a": eh, "fig03b": se}
    if check.cells:
        out["fig03c"] = check
    return out


def run_fig04(ctx: Context) -> dict[str, Figure]:
    xs = ctx.grid.energy_users
    eh, se = _figure("fig04a", xs), _figure("fig04b", xs)
    for i, k in enumerate(xs):
        for precoder in ("pzf", "ppzf"):
            for shared in (False, True):
                cfg = _pilots(
                    dataclasses.replace(ctx.base, num_energy_users=k, precoder=precoder),
                    shared,
                )
                _epa_record(eh, se, _series(precoder, shared), i, cfg, _drops(ctx, cfg, i, ctx.mc))
        ctx.bar.update(ctx.mc)
    return {"fig04a": eh, "fig04b": se}


# Figs. 5-6: convergence at N = conv_elements with the SDP phase step ----------------------
def _padded(fig: Figure, series: str, histories: list[list[float] | None]) -> None:
    """Histories padded with their last value up to the figure's length."""
    for h in histories:
        for t in range(len(fig.xs)):
            fig.add(series, "reference", t, h[min(t, len(h) - 1)] if h else float("nan"))


def _mj(cfg: model.SwiptConfig, q_j: Sequence[float]) -> list[float]:
    return [float(model.J_TO_MJ * model.harvested_energy(cfg, q)) for q in q_j]


def run_fig05_06(ctx: Context) -> dict[str, Figure]:
    n = ctx.grid.conv_elements
    base = dataclasses.replace(ctx.base, num_elements=n)
    power, phase = {}, {}
    bcd: dict[str, list] = {}
    cases = [(k, False) for k in ctx.grid.conv_energy_users]
    cases += [(max(ctx.grid.conv_energy_users), True)]
    for k, shared in cases:
        cfg = _pilots(dataclasses.replace(base, num_energy_users=k), shared)
        tag = f"K_E={k}" + (", shared" if shared else "")
        for r in range(ctx.mc_opt):
            scen = model.sample_scenario(cfg, scenario_rng(ctx.seed, 0, r))
            solver = OptPhaseOPA("sdp")
            sol = attempt(solver, scen, cfg, solver_rng(ctx.seed, 0, r))
            bcd.setdefault(f"{'shared' if shared else 'orthogonal'}, K_E={k}", []).append(
                sol.history if sol is not None and sol.history else None
            )
            if not shared:
                stats = model.statistics(cfg, scen)
                theta, _ = best_codeword(cfg, stats)
                power.setdefault(tag, []).append(_mj(cfg, sca_power(cfg, stats, theta).history_j))
                trace = solver.last_trace["phase"] if sol is not None else []
                phase.setdefault(tag, []).append(_mj(cfg, trace[0].history_j) if trace else None)
            ctx.bar.update(1)
    out = {}
    for name, runs in (("fig05a", power), ("fig05b", phase)):
        length = max((len(h) for hs in runs.values() for h in hs if h), default=1)
        fig = _figure(name, range(length))
        fig.extra["axis"] = {"n": n}
        for series, hs in runs.items():
            _padded(fig, series, hs)
        out[name] = fig
    length = max((len(h) for hs in bcd.values() for h in hs if h), default=1)
    fig = _figure("fig06", range(length))
    fig.extra["axis"] = {"n": n}
    k_max = max(ctx.grid.conv_energy_users)
    for series, hs in bcd.items():
        if series.endswith(f"K_E={k_max}"):
            _padded(fig, series, hs)
    out["fig06"] = fig
    return out


# Figs. 7-8: the three schemes --------------------------------------------------------------
SOLVERS = {"dft_phase_epa": DFTPhaseEPA, "dft_phase_opa": DFTPhaseOPA, "opt_phase_opa": OptPhaseOPA}


def _solve_schemes(fig: Figure, i: int, cfg, scens, seeds, names=SCHEMES, suffix="") -> None:
    """Record the schemes ``names`` on the realisations ``scens`` (solver generator
    ``default_rng(seeds[r])``; one batch solve for a vectorised scheme), a decision that
    misses a target as not applicable."""
    for name in names:
        rngs = [np.random.default_rng(seed) for seed in seeds]
        sols = attempt_batch(SOLVERS[name](), scens, cfg, rngs)
        feasible = scores(model.metrics, cfg, scens, sols, "feasible")
        role = "reference" if name == "opt_phase_opa" else "benchmark"
        for sol, ok in zip(sols, feasible, strict=True):
            if sol is not None and sol.decision is not None and not ok:
                sol = dataclasses.replace(sol, status="not_applicable")
            fig.record(name + suffix, role, i, sol, float("nan") if sol is None else sol.objective)


def run_fig07(ctx: Context) -> dict[str, Figure]:
    xs = ctx.grid.antennas
    fig = _figure("fig07", xs)
    for i, M in enumerate(xs):
        for k, shared in ctx.grid.opt_cases:
            cfg = _pilots(
                dataclasses.replace(ctx.base, num_bs_antennas=M, num_energy_users=k), shared
            )
            scens = _drops(ctx, cfg, i, ctx.mc_opt)
            # fairness (spec 8): the IU targets are the SEs that EPA reaches, a hair lower
            se = _epa_metrics(cfg, scens)[1]["se_bps_hz"]
            suffix = f", K_E={k}" + (", shared" if shared else "")
            for r, scen in enumerate(scens):
                cfg_r = dataclasses.replace(cfg, se_target_bps_hz=tuple(se[r] * (1 - 1e-6)))
                _solve_schemes(fig, i, cfg_r, [scen], [[ctx.seed, i, r, 1]], suffix=suffix)
                ctx.bar.update(1)
    return {"fig07": fig}


def run_fig08(ctx: Context) -> dict[str, Figure]:
    xs = ctx.grid.se_targets
    fig = _figure("fig08", xs, [f"{x:g}" for x in xs])
    seeds = [[ctx.seed, 0, r, 1] for r in range(ctx.mc_opt)]
    for i, target in enumerate(xs):
        cfg = dataclasses.replace(ctx.base, se_target_bps_hz=target)
        # the same drops at every target: the curve shows the trade-off, not the drops
        scens = _drops(ctx, cfg, 0, ctx.mc_opt)
        _solve_schemes(fig, i, cfg, scens, seeds, ("dft_phase_epa",))
        for r, scen in enumerate(scens):
            _solve_schemes(fig, i, cfg, [scen], [seeds[r]], ("dft_phase_opa", "opt_phase_opa"))
            ctx.bar.update(1)
    return {"fig08": fig}


JOBS = {
    "fig03": run_fig03,
    "fig04": run_fig04,
    "fig05": run_fig05_06,
    "fig06": run_fig05_06,
    "fig07": run_fig07,
    "fig08": run_fig08,
}


def _units(job, ctx: Context) -> int:
    """Progress-bar steps of a job."""
    g = ctx.grid
    return {
        run_fig03: len(g.antennas) * ctx.mc,
        run_fig04: len(g.energy_users) * ctx.mc,
        run_fig05_06: (len(g.conv_energy_users) + 1) * ctx.mc_opt,
        run_fig07: len(g.antennas) * len(g.opt_cases) * ctx.mc_opt,
        run_fig08: len(g.se_targets) * ctx.mc_opt,
    }[job]


def run(
    figures: Sequence[str], *, mc, mc_opt, fading, fading_mc, seed, grid, progress=True
) -> tuple[dict[str, Figure], dict[str, float]]:
    jobs = list(dict.fromkeys(JOBS[name] for name in figures))
    base = model.SwiptConfig(**grid.base)
    with tqdm(total=1, disable=not progress, desc="swipt", unit="drop") as bar:
        ctx = Context(base, grid, mc, mc_opt, fading, fading_mc, seed, bar)
        bar.total = sum(_units(job, ctx) for job in jobs)
        figs, seconds = {}, {}
        for job in jobs:
            start = time.perf_counter()
            figs.update(job(ctx))
            seconds[job.__name__.removeprefix("run_")] = time.perf_counter() - start
    return figs, seconds


# Trend checks --------------------------------------------------------------------------------
def _ratio_check(fig, num, den, claim, ok, text="ratio") -> Check:
    if num not in fig.cells or den not in fig.cells:
        return Check(fig.spec.paper, claim, "SKIP", f"needs {num} and {den}")
    ratio = fig.mean(num) / fig.mean(den)
    return Check(
        fig.spec.paper, claim, verdict(bool(ok(ratio))), f"{text} " + sequence_text(fig, ratio)
    )


def trend_checks(figs: dict[str, Figure], grid: Grid) -> list[Check]:
    checks: list[Check] = []
    n_lo, n_hi = grid.elements[0], grid.elements[-1]
    if "fig03a" in figs:
        eh, se = figs["fig03a"], figs["fig03b"]
        for n in (n_lo, n_hi):
            checks.append(_ratio_check(
                eh, f"PPZF, orthogonal, N={n}", f"PZF, orthogonal, N={n}",
                f"PZF ~ PPZF in EH (N = {n}, within 15 %)",
                lambda r: np.all(np.abs(r - 1) <= 0.15), "PPZF/PZF",
            ))  # fmt: skip
            checks.append(_ratio_check(
                se, f"PPZF, orthogonal, N={n}", f"PZF, orthogonal, N={n}",
                f"PPZF >> PZF in IU SE (N = {n}, > 1.2x at every M)",
                lambda r: np.all(r > 1.2), "PPZF/PZF",
            ))  # fmt: skip
            checks.append(_ratio_check(
                eh, f"PZF, shared, N={n}", f"PZF, orthogonal, N={n}",
                f"shared EU pilots raise EH (PZF, N = {n})", lambda r: np.all(r > 1),
                "shared/orthogonal",
            ))  # fmt: skip
            checks.append(_ratio_check(
                se, f"PZF, shared, N={n}", f"PZF, orthogonal, N={n}",
                f"shared EU pilots leave IU SE unchanged (PZF, N = {n}, within 5 %)",
                lambda r: np.all(np.abs(r - 1) <= 0.05), "shared/orthogonal",
            ))  # fmt: skip
        checks.append(_ratio_check(
            eh, f"PZF, orthogonal, N={n_hi}", f"PZF, orthogonal, N={n_lo}",
            f"a larger RIS raises EH considerably (N = {n_hi} vs {n_lo}, > 2x)",
            lambda r: np.all(r > 2), f"N={n_hi}/N={n_lo}",
        ))  # fmt: skip
        checks.append(check_monotone(eh, f"PZF, orthogonal, N={n_lo}", True,
                                     "EH per EU rises with M"))  # fmt: skip
        if "fig03c" in figs:
            fig = figs["fig03c"]
            sampled = next(s for s in fig.cells if s.startswith("Monte Carlo"))
            err = np.abs(fig.mean(sampled) / fig.mean("closed form") - 1)
            checks.append(Check(
                fig.spec.paper, "closed-form EH = Monte Carlo evaluator (within 2 % of the mean)",
                verdict(bool(np.all(err <= 0.02))), "relative gap " + sequence_text(fig, err),
            ))  # fmt: skip
        checks.append(Check(eh.spec.paper, "without a RIS, EH = 0", "SKIP",
                            "the direct BS-EU links are blocked (spec 1): Q_bar = 0 by "
                            "construction, not simulated"))  # fmt: skip
    if "fig04a" in figs:
        eh, se = figs["fig04a"], figs["fig04b"]
        for p in ("PZF", "PPZF"):
            checks.append(check_monotone(eh, f"{p}, orthogonal", True,
                                         f"per-EU EH rises with K_E ({p})"))  # fmt: skip
            checks.append(check_monotone(se, f"{p}, orthogonal", False,
                                         f"per-IU SE falls with K_E ({p})"))  # fmt: skip
        checks.append(_ratio_check(
            eh, "PZF, shared", "PZF, orthogonal",
            "shared-pilot gain (tau_p = K_I + 1) > 1 at every K_E", lambda r: np.all(r > 1),
            "shared/orthogonal",
        ))  # fmt: skip
        checks.append(_ratio_check(
            eh, "PZF, shared", "PZF, orthogonal",
            "the shared-pilot gain shrinks as K_E grows", lambda r: np.all(np.diff(r) < 0),
            "shared/orthogonal",
        ))  # fmt: skip
    for name, what, limit in (
        ("fig05a", "Algorithm 1 converges within a few iterations", 10),
        ("fig05b", "Algorithm 2 converges within a few SDP solves", 15),
        ("fig06", "BCD converges within a few iterations", 6),
    ):
        if name not in figs:
            continue
        fig = figs[name]
        parts, ok = [], True
        for series in fig.cells:
            mean = fig.mean(series)
            final = mean[-1]
            # first iteration within 0.5 % of the final value
            reached = int(np.argmax(mean >= final - 0.005 * abs(final)))
            ok &= reached <= limit
            parts.append(f"{series}: {reached} to reach 99.5 % of {final:.3g} mJ")
        checks.append(Check(fig.spec.paper, f"{what} (<= {limit})", verdict(ok),
                            "; ".join(parts)))  # fmt: skip
    if "fig07" in figs:
        fig = figs["fig07"]
        for k, shared in grid.opt_cases:
            s = f", K_E={k}" + (", shared" if shared else "")
            checks.append(_ratio_check(
                fig, "dft_phase_opa" + s, "dft_phase_epa" + s,
                f"OPA beats EPA by a large margin ({s[2:]})", lambda r: np.all(r > 1.2),
                "DFT-OPA/DFT-EPA",
            ))  # fmt: skip
            checks.append(_ratio_check(
                fig, "opt_phase_opa" + s, "dft_phase_opa" + s,
                f"Opt-Phase OPA adds more ({s[2:]})", lambda r: np.all(r > 1),
                "Opt-Phase OPA/DFT-OPA",
            ))  # fmt: skip
        gains = {
            s: fig.mean("opt_phase_opa" + s) / fig.mean("dft_phase_epa" + s)
            for s in (f", K_E={k}" + (", shared" if sh else "") for k, sh in grid.opt_cases)
        }
        top = max(float(np.nanmax(g)) for g in gains.values())
        lowest = min(float(np.nanmin(g)) for g in gains.values())
        per_case = "; ".join(f"{s[2:]}: " + sequence_text(fig, g) for s, g in gains.items())
        checks.append(Check(
            fig.spec.paper, "Opt-Phase OPA beats DFT-Phase EPA at every M",
            verdict(lowest > 1), f"smallest gain x{lowest:.3g}",
        ))  # fmt: skip
        checks.append(Check(
            fig.spec.paper,
            "the largest gain is the paper's 132 % (x2.32; accepted within a factor 2)",
            verdict(PAPER_GAIN / 2 <= top <= 2 * PAPER_GAIN),
            f"largest gain x{top:.3g} (+{100 * (top - 1):.0f} %); per case: {per_case}",
        ))  # fmt: skip
        orth = [s for s in gains if "shared" not in s]
        shared = [s for s in gains if "shared" in s]
        if orth and shared:
            same_k = [o for o in orth if o == shared[0].replace(", shared", "")]
            if same_k:
                ok = np.all(gains[shared[0]] < gains[same_k[0]])
                checks.append(Check(
                    fig.spec.paper, "gains are smaller with non-orthogonal EU pilots",
                    verdict(bool(ok)),
                    f"{shared[0][2:]}: " + sequence_text(fig, gains[shared[0]])
                    + f" vs {same_k[0][2:]}: " + sequence_text(fig, gains[same_k[0]]),
                ))  # fmt: skip
    if "fig08" in figs:
        fig = figs["fig08"]
        checks.append(check_monotone(fig, "opt_phase_opa", False,
                                     "EH falls as the SE target rises (Opt-Phase OPA)",
                                     label=label))  # fmt: skip
        checks.append(check_best(fig, "opt_phase_opa", "Opt-Phase OPA has the best region",
                                 label=label))  # fmt: skip
    return checks


# Output --------------------------------------------------------------------------------------
def summary_text(figs, checks, files, *, command, args, grid, seconds, wall) -> str:
    base = model.SwiptConfig(**grid.base)
    setup = [
        f"Optimiser figures (5-8): {args.mc_opt} realisations per point (`--mc-opt`); "
        f"Monte Carlo evaluator in Fig. 3: {args.fading} coherence blocks per realisation "
        f"(`--fading`) on the first {args.fading_mc} realisations (`--fading-mc`). The "
        "spec's 200 drops per point would take hours with the optimisers.",
        f"Base config{' (--small)' if args.small else ''}: M = {base.num_bs_antennas}, N = "
        f"{base.num_elements}, K_I = {base.num_info_users}, K_E = {base.num_energy_users}, "
        f"tau_c = {base.coherence_symbols}, kappa = {base.rician_factor_db:g} dB, P_BS = "
        f"{base.tx_power_dbm:g} dBm, p_p = {base.pilot_power_dbm:g} dBm, sigma^2 = "
        f"{base.noise_dbm:g} dBm, SE target {base.se_target_bps_hz} bit/s/Hz, EH model "
        f"{base.eh_model}, PZF unless named, cross-EU correlations neglected in the closed "
        "forms (exact_cross_corr=False).",
        f"Opt-Phase OPA: the SDP phase step at N = {grid.conv_elements} (Figs. 5-6), the "
        f"manifold step at N = {base.num_elements} (Figs. 7-8; phase_method='auto' switches "
        "above N = 36).",
        "Time per job: " + ", ".join(f"{job} {s:.0f} s" for job, s in seconds.items()) + ".",
        "",
        "Why some checks fail (the model, not noise): (1) Fig. 7's IU targets are EPA's own "
        "SINRs, so the LP cannot move power from the IUs, and every EU beam also reaches "
        "every other EU through the common LoS direction a_M, so redistributing the EU power "
        "gains little: DFT-Phase OPA ~ DFT-Phase EPA. (2) One DFT beam of the USPA covers one "
        "EU of the half-disc (the EU direction cosines spread over about +-0.7, a beam is "
        "about 2/sqrt(N) wide), so the min-EU energy under DFT phases is small and Opt-Phase "
        "OPA gains 5-40x instead of the paper's 2.3x. (3) Shared EU pilots shorten tau_p, "
        "which lowers the IU pilot energy tau_p rho_p: the IU SE falls by 3-6 %. (4) With a "
        "LoS component, pilot contamination can interfere destructively with the LoS product "
        "A z_l^* z_l' for single EUs (Remark 3 holds exactly only without LoS), so the "
        "shared-pilot gain is small and not monotone in K_E.",
    ]
    lines = out_figs.summary_lines(
        title="Model 003 (RIS-aided massive-MIMO SWIPT): reproduction of spec section 10",
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
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mc", type=int, default=200, help="realisations, Figs. 3-4")
    parser.add_argument("--mc-opt", type=int, default=20, help="realisations, Figs. 5-8")
    parser.add_argument("--fading", type=int, default=2000, help="MC blocks in Fig. 3 (0: off)")
    parser.add_argument("--fading-mc", type=int, default=5, help="realisations with MC blocks")
    out_figs.add_run_arguments(parser, FIGURE_NAMES, DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name in ("mc", "mc_opt", "fading_mc"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.fading < 0:
        parser.error("--fading must be >= 0")
    try:
        figures = out_figs.parse_figures(args.figures, FIGURE_NAMES)
    except ValueError as exc:
        parser.error(str(exc))
    grid = SMALL if args.small else FULL
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    start = time.perf_counter()
    figs, seconds = run(
        figures, mc=args.mc, mc_opt=args.mc_opt, fading=args.fading,
        fading_mc=args.fading_mc, seed=args.seed, grid=grid, progress=not args.no_progress,
    )  # fmt: skip
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for name in sorted(figs):
        fig = figs[name]
        mc = args.mc if name[:5] in ("fig03", "fig04") else args.mc_opt
        if name == "fig03c":
            mc = min(args.fading_mc, args.mc)
        colors = scheme_colors(fig) if name in ("fig07", "fig08") else None
        csv_name, png_name = out_figs.write_figure(fig, out, mc, label=label, colors=colors)
        files.append((name, csv_name, png_name))
    checks = trend_checks(figs, grid)
    wall = time.perf_counter() - start
    command = "python -m benchmarks.reproduce_swipt " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    text = summary_text(
        figs, checks, files, command=command.strip(), args=args, grid=grid, seconds=seconds,
        wall=wall,
    )  # fmt: skip
    write_atomic(out / "summary.md", lambda tmp: tmp.write_text(text))
    for check in checks:
        print(check.line())
    print(f"wrote {len(files)} figures and summary.md to {out} in {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
