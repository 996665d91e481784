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
    LazySegments,
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
        grow_log = np.log(np.abs(alpha)) + ks
        decay_log = np.log(np.abs(beta)) - ks
        perp_log = 0.5 * np.log(np.einsum("ij,ij->i", w_perp, w_perp))
    top = np.maximum(np.maximum(grow_log, decay_log), perp_log)  # (m,)
    grow, decay = alpha * np.exp(ks - top), beta * np.exp(-ks - top)
    vec = np.empty((a_hat.shape[0], a_hat.shape[1] + 1))
    vec[:, :-1] = (grow + decay)[:, None] * a_hat + w_perp * np.exp(-top)[:, None]
    vec[:, -1] = grow - decay
    m = np.sqrt(np.einsum("ij,ij->i", vec, vec))
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


def _crossing_times(Xt, floor, active, a_hat, w_perp, alpha, beta, k) -> np.ndarray:
    """(m, n) time s >= 0 of each sample's next activation change for each neuron (inf if none).

    Xt: (d, n) the data transposed; floor: (n,) PARKED_RTOL ||x_i||.
    """
    m = a_hat.shape[0]
    bc = np.concatenate([a_hat, w_perp]) @ Xt  # (2m, n): one product for both
    b, c = bc[:m], bc[m:]  # <a_hat, x_i>, <w_perp, x_i>
    # Inner products below 1e-12 ||x_i|| (w is a unit vector here) are rounding noise of
    # exact zeros: a sample orthogonal to a (b = 0) cannot cross, and one parked on its
    # boundary must not get roots from noise.
    b[np.abs(b) <= floor] = 0.0
    c[np.abs(c) <= floor] = 0.0
    qa, qb, qc = alpha[:, None] * b, c, beta[:, None] * b  # qa z^2 + qb z + qc = 0, z = e^{ks}
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        disc = qb * qb - 4 * qa * qc
        q = -0.5 * (qb + np.copysign(np.sqrt(disc), qb))  # nan where disc < 0 (no real root)
        # Both roots, stacked (2, m, n): q/qa and qc/q (stable forms); -qc/qb when the
        # quadratic is linear. Non-finite roots (0/0, x/0) are no roots.
        z = np.stack([np.where(qa != 0, q / qa, -qc / qb), qc / q])
        ok = (z >= 1 - ROOT_SLACK) & (z < np.inf)
        z = np.where(ok, np.maximum(z, 1.0), 1.0)
        slope = qa * z - qc / z  # sign of d/dz of b alpha z + c + b beta / z
        # active leaves (slope < 0), inactive enters (slope > 0): slope * leaving < 0 with
        # leaving = +1 for active pairs, -1 for inactive ones
        leaving = np.where(active, 1.0, -1.0)
        right_way = slope * leaving < 0
        flat = slope == 0
        if flat.any():  # a zero rate with positive curvature (qa z + qc / z, the second
            # derivative's sign: v = 0 at a boundary sample) still enters
            right_way |= flat & ~active & (qa * z + qc / z > 0)
        times = np.where(ok & right_way, np.log(z), np.inf).min(axis=0) / k[:, None]
    return times


def can_slide(gram: np.ndarray, y: np.ndarray) -> bool:
    """Whether sliding is possible: False when <y_i x_i, y_l x_l> > 0 for all i, l.

    Then a neuron's field at the boundary of sample i is d/dt <w_j, x_i> = v_j <a_j, x_i>
    with <a_j, y_i x_i> > 0 whenever a_j != 0 (a_j is a signed sum of the y_l x_l over the
    active set), so the rate's sign sgn(v_j) y_i does not depend on the active set: a sample
    that has just crossed keeps moving the same way (the argument of Claim 1, eq. (28)).
    gram: (n, n) X X^T; y: (n,) labels.
    """
    return not bool(np.all(gram * np.outer(y, y) > 0))


class _Rounds:
    """Segments recorded as arrays, one record per round and group of neurons.

    A record is (idx (m,), start times (m,), units (m, d+1), log-norms (m,), active (m, n),
    mode parameters or None for frozen neurons). ``segments`` builds the per-neuron Segment
    lists only when a query needs them (FlowResult gets a LazySegments).
    """

    def __init__(self, h: int) -> None:
        self.h = h
        self.records: list[tuple] = []

    def add(self, idx, starts, units, logs, active, modes=None) -> None:
        self.records.append((idx, starts, units, logs, active, modes))

    def segments(self, stop_time: float) -> list[list[Segment]]:
        lists: list[list[Segment]] = [[] for _ in range(self.h)]
        for idx, starts, units, logs, active, modes in self.records:
            for r, j in enumerate(idx.tolist()):
                start = float(starts[r])
                if start > stop_time:
                    continue
                mode = None
                if modes is not None:
                    k, a_hat, w_perp, alpha, beta = modes
                    mode = _Mode(k[r], a_hat[r], w_perp[r], alpha[r], beta[r], logs[r])
                lists[j].append(Segment(start, units[r], float(logs[r]), active[r], mode))
        return lists


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
    rounds = _Rounds(h)
    event_parts: list[tuple[np.ndarray, ...]] = []  # (times, neurons, samples, directions) per round
    running = norms > 0  # the origin is a fixed point
    if not running.all():
        still = np.flatnonzero(~running)
        rounds.add(still, tau[still], units[still], np.full(still.size, -np.inf), active[still].copy())
    status, message, stop_time = STATUS_OK, "reached t_end", t_end
    final_units, final_logs = units.copy(), logs.copy()  # frozen neurons keep their state
    Xt = X.T.copy()  # (d, n)
    XXt = X @ Xt  # (n, n) Gram matrix, for the boundary velocities after events
    floor = PARKED_RTOL * np.linalg.norm(X, axis=1)  # (n,)
    separable = not can_slide(XXt, y)
    count = 0
    while running.any():
        if count > max_events:
            status, message = STATUS_MAX_EVENTS, f"more than max_events = {max_events} events for one neuron"
            stop_time = float(tau[running].min())
            break
        count += 1
        idx = np.flatnonzero(running)
        act = active[idx]  # (m, n)
        a = (act * y) @ X  # (m, d)
        k = np.sqrt(np.einsum("ij,ij->i", a, a))
        dead = k == 0
        if dead.any():  # no active sample, or they cancel: the neuron freezes
            still = idx[dead]
            rounds.add(still, tau[still], units[still], logs[still], act[dead])
            final_units[still], final_logs[still] = units[still], logs[still]
            running[still] = False
            keep = ~dead
            idx, a, k, act = idx[keep], a[keep], k[keep], act[keep]
            if idx.size == 0:
                break
        a_hat = a / k[:, None]
        w, v = units[idx, :d], units[idx, d]
        p = np.einsum("ij,ij->i", w, a_hat)
        w_perp = w - p[:, None] * a_hat
        alpha, beta = (p + v) / 2, (p - v) / 2
        lg = logs[idx]
        rounds.add(idx, tau[idx], units[idx], lg, act, (k, a_hat, w_perp, alpha, beta))
        times = _crossing_times(Xt, floor, act, a_hat, w_perp, alpha, beta, k)
        s = times.min(axis=1)
        ends = ~np.isfinite(s) | (tau[idx] + s > t_end)
        if ends.any():  # final states of neurons whose last segment reaches t_end
            last = idx[ends]
            running[last] = False
            final_units[last], final_logs[last] = _advance(
                k[ends], a_hat[ends], w_perp[ends], alpha[ends], beta[ends], lg[ends], t_end - tau[last])
            go = ~ends
            if not go.any():
                break
            idx, s, times, act = idx[go], s[go], times[go], act[go]
            k, a_hat, w_perp, alpha, beta, lg = k[go], a_hat[go], w_perp[go], alpha[go], beta[go], lg[go]
        new_units, new_logs = _advance(k, a_hat, w_perp, alpha, beta, lg, s)
        units[idx], logs[idx], tau[idx] = new_units, new_logs, tau[idx] + s
        flipped = times <= (s * (1 + SIMULTANEOUS_RTOL) + SIMULTANEOUS_ATOL / k)[:, None]  # (m, n)
        act = act ^ flipped
        active[idx] = act
        rows, cols = np.nonzero(flipped)
        event_parts.append((tau[idx[rows]], idx[rows], cols, np.where(act[rows, cols], 1, -1)))
        if separable:  # no sliding: see can_slide
            continue
        # Sliding: a changed sample whose pre-activation the new field pushes straight back.
        velocity = new_units[:, d][:, None] * ((act * y) @ XXt)  # (m, n) d/dt <w, x_i>, up to a positive factor
        back = flipped & np.where(act, velocity < 0, velocity > 0)
        if back.any():
            for r in np.flatnonzero(back.any(axis=1)):
                j, i = int(idx[r]), int(np.argmax(back[r]))
                if status != STATUS_SLIDING or tau[j] < stop_time:
                    status, stop_time = STATUS_SLIDING, float(tau[j])
                    message = (f"neuron {j} slides along the boundary <w, x_{i}> = 0 at t = {tau[j]:.17g}: the "
                               "field points into it from both sides (data not orthogonally separable); the "
                               "flow is not continued past this time")
                rounds.add(np.array([j]), tau[[j]], units[[j]], logs[[j]], active[[j]].copy())
                running[j] = False
    events = _events(event_parts, stop_time)
    segments = LazySegments(lambda: rounds.segments(stop_time))
    result = FlowResult(final_units[:, :d], final_units[:, d], final_logs, events, status, message,
                        stop_time, X, y, segments)
    if stop_time < t_end:  # sliding or too many events: everything is cut at the same time
        result.W_unit, result.v_unit, result.log_norm = result.unit_state_at(stop_time)
    return result


def _events(parts, stop_time: float) -> list[Event]:
    """Events from per-round arrays, in (time, neuron, sample) order, up to stop_time."""
    if not parts:
        return []
    times, neurons, samples, directions = (np.concatenate(col) for col in zip(*parts))
    order = np.lexsort((samples, neurons, times))
    keep = order[times[order] <= stop_time]
    return [Event(t, j, i, e) for t, j, i, e in zip(times[keep].tolist(), neurons[keep].tolist(),
                                                    samples[keep].tolist(), directions[keep].tolist())]
