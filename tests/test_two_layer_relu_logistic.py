# References: Section 5.2, eq. (2) of "Linear Loss Classification: Efficient Training Through
# Neural Collapse" (the network) trained under the logistic loss l(u) = log(1 + e^{-u}), the
# comparison loss of the paper (Min et al. [9]). models.two_layer_relu.logistic.logistic_flow
# is checked against independent solutions:
#   - torch autograd in double precision for the field -dL/d(W, v);
#   - scipy's DOP853 on a hand-written fixed-active-set field without events, on aligned
#     instances where no activation can change (the cones S_+ and S_- of eq. (23) are
#     invariant for orthogonally separable data, Appendix D.2);
#   - tiny-step gradient descent (models.two_layer_relu.descent) through activation changes;
#   - the exact linear-loss solver: -l'(u) = 1/2 + O(u), so from an initialisation of
#     scale eps (f = O(eps^2)) the logistic flow at time 2t is the linear flow at time t up
#     to O(eps^2), events included;
# and on hand-built instances for the conventions at kinks (relu'(0) = 0, a boundary sample
# at t = 0, sliding), each derived in a comment.
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from models.two_layer_relu import gradient_flow
from models.two_layer_relu.descent import gradient_descent
from models.two_layer_relu.logistic import logistic_field, logistic_flow, logistic_loss
from models.two_layer_relu.result import STATUS_MAX_EVENTS, STATUS_OK, STATUS_SLIDING, FlowInputError
from relu_instances import separable_data, relative_error

FAST = settings(max_examples=10, deadline=None)

# Two DOP853 solutions at rtol 1e-10 (ours) and 1e-12 (reference): global error a few 1e-10
# relative on these O(1) horizons (observed <= 2e-11); 1e-8 leaves margin.
STATE_RTOL = 1e-8
# Pre-activation at a located event, relative to ||w_j|| ||x_i||: root finding on the dense
# output is exact to ~1e-16 in t, the interpolant to rtol = 1e-10 (observed <= 1e-16).
BOUNDARY_RTOL = 1e-9


# -- instances ---------------------------------------------------------------------------

def aligned_init(rng, X, y, signs, scale: float = 0.5):
    """w_j = sgn(v_j) * positive combination of the y_i x_i: w_j in S_+ (v_j > 0) or S_- (v_j < 0).

    No activation changes: a positive sample at the boundary of an S_+ neuron has rate
    v_j sum_{active} y_k s_k <x_k, x_i> > 0, a negative one < 0 (all <y_k x_k, y_i x_i> > 0).
    """
    signs = np.asarray(signs, dtype=float)
    lam = rng.uniform(0.1, 1.0, size=(signs.size, X.shape[0]))
    W0 = signs[:, None] * (lam @ (y[:, None] * X))
    W0 *= scale / np.linalg.norm(W0, axis=1)[:, None]
    return W0, signs * scale


# -- the field -----------------------------------------------------------------------------
def test_field_is_minus_the_torch_gradient():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 3)), np.array([1, -1, 1, 1, -1, -1, 1.0])
    W, v = rng.normal(size=(4, 3)), rng.normal(size=4) * 3.0  # margins up to ~10: both tails of expit
    dW, dv = logistic_field(X, y)(W, v, (W @ X.T) > 0)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    vt = torch.tensor(v, dtype=torch.float64, requires_grad=True)
    f = torch.relu(torch.tensor(X) @ Wt.T) @ vt
    torch.nn.functional.softplus(-torch.tensor(y) * f).sum().backward()
    # both are sums of a few float64 products: 1e-12 relative covers the rounding
    assert np.allclose(dW, -Wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(dv, -vt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert logistic_loss(X, y, W, v) == pytest.approx(
        float(torch.nn.functional.softplus(-torch.tensor(y) * f).sum().detach()), rel=1e-13)


def test_loss_is_stable_for_huge_margins():
    X, y = np.array([[1.0]]), np.array([1.0])
    # f = +-1e4: log(1 + e^{-1e4}) = 0 and log(1 + e^{1e4}) = 1e4 without overflow
    assert logistic_loss(X, y, np.array([[1.0]]), np.array([1e4])) == 0.0
    assert logistic_loss(X, -y, np.array([[1.0]]), np.array([1e4])) == pytest.approx(1e4, rel=1e-15)


# -- independent solutions -----------------------------------------------------------------
def fixed_set_reference(X, y, W0, v0, active, times):
    """DOP853 at rtol = atol = 1e-12 on the field with fixed masks, written per sample."""
    h, d = W0.shape

    def rhs(_t, z):
        W, v = z[:h * d].reshape(h, d), z[h * d:]
        dW, dv = np.zeros_like(W), np.zeros_like(v)
        for i in range(X.shape[0]):
            pre = np.where(active[:, i], W @ X[i], 0.0)
            s = 1.0 / (1.0 + np.exp(y[i] * (v @ pre)))  # -l'(y f) = 1 / (1 + e^{y f})
            dW += (y[i] * s) * v[:, None] * active[:, i, None] * X[i]
            dv += (y[i] * s) * pre
        return np.concatenate([dW.ravel(), dv])

    sol = solve_ivp(rhs, (0.0, times[-1]), np.concatenate([W0.ravel(), v0]), method="DOP853",
                    rtol=1e-12, atol=1e-12, t_eval=times)
    return sol.y[:h * d].T.reshape(-1, h, d), sol.y[h * d:].T


@pytest.mark.parametrize("seed", [0, 1])
def test_aligned_instance_matches_fixed_active_set_dop853(seed):
    rng = np.random.default_rng(seed)
    X, y = separable_data(rng, 4, 3, 3)
    W0, v0 = aligned_init(rng, X, y, [1, -1, 1, -1])
    times = np.linspace(0.0, 4.0, 9)
    result = logistic_flow(X, y, W0, v0, 4.0)
    assert result.status == STATUS_OK and result.events == []
    W_ref, v_ref = fixed_set_reference(X, y, W0, v0, (W0 @ X.T) > 0, times)
    for l, t in enumerate(times):
        W, v = result.state_at(t)
        assert relative_error(W, v, W_ref[l], v_ref[l]) <= STATE_RTOL


def test_tiny_step_gradient_descent_approaches_the_flow_through_events():
    rng = np.random.default_rng(2)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = rng.normal(size=(5, 3)) * 0.5, rng.normal(size=5) * 0.5
    T = 1.0
    flow = logistic_flow(X, y, W0, v0, T)
    assert flow.status == STATUS_OK and len(flow.events) >= 3
    errors = [relative_error(*(lambda r: (r.W, r.v))(gradient_descent(
        X, y, W0, v0, eta=T / steps, steps=steps, loss="logistic")), flow.W, flow.v)
        for steps in (250, 1000, 4000)]
    # Euler's global error is C eta (a kink adds O(eta) too): observed 1.7e-3, 4.7e-4, 8.7e-5.
    # Each 4x smaller step must at least halve it, and the last must be below 5e-4.
    assert errors[1] <= errors[0] / 2 and errors[2] <= errors[1] / 2
    assert errors[2] <= 5e-4


def test_small_initialisation_follows_the_linear_flow_at_half_speed():
    # -l'(u) = expit(-u) = 1/2 - u/4 + O(u^3) and f = O(eps^2): the logistic field is half the
    # linear one up to a relative O(eps^2), so event times t_log = 2 t_lin + O(eps^2).
    rng = np.random.default_rng(3)
    X, y = separable_data(rng, 4, 4, 3)
    W0 = rng.normal(size=(5, 3)) * 0.5
    v0 = np.linalg.norm(W0, axis=1) * np.array([1, -1, 1, -1, 1.0])
    gaps = []
    for eps in (1e-3, 1e-4):
        logistic = logistic_flow(X, y, eps * W0, eps * v0, 2.0)
        linear = gradient_flow(X, y, eps * W0, eps * v0, 1.0)
        keys = [(e.neuron, e.sample, e.direction) for e in linear.events]
        assert [(e.neuron, e.sample, e.direction) for e in logistic.events] == keys and len(keys) > 5
        gaps.append(max(abs(a.time / 2 - b.time) for a, b in zip(logistic.events, linear.events)))
    order = np.log10(gaps[0] / gaps[1])  # eps shrinks tenfold
    assert 1.8 <= order <= 2.2  # second order in eps (observed 2.00)


def test_negative_control_the_linear_flow_at_full_speed_does_not_match():
    # Without the factor 1/2 of -l'(0) the event times differ at O(1), not O(eps^2).
    rng = np.random.default_rng(3)
    X, y = separable_data(rng, 4, 4, 3)
    W0 = rng.normal(size=(5, 3)) * 0.5
    v0 = np.linalg.norm(W0, axis=1) * np.array([1, -1, 1, -1, 1.0])
    logistic = logistic_flow(X, y, 1e-4 * W0, 1e-4 * v0, 1.0)
    linear = gradient_flow(X, y, 1e-4 * W0, 1e-4 * v0, 1.0)
    first_log, first_lin = logistic.events[0].time, linear.events[0].time
    assert abs(first_log - first_lin) > 0.1 * first_lin  # (2x apart in fact)


# -- events and conventions ------------------------------------------------------------------
def test_events_lie_on_boundaries_and_switch_sides():
    rng = np.random.default_rng(4)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = rng.normal(size=(5, 3)) * 0.5, rng.normal(size=5) * 0.5
    result = logistic_flow(X, y, W0, v0, 2.0)
    assert len(result.events) >= 3
    for e in result.events:
        W, _ = result.state_at(e.time)
        pre = W[e.neuron] @ X[e.sample]
        assert abs(pre) <= BOUNDARY_RTOL * np.linalg.norm(W[e.neuron]) * np.linalg.norm(X[e.sample])
        assert result.activation_pattern(e.time)[e.neuron, e.sample] == (e.direction > 0)
        later = min(e.time + 1e-6, result.t_end)  # 1e-6: well inside the next segment here
        W_later, _ = result.state_at(later)
        assert np.sign(W_later[e.neuron] @ X[e.sample]) == e.direction


def test_boundary_sample_at_start_activates_when_pushed_in():
    # w0 = (1, 0), v0 = 1, x1 = (1, 1) active, x2 = (0, 1) on the boundary:
    # d/dt <w, x2> = v s_1 <x1, x2> = s_1 > 0, so x2 activates at t = 0.
    X = np.array([[1.0, 1.0], [0.0, 1.0]])
    result = logistic_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([1.0]), 1.0)
    assert [(e.time, e.sample, e.direction) for e in result.events] == [(0.0, 1, 1)]
    assert result.activation_pattern(0.5).tolist() == [[True, True]]


def test_boundary_sample_at_start_stays_inactive_when_pushed_out():
    # x1 = (1, -1): d/dt <w, x2> = v s_1 <x1, x2> = -s_1 < 0.
    X = np.array([[1.0, -1.0], [0.0, 1.0]])
    result = logistic_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([1.0]), 1.0)
    assert result.events == [] and result.activation_pattern(1.0).tolist() == [[True, False]]


@pytest.mark.parametrize("x1, enters", [((1.0, 1.0), True), ((1.0, -1.0), False)])
def test_boundary_sample_with_zero_output_weight_is_decided_at_second_order(x1, enters):
    # v0 = 0, so d/dt <w, x2> = 0; but dv/dt = s_1 <w, x1> = 1/2 > 0 and then
    # d^2/dt^2 <w, x2> = (dv/dt) s_1 <x1, x2> has the sign of <x1, x2> = +-1.
    X = np.array([x1, [0.0, 1.0]])
    result = logistic_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([0.0]), 1.0)
    assert [(e.time, e.sample, e.direction) for e in result.events] == ([(0.0, 1, 1)] if enters else [])
    exact = gradient_flow(X, np.array([1.0, 1.0]), np.array([[1.0, 0.0]]), np.array([0.0]), 1.0)
    assert [(e.time, e.sample) for e in exact.events] == [(e.time, e.sample) for e in result.events]


def test_sliding_is_reported():
    # x1 = (1, 0) labelled +1 drives w along e_1; x2 = (0.5, 1) labelled -1 is approached
    # (rate v s_1 <x1, x2> > 0) but once active pushed back: rate v (0.5 s_1 - 1.25 s_2) with
    # s_2 = expit(0) = 1/2 at the boundary and s_1 < 1, which is < 0. Scale 0.1: f stays
    # small, s_1 ~ 1/2, and the crossing (w_1 from 0.1 to 0.2) comes at t ~ 2 ln 2.
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    result = logistic_flow(X, np.array([1.0, -1.0]), 0.1 * np.array([[1.0, -1.0]]), 0.1 * np.array([np.sqrt(2)]), 3.0)
    assert result.status == STATUS_SLIDING
    assert "slides along the boundary <w, x_1> = 0" in result.message
    assert result.t_end == pytest.approx(result.events[-1].time)


def test_max_events_stops_the_flow():
    rng = np.random.default_rng(4)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = rng.normal(size=(5, 3)) * 0.5, rng.normal(size=5) * 0.5
    result = logistic_flow(X, y, W0, v0, 2.0, max_events=1)
    assert result.status == STATUS_MAX_EVENTS and len(result.events) == 2
    assert result.t_end == result.events[-1].time


def test_duplicated_samples_change_together():
    # Two identical samples cross at the same instant: the solver locates one, the restart
    # finds the other already across and moving on; two events, one time. (Scale 0.1 as in
    # the sliding test, so that the crossing comes before t = 3.)
    X = np.array([[1.0, 0.0], [0.5, 1.0], [0.5, 1.0]])
    y = np.ones(3)
    result = logistic_flow(X, y, 0.1 * np.array([[1.0, -1.0]]), 0.1 * np.array([np.sqrt(2)]), 3.0)
    times = [e.time for e in result.events if e.sample in (1, 2)]
    assert len(times) == 2 and times[0] == times[1]
    assert result.activation_pattern(3.0).tolist() == [[True, True, True]]


# -- properties ------------------------------------------------------------------------------
@st.composite
def separable_problems(draw, *, max_h: int = 4):
    """(X, y, W0, v0): orthogonally separable data (n in [2, 6], d in [2, 3]) and a random init.

    Cost: one seed and three small integers. Shrinks towards the smallest sizes and seed 0.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    n_pos, n_neg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    d, h = draw(st.integers(2, 3)), draw(st.integers(1, max_h))
    rng = np.random.default_rng(seed)
    X, y = separable_data(rng, n_pos, n_neg, d)
    return X, y, rng.normal(size=(h, d)) * 0.5, rng.normal(size=h) * 0.5


@FAST
@given(separable_problems())
def test_loss_decreases_and_queries_agree(problem):
    X, y, W0, v0 = problem
    result = logistic_flow(X, y, W0, v0, 2.0)
    assert result.status == STATUS_OK  # Assumption 1 rules sliding out (Claim 1's argument)
    losses = [logistic_loss(X, y, *result.state_at(t)) for t in np.linspace(0.0, 2.0, 21)]
    # a gradient flow never increases its loss; 1e-12 for interpolation rounding
    assert np.all(np.diff(losses) <= 1e-12)
    W, v = result.state_at(2.0)
    assert relative_error(W, v, result.W, result.v) <= 1e-13  # dense output at its own end point


# -- bad arguments ---------------------------------------------------------------------------
GOOD = dict(X=np.array([[1.0, 0.0], [0.0, 1.0]]), y=np.array([1.0, -1.0]), W0=np.ones((2, 2)),
            v0=np.array([1.0, -1.0]), t_end=1.0)


@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(X=np.ones(2)), "X"),
        (dict(X=np.array([[1.0, np.nan], [0.0, 1.0]])), "X"),
        (dict(y=np.array([1.0, 2.0])), "y"),
        (dict(y=np.ones(3)), "y"),
        (dict(W0=np.ones((2, 3))), "W0"),
        (dict(v0=np.ones(3)), "v0"),
        (dict(t_end=-0.5), "t_end"),
        (dict(t_end=np.inf), "t_end"),
        (dict(rtol=0.0), "rtol"),
        (dict(rtol="tight"), "rtol"),
        (dict(atol=-1e-12), "atol"),
        (dict(max_events=1.5), "max_events"),
        (dict(max_events=True), "max_events"),
    ],
)
def test_bad_arguments_raise_flow_input_error_naming_them(bad, name):
    args = {**GOOD, **{key: value for key, value in bad.items() if key in GOOD}}
    options = {key: value for key, value in bad.items() if key not in GOOD}
    with pytest.raises(FlowInputError, match=f"^{name} "):
        logistic_flow(args["X"], args["y"], args["W0"], args["v0"], args["t_end"], **options)


@pytest.mark.parametrize("loss", ["linear", "logistic"])
def test_zero_horizon_returns_the_start(loss):
    """t_end = 0: both flows answer every query with the initial state (the logistic flow has no
    dense-output piece then)."""
    X = np.array([[1.0, 0.0], [-1.0, 0.2]])
    y = np.array([1.0, -1.0])
    W0, v0 = np.array([[0.1, 0.2], [-0.3, 0.1]]), np.array([0.2, -0.1])
    res = gradient_flow(X, y, W0, v0, 0.0, loss=loss)
    W, v = res.state_at(0.0)
    # 1e-14 relative: the state is rebuilt as unit direction times exp(log-norm), a few roundings.
    assert np.allclose(W, W0, rtol=1e-14, atol=0) and np.allclose(v, v0, rtol=1e-14, atol=0)
    W_unit, v_unit, log_norm = res.unit_state_at(0.0)
    norms = np.linalg.norm(np.column_stack([W0, v0]), axis=1)
    assert np.allclose(log_norm, np.log(norms), rtol=1e-14, atol=1e-15)
    assert np.allclose(W_unit * norms[:, None], W0, rtol=1e-14, atol=0)
