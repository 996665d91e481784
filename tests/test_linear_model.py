"""models.linear_model against hand computations and scipy (Section 3)."""

import numpy as np
import pytest

from models import linear_model as lm

X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, 0.0]])
Y = np.array([1.0, 1.0, -1.0])


def test_signed_sum_and_loss_by_hand():
    assert lm.signed_sum(X, Y).tolist() == [3.0, 2.0]
    assert lm.linear_loss_risk(np.array([1.0, 1.0]), X, Y) == -5.0
    mu_p, mu_m = lm.class_means(X, Y)
    assert mu_p.tolist() == [1.0, 1.0] and mu_m.tolist() == [-1.0, 0.0]


def test_flow_closed_form_matches_euler():
    w0 = np.array([0.5, -0.5])
    w = w0.copy()
    for _ in range(100):
        w = w + 0.01 * lm.signed_sum(X, Y)  # the gradient is constant, so Euler is exact
    assert np.allclose(w, lm.gradient_flow(X, Y, w0, 1.0), atol=1e-12)


def test_sphere_minimiser_is_signed_sum_direction():
    s = lm.signed_sum(X, Y)
    # 1e-6: SLSQP's ftol 1e-14 on the objective.
    assert np.allclose(lm.sphere_minimiser(X, Y), s / np.linalg.norm(s), atol=1e-6)


def test_within_class_covariance_by_hand():
    # positive class: (2,0),(0,2) around (1,1): deviations (1,-1),(-1,1); negative: one point
    expected = np.array([[2.0, -2.0], [-2.0, 2.0]]) / 3
    assert np.allclose(lm.within_class_covariance(X, Y), expected, atol=1e-15)


def test_fisher_and_shrink():
    Xf = np.array([[3.0, 0.0], [1.0, 0.0], [2.0, 1.0], [2.0, -1.0],
                   [-1.0, 0.0], [-3.0, 0.0], [-2.0, 1.0], [-2.0, -1.0]])
    yf = np.repeat([1.0, -1.0], 4)
    # Sigma_W = diag(0.5, 0.5): isotropic, so Fisher = mean difference (4, 0)
    assert np.allclose(lm.fisher_direction(Xf, yf), [1.0, 0.0], atol=1e-12)
    shrunk = lm.shrink_within_class(Xf, yf, 0.0)
    assert np.allclose(shrunk[:4], [2.0, 0.0]) and np.allclose(shrunk[4:], [-2.0, 0.0])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: lm.signed_sum(X, np.array([1.0, 0.0, -1.0])), "y"),
        (lambda: lm.signed_sum(X.ravel(), Y), "X"),
        (lambda: lm.signed_sum(X, np.ones(3)), "y"),
        (lambda: lm.fisher_direction(X, Y, ridge=-1.0), "ridge"),
    ],
)
def test_bad_arguments(call, name):
    with pytest.raises(lm.LinearModelError, match=name):
        call()
