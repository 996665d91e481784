"""Reference solver: the linear-loss flow integrated by scipy's DOP853, one neuron at a time.

Under the linear loss the neurons of f(x) = sum_j v_j relu(<w_j, x>) decouple: each
z_j = (w_j, v_j) follows

    dw/dt = v a,   dv/dt = <w, a>,   a = sum_{i active} y_i x_i   (eq. (19), relu'(0) = 0),

with a fixed while the neuron's active set {i : <w, x_i> > 0} does not change. This module
integrates each neuron on its own with scipy's DOP853 stepper (no closed form used), checks
the sign of every pre-activation <w, x_i> after each step in one vectorised product, locates
the earliest crossing on the step's dense output with ``brentq``, flips the crossing samples
there and restarts. It is the independent reference of the exact event-driven solver
(:mod:`models.two_layer_relu.exact`): the tests compare the two, the claims use it for an
independent alignment time, and the benchmark uses it as the strongest general baseline.

Tolerances are relative to the neuron's scale: ``atol = atol_scale * ||z_j(0)||``, so a small
initialisation (||z|| ~ 1e-5) is integrated as accurately as a large one (an absolute atol
would be coarse there).

References:
    Hairer, Norsett & Wanner, "Solving Ordinary Differential Equations I", Section II.10
    (DOP853 and its dense output); paper Appendix D.1, eq. (19).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import DOP853
from scipy.optimize import brentq

from models.two_layer_relu.exact import validate_problem


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
    W, v = W0.copy(), v0.copy()
    events: list[tuple[float, int, int, int]] = []
    last = np.zeros(h)
    for j in range(h):
        z = np.append(W0[j], v0[j])
        scale = float(np.linalg.norm(z))
        if scale == 0.0:
            continue  # a neuron at the origin stays there
        atol = atol_scale * scale
        mask = (X @ z[:d]) > 0  # (n,), relu'(0) = 0: boundary samples start inactive
        t = 0.0
        while t < t_end:
            a = (mask * y) @ X  # (d,)
            if not np.any(a):
                break  # nothing active (or cancelling): the neuron is frozen

            def rhs(_t, s, a=a):
                return np.append(s[d] * a, s[:d] @ a)

            solver = DOP853(rhs, t, z, t_end, rtol=rtol, atol=atol)
            restarted = False
            while solver.status == "running":
                if time.process_time() - started > budget:
                    raise BudgetExceeded
                solver.step()
                changed = ((X @ solver.y[:d]) > 0) != mask  # one product for every sample
                if not changed.any():
                    continue
                dense = solver.dense_output()
                crossings = [
                    (brentq(lambda s, i=i: dense(s)[:d] @ X[i], solver.t_old, solver.t, xtol=1e-15, rtol=1e-14), i)
                    for i in np.flatnonzero(changed)
                ]
                t_event = min(c[0] for c in crossings)
                for s, i in crossings:
                    if s <= t_event * (1 + 1e-12):  # simultaneous within rounding of the root
                        mask[i] = not mask[i]
                        events.append((float(t_event), j, int(i), 1 if mask[i] else -1))
                t, z, restarted = t_event, dense(t_event), True
                last[j] = t_event
                break
            if not restarted:
                t, z = solver.t, solver.y
        W[j], v[j] = z[:d], z[d]
    return ReferenceResult(W, v, sorted(events), last)
