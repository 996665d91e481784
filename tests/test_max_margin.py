"""models.max_margin against closed forms and against its second solver.

The two solvers (scipy SLSQP polished on the active set; scikit-learn's SVC at C = 1e6, on
symmetrised data for the homogeneous problem) are independent of each other; both are checked
against hard-margin solutions known in closed form (two points, symmetric configurations), and
the logistic flow against a second integrator and Soudry et al.'s asymptote.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.special import expit

from models import max_margin as mm

# Both solvers, both problems.
CASES = [(solver, bias) for solver in mm.SOLVERS for bias in (False, True)]
# Direction tolerances: the QP is polished to ~1e-12; SVC stops at its KKT tolerance 1e-11,
# which leaves ~1e-9 on w. 1e-7 is above both and far below any wrong answer here (O(1e-2)).
TOL = {"qp": 1e-9, "svc": 1e-7}


def two_point_homogeneous(x_pos: np.ndarray, x_neg: np.ndarray) -> np.ndarray:
    """Closed form: w = p / ||p||^2 with p the min-norm point of the segment [x_+, -x_-]."""
    a, c = x_pos, -x_neg
    lam = float(np.clip(a @ (a - c) / ((a - c) @ (a - c)), 0.0, 1.0))
    p = a + lam * (c - a)
    return p / (p @ p)


@pytest.mark.parametrize("solver, bias", CASES)
def test_two_points_closed_form(solver, bias):
    """Two points: with a bias the perpendicular bisector, w = 2 (x_+ - x_-)/||x_+ - x_-||^2 and
    b = -<w, x_+ + x_->/2; homogeneous, w = p/||p||^2 (interior and vertex cases)."""
    for x_pos, x_neg in (([1.0, 1.0], [-1.0, 2.0]), ([3.0, 0.5], [-1.0, -2.0]), ([1.0, 0.0], [-3.0, 2.0])):
        x_pos, x_neg = np.array(x_pos), np.array(x_neg)
        X, y = np.vstack([x_pos, x_neg]), np.array([1.0, -1.0])
        sol = mm.max_margin(X, y, bias=bias, solver=solver)
        if bias:
            diff = x_pos - x_neg
            w = 2 * diff / (diff @ diff)
            b = -float(w @ (x_pos + x_neg)) / 2
            assert np.allclose(sol.w, w, atol=TOL[solver]) and abs(sol.b - b) < TOL[solver]
        else:
            assert np.allclose(sol.w, two_point_homogeneous(x_pos, x_neg), atol=TOL[solver])
            assert sol.b == 0.0


def test_homogeneous_vertex_case_is_the_nearer_point():
    """x_+ = (1, 0), x_- = (-3, 2): the min-norm point of [(1, 0), (3, -2)] is the vertex (1, 0) (lam clipped to 0)."""
    X, y = np.array([[1.0, 0.0], [-3.0, 2.0]]), np.array([1.0, -1.0])
    assert np.allclose(mm.max_margin(X, y).w, [1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("solver, bias", CASES)
def test_symmetric_configuration(solver, bias):
    """The square (+-1, +-1) split by the sign of x_1, shifted by c e_2 when biased: w = (1, 0), b = 0, margin 1,
    all four points support vectors."""
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    if bias:
        X = X + np.array([0.0, 5.0])  # a shift along the boundary changes nothing
    y = np.array([1.0, 1.0, -1.0, -1.0])
    sol = mm.max_margin(X, y, bias=bias, solver=solver)
    assert np.allclose(sol.w, [1.0, 0.0], atol=TOL[solver]) and abs(sol.b) < TOL[solver]
    assert abs(sol.margin - 1.0) < TOL[solver] and sol.support == (0, 1, 2, 3)


@pytest.mark.parametrize("bias", [False, True])
def test_solvers_agree_on_random_separable_data(bias):
    """QP and SVC give the same w (and b) on seeded separable data in d = 2..4, and the QP's answer satisfies the
    KKT conditions: margins >= 1, equality on the support vectors."""
    rng = np.random.default_rng(12)
    for _ in range(15):
        n, d = int(rng.integers(3, 9)), int(rng.integers(2, 5))
        y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        y[:2] = [1.0, -1.0]
        X = rng.normal(size=(n, d)) + 2.5 * y[:, None] * np.eye(d)[0]
        X[:, 0] += 0.0 if not bias else 3.0  # an offset only a bias can absorb
        if not mm.separable(X, y, bias=bias):
            continue
        qp = mm.max_margin(X, y, bias=bias, solver="qp")
        svc = mm.max_margin(X, y, bias=bias, solver="svc")
        assert np.allclose(qp.w, svc.w, atol=TOL["svc"] * 10) and abs(qp.b - svc.b) < TOL["svc"] * 10
        margins = y * (X @ qp.w + qp.b)
        assert margins.min() >= 1 - 1e-9
        assert np.allclose(margins[list(qp.support)], 1.0, atol=1e-9)


@pytest.mark.parametrize("solver, bias", CASES)
def test_non_separable_data_raise(solver, bias):
    """XOR is separable neither with nor without a bias; a positive at the origin is not separable homogeneously."""
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    assert not mm.separable(X, y, bias=bias)
    with pytest.raises(mm.MaxMarginError, match="not .*separable"):
        mm.max_margin(X, y, bias=bias, solver=solver)
    if not bias:
        X0, y0 = np.array([[0.0, 0.0], [-1.0, 0.0]]), np.array([1.0, -1.0])
        assert mm.separable(X0, y0, bias=True) and not mm.separable(X0, y0)
        with pytest.raises(mm.MaxMarginError):
            mm.max_margin(X0, y0, solver=solver)


def test_collapsed_limit_matches_the_solvers():
    """collapsed_max_margin_direction (closed form) = the solvers' direction on data collapsed onto two means."""
    rng = np.random.default_rng(3)
    for _ in range(10):
        mu_p = np.array([rng.uniform(0.5, 3), rng.uniform(-3, 3)])
        mu_m = np.array([-rng.uniform(0.5, 3), rng.uniform(-3, 3)])
        X = np.vstack([mu_p, mu_p, mu_m])
        y = np.array([1.0, 1.0, -1.0])
        for bias in (False, True):
            closed = mm.collapsed_max_margin_direction(mu_p, mu_m, bias=bias)
            for solver in mm.SOLVERS:
                assert mm.angle(closed, mm.max_margin_direction(X, y, bias=bias, solver=solver)) < 1e-6
    with pytest.raises(mm.MaxMarginError):
        mm.collapsed_max_margin_direction([1.0, 1.0], [2.0, 2.0])  # mu_- = 2 mu_+: 0 on the segment


def test_angle_is_accurate_at_small_and_large_angles():
    assert mm.angle([1.0, 0.0], [1.0, 1e-12]) == pytest.approx(1e-12, rel=1e-9)
    assert mm.angle([1.0, 0.0], [0.0, 3.0]) == pytest.approx(math.pi / 2, rel=1e-15)
    assert mm.angle([1.0, 0.0], [-1.0, 1e-12]) == pytest.approx(math.pi - 1e-12, rel=1e-15)
    with pytest.raises(mm.MaxMarginError, match="no direction"):
        mm.angle([0.0, 0.0], [1.0, 0.0])


def test_gradient_matches_finite_differences_and_descent_matches_closed_form():
    """grad of both risks against central differences; linear-loss descent = w_0 + k eta s."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(5, 3)), np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    w = rng.normal(size=3)
    for loss in mm.LOSSES:
        h = 1e-6
        numeric = np.array([(mm.risk(w + h * e, X, y, loss=loss) - mm.risk(w - h * e, X, y, loss=loss)) / (2 * h)
                            for e in np.eye(3)])
        # 1e-8: central differences of smooth O(1) functions at h = 1e-6 are accurate to ~1e-10.
        assert np.allclose(mm.gradient(w, X, y, loss=loss), numeric, atol=1e-8)
    iterates = mm.descent(X, y, w, 0.3, 50, loss="linear")
    expected = w + 0.3 * np.arange(51)[:, None] * mm.signed_sum(X, y)
    assert np.allclose(iterates, expected, rtol=1e-13, atol=1e-12)


def test_logistic_flow_against_radau_in_plain_time():
    """The log-time DOP853 flow against scipy's Radau on dw/dt = sum z sigma(-z.w) in t itself, t <= 50."""
    rng = np.random.default_rng(8)
    y = np.array([1.0, 1.0, -1.0, -1.0])
    X = rng.normal(size=(4, 2)) + 2 * y[:, None] * np.array([1.0, 0.0])
    Z = y[:, None] * X
    w0 = rng.normal(size=2)
    times = np.array([0.5, 5.0, 50.0])
    ours = mm.logistic_flow(X, y, w0, times)
    ref = solve_ivp(lambda t, w: expit(-(Z @ w)) @ Z, (0, 50), w0, method="Radau", t_eval=times,
                    rtol=1e-12, atol=1e-12).y.T
    # 1e-8: both integrators run at rtol <= 1e-10 on a flow with O(1) state and slowly varying field.
    assert np.allclose(ours, ref, atol=1e-8)


def test_logistic_flow_reaches_soudry_asymptote():
    """x_+ = (1, 1), x_- = (-1, 2): w_hat = (1, 0), alpha = (2/3, 1/3), w_tilde = (log(3/2) + log(2)/3, -log(2)/3),
    and w(t) - w_hat log t -> w_tilde (to 1e-7 at t = 1e10)."""
    X, y = np.array([[1.0, 1.0], [-1.0, 2.0]]), np.array([1.0, -1.0])
    asym = mm.implicit_bias_asymptote(X, y)
    assert np.allclose(asym.alpha, [2 / 3, 1 / 3], atol=1e-12)
    assert np.allclose(asym.w_tilde, [math.log(1.5) + math.log(2) / 3, -math.log(2) / 3], atol=1e-12)
    w = mm.logistic_flow(X, y, np.zeros(2), np.array([1e10]))[0]
    # 1e-7: the remainder decays like 1/t (~1e-10 here) plus the integrator's error at rtol 1e-10 (~1e-9).
    assert np.allclose(w - asym.w_hat * math.log(1e10), asym.w_tilde, atol=1e-7)


def test_asymptote_refuses_degenerate_support():
    """One support vector in d = 2 (w_hat along it): w_tilde is not determined by the support vectors."""
    X, y = np.array([[1.0, 0.0], [-3.0, 0.5]]), np.array([1.0, -1.0])
    with pytest.raises(mm.MaxMarginError, match="span"):
        mm.implicit_bias_asymptote(X, y)


@pytest.mark.parametrize("kwargs, message", [
    ({"X": np.ones((1, 2)), "y": np.ones(1)}, "X must be"),
    ({"X": np.ones((2, 2)), "y": np.array([1.0, 1.0])}, "both labels"),
    ({"X": np.array([[np.nan, 0.0], [1.0, 1.0]]), "y": np.array([1.0, -1.0])}, "finite"),
    ({"X": np.eye(2), "y": np.array([1.0, -1.0]), "solver": "cvx"}, "solver must be"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(mm.MaxMarginError, match=message):
        mm.max_margin(**kwargs)


def test_bad_flow_and_descent_arguments_are_named():
    X, y = np.eye(2), np.array([1.0, -1.0])
    with pytest.raises(mm.MaxMarginError, match="times"):
        mm.logistic_flow(X, y, np.zeros(2), np.array([2.0, 1.0]))
    with pytest.raises(mm.MaxMarginError, match="w0"):
        mm.logistic_flow(X, y, np.zeros(3), np.array([1.0]))
    with pytest.raises(mm.MaxMarginError, match="eta"):
        mm.descent(X, y, np.zeros(2), -1.0, 3)
    with pytest.raises(mm.MaxMarginError, match="loss"):
        mm.descent(X, y, np.zeros(2), 1.0, 3, loss="hinge")
