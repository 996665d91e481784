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
      pre-activation grows there, and stays inactive otherwise;
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
# A root at z slightly below 1 from rounding is a crossing at s = 0 (z = e^{ks} >= 1).
ROOT_SLACK = 1e-12


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


class _Mode:
    """Closed-form motion of one neuron while its active set is fixed (module docstring)."""

    def __init__(self, unit: np.ndarray, log_norm: float, a: np.ndarray) -> None:
        d = a.size
        self.k = float(np.linalg.norm(a))
        self.a_hat = a / self.k
        w, v = unit[:d], unit[d]
        p = float(w @ self.a_hat)
        self.w_perp = w - p * self.a_hat
        self.alpha, self.beta = (p + v) / 2, (p - v) / 2
        self.log_norm = log_norm

    def __call__(self, s: float) -> tuple[np.ndarray, float]:
        ks = self.k * s
        logs = [np.log(abs(self.alpha)) + ks if self.alpha else -np.inf,
                np.log(abs(self.beta)) - ks if self.beta else -np.inf,
                np.log(np.linalg.norm(self.w_perp)) if np.any(self.w_perp) else -np.inf]
        top = max(logs)  # factor out the dominant mode, so every exponent below is <= 0
        grow, decay = self.alpha * np.exp(ks - top), self.beta * np.exp(-ks - top)
        vec = np.append((grow + decay) * self.a_hat + self.w_perp * np.exp(-top), grow - decay)
        m = np.linalg.norm(vec)
        return vec / m, self.log_norm + top + float(np.log(m))

    def crossing_times(self, X: np.ndarray, active: np.ndarray) -> np.ndarray:
        """(n,) time s >= 0 of each sample's next activation change (inf if none)."""
        b = X @ self.a_hat  # (n,)
        c = X @ self.w_perp  # (n,)
        qa, qb, qc = self.alpha * b, c, self.beta * b  # qa z^2 + qb z + qc = 0
        with np.errstate(divide="ignore", invalid="ignore"):
            disc = qb**2 - 4 * qa * qc
            root = np.sqrt(np.where(disc >= 0, disc, np.nan))
            q = -(qb + np.where(qb >= 0, 1.0, -1.0) * root) / 2
            z1 = np.where(qa != 0, q / qa, np.where(qb != 0, -qc / qb, np.nan))
            z2 = np.where(q != 0, qc / q, np.nan)
            times = np.full(b.shape, np.inf)
            for z in (z1, z2):
                ok = np.isfinite(z) & (z >= 1 - ROOT_SLACK)
                z = np.where(ok, np.maximum(z, 1.0), 1.0)
                slope = qa * z - qc / z  # sign of d/dz (b alpha z + c + b beta / z)
                right_way = np.where(active, slope < 0, slope > 0)
                times = np.where(ok & right_way, np.minimum(times, np.log(z) / self.k), times)
        return times


def _sliding(mode_unit: np.ndarray, X: np.ndarray, y: np.ndarray, active: np.ndarray, flipped: np.ndarray) -> int | None:
    """A flipped sample whose pre-activation is pushed straight back across the boundary."""
    d = X.shape[1]
    a_new = (active * y) @ X
    velocity = mode_unit[d] * (X[flipped] @ a_new)  # d/dt <w, x_i> = v <a, x_i>
    back = np.where(active[flipped], velocity < 0, velocity > 0)
    return int(np.flatnonzero(flipped)[np.argmax(back)]) if back.any() else None


def linear_loss_flow(X, y, W0, v0, t_end: float, *, max_events: int = 100_000) -> FlowResult:
    """Exact gradient flow under the linear loss from (W0 (h, d), v0 (h,)) to t_end.

    Returns a FlowResult (see models.two_layer_relu.result) with events in time order.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    h, d = W0.shape
    start = np.hstack([W0, v0[:, None]])  # (h, d + 1)
    norms = np.linalg.norm(start, axis=1)
    events: list[Event] = []
    segments: list[list[Segment]] = []
    final_units, final_logs = np.zeros((h, d + 1)), np.full(h, -np.inf)
    status, message, stop_time = STATUS_OK, "reached t_end", t_end
    for j in range(h):
        if norms[j] == 0:  # the origin is a fixed point
            segments.append([Segment(0.0, np.zeros(d + 1), -np.inf, np.zeros(X.shape[0], bool))])
            continue
        unit, log_norm, tau = start[j] / norms[j], float(np.log(norms[j])), 0.0
        active = X @ start[j, :d] > 0  # relu'(0) = 0: boundary samples start inactive
        segs: list[Segment] = []
        for _ in range(max_events + 1):
            a = (active * y) @ X
            if not np.any(a):  # no active sample, or they cancel: the neuron freezes
                segs.append(Segment(tau, unit, log_norm, active.copy()))
                break
            mode = _Mode(unit, log_norm, a)
            segs.append(Segment(tau, unit, log_norm, active.copy(), mode))
            times = mode.crossing_times(X, active)
            s = float(times.min())
            if tau + s > t_end or not np.isfinite(s):
                break
            flipped = times <= s * (1 + SIMULTANEOUS_RTOL)
            unit, log_norm = mode(s)
            tau += s
            active = active ^ flipped
            events += [Event(tau, j, int(i), 1 if active[i] else -1) for i in np.flatnonzero(flipped)]
            slide = _sliding(unit, X, y, active, flipped)
            if slide is not None:
                status = STATUS_SLIDING
                message = (f"neuron {j} slides along the boundary <w, x_{slide}> = 0 at t = {tau:.17g}: "
                           "the field points into it from both sides (data not orthogonally separable); "
                           "the flow is not continued past this time")
                stop_time = min(stop_time, tau)
                segs.append(Segment(tau, unit, log_norm, active.copy()))
                break
        else:
            status, message = STATUS_MAX_EVENTS, f"neuron {j} exceeded max_events = {max_events}"
            stop_time = min(stop_time, tau)
        segments.append(segs)
    if stop_time < t_end:  # sliding or too many events: everything is cut at the same time
        segments = [[seg for seg in segs if seg.start <= stop_time] for segs in segments]
    events.sort(key=lambda e: (e.time, e.neuron, e.sample))
    result = FlowResult(np.zeros((h, d)), np.zeros(h), np.zeros(h), [e for e in events if e.time <= stop_time],
                        status, message, stop_time, X, y, segments)
    W_unit, v_unit, logs = result.unit_state_at(stop_time)
    result.W_unit, result.v_unit, result.log_norm = W_unit, v_unit, logs
    return result
