"""models/han_decomposition.py against independent references: scikit-learn's least squares, the
Pythagorean identity, torch's mse_loss gradient for the MSE UFM flow, and the input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression

from models import han_decomposition as hd


def test_least_squares_matches_sklearn_and_identity():
    rng = np.random.default_rng(0)
    H, Y = rng.normal(size=(15, 4)), np.eye(3)[rng.integers(0, 3, size=15)]
    W_ls, b_ls = hd.least_squares_classifier(H, Y)
    ref = LinearRegression().fit(H, Y)
    # 1e-10: two solvers of a well-conditioned 15 x 5 least-squares problem agree to ~1e-14.
    assert np.allclose(W_ls, ref.coef_, atol=1e-10) and np.allclose(b_ls, ref.intercept_, atol=1e-10)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    t = hd.decomposition(W, b, H, Y)
    assert abs(t.loss - t.term_a - t.term_b) <= 1e-12 * t.loss
    assert 0.0 <= t.term_b_relative <= 1.0


def test_relative_term_is_scale_invariant_and_zero_on_the_central_path():
    rng = np.random.default_rng(1)
    H, y = rng.normal(size=(10, 3)), np.where(rng.random(10) < 0.5, 1.0, -1.0)
    W_ls, b_ls = hd.least_squares_classifier(H, y)
    on_path = hd.decomposition(7.0 * W_ls, 7.0 * b_ls, H, y)
    # 1e-12: 1 - cos^2 of parallel vectors, rounding ~1e-16.
    assert on_path.term_b_relative <= 1e-12 and on_path.term_b > 1.0
    W = rng.normal(size=3)
    assert np.isclose(hd.decomposition(W, 0.3, H, y).term_b_relative, hd.decomposition(5 * W, 1.5, H, y).term_b_relative)


def test_mse_rhs_is_minus_torch_gradient():
    rng = np.random.default_rng(2)
    H0, v0, y = rng.normal(size=(6, 3)), rng.normal(size=3), np.array([1.0, 1, 1, -1, -1, -1])
    H, v, b = (torch.tensor(a, requires_grad=True) for a in (H0, v0, np.array(0.4)))
    loss = 0.5 * torch.nn.functional.mse_loss(H @ v + b, torch.tensor(y), reduction="sum")
    loss.backward()
    dH, dv, db = hd.mse_ufm_rhs(H0, v0, 0.4, y)
    assert np.allclose(dH, -H.grad.numpy(), atol=1e-12) and np.allclose(dv, -v.grad.numpy(), atol=1e-12)
    assert abs(db + float(b.grad)) < 1e-12


def test_mse_flow_decreases_the_loss_and_fits():
    rng = np.random.default_rng(3)
    H0, v0, y = 0.1 * rng.normal(size=(6, 3)), 0.1 * rng.normal(size=3), np.array([1.0, 1, 1, -1, -1, -1])
    states = hd.mse_ufm_flow(H0, v0, y, [0.0, 1.0, 2.0, 5.0])
    losses = [0.5 * np.sum((H @ v + b - y) ** 2) for H, v, b in states]
    assert all(a > b for a, b in zip(losses, losses[1:])) and losses[-1] < 1e-6


@pytest.mark.parametrize("call, match", [
    (lambda: hd.least_squares_classifier(np.zeros((3, 2)), np.zeros(4)), "Y must have 3 rows"),
    (lambda: hd.decomposition(np.zeros(3), 0.0, np.zeros((4, 2)), np.zeros(4)), "W must be"),
    (lambda: hd.mse_ufm_flow(np.zeros((3, 2)), np.zeros(3), np.ones(3), [0.0, 1.0]), "must agree"),
    (lambda: hd.mse_ufm_flow(np.zeros((3, 2)), np.zeros(2), np.ones(3), [1.0, 0.5]), "times"),
    (lambda: hd.train_digits("logistic", steps=1, seed=0, record=[0]), "loss must be"),
])
def test_input_errors(call, match):
    with pytest.raises(hd.HanInputError, match=match):
        call()
