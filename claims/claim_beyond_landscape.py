"""Beyond the paper: Zhou et al. 2022's benign landscape, read for the linear loss on the
norm-constrained UFM of Appendix C.2.

Zhou et al. 2022 call a function strict saddle when "every critical point is either a global
solution or a strict saddle point with negative curvature", so that any reasonable optimiser
escapes the saddles and reaches the global (NC) solution. The paper's Appendix C.2 minimises the
linear loss f(H, v) = -sum_i y_i v^T h_i under ||v||, ||h_i|| <= 1 (15) and shows that the global
minima are complete NC; the suite already found starts with g = v0 + s0/sqrt(n) = 0 that stall at
the stationary set S0 = {v = 0, sum_i y_i h_i = 0} (claim appendix-c2-complete-nc). Is that set
made of strict saddles, and is the landscape benign?

Two constraint sets (models/ufm_landscape.py has the derivations):
    ball    (15) as printed. Critical points are the KKT points of (17): the global minimisers
            (||v|| = 1, h_i = y_i v) and S0, where the gradient vanishes. At every point of S0
            the segment v = -t y_j h_j, h_j = (1 - t) h_j stays feasible and f = -t^2 ||h_j||^2:
            negative curvature along a feasible direction (the second-order condition fails on the
            tangent cone); in the interior the Hessian has the eigenvalue -sqrt(n).
    sphere  ||v|| = ||h_i|| = 1, the fixed norms of weight normalisation. Critical points are
            h_i = s_i y_i v, s in {-1, +1}^n; s = 1 are the global minimisers (Riemannian Hessian
            PSD, kernel = rotations), and any s_j = -1 gives a Riemannian Hessian eigenvalue
            <= -1, but only when d >= 2: for d = 1 every sphere is two points and each non-global
            point is an isolated, spurious local minimum.

Strict saddle here means: a negative eigenvalue of the Riemannian Hessian of the stratum the
point lies on (spheres of the active constraints, open balls of the others), or, on the ball,
a feasible direction of negative second-order change at a point where the gradient vanishes
(the Lagrange multipliers are then 0, so this is the second-order necessary condition on the
tangent cone). The stratum Hessian alone misses the corners: at v = 0 with d = 1 and every
|h_i| = 1 it is 0, yet the point is a saddle (the negative control shows that).

Claims (report part "Beyond the paper", paper_ref "Zhou et al. 2022"):
    zhou-landscape-ball     the ball model (15) is strict saddle (verified), the g = 0 stalls included.
    zhou-landscape-sphere   the sphere model is strict saddle: fails for d = 1 (erratum, holds for d >= 2).

References:
    Zhou et al. 2022 (strict saddle functions); Appendix C.2, eqs (15)-(17); Absil, Mahony &
    Sepulchre (2008), Sec. 5.5 (Riemannian Hessian on a submanifold).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.framework import profiles
from claims.framework.checks import SEARCH, assert_sympy_zero, property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from models import ufm_landscape as ls
from models.ufm import ufm_flow_closed_form, validate_problem
from models.ufm_constrained import constrained_loss, projected_gradient_descent

PROFILE = profiles.profile_for_claims()
THOROUGH = PROFILE == "thorough"

# Random starts of the critical-point solvers per feature dimension (thorough: the long grid).
BALL_STARTS = 30 if THOROUGH else 5
SPHERE_STARTS = 60 if THOROUGH else 8
STALL_STARTS = 20 if THOROUGH else 3
# Classification tolerance: the solvers stop at residuals ~1e-15 (least squares) and ~1e-12
# (Newton); eigenvalues of interest are -sqrt(n), -1 or below, far from 1e-8.
TOL = 1e-8


def _labels(n: int, n_pos: int) -> np.ndarray:
    return np.array([1.0] * n_pos + [-1.0] * (n - n_pos))


# ---------------------------------------------------------------------------------------------
# Statements on one point.
# ---------------------------------------------------------------------------------------------
def evaluate_ball(inst, *, curvature: str = "cone") -> Evaluation:
    """A point of (15) (H, v, y), if critical, is a global minimiser or a strict saddle (``curvature``:
    the tangent-cone test, or "stratum" for the stratum Hessian alone, a broken variant)."""
    H, v, y = inst["H"], inst["v"], inst["y"]
    label = ls.classify_ball_point(H, v, y, tol=TOL, curvature=curvature)
    return Evaluation(holds=label != "degenerate",
                      figures={"value": constrained_loss(H, v, y) + 0.0, "kkt_residual": ls.ball_kkt_residual(H, v, y),
                               "stratum_min_eigenvalue": ls.stratum_hessian_min_eigenvalue(H, v, y)},
                      reason=None if label != "degenerate" else f"a critical point with value "
                      f"{constrained_loss(H, v, y):.4g} > -n and no negative curvature found ({curvature})")


def evaluate_sphere(inst, *, curvature_term: bool = True) -> Evaluation:
    """A point (H, v, y) on the unit spheres, if critical, is a global minimiser (with a PSD Riemannian
    Hessian, the second-order necessary condition) or has a negative Riemannian Hessian eigenvalue.
    ``curvature_term=False`` drops the Weingarten term of the Hessian (negative controls only)."""
    H, v, y = validate_problem(inst["H"], inst["v"], inst["y"])  # malformed arrays raise UFMInputError
    norms = np.linalg.norm(np.vstack([v[None, :], H]), axis=1)
    if np.any(np.abs(norms - 1) > 1e-9):  # 1e-9: as the model's own on-sphere test
        return Evaluation(holds=False, undefined=True, reason=f"not on the unit spheres: norms {norms}")
    label = ls.classify_sphere_point(H, v, y, tol=TOL, curvature_term=curvature_term)
    eigenvalues = ls.sphere_hessian_eigenvalues(H, v, y, curvature_term=curvature_term)
    smallest = float(eigenvalues[0]) if eigenvalues.size else np.inf
    figures = {"value": constrained_loss(H, v, y) + 0.0, "min_eigenvalue": smallest, "d": float(v.size)}  # no -0.0
    if label == "global-min":
        return Evaluation(holds=smallest >= -TOL, figures=figures,
                          reason=None if smallest >= -TOL else "a global minimum with a negative Hessian eigenvalue")
    return Evaluation(holds=label != "degenerate", figures=figures,
                      reason=None if label != "degenerate" else f"a critical point with value {figures['value']:.4g} "
                      f"> -n and no negative Riemannian Hessian eigenvalue ({eigenvalues.size} tangent directions)")


def evaluate_sphere_corrected(inst) -> Evaluation:
    """Corrected: the statement for d >= 2 (d = 1 lies outside the correction)."""
    if np.asarray(inst["v"]).size == 1:
        return Evaluation(holds=True, figures={"d": 1.0})
    return evaluate_sphere(inst)


ARRAY_DOCS = {
    "y": "(n,) labels in {-1, +1}",
    "H": "(n, d) features of the point, one row per sample",
    "v": "(d,) classifier of the point",
}

STRICT_SADDLE_QUOTE = ("A (local) strict saddle function is a function for which every critical point is either a "
                       "global solution or a strict saddle point with negative curvature (locally).")

BALL = register(Claim(
    id="zhou-landscape-ball",
    paper_ref="Zhou et al. 2022",
    part="beyond",
    statement=(r"Zhou et al.'s benign landscape, read for the linear loss on the norm-constrained UFM (15) of Appendix "
               r"C.2 ($\|v\|, \|h_i\| \leq 1$): every critical (KKT) point is a global minimiser (complete NC) or a "
               r"strict saddle, the stationary set $\{v = 0, \sum_i y_i h_i = 0\}$ where the $g = 0$ starts stall "
               r"included."),
    quote=STRICT_SADDLE_QUOTE,
    reading=(r"Strict saddle: a negative eigenvalue of the Riemannian Hessian on the point's stratum (active "
             r"constraints as spheres), or, where the gradient vanishes, a feasible direction $d$ with "
             r"$d^\top \nabla^2 f\, d < 0$ (the second-order condition fails on the tangent cone). Checked "
             r"symbolically on the KKT system, on critical points sampled by a KKT-residual solver from random "
             r"starts and on the end points of the $g = 0$ flows."),
    instance_arrays=("H", "v", "y"),
    evaluate=evaluate_ball,
    array_docs=ARRAY_DOCS,
))

SPHERE = register(Claim(
    id="zhou-landscape-sphere",
    paper_ref="Zhou et al. 2022",
    part="beyond",
    statement=(r"Zhou et al.'s benign landscape, read for the linear loss on the fixed-norm model of weight "
               r"normalisation ($\|v\| = \|h_i\| = 1$, a product of unit spheres): every critical point is a global "
               r"minimiser or has a negative Riemannian Hessian eigenvalue."),
    quote=STRICT_SADDLE_QUOTE,
    reading=(r"For every feature dimension $d \geq 1$; a global minimiser must also have a PSD Riemannian Hessian "
             r"(the second-order necessary condition), which guards the Hessian's formula."),
    expected_verdict="erratum",
    correction=(r"Holds for $d \geq 2$: the critical points are $h_i = s_i y_i v$ with $\|v\| = 1$, $s \in \{-1, +1\}^n$, "
                r"value $-\sum_i s_i$; $s = \mathbf{1}$ are the global minimisers (Hessian PSD, kernel the rotations "
                r"$b_i = y_i a$), and on $v^\perp$ the Hessian is $B(s) = \begin{pmatrix} \sum_i s_i & -y^\top \\ -y & "
                r"\mathrm{diag}(s) \end{pmatrix}$ ($d - 1$ copies), with an eigenvalue $\leq -1$ whenever some "
                r"$s_j = -1$. For $d = 1$ the spheres are $\{-1, +1\}$: every point is critical and each with some "
                r"$s_j = -1$ is an isolated local minimum that is not global."),
    counterexample_summary=("n = 2, d = 1, y = (+1, -1), v = 1, H = (1, 1): on the spheres {-1, +1} a critical point "
                            "with value 0 > -2 and no tangent direction, hence no negative curvature"),
    instance_arrays=("H", "v", "y"),
    evaluate=evaluate_sphere,
    probe_evaluate=evaluate_sphere_corrected,
    array_docs=ARRAY_DOCS,
))


# ---------------------------------------------------------------------------------------------
# Instances.
# ---------------------------------------------------------------------------------------------
@st.composite
def sphere_points(draw, *, min_d: int = 1, max_d: int = 3):
    """Critical points of the sphere model: v a unit vector (small integers, first entry nonzero,
    normalised), h_i = s_i y_i v with a drawn sign pattern s; n in [2, 5], both classes.
    Shrinks to n = 2, d = min_d, s = 1."""
    n = draw(st.integers(2, 5))
    y = _labels(n, draw(st.integers(1, n - 1)))
    d = draw(st.integers(min_d, max_d))
    v = np.array(draw(st.lists(st.integers(-3, 3), min_size=d, max_size=d)), float)
    v[0] = draw(st.sampled_from([1.0, 2.0, -1.0]))
    v /= np.linalg.norm(v)
    s = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=n, max_size=n)))
    return {"H": ls.sphere_critical_point(v, y, s), "v": v, "y": y, "s": s}


@st.composite
def ball_critical_points(draw):
    """KKT points of (15): a global minimiser (unit v, h_i = y_i v), a point of S0 (v = 0, rows
    centred so that sum_i y_i h_i = 0 and scaled into the balls), or a corner of S0 (d = 1, every
    |h_i| = 1, half of the y_i h_i equal to +1). n in [2, 6] (even for corners), d in [1, 3].
    Shrinks to the global minimiser with n = 2, d = 1."""
    kind = draw(st.sampled_from(["global", "stationary", "corner"]))
    if kind == "corner":
        half = draw(st.integers(1, 3))
        y = _labels(2 * half, draw(st.integers(1, 2 * half - 1)))
        signs = np.array(draw(st.permutations([1.0] * half + [-1.0] * half)))
        return {"H": (signs * y)[:, None], "v": np.zeros(1), "y": y, "kind": kind}
    n = draw(st.integers(2, 6))
    y = _labels(n, draw(st.integers(1, n - 1)))
    d = draw(st.integers(1, 3))
    H = np.array(draw(st.lists(st.lists(st.integers(-3, 3), min_size=d, max_size=d), min_size=n, max_size=n)),
                 float) / 3
    if kind == "global":
        v = H[0] if np.any(H[0]) else np.eye(d)[0]
        v = v / np.linalg.norm(v)
        return {"H": np.outer(y, v), "v": v, "y": y, "kind": kind}
    H = H - np.outer(y, y @ H) / n  # sum_i y_i h_i = 0
    H = H / max(1.0, float(np.linalg.norm(H, axis=1).max()))
    return {"H": H, "v": np.zeros(d), "y": y, "kind": kind}


def stalled_start(rng: np.random.Generator, n: int, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A start of the flow (16) with g = v0 + s0/sqrt(n) = 0 strictly inside the balls (n = 4 or 9, so
    sqrt(n) is exact): features of norm <= 0.2, v0 = -s0/sqrt(n)."""
    y = _labels(n, int(rng.integers(1, n)))
    H0 = rng.uniform(-0.1, 0.1, size=(n, d))
    return H0, -(y @ H0) / np.sqrt(n), y


# ---------------------------------------------------------------------------------------------
# Shared sampled critical points (computed once per process).
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def sampled_ball_points() -> tuple:
    """Critical points from BALL_STARTS random starts of the KKT-residual solver per d in {1, 2, 3}
    (n = 5) and from STALL_STARTS g = 0 flows (the exact flow, inside the balls, to e^{-20} decay)."""
    rng = np.random.default_rng(15)
    points = []
    for d in (1, 2, 3):
        y = _labels(5, 2)
        for _ in range(BALL_STARTS):
            result = ls.find_ball_critical_point(0.7 * rng.normal(size=(5, d)), 0.7 * rng.normal(size=d), y)
            points.append(("solver", result.H, result.v, y, result.residual))
    for n, d in itertools.islice(itertools.cycle([(4, 1), (9, 2), (4, 3)]), STALL_STARTS):
        H0, v0, y = stalled_start(rng, n, d)
        end = ufm_flow_closed_form(H0, v0, y, 20.0 / np.sqrt(n))  # sqrt(n) t = 20: v decayed by e^{-20}
        points.append(("stall", end.H, end.v, y, ls.ball_kkt_residual(end.H, end.v, y)))
    return tuple(points)


@functools.lru_cache(maxsize=None)
def sampled_sphere_points() -> tuple:
    """End points of Riemannian Newton from SPHERE_STARTS random starts per d in {2, 3} (n = 4)."""
    rng = np.random.default_rng(16)
    y = _labels(4, 1)
    return tuple((d, ls.sphere_newton(rng.normal(size=(4, d)), rng.normal(size=d), y), y)
                 for d in (2, 3) for _ in range(SPHERE_STARTS))


# ---------------------------------------------------------------------------------------------
# zhou-landscape-ball.
# ---------------------------------------------------------------------------------------------
def _kkt_solutions_classified(n_pos: int) -> list[str]:
    """Solve the KKT system of (15) for n = 2, d = 1 with sympy; classify every solution with
    nonnegative multipliers as 'global' (value -2) or 'stationary' (v = 0 and sum_i y_i h_i = 0)."""
    v, h1, h2, lam, m1, m2 = sp.symbols("v h1 h2 lambda mu1 mu2", real=True)
    y = [1, -1] if n_pos == 1 else [1, 1]
    equations = [y[0] * h1 + y[1] * h2 - lam * v, y[0] * v - m1 * h1, y[1] * v - m2 * h2,
                 lam * (1 - v**2), m1 * (1 - h1**2), m2 * (1 - h2**2)]
    labels = []
    for solution in sp.solve(equations, [v, h1, h2, lam, m1, m2], dict=True):
        multipliers = [sp.sympify(solution.get(s, s)) for s in (lam, m1, m2)]
        free = set().union(*(m.free_symbols for m in multipliers)) | {s for s in (v,) if s not in solution}
        allowed = sp.S.Reals
        for m in multipliers:  # the set of free values keeping every multiplier >= 0
            allowed = allowed.intersect(sp.solveset(m >= 0, *(free or {v}), sp.S.Reals)) if m.free_symbols else (
                allowed if m >= 0 else sp.S.EmptySet)
        if allowed == sp.S.EmptySet:
            continue
        point = {s: sp.sympify(solution.get(s, s)) for s in (v, h1, h2)}
        value = sp.simplify(-(y[0] * point[v] * point[h1] + y[1] * point[v] * point[h2]))
        if value == -2:
            labels.append("global")
            continue
        # Not global: on the allowed set v must vanish, and then sum_i y_i h_i = 0 (gradient 0).
        v_values = sp.FiniteSet(point[v]) if not point[v].free_symbols else allowed
        assert v_values == sp.FiniteSet(0), f"a non-global KKT point with v != 0: {solution}, v in {v_values}"
        assert sp.simplify((y[0] * point[h1] + y[1] * point[h2]).subs(v, 0)) == 0, solution
        labels.append("stationary")
    return labels


@pytest.mark.claim(BALL.id, kind="symbolic")
def test_ball_kkt_symbolic():
    """sympy: KKT points of (15) are global minima or in S0; the certificate segment gives f = -t^2 ||h_j||^2.

    sympy, n = 2, d = 1 (both label patterns): every KKT solution with nonnegative multipliers is a global
    minimiser (value -2) or lies in S0; along the segment v = -t y_j h_j, h_j = (1 - t) h_j the objective at a
    point of S0 (n = 3, d = 2, symbolic features) is exactly -t^2 ||h_j||^2."""
    for n_pos in (1, 2):
        labels = _kkt_solutions_classified(n_pos)
        assert "global" in labels and "stationary" in labels, labels
    ys = [1, 1, -1]
    t = sp.Symbol("t", nonnegative=True)
    h = [sp.Matrix(sp.symbols(f"h{i}1 h{i}2", real=True)) for i in range(2)]
    h.append(ys[2] * -(ys[0] * h[0] + ys[1] * h[1]))  # sum_i y_i h_i = 0
    j = 0
    v_t = -t * ys[j] * h[j]
    h_t = [(1 - t) * hi if i == j else hi for i, hi in enumerate(h)]
    f_t = -sum(yi * (v_t.T * hi)[0] for yi, hi in zip(ys, h_t))
    assert_sympy_zero(sp.expand(f_t + t**2 * (h[j].T * h[j])[0]), "f along the segment plus t^2 ||h_j||^2")


@pytest.mark.claim(BALL.id, kind="numerical")
def test_ball_sampled_critical_points(record_property):
    """Sampled critical points (KKT-residual solver, g = 0 flows) are global minima or strict saddles.

    Critical points sampled by a KKT-residual solver (random starts, d = 1, 2, 3) and the end points of
    g = 0 flows are global minimisers or strict saddles; the stalls are interior saddles of curvature -sqrt(n)
    and the certificate segment lowers f while staying in the balls."""
    counts = {label: 0 for label in ls.CLASSES}
    stall_curvatures = []
    for source, H, v, y, residual in sampled_ball_points():
        label = ls.classify_ball_point(H, v, y, tol=TOL)
        counts[label] += 1
        if label == "strict-saddle":
            dH, dv = ls.ball_negative_curvature_direction(H, v, y)
            for step in (1e-3, 0.1, 1.0):
                Hs, vs = H + step * dH, v + step * dv
                # 1e-12: rounding of the segment's end points, whose norms are <= 1 exactly.
                require(np.all(np.linalg.norm(Hs, axis=1) <= 1 + 1e-12) and np.linalg.norm(vs) <= 1 + 1e-12,
                        f"the certificate leaves the balls at t = {step}")
                require(constrained_loss(Hs, vs, y) < constrained_loss(H, v, y), "the certificate does not descend")
        if source == "stall":
            require(label == "strict-saddle", f"a g = 0 stall classified {label}")
            stall_curvatures.append(ls.stratum_hessian_min_eigenvalue(H, v, y) / np.sqrt(y.size))
    critical = counts["global-min"] + counts["strict-saddle"] + counts["degenerate"]
    record_property("fig:starts", len(sampled_ball_points()))
    record_property("fig:critical", critical)
    record_property("fig:reached", counts["global-min"] + counts["strict-saddle"])
    record_property("fig:global", counts["global-min"])
    record_property("fig:saddles", counts["strict-saddle"])
    assert counts["degenerate"] == 0 and counts["global-min"] > 0 and counts["strict-saddle"] > 0, counts
    # 1e-9: the stall end points are interior (norms <= 0.4), where the Hessian's smallest eigenvalue
    # is -sqrt(n) exactly; eigvalsh is accurate to ~1e-15.
    assert np.allclose(stall_curvatures, -1.0, atol=1e-9), stall_curvatures


@pytest.mark.claim(BALL.id, kind="numerical")
def test_ball_stall_matches_projected_gradient():
    """The g = 0 end point agrees with projected gradient descent (a second solver) and is a KKT point.

    The g = 0 end point used above is where projected gradient descent (the flow (16)'s discretisation,
    a second solver) stalls too, and the KKT residual there is at rounding level."""
    rng = np.random.default_rng(9)
    H0, v0, y = stalled_start(rng, 4, 2)
    exact = ufm_flow_closed_form(H0, v0, y, 20.0 / 2.0)
    pgd = projected_gradient_descent(H0, v0, y, eta=0.02, steps=500)  # 500 * 0.02 * sqrt(4) = 20
    # 1e-6: projected Euler's decaying mode (1 - 0.04)^500 ~ 1e-9 and its O(eta) phase error.
    assert np.allclose(pgd.H, exact.H, atol=1e-6) and np.linalg.norm(pgd.v) < 1e-6
    # 1e-8: v has decayed by e^{-20} ~ 2e-9 of an O(0.1) start.
    assert ls.ball_kkt_residual(exact.H, exact.v, y) < 1e-8


@pytest.mark.claim(BALL.id, kind="property")
def test_ball_property(record_property):
    """Generated KKT points (global minima, S0, corners of S0) are global minima or strict saddles.

    Generated KKT points (global minimisers, points of S0, corners of S0 with d = 1) are classified as
    global minimisers or strict saddles, never degenerate, and S0 points are saddles."""
    def body(point):
        label = ls.classify_ball_point(point["H"], point["v"], point["y"], tol=TOL)
        require(label == ("global-min" if point["kind"] == "global" else "strict-saddle"), f"{label} at {point}")
        require(evaluate_ball(point).holds)
    property_check(record_property, ball_critical_points(), body)


@pytest.mark.negative_control(BALL.id)
def test_ball_negative_control():
    """Broken variant: the stratum Hessian alone at a d = 1 corner of S0, rejected; the tangent-cone test accepted.

    Broken variant: the stratum Hessian alone (no inward directions) at the corner v = 0, H = (1, 1), y = (+1, -1)
    of S0, where the stratum is a point; the claim's evaluation accepts it with the tangent-cone test and rejects
    the broken one."""
    corner = {"H": np.array([[1.0], [1.0]]), "v": np.zeros(1), "y": np.array([1.0, -1.0])}
    assert evaluate_ball(corner).holds
    rejects(evaluate_ball, corner, curvature="stratum")


# ---------------------------------------------------------------------------------------------
# zhou-landscape-sphere.
# ---------------------------------------------------------------------------------------------
@pytest.mark.claim(SPHERE.id, kind="property", form="printed")
def test_sphere_printed(record_property):
    """Printed (every d): a critical point on the spheres neither global nor a strict saddle, searched and shrunk.

    Printed (every d): a critical point on the spheres that is neither global nor a strict saddle, searched
    and shrunk."""
    # 200 draws: d = 1 with some s_i = -1 has probability >= 1/3 * 3/4 = 1/4 per draw, so all miss
    # with probability < 1e-24.
    found = search_counterexample(record_property, SPHERE, sphere_points().map(
        lambda p: {k: p[k] for k in ("H", "v", "y")}), max_examples=200, **SEARCH)
    assert SPHERE.evaluate(found).holds


def _angle_hessian(ys, s) -> tuple[sp.Matrix, sp.Matrix]:
    """d = 2 in angles: f = -sum_i y_i cos(theta - phi_i); its Hessian at theta = 0, phi_i = 0 or pi
    (h_i = s_i y_i v), and B(s) in the same (angle) basis."""
    theta = sp.Symbol("theta", real=True)
    phi = sp.symbols(f"phi0:{len(ys)}", real=True)
    f = -sum(yi * sp.cos(theta - p) for yi, p in zip(ys, phi))
    point = {theta: 0, **{p: (0 if si * yi == 1 else sp.pi) for p, si, yi in zip(phi, s, ys)}}
    hessian = sp.hessian(f, (theta, *phi)).subs(point)
    n = len(ys)
    B = sp.zeros(n + 1, n + 1)
    B[0, 0] = sum(s)
    for i in range(n):
        B[0, i + 1] = B[i + 1, 0] = -ys[i]
        B[i + 1, i + 1] = s[i]
    gradient = [sp.diff(f, x).subs(point) for x in (theta, *phi)]
    assert all(sp.simplify(g) == 0 for g in gradient), "not a critical point"
    # The angle phi_i = pi measures h_i's circle against the tangent (0, -1), v's against (0, 1): in
    # angle coordinates B is seen through D = diag(1, s_i y_i), an orthogonal change of basis.
    D = sp.diag(1, *(si * yi for si, yi in zip(s, ys)))
    return hessian, D * B * D


@pytest.mark.claim(SPHERE.id, kind="symbolic", form="corrected")
def test_sphere_symbolic():
    """Corrected, sympy, d = 2: the Hessian in angles is B(s); PSD only at s = 1, else an eigenvalue <= -1.

    Corrected, d = 2 in angle coordinates (an isometry of each circle), sympy, n = 3: at every sign pattern
    the Hessian equals B(s) up to an orthogonal change of basis; B(1) is PSD with a one-dimensional kernel,
    every other pattern has an eigenvalue <= -1, and the model's Riemannian Hessian has the same eigenvalues."""
    ys = [1, 1, -1]
    for s in itertools.product([1, -1], repeat=3):
        hessian, B = _angle_hessian(ys, s)
        assert (hessian - B).applyfunc(sp.simplify) == sp.zeros(4, 4), s
        eigenvalues = sorted(float(e) for e in B.eigenvals(multiple=True))
        v = np.array([1.0, 0.0])
        model = ls.sphere_hessian_eigenvalues(ls.sphere_critical_point(v, np.array(ys, float), np.array(s, float)),
                                              v, np.array(ys, float))
        # 1e-9: sympy's exact eigenvalues against eigvalsh's (rounding ~1e-15).
        assert np.allclose(sorted(model), eigenvalues, atol=1e-9), (s, model, eigenvalues)
        if all(si == 1 for si in s):
            assert abs(eigenvalues[0]) <= 1e-12 and eigenvalues[1] > 0.5  # PSD, kernel = rotations
        else:
            assert eigenvalues[0] <= -1 + 1e-12, (s, eigenvalues)  # 1e-12: rounding of exact values


@pytest.mark.claim(SPHERE.id, kind="numerical", form="corrected")
def test_sphere_newton(record_property):
    """Corrected, d = 2, 3: Riemannian Newton's critical points are global minima or saddles; Hessian vs geodesics.

    Corrected, d = 2, 3: Riemannian Newton from random starts converges to critical points h_i = s_i y_i v,
    each a global minimiser (s = 1) or a strict saddle with an eigenvalue <= -1; the Riemannian Hessian matches
    second differences of f along geodesics at random points."""
    reached = converged = 0
    for d, result, y in sampled_sphere_points():
        if not result.converged:
            continue
        converged += 1
        s = np.sign(result.H @ result.v * y)
        # 1e-8: Newton stops at ||grad|| <= 1e-12, within ~1e-12 of the critical set.
        require(np.allclose(result.H, np.outer(s * y, result.v), atol=1e-8), "a critical point off the patterns")
        label = ls.classify_sphere_point(result.H, result.v, y, tol=TOL)
        smallest = ls.sphere_hessian_eigenvalues(result.H, result.v, y)[0]
        expected = "global-min" if np.all(s == 1) else "strict-saddle"
        require(label == expected and (expected == "global-min" or smallest <= -1 + 1e-8), f"{label}, {smallest}")
        reached += 1
    record_property("fig:starts", len(sampled_sphere_points()))
    record_property("fig:converged", converged)
    record_property("fig:reached", reached)
    # Newton converges from most starts (measured: all but a few); a critical point is what is classified.
    assert converged >= len(sampled_sphere_points()) // 2 and reached == converged
    rng = np.random.default_rng(5)
    for _ in range(5):
        y = _labels(4, 2)
        H, v = rng.normal(size=(4, 3)), rng.normal(size=3)
        H, v = H / np.linalg.norm(H, axis=1, keepdims=True), v / np.linalg.norm(v)
        xi = ls.sphere_projection(H, v) @ rng.normal(size=15)
        step = 1e-4
        values = [constrained_loss(*ls.geodesic(H, v, xi, t), y) for t in (-step, 0.0, step)]
        second = (values[0] - 2 * values[1] + values[2]) / step**2
        # 1e-6: central differences err by O(step^2) ~ 1e-8 times fourth derivatives O(10), plus
        # rounding 1e-16 / step^2 ~ 1e-8.
        assert abs(second - xi @ ls.sphere_riemannian_hessian(H, v, y) @ xi) <= 1e-6


@pytest.mark.claim(SPHERE.id, kind="property", form="corrected")
def test_sphere_property(record_property):
    """Corrected, generated critical points, d = 2, 3: Hessian eigenvalues are B(s)'s, classification follows s.

    Corrected, generated critical points with d = 2, 3: the Riemannian Hessian's tangent eigenvalues are those
    of B(s), each d - 1 times, and the classification follows s."""
    def body(point):
        H, v, y, s = point["H"], point["v"], point["y"], point["s"]
        B = np.diag(np.concatenate([[s.sum()], s]))
        B[0, 1:] = B[1:, 0] = -y
        expected = np.sort(np.repeat(np.linalg.eigvalsh(B), v.size - 1))
        # 1e-9: two float64 eigen-solvers of O(n) matrices.
        require(np.allclose(ls.sphere_hessian_eigenvalues(H, v, y), expected, atol=1e-9))
        require(evaluate_sphere_corrected(point).holds)
        require(ls.classify_sphere_point(H, v, y) == ("global-min" if np.all(s == 1) else "strict-saddle"))
    property_check(record_property, sphere_points(min_d=2), body)


@pytest.mark.negative_control(SPHERE.id)
def test_sphere_negative_control():
    """Broken variant: the Hessian without its Weingarten term, rejected at a global minimum; the true one accepted.

    Broken variant: the Riemannian Hessian without its Weingarten term (the projected Euclidean Hessian
    P A P), at a global minimiser with d = 2; the claim's evaluation accepts the true Hessian (PSD) and rejects
    the broken one (negative eigenvalues at a global minimum)."""
    y = np.array([1.0, -1.0, -1.0])
    v = np.array([0.6, 0.8])
    point = {"H": ls.sphere_critical_point(v, y, np.ones(3)), "v": v, "y": y}
    assert evaluate_sphere(point).holds
    rejects(evaluate_sphere, point, curvature_term=False)
