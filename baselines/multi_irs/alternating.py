r"""The alternating (W, theta) solvers of model 004: the proposed methods and their benchmarks.

One outer loop serves every scheme of spec sections 5-7; a scheme is a choice of

* the objective it optimises: ``"wsr"`` (FP surrogate, (8)-(24)) or ``"min_rate"`` (smoothed
  Dinkelbach form with the acceptance rule, (33)-(43));
* the W-update: ``"manifold"`` (Riemannian CG on the complex sphere) or a closed form
  ``"mrt"`` (49), ``"zf"`` (50), ``"mmse"`` (51) for the current theta;
* the theta-update: ``"manifold"`` (Riemannian CG on the complex circle, theta_1 and theta_2
  in turn with the inter-IRS path, quantised when Q > 0) or ``"random"`` (drawn once).

=====================  ==========  ==========  =========  ==============================
solver                 objective   W           theta      spec
=====================  ==========  ==========  =========  ==============================
DOMALO                 wsr         manifold    manifold   5.5, Algorithm 2
S-DOMALO               min_rate    manifold    manifold   6.5, Algorithm 3
random reflection      either      manifold    random     7.1
AO-MRT / ZF / MMSE     either      closed form manifold   7.2-7.4
=====================  ==========  ==========  =========  ==============================

Every solve returns the best iterate (the AO benchmarks and quantised runs are not
monotone); ``history`` holds the solver's own objective after each outer iteration.
"""

from __future__ import annotations

import numpy as np

from baselines.core import Solution, Solver
from baselines.multi_irs import domalo as fp
from baselines.multi_irs import sdomalo as smooth
from irs_gym.models import multi_irs as model

PRECODERS = {"mrt": model.mrt_precoder, "zf": model.zf_precoder, "mmse": model.mmse_precoder}


def phase_blocks(config: model.MultiIRSConfig) -> list[slice | None]:
    """One block (all elements) without S; theta_1 then theta_2 with the inter-IRS path."""
    return list(config.irs_slices[:2]) if config.inter_irs else [None]


class AlternatingSolver(Solver):
    """Alternating optimisation of (W, theta) for ``MultiIRSDownlink-v0``.

    Args:
        objective: ``"wsr"`` or ``"min_rate"``, what the updates optimise.
        w_update: ``"manifold"``, ``"mrt"``, ``"zf"`` or ``"mmse"``.
        theta_update: ``"manifold"`` or ``"random"``.
        name, role: registry name and role.
        max_outer: outer iterations (T_max = N_max = 30).
        w_iterations, theta_iterations: GCG iterations per step (I_W = I_theta = 20).
        tol: stopping tolerance: relative change of the WSR (wsr) or of lambda (min_rate).
        init: initial phases ``"random"`` (uniform, as the AIF author code starts; default) or
            ``"ones"`` (theta = 1). The spec's theta^0 is [R] (its value was lost from the
            paper) and suggests 1, but from theta = 1 the alternating solvers stop in a
            poor local optimum: over 12 default-config realisations DOMALO reached 3.66
            bit/s/Hz from ones (below AO-MRT's 3.75, contrary to the paper) and 4.30 from
            random phases (AO-MRT 3.69, AO-MMSE 3.48 from random phases). Every scheme of
            this engine uses the same start, so the comparison stays fair.
        mu_scale: S-DOMALO's initial mu_W = mu_theta = mu_scale * (the scale of the power
            redundancies f_k at the start, :func:`baselines.multi_irs.sdomalo.redundancy_scale`)
            (0.1). Remark 2 warns against a large start: a mu far above |f_k| (as a floor of 1
            in noise units gave at low SNR, where |f_k| ~ 1e-2) turns F_mu into a mean of the
            f_k, the acceptance rule then undoes the steps and lambda stalls.
    """

    def __init__(
        self,
        objective: str,
        w_update: str,
        theta_update: str,
        *,
        name: str,
        role: str = "benchmark",
        max_outer: int = 30,
        w_iterations: int = 20,
        theta_iterations: int = 20,
        tol: float = 1e-4,
        init: str = "random",
        mu_scale: float = 0.1,
    ) -> None:
        choices = {
            "objective": (objective, ("wsr", "min_rate")),
            "w_update": (w_update, ("manifold", *PRECODERS)),
            "theta_update": (theta_update, ("manifold", "random")),
            "init": (init, ("ones", "random")),
            "role": (role, ("reference", "bound", "benchmark")),
        }
        for field, (value, allowed) in choices.items():
            if value not in allowed:
                raise ValueError(f"{field} must be one of {allowed}, got {value!r}")
        for field, v in (
            ("max_outer", max_outer),
            ("w_iterations", w_iterations),
            ("theta_iterations", theta_iterations),
        ):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{field} must be an integer >= 1, got {v!r}")
        if not (tol > 0 and mu_scale > 0):
            raise ValueError(f"tol and mu_scale must be > 0, got {tol}, {mu_scale}")
        self.objective, self.w_update, self.theta_update = objective, w_update, theta_update
        self.name, self.role = name, role  # type: ignore[misc]
        self.max_outer, self.tol, self.init, self.mu_scale = max_outer, tol, init, mu_scale
        self.w_iterations, self.theta_iterations = w_iterations, theta_iterations

    def __repr__(self) -> str:
        return (
            f"AlternatingSolver(name={self.name!r}, role={self.role!r}, objective="
            f"{self.objective!r}, w_update={self.w_update!r}, "
            f"theta_update={self.theta_update!r})"
        )

    def _solve(
        self,
        scenario: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rng: np.random.Generator,
    ) -> Solution:
        ch = model.normalized(config, scenario)
        power, omega, levels = config.tx_power_w, config.weights_array, config.phase_levels
        blocks = phase_blocks(config)
        M = config.total_elements
        random_start = self.init == "random" or self.theta_update == "random"
        theta = np.exp(2j * np.pi * rng.random(M)) if random_start else np.ones(M, complex)
        theta = model.quantize_phases(theta, levels)

        hbar = model.effective_channel(ch, theta)
        if self.w_update == "zf":
            rank = np.linalg.matrix_rank(hbar)
            if config.num_users > rank:
                return Solution(
                    None,
                    float("nan"),
                    "not_applicable",
                    message=f"ZF needs K <= rank(Hbar): K={config.num_users}, rank={rank}",
                )
        closed = PRECODERS.get(self.w_update)
        W = (closed or model.mrt_precoder)(hbar, power)
        gamma = model.sinr_from_gains(hbar @ W)
        lam = float(np.min(omega * gamma))
        mu_w = mu_theta = self.mu_scale * smooth.redundancy_scale(hbar @ W, lam / omega)

        def score(gamma: np.ndarray) -> float:
            rates = omega * np.log2(1.0 + gamma)
            return float(rates.sum() if self.objective == "wsr" else rates.min())

        value = score(gamma)
        history = [value]
        best = (value, theta, W)
        status = "max_iterations"
        for _ in range(self.max_outer):
            previous = value if self.objective == "wsr" else lam
            mu_w_before, mu_theta_before = mu_w, mu_theta
            wt = omega * (1.0 + gamma)  # (9): alpha = gamma
            hbar = model.effective_channel(ch, theta)
            if closed is not None:
                W = closed(hbar, power)
                gamma = model.sinr_from_gains(hbar @ W)
                wt, lam = omega * (1.0 + gamma), float(np.min(omega * gamma))
            elif self.objective == "wsr":
                W = fp.w_step(hbar, W, wt, power, self.w_iterations)
            else:
                W, lam, mu_w = smooth.smooth_w_update(
                    hbar, W, lam, omega, power, mu_w, self.w_iterations
                )
            if self.theta_update == "manifold":
                if self.objective == "wsr":
                    theta = fp.fp_theta_update(
                        ch, theta, W, wt, blocks, levels, self.theta_iterations
                    )
                else:
                    theta, lam, mu_theta = smooth.smooth_theta_update(
                        ch, theta, W, lam, omega, mu_theta, blocks, levels, self.theta_iterations
                    )
            # min rate: an iteration whose every smoothed step the acceptance rule undid only
            # shrank mu; it is no evidence of convergence until mu sits at its floor
            smoothed = []  # (rejected, mu above its floor) per smoothed step
            if closed is None:
                smoothed.append((mu_w < mu_w_before, mu_w > smooth.MU_MIN))
            if self.theta_update == "manifold":
                smoothed.append((mu_theta < mu_theta_before, mu_theta > smooth.MU_MIN))
            retry = (
                self.objective == "min_rate"
                and bool(smoothed)
                and all(rejected for rejected, _ in smoothed)
                and any(above for _, above in smoothed)
            )
            mu_w, mu_theta = max(mu_w, smooth.MU_MIN), max(mu_theta, smooth.MU_MIN)
            gamma = model.sinr_from_gains(model.effective_channel(ch, theta) @ W)
            value = score(gamma)
            history.append(value)
            if value > best[0]:
                best = (value, theta, W)
            current = value if self.objective == "wsr" else float(np.min(omega * gamma))
            if not retry and abs(current - previous) <= self.tol * max(abs(current), 1e-12):
                status = "converged"
                break
        _, theta, W = best
        decision = model.MultiIRSDecision(theta, W)
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, status, history)


class Domalo(AlternatingSolver):
    """DOMALO (spec 5.5): the reference for ``objective="wsr"``."""

    def __init__(self, *, role: str = "reference", **kwargs) -> None:
        super().__init__("wsr", "manifold", "manifold", name="domalo", role=role, **kwargs)


class SDomalo(AlternatingSolver):
    """S-DOMALO (spec 6.5): the reference for ``objective="min_rate"``."""

    def __init__(self, *, role: str = "reference", **kwargs) -> None:
        super().__init__("min_rate", "manifold", "manifold", name="sdomalo", role=role, **kwargs)


def paper_benchmarks(objective: str) -> dict[str, AlternatingSolver]:
    """Section 7's schemes 1-4 for one objective (their theta-step follows the objective)."""
    return {
        "random_reflection": AlternatingSolver(
            objective, "manifold", "random", name="random_reflection"
        ),
        **{
            f"ao_{p}": AlternatingSolver(objective, p, "manifold", name=f"ao_{p}")
            for p in PRECODERS
        },
    }
