"""Constants and times of the early-alignment argument (Appendix D.2), and what the flow does.

Bounds of the paper, computed from an instance X (n, d), y (n,), W0 (h, d), v0 (h,):

- mu: Assumption 1's margin, the largest valid one, min_{i,k} cos(y_i x_i, y_k x_k);
- x_min = min_i ||x_i|| (eq. (22));
- zeta (Lemma 7, eq. (29)): the largest zeta with cos(w_j(0), x_-) <= sqrt(1 - zeta) for
  j in N_+ and cos(w_j(0), x_+) <= sqrt(1 - zeta) for j in N_-, i.e.
  zeta = 1 - max(0, c)^2 with c the largest of those cosines (zeta = 1 when every cosine
  is <= 0, since sqrt(1 - zeta) >= 0 must hold);
- xi (Lemma 8, eq. (30)): the largest xi with |cos(x_1, x_2)| <= sqrt(1 - xi) for every
  non-zero x_1 in the cone spanned by the y_i x_i and every non-zero x_2 outside S_+ and S_-.
  Closed form (derived in :func:`xi`): xi = mu^2;
- t_1 = 2 / (zeta sqrt(mu) x_min), t_2 = 2 / (xi sqrt(mu) x_min) (proof of Claim 2);
- T = 2 n / (sqrt(mu) x_min) / min(zeta, xi) (Theorem 9) = n max(t_1, t_2).

What the exact flow does (models.two_layer_relu.gradient_flow, linear loss): each neuron's
trajectory splits into *stretches*, maximal time intervals on which its active set (and so
x_a(w_j)) is fixed. A stretch is labelled by the cone its w_j lies in:

- "S+" / "S-": the active set is the positive / negative class (eq. (23));
- "dead": no sample active and <w_j, x_i> < 0 for every i (eq. (24), strict);
- "boundary": no sample active but w_j != 0 lies on some boundary <w_j, x_i> = 0, so it is
  in neither S_dead nor S_+ nor S_-. A neuron that deactivates its last active sample is
  there, exactly: at the event <w_j, x_i> = 0 and x_a(w_j) = 0 freezes it for good;
- "origin": w_j = 0 (with a balanced initialisation, v_j(0) = 0);
- "mixed": anything else (some sample active, not a whole class).

The x_a(w_j) of the paper changes exactly when the active set changes for data in general
position (two different active sets with the same signed sum need a linear relation
between the samples); stretches are therefore split at activation events.

References:
    Appendix D.2, eqs (20)-(34), Lemmas 6-8, Claims 1-2, Theorem 9; Min, Mallada & Vidal
    (2024), Lemma 9 (the source of Lemma 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.data_geometry import (
    DataGeometryError,
    check_data_matrix,
    check_labels,
    class_sums,
    margin_mu,
)
from models.data_geometry import x_min as data_x_min
from models.two_layer_relu.result import FlowResult

CONE_LABELS = ("S+", "S-", "dead", "boundary", "origin", "mixed")

# A normalised pre-activation <w, x_i> / (||w|| ||x_i||) within this of 0 is read as an
# exact zero when a cone is read off a float64 state (cone_of_state). The exact solver
# leaves a sample that was deactivated at a relative distance of a few ulps (~1e-16) per
# event from its boundary; a strict inequality of a generic state is far larger. 1e-9 sits
# between the two with six orders of magnitude on either side.
BOUNDARY_RTOL = 1e-9


class AlignmentInputError(ValueError):
    """A bad argument; the message names the argument and its value."""


def _instance(X, y, W0=None, v0=None):
    try:
        X = check_data_matrix(X)
        y = check_labels(y, X.shape[0])
    except DataGeometryError as error:
        raise AlignmentInputError(str(error)) from None
    if W0 is None:
        return X, y
    W0 = np.asarray(W0, dtype=np.float64)
    v0 = np.asarray(v0, dtype=np.float64)
    if W0.ndim != 2 or W0.shape[1] != X.shape[1]:
        raise AlignmentInputError(f"W0 must have shape (h, {X.shape[1]}); got {W0.shape}")
    if v0.shape != (W0.shape[0],):
        raise AlignmentInputError(f"v0 must have shape ({W0.shape[0]},); got {v0.shape}")
    if not (np.all(np.isfinite(W0)) and np.all(np.isfinite(v0))):
        raise AlignmentInputError("W0 and v0 must be finite")
    return X, y, W0, v0


# ---------------------------------------------------------------------------------------
# Constants of Lemmas 7 and 8
# ---------------------------------------------------------------------------------------


def zeta_cosines(X, y, W0, v0) -> np.ndarray:
    """(h,) cos(w_j(0), x_-) for v_j > 0, cos(w_j(0), x_+) for v_j < 0, nan otherwise.

    nan also for w_j(0) = 0 or an empty class (no direction, no condition in eq. (29)).
    """
    X, y, W0, v0 = _instance(X, y, W0, v0)
    x_plus, x_minus = class_sums(X, y)
    out = np.full(W0.shape[0], np.nan)
    for j, (w, v) in enumerate(zip(W0, v0)):
        c = x_minus if v > 0 else x_plus if v < 0 else None
        if c is None or not np.any(w) or not np.any(c):
            continue
        out[j] = float(np.clip((w / np.linalg.norm(w)) @ (c / np.linalg.norm(c)), -1.0, 1.0))
    return out


def zeta(X, y, W0, v0) -> float:
    """Lemma 7's zeta, the largest valid one: 1 - max(0, max_j cos_j)^2 (module docstring).

    0.0 exactly when some neuron of N_+ points along x_- (or of N_- along x_+): Assumption 3
    fails and no zeta > 0 exists. 1.0 when no cosine is positive (or no neuron qualifies).
    """
    cos = zeta_cosines(X, y, W0, v0)
    cos = cos[np.isfinite(cos)]
    c = max(0.0, float(cos.max())) if cos.size else 0.0
    return float(max(0.0, 1.0 - c * c))


def xi(X, y) -> float:
    """Lemma 8's xi, the largest valid one: mu^2 with mu the data's margin (0.0 if mu <= 0).

    Derivation. x_1 ranges over C = cone{y_i x_i} \\ {0} (inside Int S_+, since
    y_k <x_1, x_k> > 0), x_2 over D = (S_+ u S_-)^c \\ {0}, whose closure on the sphere is
    the sphere minus Int S_+ u Int S_- (and D = -D). A great-circle arc from x_1 to any
    x_2 in D leaves Int S_+ through some hyperplane x_k^perp, which lies in the closure of
    D; so the sup of cos(x_1, x_2) over D is max_k sqrt(1 - cos^2(x_1, x_k)). The angle
    to a fixed y_k x_k is quasi-convex on C, so its maximum over C is at a generator
    y_i x_i: sup_{x_1, x_2} |cos| = sqrt(1 - min_{i,k} cos^2(y_i x_i, y_k x_k)) =
    sqrt(1 - mu^2). Without Assumption 1 (mu <= 0) no xi > 0 exists: x_1 can then lie in D.
    """
    X, y = _instance(X, y)
    mu = margin_mu(X, y)
    return float(mu * mu) if mu > 0 else 0.0


def xi_extremal_pair(X, y) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(x_1, x_2, i, k): the pair at which Lemma 8's sup is reached (in the closure).

    x_1 = y_i x_i / ||x_i|| and x_2 = the unit projection of x_1 on x_k^perp, with (i, k)
    the pair of smallest cos(y_i x_i, y_k x_k); then cos(x_1, x_2) = sqrt(1 - xi). x_2 is
    on the boundary <x_2, x_k> = 0, in the closure of S_+^c n S_-^c; whether it lies in the
    set itself (the sup attained) depends on the signs of its other pre-activations.
    Raises AlignmentInputError when every y_i x_i is parallel (mu = 1: the projection
    vanishes and no x_2 is needed).
    """
    X, y = _instance(X, y)
    Z = (y / np.linalg.norm(X, axis=1))[:, None] * X  # (n, d) unit y_i x_i
    gram = Z @ Z.T
    i, k = np.unravel_index(int(np.argmin(gram)), gram.shape)
    x1 = Z[i]
    p = x1 - (x1 @ Z[k]) * Z[k]
    if np.linalg.norm(p) == 0.0:
        raise AlignmentInputError("every y_i x_i is parallel (mu = 1): no x_2 outside S_+ and S_-")
    return x1, p / np.linalg.norm(p), int(i), int(k)


# ---------------------------------------------------------------------------------------
# Times of Claim 2 and Theorem 9
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignmentBounds:
    """The constants and times of Claim 2 and Theorem 9 for one instance.

    Attributes: n samples; mu, x_min, zeta, xi as in the module docstring; t1, t2 the
    bounds of Claim 2 (inf when zeta or xi is 0); T Theorem 9's time (inf likewise).
    """

    n: int
    mu: float
    x_min: float
    zeta: float
    xi: float
    t1: float
    t2: float
    T: float


def alignment_bounds(X, y, W0, v0) -> AlignmentBounds:
    """Compute mu, x_min, zeta, xi, t_1, t_2 and T (module docstring) for an instance."""
    X, y, W0, v0 = _instance(X, y, W0, v0)
    mu = margin_mu(X, y)
    xm = data_x_min(X)
    z, x = zeta(X, y, W0, v0), xi(X, y)
    scale = math.sqrt(mu) * xm if mu > 0 else 0.0

    def time(c: float, factor: float) -> float:
        return factor / (c * scale) if c > 0 and scale > 0 else math.inf

    n = X.shape[0]
    return AlignmentBounds(n=n, mu=mu, x_min=xm, zeta=z, xi=x, t1=time(z, 2.0), t2=time(x, 2.0),
                           T=time(min(z, x), 2.0 * n))


# ---------------------------------------------------------------------------------------
# Cones and stretches of a flow
# ---------------------------------------------------------------------------------------


def cone_of_active(active: np.ndarray, y: np.ndarray) -> str:
    """"S+", "S-", "mixed" or "none" (no sample active) for an active set (n,) bool."""
    if not active.any():
        return "none"
    if np.array_equal(active, y > 0):
        return "S+"
    if np.array_equal(active, y < 0):
        return "S-"
    return "mixed"


def cone_of_state(w, X, y, *, rtol: float = BOUNDARY_RTOL) -> str:
    """The cone (module docstring) of a float64 state w (d,), reading a normalised
    pre-activation within ``rtol`` of 0 as an exact zero (on a boundary)."""
    X, y = _instance(X, y)
    w = np.asarray(w, dtype=np.float64)
    norm = float(np.linalg.norm(w))
    if norm == 0.0:
        return "origin"
    g = (X @ (w / norm)) / np.linalg.norm(X, axis=1)  # (n,) cos(w, x_i)
    zero = np.abs(g) <= rtol
    positive = (g > 0) & ~zero
    label = cone_of_active(positive, y)
    if label != "none":
        return label
    return "boundary" if zero.any() else "dead"


@dataclass(frozen=True)
class Stretch:
    """A maximal interval [start, end) on which neuron ``neuron`` keeps its active set.

    ``end`` is the next activation event, inf if the neuron is frozen there for good
    (x_a(w_j) = 0), or the flow's t_end if the stretch was still running when it stopped.
    ``cone`` is one of CONE_LABELS; ``active`` (n,) bool.
    """

    neuron: int
    start: float
    end: float
    active: np.ndarray
    cone: str

    @property
    def frozen(self) -> bool:
        return self.end == math.inf


def stretches(flow: FlowResult, W0) -> list[list[Stretch]]:
    """Per neuron, its stretches in time order (module docstring), from an exact flow.

    W0 (h, d) is the flow's initialisation; it decides "dead" against "boundary" for a
    neuron that starts with no active sample (strict inequalities in float64, as given).
    A later stretch with no active sample began with a deactivation, so it is "boundary".
    """
    W0 = np.asarray(W0, dtype=np.float64)
    X, y = flow.X, flow.y
    times: list[list[float]] = [[] for _ in range(W0.shape[0])]
    for event in flow.events:
        if not times[event.neuron] or times[event.neuron][-1] != event.time:
            times[event.neuron].append(event.time)
    out = []
    for j in range(W0.shape[0]):
        starts = [0.0] + times[j]
        pre = X @ W0[j]
        result = []
        for q, start in enumerate(starts):
            active = flow.activation_pattern(start)[j]
            label = cone_of_active(active, y)
            if label == "none":
                if not np.any(W0[j]):
                    label = "origin"
                elif q == 0 and np.all(pre < 0):
                    label = "dead"
                else:
                    label = "boundary"
            if q + 1 < len(starts):
                end = starts[q + 1]
            else:
                cancels = not np.any((active * y) @ X)  # x_a(w_j) = 0: the solver freezes it
                end = math.inf if label in ("dead", "boundary", "origin") or cancels else flow.t_end
            result.append(Stretch(j, float(start), float(end), active.copy(), label))
        out.append(result)
    return out


def is_final(stretch: Stretch, v0_sign: float) -> bool:
    """Whether a stretch can never end: frozen, or the neuron's own class cone
    (S_+ for v_j > 0, S_- for v_j < 0), which Claim 1 shows is never left."""
    if stretch.frozen:
        return True
    return (stretch.cone == "S+" and v0_sign > 0) or (stretch.cone == "S-" and v0_sign < 0)


def alignment_time(flow: FlowResult, W0, v0) -> float:
    """Time after which every neuron stays in its final cone: the largest start of a final
    stretch (0.0 when no neuron ever changes); inf if some neuron's last stretch by the
    flow's t_end is not final (not aligned yet)."""
    v0 = np.asarray(v0, dtype=np.float64)
    latest = 0.0
    for j, neuron in enumerate(stretches(flow, W0)):
        last = neuron[-1]
        if not is_final(last, float(np.sign(v0[j]))):
            return math.inf
        latest = max(latest, last.start)
    return latest


def measured_alignment_time(X, y, W0, v0, t_end: float, *, max_doublings: int = 8) -> float:
    """alignment_time of the exact flow run to t_end, doubling the horizon up to
    ``max_doublings`` times while some neuron is not aligned (inf if never)."""
    from models.two_layer_relu import gradient_flow

    X, y, W0, v0 = _instance(X, y, W0, v0)
    if not (t_end > 0 and math.isfinite(t_end)):
        raise AlignmentInputError(f"t_end must be finite and > 0; got {t_end!r}")
    horizon = float(t_end)
    for _ in range(max_doublings + 1):
        flow = gradient_flow(X, y, W0, v0, horizon)
        found = alignment_time(flow, W0, v0)
        if math.isfinite(found):
            return found
        horizon *= 2.0
    return math.inf
