"""Appendix D.1, gradient flow analysis: eq. (19), the motion of w_j/||w_j||, Lemma 5, balance.

Statements, as printed:
    (18) L(v, W) = sum_i sum_j -y_i v_j relu(w_j^T x_i).
    (19) d/dt w_j = dL/dw_j (v, W) = v_j sum_{<w_j, x_i> > 0} y_i x_i.
    d/dt w_j/||w_j|| = 1/||w_j|| (I - w_j w_j^T/||w_j||^2)(v_j sum y_i x_i)
                     = sgn(v_j) (I - w_j w_j^T/||w_j||^2) sum y_i x_i,
    "where the last equality is due to the balanced initialization: under balanced
    initialization, the balance is maintained throughout the GF training (Du et al.). We
    also emphasize that the sign of v_j does not change throughout the training (Boursier
    et al.)."  x_a(w_j) := sum_{<w_j, x_i> > 0} y_i x_i.
    Lemma 5 (25): for a fixed unit x_r, d/dt cos(x_r, w_j) =
        sgn(v_j) (cos(x_r, x_a(w_j)) - cos(x_r, w_j) cos(w_j, x_a(w_j))) ||x_a(w_j)||.

Referee reading.
- (19) as printed is wrong in its middle term: from (18), dL/dw_j = -v_j x_a(w_j), and
  gradient flow is d/dt w_j = -dL/dw_j. The printed chain "d/dt w_j = dL/dw_j = v_j x_a"
  has a wrong sign in the middle (gradient *ascent* as written); its two ends agree: the
  flow's velocity is +v_j x_a(w_j), which is what the rest of Appendix D uses and what the
  simulator follows. Corrected: d/dt w_j = -dL/dw_j = v_j x_a(w_j) (relu'(0) = 0).
- The first line for d/dt w_j/||w_j|| holds for any v_j; the second needs |v_j| = ||w_j||
  along the flow: without balance it is off by the factor |v_j|/||w_j||.
- Balance: d/dt (||w_j||^2 - v_j^2) = 2 v_j <w_j, x_a> - 2 v_j <w_j, x_a> = 0 for *any*
  initialisation (the flow conserves the difference); sgn(v_j) is invariant only under
  balance (v_j = 0 would need w_j = 0, a fixed point). Without balance v_j can change sign:
  shown on a 1-D instance.
- Lemma 5 holds under balance (it is the second line projected on x_r); without balance it
  carries the same factor |v_j|/||w_j||.

References:
    Appendix D.1, eqs (18)-(19); Appendix D.2, Lemma 5, eq. (25); Du, Hu & Lee (2018);
    Boursier, Pillaud-Vivien & Flammarion (2022).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.assumptions import instances
from claims.framework.checks import assert_sympy_zero, property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from claims.dynamics import evolve
from models.alignment_bounds import stretches
from models.data_geometry import x_active
from models.two_layer_relu import gradient_flow

BOUNDS = {"max_n": 6, "max_h": 3}

# 1e-12 relative: autograd and the formula both sum <= 8 float64 vectors of norm <= 10.
GRAD_RTOL = 1e-12


# ---------------------------------------------------------------------------------------
# Eq. (19).
# ---------------------------------------------------------------------------------------
def loss_gradient_w(X, y, W, v) -> np.ndarray:
    """dL/dW (h, d) of the linear loss (18) by torch autograd in float64 (relu'(0) = 0)."""
    import torch  # here, not at module level: listing or checking a claim must not load torch

    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    loss = -(torch.tensor(y) * (torch.relu(torch.tensor(X) @ Wt.T) @ torch.tensor(v))).sum()
    loss.backward()
    return Wt.grad.numpy()


def velocity_formula(X, y, W, v, *, boundary_active: bool = False) -> np.ndarray:
    """(h, d) rows v_j x_a(w_j), the right-hand side of (19).

    ``boundary_active`` (a broken variant for the negative control) counts samples on the
    boundary <w_j, x_i> = 0 as active (relu'(0) = 1 instead of 0)."""
    if boundary_active:
        return np.stack([vj * ((X @ w >= 0) * y) @ X for w, vj in zip(W, v)])
    return np.stack([vj * x_active(w, X, y) for w, vj in zip(W, v)])


def _agree(a, b) -> bool:
    """Equal to GRAD_RTOL relative (an absolute floor of GRAD_RTOL times the largest entry)."""
    scale = max(float(np.abs(a).max(initial=0)), float(np.abs(b).max(initial=0)), 1e-300)
    return bool(np.allclose(a, b, rtol=GRAD_RTOL, atol=GRAD_RTOL * scale))


def evaluate_eq19_printed(inst) -> Evaluation:
    """As printed: dL/dw_j = v_j x_a(w_j) at (W0, v0)."""
    g = loss_gradient_w(inst["X"], inst["y"], inst["W0"], inst["v0"])
    f = velocity_formula(inst["X"], inst["y"], inst["W0"], inst["v0"])
    return Evaluation(holds=_agree(g, f), figures={"max_abs_diff": float(np.max(np.abs(g - f)))})


def evaluate_eq19_corrected(inst, *, boundary_active: bool = False) -> Evaluation:
    """Corrected: -dL/dw_j = v_j x_a(w_j) at (W0, v0) (``boundary_active``: see velocity_formula)."""
    g = loss_gradient_w(inst["X"], inst["y"], inst["W0"], inst["v0"])
    f = velocity_formula(inst["X"], inst["y"], inst["W0"], inst["v0"], boundary_active=boundary_active)
    return Evaluation(holds=_agree(-g, f), figures={"max_abs_diff": float(np.max(np.abs(g + f)))})


EQ19 = register(Claim(
    id="eq-19",
    paper_ref="Eq. (19)",
    statement=r"$\frac{d}{dt} w_j = \partial_{w_j} \mathcal{L}(v, W) = v_j \sum_{\langle w_j, x_i \rangle > 0} y_i "
              r"x_i$.",
    quote=r"$$\frac{d}{dt} \mathbf{w}_j = \partial_{\mathbf{w}_j} \mathcal{L}(\mathbf{v}, \mathbf{W}) = v_j "
          r"\sum_{\langle \mathbf{w}_j, \mathbf{x}_i \rangle > 0} y_i \mathbf{x}_i \quad (19)$$",
    reading=r"$\partial_{w_j} \mathcal{L}$ is the gradient of (18) (autograd, with $\sigma'(0) = 0$) and "
            r"$\frac{d}{dt} w_j$ the gradient-flow velocity; each equality of the chain is checked.",
    assumptions=(),
    expected_verdict="erratum",
    correction=r"$\frac{d}{dt} w_j = -\partial_{w_j} \mathcal{L}(v, W) = v_j \sum_{\langle w_j, x_i \rangle > 0} "
               r"y_i x_i$: from (18), $\partial_{w_j} \mathcal{L} = -v_j x_a(w_j)$, and gradient flow follows "
               r"minus the gradient. The printed right-hand side is the flow's velocity; only the middle term has "
               r"the wrong sign.",
    counterexample_summary="any neuron with v_j x_a(w_j) != 0: dL/dw_j = -v_j x_a(w_j), the opposite of the "
                           "printed v_j x_a(w_j)",
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_eq19_printed,
    probe_evaluate=evaluate_eq19_corrected,
    instance_bounds=BOUNDS,
))


@pytest.mark.claim(EQ19.id, kind="symbolic", form="corrected")
def test_eq19_symbolic():
    """sympy: for a fixed active set, dL/dw = -v sum_{active} y_i x_i (so the printed dL/dw = v x_a is off by sign)."""
    d, n = 3, 3
    w = sp.Matrix(sp.symbols("w0:3", real=True))
    v = sp.Symbol("v", real=True)
    xs = [sp.Matrix(sp.symbols(f"x{i}_0:{d}", real=True)) for i in range(n)]
    ys = sp.symbols("y0:3", real=True)
    active = (True, False, True)  # samples 0 and 2 active: relu(u) = u there, 0 elsewhere
    L = -sum(ys[i] * v * (w.T * xs[i])[0] for i in range(n) if active[i])
    grad = sp.Matrix([sp.diff(L, c) for c in w])
    xa = sum((ys[i] * xs[i] for i in range(n) if active[i]), sp.zeros(d, 1))
    for k in range(d):
        assert_sympy_zero(grad[k] + v * xa[k], f"dL/dw_{k} + v x_a,{k}")
    assert sp.simplify(grad[0] - v * xa[0]) != 0  # the printed sign is not an identity


@pytest.mark.claim(EQ19.id, kind="property", form="printed")
def test_eq19_printed(record_property):
    """As printed (dL/dw_j = v_j x_a): fails on any instance where some v_j x_a(w_j) != 0."""
    found = search_counterexample(record_property, EQ19, planar_instances())
    assert evaluate_eq19_printed(found).holds


@pytest.mark.claim(EQ19.id, kind="property", form="corrected")
def test_eq19_corrected(record_property):
    """Corrected: -dL/dw_j (torch autograd) = v_j x_a(w_j) on generated instances."""
    property_check(record_property, instances(**BOUNDS),
                   lambda inst: require(evaluate_eq19_corrected(inst).holds))


@pytest.mark.claim(EQ19.id, kind="numerical", form="corrected")
def test_eq19_flow_moves_along_minus_gradient(record_property):
    """The exact flow's dw_j/dt at t = 0 (central difference on [-, +] via the two-sided closed form) = -dL/dw_j."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(5):
        X = rng.normal(size=(5, 3))
        y = np.array([1.0, 1.0, -1.0, -1.0, 1.0])
        W0 = rng.normal(size=(3, 3))
        v0 = rng.normal(size=3)
        delta = 1e-6  # far from every activation change (pre-activations are O(1), rates O(10))
        W1 = gradient_flow(X, y, W0, v0, 2 * delta).state_at(2 * delta)[0]
        W_half = gradient_flow(X, y, W0, v0, delta).state_at(delta)[0]
        rate = (4 * W_half - 3 * W0 - W1) / (2 * delta)  # second-order one-sided difference
        minus_grad = -loss_gradient_w(X, y, W0, v0)
        worst = max(worst, float(np.max(np.abs(rate - minus_grad))))
        # 1e-8: the one-sided second-order difference errs by ~delta^2 |w'''| ~ 1e-12 * 1e3;
        # float rounding of W / delta adds ~1e-10. A sign error is O(1).
        assert np.allclose(rate, minus_grad, atol=1e-8)
    record_property("fig:max_abs_diff_flow_vs_minus_gradient", worst)


@pytest.mark.negative_control(EQ19.id)
def test_eq19_negative_control():
    """Broken variant: x_a with boundary samples counted as active (relu'(0) = 1, boundary_active=True)
    in the corrected evaluation, on a neuron with sample 1 on its boundary, where the correct x_a passes."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0])
    W = np.array([[1.0, 0.0]])  # sample 1 on the boundary <w, x_1> = 0
    v = np.array([2.0])
    inst = {"X": X, "y": y, "W0": W, "v0": v}
    assert evaluate_eq19_corrected(inst).holds
    rejects(evaluate_eq19_corrected, inst, boundary_active=True)


# ---------------------------------------------------------------------------------------
# The motion of w_j / ||w_j|| and Lemma 5, on the exact flow.
# ---------------------------------------------------------------------------------------
@st.composite
def planar_instances(draw, *, balanced: bool = True):
    """Two samples and one neuron in the plane, from small integers; shrinks to w = (1, 0).

    X rows (a, b) with integer entries in [-3, 3] (a zero row replaced by (1, 0)), labels
    +1, -1; W0 = one integer row (a zero row replaced by (1, 0)); v0 = +-||w|| (balanced) or
    +-||w|| / 2 (unbalanced). Cost: 8 integer draws.
    """
    ints = st.integers(-3, 3)
    X = np.array([[draw(ints), draw(ints)] for _ in range(2)], float)
    X[np.all(X == 0, axis=1)] = [1.0, 0.0]
    w = np.array([[draw(ints), draw(ints)]], float)
    if not np.any(w):
        w[0] = [1.0, 0.0]
    sign = -1.0 if draw(st.booleans()) else 1.0
    v = np.array([sign * np.linalg.norm(w) * (1.0 if balanced else 0.5)])
    return {"X": X, "y": np.array([1.0, -1.0]), "W0": w, "v0": v}


def sample_times(flow, W0, per_stretch: int = 2) -> list[tuple[int, float, float]]:
    """(j, t, delta): times inside stretches of each neuron (away from events) and a step.

    Stretches shorter than 1e-3 / sum_i ||x_i|| (a thousandth of the fastest e-folding) are
    skipped: their step would be so short that rounding of the unit states (1e-16 / step)
    dominates the difference.
    """
    out = []
    shortest = 1e-3 / float(np.linalg.norm(flow.X, axis=1).sum())
    for j, neuron in enumerate(stretches(flow, W0)):
        for s in neuron[:3]:
            end = min(s.end, flow.t_end)
            if not end - s.start > shortest:
                continue
            for q in range(1, per_stretch + 1):
                out.append((j, s.start + q * (end - s.start) / (per_stretch + 1), 1e-6 * (end - s.start)))
    return out


def _unit_w(flow, j, t):
    W_unit, v_unit, _ = flow.unit_state_at(t)
    w, v = W_unit[j], v_unit[j]
    return w / np.linalg.norm(w), abs(v) / np.linalg.norm(w), np.sign(v)


def direction_lines(inst, horizon: float | None = None) -> list[dict]:
    """At sample times of the exact flow: d/dt w/||w|| (central difference), line 1, line 2."""
    X, y, W0, v0 = (inst[k] for k in ("X", "y", "W0", "v0"))
    horizon = horizon or 3.0 / np.linalg.norm(X, axis=1).max()
    flow = gradient_flow(X, y, W0, v0, horizon)
    rows = []
    for j, t, delta in sample_times(flow, W0):
        if not np.any(W0[j]):
            continue
        u, ratio, sign = _unit_w(flow, j, t)
        lo, hi = t - delta, t + delta  # divide by the float step (see _cos_derivative in claim_alignment)
        rate = (_unit_w(flow, j, hi)[0] - _unit_w(flow, j, lo)[0]) / (hi - lo)
        xa = (flow.activation_pattern(t)[j] * y) @ X  # the solver's active set: a frozen
        # neuron sits *on* a boundary, where the float sign of <w, x_i> is rounding noise
        proj = xa - (u @ xa) * u  # (I - u u^T) x_a
        rows.append({"rate": rate, "line1": ratio * sign * proj, "line2": sign * proj,
                     "scale": float(np.linalg.norm(xa)) + 1e-300, "x_r_checks": (u, sign, xa)})
    return rows


def _close_rows(rows, key, rtol=1e-6) -> bool:
    # 1e-6 of ||x_a||: central differences with a step 1e-6 of the stretch err by ~1e-12
    # relative; rounding of unit vectors over the step adds ~1e-10. A missing factor
    # |v|/||w|| (>= 1.5 or <= 0.67 off) or a sign error is O(1).
    return all(np.linalg.norm(r["rate"] - r[key]) <= rtol * r["scale"] for r in rows)


def evaluate_direction(inst) -> Evaluation:
    """Both printed lines for d/dt w_j/||w_j|| along the exact flow."""
    rows = direction_lines(inst)
    return Evaluation(holds=_close_rows(rows, "line1") and _close_rows(rows, "line2"),
                      figures={"times_checked": float(len(rows))})


DIRECTION = register(Claim(
    id="eq-19-direction",
    paper_ref="Appendix D.1",
    statement=r"$\frac{d}{dt} \frac{w_j}{\|w_j\|} = \frac{1}{\|w_j\|} (I - \frac{w_j w_j^\top}{\|w_j\|^2})(v_j "
              r"x_a(w_j)) = \mathrm{sgn}(v_j) (I - \frac{w_j w_j^\top}{\|w_j\|^2}) x_a(w_j)$, the last equality "
              r"due to the balanced initialization.",
    quote=r"$$\begin{aligned} \frac{d}{dt} \frac{\mathbf{w}_j}{\|\mathbf{w}_j\|} &= \frac{1}{\|\mathbf{w}_j\|} "
          r"\left( \mathbf{I} - \frac{\mathbf{w}_j \mathbf{w}_j^\top}{\|\mathbf{w}_j\|^2} \right) \left( v_j "
          r"\sum_{\langle \mathbf{w}_j, \mathbf{x}_i \rangle > 0} y_i \mathbf{x}_i \right) \\ &= \text{sgn}(v_j) "
          r"\left( \mathbf{I} - \frac{\mathbf{w}_j \mathbf{w}_j^\top}{\|\mathbf{w}_j\|^2} \right) \sum_{\langle "
          r"\mathbf{w}_j, \mathbf{x}_i \rangle > 0} y_i \mathbf{x}_i \end{aligned}$$ Where the last equality is "
          r"due to the balanced initialization",
    reading=r"Both lines are compared with central differences of $w_j/\|w_j\|$ along the exact flow from a "
            r"balanced initialization (Assumption 2), with $\sigma'(0) = 0$.",
    assumptions=("balanced-init",),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_direction,
    instance_bounds=BOUNDS,
))


@pytest.mark.claim(DIRECTION.id, kind="symbolic")
def test_direction_symbolic():
    """sympy: d/dt w/||w|| with w' = v a is line 1; with |v| = ||w|| it is line 2 (in R^3)."""
    t = sp.Symbol("t", real=True)
    w = sp.Matrix([sp.Function(f"w{k}")(t) for k in range(3)])
    a = sp.Matrix(sp.symbols("a0:3", real=True))
    v = sp.Symbol("v", real=True)
    norm = sp.sqrt((w.T * w)[0])
    flow = {sp.Derivative(w[k], t): v * a[k] for k in range(3)}
    rate = (w / norm).diff(t).subs(flow)
    P = sp.eye(3) - w * w.T / norm**2
    line1 = P * (v * a) / norm
    for k in range(3):
        assert_sympy_zero(rate[k] - line1[k], f"component {k} of d/dt w/||w|| - line 1")
    for sgn in (1, -1):  # |v| = ||w||: v = sgn ||w||
        line2 = sgn * P * a
        for k in range(3):
            assert_sympy_zero(line1[k].subs(v, sgn * norm) - line2[k], f"line 1 - line 2, sgn {sgn}, comp {k}")


@pytest.mark.claim(DIRECTION.id, kind="property")
def test_direction_balanced(record_property):
    """Both lines hold along the exact flow on balanced instances (central differences)."""
    property_check(record_property, instances(**BOUNDS),
                   lambda inst: require(evaluate_direction(inst).holds))


@pytest.mark.claim(DIRECTION.id, kind="numerical")
def test_direction_line1_without_balance(record_property):
    """Without balance line 1 still holds and line 2 is off by |v_j|/||w_j|| (an unbalanced instance)."""
    inst = {"X": np.array([[2.0, 0.5], [-1.0, 1.0]]), "y": np.array([1.0, -1.0]),
            "W0": np.array([[0.3, 1.0]]), "v0": np.array([0.5 * math.hypot(0.3, 1.0)])}
    rows = direction_lines(inst)
    assert rows and _close_rows(rows, "line1") and not _close_rows(rows, "line2")
    record_property("fig:unbalanced_times_checked", len(rows))


@pytest.mark.negative_control(DIRECTION.id)
def test_direction_negative_control():
    """Broken instance: Assumption 2 violated (|v_j| = ||w_j|| / 2); the claim's evaluation, which
    accepts the balanced instance, rejects line 2 there."""
    inst = {"X": np.array([[2.0, 0.5], [-1.0, 1.0]]), "y": np.array([1.0, -1.0]),
            "W0": np.array([[0.3, 1.0]]), "v0": np.array([math.hypot(0.3, 1.0)])}
    assert evaluate_direction(inst).holds
    rejects(evaluate_direction, {**inst, "v0": inst["v0"] / 2})


def lemma5_rows(inst, *, drop_term: bool = False) -> list[tuple[float, float, float]]:
    """(d/dt cos(x_r, w_j) by central differences, (25)'s right side, ||x_a||) for x_r in
    {x_+, x_-, each x_i} (normalised) at sample times of the exact flow."""
    X, y, W0, v0 = (inst[k] for k in ("X", "y", "W0", "v0"))
    flow = gradient_flow(X, y, W0, v0, 3.0 / np.linalg.norm(X, axis=1).max())
    refs = np.vstack([X, X[y > 0].sum(axis=0), X[y < 0].sum(axis=0)])
    refs = refs[np.linalg.norm(refs, axis=1) > 0]
    refs = refs / np.linalg.norm(refs, axis=1, keepdims=True)
    out = []
    for j, t, delta in sample_times(flow, W0):
        if not np.any(W0[j]):
            continue
        u, _, sign = _unit_w(flow, j, t)
        lo, hi = t - delta, t + delta  # divide by the float step, as in direction_lines
        up, down = _unit_w(flow, j, hi)[0], _unit_w(flow, j, lo)[0]
        xa = (flow.activation_pattern(t)[j] * y) @ X  # the solver's active set (see direction_lines)
        k = float(np.linalg.norm(xa))
        for r in refs:
            lhs = (r @ up - r @ down) / (hi - lo)
            if k == 0:
                out.append((lhs, 0.0, 0.0))
                continue
            cos_ra, cos_rw, cos_wa = r @ xa / k, r @ u, u @ xa / k
            rhs = sign * (cos_ra - (0.0 if drop_term else cos_rw * cos_wa)) * k
            out.append((lhs, rhs, k))
    return out


def lemma5_holds(inst, *, drop_term: bool = False) -> bool:
    """(25) at every sampled time and reference (``drop_term``, a broken variant for the negative
    control: (25) without the cos(x_r, w) cos(w, x_a) term)."""
    # 1e-6 of ||x_a|| (plus 1e-9 absolute for frozen neurons): as for the direction lines.
    return all(abs(lhs - rhs) <= 1e-6 * k + 1e-9 for lhs, rhs, k in lemma5_rows(inst, drop_term=drop_term))


LEMMA5 = register(Claim(
    id="lemma-5",
    paper_ref="Lemma 5",
    statement=r"For a fixed unit $x_r$, $\frac{d}{dt} \cos(x_r, w_j) = \mathrm{sgn}(v_j)(\cos(x_r, x_a(w_j)) - "
              r"\cos(x_r, w_j) \cos(w_j, x_a(w_j))) \|x_a(w_j)\|$ (eq. (25)).",
    quote=r"*Let $\mathbf{x}_r \in \mathbb{S}^{D-1}$ be a fixed reference vector. Then* $$\frac{d}{dt} "
          r"\cos(\mathbf{x}_r, \mathbf{w}_j) = \text{sgn}(v_j) (\cos(\mathbf{x}_r, \mathbf{x}_a(\mathbf{w}_j)) - "
          r"\cos(\mathbf{x}_r, \mathbf{w}_j) \cos(\mathbf{w}_j, \mathbf{x}_a(\mathbf{w}_j))) "
          r"\|\mathbf{x}_a(\mathbf{w}_j)\| \quad (25)$$",
    reading="Read under Assumption 2 (balance), on which the formula of Section D.1 it follows from rests; "
            "checked by central differences along the exact flow for $x_r$ each normalised $x_i$, $x_+$ and "
            "$x_-$.",
    assumptions=("balanced-init",),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=lambda inst: Evaluation(holds=lemma5_holds(inst)),
    instance_bounds=BOUNDS,
))


@pytest.mark.claim(LEMMA5.id, kind="symbolic")
def test_lemma5_symbolic():
    """sympy: <r, sgn (I - u u^T) a> = sgn (cos(r, a) - cos(r, u) cos(u, a)) ||a|| for unit r, u (in R^3)."""
    r = sp.Matrix(sp.symbols("r0:3", real=True))
    u = sp.Matrix(sp.symbols("u0:3", real=True))
    a = sp.Matrix(sp.symbols("a0:3", real=True))
    k = sp.sqrt((a.T * a)[0])
    lhs = (r.T * (sp.eye(3) - u * u.T) * a)[0]
    rhs = ((r.T * a)[0] / k - (r.T * u)[0] * (u.T * a)[0] / k) * k
    assert_sympy_zero(lhs - rhs, "Lemma 5 identity (r, u unit enter only through their products)")


@pytest.mark.claim(LEMMA5.id, kind="property")
def test_lemma5_flow(record_property):
    """(25) along the exact flow on balanced instances, x_r in {x_+, x_-, x_i} (central differences)."""
    property_check(record_property, instances(**BOUNDS), lambda inst: require(lemma5_holds(inst)))


@pytest.mark.negative_control(LEMMA5.id)
def test_lemma5_negative_control():
    """Broken variant: (25) without the cos(x_r, w) cos(w, x_a) term (drop_term=True); broken instance:
    Assumption 2 violated (|v_j| = ||w_j|| / 2). The check accepts (25) on the balanced instance."""
    inst = {"X": np.array([[2.0, 0.5], [-1.0, 1.0]]), "y": np.array([1.0, -1.0]),
            "W0": np.array([[0.3, 1.0]]), "v0": np.array([math.hypot(0.3, 1.0)])}
    assert lemma5_holds(inst)
    rejects(lemma5_holds, inst, drop_term=True)
    rejects(lemma5_holds, {**inst, "v0": inst["v0"] / 2})


# ---------------------------------------------------------------------------------------
# Balance and the sign of v_j.
# ---------------------------------------------------------------------------------------
def balance_time(inst) -> float:
    """Time to evaluate balance at: 2 / max_i ||x_i|| (a few e-folds of the fastest neuron;
    under descent ceil(t / eta) <= 2 sum ||x_i|| / (c max ||x_i||) steps stay cheap)."""
    return 2.0 / float(np.linalg.norm(inst["X"], axis=1).max())


def evaluate_balance(inst) -> Evaluation:
    """At t = balance_time: |v_j| = ||w_j|| (relative 1e-6) and sgn v_j(t) = sgn v_j(0)."""
    end = evolve(inst, balance_time(inst))
    norms = np.linalg.norm(end.W_unit, axis=1)
    # 1e-6 of ||(w_j, v_j)||: the exact flow keeps the balance to ~1e-15 and the logistic
    # flow (DOP853) to ~1e-9; descent drifts by O(eta ||x||) ~ 1e-2, far outside.
    balanced = bool(np.all(np.abs(norms - np.abs(end.v_unit)) <= 1e-6))
    same_sign = bool(np.all(np.sign(end.v_unit) == np.sign(inst["v0"])))
    return Evaluation(holds=end.status == "ok" and balanced and same_sign,
                      figures={"max_imbalance": float(np.max(np.abs(norms - np.abs(end.v_unit))))})


BALANCE = register(Claim(
    id="d1-balance-sign",
    paper_ref="Appendix D.1",
    statement="Under balanced initialization, the balance is maintained throughout the GF training (Du et al. "
              "[4]); the sign of $v_j$ does not change throughout the training (Boursier et al. [2]).",
    quote="under balanced initialization, the balance is maintained throughout the GF training (Du et al. [4]). "
          "We also emphasize that the sign of $v_j$ does not change throughout the training (Boursier et al. "
          "[2]).",
    reading=r"Balance is read as $|v_j(t)| = \|w_j(t)\|$ for every $j$ and $t$: conservation of $\|w_j\|^2 - "
            r"v_j^2$ is checked symbolically, and balance and $\mathrm{sgn}\, v_j(t) = \mathrm{sgn}\, v_j(0)$ on "
            r"the trajectory at $t = 2/\max_i \|x_i\|$.",
    assumptions=("balanced-init", "gradient-flow"),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=evaluate_balance,
    instance_bounds=BOUNDS,
))


@pytest.mark.claim(BALANCE.id, kind="symbolic")
def test_balance_symbolic():
    """sympy: d/dt (||w||^2 - v^2) = 2 <w, v a> - 2 v <w, a> = 0 for any (w, v) and fixed a."""
    w = sp.Matrix(sp.symbols("w0:3", real=True))
    a = sp.Matrix(sp.symbols("a0:3", real=True))
    v = sp.Symbol("v", real=True)
    dw, dv = v * a, (w.T * a)[0]
    assert_sympy_zero(2 * (w.T * dw)[0] - 2 * v * dv, "d/dt (||w||^2 - v^2)")


@pytest.mark.claim(BALANCE.id, kind="property")
def test_balance_property(record_property):
    """Balanced instances: |v_j| = ||w_j|| and sgn v_j fixed at t = 2/max||x_i|| and at Theorem 9's T (exact flow)."""
    from models.alignment_bounds import alignment_bounds

    def body(inst):
        require(evaluate_balance(inst).holds)
        T = alignment_bounds(inst["X"], inst["y"], inst["W0"], inst["v0"]).T
        res = gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], T)
        # 1e-9: the exact flow's unit states are balanced to ~1e-15.
        require(np.all(np.abs(np.linalg.norm(res.W_unit, axis=1) - np.abs(res.v_unit)) <= 1e-9))
        require(np.all(np.sign(res.v_unit) == np.sign(inst["v0"])))

    property_check(record_property, instances(**BOUNDS), body)


def conserved_difference(inst, t: float) -> tuple[float, float]:
    """(||w_0||^2 - v_0^2 at 0, at t) for neuron 0 of the exact flow, relative to ||(w, v)(t)||^2."""
    res = gradient_flow(inst["X"], inst["y"], inst["W0"], inst["v0"], t)
    w_u, v_u, log_norm = res.W_unit[0], res.v_unit[0], res.log_norm[0]
    start = float(inst["W0"][0] @ inst["W0"][0] - inst["v0"][0] ** 2) / math.exp(2 * log_norm)
    return start, float(w_u @ w_u - v_u**2)


# The 1-D unbalanced instance: v_0 > 0 small, w_0 < 0 activating the negative sample x = -1.
# Then dv/dt = <w, a> = w < 0 and v crosses 0 at t = ln(0.55/0.45)/2 ~ 0.1.
UNBALANCED_1D = {"X": np.array([[1.0], [-1.0]]), "y": np.array([1.0, -1.0]),
                 "W0": np.array([[-1.0]]), "v0": np.array([0.1])}


@pytest.mark.claim(BALANCE.id, kind="numerical")
def test_balance_without_assumption(record_property):
    """Without balance ||w_j||^2 - v_j^2 is still conserved, but v_j changes sign (1-D instance)."""
    start, end = conserved_difference(UNBALANCED_1D, 1.0)
    assert abs(start - end) <= 1e-12  # 1e-12: relative to ||(w, v)||^2, rounding only
    flipped = evolve(UNBALANCED_1D, 1.0)
    assert np.sign(flipped.v_unit[0]) == -1.0  # v_0(0) = +0.1
    record_property("fig:unbalanced_v_at_1", float(flipped.v_unit[0] * math.exp(flipped.log_norm[0])))


@pytest.mark.negative_control(BALANCE.id)
def test_balance_negative_control():
    """Broken instance: the unbalanced 1-D instance (Assumption 2 violated; v_j changes sign); the
    claim's evaluation, which accepts it balanced (v_0 = ||w_0||), rejects it."""
    balanced = {**UNBALANCED_1D, "v0": np.array([1.0])}
    assert evaluate_balance(balanced).holds
    rejects(evaluate_balance, UNBALANCED_1D)
