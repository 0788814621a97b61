"""The papers' optimisers and benchmark schemes as solvers and policies.

``for_env(env_id)`` gives ``{name: solver}``; each solver has ``name``, ``role``
(``"reference"``, ``"bound"`` or ``"benchmark"``) and ``solve(scenario, config, *, rng=None)
-> Solution``. ``as_policy(solver, env)`` wraps one behind SB3's ``predict``.
"""

from baselines import block_allocation  # noqa: F401  (registers the model-002 solvers)
from baselines import multi_irs  # noqa: F401  (registers the model-004 solvers)
from baselines.core import ROLES, STATUSES, Solution, Solver, for_env, reference_solver, register
from baselines.policy import SolverPolicy, as_policy

__all__ = [
    "ROLES",
    "STATUSES",
    "Solution",
    "Solver",
    "SolverPolicy",
    "as_policy",
    "for_env",
    "reference_solver",
    "register",
]
