# References: Assumption 1 (Section 5.2), eq (22) and the active set of Appendix D.1-D.2 of
# "Linear Loss Classification: Efficient Training Through Neural Collapse". Every metric is
# checked against a hand computation on a tiny explicit example, and margin_mu / x_active
# against an independent brute-force double loop on drawn data.
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.data_geometry import (
    DataGeometryError,
    active_set,
    class_sums,
    cosine,
    margin_mu,
    n_active,
    x_active,
    x_min,
)

FAST = settings(max_examples=50, deadline=None)

# Tolerance for comparing two float64 computations of the same cosine by different
# summation orders: a few ulps of quantities of size <= 1.
ROUNDING = 1e-12


# -- hand-computed examples ----------------------------------------------------------------


def test_margin_mu_hand_computed():
    # y_i x_i = (1, 0), (1, 1), (1, 0): pairwise cosines 1/sqrt(2), 1, 1/sqrt(2).
    X = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    y = np.array([1.0, 1.0, -1.0])
    assert margin_mu(X, y) == pytest.approx(1.0 / math.sqrt(2.0), abs=ROUNDING)


def test_margin_mu_orthogonal_and_opposite_pairs():
    assert margin_mu(np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([1.0, 1.0])) == pytest.approx(0.0, abs=ROUNDING)
    # Same point, opposite labels: y_1 x_1 = -y_2 x_2, cosine -1.
    assert margin_mu(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([1.0, -1.0])) == -1.0


def test_margin_mu_single_point_is_one():
    assert margin_mu(np.array([[3.0, -4.0]]), np.array([-1.0])) == 1.0


def test_class_sums_hand_computed():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = np.array([1.0, -1.0, 1.0])
    x_plus, x_minus = class_sums(X, y)
    np.testing.assert_array_equal(x_plus, [6.0, 8.0])
    np.testing.assert_array_equal(x_minus, [3.0, 4.0])  # plain sum, not sum of y_i x_i


def test_x_min_hand_computed():
    assert x_min(np.array([[3.0, 4.0], [0.0, 1.0], [-2.0, 0.0]])) == 1.0


def test_cosine_hand_computed():
    assert cosine(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1.0 / math.sqrt(2.0), abs=ROUNDING)
    assert cosine(np.array([2.0]), np.array([-5.0])) == -1.0


def test_active_set_and_x_active_hand_computed():
    w = np.array([1.0, 0.0])
    X = np.array([[1.0, 1.0], [0.0, 5.0], [-1.0, 2.0], [2.0, -1.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    # <w, x_i> = 1, 0, -1, 2: points 0 and 3 active; point 1 sits on the boundary.
    np.testing.assert_array_equal(active_set(w, X), [True, False, False, True])
    assert n_active(w, X) == 2
    np.testing.assert_array_equal(x_active(w, X, y), [1.0 - 2.0, 1.0 + 1.0])


def test_relu_derivative_at_zero_is_zero_boundary_point_inactive():
    # Convention sigma'(0) = 0: a point with <w, x> == 0 contributes nothing.
    w = np.array([0.0, 1.0])
    X = np.array([[3.0, 0.0]])
    y = np.array([1.0])
    assert not active_set(w, X)[0]
    assert n_active(w, X) == 0
    np.testing.assert_array_equal(x_active(w, X, y), [0.0, 0.0])


# -- independent brute-force checks on drawn data ---------------------------------------------


@st.composite
def labelled_data(draw, *, min_n: int = 1, max_n: int = 6, max_d: int = 3):
    """Generate (X (n, d), y (n,)) with rows of norm >= 0.1 and labels +-1.

    Entries in [-5, 5]; a row drawn shorter than 0.1 gets 1.0 added to its first entry
    (constructive, no rejection). Cost: O(n d) draws. Shrinks to n = min_n, d = 1,
    X = [[1.0]], y = -1.
    """
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    d = draw(st.integers(min_value=1, max_value=max_d))
    entries = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False, allow_subnormal=False)
    X = np.array(draw(st.lists(entries, min_size=n * d, max_size=n * d))).reshape(n, d)
    short = np.linalg.norm(X, axis=1) < 0.1
    X[short, 0] += 1.0
    y = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    return X, y


@FAST
@given(labelled_data())
def test_margin_mu_matches_double_loop(data):
    X, y = data
    n = X.shape[0]
    brute = min(cosine(y[i] * X[i], y[j] * X[j]) for i in range(n) for j in range(n) if i != j) if n > 1 else 1.0
    assert margin_mu(X, y) == pytest.approx(min(brute, 1.0), abs=ROUNDING)


@FAST
@given(labelled_data(), st.lists(st.floats(-5.0, 5.0, allow_subnormal=False), min_size=3, max_size=3))
def test_x_active_matches_loop(data, w_entries):
    X, y = data
    w = np.array(w_entries[: X.shape[1]])
    expected = np.zeros(X.shape[1])
    count = 0
    for x_i, y_i in zip(X, y):
        if float(np.dot(w, x_i)) > 0.0:
            expected += y_i * x_i
            count += 1
    np.testing.assert_allclose(x_active(w, X, y), expected, rtol=0, atol=ROUNDING * (1 + np.abs(X).sum()))
    assert n_active(w, X) == count


# -- bad input: one table ------------------------------------------------------------------

_X = np.array([[1.0, 0.0], [0.0, 1.0]])
_Y = np.array([1.0, -1.0])

BAD_CALLS = [
    ("zero row", lambda: margin_mu(np.array([[1.0, 0.0], [0.0, 0.0]]), _Y), "X has a zero row at index 1"),
    ("X 1-D", lambda: margin_mu(np.array([1.0, 2.0]), _Y), "X must have shape"),
    ("X empty", lambda: x_min(np.zeros((0, 2))), "X must have shape"),
    ("X NaN", lambda: class_sums(np.array([[np.nan, 0.0], [1.0, 1.0]]), _Y), "X must be finite"),
    ("X complex", lambda: x_min(np.array([[1j, 0.0]])), "X must be a real numeric array"),
    ("y length", lambda: class_sums(_X, np.array([1.0, -1.0, 1.0])), r"y must have shape \(2,\)"),
    ("y label 0", lambda: margin_mu(_X, np.array([1.0, 0.0])), "y must hold only -1.0 and \\+1.0; got 0.0"),
    ("w length", lambda: active_set(np.array([1.0, 0.0, 0.0]), _X), r"w must have shape \(2,\)"),
    ("w 2-D", lambda: n_active(np.ones((1, 2)), _X), r"w must have shape \(2,\)"),
    ("x_active y", lambda: x_active(np.array([1.0, 0.0]), _X, np.array([2.0, 1.0])), "y must hold only"),
    ("cosine zero a", lambda: cosine(np.zeros(2), np.ones(2)), "a is the zero vector"),
    ("cosine zero b", lambda: cosine(np.ones(2), np.zeros(2)), "b is the zero vector"),
    ("cosine shapes", lambda: cosine(np.ones(2), np.ones(3)), r"b must have shape \(2,\)"),
]


@pytest.mark.parametrize("call, message", [(c, m) for _, c, m in BAD_CALLS], ids=[i for i, _, _ in BAD_CALLS])
def test_bad_arguments_raise_data_geometry_error(call, message):
    with pytest.raises(DataGeometryError, match=message):
        call()
