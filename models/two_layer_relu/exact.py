"""Exact, event-driven gradient flow of a two-layer ReLU network under the linear loss.

L = -sum_i y_i sum_j v_j relu(<w_j, x_i>) (eqs (2), (18)). Neurons decouple: with A_j the
samples active for neuron j and a_j = sum_{i in A_j} y_i x_i (the paper's x_a(w_j)),

    dw_j/dt = v_j a_j,        dv_j/dt = <w_j, a_j>                         (eq. (19)).

While A_j is fixed, write k = ||a_j||, a_hat = a_j / k, p = <w_j, a_hat> and
w_perp = w_j - p a_hat. Then w_perp is constant and dp/dt = k v, dv/dt = k p, so

    p(s) = alpha e^{ks} + beta e^{-ks},   v(s) = alpha e^{ks} - beta e^{-ks},
    alpha = (p0 + v0)/2,  beta = (p0 - v0)/2.

So w_j moves on a straight line, w_perp + p a_hat, and sample i's pre-activation
<w_j(s), x_i> = G_i + b (p(s) - p0) (b = <a_hat, x_i>, G_i its value at the segment's start)
is linear in p. While p moves one way (always, unless v changes sign on the segment), sample
i changes when p has moved by |G_i / b|, if it moves the right way (an active sample leaving,
an inactive one entering): the neuron's next event is the largest rate b / G_i (signed), one
pass over the samples, and the time follows from one quadratic in e^{ks} per neuron. On a
segment where v changes sign (alpha beta > 0, |beta| > |alpha|) p turns back once; there each
sample's crossing is a root of b alpha z^2 + c z + b beta = 0 (z = e^{ks} >= 1,
c = <w_perp, x_i>), counted only if the crossing goes the right way, read off the sign of the
derivative there. Either way a sample that has just changed does not re-trigger.

Each round advances every moving neuron to its own next event, all neurons at once
(vectorised over the neurons still moving); its cost is a few passes over an (m, n) array
plus about 130 numpy calls on (m,)-sized arrays (benchmarks/bench_two_layer_relu.py shows
which dominates where).

States are carried as unit vectors u = (w, v)/||(w, v)|| and log-norms, and each
segment's propagation factors e^{ks} out (the dominant term, in log-space, where a vector
would underflow), so any horizon stays finite.

Conventions (each tested):
    - relu'(0) = 0: a sample with <w_j, x_i> = 0 is inactive;
    - a sample exactly on the boundary at t = 0 becomes active at once if its
      pre-activation grows there (to first order, or to second order when v = 0), and
      stays inactive otherwise;
    - a neuron whose active samples sum to 0 (or have none) freezes;
    - samples whose crossing times agree to 1e-12 relative (or within 1e-14 / k of a segment's
      start) change together (one event each);
    - sliding: if after a change the field points back into the boundary from both
      sides (possible only without orthogonal separability), the flow is not continued:
      it stops at that time with status "sliding" and a message naming neuron and sample.

References:
    Section 5.2, eq. (2); Appendix D.1, eqs (18)-(19); Appendix D.2.
"""

from __future__ import annotations

import contextlib
import gc

import numpy as np

try:  # installed with scikit-learn; without it the solver runs with BLAS's own threading
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover
    ThreadpoolController = None

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

    e^{ks} is factored out (grow = alpha, decay = beta e^{-2ks}, w_perp scaled by e^{-ks}):
    every exponent evaluated is <= 0, so nothing overflows. Where that leaves a vector too
    small to normalise (alpha ~ 0 over a long time), the dominant of the three terms is
    factored out instead, in log-space (_advance_log).
    """
    ks = k * s
    scale = np.exp(-ks)
    moved = _assemble(ks, alpha, beta * (scale * scale), scale, a_hat, w_perp, log_norm)
    small = ~(moved[2] > 1e-250)  # |vec|^2 near underflow (or nan)
    if small.any():
        c = np.flatnonzero(small)
        units, logs = moved[0].copy(), moved[1].copy()
        units[c], logs[c] = _advance_log(ks[c], a_hat[c], w_perp[c], alpha[c], beta[c], log_norm[c])
        return units, logs
    return moved[0], moved[1]


def _advance_log(ks, a_hat, w_perp, alpha, beta, log_norm):
    """_advance with the dominant of alpha e^{ks}, beta e^{-ks}, w_perp factored out in log-space."""
    with np.errstate(divide="ignore"):
        grow_log = np.log(np.abs(alpha)) + ks
        decay_log = np.log(np.abs(beta)) - ks
        perp_log = 0.5 * np.log(np.einsum("ij,ij->i", w_perp, w_perp))
    top = np.maximum(np.maximum(grow_log, decay_log), perp_log)  # (m,)
    with np.errstate(over="ignore", invalid="ignore"):  # e^{ks - top} overflows only where alpha = 0
        grow = np.where(alpha != 0, alpha * np.exp(ks - top), 0.0)
        decay = np.where(beta != 0, beta * np.exp(-ks - top), 0.0)
    units, logs, _ = _assemble(top, grow, decay, np.exp(-top), a_hat, w_perp, log_norm)
    return units, logs


def _assemble(top, grow, decay, perp_scale, a_hat, w_perp, log_norm):
    """(units, log-norms, squared norms before normalising) of e^{top} (p a_hat + w_perp, v) with
    p = grow + decay, v = grow - decay (all scaled by e^{-top})."""
    vec = np.empty((a_hat.shape[0], a_hat.shape[1] + 1))
    vec[:, :-1] = (grow + decay)[:, None] * a_hat + w_perp * perp_scale[:, None]
    vec[:, -1] = grow - decay
    m2 = np.einsum("ij,ij->i", vec, vec)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.sqrt(m2)
        return vec / m[:, None], log_norm + top + np.log(m), m2


# Problems with at least this many (neuron, sample) pairs run with one BLAS thread: a round's
# products are (m, d) x (d, n) with d small, which a second thread slows down (measured on
# n = 500, h = 100: 172 ms wall, 197 ms CPU with two threads; 124 ms with one); below it the
# ~20 us of switching would show.
ONE_THREAD_PAIRS = 1000
_controller: list = []


def _one_blas_thread(pairs: int):
    """Context: BLAS limited to one thread for a problem of ``pairs`` (neuron, sample) pairs."""
    if ThreadpoolController is None or pairs < ONE_THREAD_PAIRS:
        return contextlib.nullcontext()
    if not _controller:
        _controller.append(ThreadpoolController())
    return _controller[0].limit(limits=1, user_api="blas")


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

    Two kinds of entries, in the order the solver made them: a segment record (idx (m,),
    start times (m,), units (m, d+1), log-norms (m,), mode parameters or None for frozen
    neurons) and a flip record (neurons (q,), samples (q,)) of the activation changes applied
    after the segments recorded before it. Activation sets are rebuilt from the initial one and
    the flips, so no round copies an (m, n) array. ``segments`` builds the per-neuron Segment
    lists only when a query needs them (FlowResult gets a LazySegments).
    """

    def __init__(self, active0: np.ndarray) -> None:
        self.active0 = active0  # (h, n) bool at t = 0
        self.records: list[tuple] = []

    def add(self, idx, starts, units, logs, modes=None) -> None:
        self.records.append(("segment", idx, starts, units, logs, modes))

    def flip(self, neurons, samples) -> None:
        self.records.append(("flip", neurons, samples))

    def segments(self, stop_time: float) -> list[list[Segment]]:
        active = self.active0.copy()
        lists: list[list[Segment]] = [[] for _ in range(active.shape[0])]
        for record in self.records:
            if record[0] == "flip":
                active[record[1], record[2]] ^= True
                continue
            _, idx, starts, units, logs, modes = record
            for r, j in enumerate(idx.tolist()):
                start = float(starts[r])
                if start > stop_time:
                    continue
                mode = None
                if modes is not None:
                    k, a_hat, w_perp, alpha, beta = modes
                    mode = _Mode(k[r], a_hat[r], w_perp[r], alpha[r], beta[r], logs[r])
                lists[j].append(Segment(start, units[r], float(logs[r]), active[j].copy(), mode))
        return lists


def _crossing_rates(Xt, floor, sign, w, a_hat, sigma):
    """Each neuron's crossings on a segment along which p moves monotonically, as rates.

    While the active set is fixed, w = w_perp + p a_hat moves along a straight line, so sample
    i's pre-activation g_i = G_i + b_i (p - p0) (b_i = <a_hat, x_i>, G_i = <w, x_i> at the
    segment's start) is linear in p: it crosses 0 when p has moved by G_i / b_i. With sigma
    the direction p moves in (sign(v0), or sign(p0) when v0 = 0) and S_i = +1 for an active
    sample, -1 for an inactive one, write H_i = max(S_i G_i, 0) (the distance to the boundary
    on the sample's own side; 0 for a sample on it up to rounding) and E_i = -sigma S_i b_i.
    The sample crosses the right way (an active one leaving, an inactive one entering) iff
    E_i > floor_i, after p has moved by delta_i = H_i / E_i. The next event is the largest
    rate r_i = E_i / H_i = 1 / delta_i, one argmax per neuron: two products and four
    elementwise passes over (m, n), no mask. A neuron whose largest r is not a sample with
    E_i > floor_i (a sample orthogonal to a up to rounding: |b_i| <= 1e-12 ||x_i||) or is nan
    (E_i = H_i = 0) gets the masked form instead: r_i = -inf where E_i <= floor_i.

    Xt: (d, n) the data transposed; floor: (n,) PARKED_RTOL ||x_i||; sign: (m, n) S;
    w: (m, d) the unit states' w; a_hat: (m, d); sigma: (m,). Returns (r (m, n), E (m, n),
    delta_min (m,), checked (m,) bool: rows whose r is masked, so every r_i > 0 is a crossing).
    """
    m = w.shape[0]
    both = np.concatenate([w, -sigma[:, None] * a_hat]) @ Xt  # (2m, n): G and -sigma b
    both.shape = (2, m, Xt.shape[1])
    both *= sign
    r, E = both[0], both[1]
    np.maximum(r, 0.0, out=r)  # H
    np.divide(E, r, out=r)
    rows = np.arange(m)
    win = np.argmax(r, axis=1)  # nan wins argmax
    best = r[rows, win]
    checked = (E[rows, win] <= floor[win]) & ~(best <= 0)  # best nan (0 / 0) is checked too
    if checked.any():  # the masked form, from the products again
        c = np.flatnonzero(checked)
        H = np.maximum((w[c] @ Xt) * sign[c], 0.0)
        r[c] = np.where(E[c] > floor, E[c] / H, -np.inf)
        best[c] = r[c].max(axis=1)
    dmin = np.where(best > 0, 1.0 / best, np.inf)
    return r, E, dmin, checked


def _time_to_move(delta, sigma, alpha, beta, k):
    """(m,) time s at which p(s) = p0 + sigma delta on a monotone segment (inf if never).

    With u = e^{ks} - 1: p(s) - p0 = alpha u - beta u / (1 + u), i.e.
    A u^2 + Bq u - delta = 0 with A = sigma alpha >= 0 and Bq = sigma (alpha - beta) - delta;
    its one nonnegative root in the form without cancellation, s = log1p(u) / k.
    """
    A = np.abs(alpha)  # = sigma alpha on a monotone segment (and never -0)
    Bq = sigma * (alpha - beta) - delta
    root = np.sqrt(Bq * Bq + 4 * A * delta)
    u = np.where(Bq >= 0, 2 * delta / (Bq + root), (root - Bq) / (2 * A))
    # nan: 0/0 at delta = 0 with v0 = 0 (u = 0), or delta = inf or out of reach with A = 0 (never)
    nan = np.isnan(u)
    if nan.any():
        u[nan] = np.where(delta[nan] == 0, 0.0, np.inf)
    return np.log1p(u) / k  # u < 0 (nan) only on turning segments, which the caller redoes


def _moved(ks, sigma, alpha, beta):
    """(m,) sigma (p(s) - p0): how far p has moved in its direction after k s (nan where
    ks = inf; the caller discards those)."""
    u = np.expm1(ks)
    return sigma * u * (alpha - beta / (1 + u))


def linear_loss_flow(X, y, W0, v0, t_end: float, *, max_events: int = 100_000) -> FlowResult:
    """Exact gradient flow under the linear loss from (W0 (h, d), v0 (h,)) to t_end.

    All neurons advance together in rounds (vectorised), each to its own next event; the
    arrays of a round hold only the neurons still moving. Returns a FlowResult (see
    models.two_layer_relu.result) with events in time order.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    # inf and nan are part of the arithmetic of a round (rates of samples on a boundary,
    # segments that never reach a crossing); each is dealt with where it arises
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"), _one_blas_thread(X.shape[0] * W0.shape[0]):
        return _flow(X, y, W0, v0, t_end, max_events)


def _flow(X, y, W0, v0, t_end, max_events: int) -> FlowResult:
    """linear_loss_flow's rounds on validated arrays (with floating-point warnings off)."""
    h, d = W0.shape
    start = np.hstack([W0, v0[:, None]])  # (h, d + 1)
    norms = np.linalg.norm(start, axis=1)
    units0 = np.divide(start, norms[:, None], out=np.zeros_like(start), where=norms[:, None] > 0)
    with np.errstate(divide="ignore"):
        logs0 = np.log(norms)
    active0 = (W0 @ X.T) > 0  # (h, n); relu'(0) = 0: boundary samples start inactive
    rounds = _Rounds(active0)
    event_parts: list[tuple[np.ndarray, ...]] = []  # (times, neurons, samples, directions) per round
    moving = norms > 0  # the origin is a fixed point
    if not moving.all():
        still = np.flatnonzero(~moving)
        rounds.add(still, np.zeros(still.size), units0[still], np.full(still.size, -np.inf))
    status, message, stop_time = STATUS_OK, "reached t_end", t_end
    final_units, final_logs = units0.copy(), logs0.copy()  # frozen neurons keep their state
    Xt = X.T.copy()  # (d, n)
    XXt = X @ Xt  # (n, n) Gram matrix, for the boundary velocities after events
    floor = PARKED_RTOL * np.linalg.norm(X, axis=1)  # (n,)
    separable = not can_slide(XXt, y)
    # State of the neurons still moving, compacted: global index, start time, unit state,
    # log-norm, S = +-1 (active / inactive) and y_i on active samples (0 elsewhere).
    idx = np.flatnonzero(moving)
    tau, units, logs = np.zeros(idx.size), units0[idx], logs0[idx]
    sign = np.where(active0[idx], 1.0, -1.0)  # (m, n)
    signed_y = np.where(active0[idx], y, 0.0)  # (m, n)
    count = 0
    while idx.size:
        if count > max_events:
            status, message = STATUS_MAX_EVENTS, f"more than max_events = {max_events} events for one neuron"
            stop_time = float(tau.min())
            break
        count += 1
        a = signed_y @ X  # (m, d), exact sums of the active y_i x_i as in eq. (19)
        k = np.sqrt(np.einsum("ij,ij->i", a, a))
        dead = k == 0
        if dead.any():  # no active sample, or they cancel: the neuron freezes
            rounds.add(idx[dead], tau[dead], units[dead], logs[dead])
            final_units[idx[dead]], final_logs[idx[dead]] = units[dead], logs[dead]
            keep = ~dead
            idx, tau, units, logs, sign, signed_y = idx[keep], tau[keep], units[keep], logs[keep], sign[keep], signed_y[keep]
            a, k = a[keep], k[keep]
            if idx.size == 0:
                break
        a_hat = a / k[:, None]
        w, v = units[:, :d], units[:, d]
        p = np.einsum("ij,ij->i", w, a_hat)
        w_perp = w - p[:, None] * a_hat
        alpha, beta = (p + v) / 2, (p - v) / 2
        rounds.add(idx, tau, units, logs, (k, a_hat, w_perp, alpha, beta))
        sigma = np.sign(v)  # the direction p moves in: sign(v0), or sign(p0) when v0 = 0
        if not sigma.all():
            sigma = np.where(sigma != 0, sigma, np.sign(p))  # 0 only at rest (p0 = v0 = 0)
        r, E, dmin, checked = _crossing_rates(Xt, floor, sign, w, a_hat, sigma)
        s = _time_to_move(dmin, sigma, alpha, beta, k)
        # flip every crossing within SIMULTANEOUS_RTOL (or SIMULTANEOUS_ATOL / k) of the first
        dthr = _moved(k * s * (1 + SIMULTANEOUS_RTOL) + SIMULTANEOUS_ATOL, sigma, alpha, beta)
        rthr = 1.0 / dthr  # a rate at least this is a crossing within the tolerance
        # p turns back once (v changes sign) at z* = sqrt(beta / alpha) > 1 when alpha beta > 0
        # and |beta| > |alpha|, i.e. when v (p + v) < 0: those neurons take the per-sample
        # roots of the quadratic.
        turning = alpha * v < 0
        if turning.any():
            tr = np.flatnonzero(turning)
            times = _crossing_times(Xt, floor, sign[tr] > 0, a_hat[tr], w_perp[tr], alpha[tr], beta[tr], k[tr])
            s[tr] = times.min(axis=1)
            r[tr] = np.where(times <= (s[tr] * (1 + SIMULTANEOUS_RTOL) + SIMULTANEOUS_ATOL / k[tr])[:, None],
                             np.inf, -np.inf)
            rthr[tr] = np.inf
            checked = checked | turning
        ends = ~(tau + s <= t_end)  # s = inf: no crossing ahead (nan: none found either)
        rthr[ends] = np.nan  # nothing flips for a neuron whose last segment reaches t_end
        flat = np.flatnonzero(r >= rthr[:, None])  # flipped (row, sample) pairs, row-major
        rows, cols = np.divmod(flat, r.shape[1])
        if flat.size:  # a rate r_i > 0 from E_i <= floor_i is no crossing (rows not checked)
            real = checked[rows] | (E.ravel()[flat] > floor[cols])
            if not real.all():
                flat, rows, cols = flat[real], rows[real], cols[real]
        if ends.any():  # final states of neurons whose last segment reaches t_end
            final_units[idx[ends]], final_logs[idx[ends]] = _advance(
                k[ends], a_hat[ends], w_perp[ends], alpha[ends], beta[ends], logs[ends], t_end - tau[ends])
        step = np.where(ends, 0.0, s)
        units, logs = _advance(k, a_hat, w_perp, alpha, beta, logs, step)
        tau = tau + step
        sign_flat = sign.ravel()
        sign_flat[flat] *= -1.0
        entered = sign_flat[flat] > 0
        signed_y.ravel()[flat] = np.where(entered, y[cols], 0.0)
        neurons = idx[rows]
        rounds.flip(neurons, cols)
        event_parts.append((tau[rows], neurons, cols, np.where(entered, 1, -1)))
        stopped = ends
        if not separable:  # sliding (see can_slide): a changed sample the new field pushes straight back
            velocity = units[:, d][:, None] * (signed_y @ XXt)  # (m, n) d/dt <w, x_i>, up to a positive factor
            flipped = np.zeros(sign.shape, dtype=bool)
            flipped.ravel()[flat] = True
            back = flipped & np.where(sign > 0, velocity < 0, velocity > 0)
            if back.any():
                stopped = stopped.copy()
                for row in np.flatnonzero(back.any(axis=1)):
                    j, i = int(idx[row]), int(np.argmax(back[row]))
                    if status != STATUS_SLIDING or tau[row] < stop_time:
                        status, stop_time = STATUS_SLIDING, float(tau[row])
                        message = (f"neuron {j} slides along the boundary <w, x_{i}> = 0 at t = {tau[row]:.17g}: "
                                   "the field points into it from both sides (data not orthogonally separable); "
                                   "the flow is not continued past this time")
                    rounds.add(np.array([j]), tau[[row]], units[[row]], logs[[row]])
                    stopped[row] = True
        if stopped.any():
            keep = ~stopped
            idx, tau, units, logs, sign, signed_y = idx[keep], tau[keep], units[keep], logs[keep], sign[keep], signed_y[keep]
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
    columns = times[keep].tolist(), neurons[keep].tolist(), samples[keep].tolist(), directions[keep].tolist()
    # Thousands of new objects would set off the cyclic garbage collector every 700 or so,
    # each time walking the whole heap; Events hold no cycles, so it is paused meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return list(map(Event, *columns))
    finally:
        if collecting:
            gc.enable()
