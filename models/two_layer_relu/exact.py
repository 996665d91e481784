"""Exact, event-driven gradient flow of a two-layer ReLU network under the linear loss.

L = -sum_i y_i sum_j v_j relu(<w_j, x_i>) (eqs (2), (18)). Neurons decouple: with A_j the
samples active for neuron j and a_j = sum_{i in A_j} y_i x_i (the paper's x_a(w_j)),

    dw_j/dt = v_j a_j,        dv_j/dt = <w_j, a_j>                         (eq. (19)).

While A_j is fixed, write k = ||a_j||, a_hat = a_j / k, p = <w_j, a_hat> and
w_perp = w_j - p a_hat. Then w_perp is constant and dp/dt = k v, dv/dt = k p, so

    p(s) = alpha e^{ks} + beta e^{-ks},   v(s) = alpha e^{ks} - beta e^{-ks},
    alpha = (p0 + v0)/2,  beta = (p0 - v0)/2.

Sample i's pre-activation is <w_j(s), x_i> = b alpha z + c + b beta / z with z = e^{ks},
b = <a_hat, x_i>, c = <w_perp, x_i>: an activation change is a root of the quadratic
b alpha z^2 + c z + b beta = 0 with z >= 1. A root counts only if the crossing goes the
right way (an active sample leaving, an inactive one entering), read off the sign of the
derivative there; this is what makes a sample that has just changed not re-trigger.

States are carried as unit vectors u = (w, v)/||(w, v)|| and log-norms, and each
segment's propagation is evaluated in log-space, so any horizon stays finite.

Conventions (each tested):
    - relu'(0) = 0: a sample with <w_j, x_i> = 0 is inactive;
    - a sample exactly on the boundary at t = 0 becomes active at once if its
      pre-activation grows there (to first order, or to second order when v = 0), and
      stays inactive otherwise;
    - a neuron whose active samples sum to 0 (or have none) freezes;
    - samples whose crossing times agree to 1e-12 relative change together (one event each);
    - sliding: if after a change the field points back into the boundary from both
      sides (possible only without orthogonal separability), the flow is not continued:
      it stops at that time with status "sliding" and a message naming neuron and sample.

References:
    Section 5.2, eq. (2); Appendix D.1, eqs (18)-(19); Appendix D.2.
"""

from __future__ import annotations

import numpy as np

from models.two_layer_relu.result import (
    STATUS_MAX_EVENTS,
    STATUS_OK,
    STATUS_SLIDING,
    Event,
    FlowInputError,
    FlowResult,
    Segment,
)

# Relative agreement of crossing times that counts as simultaneous: float64 root
# computations of distinct crossings that truly coincide agree to ~1e-15.
SIMULTANEOUS_RTOL = 1e-12
# Crossings within this many units of k s of each other at the start of a segment are
# simultaneous too (roots at s = 0 come out as 0 or ~1e-16).
SIMULTANEOUS_ATOL = 1e-14
# A root at z slightly below 1 from rounding is a crossing at s = 0 (z = e^{ks} >= 1).
ROOT_SLACK = 1e-12
# |<a_hat, x_i>|, |<w_perp, x_i>| below this times ||x_i|| (unit w) are treated as exact zeros.
PARKED_RTOL = 1e-12


def validate_problem(X, y, W0, v0, t_end) -> tuple[np.ndarray, ...]:
    """Shapes, finiteness and labels; raise FlowInputError naming the argument."""
    arrays = {}
    for name, value, ndim in (("X", X, 2), ("y", y, 1), ("W0", W0, 2), ("v0", v0, 1)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise FlowInputError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise FlowInputError(f"{name} must be {ndim}-D; got shape {arr.shape}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise FlowInputError(f"{name} contains NaN or inf")
        arrays[name] = arr
    X, y, W0, v0 = arrays["X"], arrays["y"], arrays["W0"], arrays["v0"]
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise FlowInputError(f"X must hold at least one sample of dimension >= 1; got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise FlowInputError(f"y must have shape ({X.shape[0]},) to match X; got {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise FlowInputError(f"y must hold labels -1 and +1 only; got {np.unique(y)[:4].tolist()}")
    if W0.shape[0] == 0 or W0.shape[1] != X.shape[1]:
        raise FlowInputError(f"W0 must have shape (h, {X.shape[1]}) with h >= 1; got {W0.shape}")
    if v0.shape != (W0.shape[0],):
        raise FlowInputError(f"v0 must have shape ({W0.shape[0]},) to match W0; got {v0.shape}")
    try:
        t_end = float(t_end)
    except (TypeError, ValueError):
        raise FlowInputError(f"t_end must be a real number; got {t_end!r}") from None
    if not (np.isfinite(t_end) and t_end >= 0):
        raise FlowInputError(f"t_end must be finite and >= 0; got {t_end!r}")
    return X, y, W0, v0, t_end


def _advance(k, a_hat, w_perp, alpha, beta, log_norm, s):
    """Closed-form motion by time s (arrays over m neurons): (units (m, d+1), log-norms (m,)).

    The dominant of the three terms alpha e^{ks}, beta e^{-ks}, w_perp is factored out,
    so every exponent evaluated is <= 0 and nothing overflows.
    """
    ks = k * s
    with np.errstate(divide="ignore"):
        logs = np.stack([np.log(np.abs(alpha)) + ks, np.log(np.abs(beta)) - ks,
                         np.log(np.linalg.norm(w_perp, axis=1))])
    top = logs.max(axis=0)  # (m,)
    grow, decay = alpha * np.exp(ks - top), beta * np.exp(-ks - top)
    vec = np.hstack([(grow + decay)[:, None] * a_hat + w_perp * np.exp(-top)[:, None], (grow - decay)[:, None]])
    m = np.linalg.norm(vec, axis=1)
    return vec / m[:, None], log_norm + top + np.log(m)


class _Mode:
    """One neuron's closed-form motion while its active set is fixed; ``mode(s)`` propagates."""

    __slots__ = ("k", "a_hat", "w_perp", "alpha", "beta", "log_norm")

    def __init__(self, k, a_hat, w_perp, alpha, beta, log_norm) -> None:
        self.k, self.a_hat, self.w_perp = k, a_hat, w_perp
        self.alpha, self.beta, self.log_norm = alpha, beta, log_norm

    def __call__(self, s: float) -> tuple[np.ndarray, float]:
        units, logs = _advance(np.array([self.k]), self.a_hat[None], self.w_perp[None], np.array([self.alpha]),
                               np.array([self.beta]), np.array([self.log_norm]), s)
        return units[0], float(logs[0])


def _crossing_times(X, active, a_hat, w_perp, alpha, beta, k) -> np.ndarray:
    """(m, n) time s >= 0 of each sample's next activation change for each neuron (inf if none)."""
    b = a_hat @ X.T  # (m, n)
    c = w_perp @ X.T  # (m, n)
    # Inner products below 1e-12 ||x_i|| (w is a unit vector here) are rounding noise of
    # exact zeros: a sample orthogonal to a (b = 0) cannot cross, and one parked on its
    # boundary must not get roots from noise.
    floor = PARKED_RTOL * np.linalg.norm(X, axis=1)
    b = np.where(np.abs(b) <= floor, 0.0, b)
    c = np.where(np.abs(c) <= floor, 0.0, c)
    qa, qb, qc = alpha[:, None] * b, c, beta[:, None] * b  # qa z^2 + qb z + qc = 0, z = e^{ks}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = qb**2 - 4 * qa * qc
        root = np.sqrt(np.where(disc >= 0, disc, np.nan))
        q = -(qb + np.where(qb >= 0, 1.0, -1.0) * root) / 2
        z1 = np.where(qa != 0, q / qa, np.where(qb != 0, -qc / qb, np.nan))
        z2 = np.where(q != 0, qc / q, np.nan)
        times = np.full(b.shape, np.inf)
        for z in (z1, z2):
            ok = np.isfinite(z) & (z >= 1 - ROOT_SLACK)
            z = np.where(ok, np.maximum(z, 1.0), 1.0)
            slope = qa * z - qc / z  # sign of d/dz of b alpha z + c + b beta / z
            curvature = qa * z + qc / z  # sign of the second derivative in time where the slope is 0
            # active leaves, inactive enters; a zero rate with positive curvature (v = 0 at
            # a boundary sample) still enters
            right_way = np.where(active, slope < 0, (slope > 0) | ((slope == 0) & (curvature > 0)))
            times = np.where(ok & right_way, np.minimum(times, np.log(z) / k[:, None]), times)
    return times


def linear_loss_flow(X, y, W0, v0, t_end: float, *, max_events: int = 100_000) -> FlowResult:
    """Exact gradient flow under the linear loss from (W0 (h, d), v0 (h,)) to t_end.

    All neurons advance together in rounds (vectorised), each to its own next event.
    Returns a FlowResult (see models.two_layer_relu.result) with events in time order.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    h, d = W0.shape
    start = np.hstack([W0, v0[:, None]])  # (h, d + 1)
    norms = np.linalg.norm(start, axis=1)
    units = np.divide(start, norms[:, None], out=np.zeros_like(start), where=norms[:, None] > 0)
    with np.errstate(divide="ignore"):
        logs = np.log(norms)
    tau = np.zeros(h)
    active = (W0 @ X.T) > 0  # (h, n); relu'(0) = 0: boundary samples start inactive
    segments: list[list[Segment]] = [[] for _ in range(h)]
    events: list[Event] = []
    running = norms > 0  # the origin is a fixed point
    for j in np.flatnonzero(~running):
        segments[j].append(Segment(0.0, units[j], -np.inf, active[j].copy()))
    status, message, stop_time = STATUS_OK, "reached t_end", t_end
    final_units, final_logs = units.copy(), logs.copy()  # frozen neurons keep their state
    rounds = 0
    while running.any():
        if rounds > max_events:
            status, message = STATUS_MAX_EVENTS, f"more than max_events = {max_events} events for one neuron"
            stop_time = float(tau[running].min())
            break
        rounds += 1
        idx = np.flatnonzero(running)
        a = (active[idx] * y) @ X  # (m, d)
        k = np.linalg.norm(a, axis=1)
        for j in idx[k == 0]:  # no active sample, or they cancel: the neuron freezes
            segments[j].append(Segment(float(tau[j]), units[j], float(logs[j]), active[j].copy()))
            final_units[j], final_logs[j] = units[j], logs[j]
        running[idx[k == 0]] = False
        idx, a, k = idx[k > 0], a[k > 0], k[k > 0]
        if idx.size == 0:
            break
        a_hat = a / k[:, None]
        w, v = units[idx, :d], units[idx, d]
        p = np.sum(w * a_hat, axis=1)
        w_perp = w - p[:, None] * a_hat
        alpha, beta = (p + v) / 2, (p - v) / 2
        for r, j in enumerate(idx):
            mode = _Mode(k[r], a_hat[r], w_perp[r], alpha[r], beta[r], logs[j])
            segments[j].append(Segment(float(tau[j]), units[j], float(logs[j]), active[j].copy(), mode))
        times = _crossing_times(X, active[idx], a_hat, w_perp, alpha, beta, k)
        s = times.min(axis=1)
        ends = ~np.isfinite(s) | (tau[idx] + s > t_end)
        running[idx[ends]] = False
        if ends.any():  # final states of neurons whose last segment reaches t_end
            last = idx[ends]
            final_units[last], final_logs[last] = _advance(
                k[ends], a_hat[ends], w_perp[ends], alpha[ends], beta[ends], logs[last], t_end - tau[last])
        go = ~ends
        if not go.any():
            break
        idx, s = idx[go], s[go]
        new_units, new_logs = _advance(k[go], a_hat[go], w_perp[go], alpha[go], beta[go], logs[idx], s)
        units[idx], logs[idx], tau[idx] = new_units, new_logs, tau[idx] + s
        flipped = times[go] <= (s * (1 + SIMULTANEOUS_RTOL) + SIMULTANEOUS_ATOL / k[go])[:, None]  # (m, n)
        active[idx] ^= flipped
        for r, i in zip(*np.nonzero(flipped)):
            events.append(Event(float(tau[idx[r]]), int(idx[r]), int(i), 1 if active[idx[r], i] else -1))
        # Sliding: a changed sample whose pre-activation the new field pushes straight back.
        velocity = units[idx, d][:, None] * ((active[idx] * y) @ X @ X.T)  # (m, n) d/dt <w, x_i>
        back = flipped & np.where(active[idx], velocity < 0, velocity > 0)
        for r in np.flatnonzero(back.any(axis=1)):
            j, i = int(idx[r]), int(np.argmax(back[r]))
            if status != STATUS_SLIDING or tau[j] < stop_time:
                status, stop_time = STATUS_SLIDING, float(tau[j])
                message = (f"neuron {j} slides along the boundary <w, x_{i}> = 0 at t = {tau[j]:.17g}: the "
                           "field points into it from both sides (data not orthogonally separable); the "
                           "flow is not continued past this time")
            segments[j].append(Segment(float(tau[j]), units[j], float(logs[j]), active[j].copy()))
            running[j] = False
    if stop_time < t_end:  # sliding or too many events: everything is cut at the same time
        segments = [[seg for seg in segs if seg.start <= stop_time] for segs in segments]
    events.sort(key=lambda e: (e.time, e.neuron, e.sample))
    result = FlowResult(final_units[:, :d], final_units[:, d], final_logs,
                        [e for e in events if e.time <= stop_time], status, message, stop_time, X, y, segments)
    if stop_time < t_end:
        result.W_unit, result.v_unit, result.log_norm = result.unit_state_at(stop_time)
    return result
