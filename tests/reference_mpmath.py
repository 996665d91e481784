"""High-precision reference for the two-layer ReLU gradient flow under the linear loss.

The flow is eq. (19) of Appendix D.1 together with dv_j/dt = -dL/dv_j (eq. (18)):

    dw/dt = v a(A),   dv/dt = <w, a(A)>,   a(A) = sum_{i in A} y_i x_i,
    A = {i : <w, x_i> > 0}                  (relu'(0) = 0: a sample on the boundary is inactive).

Neurons are decoupled, so each is integrated on its own. Nothing here uses a closed form
of the flow: between two activation changes the active set A is fixed, the ODE is linear
and autonomous, z' = M z with z = (w, v) and M z = (v a, <w, a>), and it is integrated by
the Taylor method of adaptive order (terms are added until the next one falls below
10^-(working digits) of ||z||) on steps of length h <= STEP_KH / ||a||. Every step is
computed in mpmath at ``dps + GUARD_DIGITS`` digits and carries its Taylor polynomial as a
dense output.

Event location (what makes the flow piecewise smooth):
    - on a step, v changes sign at most once, because v'' = <w', a> = ||a||^2 v (if v had
      two zeros with v > 0 between them, v would be convex there and so <= 0). Since
      d/dt <w, x_i> = v <a, x_i>, each pre-activation g_i = <w, x_i> is monotone on the
      step once it is split at the zero of v. A sign change of g_i between the ends of a
      monotone piece is therefore exactly a crossing, and a piece with none has none;
    - an active sample leaves when g_i goes from > 0 to <= 0, an inactive one enters when
      it goes from <= 0 to > 0; values within ``band`` = 10^-(dps - 8) ||z|| ||x_i|| of 0
      count as 0, so that a sample sitting on the boundary for good (x_i orthogonal to
      a(A) and to w) does not trigger on rounding noise;
    - the crossing time is the zero of the dense-output polynomial of g_i, found by Newton
      iteration safeguarded by bisection to the working precision (~dps digits); samples
      whose crossing times agree to ``SIMULTANEOUS_DIGITS`` digits change together;
    - samples exactly on the boundary at t = 0 are inactive and become active right away
      when their pre-activation grows with the current active set A. "Grows" (or
      "shrinks") is read off the first non-zero one of g_i' = v <a(A), x_i> and
      g_i'' = <w, a(A)> <a(A), x_i> (the second matters only when v = 0);
    - after each change, every sample on the boundary (the switched ones, and any other
      with |g_i| <= band) follows the field at once: an active one that shrinks leaves,
      an inactive one that grows enters (events at the same time), repeated until none
      moves; at t = 0 the same is done for the exact zeros;
    - sliding: a sample that changed at this instant and is pushed back (one that just
      left now grows, one that just entered now shrinks) has the field pointing into its
      boundary from both sides. The flow is then stopped there with status "sliding". A
      switched sample whose pre-activation stays at 0 under the new active set (<a, x_i>
      = 0: the field is tangent to the boundary) keeps its new status: one that just
      entered stays active on the boundary, which is the Filippov solution there (the
      active-side field keeps <w, x_i> = 0);
    - ambiguities: when w lies on two or more distinct boundaries at once (a corner, of
      codimension >= 2: on two boundaries at t = 0, or w passing through 0 with d >= 2),
      the order in which those samples change is a choice the rule does not make; at a
      tangency (a crossing with d/dt <w, x_i> = 0, a double root) the sample may touch
      and go or stop on the boundary (near-tangencies, rate below TANGENCY_RTOL, are
      counted too: their times are ill-conditioned in float64). Such times are recorded
      in ``ambiguous`` and the flow after them is one reading.

Long horizons are no problem: mpmath numbers have an unbounded exponent, so ||(w, v)|| ~
e^{300 ||a||} is represented exactly as it is; ``unit`` gives directions.

References:
    Section 5.2, eq. (2); Appendix D.1, eqs (18)-(19) of "Linear Loss Classification:
    Efficient Training Through Neural Collapse". Taylor-series integration of ODEs: Hairer,
    Norsett & Wanner, Solving Ordinary Differential Equations I, Section I.8.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np

# Extra working digits above the requested ones: Taylor steps of length STEP_KH / ||a||
# lose up to ~log10(e^STEP_KH) digits to cancellation in the decaying component.
GUARD_DIGITS = 12
# ||a|| h on a full step; the series then needs ~90 terms at 52 digits and loses ~2 digits
# (e^4) to cancellation, well inside GUARD_DIGITS.
STEP_KH = 4
# Crossing times agreeing to this many digits (relative to max(1, t)) are one instant.
SIMULTANEOUS_DIGITS = 25
MAX_TERMS = 2000
MAX_EVENTS_PER_NEURON = 500

# A crossing whose rate d/dt <w, x_i> is below this, relative to ||z|| ||a|| ||x_i||, is
# a tangency (a double root): exact ones are located only to ~half the working digits, and
# near ones make a float64 event time ill-conditioned (error ~ 1e-16 / rate).
TANGENCY_RTOL = 1e-6

STATUS_OK = "ok"
STATUS_SLIDING = "sliding"


@dataclass
class NeuronFlow:
    """Reference trajectory of one neuron.

    Attributes:
        times: the requested times (mpf), increasing.
        states: per requested time, (w (list of d mpf), v mpf); None after a sliding stop.
        events: (time mpf, sample, direction) in time order; direction +1 activation.
        status: "ok" or "sliding"; t_stop: the time reached; final: (w, v) at t_stop.
        sliding_sample: the sample that slides (None when status is "ok").
        ambiguous: times at which the rule does not fix the continuation: corners, where
            w lies on two or more distinct boundaries <w, x_i> = 0 (non-parallel x_i) at
            once and the order of the changes is a choice, and tangencies, crossings at
            which d/dt <w, x_i> = 0 (a double root: "touch and go" and "stop on the
            boundary" are both solutions). The flow after the first is one reading.
            Empty for data in general position.
    """

    times: list
    states: list
    events: list
    status: str
    t_stop: mpmath.mpf
    final: tuple
    sliding_sample: int | None = None
    ambiguous: list = field(default_factory=list)


@dataclass
class ReferenceFlow:
    """Reference trajectory of all h neurons (stopped at the first sliding, as a whole).

    Attributes:
        times: requested times; W, v: per requested time an (h, d) / (h,) object array of
        mpf (None after a sliding stop); events: (time, neuron, sample, direction) sorted by
        time; status, t_stop; W_final, v_final: state at t_stop; neurons: per-neuron flows.
    """

    times: list
    W: list
    v: list
    events: list
    status: str
    t_stop: mpmath.mpf
    W_final: np.ndarray
    v_final: np.ndarray
    neurons: list = field(repr=False)


class _Segment:
    """Constant active set: the linear field z' = M z and Taylor steps for it."""

    def __init__(self, ctx, X, y, active):
        self.ctx = ctx
        self.d = len(X[0])
        a = [ctx.mpf(0)] * self.d
        for i, on in enumerate(active):
            if on:
                a = [a_k + y[i] * x_k for a_k, x_k in zip(a, X[i])]
        self.a = a  # (d,)
        self.k = ctx.sqrt(ctx.fsum(c * c for c in a))  # ||a|| = ||M||_2
        self.eps = ctx.mpf(10) ** (-ctx.dps)
        self._steps = {}  # step length -> P(h)
        self.full_steps = 0  # full-length steps taken so far in this segment

    def field(self, z):
        w, v = z[:-1], z[-1]
        return [v * a_k for a_k in self.a] + [self.ctx.fdot(w, self.a)]

    def step(self, z, h):
        """z(h) from z(0) = z: the order-N Taylor step, applied as the matrix P(h) = sum_m
        (h M)^m / m! (the ODE is linear and autonomous, so every step of length h is the
        same linear map; P is built column by column from the series and cached)."""
        P = self._steps.get(h)
        if P is None:
            dim = self.d + 1
            cols = []
            for q in range(dim):
                e = [self.ctx.mpf(0)] * dim
                e[q] = self.ctx.mpf(1)
                cols.append(_eval(self.taylor(e, h), h))
            P = [[cols[q][r] for q in range(dim)] for r in range(dim)]  # P[r][q]
            self._steps[h] = P
        return [self.ctx.fdot(row, z) for row in P]

    def taylor(self, z, h):
        """Coefficients c_m (each (d+1,)) with z(s) = sum_m c_m s^m on [0, h]."""
        ctx = self.ctx
        coeffs = [list(z)]
        scale = max((abs(c) for c in z), default=ctx.mpf(0))
        if scale == 0 or self.k == 0:
            return coeffs
        kh = self.k * h
        term = scale
        m = 0
        while m < MAX_TERMS:
            nxt = [c / (m + 1) for c in self.field(coeffs[-1])]
            coeffs.append(nxt)
            m += 1
            term = max(abs(c) for c in nxt) * h**m
            # the tail is <= 2 term once m + 1 > 2 k h (ratio of consecutive bounds < 1/2)
            if m + 1 > 2 * kh and term <= self.eps * scale:
                return coeffs
        raise RuntimeError("Taylor series did not converge")  # pragma: no cover


def _parallel(p, q) -> bool:
    """Whether two non-zero vectors are parallel (same boundary hyperplane), exactly."""
    return all(p[r] * q[c] == p[c] * q[r] for r in range(len(p)) for c in range(r + 1, len(p)))


def _horner(coeffs, s):
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * s + c
    return acc


def _eval(coeffs, s):
    dim = len(coeffs[0])
    return [_horner([c[q] for c in coeffs], s) for q in range(dim)]


def _newton_root(ctx, poly, dpoly, lo, hi, f_lo, t_scale):
    """Zero of poly on [lo, hi] where poly changes sign (f_lo = poly(lo)); safeguarded Newton."""
    if f_lo == 0:
        return lo
    tol = ctx.mpf(10) ** (-(ctx.dps - 4)) * t_scale
    sign_lo = f_lo > 0
    s = (lo + hi) / 2
    for _ in range(400):
        f = _horner(poly, s)
        if f == 0:
            return s
        if (f > 0) == sign_lo:
            lo = s
        else:
            hi = s
        df = _horner(dpoly, s)
        nxt = s - f / df if df != 0 else (lo + hi) / 2
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2
        if abs(nxt - s) <= tol or hi - lo <= tol:
            return nxt
        s = nxt
    return s  # pragma: no cover


def _derivative(poly):
    return [poly[m] * m for m in range(1, len(poly))] or [poly[0] * 0]


def _to_mp(ctx, array):
    arr = np.asarray(array, dtype=np.float64)
    if arr.ndim == 0:
        return ctx.mpf(float(arr))
    return [_to_mp(ctx, row) for row in arr]


def _neuron(ctx, X, y, w0, v0, times, dps):
    n, d = len(X), len(X[0])
    xnorm = [ctx.sqrt(ctx.fsum(c * c for c in x)) for x in X]
    z = list(w0) + [v0]
    t = ctx.mpf(0)
    times_left = list(times)
    states = []
    events = []
    ambiguous = []  # corners and tangencies (see NeuronFlow.ambiguous)
    band_factor = ctx.mpf(10) ** (-(dps - 8))
    simultaneous = ctx.mpf(10) ** (-SIMULTANEOUS_DIGITS)

    def g_of(zz, i):
        return ctx.fdot(zz[:-1], X[i])

    def tendency(seg, zz, i):
        """Sign (+1, -1, 0) of g_i - g_i(now) just after now under seg's active set: the
        sign of the first of g_i' = v <a, x_i>, g_i'' = <w, a> <a, x_i> that is not zero
        (within rounding). Both vanish only if <a, x_i> = 0 or z is a fixed point, and
        then g_i stays constant."""
        ax = ctx.fdot(seg.a, X[i])
        tol = band_factor * max(abs(c) for c in zz) * seg.k * xnorm[i]
        for rate in (zz[-1] * ax, ctx.fdot(zz[:-1], seg.a) * ax):
            if abs(rate) > tol:
                return 1 if rate > 0 else -1
        return 0

    def _first_order_zero(seg, zz, i):
        """Whether d/dt <w, x_i> = v <a, x_i> is 0 or nearly so under seg: relative to
        ||z|| ||a|| ||x_i|| below TANGENCY_RTOL."""
        tol = TANGENCY_RTOL * max(abs(c) for c in zz) * seg.k * xnorm[i]
        return abs(zz[-1] * ctx.fdot(seg.a, X[i])) <= tol

    def settle(on_boundary, crossers=()):
        """Let the samples on the boundary follow the field at this instant.

        B = ``on_boundary`` (it includes ``crossers``, the samples that have just crossed).
        Repeatedly, every sample of B that the current active set pushes to the other side
        (an inactive one that grows, an active one that shrinks) changes, all at once, each
        change an event at time t. A sample that changed at this instant (a crosser, or
        one changed here) and is pushed back has the field pointing into its boundary from
        both sides: sliding. A sample left at 0 by a tangent field keeps its status.
        Returns (segment, sliding sample or None).
        """
        nonzero = [i for i in on_boundary if xnorm[i] > 0]
        if any(not _parallel(X[i], X[k]) for i in nonzero for k in nonzero):
            ambiguous.append(t)  # a corner: on two or more distinct boundaries at once
        switched = set(crossers)
        for _ in range(2 * n + 2):
            seg = _Segment(ctx, X, y, active)
            moves = [i for i in on_boundary
                     if (tendency(seg, z, i) < 0 if active[i] else tendency(seg, z, i) > 0)]
            if not moves:
                return seg, None
            back = [i for i in moves if i in switched]
            if back:
                return seg, back[0]
            for i in moves:
                active[i] = not active[i]
                events.append((t, i, +1 if active[i] else -1))
                switched.add(i)
        raise RuntimeError("boundary samples do not settle")  # pragma: no cover

    g0 = [g_of(z, i) for i in range(n)]
    active = [g > 0 for g in g0]
    # Boundary samples at t = 0: inactive, entering at once if their pre-activation grows.
    seg, sliding = settle([i for i in range(n) if g0[i] == 0])
    if sliding is not None:
        return _finish(times, states, events, ambiguous, STATUS_SLIDING, t, z, sliding)

    t_end = times[-1]
    # seg is rebuilt at events only: it caches the step matrix P(h)
    while True:
        if len(events) > MAX_EVENTS_PER_NEURON:
            raise RuntimeError("too many events")  # pragma: no cover
        # record requested times reached
        while times_left and times_left[0] <= t:
            states.append((z[:-1], z[-1]))
            times_left.pop(0)
        if not times_left:
            return _finish(times, states, events, ambiguous, STATUS_OK, t, z, None)
        if seg.k == 0 or all(c == 0 for c in z):
            # frozen: nothing moves, nothing crosses
            while times_left:
                states.append((z[:-1], z[-1]))
                times_left.pop(0)
            return _finish(times, states, events, ambiguous, STATUS_OK, t_end, z, None)
        target = times_left[0]
        h = min(ctx.mpf(STEP_KH) / seg.k, target - t)
        last = h == target - t  # this step lands on the requested time exactly
        if not last and seg.full_steps >= 2:
            # a long run of equal steps: apply the cached step matrix
            z_end = seg.step(z, h)
            coeffs = None  # the step's Taylor polynomial, built when an event needs it
        else:
            coeffs = seg.taylor(z, h)
            z_end = _eval(coeffs, h)
        seg.full_steps += not last
        # split the step where v changes sign (at most once)
        pieces = [(ctx.mpf(0), z)]
        v_a, v_b = z[-1], z_end[-1]
        if (v_a > 0 and v_b < 0) or (v_a < 0 and v_b > 0):
            coeffs = seg.taylor(z, h)
            vpoly = [c[-1] for c in coeffs]
            s_v = _newton_root(ctx, vpoly, _derivative(vpoly), ctx.mpf(0), h, v_a, h)
            pieces.append((s_v, _eval(coeffs, s_v)))
        pieces.append((h, z_end))
        found = None
        for (lo, z_lo), (hi, z_hi) in zip(pieces[:-1], pieces[1:]):
            scale = max(abs(c) for c in z_lo + z_hi)
            crossings = []
            for i in range(n):
                g_lo, g_hi = g_of(z_lo, i), g_of(z_hi, i)
                band = band_factor * scale * xnorm[i]
                if active[i]:
                    hit = g_lo > band and g_hi <= band
                else:
                    hit = g_lo <= band and g_hi > band
                if hit:
                    if (g_lo > 0) != (g_hi > 0):
                        coeffs = coeffs or seg.taylor(z, h)
                        gpoly = [ctx.fdot(c[:-1], X[i]) for c in coeffs]
                        s_i = _newton_root(ctx, gpoly, _derivative(gpoly), lo, hi, g_lo,
                                           max(1, t + hi))
                    elif active[i]:
                        s_i = hi  # within rounding of 0 at the end: it leaves there
                    else:
                        s_i = lo  # it entered within rounding of the previous piece's end
                    crossings.append((s_i, i))
            if crossings:
                s_first = min(s for s, _ in crossings)
                tol = simultaneous * max(1, t + s_first)
                found = (s_first, sorted(i for s, i in crossings if s - s_first <= tol))
                break
        if found is None:
            t = target if last else t + h
            z = z_end
            continue
        s_first, switched = found
        z = _eval(coeffs or seg.taylor(z, h), s_first)
        t = t + s_first
        if any(_first_order_zero(seg, z, i) for i in switched):
            ambiguous.append(t)  # a tangency: the crossing is a double root
        for i in switched:
            active[i] = not active[i]
            events.append((t, i, +1 if active[i] else -1))
        scale = max(abs(c) for c in z)
        on_boundary = sorted(set(switched) | {
            i for i in range(n) if abs(g_of(z, i)) <= band_factor * scale * xnorm[i]})
        seg, sliding = settle(on_boundary, switched)
        if sliding is not None:
            # requested times before the stop were recorded already
            return _finish(times, states, events, ambiguous, STATUS_SLIDING, t, z, sliding)


def _finish(times, states, events, ambiguous, status, t, z, sliding_sample):
    states = states + [None] * (len(times) - len(states))
    return NeuronFlow(times, states, events, status, t, (z[:-1], z[-1]), sliding_sample, ambiguous)


def reference_neuron_flow(X, y, w0, v0, times, dps: int = 40) -> NeuronFlow:
    """Integrate one neuron from (w0 (d,), v0) and report its state at ``times`` (>= 0).

    Floats are converted to mpf exactly; the computation runs at dps + GUARD_DIGITS digits,
    and state and event times come out to ~dps digits. Returns a :class:`NeuronFlow`
    (mpf values, in the private mpmath context ``ctx`` stored on it as ``ctx``).
    """
    if dps < 40:
        raise ValueError(f"dps must be >= 40; got {dps}")
    ctx = mpmath.MPContext()
    ctx.dps = dps + GUARD_DIGITS
    Xm, ym = _to_mp(ctx, X), _to_mp(ctx, y)
    tm = sorted(ctx.mpf(t) if hasattr(t, "_mpf_") else ctx.mpf(float(t)) for t in times)
    if not tm or tm[0] < 0:
        raise ValueError(f"times must be non-empty and >= 0; got {times!r}")
    flow = _neuron(ctx, Xm, ym, _to_mp(ctx, w0), _to_mp(ctx, v0), tm, dps)
    flow.ctx = ctx
    return flow


def reference_flow(X, y, W0, v0, times, dps: int = 40) -> ReferenceFlow:
    """All neurons of the network; the flow stops as a whole at the first sliding time.

    X (n, d), y (n,), W0 (h, d), v0 (h,), times: iterable of requested times.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    W0, v0 = np.asarray(W0, dtype=np.float64), np.asarray(v0, dtype=np.float64)
    times = sorted(float(t) for t in times)
    h = W0.shape[0]
    flows = [reference_neuron_flow(X, y, W0[j], v0[j], times, dps) for j in range(h)]
    stops = [f.t_stop for f in flows if f.status == STATUS_SLIDING]
    status, t_stop = STATUS_OK, flows[0].t_stop if flows else mpmath.mpf(times[-1])
    if stops:
        status, t_stop = STATUS_SLIDING, min(stops)
        # run the other neurons again up to the stop (requested times after it are dropped)
        kept = [t for t in times if t <= t_stop]
        flows = [f if f.status == STATUS_SLIDING and f.t_stop == t_stop
                 else _rerun_until(X, y, W0[j], v0[j], kept, t_stop, dps)
                 for j, f in enumerate(flows)]
    events = sorted(
        ((t, j, i, s) for j, f in enumerate(flows) for (t, i, s) in f.events if t <= t_stop),
        key=lambda e: (e[0], e[1], e[2]),
    )
    W_list, v_list = [], []
    for q in range(len(times)):
        if all(q < len(f.states) and f.states[q] is not None for f in flows):
            W_list.append(np.array([list(f.states[q][0]) for f in flows], dtype=object))
            v_list.append(np.array([f.states[q][1] for f in flows], dtype=object))
        else:
            W_list.append(None)
            v_list.append(None)
    W_final = np.array([list(f.final[0]) for f in flows], dtype=object)
    v_final = np.array([f.final[1] for f in flows], dtype=object)
    return ReferenceFlow(times, W_list, v_list, events, status, t_stop, W_final, v_final, flows)


def _rerun_until(X, y, w0, v0, kept, t_stop, dps):
    """One neuron up to exactly t_stop (an mpf), with states at ``kept`` and at t_stop."""
    ctx = mpmath.MPContext()
    ctx.dps = dps + GUARD_DIGITS
    tm = [ctx.mpf(t) for t in kept] + [ctx.mpf(t_stop)]
    flow = _neuron(ctx, _to_mp(ctx, X), _to_mp(ctx, y), _to_mp(ctx, w0), _to_mp(ctx, v0),
                   sorted(tm), dps)
    flow.ctx = ctx
    if flow.status == STATUS_OK:
        # the state at t_stop is the last requested one
        flow.final = flow.states[-1]
        flow.t_stop = tm[-1]
    flow.states = flow.states[: len(kept)]
    flow.times = flow.times[: len(kept)]
    return flow


_OUT = mpmath.MPContext()
_OUT.dps = 30


def unit(w, v) -> np.ndarray:
    """(w, v) / ||(w, v)|| as float64 (d + 1,); computed in mpmath, so it never overflows."""
    vec = [_OUT.mpf(c) for c in list(w) + [v]]
    norm = _OUT.sqrt(_OUT.fsum(c * c for c in vec))
    if norm == 0:
        return np.zeros(len(vec))
    return np.array([float(c / norm) for c in vec])


def log_norm(w, v) -> float:
    """log ||(w, v)|| as a float (finite even where the norm overflows float64)."""
    vec = [_OUT.mpf(c) for c in list(w) + [v]]
    return float(_OUT.log(_OUT.sqrt(_OUT.fsum(c * c for c in vec))))


def to_float(values) -> np.ndarray:
    """An object array / list of mpf as float64 (inf where a value overflows)."""
    arr = np.asarray(values, dtype=object)
    return np.array([float(c) for c in arr.ravel()], dtype=np.float64).reshape(arr.shape)
