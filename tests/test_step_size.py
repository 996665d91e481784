"""models.step_size against independent references: the plain descent of
models.two_layer_relu.descent (same steps, no renormalisation), a subset enumeration for the rate
bound, and the exact flow (descent converges to it as eta -> 0)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.alignment_bounds import alignment_time
from models.instances import separable_instance
from models.step_size import StepSizeError, angle, descend, largest_subset_rate, limit_direction, rate_bound
from models.two_layer_relu import gradient_flow
from models.two_layer_relu.descent import gradient_descent


def _instance(seed: int, h: int = 4) -> dict:
    rng = np.random.default_rng(seed)
    return separable_instance(rng, n_pos=2 + seed % 2, n_neg=2, d=2 + seed % 2, h=h)


@pytest.mark.parametrize("seed", range(4))
def test_descend_matches_plain_descent(seed):
    """Renormalising per neuron changes neither the directions nor the active sets: the unit states and the
    log-norms equal those of the plain descent run for the same steps (no overflow at this horizon)."""
    inst = _instance(seed)
    X, y, W0, v0 = (inst[k] for k in ("X", "y", "W0", "v0"))
    eta = 0.05 / rate_bound(X, y)
    trace = descend(X, y, W0, v0, eta=eta, steps=300, stop_when_final=False)
    plain = gradient_descent(X, y, W0, v0, eta=eta, steps=300)
    state = np.hstack([plain.W, plain.v[:, None]])
    norms = np.linalg.norm(state, axis=1)
    # 1e-10: 300 steps of float64 arithmetic on O(1) unit vectors, each step losing ~1e-16.
    assert np.allclose(trace.W_unit, plain.W / norms[:, None], atol=1e-10)
    assert np.allclose(trace.v_unit, plain.v / norms, atol=1e-10)
    assert np.allclose(trace.log_norm, np.log(norms), atol=1e-10)
    assert np.array_equal(trace.active, (plain.W @ X.T) > 0)
    assert int(trace.sign_flips.sum()) == plain.v_sign_flips


@pytest.mark.parametrize("seed", range(6))
def test_rate_bound_is_largest_subset_sum(seed):
    """Under Assumption 1 every pairwise <y_i x_i, y_l x_l> > 0, so the largest ||sum_S y_i x_i|| over subsets is the
    full sum: rate_bound equals the enumeration."""
    inst = _instance(seed)
    X, y = inst["X"], inst["y"]
    # 1e-12 relative: one sum of <= 5 vectors of norm <= 2.2, computed two ways.
    assert abs(rate_bound(X, y) - largest_subset_rate(X, y)) <= 1e-12 * rate_bound(X, y)


def test_rate_bound_fails_without_assumption_1():
    """Control: with a mislabelled sample the full sum is no longer the largest subset sum."""
    X = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0]])
    y = np.array([1.0, -1.0, -1.0])  # the second sample sits in the positive cone
    assert largest_subset_rate(X, y) > rate_bound(X, y) + 0.5


@pytest.mark.parametrize("seed", range(3))
def test_descend_converges_to_flow(seed):
    """As eta -> 0 the descent's alignment time tends to the exact flow's, its final cones equal the flow's and the
    rank-one limit direction tends to the flow's; the errors shrink roughly in proportion to eta."""
    inst = _instance(seed)
    X, y, W0, v0 = (inst[k] for k in ("X", "y", "W0", "v0"))
    K = rate_bound(X, y)
    flow = gradient_flow(X, y, W0, v0, 200.0 / K)
    t_flow = alignment_time(flow, W0, v0)
    cones = flow.final_cones()
    labels = np.where(np.isin(cones, ("dead", "boundary")), "none", cones)  # no active sample
    W_u, v_u, logs = flow.unit_state_at(flow.t_end)
    v_bar = limit_direction(X, y, W_u, v_u, logs)
    errors = []
    for c in (1e-2, 1e-3):
        trace = descend(X, y, W0, v0, eta=c / K, steps=10**6)
        assert trace.aligned and np.array_equal(trace.final_label, labels)
        gap = abs(trace.alignment_time() - t_flow)
        # one step of rounding plus the relative rate error eta k / (1 - eta k) <= 2c over the flow's time
        assert gap <= c / K * (1 + 2 * K * t_flow)
        errors.append(angle(limit_direction(X, y, trace.W_unit, trace.v_unit, trace.log_norm,
                                            growth="descent", eta=c / K), v_bar))
    # the limit angle is O(eta): ten times smaller step, at least three times smaller error (or both at rounding)
    assert errors[1] <= max(errors[0] / 3, 1e-9)


def test_descend_arguments():
    """Bad arguments raise StepSizeError naming the argument."""
    inst = _instance(0)
    with pytest.raises(StepSizeError, match="eta"):
        descend(inst["X"], inst["y"], inst["W0"], inst["v0"], eta=-1.0, steps=3)
    with pytest.raises(StepSizeError, match="steps"):
        descend(inst["X"], inst["y"], inst["W0"], inst["v0"], eta=0.1, steps=2.5)
    with pytest.raises(StepSizeError, match="growth"):
        limit_direction(inst["X"], inst["y"], inst["W0"], inst["v0"], np.zeros(4), growth="euler")
    assert math.isclose(angle([1.0, 0.0], [0.0, 2.0]), math.pi / 2)
