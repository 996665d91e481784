"""Unit tests of models.alignment_bounds against independent computations.

References for the expected values:
    - hand computations on planar instances (zeta, xi, x_min, mu, t_1, t_2, T);
    - a brute-force grid over directions in the plane for Lemma 8's sup (xi);
    - a brute-force scan of zeta values for Lemma 7's largest zeta;
    - the 40-digit reference flow with event location (tests/reference_mpmath.py) for the
      alignment time and for a neuron frozen exactly on a boundary.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference_mpmath import reference_flow, to_float
from relu_instances import separable_data

from models.alignment_bounds import (
    AlignmentInputError,
    alignment_bounds,
    alignment_time,
    cone_of_active,
    cone_of_state,
    measured_alignment_time,
    stretches,
    xi,
    xi_extremal_pair,
    zeta,
    zeta_cosines,
)
from models.two_layer_relu import gradient_flow

# x_1 = (1, 0) positive, x_2 = (-1, 1) negative: cos(y_1 x_1, y_2 x_2) = 1/sqrt(2).
X2 = np.array([[1.0, 0.0], [-1.0, 1.0]])
Y2 = np.array([1.0, -1.0])


def test_zeta_hand_computed():
    # Neuron 0 in N_+ at 45 deg: cos(w, x_-) = cos(45deg, 135deg) = 0 -> no condition.
    # Neuron 1 in N_- along (1, 0.5): cos(w, x_+) = 1/sqrt(1.25) -> zeta = 1 - 1/1.25 = 0.2.
    W0 = np.array([[1.0, 1.0], [1.0, 0.5]])
    v0 = np.array([math.sqrt(2.0), -math.sqrt(1.25)])
    assert np.allclose(zeta_cosines(X2, Y2, W0, v0), [0.0, 1 / math.sqrt(1.25)], atol=1e-15)
    assert zeta(X2, Y2, W0, v0) == pytest.approx(0.2, abs=1e-15)


def test_zeta_edge_cases():
    W0 = np.array([[0.0, -1.0], [0.0, 0.0]])  # cos(w_0, x_-) = -1/sqrt(2) < 0; w_1 = 0 ignored
    assert zeta(X2, Y2, W0, np.array([1.0, 0.0])) == 1.0
    parallel = np.array([[-1.0, 1.0]])  # N_+ neuron along x_-: Assumption 3 fails
    assert zeta(X2, Y2, parallel, np.array([math.sqrt(2.0)])) == pytest.approx(0.0, abs=1e-15)


def test_zeta_is_the_largest_valid_by_scan():
    rng = np.random.default_rng(3)
    X, y = separable_data(rng, 3, 3, 3)
    W0 = rng.normal(size=(5, 3))
    v0 = np.where(rng.random(5) < 0.5, -1.0, 1.0) * np.linalg.norm(W0, axis=1)
    cos = zeta_cosines(X, y, W0, v0)
    grid = np.linspace(0.0, 1.0, 100001)
    valid = grid[[np.all(cos <= math.sqrt(1 - z) + 1e-15) for z in grid]]
    # 1e-5: the scan's grid spacing.
    assert zeta(X, y, W0, v0) == pytest.approx(valid.max(), abs=1e-5)


def test_xi_hand_computed_and_extremal_pair():
    assert xi(X2, Y2) == pytest.approx(0.5, abs=1e-15)  # mu = 1/sqrt(2)
    x1, x2, i, k = xi_extremal_pair(X2, Y2)
    assert {i, k} == {0, 1}
    assert x1 @ x2 == pytest.approx(math.sqrt(0.5), abs=1e-15)
    assert abs(x2 @ (Y2[k] * X2[k])) < 1e-15  # on the boundary of sample k


def test_xi_against_planar_brute_force():
    """sup over a fine grid of x_1 in the cone and x_2 outside S_+ u S_- (by angle) = sqrt(1 - xi)."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        X, y = separable_data(rng, 2, 2, 2)
        Z = y[:, None] * X
        c = np.linspace(0, 1, 201)[:, None, None]
        # x_1 over convex combinations of pairs of generators (the cone in the plane is
        # spanned by its two extreme generators, which are among the pairs)
        ones = [c * Z[a] + (1 - c) * Z[b] for a in range(len(Z)) for b in range(a + 1, len(Z))]
        x1 = np.concatenate([o.reshape(-1, 2) for o in ones])  # (m, 2)
        theta = np.linspace(0, 2 * np.pi, 20001)
        x2 = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        G = x2 @ X.T
        plus = np.all(G[:, y > 0] > 0, axis=1) & np.all(G[:, y < 0] <= 0, axis=1)
        minus = np.all(G[:, y < 0] > 0, axis=1) & np.all(G[:, y > 0] <= 0, axis=1)
        x2 = x2[~plus & ~minus]
        x1 = x1 / np.linalg.norm(x1, axis=1, keepdims=True)
        sup = np.abs(x1 @ x2.T).max()
        # 1e-3: the x_2 grid step (3e-4 rad) times |d cos / d theta| <= 1, plus the x_1 grid.
        assert sup == pytest.approx(math.sqrt(1 - xi(X, y)), abs=1e-3)
        assert sup <= math.sqrt(1 - xi(X, y)) + 1e-12


def test_xi_without_separability_is_zero():
    assert xi(X2, np.array([1.0, 1.0])) == 0.0  # cos(x_1, x_2) < 0 with equal labels


def test_alignment_bounds_hand_computed():
    W0 = np.array([[1.0, 0.5]])
    v0 = np.array([-math.sqrt(1.25)])
    b = alignment_bounds(X2, Y2, W0, v0)
    mu = 1 / math.sqrt(2)
    assert b.mu == pytest.approx(mu) and b.x_min == 1.0 and b.n == 2
    assert b.t1 == pytest.approx(2 / (0.2 * math.sqrt(mu)))
    assert b.t2 == pytest.approx(2 / (0.5 * math.sqrt(mu)))
    assert b.T == pytest.approx(2 * 2 / (math.sqrt(mu) * 0.2))


def test_cones_of_states():
    assert cone_of_state([1.0, -0.5], X2, Y2) == "S+"  # <w, x_1> = 1, <w, x_2> = -1.5
    assert cone_of_state([-1.0, 0.5], X2, Y2) == "S-"
    assert cone_of_state([-1.0, -2.0], X2, Y2) == "dead"  # -1 and -1
    assert cone_of_state([0.0, -1.0], X2, Y2) == "boundary"  # <w, x_1> = 0, <w, x_2> = -1
    assert cone_of_state([1e-17, -1.0], X2, Y2) == "boundary"  # rounding noise of a zero
    assert cone_of_state([1.0, 3.0], X2, Y2) == "mixed"
    assert cone_of_state([0.0, 0.0], X2, Y2) == "origin"
    assert cone_of_active(np.array([False, False]), Y2) == "none"


REFERENCE_CASES = [(11, 2, 2, 2, 2), (12, 2, 1, 3, 2)]  # (seed, n_pos, n_neg, d, h)


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_alignment_time_against_mpmath(case):
    seed, n_pos, n_neg, d, h = case
    rng = np.random.default_rng(seed)
    X, y = separable_data(rng, n_pos, n_neg, d)
    W0 = 1e-2 * rng.normal(size=(h, d))
    v0 = np.where(rng.random(h) < 0.5, -1.0, 1.0) * np.linalg.norm(W0, axis=1)
    b = alignment_bounds(X, y, W0, v0)
    measured = alignment_time(gradient_flow(X, y, W0, v0, b.T), W0, v0)
    assert 0 < measured <= b.T
    ref = reference_flow(X, y, W0, v0, [2 * measured], dps=40)
    last = max(float(e[0]) for e in ref.events)
    # 1e-6 relative: the reference locates events to ~40 digits, the exact solver to ~1e-14.
    assert measured == pytest.approx(last, rel=1e-6)


def test_frozen_neuron_sits_exactly_on_the_boundary():
    """A neuron that deactivates its last sample stops on <w, x_i> = 0 (40-digit reference)."""
    X = np.array([[1.0, 0.0], [-math.cos(0.0174533), -math.sin(0.0174533)]])
    y = np.array([1.0, -1.0])
    W0 = 1e-3 * np.array([[-math.sin(0.0349066), math.cos(0.0349066)]])
    v0 = np.array([1e-3])
    flow = gradient_flow(X, y, W0, v0, 1.0)
    (neuron,) = stretches(flow, W0)
    assert [s.cone for s in neuron] == ["S-", "boundary"]  # N_+ neuron activating the negative only
    assert neuron[-1].frozen
    ref = reference_flow(X, y, W0, v0, [1.0], dps=40)
    w = ref.W_final[0]
    pre = to_float([w[0] * X[1, 0] + w[1] * X[1, 1]])[0]  # in mpmath, then rounded
    assert abs(pre) < 1e-30 * float(np.linalg.norm(to_float(w)))
    assert cone_of_state(flow.W_unit[0], X, y) == "boundary"


def test_measured_alignment_time_extends_a_short_horizon():
    rng = np.random.default_rng(11)
    X, y = separable_data(rng, 2, 2, 2)
    W0 = 1e-2 * rng.normal(size=(2, 2))
    v0 = np.where(rng.random(2) < 0.5, -1.0, 1.0) * np.linalg.norm(W0, axis=1)
    full = alignment_time(gradient_flow(X, y, W0, v0, alignment_bounds(X, y, W0, v0).T), W0, v0)
    assert measured_alignment_time(X, y, W0, v0, full / 10) == pytest.approx(full, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: zeta(X2, Y2, np.ones((1, 3)), np.ones(1)), "W0 must have shape"),
        (lambda: zeta(X2, Y2, np.ones((1, 2)), np.ones(2)), "v0 must have shape"),
        (lambda: zeta(X2, Y2, np.array([[np.nan, 1.0]]), np.ones(1)), "finite"),
        (lambda: xi(X2, np.array([1.0, 2.0])), "y"),
        (lambda: measured_alignment_time(X2, Y2, np.ones((1, 2)), np.ones(1), 0.0), "t_end"),
        (lambda: xi_extremal_pair(np.array([[1.0, 0.0], [2.0, 0.0]]), np.array([1.0, 1.0])), "parallel"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(AlignmentInputError, match=message):
        call()
