"""Appendix D.4: weight normalisation, eqs (47)-(52), and the caveat of Section 5.2 that cites it.

Statements, as printed:
    (47)  L(v, W) = -sum_j (v_j/|v_j|) (w_j^T/||w_j||) x_a(w_j). "This function is 0-homogeneous, so
          |v_j|, ||w_j|| actually does not change by Euler's homogeneous function theorem."
    (48)  d/dt w_j/||w_j|| = 1/(|v_j| ||w_j||) x sgn(v_j) (I - w_j w_j^T/||w_j||^2) x_a(w_j)
          "under a balanced initialization, which is a constant multiple of that of unnormalized GF.
          Hence, we can directly use the result of Section D.2 to prove neural alignment."
    "After a neural alignment, we will consider the GF dynamics of"
    (49)  L^(v, W) = -v^T W^T x / (||v|| ||W||)   (the subscript +- omitted); ||v||, ||W|| constant;
    (50)  dv/dt = (1/(||v|| ||W||)) (I - v v^T/||v||^2) W^T x = W^T x/(||v|| ||W||) - (v^T W^T x) v/(||v||^3 ||W||)
    (51)  dW/dt = x v^T/(||v|| ||W||) - (v^T W^T x) W/(||v|| ||W||^3)
    "c = v^T W^T x is an increasing function and dc/dt = 0 only when W || x v^T. Then LaSalle yields"
    (52)  W/||W|| -> x v^T/(||x|| ||v||).
    Section 5.2: "the directional collapse can also appear under weight normalization, and in that
    case the restriction in magnitudes prevents the severe asymmetry max{s_+/s_-, s_-/s_+} -> infinity".

Referee reading.
  - (47) is 0-homogeneous in each (v_j, w_j) and Euler's identity makes its gradient tangent, so
    ||w_j|| and v_j stay fixed (v_j enters only through its sign): verified. (Discrete normalised
    gradient descent, the paper's B.2 training, can flip sgn(v_j); that is not the flow.)
  - (48) holds with its qualifier: gradient flow of (47) moves w_j/||w_j|| with the factor
    1/||w_j||^2, which is 1/(|v_j| ||w_j||) exactly under balance. The "constant multiple" is a
    constant per neuron, 1/||w_j(0)||^2, not one constant for the network: each neuron's path is the
    unnormalised one with its own time rescaling, which suffices for D.2 because neurons decouple.
  - (49)-(51): the gradient flow of (49), with ||v|| and ||W|| constant: verified. c (unnormalised, as now
    printed) is nondecreasing; dc/dt = 0 exactly when W = lambda x v^T, lambda != 0 of either sign
    (reading "||" as either sign).
  - (52) fails on the anti-aligned set W(0) = -lambda x v(0)^T (lambda > 0), an equilibrium of
    (50)-(51) where c is minimal; it holds from every other start. Under balance ||W(0)|| = ||v(0)||
    the flow is the radial projection of D.3's flow at time t/(||v(0)|| ||W(0)||), so it converges
    to a single point, explicitly; D.4 itself proves only (52).
  - (49) is not what (47) becomes after alignment: (47) normalises each neuron (v frozen), (49) the
    whole group (v moves on a sphere). The rank-one collapse under (47) holds (under balance) by a
    different, direct argument: each w_j/||w_j|| -> x/||x|| by (48). Recorded as a gap.
  - The asymmetry caveat holds for the paper's per-neuron normalisation (class-mean feature norms
    converge to a finite positive ratio when both groups keep a live neuron); under whole-layer
    normalisation (||W||_F, ||v|| fixed) the ratio diverges as without normalisation.

Simulators: models.two_layer_relu.normalised (per-neuron (47), per-layer (49)-(51) for the ReLU
network, and (50)-(51) for the linear network by DOP853); references: the exact unnormalised flow
and D.3's closed form. The normalised fields are homogeneous of degree -1, so the evaluations
integrate them at unit scale with the clock rescaled (WN47Flow, linear_flow, wn_vs_rescaled_gf):
DOP853's atol and its event root-finder's xtol are absolute, and on small-init weights they would
not be small against the state and the times.

References:
    Appendix D.4, eqs (47)-(52); Appendix D.1 (unnormalised direction flow); Appendix B.2;
    Section 5.2 (last paragraph); Salimans & Kingma (2016).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.assumptions import get_assumption
from claims.claim_linear_network import (
    LINEAR_NETWORK_ARRAYS,
    PAPER_ASSUMPTIONS,
    SEARCH,
    NORM_V,
    NORM_W,
    sym_network,
    assert_zero_mod_norms,
    evaluate_equality_case_corrected,
    linear_instances,
    linear_problem,
    paper_instances,
    seeded_relu_instance,
)
from claims.framework.checks import assert_sympy_zero, property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from models.data_geometry import class_sums
from models.theorem4_features import class_mean_log_norms, scaled_state
from models.two_layer_relu import gradient_flow
from models.two_layer_relu.linear_network import linear_network_closed_form, linear_network_limit_directions
from models.two_layer_relu.normalised import (
    per_layer_flow_linear,
    per_layer_normalised_flow,
    per_neuron_normalised_flow,
)

# 1e-6: DOP853 at rtol 1e-10 (the ReLU normalised flows) over these horizons keeps ~1e-8; the exact
# flow is exact to rounding. A wrong factor or time scale is off by O(1).
FLOW_TOL = 1e-6


# ---------------------------------------------------------------------------------------
# (47) and (48) on one state.
# ---------------------------------------------------------------------------------------
def loss47(X, y, W, v) -> float:
    """(47): -sum_j sgn(v_j) <w_j/||w_j||, x_a(w_j)>, x_a(w) = sum_{<w, x_i> > 0} y_i x_i."""
    total = 0.0
    for w, vj in zip(W, v):
        nw = np.linalg.norm(w)
        if vj == 0 or nw == 0:
            continue
        active = X @ w > 0
        total -= np.sign(vj) * float(w @ (y[active] @ X[active])) / nw
    return total


def loss_linear(X, y, W, v) -> float:
    """The unnormalised linear loss (18): -sum_i y_i sum_j v_j relu(<w_j, x_i>)."""
    return -float(y @ (np.maximum(X @ W.T, 0.0) @ v))


def euler_defects(X, y, W, v, loss=loss47) -> np.ndarray:
    """(h,) d/d eps loss at w_j -> (1 + eps) w_j and at v_j -> (1 + eps) v_j, by central differences
    (0 for a 0-homogeneous loss), the larger of the two per neuron."""
    eps = 1e-6
    out = np.zeros(W.shape[0])
    for j in range(W.shape[0]):
        Wp, Wm, vp, vm = W.copy(), W.copy(), v.copy(), v.copy()
        Wp[j] *= 1 + eps
        Wm[j] *= 1 - eps
        vp[j] *= 1 + eps
        vm[j] *= 1 - eps
        dw = (loss(X, y, Wp, v) - loss(X, y, Wm, v)) / (2 * eps)
        dv = (loss(X, y, W, vp) - loss(X, y, W, vm)) / (2 * eps)
        out[j] = max(abs(dw), abs(dv))
    return out


def evaluate_eq47(inst, *, loss=loss47) -> Evaluation:
    """(47) is 0-homogeneous in each (v_j, w_j): the Euler derivatives vanish (1e-7 of ||x||-scale).
    ``loss`` is the loss under test (default (47); a negative control passes another)."""
    X, y, W, v = (np.asarray(inst[k], np.float64) for k in ("X", "y", "W0", "v0"))
    defects = euler_defects(X, y, W, v, loss=loss)
    scale = float(np.abs(y @ X).sum() + np.linalg.norm(X, axis=1).sum())
    # 1e-7: central differences of a function that is exactly constant along the ray, except for
    # an activation boundary within eps = 1e-6 of w_j (measure zero); rounding ~1e-10 scale.
    return Evaluation(holds=bool(np.all(defects <= 1e-7 * scale)), figures={"max_euler_defect": float(defects.max())})


def direction_rate_gf47(X, y, w, vj) -> np.ndarray:
    """d/dt w/||w|| under gradient flow of (47) for one neuron: (1/||w||) (I - w_hat w_hat^T) (-grad_w L47),
    with the gradient by central differences of (47) (active set recomputed; step 1e-6 ||w||, as (47)
    varies on the scale ||w||)."""
    eps = 1e-6 * float(np.linalg.norm(w))
    grad = np.zeros_like(w)
    for k in range(w.size):
        e = np.zeros_like(w)
        e[k] = eps
        grad[k] = (loss47(X, y, (w + e)[None], np.array([vj])) - loss47(X, y, (w - e)[None], np.array([vj]))) / (2 * eps)
    nw = np.linalg.norm(w)
    w_hat = w / nw
    return (-grad - w_hat * float(w_hat @ -grad)) / nw


def printed_eq48(X, y, w, vj) -> np.ndarray:
    """(48) as printed: (1/(|v_j| ||w_j||)) sgn(v_j) (I - w_hat w_hat^T) x_a(w_j)."""
    active = X @ w > 0
    xa = y[active] @ X[active]
    w_hat = w / np.linalg.norm(w)
    return np.sign(vj) * (xa - w_hat * float(w_hat @ xa)) / (abs(vj) * np.linalg.norm(w))


def evaluate_eq48(inst) -> Evaluation:
    """(48) equals the direction rate of gradient flow on (47) for every neuron of the instance."""
    X, y, W, v = (np.asarray(inst[k], np.float64) for k in ("X", "y", "W0", "v0"))
    worst, on_boundary = 0.0, 0
    for w, vj in zip(W, v):
        if vj == 0 or not np.any(w):
            continue
        # A sample within 1e-5 of the boundary <w, x_i> = 0 (relative) makes the central difference
        # straddle the kink of relu; the rate there is one-sided (a measure-zero set): skip it.
        if np.any(np.abs(X @ w) <= 1e-5 * np.linalg.norm(w) * np.linalg.norm(X, axis=1)):
            on_boundary += 1
            continue
        ref = direction_rate_gf47(X, y, w, vj)
        got = printed_eq48(X, y, w, vj)
        # Relative to the rate's own scale ||x_a|| / (|v_j| ||w_j||), not to ||ref||: the projection
        # (I - w_hat w_hat^T) can cancel x_a to rounding (x_a parallel to w), and then both sides are
        # zero up to rounding while their ratio is meaningless (a false refutation seen at 1e-41).
        xa = y[X @ w > 0] @ X[X @ w > 0]
        scale = max(float(np.linalg.norm(xa)) / (abs(vj) * float(np.linalg.norm(w))), float(np.linalg.norm(ref)), 1e-300)
        worst = max(worst, float(np.linalg.norm(got - ref)) / scale)
    # 1e-5 relative: central differences with step 1e-6 ||w|| have truncation ~1e-12 and rounding
    # ~1e-10 relative; a wrong factor (|v_j| != ||w_j||) is off by |1 - ||w||/|v|| | >= 0.33.
    return Evaluation(holds=worst <= 1e-5, figures={"max_relative_error": worst, "on_boundary": float(on_boundary)})


# ---------------------------------------------------------------------------------------
# (50)-(52) for the linear network.
# ---------------------------------------------------------------------------------------
def balanced_linear(inst) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, W (d, m), v) of a linear instance with W rescaled so that ||W||_F = ||v||; v is negated when
    the rescaling lands on u_+ = 0 (v = -W^T x/||x||), which keeps the balance and makes u_+ = W^T x/||x||^2."""
    x, W, v = linear_problem(inst)
    W = W * (np.linalg.norm(v) / np.linalg.norm(W))
    if np.linalg.norm(W.T @ x / np.linalg.norm(x) + v) <= 1e-12 * np.linalg.norm(v):
        v = -v
    return x, W, v


def linear_flow(x, W0, v0, times) -> tuple[np.ndarray, np.ndarray]:
    """(W (k, d, m), v (k, m)) of (50)-(51) at the given times, by DOP853 at unit scale.

    With lam = max(||v0||, ||W0||), (W, v)(t) = lam (W~, v~)(t/lam^2) where (W~, v~) starts at
    (W0, v0)/lam: the field of (50)-(51) is homogeneous of degree -1 in (W, v) jointly. DOP853's atol
    is absolute, and its default 1e-12 was 5e-9 of weights of size 2e-4 (small-init instances), enough
    to make a settled state look as if it still moved by 1e-6; at unit scale it is relative.
    """
    times = np.asarray(times, np.float64)
    lam = max(float(np.linalg.norm(v0)), float(np.linalg.norm(W0)))
    small = min(float(np.linalg.norm(v0)), float(np.linalg.norm(W0))) / lam
    # rtol 1e-12 as the simulator's default; atol 1e-13 of the smaller block's (rescaled) norm.
    traj = per_layer_flow_linear(x, W0 / lam, v0 / lam, float(times[-1]) / lam**2, t_eval=times / lam**2,
                                 rtol=1e-12, atol=1e-13 * small)
    return lam * traj.W, lam * traj.v


def projected_closed_form(x, W0, v0, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Under ||W0|| = ||v0||: (W, v)(t) of (50)-(51) as the radial projection of D.3's closed form at
    time t/(||v0|| ||W0||)."""
    s = t / (np.linalg.norm(v0) * np.linalg.norm(W0))
    traj = linear_network_closed_form(x, W0, v0, s)
    W, v = traj.W[-1], traj.v[-1]
    return np.linalg.norm(W0) * W / np.linalg.norm(W), np.linalg.norm(v0) * v / np.linalg.norm(v)


def is_equilibrium_50_51(x, W, v) -> bool:
    """Both right-hand sides of (50)-(51) vanish to rounding (1e-13 of their terms' size)."""
    nv, nW = np.linalg.norm(v), np.linalg.norm(W)
    c = float(v @ W.T @ x)
    dv = W.T @ x / (nv * nW) - c * v / (nv**3 * nW)
    dW = np.outer(x, v) / (nv * nW) - c * W / (nv * nW**3)
    size = np.linalg.norm(x) / min(nv, nW)  # each term is at most ||x||/||v|| or ||x||/||W|| in size
    return bool(np.linalg.norm(dv) <= 1e-13 * size and np.linalg.norm(dW) <= 1e-13 * size)


def eq52_gaps(inst, kts=(6.0, 12.0), *, target_sign: float = 1.0) -> np.ndarray:
    """||W/||W|| - x v^T/(||x|| ||v||)|| along (50)-(51) (DOP853) at k_eff t in kts, k_eff =
    ||x||/max(||v0||, ||W0||)^2: the slower of the two blocks' direction speeds, ||x||/||W||^2 for W
    and ||x||/||v||^2 for v (both ||x||/(||v|| ||W||) under balance). ``target_sign=-1`` is the broken
    variant with the target -x v^T/(||x|| ||v||) (a negative control switches it in)."""
    x, W0, v0 = linear_problem(inst)
    target0 = target_sign * np.outer(x, v0) / (np.linalg.norm(x) * np.linalg.norm(v0))
    gap0 = float(np.linalg.norm(W0 / np.linalg.norm(W0) - target0))
    if is_equilibrium_50_51(x, W0, v0):
        # An equilibrium of (50)-(51) stays put (uniqueness of solutions); integrating from an unstable
        # one would only amplify rounding.
        return np.full(len(kts), gap0)
    k_eff = np.linalg.norm(x) / max(np.linalg.norm(v0), np.linalg.norm(W0)) ** 2
    times = np.asarray(kts) / k_eff
    out = []
    for W, v in zip(*linear_flow(x, W0, v0, times)):
        target = target_sign * np.outer(x, v) / (np.linalg.norm(x) * np.linalg.norm(v))
        out.append(float(np.linalg.norm(W / np.linalg.norm(W) - target)))
    return np.array(out)


def evaluate_eq52(inst, *, target_sign: float = 1.0) -> Evaluation:
    """Printed (52): the gap falls from k_eff t = 6 to 12 (a converging start falls by about e^{-6}).
    ``target_sign``: see eq52_gaps."""
    x, W, v = linear_problem(inst)
    if not (np.any(x) and np.any(W) and np.any(v)):
        return Evaluation(holds=False, figures={"degenerate": 1.0})
    gaps = eq52_gaps(inst, target_sign=target_sign)
    # 1e-8 absolute: DOP853's tolerance 1e-12 over a horizon with growth e^{12} near the unstable set.
    return Evaluation(holds=bool(gaps[1] <= 0.05 * gaps[0] + 1e-8),
                      figures={"gap_6": float(gaps[0]), "gap_12": float(gaps[1])})


def evaluate_eq52_corrected(inst, *, target_sign: float = 1.0) -> Evaluation:
    """Corrected: (52) holds iff c(0) > -||v0|| ||W0|| ||x||. ``target_sign``: see eq52_gaps."""
    x, W, v = linear_problem(inst)
    c = float(v @ W.T @ x)
    anti = c <= -(1 - 1e-12) * np.linalg.norm(v) * np.linalg.norm(W) * np.linalg.norm(x)
    return Evaluation(holds=evaluate_eq52(inst, target_sign=target_sign).holds != anti,
                      figures={"anti_aligned": float(anti)})


class FlowStopped(RuntimeError):
    """A flow ended before its horizon (a sliding point, possible without orthogonal separability,
    or a solver failure): the statement's conclusion is not reached, so the instance counts as a
    failure (figure ``stopped_early``)."""


# ---------------------------------------------------------------------------------------
# Instance evaluations for the remaining D.4 claims (what `check --data` and the probes run).
# ---------------------------------------------------------------------------------------
def _relu_arrays(inst) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.asarray(inst[k], np.float64) for k in ("X", "y", "W0", "v0"))


def _defined_neurons(W0: np.ndarray, v0: np.ndarray) -> np.ndarray:
    """(h,) mask of the neurons (47) is defined for: v_j != 0 and w_j != 0."""
    return (v0 != 0) & np.any(W0 != 0, axis=1)


def evaluate_constant_multiple(inst, *, per_neuron: bool = True) -> Evaluation:
    """Each neuron's direction under GF of (47) at t equals its unnormalised direction at t/||w_j(0)||^2,
    at a time where every neuron's unnormalised clock is >= 0.4 (the directions have moved by
    about 0.4 ||x_a||), or at a neuron's first tie if earlier (two activation changes at one instant,
    past which the flows are not unique: first_ties). ``per_neuron=False`` is the broken variant with
    one common clock t/||w_1(0)||^2 (a negative control switches it in)."""
    X, y, W0, v0 = _relu_arrays(inst)
    live = _defined_neurons(W0, v0)
    if not live.all():  # (47) is undefined for v_j = 0 or w_j = 0: such neurons are left out
        inst = {**inst, "W0": W0[live], "v0": v0[live]}
        if not live.any():
            return Evaluation(holds=True, figures={"neurons": 0.0})
    try:
        err = wn_vs_rescaled_gf(inst, _multiple_time(inst), per_neuron=per_neuron)
    except FlowStopped:
        return Evaluation(holds=False, figures={"stopped_early": 1.0})
    # FLOW_TOL: DOP853 (rtol 1e-11) against the exact flow; a clock off by a factor rho moves the
    # direction by about |rho - 1| 0.4 ||x_a||, far above it.
    return Evaluation(holds=err <= FLOW_TOL, figures={"max_direction_gap": err})


def relu_linear_problem(inst) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, W (d, m), v) for (49)-(51): a linear instance as given, or from a ReLU instance the
    positive class sum x_+ and the whole hidden layer (W = W0^T, v = v0), the group (49) acts on."""
    if "x" in inst:
        return linear_problem(inst)
    X, y, W0, v0 = _relu_arrays(inst)
    return class_sums(X, y)[0], W0.T, v0


def evaluate_limit_point(inst, *, window=(30.0, 40.0)) -> Evaluation:
    """(50)-(51) settle at a single point: over the last window of k_slow t in ``window`` = [30, 40],
    where k_slow = ||x||/max(||v0||, ||W0||)^2 is the slower block's direction speed, v and W move by at
    most 1e-6 of their norms. Equilibria (and x = 0) stay put and hold trivially. A window too early
    to settle is the broken variant a negative control switches in."""
    x, W0, v0 = relu_linear_problem(inst)
    if not (np.any(x) and np.any(W0) and np.any(v0)) or is_equilibrium_50_51(x, W0, v0):
        return Evaluation(holds=True, figures={"last_window_move": 0.0})
    k_slow = np.linalg.norm(x) / max(np.linalg.norm(v0), np.linalg.norm(W0)) ** 2
    times = np.asarray(window, np.float64) / k_slow
    W, v = linear_flow(x, W0, v0, times)
    move = max(float(np.linalg.norm(v[1] - v[0]) / np.linalg.norm(v0)),
               float(np.linalg.norm(W[1] - W[0]) / np.linalg.norm(W0)))
    # 1e-6: a converging trajectory moves by ~e^{-30} over the window; DOP853 noise ~1e-11. A start
    # near the unstable set c = -||v|| ||W|| ||x|| escapes slowly and may still be moving.
    return Evaluation(holds=move <= 1e-6, figures={"last_window_move": move})


# Own units a neuron of the (47) flow is integrated for after its last activation change before its
# direction counts as settled: with a fixed active set A it converges like exp(-||x_A|| tau) in its own
# clock tau = t/||w_j||^2, so 60/||x_A|| leaves e^{-60}.
SETTLE_UNITS = 60.0


class WN47Flow:
    """Gradient flow of (47), neuron by neuron, each neuron integrated at unit norm.

    Under (47) the neurons decouple and neuron j moves as dw_j/dt = sgn(v_j) (I - w_hat w_hat^T)
    x_a(w_j)/||w_j|| (v frozen, ||w_j|| fixed): homogeneous of degree -1, so w_j(t) = ||w_j|| u_j(t/||w_j||^2)
    where u_j starts at w_j(0)/||w_j(0)||. Integrating u_j in its own clock tau = t/||w_j||^2 keeps
    state and times O(1): DOP853's atol and the event root-finder's xtol are absolute, and on
    small-init weights (~1e-5, times ~1e-10) they were not small against the state or the event times.
    Neurons of very different norms would also make a joint system stiff.

    The settling of each neuron is read from its own dynamics: after its last activation change
    (tau_j) its active set A_j is fixed and its direction converges at the rate r_j = ||x_{A_j}|| of its
    own clock (a neuron with x_{A_j} = 0 is frozen). It is integrated until tau_j + SETTLE_UNITS/r_j
    (starting from SETTLE_UNITS/min(||x_+||, ||x_-||) and growing, four tries); it counts as settled
    when that span is reached and its direction moved by at most 1e-10 over the second half of it. A
    settled neuron is held at its last state beyond its span; an unsettled one is integrated to whatever
    time is asked for. Raises FlowStopped when a flow ends early.

    Attributes: ``last_events`` (h,) t_j = tau_j ||w_j||^2 (0 if none), ``clocks`` (h,) ||w_j||^2/r_j (the
    original time of one own unit at neuron j's final rate; 0 for a frozen neuron), ``last_event``.
    """

    def __init__(self, X, y, W0, v0):
        self.X, self.y, self.W0, self.v0 = X, y, W0, v0
        self.norms = np.linalg.norm(W0, axis=1)
        guess = SETTLE_UNITS / min(float(np.linalg.norm(s_)) for s_ in class_sums(X, y))
        self.flows, self.spans, self.settled = [], [], []
        self.last_events, self.clocks = np.zeros(W0.shape[0]), np.zeros(W0.shape[0])
        for j in range(W0.shape[0]):
            span = guess
            for _ in range(4):
                res = self._integrate(j, span)
                tau_j = max((e.time for e in res.events), default=0.0)
                rate = float(np.linalg.norm((res.activation_pattern(span)[0] * y) @ X))
                need = tau_j + (SETTLE_UNITS / rate if rate > 0 else 0.0)
                if span >= need:
                    half, end = res.state_at((tau_j + span) / 2)[0][0], res.state_at(span)[0][0]
                    # 1e-10: a settled direction moves by ~e^{-30} over the second half, plus the solver's
                    # 1e-11 relative noise; a neuron still converging moves by far more.
                    settled = bool(np.linalg.norm(end - half) <= 1e-10)
                    if settled:
                        break
                else:
                    settled = False
                span = max(4 * span, need)
            self.flows.append(res)
            self.spans.append(span)
            self.settled.append(settled)
            self.last_events[j] = tau_j * self.norms[j] ** 2
            self.clocks[j] = self.norms[j] ** 2 / rate if rate > 0 else 0.0
        self.last_event = float(self.last_events.max(initial=0.0))

    def after(self, units: float) -> float:
        """The first time at which every neuron is ``units`` of its own final clock past its last
        activation change: max_j (t_j + units ||w_j||^2/r_j)."""
        return float(np.max(self.last_events + units * self.clocks, initial=0.0))

    def _integrate(self, j: int, span: float):
        n = self.norms[j]
        # atol 1e-13 of the (unit) state: the level of rtol 1e-11.
        res = per_neuron_normalised_flow(self.X, self.y, self.W0[j:j + 1] / n, self.v0[j:j + 1] / n, span,
                                         form="eq47", rtol=1e-11, atol=1e-13)
        if res.status != "ok":
            raise FlowStopped(f"the (47) flow of neuron {j} stopped early ({res.status}: {res.message})")
        return res

    def states(self, times) -> np.ndarray:
        """(k, h, d): W at each of the times (original clock)."""
        times = np.asarray(times, np.float64)
        out = np.empty((times.size,) + self.W0.shape)
        for j, n in enumerate(self.norms):
            taus = times / n**2
            if not self.settled[j] and taus.max() > self.spans[j]:
                self.flows[j], self.spans[j] = self._integrate(j, float(taus.max())), float(taus.max())
            for k, tau in enumerate(taus):
                out[k, j] = n * self.flows[j].state_at(min(float(tau), self.spans[j]))[0][0]
        return out


def wn47_group_gaps(inst, *, units: float = 40.0, swap_class_sums: bool = False) -> tuple[float, int]:
    """Under GF of (47), the largest rank-one gap ||W_g/||W_g|| - g x_g v_g^T/(||x_g|| ||v_g||)|| over the
    groups g in {+, -} of live aligned neurons (sgn v_j = g, active exactly on class g at the end),
    at t = WN47Flow.after(units) (every neuron ``units`` of its own final clock past its last activation
    change); and how many neurons were in such groups. ``swap_class_sums`` is the broken
    variant whose target uses the other class's sum x_{-g} (a negative control switches it in)."""
    X, y, W0, v0 = _relu_arrays(inst)
    keep = _defined_neurons(W0, v0)
    W0, v0 = W0[keep], v0[keep]
    sums = class_sums(X, y)
    scale = min(float(np.linalg.norm(s)) for s in sums)
    if not keep.any() or scale == 0:
        return 0.0, 0
    flow = WN47Flow(X, y, W0, v0)
    W, v = flow.states([flow.after(units)])[0], v0  # v is frozen under (47)
    targets = sums[::-1] if swap_class_sums else sums
    worst, counted = 0.0, 0
    for g, x_g in zip((1.0, -1.0), targets):
        act = X @ W.T > 0  # (n, h)
        in_group = (np.sign(v) == g) & np.all(act == (y == g)[:, None], axis=0)
        if not in_group.any():
            continue
        counted += int(in_group.sum())
        Wg, vg = W[in_group].T, v[in_group]  # (d, m), (m,)
        target = g * np.outer(x_g, vg) / (np.linalg.norm(x_g) * np.linalg.norm(vg))
        worst = max(worst, float(np.linalg.norm(Wg / np.linalg.norm(Wg) - target)))
    return worst, counted


def evaluate_normalisations(inst, *, swap_class_sums: bool = False) -> Evaluation:
    """The statement's conclusion under (47): each aligned group's W_g/||W_g|| -> g x_g v_g^T/(||x_g|| ||v_g||)
    (g = +1 with x_+, g = -1 with x_-: (52) for the group, whose v_g < 0). ``swap_class_sums``: the
    broken variant of wn47_group_gaps."""
    try:
        gap, counted = wn47_group_gaps(inst, swap_class_sums=swap_class_sums)
    except FlowStopped:
        return Evaluation(holds=False, figures={"stopped_early": 1.0})
    # 1e-5: neuron j's direction converges like exp(-||x_g|| t/||w_j||^2) after its last activation
    # change, at most e^{-40} by the end; DOP853 at rtol 1e-11. A group with |v_j| not proportional to
    # ||w_j||, or a target along the wrong class sum, stays O(1) away.
    return Evaluation(holds=gap <= 1e-5, figures={"rank_one_gap": gap, "aligned_neurons": float(counted)})


def class_mean_log_ratio(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """log(||mu_+|| / ||mu_-||) of the class-mean features relu(<w_j, x_i>) (-inf/+inf for a zero mean).

    A neuron parked on the boundary <w_j, x_i> = 0 (it froze there) keeps a rounding-level activity
    ~1e-16 ||w_j|| ||x_i||, which would make a dead class look alive: activities below 1e-9 of
    ||w_j|| ||x_i|| (the neuron's own current norm) count as 0. A live neuron keeps an activity of
    order ||w_j|| ||x_i||: its direction converges to a class sum that has a positive margin.
    """
    pre = W @ X.T  # (h, n)
    floor = 1e-9 * np.outer(np.linalg.norm(W, axis=1), np.linalg.norm(X, axis=1))
    Phi = np.where(pre > floor, pre, 0.0)  # features relu(<w_j, x_i>), residues dropped
    sizes = [float(np.linalg.norm(Phi[:, y == label].mean(axis=1))) for label in (1.0, -1.0)]
    logs = [math.log(size) if size > 0 else -math.inf for size in sizes]
    with np.errstate(invalid="ignore"):
        return float(np.float64(logs[0]) - np.float64(logs[1]))


NORMALISATIONS = ("neuron", "layer")


def wn_log_ratios(inst, window=(20.0, 30.0), *, normalisation: str = "neuron") -> tuple[np.ndarray, float]:
    """(log(||mu_+||/||mu_-||) at the window's two times, t_last) under a weight-normalised flow.

    ``normalisation="neuron"``: GF of (47) (WN47Flow) at WN47Flow.after(u) for u in ``window`` (every
    neuron u units of its own final clock past its last activation change), t_last the last activation
    change of any neuron: the window is chosen from the dynamics, so a late activation, or a neuron
    whose final active set converges slowly, moves it along.

    ``"layer"``: whole-layer normalisation (||W||_F and ||v|| fixed, v moves). Under ||W0||_F = ||v0||
    (implied by balance) that flow is the unnormalised flow radially projected, at the same times
    (form "projected"; models.two_layer_relu.normalised, tested in tests/test_two_layer_relu_normalised.py),
    and the projection's common factor cancels in the log-ratio; so the ratio is read off the exact
    unnormalised flow (gradient_flow, log-norms per neuron), with unit = 1/min(||x_+||, ||x_-||) (its
    direction speed) and t_last its last activation change. (DOP853 on the normalised state stops
    once the losing group has shrunk to rounding, ~e^{-40}, before the window.)
    Raises FlowStopped when a flow ends early, ValueError for "layer" without ||W0||_F = ||v0||.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}; got {normalisation!r}")
    X, y, W0, v0 = _relu_arrays(inst)
    keep = _defined_neurons(W0, v0)
    W0, v0 = W0[keep], v0[keep]
    window = np.asarray(window, np.float64)
    if normalisation == "neuron":
        flow = WN47Flow(X, y, W0, v0)
        times = [flow.after(u) for u in window]
        return np.array([class_mean_log_ratio(W, X, y) for W in flow.states(times)]), flow.last_event
    # 1e-12 relative: balance holds to rounding (BALANCE_RTOL of the assumption is 1e-12 per neuron).
    if abs(np.linalg.norm(W0) - np.linalg.norm(v0)) > 1e-12 * np.linalg.norm(v0):
        raise ValueError("the whole-layer variant needs ||W0||_F = ||v0|| (balance)")
    unit = 1.0 / min(float(np.linalg.norm(c)) for c in class_sums(X, y))

    def run(t_end):
        res = gradient_flow(X, y, W0, v0, t_end)
        if res.status != "ok":
            raise FlowStopped(f"the unnormalised flow stopped early ({res.status}: {res.message})")
        return res

    span = SETTLE_UNITS * unit
    res = run(span)
    t_last = max((e.time for e in res.events), default=0.0)
    times = t_last + window * unit
    if times[-1] > span:
        res = run(float(times[-1]))
    # scaled_state divides every neuron by the largest norm: a common factor, which cancels.
    return np.array([class_mean_log_ratio(scaled_state(*res.unit_state_at(float(t))).W_s, X, y)
                     for t in times]), t_last


def evaluate_asymmetry(inst, *, normalisation: str = "neuron", window=(20.0, 30.0)) -> Evaluation:
    """Under (47) the log-ratio of the class-mean feature norms is finite and settles: it moves <= 1e-6
    between the times at which every neuron is 20 and 30 units of its own final clock past its last
    activation change (wn_log_ratios, WN47Flow.after). When a class's mean feature is 0 (every neuron of
    its group dead, or no live neuron at all) the ratio is infinite under any normalisation; the caveat
    is about magnitudes, so such instances are outside it (vacuous, figure ``dead_class`` = 1).
    ``normalisation="layer"`` (whole-layer normalisation) and an earlier ``window`` are broken variants a
    negative control switches in."""
    X, y, W0, v0 = _relu_arrays(inst)
    keep = _defined_neurons(W0, v0)
    if not keep.any() or min(np.linalg.norm(s) for s in class_sums(X, y)) == 0:
        return Evaluation(holds=True, figures={"dead_class": 1.0})
    try:
        ratios, t_last = wn_log_ratios(inst, window, normalisation=normalisation)
    except FlowStopped:
        return Evaluation(holds=False, figures={"stopped_early": 1.0})
    if not np.all(np.isfinite(ratios)):
        return Evaluation(holds=True, figures={"dead_class": 1.0})
    drift = float(abs(ratios[1] - ratios[0]))
    # 1e-6: 20 units after its last activation change every neuron's direction is within ~e^{-20}
    # (2e-9) of its limit, and the log-ratio moves by that times O(1); DOP853 at rtol 1e-11.
    return Evaluation(holds=drift <= 1e-6, figures={"log_ratio": float(ratios[-1]), "drift": drift,
                                                    "last_activation_change": float(t_last), "dead_class": 0.0})


# ---------------------------------------------------------------------------------------
# Claims.
# ---------------------------------------------------------------------------------------
EQ47 = register(Claim(
    id="eq-47-homogeneity",
    paper_ref="Eq. (47)",
    statement=r"(47) is 0-homogeneous, so $|v_j|$, $\|w_j\|$ do not change (Euler's homogeneous function theorem).",
    quote=r"$$\mathcal{L}(\mathbf{v}, \mathbf{W}) = -\sum_{j=1}^h \frac{v_j}{|v_j|} \frac{\mathbf{w}_j^\top}"
          r"{\|\mathbf{w}_j\|} \mathbf{x}_a(\mathbf{w}_j) \quad (47)$$ This function is 0-homogeneous, so $|v_j|$ , "
          r"$\|\mathbf{w}_j\|$ actually does not change by Euler's homogeneous function theorem.",
    reading=r"0-homogeneous in each neuron's $v_j$ and $w_j$ separately; 'does not change' means constant along the "
            r"gradient flow of (47) in $(v, W)$ (vanishing Euler derivatives, and simulated flows). $v_j$ itself "
            r"stays fixed, since (47) depends on it only through its sign.",
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_eq47,
    instance_bounds={"max_n": 6, "max_h": 4, "max_d": 3},
))
EQ48 = register(Claim(
    id="eq-48-direction-flow",
    paper_ref="Eq. (48)",
    statement=r"$\frac{d}{dt} \frac{w_j}{\|w_j\|} = \frac{1}{|v_j| \|w_j\|} \operatorname{sgn}(v_j) \left(I - "
              r"\frac{w_j w_j^\top}{\|w_j\|^2}\right) x_a(w_j)$ under a balanced initialization (gradient flow of (47)).",
    quote=r"$$\frac{d}{dt} \frac{\mathbf{w}_j}{\|\mathbf{w}_j\|} = \frac{1}{|v_j| \|\mathbf{w}_j\|} \times "
          r"\text{sgn}(v_j) \left( \mathbf{I} - \frac{\mathbf{w}_j \mathbf{w}_j^\top}{\|\mathbf{w}_j\|^2} \right) "
          r"\mathbf{x}_a(\mathbf{w}_j) \quad (48)$$ under a balanced initialization",
    reading=r"The left side is the direction rate of the gradient flow of (47) in $(v, W)$; 'balanced' is $|v_j| = "
            r"\|w_j\|$ for each neuron (Assumption 2). Both sides are compared neuron by neuron, away from the "
            r"activation boundaries $\langle w_j, x_i \rangle = 0$.",
    assumptions=("balanced-init",),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_eq48,
    instance_bounds={"max_n": 6, "max_h": 4, "max_d": 3},
))

MULTIPLE = register(Claim(
    id="appendix-d4-constant-multiple",
    paper_ref="Appendix D.4",
    statement="(48) is a constant multiple of the unnormalised direction flow, so the alignment of D.2 carries over.",
    quote=r"which is a constant multiple of that of unnormalized GF. Hence, we can directly use the result of "
          r"Section D.2 to prove neural alignment.",
    reading=r"'That of unnormalized GF' is the direction rate of the same neuron under the unnormalised flow (D.1). "
            r"The constant is read per neuron, $1/\|w_j(0)\|^2$: each neuron's direction under (47) at time $t$ equals "
            r"its unnormalised direction at time $t/\|w_j(0)\|^2$.",
    assumptions=("balanced-init",),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_constant_multiple,
    instance_bounds={"max_n": 5, "max_h": 3, "max_d": 3},
))
EQ50 = register(Claim(
    id="eq-50-51-normalised-flow",
    paper_ref="Eq. (50)",
    statement=r"Gradient flow of (49) is (50)-(51), and $\|v\|$, $\|W\|$ are constant along it.",
    quote=r"In this case, $\|\mathbf{v}\|, \|\mathbf{W}\|$ is constant again, and $$\frac{d}{dt} \mathbf{v} = "
          r"\frac{1}{\|\mathbf{v}\| \|\mathbf{W}\|} \left( \mathbf{I} - \frac{\mathbf{v} \mathbf{v}^\top}"
          r"{\|\mathbf{v}\|^2} \right) \mathbf{W}^\top \mathbf{x} = \frac{1}{\|\mathbf{v}\| \|\mathbf{W}\|} "
          r"\mathbf{W}^\top \mathbf{x} - \frac{\mathbf{v}^\top \mathbf{W}^\top \mathbf{x}}{\|\mathbf{v}\|^3 "
          r"\|\mathbf{W}\|} \mathbf{v}, \quad (50)$$ $$\frac{d}{dt} \mathbf{W} = \frac{1}{\|\mathbf{v}\| "
          r"\|\mathbf{W}\|} \mathbf{x} \mathbf{v}^\top - \frac{\mathbf{v}^\top \mathbf{W}^\top \mathbf{x}}"
          r"{\|\mathbf{v}\| \|\mathbf{W}\|^3} \mathbf{W}. \quad (51)$$",
    reading=r"$\|W\|$ is the Frobenius norm; (50) (both printed forms) and (51) are compared with the negative "
            r"gradient of (49) in $(v, W)$.",
))
C_MONOTONE = register(Claim(
    id="appendix-d4-c-monotone",
    paper_ref="Appendix D.4",
    statement=r"Along (50)-(51), $c = v^\top W^\top x$ is an increasing function and $dc/dt = 0$ only when $W "
              r"\parallel x v^\top$ (read: $W = \lambda x v^\top$, $\lambda \neq 0$ of either sign).",
    quote=r"Then by a similar way to Section D.3, one can prove that $c = \mathbf{v}^\top \mathbf{W}^\top "
          r"\mathbf{x}$ is an increasing function and $dc/dt = 0$ only when $\mathbf{W} \parallel \mathbf{x} "
          r"\mathbf{v}^\top$ .",
    reading=r"'Increasing' is read as nondecreasing along (50)-(51); '$\parallel$' as $W = \lambda x v^\top$ for "
            r"some $\lambda \neq 0$ of either sign, and 'only when' as 'exactly when'.",
))
EQ52 = register(Claim(
    id="eq-52-rank-one-collapse",
    paper_ref="Eq. (52)",
    statement=r"Along (50)-(51), LaSalle yields $W/\|W\| \to x v^\top/(\|x\| \|v\|)$.",
    quote=r"Then LaSalle principle yields the one-rank collapse : $$\frac{\mathbf{W}}{\|\mathbf{W}\|} \rightarrow "
          r"\frac{\mathbf{x} \mathbf{v}^\top}{\|\mathbf{x}\| \|\mathbf{v}\|} \quad (52)$$",
    reading=r"From every start of (50)-(51) with $x, v, W \neq 0$, as $t \to \infty$, in the Frobenius norm; checked "
            r"as the gap falling by a factor 20 from $kt = 6$ to $kt = 12$, $k = \|x\|/\max(\|v_0\|, \|W_0\|)^2$.",
    expected_verdict="erratum",
    correction=r"(52) holds if and only if $c(0) = v(0)^\top W(0)^\top x > -\|v(0)\| \|W(0)\| \|x\|$. The set "
               r"$W(0) = -\lambda x v(0)^\top$ ($\lambda > 0$) consists of equilibria of (50)-(51) ($c$ at its "
               r"minimum), where $W/\|W\| = -x v^\top/(\|x\| \|v\|)$ for all $t$. Elsewhere $c$ increases and (52) "
               r"follows; under balance ($\|W(0)\| = \|v(0)\|$) the state converges to the single point "
               r"$(\|v(0)\| u_+/\|u_+\|, \dots)$ of D.3.",
    counterexample_summary="x = 1, W0 = -2 x v0^T with v0 = 1 (d = m = 1): an equilibrium with W/||W|| = -x v^T/(|x||v|)",
    instance_arrays=("x", "W0", "v0"),
    array_docs=LINEAR_NETWORK_ARRAYS,
    evaluate=evaluate_eq52,
    probe_evaluate=evaluate_eq52_corrected,
))
LIMIT_POINT = register(Claim(
    id="appendix-d4-limit-point",
    paper_ref="Appendix D.4",
    statement="Under (50)-(51) the state $(v, W)$ converges to a single point (D.4's last paragraph: the "
              "objective is semialgebraic, so the bounded trajectory has finite length; Bolte et al.).",
    quote=r"However, since $\hat{\mathcal{L}}$ is semialgebraic in $\{\mathbf{v}, \mathbf{W} \mid \mathbf{v} \neq "
          r"\mathbf{0}, \mathbf{W} \neq \mathbf{0}\}$ , the trajectory is finite, and hence $\mathbf{v}, \mathbf{W}$ "
          r"actually converges (Bolte et al. [1]) to a single point.",
    reading=r"'The trajectory is finite' is read as finite length; checked as $v$, $W$ settling along (50)-(51) "
            r"(moving by at most $10^{-6}$ of their norms over a late window), and from balanced starts against the "
            r"radial projection of D.3's closed form.",
    assumptions=("balanced-init",),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_limit_point,
    instance_bounds={"max_n": 6, "max_h": 4, "max_d": 3},
))
SAME_FLOW = register(Claim(
    id="appendix-d4-normalisations",
    paper_ref="Appendix D.4",
    statement="After neural alignment the weight-normalised network (47) follows the gradient flow of (49) "
              "(group by group), so (52) gives its rank-one collapse.",
    quote=r"After a neural alignment, we will consider the GF dynamics of $$\hat{\mathcal{L}}(\mathbf{v}, "
          r"\mathbf{W}) = -\frac{\mathbf{v}^\top \mathbf{W}^\top \mathbf{x}}{\|\mathbf{v}\| \|\mathbf{W}\|}, \quad "
          r"(49)$$ where the subscript $\pm$ is omitted.",
    reading=r"Read as: once aligned, the flow of (47) restricted to each group $\mathcal{N}_\pm$ ($W = W_\pm$, $v = "
            r"v_\pm$, $x = \pm x_\pm$) is the gradient flow of (49); the conclusion checked is each aligned group's "
            r"rank-one collapse under (47).",
    assumptions=("balanced-init",),
    expected_verdict="gap",
    correction=r"(49) normalises the whole group ($\|v\|$, $\|W\|$ fixed, $v$ moves), (47) each neuron ($\|w_j\|$ "
               r"fixed, $v$ frozen): from the same aligned state the two flows differ. Repair: under (47) each aligned "
               r"$w_j/\|w_j\| \to x/\|x\|$ directly by (48) (the D.3 direction flow of one neuron), so $W \to x\, "
               r"(\|w_j(0)\|)_j^\top / \|x\|$, which is parallel to $x v^\top$ exactly under balance.",
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_normalisations,
    instance_bounds={"max_n": 5, "max_h": 3, "max_d": 3},
))
ASYMMETRY = register(Claim(
    id="section-5-2-wn-asymmetry",
    paper_ref="Section 5.2",
    statement=r"Under weight normalization the directional collapse appears and the restriction in magnitudes "
              r"prevents $\max\{s_+/s_-, s_-/s_+\} \to \infty$ (Section D.4) (read: when each class keeps a live "
              r"neuron; a class whose group all dies has a zero mean feature under any normalisation).",
    quote=r"We also argue that the directional collapse can also appear under weight normalization, and in that case "
          r"the restriction in magnitudes prevents the severe asymmetry $\max\{s_+/s_-, s_-/s_+\} \rightarrow "
          r"\infty$ (Section D.4).",
    reading=r"Weight normalization is the per-neuron normalisation (47) of Section 3 and Appendix B.2; $s_\pm$ is "
            r"measured by the class-mean feature norms, and 'prevents' means that their ratio settles at a finite "
            r"positive value (asked only when each class keeps a live neuron).",
    assumptions=("orthogonal-separability", "balanced-init", "non-extreme-init"),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_asymmetry,
    instance_bounds={"max_n": 5, "max_h": 3, "max_d": 3},
))


# ---------------------------------------------------------------------------------------
# (47): homogeneity and Euler.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ47.id, kind="symbolic")
def test_eq47_symbolic():
    """f = -sgn(v) w^T a/||w|| with a fixed active set: f(lambda w) = f(w), w . grad_w f = 0, and
    d f/d v = 0 for v != 0 (sympy, d = 3)."""
    w = sp.Matrix(sp.symbols("w1:4", real=True))
    a = sp.Matrix(sp.symbols("a1:4", real=True))
    lam = sp.symbols("lambda", positive=True)
    v = sp.symbols("v", positive=True)
    f = -sp.sign(v) * (w.T * a)[0] / sp.sqrt((w.T * w)[0])
    assert_sympy_zero(f.subs({w[i]: lam * w[i] for i in range(3)}, simultaneous=True) - f, "f(lambda w) - f(w)")
    grad = sp.Matrix([sp.diff(f, wi) for wi in w])
    assert_sympy_zero((w.T * grad)[0], "w . grad f")
    assert sp.diff(f, v) == 0


@pytest.mark.claim(EQ47.id, kind="numerical")
def test_eq47_norms_constant(record_property):
    """Gradient flow of (47) (simulator, eq47 form) keeps ||w_j|| and v_j (seeded, t = 5), and agrees with
    an independent DOP853 integration of the raw, unprojected gradient of (47) (active set in the field)."""
    from scipy.integrate import solve_ivp
    inst = seeded_relu_instance(np.random.default_rng(47), n_pos=2, n_neg=2, d=2, h=2, scale=0.7)
    X, y, W0, v0 = inst["X"], inst["y"], inst["W0"], inst["v0"]
    res = per_neuron_normalised_flow(X, y, W0, v0, 2.0, form="eq47")
    W, v = res.state_at(2.0)
    assert np.allclose(np.linalg.norm(W, axis=1), np.linalg.norm(W0, axis=1), rtol=FLOW_TOL)
    assert np.array_equal(v, v0)

    def raw(_t, z):  # -grad of (47), no projection: Euler makes it tangent by itself
        Wz = z.reshape(W0.shape)
        out = np.zeros_like(Wz)
        for j, (w, vj) in enumerate(zip(Wz, v0)):
            active = X @ w > 0
            xa = y[active] @ X[active]
            nw = np.linalg.norm(w)
            out[j] = np.sign(vj) * (xa / nw - float(w @ xa) * w / nw**3)
        return out.ravel()

    sol = solve_ivp(raw, (0.0, 2.0), W0.ravel(), method="DOP853", rtol=1e-11, atol=1e-12)
    W_raw = sol.y[:, -1].reshape(W0.shape)
    drift = float(np.max(np.abs(np.linalg.norm(W_raw, axis=1) / np.linalg.norm(W0, axis=1) - 1)))
    record_property("fig:raw_gradient_norm_drift", drift)
    # 1e-6: DOP853 steps across the activation switches of the raw field lose a few digits.
    assert drift <= 1e-6
    assert np.allclose(W_raw, W, atol=1e-5)  # 1e-5: same reason, plus the simulator's rtol 1e-10


@pytest.mark.claim(EQ47.id, kind="property")
def test_eq47_property(record_property):
    """Euler derivatives of (47) vanish on generated instances."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_eq47(inst).holds), max_examples=20)


@pytest.mark.negative_control(EQ47.id)
def test_eq47_negative_control():
    """Broken variant: evaluate_eq47 with the unnormalised linear loss (18) in place of (47); that loss is
    2-homogeneous per neuron, so the Euler check must reject it on the instance (47) passes."""
    inst = seeded_relu_instance(np.random.default_rng(1), n_pos=2, n_neg=2, d=2, h=2, scale=0.7)
    assert evaluate_eq47(inst).holds
    rejects(evaluate_eq47, inst, loss=loss_linear)


# ---------------------------------------------------------------------------------------
# (48) and the constant multiple.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ48.id, kind="symbolic")
def test_eq48_symbolic():
    """Gradient flow of (47): d w_hat/dt = (sgn v/||w||^2) (I - w_hat w_hat^T) a; (48)'s factor
    1/(|v| ||w||) equals 1/||w||^2 iff |v| = ||w|| (sympy, d = 2)."""
    w = sp.Matrix(sp.symbols("w1:3", real=True))
    a = sp.Matrix(sp.symbols("a1:3", real=True))
    nw = sp.sqrt((w.T * w)[0])
    f = -(w.T * a)[0] / nw  # v > 0
    wdot = -sp.Matrix([sp.diff(f, wi) for wi in w])
    w_hat = w / nw
    proj = sp.eye(2) - w_hat * w_hat.T
    lhs = proj * wdot / nw
    rhs = proj * a / nw**2
    for i in range(2):
        assert_sympy_zero(lhs[i] - rhs[i], f"GF of (47), component {i}")
    vabs = sp.symbols("V", positive=True)
    assert sp.simplify((1 / (vabs * nw)) / (1 / nw**2) - 1).subs(vabs, nw) == 0


@pytest.mark.claim(EQ48.id, kind="property")
def test_eq48_property(record_property):
    """(48) equals the direction rate of GF on (47) on balanced generated instances."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_eq48(inst).holds), max_examples=20)


@pytest.mark.negative_control(EQ48.id)
def test_eq48_negative_control():
    """Broken instance: the balanced seeded instance with v0 doubled (|v_j| = 2 ||w_j||, outside
    balanced-init); (48)'s factor 1/(|v_j| ||w_j||) is then off by 2 and evaluate_eq48 must reject it."""
    inst = seeded_relu_instance(np.random.default_rng(2), n_pos=2, n_neg=2, d=2, h=2, scale=0.7)
    assert evaluate_eq48(inst).holds
    rejects(evaluate_eq48, {**inst, "v0": 2 * inst["v0"]})


def first_ties(events, h: int) -> np.ndarray:
    """(h,) the first time at which a neuron has two activation changes at once (inf if never).

    Two changes of one neuron within 1e-6 (relative) of each other count as one instant: the exact
    solver gives a tie identical times, DOP853 with restarts separates them by ~1e-8 relative; distinct
    generic events are far apart. At such a tie (e.g. x_1 = -x_0/3 and a neuron reaching <w, x_0> = 0
    = <w, x_1>) relu'(0) = 0 admits more than one continuation: frozen on the boundary, or crossing into
    the other sample's side, and two simulators may break it differently.
    """
    out = np.full(h, np.inf)
    by_neuron: dict[int, list[float]] = {}
    for e in events:
        by_neuron.setdefault(e.neuron, []).append(e.time)
    for j, times in by_neuron.items():
        times = sorted(times)
        for a, b in zip(times, times[1:]):
            if b - a <= 1e-6 * b:
                out[j] = a
                break
    return out


def wn_vs_rescaled_gf(inst, t: float, *, per_neuron: bool = True) -> float:
    """max_j ||w_hat_j^{WN}(t_j) - w_hat_j^{GF}(t_j / ||w_j(0)||^2)|| (WN: GF of (47), DOP853; GF: the exact
    unnormalised flow), t_j = t, or the first tie of neuron j if earlier (first_ties: past it the flows
    are not unique). With per_neuron=False every neuron uses the first neuron's time scale.

    The (47) flow is integrated on the instance rescaled to unit scale: with s = min_j ||w_j(0)||, the
    state (W0, v0)/s at time t/s^2 has the same directions as (W0, v0) at t (the (47) field is
    homogeneous of degree -1 in w_j, so w -> w/s is time -> time/s^2). DOP853's atol and the event
    root-finder's xtol are absolute: on small-init weights (~1e-5, times ~1e-11) they were 1e-8 of the
    state and 1e-4 of the event times, and left direction gaps of 1e-6; at unit scale both are relative.
    """
    X, y, W0, v0 = inst["X"], inst["y"], inst["W0"], inst["v0"]
    h = W0.shape[0]
    norms2 = np.linalg.norm(W0, axis=1) ** 2
    s = float(np.sqrt(norms2.min()))
    # atol 1e-13 of the smallest neuron's (now unit) norm: the same level as rtol 1e-11 on every neuron.
    wn = per_neuron_normalised_flow(X, y, W0 / s, v0 / s, t / s**2, form="eq47", rtol=1e-11, atol=1e-13)
    scales = norms2 if per_neuron else np.full_like(norms2, norms2[0])
    gf = gradient_flow(X, y, W0, v0, float(t / scales.min()))
    if wn.status != "ok" or gf.status != "ok":
        raise FlowStopped(f"a flow stopped early (normalised: {wn.status}, unnormalised: {gf.status})")
    ties = np.minimum(first_ties(wn.events, h) * s**2, first_ties(gf.events, h) * scales)  # WN clock
    worst = 0.0
    for j in range(h):
        t_j = min(t, float(ties[j]))
        w_wn = wn.state_at(t_j / s**2)[0][j]
        w_gf = gf.unit_state_at(t_j / scales[j])[0][j]
        worst = max(worst, float(np.linalg.norm(w_wn / np.linalg.norm(w_wn) - w_gf / np.linalg.norm(w_gf))))
    return worst


def _multiple_time(inst) -> float:
    """A WN time at which every neuron's unnormalised clock t/||w_j||^2 is in [0.4, 0.4 max/min]
    of its own scale: early enough that the directions still move (they converge like e^{-||x|| t})."""
    return 0.4 * float(np.min(np.linalg.norm(inst["W0"], axis=1) ** 2))


@pytest.mark.claim(MULTIPLE.id, kind="numerical")
def test_constant_multiple_numerical(record_property):
    """Each neuron's direction under GF of (47) at time t equals its unnormalised direction at
    t/||w_j(0)||^2 (seeded; neurons of different norms, through activation changes), to 1e-6."""
    inst = seeded_relu_instance(np.random.default_rng(48), n_pos=3, n_neg=2, d=2, h=3, scale=0.6)
    err = wn_vs_rescaled_gf(inst, _multiple_time(inst))
    record_property("fig:wn_vs_rescaled_gf", err)
    assert err <= FLOW_TOL


def multiple_residual(factor):
    """(48) minus factor(|v|, ||w||) times D.1's balanced direction field sgn(v)(I - w_hat w_hat^T) x_a,
    componentwise (sympy, d = 2, v > 0)."""
    w = sp.Matrix(sp.symbols("w1:3", real=True))
    a = sp.Matrix(sp.symbols("a1:3", real=True))
    v = sp.symbols("v", positive=True)
    nw = sp.sqrt((w.T * w)[0])
    field = (sp.eye(2) - w * w.T / nw**2) * a  # sgn(v) = 1
    eq48 = field / (v * nw)
    return [sp.simplify(e) for e in eq48 - factor(v, nw) * field]


@pytest.mark.claim(MULTIPLE.id, kind="symbolic")
def test_constant_multiple_symbolic():
    """(48) = (1/(|v_j| ||w_j||)) x D.1's balanced direction field, a factor that is constant in time
    because |v_j| and ||w_j|| are (eq-47-homogeneity); under balance it is 1/||w_j(0)||^2 (sympy)."""
    assert multiple_residual(lambda v, nw: 1 / (v * nw)) == [0, 0]
    assert [sp.simplify(e.subs(sp.Symbol("v", positive=True), sp.sqrt(sum(s**2 for s in sp.symbols("w1:3", real=True)))))
            for e in multiple_residual(lambda v, nw: 1 / nw**2)] == [0, 0]


@pytest.mark.negative_control(MULTIPLE.id)
def test_constant_multiple_negative_control():
    """Broken variant: evaluate_constant_multiple with one common clock t/||w_1(0)||^2 for every neuron
    (per_neuron=False), the reading 'one constant for the network'; the neurons' norms differ, so it
    must be rejected where the per-neuron clocks pass."""
    inst = seeded_relu_instance(np.random.default_rng(48), n_pos=3, n_neg=2, d=2, h=3, scale=0.6)
    assert evaluate_constant_multiple(inst).holds
    rejects(evaluate_constant_multiple, inst, per_neuron=False)


@pytest.mark.claim(MULTIPLE.id, kind="property")
def test_constant_multiple_property(record_property):
    """On generated instances (Assumptions 1-3) every neuron's (47) direction is its unnormalised one on
    its own clock t/||w_j(0)||^2 (evaluate_constant_multiple, tolerance FLOW_TOL)."""
    property_check(record_property, paper_instances(**MULTIPLE.instance_bounds),
                   lambda inst: require(evaluate_constant_multiple(inst).holds), max_examples=15)


@pytest.mark.negative_control(MULTIPLE.id)
def test_constant_multiple_evaluation_negative_control():
    """Broken instance: the seeded instance with v0 doubled (|v_j| = 2 ||w_j||, outside balanced-init);
    the unnormalised flow then runs at another speed (dv/dt = <w, a> with |v| != ||w||), so its direction
    on the clock t/||w_j(0)||^2 is not the (47) direction and evaluate_constant_multiple must reject it."""
    inst = seeded_relu_instance(np.random.default_rng(48), n_pos=3, n_neg=2, d=2, h=3, scale=0.6)
    assert evaluate_constant_multiple(inst).holds
    rejects(evaluate_constant_multiple, {**inst, "v0": 2 * inst["v0"]})


# ---------------------------------------------------------------------------------------
# (50)-(51).
# ---------------------------------------------------------------------------------------
def _grad49(sign: int = 1):
    x, W, v = sym_network()
    nv, nW = sp.sqrt((v.T * v)[0]), sp.sqrt(sum(e**2 for e in W))
    loss = -(v.T * W.T * x)[0] / (nv * nW)
    sub = {nv: NORM_V, nW: NORM_W}
    dv = sp.Matrix([-sp.diff(loss, e) for e in v]).subs(sub)
    dW = sp.Matrix(2, 2, lambda i, j: -sp.diff(loss, W[i, j])).subs(sub)
    c = (v.T * W.T * x)[0]
    p50 = W.T * x / (NORM_V * NORM_W) - sign * c * v / (NORM_V**3 * NORM_W)
    p50_first = (sp.eye(2) - v * v.T / NORM_V**2) * W.T * x / (NORM_V * NORM_W)
    p51 = x * v.T / (NORM_V * NORM_W) - sign * c * W / (NORM_V * NORM_W**3)
    return (x, W, v), dv, dW, p50, p50_first, p51


def check_eq50_51(sign: int = 1) -> None:
    (x, W, v), dv, dW, p50, p50_first, p51 = _grad49(sign)
    for i in range(2):
        assert_zero_mod_norms(dv[i] - p50[i], x, W, v, f"(50) component {i}")
        assert_zero_mod_norms(p50_first[i] - p50[i], x, W, v, f"(50) first form, component {i}")
        for j in range(2):
            assert_zero_mod_norms(dW[i, j] - p51[i, j], x, W, v, f"(51) entry {i}{j}")
    assert_zero_mod_norms((v.T * p50)[0], x, W, v, "v . (50)")
    assert_zero_mod_norms(sum(W[i, j] * p51[i, j] for i in range(2) for j in range(2)), x, W, v, "<W, (51)>")


@pytest.mark.claim(EQ50.id, kind="symbolic")
def test_eq50_51_symbolic():
    """-grad of (49) is (50) (both forms) and (51), tangent to both spheres (sympy, d = m = 2)."""
    check_eq50_51()


@pytest.mark.claim(EQ50.id, kind="property")
def test_eq50_51_property(record_property):
    """DOP853 on (50)-(51) keeps ||v||, ||W|| and, from balanced starts, equals the radial projection of
    D.3's closed form at time t/(||v0|| ||W0||) (t = 1, 1e-8)."""
    def body(inst):
        x, W0, v0 = balanced_linear(inst)
        traj = per_layer_flow_linear(x, W0, v0, 1.0, t_eval=[1.0])
        W, v = traj.W[-1], traj.v[-1]
        require(abs(np.linalg.norm(v) - np.linalg.norm(v0)) <= 1e-9 * np.linalg.norm(v0), "||v|| moved")
        require(abs(np.linalg.norm(W) - np.linalg.norm(W0)) <= 1e-9 * np.linalg.norm(W0), "||W|| moved")
        W_ref, v_ref = projected_closed_form(x, W0, v0, 1.0)
        # 1e-8: DOP853 at rtol = atol = 1e-12 on a flow of O(1) states.
        require(np.allclose(W, W_ref, atol=1e-8) and np.allclose(v, v_ref, atol=1e-8), "projection")
    property_check(record_property, linear_instances(), body, max_examples=15)


@pytest.mark.negative_control(EQ50.id)
def test_eq50_51_negative_control():
    """Broken variant: check_eq50_51 (the symbolic check) with '+' in front of the (v^T W^T x) terms of
    (50)-(51) (sign=-1); -grad of (49) differs from it, so the check must fail."""
    rejects(check_eq50_51, sign=-1)


# ---------------------------------------------------------------------------------------
# c monotone; (52); the limit point.
# ---------------------------------------------------------------------------------------
def _dc_dt_50_51(flip: bool = False):
    (x, W, v), _, _, p50, _, p51 = _grad49()
    c = (v.T * W.T * x)[0]
    dc = (x.T * p51 * v)[0] + (x.T * W * p50)[0]
    nx2, Wtx2 = (x.T * x)[0], ((W.T * x).T * (W.T * x))[0]
    s = -1 if flip else 1
    brackets = ((nx2 * NORM_V**2 * NORM_W**2 - c**2) / (NORM_V * NORM_W**3) + s * (NORM_V**2 * Wtx2 - c**2) / (NORM_V**3 * NORM_W))
    return (x, W, v), dc, brackets


def check_c_monotone(flip: bool = False) -> None:
    """d/dt (v^T W^T x) along (50)-(51) minus the two brackets is 0 modulo the norms (sympy);
    ``flip`` flips the second bracket's sign (the broken variant of a negative control)."""
    (x, W, v), dc, brackets = _dc_dt_50_51(flip=flip)
    assert_zero_mod_norms(dc - brackets, x, W, v, "dc/dt - brackets")


@pytest.mark.claim(C_MONOTONE.id, kind="symbolic")
def test_c_monotone_symbolic():
    """Along (50)-(51), d/dt (v^T W^T x) equals the two Cauchy-Schwarz brackets of D.3 (sympy), so it is
    >= 0 and vanishes exactly on W = lambda x v^T (see appendix-d3-equality-case)."""
    check_c_monotone()


@pytest.mark.claim(C_MONOTONE.id, kind="numerical")
def test_c_monotone_numerical():
    """c = v^T W^T x is nondecreasing along DOP853 solutions of (50)-(51) (seeded, 100 points, 3 starts)."""
    rng = np.random.default_rng(50)
    for _ in range(3):
        x, W0, v0 = rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=2)
        traj = per_layer_flow_linear(x, W0, v0, 5.0, t_eval=np.linspace(0, 5.0, 100))
        c = np.einsum("km,kdm,d->k", traj.v, traj.W, x)
        assert np.all(np.diff(c) >= -1e-10)  # 1e-10: DOP853 rounding where c is flat


@pytest.mark.claim(C_MONOTONE.id, kind="property")
def test_c_monotone_property(record_property):
    """dc/dt = 0 exactly on W = lambda x v^T (both signs) and > 0 elsewhere (same brackets as D.3)."""
    strategy = st.one_of(linear_instances(kind="rank_one"), linear_instances())
    property_check(record_property, strategy, lambda inst: require(evaluate_equality_case_corrected(inst).holds),
                   max_examples=30)


@pytest.mark.negative_control(C_MONOTONE.id)
def test_c_monotone_negative_control():
    """Broken variant: check_c_monotone with the second Cauchy-Schwarz bracket's sign flipped
    (flip=True), which would let dc/dt be negative; the symbolic check must fail on it."""
    rejects(check_c_monotone, flip=True)


@pytest.mark.claim(EQ52.id, kind="property", form="printed")
def test_eq52_printed(record_property):
    """Printed (52) without a condition: counterexample searched among rank-one starts and shrunk."""
    found = search_counterexample(record_property, EQ52, linear_instances(kind="rank_one", max_d=2, max_m=2), **SEARCH)
    assert EQ52.evaluate(found).holds


@pytest.mark.claim(EQ52.id, kind="symbolic", form="corrected")
def test_eq52_symbolic():
    """At W = -lambda x v^T (lambda > 0) the right-hand sides of (50) and (51) vanish (sympy, d = m = 2)."""
    x, _, v = sym_network()
    lam = sp.symbols("lambda", positive=True)
    W = -lam * x * v.T
    nv, nW = sp.sqrt((v.T * v)[0]), sp.sqrt(sum(e**2 for e in W))
    c = (v.T * W.T * x)[0]
    r50 = W.T * x / (nv * nW) - c * v / (nv**3 * nW)
    r51 = x * v.T / (nv * nW) - c * W / (nv * nW**3)
    x0 = {s: val for s, val in zip(list(x) + list(v), (1, 2, 3, -1))}
    for e in list(r50) + list(r51):
        assert_sympy_zero(sp.nsimplify(e.subs(x0)), "(50)-(51) at the anti-aligned state")


@pytest.mark.claim(EQ52.id, kind="property", form="corrected")
def test_eq52_property(record_property):
    """Corrected: (52) holds exactly when c(0) > -||v0|| ||W0|| ||x|| (rank-one starts of both signs, generic)."""
    strategy = st.one_of(linear_instances(kind="rank_one", max_d=2, max_m=2), linear_instances(max_d=2, max_m=2))
    property_check(record_property, strategy, lambda inst: require(evaluate_eq52_corrected(inst).holds), max_examples=15)


@pytest.mark.negative_control(EQ52.id)
def test_eq52_negative_control():
    """Broken variant: evaluate_eq52 (and the corrected evaluate_eq52_corrected) with the target
    -x v^T/(||x|| ||v||) (target_sign=-1, the anti-aligned direction) on a converging start, where
    W/||W|| moves away from it; both must reject it."""
    inst = {"x": np.array([1.0, 2.0]), "W0": np.array([[1.0, 0.0], [0.5, -1.0]]), "v0": np.array([1.0, 0.5])}
    assert evaluate_eq52(inst).holds and evaluate_eq52_corrected(inst).holds
    rejects(evaluate_eq52, inst, target_sign=-1.0)
    rejects(evaluate_eq52_corrected, inst, target_sign=-1.0)


def check_limit_point_balanced(inst, *, v_bar_from_start: bool = False) -> None:
    """From the balanced start of ``inst`` (balanced_linear), (50)-(51) at k_eff t = 14 are within 1e-6 (v)
    and 1e-4 (W) of (||v0|| v_bar, ||W0|| W_bar), D.3's limit directions. ``v_bar_from_start`` is the
    broken variant taking v_bar = v0/||v0|| (no motion) for the limit (a negative control switches it in)."""
    x, W0, v0 = balanced_linear(inst)
    v_bar, W_bar = linear_network_limit_directions(x, W0, v0)
    if v_bar_from_start:
        v_bar = v0 / np.linalg.norm(v0)
    k_eff = np.linalg.norm(x) / (np.linalg.norm(v0) * np.linalg.norm(W0))
    W, v = linear_flow(x, W0, v0, [14.0 / k_eff])
    # 1e-6 for v: its gap decays like e^{-2 k_eff t} = e^{-28}. 1e-4 for W: its gap decays like
    # e^{-k_eff t} = 8e-7 times a constant of the start (at most ~20, a gap of 1.7e-5, over 500
    # generated small-integer starts).
    require(np.linalg.norm(v[-1] / np.linalg.norm(v0) - v_bar) <= 1e-6, "v")
    require(np.linalg.norm(W[-1] / np.linalg.norm(W0) - W_bar) <= 1e-4, "W")


@pytest.mark.claim(LIMIT_POINT.id, kind="property")
def test_limit_point_property(record_property):
    """From balanced starts, (50)-(51) converge to (||v0|| v_bar, ||W0|| W_bar) of D.3 (u_+ != 0):
    distance <= 1e-6 at k_eff t = 14 (v's gap decays like e^{-2 k_eff t})."""
    property_check(record_property, linear_instances(max_d=2, max_m=2), check_limit_point_balanced, max_examples=15)


@pytest.mark.claim(LIMIT_POINT.id, kind="numerical")
def test_limit_point_unbalanced(record_property):
    """Without balance (||W0|| = 3 ||v0||) the DOP853 solution still settles: ||v(t2) - v(t1)|| falls
    like e^{-rate t} (Cauchy), to below 1e-8 by k_eff t = 40 (seeded)."""
    rng = np.random.default_rng(52)
    x, W0, v0 = rng.normal(size=2), rng.normal(size=(2, 2)), rng.normal(size=2)
    W0 *= 3 * np.linalg.norm(v0) / np.linalg.norm(W0)
    k_eff = np.linalg.norm(x) / (np.linalg.norm(v0) * np.linalg.norm(W0))
    times = np.array([20.0, 30.0, 40.0]) / k_eff
    traj = per_layer_flow_linear(x, W0, v0, float(times[-1]), t_eval=times)
    steps = [np.linalg.norm(traj.v[i + 1] - traj.v[i]) for i in range(2)]
    record_property("fig:unbalanced_last_step", float(steps[-1]))
    # 1e-8: a converging trajectory moves by ~e^{-20} over the last window; DOP853 noise ~1e-11.
    assert steps[-1] <= 1e-8


@pytest.mark.claim(LIMIT_POINT.id, kind="property")
def test_limit_point_relu_property(record_property):
    """On generated instances (the whole hidden layer as the group, x = x_+) the flow (50)-(51) settles:
    evaluate_limit_point (last-window move <= 1e-6 of the norms)."""
    property_check(record_property, paper_instances(**LIMIT_POINT.instance_bounds),
                   lambda inst: require(evaluate_limit_point(inst).holds), max_examples=15)


@pytest.mark.negative_control(LIMIT_POINT.id)
def test_limit_point_evaluation_negative_control():
    """Broken variant: evaluate_limit_point with its settling window taken too early (k_slow t in
    [0.5, 1] instead of [30, 40]); from a generic start the state still moves by far more than 1e-6
    there, so the evaluation must reject it."""
    inst = {"x": np.array([1.0, 2.0]), "W0": np.array([[1.0, 0.5], [0.0, -1.0]]), "v0": np.array([1.0, 0.5])}
    assert evaluate_limit_point(inst).holds
    rejects(evaluate_limit_point, inst, window=(0.5, 1.0))


@pytest.mark.negative_control(LIMIT_POINT.id)
def test_limit_point_negative_control():
    """Broken variant: check_limit_point_balanced with v_bar taken from the initial v0 (no motion) on a
    balanced start whose v turns by O(1); the limit check must reject it."""
    inst = {"x": np.array([1.0, 0.0]), "W0": np.array([[0.0, 1.0], [1.0, 0.0]]), "v0": np.array([1.0, 0.0])}
    check_limit_point_balanced(inst)
    rejects(check_limit_point_balanced, inst, v_bar_from_start=True)


# ---------------------------------------------------------------------------------------
# (47) vs (49) after alignment.
# ---------------------------------------------------------------------------------------
def _aligned_group_instance():
    """A seeded instance whose positive group is aligned at t = 0 (w_j in S_+), two neurons, balanced."""
    X = np.array([[1.0, 0.3], [1.0, -0.2], [-1.0, 0.1]])
    y = np.array([1.0, 1.0, -1.0])
    W0 = np.array([[0.8, 0.5], [0.3, -0.6]])  # <w_j, x_i> > 0 on the positives, < 0 on the negative
    v0 = np.linalg.norm(W0, axis=1)
    return {"X": X, "y": y, "W0": W0, "v0": v0}


@pytest.mark.claim(SAME_FLOW.id, kind="numerical", form="proof-step")
def test_normalisations_same_flow():
    """Proof step: from the same aligned state, the (47) flow and the (49) flow (per group) coincide."""
    inst = _aligned_group_instance()
    X, y, W0, v0 = inst["X"], inst["y"], inst["W0"], inst["v0"]
    a = per_neuron_normalised_flow(X, y, W0, v0, 1.0, form="eq47")
    b = per_layer_normalised_flow(X, y, W0, v0, 1.0, form="eq49", blocks="sign")
    (Wa, va), (Wb, vb) = a.state_at(1.0), b.state_at(1.0)
    assert np.allclose(Wa, Wb, atol=FLOW_TOL) and np.allclose(va, vb, atol=FLOW_TOL)


@pytest.mark.claim(SAME_FLOW.id, kind="numerical")
def test_normalisations_rank_one(record_property):
    """The statement's conclusion holds under (47): the aligned group's W/||W|| -> x v^T/(||x|| ||v||)
    (v frozen, balanced), gap <= 1e-6 at t = 16/(||x_+|| min_j 1/||w_j||^2) (rate e^{-||x|| t/||w_j||^2})."""
    inst = _aligned_group_instance()
    X, y, W0, v0 = inst["X"], inst["y"], inst["W0"], inst["v0"]
    x_plus = class_sums(X, y)[0]
    k = np.linalg.norm(x_plus)
    t = 16.0 * float(np.max(np.linalg.norm(W0, axis=1) ** 2)) / k
    res = per_neuron_normalised_flow(X, y, W0, v0, t, form="eq47")
    W, v = res.state_at(t)
    gap = np.linalg.norm(W / np.linalg.norm(W) - np.outer(v, x_plus) / (np.linalg.norm(v) * k))
    record_property("fig:wn47_rank_one_gap", float(gap))
    assert gap <= 1e-6  # e^{-16} ~ 1e-7 times a constant <= 2


@pytest.mark.negative_control(SAME_FLOW.id)
def test_normalisations_negative_control():
    """Broken variant: evaluate_normalisations with each group's target built from the other class's sum,
    g x_{-g} v_g^T/(||x_{-g}|| ||v_g||) (swap_class_sums=True), on the aligned two-neuron group; the
    group converges to x_+ v^T, so the evaluation must reject it."""
    inst = _aligned_group_instance()
    assert evaluate_normalisations(inst).holds
    rejects(evaluate_normalisations, inst, swap_class_sums=True)


@st.composite
def with_aligned_pair(draw, base):
    """An instance of ``base`` (Assumptions 1-3) with two more balanced neurons of one sign g planted
    inside S_g, so that an aligned group of >= 2 neurons exists by construction (where the rank-one
    check has teeth; random draws give one in about a fifth of the examples).

    Construction: s = sum_i y_i x_i has <s, y_k x_k> = sum_i <y_i x_i, y_k x_k> >= ||x_k||^2 > 0 under
    Assumption 1 (every pairwise cosine > 0), so s is in S_+ and -s in S_-, with the margin
    m = min_k <s_hat, y_k x_k>/||x_k|| > 0. Each planted w = g r (s_hat + eta)/||s_hat + eta|| with eta
    orthogonal to s_hat and ||eta|| <= m/2 keeps <w, y_k x_k> of sign g with margin >= m/2, so w starts
    in S_g (and stays there, Claim 1); v = g ||w|| (balanced). A w in S_+ has <w, x_-> < 0, so it is never
    parallel to x_- (non-extreme), and likewise for S_-. r is 0.2 to 1 times the largest drawn ||w_j||
    (small-init keeps the status it was drawn with).
    """
    inst = draw(base)
    X, y, W0, v0 = _relu_arrays(inst)
    g = draw(st.sampled_from((1.0, -1.0)))
    Z = y[:, None] * X
    s_hat = Z.sum(axis=0) / np.linalg.norm(Z.sum(axis=0))
    margin = float(np.min(Z @ s_hat / np.linalg.norm(X, axis=1)))
    assert margin > 0, "Assumption 1 fails on the drawn instance"
    largest = float(np.max(np.linalg.norm(W0, axis=1)))
    planted_W, planted_v = [], []
    for _ in range(2):
        raw = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=X.shape[1], max_size=X.shape[1])))
        eta = raw - s_hat * float(raw @ s_hat)
        size = float(np.linalg.norm(eta))
        # 1e-12: a projection this short is rounding of a raw vector parallel to s_hat (no direction).
        eta = eta / size * draw(st.floats(0.0, 0.5)) * margin if size > 1e-12 else np.zeros_like(eta)
        w = g * draw(st.floats(0.2, 1.0)) * largest * (s_hat + eta) / np.linalg.norm(s_hat + eta)
        planted_W.append(w)
        planted_v.append(g * float(np.linalg.norm(w)))
    out = {**inst, "W0": np.vstack([W0, planted_W]), "v0": np.concatenate([v0, planted_v])}
    for a in PAPER_ASSUMPTIONS:
        assert get_assumption(a).test(out), f"the planted instance violates {a}"
    return out


@pytest.mark.claim(SAME_FLOW.id, kind="property")
def test_normalisations_property(record_property):
    """On generated instances (Assumptions 1-3) with an aligned pair planted (with_aligned_pair), every
    aligned group of the (47) flow ends rank-one, W_g/||W_g|| -> g x_g v_g^T/(||x_g|| ||v_g||)
    (evaluate_normalisations); every example has an aligned group of two or more neurons by construction,
    which the body confirms."""
    def body(inst):
        evaluation = evaluate_normalisations(inst)
        require(evaluation.holds, f"rank-one collapse fails: {evaluation.figures}")
        require(evaluation.figures["aligned_neurons"] >= 2, f"the planted pair is not aligned: {evaluation.figures}")
    bounds = {**SAME_FLOW.instance_bounds, "max_h": SAME_FLOW.instance_bounds["max_h"] - 1}
    property_check(record_property, with_aligned_pair(paper_instances(**bounds)), body, max_examples=15)


@pytest.mark.negative_control(SAME_FLOW.id)
def test_normalisations_evaluation_negative_control():
    """Broken instance: the aligned two-neuron group with v = (1, 3) ||w_j|| (outside balanced-init); under
    (47) v is frozen and the group converges to x (||w_j||)_j^T, not parallel to x v^T, so
    evaluate_normalisations must reject it."""
    inst = _aligned_group_instance()
    assert evaluate_normalisations(inst).holds
    rejects(evaluate_normalisations, {**inst, "v0": inst["v0"] * np.array([1.0, 3.0])})


# ---------------------------------------------------------------------------------------
# Section 5.2: weight normalisation and the class asymmetry.
# ---------------------------------------------------------------------------------------
def asymmetry_log_ratios(inst, times, *, flow, floor: float = -np.inf) -> np.ndarray:
    """log(||mu_+|| / ||mu_-||) of the class-mean features at the given times under a normalised flow;
    a class-mean log-norm below ``floor`` counts as -inf (a zero mean: the ratio is then not finite)."""
    X, y, W0, v0 = inst["X"], inst["y"], inst["W0"], inst["v0"]
    res = flow(X, y, W0, v0, float(times[-1]))
    if res.status != "ok":
        raise FlowStopped(f"the normalised flow stopped early ({res.status}: {res.message})")
    out = []
    for t in times:
        lp, lm = (v if v >= floor else -np.inf
                  for v in class_mean_log_norms(scaled_state(*res.unit_state_at(float(t))), X, y))
        with np.errstate(invalid="ignore"):
            out.append(lp - lm)
    return np.array(out)


def _unequal_instance():
    """Assumptions 1-3, ||x_+|| = 3 ||x_-|| roughly, both groups live under every flow used here."""
    X = np.array([[2.0, 0.3], [2.2, -0.2], [1.8, 0.1], [-0.9, -0.2], [-1.1, 0.1]])
    y = np.array([1.0, 1.0, 1.0, -1.0, -1.0])
    W0 = np.array([[0.5, 0.2], [-0.45, 0.1]])
    v0 = np.array([1.0, -1.0]) * np.linalg.norm(W0, axis=1)
    return {"X": X, "y": y, "W0": W0, "v0": v0}


@pytest.mark.claim(ASYMMETRY.id, kind="numerical")
def test_asymmetry_per_neuron(record_property):
    """Per-neuron weight normalisation (47): log(||mu_+||/||mu_-||) settles (changes < 1e-6 between
    t = 20 and 30 in units of ||w||^2/||x||) at a finite value; without normalisation it grows like
    (||x_+|| - ||x_-||) t (exact flow)."""
    inst = _unequal_instance()
    X, y = inst["X"], inst["y"]
    x_plus, x_minus = class_sums(X, y)
    unit = float(np.max(np.linalg.norm(inst["W0"], axis=1) ** 2)) / min(np.linalg.norm(x_plus), np.linalg.norm(x_minus))
    ratios = asymmetry_log_ratios(inst, np.array([20.0, 30.0]) * unit,
                                  flow=lambda *a: per_neuron_normalised_flow(*a, form="eq47"))
    record_property("fig:wn_log_ratio", float(ratios[-1]))
    assert np.all(np.isfinite(ratios)) and abs(ratios[1] - ratios[0]) <= 1e-6
    gf = gradient_flow(X, y, inst["W0"], inst["v0"], 12.0)
    logs = [np.subtract(*class_mean_log_norms(scaled_state(*gf.unit_state_at(t)), X, y)) for t in (8.0, 12.0)]
    gap = np.linalg.norm(x_plus) - np.linalg.norm(x_minus)
    # 1e-6 relative: the exact flow's log-ratio slope converges like e^{-||x_-|| t}.
    assert abs((logs[1] - logs[0]) / 4.0 - gap) <= 1e-6 * abs(gap) * 10


@pytest.mark.negative_control(ASYMMETRY.id)
def test_asymmetry_negative_control():
    """Broken variant: evaluate_asymmetry under whole-layer normalisation (normalisation="layer": ||W||_F
    and ||v|| fixed, not each ||w_j||); there the log-ratio keeps growing, as without normalisation, so
    the 'settles' test must reject it on the instance where (47) passes."""
    inst = _unequal_instance()
    assert evaluate_asymmetry(inst).holds
    rejects(evaluate_asymmetry, inst, normalisation="layer")


@pytest.mark.claim(ASYMMETRY.id, kind="property")
def test_asymmetry_property(record_property):
    """On generated instances (Assumptions 1-3, two to four neurons) the log-ratio of class-mean feature
    norms settles under (47) whenever both classes keep a live neuron (evaluate_asymmetry); at least
    a fifth of the examples must be such instances (the rest have a dead class and are vacuous)."""
    live = []

    def body(inst):
        evaluation = evaluate_asymmetry(inst)
        live.append(evaluation.figures["dead_class"] == 0.0)
        require(evaluation.holds)
    bounds = {**ASYMMETRY.instance_bounds, "min_h": 2, "max_h": 4}
    n = property_check(record_property, paper_instances(**bounds), body, max_examples=20)
    assert sum(live) * 5 >= n, live


@pytest.mark.negative_control(ASYMMETRY.id)
def test_asymmetry_evaluation_negative_control():
    """Broken variant: evaluate_asymmetry with a window too early to settle (0.2 to 0.4 units after the
    last activation change, instead of 20 to 30); the directions still move there, so the settling test
    must reject it."""
    inst = _unequal_instance()
    assert evaluate_asymmetry(inst).holds
    rejects(evaluate_asymmetry, inst, window=(0.2, 0.4))
