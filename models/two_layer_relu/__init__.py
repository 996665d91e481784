"""Two-layer ReLU network f(x) = sum_j v_j relu(<w_j, x>) trained by gradient flow.

``gradient_flow(X, y, W0, v0, t_end, *, loss="linear")`` is the entry point; it returns a
:class:`FlowResult`. Under the linear loss the flow is solved exactly, event by event
(:mod:`.exact`); under the logistic loss it is integrated with scipy (:mod:`.logistic`).

Shapes: X (n, d), y (n,) in {-1, +1}, W0 (h, d), v0 (h,).

References:
    Section 5.2, eq. (2); Appendix D.
"""

from __future__ import annotations

import numpy as np

from models.two_layer_relu.exact import linear_loss_flow
from models.two_layer_relu.result import (
    STATUS_FAILED,
    STATUS_MAX_EVENTS,
    STATUS_OK,
    STATUS_SLIDING,
    Event,
    FlowInputError,
    FlowResult,
    Segment,
)

LOSSES = ("linear", "logistic")
# The options each solver takes (the linear-loss flow is exact: no tolerances).
OPTIONS = {"linear": ("max_events",), "logistic": ("rtol", "atol", "max_events")}


def gradient_flow(X, y, W0, v0, t_end: float, *, loss: str = "linear", **options) -> FlowResult:
    """Gradient flow of the network on (X, y) from (W0, v0) up to time t_end.

    Args:
        X: (n, d) samples; y: (n,) labels in {-1, +1}; W0: (h, d); v0: (h,).
        t_end: horizon, >= 0.
        loss: "linear" (l(u) = -u, exact event-driven solution, eqs (18)-(19)) or
            "logistic" (l(u) = log(1 + e^{-u}), scipy DOP853 with event location).
        options: passed to the solver: ``OPTIONS[loss]`` (max_events; rtol, atol
            for "logistic"); any other raises FlowInputError naming it.
    """
    if loss not in LOSSES:
        raise FlowInputError(f"loss must be one of {LOSSES}; got {loss!r}")
    unknown = sorted(set(options) - set(OPTIONS[loss]))
    if unknown:
        hint = " (the linear-loss flow is exact: it takes no tolerances)" if loss == "linear" else ""
        raise FlowInputError(f"option(s) {', '.join(unknown)} do not apply to loss={loss!r}{hint}; "
                             f"it takes {', '.join(OPTIONS[loss])}")
    if "max_events" in options:
        count = options["max_events"]
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise FlowInputError(f"max_events must be an integer >= 1; got {count!r}")
    if loss == "linear":
        return linear_loss_flow(X, y, W0, v0, t_end, **options)
    if loss == "logistic":
        from models.two_layer_relu.logistic import logistic_flow

        return logistic_flow(X, y, W0, v0, t_end, **options)
    raise FlowInputError(f"loss must be one of {LOSSES}; got {loss!r}")


__all__ = [
    "gradient_flow", "linear_loss_flow", "FlowResult", "Event", "Segment", "FlowInputError",
    "STATUS_OK", "STATUS_SLIDING", "STATUS_MAX_EVENTS", "STATUS_FAILED", "LOSSES", "OPTIONS",
]
