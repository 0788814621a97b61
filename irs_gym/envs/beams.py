"""The beam-superposition action for RIS phases, shared by the envs that offer
``phase_action="beams"``.

Instead of one action entry per element, the agent weighs L reference beams: with unit rows
u_l of ``U [..., L, N]`` (an env-specific beam per user, e.g. the phases that make one
user's cascaded channel coherent), the 2 L entries of ``a`` give complex weights w_l and the
phases theta = exp(j arg sum_l w_l u_l). Two forms of the weights (``form``):

* ``"polar"``: w_l = (1 + a_l) / 2 exp(j pi a_{L+l}); the zero action weighs every beam
  equally. The phase entry wraps at +-1, where the action box clips it.
* ``"log_polar"``: w_l = 10^(a_l - 1) exp(j pi a_{L+l}); the zero action weighs every beam
  equally, and a beam's weight spans 0.01 .. 1 (40 dB in power) but never vanishes, so its
  phase entry always acts on theta. With ``"polar"`` a weight at a_l = -1 is exactly 0 and
  its phase entry has no effect: on model 004 with ``user_order="snr"`` PPO's preset pushed
  every weight but the strongest beam's there (the best single beam, 0.77 of DOMALO) and
  stayed from 40k to 150k steps, nothing left to learn the relative phases from.
  There ``"log_polar"`` learned faster (0.70 of DOMALO after 10k steps against 0.58) but
  settled on the same single beam, 1 % weights elsewhere (0.776 at 80k steps against 0.778
  at 150k with ``"polar"``, held-out seeds 20000..20063, seed 0).
* ``"cartesian"``: w_l = (1 + a_l) + j a_{L+l}; the zero action weighs every beam equally
  too, but no entry wraps and the map is smooth, so nearby actions give nearby phases.
  Each weight lies in the right half-plane: two beams reach every relative phase, three
  or more not every combination (the global phase of w is free, theta depends only on w's
  direction). Measured with PPO's preset: on model 003 after 30k steps 0.75 of the
  reference against 0.68 with ``"polar"`` (held-out seeds 20000..20063, mean of seeds 0 and
  1), both about 0.80 from 70k to 120k steps (seed 0); on model 000 after 30k steps 0.63
  against 0.70 (seed 0; the polar run on the first 32 of those seeds); on model 004 0.54
  both. Centred weights w_l = a_l + j a_{L+l}, whose zero action (the policy's start) is
  degenerate, reached 0.25 on model 003.

One beam alone (w = e_l) gives theta = exp(j arg u_l), its own coherent phases. An element
where the superposition vanishes keeps theta_n = 1 (``numpy.angle(0) = 0``).
"""

from __future__ import annotations

import numpy as np


def unit_rows(b: np.ndarray) -> np.ndarray:
    """b_l / ||b_l|| along the last axis (the beams' relative strengths are the agent's to
    choose, not the channel's)."""
    return b / np.linalg.norm(b, axis=-1, keepdims=True)


def take_rows(x: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rows of ``x [..., L, D]`` in the order ``order [..., L]`` (row i is x[..., order_i, :]):
    an env that lists its users in a channel-dependent slot order permutes their beams and
    features with it."""
    return np.take_along_axis(x, order[..., None], axis=-2)


FORMS = ("polar", "cartesian", "log_polar")


def beam_option(name: str, value: str, allowed: tuple[str, ...], phase_action: str) -> str:
    """``value`` validated as the env option ``name`` that only the beam action gives a
    meaning to: one of ``allowed``, whose first entry is the default; any other value with
    another ``phase_action`` is refused, not ignored."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    if value != allowed[0] and phase_action != "beams":
        raise ValueError(f"{name}={value!r} needs phase_action='beams', got {phase_action!r}")
    return value


def check_form(form: str, phase_action: str) -> str:
    """``form`` validated as an env's ``beam_weights`` option (:func:`beam_option`)."""
    return beam_option("beam_weights", form, FORMS, phase_action)


def beam_phases(a: np.ndarray, U: np.ndarray, form: str = "polar") -> np.ndarray:
    """theta ``[..., N]`` from the 2 L action entries ``a [..., 2L]`` and unit beams
    ``U [..., L, N]`` (module docstring)."""
    L = U.shape[-2]
    if form == "cartesian":
        w = (1.0 + a[..., :L]) + 1j * a[..., L:]
    elif form == "log_polar":
        w = 10.0 ** (a[..., :L] - 1.0) * np.exp(1j * np.pi * a[..., L:])
    else:
        w = 0.5 * (1.0 + a[..., :L]) * np.exp(1j * np.pi * a[..., L:])
    return np.exp(1j * np.angle(np.einsum("...l,...ln->...n", w, U)))


def gram_features(U: np.ndarray) -> np.ndarray:
    """Re and Im of the overlaps u_i^H u_j of the unit beams ``U [..., L, N]`` for i < j
    (row-major pairs), ``[..., L (L - 1)]``: how two weighted beams interfere where they
    superpose. The weights' best relative phases depend on them, and an MLP does not read them
    off the angles that fix the beams (on model 003, 30k PPO steps: 0.63 of the reference
    without them, 0.76 with them)."""
    i, j = np.triu_indices(U.shape[-2], 1)
    overlaps = np.einsum("...in,...in->...i", U[..., i, :].conj(), U[..., j, :])
    return np.concatenate([overlaps.real, overlaps.imag], axis=-1)


def beam_action(theta: np.ndarray, U: np.ndarray, form: str = "polar") -> np.ndarray:
    """The beam weights whose superposition is closest to ``theta`` in least squares, as the
    2 L action entries (``"polar"`` and ``"log_polar"``: largest magnitude mapped to 1, with
    ``"log_polar"`` those under 1 % of it to -1; ``"cartesian"``: the weights turned by the
    global phase that centres their angles on the real axis, which puts them all in the right
    half-plane where their angles span less than pi, then scaled into the box; real parts
    still negative are clipped to 0). A projection, not an
    inverse: the fit is on theta itself, not on its phases, so even phases of the family come
    back only approximately."""
    w = (np.linalg.pinv(np.swapaxes(U, -1, -2)) @ theta[..., None])[..., 0]
    if form == "cartesian":
        w = w * np.exp(-1j * _half_plane_centre(np.angle(w)))
        re, im = np.maximum(w.real, 0.0), w.imag
        scale = np.maximum(re.max(axis=-1, keepdims=True) / 2.0, np.abs(im).max(-1, keepdims=True))
        scale = np.where(scale > 0, scale, 1.0)
        return np.concatenate([re / scale - 1.0, im / scale], axis=-1)
    mag = np.abs(w)
    peak = mag.max(axis=-1, keepdims=True)
    rel = mag / np.where(peak > 0, peak, 1.0)
    if form == "log_polar":
        with np.errstate(divide="ignore"):
            level = np.maximum(1.0 + np.log10(rel), -1.0)
    else:
        level = 2.0 * rel - 1.0
    return np.concatenate([level, np.angle(w) / np.pi], axis=-1)


def _half_plane_centre(angles: np.ndarray) -> np.ndarray:
    """The middle of the shortest arc that holds every angle of the last axis (the arc
    that leaves out the largest gap between neighbours on the circle), ``[..., 1]``."""
    ordered = np.sort(angles, axis=-1)
    gaps = np.diff(ordered, axis=-1, append=ordered[..., :1] + 2.0 * np.pi)
    k = np.argmax(gaps, axis=-1)[..., None]
    start = np.take_along_axis(ordered, (k + 1) % angles.shape[-1], axis=-1)
    return start + 0.5 * (2.0 * np.pi - np.take_along_axis(gaps, k, axis=-1))
