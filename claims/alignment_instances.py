"""Instances shared by the Appendix D.2 claim modules (not a claim module itself).

- :func:`seeded_instance`: orthogonally separable data and a small balanced initialisation
  from one numpy Generator (fixed cases for numerical checks);
- :func:`small_instances`: a planar Hypothesis family under Assumptions 1-3 that shrinks
  fast, for the searches of failing printed statements and proof steps;
- :func:`off_boundaries`: moves initial neurons that sit (nearly) on a boundary off it, so
  that a search returns generic failures rather than measure-zero ones.

References:
    Section 5.2, Assumptions 1-3; Appendix D.2.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from models.data_geometry import class_sums
from models.instances import separable_instance

SEEDED_CASES = [  # (seed, n_pos, n_neg, d, h): small orthogonally separable instances
    (0, 2, 2, 2, 3), (1, 3, 2, 3, 3), (2, 2, 3, 2, 4), (3, 3, 3, 3, 2),
]


def seeded_instance(seed: int, n_pos: int, n_neg: int, d: int, h: int) -> dict:
    """Separable data and a small balanced init (||w_j(0)|| ~ 1e-3, random signs) from one
    Generator (models.instances.separable_instance)."""
    return separable_instance(np.random.default_rng(seed), n_pos=n_pos, n_neg=n_neg, d=d, h=h,
                              scale=1e-3, signs="random")


@st.composite
def small_instances(draw):
    """Planar instances under Assumptions 1-3: n in {2, 3}, d = 2, h in {1, 2}.

    Sample i is y_i r_i (cos a_i, sin a_i) with a_i an integer angle in [-40, 40] degrees
    and r_i in {1, 2, 3}, so every cos(y_i x_i, y_k x_k) >= cos 80 deg > 0 (Assumption 1).
    Neuron j points at an integer angle b_j in [0, 360) degrees (moved by half a degree
    when exactly along the class sum Assumption 3 excludes), ||w_j|| = |v_j| = 1e-3
    (Assumption 2). Cost: <= 11 integer draws. Shrinks to n = 2, angles 0, b_j = 0, v_j > 0.
    """
    n = draw(st.integers(2, 3))
    y = np.array([1.0, -1.0, draw(st.sampled_from([1.0, -1.0]))])[:n]
    angles = np.radians([draw(st.integers(-40, 40)) for _ in range(n)])
    radii = np.array([draw(st.integers(1, 3)) for _ in range(n)], float)
    X = (y * radii)[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    x_plus, x_minus = class_sums(X, y)
    h = draw(st.integers(1, 2))
    W0, v0 = np.zeros((h, 2)), np.zeros(h)
    for j in range(h):
        sign = -1.0 if draw(st.booleans()) else 1.0
        b = math.radians(draw(st.integers(0, 359)))
        w = np.array([math.cos(b), math.sin(b)])
        c = x_minus if sign > 0 else x_plus
        if w @ c / np.linalg.norm(c) > 1 - 1e-9:
            b += math.radians(0.5)
            w = np.array([math.cos(b), math.sin(b)])
        W0[j], v0[j] = 1e-3 * w, sign * 1e-3
    return {"X": X, "y": y, "W0": W0, "v0": v0}


def off_boundaries(inst) -> dict:
    """The instance with every w_j(0) that is (nearly) orthogonal to a sample nudged off it.

    A neuron that starts exactly on a boundary <w_j(0), x_i> = 0 with nothing active is a
    measure-zero counterexample that shrinking favours; nudging such rows (by 1% of their
    norm along a fixed generic direction, v_j(0) rescaled to keep the balance) makes the
    search return the generic failure: a neuron that *becomes* frozen on a boundary.
    """
    X, W0, v0 = inst["X"], inst["W0"].copy(), inst["v0"].copy()
    d = X.shape[1]
    generic = 1.0 / np.arange(1.0, d + 1.0) * np.where(np.arange(d) % 2, -1.0, 1.0)  # (d,)
    generic /= np.linalg.norm(generic)
    for j in range(W0.shape[0]):
        norm = np.linalg.norm(W0[j])
        cos = (X @ W0[j]) / (norm * np.linalg.norm(X, axis=1))
        if norm > 0 and np.min(np.abs(cos)) < 1e-3:
            W0[j] = W0[j] + 0.01 * norm * generic
            v0[j] = np.sign(v0[j]) * np.linalg.norm(W0[j])
    return {**inst, "W0": W0, "v0": v0}
