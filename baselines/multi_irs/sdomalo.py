r"""S-DOMALO (spec 004 section 6, Algorithm 3): weighted max-min rate (problem P6).

Dinkelbach-type parametric form (33)-(34): for a level lambda, user k's power redundancy is

.. math:: f_k = |x_{kk}|^2 - \frac{\lambda}{\omega_k}\Big(\sum_{j\ne k}|x_{kj}|^2+1\Big)

(noise-normalised, x_kj = hbar_k^H w_j), and min_k f_k >= 0 iff min_k omega_k gamma_k >= lambda.
The min is smoothed by log-sum-exp (35)-(37), F_mu = -mu ln sum_k exp(-f_k / mu), with
min_k f_k - mu ln K <= F_mu <= min_k f_k, and maximised by Riemannian CG over W (complex
sphere, (38)-(40)) and theta (complex circle, (42)-(43)) in turn. Acceptance rule (41): a step
is kept only if lambda' = min_k omega_k gamma_k does not drop, and then lambda <- lambda';
otherwise the step is undone and its mu shrinks by ``shrink`` (floor ``mu_min``). So lambda,
and with it the weighted minimum rate in ``history``, never decreases.

Quantised phases (5.6) are applied to each theta candidate before the acceptance test, which
keeps lambda monotone there too.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy.special import logsumexp, softmax

from baselines.core import Solution, Solver
from baselines.manifold import ComplexCircle, ComplexSphere, conjugate_gradient
from baselines.multi_irs.domalo import phase_blocks
from irs_gym.models import multi_irs as model


def redundancy(x: np.ndarray, target: np.ndarray) -> np.ndarray:
    """f_k = |x_kk|^2 - target_k (sum_{j != k} |x_kj|^2 + 1) for gains ``x [K, K]``,
    ``target = lambda / omega``."""
    power = np.abs(x) ** 2
    signal = np.diagonal(power)
    return signal - target * (power.sum(axis=-1) - signal + 1.0)


def smoothed_min(f: np.ndarray, mu: float) -> float:
    """F_mu = -mu ln sum_k exp(-f_k / mu) (35), computed stably."""
    return -mu * float(logsumexp(-f / mu))


def _weights_grad(x: np.ndarray, target: np.ndarray, mu: float) -> np.ndarray:
    """coef[k, j] = pi_k (delta_kj - target_k (1 - delta_kj)) x_kj = dF_mu / dx_kj^*."""
    pi = softmax(-redundancy(x, target) / mu)
    K = x.shape[-1]
    sign = np.where(np.eye(K, dtype=bool), 1.0, -target[:, None])
    return pi[:, None] * sign * x


def w_cost(Wb: np.ndarray, hbar: np.ndarray, target: np.ndarray, power: float, mu: float) -> float:
    """-F_mu as a function of W_bar on the sphere (W = sqrt(P) W_bar), (39)."""
    return -smoothed_min(redundancy(math.sqrt(power) * hbar @ Wb, target), mu)


def w_egrad(
    Wb: np.ndarray, hbar: np.ndarray, target: np.ndarray, power: float, mu: float
) -> np.ndarray:
    """(40): -2 P sum_k pi_k [a_k a_k^H W e_k e_k^T - target_k a_k a_k^H W (I - e_k e_k^T)],
    a_k = hbar_k (in W_bar units, hence one sqrt(P) here and one inside x)."""
    coef = _weights_grad(math.sqrt(power) * hbar @ Wb, target, mu)
    return -2.0 * math.sqrt(power) * np.conj(hbar.T) @ coef


def theta_cost(
    tb: np.ndarray, c: np.ndarray, d: np.ndarray, target: np.ndarray, mu: float
) -> float:
    """-F_mu as a function of one phase block, x_kj = c_kj + theta^T d_kj (42)."""
    return -smoothed_min(redundancy(c + d @ tb, target), mu)


def theta_egrad(
    tb: np.ndarray, c: np.ndarray, d: np.ndarray, target: np.ndarray, mu: float
) -> np.ndarray:
    """(43): -2 sum_k pi_k [x_kk d_kk^* - target_k sum_{j != k} x_kj d_kj^*]."""
    coef = _weights_grad(c + d @ tb, target, mu)
    return -2.0 * np.einsum("kj,kjm->m", coef, np.conj(d))


class SDomalo(Solver):
    """S-DOMALO, the reference solver of ``MultiIRSDownlink-v0`` for ``objective="min_rate"``.

    Args:
        max_outer: N_max outer iterations (30).
        w_iterations, theta_iterations: GCG iterations per step (20).
        tol: stop when |lambda_n - lambda_{n-1}| <= tol * lambda_n (1e-4).
        mu_scale: initial mu_W = mu_theta = mu_scale * max(1, mean_k |f_k|) (0.1).
        shrink, mu_min: the mu schedule c = 0.5 and mu_min = 1e-4 (Remark 3).
        role: ``"reference"`` for the min-rate objective, ``"benchmark"`` for the WSR.
    """

    name = "sdomalo"
    role = "reference"

    def __init__(
        self,
        max_outer: int = 30,
        w_iterations: int = 20,
        theta_iterations: int = 20,
        tol: float = 1e-4,
        mu_scale: float = 0.1,
        shrink: float = 0.5,
        mu_min: float = 1e-4,
        role: str = "reference",
    ) -> None:
        for name, v in (
            ("max_outer", max_outer),
            ("w_iterations", w_iterations),
            ("theta_iterations", theta_iterations),
        ):
            if not (isinstance(v, int) and v >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not 0.0 < shrink < 1.0:
            raise ValueError(f"shrink must be in (0, 1), got {shrink}")
        self.max_outer, self.tol = max_outer, tol
        self.w_iterations, self.theta_iterations = w_iterations, theta_iterations
        self.mu_scale, self.shrink, self.mu_min = mu_scale, shrink, mu_min
        self.role = role  # type: ignore[misc]

    def _solve(
        self,
        scenario: model.MultiIRSScenario,
        config: model.MultiIRSConfig,
        rng: np.random.Generator,
    ) -> Solution:
        ch = model.normalized(config, scenario)
        power = config.tx_power_w
        omega = config.weights_array
        theta = model.quantize_phases(
            np.ones(config.total_elements, dtype=complex), config.phase_levels
        )
        W = model.mrt_precoder(model.effective_channel(ch, theta), power)

        def level(theta: np.ndarray, W: np.ndarray) -> float:
            """lambda = min_k omega_k gamma_k."""
            gamma = model.sinr_from_gains(model.effective_channel(ch, theta) @ W)
            return float(np.min(omega * gamma))

        def min_rate(lam_theta: np.ndarray, lam_W: np.ndarray) -> float:
            gamma = model.sinr_from_gains(model.effective_channel(ch, lam_theta) @ lam_W)
            return float(np.min(omega * np.log2(1.0 + gamma)))

        lam = level(theta, W)
        f0 = redundancy(model.effective_channel(ch, theta) @ W, lam / omega)
        mu_w = mu_theta = self.mu_scale * max(1.0, float(np.mean(np.abs(f0))))
        history = [min_rate(theta, W)]
        status = "max_iterations"
        for _ in range(self.max_outer):
            previous = lam
            # (a) W-step with acceptance rule (41)
            target = lam / omega
            hbar = model.effective_channel(ch, theta)
            res = conjugate_gradient(
                ComplexSphere,
                partial(w_cost, hbar=hbar, target=target, power=power, mu=mu_w),
                partial(w_egrad, hbar=hbar, target=target, power=power, mu=mu_w),
                W / math.sqrt(power),
                max_iterations=self.w_iterations,
            )
            W_new = math.sqrt(power) * res.x
            lam_new = level(theta, W_new)
            if lam_new >= lam:
                W, lam = W_new, lam_new
            else:
                mu_w *= self.shrink
            # (b) theta-step per block, same rule
            for block in phase_blocks(config):
                target = lam / omega
                c, d = model.affine_terms(ch, theta, W, block)
                sl = slice(None) if block is None else block
                res = conjugate_gradient(
                    ComplexCircle,
                    partial(theta_cost, c=c, d=d, target=target, mu=mu_theta),
                    partial(theta_egrad, c=c, d=d, target=target, mu=mu_theta),
                    theta[sl],
                    max_iterations=self.theta_iterations,
                )
                candidate = theta.copy()
                candidate[sl] = res.x
                candidate = model.quantize_phases(candidate, config.phase_levels)
                lam_new = level(candidate, W)
                if lam_new >= lam:
                    theta, lam = candidate, lam_new
                else:
                    mu_theta *= self.shrink
            # (c) the mu floor (steps 16-18)
            mu_w, mu_theta = max(mu_w, self.mu_min), max(mu_theta, self.mu_min)
            history.append(min_rate(theta, W))
            if abs(lam - previous) <= self.tol * lam:
                status = "converged"
                break
        decision = model.MultiIRSDecision(theta, W)
        objective = float(model.metrics(config, scenario, decision)["objective"])
        return Solution(decision, objective, status, history)
