"""The DOP853 reference solver (models.two_layer_relu.reference) against closed forms.

References: paper Appendix D.1, eq. (19); with the active set fixed, (u, v) = (<w, a>/|a|, v)
follows u' = |a| v, v' = |a| u, so u(t) = u0 cosh(|a| t) + v0 sinh(|a| t),
v(t) = v0 cosh(|a| t) + u0 sinh(|a| t), and the part of w orthogonal to a is constant.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.two_layer_relu import FlowInputError
from models.two_layer_relu.reference import BudgetExceeded, reference_flow


def test_no_event_matches_cosh_sinh():
    # Every x_i, y_i = +1, w0 and v0 > 0 in the positive quadrant: w grows along a, so every
    # sample stays active.
    X = np.array([[1.0, 0.2], [0.3, 1.0], [0.5, 0.5]])
    y = np.array([1.0, 1.0, 1.0])
    a = y @ X
    k = np.linalg.norm(a)
    w0, v0 = np.array([0.3, 0.4]), 0.2
    t = 1.5
    u0 = w0 @ a / k
    u = u0 * math.cosh(k * t) + v0 * math.sinh(k * t)
    v = v0 * math.cosh(k * t) + u0 * math.sinh(k * t)
    w = (w0 - u0 * a / k) + u * a / k
    ref = reference_flow(X, y, w0[None, :], np.array([v0]), t)
    assert ref.events == []
    # 1e-10 relative: DOP853 at rtol 1e-12 over growth e^{k t} ~ 30 keeps ~1e-11.
    assert np.allclose(ref.W[0], w, rtol=1e-10, atol=0) and abs(ref.v[0] - v) <= 1e-10 * abs(v)


def test_event_time_is_located():
    # d = 1, one negative sample: w' = -v, v' = -w until w reaches 0 at tanh(t) = w0 / v0.
    X, y = np.array([[1.0]]), np.array([-1.0])
    w0, v0 = 0.5, 1.0
    ref = reference_flow(X, y, np.array([[w0]]), np.array([v0]), 2.0)
    t_star = math.atanh(w0 / v0)
    assert len(ref.events) == 1
    t, j, i, sign = ref.events[0]
    assert (j, i, sign) == (0, 0, -1)
    assert abs(t - t_star) <= 1e-12 * t_star  # brentq at xtol 1e-15 on an accurate dense output
    assert ref.last_event[0] == t
    # frozen after the event (nothing active): the state at t_end is the state at t_star
    assert abs(ref.v[0] - (v0 * math.cosh(t_star) - w0 * math.sinh(t_star))) <= 1e-12


def test_tolerances_scale_with_the_initialisation():
    # The same flow from a 1e-6 smaller start is the same flow scaled (it is linear in z).
    X = np.array([[1.0, 0.2], [-0.3, -1.0], [0.5, 0.5], [0.9, -0.1]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    W0, v0 = np.array([[0.3, -0.4], [-0.2, 0.1]]), np.array([0.5, -0.2])
    big = reference_flow(X, y, W0, v0, 2.0)
    small = reference_flow(X, y, 1e-6 * W0, 1e-6 * v0, 2.0)
    # 1e-9 relative: both runs are accurate to ~1e-11 of their own scale; an absolute atol
    # of 1e-12 would leave the small run ~1e-6 relative off.
    assert np.allclose(small.W * 1e6, big.W, rtol=1e-9, atol=1e-9 * np.abs(big.W).max())
    assert [e[1:] for e in small.events] == [e[1:] for e in big.events]


def test_budget_and_bad_input():
    X, y = np.array([[1.0]]), np.array([1.0])
    with pytest.raises(BudgetExceeded):
        reference_flow(X, y, np.array([[1.0]]), np.array([1.0]), 50.0, budget=0.0)
    with pytest.raises(FlowInputError, match="t_end"):
        reference_flow(X, y, np.array([[1.0]]), np.array([1.0]), -1.0)
    with pytest.raises(FlowInputError, match="W0 must have shape"):
        reference_flow(X, y, np.array([[1.0, 2.0]]), np.array([1.0]), 1.0)


# -- the event function's pieces -----------------------------------------------------------
def test_interpolant_polynomial_matches_scipy_dense_output():
    # The monomial form of DOP853's interpolant (what the event location evaluates) is the
    # same polynomial scipy's Dop853DenseOutput evaluates in nested form.
    from scipy.integrate._ivp.rk import Dop853DenseOutput

    from models.two_layer_relu.reference import _monomial_map

    rng = np.random.default_rng(0)
    F, y_old = rng.normal(size=(7, 4)), rng.normal(size=4)
    dense = Dop853DenseOutput(1.0, 3.0, y_old, F)
    mono = _monomial_map(7).T @ F  # (8, 4)
    mono[0] += y_old
    x = np.linspace(0.0, 1.0, 11)
    ours = np.stack([np.polynomial.polynomial.polyval(x, mono[:, c]) for c in range(4)])
    # 1e-13 absolute on values of size ~10: a few roundings of a degree-7 polynomial
    assert np.abs(ours - dense(1.0 + 2.0 * x)).max() <= 1e-13


def test_locate_finds_simple_roots_and_boundary_starts():
    from models.two_layer_relu.reference import _locate

    # (x - 0.3)(x + 2)(x^2 + 1): one root in [0, 1]; monomial coefficients, degree 0 first
    mono = np.polynomial.polynomial.polyfromroots([0.3, -2.0, 1j, -1j]).real.tolist()
    g = np.polynomial.polynomial.polyval
    root = _locate(mono, 0.0, 1.0, g(0.0, mono), g(1.0, mono))
    assert abs(root - 0.3) <= 1e-15  # LOCATE_XTOL
    # a bracket [0.25, 0.5] inside the step, as the grid gives it
    assert abs(_locate(mono, 0.25, 0.5, g(0.25, mono), g(0.5, mono)) - 0.3) <= 1e-15
    # value 0 at the end: the end; same sign at both ends (a restart on a boundary, rounding): the start
    assert _locate(mono, 0.0, 0.3, g(0.0, mono), 0.0) == 0.3
    assert _locate(mono, 0.0, 0.25, g(0.0, mono), g(0.25, mono)) == 0.0
