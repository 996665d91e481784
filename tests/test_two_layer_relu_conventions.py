"""Conventions of the exact linear-loss flow at kinks, on hand-built instances.

Each instance is small enough to follow by hand (comments give the derivation); the
expected event times come from the closed form of one segment, p(s) = p0 cosh(ks) + v0 sinh(ks).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.two_layer_relu import STATUS_OK, STATUS_SLIDING, FlowInputError, gradient_flow
from models.two_layer_relu.exact import can_slide


def test_boundary_sample_at_start_activates_when_pushed_in():
    # w0 = (1, 0), v0 = 1; x1 = (1, 1) active, x2 = (0, 1) exactly on the boundary.
    # dw/dt = v a with a = x1, so d/dt <w, x2> = v <x1, x2> = 1 > 0: x2 activates at t = 0.
    X = np.array([[1.0, 1.0], [0.0, 1.0]])
    result = gradient_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([1.0]), 1.0)
    assert [(e.time, e.sample, e.direction) for e in result.events] == [(0.0, 1, 1)]
    assert result.activation_pattern(0.5).tolist() == [[True, True]]


def test_boundary_sample_at_start_stays_inactive_when_pushed_out():
    # x1 = (1, -1): d/dt <w, x2> = v <x1, x2> = -1 < 0, so x2 (on the boundary) never activates.
    X = np.array([[1.0, -1.0], [0.0, 1.0]])
    result = gradient_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([1.0]), 1.0)
    assert result.events == []
    assert result.activation_pattern(1.0).tolist() == [[True, False]]


def test_neuron_without_active_sample_freezes():
    X = np.array([[1.0, 0.0], [2.0, 1.0]])
    W0, v0 = np.array([[-1.0, 0.0]]), np.array([0.7])
    result = gradient_flow(X, np.array([1.0, -1.0]), W0, v0, 5.0)
    assert result.events == [] and result.status == STATUS_OK
    assert np.array_equal(result.W, W0) and np.array_equal(result.v, v0)


def test_simultaneous_events_for_duplicated_samples():
    # Two identical negative samples cross at the same instant: two events, same time.
    X = np.array([[1.0, 0.0], [0.5, 1.0], [0.5, 1.0]])
    y = np.array([1.0, 1.0, 1.0])
    result = gradient_flow(X, y, np.array([[1.0, -1.0]]), np.array([np.sqrt(2)]), 2.0)
    times = [e.time for e in result.events if e.sample in (1, 2)]
    assert len(times) == 2 and times[0] == times[1]


def test_event_time_matches_closed_form():
    # One active sample x1 = (1, 0) (k = 1), x2 = (0, 1) inactive with <w0, x2> = -1.
    # w0 = (1, -1), v0 = 1: the second coordinate of w is constant (-1), and
    # <w(s), x2> = -1 forever: no event. Add x2 = (0.5, 1): <w, x2> = 0.5 p(s) - 1 with
    # p(s) = cosh s + sinh s = e^s, zero at s = ln 2.
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    result = gradient_flow(X, np.array([1.0, 1.0]), np.array([[1.0, -1.0]]), np.array([1.0]), 1.0)
    assert len(result.events) == 1
    # 1e-15 relative: a single root of a quadratic evaluated in float64.
    assert result.events[0].time == pytest.approx(np.log(2.0), rel=1e-15)


def test_sliding_is_reported():
    # x1 = (1, 0) labelled +1 keeps the neuron moving along e_1; x2 = (0.5, 1) labelled -1
    # is approached (d/dt <w, x2> = v <x1, x2> = 0.5 v > 0) but, once active, pushed back
    # (<x1 - x2, x2> = 0.5 - 1.25 < 0): the field points into the boundary from both sides.
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    y = np.array([1.0, -1.0])
    result = gradient_flow(X, y, np.array([[1.0, -1.0]]), np.array([np.sqrt(2)]), 3.0)
    assert result.status == STATUS_SLIDING
    assert "slides along the boundary <w, x_1> = 0" in result.message
    assert result.t_end == pytest.approx(result.events[-1].time)


def test_sliding_ruled_out_exactly_when_all_signed_samples_have_positive_inner_products():
    # The solver skips the sliding test when can_slide is False; the sliding instance above
    # (<y_1 x_1, y_2 x_2> = -0.5) must keep it, an orthogonally separable one may drop it.
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    assert can_slide(X @ X.T, np.array([1.0, -1.0]))
    assert not can_slide(X @ X.T, np.array([1.0, 1.0]))
    # boundary: an orthogonal pair (inner product exactly 0) is not separable in the strict sense
    E = np.eye(2)
    assert can_slide(E @ E.T, np.array([1.0, 1.0]))


@pytest.mark.parametrize("balanced", [True, False])
def test_balance_conserved_and_sign_of_v_kept_when_balanced(balanced):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(6, 3)) + np.array([2.0, 0, 0])
    y = np.array([1, 1, 1, -1, -1, -1.0])
    X = y[:, None] * X  # orthogonally separable around e_1
    W0 = rng.normal(size=(5, 3)) * 0.3
    v0 = np.linalg.norm(W0, axis=1) * np.array([1, -1, 1, 1, -1.0]) if balanced else rng.normal(size=5)
    result = gradient_flow(X, y, W0, v0, 1.5)
    start = np.sum(W0**2, axis=1) - v0**2
    for t in (0.3, 0.9, 1.5):
        W, v = result.state_at(t)
        scale = np.sum(W**2, axis=1) + v**2
        # 1e-12 relative to ||(w, v)||^2: closed-form propagation is exact up to rounding.
        assert np.allclose(np.sum(W**2, axis=1) - v**2, start, atol=1e-12 * scale.max())
        if balanced:  # |v| = ||w|| > 0 keeps v away from 0; unbalanced v may change sign
            assert np.array_equal(np.sign(v), np.sign(v0))


def test_long_horizon_stays_finite():
    rng = np.random.default_rng(5)
    Z = np.array([1.0, 0, 0]) + 0.3 * rng.normal(size=(8, 3))
    y = np.repeat([1.0, -1.0], 4)
    X = 10 * y[:, None] * Z
    W0 = rng.normal(size=(4, 3)) * 1e-2
    v0 = np.linalg.norm(W0, axis=1) * np.array([1, -1, 1, -1])
    result = gradient_flow(X, y, W0, v0, 1e4)
    assert np.all(np.isfinite(result.W_unit)) and np.all(np.isfinite(result.log_norm))
    assert np.all(result.log_norm > 709)  # raw norms overflow float64 ...
    assert np.any(np.isinf(result.W))  # ... and show as inf, the directions do not
    assert set(result.final_cones()) <= {"S+", "S-", "dead"}


X_OK = np.array([[1.0, 0.0], [0.0, 1.0]])
Y_OK = np.array([1.0, -1.0])
W_OK = np.ones((2, 2))
V_OK = np.ones(2)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(X=X_OK.ravel()), "X"),
        (dict(X=np.zeros((0, 2)), y=np.zeros(0)), "X"),
        (dict(y=np.array([1.0, 0.0])), "y"),
        (dict(y=np.ones(3)), "y"),
        (dict(W0=np.ones((2, 3))), "W0"),
        (dict(v0=np.ones(3)), "v0"),
        (dict(X=X_OK * np.nan), "X"),
        (dict(v0=V_OK + np.inf), "v0"),
        (dict(t_end=-1.0), "t_end"),
        (dict(t_end=np.inf), "t_end"),
        (dict(t_end="soon"), "t_end"),
        (dict(loss="hinge"), "loss"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, name):
    args = dict(X=X_OK, y=Y_OK, W0=W_OK, v0=V_OK, t_end=1.0) | kwargs
    loss = args.pop("loss", "linear")
    with pytest.raises(FlowInputError, match=name):
        gradient_flow(args["X"], args["y"], args["W0"], args["v0"], args["t_end"], loss=loss)
