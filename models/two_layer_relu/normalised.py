"""Weight-normalised gradient flows of Appendix D.4 under the linear loss.

The network is f(x) = sum_j v_j relu(<w_j, x>) and L = -sum_i y_i f(x_i) (eqs (2), (18)).
Write G_W = -dL/dW (rows v_j a_j, a_j = sum_{i active for j} y_i x_i, eq. (19)) and
G_v = -dL/dv (entries <w_j, a_j>). A weight normalisation keeps the norm of some *blocks*
of parameters fixed at their initial values; the flow is the gradient flow restricted to
that product of spheres, i.e. each block's gradient projected on its sphere's tangent space:

    dW_B/dt = G_W,B - (<G_W,B, W_B> / ||W_B||^2) W_B,    likewise for v_B.

Two families are provided.

``per_neuron_normalised_flow`` (eq. (47), Appendix B.2): each row w_j keeps ||w_j||. For
the output weights, a scalar v_j with |v_j| fixed lives on a 0-sphere {-|v_j|, +|v_j|},
whose tangent space is {0}: a continuous flow cannot move it, so v is frozen
(``output="neuron"``). This matches (47), in which v_j enters only through sgn(v_j), so
dL/dv_j = 0. Appendix B.2 normalises "each neuron" of every layer; the output layer of a
binary classifier is a single neuron whose weight vector is v, so the B.2 reading fixes
||v|| instead (``output="layer"``: v moves on its sphere). Two speeds (``form``):
    - "projected": the gradient of the linear loss itself, projected (directions of w_j
      move as dw_hat_j/dt = (v_j/||w_j||) (I - w_hat w_hat^T) a_j);
    - "eq47": gradient flow of the 0-homogeneous loss (47), -sum_j sgn(v_j) <w_j/||w_j||,
      x_a(w_j)>, which drops the factor |v_j| ||w_j|| of neuron j's term:
      dw_hat_j/dt = (sgn(v_j)/||w_j||^2) (I - w_hat w_hat^T) a_j. The paper's (48) writes
      1/(|v_j| ||w_j||) for that factor, equal to 1/||w_j||^2 under balance only.
    Neurons decouple under the linear loss, so the two forms trace the same paths, neuron
    j's time rescaled by the constant |v_j| ||w_j||.

``per_layer_normalised_flow`` (eqs (49)-(51)): ||W||_F and ||v|| fixed, either for the whole
layer (``blocks="layer"``) or separately for the neurons with v_j(0) > 0, < 0 and = 0
(``blocks="sign"``: (49) is stated per class group, "the subscript +- is omitted").
``form="eq49"`` multiplies block B's field by 1/(||v_B|| ||W_B||): the gradient flow of
-sum_B L_B / (||v_B|| ||W_B||), which after alignment is (49) group by group.
Both use :func:`models.two_layer_relu.logistic.event_driven_flow` (DOP853 with events on
<w_j, x_i>), and return a FlowResult. At each restart the state is projected back on the
spheres (Hairer, Lubich & Wanner, Geometric Numerical Integration, Section IV.4), which
keeps the drift of the norms at the level of one integration piece.

``per_layer_flow_linear`` integrates (50)-(51) literally for the two-layer *linear* network
of Appendix D.3/D.4 (x (d,), W (d, m), v (m,)) and returns a
:class:`models.two_layer_relu.linear_network.LinearTrajectory`.

Observations (tested in tests/test_two_layer_relu_normalised.py):
    - the boundary rate d/dt <w_j, x_i> at <w_j, x_i> = 0 is the same as without
      normalisation (the projection term is proportional to <w_j, x_i> = 0 there), so the
      activation conventions of the exact solver carry over unchanged;
    - under balance |v_j(0)| = ||w_j(0)||, the per-neuron "projected" flow moves each
      direction w_j/||w_j|| exactly as the unnormalised flow does, at the same times;
    - under ||W(0)||_F = ||v(0)|| (implied by balance), the whole-layer flow is the
      unnormalised flow radially projected: (W, v)(t) = sqrt(2) ||v(0)|| theta(t)/||theta(t)||
      with theta the unnormalised flow; per class group likewise with blocks="sign".

References:
    Appendix D.4, eqs (47)-(52); Appendix B.2; Salimans & Kingma (2016), weight normalisation.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from models.two_layer_relu.exact import validate_problem
from models.two_layer_relu.linear_network import LinearTrajectory, validate_linear_problem
from models.two_layer_relu.logistic import event_driven_flow, validate_options
from models.two_layer_relu.result import FlowInputError, FlowResult

PER_NEURON_FORMS = ("projected", "eq47")
PER_LAYER_FORMS = ("projected", "eq49")
OUTPUTS = ("neuron", "layer")
BLOCKS = ("layer", "sign")


def _block_sums(labels: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    return np.bincount(labels, weights=values, minlength=count)


def _tangent(G: np.ndarray, P: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Project G on the tangent space of the product of spheres {||P_B|| = const} (rows by block)."""
    count = int(labels.max()) + 1
    G2, P2 = G.reshape(len(labels), -1), P.reshape(len(labels), -1)
    inner = _block_sums(labels, np.sum(G2 * P2, axis=1), count)
    sq = _block_sums(labels, np.sum(P2 * P2, axis=1), count)
    coef = np.divide(inner, sq, out=np.zeros(count), where=sq > 0)[labels]  # (h,)
    out = G2 - coef[:, None] * P2
    out[(sq == 0)[labels]] = 0.0  # a zero-norm block is a point: it cannot move
    return out.reshape(G.shape)


def _block_norms(P: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(h,) norm of the block each row belongs to."""
    P2 = P.reshape(len(labels), -1)
    return np.sqrt(_block_sums(labels, np.sum(P2 * P2, axis=1), int(labels.max()) + 1))[labels]


def _normalised_field(X, y, w_labels, v_labels, w_speed, v_speed, v_frozen: bool):
    """Field of the linear loss projected on the block spheres, scaled per row by *_speed."""

    def field(W, v, active):
        relu = np.where(active, W @ X.T, 0.0)  # (h, n)
        GW = v[:, None] * ((active * y) @ X)  # (h, d) rows v_j a_j
        Gv = relu @ y  # (h,) <w_j, a_j> over active samples
        dW = _tangent(GW, W, w_labels) * w_speed[:, None]
        dv = np.zeros_like(v) if v_frozen else _tangent(Gv, v, v_labels) * v_speed
        return dW, dv

    return field


def _projector(w_labels, v_labels, W0, v0):
    """Rescale each block back to its initial norm (restart states only)."""
    w_target, v_target = _block_norms(W0, w_labels), _block_norms(v0, v_labels)

    def project(W, v):
        w_now, v_now = _block_norms(W, w_labels), _block_norms(v, v_labels)
        w_fac = np.divide(w_target, w_now, out=np.ones_like(w_now), where=w_now > 0)
        v_fac = np.divide(v_target, v_now, out=np.ones_like(v_now), where=v_now > 0)
        return W * w_fac[:, None], v * v_fac

    return project


def _choice(name: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FlowInputError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def per_neuron_normalised_flow(X, y, W0, v0, t_end: float, *, form: str = "projected",
                               output: str = "neuron", rtol: float = 1e-10, atol: float = 1e-12,
                               max_events: int = 10_000) -> FlowResult:
    """Linear-loss gradient flow with each ||w_j|| fixed (eq. (47), Appendix B.2).

    Args:
        X (n, d), y (n,) in {-1, +1}, W0 (h, d), v0 (h,), t_end >= 0.
        form: "projected" (projected gradient of the linear loss) or "eq47" (gradient flow
            of the 0-homogeneous loss (47); a neuron with v_j = 0 or w_j = 0 is frozen there,
            as (47) is undefined).
        output: "neuron" (each |v_j| fixed: v is frozen) or "layer" (||v|| fixed; not with eq47).
        rtol, atol, max_events: as for the logistic flow.

    Returns:
        FlowResult; ||w_j(t)|| = ||w_j(0)|| and, per ``output``, v(t) = v(0) or ||v(t)|| = ||v(0)||.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    rtol, atol, max_events = validate_options(rtol, atol, max_events)
    form = _choice("form", form, PER_NEURON_FORMS)
    output = _choice("output", output, OUTPUTS)
    if form == "eq47" and output != "neuron":
        raise FlowInputError(f"output must be 'neuron' with form='eq47' (v_j enters (47) only "
                             f"through its sign); got {output!r}")
    h = W0.shape[0]
    w_labels = np.arange(h)
    v_labels = np.arange(h) if output == "neuron" else np.zeros(h, dtype=np.int64)
    w_speed, v_speed = np.ones(h), np.ones(h)
    if form == "eq47":
        scale = np.abs(v0) * np.linalg.norm(W0, axis=1)
        w_speed = np.divide(1.0, scale, out=np.zeros(h), where=scale > 0)
    field = _normalised_field(X, y, w_labels, v_labels, w_speed, v_speed, v_frozen=output == "neuron")
    return event_driven_flow(field, X, y, W0, v0, t_end, rtol=rtol, atol=atol, max_events=max_events,
                             project=_projector(w_labels, v_labels, W0, v0))


def per_layer_normalised_flow(X, y, W0, v0, t_end: float, *, form: str = "projected",
                              blocks: str = "layer", rtol: float = 1e-10, atol: float = 1e-12,
                              max_events: int = 10_000) -> FlowResult:
    """Linear-loss gradient flow with ||W||_F and ||v|| fixed per block (eqs (49)-(51)).

    Args:
        X (n, d), y (n,) in {-1, +1}, W0 (h, d), v0 (h,), t_end >= 0.
        form: "projected" (projected gradient of the linear loss) or "eq49" (block B's field
            divided by ||v_B|| ||W_B||, the gradient flow of sum_B L_B / (||v_B|| ||W_B||)).
        blocks: "layer" (one block: the whole of W, the whole of v) or "sign" (blocks of the
            neurons with v_j(0) > 0, < 0 and = 0, for W and v alike).
        rtol, atol, max_events: as for the logistic flow.

    Returns:
        FlowResult; every block keeps its initial norm.
    """
    X, y, W0, v0, t_end = validate_problem(X, y, W0, v0, t_end)
    rtol, atol, max_events = validate_options(rtol, atol, max_events)
    form = _choice("form", form, PER_LAYER_FORMS)
    blocks = _choice("blocks", blocks, BLOCKS)
    h = W0.shape[0]
    if blocks == "layer":
        labels = np.zeros(h, dtype=np.int64)
    else:
        labels = np.where(v0 > 0, 0, np.where(v0 < 0, 1, 2)).astype(np.int64)
    speed = np.ones(h)
    if form == "eq49":
        scale = _block_norms(W0, labels) * _block_norms(v0, labels)
        speed = np.divide(1.0, scale, out=np.zeros(h), where=scale > 0)
    field = _normalised_field(X, y, labels, labels, speed, speed, v_frozen=False)
    return event_driven_flow(field, X, y, W0, v0, t_end, rtol=rtol, atol=atol, max_events=max_events,
                             project=_projector(labels, labels, W0, v0))


def per_layer_flow_linear(x, W0, v0, t_end: float, *, t_eval=None, rtol: float = 1e-12,
                          atol: float = 1e-12) -> LinearTrajectory:
    """Eqs (50)-(51) for the two-layer linear network, x (d,), W (d, m), v (m,), by DOP853.

        dv/dt = W^T x / (||v|| ||W||) - (v^T W^T x) v / (||v||^3 ||W||),
        dW/dt = x v^T / (||v|| ||W||) - (v^T W^T x) W / (||v|| ||W||^3),

    the gradient flow of (49), -v^T W^T x / (||v|| ||W||) (Frobenius norm for W); ||v||
    and ||W|| are conserved (the field is tangent to both spheres). The norms in the field
    are the current ones, as written in the paper.

    Args:
        x (d,), W0 (d, m), v0 (m,) with W0 != 0 and v0 != 0; t_end >= 0.
        t_eval: increasing times in [0, t_end] to report (default: the solver's steps).
        rtol, atol: DOP853 tolerances.

    Returns:
        LinearTrajectory with t (k,), W (k, d, m), v (k, m).
    """
    x, W0, v0 = validate_linear_problem(x, W0, v0)
    if not np.any(W0) or not np.any(v0):
        raise FlowInputError("W0 and v0 must be nonzero for eqs (50)-(51) (they divide by "
                             f"||W|| ||v||); got ||W0|| = {np.linalg.norm(W0)}, ||v0|| = {np.linalg.norm(v0)}")
    try:
        t_end = float(t_end)
    except (TypeError, ValueError):
        raise FlowInputError(f"t_end must be a real number; got {t_end!r}") from None
    if not (math.isfinite(t_end) and t_end >= 0):
        raise FlowInputError(f"t_end must be finite and >= 0; got {t_end!r}")
    rtol, atol, _ = validate_options(rtol, atol, 0)
    if t_eval is not None:
        t_eval = np.asarray(t_eval, dtype=np.float64)
        if t_eval.ndim != 1 or not np.all(np.isfinite(t_eval)) or np.any(np.diff(t_eval) < 0) \
                or (t_eval.size and (t_eval[0] < 0 or t_eval[-1] > t_end)):
            raise FlowInputError(f"t_eval must be nondecreasing times in [0, t_end]; got {t_eval!r}")
    d, m = W0.shape

    def rhs(_t, z):
        W, v = z[:d * m].reshape(d, m), z[d * m:]
        nv, nW = np.linalg.norm(v), np.linalg.norm(W)
        p = W.T @ x  # (m,)
        c = v @ p
        dv = p / (nv * nW) - c * v / (nv**3 * nW)  # eq. (50)
        dW = np.outer(x, v) / (nv * nW) - c * W / (nv * nW**3)  # eq. (51)
        return np.concatenate([dW.ravel(), dv])

    if t_end == 0:
        return LinearTrajectory(x, np.zeros(1), W0[None].copy(), v0[None].copy())
    sol = solve_ivp(rhs, (0.0, t_end), np.concatenate([W0.ravel(), v0]), method="DOP853",
                    rtol=rtol, atol=atol, t_eval=t_eval)
    if sol.status != 0:
        raise RuntimeError(f"DOP853 failed: {sol.message}")
    k = sol.t.size
    return LinearTrajectory(x, sol.t, sol.y[:d * m].T.reshape(k, d, m), sol.y[d * m:].T.copy())
