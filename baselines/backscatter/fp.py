r"""Algorithm 1 of model 000 (spec section 5): FP, alternating optimisation and matching.

The FP surrogate (Lagrangian dual + quadratic transform, natural log, noise power 1)

.. math:: f=\sum_{(i,n)\ \mathrm{filled}}\omega_k[\ln(1+\alpha_{in})-\alpha_{in}]
          +2\sqrt{\omega_k(1+\alpha_{in})}\,\mathrm{Re}\{\boldsymbol\beta_{in}^H\mathbf a_{i,k}\}
          -\boldsymbol\beta_{in}^H\mathbf B_i\boldsymbol\beta_{in},

k the UE in stream (i, n), :math:`\mathbf a_{i,k}=\mathbf T_{i,k}\mathbf v_k` its signature
at BS i and :math:`\mathbf B_i` the covariance of *everything* BS i receives (own signal
included, plus the white-noise CSI-error terms of spec 6.4 in the estimate view). At the
optimal (alpha, beta) of Step 1, f equals the WSR in nats. One outer iteration:

1. Step 1: :math:`\alpha_{in}=\gamma_{in}`,
   :math:`\boldsymbol\beta_{in}=\sqrt{\omega(1+\alpha_{in})}\mathbf B_i^{-1}\mathbf a_{i,k}`.
   An empty stream gets a tentative (alpha, beta) from the unscheduled UE of its cell with the
   largest :math:`\|\mathbf T_{i,k}\|_F` (one per empty stream, strongest first), as if that
   UE were added; without it an empty stream would have beta = 0 and never be filled again.
2. Step 2 (backscatter only): w maximises f, :math:`\max 2\mathrm{Re}\{\mathbf x^H\mathbf w\}
   -\mathbf w^H\mathbf Y\mathbf w` s.t. :math:`\|\mathbf w\|^2\le P`; routes ``w_method``:
   ``"closed_form"`` (bisection on the multiplier, exact), ``"cvxpy"`` (direct convex solve),
   ``"sdr"`` (the paper's SDP (P2) with Gaussian randomisation).
3. Step 3: for every UE k and stream n of its cell, (P3'):
   :math:`\max_{\mathbf v}2\sqrt{\omega_k(1+\alpha_{in})}\mathrm{Re}\{\boldsymbol\beta_{in}^H
   \mathbf T_{i,k}\mathbf v\}-\sum_{(j,r)}|\boldsymbol\beta_{jr}^H\mathbf T_{j,k}\mathbf v|^2`
   over k's beam set (routes ``v_method``: ``"first_order"`` (:mod:`.qp`), ``"cvxpy"``,
   ``"sdr"``); its weight
   :math:`\xi_{k,n}=\omega_k[\ln(1+\alpha_{in})-\alpha_{in}]-\boldsymbol\beta_{in}^H
   \mathrm{diag}(\sigma^2_i)\boldsymbol\beta_{in}-|\boldsymbol\beta_{in}^H\mathbf G_i\mathbf w|^2
   -\sum_{(j,r)}\boldsymbol\beta_{jr}^H\Omega_{j,k}\boldsymbol\beta_{jr}+\mathrm{opt}_{k,n}`
   (spec 5.2 3b with the corrected minus signs; the Omega term is UE k's CSI-error noise, 0
   under perfect CSI), which is k's exact contribution to f; then per BS the Hungarian
   algorithm (``scipy.optimize.linear_sum_assignment``) on max(xi, 0), dropping matches with
   xi <= 0.
4. w is scaled onto the budget, ||w||^2 = P (every received term but the noise scales with
   w, so every SINR grows; our addition: the FP steps alone raise ||w|| only slowly). It sits
   between iterations, after Step 3, so the chain WSR_t = f(Step 1) <= f(Step 2) <= f(Step 3)
   <= WSR(new iterate) <= WSR(scaled) = WSR_{t+1} holds.
5. Stop when the relative WSR change is below ``tol`` (spec: (f_t - f_{t-1}) / f_t < eps,
   f_t = the WSR at the new iterate) or after ``max_iterations``.

Monotonicity (our safeguards, each documented where it acts): every step keeps its previous
value unless the new one is at least as good for f (exact routes never need it; the SDR with
randomisation and the unit-modulus projection can); the matching's schedule is kept only if
its f is at least that of the unchanged schedule with updated beams (with tentative streams
the xi count leakage into combiners of streams that stay empty, so the matching alone could
lower f). Hence the WSR never decreases from one iteration to the next.

Everything is per realisation (unbatched) on the estimate view of :func:`model.channels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from baselines.backscatter import convex, qp
from irs_gym.models import backscatter as model

W_METHODS = ("closed_form", "cvxpy", "sdr")
V_METHODS = ("first_order", "cvxpy", "sdr")


def beam_set(config: model.BackscatterConfig) -> tuple[str, float]:
    """(kind, bound) of the UE beams: ``ball`` with P_a (active), ``circle`` with sqrt(P_a/L)
    (passive) or 1 (backscatter, unit amplitude), ``disc`` with 1 (amplitude control)."""
    if config.uplink == "active":
        return "ball", config.ue_power_w
    if config.amplitude_control:
        return "disc", 1.0
    return "circle", config.beam_amplitude


@dataclass(frozen=True)
class Problem:
    """What the optimiser sees for one realisation: the estimate-view channels (noise power 1,
    white-noise CSI-error model), weights and the UE-to-cell map."""

    config: model.BackscatterConfig
    ch: model.Channels
    omega: np.ndarray
    cell: np.ndarray

    @classmethod
    def of(cls, config: model.BackscatterConfig, scenario: model.BackscatterScenario) -> Problem:
        return cls(
            config,
            model.channels(config, scenario, "estimate"),
            config.weights_array,
            config.cell_of_ue,
        )

    def signatures(self, w: np.ndarray) -> np.ndarray:
        """T_{j,u} = F_{j,u} diag(H_u w) (or F_{j,u} without PB): ``[I, U, N, D]``."""
        if self.ch.H is None:
            return self.ch.F
        return self.ch.F * (self.ch.H @ w)[None, :, None, :]

    def received(self, w: np.ndarray, v: np.ndarray) -> np.ndarray:
        return model.received_beams(self.ch, w, v)

    def interference(self, w: np.ndarray) -> np.ndarray:
        return model.pb_interference(self.ch, w)

    def wsr(self, w: np.ndarray, v: np.ndarray, stream: np.ndarray) -> float:
        """WSR (bit/s/Hz) the optimiser predicts: the estimate view (= White)."""
        a = self.received(w, v)
        gamma = model.sinr_from_beams(self.ch, a, self.interference(w), stream >= 0, self.cell)
        return float(np.sum(self.omega * np.log2(1.0 + gamma)))


def occupants(config: model.BackscatterConfig, stream: np.ndarray) -> np.ndarray:
    """``[I, N]``: the UE in each stream, -1 when empty (``stream`` must be feasible)."""
    occ = np.full((config.num_cells, config.num_bs_antennas), -1, dtype=np.int64)
    u = np.flatnonzero(stream >= 0)
    occ[config.cell_of_ue[u], stream[u]] = u
    return occ


@dataclass
class Auxiliaries:
    """Step 1's variables per stream: ``alpha [I, N]``, ``beta [I, N, N]``, ``occupant
    [I, N]`` (the UE alpha, beta belong to, -1 none) and ``filled [I, N]`` (a scheduled UE;
    the other occupants are tentative candidates)."""

    alpha: np.ndarray
    beta: np.ndarray
    occupant: np.ndarray
    filled: np.ndarray

    @property
    def tentative(self) -> np.ndarray:
        return (self.occupant >= 0) & ~self.filled


def auxiliaries(
    prob: Problem, w: np.ndarray, v: np.ndarray, stream: np.ndarray, tentative: bool
) -> tuple[Auxiliaries, float]:
    """Step 1 (closed form) and the WSR (bit/s/Hz) at (w, v, stream)."""
    cfg, ch = prob.config, prob.ch
    I, N = cfg.num_cells, cfg.num_bs_antennas
    a, g, active = prob.received(w, v), prob.interference(w), stream >= 0
    B = model.covariance(ch, a, g, active)
    gamma = model.sinr_from_beams(ch, a, g, active, prob.cell)
    occ = occupants(cfg, stream)
    filled = occ >= 0
    alpha = np.zeros((I, N))
    beta = np.zeros((I, N, N), dtype=complex)
    i, n = np.nonzero(filled)
    k = occ[i, n]
    alpha[i, n] = gamma[k]
    if k.size:
        rhs = a[i, k, :, None]
        beta[i, n] = (
            np.sqrt(prob.omega[k] * (1 + gamma[k]))[:, None] * np.linalg.solve(B[i], rhs)[..., 0]
        )
    if tentative and not filled.all():
        strength = np.linalg.norm(prob.signatures(w), axis=(-2, -1))  # [I, U]
        for i in range(I):
            empty = np.flatnonzero(~filled[i])
            free = np.flatnonzero((prob.cell == i) & ~active)
            free = free[np.argsort(-strength[i, free], kind="stable")]
            for n, k in zip(empty, free, strict=False):
                s = a[i, k]
                Bk = B[i] + np.diag(ch.noise_per_ue[i, k])
                gamma_t = max(float(np.real(s.conj() @ np.linalg.solve(Bk, s))), 0.0)
                alpha[i, n] = gamma_t
                beta[i, n] = np.sqrt(prob.omega[k] * (1 + gamma_t)) * np.linalg.solve(
                    Bk + np.outer(s, s.conj()), s
                )
                occ[i, n] = k
    wsr = float(np.sum(prob.omega * np.log2(1.0 + gamma)))
    return Auxiliaries(alpha, beta, occ, filled), wsr


def surrogate(
    prob: Problem, w: np.ndarray, v: np.ndarray, stream: np.ndarray, aux: Auxiliaries
) -> float:
    """f (nats) of (w, v, stream) at fixed (alpha, beta): the streams ``stream`` fills."""
    a, g, active = prob.received(w, v), prob.interference(w), stream >= 0
    B = model.covariance(prob.ch, a, g, active)
    occ = occupants(prob.config, stream)
    i, n = np.nonzero(occ >= 0)
    k = occ[i, n]
    al, be, om = aux.alpha[i, n], aux.beta[i, n], prob.omega[k]
    c = np.sqrt(om * (1 + al))
    signal = np.real(np.sum(be.conj() * a[i, k], axis=-1))
    quad = np.real(np.einsum("sn,snm,sm->s", be.conj(), B[i], be))
    return float(np.sum(om * (np.log1p(al) - al) + 2 * c * signal - quad))


def w_terms(
    prob: Problem, v: np.ndarray, stream: np.ndarray, aux: Auxiliaries
) -> tuple[np.ndarray, np.ndarray]:
    r"""Step 2's Y ``[M, M]`` and x ``[M]``: f(w) = const + 2 Re(x^H w) - w^H Y w, with
    :math:`\mathbf C_{i,u}=\mathbf F_{i,u}\mathrm{diag}(\mathbf v_u)\mathbf H_u` (spec 5.2)."""
    ch = prob.ch
    C = np.einsum("iunl,ul,ulm->iunm", ch.F, v, ch.H)
    bC = np.einsum("inr,iurm->inum", aux.beta.conj(), C)  # rows beta_in^H C_{i,u}
    bG = np.einsum("inr,irm->inm", aux.beta.conj(), ch.G)
    occ = occupants(prob.config, stream)
    filled = (occ >= 0).astype(float)
    active = (stream >= 0).astype(float)
    Y = np.einsum("in,u,inum,inuk->mk", filled, active, bC.conj(), bC)
    Y += np.einsum("in,inm,ink->mk", filled, bG.conj(), bG)
    i, n = np.nonzero(occ >= 0)
    k = occ[i, n]
    c = np.sqrt(prob.omega[k] * (1 + aux.alpha[i, n]))
    x = np.sum(c[:, None] * np.conj(bC[i, n, k, :]), axis=0)
    return (Y + Y.conj().T) / 2, x


@dataclass
class Candidates:
    """Step 3a for every (UE u, stream n of u's cell): beams ``[U, N, D]``, optimal values
    of (P3') ``[U, N]`` and weights ``xi [U, N]`` (-inf where stream n has no beta)."""

    beams: np.ndarray
    values: np.ndarray
    xi: np.ndarray


@dataclass
class RunResult:
    """Output of :meth:`FPEngine.run`."""

    w: np.ndarray
    v: np.ndarray
    stream: np.ndarray
    history: list[float]
    status: str
    notes: list[str] = field(default_factory=list)


class FPEngine:
    """Algorithm 1 with selectable routes; see the module docstring.

    Args:
        w_method: ``"closed_form"`` (default), ``"cvxpy"`` or ``"sdr"``.
        v_method: ``"first_order"`` (default), ``"cvxpy"`` or ``"sdr"``.
        randomizations: Gaussian draws of the SDR recovery (100).
        fallback: when an SDR solve fails, use the exact route for that step and note it in
            the Solution's message (default); ``False``: the failure ends the solve
            (status ``solver_error`` with the cvxpy status).
        max_iterations: T_max (20). tol: epsilon (1e-3).
        qp_iterations: iteration cap of the first-order (P3') solver (60).
    """

    def __init__(
        self,
        w_method: str = "closed_form",
        v_method: str = "first_order",
        randomizations: int = 100,
        fallback: bool = True,
        max_iterations: int = 20,
        tol: float = 1e-3,
        qp_iterations: int = 60,
    ) -> None:
        if w_method not in W_METHODS:
            raise ValueError(f"w_method must be one of {W_METHODS}, got {w_method!r}")
        if v_method not in V_METHODS:
            raise ValueError(f"v_method must be one of {V_METHODS}, got {v_method!r}")
        if not (isinstance(max_iterations, int) and max_iterations >= 1):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if not (isinstance(randomizations, int) and randomizations >= 1):
            raise ValueError(f"randomizations must be an integer >= 1, got {randomizations!r}")
        if not tol >= 0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        self.w_method, self.v_method = w_method, v_method
        self.randomizations, self.fallback = randomizations, fallback
        self.max_iterations, self.tol, self.qp_iterations = max_iterations, tol, qp_iterations

    # Step 2 -------------------------------------------------------------------------------
    def w_step(
        self,
        prob: Problem,
        w: np.ndarray,
        v: np.ndarray,
        stream: np.ndarray,
        aux: Auxiliaries,
        rng: np.random.Generator,
        notes: list[str],
    ) -> np.ndarray:
        """The PB beam maximising f at fixed (alpha, beta, v, stream)."""
        Y, x = w_terms(prob, v, stream, aux)
        P = prob.config.pb_power_w
        if self.w_method == "closed_form":
            w_new = qp.ball_qp(Y, x, P)
        elif self.w_method == "cvxpy":
            w_new = convex.w_qp(w.size).solve(Y, x, P)
        else:
            try:
                w_new = convex.w_sdp(w.size).solve(Y, x, P, rng, self.randomizations)
            except convex.StepFailure as exc:
                if not self.fallback:
                    raise
                notes.append(f"w-step: {exc}; used the closed form")
                w_new = qp.ball_qp(Y, x, P)

        def gain(u: np.ndarray) -> float:
            return float(2 * np.real(x.conj() @ u) - np.real(u.conj() @ Y @ u))

        # an inexact route (solver tolerance, randomisation) must not lower f
        return w_new if gain(w_new) >= gain(w) else w

    # Step 3 -------------------------------------------------------------------------------
    def _first_order(
        self, kind: str, bound: float, R: np.ndarray, b: np.ndarray, v0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        opts = {} if kind == "ball" else {"max_iterations": self.qp_iterations}
        return qp.solve(kind, R, b, v0, bound, **opts)

    def _solve_beams(
        self,
        kind: str,
        bound: float,
        R: np.ndarray,
        b: np.ndarray,
        v0: np.ndarray,
        rng: np.random.Generator,
        notes: list[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(P3') for a batch of candidates ``b [..., D]`` with leakage factors R ``[..., r, D]``
        and feasible warm starts ``v0``; returns (beams, values), each no worse than v0."""
        if self.v_method == "first_order":
            return self._first_order(kind, bound, R, b, v0)
        relaxed_kind = "ball" if kind == "ball" else "disc"
        t = np.sqrt(bound) if kind == "ball" else bound
        R_full = np.broadcast_to(R, (*b.shape[:-1], *R.shape[-2:]))
        out = np.empty_like(b)
        for idx in np.ndindex(b.shape[:-1]):
            Ri, bi = R_full[idx], b[idx]
            if self.v_method == "cvxpy":
                out[idx] = convex.v_qp(*Ri.shape, relaxed_kind).solve(Ri, bi, t)
                continue
            try:
                out[idx] = convex.v_sdp(Ri.shape[1], relaxed_kind).solve(
                    Ri, bi, t, rng, self.randomizations
                )
            except convex.StepFailure as exc:
                if not self.fallback:
                    raise
                notes.append(f"v-step: {exc}; used the first-order route")
                out[idx] = self._first_order(kind, bound, Ri, bi, v0[idx])[0]
        if kind == "circle":
            return qp.polish_circle(R, b, out, v0, bound)
        # the solver's tolerance (or the randomisation) must not lower f
        return qp.keep_better(R, b, out, v0)

    def _leakage(self, prob: Problem, w: np.ndarray, aux: Auxiliaries, streams: np.ndarray):
        """R ``[U, I*N, D]`` (rows beta_jr^H T_{j,u} over the streams in ``streams`` [I, N])
        and the CSI-error penalty ``[U]`` sum_{(j,r)} beta_jr^H Omega_{j,u} beta_jr."""
        cfg = prob.config
        E = prob.signatures(w)
        beta = aux.beta * streams[..., None]
        bT = np.einsum("jrm,jumd->jrud", beta.conj(), E)
        R = np.transpose(bT, (2, 0, 1, 3)).reshape(cfg.num_ues, -1, E.shape[-1])
        pen = np.einsum("jrm,jum->u", np.abs(beta) ** 2, prob.ch.noise_per_ue)
        return R, pen, bT

    def candidates(
        self,
        prob: Problem,
        w: np.ndarray,
        v: np.ndarray,
        aux: Auxiliaries,
        rng: np.random.Generator,
        notes: list[str],
    ) -> Candidates:
        """Step 3a: (P3') and xi for every (UE, stream of its cell), leakage into every
        stream with a beta (filled or tentative)."""
        cfg = prob.config
        U, N = cfg.num_ues, cfg.num_bs_antennas
        has_beta = aux.occupant >= 0
        R, pen, bT = self._leakage(prob, w, aux, has_beta)
        alpha_c = aux.alpha[prob.cell]  # [U, N]
        c = np.sqrt(prob.omega[:, None] * (1 + alpha_c))
        own = bT[prob.cell[:, None], np.arange(N)[None, :], np.arange(U)[:, None], :]
        b = c[..., None] * np.conj(own)  # [U, N, D]
        kind, bound = beam_set(cfg)
        v0 = np.broadcast_to(v[:, None, :], b.shape)
        beams, values = self._solve_beams(kind, bound, R[:, None], b, v0, rng, notes)
        g = prob.interference(w)
        noise_q = np.einsum("inm,im->in", np.abs(aux.beta) ** 2, prob.ch.noise)
        pb_q = np.abs(np.einsum("inm,im->in", aux.beta.conj(), g)) ** 2
        const = prob.omega[:, None] * (np.log1p(alpha_c) - alpha_c) - (noise_q + pb_q)[prob.cell]
        xi = np.where(has_beta[prob.cell], const + values - pen[:, None], -np.inf)
        return Candidates(beams, values, xi)

    def fixed_beams(
        self,
        prob: Problem,
        w: np.ndarray,
        v: np.ndarray,
        stream: np.ndarray,
        aux: Auxiliaries,
        rng: np.random.Generator,
        notes: list[str],
    ) -> np.ndarray:
        """(P3') for every scheduled UE in its own stream, leakage into filled streams only:
        the exact maximiser of f over V with the schedule unchanged (separable per UE)."""
        cfg = prob.config
        sched = np.flatnonzero(stream >= 0)
        v_new = v.copy()
        if not sched.size:
            return v_new
        R, _, bT = self._leakage(prob, w, aux, aux.filled)
        n = stream[sched]
        c = np.sqrt(prob.omega[sched] * (1 + aux.alpha[prob.cell[sched], n]))
        b = c[:, None] * np.conj(bT[prob.cell[sched], n, sched, :])
        kind, bound = beam_set(cfg)
        v_new[sched] = self._solve_beams(kind, bound, R[sched], b, v[sched], rng, notes)[0]
        return v_new

    def match(self, prob: Problem, cand: Candidates) -> np.ndarray:
        """Step 3c: the Hungarian algorithm per BS on max(xi, 0); matches with xi <= 0 are
        dropped (stream empty, the UE's IRS absorbs). Returns the new ``stream [U]``."""
        stream = np.full(prob.config.num_ues, -1, dtype=np.int64)
        for i in range(prob.config.num_cells):
            ues = np.flatnonzero(prob.cell == i)
            xi = cand.xi[ues]
            rows, cols = linear_sum_assignment(np.maximum(xi, 0.0), maximize=True)
            keep = xi[rows, cols] > 0
            stream[ues[rows[keep]]] = cols[keep]
        return stream

    def v_step(
        self,
        prob: Problem,
        w: np.ndarray,
        v: np.ndarray,
        stream: np.ndarray,
        aux: Auxiliaries,
        rng: np.random.Generator,
        notes: list[str],
        schedule: bool,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Step 3: (V, S) by matching (``schedule=True``) or V for the fixed S."""
        v_fixed = self.fixed_beams(prob, w, v, stream, aux, rng, notes)
        if not schedule:
            return v_fixed, stream
        cand = self.candidates(prob, w, v, aux, rng, notes)
        new_stream = self.match(prob, cand)
        v_match = v.copy()
        sched = np.flatnonzero(new_stream >= 0)
        v_match[sched] = cand.beams[sched, new_stream[sched]]
        f_match = surrogate(prob, w, v_match, new_stream, aux)
        if f_match >= surrogate(prob, w, v_fixed, stream, aux):
            return v_match, new_stream
        if not np.array_equal(new_stream, stream):
            notes.append("a matching was rejected (tentative-stream safeguard)")
        return v_fixed, stream

    # Algorithm 1 --------------------------------------------------------------------------
    def run(
        self,
        prob: Problem,
        w: np.ndarray,
        v: np.ndarray,
        stream: np.ndarray,
        rng: np.random.Generator,
        schedule: bool = True,
    ) -> RunResult:
        """Iterate Steps 1-3 from (w, v, stream); ``schedule=False`` keeps the schedule."""
        notes: list[str] = []
        aux, wsr = auxiliaries(prob, w, v, stream, schedule)
        history = [wsr]
        status = "max_iterations"
        for _ in range(self.max_iterations):
            if prob.config.has_pb:
                w = self.w_step(prob, w, v, stream, aux, rng, notes)
            v, stream = self.v_step(prob, w, v, stream, aux, rng, notes, schedule)
            if prob.config.has_pb:
                w = model.scale_to_power(w, prob.config.pb_power_w)
            aux, wsr_new = auxiliaries(prob, w, v, stream, schedule)
            history.append(wsr_new)
            if wsr_new <= 0 or (wsr_new - wsr) < self.tol * wsr_new:
                status = "converged"
                break
            wsr = wsr_new
        return RunResult(w, v, stream, history, status, notes)
