"""Gradient flow of the two-layer ReLU network under the logistic loss (scipy DOP853 + events).

f(x) = sum_j v_j relu(<w_j, x>) (eq. (2)) and L = sum_i log(1 + exp(-y_i f(x_i))). With
s_i = expit(-y_i f(x_i)) (= -l'(y_i f(x_i))) and A_j the samples active for neuron j,

    dw_j/dt = v_j sum_{i in A_j} y_i s_i x_i,      dv_j/dt = sum_{i in A_j} y_i s_i <w_j, x_i>.

Unlike the linear loss, the weights s_i couple all neurons through f, so the whole state
(W, v) is integrated at once. Between activation changes the field is smooth; each change is
located by a terminal, direction-aware event function <w_j, x_i> (an active pair watches
for a downward crossing, an inactive pair for an upward one), and the integration restarts
there with the pair's mask flipped.

The engine, :func:`event_driven_flow`, takes any field (W, v, active) -> (dW, dv) and is
shared with the weight-normalised flows (:mod:`.normalised`).

Conventions:
    - relu'(0) = 0. The masks decide activity, never the sign of a rounded inner product:
      the field uses relu(<w_j, x_i>) = <w_j, x_i> on active pairs and 0 on inactive ones.
    - A sample exactly on a boundary (<w_j, x_i> == 0) at t = 0 is inactive and becomes
      active at once (an event at t = 0) if d/dt <w_j, x_i> > 0 there; if that rate is
      exactly 0 (v_j = 0), the sign of the second derivative decides, as in the exact
      linear-loss solver.
    - At every restart, pairs whose pre-activation is already on the far side of the
      boundary (or on it) and still moving away from their mask's side changed together
      with the located event (simultaneous crossings, e.g. duplicated samples): they are
      flipped at the same time, one event each.
    - Sliding: if, after a change, the field pushes the pair straight back across the
      boundary, the flow is stopped at that time with status "sliding".
    - Pairs parked on a boundary (pre-activation and its first two time derivatives all at
      rounding level) get no event function until the next restart.

States are stored as dense-output pieces of the whole (W, v); each neuron's Segment
propagates by evaluating the piece that contains the requested time.

References:
    Section 5.2, eq. (2) (network); Appendix D.1, eq. (19) (the linear-loss field, of which
    the logistic field is the s_i-weighted version); Hairer, Norsett & Wanner, Solving ODEs I,
    Section II.10 (DOP853 and its dense output).
"""

from __future__ import annotations

import bisect
import math
from typing import Callable

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import expit

from models.two_layer_relu.exact import validate_problem
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

# A field maps (W (h, d), v (h,), active (h, n) bool) to (dW/dt (h, d), dv/dt (h,)).
Field = Callable[[np.ndarray, np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]
# A projection maps a restart state (W, v) back onto a constraint manifold (or returns it).
Projection = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]

# Rounding level, relative to ||w_j|| ||x_i|| (and to ||dw_j/dt|| ||x_i|| for rates): an
# inner product of float64 vectors computed to ~1e-16 relative is indistinguishable from 0
# below this, with a margin of three orders for the dense-output interpolation error.
PARKED_RTOL = 1e-13
# Step of the directional difference that estimates a second time derivative (only its
# sign is used, and only when the first derivative is exactly 0): small enough for the
# O(step) remainder to be negligible, large enough to stay clear of rounding.
SECOND_ORDER_STEP = 1e-6


def validate_options(rtol, atol, max_events) -> tuple[float, float, int]:
    """rtol, atol: finite and > 0; max_events: int >= 0. Raise FlowInputError naming the argument."""
    checked = []
    for name, value in (("rtol", rtol), ("atol", atol)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FlowInputError(f"{name} must be a positive real number; got {value!r}") from None
        if not (math.isfinite(number) and number > 0):
            raise FlowInputError(f"{name} must be finite and > 0; got {value!r}")
        checked.append(number)
    if isinstance(max_events, bool) or not isinstance(max_events, (int, np.integer)) or max_events < 0:
        raise FlowInputError(f"max_events must be an int >= 0; got {max_events!r}")
    return checked[0], checked[1], int(max_events)


# -- the logistic loss and its field ------------------------------------------------------
def network_output(X: np.ndarray, W: np.ndarray, v: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
    """(n,) f(x_i) = sum_j v_j relu(<w_j, x_i>); with ``active`` (h, n) the masks replace the signs."""
    pre = W @ X.T  # (h, n)
    if active is None:
        active = pre > 0  # relu'(0) = 0: a zero pre-activation contributes 0 either way
    return v @ np.where(active, pre, 0.0)


def logistic_loss(X, y, W, v) -> float:
    """sum_i log(1 + exp(-y_i f(x_i))), evaluated stably as logaddexp(0, -y_i f(x_i))."""
    return float(np.sum(np.logaddexp(0.0, -y * network_output(X, W, v))))


def logistic_field(X: np.ndarray, y: np.ndarray) -> Field:
    """The gradient field -dL/d(W, v) of the logistic loss with activity given by masks."""

    def field(W, v, active):
        relu = np.where(active, W @ X.T, 0.0)  # (h, n)
        f = v @ relu  # (n,)
        r = y * expit(-y * f)  # (n,) y_i s_i, s_i = -l'(y_i f_i) in (0, 1), no overflow
        dW = v[:, None] * ((active * r) @ X)  # (h, d)
        dv = relu @ r  # (h,)
        return dW, dv

    return field


# -- dense output of the whole state --------------------------------------------------------
class _PiecewiseDense:
    """Dense output of the state z = (W.ravel(), v) on consecutive pieces [t_k, t_{k+1}].

    Before the first piece is added (t_end = 0, or a flow stopped at t = 0) it returns the
    initial state ``z0``, the only state there is.
    """

    def __init__(self, z0: np.ndarray) -> None:
        self.z0 = np.array(z0, dtype=np.float64)
        self.starts: list[float] = []
        self.sols: list = []

    def add(self, t0: float, solution) -> None:
        self.starts.append(t0)
        self.sols.append(solution)

    def __call__(self, t: float) -> np.ndarray:
        if not self.sols:
            return self.z0
        k = max(bisect.bisect_right(self.starts, t) - 1, 0)
        return self.sols[k](t)


def _unit_and_log(w: np.ndarray, v: float) -> tuple[np.ndarray, float]:
    state = np.append(w, v)  # (d + 1,)
    norm = float(np.linalg.norm(state))
    if norm == 0.0:
        return np.zeros_like(state), -np.inf
    return state / norm, math.log(norm)


class _NeuronView:
    """Propagator of neuron j's segment starting at ``start``: reads the shared dense output."""

    __slots__ = ("dense", "j", "start", "h", "d")

    def __init__(self, dense: _PiecewiseDense, j: int, start: float, h: int, d: int) -> None:
        self.dense, self.j, self.start, self.h, self.d = dense, j, start, h, d

    def __call__(self, s: float) -> tuple[np.ndarray, float]:
        z = self.dense(self.start + s)
        j, d = self.j, self.d
        return _unit_and_log(z[j * d:(j + 1) * d], z[self.h * d + j])


# -- the event-driven engine -------------------------------------------------------------
def _pair_scales(X, W, dW) -> tuple[np.ndarray, np.ndarray]:
    """(h, n) rounding levels of <w_j, x_i> and of its rate <dw_j/dt, x_i>."""
    xn = np.linalg.norm(X, axis=1)  # (n,)
    return (PARKED_RTOL * np.outer(np.linalg.norm(W, axis=1), xn),
            PARKED_RTOL * np.outer(np.linalg.norm(dW, axis=1), xn))


def _rates(field: Field, X, W, v, active):
    """(g, rate, g_floor): (h, n) pre-activations <w_j, x_i>, their rates d/dt <w_j, x_i>
    (rounding-level values set to 0) and the rounding level of g."""
    dW, _ = field(W, v, active)
    g, rate = W @ X.T, dW @ X.T
    g_floor, rate_floor = _pair_scales(X, W, dW)
    return g, np.where(np.abs(rate) <= rate_floor, 0.0, rate), g_floor


def _second_rates(field: Field, X, W, v, active) -> tuple[np.ndarray, np.ndarray]:
    """(h, n) estimate of d^2/dt^2 <w_j, x_i> by a directional difference along the field,
    and (h, n) its resolution (SECOND_ORDER_STEP relative to ||d^2 w_j/dt^2|| ||x_i||)."""
    h, n = W.shape[0], X.shape[0]
    dW, dv = field(W, v, active)
    size = math.sqrt(float(np.sum(dW**2) + np.sum(dv**2)))
    if size == 0.0:
        return np.zeros((h, n)), np.zeros((h, n))
    scale = max(math.sqrt(float(np.sum(W**2) + np.sum(v**2))), 1.0)
    eps = SECOND_ORDER_STEP * scale / size
    dW2, _ = field(W + eps * dW, v + eps * dv, active)
    accel = (dW2 - dW) / eps  # (h, d)
    floor = SECOND_ORDER_STEP * np.outer(np.linalg.norm(accel, axis=1), np.linalg.norm(X, axis=1))
    return accel @ X.T, floor


def _settle(field, X, W, v, active, pending, t, events):
    """Flip ``pending`` pairs and every pair that changes at the same instant.

    Returns (flipped (h, n) bool, sliding pair or None). ``active`` is updated in place
    and one Event per flip is appended to ``events``.
    """
    h, n = active.shape
    flipped = np.zeros((h, n), dtype=bool)
    for _ in range(h * n + 1):
        for j, i in pending:
            active[j, i] = not active[j, i]
            flipped[j, i] = True
            events.append(Event(float(t), int(j), int(i), 1 if active[j, i] else -1))
        g, rate, g_floor = _rates(field, X, W, v, active)
        back = flipped & np.where(active, rate < 0, rate > 0)
        if back.any():
            j, i = np.argwhere(back)[0]
            return flipped, (int(j), int(i))
        # already across (or on) the boundary and still moving away from the mask's side
        cand = ~flipped & np.where(active, (g <= 0) & (rate < 0), (g >= 0) & (rate > 0))
        still = ~flipped & ~active & (np.abs(g) <= g_floor) & (rate == 0)
        if still.any():  # first-order rate 0 (v_j = 0 at a boundary sample): second order decides
            second, floor = _second_rates(field, X, W, v, active)
            cand |= still & (second > floor)
        if not cand.any():
            return flipped, None
        pending = [tuple(p) for p in np.argwhere(cand)]
    raise RuntimeError("unreachable: each round flips at least one new pair")


def _parked(field, X, W, v, active) -> np.ndarray:
    """(h, n) pairs on a boundary that do not move off it to second order: not watched."""
    g, rate, g_floor = _rates(field, X, W, v, active)
    parked = (np.abs(g) <= g_floor) & (rate == 0)
    if parked.any():
        second, floor = _second_rates(field, X, W, v, active)
        parked &= np.abs(second) <= floor
    return parked


def _make_event(j: int, i: int, d: int, x: np.ndarray, direction: float):
    lo, hi = j * d, (j + 1) * d

    def event(t, z):
        return z[lo:hi] @ x

    event.terminal = True
    event.direction = direction
    return event


def event_driven_flow(field: Field, X, y, W0, v0, t_end: float, *, rtol: float = 1e-10,
                      atol: float = 1e-12, max_events: int = 10_000,
                      project: Projection | None = None) -> FlowResult:
    """Integrate d(W, v)/dt = field(W, v, active) with DOP853, restarting at activation changes.

    Args:
        field: (W (h, d), v (h,), active (h, n)) -> (dW/dt, dv/dt), smooth for fixed masks.
        X (n, d), y (n,), W0 (h, d), v0 (h,), t_end: validated arrays and horizon.
        rtol, atol: DOP853 tolerances; max_events: stop (status "max_events") beyond this.
        project: applied to the state at each restart (e.g. back onto fixed norms), or None.

    Returns:
        FlowResult with every event, per-neuron segments reading the dense output, and the
        status "ok", "sliding", "max_events" or "failed" (solver failure; ``message`` says why).
    """
    h, d = W0.shape
    n = X.shape[0]
    W, v = W0.copy(), v0.copy()
    active = (W @ X.T) > 0  # relu'(0) = 0: boundary samples start inactive
    dense = _PiecewiseDense(np.concatenate([W0.ravel(), v0]))
    segments: list[list[Segment]] = [[] for _ in range(h)]
    events: list[Event] = []
    status, message = STATUS_OK, "reached t_end"
    t = 0.0
    flipped, sliding = _settle(field, X, W, v, active, [], t, events)
    changed = np.ones(h, dtype=bool)  # every neuron opens a segment at t = 0
    stall = 0
    while True:
        for j in np.flatnonzero(changed):
            unit, log_norm = _unit_and_log(W[j], v[j])
            moving = np.isfinite(log_norm)  # a neuron at the origin stays there
            segments[j].append(Segment(float(t), unit, log_norm, active[j].copy(),
                                       _NeuronView(dense, int(j), float(t), h, d) if moving else None))
        if sliding is not None:
            j, i = sliding
            status = STATUS_SLIDING
            message = (f"neuron {j} slides along the boundary <w, x_{i}> = 0 at t = {t:.17g}: the field "
                       "points into it from both sides; the flow is not continued past this time")
            break
        if len(events) > max_events:
            status, message = STATUS_MAX_EVENTS, f"more than max_events = {max_events} events"
            break
        if t >= t_end:
            break
        parked = _parked(field, X, W, v, active)
        watch = [(j, i) for j in range(h) for i in range(n) if not parked[j, i]]
        funcs = [_make_event(j, i, d, X[i], -1.0 if active[j, i] else 1.0) for j, i in watch]
        mask = active.copy()

        def rhs(_t, z, mask=mask):
            dW, dv = field(z[:h * d].reshape(h, d), z[h * d:], mask)
            return np.concatenate([dW.ravel(), dv])

        sol = solve_ivp(rhs, (t, t_end), np.concatenate([W.ravel(), v]), method="DOP853",
                        rtol=rtol, atol=atol, dense_output=True, events=funcs or None)
        if sol.status == -1:
            status, message = STATUS_FAILED, f"DOP853 failed at t = {t:.17g}: {sol.message}"
            break
        t_new = float(sol.t[-1])
        if t_new > t:
            dense.add(t, sol.sol)
        z = sol.y[:, -1]
        W, v = z[:h * d].reshape(h, d).copy(), z[h * d:].copy()
        if project is not None:
            W, v = project(W, v)
        if sol.status == 0:  # reached t_end
            t = t_end
            break
        stall = stall + 1 if t_new <= t else 0
        if stall > h * n + 1:
            status, message = STATUS_FAILED, f"no progress past t = {t:.17g} (event loop)"
            break
        t = t_new
        hit = [watch[k] for k, te in enumerate(sol.t_events) if len(te)]
        flipped, sliding = _settle(field, X, W, v, active, hit, t, events)
        changed = flipped.any(axis=1)
    events.sort(key=lambda e: (e.time, e.neuron, e.sample))
    units = [_unit_and_log(W[j], v[j]) for j in range(h)]
    U = np.array([u for u, _ in units]).reshape(h, d + 1)
    logs = np.array([lg for _, lg in units], dtype=np.float64)
    return FlowResult(U[:, :d], U[:, d], logs, events, status, message, float(t), X, y, segments)


def logistic_flow(X, y, W0, v0, t_end: float, *, rtol: float = 1e-10, atol: float = 1e-12,
                  max_events: int = 10_000) -> FlowResult:
    """Gradient flow of the logistic loss from (W0 (h, d), v0 (h,)) on (X (n, d), y (n,)) to t_end.

    DOP853 (``rtol``, ``atol``) with terminal event functions on <w_j, x_i>; see the module
    docstring for the conventions. ``max_events`` bounds the events of all neurons together
    (status "max_events" beyond it). One event function per (neuron, sample) pair is
    evaluated at every step, so the cost grows like h n: meant for small instances.
    Returns a FlowResult (status "ok" when t_end is reached). Raises FlowInputError for a
    bad argument.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    rtol, atol, max_events = validate_options(rtol, atol, max_events)
    return event_driven_flow(logistic_field(X, y), X, y, W0, v0, t_end, rtol=rtol, atol=atol,
                             max_events=max_events)
