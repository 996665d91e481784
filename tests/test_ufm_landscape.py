# References: Appendix C.2, eqs (15)-(17) of "Linear Loss Classification: Efficient Training Through
# Neural Collapse"; Absil, Mahony & Sepulchre (2008), Sec. 5.5 (Riemannian Hessian) and Sec. 6.2
# (Riemannian Newton). Independent references used here: central finite differences of the
# objective (gradient, Hessian), second differences along geodesics (the Riemannian Hessian's
# defining property), the closed-form critical points h_i = s_i y_i v and the closed-form
# eigenvalue -sqrt(n) of the Euclidean Hessian.
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ufm_landscape as ls
from models.ufm import UFMInputError
from models.ufm_constrained import constrained_loss


def _unit_rows(X):
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def test_euclidean_gradient_and_hessian_match_finite_differences():
    rng = np.random.default_rng(0)
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    n, d = 5, 3
    H, v = rng.normal(size=(n, d)), rng.normal(size=d)
    x = ls.pack(H, v)
    step = 1e-6

    def f(z):
        Hz, vz = ls.unpack(z, n, d)
        return constrained_loss(Hz, vz, y)

    fd = np.array([(f(x + step * e) - f(x - step * e)) / (2 * step) for e in np.eye(x.size)])
    # 1e-8: f is quadratic, so central differences are exact up to rounding 1e-16 * O(10) / step.
    assert np.allclose(ls.euclidean_gradient(H, v, y), fd, atol=1e-8)
    A = ls.euclidean_hessian(y, d)
    fd_hessian = np.array([(ls.euclidean_gradient(*ls.unpack(x + step * e, n, d), y)
                            - ls.euclidean_gradient(*ls.unpack(x - step * e, n, d), y)) / (2 * step)
                           for e in np.eye(x.size)])
    assert np.allclose(A, fd_hessian, atol=1e-8)  # same reason
    eigenvalues = np.linalg.eigvalsh(A)
    # +-sqrt(n), d times each, and 0: the closed form; 1e-12 is eigvalsh's rounding.
    assert np.isclose(eigenvalues[0], -np.sqrt(n), atol=1e-12) and np.isclose(eigenvalues[-1], np.sqrt(n), atol=1e-12)


def test_riemannian_hessian_matches_geodesic_second_differences():
    rng = np.random.default_rng(1)
    y = np.array([1.0, 1.0, -1.0])
    for _ in range(10):
        H, v = _unit_rows(rng.normal(size=(3, 2))), _unit_rows(rng.normal(size=2))
        xi = ls.sphere_projection(H, v) @ rng.normal(size=8)
        step = 1e-4
        values = [constrained_loss(*ls.geodesic(H, v, xi, t), y) for t in (-step, 0.0, step)]
        second = (values[0] - 2 * values[1] + values[2]) / step**2
        # 1e-6: truncation O(step^2) ~ 1e-8 times O(10) fourth derivatives, rounding 1e-16/step^2.
        assert second == pytest.approx(xi @ ls.sphere_riemannian_hessian(H, v, y) @ xi, abs=1e-6)


def test_geodesics_stay_on_the_spheres_and_start_with_the_velocity():
    rng = np.random.default_rng(2)
    H, v = _unit_rows(rng.normal(size=(4, 3))), _unit_rows(rng.normal(size=3))
    xi = ls.sphere_projection(H, v) @ rng.normal(size=15)
    Ht, vt = ls.geodesic(H, v, xi, 0.7)
    assert np.allclose(np.linalg.norm(Ht, axis=1), 1, atol=1e-12) and np.isclose(np.linalg.norm(vt), 1, atol=1e-12)
    step = 1e-6
    velocity = (ls.pack(*ls.geodesic(H, v, xi, step)) - ls.pack(*ls.geodesic(H, v, xi, -step))) / (2 * step)
    assert np.allclose(velocity, xi, atol=1e-8)  # 1e-8: central difference of a smooth curve


def test_tangent_basis_is_orthonormal_and_tangent():
    rng = np.random.default_rng(3)
    H, v = _unit_rows(rng.normal(size=(3, 3))), _unit_rows(rng.normal(size=3))
    Q = ls.sphere_tangent_basis(H, v)
    assert Q.shape == (12, 8) and np.allclose(Q.T @ Q, np.eye(8), atol=1e-12)
    assert np.allclose(ls.sphere_projection(H, v) @ Q, Q, atol=1e-12)  # 1e-12: rounding of O(1) products


@settings(max_examples=25, deadline=None)
@given(s=st.lists(st.sampled_from([1.0, -1.0]), min_size=2, max_size=5), d=st.integers(2, 3),
       theta=st.floats(0, 6.28))
def test_sign_patterns_are_critical_with_value_minus_sum_s(s, d, theta):
    s = np.array(s)
    y = np.where(np.arange(s.size) % 2 == 0, 1.0, -1.0)
    v = np.zeros(d)
    v[0], v[1] = np.cos(theta), np.sin(theta)
    H = ls.sphere_critical_point(v, y, s)
    # 1e-12: the gradient is exactly 0 up to rounding of unit vectors.
    assert np.linalg.norm(ls.sphere_riemannian_gradient(H, v, y)) <= 1e-12
    assert constrained_loss(H, v, y) == pytest.approx(-s.sum(), abs=1e-12)


def test_newton_converges_to_sign_patterns():
    rng = np.random.default_rng(4)
    y = np.array([1.0, -1.0, -1.0, 1.0])
    converged = 0
    for _ in range(10):
        result = ls.sphere_newton(rng.normal(size=(4, 2)), rng.normal(size=2), y)
        if result.converged:
            converged += 1
            s = np.sign(result.H @ result.v * y)
            assert np.allclose(result.H, np.outer(s * y, result.v), atol=1e-9)  # 1e-9: ||grad|| <= 1e-12
    assert converged >= 5  # measured: Newton converges from nearly every start


def test_ball_kkt_residual_vanishes_exactly_on_the_critical_set():
    y = np.array([1.0, -1.0, 1.0])
    v = np.array([0.6, 0.8])
    assert ls.ball_kkt_residual(np.outer(y, v), v, y) <= 1e-15  # global minimiser; rounding only
    H = np.array([[0.3, 0.1], [0.5, 0.2], [0.2, 0.1]])  # sum_i y_i h_i = 0, v = 0: S0
    assert ls.ball_kkt_residual(H, np.zeros(2), y) == 0.0
    assert ls.ball_kkt_residual(H, np.array([0.1, 0.0]), y) > 0.05  # v != 0 inside the balls: not critical


def test_stratum_hessian_in_the_interior_is_the_euclidean_one():
    y = np.array([1.0, -1.0, 1.0, -1.0])
    H = 0.1 * np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # S0, all norms < 1
    # -sqrt(n) = -2: the interior stratum is the whole space; 1e-12 is eigvalsh's rounding.
    assert ls.stratum_hessian_min_eigenvalue(H, np.zeros(2), y) == pytest.approx(-2.0, abs=1e-12)


def test_corner_of_s0_needs_the_inward_direction():
    y = np.array([1.0, -1.0])
    H, v = np.array([[1.0], [1.0]]), np.zeros(1)
    assert ls.stratum_hessian_min_eigenvalue(H, v, y) == pytest.approx(0.0, abs=1e-15)  # stratum: v only, A_vv = 0
    assert ls.classify_ball_point(H, v, y, curvature="stratum") == "degenerate"
    assert ls.classify_ball_point(H, v, y) == "strict-saddle"
    dH, dv = ls.ball_negative_curvature_direction(H, v, y)
    assert ls.feasible_direction(H, v, dH, dv)
    for t in (0.01, 0.5, 1.0):  # f(t) = -t^2 ||h_j||^2 exactly, and the segment stays feasible
        assert constrained_loss(H + t * dH, v + t * dv, y) == pytest.approx(-t**2, abs=1e-15)
        assert np.all(np.abs(H + t * dH) <= 1) and np.all(np.abs(v + t * dv) <= 1)


def test_kkt_solver_finds_critical_points():
    rng = np.random.default_rng(5)
    y = np.array([1.0, 1.0, -1.0, -1.0])
    found = 0
    for _ in range(8):
        result = ls.find_ball_critical_point(0.7 * rng.normal(size=(4, 2)), 0.7 * rng.normal(size=2), y)
        if result.residual <= 1e-10:  # 1e-10: LM converges to ~1e-15 when it converges
            found += 1
            assert ls.classify_ball_point(result.H, result.v, y) in ("global-min", "strict-saddle")
    assert found >= 2  # measured: about half the starts converge


@pytest.mark.parametrize("call, match", [
    (lambda: ls.unpack(np.zeros(5), 2, 2), "x must have shape"),
    (lambda: ls.sphere_riemannian_gradient(np.ones((2, 2)), np.array([1.0, 0.0]), np.array([1.0, -1.0])),
     "must have norm 1"),
    (lambda: ls.sphere_critical_point(np.array([2.0, 0.0]), np.array([1.0, -1.0]), np.array([1.0, 1.0])),
     "v must be a unit vector"),
    (lambda: ls.sphere_newton(np.zeros((2, 2)), np.ones(2), np.array([1.0, -1.0])), "nonzero rows"),
    (lambda: ls.classify_ball_point(np.zeros((2, 1)), np.zeros(1), np.array([1.0, -1.0]), curvature="hessian"),
     "curvature must be"),
])
def test_input_errors_name_the_argument(call, match):
    with pytest.raises(UFMInputError, match=match):
        call()
