"""The simulator's public API as a researcher calls it: arrays of times, options that do not
apply, and the names of the final cones."""

from __future__ import annotations

import numpy as np
import pytest

from models.instances import separable_instance
from models.two_layer_relu import FlowInputError, gradient_flow


@pytest.fixture
def flow():
    inst = separable_instance(np.random.default_rng(7), n_pos=3, n_neg=2, d=3, h=4)
    return gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], 5.0)


def test_state_at_takes_an_array_of_times(flow):
    times = np.array([0.0, 1.0, 2.5, 5.0])
    W, v = flow.state_at(times)
    h, d = flow.W.shape
    assert W.shape == (4, h, d) and v.shape == (4, h)
    for k, t in enumerate(times):
        W_t, v_t = flow.state_at(t)
        np.testing.assert_array_equal(W[k], W_t)  # the same evaluation, stacked: bitwise equal
        np.testing.assert_array_equal(v[k], v_t)
    assert flow.activation_pattern(times).shape == (4, h, flow.X.shape[0])
    units, _, logs = flow.unit_state_at(times)
    assert units.shape == (4, h, d) and logs.shape == (4, h)


def test_options_that_do_not_apply_are_named(flow):
    inst = separable_instance(np.random.default_rng(7), n_pos=2, n_neg=2, d=2, h=1)
    with pytest.raises(FlowInputError, match=r"option\(s\) rtol do not apply to loss='linear'.*exact"):
        gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], 1.0, rtol=1e-8)
    with pytest.raises(FlowInputError, match=r"option\(s\) tol do not apply to loss='logistic'"):
        gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], 1.0, loss="logistic", tol=1e-8)
    res = gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], 1.0, loss="logistic", rtol=1e-8)
    assert res.t_end == 1.0


def test_final_cones_tell_the_open_dead_cone_from_its_boundary():
    # Theorem 9's counterexample: x_1 = (1, 0) positive, x_2 = -(cos 1deg, sin 1deg) negative; the
    # neuron of N_+ at 92 degrees activates only x_2, which deactivates: it freezes on <w, x_2> = 0.
    a = np.deg2rad(1.0)
    X = np.array([[1.0, 0.0], [-np.cos(a), -np.sin(a)]])
    y = np.array([1.0, -1.0])
    frozen = 1e-3 * np.array([np.cos(np.deg2rad(92.0)), np.sin(np.deg2rad(92.0))])
    dead = np.array([-1e-5, 1e-3])  # <w, x_1> = -1e-5 and <w, x_2> = 1e-5 cos a - 1e-3 sin a < 0
    assert np.all(X @ dead < 0)
    res = gradient_flow(X, y, np.vstack([frozen, dead]), np.array([1e-3, 1e-3]), 4.0)
    assert list(res.final_cones()) == ["boundary", "dead"]
    assert np.isfinite(res.cone_entry_times()).all()


@pytest.mark.parametrize("bad", [-1, 0, 2.5, "x", True])
def test_max_events_must_be_a_positive_integer(bad):
    inst = separable_instance(np.random.default_rng(7), n_pos=2, n_neg=2, d=2, h=1)
    with pytest.raises(FlowInputError, match="max_events must be an integer >= 1"):
        gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], 1.0, max_events=bad)
