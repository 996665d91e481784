"""Section 3: the linear loss on a linear model f(x) = <w, x>.

Statements, as printed:
    "arg min_w L(w) = arg max_w w^T (mu_+ - mu_-) ... This implies that classifier
     converge in direction toward the mean difference direction mu_+ - mu_-."
    "This observation suggests that linear loss automatically satisfies NC3."
    "maximizing w^T (mu_+ - mu_-) can also be viewed as the maximization of
     between-class variance."
    "... not exactly the same as Fisher's linear discriminant ..., we argue that our
     linear loss plays a similar role once NC1, the shrinkage of within-class
     variance occurs."

Referee reading. L(w) = -<w, s> with s = sum_i y_i x_i = n_+ mu_+ - n_- mu_-. Read literally
over R^d both arg-sets are empty (L is unbounded below, the right side unbounded above), so
the statement is vacuous; the only reading in which both sides are non-empty is over
directions, i.e. the unit sphere, where arg min L = s/||s||. That is the mean-difference
direction when n_+ = n_-, and generally not otherwise.

Why class sizes are not assumed equal. Section 2 defines NC for "C classes with N
examples per class", and under that convention the statement holds (our corrected form).
But Section 3 restates the data for the rest of the paper without it: "In the remainder of
this paper, we focus on binary classification. For a neural network f(.; theta) ..., and a
dataset {x_i, y_i}_{i=1}^n, the empirical risk is defined as ...", with mu_+- "mean vectors
of positive/negative classes". The rest of the paper then treats unequal classes: Theorem
4's caveat discusses ||x_+|| != ||x_-|| and the Section 4 experiment trains on 2000
examples of digits 0 and 8 with no balancing stated. So the statements are checked for any
class sizes, and equal class sizes (the ``equal-class-sizes`` assumption) is the repair.

Two claims, one root cause. ``section-3-mean-difference`` is the static statement about
the arg min over directions. ``section-3-nc3`` is the dynamic one the paper draws from it:
gradient flow w(t) = w(0) + t s from any start converges in direction, and satisfies NC3 as
Section 2 defines it (per class, centred at mu_G, with classifier rows w_+ = w, w_- = -w),
at rate O(1/t). Both fail exactly when s is not parallel to mu_+ - mu_-, so their
counterexamples coincide; the NC3 claim additionally carries the flow, the start and the
rate.

Fisher. The paper contrasts the linear loss with Fisher's discriminant [5], "which
simultaneously maximizes between-class variance and minimizes within-class variance", and
argues the two play "a similar role once NC1 ... occurs". Refuted reading: Fisher's
discriminant as cited, the maximiser Sigma_W^{-1}(mu_+ - mu_-) of the Rayleigh quotient
(w^T Delta)^2 / w^T Sigma_W w, approaches mu_+ - mu_- as Sigma_W -> 0. It does not: the
quotient is invariant under Sigma_W -> eps^2 Sigma_W, so NC1 by shrinkage of fixed shape
(which Section 2's NC1, Sigma_W -> 0, allows) never moves it. What holds: the regularised
forms, the ridge direction (Sigma_W + lambda I)^{-1} Delta and the difference criterion
max_{||w|| = 1} w^T Sigma_B w - lambda w^T Sigma_W w, align with Delta as Sigma_W -> 0.
This is an erratum, not a gap: the paper gives no proof whose step fails; the statement
itself is false in its natural reading, and the correction says which reading survives.

References:
    Section 3; Fisher (1936); Papyan, Han & Donoho (2020) for NC3.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.framework.checks import (
    SEARCH,
    assert_sympy_zero,
    property_check,
    rejects,
    require,
    search_counterexample,
)
from claims.framework.claim import Claim, Evaluation, register
from models import linear_model as lm
from models.nc_metrics import MetricInputError, binary_nc3, class_statistics, nc3_per_class

# 1e-9: directions are unit vectors computed from sums of O(10) small integers in
# float64; rounding leaves them exact to ~1e-15, far inside 1e-9, while a genuine
# misalignment in these integer instances is at least ~1e-3.
DIRECTION_TOL = 1e-9

# NC3 along the flow is measured at T = NC3_HORIZON (1 + ||w0||) / ||s||, where the start's
# pull on the direction is at most ||w0|| / (T ||s||) <= 1e-8; NC3_TOL = 1e-6 sits above
# that and far below a genuine misalignment (>= ~1e-3 in these instances).
NC3_HORIZON = 1e8
NC3_TOL = 1e-6

# Counterexample searches skip Hypothesis's explain phase, which re-runs a shrunk failure
# a hundred times to annotate it (the report does not use the annotation).


@st.composite
def labelled_data(draw, *, equal_sizes: bool | None = None, min_d: int = 1, max_d: int = 3):
    """Small labelled data sets (X, y) with mu_+ != mu_- and s = sum y_i x_i != 0.

    Coordinates are small integers; the positive class is shifted along e_1 by
    4 (n_- + 1), which constructively keeps both mu_+ - mu_- and s nonzero (their
    first coordinates are positive). ``equal_sizes`` True/False forces n_+ = n_- or
    n_+ != n_-; None leaves it free. Shrinks towards n_+ = n_- = 1, d = 1.
    """
    d = draw(st.integers(min_d, max_d))
    n_pos = draw(st.integers(1, 4))
    if equal_sizes is None:
        n_neg = draw(st.integers(1, 4))
    elif equal_sizes:
        n_neg = n_pos
    else:
        n_neg = n_pos + draw(st.integers(1, 3))
    coords = st.lists(st.integers(-3, 3), min_size=d, max_size=d)
    X_pos = np.array(draw(st.lists(coords, min_size=n_pos, max_size=n_pos)), float)
    X_neg = np.array(draw(st.lists(coords, min_size=n_neg, max_size=n_neg)), float)
    X_pos[:, 0] += 4 * (n_neg + 1)
    X = np.vstack([X_pos, X_neg])
    y = np.concatenate([np.ones(n_pos), -np.ones(n_neg)])
    return {"X": X, "y": y}


@st.composite
def initialised_data(draw, *, equal_sizes: bool | None = None):
    """``labelled_data`` plus a start w(0) for the linear model, stored as W0 (1, d) (small
    integers). Shrinks towards w(0) = 0."""
    inst = draw(labelled_data(equal_sizes=equal_sizes))
    d = inst["X"].shape[1]
    return {**inst, "W0": np.array([draw(st.lists(st.integers(-3, 3), min_size=d, max_size=d))], float)}


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def mean_difference(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    mu_p, mu_m = lm.class_means(X, y)
    return mu_p - mu_m


def evaluate_mean_difference(inst, *, labelled: bool = True) -> Evaluation:
    """arg min over unit w of L is the unit mean-difference direction (the printed reading).
    The arg min is s/||s||, s = sum_i y_i x_i; ``labelled`` False drops y_i (negative control)."""
    s_vec = lm.signed_sum(inst["X"], inst["y"]) if labelled else np.sum(np.asarray(inst["X"], float), axis=0)
    delta = mean_difference(inst["X"], inst["y"])
    if not (np.any(s_vec) and np.any(delta)):  # a zero vector has no direction
        return Evaluation(holds=False, figures={"direction_undefined": 1.0})
    gap = float(np.linalg.norm(_unit(s_vec) - _unit(delta)))
    return Evaluation(holds=gap <= DIRECTION_TOL, figures={"direction_gap": gap})


def nc3_along_flow(inst, flow=lm.gradient_flow) -> float:
    """Section 2's NC3 (max over both classes) of w(T) = flow(w0, T), w0 = W0's first row, at the horizon."""
    X, y = inst["X"], inst["y"]
    w0 = np.asarray(inst["W0"], float)[0]
    horizon = NC3_HORIZON * (1 + np.linalg.norm(w0)) / np.linalg.norm(lm.signed_sum(X, y))
    w = flow(X, y, w0, horizon)
    return float(np.max(nc3_per_class(np.vstack([-w, w]), X, y)))  # rows: classes -1, +1


def evaluate_nc3(inst, flow=lm.gradient_flow) -> Evaluation:
    """NC3 (Section 2, per class) holds for w(t) = w(0) + t s as t -> inf (measured at the horizon);
    ``flow`` is the gradient flow (only the negative control changes it)."""
    try:
        metric = nc3_along_flow(inst, flow)
    except MetricInputError:  # s = 0 or mu_+ = mu_-: the directions are undefined
        return Evaluation(holds=False, figures={"direction_undefined": 1.0})
    return Evaluation(holds=metric <= NC3_TOL, figures={"nc3_at_horizon": metric})


def evaluate_fisher(inst, shrink: float = 1e-6) -> Evaluation:
    """After within-class shrinkage by ``shrink`` (NC1), Fisher's direction is mu_+ - mu_-."""
    X_nc1 = lm.shrink_within_class(inst["X"], inst["y"], shrink)
    try:
        cos = float(lm.fisher_direction(X_nc1, inst["y"]) @ _unit(mean_difference(inst["X"], inst["y"])))
    except np.linalg.LinAlgError:  # singular Sigma_W: Fisher's direction is undefined
        return Evaluation(holds=False, figures={"sigma_w_singular": 1.0})
    return Evaluation(holds=1 - cos <= DIRECTION_TOL, figures={"cos_fisher_mean_difference": cos})


def evaluate_fisher_ridge(inst, direction=lm.fisher_direction) -> Evaluation:
    """Corrected: the ridge discriminant's alignment bound holds along NC1 shrinkage of this instance
    (``direction`` computes the ridge discriminant; only the negative control changes it)."""
    return Evaluation(holds=ridge_bound_holds(inst, direction=direction))


MEAN_DIFF = register(Claim(
    id="section-3-mean-difference",
    paper_ref="Section 3",
    statement=r"$\arg\min_w L(w) = \arg\max_w w^\top (\mu_+ - \mu_-)$; the classifier converges in direction "
              r"toward the mean difference $\mu_+ - \mu_-$ (read over unit-norm $w$, the only reading in which "
              r"both sets are non-empty).",
    quote=r"Note that $\arg \min_w \mathcal{L}(w) = \arg \max_w w^\top (\mu_+ - \mu_-)$ , where $\mu_\pm$ are "
          r"mean vectors of positive/negative classes. This implies that classifier converge in direction "
          r"toward the mean difference direction $\mu_+ - \mu_-$ , instead of the max-margin one.",
    reading=r"Linear model $f(x; w) = w^\top x$ in (1), both arg-sets taken over unit-norm $w$, any class "
            r"sizes: $\arg\min_{\|w\| = 1} \mathcal{L}(w) = (\mu_+ - \mu_-)/\|\mu_+ - \mu_-\|$.",
    expected_verdict="erratum",
    correction=r"$\arg\min$ over $\|w\| = 1$ of $L(w)$ is $s/\|s\|$ with $s = \sum_i y_i x_i = n_+ \mu_+ - n_- "
               r"\mu_-$, and gradient flow $w(t) = w_0 + t s$ converges in direction to $s$. This is the "
               r"mean-difference direction when $n_+ = n_-$ (equal class sizes), not in general.",
    counterexample_summary="X = (12, 0) labelled +1 and (0, 0), (0, 1) labelled -1: the minimiser s = (12, -1) "
                           "is not parallel to mu_+ - mu_- = (12, -0.5) (direction gap 0.041)",
    instance_arrays=("X", "y"),
    evaluate=evaluate_mean_difference,
    # The corrected statement is "with equal class sizes, the printed conclusion"; the class
    # sizes are the registered assumption, so a probe evaluates the conclusion itself.
    assumptions=("equal-class-sizes",),
    probe_evaluate=evaluate_mean_difference,
    instance_bounds={"max_n": 8, "max_d": 4, "max_h": 1},
))
NC3 = register(Claim(
    id="section-3-nc3",
    paper_ref="Section 3",
    statement=r"The linear loss automatically satisfies NC3: for the linear model trained by gradient flow "
              r"from any $w(0)$, $w_c(t)/\|w_c(t)\| - (\mu_c - \mu_G)/\|\mu_c - \mu_G\| \to 0$ for both "
              r"classes (Section 2's NC3 with $w_+ = w$, $w_- = -w$).",
    quote=r"This observation suggests that linear loss automatically satisfies NC3.",
    reading=r"For the linear model $f(x; w) = w^\top x$ trained by gradient flow on (1) from any $w(0)$, any "
            r"class sizes: Section 2's NC3 with $w_+ = w$, $w_- = -w$ holds for both classes as $t \to "
            r"\infty$.",
    expected_verdict="erratum",
    correction=r"With equal class sizes NC3 holds from every start, at rate $\|w(t)/\|w(t)\| - (\mu_+ - "
               r"\mu_-)/\|\mu_+ - \mu_-\|\| = \mathcal{O}(1/t)$; with $n_+ \neq n_-$ the limit is $\|s/\|s\| - "
               r"(\mu_+ - \mu_-)/\|\mu_+ - \mu_-\|\| > 0$ in general ($s = n_+ \mu_+ - n_- \mu_-$).",
    counterexample_summary="X = (12, 0) labelled +1 and (0, 0), (0, 1) labelled -1, w(0) = 0: Section 2's NC3 "
                           "of w(t) tends to 0.041, not 0",
    instance_arrays=("X", "y", "W0"),
    evaluate=evaluate_nc3,
    assumptions=("equal-class-sizes",),
    probe_evaluate=evaluate_nc3,  # the conclusion; equal class sizes is the registered assumption
    instance_bounds={"max_n": 8, "max_d": 4, "max_h": 1},
))
BETWEEN = register(Claim(
    id="section-3-between-class-variance",
    paper_ref="Section 3",
    statement=r"Maximizing $w^\top (\mu_+ - \mu_-)$ can be viewed as maximizing the between-class variance "
              r"$w^\top \Sigma_B w$ (over unit $w$).",
    quote=r"Moreover, maximizing $w^\top (\mu_+ - \mu_-)$ can also be viewed as the maximization of "
          r"between-class variance.",
    reading=r"Over unit $w$, any class sizes: the maximiser $(\mu_+ - \mu_-)/\|\mu_+ - \mu_-\|$ of $w^\top "
            r"(\mu_+ - \mu_-)$ is also the top direction of $\Sigma_B$ (Section 2's, $C = 2$), i.e. it "
            r"maximises $w^\top \Sigma_B w$.",
))
FISHER = register(Claim(
    id="section-3-fisher-after-nc1",
    paper_ref="Section 3",
    statement=r"Once NC1 (shrinkage of within-class variance) occurs, the linear loss plays a role similar to "
              r"Fisher's discriminant [5] (read: Fisher's direction $\Sigma_W^{-1}(\mu_+ - \mu_-)$, the "
              r"maximiser of the Rayleigh quotient $(w^\top \Delta)^2 / w^\top \Sigma_W w$, aligns with the "
              r"linear-loss direction $\mu_+ - \mu_-$ as $\Sigma_W \to 0$).",
    quote=r"Although this is not exactly the same as Fisher’s linear discriminant [5], which simultaneously "
          r"maximizes between-class variance and minimizes within-class variance, we argue that our linear "
          r"loss plays a similar role once NC1, the shrinkage of within-class variance occurs.",
    reading=r"'A similar role once NC1 occurs' is read as: after within-class shrinkage $x_i \to \mu_c + "
            r"\varepsilon (x_i - \mu_c)$ with $\varepsilon \to 0$, Fisher's direction $\Sigma_W^{-1}(\mu_+ - "
            r"\mu_-)$ aligns with $\mu_+ - \mu_-$ (cosine $\to 1$).",
    expected_verdict="erratum",
    correction=r"Refuted for Fisher's discriminant as cited: it is invariant under within-class shrinkage $x_i "
               r"\to \mu_c + \varepsilon (x_i - \mu_c)$ ($\Sigma_W \to \varepsilon^2 \Sigma_W$), so NC1 alone "
               r"never aligns it with $\mu_+ - \mu_-$. Holds for the regularised forms: the ridge discriminant "
               r"$(\Sigma_W + \lambda I)^{-1}(\mu_+ - \mu_-)$ with fixed $\lambda > 0$ aligns, $1 - \cos \leq "
               r"(b/(1-b))^2$ with $b = \|\Sigma_W\|_2 / \lambda < 1$, and so does the difference criterion "
               r"$\max_{\|w\| = 1} w^\top \Sigma_B w - \lambda w^\top \Sigma_W w$ ($1 - \cos \leq \sin^2 \leq "
               r"(a/(g - a))^2$, $a = \lambda \|\Sigma_W\|_2$, $g = \|\Delta\|^2/4$), both tending to 0 under "
               r"NC1.",
    counterexample_summary="d = 2, four points per class, axis-aligned anisotropic within-class spread: "
                           "cos(Fisher direction, mu_+ - mu_-) = 0.857 at every shrinkage factor",
    instance_arrays=("X", "y"),
    evaluate=evaluate_fisher,
    probe_evaluate=evaluate_fisher_ridge,
))


# ---------------------------------------------------------------------------------------
# arg min L = mean difference: symbolic, numerical, property, printed, control.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(MEAN_DIFF.id, kind="symbolic")
def test_mean_difference_symbolic():
    """L(w) = -w^T (n_+ mu_+ - n_- mu_-) for symbolic points (n_+ = 2, n_- = 1, d = 2)."""
    w = sp.Matrix(sp.symbols("w1 w2", real=True))
    pts = [sp.Matrix(sp.symbols(f"a{i}1 a{i}2", real=True)) for i in range(3)]
    ys = [1, 1, -1]
    loss = sum(-yi * (w.T * xi)[0] for yi, xi in zip(ys, pts))
    mu_p, mu_m = (pts[0] + pts[1]) / 2, pts[2]
    assert_sympy_zero(loss + (w.T * (2 * mu_p - 1 * mu_m))[0], "L(w) + w^T(n_+ mu_+ - n_- mu_-)")


@pytest.mark.claim(MEAN_DIFF.id, kind="numerical", form="corrected")
def test_mean_difference_slsqp():
    """Corrected: SLSQP's minimiser of L on the unit sphere is s/||s|| (seeded random data)."""
    rng = np.random.default_rng(3)
    for _ in range(10):
        X = rng.normal(size=(7, 3))
        y = np.array([1, 1, 1, -1, -1, -1, -1.0])
        # 1e-6: SLSQP stops at ftol 1e-14 on the loss, i.e. ~1e-7 on the direction.
        assert np.linalg.norm(lm.sphere_minimiser(X, y) - _unit(lm.signed_sum(X, y))) < 1e-6


@pytest.mark.claim(MEAN_DIFF.id, kind="property", form="corrected")
def test_mean_difference_equal_sizes(record_property):
    """Corrected: with n_+ = n_- the unit minimiser s/||s|| is the mean-difference direction."""
    property_check(record_property, labelled_data(equal_sizes=True),
                   lambda inst: require(evaluate_mean_difference(inst).holds))


@pytest.mark.claim(MEAN_DIFF.id, kind="property", form="printed")
def test_mean_difference_printed(record_property):
    """Printed (no class-size assumption): counterexample searched and shrunk by Hypothesis."""
    found = search_counterexample(record_property, MEAN_DIFF, labelled_data(), **SEARCH)
    assert MEAN_DIFF.evaluate(found).holds


@pytest.mark.negative_control(MEAN_DIFF.id)
def test_mean_difference_negative_control():
    """Broken variant: the arg min computed with the labels dropped (sum_i x_i = mu_+ + mu_- here, in place
    of s) on a balanced instance, where the claim's evaluation (probe_evaluate: equal class sizes)
    accepts s/||s||."""
    inst = {"X": np.array([[9.0, 1.0], [0.0, 2.0]]), "y": np.array([1.0, -1.0])}
    assert evaluate_mean_difference(inst).holds
    rejects(evaluate_mean_difference, inst, labelled=False)


# ---------------------------------------------------------------------------------------
# NC3 along gradient flow.
# ---------------------------------------------------------------------------------------
def nc3_decay_order(X: np.ndarray, y: np.ndarray, w0: np.ndarray, flow=lm.gradient_flow) -> float:
    """Slope of log NC3(w(t)) against log t over t in 1e3..1e5 (-1 means O(1/t) decay)."""
    ts = np.array([1e3, 1e4, 1e5])
    metric = [binary_nc3(flow(X, y, w0, t), X, y) for t in ts]
    return float(np.polyfit(np.log(ts), np.log(metric), 1)[0])


def nc3_decays_like_one_over_t(X: np.ndarray, y: np.ndarray, w0: np.ndarray, flow=lm.gradient_flow) -> bool:
    """The fitted order of NC3(w(t)) along ``flow`` is -1 to within 0.05."""
    # 0.05: the 1/t term dominates the next (1/t^2) term by a factor >= 1e3 on this range.
    return abs(nc3_decay_order(X, y, w0, flow=flow) + 1) < 0.05


@pytest.mark.claim(NC3.id, kind="numerical", form="corrected")
def test_nc3_rate():
    """Corrected: with equal class sizes the NC3 metric along w(t) decays like 1/t."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(6, 3)) + np.array([[2, 0, 0]] * 3 + [[-2, 0, 0]] * 3)
    y = np.array([1, 1, 1, -1, -1, -1.0])
    assert nc3_decays_like_one_over_t(X, y, rng.normal(size=3))


@pytest.mark.claim(NC3.id, kind="symbolic", form="corrected")
def test_nc3_symbolic_balanced():
    """Corrected: with n_+ = n_- = m, s = m (mu_+ - mu_-) exactly (sympy, m = 2, d = 1)."""
    a = sp.symbols("a1:5", real=True)
    s = a[0] + a[1] - a[2] - a[3]
    assert_sympy_zero(s - 2 * ((a[0] + a[1]) / 2 - (a[2] + a[3]) / 2), "s - m (mu_+ - mu_-)")


@pytest.mark.claim(NC3.id, kind="property", form="corrected")
def test_nc3_equal_sizes(record_property):
    """Corrected: with n_+ = n_- Section 2's NC3 of the flow from any w(0) tends to 0 (both classes)."""
    property_check(record_property, initialised_data(equal_sizes=True),
                   lambda inst: require(evaluate_nc3(inst).holds))


@pytest.mark.claim(NC3.id, kind="property", form="printed")
def test_nc3_printed(record_property):
    """Printed (no class-size assumption): counterexample (data and start) searched and shrunk by Hypothesis."""
    found = search_counterexample(record_property, NC3, initialised_data(), **SEARCH)
    assert NC3.evaluate(found).holds


@pytest.mark.negative_control(NC3.id)
def test_nc3_negative_control():
    """Broken variants on a balanced instance, where the real flow passes both checks: a flow that stalls
    (w(t) = w0 + sqrt(t) s, NC3 decays like t^-1/2), which the rate check rejects; gradient ascent
    (w(t) = w0 - t s, w -> -s), which the claim's evaluation (probe_evaluate) rejects."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4, 2)) + np.array([[2, 0]] * 2 + [[-2, 0]] * 2)
    y = np.array([1, 1, -1, -1.0])
    w0 = rng.normal(size=2)
    slow = lambda X_, y_, w0_, t: lm.gradient_flow(X_, y_, w0_, np.sqrt(t))  # noqa: E731
    assert nc3_decays_like_one_over_t(X, y, w0)
    rejects(nc3_decays_like_one_over_t, X, y, w0, flow=slow)
    inst = {"X": X, "y": y, "W0": w0[None, :]}
    ascent = lambda X_, y_, w0_, t: lm.gradient_flow(X_, y_, w0_, -t)  # noqa: E731
    assert evaluate_nc3(inst).holds
    rejects(evaluate_nc3, inst, flow=ascent)


# ---------------------------------------------------------------------------------------
# Between-class variance.
# ---------------------------------------------------------------------------------------
def top_direction_is_mean_difference(X: np.ndarray, y: np.ndarray, scatter=None) -> bool:
    """The top eigenvector of Sigma_B (paper's mu_G) is +-(mu_+ - mu_-)/||mu_+ - mu_-||."""
    matrix = class_statistics(X, y).sigma_b if scatter is None else scatter(X, y)
    top = np.linalg.eigh(matrix)[1][:, -1]
    return bool(1 - abs(top @ _unit(mean_difference(X, y))) <= DIRECTION_TOL)


@pytest.mark.claim(BETWEEN.id, kind="symbolic")
def test_between_symbolic():
    """Sigma_B = (1/4) Delta Delta^T in binary problems, so w^T Sigma_B w = (w^T Delta)^2 / 4 (sympy)."""
    mp, mm = sp.Matrix(sp.symbols("p1 p2", real=True)), sp.Matrix(sp.symbols("m1 m2", real=True))
    mg = (mp + mm) / 2
    sigma_b = ((mp - mg) * (mp - mg).T + (mm - mg) * (mm - mg).T) / 2
    delta = mp - mm
    assert (sigma_b - delta * delta.T / 4).applyfunc(sp.simplify) == sp.zeros(2, 2)


@pytest.mark.claim(BETWEEN.id, kind="numerical")
def test_between_numerical():
    """The top eigenvector of the measured Sigma_B is the mean difference (seeded data)."""
    rng = np.random.default_rng(11)
    for _ in range(10):
        X = rng.normal(size=(9, 4))
        y = np.array([1] * 4 + [-1] * 5, float)
        assert top_direction_is_mean_difference(X, y)


@pytest.mark.claim(BETWEEN.id, kind="property")
def test_between_property(record_property):
    """On generated data (any class sizes) Sigma_B's top direction is the mean difference."""
    property_check(record_property, labelled_data(min_d=2),
                   lambda inst: require(top_direction_is_mean_difference(inst["X"], inst["y"])))


@pytest.mark.negative_control(BETWEEN.id)
def test_between_negative_control():
    """Broken variant: the total scatter (a known metric bug) in place of Sigma_B; the check accepts
    Sigma_B on the same data and rejects the total scatter (whose top direction is the e_2 spread)."""
    X = np.array([[0.0, 0.0], [10.0, 1.0], [1.0, 5.0], [1.0, -5.0]])
    y = np.array([1, 1, -1, -1.0])
    total = lambda X_, y_: np.cov(X_.T, bias=True)  # noqa: E731
    assert top_direction_is_mean_difference(X, y)
    rejects(top_direction_is_mean_difference, X, y, scatter=total)


# ---------------------------------------------------------------------------------------
# Fisher's discriminant after NC1.
# ---------------------------------------------------------------------------------------
@st.composite
def anisotropic_data(draw):
    """d = 2 data with full-rank, axis-aligned within-class spread: each class is its
    mean +- r_1 e_1 and +- r_2 e_2 (small integers). Shrinks to r_1 = r_2 = 1, means 0 and e_1."""
    r1, r2 = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    m_pos = np.array([draw(st.integers(1, 5)), draw(st.integers(-5, 5))], float)
    m_neg = np.array([draw(st.integers(-5, 0)), draw(st.integers(-5, 5))], float)
    spread = np.array([[r1, 0], [-r1, 0], [0, r2], [0, -r2]], float)
    return {"X": np.vstack([m_pos + spread, m_neg + spread]), "y": np.repeat([1.0, -1.0], 4)}


@pytest.mark.claim(FISHER.id, kind="property", form="printed")
def test_fisher_printed(record_property):
    """Printed reading: after NC1 Fisher's direction aligns with mu_+ - mu_-; counterexample searched."""
    found = search_counterexample(record_property, FISHER, anisotropic_data(), **SEARCH)
    assert FISHER.evaluate(found).holds


@pytest.mark.claim(FISHER.id, kind="symbolic", form="corrected")
def test_fisher_invariance_symbolic():
    """Corrected: (eps^2 S)^{-1} Delta = eps^{-2} S^{-1} Delta, the same direction for every eps (sympy)."""
    eps = sp.symbols("epsilon", positive=True)
    s11, s22, s12, d1, d2 = sp.symbols("s11 s22 s12 d1 d2", real=True)
    S = sp.Matrix([[s11, s12], [s12, s22]])
    delta = sp.Matrix([d1, d2])
    diff = (eps**2 * S).inv() * delta - (S.inv() * delta) / eps**2
    assert diff.applyfunc(sp.simplify) == sp.zeros(2, 1)


def ridge_bound_holds(inst, direction=lm.fisher_direction, ridge: float = 1.0) -> bool:
    """1 - cos(ridge direction, Delta) <= (b/(1-b))^2, b = ||Sigma_W||/lambda, along NC1 shrinkage."""
    delta = _unit(mean_difference(inst["X"], inst["y"]))
    for eps in (1e-1, 1e-2, 1e-3):
        X_eps = lm.shrink_within_class(inst["X"], inst["y"], eps)
        b = np.linalg.norm(lm.within_class_covariance(X_eps, inst["y"]), 2) / ridge
        gap = 1 - direction(X_eps, inst["y"], ridge=ridge) @ delta
        # 1e-15: cosines of unit float64 vectors carry ~1e-16 rounding.
        if b >= 1 or gap > (b / (1 - b)) ** 2 + 1e-15:
            return False
    return True


@pytest.mark.claim(FISHER.id, kind="property", form="corrected")
def test_fisher_ridge_bound(record_property):
    """Corrected: the ridge discriminant aligns with mu_+ - mu_- under NC1, within the stated bound."""
    property_check(record_property, anisotropic_data(), lambda inst: require(ridge_bound_holds(inst)))


def difference_direction(X: np.ndarray, y: np.ndarray, *, ridge: float = 1.0) -> np.ndarray:
    """argmax over unit w of w^T Sigma_B w - ridge w^T Sigma_W w: the top eigenvector of the difference."""
    stats = class_statistics(X, y)
    top = np.linalg.eigh(stats.sigma_b - ridge * lm.within_class_covariance(X, y))[1][:, -1]
    return top * np.sign(top @ mean_difference(X, y))


def difference_bound_holds(inst, direction=difference_direction, ridge: float = 1.0) -> bool:
    """1 - cos(direction, Delta) <= (a/(g - a))^2 along NC1 shrinkage: a = ridge ||Sigma_W||_2,
    g = ||Delta||^2/4 the eigengap of Sigma_B = Delta Delta^T/4 (Davis-Kahan sin theta)."""
    delta = mean_difference(inst["X"], inst["y"])
    g = float(delta @ delta) / 4
    for eps in (1e-1, 1e-2, 1e-3):
        X_eps = lm.shrink_within_class(inst["X"], inst["y"], eps)
        a = ridge * np.linalg.norm(lm.within_class_covariance(X_eps, inst["y"]), 2)
        gap = 1 - direction(X_eps, inst["y"], ridge=ridge) @ _unit(delta)
        # 1e-15: cosines of unit float64 vectors carry ~1e-16 rounding.
        if a >= g or gap > (a / (g - a)) ** 2 + 1e-15:
            return False
    return True


@pytest.mark.claim(FISHER.id, kind="property", form="corrected")
def test_fisher_difference_criterion(record_property):
    """Corrected: the difference criterion's direction aligns with mu_+ - mu_- under NC1, within Davis-Kahan's bound."""
    property_check(record_property, anisotropic_data(), lambda inst: require(difference_bound_holds(inst)))


@pytest.mark.negative_control(FISHER.id)
def test_fisher_negative_control():
    """Broken variant: the unregularised Fisher direction (ridge ignored) on anisotropic data; the
    claim's probe_evaluate (the ridge bound) and the difference-criterion bound accept their own
    directions on the same data and reject it."""
    inst = {"X": np.vstack([np.array([3.0, 2]) + s for s in ([5, 0], [-5, 0], [0, 1], [0, -1])]
                           + [np.array([0.0, 0]) + s for s in ([5, 0], [-5, 0], [0, 1], [0, -1])]),
            "y": np.repeat([1.0, -1.0], 4)}
    plain = lambda X, y, ridge: lm.fisher_direction(X, y)  # noqa: E731
    assert evaluate_fisher_ridge(inst).holds and difference_bound_holds(inst)
    rejects(evaluate_fisher_ridge, inst, direction=plain)
    rejects(difference_bound_holds, inst, direction=plain)
