"""Gradient descent against the exact gradient flow of the two-layer ReLU network (linear loss).

Under the linear loss the neurons decouple and, while neuron j's active set A_j is fixed, its
state moves linearly: with a = sum_{i in A_j} y_i x_i, k = ||a||, a_hat = a / k,
p = <w_j, a_hat> and w_perp = w_j - p a_hat (constant),

    flow:     (p, v)(t)     = alpha e^{k t}      (1, 1) + beta e^{-k t}       (1, -1),
    descent:  (p, v)(m eta) = alpha (1 + eta k)^m (1, 1) + beta (1 - eta k)^m (1, -1),

alpha = (p + v)/2, beta = (p - v)/2 at the start of the stretch: descent with step eta is the
explicit Euler method of a piecewise-linear ODE. Four consequences, each checked in tests:

1. Monotone crossings at any step (the descent form of Claim 1). <w_j, x_i> moves by
   eta v_j <a, x_i> per step, and under Assumption 1 <a, y_i x_i> > 0 for a != 0: while v_j
   keeps its sign, a neuron with v_j > 0 never deactivates a positive sample nor activates a
   negative one (symmetrically for v_j < 0). So descent differs *qualitatively* from the flow
   only through a sign change of some v_j, after which the neuron behaves as one of the other
   group (and can end in the other class's cone).
2. The rate bound. Under Assumption 1 all <y_i x_i, y_l x_l> > 0, so for every active set
   ||a|| <= ||s||, s = sum_i y_i x_i = x_+ - x_- (:func:`rate_bound`). Hence eta ||s|| < 1 makes
   1 - eta k > 0 for every neuron at every step: the decaying mode beta never changes sign and
   v_j = alpha (1 + eta k)^m - beta (1 - eta k)^m keeps its sign within a stretch whenever
   alpha and -beta have the sign of v_j (which balance gives: v^2 - p^2 = ||w_perp||^2 >= 0).
   With eta k > 1 the decaying mode alternates in sign; a neuron of N_+ pointing nearly along
   x_- (alpha ~ 0) then has v_1 = alpha (1 + eta k) - beta (1 - eta k) < 0 after one step.
3. Time error. The modes grow and decay at the per-unit-time rates log(1 + eta k)/eta and
   -log(1 - eta k)/eta instead of k: relative errors in [-eta k/2, eta k/(1 - eta k)]. An event
   at flow time t is shifted by about t eta k / 2 in time units, i.e. about k t / 2 *steps*,
   independent of eta: the alignment time does not agree to one step, only to a relative
   O(eta ||s||).
4. Balance drifts: v^2 - ||w||^2 changes by eta^2 (<w, a>^2 - v^2 k^2) per step (<= 0), the
   flow's conservation law broken at second order.

:func:`descend` runs descent in scale-free form: each neuron's (w_j, v_j) is renormalised to a
unit vector after every step and its log-norm accumulated, which changes nothing in the
trajectory of directions (the step is linear in (w_j, v_j) given the active set, and the active
set depends on the direction of w_j only) and never overflows. It records the step at which
each neuron reaches its final configuration (own cone with v_j of its own sign, or no active
sample: both permanent by 1.) and every sign change of v_j.

References:
    Section 5.2, eq. (2), Assumptions 1-3; Appendix D.1, eq. (19); Appendix D.2, Claim 1,
    Theorem 9; Appendix B.2 ("GD with stepsize 0.001"); Hairer, Norsett & Wanner, Solving ODEs I,
    Section II.3 (explicit Euler).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.alignment_bounds import BOUNDARY_RTOL
from models.two_layer_relu.exact import validate_problem
from models.two_layer_relu.result import FlowInputError

FINAL_LABELS = ("S+", "S-", "none")


class StepSizeError(ValueError):
    """A bad argument to a step-size helper; the message names the argument and its value."""


def rate_bound(X, y) -> float:
    """||s||, s = sum_i y_i x_i: under Assumption 1 an upper bound on ||x_a(w)|| for every w."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise StepSizeError(f"X must be (n, d) and y (n,); got X {X.shape}, y {y.shape}")
    return float(np.linalg.norm(y @ X))


def largest_subset_rate(X, y) -> float:
    """max over non-empty subsets S of ||sum_{i in S} y_i x_i|| by enumeration (n <= 16)."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = X.shape[0]
    if not 1 <= n <= 16:
        raise StepSizeError(f"n must be in [1, 16] for the enumeration; got n = {n}")
    Z = y[:, None] * X
    masks = ((np.arange(1, 2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)  # (2^n - 1, n)
    return float(np.max(np.linalg.norm(masks @ Z, axis=1)))


@dataclass(frozen=True)
class DescentTrace:
    """Scale-free gradient descent on the linear loss (see :func:`descend`).

    Fields (h neurons, d inputs, n samples):
        W_unit (h, d), v_unit (h,): (w_j, v_j) / ||(w_j, v_j)|| after the last step.
        log_norm (h,): log ||(w_j, v_j)|| after the last step (-inf at the origin).
        active (h, n): <w_j, x_i> > 0 after the last step.
        final_step (h,): first step after which neuron j is in its final configuration
            (0 if it starts there; -1 if not reached within the steps run).
        final_label (h,): "S+", "S-" (own-class cone, v_j of that class's sign) or "none"
            (no active sample); "" where final_step is -1.
        sign_flips (h,): number of sign changes of v_j.
        first_flip_step (h,): step of the first sign change of v_j (-1 if none).
        steps: steps run (stops early once every neuron is final, if asked).
        eta: the step size.
        max_rate (): the largest ||x_a(w_j)|| met along the run.
    """

    W_unit: np.ndarray
    v_unit: np.ndarray
    log_norm: np.ndarray
    active: np.ndarray
    final_step: np.ndarray
    final_label: np.ndarray
    sign_flips: np.ndarray
    first_flip_step: np.ndarray
    steps: int
    eta: float
    max_rate: float

    @property
    def aligned(self) -> bool:
        return bool(np.all(self.final_step >= 0))

    def alignment_time(self) -> float:
        """eta * (last final_step): the time after which every neuron is final (inf if not reached)."""
        if not self.aligned:
            return math.inf
        return self.eta * float(self.final_step.max()) if self.final_step.size else 0.0


def _check_eta_steps(eta, steps) -> tuple[float, int]:
    try:
        eta_f = float(eta)
    except (TypeError, ValueError):
        raise StepSizeError(f"eta must be a positive real number; got {eta!r}") from None
    if not (math.isfinite(eta_f) and eta_f > 0):
        raise StepSizeError(f"eta must be finite and > 0; got {eta!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise StepSizeError(f"steps must be an int >= 0; got {steps!r}")
    return eta_f, int(steps)


def _final(active: np.ndarray, v: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(h,) bool final and labels: own-class cone with the matching sign of v, or nothing active."""
    pos, neg = y > 0, y < 0
    in_plus = np.all(active == pos, axis=1) & (v > 0)
    in_minus = np.all(active == neg, axis=1) & (v < 0)
    none = ~active.any(axis=1)
    labels = np.where(in_plus, "S+", np.where(in_minus, "S-", np.where(none, "none", "")))
    return in_plus | in_minus | none, labels


def _unit_step(U: np.ndarray, a: np.ndarray, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """One descent step of unit states U = (w_j, v_j) (h, d + 1) with active sums a = x_a(w_j) (h, d):
    (the new unit states, the norm each gained; 0 for a neuron sent to the origin, left there)."""
    d = a.shape[1]
    w, v = U[:, :d], U[:, d]
    new = np.empty_like(U)
    new[:, :d] = w + eta * v[:, None] * a
    new[:, d] = v + eta * np.einsum("ij,ij->i", w, a)
    scale = np.sqrt(np.einsum("ij,ij->i", new, new))
    ok = scale > 0
    new[ok] /= scale[ok, None]
    return new, scale


def descend(X, y, W0, v0, *, eta: float, steps: int, stop_when_final: bool = True) -> DescentTrace:
    """Gradient descent with step ``eta`` on the linear loss, renormalised per neuron (module docstring).

    The step is that of :func:`models.two_layer_relu.descent.gradient_descent` (masks from the
    current weights, relu'(0) = 0); only the scale is carried separately, in log form.

    Args:
        X (n, d), y (n,) in {-1, +1}, W0 (h, d), v0 (h,); eta > 0; steps >= 0.
        stop_when_final: stop as soon as every neuron is final (the rest of the run changes
            no active set and no sign, by consequence 1 of the module docstring).

    Raises StepSizeError or FlowInputError (bad arrays) naming the argument.
    """
    X, y, W0, v0, _ = validate_problem(X, y, W0, v0, 0.0)
    eta, steps = _check_eta_steps(eta, steps)
    h, d = W0.shape
    state = np.hstack([W0, v0[:, None]])  # (h, d + 1)
    norms = np.linalg.norm(state, axis=1)
    live = norms > 0
    U = np.divide(state, norms[:, None], out=np.zeros_like(state), where=live[:, None])
    with np.errstate(divide="ignore"):
        logs = np.log(norms)
    active = (U[:, :d] @ X.T) > 0
    final, labels = _final(active, U[:, d], y)
    final |= ~live
    final_step = np.where(final, 0, -1)
    final_label = labels.astype("<U4")
    flips = np.zeros(h, dtype=np.int64)
    first_flip = np.full(h, -1)
    max_rate = 0.0
    taken = 0
    for m in range(1, steps + 1):
        if stop_when_final and final.all():
            break
        a = (active * y) @ X  # (h, d) x_a(w_j)
        max_rate = max(max_rate, float(np.max(np.linalg.norm(a, axis=1))))
        v = U[:, d]
        new, scale = _unit_step(U, a, eta)
        with np.errstate(divide="ignore"):
            logs = logs + np.log(scale)
        changed = np.sign(new[:, d]) != np.sign(v)
        flips += changed
        first_flip = np.where(changed & (first_flip < 0), m, first_flip)
        U = new
        active = (U[:, :d] @ X.T) > 0
        now_final, now_labels = _final(active, U[:, d], y)
        entering = now_final & (final_step < 0)
        final_step = np.where(entering, m, final_step)
        final_label = np.where(entering, now_labels, final_label)
        # A final neuron stays final (module docstring, 1.); a sign change would undo it.
        lost = final & ~now_final
        final_step = np.where(lost, -1, final_step)
        final_label = np.where(lost, "", final_label)
        final = now_final | ~live
        taken = m
    return DescentTrace(U[:, :d].copy(), U[:, d].copy(), logs, active, final_step, final_label, flips, first_flip,
                        taken, eta, max_rate)


def descend_states(X, y, W_unit, v_unit, *, eta: float, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The step of :func:`descend` without its bookkeeping (final cones, sign flips): ``steps`` steps from
    unit states (h, d), (h,); returns (W_unit, v_unit, log of the norm gained). Used where only the state
    at a time is asked (claims.dynamics.evolve), about five times faster per step than :func:`descend`."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d = X.shape[1]
    U = np.hstack([np.asarray(W_unit, dtype=np.float64), np.asarray(v_unit, dtype=np.float64)[:, None]])
    gained = np.zeros(U.shape[0])
    yX = y[:, None] * X  # (n, d)
    for _ in range(int(steps)):
        a = ((U[:, :d] @ X.T) > 0) @ yX  # (h, d) x_a(w_j), relu'(0) = 0
        U, scale = _unit_step(U, a, eta)
        ok = scale > 0
        gained[ok] += np.log(scale[ok])
    return U[:, :d].copy(), U[:, d].copy(), gained


# ---------------------------------------------------------------------------------------
# The rank-one limit after alignment
# ---------------------------------------------------------------------------------------


def limit_direction(X, y, W_unit, v_unit, log_norm, *, growth: str = "flow", eta: float | None = None) -> np.ndarray:
    """v_bar = lim v(t)/||v(t)|| from an aligned state (every neuron final), (h,).

    After alignment a neuron in S_+ (S_-) moves with a = x_+ (-x_-), so its growing mode is
    alpha_j = (p_j + v_j)/2 times e^{||x_+-|| t} (flow) or (1 + eta ||x_+-||)^m (descent); the
    group with the larger growth factor dominates and, within it, v_bar is proportional to the
    alpha_j (both groups when the factors tie exactly). W_bar is v_bar times the group's unit
    class sum, so the angle between two v_bar is that between the W_bar too. ``growth`` names the
    dynamics ("flow" or "descent", which needs ``eta``); both give the same group order.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    W_unit, v_unit, log_norm = (np.asarray(a, dtype=np.float64) for a in (W_unit, v_unit, log_norm))
    if growth not in ("flow", "descent"):
        raise StepSizeError(f"growth must be 'flow' or 'descent'; got {growth!r}")
    if growth == "descent" and (eta is None or not eta > 0):
        raise StepSizeError(f"eta must be > 0 for growth='descent'; got {eta!r}")
    # A sample within BOUNDARY_RTOL of a neuron's boundary is inactive: the exact flow leaves a
    # deactivated sample a few ulps from it (models.alignment_bounds.BOUNDARY_RTOL).
    cos = (W_unit @ X.T) / np.maximum(np.linalg.norm(W_unit, axis=1)[:, None] * np.linalg.norm(X, axis=1), 1e-300)
    final, labels = _final(cos > BOUNDARY_RTOL, v_unit, y)
    if not final.all():
        raise StepSizeError("the state is not aligned: some neuron is not in its final cone")
    h = W_unit.shape[0]
    log_alpha = np.full(h, -np.inf)
    rates = np.zeros(h)
    for label, sign in (("S+", 1.0), ("S-", -1.0)):
        members = labels == label
        if not members.any():
            continue
        a = (y == sign) @ X * sign  # x_+ or -x_-
        k = float(np.linalg.norm(a))
        p = W_unit[members] @ (a / k)
        alpha = 0.5 * (p + v_unit[members]) * sign  # > 0 for a neuron that grows
        with np.errstate(divide="ignore", invalid="ignore"):
            log_alpha[members] = np.where(alpha > 0, np.log(alpha) + log_norm[members], -np.inf)
        rates[members] = k if growth == "flow" else math.log1p(eta * k)
    growing = np.isfinite(log_alpha)
    if not growing.any():
        return np.zeros(h)
    top = rates[growing].max()
    lead = growing & (rates == top)
    out = np.zeros(h)
    out[lead] = np.exp(log_alpha[lead] - log_alpha[lead].max()) * np.sign(v_unit[lead])
    return out / np.linalg.norm(out)


def angle(a, b) -> float:
    """Angle in [0, pi] between two non-zero vectors (pi/2 if one is zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return math.pi / 2
    return float(np.arccos(np.clip(a @ b / (na * nb), -1.0, 1.0)))


__all__ = ["StepSizeError", "FlowInputError", "rate_bound", "largest_subset_rate", "DescentTrace", "descend",
           "limit_direction", "angle", "FINAL_LABELS"]
