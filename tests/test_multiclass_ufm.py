"""models/multiclass_ufm.py against independent references: the gradient from torch's autograd
(torch's own loss value), DOP853 and numpy's eigendecomposition for the flow, a hand-computed
spectrum, and the input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import multiclass_ufm as mu


def instance(K=3, N=2, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return 0.1 * rng.normal(size=(K, d)), 0.1 * rng.normal(size=(K * N, d)), np.repeat(np.arange(K), N)


@pytest.mark.parametrize("extension", mu.EXTENSIONS)
def test_flow_is_minus_autograd_gradient(extension):
    """d[W; H]/dt of the flow equals minus torch's autograd gradient of the loss written with torch ops."""
    W0, H0, labels = instance(4, 2, 3, 1)
    S = torch.tensor(mu.score_matrix(labels, extension))
    W = torch.tensor(W0, requires_grad=True)
    H = torch.tensor(H0, requires_grad=True)
    b = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    value = -(S * (H @ W.T + b)).sum()
    value.backward()
    # 1e-12: the same float64 products in two orders.
    assert abs(float(value.detach()) - mu.loss(W0, H0, labels, extension)) < 1e-12
    A = mu.generator(S.numpy())
    dZ = A @ np.vstack([W0, H0])
    assert np.allclose(dZ[:4], -W.grad.numpy(), atol=1e-12) and np.allclose(dZ[4:], -H.grad.numpy(), atol=1e-12)
    assert np.allclose(S.numpy().sum(axis=0), -b.grad.numpy(), atol=1e-12)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(K=st.integers(2, 6), N=st.integers(1, 3), d=st.integers(1, 5), seed=st.integers(0, 1000),
       extension=st.sampled_from(mu.EXTENSIONS), t=st.floats(0.0, 2.0))
def test_closed_form_matches_dop853_and_eigh(K, N, d, seed, extension, t):
    """expm, the eigendecomposition and DOP853 give the same state (relative 1e-8: DOP853 at rtol 1e-12 over growth <= e^12)."""
    W0, H0, labels = instance(K, N, d, seed)
    a = mu.flow_closed_form(W0, H0, labels, extension, t)
    b = mu.flow_spectral(W0, H0, labels, extension, t)
    c = mu.flow_numerical(W0, H0, labels, extension, t)
    scale = np.linalg.norm(np.vstack([c.W, c.H]))
    for other in (b, c):
        assert np.linalg.norm(np.vstack([a.W - other.W, a.H - other.H])) <= 1e-8 * scale
        assert np.allclose(a.b, other.b, atol=1e-9)


def test_spectra_by_hand():
    """K = 3, N = 2: centred singular values sqrt(2), sqrt(2), 0; one-vs-rest 2 sqrt(2) (twice) and |3-2| sqrt(2)."""
    labels = np.repeat(np.arange(3), 2)
    assert np.allclose(mu.singular_values(labels, "centred"), [np.sqrt(2), np.sqrt(2), 0.0], atol=1e-12)
    assert np.allclose(mu.singular_values(labels, "ovr"), [2 * np.sqrt(2), 2 * np.sqrt(2), np.sqrt(2)], atol=1e-12)
    assert np.allclose(mu.score_matrix(labels, "ovr-balanced"), 1.5 * mu.score_matrix(labels, "centred"))


def test_growing_component_is_the_limit():
    """e^{-s_1 t} [W; H](t) -> 1/2 [W_1; H_1] (t = 20, remaining terms e^{-s_1 t} ~ 1e-12)."""
    W0, H0, labels = instance(3, 2, 2, 4)
    g = mu.growing_component(W0, H0, labels, "centred")
    state = mu.flow_closed_form(W0, H0, labels, "centred", 20.0)
    scaled = np.exp(-g.rate * 20.0) * state.H
    assert g.multiplicity == 2 and np.allclose(scaled, g.H / 2, atol=1e-10)


def test_projected_descent_stays_in_balls_and_reaches_minimum():
    """Rows stay in the unit balls; K = 3 centred reaches -n with an ETF (the Cauchy-Schwarz minimum)."""
    W0, H0, labels = instance(3, 2, 3, 5)
    state, history = mu.projected_descent(W0, H0, labels, "centred", eta=0.1, steps=1000)
    assert np.all(np.linalg.norm(state.W, axis=1) <= 1 + 1e-12) and np.all(np.linalg.norm(state.H, axis=1) <= 1 + 1e-12)
    assert abs(history[-1] + 6.0) < 1e-9
    assert np.allclose(state.W @ state.W.T, mu.etf_gram(3), atol=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: mu.score_matrix([0, 1, 1], "softmax"), "extension"),
    (lambda: mu.score_matrix([0, 2, 2], "centred"), "labels must contain every class"),
    (lambda: mu.validate_labels([0.5, 1.0]), "labels"),
    (lambda: mu.flow_closed_form(np.zeros((2, 2)), np.zeros((3, 3)), [0, 1, 1], "centred", 1.0), "W must be"),
    (lambda: mu.flow_closed_form(np.zeros((2, 2)), np.zeros((3, 2)), [0, 1, 1], "centred", -1.0), "t must be"),
    (lambda: mu.projected_descent(np.zeros((2, 2)), np.zeros((3, 2)), [0, 1, 1], "ovr", eta=0.0, steps=3), "eta"),
    (lambda: mu.etf_gram(1), "K must be"),
])
def test_input_errors(call, match):
    with pytest.raises(mu.MulticlassInputError, match=match):
        call()
