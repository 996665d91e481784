"""Appendix C.2: the norm-constrained UFM (15)-(17) and complete neural collapse.

Statements, as printed:
    (15)  min_{H, v} -sum_i y_i v^T h_i  s.t. ||v||, ||h_i|| <= 1
    (16)  dv/dt in sum_i y_i h_i - N_B(v),  dh_i/dt in y_i v - N_B(h_i),
          N_B(x) = 0 if ||x|| < 1, {lambda x : lambda >= 0} if ||x|| = 1
    (17)  the global minima satisfy: exists lambda >= 0 with lambda v = sum_i y_i h_i and,
          for all i, mu_i >= 0 with mu_i h_i = y_i v.
          "This implies h_i = y_i v/||v|| and v = sum_i y_i h_i = h_+ - h_-, which is the
          complete NC."
    Sec. 5.1  "We further show that weight normalization facilitates the complete collapse
          of within-class variance, thereby inducing full NC (see Section C.2)."

Referee reading. (15) is bounded below by -n (Cauchy-Schwarz), so unlike (9) its min
exists and is read literally. (16) and the normal cone are right, and (17) is a correct
necessary condition. Its conclusion is not: at a global minimum ||v|| = 1 and h_i = y_i v,
so sum_i y_i h_i = n v (lambda = n, not 1) and, with h_+- the class means,
h_+ - h_- = 2 v. Section 5.1's claim that training reaches complete NC needs the flow to
reach those minima, which C.2 does not show, and it fails on a null set of starts. With
s = sum_i y_i h_i and g = v + s/sqrt(n) (the growing mode of Appendix C.1), while every
norm is < 1 the normal cones vanish, (16) is the unconstrained flow (10)-(11), and
dg/dt = sqrt(n) g. A start with g = 0 inside the balls therefore follows
v(t) = v0 e^{-sqrt(n) t} -> 0, h_i(t) = h_i(0) + y_i v0 (1 - e^{-sqrt(n) t})/sqrt(n), a
segment that stays inside the balls when its end points do, and the flow converges to
the non-minimal stationary set {v = 0, s = 0} (value 0 > -n), where (17) holds with
lambda = mu_i = 0. Such starts have v0 != 0, so "v0 != 0" does not exclude them; g != 0
is the condition. Starts with g != 0 reach -n in every check below.

Ball or sphere. (15) and (16) constrain to the unit balls, and so does the simulator
(``models.ufm_constrained``, default ``constraint="ball"``). Weight normalisation as the
paper runs it (Section 4, B.2: each neuron at a fixed norm) is the unit sphere. Both have
the minimum -n and the same minimisers (on the spheres), checked below; their flows
differ: the g = 0 stall needs the interior (v -> 0), which the sphere forbids.

Flows. The flow of (16) is computed by projected gradient descent with a small step
(projected Euler, ETA_FLOW) up to a horizon that lets the growing mode reach the
boundary and then settle (``flow_horizon``); on the g = 0 set it is checked against the exact flow (the
closed form of ``models.ufm``, exact there because the trajectory stays inside the balls).
Projected GD preserves g = 0 exactly in exact arithmetic (g -> (1 + eta sqrt(n)) g per
step), so a stall it reports is the flow's, not a discretisation artefact. Projected
gradient descent and scipy's SLSQP are the two independent solvers for (17).

References:
    Appendix C.2, eqs (15)-(17); Section 5.1; Appendix B.2 (weight normalisation).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.framework.checks import SEARCH, find_failing, property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from models.nc_metrics import class_statistics, trace_ratio
from models.ufm import UFMState, ufm_flow_closed_form, ufm_gradient_descent
from models.ufm_constrained import (
    ConstrainedUFMResult,
    constrained_loss,
    constrained_ufm_minimum,
    project_to_unit_ball,
    projected_gradient_descent,
    solve_constrained_ufm_scipy,
)

# Counterexample searches skip Hypothesis's explain phase, which re-runs a shrunk failure
# a hundred times to annotate it (the report does not use the annotation).

# 1e-6: projected gradient descent with eta = 0.1 for 2000 steps converges linearly to
# the optimum (observed error < 1e-10); SLSQP stops within ~1e-7 of it.
OPT_TOL = 1e-6


# Step of the projected-Euler discretisation of the flow (16). 0.02: eta sqrt(n) <= 0.06
# for n <= 9, so a step multiplies the modes by 1 +- eta sqrt(n), within 0.2% of the
# flow's e^{+-eta sqrt(n)}, and the horizon below costs at most ~1000 steps (~10 ms).
ETA_FLOW = 0.02

# Horizon of the flow (16), in three parts, all measured. The growing mode g needs
# sqrt(n) t = log(2/||g||) to reach the boundary; GROWTH_MARGIN more units of sqrt(n) t
# cover the turn onto it; on the boundary the gap to -n then falls like e^{-2t} whatever n
# is, so SETTLE_TIME = 10 brings it from O(1) to ~1e-9, far inside OPT_TOL (measured
# worst gap 1.2e-10 over starts with ||g|| in [1e-9, 0.5], n <= 9). With g = 0 exactly there
# is nothing to wait for: STALL_DECAY = 20 units of sqrt(n) t let the decaying mode fall
# by e^{-20} ~ 2e-9, while float64 rounding (~1e-17) seeded into g grows only by e^{20}
# ~ 5e8; a much longer horizon would let that rounding, not the flow, leave the stall.
GROWTH_MARGIN = 8.0
SETTLE_TIME = 10.0
STALL_DECAY = 20.0


def growing_mode(H0, v0, y) -> np.ndarray:
    """g = v0 + s0/sqrt(n), s0 = sum_i y_i h_i(0): the mode that grows like e^{sqrt(n) t}."""
    return v0 + (y @ H0) / np.sqrt(len(y))


def flow_horizon(g: np.ndarray, n: int) -> float:
    """(log(2/||g||)^+ + GROWTH_MARGIN)/sqrt(n) + SETTLE_TIME; STALL_DECAY/sqrt(n) when g = 0."""
    size = float(np.linalg.norm(g))
    if size == 0.0:
        return STALL_DECAY / np.sqrt(n)
    return (max(0.0, np.log(2.0 / size)) + GROWTH_MARGIN) / np.sqrt(n) + SETTLE_TIME


def discretised_flow(inst, descent=projected_gradient_descent) -> ConstrainedUFMResult:
    """The flow (16) from (H0, v0) projected onto the balls, by projected Euler to the horizon."""
    H0, v0, y = project_to_unit_ball(inst["H0"]), project_to_unit_ball(inst["v0"]), inst["y"]
    steps = int(np.ceil(flow_horizon(growing_mode(H0, v0, y), len(y)) / ETA_FLOW))
    return descent(H0, v0, y, eta=ETA_FLOW, steps=steps)


@st.composite
def constrained_inits(draw, *, max_n: int = 5, max_d: int = 3):
    """Feasible initialisations (H0, v0, y) for (15) with the growing mode bounded away from 0.

    Entries are small integers / 4; every row of H0 and v0 is then scaled into the unit
    ball (divided by max(1, its norm)), so the start is feasible. v0's first coordinate is
    +-1/2 with the sign of s0's first coordinate (drawn when that is 0), so after scaling
    |g_1| = |v0_1| + |s0_1|/sqrt(n) >= 1/3: g != 0 by construction, never by rejection.
    Both classes present, class sizes free. Shrinks towards n = 2, d = 1.
    """
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    n_pos = draw(st.integers(1, n - 1))
    y = np.array([1.0] * n_pos + [-1.0] * (n - n_pos))
    H0 = np.array(draw(st.lists(st.lists(st.integers(-4, 4), min_size=d, max_size=d),
                                min_size=n, max_size=n)), float) / 4
    H0 = project_to_unit_ball(H0)
    v0 = np.array(draw(st.lists(st.integers(-4, 4), min_size=d, max_size=d)), float) / 4
    s0_first = float(y @ H0[:, 0])
    sign = np.sign(s0_first) if s0_first != 0 else draw(st.sampled_from([1.0, -1.0]))
    v0[0] = 0.5 * sign
    return {"H0": H0, "v0": project_to_unit_ball(v0), "y": y}


@st.composite
def stalled_inits(draw):
    """Starts strictly inside the balls on the set g = 0 (v0 = -s0/sqrt(n), v0 != 0).

    n in {4, 9}, so sqrt(n) is exact and g = v0 + s0/sqrt(n) is exactly 0 in float64;
    d in {1, 2}; class sizes drawn. h_i's first coordinate is y_i k_i/16 with k_i in {1, 2}
    (so s0_1 >= n/16 > 0 and v0 != 0), the others in [-2, 2]/16. Then ||h_i|| <= 0.18,
    ||v0|| <= 3 * 0.18 = 0.53 and ||h_i + y_i v0/sqrt(n)|| <= 0.36: the exact trajectory
    stays inside the balls. Shrinks towards n = 4, d = 1, k_i = 1.
    """
    n = draw(st.sampled_from([4, 9]))
    d = draw(st.integers(1, 2))
    n_pos = draw(st.integers(1, n - 1))
    y = np.array([1.0] * n_pos + [-1.0] * (n - n_pos))
    H0 = np.array(draw(st.lists(st.lists(st.integers(-2, 2), min_size=d, max_size=d),
                                min_size=n, max_size=n)), float) / 16
    H0[:, 0] = y * np.array(draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))) / 16
    return {"H0": H0, "v0": -(y @ H0) / np.sqrt(n), "y": y}


@st.composite
def global_minima(draw, *, max_n: int = 4, max_d: int = 3):
    """Exact global minimisers of (15): unit v (from small integers), h_i = y_i v. Shrinks to n = 2, d = 1."""
    inst = draw(constrained_inits(max_n=max_n, max_d=max_d))
    v = inst["v0"] / np.linalg.norm(inst["v0"])
    return {"H": np.outer(inst["y"], v), "v": v, "y": inst["y"]}


def is_global_minimum(H, v, y) -> bool:
    feasible = np.linalg.norm(v) <= 1 + OPT_TOL and np.all(np.linalg.norm(H, axis=1) <= 1 + OPT_TOL)
    return bool(feasible and constrained_loss(H, v, y) <= constrained_ufm_minimum(len(y)) + OPT_TOL)


def _class_mean_difference(H, y):
    return H[y > 0].mean(axis=0) - H[y < 0].mean(axis=0)


def printed_conclusion(H, v, y) -> bool:
    """h_i = y_i v/||v||, v = sum_i y_i h_i, v = h_+ - h_- (class means)."""
    return bool(np.allclose(H, np.outer(y, v / np.linalg.norm(v)), atol=OPT_TOL)
                and np.allclose(v, y @ H, atol=OPT_TOL)
                and np.allclose(v, _class_mean_difference(H, y), atol=OPT_TOL))


def corrected_conclusion(H, v, y) -> bool:
    """||v|| = 1, h_i = y_i v, v = (1/n) sum_i y_i h_i = (h_+ - h_-)/2, Sigma_W = 0."""
    return bool(abs(np.linalg.norm(v) - 1) <= OPT_TOL
                and np.allclose(H, np.outer(y, v), atol=OPT_TOL)
                and np.allclose(v, (y @ H) / len(y), atol=OPT_TOL)
                and np.allclose(v, _class_mean_difference(H, y) / 2, atol=OPT_TOL)
                and trace_ratio(H, y) <= OPT_TOL)


def evaluate_eq17(inst) -> Evaluation:
    """If (H, v) is a global minimum of (15), the printed conclusion of (17) holds there."""
    H, v, y = inst["H"], inst["v"], inst["y"]
    minimum = is_global_minimum(H, v, y)
    return Evaluation(holds=(not minimum) or printed_conclusion(H, v, y),
                      figures={"global_minimum": minimum, "sum_y_h_over_v": float(np.linalg.norm(y @ H) / np.linalg.norm(v))})


def evaluate_eq17_corrected(inst) -> Evaluation:
    """If (H, v) is a global minimum of (15), the corrected relations hold there (lambda = n)."""
    H, v, y = inst["H"], inst["v"], inst["y"]
    minimum = is_global_minimum(H, v, y)
    return Evaluation(holds=(not minimum) or corrected_conclusion(H, v, y),
                      figures={"global_minimum": minimum})


def complete_nc_reached(result: ConstrainedUFMResult | UFMState, y: np.ndarray) -> bool:
    """The end point attains the minimum -n of (15) and has no within-class spread (Sigma_W = 0).

    tr(Sigma_W) is absolute here: features live in the unit ball, so no rescaling can hide
    spread (the relative trace ratio would also vanish along the unconstrained flow).
    """
    spread = float(np.trace(class_statistics(result.H, y).sigma_w))
    return bool(constrained_loss(result.H, result.v, y) <= -len(y) + OPT_TOL and spread <= OPT_TOL)


def evaluate_complete_nc(inst, descent=projected_gradient_descent) -> Evaluation:
    """Printed reading: the flow (16) from this feasible start reaches complete NC (``descent`` is the
    discretisation of (16); only the negative control changes it)."""
    result = discretised_flow(inst, descent)
    g = growing_mode(project_to_unit_ball(inst["H0"]), project_to_unit_ball(inst["v0"]), inst["y"])
    return Evaluation(holds=complete_nc_reached(result, inst["y"]),
                      figures={"final_loss": float(result.loss_history[-1]), "n": float(len(inst["y"])),
                               "growing_mode_norm": float(np.linalg.norm(g))})


def evaluate_complete_nc_corrected(inst, descent=projected_gradient_descent) -> Evaluation:
    """Corrected: if g = v0 + s0/sqrt(n) != 0, the flow (16) reaches complete NC."""
    printed = evaluate_complete_nc(inst, descent)
    exceptional = printed.figures["growing_mode_norm"] == 0.0
    return Evaluation(holds=exceptional or printed.holds, figures=dict(printed.figures))


# Arrays of this module's instances (shapes and meaning; `list` and `show` print them).
UFM_ARRAYS = {
    "H0": "(n, d) features h_i(0) of the unconstrained feature model, one sample per row",
    "v0": "(d,) linear classifier v(0) of the unconstrained feature model",
    "H": "(n, d) a candidate point: features, ||h_i|| <= 1",
    "v": "(d,) a candidate point: classifier, ||v|| <= 1",
    "y": "(n,) labels in {-1, +1}",
}


NORMAL_CONE = register(Claim(
    id="eq-16-normal-cone",
    paper_ref="Eq. (16)",
    statement=r"The flow of (15) is the differential inclusion (16) with $\mathcal{N}_B(x) = \{0\}$ for $\|x\| "
              r"< 1$ and $\{\lambda x : \lambda \geq 0\}$ for $\|x\| = 1$.",
    quote=r"In this case we have following differential inclusions : $$\frac{d\mathbf{v}}{dt} \in \sum_{i=1}^n "
          r"y_i \mathbf{h}_i - \mathcal{N}_{B_{\mathbf{v}}}(\mathbf{v}), \quad \frac{d\mathbf{h}_i}{dt} \in "
          r"y_i \mathbf{v} - \mathcal{N}_{B_{\mathbf{h}}}(\mathbf{h}_i). \quad (16)$$ Here, $B_{\mathbf{x}} = "
          r"\{\mathbf{x} \mid \|\mathbf{x}\| \leq 1\}$ . Since $\mathcal{N}_{B_{\mathbf{x}}} = \begin{cases} 0 "
          r"& \|\mathbf{x}\| < 1 \\ \{\lambda \mathbf{x} : \lambda \geq 0\} & \|\mathbf{x}\| = 1 \end{cases}$",
    reading=r"$\mathcal{N}_B$ is read as the normal cone of the unit ball (the printed $0$ as the set "
            r"$\{0\}$): the printed cases equal $\{g : \langle g, z - x \rangle \leq 0 \ \forall z \in B\}$, "
            r"and projected gradient steps on (15) remove only a normal-cone component.",
))
EQ17 = register(Claim(
    id="eq-17-minimiser",
    paper_ref="Eq. (17)",
    statement=r"Global minima of (15) satisfy (17), which implies $h_i = y_i v/\|v\|$ and $v = \sum_i y_i h_i "
              r"= h_+ - h_-$, the complete NC.",
    quote=r"the global minima should satisfy $$\exists \lambda \geq 0 \text{ s.t. } \lambda \mathbf{v} = "
          r"\sum_{i=1}^n y_i \mathbf{h}_i, \quad \forall i, \exists \mu_i \geq 0 \text{ s.t. } \mu_i "
          r"\mathbf{h}_i = y_i \mathbf{v} \quad (17)$$ This implies $\mathbf{h}_i = y_i "
          r"\frac{\mathbf{v}}{\|\mathbf{v}\|}$ and $\mathbf{v} = \sum_{i=1}^n y_i \mathbf{h}_i = \mathbf{h}_+ "
          r"- \mathbf{h}_-$ , which is the complete NC.",
    reading=r"Checked at every global minimum of (15) (value $-n$): $h_i = y_i v/\|v\|$, $v = \sum_i y_i h_i$ "
            r"and $v = h_+ - h_-$, with $h_\pm$ the class means.",
    expected_verdict="erratum",
    correction=r"At every global minimum $\|v\| = 1$, $h_i = y_i v$, the value is $-n$, and (17) holds with "
               r"$\lambda = n$ and $\mu_i = 1$; hence $v = \frac{1}{n} \sum_i y_i h_i = (h_+ - h_-)/2$ with "
               r"$h_\pm$ the class means (or $(h_+ - h_-)/n$ with $h_\pm$ the class sums), and $\Sigma_W = 0$: "
               r"complete NC. The same minimisers solve the fixed-norm (sphere) model of weight normalisation.",
    counterexample_summary="n = 2, d = 1, v = 1, h = (1, -1): a global minimum where sum_i y_i h_i = 2 v",
    instance_arrays=("H", "v", "y"),
    array_docs=UFM_ARRAYS,
    evaluate=evaluate_eq17,
    probe_evaluate=evaluate_eq17_corrected,
))
COMPLETE_NC = register(Claim(
    id="appendix-c2-complete-nc",
    paper_ref="Appendix C.2",
    statement=r"With the norm constraint (weight normalisation) training reaches complete NC (Section 5.1: "
              r"'weight normalization facilitates the complete collapse of within-class variance, thereby "
              r"inducing full NC (see Section C.2)'). Read: the flow (16) from every feasible start reaches "
              r"the minimum $-n$ of (15), where $\Sigma_W = 0$.",
    quote=r"We further show that weight normalization facilitates the complete collapse of within-class "
          r"variance, thereby inducing full NC (see Section C.2).",
    reading=r"'Training' is read as the flow (16) of the model (15) from every feasible start ($\|v_0\|, "
            r"\|h_i(0)\| \leq 1$); 'full NC' as reaching the minimum $-n$ of (15) with $\mathrm{tr}(\Sigma_W) "
            r"= 0$ (absolute, not relative to $\Sigma_B$).",
    expected_verdict="erratum",
    correction=r"Holds for starts with $g = v_0 + s_0/\sqrt{n} \neq 0$, $s_0 = \sum_i y_i h_i(0)$ (generated "
               r"feasible starts, $\|g\|$ bounded away from 0). Fails on the null set $g = 0$: inside the "
               r"balls (16) is the unconstrained flow, $g(t) = g\, e^{\sqrt{n}\, t} = 0$, $v(t) = v_0 "
               r"e^{-\sqrt{n}\, t} \to 0$ and the flow converges to the non-minimal stationary set $\{v = 0, "
               r"\sum_i y_i h_i = 0\}$ (value $0 > -n$), where (17) holds with $\lambda = \mu_i = 0$. These "
               r"starts have $v_0 \neq 0$, so $v_0 \neq 0$ does not suffice. Appendix C.2 characterises the "
               r"global minima only; reaching them is the missing step.",
    counterexample_summary="n = 4 (one positive, three negative), d = 1, H0 = (1, -1, -1, -1)/16, "
                           "v0 = -s0/2 = -1/8, so g = 0: v(t) = v0 e^{-2t} -> 0, every h_i -> 0, and the flow "
                           "stalls at value 0 > -4 with the classes not separated",
    instance_arrays=("H0", "v0", "y"),
    array_docs=UFM_ARRAYS,
    evaluate=evaluate_complete_nc,
    probe_evaluate=evaluate_complete_nc_corrected,
))


# ---------------------------------------------------------------------------------------
# (16): the normal cone.
# ---------------------------------------------------------------------------------------
def in_normal_cone_by_definition(g: np.ndarray, x: np.ndarray) -> bool:
    """g in N_B(x) iff <g, z - x> <= 0 for all z in B, i.e. ||g|| <= <g, x> (sup over B is ||g||)."""
    # 1e-12: both sides are O(1) float64 dot products.
    return bool(np.linalg.norm(g) <= g @ x + 1e-12)


def in_printed_cone(g: np.ndarray, x: np.ndarray, *, both_signs: bool = False) -> bool:
    """g in the printed N_B(x); ``both_signs`` drops lambda >= 0 (negative control)."""
    if np.linalg.norm(x) < 1 - 1e-12:
        return bool(np.linalg.norm(g) <= 1e-12)
    lam = g @ x  # candidate lambda for ||x|| = 1
    return bool((both_signs or lam >= -1e-12) and np.allclose(g, lam * x, atol=1e-9))


def cone_matches(printed, cases) -> bool:
    return all(printed(g, x) == in_normal_cone_by_definition(g, x) for g, x in cases)


@st.composite
def cone_cases(draw):
    """(g, x) pairs: x inside or on the unit sphere, g random or along +-x. Shrinks to d = 1."""
    d = draw(st.integers(1, 3))
    x = np.array(draw(st.lists(st.integers(-3, 3), min_size=d, max_size=d)), float)
    x[0] = draw(st.sampled_from([1.0, 2.0]))
    x = x / np.linalg.norm(x) * draw(st.sampled_from([1.0, 0.5]))
    kind = draw(st.sampled_from(["along", "against", "free"]))
    scale = draw(st.sampled_from([0.0, 0.5, 2.0]))
    if kind == "free":
        g = np.array(draw(st.lists(st.integers(-3, 3), min_size=d, max_size=d)), float)
    else:
        g = (1 if kind == "along" else -1) * scale * x
    return g, x


@pytest.mark.claim(NORMAL_CONE.id, kind="symbolic")
def test_normal_cone_symbolic():
    """On the sphere, sup_{|z|<=1} <lambda x, z - x> = |lambda| - lambda, which is <= 0 iff lambda >= 0 (sympy)."""
    lam = sp.symbols("lambda", real=True)
    excess = sp.Abs(lam) - lam
    assert sp.simplify(excess.subs(lam, sp.Symbol("p", positive=True))) == 0
    assert sp.simplify(excess.subs(lam, -sp.Symbol("q", positive=True))) == 2 * sp.Symbol("q", positive=True)


@pytest.mark.claim(NORMAL_CONE.id, kind="numerical")
def test_normal_cone_projection():
    """Projected gradient steps realise (16): the step removed by projection lies in N_B (seeded)."""
    rng = np.random.default_rng(16)
    for _ in range(200):
        x = rng.normal(size=3)
        x_new = project_to_unit_ball(x)
        removed = x - x_new  # the normal-cone component of a step that left the ball
        assert in_normal_cone_by_definition(removed, x_new)
        assert in_printed_cone(removed, x_new)


@pytest.mark.claim(NORMAL_CONE.id, kind="property")
def test_normal_cone_property(record_property):
    """The printed N_B agrees with the definition of the normal cone on generated (g, x)."""
    property_check(record_property, cone_cases(), lambda case: require(cone_matches(in_printed_cone, [case])))


@pytest.mark.negative_control(NORMAL_CONE.id)
def test_normal_cone_negative_control():
    """Broken variant: the printed cone with both signs of lambda (lambda >= 0 dropped); the comparison
    with the definition accepts the printed cone at g = -x, ||x|| = 1 and rejects the broken one."""
    x = np.array([1.0, 0.0])
    assert cone_matches(in_printed_cone, [(-x, x)])
    rejects(cone_matches, functools.partial(in_printed_cone, both_signs=True), [(-x, x)])


# ---------------------------------------------------------------------------------------
# (17): the minimiser.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ17.id, kind="property", form="printed")
def test_eq17_printed(record_property):
    """Printed conclusion at exact global minima: counterexample searched and shrunk."""
    found = search_counterexample(record_property, EQ17, global_minima(), **SEARCH)
    assert EQ17.evaluate(found).holds


def pgd_solution(inst, descent=projected_gradient_descent):
    return descent(inst["H0"], inst["v0"], inst["y"], eta=0.1, steps=2000)


def limit_satisfies_corrected(inst, descent=projected_gradient_descent) -> bool:
    """The corrected relations of (17) hold at the limit of ``descent`` (projected GD) from this start."""
    result = pgd_solution(inst, descent)
    return corrected_conclusion(result.H, result.v, inst["y"])


def _descent_without_feature_cones(H0, v0, y, *, eta, steps):
    """A broken discretisation of (16): v is projected onto its ball, the h_i are not (N_B(h_i) dropped)."""
    H, v = np.array(H0, float), project_to_unit_ball(np.asarray(v0, float))
    for _ in range(steps):
        H, v = H + eta * np.outer(y, v), project_to_unit_ball(v + eta * (y @ H))
    return ConstrainedUFMResult(H=H, v=v, loss_history=np.array([constrained_loss(H, v, y)]), steps=steps)


@pytest.mark.claim(EQ17.id, kind="numerical", form="corrected")
def test_eq17_two_solvers():
    """Corrected: projected GD and SLSQP both reach -n with the corrected relations (seeded starts)."""
    rng = np.random.default_rng(17)
    for _ in range(5):
        y = np.array([1, 1, -1, 1, -1, -1.0])
        H0, v0 = rng.normal(size=(6, 3)) * 0.3, rng.normal(size=3) * 0.3
        pgd = pgd_solution({"H0": H0, "v0": v0, "y": y})
        assert corrected_conclusion(pgd.H, pgd.v, y)
        H, v, value = solve_constrained_ufm_scipy(H0, v0, y)
        assert abs(value + 6) <= OPT_TOL
        # 1e-3: SLSQP stops on a flat sphere of minimisers; a loss error of ~1e-7 allows a
        # distance ~sqrt(1e-7) ~ 3e-4 from the minimiser set.
        assert np.allclose(H, np.outer(y, v), atol=1e-3)


@pytest.mark.claim(EQ17.id, kind="property", form="corrected")
def test_eq17_corrected_property(record_property):
    """Corrected relations hold at projected-GD limits from generated initialisations."""
    property_check(record_property, constrained_inits(), lambda inst: require(limit_satisfies_corrected(inst)),
                   max_examples=20)


@pytest.mark.claim(EQ17.id, kind="symbolic", form="corrected")
def test_eq17_kkt_symbolic():
    """Corrected: with h_i = y_i v, sum_i y_i h_i = n v, so lambda = n and mu_i = 1 (sympy, n = 3)."""
    v = sp.Matrix(sp.symbols("v1 v2", real=True))
    ys = [1, -1, 1]
    total = sum((yi * (yi * v) for yi in ys), sp.zeros(2, 1))
    assert (total - 3 * v).applyfunc(sp.simplify) == sp.zeros(2, 1)


@pytest.mark.claim(EQ17.id, kind="numerical", form="corrected")
def test_eq17_sphere_model():
    """Corrected: the fixed-norm (sphere) model of weight normalisation has the same minimisers (d = 2, seeded)."""
    rng = np.random.default_rng(171)
    y = np.array([1, -1, -1, 1, -1.0])
    for _ in range(3):
        # d = 2: on the sphere in d = 1 (two points) a feature of the wrong sign cannot move.
        result = projected_gradient_descent(rng.normal(size=(5, 2)), rng.normal(size=2), y, eta=0.1,
                                            steps=1500, constraint="sphere")
        assert corrected_conclusion(result.H, result.v, y)


@pytest.mark.negative_control(EQ17.id)
def test_eq17_negative_control():
    """Broken variant: projected GD without the features' normal cones (h_i never projected, so they
    grow like t and the spread never collapses); the corrected-relation check at the solver's limit
    accepts projected GD from the same start and rejects the broken solver."""
    inst = {"H0": np.array([[0.5, 0.1], [0.2, -0.3], [-0.4, 0.2]]), "v0": np.array([0.3, 0.1]),
            "y": np.array([1, 1, -1.0])}
    assert limit_satisfies_corrected(inst)
    rejects(limit_satisfies_corrected, inst, descent=_descent_without_feature_cones)


# ---------------------------------------------------------------------------------------
# Complete NC along the constrained flow.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(COMPLETE_NC.id, kind="property", form="printed")
def test_complete_nc_printed(record_property):
    """Printed (every feasible start): counterexample searched on the set g = 0 and shrunk."""
    found = search_counterexample(record_property, COMPLETE_NC, stalled_inits(), **SEARCH)
    assert COMPLETE_NC.evaluate(found).holds


@pytest.mark.claim(COMPLETE_NC.id, kind="property", form="corrected")
def test_complete_nc_generic(record_property):
    """Corrected: from feasible starts with g != 0 the flow (16) reaches -n with Sigma_W = 0 (class sizes free)."""
    def body(inst):
        require(np.linalg.norm(growing_mode(inst["H0"], inst["v0"], inst["y"])) >= 1 / 3)
        require(evaluate_complete_nc_corrected(inst).holds)
    property_check(record_property, constrained_inits(), body, max_examples=20)


def exact_stall(inst, flow=ufm_flow_closed_form) -> bool:
    """On a g = 0 start the exact flow stays inside the balls and converges to v = 0, s = 0, value 0.

    Inside the balls (16) is (10)-(11), whose closed form is ``flow``; the discretised flow
    must agree with it at the horizon.
    """
    H0, v0, y = inst["H0"], inst["v0"], inst["y"]
    n = len(y)
    horizon = flow_horizon(growing_mode(H0, v0, y), n)
    states = [flow(H0, v0, y, t) for t in np.linspace(0.0, horizon, 25)]
    # 1 - 1e-9: strictly inside, with room for rounding (the generator keeps norms <= 0.53).
    inside = all(np.linalg.norm(state.v) < 1 - 1e-9 and np.all(np.linalg.norm(state.H, axis=1) < 1 - 1e-9)
                 for state in states)
    end = states[-1]
    # 1e-8 * ||v0||: at the horizon (g = 0, so sqrt(n) T = STALL_DECAY = 20) v and s have
    # decayed by e^{-20} ~ 2e-9; the value is sqrt(n) ||v0||^2 e^{-40} >= 0, far from -n.
    stalled = (np.linalg.norm(end.v) <= 1e-8 * np.linalg.norm(v0)
               and np.linalg.norm(y @ end.H) <= 1e-8 * np.linalg.norm(v0) * np.sqrt(n)
               and constrained_loss(end.H, end.v, y) > -OPT_TOL)
    limit = H0 + np.outer(y, v0) / np.sqrt(n)  # the stationary point the segments end at
    discrete = discretised_flow(inst)
    # 1e-6: projected Euler keeps g = 0 up to rounding (~1e-17 grown by e^20 ~ 5e8) and
    # its decaying mode (1 - eta sqrt(n))^k ends below e^{-20}, so both sit at the limit.
    agree = np.allclose(discrete.H, limit, atol=1e-6) and np.allclose(end.H, limit, atol=1e-6)
    return bool(inside and stalled and agree and not complete_nc_reached(discrete, y))


@pytest.mark.claim(COMPLETE_NC.id, kind="property", form="corrected")
def test_complete_nc_exact_stall(record_property):
    """Corrected: on g = 0 starts the exact flow stays inside the balls and stalls at v = 0, value 0 > -n."""
    property_check(record_property, stalled_inits(), lambda inst: require(exact_stall(inst)), max_examples=15)


@pytest.mark.claim(COMPLETE_NC.id, kind="numerical")
def test_complete_nc_monotone():
    """The objective decreases monotonically along projected GD (eta = 0.1 < 2/sqrt(n))."""
    rng = np.random.default_rng(99)
    y = np.array([1, -1, 1, -1.0])
    result = projected_gradient_descent(rng.normal(size=(4, 2)), rng.normal(size=2), y, eta=0.1, steps=500)
    # 1e-12: rounding of a sum of four O(1) products.
    assert np.all(np.diff(result.loss_history) <= 1e-12)
    assert result.loss_history[-1] <= -4 + OPT_TOL


@st.composite
def kkt_points(draw):
    """Feasible points satisfying (17) with lambda = mu_i = 0: v = 0 and sum_i y_i h_i = 0.

    From a feasible start, the rows are centred so that sum_i y_i h_i = 0 and then all
    scaled by 1 / max(1, max_i ||h_i||), which keeps that sum 0 and puts every row back in
    the unit ball. Shrinks as ``constrained_inits``.
    """
    inst = draw(constrained_inits())
    y = inst["y"]
    H = inst["H0"] - np.outer(y, y @ inst["H0"]) / len(y)  # sum_i y_i h_i = 0
    H = H / max(1.0, float(np.linalg.norm(H, axis=1).max()))
    return {"H": H, "v": np.zeros_like(inst["v0"]), "y": y}


@pytest.mark.claim(COMPLETE_NC.id, kind="property", form="proof-step")
def test_complete_nc_step_as_written(record_property):
    """Proof step: every feasible point satisfying (17) is a global minimum (complete NC)."""
    def not_collapsed(point):
        feasible = np.linalg.norm(point["v"]) <= 1 and np.all(np.linalg.norm(point["H"], axis=1) <= 1 + 1e-12)
        require(feasible, f"kkt_points left the unit ball: {point}")  # 1e-12: rounding of the rescale
        return not is_global_minimum(point["H"], point["v"], point["y"])

    found = find_failing(record_property, kkt_points(), not_collapsed, **SEARCH)
    assert not not_collapsed(found)


def _unconstrained_descent(H0, v0, y, *, eta, steps):
    """A broken 'flow' of (16) that never projects (the normal cones dropped)."""
    state = ufm_gradient_descent(H0, v0, y, eta=eta, steps=steps)
    final_loss = np.array([constrained_loss(state.H, state.v, y)])
    return ConstrainedUFMResult(H=state.H, v=state.v, loss_history=final_loss, steps=steps)


@pytest.mark.negative_control(COMPLETE_NC.id)
def test_complete_nc_negative_control():
    """Broken variant: the flow (16) without normal cones (unconstrained GD) from a generic start, which
    the claim's probe_evaluate accepts with the real flow; broken instance: a start on the stationary
    set v0 = 0, sum_i y_i h_i = 0 (g = 0, outside the correction), which the claim's evaluate rejects."""
    inst = {"H0": np.array([[0.5, 0.1], [0.2, -0.3], [-0.4, 0.2]]), "v0": np.array([0.3, 0.1]),
            "y": np.array([1, 1, -1.0])}
    assert evaluate_complete_nc_corrected(inst).holds  # the real flow collapses
    rejects(evaluate_complete_nc_corrected, inst, descent=_unconstrained_descent)
    H0 = np.array([[0.5, 0.0], [0.5, 0.0], [0.3, 0.2], [0.3, 0.2]])  # sum_i y_i h_i = 0, v0 = 0
    rejects(evaluate_complete_nc, {"H0": H0, "v0": np.zeros(2), "y": np.array([1, -1, 1, -1.0])})
