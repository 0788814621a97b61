r"""The manifold alternative of the phase step (spec 7.2, "practical alternative").

Riemannian conjugate gradient (:func:`baselines.manifold.conjugate_gradient`, Armijo steps)
on the complex circle for the soft-min of the exact average energies,

.. math:: \max_{|\theta_n|=1}\ -\mu\ln\sum_\ell e^{-\bar Q_\ell(\boldsymbol\theta)/(\mu\,Q_s)},

with Q_s the starting min Q_bar (so the energies are O(1)) and mu annealed over
``mus`` (0.3, 0.1, 0.03, 0.01, 0.003). The gradient is analytic
(:meth:`baselines.swipt.lifted.EnergyForm.gradient`). Every stage starts from the best
theta so far and its result is kept only if the true min Q_bar improves, so the step never
lowers the objective. O(K_E N) per gradient: the choice for large N.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp, softmax

from baselines.manifold import ComplexCircle, conjugate_gradient
from baselines.swipt.lifted import EnergyForm
from baselines.swipt.phase_sdp import PhaseResult

MUS = (0.3, 0.1, 0.03, 0.01, 0.003)


def manifold_phase_step(
    form: EnergyForm,
    eta_info_sum: float,
    eta_energy: np.ndarray,
    theta0: np.ndarray,
    *,
    mus: tuple[float, ...] = MUS,
    iterations: int = 50,
) -> PhaseResult:
    """Soft-min ascent from ``theta0``; ``history_j`` holds the best min Q_bar (J) after
    each mu stage (the starting value first)."""
    best_theta = theta0
    best = float(np.min(form.q_bar_j(theta0, eta_info_sum, eta_energy)))
    q_scale = max(best, 1e-300)
    history = [best]
    status = "converged"
    for mu in mus:

        def cost(theta: np.ndarray, mu: float = mu) -> float:
            q = form.q_bar_j(theta, eta_info_sum, eta_energy) / q_scale
            return float(mu * logsumexp(-q / mu))

        def egrad(theta: np.ndarray, mu: float = mu) -> np.ndarray:
            q = form.q_bar_j(theta, eta_info_sum, eta_energy) / q_scale
            weights = softmax(-q / mu) * form.e0 / q_scale
            return -form.gradient(theta, weights, eta_info_sum, eta_energy)

        res = conjugate_gradient(ComplexCircle, cost, egrad, best_theta, max_iterations=iterations)
        if res.status == "max_iterations":
            status = "max_iterations"
        value = float(np.min(form.q_bar_j(res.x, eta_info_sum, eta_energy)))
        if value > best:
            best_theta, best = res.x, value
        history.append(best)
    return PhaseResult(best_theta, status, "", history)
