# References: Zhou et al. 2022 ("Are all losses created equal"), the UFM with weight decay; the
# paper's Eq. (9). Independent references used here: the losses written out in numpy from their
# formulas (CE, label smoothing, focal, MSE, linear), the binary objective of the paper's form
# against the K = 2 objective of Zhou et al.'s form, central finite differences for autograd's
# gradient and Hessian, numpy's eigenvalue solver for the closed-form thresholds, and the closed
# forms (the zero minimiser, divergence) for the L-BFGS runs.
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ufm_weight_decay as wd


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def numpy_loss(Z, labels, loss):
    """The losses from their formulas, mean over samples (no torch)."""
    n, K = Z.shape
    P = _softmax(Z)
    log_p = np.log(P[np.arange(n), labels])
    if loss == "linear":
        return float(np.mean(-(Z[np.arange(n), labels] - Z.mean(axis=1))))
    if loss == "ce":
        return float(np.mean(-log_p))
    if loss == "ls":  # (1 - a) CE + a * mean_k(-log p_k)
        a = wd.LABEL_SMOOTHING
        return float(np.mean((1 - a) * -log_p + a * np.mean(-np.log(P), axis=1)))
    if loss == "focal":
        return float(np.mean(-((1 - np.exp(log_p)) ** wd.FOCAL_GAMMA) * log_p))
    onehot = np.eye(K)[labels]
    return float(np.mean(0.5 * np.sum((Z - onehot) ** 2, axis=1)))


@pytest.mark.parametrize("loss", wd.LOSSES)
def test_losses_match_their_formulas(loss):
    rng = np.random.default_rng(0)
    Z, labels = rng.normal(size=(7, 4)) * 2, np.array([0, 1, 2, 3, 0, 1, 2])
    value = float(wd.classification_loss(torch.from_numpy(Z), torch.from_numpy(labels), loss))
    # 1e-12: float64 sums of seven O(1) terms, softmax computed two ways.
    assert value == pytest.approx(numpy_loss(Z, labels, loss), abs=1e-12)


def test_k2_objective_is_the_binary_objective_of_eq9():
    """n F(W = [-u; u], H, b = [-beta, beta]) = G(H, u, beta) with lam_v = 2 n lam_w, lam_h' = n lam_h,
    lam_b' = 2 n lam_b (class 1 is y = +1)."""
    rng = np.random.default_rng(1)
    labels = np.array([1, 0, 0, 1, 0])
    y = 2.0 * labels - 1
    n, d = labels.size, 3
    u, H, beta = rng.normal(size=d), rng.normal(size=(n, d)), 0.7
    decay = wd.Decay(lam_w=0.3, lam_h=0.2, lam_b=0.1)
    F = wd.decay_objective(np.vstack([-u, u]), H, np.array([-beta, beta]), labels, loss="linear", decay=decay)
    G = wd.binary_linear_decay_objective(H, u, beta, y, lam_v=2 * n * 0.3, lam_h=n * 0.2, lam_b=2 * n * 0.1)
    assert n * F == pytest.approx(G, abs=1e-12)  # 1e-12: rounding of O(10) sums


@pytest.mark.parametrize("loss", ["ce", "focal", "linear"])
def test_gradient_and_hessian_match_finite_differences(loss):
    rng = np.random.default_rng(2)
    labels = np.array([0, 1, 2, 0, 1, 2])
    K, n, d = 3, 6, 2
    W, H, b = rng.normal(size=(K, d)), rng.normal(size=(n, d)), rng.normal(size=K)
    decay = wd.Decay(0.1, 0.2, 0.3)
    grad, hess = wd.gradient_and_hessian(W, H, b, labels, loss=loss, decay=decay)
    x = np.concatenate([W.ravel(), H.ravel(), b])

    def f(z):
        return wd.decay_objective(z[:K * d].reshape(K, d), z[K * d:K * d + n * d].reshape(n, d), z[-K:], labels,
                                  loss=loss, decay=decay)

    step = 1e-5
    fd = np.array([(f(x + step * e) - f(x - step * e)) / (2 * step) for e in np.eye(x.size)])
    # 1e-8: central differences err by O(step^2) ~ 1e-10 times third derivatives O(1), plus
    # rounding 1e-16 / step ~ 1e-11.
    assert np.allclose(grad, fd, atol=1e-8)
    # Hessian rows by central differences of autograd's gradient (a different code path: jacobian).
    i = 5
    e = np.eye(x.size)[i]
    g_plus = wd.gradient_and_hessian(*_split(x + step * e, K, n, d), labels, loss=loss, decay=decay)[0]
    g_minus = wd.gradient_and_hessian(*_split(x - step * e, K, n, d), labels, loss=loss, decay=decay)[0]
    assert np.allclose(hess[i], (g_plus - g_minus) / (2 * step), atol=1e-7)  # same reasons, one more order


def _split(z, K, n, d):
    return z[:K * d].reshape(K, d), z[K * d:K * d + n * d].reshape(n, d), z[-K:]


@pytest.mark.parametrize("K, d", [(2, 1), (3, 2), (4, 5)])
def test_simplex_etf(K, d):
    E = wd.simplex_etf(K, d)
    expected = (K * np.eye(K) - np.ones((K, K))) / (K - 1)  # unit norms, cosines -1/(K-1)
    assert E.shape == (K, d) and np.allclose(E @ E.T, expected, atol=1e-12)  # 1e-12: SVD rounding


def test_nc_configuration_is_collapsed():
    labels = np.array([0, 0, 1, 1, 2, 2])
    W, H, b = wd.nc_configuration(labels, 4, 1.5, 2.0, 0.1)
    metrics = wd.collapse_metrics(W, H, labels)
    # 1e-12: exact construction up to rounding.
    assert metrics.nc1 <= 1e-12 and metrics.nc2 <= 1e-12 and metrics.nc3 <= 1e-12 and np.allclose(b, 0.1)


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 4), min_size=2, max_size=4), d=st.integers(1, 3))
def test_kclass_threshold_is_where_the_hessian_turns_indefinite(counts, d):
    """At lam_w lam_h = threshold the assembled Hessian's smallest eigenvalue is 0; 10% below it is negative."""
    labels = np.repeat(np.arange(len(counts)), counts)
    threshold = wd.kclass_linear_threshold(labels)
    at = np.linalg.eigvalsh(wd.kclass_linear_hessian(labels, d, wd.Decay(1.0, threshold, 0.0)))[0]
    below = np.linalg.eigvalsh(wd.kclass_linear_hessian(labels, d, wd.Decay(1.0, 0.9 * threshold, 0.0)))[0]
    above = np.linalg.eigvalsh(wd.kclass_linear_hessian(labels, d, wd.Decay(1.0, 1.1 * threshold, 0.0)))[0]
    # 1e-12: eigvalsh's rounding on O(1) matrices; off the threshold the eigenvalue moves by ~0.05 threshold.
    assert abs(at) <= 1e-12 and below < -1e-12 and above > 1e-12


def test_balanced_threshold_is_one_over_k_n():
    labels = np.repeat(np.arange(3), 4)
    assert wd.kclass_linear_threshold(labels) == pytest.approx(1 / (3 * 12), rel=1e-12)
    assert wd.kclass_linear_regime(labels, wd.Decay(0.25, 1 / 9, 1.0)).regime == "threshold"  # 1/36 exactly


def test_lbfgs_linear_loss_matches_the_closed_form_regimes():
    """Above the threshold L-BFGS ends at W = H = 0, b = P c/(n lam_b); below it it diverges."""
    rng = np.random.default_rng(3)
    labels = np.array([0, 0, 0, 1, 2, 2])  # unequal classes: the bias part has a nonzero minimiser
    K, n, d = 3, 6, 2
    decay = wd.Decay(1.0, 1.0, 0.5)
    sol = wd.minimise_decay_ufm(rng.normal(size=(K, d)), rng.normal(size=(n, d)), rng.normal(size=K), labels,
                                loss="linear", decay=decay)
    counts = np.bincount(labels).astype(float)
    b_star = (counts - counts.mean()) / (n * 0.5)
    regime = wd.kclass_linear_regime(labels, decay)
    assert regime.regime == "unique" and sol.status == "converged"
    # 1e-7: gradient tolerance 1e-10 over the strong convexity ~0.1 leaves ~1e-9.
    assert np.abs(sol.W).max() <= 1e-7 and np.abs(sol.H).max() <= 1e-7 and np.allclose(sol.b, b_star, atol=1e-7)
    assert sol.value == pytest.approx(regime.infimum, abs=1e-12)  # 1e-12: value error quadratic in 1e-9
    below = wd.minimise_decay_ufm(rng.normal(size=(K, d)), rng.normal(size=(n, d)), rng.normal(size=K), labels,
                                  loss="linear", decay=wd.Decay(0.01, 0.01, 0.5))
    assert below.status == "diverged" and below.value == -np.inf


def test_lbfgs_cross_entropy_agrees_with_the_nc_family_minimum():
    """Two optimisers: full L-BFGS from a random start and Nelder-Mead over the NC family reach one value."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.arange(3), 2)
    decay = wd.Decay(1e-2, 1e-2, 1e-2)
    sol = wd.minimise_decay_ufm(rng.normal(size=(3, 3)), rng.normal(size=(6, 3)), rng.normal(size=3), labels,
                                loss="ce", decay=decay)
    ref = wd.nc_family_minimum(labels, 3, loss="ce", decay=decay)
    assert sol.value == pytest.approx(ref.value, rel=1e-9)  # 1e-9: both converge to ~1e-14


def test_binary_closed_form_minimiser_and_regimes():
    y = np.array([1.0, 1.0, -1.0])
    assert wd.binary_linear_decay_regime(y, lam_v=1.0, lam_h=2.0, lam_b=1.0).regime == "unbounded"
    assert wd.binary_linear_decay_regime(y, lam_v=3.0, lam_h=1.0, lam_b=0.0).regime == "unbounded"  # bias
    regime = wd.binary_linear_decay_regime(y, lam_v=3.0, lam_h=1.0, lam_b=2.0)
    assert regime.regime == "threshold" and regime.infimum == -0.25
    H, v, b = wd.binary_linear_decay_minimiser(y, np.array([1.0, 2.0]), lam_v=3.0, lam_h=1.0, lam_b=2.0)
    grads = wd.binary_linear_decay_gradient(H, v, b, y, lam_v=3.0, lam_h=1.0, lam_b=2.0)
    assert max(np.abs(grads[0]).max(), np.abs(grads[1]).max(), abs(grads[2])) == 0.0  # exact arithmetic here
    assert wd.binary_linear_decay_objective(H, v, b, y, lam_v=3.0, lam_h=1.0, lam_b=2.0) == -0.25
    with pytest.raises(wd.DecayUFMInputError, match="v must be 0"):
        wd.binary_linear_decay_minimiser(y, np.array([1.0]), lam_v=4.0, lam_h=1.0, lam_b=1.0)
    with pytest.raises(wd.DecayUFMInputError, match="unbounded"):
        wd.binary_linear_decay_minimiser(y, np.array([1.0]), lam_v=1.0, lam_h=1.0, lam_b=1.0)


def test_threshold_minimiser_needs_centred_means_and_balanced_classes():
    labels = np.repeat(np.arange(3), 2)
    with pytest.raises(wd.DecayUFMInputError, match="M must have centred rows"):
        wd.kclass_threshold_minimiser(np.ones((3, 2)), labels, lam_w=1.0)
    with pytest.raises(wd.DecayUFMInputError, match="balanced"):
        wd.kclass_threshold_minimiser(np.zeros((3, 2)), np.array([0, 1, 2, 2]), lam_w=1.0)


@pytest.mark.parametrize("call, match", [
    (lambda: wd.class_labels([0, 0, 2]), "labels must use every class"),
    (lambda: wd.class_labels([0.5, 1]), "labels must be integers"),
    (lambda: wd.Decay(-1.0, 0.0, 0.0), "lam_w must be >= 0"),
    (lambda: wd.binary_labels([1.0, 1.0]), "both classes"),
    (lambda: wd.simplex_etf(3, 1), "d must be an integer >= K - 1"),
    (lambda: wd.decay_objective(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros(2), [0, 1], loss="hinge",
                                decay=wd.Decay(0, 0, 0)), "loss must be one of"),
    (lambda: wd.minimise_decay_ufm(np.zeros((2, 2)), np.zeros((3, 1)), np.zeros(2), [0, 1, 1], loss="ce",
                                   decay=wd.Decay(0, 0, 0)), "W0 must have shape"),
])
def test_input_errors_name_the_argument(call, match):
    with pytest.raises(wd.DecayUFMInputError, match=match):
        call()
