"""Discrete gradient descent on the two-layer ReLU network, with optional weight normalisation.

One step from (W, v) with step size eta (masks from the current weights, relu'(0) = 0):

    W <- W - eta dL/dW,   v <- v - eta dL/dv,

with, for l the loss per sample (l(u) = -u "linear", l(u) = log(1 + e^{-u}) "logistic")
and r_i = -y_i l'(y_i f(x_i)) (= y_i, resp. y_i expit(-y_i f(x_i))),

    -dL/dw_j = v_j sum_{<w_j, x_i> > 0} r_i x_i,    -dL/dv_j = sum_i r_i relu(<w_j, x_i>).

``normalise=True`` is per-neuron weight normalisation as in Appendix B.2 / eq. (47): after
each step every w_j is rescaled to its initial norm, and v_j to its initial magnitude with
the sign it has after the step (the projection of a scalar on the 0-sphere {+-|v_j(0)|}).
A neuron with w_j(0) = 0 (resp. v_j(0) = 0) keeps w_j = 0 (resp. v_j = 0); a row that the
step sends exactly to 0 keeps its previous direction.

Discrete v_j can jump: the projection flips the sign of v_j when one step overshoots 0
(eta |dL/dv_j| > |v_j| with the wrong sign), which the normalised flow (where v_j is
frozen) never does; ``DescentResult.v_sign_flips`` counts these jumps. As eta -> 0 the
projected step is the projected gradient flow to first order (a retraction), so this
converges to :func:`models.two_layer_relu.normalised.per_neuron_normalised_flow` with
form="projected", output="neuron".

References:
    Section 5.2, eq. (2); Appendix B.2; Appendix D.1, eq. (19); Appendix D.4, eq. (47).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from models.two_layer_relu.exact import validate_problem
from models.two_layer_relu.result import FlowInputError

LOSSES = ("linear", "logistic")


@dataclass(frozen=True)
class DescentResult:
    """Outcome of ``steps`` gradient-descent steps.

    Fields:
        W: (h, d) weights after the last step.
        v: (h,) output weights after the last step.
        loss_history: (steps + 1,) loss before the first step and after each step.
        activation_changes: number of (neuron, sample) activity flips, summed over steps.
        v_sign_flips: number of sign changes of entries of v, summed over steps.
    """

    W: np.ndarray
    v: np.ndarray
    loss_history: np.ndarray
    activation_changes: int
    v_sign_flips: int


def network_loss(X, y, W, v, loss: str = "linear") -> float:
    """Loss of the network (relu'(0) = 0); the logistic one evaluated as logaddexp(0, -y f)."""
    margin = y * (v @ np.maximum(W @ X.T, 0.0))  # (n,) y_i f(x_i)
    if loss == "linear":
        return float(-np.sum(margin))
    return float(np.sum(np.logaddexp(0.0, -margin)))


def _validate(eta, steps, loss, normalise) -> tuple[float, int]:
    try:
        eta_f = float(eta)
    except (TypeError, ValueError):
        raise FlowInputError(f"eta must be a positive real number; got {eta!r}") from None
    if not (math.isfinite(eta_f) and eta_f > 0):
        raise FlowInputError(f"eta must be finite and > 0; got {eta!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise FlowInputError(f"steps must be an int >= 0; got {steps!r}")
    if loss not in LOSSES:
        raise FlowInputError(f"loss must be one of {LOSSES}; got {loss!r}")
    if not isinstance(normalise, (bool, np.bool_)):
        raise FlowInputError(f"normalise must be a bool; got {normalise!r}")
    return eta_f, int(steps)


def gradient_descent(X, y, W0, v0, *, eta: float, steps: int, loss: str = "linear",
                     normalise: bool = False) -> DescentResult:
    """Run ``steps`` steps of size ``eta`` from (W0 (h, d), v0 (h,)) on (X (n, d), y (n,)).

    Args:
        loss: "linear" or "logistic".
        normalise: per-neuron weight normalisation (see the module docstring).

    Raises FlowInputError for a bad argument (the message names it).
    """
    X, y, W, v, _ = validate_problem(X, y, W0, v0, 0.0)
    eta, steps = _validate(eta, steps, loss, normalise)
    w_norm0, v_abs0 = np.linalg.norm(W, axis=1), np.abs(v)  # (h,), (h,)
    history = np.empty(steps + 1)
    history[0] = network_loss(X, y, W, v, loss)
    active = (W @ X.T) > 0  # (h, n)
    changes = flips = 0
    for step in range(steps):  # noqa: B007 (index used for the history)
        pre = W @ X.T
        relu = np.where(active, pre, 0.0)
        if loss == "linear":
            r = y
        else:
            r = y * expit(-y * (v @ relu))  # (n,) stable for any margin
        dW = v[:, None] * ((active * r) @ X)  # (h, d) -dL/dW
        dv = relu @ r  # (h,) -dL/dv
        W_new, v_new = W + eta * dW, v + eta * dv
        if normalise:
            norms = np.linalg.norm(W_new, axis=1)
            ok = norms > 0
            W_new[ok] *= (w_norm0[ok] / norms[ok])[:, None]
            W_new[~ok] = W[~ok]
            sign = np.where(v_new != 0, np.sign(v_new), np.sign(v))
            v_new = sign * v_abs0
        flips += int(np.count_nonzero(np.sign(v_new) != np.sign(v)))
        W, v = W_new, v_new
        new_active = (W @ X.T) > 0
        changes += int(np.count_nonzero(new_active != active))
        active = new_active
        history[step + 1] = network_loss(X, y, W, v, loss)
    return DescentResult(W, v, history, changes, flips)
