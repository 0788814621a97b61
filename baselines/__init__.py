"""The papers' optimisers and benchmark schemes as solvers and policies.

``for_env(env_id)`` gives ``{name: solver}``; each solver has ``name``, ``role``
(``"reference"``, ``"bound"`` or ``"benchmark"``) and ``solve(scenario, config, *, rng=None)
-> Solution``. ``as_policy(solver, env)`` wraps one behind SB3's ``predict``.
"""

# importing each model's subpackage registers its solvers
from baselines import backscatter, block_allocation, mmwave_uplink, multi_irs, swipt  # noqa: F401
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
