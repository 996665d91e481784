# References: Section 5.2 (Theorem 4) and Appendix D.3 of "Linear Loss Classification: Efficient
# Training Through Neural Collapse". models.theorem4_features is checked against
#   - hand computations (class scales, class-mean cosines, alignment masks, rescaling);
#   - numpy's least squares (the residual floor of the directional-collapse bullet);
#   - the exact event-driven flow at long horizons (the predicted limits, amplitudes and rates,
#     which the module derives from eqs (44)-(46) instead).
from __future__ import annotations

import math

import numpy as np
import pytest

from models.data_geometry import class_sums
from models.theorem4_features import (
    FeatureInputError,
    ScaledState,
    aligned_groups,
    alignment_time,
    class_mean_cosine,
    class_mean_log_norms,
    class_scales,
    collapse_residuals,
    direction_distances,
    predicted_limits,
    scaled_state,
)
from models.two_layer_relu import gradient_flow


def _separable(rng, n_pos, n_neg, d):
    u = rng.normal(size=(n_pos + n_neg, d))
    u[:, 0] = 0.0
    u /= np.maximum(np.linalg.norm(u, axis=1), 1e-300)[:, None]
    z = rng.uniform(1.0, 2.0, size=(n_pos + n_neg, 1)) * np.eye(d)[0] + rng.uniform(0, 0.9, size=(n_pos + n_neg, 1)) * u
    y = np.array([1.0] * n_pos + [-1.0] * n_neg)
    return y[:, None] * z, y


def _instance(seed, *, h=4, d=3):
    rng = np.random.default_rng(seed)
    X, y = _separable(rng, 3, 3, d)
    W0 = 0.5 * rng.normal(size=(h, d))
    v0 = np.where(np.arange(h) % 2 == 0, 1.0, -1.0) * np.linalg.norm(W0, axis=1)
    return X, y, W0, v0


def test_scaled_state_rescales_and_zeroes_dead():
    W_unit = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]])
    v_unit = np.array([0.0, 0.0, 0.0])
    state = scaled_state(W_unit, v_unit, np.array([2.0, 5.0, -np.inf]))
    assert state.log_scale == 5.0
    assert np.allclose(state.W_s * np.exp(state.log_scale), [[0.6 * np.e**2, 0.8 * np.e**2], [np.e**5, 0], [0, 0]])
    empty = scaled_state(W_unit, v_unit, np.full(3, -np.inf))
    assert empty.log_scale == -math.inf and not np.any(empty.W_s)


@pytest.mark.parametrize("args", [
    (np.zeros((2, 2)), np.zeros(3), np.zeros(2)),
    (np.zeros((2, 2)), np.zeros(2), np.array([0.0, np.nan])),
    (np.zeros((2, 2)), np.zeros(2), np.array([0.0, np.inf])),
])
def test_scaled_state_bad_arguments(args):
    with pytest.raises(FeatureInputError):
        scaled_state(*args)


def test_class_scales_by_hand():
    state = ScaledState(np.zeros((3, 2)), np.array([2.0, -3.0, 0.0]), math.log(10.0))
    scales = class_scales(state, np.array([1.0, -1.0, 0.0]))
    assert math.isclose(scales.log_s_plus, math.log(20.0)) and math.isclose(scales.log_s_minus, math.log(30.0))
    assert np.allclose(scales.u_plus, [1, 0, 0]) and np.allclose(scales.u_minus, [0, 1, 0])
    v = np.exp(scales.log_s_plus) * scales.u_plus - np.exp(scales.log_s_minus) * scales.u_minus
    assert np.allclose(v, 10 * state.v_s)  # the alignment bullet holds by construction


def test_class_mean_cosine_and_norms_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0])
    state = ScaledState(np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2), 0.0)
    # features: x_1 -> (1, 1), x_2 -> (0, 1); cos = 1/sqrt(2)
    assert math.isclose(class_mean_cosine(state, X, y), 1 / math.sqrt(2))
    lp, lm = class_mean_log_norms(state, X, y)
    assert math.isclose(lp, 0.5 * math.log(2.0)) and math.isclose(lm, 0.0)


def test_collapse_floor_matches_least_squares():
    rng = np.random.default_rng(3)
    X, y = _separable(rng, 3, 2, 3)
    W = rng.normal(size=(4, 3))
    state = ScaledState(W, np.array([1.0, 1.0, -1.0, -1.0]), math.log(2.0))
    res = collapse_residuals(state, X, y, np.array([1.0, 1.0, -1.0, -1.0]), 1.0)
    Phi = 2.0 * np.maximum(W @ X[y > 0].T, 0.0)  # (h, 3)
    c = X[y > 0] @ class_sums(X, y)[0]
    z, *_ = np.linalg.lstsq(c[:, None], Phi.T, rcond=None)  # min_z sum_i ||phi_i - c_i z||^2
    R = np.sum((Phi.T - c[:, None] * z) ** 2)
    assert math.isclose(res.printed_floor, math.sqrt(R / 3), rel_tol=1e-10)


def test_collapse_floor_zero_when_features_proportional():
    X = np.array([[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]])
    y = np.array([1.0, 1.0, -1.0])
    state = ScaledState(np.array([[1.0, 0.0]]), np.array([1.0]), 0.0)
    res = collapse_residuals(state, X, y, np.array([1.0]), 1.0)
    assert res.printed_floor <= 1e-15
    with pytest.raises(FeatureInputError):
        collapse_residuals(state, X, y, np.array([1.0]), 2.0)


def test_aligned_groups_and_alignment_time():
    X, y, W0, v0 = _instance(0)
    res = gradient_flow(X, y, W0, v0, 50.0)
    t_a = alignment_time(res, v0)
    assert math.isfinite(t_a)
    assert aligned_groups(res.activation_pattern(t_a), v0, y) is not None
    active = np.ones((W0.shape[0], X.shape[0]), bool)  # every neuron active on both classes
    assert aligned_groups(active, v0, y) is None
    early = gradient_flow(X, y, W0, v0, 0.0)
    if aligned_groups(early.activation_pattern(0.0), v0, y) is None:
        assert math.isnan(alignment_time(early, v0))


@pytest.mark.parametrize("seed", [0, 1, 2, 5])
def test_predicted_limits_against_exact_flow(seed):
    """The exact flow at t_a + 40/rate reaches the limits predicted from t_a (to 1e-9), and
    log s_c - ||x_c|| t reaches the predicted offsets (to 1e-9)."""
    X, y, W0, v0 = _instance(seed)
    res = gradient_flow(X, y, W0, v0, 1e5)
    t_a = alignment_time(res, v0)
    lim = predicted_limits(scaled_state(*res.unit_state_at(t_a)), X, y, v0, t_a, res.activation_pattern(t_a))
    tau = 40.0 / min(lim.rate_v, lim.rate_W)
    late = scaled_state(*res.unit_state_at(t_a + tau))
    dv, dW = direction_distances(late, lim)
    assert dv <= 1e-9 and dW <= 1e-9  # predicted C e^{-40}; float64 unit vectors ~1e-16
    scales = class_scales(late, v0)
    t = t_a + tau
    if lim.growth_plus > 0:
        assert abs(scales.log_s_plus - lim.growth_plus * t - lim.offset_plus) <= 1e-9 * max(1.0, t)
    if lim.growth_minus > 0:
        assert abs(scales.log_s_minus - lim.growth_minus * t - lim.offset_minus) <= 1e-9 * max(1.0, t)


def test_predicted_limits_tie_mixes_groups():
    """||x_+|| = ||x_-||: both groups share v_bar with weights from their amplitudes (exact flow)."""
    X = np.array([[1.0, 0.2], [1.0, -0.3], [-1.0, -0.2], [-1.0, 0.3]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    W0 = np.array([[0.3, 0.1], [-0.2, 0.05]])
    v0 = np.array([1.0, -1.0]) * np.linalg.norm(W0, axis=1)
    res = gradient_flow(X, y, W0, v0, 1e3)
    t_a = alignment_time(res, v0)
    lim = predicted_limits(scaled_state(*res.unit_state_at(t_a)), X, y, v0, t_a, res.activation_pattern(t_a))
    assert np.all(lim.v_bar != 0)  # both neurons carry weight
    dv, dW = direction_distances(scaled_state(*res.unit_state_at(t_a + 40.0 / lim.rate_v)), lim)
    assert dv <= 1e-9 and dW <= 1e-9


def test_predicted_limits_rejects_unaligned_state():
    X, y, W0, v0 = _instance(0)
    active = np.ones((W0.shape[0], X.shape[0]), bool)
    with pytest.raises(FeatureInputError):
        predicted_limits(scaled_state(W0, v0, np.zeros(W0.shape[0])), X, y, v0, 0.0, active)
