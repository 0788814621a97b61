"""``as_policy``: a solver behind SB3's ``predict`` interface (``PolicyPredictor``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from baselines.core import Solution, Solver
from irs_gym.models.tree import tree_index


class SolverPolicy:
    """Acts by solving the env's current realisation(s) with ``solver``.

    Works with a single Gymnasium env (possibly wrapped), a native ``IRSVectorEnv`` and an
    SB3 ``VecEnv`` (through ``get_attr``). The observation is ignored: the solver reads the
    scenario it would see in the paper (the env's channel state). ``last_solutions`` keeps
    the Solutions of the latest call, for status and timing reports. A vectorised solver
    (``solver.batched``) solves several sub-envs of one config in one ``solve_batch`` call; the
    policy's generator is then drawn from in sub-env order, as in the per-env loop, so the
    actions are the same.
    """

    def __init__(self, solver: Solver, env: Any, seed: int = 0) -> None:
        self.solver = solver
        self.env = env
        self.rng = np.random.default_rng(seed)
        self.last_solutions: list[Solution] = []

    def _targets(self) -> list[tuple[Any, Any, Any]]:
        """(scenario, config, encoder) per sub-env."""
        env = self.env
        if hasattr(env, "get_attr"):  # SB3 VecEnv
            envs = env.get_attr("unwrapped")
            return [(e.scenario, e.config, e.encode) for e in envs]
        u = env.unwrapped
        if getattr(u, "num_envs", None) is not None and hasattr(u, "task"):
            return [(tree_index(u.scenario, i), u.config, u.encode) for i in range(u.num_envs)]
        return [(u.scenario, u.config, u.encode)]

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        targets = self._targets()
        config = targets[0][1]
        if self.solver.batched and len(targets) > 1 and all(c == config for _, c, _ in targets):
            scenarios = [s for s, _, _ in targets]
            rngs = [self.rng] * len(targets)
            self.last_solutions = self.solver.solve_batch(scenarios, config, rngs)
        else:
            self.last_solutions = [self.solver.solve(s, c, rng=self.rng) for s, c, _ in targets]
        actions = []
        for sol, (_, _, encode) in zip(self.last_solutions, targets, strict=True):
            if sol.decision is None:
                raise RuntimeError(
                    f"{self.solver.name} returned no decision: {sol.status} {sol.message}"
                )
            actions.append(encode(sol.decision))
        obs = np.asarray(observation)
        single = (
            len(targets) == 1
            and not hasattr(self.env, "get_attr")
            and (getattr(self.env.unwrapped, "num_envs", None) is None)
        )
        return (actions[0] if single and obs.ndim <= 1 else np.stack(actions)), state


def as_policy(solver: Solver, env: Any, seed: int = 0) -> SolverPolicy:
    """Wrap ``solver`` so that it can be evaluated exactly like an SB3 agent."""
    return SolverPolicy(solver, env, seed)
