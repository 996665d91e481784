"""Orthogonally separable instances with a balanced initialisation, from a numpy Generator.

One home for the fixed instances that simulator tests, claims and benchmarks build by hand
(the Hypothesis strategies that *generate* instances under chosen assumptions are
``claims.assumptions.instances``):

- :func:`separable_data`: y_i x_i = c_i e_1 + s_i u_i with c_i in [1, 2], s_i in [0, 0.9] and
  u_i a unit vector orthogonal to e_1, so <y_i x_i, y_k x_k> >= 1 - 0.81 > 0 for every pair:
  Assumption 1 holds with mu >= 0.19 / 4 (norms are at most sqrt(4 + 0.81) < 2.2);
- :func:`balanced_init`: w_j(0) Gaussian of a given size, v_j(0) = +-||w_j(0)|| (Assumption 2);
  a Gaussian w_j is parallel to a class sum with probability 0 (Assumption 3);
- :func:`separable_instance`: both, as the dict {"X", "y", "W0", "v0"} the claims read.

Shapes: X (n, d), y (n,) with the n_pos positive samples first, W0 (h, d), v0 (h,).

References:
    Paper, Section 5.2 (Assumptions 1-3).
"""

from __future__ import annotations

import numpy as np


class InstanceArgumentError(ValueError):
    """A bad argument to an instance builder; the message names it and its value."""


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InstanceArgumentError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def separable_data(rng: np.random.Generator, n_pos: int, n_neg: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Orthogonally separable (X (n, d), y (n,)) as in the module docstring.

    Draws, in this order: u (n, d) normal, c (n,) uniform in [1, 2], s (n,) uniform in [0, 0.9].
    With d = 1 every u_i is zero and the data lie on one line."""
    n_pos, n_neg = _count(n_pos, "n_pos", 0), _count(n_neg, "n_neg", 0)
    d = _count(d, "d", 1)
    n = _count(n_pos + n_neg, "n_pos + n_neg", 1)
    u = rng.normal(size=(n, d))
    u[:, 0] = 0.0
    u /= np.maximum(np.linalg.norm(u, axis=1), 1e-300)[:, None]  # d = 1: u = 0, kept 0
    z = rng.uniform(1.0, 2.0, size=n)[:, None] * np.eye(d)[0] + rng.uniform(0.0, 0.9, size=n)[:, None] * u
    y = np.array([1.0] * n_pos + [-1.0] * n_neg)
    return y[:, None] * z, y


def balanced_init(rng: np.random.Generator, h: int, d: int, *, scale: float = 1e-3,
                  signs: str = "random") -> tuple[np.ndarray, np.ndarray]:
    """(W0 (h, d), v0 (h,)): W0 = scale * normal, v0_j = +-||w_j(0)||.

    ``signs``: "random" (one uniform draw per neuron after W0) or "alternating" (+, -, +, ...)."""
    h, d = _count(h, "h", 1), _count(d, "d", 1)
    if not (isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0):
        raise InstanceArgumentError(f"scale must be a finite number > 0; got {scale!r}")
    W0 = scale * rng.normal(size=(h, d))
    if signs == "random":
        sign = np.where(rng.random(h) < 0.5, -1.0, 1.0)
    elif signs == "alternating":
        sign = np.where(np.arange(h) % 2 == 0, 1.0, -1.0)
    else:
        raise InstanceArgumentError(f"signs must be 'random' or 'alternating'; got {signs!r}")
    return W0, sign * np.linalg.norm(W0, axis=1)


def separable_instance(rng: np.random.Generator, *, n_pos: int, n_neg: int, d: int, h: int,
                       scale: float = 1e-3, signs: str = "random") -> dict[str, np.ndarray]:
    """{"X", "y", "W0", "v0"} under Assumptions 1-3 (data first, then the initialisation)."""
    X, y = separable_data(rng, n_pos, n_neg, d)
    W0, v0 = balanced_init(rng, h, d, scale=scale, signs=signs)
    return {"X": X, "y": y, "W0": W0, "v0": v0}
