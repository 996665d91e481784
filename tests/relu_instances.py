"""Instances shared by the two-layer ReLU simulator tests (not a test module).

Orthogonally separable data (Assumption 1, Appendix D) built so that the margin is known,
and the relative error used to compare two states of the network.
"""

from __future__ import annotations

import numpy as np


def separable_data(rng, n_pos: int, n_neg: int, d: int):
    """Orthogonally separable (X (n, d), y (n,)): y_i x_i = c_i e_1 + s_i u_i, c_i in [1, 2],
    s_i <= 0.9, u_i a unit vector orthogonal to e_1, so <y_i x_i, y_k x_k> >= 1 - 0.81 > 0."""
    n = n_pos + n_neg
    u = rng.normal(size=(n, d))
    u[:, 0] = 0.0
    u /= np.linalg.norm(u, axis=1)[:, None]
    z = rng.uniform(1.0, 2.0, size=n)[:, None] * np.eye(d)[0] + rng.uniform(0.0, 0.9, size=n)[:, None] * u
    y = np.array([1.0] * n_pos + [-1.0] * n_neg)
    return y[:, None] * z, y


def relative_error(W, v, W_ref, v_ref) -> float:
    """||(W, v) - (W_ref, v_ref)|| / ||(W_ref, v_ref)|| over all entries."""
    ref = np.concatenate([W_ref.ravel(), v_ref])
    return float(np.linalg.norm(np.concatenate([W.ravel(), v]) - ref) / np.linalg.norm(ref))
