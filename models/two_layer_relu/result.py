"""FlowResult: the outcome of a two-layer ReLU network flow, and its queries.

The network is f(x) = sum_j v_j relu(<w_j, x>) (eq. (2)). A flow's state is stored per
neuron as *segments*: between two activation changes of neuron j its active set is
fixed, and each segment holds the neuron's state at the segment's start as a unit vector
u = (w_j, v_j)/||(w_j, v_j)|| (shape (d + 1,)) and a log-norm. Carrying directions and
log-scales keeps everything finite at horizons where ||(w_j, v_j)|| overflows float64.

A segment knows how to move its state forward (``Propagator``); exact solvers propagate in
closed form, numerical ones through dense output. ``FlowResult`` answers the queries the
claims need: the state and activation pattern at any time, the events, and the time each
neuron enters its final cone (S_+, S_- or S_dead of eqs (23)-(24)).

Conventions: relu'(0) = 0, so a sample with <w_j, x_i> = 0 is inactive for neuron j.

References:
    Section 5.2, eq. (2); Appendix D.2, eqs (20)-(24).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

STATUS_OK = "ok"
STATUS_SLIDING = "sliding"
STATUS_MAX_EVENTS = "max_events"
STATUS_FAILED = "failed"


class FlowInputError(ValueError):
    """A bad argument to a flow simulator; the message names the argument and its value."""


class Propagator(Protocol):
    """Moves a segment's start state forward by ``s >= 0`` (within the segment)."""

    def __call__(self, s: float) -> tuple[np.ndarray, float]:  # (unit (d+1,), log_norm)
        ...


@dataclass(frozen=True)
class Event:
    """An activation change: at ``time`` sample ``sample`` becomes active (direction +1)
    or inactive (direction -1) for neuron ``neuron``."""

    time: float
    neuron: int
    sample: int
    direction: int


@dataclass
class Segment:
    """Neuron state from ``start`` until the next event of that neuron (or the end)."""

    start: float
    unit: np.ndarray  # (d + 1,) (w, v) / ||(w, v)|| at ``start``
    log_norm: float  # log ||(w, v)|| at ``start``
    active: np.ndarray  # (n,) bool, fixed within the segment
    propagate: Propagator | None = None  # None: the neuron is frozen in this segment


class LazySegments(Sequence):
    """Per-neuron segment lists built on first access by ``build()``.

    A solver that records its segments as arrays (one record per round, many neurons at
    once) hands this to FlowResult instead of building one Segment object per neuron and
    round up front; queries that never look at segments never pay for them.
    """

    def __init__(self, build: Callable[[], list[list[Segment]]]) -> None:
        self._build: Callable[[], list[list[Segment]]] | None = build
        self._lists: list[list[Segment]] = []

    def _get(self) -> list[list[Segment]]:
        if self._build is not None:
            self._lists, self._build = self._build(), None
        return self._lists

    def __getitem__(self, j):
        return self._get()[j]

    def __len__(self) -> int:
        return len(self._get())


@dataclass
class FlowResult:
    """State of the flow at ``t_end`` plus everything needed to query it at earlier times.

    Attributes (h neurons, d inputs, n samples):
        W, v: (h, d), (h,) float64 weights at t_end (inf only where the value overflows).
        W_unit, v_unit: each neuron's (w_j, v_j) divided by ||(w_j, v_j)||; always finite.
        log_norm: (h,) log ||(w_j, v_j)|| at t_end.
        events: activation changes in time order.
        status: "ok", "sliding", "max_events" or "failed"; ``message`` says more.
        t_end: the horizon reached (equal to the requested one when status is "ok").
    """

    W_unit: np.ndarray
    v_unit: np.ndarray
    log_norm: np.ndarray
    events: list[Event]
    status: str
    message: str
    t_end: float
    X: np.ndarray
    y: np.ndarray
    segments: Sequence[list[Segment]] = field(repr=False)  # per neuron, in time order

    @property
    def W(self) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self.W_unit * np.exp(self.log_norm)[:, None]

    @property
    def v(self) -> np.ndarray:
        with np.errstate(over="ignore"):
            return self.v_unit * np.exp(self.log_norm)

    @property
    def success(self) -> bool:
        return self.status == STATUS_OK

    # -- queries -------------------------------------------------------------------
    def _segment(self, j: int, t: float) -> Segment:
        if not 0 <= t <= self.t_end:
            raise FlowInputError(f"t must lie in [0, t_end = {self.t_end}]; got {t!r}")
        chosen = self.segments[j][0]
        for seg in self.segments[j]:
            if seg.start <= t:
                chosen = seg
            else:
                break
        return chosen

    def unit_state_at(self, t) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W_unit (h, d), v_unit (h,), log_norm (h,)) at time t in [0, t_end]; for an array of
        times (k,), the same with a leading axis: (k, h, d), (k, h), (k, h)."""
        if np.ndim(t) > 0:
            states = [self.unit_state_at(float(s)) for s in np.ravel(t)]
            return tuple(np.stack([state[i] for state in states]) for i in range(3))
        h, d = len(self.segments), self.X.shape[1]
        units, logs = np.empty((h, d + 1)), np.empty(h)
        for j in range(h):
            seg = self._segment(j, t)
            if seg.propagate is None:
                units[j], logs[j] = seg.unit, seg.log_norm
            else:
                units[j], logs[j] = seg.propagate(t - seg.start)
        return units[:, :d], units[:, d], logs

    def state_at(self, t) -> tuple[np.ndarray, np.ndarray]:
        """(W (h, d), v (h,)) at time t (inf where the value overflows); for an array of times
        (k,): (k, h, d), (k, h)."""
        W_unit, v_unit, logs = self.unit_state_at(t)
        with np.errstate(over="ignore"):
            scale = np.exp(logs)
        return W_unit * scale[..., None], v_unit * scale

    def activation_pattern(self, t) -> np.ndarray:
        """(h, n) bool: which samples each neuron's segment at time t treats as active; (k, h, n)
        for an array of times (k,).

        At an event time the pattern *after* the event is returned.
        """
        if np.ndim(t) > 0:
            return np.stack([self.activation_pattern(float(s)) for s in np.ravel(t)])
        return np.stack([self._segment(j, t).active for j in range(len(self.segments))])

    def final_cones(self) -> np.ndarray:
        """(h,) labels of each neuron's final active set: "S+", "S-", "dead" (no sample active,
        every pre-activation < 0: the open cone S_dead), "boundary" (no sample active but some
        pre-activation = 0: frozen on the boundary of S_dead, outside the open cone; same
        tolerance as models.alignment_bounds.cone_of_state), "origin" or "other"."""
        from models.alignment_bounds import cone_of_state  # that module imports this package

        positive, negative = self.y > 0, self.y < 0
        W_end = None
        labels = []
        for j, segs in enumerate(self.segments):
            active = segs[-1].active
            if np.array_equal(active, positive):
                labels.append("S+")
            elif np.array_equal(active, negative):
                labels.append("S-")
            elif not active.any():
                if W_end is None:
                    W_end = self.unit_state_at(self.t_end)[0]
                labels.append(cone_of_state(W_end[j], self.X, self.y))  # "dead", "boundary" or "origin"
            else:
                labels.append("other")
        return np.array(labels)

    def cone_entry_times(self) -> np.ndarray:
        """(h,) time each neuron enters its final cone for good (start of its last segment);
        nan for a neuron whose final active set is neither S_+, S_- nor empty (dead, boundary)."""
        times = np.array([segs[-1].start for segs in self.segments], dtype=np.float64)
        times[self.final_cones() == "other"] = np.nan
        return times
