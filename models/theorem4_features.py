"""Theorem 4's quantities along a trained two-layer ReLU network: s_+-(t), u_+-(t), features.

The network is f(x) = sum_j v_j relu(<w_j, x>) with W (h, d) holding the rows w_j (the
shape eq. (2) names; its ``sigma(W^T x)`` needs the columns convention of Appendix D.3).
Neurons are grouped by the sign of v_j(0): N_+ = {v_j(0) > 0}, N_- = {v_j(0) < 0} (the
sign is invariant under balanced gradient flow). Theorem 4 asserts that "there exist"
s_+-(t) >= 0 and unit vectors u_+-(t); this module constructs them from the bullet
"v(t) = s_+(t) u_+(t) - s_-(t) u_-(t)": with v_{N+-} the vector v with the entries outside
N_+- set to zero,

    s_+(t) u_+(t) = v_{N+}(t),        s_-(t) u_-(t) = -v_{N-}(t).

Features: phi(x_i) = relu(W x_i) (h,). After alignment (every neuron of N_+ in S_+ or dead,
every neuron of N_- in S_- or dead) the groups are the two-layer linear networks of
Appendix D.3 with inputs x_+ and x_- (x_+- the class sums of eq. (22)), so each live group
grows like e^{||x_+-|| t} and the network is known in closed form from its state at the
alignment time. :func:`predicted_limits` uses that closed form (eqs (44)-(46)) for the limits
v_bar, W_bar, u_bar_+- and the amplitudes log s_+-(t) - ||x_+-|| t.

Everything is computed from unit states and log-norms (``FlowResult.unit_state_at`` or
``claims.dynamics.EndState``): states are rescaled by e^{-L}, L the largest
log-norm, so no quantity overflows at any horizon.

References:
    Section 5.2, eq. (2), Theorem 4 and the paragraph after it; Appendix D.3, eqs (35)-(46);
    Appendix B.3 (the class-mean metric of NC2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.data_geometry import class_sums

# Two growth rates ||x_+||, ||x_-|| closer than this (relative) are a tie: both groups keep
# a share of the limit. Over a horizon of 40 / ||x|| (the longest used by the claims) a true
# gap of 1e-9 relative moves the shares by e^{4e-8} - 1 ~ 4e-8, far below every tolerance.
GROWTH_TIE_RTOL = 1e-9


class FeatureInputError(ValueError):
    """A bad argument to a Theorem 4 quantity; the message names the argument and its value."""


@dataclass(frozen=True)
class ScaledState:
    """The network at one time, rescaled: W = e^{log_scale} W_s, v = e^{log_scale} v_s.

    Fields: W_s (h, d), v_s (h,), log_scale (float; -inf when every neuron is at 0); and, when
    built by :func:`scaled_state`, the unit states W_unit (h, d), v_unit (h,) and log_norm (h,),
    from which :meth:`restricted` rescales a subset of neurons without underflow (a neuron far
    below the largest one is 0 in W_s, but not in its own scale).
    """

    W_s: np.ndarray
    v_s: np.ndarray
    log_scale: float
    W_unit: np.ndarray | None = None
    v_unit: np.ndarray | None = None
    log_norm: np.ndarray | None = None

    def restricted(self, mask: np.ndarray) -> ScaledState:
        """The same state rescaled by the largest log-norm among ``mask``'s neurons, with the
        other neurons set to 0 (W_s, v_s keep the shape (h, d), (h,))."""
        mask = np.asarray(mask, bool)
        if self.log_norm is None:  # built by hand: the scaled arrays are all there is
            return ScaledState(np.where(mask[:, None], self.W_s, 0.0), np.where(mask, self.v_s, 0.0), self.log_scale)
        return scaled_state(self.W_unit, self.v_unit, np.where(mask, self.log_norm, -math.inf))


def scaled_state(W_unit, v_unit, log_norm) -> ScaledState:
    """Rescale unit states (h, d), (h,) with log-norms (h,) by the largest finite log-norm."""
    W_unit, v_unit = np.asarray(W_unit, np.float64), np.asarray(v_unit, np.float64)
    log_norm = np.asarray(log_norm, np.float64)
    if W_unit.ndim != 2 or v_unit.shape != (W_unit.shape[0],) or log_norm.shape != v_unit.shape:
        raise FeatureInputError(f"W_unit (h, d), v_unit (h,), log_norm (h,) must agree; got shapes "
                                f"{W_unit.shape}, {v_unit.shape}, {log_norm.shape}")
    if np.any(np.isnan(log_norm)) or np.any(log_norm == np.inf):
        raise FeatureInputError(f"log_norm must be finite or -inf; got {log_norm.tolist()}")
    finite = np.isfinite(log_norm)
    if not finite.any():
        return ScaledState(np.zeros_like(W_unit), np.zeros_like(v_unit), -math.inf, W_unit, v_unit, log_norm)
    top = float(log_norm[finite].max())
    factor = np.where(finite, np.exp(np.where(finite, log_norm, top) - top), 0.0)  # (h,)
    return ScaledState(W_unit * factor[:, None], v_unit * factor, top, W_unit, v_unit, log_norm)


def neuron_groups(v0) -> tuple[np.ndarray, np.ndarray]:
    """(N_+, N_-) as boolean masks (h,): v_j(0) > 0, v_j(0) < 0."""
    v0 = np.asarray(v0, np.float64)
    return v0 > 0, v0 < 0


@dataclass(frozen=True)
class ClassScales:
    """s_+-(t) (as logs: -inf when zero) and the unit vectors u_+-(t) (h,) (zero when s = 0)."""

    log_s_plus: float
    log_s_minus: float
    u_plus: np.ndarray
    u_minus: np.ndarray


def _log_and_unit(vec: np.ndarray, log_scale: float) -> tuple[float, np.ndarray]:
    size = float(np.linalg.norm(vec))
    if size == 0.0:
        return -math.inf, np.zeros_like(vec)
    return math.log(size) + log_scale, vec / size


def class_scales(state: ScaledState, v0) -> ClassScales:
    """s_+- and u_+- with s_+ u_+ = v_{N+} and s_- u_- = -v_{N-} (see the module docstring); each
    group is rescaled on its own, so a group far smaller than the other keeps its digits."""
    plus, minus = neuron_groups(v0)
    sp_state, sm_state = state.restricted(plus), state.restricted(minus)
    log_sp, u_p = _log_and_unit(sp_state.v_s, sp_state.log_scale)
    log_sm, u_m = _log_and_unit(-sm_state.v_s, sm_state.log_scale)
    return ClassScales(log_sp, log_sm, u_p, u_m)


def scaled_features(state: ScaledState, X) -> np.ndarray:
    """(h, n) features phi(x_i) = relu(W x_i), times e^{-log_scale}."""
    return np.maximum(state.W_s @ np.asarray(X, np.float64).T, 0.0)


@dataclass(frozen=True)
class CollapseResiduals:
    """Residuals of Theorem 4's directional-collapse bullet for one class (c = +1 or -1).

    Fields:
        printed_floor: min over all vectors z of max_i ||phi(x_i) - <x_c, x_i> z|| over the
            class, bounded below by sqrt(R / n_c), R = min_z sum_i ||phi(x_i) - <x_c, x_i> z||^2
            (least squares). The printed bullet (with s_c u_c = z free) needs this -> 0.
            Reported as that lower bound (an absolute size; inf if it overflows).
        relative: max_i ||phi(x_i)/s_c - <x_c/||x_c||, x_i> u_c|| with the constructive
            s_c, u_c of :func:`class_scales` (inf when s_c = 0).
        fitted_over_v: ||z* - s_c u_c|| / s_c, z* the least-squares choice of "s_c u_c" in
            the printed bullet, s_c u_c the one the alignment bullet forces (inf when s_c = 0).
        fitted_norm_over_v: ||(||x_c|| z*) - s_c u_c|| / s_c: the same with x_c/||x_c|| in the
            bullet (inf when s_c = 0).
        feature_scale: max_i ||phi(x_i)|| over the class (absolute; inf if it overflows), the
            scale of the rounding in printed_floor.
    """

    printed_floor: float
    relative: float
    fitted_over_v: float
    fitted_norm_over_v: float
    feature_scale: float = math.nan


def collapse_residuals(state: ScaledState, X, y, v0, label: float) -> CollapseResiduals:
    """Directional-collapse residuals of class ``label`` (+1.0 or -1.0) at one state.

    z* = sum_i c_i phi(x_i) / sum_i c_i^2 (c_i = <x_c, x_i>) is the least-squares choice of
    "s_c u_c" in the printed bullet; the alignment bullet forces s_c u_c = +-v_{Nc}.
    """
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    if label not in (1.0, -1.0):
        raise FeatureInputError(f"label must be +1.0 or -1.0; got {label!r}")
    members = y == label
    # Rescale by the neurons that matter for this class: its group and every neuron active on it.
    group = neuron_groups(v0)[0 if label > 0 else 1]
    touching = np.any(state.W_s @ X[members].T > 0, axis=1) if state.W_unit is None else \
        np.any(state.W_unit @ X[members].T > 0, axis=1)
    state = state.restricted(group | touching)
    x_plus, x_minus = class_sums(X, y)
    x_c = x_plus if label > 0 else x_minus
    norm_c = float(np.linalg.norm(x_c))
    Phi = scaled_features(state, X)[:, members]  # (h, n_c), scaled
    c = X[members] @ x_c  # (n_c,)
    if not np.any(c):
        raise FeatureInputError(f"<x_c, x_i> vanishes on class {label:+g}; the bullet's coefficients are all 0")
    z_star = Phi @ c / (c @ c)  # (h,) scaled
    resid = Phi - np.outer(z_star, c)  # (h, n_c)
    lsq = float(np.sqrt(np.sum(resid**2) / members.sum()))
    with np.errstate(over="ignore"):
        floor = lsq * math.exp(state.log_scale) if lsq > 0 else 0.0
        biggest = float(np.max(np.linalg.norm(Phi, axis=0)))
        feature_scale = biggest * math.exp(min(state.log_scale, 709.0)) if biggest > 0 else 0.0
    scales = class_scales(state, v0)
    log_s, u = (scales.log_s_plus, scales.u_plus) if label > 0 else (scales.log_s_minus, scales.u_minus)
    if log_s == -math.inf:
        return CollapseResiduals(floor, math.inf, math.inf, math.inf, feature_scale)
    s_scaled = math.exp(log_s - state.log_scale)
    rel = Phi / s_scaled - np.outer(u, c / norm_c)
    relative = float(np.max(np.linalg.norm(rel, axis=0)))
    fitted = float(np.linalg.norm(z_star / s_scaled - u))
    fitted_norm = float(np.linalg.norm(norm_c * z_star / s_scaled - u))
    return CollapseResiduals(floor, relative, fitted, fitted_norm, feature_scale)


def class_mean_cosine(state: ScaledState, X, y) -> float:
    """cos(mu_+, mu_-) of the class-mean features (Appendix B.3's NC2 metric); nan if a mean is 0."""
    Phi = scaled_features(state, X)
    y = np.asarray(y, np.float64)
    mu_p, mu_m = Phi[:, y > 0].mean(axis=1), Phi[:, y < 0].mean(axis=1)
    norms = float(np.linalg.norm(mu_p) * np.linalg.norm(mu_m))
    return float(mu_p @ mu_m / norms) if norms > 0 else math.nan


def class_mean_log_norms(state: ScaledState, X, y) -> tuple[float, float]:
    """(log ||mu_+||, log ||mu_-||) of the class-mean features (-inf for a zero mean)."""
    Phi = scaled_features(state, X)
    y = np.asarray(y, np.float64)
    out = []
    for label in (1.0, -1.0):
        size = float(np.linalg.norm(Phi[:, y == label].mean(axis=1)))
        out.append(math.log(size) + state.log_scale if size > 0 else -math.inf)
    return out[0], out[1]


# ---------------------------------------------------------------------------------------
# After alignment: the closed form of Appendix D.3, group by group.
# ---------------------------------------------------------------------------------------
def aligned_groups(active: np.ndarray, v0, y) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Masks (live_+, live_-, frozen) if every neuron is aligned, else None.

    Aligned: a neuron of N_+ is active exactly on the positive samples (S_+) or on none
    (dead); likewise N_- with S_-; a neuron with v_j(0) = 0 must be dead. ``active`` (h, n).
    """
    plus, minus = neuron_groups(v0)
    y = np.asarray(y, np.float64)
    pos, neg = y > 0, y < 0
    in_plus = np.array([np.array_equal(a, pos) for a in active])
    in_minus = np.array([np.array_equal(a, neg) for a in active])
    dead = ~active.any(axis=1)
    if not np.all((plus & (in_plus | dead)) | (minus & (in_minus | dead)) | (~plus & ~minus & dead)):
        return None
    return plus & in_plus, minus & in_minus, dead


def alignment_time(result, v0) -> float:
    """Time after which every neuron stays aligned (nan if not aligned at result.t_end).

    ``result`` is a FlowResult of the linear-loss flow; under Assumption 1 an aligned neuron
    never leaves its cone (its active samples' pre-activations grow, the others' fall), so the
    start of the last segment of each neuron is final once the state at t_end is aligned.
    """
    if aligned_groups(result.activation_pattern(result.t_end), v0, result.y) is None:
        return math.nan
    return float(max(segs[-1].start for segs in result.segments))


@dataclass(frozen=True)
class Limits:
    """Predicted limits from an aligned state (see :func:`predicted_limits`).

    Fields:
        v_bar (h,), W_bar (h, d): limits of v/||v|| and W/||W||_F.
        u_bar_plus, u_bar_minus (h,): limits of u_+-(t) (zeros for a group with s = 0).
        rate_v, rate_W: exponential rates at which the distances to v_bar, W_bar decay
            (inf when the state is constant).
        rate_u: the slowest rate at which u_+(t), u_-(t) approach their limits.
        growth_plus, growth_minus: ||x_+||, ||x_-|| where the group has a live neuron, else 0.
        offset_plus, offset_minus: lim (log s_+-(t) - growth_+- t) (log of the constant s_+-
            for a group without a live neuron; -inf for s = 0).
    """

    v_bar: np.ndarray
    W_bar: np.ndarray
    u_bar_plus: np.ndarray
    u_bar_minus: np.ndarray
    rate_v: float
    rate_W: float
    rate_u: float
    growth_plus: float
    growth_minus: float
    offset_plus: float
    offset_minus: float


def predicted_limits(state: ScaledState, X, y, v0, t_a: float, active: np.ndarray) -> Limits:
    """Limits of the aligned network from its state at time t_a (eqs (44)-(46) per group).

    Group c in {+, -} with live neurons L_c is the linear network of eq. (35) with input
    x = x_c, W (d, m) = W[L_c]^T, v = c v[L_c] (positive entries). With k = ||x_c||,
    b = W^T x and u = (b/k^2 + v/k)/2 (eq. (45)), after time tau:
        v(tau) = k e^{k tau} u - k e^{-k tau} u_-,  W(tau) = e^{k tau} x u^T + P_perp W + e^{-k tau} x u_-^T,
    so the group's v and W both grow like A_c e^{k tau}, A_c = k ||u||, in the directions
    u/||u|| and x u^T/(k ||u||). Dead and frozen neurons stay where they are. The faster group
    (or both, weighted by A_c, in a tie) gives v_bar and W_bar; the slower one and the dead
    neurons fade at the rate gap and k_max.
    """
    groups = aligned_groups(active, v0, y)
    if groups is None:
        raise FeatureInputError("the state is not aligned: some neuron is active on both classes "
                                "or on the class its sign does not attract")
    live_p, live_m, _ = groups
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    h, d = state.W_s.shape
    x_plus, x_minus = class_sums(X, y)
    info = {}
    for name, live, x_c, sign in (("plus", live_p, x_plus, 1.0), ("minus", live_m, x_minus, -1.0)):
        k = float(np.linalg.norm(x_c))
        if not live.any() or k == 0.0:
            info[name] = None
            continue
        group_state = state.restricted(live)  # the group in its own scale
        Wc = group_state.W_s[live].T  # (d, m) scaled
        vc = sign * group_state.v_s[live]  # (m,) scaled, positive
        u = 0.5 * (Wc.T @ x_c / k**2 + vc / k)  # eq. (45), scaled
        u_full = np.zeros(h)
        u_full[live] = u
        log_amp = math.log(k * float(np.linalg.norm(u))) + group_state.log_scale  # log A_c at t_a
        info[name] = (k, u_full, log_amp, x_c / k, sign)
    scales = class_scales(state, v0)

    def group_limit(name, log_s_now):
        entry = info[name]
        if entry is None:  # no live neuron: s is constant from t_a on
            return 0.0, log_s_now
        k, _, log_amp, _, _ = entry
        return k, log_amp - k * t_a

    growth_p, offset_p = group_limit("plus", scales.log_s_plus)
    growth_m, offset_m = group_limit("minus", scales.log_s_minus)
    live = [info[n] for n in ("plus", "minus") if info[n] is not None]
    if not live:  # nothing moves after t_a
        nv, nW = np.linalg.norm(state.v_s), np.linalg.norm(state.W_s)
        v_bar = state.v_s / nv if nv > 0 else np.zeros(h)
        W_bar = state.W_s / nW if nW > 0 else np.zeros((h, d))
        return Limits(v_bar, W_bar, scales.u_plus, scales.u_minus, math.inf, math.inf, math.inf,
                      0.0, 0.0, offset_p, offset_m)
    k_max = max(e[0] for e in live)
    top = [e for e in live if e[0] >= k_max * (1 - GROWTH_TIE_RTOL)]
    rest = [e for e in live if e[0] < k_max * (1 - GROWTH_TIE_RTOL)]
    gap = k_max - max((e[0] for e in rest), default=-math.inf)
    log_amp_max = max(e[2] for e in top)
    v_bar, W_bar = np.zeros(h), np.zeros((h, d))
    for k, u_full, log_amp, x_hat, sign in top:
        weight = math.exp(log_amp - log_amp_max)  # relative amplitude A_c at equal growth
        u_hat = u_full / np.linalg.norm(u_full)
        v_bar += weight * sign * u_hat
        W_bar += weight * np.outer(u_hat, x_hat)
    v_bar /= np.linalg.norm(v_bar)
    W_bar /= np.linalg.norm(W_bar)
    u_bar = {}
    for name in ("plus", "minus"):
        entry = info[name]
        if entry is None:
            u_bar[name] = scales.u_plus if name == "plus" else scales.u_minus
        else:
            u_bar[name] = entry[1] / np.linalg.norm(entry[1])
    dead_or_frozen = np.ones(h, bool)
    dead_or_frozen[live_p | live_m] = False
    # u_+-(t): the growing mode's direction is approached like e^{-2 k tau}; a dead neuron of
    # the group keeps a constant v_j, which fades like e^{-k tau}.
    rate_u = math.inf
    for name, live_c in (("plus", live_p), ("minus", live_m)):
        entry = info[name]
        if entry is None:
            continue
        group = neuron_groups(v0)[0] if name == "plus" else neuron_groups(v0)[1]
        has_dead = bool(np.any(group & dead_or_frozen & (state.v_s != 0)))
        rate_u = min(rate_u, entry[0] if has_dead else 2 * entry[0])
    return Limits(v_bar, W_bar, u_bar["plus"], u_bar["minus"], min(2 * k_max, gap, k_max if
                  np.any(dead_or_frozen & (state.v_s != 0)) else math.inf), min(k_max, gap), rate_u,
                  growth_p, growth_m, offset_p, offset_m)


def direction_distances(state: ScaledState, limits: Limits) -> tuple[float, float]:
    """(||v/||v|| - v_bar||, ||W/||W||_F - W_bar||_F) at one state."""
    nv, nW = np.linalg.norm(state.v_s), np.linalg.norm(state.W_s)
    return (float(np.linalg.norm(state.v_s / nv - limits.v_bar)),
            float(np.linalg.norm(state.W_s / nW - limits.W_bar)))
