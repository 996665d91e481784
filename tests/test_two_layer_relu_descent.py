# References: Section 5.2, eq. (2), Appendix B.2 and Appendix D.4, eq. (47) of "Linear Loss
# Classification: Efficient Training Through Neural Collapse" (gradient descent with step
# 0.001 and per-neuron weight normalisation in the experiments). models.two_layer_relu.descent
# is checked against
#   - torch autograd in double precision for one step of each loss;
#   - the continuous flows it discretises, at the measured convergence order of the explicit
#     Euler method (1, Hairer, Norsett & Wanner, Solving ODEs I, Section II.3): the exact
#     linear-loss flow (models.two_layer_relu.gradient_flow), the logistic flow and the
#     per-neuron normalised flow, on aligned instances where no activation changes;
#   - hand-computed losses, activation-change counts and a sign jump of a normalised v_j.
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.two_layer_relu import gradient_flow
from models.two_layer_relu.descent import DescentResult, gradient_descent, network_loss
from models.two_layer_relu.logistic import logistic_flow
from models.two_layer_relu.normalised import per_neuron_normalised_flow
from models.two_layer_relu.result import STATUS_OK, FlowInputError
from relu_instances import separable_data, relative_error


def aligned_init(rng, X, y, signs, scale: float = 0.5):
    """w_j = sgn(v_j) * positive combination of the y_i x_i (in S_+ or S_-), balanced: no
    activation changes along any of the flows (Appendix D.2), nor along GD with small steps."""
    signs = np.asarray(signs, dtype=float)
    lam = rng.uniform(0.1, 1.0, size=(signs.size, X.shape[0]))
    W0 = signs[:, None] * (lam @ (y[:, None] * X))
    W0 *= scale / np.linalg.norm(W0, axis=1)[:, None]
    W0 += 0.2 * scale * rng.normal(size=W0.shape) * np.array([0.0] + [1.0] * (X.shape[1] - 1))
    assert np.all(((W0 @ X.T) > 0) == ((signs[:, None] * y[None, :]) > 0))  # still aligned
    return W0, signs * np.linalg.norm(W0, axis=1)


# -- one step against torch -------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["linear", "logistic"])
def test_one_step_is_minus_eta_times_the_torch_gradient(loss):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), np.array([1, -1, 1, -1, 1, 1.0])
    W0, v0 = rng.normal(size=(4, 3)), rng.normal(size=4)
    eta = 0.01
    result = gradient_descent(X, y, W0, v0, eta=eta, steps=1, loss=loss)
    Wt = torch.tensor(W0, requires_grad=True)
    vt = torch.tensor(v0, requires_grad=True)
    margin = torch.tensor(y) * (torch.relu(torch.tensor(X) @ Wt.T) @ vt)
    total = (-margin).sum() if loss == "linear" else torch.nn.functional.softplus(-margin).sum()
    total.backward()
    # float64 sums of a few products: 1e-12 relative
    assert np.allclose(result.W, W0 - eta * Wt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(result.v, v0 - eta * vt.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert result.loss_history[0] == pytest.approx(float(total.detach()), rel=1e-13)


# -- convergence to the flows ------------------------------------------------------------------
def _flow(kind, X, y, W0, v0, T):
    if kind == "linear":
        return gradient_flow(X, y, W0, v0, T, loss="linear")
    if kind == "logistic":
        return logistic_flow(X, y, W0, v0, T)
    return per_neuron_normalised_flow(X, y, W0, v0, T)


OPTIONS = {"linear": dict(loss="linear"), "logistic": dict(loss="logistic"),
           "normalised": dict(loss="linear", normalise=True)}


@pytest.mark.parametrize("kind", ["linear", "logistic", "normalised"])
def test_descent_converges_to_the_flow_at_first_order(kind):
    rng = np.random.default_rng(1)
    X, y = separable_data(rng, 4, 3, 3)
    W0, v0 = aligned_init(rng, X, y, [1, -1, 1, -1])
    T = 0.5  # the linear flow grows like e^{||x_+|| t}: a short horizon keeps Euler asymptotic
    flow = _flow(kind, X, y, W0, v0, T)
    assert flow.status == STATUS_OK and flow.events == []
    steps = np.array([200, 400, 800, 1600])
    errors = []
    for N in steps:
        result = gradient_descent(X, y, W0, v0, eta=T / N, steps=int(N), **OPTIONS[kind])
        assert result.activation_changes == 0
        errors.append(relative_error(result.W, result.v, flow.W, flow.v))
    order = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    # Explicit Euler is first order (observed slopes 0.99, 1.00, 1.00); the flows' own errors
    # (<= 1e-10) are far below the smallest descent error (>= 3e-5 relative), so the fitted
    # slope measures descent alone.
    assert 0.8 <= order <= 1.2, (order, errors)


def test_negative_control_normalised_descent_does_not_converge_to_the_plain_flow():
    # The order measurement must reject a wrong target: normalised descent against the
    # unnormalised exact flow stalls at an O(1) gap (fitted slope ~ 0).
    rng = np.random.default_rng(1)
    X, y = separable_data(rng, 4, 3, 3)
    W0, v0 = aligned_init(rng, X, y, [1, -1, 1, -1])
    flow = gradient_flow(X, y, W0, v0, 0.5)
    steps = np.array([200, 400, 800, 1600])
    errors = [relative_error(*(lambda r: (r.W, r.v))(gradient_descent(
        X, y, W0, v0, eta=0.5 / N, steps=int(N), normalise=True)), flow.W, flow.v) for N in steps]
    order = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert not 0.8 <= order <= 1.2 and min(errors) > 0.1


def test_normalised_descent_keeps_the_norms():
    rng = np.random.default_rng(2)
    X, y = separable_data(rng, 3, 3, 3)
    W0, v0 = rng.normal(size=(4, 3)), rng.normal(size=4)
    result = gradient_descent(X, y, W0, v0, eta=0.05, steps=200, normalise=True)
    # a rescaling per step: rounding only, ~1e-16 per step
    assert np.allclose(np.linalg.norm(result.W, axis=1), np.linalg.norm(W0, axis=1), rtol=1e-12, atol=0)
    assert np.allclose(np.abs(result.v), np.abs(v0), rtol=1e-15, atol=0)


def test_normalised_descent_can_flip_the_sign_of_v_where_the_flow_cannot():
    # One neuron, w = (1, 0), v = 0.1 and one negative sample x = (1, 0): -dL/dv = y relu(<w, x>) = -1.
    # A step of 0.5 gives v = 0.1 - 0.5 = -0.4, projected on {+-0.1}: v = -0.1 (a jump the
    # continuous flow, with v frozen, never makes). A step of 0.05 gives 0.05 -> +0.1: no flip.
    X, y = np.array([[1.0, 0.0]]), np.array([-1.0])
    W0, v0 = np.array([[1.0, 0.0]]), np.array([0.1])
    big = gradient_descent(X, y, W0, v0, eta=0.5, steps=1, normalise=True)
    assert big.v.tolist() == [-0.1] and big.v_sign_flips == 1
    small = gradient_descent(X, y, W0, v0, eta=0.05, steps=1, normalise=True)
    assert small.v.tolist() == [0.1] and small.v_sign_flips == 0


# -- hand-computed bookkeeping -------------------------------------------------------------------
def test_loss_history_and_activation_changes_by_hand():
    # w = (1, -1), v = 1, x1 = (1, 0) (y = +1, active), x2 = (0.5, 1) (y = +1, pre-activation
    # -0.5, inactive). Linear loss L = -v relu(<w, x1>) - v relu(<w, x2>) = -1 at the start.
    # Step 1 (eta = 0.5): w += 0.5 * v x1 = (1.5, -1), v += 0.5 * <w, x1> = 1.5;
    #   L = -1.5 * 1.5 = -2.25 and <w, x2> = -0.25: still inactive.
    # Step 2: w += 0.5 * 1.5 * x1 = (2.25, -1), v += 0.5 * 1.5 = 2.25;
    #   <w, x2> = 0.125 > 0: x2 activates (one change); L = -2.25 * (2.25 + 0.125) = -5.34375.
    X, y = np.array([[1.0, 0.0], [0.5, 1.0]]), np.array([1.0, 1.0])
    result = gradient_descent(X, y, np.array([[1.0, -1.0]]), np.array([1.0]), eta=0.5, steps=2)
    assert isinstance(result, DescentResult)
    assert result.loss_history.tolist() == [-1.0, -2.25, -5.34375]  # dyadic: exact in float64
    assert result.W.tolist() == [[2.25, -1.0]] and result.v.tolist() == [2.25]
    assert result.activation_changes == 1 and result.v_sign_flips == 0


def test_zero_steps_return_the_start():
    X, y = np.array([[1.0, 0.0]]), np.array([1.0])
    W0, v0 = np.array([[0.3, 0.4]]), np.array([-0.2])
    result = gradient_descent(X, y, W0, v0, eta=0.1, steps=0, loss="logistic")
    assert np.array_equal(result.W, W0) and np.array_equal(result.v, v0)
    assert result.loss_history.tolist() == [network_loss(X, y, W0, v0, "logistic")]


def test_logistic_loss_history_is_finite_for_huge_margins():
    X, y = np.array([[1.0, 0.0]]), np.array([1.0])
    result = gradient_descent(X, y, np.array([[1e3, 0.0]]), np.array([1e3]), eta=1e-3, steps=3, loss="logistic")
    # margin 1e6: log(1 + e^{-1e6}) underflows to 0 without overflow warnings (warnings are errors)
    assert np.all(np.isfinite(result.loss_history)) and result.loss_history[0] == 0.0


# -- bad arguments ---------------------------------------------------------------------------
GOOD = dict(X=np.array([[1.0, 0.0], [0.0, 1.0]]), y=np.array([1.0, -1.0]), W0=np.ones((2, 2)),
            v0=np.array([1.0, -1.0]), eta=0.1, steps=3, loss="linear", normalise=False)


@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(X=np.ones(2)), "X"),
        (dict(y=np.array([1.0, 0.5])), "y"),
        (dict(W0=np.ones((2, 3))), "W0"),
        (dict(v0=np.ones(1)), "v0"),
        (dict(eta=0.0), "eta"),
        (dict(eta=np.nan), "eta"),
        (dict(eta="small"), "eta"),
        (dict(steps=-1), "steps"),
        (dict(steps=2.0), "steps"),
        (dict(steps=True), "steps"),
        (dict(loss="hinge"), "loss"),
        (dict(normalise="yes"), "normalise"),
    ],
)
def test_bad_arguments_raise_flow_input_error_naming_them(bad, name):
    args = {**GOOD, **bad}
    with pytest.raises(FlowInputError, match=f"^{name} "):
        gradient_descent(args["X"], args["y"], args["W0"], args["v0"], eta=args["eta"], steps=args["steps"],
                         loss=args["loss"], normalise=args["normalise"])
