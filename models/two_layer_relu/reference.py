"""Reference solver: the linear-loss flow integrated by scipy's DOP853, one neuron at a time.

Under the linear loss the neurons of f(x) = sum_j v_j relu(<w_j, x>) decouple: each
z_j = (w_j, v_j) follows

    dw/dt = v a,   dv/dt = <w, a>,   a = sum_{i active} y_i x_i   (eq. (19), relu'(0) = 0),

with a fixed while the neuron's active set {i : <w, x_i> > 0} does not change. This module
integrates each neuron on its own with scipy's DOP853 stepper (no closed form used), and
treats the n pre-activations <w, x_i> as one vectorised event function: after each step one
product X w gives every sample's sign, and the crossings of the samples that changed sign are
located together on the step's dense output (DOP853's degree-7 interpolant, read as one
polynomial per sample) by a vectorised Illinois (modified regula falsi) iteration. The
earliest crossing is flipped and the integration restarts there, with the step size it had
reached (restarts happen only at that neuron's own events). It is the independent reference
of the exact event-driven solver (:mod:`models.two_layer_relu.exact`): the tests compare the
two, the claims use it for an independent alignment time, and the benchmark uses it as the
strongest general baseline.

Tolerances are relative to the neuron's scale: ``atol = atol_scale * ||z_j(0)||``, so a small
initialisation (||z|| ~ 1e-5) is integrated as accurately as a large one (an absolute atol
would be coarse there).

References:
    Hairer, Norsett & Wanner, "Solving Ordinary Differential Equations I", Section II.10
    (DOP853 and its dense output), Section II.6 (event location on dense output); Dowell &
    Jarratt 1971 (the Illinois method); paper Appendix D.1, eq. (19).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import DOP853

from models.two_layer_relu.exact import validate_problem

# Event location stops when the bracket of a crossing, in units of the step fraction, is
# below this plus 4 ulp of the time: ~1e-15 of the step, the resolution of brentq at
# xtol = 1e-15 on steps of size ~1 that this replaces.
LOCATE_XTOL = 1e-15
# Illinois converges superlinearly (order ~1.44); 200 iterations is a safeguard only.
LOCATE_MAXITER = 200
# Crossings within this relative distance of the earliest one in a step flip together:
# float64 locations of crossings that truly coincide agree to ~1e-15.
SIMULTANEOUS_RTOL = 1e-12


# Grid of the step on which the earliest sign change is bracketed before Newton refines it.
_GRID = np.linspace(0.0, 1.0, 17)
_GRID_POWERS = _GRID[None, :] ** np.arange(8)[:, None]  # (P + 1, cells + 1), P = 7 for DOP853


class BudgetExceeded(Exception):
    """The reference ran past its CPU-time budget."""


@dataclass(frozen=True)
class ReferenceResult:
    """The network at ``t_end`` and every activation change on the way.

    Attributes (h neurons, d inputs, n samples):
        W (h, d), v (h,): the weights at t_end (raw, not normalised).
        events: sorted list of (time, neuron j, sample i, +1 activated / -1 deactivated).
        last_event (h,): time of each neuron's last activation change (0.0 if none).
    """

    W: np.ndarray
    v: np.ndarray
    events: list[tuple[float, int, int, int]]
    last_event: np.ndarray


@functools.lru_cache(maxsize=None)
def _monomial_map(power: int) -> np.ndarray:
    """(power, power + 1): row q holds the monomial coefficients (degree 0..power) of the
    factor multiplying F[q] in scipy's Dop853DenseOutput (nested x and 1 - x factors)."""
    rows = np.zeros((power, power + 1))
    x = np.polynomial.Polynomial([0.0, 1.0])
    for q in range(power):
        poly = np.polynomial.Polynomial([0.0])
        for i in range(power):  # the nesting of Dop853DenseOutput._call_impl, with F = e_q
            if power - 1 - i == q:
                poly = poly + 1.0
            poly = poly * (x if i % 2 == 0 else 1.0 - x)
        rows[q, :poly.coef.size] = poly.coef
    return rows


def _locate(mono: list[float], lo: float, hi: float, g_lo: float, g_hi: float) -> float:
    """A sign change in [lo, hi] of a polynomial (monomial coefficients ``mono``, degree
    0..P) whose values at lo and hi are g_lo and g_hi, of opposite signs (g_hi = 0: hi; g_lo
    = 0 or of the sign of g_hi, which rounding can give at a restart on a boundary: lo).

    Newton's iteration from the secant of the bracket, safeguarded by bisection: quadratic
    convergence to a simple root, ~4 iterations, in Python floats (one or two samples per
    step is the rule, where numpy's per-call cost would dominate).
    """
    if g_hi == 0.0:
        return hi
    if g_lo == 0.0 or (g_lo > 0) == (g_hi > 0):  # on the boundary at lo, within rounding
        return lo
    x = lo + g_lo * (hi - lo) / (g_lo - g_hi)
    if not lo < x < hi:
        x = 0.5 * (lo + hi)
    deriv = [q * c for q, c in enumerate(mono)][1:]
    for _ in range(LOCATE_MAXITER):
        g = dg = 0.0
        for c in reversed(mono):
            g = g * x + c
        for c in reversed(deriv):
            dg = dg * x + c
        if g == 0.0:
            return x
        if (g > 0) == (g_lo > 0):  # root in [x, hi]
            lo, g_lo = x, g
        else:
            hi = x
        nxt = x - g / dg if dg != 0.0 else -1.0
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)  # bisect when Newton leaves the bracket
        if abs(nxt - x) <= LOCATE_XTOL or hi - lo <= LOCATE_XTOL:
            return nxt
        x = nxt
    return x


def reference_flow(X, y, W0, v0, t_end: float, *, rtol: float = 1e-12, atol_scale: float = 1e-14,
                   budget: float = np.inf) -> ReferenceResult:
    """Integrate the linear-loss flow from (W0 (h, d), v0 (h,)) on (X (n, d), y (n,)) to t_end.

    ``rtol`` and ``atol_scale`` set DOP853's tolerances (atol relative to each neuron's
    initial norm); ``budget`` is a CPU-time limit in seconds (BudgetExceeded past it).
    Crossings within 1e-12 relative of the earliest one in a step are flipped together.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)  # FlowInputError on bad input
    started = time.process_time()
    n, d = X.shape
    h = W0.shape[0]
    Xt = X.T.copy()  # (d, n)
    W, v = W0.copy(), v0.copy()
    events: list[tuple[float, int, int, int]] = []
    last = np.zeros(h)
    for j in range(h):
        z = np.append(W0[j], v0[j])
        scale = float(np.linalg.norm(z))
        if scale == 0.0:
            continue  # a neuron at the origin stays there
        atol = atol_scale * scale
        mask = (z[:d] @ Xt) > 0  # (n,), relu'(0) = 0: boundary samples start inactive
        t, step = 0.0, None
        while t < t_end:
            a = (mask * y) @ X  # (d,)
            if not np.any(a):
                break  # nothing active (or cancelling): the neuron is frozen
            field = np.zeros((d + 1, d + 1))  # z' = field z: w' = v a, v' = <w, a>
            field[:d, d], field[d, :d] = a, a

            def rhs(_t, s, field=field):
                return field @ s

            first = None if step is None else min(step, t_end - t)  # validate_first_step: <= t_end - t
            solver = DOP853(rhs, t, z, t_end, rtol=rtol, atol=atol, first_step=first)
            restarted = False
            while solver.status == "running":
                if time.process_time() - started > budget:
                    raise BudgetExceeded
                solver.step()
                g_end = solver.y[:d] @ Xt  # the event function: every pre-activation at once
                changed = (g_end > 0) != mask
                if not changed.any():
                    continue
                cols = np.flatnonzero(changed)
                dense = solver.dense_output()
                proj = Xt[:, cols]  # (d, m)
                # (P + 1, m): each changed sample's pre-activation on the interpolant, monomial form
                mono = _monomial_map(dense.F.shape[0]).T @ (dense.F[:, :d] @ proj)
                mono[0] += dense.y_old[:d] @ proj
                # The earliest crossing: the first grid cell of the step in which any sample
                # changes sign, then Newton on the samples that change sign there.
                values = (mono.T @ _GRID_POWERS).T  # (cells + 1, m) on the grid of the step
                values[-1] = g_end[cols]
                # (m,) index of the first grid point past a sign change (the last one differs)
                first = 1 + np.argmax((values[1:] > 0) != mask[cols], axis=0)
                cell = int(first.min())
                pick = np.flatnonzero(first == cell)
                x = [_locate(mono[:, r].tolist(), _GRID[cell - 1], _GRID[cell], values[cell - 1, r], values[cell, r])
                     for r in pick.tolist()]
                t_cross = solver.t_old + np.array(x) * (solver.t - solver.t_old)
                t_event = float(t_cross.min())
                for s, i in zip(t_cross.tolist(), cols[pick].tolist()):
                    if s <= t_event * (1 + SIMULTANEOUS_RTOL):  # simultaneous within rounding
                        mask[i] = not mask[i]
                        events.append((t_event, j, int(i), 1 if mask[i] else -1))
                step = solver.h_abs if solver.h_abs > 0 else None
                t, z, restarted = t_event, dense(t_event), True
                last[j] = t_event
                break
            if not restarted:
                t, z = solver.t, solver.y
        W[j], v[j] = z[:d], z[d]
    return ReferenceResult(W, v, sorted(events), last)
