"""Section 5.2: the network of eq. (2), Theorem 4 and the caveats after it.

Statements, as printed:
    (2)  f(x; theta) = v^T sigma(W^T x) = sum_j v_j sigma(<w_j, x>),  W = [w_1, ..., w_h]^T.
    Theorem 4. Under Assumptions 1, 2 and 3, v_bar = lim v(t)/||v(t)||, W_bar = lim W(t)/||W(t)||
    exist. Moreover, there exist nonnegative constants s_+(t), s_-(t) and unit vectors u_+(t), u_-(t)
    such that
      - (directional collapse) phi(x_i) - <s_+(t) x_+, x_i> u_+(t) -> 0 for y_i = +1, and
        phi(x_i) - <s_-(t) x_-, x_i> u_-(t) -> 0 for y_i = -1; moreover u_bar_+- = lim u_+-(t) exist;
      - (orthogonal class means) <u_bar_+, u_bar_-> = 0;
      - (alignment) v(t) = s_+(t) u_+(t) - s_-(t) u_-(t).
    Caveats: "unlike logistic loss where lim s_+(t)/s_-(t) exists, the linear loss would not allow
    this limit. More concretely, s_+(t) = Theta(e^{||x_+||^t}), s_-(t) = Theta(e^{||x_-||^t})."

Referee reading. s_+-, u_+- are constructed from the alignment bullet (models.theorem4_features):
s_+ u_+ = v_{N+}, s_- u_- = -v_{N-} (v with the entries of the other group zeroed). After
alignment each live group is the linear network of Appendix D.3 with input x_+- (checked in
claims/claim_linear_network.py), which gives everything in closed form:
  - (2): with W = [w_1, ..., w_h]^T (h, d), W^T x is undefined unless h = d, and then it is not
    (<w_j, x>)_j; the features are sigma(W x) (or W = [w_1, ..., w_h], as Appendix D.3 uses it).
  - v_bar and W_bar exist (verified, with the rates min(2||x||_max, gap) and min(||x||_max, gap),
    gap = | ||x_+|| - ||x_-|| |; in a tie both groups share the limit).
  - The directional-collapse bullet fails as printed: for every choice of s u, the difference tends
    to the constant W(t_a) P_perp x_i (P_perp the projection orthogonal to x_+-), nonzero as soon as
    d >= 2 and a class has two non-parallel samples. Divided by s_+-(t) it tends to 0 (rate
    e^{-||x_+-|| t}) once x_+- is read as x_+-/||x_+-||.
  - With the printed x_+- (not normalised) the collapse bullet and the alignment bullet are
    incompatible unless ||x_+|| = ||x_-|| = 1: the features force s_+ u_+ ~ v_{N+}/||x_+||.
  - u_bar_+- exist and are orthogonal (disjoint supports N_+ and N_-): verified.
  - The rates are e^{||x_+-|| t}, not e^{||x_+-||^t}; a group whose neurons all die has constant s.
  - lim s_+/s_- exists (finite, positive) exactly when ||x_+|| = ||x_-|| and both groups live.
  - If every neuron of a group dies (possible under Assumptions 1-3, e.g. h = 1 with w_1(0)
    active on the other class only) no s, u satisfy the bullets jointly; the corrected forms are
    stated for live groups.
The claim about batch normalisation ("maintains the balance between ||x_+|| and ||x_-||") is
about deep networks; nothing here models it. The weight-normalisation caveat is
``section-5-2-wn-asymmetry`` in claims/claim_weight_normalisation.py.

Instances: X (n, d), y (n,), W0 (h, d) rows w_j(0), v0 (h,). The trained network is read through
claims.dynamics.evolve (so referee variants of the dynamics can be probed); the
alignment time t_a comes from the exact linear-loss flow.

References:
    Section 5.2, eq. (2), Assumptions 1-3, Theorem 4 and the paragraph after it; Appendix D.3;
    Appendix B.3 (NC2 metric); Min, Mallada & Vidal (2024), directional collapse under logistic loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.claim_linear_network import (
    PAPER_ASSUMPTIONS,
    DYNAMICS_ASSUMPTIONS,
    RELU_BOUNDS,
    SEARCH,
    paper_instances,
    seeded_relu_instance,
    tiny_instances,
)
from claims.assumptions import get_assumption
from claims.framework.checks import property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from claims.dynamics import DynamicsError, evolve, evolve_until_settled, variant
from models.data_geometry import class_sums
from models.theorem4_features import (
    FeatureInputError,
    Limits,
    ScaledState,
    aligned_groups,
    alignment_time,
    class_mean_cosine,
    class_scales,
    collapse_residuals,
    direction_distances,
    predicted_limits,
    scaled_state,
)
from models.two_layer_relu import gradient_flow

_ASSUMPTIONS = PAPER_ASSUMPTIONS + DYNAMICS_ASSUMPTIONS

# 1e-9: at the late times used (40 / rate) the predicted distance is C e^{-40} ~ 4e-18 C, and
# C <= ~1e3 on these instances; float64 unit vectors carry ~1e-16. A wrong limit is off by O(1).
LIMIT_TOL = 1e-9


# ---------------------------------------------------------------------------------------
# The trained network around and after alignment.
# ---------------------------------------------------------------------------------------
def _evolved_state(inst, t: float) -> ScaledState:
    """The scaled state of evolve(inst, t); t = 0 is the initialisation itself (read directly: the
    logistic simulator has no dense output for a zero horizon)."""
    if t == 0.0:
        W0, v0 = np.asarray(inst["W0"], np.float64), np.asarray(inst["v0"], np.float64)
        norms = np.linalg.norm(np.hstack([W0, v0[:, None]]), axis=1)
        with np.errstate(divide="ignore"):
            return scaled_state(W0 / np.where(norms > 0, norms, 1.0)[:, None], v0 / np.where(norms > 0, norms, 1.0),
                                np.log(norms))
    end = evolve(inst, t)
    if end.status != "ok":
        raise DynamicsError(f"the dynamics stopped early ({end.status})")
    return scaled_state(end.W_unit, end.v_unit, end.log_norm)


@dataclass(frozen=True)
class Trained:
    """An instance with its alignment time t_a (exact linear-loss flow), the growth rates and the
    limits predicted from the state at t_a; ``at(t)`` gives the scaled state through evolve."""

    inst: dict
    X: np.ndarray
    y: np.ndarray
    v0: np.ndarray
    k_plus: float
    k_minus: float
    t_a: float
    limits: Limits
    live_plus: bool
    live_minus: bool
    flow: object  # the exact linear-loss FlowResult; reused when the instance asks for no variant

    def at(self, t: float) -> ScaledState:
        if variant(self.inst) == (None, "linear") and t <= self.flow.t_end:
            return scaled_state(*self.flow.unit_state_at(t))  # what evolve(inst, t) returns, without a rerun
        return _evolved_state(self.inst, t)

    def k(self, label: float) -> float:
        return self.k_plus if label > 0 else self.k_minus

    def live(self, label: float) -> bool:
        return self.live_plus if label > 0 else self.live_minus


# A variant (gradient descent, the logistic loss) aligns on its own clock: it is looked at from the
# flow's alignment time t_a on, at t_a, 2 t_a, ..., up to VARIANT_HORIZON t_a; gradient descent
# with a step within the probes' range aligns within a few steps of t_a, so 64 t_a is ample.
VARIANT_HORIZON = 64.0


def trained(inst) -> Trained | None:
    """Run the instance to alignment; None if the exact flow is not aligned by t = 1e6/||x||_max
    (or a variant by VARIANT_HORIZON times the flow's alignment time)."""
    X, y, W0, v0 = (np.asarray(inst[k], np.float64) for k in ("X", "y", "W0", "v0"))
    x_plus, x_minus = class_sums(X, y)
    k_plus, k_minus = float(np.linalg.norm(x_plus)), float(np.linalg.norm(x_minus))
    res = gradient_flow(X, y, W0, v0, 1e6 / max(k_plus, k_minus))
    t_a = alignment_time(res, v0)
    if not math.isfinite(t_a):
        return None
    if variant(inst) == (None, "linear"):
        state, active = scaled_state(*res.unit_state_at(t_a)), res.activation_pattern(t_a)
    else:  # a variant is judged on its own clock: its first aligned state from t_a on (up to 64 t_a)
        if t_a > 0:
            end, t_a = evolve_until_settled(inst, VARIANT_HORIZON * t_a,
                                            lambda e: aligned_groups(e.active, v0, y) is not None, first=t_a)
            if end.status != "ok":
                raise DynamicsError(f"the dynamics stopped early ({end.status})")
            state = scaled_state(end.W_unit, end.v_unit, end.log_norm)
        else:
            state = _evolved_state(inst, t_a)
        active = (state.W_s @ X.T) > 0
    groups = aligned_groups(active, v0, y)
    if groups is None:
        return None
    limits = predicted_limits(state, X, y, v0, t_a, active)
    return Trained(dict(inst), X, y, v0, k_plus, k_minus, t_a, limits, bool(groups[0].any()), bool(groups[1].any()),
                   res)


def _guarded(evaluate):
    """Evaluations that need an aligned network: not aligned or stopped dynamics -> fails, with a figure.

    Keyword arguments (the broken variants that negative controls switch in) pass through."""
    def wrapped(inst, **variant_kwargs) -> Evaluation:
        try:
            tr = trained(inst)
            if tr is None:
                return Evaluation(holds=False, figures={"aligned": 0.0})
            return evaluate(tr, **variant_kwargs)
        except (DynamicsError, FeatureInputError):
            return Evaluation(holds=False, figures={"not_evaluable": 1.0})
    wrapped.__doc__ = evaluate.__doc__
    wrapped.__name__ = evaluate.__name__
    return wrapped


# ---------------------------------------------------------------------------------------
# Evaluations (the printed statements and the corrected ones).
# ---------------------------------------------------------------------------------------
def evaluate_eq2(inst) -> Evaluation:
    """Printed (2): v^T sigma(W^T x_i) with W = [w_1..w_h]^T (rows) equals sum_j v_j sigma(<w_j, x_i>)."""
    X, W, v = (np.asarray(inst[k], np.float64) for k in ("X", "W0", "v0"))
    h, d = W.shape
    if h != d:
        return Evaluation(holds=False, figures={"h": float(h), "d": float(d), "shape_mismatch": 1.0})
    printed = np.maximum(X @ W, 0.0) @ v  # rows of X: x_i^T W = (W^T x_i)^T
    meant = np.maximum(X @ W.T, 0.0) @ v
    err = float(np.max(np.abs(printed - meant)))
    # 1e-12 relative: the same sums in two orders.
    return Evaluation(holds=err <= 1e-12 * max(1.0, float(np.max(np.abs(meant)))), figures={"max_abs_difference": err})


def evaluate_eq2_corrected(inst, *, transpose: bool = False) -> Evaluation:
    """Corrected (2): v^T relu(W x_i) with rows w_j equals sum_j v_j relu(<w_j, x_i>) (the simulator's f).

    ``transpose`` (a broken variant for the negative control) uses the printed W^T x_i with the
    rows convention (defined only when h = d)."""
    X, W, v = (np.asarray(inst[k], np.float64) for k in ("X", "W0", "v0"))
    pre = (W.T if transpose else W) @ X.T  # (h, n)
    f = np.maximum(pre, 0.0).T @ v
    ref = np.array([sum(v[j] * max(float(W[j] @ x), 0.0) for j in range(W.shape[0])) for x in X])
    # 1e-12 relative (1e-15 absolute): the same <= h products summed in two orders.
    return Evaluation(holds=bool(np.allclose(f, ref, rtol=1e-12, atol=1e-15)),
                      figures={"max_abs_difference": float(np.max(np.abs(f - ref)))})


@_guarded
def evaluate_limits(tr: Trained, *, from_initial: bool = False) -> Evaluation:
    """v/||v||, W/||W||_F at t_a + 40/rate are within 1e-9 of the limits predicted at t_a.

    ``from_initial`` (a broken variant for the negative control) takes the initial directions
    v(0)/||v(0)||, W(0)/||W(0)||_F as the limits."""
    rate = min(tr.limits.rate_v, tr.limits.rate_W)
    tau = 40.0 / rate if math.isfinite(rate) else 1.0
    limits = tr.limits
    if from_initial:
        limits = Limits(**{**limits.__dict__, "v_bar": tr.v0 / np.linalg.norm(tr.v0),
                           "W_bar": np.asarray(tr.inst["W0"], np.float64) / np.linalg.norm(tr.inst["W0"])})
    dv, dW = direction_distances(tr.at(tr.t_a + tau), limits)
    return Evaluation(holds=dv <= LIMIT_TOL and dW <= LIMIT_TOL,
                      figures={"t_a": tr.t_a, "tau": tau, "dist_v": dv, "dist_W": dW})


@_guarded
def evaluate_collapse_printed(tr: Trained) -> Evaluation:
    """Printed bullet (absolute difference -> 0 for the best s u): the least-squares floor of the
    residual must fall from tau = 2/||x_c|| to 6/||x_c|| (by e^{-4} if it decays like the rest)."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        if not tr.live(label):
            continue  # no live neuron: the class's features are 0 and s = 0 fits them
        k = tr.k(label)
        floors, noise = [], 0.0
        for tau in (2.0 / k, 6.0 / k):
            res = collapse_residuals(tr.at(tr.t_a + tau), tr.X, tr.y, tr.v0, label)
            floors.append(res.printed_floor)
            noise = 1e-13 * res.feature_scale  # rounding of features of that size (float64, ~10 terms)
        figs[f"floor_{name}_early"], figs[f"floor_{name}_late"] = floors
        holds &= floors[1] <= 0.1 * floors[0] + noise
    return Evaluation(holds=holds, figures=figs)


@_guarded
def evaluate_collapse_corrected(tr: Trained, *, normalise: bool = True) -> Evaluation:
    """Corrected bullet: max_i ||phi(x_i)/s_c - <x_c/||x_c||, x_i> u_c|| <= 1e-9 at tau = 40/||x_c||
    for each class with a live neuron (rate e^{-||x_c|| tau}).

    ``normalise=False`` (a broken variant for the negative control) keeps x_c itself in the bullet:
    phi/s_c - <x_c, x_i> u_c = ||x_c|| (phi/(||x_c|| s_c) - <x_c/||x_c||, x_i> u_c), evaluated by
    scaling v_{Nc} (hence s_c, not u_c or phi) by ||x_c|| in the state."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        if not tr.live(label):
            figs[f"dead_{name}"] = 1.0
            continue
        k = tr.k(label)
        state = tr.at(tr.t_a + 40.0 / k)
        factor = 1.0
        if not normalise:
            group = tr.v0 * label > 0
            state = scaled_state(state.W_unit, np.where(group, k * state.v_unit, state.v_unit), state.log_norm)
            factor = k
        rel = factor * collapse_residuals(state, tr.X, tr.y, tr.v0, label).relative
        figs[f"relative_{name}"] = rel
        holds &= rel <= LIMIT_TOL
    return Evaluation(holds=holds, figures=figs)


@_guarded
def evaluate_feature_limits(tr: Trained, *, from_initial: bool = False) -> Evaluation:
    """u_+-(t) at t_a + 40/rate_u are within 1e-9 of the predicted u_bar_+- (zero vectors match zero).

    ``from_initial`` (a broken variant for the negative control) takes u_+-(0) as the limits."""
    tau = 40.0 / tr.limits.rate_u if math.isfinite(tr.limits.rate_u) else 1.0
    scales = class_scales(tr.at(tr.t_a + tau), tr.v0)
    u_bar_plus, u_bar_minus = tr.limits.u_bar_plus, tr.limits.u_bar_minus
    if from_initial:
        start = class_scales(tr.at(0.0), tr.v0)
        u_bar_plus, u_bar_minus = start.u_plus, start.u_minus
    dp = float(np.linalg.norm(scales.u_plus - u_bar_plus))
    dm = float(np.linalg.norm(scales.u_minus - u_bar_minus))
    return Evaluation(holds=dp <= LIMIT_TOL and dm <= LIMIT_TOL, figures={"dist_u_plus": dp, "dist_u_minus": dm})


def orthogonality(state: ScaledState, X, y, v0) -> tuple[float, float]:
    """(|<u_+, u_->|, |cos(mu_+, mu_-)|) at one state (0 for a zero class mean)."""
    scales = class_scales(state, v0)
    cos = class_mean_cosine(state, X, y)
    return abs(float(scales.u_plus @ scales.u_minus)), (0.0 if math.isnan(cos) else abs(cos))


@_guarded
def evaluate_orthogonal(tr: Trained, *, before_alignment: bool = False) -> Evaluation:
    """After alignment <u_+, u_-> = 0 and cos(mu_+, mu_-) = 0 (disjoint supports: exact zeros),
    checked at t_a + 1/||x|| and at the late time of the limits; the limits inherit it.

    ``before_alignment`` (a broken variant for the negative control) checks the network at t = 0
    and t_a / 2 instead, before the neurons are aligned."""
    worst = 0.0
    times = (0.0, tr.t_a / 2) if before_alignment else \
        tuple(tr.t_a + tau for tau in (1.0 / max(tr.k_plus, tr.k_minus), 20.0 / max(tr.k_plus, tr.k_minus)))
    for t in times:
        worst = max(worst, *orthogonality(tr.at(t), tr.X, tr.y, tr.v0))
    limit_inner = abs(float(tr.limits.u_bar_plus @ tr.limits.u_bar_minus))
    # 1e-15: products of entries that are exactly 0 on one side; only rounding of a zero sum remains.
    return Evaluation(holds=worst <= 1e-15 and limit_inner <= 1e-15,
                      figures={"max_abs_cos": worst, "limit_inner": limit_inner})


@_guarded
def evaluate_alignment_printed(tr: Trained) -> Evaluation:
    """Printed: the s_c u_c that fit the collapse bullet (least squares, x_c unnormalised) satisfy
    v = s_+ u_+ - s_- u_-: ||z*_c - (+-v_{Nc})|| / ||v_{Nc}|| <= 1e-6 at tau = 40/||x_c||."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        if not tr.live(label):
            continue
        gap = collapse_residuals(tr.at(tr.t_a + 40.0 / tr.k(label)), tr.X, tr.y, tr.v0, label).fitted_over_v
        figs[f"gap_{name}"] = gap
        # 1e-6: the fit approaches its limit like e^{-||x_c|| tau} ~ 4e-18 relative here.
        holds &= gap <= 1e-6
    return Evaluation(holds=holds, figures=figs)


@_guarded
def evaluate_alignment_corrected(tr: Trained, *, plus_sign: bool = False) -> Evaluation:
    """Corrected: with x_c/||x_c|| in the bullet, ||(||x_c|| z*_c) - (+-v_{Nc})|| / ||v_{Nc}|| <= 1e-6.

    ``plus_sign`` (a broken variant for the negative control) reads the bullet as
    v = s_+ u_+ + s_- u_-, i.e. s_- u_- = +v_{N-}: the state is compared with v_{N-} negated."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        if not tr.live(label):
            continue
        state = tr.at(tr.t_a + 40.0 / tr.k(label))
        if plus_sign:
            state = ScaledState(state.W_s, np.where(tr.v0 < 0, -state.v_s, state.v_s), state.log_scale)
        gap = collapse_residuals(state, tr.X, tr.y, tr.v0, label).fitted_norm_over_v
        figs[f"gap_{name}"] = gap
        holds &= gap <= 1e-6
    return Evaluation(holds=holds, figures=figs)


def _log_s(state: ScaledState, v0, label: float) -> float:
    scales = class_scales(state, v0)
    return scales.log_s_plus if label > 0 else scales.log_s_minus


@_guarded
def evaluate_rates_printed(tr: Trained) -> Evaluation:
    """Printed: log s_c(t) - ||x_c||^t stays within a band of width 2 (a Theta) over
    t = t_a + j 10/||x_c||, j = 1..4, for each class whose group N_c is not empty (s_c = 0 otherwise)."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        if not np.any(tr.v0 * label > 0):
            continue
        k = tr.k(label)
        times = [tr.t_a + j * 10.0 / k for j in range(1, 5)]
        with np.errstate(over="ignore"):
            diffs = [_log_s(tr.at(t), tr.v0, label) - float(np.power(k, t)) for t in times]
        if all(math.isfinite(d) for d in diffs):
            spread = max(diffs) - min(diffs)
            figs[f"spread_{name}"] = spread
        else:  # ||x_c||^t overflowed: the printed Theta-scale is already beyond float64
            spread = math.inf
            figs[f"overflow_{name}"] = 1.0
        holds &= spread <= 2.0
    return Evaluation(holds=holds, figures=figs)


@_guarded
def evaluate_rates_corrected(tr: Trained, *, rate_factor: float = 1.0) -> Evaluation:
    """Corrected: log s_c(t) - ||x_c|| t -> offset_c (predicted at t_a), to 1e-6 at t_a + 40/||x_c||,
    for a class with a live neuron; s_c constant after t_a otherwise.

    ``rate_factor`` (a broken variant for the negative control) multiplies the rate ||x_c||
    (2: the loss's growth rate 2||x_c||, not s's)."""
    figs, holds = {}, True
    for label, name in ((1.0, "plus"), (-1.0, "minus")):
        k = tr.k(label)
        offset = tr.limits.offset_plus if label > 0 else tr.limits.offset_minus
        if tr.live(label):
            t = tr.t_a + 40.0 / k
            err = abs(_log_s(tr.at(t), tr.v0, label) - rate_factor * k * t - offset)
        else:
            now, later = _log_s(tr.at(tr.t_a), tr.v0, label), _log_s(tr.at(tr.t_a + 10.0 / k), tr.v0, label)
            err = 0.0 if now == later else abs(later - now)
        figs[f"log_error_{name}"] = err
        # 1e-6: log s carries rounding ~1e-16 times k t <= 1e3, and the approach is e^{-40}.
        holds &= err <= 1e-6
    return Evaluation(holds=holds, figures=figs)


def _log_ratio(state: ScaledState, v0) -> float:
    scales = class_scales(state, v0)
    return scales.log_s_plus - scales.log_s_minus


@_guarded
def evaluate_ratio_printed(tr: Trained) -> Evaluation:
    """Printed: lim s_+/s_- does not exist (finite): log(s_+/s_-) moves by more than 1 between
    t_a + T and t_a + 2T, T = max(20/min||x_c||, 2/gap) (a gap g moves it by g T >= 2)."""
    v_plus = np.any(tr.v0 > 0)
    v_minus = np.any(tr.v0 < 0)
    if not (v_plus and v_minus):
        return Evaluation(holds=True, figures={"empty_group": 1.0})  # the ratio is 0 or infinite
    g_p = tr.k_plus if tr.live_plus else 0.0
    g_m = tr.k_minus if tr.live_minus else 0.0
    gap = abs(g_p - g_m)
    T = 20.0 / min(tr.k_plus, tr.k_minus)
    if gap > 0:
        T = max(T, 2.0 / gap)
    r1, r2 = _log_ratio(tr.at(tr.t_a + T), tr.v0), _log_ratio(tr.at(tr.t_a + 2 * T), tr.v0)
    return Evaluation(holds=abs(r2 - r1) > 1.0, figures={"log_ratio_1": r1, "log_ratio_2": r2, "growth_gap": gap})


@_guarded
def evaluate_ratio_corrected(tr: Trained, *, minus_sign: float = -1.0) -> Evaluation:
    """Corrected: log(s_+/s_-) - (g_+ - g_-) t -> offset_+ - offset_- (g_c = ||x_c|| for a live
    group, 0 otherwise), to 1e-6 at t_a + 40/min||x_c||.

    ``minus_sign`` (a broken variant for the negative control: +1) is the sign of g_- in the
    exponent: +1 gives (g_+ + g_-) t."""
    if not (np.any(tr.v0 > 0) and np.any(tr.v0 < 0)):
        return Evaluation(holds=True, figures={"empty_group": 1.0})
    t = tr.t_a + 40.0 / min(tr.k_plus, tr.k_minus)
    err = abs(_log_ratio(tr.at(t), tr.v0) - (tr.limits.growth_plus + minus_sign * tr.limits.growth_minus) * t
              - (tr.limits.offset_plus - tr.limits.offset_minus))
    return Evaluation(holds=err <= 1e-6, figures={"log_error": err})


# ---------------------------------------------------------------------------------------
# Claims.
# ---------------------------------------------------------------------------------------
_INSTANCE = dict(instance_arrays=("X", "y", "W0", "v0"), instance_bounds=RELU_BOUNDS)

EQ2 = register(Claim(
    id="eq-2-network",
    paper_ref="Eq. (2)",
    statement=r"$f(x; \theta) = v^\top \sigma(W^\top x) = \sum_j v_j \sigma(\langle w_j, x \rangle)$ with $W = "
              r"[w_1, \dots, w_h]^\top$.",
    quote=r"$$f(\mathbf{x}; \boldsymbol{\theta}) = \mathbf{v}^T \sigma(\mathbf{W}^\top \mathbf{x}) = \sum_{j=1}^h "
          r"v_j \sigma(\langle \mathbf{w}_j, \mathbf{x} \rangle), \quad \mathcal{L}(\boldsymbol{\theta}) = "
          r"\sum_{i=1}^n -y_i f(\mathbf{x}_i, \boldsymbol{\theta}), \quad (2)$$ where $\mathbf{v} = [v_1, \dots, "
          r"v_h]^\top$ and $\mathbf{W} = [\mathbf{w}_1, \dots, \mathbf{w}_h]^\top$",
    reading=r"$w_j \in \mathbb{R}^d$, so $W = [w_1, \dots, w_h]^\top$ is the $h \times d$ matrix with rows $w_j$; "
            r"the two printed expressions for $f$ are compared as matrix expressions on instances.",
    expected_verdict="erratum",
    correction=r"With $W = [w_1, \dots, w_h]^\top$ ($h \times d$, rows $w_j$) the features are $\sigma(W x)$: "
               r"$f(x) = v^\top \sigma(W x) = \sum_j v_j \sigma(\langle w_j, x \rangle)$. Equivalently keep "
               r"$\sigma(W^\top x)$ with $W = [w_1, \dots, w_h]$ ($d \times h$, columns $w_j$), the convention of "
               r"Appendix D.3 ($W_\pm = [w_j]$).",
    counterexample_summary="one neuron in d = 2 (h = 1): W = [w_1]^T is 1 x 2, so W^T x is undefined for x in R^2",
    evaluate=evaluate_eq2,
    **_INSTANCE,
))
LIMITS = register(Claim(
    id="theorem-4-limits",
    paper_ref="Theorem 4",
    statement=r"Under Assumptions 1, 2 and 3, $\bar{v} = \lim v(t)/\|v(t)\|$ and $\bar{W} = \lim W(t)/\|W(t)\|$ "
              r"exist.",
    quote=r"Under Assumptions 1, 2 and 3, $\bar{\mathbf{v}} = \lim_{t \rightarrow \infty} "
          r"\frac{\mathbf{v}(t)}{\|\mathbf{v}(t)\|}$ , $\bar{\mathbf{W}} = \lim_{t \rightarrow \infty} "
          r"\frac{\mathbf{W}(t)}{\|\mathbf{W}(t)\|}$ exist.",
    reading=r"$\|W\|$ is the Frobenius norm. The limits are predicted in closed form from the state at the "
            r"alignment time $t_a$ (Appendix D.3), and the flow's directions must be within $10^{-9}$ of them at a "
            r"late time.",
    assumptions=_ASSUMPTIONS,
    evaluate=evaluate_limits,
    **_INSTANCE,
))
COLLAPSE = register(Claim(
    id="theorem-4-directional-collapse",
    paper_ref="Theorem 4",
    statement=r"There exist $s_\pm(t) \geq 0$ and unit $u_\pm(t)$ with $\phi(x_i) - \langle s_+(t) x_+, x_i "
              r"\rangle u_+(t) \to 0$ for $y_i = +1$ and $\phi(x_i) - \langle s_-(t) x_-, x_i \rangle u_-(t) \to "
              r"0$ for $y_i = -1$.",
    quote=r"$$\phi_{\mathbf{W}(t), \mathbf{v}(t)}(\mathbf{x}_i) - \langle s_+(t) \mathbf{x}_+, \mathbf{x}_i "
          r"\rangle \mathbf{u}_+(t) \xrightarrow{t \rightarrow \infty} \mathbf{0}, \quad \forall \mathbf{x}_i "
          r"\text{ s.t. } y_i = +1$$ $$\phi_{\mathbf{W}(t), \mathbf{v}(t)}(\mathbf{x}_i) - \langle s_-(t) "
          r"\mathbf{x}_-, \mathbf{x}_i \rangle \mathbf{u}_-(t) \xrightarrow{t \rightarrow \infty} \mathbf{0}, "
          r"\quad \forall \mathbf{x}_i \text{ s.t. } y_i = -1.$$",
    reading=r"Read existentially: some choice of $s_\pm(t) \geq 0$ and unit $u_\pm(t)$ makes every difference tend "
            r"to $0$ in Euclidean norm (absolute, not relative to the size of the features); the suite measures "
            r"the least-squares floor over all choices of $s_\pm u_\pm$ for each class whose group keeps a live "
            r"neuron.",
    assumptions=_ASSUMPTIONS,
    expected_verdict="erratum",
    correction=r"The absolute difference does not tend to 0: for every choice of $s u$ it tends to the constant "
               r"$W(t_a) P_\perp x_i$ ($P_\perp$ orthogonal to $x_\pm$), nonzero when $d \geq 2$ and a class has "
               r"non-parallel samples. With $s_+ u_+ = v_{\mathcal{N}_+}$, $s_- u_- = -v_{\mathcal{N}_-}$ and "
               r"$x_\pm$ read as $x_\pm/\|x_\pm\|$: $\phi(x_i)/s_\pm(t) - \langle x_\pm/\|x_\pm\|, x_i \rangle "
               r"u_\pm(t) \to 0$ like $e^{-\|x_\pm\| t}$, for every class whose group keeps a live neuron (if "
               r"every neuron of a group dies, as Assumptions 1-3 allow, no $s$, $u$ satisfy the bullets jointly).",
    counterexample_summary="d = 2, positives (0.5, 0) and 0.5 (cos 0.1, sin 0.1), one neuron: the least-squares "
                           "floor of phi(x_i) - <x_+, x_i> z over all z is 1.249e-4 at t_a + 2/||x_+|| and at "
                           "t_a + 6/||x_+||",
    evaluate=evaluate_collapse_printed,
    probe_evaluate=evaluate_collapse_corrected,
    **_INSTANCE,
))
FEATURE_LIMITS = register(Claim(
    id="theorem-4-feature-limits",
    paper_ref="Theorem 4",
    statement=r"The limits $\bar{u}_+ = \lim u_+(t)$ and $\bar{u}_- = \lim u_-(t)$ exist ($u_\pm$ constructed from "
              r"the alignment bullet: $s_+ u_+ = v_{\mathcal{N}_+}$, $s_- u_- = -v_{\mathcal{N}_-}$).",
    quote=r"Moreover, the limits $\bar{\mathbf{u}}_+ = \lim_{t \rightarrow \infty} \mathbf{u}_+(t)$ , "
          r"$\bar{\mathbf{u}}_- = \lim_{t \rightarrow \infty} \mathbf{u}_-(t)$ exist.",
    reading=r"$s_\pm$, $u_\pm$ are constructed from the alignment bullet: $s_+ u_+ = v_{\mathcal{N}_+}$, $s_- u_- "
            r"= -v_{\mathcal{N}_-}$ ($v$ with the other group's entries set to 0); 'exist' is checked against "
            r"closed-form limits predicted at the alignment time, to $10^{-9}$ at a late time.",
    assumptions=_ASSUMPTIONS,
    evaluate=evaluate_feature_limits,
    **_INSTANCE,
))
ORTHOGONAL = register(Claim(
    id="theorem-4-orthogonal-means",
    paper_ref="Theorem 4",
    statement=r"(Orthogonal class means) $\langle \bar{u}_+, \bar{u}_- \rangle = 0$; equivalently the class means "
              r"of the features become orthogonal (Appendix B.3's NC2 metric).",
    quote=r"(Orthogonal class means) $\langle \bar{\mathbf{u}}_+, \bar{\mathbf{u}}_- \rangle = 0$",
    reading=r"$s_\pm$, $u_\pm$ are constructed from the alignment bullet: $s_+ u_+ = v_{\mathcal{N}_+}$, $s_- u_- "
            r"= -v_{\mathcal{N}_-}$ ($v$ with the other group's entries set to 0); also checked as orthogonality "
            r"of the class means of the features after alignment.",
    assumptions=_ASSUMPTIONS,
    evaluate=evaluate_orthogonal,
    **_INSTANCE,
))
ALIGNMENT = register(Claim(
    id="theorem-4-alignment",
    paper_ref="Theorem 4",
    statement=r"(Alignment of classifier and features) $v(t) = s_+(t) u_+(t) - s_-(t) u_-(t)$, with the $s_\pm$, "
              r"$u_\pm$ of the directional-collapse bullet.",
    quote=r"(Alignment of classifier and features) $\mathbf{v}(t) = s_+(t) \mathbf{u}_+(t) - s_-(t) "
          r"\mathbf{u}_-(t)$",
    reading=r"$s_\pm$, $u_\pm$ are those of the directional-collapse bullet, fitted by least squares to the "
            r"features with $x_\pm$ unnormalised as printed, so the two bullets are checked jointly.",
    assumptions=_ASSUMPTIONS,
    expected_verdict="erratum",
    correction=r"The features force $s_\pm u_\pm \approx v_{\mathcal{N}_\pm}/\|x_\pm\|$ in the printed collapse "
               r"bullet, so jointly $v = \|x_+\| s_+ u_+ - \|x_-\| s_- u_-$ ($+\, o(s)$); $v = s_+ u_+ - s_- u_-$ "
               r"holds exactly once the collapse bullet uses $x_\pm/\|x_\pm\|$. The two printed bullets agree only "
               r"if $\|x_+\| = \|x_-\| = 1$.",
    counterexample_summary="d = 1, x = (0.5, -0.5), one neuron: ||x_+|| = 0.5, the fitted s_+ u_+ is 2 v_{N+} "
                           "(relative gap 1)",
    evaluate=evaluate_alignment_printed,
    probe_evaluate=evaluate_alignment_corrected,
    **_INSTANCE,
))
RATES = register(Claim(
    id="section-5-2-rates",
    paper_ref="Section 5.2",
    statement=r"For linear loss, $s_+(t) = \Theta(e^{\|x_+\|^t})$, $s_-(t) = \Theta(e^{\|x_-\|^t})$ (exponent as "
              r"typeset).",
    quote=r"More concretely, for linear loss, $s_+(t) = \Theta(e^{\|\mathbf{x}_+\|^t})$ , $s_-(t) = "
          r"\Theta(e^{\|\mathbf{x}_-\|^t})$ .",
    reading=r"The exponent is read as typeset, $\|x_\pm\|^t$, with $s_\pm$ from the alignment bullet; $\Theta$ is "
            r"read as: $\log s_\pm(t) - \|x_\pm\|^t$ stays bounded, checked as a spread of at most 2 over four "
            r"late times.",
    assumptions=_ASSUMPTIONS,
    expected_verdict="erratum",
    correction=r"$s_\pm(t) = \Theta(e^{\|x_\pm\| t})$: $\log s_\pm(t) - \|x_\pm\| t$ converges (to $\log(\|x\| "
               r"\|u_+\|) - \|x\| t_a$ of the group's linear network, eq. (45)), when the group keeps a live "
               r"neuron; otherwise $s_\pm$ is constant after alignment.",
    counterexample_summary="d = 1, x = (0.5, -0.5), one neuron (v > 0): log s_+(t) - ||x_+||^t drifts by 30 "
                           "over t_a + 10j/||x_+||, j = 1..4 (it grows like ||x_+|| t)",
    evaluate=evaluate_rates_printed,
    probe_evaluate=evaluate_rates_corrected,
    **_INSTANCE,
))
RATIO = register(Claim(
    id="section-5-2-ratio-limit",
    paper_ref="Section 5.2",
    statement=r"Unlike logistic loss where $\lim s_+(t)/s_-(t)$ exists, the linear loss would not allow this "
              r"limit.",
    quote=r"Second, unlike logistic loss where $\lim_{t \rightarrow \infty} s_+(t)/s_-(t)$ exists, the linear loss "
          r"would not allow this limit.",
    reading=r"Read as: under Assumptions 1-3, whenever both groups $\mathcal{N}_+$, $\mathcal{N}_-$ are nonempty, "
            r"$s_+(t)/s_-(t)$ has no finite positive limit ($s_\pm$ from the alignment bullet).",
    assumptions=_ASSUMPTIONS,
    expected_verdict="erratum",
    correction=r"$\log(s_+/s_-) = (\|x_+\| - \|x_-\|) t + \mathrm{const} + o(1)$ when both groups keep a live "
               r"neuron: the finite limit fails to exist exactly when $\|x_+\| \neq \|x_-\|$; with $\|x_+\| = "
               r"\|x_-\|$ it exists and is positive.",
    counterexample_summary="d = 1, positives 0.5, 0.5 and negatives -0.5, -0.5, one neuron of each sign: "
                           "||x_+|| = ||x_-|| and log(s_+/s_-) = 0 at t_a + T and t_a + 2T",
    evaluate=evaluate_ratio_printed,
    probe_evaluate=evaluate_ratio_corrected,
    **_INSTANCE,
))


# ---------------------------------------------------------------------------------------
# Instances used beyond the generic ones.
# ---------------------------------------------------------------------------------------
def live_instance(rng: np.random.Generator, **sizes) -> dict:
    """The first seeded instance (Assumptions 1-3) in which both groups keep a live neuron."""
    for _ in range(50):
        inst = seeded_relu_instance(rng, scale=0.5, **sizes)
        tr = trained(inst)
        if tr is not None and tr.live_plus and tr.live_minus:
            return inst
    raise RuntimeError("no instance with two live groups in 50 draws")


def search_instances(**kwargs):
    """Small instances for the printed-form searches (tiny_instances: a handful of floats, so that
    Hypothesis's shrinking stays short; each example costs one exact flow)."""
    return tiny_instances(**kwargs)


def mirrored_instances():
    """Instances under Assumptions 1-3 with x_- = -x_+ (so ||x_+|| = ||x_-||) and two neurons
    (``tiny_instances`` with mirrored negatives)."""
    return tiny_instances(n_pos=2, h_range=(2, 2), mirrored=True)


# ---------------------------------------------------------------------------------------
# (2).
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ2.id, kind="property", form="printed")
def test_eq2_printed(record_property):
    """Printed (2): counterexample searched and shrunk (rows w_j with sigma(W^T x))."""
    found = search_counterexample(record_property, EQ2, search_instances(), **SEARCH)
    assert EQ2.evaluate(found).holds


def _sym_f(rows: bool, transpose: bool):
    w = sp.Matrix(2, 2, sp.symbols("w1:5", real=True))  # rows w_j when rows=True
    x = sp.Matrix(sp.symbols("x1:3", real=True))
    v = sp.Matrix(sp.symbols("v1:3", real=True))
    W = w if rows else w.T
    pre = (W.T * x) if transpose else (W * x)
    meant = sum(v[j] * (w.row(j) * x)[0] for j in range(2))
    return sp.expand((v.T * pre)[0] - meant)


@pytest.mark.claim(EQ2.id, kind="symbolic", form="corrected")
def test_eq2_symbolic():
    """Pre-activations (sigma left out, it acts entrywise): v^T (W x) with rows w_j and v^T (W^T x) with
    columns w_j both equal sum_j v_j <w_j, x>; the printed v^T (W^T x) with rows does not (sympy, h = d = 2)."""
    assert _sym_f(rows=True, transpose=False) == 0
    assert _sym_f(rows=False, transpose=True) == 0
    assert _sym_f(rows=True, transpose=True) != 0


@pytest.mark.claim(EQ2.id, kind="property", form="corrected")
def test_eq2_corrected_property(record_property):
    """Corrected (2): v^T relu(W x_i) with rows w_j equals sum_j v_j relu(<w_j, x_i>) (the simulator's f)."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_eq2_corrected(inst).holds),
                   max_examples=15)


@pytest.mark.negative_control(EQ2.id)
def test_eq2_negative_control():
    """Broken variant: the printed W^T x with rows w_j (transpose=True) in the corrected evaluation, on a
    square W (h = d = 2) whose rows differ from its columns; the corrected W x passes there. The printed
    evaluation rejects that W too (not only shapes h != d), and with a symmetric W both agree (the
    checks do not reject every W^T)."""
    inst = {"X": np.array([[1.0, 0.0], [-1.0, 0.5]]), "y": np.array([1.0, -1.0]),
            "W0": np.array([[1.0, 2.0], [0.0, 1.0]]), "v0": np.array([1.0, -1.0])}
    assert evaluate_eq2_corrected(inst).holds
    rejects(evaluate_eq2_corrected, inst, transpose=True)
    rejects(evaluate_eq2, inst)
    symmetric = {**inst, "W0": np.array([[1.0, 0.5], [0.5, 1.0]])}
    assert evaluate_eq2(symmetric).holds and evaluate_eq2_corrected(symmetric, transpose=True).holds


# ---------------------------------------------------------------------------------------
# v_bar, W_bar.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(LIMITS.id, kind="numerical")
def test_limits_rate(record_property):
    """On seeded instances the distances to the predicted v_bar, W_bar decay at the predicted rates:
    the log-slope between tau = 4/r and 8/r is -r to 5% (r = rate_v, rate_W)."""
    rng = np.random.default_rng(4)
    slopes = []
    for _ in range(3):
        inst = seeded_relu_instance(rng, n_pos=3, n_neg=3, d=3, h=4, scale=0.5)
        tr = trained(inst)
        assert tr is not None
        for which, rate in ((0, tr.limits.rate_v), (1, tr.limits.rate_W)):
            t1, t2 = tr.t_a + 4.0 / rate, tr.t_a + 8.0 / rate
            d1 = direction_distances(tr.at(t1), tr.limits)[which]
            d2 = direction_distances(tr.at(t2), tr.limits)[which]
            slope = math.log(d2 / d1) / (t2 - t1)
            slopes.append(slope / rate)
            # 5%: the next exponential in the expansion is e^{-4} ~ 2% at tau = 4/r.
            assert abs(slope / rate + 1) <= 0.05
        assert evaluate_limits(inst).holds
    record_property("fig:limits_slope_over_rate_min", float(min(slopes)))
    record_property("fig:limits_slope_over_rate_max", float(max(slopes)))


@pytest.mark.claim(LIMITS.id, kind="property")
def test_limits_property(record_property):
    """v_bar, W_bar reached to 1e-9 at t_a + 40/rate on generated instances (Assumptions 1-3)."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_limits(inst).holds),
                   max_examples=15)


@pytest.mark.negative_control(LIMITS.id)
def test_limits_negative_control():
    """Broken variant: the initial directions v(0)/||v(0)||, W(0)/||W(0)|| as the limits
    (from_initial=True) in the claim's evaluation, which accepts the predicted limits on the same
    seeded instance."""
    inst = seeded_relu_instance(np.random.default_rng(5), n_pos=2, n_neg=2, d=2, h=2, scale=0.5)
    assert evaluate_limits(inst).holds
    rejects(evaluate_limits, inst, from_initial=True)


# ---------------------------------------------------------------------------------------
# Directional collapse.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(COLLAPSE.id, kind="property", form="printed")
def test_collapse_printed(record_property):
    """Printed (absolute) bullet: counterexample searched among instances with d >= 2 and shrunk."""
    found = search_counterexample(record_property, COLLAPSE, search_instances(n_pos=2, d_range=(2, 2)), **SEARCH)
    assert COLLAPSE.evaluate(found).holds


@pytest.mark.claim(COLLAPSE.id, kind="symbolic", form="corrected")
def test_collapse_symbolic():
    """For an aligned group (dW/dt = v x^T, rows) the residual W P_perp x_i is constant: d/dt (W P_perp) =
    v x^T P_perp = 0 (sympy, d = 3, m = 2); so phi(x_i) - <x_hat, x_i> W x_hat = W(t_a) P_perp x_i."""
    x = sp.Matrix(sp.symbols("x1:4", real=True))
    v = sp.Matrix(sp.symbols("v1:3", real=True))
    P = (x.T * x)[0] * sp.eye(3) - x * x.T  # ||x||^2 P_perp, kept polynomial
    assert (v * x.T * P).applyfunc(sp.expand) == sp.zeros(2, 3)
    xi = sp.Matrix(sp.symbols("z1:4", real=True))
    W = sp.Matrix(2, 3, sp.symbols("W1:7", real=True))
    resid = (x.T * x)[0] * W * xi - (x.T * xi)[0] * W * x  # ||x||^2 times the residual
    assert (resid - W * P * xi).applyfunc(sp.expand) == sp.zeros(2, 1)


@pytest.mark.claim(COLLAPSE.id, kind="numerical", form="corrected")
def test_collapse_numerical(record_property):
    """Seeded d = 3 instances: the printed floor is constant after t_a (to 1e-6 relative) while the relative
    residual falls like e^{-||x_c|| tau} (log-slope -||x_c|| to 5% between tau = 4/k and 8/k)."""
    rng = np.random.default_rng(6)
    for _ in range(3):
        inst = seeded_relu_instance(rng, n_pos=3, n_neg=3, d=3, h=4, scale=0.5)
        tr = trained(inst)
        for label in (1.0, -1.0):
            if not tr.live(label):
                continue
            k = tr.k(label)
            r = [collapse_residuals(tr.at(tr.t_a + tau / k), tr.X, tr.y, tr.v0, label) for tau in (2.0, 4.0, 8.0)]
            # 1e-6: the floor is a constant computed from states of size e^{L} with 1e-16 rounding.
            assert abs(r[2].printed_floor / r[0].printed_floor - 1) <= 1e-6
            slope = math.log(r[2].relative / r[1].relative) / (4.0 / k)
            record_property(f"fig:collapse_relative_slope_over_k_{int(label > 0)}", slope / k)
            # 5%: the e^{-2k tau} correction is e^{-4} ~ 2% at tau = 4/k.
            assert abs(slope / k + 1) <= 0.05
        assert evaluate_collapse_corrected(inst).holds


@pytest.mark.claim(COLLAPSE.id, kind="property", form="corrected")
def test_collapse_property(record_property):
    """Corrected bullet (relative, x_c/||x_c||) on generated instances (Assumptions 1-3)."""
    property_check(record_property, paper_instances(),
                   lambda inst: require(evaluate_collapse_corrected(inst).holds), max_examples=15)


@pytest.mark.claim(COLLAPSE.id, kind="numerical", form="corrected")
def test_collapse_dead_group():
    """The corrected form's condition is needed: h = 1, v_1 > 0, w_1(0) active on the negative sample only
    (Assumptions 1-3 hold) dies, and then phi = 0 while s_+ u_+ = v_{N+} stays v(0)."""
    inst = {"X": np.array([[1.0, 0.0], [-1.0, 0.2]]), "y": np.array([1.0, -1.0]),
            "W0": np.array([[-0.5, -0.3]]), "v0": np.array([np.hypot(0.5, 0.3)])}
    for a in PAPER_ASSUMPTIONS:
        assert get_assumption(a).test(inst)
    tr = trained(inst)
    assert not tr.live_plus and not tr.live_minus
    state = tr.at(tr.t_a + 5.0)
    assert np.all(state.W_s @ tr.X.T <= 1e-12)  # every feature is 0 (one sample parked on the boundary)
    assert class_scales(state, tr.v0).u_plus @ np.array([1.0]) == 1.0  # s_+ u_+ = v(0) != 0


@pytest.mark.negative_control(COLLAPSE.id)
def test_collapse_negative_control():
    """Broken variant: the corrected bullet with x_c itself, not x_c/||x_c|| (normalise=False), on a
    seeded instance with ||x_c|| != 1 that the corrected evaluation accepts."""
    inst = seeded_relu_instance(np.random.default_rng(7), n_pos=2, n_neg=2, d=2, h=2, scale=0.5)
    assert all(abs(np.linalg.norm(x_c) - 1) > 0.1 for x_c in class_sums(inst["X"], inst["y"]))
    assert evaluate_collapse_corrected(inst).holds
    rejects(evaluate_collapse_corrected, inst, normalise=False)


# ---------------------------------------------------------------------------------------
# u_bar_+- and orthogonality.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(FEATURE_LIMITS.id, kind="numerical")
def test_feature_limits_rate(record_property):
    """u_+(t) approaches u_bar_+ at the rate r = 2||x_+|| (no dead neuron in N_+): log-slope between
    tau = 2/r and 5/r is -r to 5% (seeded)."""
    rng = np.random.default_rng(8)
    inst = live_instance(rng, n_pos=3, n_neg=2, d=2, h=4)
    tr = trained(inst)
    live_p = aligned_groups(tr.flow.activation_pattern(tr.t_a), tr.v0, tr.y)[0]
    assert np.array_equal(live_p, tr.v0 > 0)  # no dead neuron in N_+: the rate is 2 ||x_+||
    r = 2 * tr.k_plus
    d1, d2 = (float(np.linalg.norm(class_scales(tr.at(tr.t_a + tau / r), tr.v0).u_plus - tr.limits.u_bar_plus))
              for tau in (2.0, 5.0))
    slope = math.log(d2 / d1) / (3.0 / r)
    record_property("fig:u_plus_slope_over_rate", slope / r)
    # 5%: next exponential relative e^{-2} at tau = 2/r would be 13%; measured values are within 1%.
    assert abs(slope / r + 1) <= 0.05
    assert evaluate_feature_limits(inst).holds


@pytest.mark.claim(FEATURE_LIMITS.id, kind="property")
def test_feature_limits_property(record_property):
    """u_bar_+- reached to 1e-9 on generated instances."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_feature_limits(inst).holds),
                   max_examples=15)


@pytest.mark.negative_control(FEATURE_LIMITS.id)
def test_feature_limits_negative_control():
    """Broken variant: u_+-(0) as the limits of u_+- (from_initial=True) in the claim's evaluation, on a
    seeded instance whose N_+ has two neurons and which the evaluation accepts with the predicted limits."""
    inst = seeded_relu_instance(np.random.default_rng(9), n_pos=2, n_neg=2, d=2, h=4, scale=0.5)
    assert np.sum(inst["v0"] > 0) >= 2
    assert evaluate_feature_limits(inst).holds
    rejects(evaluate_feature_limits, inst, from_initial=True)


@pytest.mark.claim(ORTHOGONAL.id, kind="property")
def test_orthogonal_property(record_property):
    """After alignment <u_+, u_-> = 0 and cos(mu_+, mu_-) = 0 on generated instances."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_orthogonal(inst).holds),
                   max_examples=15)


@pytest.mark.claim(ORTHOGONAL.id, kind="numerical")
def test_orthogonal_numerical(record_property):
    """Seeded: cos(mu_+, mu_-) is positive before alignment and exactly 0 from t_a on (exact flow)."""
    inst = seeded_relu_instance(np.random.default_rng(10), n_pos=3, n_neg=3, d=3, h=6, scale=0.5)
    tr = trained(inst)
    res = gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], tr.t_a + 1.0)
    before = orthogonality(scaled_state(*res.unit_state_at(0.0)), tr.X, tr.y, tr.v0)[1]
    after = [orthogonality(scaled_state(*res.unit_state_at(tr.t_a + s)), tr.X, tr.y, tr.v0)[1] for s in (0.0, 0.5, 1.0)]
    record_property("fig:nc2_cos_at_0", before)
    assert before > 0.01 and max(after) == 0.0


@pytest.mark.negative_control(ORTHOGONAL.id)
def test_orthogonal_negative_control():
    """Broken variant: the orthogonality read before alignment (before_alignment=True: at t = 0 and
    t_a / 2, neurons active on both classes) in the claim's evaluation, which accepts the same seeded
    instance after alignment."""
    inst = seeded_relu_instance(np.random.default_rng(10), n_pos=3, n_neg=3, d=3, h=6, scale=0.5)
    assert evaluate_orthogonal(inst).holds
    rejects(evaluate_orthogonal, inst, before_alignment=True)


# ---------------------------------------------------------------------------------------
# Alignment bullet.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(ALIGNMENT.id, kind="property", form="printed")
def test_alignment_printed(record_property):
    """Printed bullets together: counterexample searched and shrunk (any ||x_c|| != 1)."""
    found = search_counterexample(record_property, ALIGNMENT, search_instances(), **SEARCH)
    assert ALIGNMENT.evaluate(found).holds


@pytest.mark.claim(ALIGNMENT.id, kind="numerical", form="corrected")
def test_alignment_numerical(record_property):
    """Seeded: the least-squares s_c u_c of the printed bullet is v_{Nc}/||x_c|| (gap |1 - 1/||x_c|| |), and
    ||x_c|| z* matches +-v_{Nc} to 1e-9 at tau = 40/||x_c||."""
    inst = seeded_relu_instance(np.random.default_rng(11), n_pos=3, n_neg=2, d=2, h=2, scale=0.5)
    tr = trained(inst)
    for label in (1.0, -1.0):
        if tr.live(label):
            r = collapse_residuals(tr.at(tr.t_a + 40.0 / tr.k(label)), tr.X, tr.y, tr.v0, label)
            record_property(f"fig:fitted_gap_{int(label > 0)}", r.fitted_over_v)
            # 1e-9: both sides converge like e^{-40}; rounding is ~1e-16.
            assert abs(r.fitted_over_v - abs(1 - 1 / tr.k(label))) <= 1e-9
            assert r.fitted_norm_over_v <= 1e-9
    assert evaluate_alignment_corrected(inst).holds


@pytest.mark.claim(ALIGNMENT.id, kind="property", form="corrected")
def test_alignment_property(record_property):
    """Corrected alignment on generated instances."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_alignment_corrected(inst).holds),
                   max_examples=15)


@pytest.mark.negative_control(ALIGNMENT.id)
def test_alignment_negative_control():
    """Broken variant: the sign convention v = s_+ u_+ + s_- u_- (s_- u_- = +v_{N-}, plus_sign=True) in
    the corrected evaluation, on a seeded instance with a live N_- that it accepts with the printed sign."""
    inst = live_instance(np.random.default_rng(11), n_pos=3, n_neg=2, d=2, h=2)
    assert trained(inst).live_minus
    assert evaluate_alignment_corrected(inst).holds
    rejects(evaluate_alignment_corrected, inst, plus_sign=True)


# ---------------------------------------------------------------------------------------
# Rates and the ratio s_+/s_-.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(RATES.id, kind="property", form="printed")
def test_rates_printed(record_property):
    """Printed exponent ||x||^t: counterexample searched and shrunk."""
    found = search_counterexample(record_property, RATES, search_instances(), **SEARCH)
    assert RATES.evaluate(found).holds


@pytest.mark.claim(RATES.id, kind="symbolic", form="corrected")
def test_rates_symbolic():
    """(46): ||v(t)|| e^{-kt} -> k ||u_+|| (sympy limit, one component), so log s - k t -> log(k ||u_+||)."""
    t, k, up, um = sp.symbols("t k u_p u_m", positive=True)
    v = k * sp.exp(k * t) * up - k * sp.exp(-k * t) * um
    assert sp.limit(v * sp.exp(-k * t), t, sp.oo) == k * up
    assert sp.expand_log(sp.limit(sp.log(v) - k * t, t, sp.oo) - sp.log(k * up), force=True) == 0


@pytest.mark.claim(RATES.id, kind="property", form="corrected")
def test_rates_property(record_property):
    """Corrected rates on generated instances: log s_c - ||x_c|| t converges to the predicted offset."""
    property_check(record_property, paper_instances(), lambda inst: require(evaluate_rates_corrected(inst).holds),
                   max_examples=15)


@pytest.mark.negative_control(RATES.id)
def test_rates_negative_control():
    """Broken variant: the rate 2||x_c|| t (the loss's growth rate, not s's; rate_factor=2) in the
    corrected evaluation, on a seeded instance with a live group that it accepts with ||x_c|| t."""
    inst = seeded_relu_instance(np.random.default_rng(12), n_pos=2, n_neg=2, d=2, h=2, scale=0.5)
    tr = trained(inst)
    assert tr.live_plus or tr.live_minus
    assert evaluate_rates_corrected(inst).holds
    rejects(evaluate_rates_corrected, inst, rate_factor=2.0)


@pytest.mark.claim(RATIO.id, kind="property", form="printed")
def test_ratio_printed(record_property):
    """Printed ("the limit does not exist"): counterexample searched among mirrored instances and shrunk."""
    found = search_counterexample(record_property, RATIO, mirrored_instances(), **SEARCH)
    assert RATIO.evaluate(found).holds


@pytest.mark.claim(RATIO.id, kind="property", form="corrected")
def test_ratio_property(record_property):
    """Corrected: log(s_+/s_-) - (g_+ - g_-) t converges, on generated and on mirrored instances."""
    property_check(record_property, st.one_of(paper_instances(), mirrored_instances()),
                   lambda inst: require(evaluate_ratio_corrected(inst).holds), max_examples=15)


@pytest.mark.negative_control(RATIO.id)
def test_ratio_negative_control():
    """Broken variant: the exponent (||x_+|| + ||x_-||) t (minus_sign=+1) in the corrected evaluation,
    on a seeded instance with both groups live that it accepts with (||x_+|| - ||x_-||) t."""
    inst = live_instance(np.random.default_rng(13), n_pos=2, n_neg=3, d=2, h=2)
    tr = trained(inst)
    assert tr.live_plus and tr.live_minus
    assert evaluate_ratio_corrected(inst).holds
    rejects(evaluate_ratio_corrected, inst, minus_sign=1.0)
