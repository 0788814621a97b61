r"""Monte Carlo evaluator of model 003: the independent check of every closed form.

For a slow-timescale scenario and a decision (theta, eta), every sample draws one coherence
block from the **true** generative model (spec sections 2-4) and does what the BS does:

1. fast fading: :math:`\mathbf H=\sqrt{\alpha/(\kappa+1)}(\sqrt\kappa\,\mathbf a_N\mathbf a_M^H
   +\tilde{\mathbf H})` with :math:`\tilde{\mathbf H}\sim\mathcal{CN}(0,1)` i.i.d., the cascaded
   EU channels :math:`\mathbf h_\ell=\mathbf H^H\Phi^H\mathbf f_\ell` and the IU channels
   :math:`\mathbf g_k=\sqrt{\beta_k}\,\mathcal{CN}(\mathbf 0,\mathbf I_M)`;
2. pilots: :math:`\mathbf y_p=\sqrt{\tau_p\rho_p}\sum_{j\in\mathcal P_p}(\cdot)_j+\mathbf w_p`
   for every IU and EU pilot;
3. estimates: the EU MMSE estimate from its own pilot,
   :math:`\hat{\mathbf h}_\ell=\bar{\mathbf h}_\ell+c_\ell(\mathbf y_{p_\ell}-\sqrt{\tau_p\rho_p}
   \sum_{b\in\mathcal P_{p_\ell}}\bar{\mathbf h}_b)` with the exact statistics (cross-EU
   correlations included, whatever ``config.exact_cross_corr`` says);
4. precoders: ZF on :math:`\bar{\mathbf G}_I=[\mathbf y_1..\mathbf y_{\tau_I}]`, and MRT (PZF)
   or protective MRT (PPZF) on the EU estimates, normalised as in spec section 4;
5. measurements: the received energy :math:`Q_\ell=E_0(\sum_k\eta^I_k|\mathbf h_\ell^H
   \mathbf w_{I,k}|^2+\sum_{\ell'}\eta^E_{\ell'}|\mathbf h_\ell^H\mathbf w_{E,\ell'}|^2)` and, for
   the hardening bound, :math:`\mathbb E[\mathbf g_k^H\mathbf w_{I,k}]`,
   :math:`\mathbb E|\mathbf g_k^H\mathbf w_{I,j}|^2`,
   :math:`\mathbb E|\mathbf g_k^H\mathbf w_{E,\ell}|^2`.

The sample means replace the expectations; the metric dict has the keys of
:func:`irs_gym.models.swipt.metrics` plus ``q_bar_sem_j`` (standard error of ``q_bar_j``)
and ``mean_harvested_j`` (:math:`\mathbb E\{\Phi(Q_\ell)\}`, the harvested energy averaged over
the blocks rather than :math:`\Phi` of the average).
"""

from __future__ import annotations

import math

import numpy as np

from irs_gym.models import swipt as model
from irs_gym.models.tree import tree_index
from irs_gym.physics import complex_normal

#: Complex entries of the largest per-chunk array (about 32 MB of complex128).
_CHUNK_ENTRIES = 2_000_000


def _sample_block(config, scenario, stats, theta, rng, S):
    """One chunk of S coherence blocks for one realisation; returns the precoders and the
    channels the measurements need: (h [S,K_E,M], g [S,K_I,M], W_I [S,K_I,M], W_E [S,K_E,M])."""
    M, N = config.num_bs_antennas, config.num_elements
    K_I, K_E = config.num_info_users, config.num_energy_users
    tau_I, tau_E = config.tau_info, config.tau_energy
    kappa, tp = config.kappa, config.tau_pilot * config.rho_pilot
    alpha = float(scenario.alpha)

    H_tilde = complex_normal(rng, (S, N, M))
    H = math.sqrt(alpha / (kappa + 1.0)) * (
        math.sqrt(kappa) * np.outer(scenario.a_ris, np.conj(scenario.a_bs)) + H_tilde
    )
    x = np.conj(theta) * scenario.f  # [K_E, N]: Phi^H f_l
    h = np.conj(np.einsum("snm,ln->slm", H, np.conj(x)))  # h_l = H^H Phi^H f_l
    g = np.sqrt(scenario.beta)[:, None] * complex_normal(rng, (S, K_I, M))

    P_I = model.pilot_matrix(config.info_pilot, tau_I)
    P_E = model.pilot_matrix(config.energy_pilot, tau_E)
    y_I = math.sqrt(tp) * np.einsum("ki,skm->sim", P_I, g) + complex_normal(rng, (S, tau_I, M))
    y_E = math.sqrt(tp) * np.einsum("lp,slm->spm", P_E, h) + complex_normal(rng, (S, tau_E, M))

    z = model.reflect(theta, stats.b)
    h_mean = math.sqrt(float(stats.A)) * z[:, None] * scenario.a_bs[None, :]  # [K_E, M]
    y_centered = y_E - math.sqrt(tp) * (P_E.T @ h_mean)[None]
    # c_l = s_bar[l, p_l] / D_{p_l}, from the exact statistics
    R = stats.R
    s_bar = math.sqrt(tp) * R @ P_E
    D_E = tp * np.real(np.einsum("ap,ab,bp->p", P_E, R, P_E)) + 1.0
    pilot_E = config.energy_pilot
    c = s_bar[np.arange(K_E), pilot_E] / D_E[pilot_E]
    h_hat = h_mean[None] + c[None, :, None] * y_centered[:, pilot_E, :]

    G_bar = np.swapaxes(y_I, -1, -2)  # [S, M, tau_I], column i = y_i (unscaled)
    gram = np.conj(np.swapaxes(G_bar, -1, -2)) @ G_bar
    zf = G_bar @ np.linalg.inv(gram)  # [S, M, tau_I]
    D_I = tp * scenario.beta @ P_I + 1.0
    pilot_I = config.info_pilot
    d = M - tau_I
    W_I = np.swapaxes(zf[:, :, pilot_I], -1, -2) * np.sqrt(d * D_I[pilot_I])[None, :, None]

    z2 = np.abs(z) ** 2
    if config.precoder == "pzf":
        W_E = h_hat / np.sqrt(M * (float(stats.A) * z2 + stats.gamma_energy))[None, :, None]
    else:
        # B h = h - G (G^H G)^-1 G^H h, projection onto the complement of span(G_bar)
        coef = np.einsum("smi,slm->sli", np.conj(G_bar), h_hat)  # G^H h_l
        proj = np.einsum("smi,sli->slm", zf, coef)
        W_E = (h_hat - proj) / np.sqrt(d * (float(stats.A) * z2 + stats.gamma_energy))[
            None, :, None
        ]
    return h, g, W_I, W_E


def _evaluate_one(config, scenario, decision, rng, num_samples):
    stats = model.statistics(config, scenario, exact_cross_corr=True)
    M, N = config.num_bs_antennas, config.num_elements
    K_I, K_E = config.num_info_users, config.num_energy_users
    eta_I, eta_E = decision.eta_info, decision.eta_energy
    E0 = config.energy_per_gain_j
    chunk = max(1, min(num_samples, _CHUNK_ENTRIES // (N * M)))
    q_sum = np.zeros(K_E)
    q_sq = np.zeros(K_E)
    phi_sum = np.zeros(K_E)
    signal = np.zeros(K_I, dtype=complex)
    power_I = np.zeros((K_I, K_I))
    power_E = np.zeros((K_I, K_E))
    done = 0
    while done < num_samples:
        S = min(chunk, num_samples - done)
        h, g, W_I, W_E = _sample_block(config, scenario, stats, decision.theta, rng, S)
        gain_I = np.abs(np.einsum("slm,skm->slk", np.conj(h), W_I)) ** 2
        gain_E = np.abs(np.einsum("slm,sjm->slj", np.conj(h), W_E)) ** 2
        q = E0 * (gain_I @ eta_I + gain_E @ eta_E)  # [S, K_E]
        q_sum += q.sum(axis=0)
        q_sq += (q * q).sum(axis=0)
        phi_sum += model.harvested_energy(config, q).sum(axis=0)
        gI = np.einsum("skm,sjm->skj", np.conj(g), W_I)  # g_k^H w_I,j
        gE = np.einsum("skm,slm->skl", np.conj(g), W_E)
        signal += np.diagonal(gI, axis1=-2, axis2=-1).sum(axis=0)
        power_I += (np.abs(gI) ** 2).sum(axis=0)
        power_E += (np.abs(gE) ** 2).sum(axis=0)
        done += S
    n = float(num_samples)
    q_bar = q_sum / n
    q_var = np.maximum(q_sq / n - q_bar**2, 0.0)
    rho = config.rho
    useful = rho * eta_I * np.abs(signal / n) ** 2
    total = rho * (power_I / n) @ eta_I + rho * (power_E / n) @ eta_E
    sinr_value = useful / (total - useful + 1.0)
    return q_bar, np.sqrt(q_var / max(n - 1.0, 1.0)), phi_sum / n, sinr_value


def monte_carlo_metrics(
    config: model.SwiptConfig,
    scenario: model.SwiptScenario,
    decision: model.SwiptDecision,
    *,
    num_samples: int = 1000,
    rng: np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """Sampled metrics of (a batch of) decision(s); see the module docstring.

    Args:
        config, scenario, decision: as for :func:`irs_gym.models.swipt.metrics` (the decision
            batch must equal the scenario batch).
        num_samples: coherence blocks per realisation, >= 1.
        rng: generator for every draw; ``None`` uses ``default_rng(scenario.fading_seed)``
            per realisation, so that every decision on a scenario meets the same draws.

    Returns:
        The keys of :func:`irs_gym.models.swipt.metrics`, plus ``q_bar_sem_j`` and
        ``mean_harvested_j`` (per EU).
    """
    if not (isinstance(num_samples, int | np.integer) and num_samples >= 1):
        raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
    batch = scenario.beta.shape[:-1]
    K_I, K_E = config.num_info_users, config.num_energy_users
    q_bar = np.zeros((*batch, K_E))
    q_sem = np.zeros((*batch, K_E))
    phi_mean = np.zeros((*batch, K_E))
    sinr_value = np.zeros((*batch, K_I))
    theta = np.broadcast_to(decision.theta, (*batch, config.num_elements))
    eta = np.broadcast_to(decision.eta, (*batch, config.num_streams))
    # Realisations have their own seeds and sizes of work: one loop iteration each.
    for idx in np.ndindex(batch):
        scen = tree_index(scenario, idx) if idx else scenario
        one = model.decision_from_eta(theta[idx], eta[idx], K_I)
        gen = np.random.default_rng(int(scen.fading_seed)) if rng is None else rng
        q_bar[idx], q_sem[idx], phi_mean[idx], sinr_value[idx] = _evaluate_one(
            config, scen, one, gen, int(num_samples)
        )
    out = model.summarize(config, decision, q_bar, sinr_value)
    out["q_bar_sem_j"] = q_sem
    out["mean_harvested_j"] = phi_mean
    return out
