"""The beam-superposition action for RIS phases, shared by the envs that offer
``phase_action="beams"``.

Instead of one action entry per element, the agent weighs L reference beams: with unit rows
u_l of ``U [..., L, N]`` (an env-specific beam per user, e.g. the phases that make one
user's cascaded channel coherent), the 2 L entries of ``a`` give complex weights
w_l = (1 + a_l) / 2 exp(j pi a_{L+l}) and the phases theta = exp(j arg sum_l w_l u_l).
One beam alone (w = e_l) gives theta = exp(j arg u_l), its own coherent phases; the zero
action weighs every beam equally. An element where the superposition vanishes keeps
theta_n = 1 (``numpy.angle(0) = 0``).
"""

from __future__ import annotations

import numpy as np


def unit_rows(b: np.ndarray) -> np.ndarray:
    """b_l / ||b_l|| along the last axis (the beams' relative strengths are the agent's to
    choose, not the channel's)."""
    return b / np.linalg.norm(b, axis=-1, keepdims=True)


def beam_phases(a: np.ndarray, U: np.ndarray) -> np.ndarray:
    """theta ``[..., N]`` from the 2 L action entries ``a [..., 2L]`` and unit beams
    ``U [..., L, N]`` (module docstring)."""
    L = U.shape[-2]
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


def beam_action(theta: np.ndarray, U: np.ndarray) -> np.ndarray:
    """The beam weights whose superposition is closest to ``theta`` in least squares, as the
    2 L action entries (largest magnitude mapped to 1). A projection, not an inverse: the
    fit is on theta itself, not on its phases, so even phases of the family come back only
    approximately."""
    w = (np.linalg.pinv(np.swapaxes(U, -1, -2)) @ theta[..., None])[..., 0]
    mag = np.abs(w)
    peak = mag.max(axis=-1, keepdims=True)
    rel = mag / np.where(peak > 0, peak, 1.0)
    return np.concatenate([2.0 * rel - 1.0, np.angle(w) / np.pi], axis=-1)
