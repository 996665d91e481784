"""Assumptions as objects: each one tests an instance, and generates instances that satisfy
it or that violate it (each assumption is an object the probes can swap for its violator).

An *instance* is a plain dict of float64 arrays: ``X`` (n, d) data, ``y`` (n,) labels in
{-1.0, +1.0}, ``W0`` (h, d) first-layer initialisation (rows w_j(0)) and ``v0`` (h,)
second-layer initialisation. A claim lists the assumption ids it rests on; its property
test draws from ``satisfying()`` and its negative control from ``violating()`` of one
of them. Registered assumptions (``ASSUMPTIONS``, in this order):

- ``orthogonal-separability`` (Assumption 1): cos(y_i x_i, y_j x_j) >= mu > 0 for all i, j.
- ``equal-class-sizes`` (not stated by the paper): n_+ == n_-.
- ``balanced-init`` (Assumption 2): ||w_j(0)|| == |v_j(0)| for every neuron j.
- ``non-extreme-init`` (Assumption 3): v_j(0) > 0 => cos(w_j(0), x_-) < 1 and
  v_j(0) < 0 => cos(w_j(0), x_+) < 1, with x_+, x_- the class sums of eq (22).
- ``small-init`` (not stated by the paper; the regime of Min et al. [8], on which
  Appendix D.2 builds): max_j max(||w_j(0)||, |v_j(0)|) <= 1e-2 / max_i ||x_i||.
- ``gradient-flow`` (Section 5.2): the network is trained by gradient flow; violated by an
  instance carrying a step size ``eta`` (discrete gradient descent, see
  :mod:`claims.dynamics`).
- ``linear-loss`` (Section 5.2, eq. (2)): the loss is l(u) = -u; violated by an instance
  carrying ``logistic`` = 1.0.

The first five are properties of the data and the initialisation; the last two are
properties of the *dynamics* (``DYNAMICS_IDS``): they are never left free. An instance
satisfies them unless they are violated on purpose, so a claim that names only some data
assumptions in ``satisfy=`` still gets the paper's flow and loss.

All generators are *constructive*: every drawn instance satisfies (or violates) what it
must by construction, never by rejection, so no example is filtered away. The one
generator, :func:`instances`, draws in stages (sizes, data, initialisation) and each
stage is independent of the choices made for the other assumptions, which is why every
violation is compatible with every other assumption holding (the only size constraint:
unequal class sizes need n >= 3).

References:
    "Linear Loss Classification: Efficient Training Through Neural Collapse",
    Section 5.2 (Assumptions 1-3), Appendix D.1-D.2 (eqs (19)-(22)), Appendix C.1.
    Min, Mallada & Vidal (2024), "Early neuron alignment in two-layer ReLU networks
    with small initialization" (reference [8] of the paper).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from claims.framework.assumption import Assumption, AssumptionArgumentError, UnknownAssumptionError
from models.data_geometry import (
    DataGeometryError,
    check_data_matrix,
    check_labels,
    class_sums,
    margin_mu,
)

Instance = dict  # {"X": (n, d), "y": (n,), "W0": (h, d), "v0": (h,)}, all float64

# ---------------------------------------------------------------------------------------
# Numerical rules and tolerances
# ---------------------------------------------------------------------------------------

# small-init: an initialisation is small when every ||w_j(0)|| and |v_j(0)| is at most
# SMALL_INIT_FACTOR / max_i ||x_i||. Dividing by the data scale makes the rule invariant
# under rescaling X (the flow's rates scale with ||x_i||); 1e-2 puts the neurons two
# orders of magnitude below the scale at which the output is comparable to the data.
SMALL_INIT_FACTOR = 1e-2

# balanced-init: ||w_j|| and |v_j| agree to this relative tolerance. Exact equality is
# what the generators produce (v_j is set to +-np.linalg.norm(w_j)), but an instance saved
# and reloaded, or built as v = norm(u) * s, w = s * u, differs by a few ulps (~1e-16);
# 1e-12 absorbs that while any deliberate imbalance (factor >= 1.5 here) is far outside.
BALANCE_RTOL = 1e-12

# Arrays a user stored in lower precision (float32: unit roundoff 2^-24 ~ 6e-8) round w_j and
# v_j = ||w_j|| separately, so ||w_j|| and |v_j| then differ by about sqrt(d) roundoffs; the
# balance and parallel tolerances widen to PRECISION_FACTOR roundoffs (6e-6 for float32), which
# covers d up to 10^4 and stays five orders of magnitude below a deliberate imbalance.
PRECISION_FACTOR = 100.0
FLOAT64_ROUNDOFF = 2.0 ** -53

# non-extreme-init: a cosine >= 1 - PARALLEL_TOL counts as "== 1". The cosine of two
# parallel float64 vectors is computed as 1 up to a few ulps (~1e-16), possibly just
# below 1; a strict "< 1" would call such a neuron non-extreme by rounding luck.
PARALLEL_TOL = 1e-12

# non-extreme-init generators keep cos(w_j, relevant class sum) <= 1 - NON_EXTREME_GAP,
# a gap six orders of magnitude wider than PARALLEL_TOL, so the satisfying instances are
# not borderline.
NON_EXTREME_GAP = 1e-6

# Data norms ||x_i|| lie in this range: a sane scale, bounded away from zero.
NORM_RANGE = (0.1, 10.0)

# Default range for Assumption 1's mu when the caller gives none.
MU_DRAWN_RANGE = (0.05, 1.0)

# Smallest mu accepted: below it the guaranteed margin is comparable to the rounding of
# the cosines (~1e-16 each), and "margin > 0" would no longer be guaranteed by construction.
MU_FLOOR = 1e-6

# Initialisation magnitudes as fractions of the small-init bound.
SMALL_FRACTION_RANGE = (0.01, 0.5)  # satisfying: at most half the bound (rounding headroom)
LARGE_FRACTION_RANGE = (100.0, 1000.0)  # violating: at least 100 times the bound

# Imbalance factors |v_j| / ||w_j|| for the balanced-init violator: bounded away from 1.
IMBALANCE_UP = (1.5, 4.0)
IMBALANCE_DOWN = (0.25, 0.67)

# Violator of Assumption 1 with part of a class flipped: the u-projection of that class's
# sum must stay at least this large, else the whole class is flipped (see _data).
CLASS_SUM_GUARD = 0.05

# Raw direction draws shorter than this are replaced by a fixed direction (see _unit).
_DEGENERATE = 1e-3

# gradient-flow violator: eta = c / sum_i ||x_i|| with c drawn in this range. Under the
# linear loss a neuron's (w_j, v_j) moves by the linear system with matrix
# [[0, x_a], [x_a^T, 0]], whose rate ||x_a(w_j)|| <= sum_i ||x_i|| scales like ||x||, not
# ||x||^2 (a smoothness constant of a bounded loss); so eta ||x_a|| <= c: a step of 1% to 20%
# of the fastest neuron's e-folding time. Smaller is indistinguishable from the flow at our
# sizes; larger no longer stands for a flow at all. Under Assumption 1 the rate is at least
# sqrt(mu) sum_i ||x_i||, so the step is never negligible either.
ETA_FRACTION_RANGE = (0.01, 0.2)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# Tests: does an instance satisfy an assumption?
# ---------------------------------------------------------------------------------------


def _arrays(instance: Mapping[str, np.ndarray], *names: str) -> list[np.ndarray]:
    """Validated float64 arrays of the instance; raises naming the missing/bad array."""
    missing = [name for name in names if name not in instance]
    if missing:
        raise AssumptionArgumentError(
            f"instance is missing array(s) {', '.join(missing)}; it has "
            f"{', '.join(sorted(instance)) or 'none'}"
        )
    X = check_data_matrix(instance["X"], name="instance['X']")
    out = {"X": X}
    if "y" in names:
        out["y"] = check_labels(instance["y"], X.shape[0], name="instance['y']")
    if "W0" in names:
        W0 = check_data_matrix(instance["W0"], name="instance['W0']")
        if W0.shape[1] != X.shape[1]:
            raise DataGeometryError(
                f"instance['W0'] must have shape (h, {X.shape[1]}); got shape {W0.shape}"
            )
        out["W0"] = W0
    if "v0" in names:
        v0 = np.asarray(instance["v0"], dtype=np.float64)
        h = out["W0"].shape[0]
        if v0.shape != (h,) or not np.all(np.isfinite(v0)):
            raise DataGeometryError(
                f"instance['v0'] must be finite with shape ({h},); got {v0!r}"
            )
        out["v0"] = v0
    return [out[name] for name in names]


def small_init_bound(X) -> float:
    """The small-init bound SMALL_INIT_FACTOR / max_i ||x_i|| for data X (n, d)."""
    X = check_data_matrix(X)
    largest = float(np.linalg.norm(X, axis=1).max())
    if largest == 0.0:
        raise DataGeometryError("X is all zeros; the small-init bound 1e-2 / max||x_i|| is undefined")
    return SMALL_INIT_FACTOR / largest


def _test_orthogonal_separability(instance: Mapping[str, np.ndarray]) -> bool:
    X, y = _arrays(instance, "X", "y")
    return margin_mu(X, y) > 0.0


def _test_equal_class_sizes(instance: Mapping[str, np.ndarray]) -> bool:
    X, y = _arrays(instance, "X", "y")
    return int(np.count_nonzero(y == 1.0)) == int(np.count_nonzero(y == -1.0))


def _widened(tolerance: float, precision: float) -> float:
    """A float64 tolerance, widened for arrays stored at unit roundoff ``precision``."""
    return max(tolerance, PRECISION_FACTOR * precision)


def _test_balanced_init(instance: Mapping[str, np.ndarray], precision: float = FLOAT64_ROUNDOFF) -> bool:
    X, W0, v0 = _arrays(instance, "X", "W0", "v0")
    w_norms = np.linalg.norm(W0, axis=1)  # (h,)
    v_abs = np.abs(v0)  # (h,)
    rtol = _widened(BALANCE_RTOL, precision)
    return bool(np.all(np.abs(w_norms - v_abs) <= rtol * np.maximum(w_norms, v_abs)))


def _nearly_parallel(w: np.ndarray, c: np.ndarray, tol: float = PARALLEL_TOL) -> bool:
    """cos(w, c) >= 1 - tol; False when either vector is zero (no direction)."""
    norm_w, norm_c = np.linalg.norm(w), np.linalg.norm(c)
    if norm_w == 0.0 or norm_c == 0.0:
        return False
    return float(np.dot(w / norm_w, c / norm_c)) >= 1.0 - tol


def _test_non_extreme_init(instance: Mapping[str, np.ndarray], precision: float = FLOAT64_ROUNDOFF) -> bool:
    # A neuron with v_j(0) == 0 is under no condition; a zero w_j(0) or a zero class sum
    # has no direction, so it cannot be parallel (generators never produce either).
    X, y, W0, v0 = _arrays(instance, "X", "y", "W0", "v0")
    x_plus, x_minus = class_sums(X, y)
    tol = _widened(PARALLEL_TOL, precision)
    for w, v in zip(W0, v0):
        if v > 0.0 and _nearly_parallel(w, x_minus, tol):
            return False
        if v < 0.0 and _nearly_parallel(w, x_plus, tol):
            return False
    return True


def _test_small_init(instance: Mapping[str, np.ndarray]) -> bool:
    X, W0, v0 = _arrays(instance, "X", "W0", "v0")
    largest = max(float(np.linalg.norm(W0, axis=1).max()), float(np.abs(v0).max()))
    return largest <= small_init_bound(X)


def _optional_scalar(instance: Mapping[str, np.ndarray], key: str) -> float | None:
    """The instance's scalar ``key`` (shape () or (1,)), or None when absent."""
    if key not in instance:
        return None
    value = np.asarray(instance[key])
    if value.size != 1 or value.dtype.kind not in "biuf" or not np.all(np.isfinite(value)):
        raise AssumptionArgumentError(
            f"instance[{key!r}] must be one finite number; got {value.tolist()!r}"
        )
    return float(value.reshape(()))


def _test_gradient_flow(instance: Mapping[str, np.ndarray]) -> bool:
    # Any eta at all means discrete steps; its value is validated by the dynamics.
    return _optional_scalar(instance, "eta") is None


def _test_linear_loss(instance: Mapping[str, np.ndarray]) -> bool:
    return _optional_scalar(instance, "logistic") in (None, 0.0)


# ---------------------------------------------------------------------------------------
# The assumption object and the registry
# ---------------------------------------------------------------------------------------

def _generate(**kwargs) -> SearchStrategy[Instance]:
    """Every assumption's generator: :func:`instances` (defined below)."""
    return instances(**kwargs)


def _assumption(**fields) -> Assumption:
    fields.setdefault("arrays", ("X", "y", "W0", "v0"))
    return Assumption(generate=_generate, **fields)


ORTHOGONAL_SEPARABILITY = _assumption(
    id="orthogonal-separability",
    paper_ref="Assumption 1",
    statement=(
        "There exist positive number 0 < mu <= 1 such that for any 1 <= i, j <= n, "
        "cos(y_i x_i, y_j x_j) >= mu."
    ),
    test=_test_orthogonal_separability,
    arrays=("X", "y"),
)

EQUAL_CLASS_SIZES = _assumption(
    id="equal-class-sizes",
    paper_ref="Appendix C.1",
    statement=(
        "n_+ = n_-: both classes hold the same number of samples. Not an assumption the "
        "paper states; the UFM bias flows as db/dt = n_+ - n_- (Appendix C.1), so "
        "statements about a stationary bias or symmetric features need it."
    ),
    test=_test_equal_class_sizes,
    arrays=("X", "y"),
)

BALANCED_INIT = _assumption(
    id="balanced-init",
    paper_ref="Assumption 2",
    statement="||w_j(0)|| = |v_j(0)|, for all 1 <= j <= h.",
    test=_test_balanced_init,
    arrays=("X", "W0", "v0"),
    precision_aware=True,
)

NON_EXTREME_INIT = _assumption(
    id="non-extreme-init",
    paper_ref="Assumption 3",
    statement=(
        "If v_j(0) is positive, cos(w_j(0), x_-) < 1 where x_- = sum_{y_i=-1} x_i. "
        "Conversely, if v_j(0) is negative, cos(w_j(0), x_+) < 1 where "
        "x_+ = sum_{y_i=+1} x_i."
    ),
    test=_test_non_extreme_init,
    precision_aware=True,
)

SMALL_INIT = _assumption(
    id="small-init",
    paper_ref="Appendix D.2",
    statement=(
        "max_j max(||w_j(0)||, |v_j(0)|) <= 1e-2 / max_i ||x_i||. Not stated by the paper; "
        "the early-alignment argument of Appendix D.2 follows Min et al. [8], whose "
        "results assume a small initialisation. The 1e-2 / max_i ||x_i|| rule is ours."
    ),
    test=_test_small_init,
    arrays=("X", "W0", "v0"),
)

GRADIENT_FLOW = _assumption(
    id="gradient-flow",
    paper_ref="Section 5.2",
    statement=(
        "The weights follow the gradient flow d theta / dt = -grad L(theta) (\"the trajectory "
        "of weights under gradient flow\", Section 5.2). Violated by an instance with a step "
        "size eta: discrete gradient descent, ceil(t / eta) steps standing for time t."
    ),
    test=_test_gradient_flow,
    arrays=(),
)

LINEAR_LOSS = _assumption(
    id="linear-loss",
    paper_ref="Eq. (2)",
    statement=(
        "L(theta) = sum_i -y_i f(x_i; theta), the linear loss l(u) = -u (eq. (2)). Violated by "
        "an instance with logistic = 1.0: the logistic loss l(u) = log(1 + e^{-u})."
    ),
    test=_test_linear_loss,
    arrays=(),
)

ASSUMPTIONS: dict[str, Assumption] = {
    a.id: a
    for a in (ORTHOGONAL_SEPARABILITY, EQUAL_CLASS_SIZES, BALANCED_INIT, NON_EXTREME_INIT, SMALL_INIT,
              GRADIENT_FLOW, LINEAR_LOSS)
}

# Properties of the training dynamics rather than of the data: never left free (see above).
DYNAMICS_IDS = (GRADIENT_FLOW.id, LINEAR_LOSS.id)


def get_assumption(assumption_id: str) -> Assumption:
    """The registered assumption with this id; UnknownAssumptionError otherwise."""
    try:
        return ASSUMPTIONS[assumption_id]
    except (KeyError, TypeError):
        raise UnknownAssumptionError(
            f"unknown assumption id {assumption_id!r}; valid ids are {', '.join(ASSUMPTIONS)}"
        ) from None


# ---------------------------------------------------------------------------------------
# Generator
# ---------------------------------------------------------------------------------------

_SATISFY, _VIOLATE, _FREE = "satisfy", "violate", "free"


def _ids(value, name: str) -> tuple[str, ...]:
    """A str or an iterable of str, validated against the registry."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise AssumptionArgumentError(f"{name} must hold assumption ids; got {item!r}")
        get_assumption(item)
    return items


def _check_size(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise AssumptionArgumentError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def _check_range(low, high, low_name: str, high_name: str, minimum: int) -> tuple[int, int]:
    low = _check_size(low, low_name, minimum)
    high = _check_size(high, high_name, minimum)
    if high < low:
        raise AssumptionArgumentError(
            f"{high_name} must be >= {low_name}={low}; got {high_name}={high}"
        )
    return low, high


def instances(
    *,
    satisfy: Iterable[str] | None = None,
    violate: str | Iterable[str] | None = None,
    min_n: int = 2,
    max_n: int = 8,
    min_d: int = 1,
    max_d: int = 4,
    min_h: int = 1,
    max_h: int = 4,
    mu: float | None = None,
) -> SearchStrategy[Instance]:
    """Instances {"X", "y", "W0", "v0"} (float64) that satisfy and violate chosen assumptions.

    Generates: n samples (min_n <= n <= max_n, both classes non-empty), dimension d
    (min_d <= d <= max_d), h neurons (min_h <= h <= max_h), plus ``eta`` and/or
    ``logistic`` when gradient-flow and/or linear-loss are violated. Every id in
    ``violate`` is violated; every id in ``satisfy`` holds; every other data/init id is
    left free (a drawn coin decides) and every other dynamics id holds. With ``satisfy=None`` every id not in ``violate`` holds, so
    ``instances()`` is a fully "good" instance. Data norms ||x_i|| lie in [0.1, 10] (up to
    rounding); ``mu`` fixes Assumption 1's margin (drawn in [0.05, 1] if None) and is
    honoured as margin_mu(X, y) >= mu - rounding whenever orthogonal separability holds.

    Construction, stage by stage (each stage only reads earlier stages' results):

    1. sizes: equal classes n_+ = n_- = k, or a total n >= 3 split unequally; labels are
       then permuted.
    2. data: a unit direction u; z_i = r_i (cos(a_i) u + sin(a_i) e_i) with r_i in
       [0.1, 10], e_i a unit vector orthogonal to u and 0 <= a_i <= theta, where
       cos(2 theta) = mu. On the sphere the angle between z_i and z_j is at most
       a_i + a_j <= 2 theta <= pi/2, so cos(z_i, z_j) >= cos(2 theta) = mu: the margin
       holds by construction, not by rejection. Separable data: x_i = y_i z_i. Violator:
       a non-empty set S of points of one class is mislabelled, x_i = -y_i z_i for i in
       S, so cos(y_i x_i, y_j x_j) = -cos(z_i, z_j) <= -mu < 0 for i in S, j not in S.
       Class sums stay non-zero: their projections on u are sums of +-r_i cos(a_i) with
       r_i cos(a_i) >= 0.1 cos(pi/4); if a partial flip brings one within
       CLASS_SUM_GUARD of 0, the whole class is flipped instead (every point of the
       data then lies in the one cone, labels mixed).
    3. initialisation, per neuron j: a sign for v_j; a unit direction for w_j, moved off
       the relevant class sum (x_- if v_j > 0, x_+ if v_j < 0) when it is within
       NON_EXTREME_GAP of parallel (in d = 1: pointed opposite it), or set exactly
       parallel to it for the non-extreme violator's chosen neuron; a magnitude
       f_j * bound, bound = 1e-2 / max_i ||x_i||, with f_j in [0.01, 0.5] (over the
       imbalance factor, so |v_j| also stays <= bound / 2) or, for the small-init
       violator, f_j in [100, 1000] for every neuron; v_j = sign_j rho_j ||w_j|| with
       rho_j = 1 (balanced, exactly) or, for the balanced-init violator's chosen neuron,
       rho in [1.5, 4] or [0.25, 0.67].
    4. dynamics (only when violated; never free): ``eta`` = c / sum_i ||x_i|| with c in
       [0.01, 0.2] for the gradient-flow violator (see ETA_FRACTION_RANGE for the scale),
       ``logistic`` = 1.0 for the linear-loss violator; both as float64 arrays of shape ().

    Cost: about 3 + n (1 + 2 d) + h (2 + d) drawn values and O(n d + h d) arithmetic per
    example (a few hundred choices at the default bounds); the assumption tests cost
    O(n^2 d + h d).

    Shrinking: sizes are drawn first and shrink to their minima (n = max(min_n, 2), or 3
    for unequal classes; d = min_d; h = min_h); then every float towards a simple value
    in its range (radii to 1, angles a_i to 0 so all points lie on u, magnitudes to half
    the small-init bound), directions towards the first basis vector, signs towards
    v_j > 0, the violated neuron towards j = 0, the label permutation towards the
    identity, free assumptions towards "holds" and the step fraction c towards a simple
    value (0.125). The minimal good instance is
    X = [[1], [-1]], y = [1, -1], W0 = [[0.005]], v0 = [0.005].

    Raises AssumptionArgumentError (eagerly, at this call) for bad sizes, a mu outside
    [1e-6, 1], an id both satisfied and violated, or sizes that make a required
    combination impossible (equal classes need an even n in range; unequal classes need
    max_n >= 3); UnknownAssumptionError for an unregistered id.
    """
    violated = _ids(violate, "violate")
    satisfied = tuple(a for a in ASSUMPTIONS if a not in violated) if satisfy is None else _ids(satisfy, "satisfy")
    both = sorted(set(violated) & set(satisfied))
    if both:
        raise AssumptionArgumentError(
            f"satisfy and violate both name {', '.join(both)}; an id can be in only one"
        )
    modes = {
        a: (_VIOLATE if a in violated else _SATISFY if a in satisfied or a in DYNAMICS_IDS else _FREE)
        for a in ASSUMPTIONS
    }
    min_n, max_n = _check_range(min_n, max_n, "min_n", "max_n", 2)
    min_d, max_d = _check_range(min_d, max_d, "min_d", "max_d", 1)
    min_h, max_h = _check_range(min_h, max_h, "min_h", "max_h", 1)
    if mu is not None:
        if isinstance(mu, bool) or not isinstance(mu, Real) or not (MU_FLOOR <= mu <= 1.0):
            raise AssumptionArgumentError(f"mu must be a real number in [{MU_FLOOR}, 1]; got {mu!r}")
        mu = float(mu)
    equal_ok = 2 * max(1, math.ceil(min_n / 2)) <= max_n
    unequal_ok = max_n >= 3
    mode = modes[EQUAL_CLASS_SIZES.id]
    if mode == _SATISFY and not equal_ok:
        raise AssumptionArgumentError(
            f"equal class sizes need an even n in [min_n, max_n]; got min_n={min_n}, max_n={max_n}"
        )
    if mode == _VIOLATE and not unequal_ok:
        raise AssumptionArgumentError(
            f"unequal class sizes (both non-empty) need n >= 3; got max_n={max_n}"
        )
    return _instances(
        modes=tuple(modes.items()),
        min_n=min_n,
        max_n=max_n,
        min_d=min_d,
        max_d=max_d,
        min_h=min_h,
        max_h=max_h,
        mu=mu,
    )


def _decide(draw, mode: str, *, can_hold: bool = True, can_fail: bool = True) -> bool:
    """Whether this assumption is violated; a free one is a coin that shrinks to 'holds'."""
    if mode == _SATISFY:
        return False
    if mode == _VIOLATE:
        return True
    if can_hold and can_fail:
        return draw(st.booleans())
    return not can_hold


def _floats(low: float, high: float) -> SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _unit(raw: np.ndarray) -> np.ndarray:
    """raw / ||raw||, or the first basis vector if raw is (nearly) zero.

    The replacement keeps the draw constructive: a raw vector of small entries is a legal
    draw (and the shrink target), so it gets a fixed direction instead of a rejection.
    """
    norm = float(np.linalg.norm(raw))
    if norm < _DEGENERATE:
        unit = np.zeros(raw.shape[0])
        unit[0] = 1.0
        return unit
    return raw / norm


def _orthogonal_unit(raw: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to the unit vector u (d >= 2), from raw when possible.

    If raw is (nearly) parallel to u, the basis vector least aligned with u is used; its
    component orthogonal to u has squared norm 1 - u_k^2 >= 1 - 1/d >= 1/2.
    """
    p = raw - np.dot(raw, u) * u
    if np.linalg.norm(p) < _DEGENERATE:
        k = int(np.argmin(np.abs(u)))
        p = -u[k] * u
        p[k] += 1.0
    p = p / np.linalg.norm(p)
    p = p - np.dot(p, u) * u  # one more Gram-Schmidt pass: orthogonal to rounding
    return p / np.linalg.norm(p)


@st.composite
def _instances(draw, *, modes, min_n, max_n, min_d, max_d, min_h, max_h, mu):
    modes = dict(modes)

    # -- Stage 1: sizes and labels -------------------------------------------------------
    unequal = _decide(
        draw,
        modes[EQUAL_CLASS_SIZES.id],
        can_hold=2 * max(1, math.ceil(min_n / 2)) <= max_n,
        can_fail=max_n >= 3,
    )
    if unequal:
        n = draw(st.integers(min_value=max(3, min_n), max_value=max_n))
        n_plus = draw(st.sampled_from([p for p in range(1, n) if 2 * p != n]))
    else:
        k = draw(st.integers(min_value=max(1, math.ceil(min_n / 2)), max_value=max_n // 2))
        n, n_plus = 2 * k, k
    d = draw(st.integers(min_value=min_d, max_value=max_d))
    h = draw(st.integers(min_value=min_h, max_value=max_h))
    order = draw(st.permutations(range(n)))
    y = np.where(np.asarray(order) < n_plus, 1.0, -1.0)  # (n,), n_plus entries equal +1

    # -- Stage 2: data, orthogonally separable or not (see the docstring) ----------------
    if mu is None:
        mu = draw(_floats(*MU_DRAWN_RANGE))
    theta = 0.5 * math.acos(mu)  # cos(2 theta) = mu, 0 <= theta <= pi/4
    u = _unit(np.array(draw(st.lists(_floats(-1.0, 1.0), min_size=d, max_size=d))))  # (d,)
    radii = np.array(draw(st.lists(_floats(*NORM_RANGE), min_size=n, max_size=n)))  # (n,)
    if d >= 2:
        angles = theta * np.array(draw(st.lists(_floats(0.0, 1.0), min_size=n, max_size=n)))
        raw = np.array(draw(st.lists(_floats(-1.0, 1.0), min_size=n * d, max_size=n * d)))
        tangents = np.stack([_orthogonal_unit(r, u) for r in raw.reshape(n, d)])  # (n, d)
    else:
        # In 1-D nothing is orthogonal to u: every z_i lies on u and the margin is 1.
        angles = np.zeros(n)
        tangents = np.zeros((n, d))
    Z = radii[:, None] * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * tangents)  # (n, d)

    flips = np.ones(n)  # x_i = flips_i * y_i * z_i
    if _decide(draw, modes[ORTHOGONAL_SEPARABILITY.id]):
        label = -1.0 if draw(st.booleans()) else 1.0
        members = np.flatnonzero(y == label)
        m = draw(st.integers(min_value=1, max_value=len(members)))
        flips[members[:m]] = -1.0
        projection = float(np.sum(flips[members] * radii[members] * np.cos(angles[members])))
        if abs(projection) < CLASS_SUM_GUARD:
            flips[members] = -1.0  # whole class: its sum's u-projection is -sum r cos a
    X = (flips * y)[:, None] * Z  # (n, d)

    # -- Stage 3: initialisation ----------------------------------------------------------
    bound = small_init_bound(X)
    x_plus, x_minus = class_sums(X, y)
    large = _decide(draw, modes[SMALL_INIT.id])
    unbalanced = _decide(draw, modes[BALANCED_INIT.id])
    if unbalanced:
        j_unbalanced = draw(st.integers(min_value=0, max_value=h - 1))
        too_big = draw(st.booleans())
        rho = draw(_floats(*(IMBALANCE_UP if too_big else IMBALANCE_DOWN)))
    extreme = _decide(draw, modes[NON_EXTREME_INIT.id])
    if extreme:
        j_extreme = draw(st.integers(min_value=0, max_value=h - 1))

    W0 = np.zeros((h, d))
    v0 = np.zeros(h)
    for j in range(h):
        sign = -1.0 if draw(st.booleans()) else 1.0
        ratio = rho if unbalanced and j == j_unbalanced else 1.0
        # Relevant class sum (Assumption 3): x_- for v_j > 0, x_+ for v_j < 0; non-zero
        # by construction (stage 2).
        c = x_minus if sign > 0 else x_plus
        c_hat = c / np.linalg.norm(c)
        direction = _unit(np.array(draw(st.lists(_floats(-1.0, 1.0), min_size=d, max_size=d))))
        if extreme and j == j_extreme:
            direction = c_hat  # exactly parallel: cos = 1 up to rounding
        elif np.dot(direction, c_hat) > 1.0 - NON_EXTREME_GAP:
            # Too close to parallel: move off it (cos = 1/sqrt(2)); in 1-D flip it.
            direction = -c_hat if d == 1 else _unit(c_hat + _orthogonal_unit(direction, c_hat))
        if large:
            fraction = draw(_floats(*LARGE_FRACTION_RANGE))
        else:
            low, high = SMALL_FRACTION_RANGE
            fraction = draw(_floats(low, high / max(1.0, ratio)))
        W0[j] = (fraction * bound) * direction
        v0[j] = sign * ratio * float(np.linalg.norm(W0[j]))
    instance = {"X": X, "y": y, "W0": W0, "v0": v0}

    # -- Stage 4: dynamics (violated on purpose only) ---------------------------------------
    if modes[GRADIENT_FLOW.id] == _VIOLATE:
        c = draw(_floats(*ETA_FRACTION_RANGE))
        instance["eta"] = np.array(c / float(np.linalg.norm(X, axis=1).sum()))
    if modes[LINEAR_LOSS.id] == _VIOLATE:
        instance["logistic"] = np.array(1.0)
    return instance
