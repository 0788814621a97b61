r"""Algorithm 1 of model 001 (spec 5.4): alternating power control, MVDR detection (and the
w-step for N_u > 1) and passive beamforming, plus the no-IRS baseline (spec section 7).

Per outer iteration t:

* steps a-c: the inner loop :func:`irs_gym.models.mmwave_uplink.decision_for_phases` (the
  fixed point of (18), MVDR (22), the w-step when N_u > 1, repeated to convergence; the
  same map the env applies to its phase action, on the estimated channel);
* step d: a theta-step on :math:`v = [\theta; 1]` with p, u, w fixed: CCMO (Algorithm 3, the
  reference), SIMin-ADMM (Algorithm 2) or SDR.

Start [R]: random phases drawn from the solver's generator (``init="random"``) or all ones;
stop when the total power changes by less than ``tol`` = 1e-3 relative between iterations, or
after ``max_outer`` = 50 (spec 5.4 step 3). The theta-steps do not minimise the total power
itself (CCMO maximises the latency-residual sum, ADMM a surrogate at fixed p), so the power
can rise between iterations: the solver returns the best iterate (feasible beats infeasible,
then the lower total power) and ``history[t]`` is the objective (total power, dBm) of the
best decision found up to iteration t (``history[0]``: the initial phases). History never
rises, except at the first feasible iterate after infeasible ones. ``last_powers_dbm`` keeps
each iterate's own total power of the latest solve (inf where infeasible).

Status: ``"converged"`` / ``"max_iterations"`` with a feasible best iterate;
``"infeasible"`` when no iterate admits a feasible power vector (the decision then holds the
fallback powers, never a negative or NaN one); ``"solver_error"`` when a cvxpy theta-step
failed (message: the cvxpy status; the decision is the best iterate so far).
"""

from __future__ import annotations

import math

import numpy as np

from baselines.core import Solution, Solver
from baselines.mmwave_uplink.reflection import augmented, phases_from, reflection_data
from irs_gym.models import mmwave_uplink as model
from irs_gym.models.tree import tree_index, tree_stack


class AlternatingSolver(Solver):
    """Algorithm 1 with a theta-step: ``CCMOStep``, ``ADMMStep`` or ``SDRStep``.

    Args:
        theta_step: the step object (``step(data, v0, rng) -> StepResult``).
        name, role: registry name and role.
        max_outer: outer iterations (50).
        tol: relative change of the total power that stops the loop (1e-3).
        init: ``"random"`` or ``"ones"`` initial phases.
    """

    def __init__(
        self,
        theta_step,
        *,
        name: str,
        role: str = "benchmark",
        max_outer: int = 50,
        tol: float = 1e-3,
        init: str = "random",
    ) -> None:
        if role not in ("reference", "bound", "benchmark"):
            raise ValueError(f"role must be reference, bound or benchmark, got {role!r}")
        if init not in ("random", "ones"):
            raise ValueError(f"init must be 'random' or 'ones', got {init!r}")
        if not (isinstance(max_outer, int) and max_outer >= 1):
            raise ValueError(f"max_outer must be an integer >= 1, got {max_outer!r}")
        if not tol > 0:
            raise ValueError(f"tol must be > 0, got {tol!r}")
        self.theta_step, self.name, self.role = theta_step, name, role  # type: ignore[misc]
        self.max_outer, self.tol, self.init = max_outer, tol, init
        self.last_powers_dbm: list[float] = []

    def __repr__(self) -> str:
        return (
            f"AlternatingSolver(name={self.name!r}, role={self.role!r}, "
            f"theta_step={type(self.theta_step).__name__})"
        )

    def _solve(
        self,
        scenario: model.MmWaveUplinkScenario,
        config: model.MmWaveUplinkConfig,
        rng: np.random.Generator,
    ) -> Solution:
        M = config.num_elements
        ch = model.normalized(config, scenario)
        gamma_bar = model.target_sinr(config, scenario)
        if self.init == "random":
            theta = np.exp(2j * np.pi * rng.random(M))
        else:
            theta = np.ones(M, dtype=complex)

        def evaluate(theta: np.ndarray):
            decision, ok = model.decision_for_phases(config, scenario, theta)
            total = float(decision.power_w.sum())
            return decision, bool(ok), total

        decision, ok, total = evaluate(theta)
        best = (decision, ok, total)
        objective = lambda d: float(model.metrics(config, scenario, d)["objective"])  # noqa: E731
        history = [objective(decision)]
        self.last_powers_dbm = [_dbm(total) if ok else math.inf]
        status, message = "max_iterations", ""
        previous = total if ok else math.inf
        for it in range(1, self.max_outer + 1):
            data = reflection_data(ch, decision, gamma_bar)
            step = self.theta_step(data, augmented(decision.theta), rng)
            if step.status == "solver_error":
                status, message = "solver_error", f"iteration {it}: {step.message}"
                break
            decision, ok, total = evaluate(phases_from(step.v))
            self.last_powers_dbm.append(_dbm(total) if ok else math.inf)
            if (not ok, total) < (not best[1], best[2]):
                best = (decision, ok, total)
            history.append(objective(best[0]))
            current = total if ok else math.inf
            if math.isfinite(current) and math.isfinite(previous):
                if abs(current - previous) <= self.tol * previous:
                    status = "converged"
                    break
            previous = current
        decision, ok, _ = best
        if not ok and status != "solver_error":
            status = "infeasible"
            message = "no iterate admits a power vector that meets every latency target"
        return Solution(decision, objective(decision), status, history, message=message)


def _dbm(total_w: float) -> float:
    return 10.0 * math.log10(total_w) + 30.0


class NoIRS(Solver):
    """Without IRS (spec section 7): Algorithm 1 on the direct channels alone, i.e. the
    inner loop (fixed point + MVDR [+ w-step]) to convergence; theta is irrelevant.

    It needs ``irs_enabled=False`` (the env's config then has G = 0): with an IRS present
    every phase vector reflects, so a no-IRS decision cannot be expressed and the solver
    returns ``not_applicable``. Scenarios drawn with the same generator under both settings
    share every channel but G, which is how the reproduction compares them.
    """

    name = "no_irs"

    def __init__(self, *, role: str = "reference") -> None:
        self.role = role  # type: ignore[misc]

    def _solve(
        self,
        scenario: model.MmWaveUplinkScenario,
        config: model.MmWaveUplinkConfig,
        rng: np.random.Generator,
    ) -> Solution:
        return self._solve_batch(tree_stack([scenario]), config, [rng])[0]

    def _solve_batch(
        self,
        scenarios: model.MmWaveUplinkScenario,
        config: model.MmWaveUplinkConfig,
        rngs: list[np.random.Generator],
    ) -> list[Solution]:
        # the inner loop masks each realisation once it converges, so a batch gives every
        # realisation the powers and detectors of its own solve
        if config.irs_enabled:
            return [
                Solution(
                    None,
                    float("nan"),
                    "not_applicable",
                    message="the no-IRS baseline needs irs_enabled=False",
                )
                for _ in rngs
            ]
        theta = np.ones((len(rngs), config.num_elements), dtype=complex)
        decisions, ok = model.decision_for_phases(config, scenarios, theta)
        values = model.metrics(config, scenarios, decisions)["objective"]
        out = []
        for b, value in enumerate(values.tolist()):
            decision = tree_index(decisions, b)
            if ok[b]:
                out.append(Solution(decision, value, "converged", [value]))
            else:
                message = "the direct channels cannot meet every latency target"
                out.append(Solution(decision, value, "infeasible", [value], message=message))
        return out
