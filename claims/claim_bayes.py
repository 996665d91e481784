"""Appendix A, eqs (3)-(8): Bayes consistency of the linear loss.

Statements, as printed:
    (3)-(6)  R_l(f) = E[-y f(x)] = sum_i P(x = x_i) (1 - 2 p_i) f(x_i).
    (7)      "This value is minimized when f(x_i) -> +inf if p_i > 1/2, -inf if p_i < 1/2,"
    (8)      "or equivalently sgn(f(x_i)) = +1 if P(y_i=1|x_i) > P(y_i=-1|x_i), -1 if <,
              which is exactly Bayes optimal decision rule."
    Sec. 3   "The linear loss is ... Bayes consistent: minimizing it recovers Bayes'
              optimal decision rule."

Referee reading. R_l is linear in f, so on any distribution with an atom of positive
mass and p_i != 1/2 its infimum is -inf and is never attained. "Minimized" can then
only mean a minimising sequence (R_l(f_k) -> inf R_l). Sequences obeying (7) are
minimising, but a minimising sequence need not obey (7) at every atom, nor carry the
Bayes sign there: one atom driven to infinity is enough. (8) is not equivalent to (7):
a finite f with the Bayes sign has finite risk. With bounded scores |f| <= B the
minimiser exists, is unique on informative atoms, and is B times the Bayes rule.

References:
    Appendix A; Bartlett, Jordan & McAuliffe (2006) on classification calibration.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.framework.checks import (
    assert_sympy_zero,
    find_failing,
    property_check,
    require,
    search_counterexample,
)
from claims.framework.claim import Claim, Evaluation, register
from models.bayes_risk import (
    bayes_rule,
    bounded_risk_minimiser,
    expected_risk,
    infimum_risk,
    risk_slope,
)

# ---------------------------------------------------------------------------------------
# Instances: discrete distributions (px, p) and score vectors / score sequences.
# ---------------------------------------------------------------------------------------
_PROBABILITIES = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(0, 1)


@st.composite
def distributions(draw, *, min_atoms: int = 1, max_atoms: int = 5) -> dict[str, np.ndarray]:
    """Discrete distributions: masses ``px`` (from positive integer weights) and ``p = P(y=1|x)``.

    Cost: a few draws per atom. Shrinks towards one atom of mass 1 with p = 0.
    """
    k = draw(st.integers(min_atoms, max_atoms))
    weights = np.array(draw(st.lists(st.integers(1, 20), min_size=k, max_size=k)), dtype=float)
    p = np.array(draw(st.lists(_PROBABILITIES, min_size=k, max_size=k)), dtype=float)
    return {"px": weights / weights.sum(), "p": p}


@st.composite
def score_sequences(draw, *, max_atoms: int = 4) -> dict[str, np.ndarray]:
    """Affine score sequences f_k = k * a + c on a drawn distribution.

    The sequence's limit behaviour is exact: R_l(f_k) = k (slope @ a) + slope @ c, and
    sgn f_k(x_i) -> sgn a_i (or sgn c_i where a_i = 0). Shrinks towards small integers.
    """
    dist = draw(distributions(max_atoms=max_atoms))
    n = dist["px"].size
    ints = st.lists(st.integers(-3, 3), min_size=n, max_size=n)
    return {**dist, "a": np.array(draw(ints), float), "c": np.array(draw(ints), float)}


@st.composite
def scored_distributions(draw, *, max_atoms: int = 4) -> dict[str, np.ndarray]:
    """A distribution with one finite score vector ``f`` (small integers). Shrinks to f = 0."""
    dist = draw(distributions(max_atoms=max_atoms))
    n = dist["px"].size
    return {**dist, "f": np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), float)}


def _informative(px: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Atoms where the Bayes rule is determined: positive mass and p != 1/2."""
    return (px > 0) & (p != 0.5)


# ---------------------------------------------------------------------------------------
# The printed statements as predicates on an instance.
# ---------------------------------------------------------------------------------------
def eq6_risk(px: np.ndarray, p: np.ndarray, f: np.ndarray) -> float:
    """Eq. (6) as printed: sum_i P(x = x_i) (1 - 2 p_i) f(x_i)."""
    return float(np.sum(px * (1 - 2 * p) * f))


def satisfies_eq8(px: np.ndarray, p: np.ndarray, f: np.ndarray) -> bool:
    """sgn f(x_i) is the Bayes decision on every informative atom (eq. (8))."""
    keep = _informative(px, p)
    return bool(np.all(np.sign(f[keep]) == bayes_rule(p[keep])))


def evaluate_eq8(inst) -> Evaluation:
    """(8) 'equivalently' (7): f obeys (8) exactly when f minimises R_l (attains its infimum)."""
    px, p, f = inst["px"], inst["p"], inst["f"]
    minimises = expected_risk(px, p, f) == infimum_risk(px, p)
    obeys = satisfies_eq8(px, p, f)
    return Evaluation(holds=obeys == minimises, figures={"obeys_eq8": obeys, "attains_infimum": minimises})


def sequence_limits(inst) -> tuple[bool, np.ndarray]:
    """For f_k = k a + c: (is the sequence minimising?, limiting signs sgn f_k(x_i))."""
    slope = risk_slope(inst["px"], inst["p"])
    growth = slope @ inst["a"]
    # With a finite infimum every atom has zero slope, R_l = 0 and every sequence is minimising.
    minimising = growth < 0 if np.isinf(infimum_risk(inst["px"], inst["p"])) else True
    signs = np.where(inst["a"] != 0, np.sign(inst["a"]), np.sign(inst["c"]))
    return bool(minimising), signs


def evaluate_bayes_consistency(inst) -> Evaluation:
    """Every minimising sequence ends up with the Bayes sign on every informative atom."""
    minimising, signs = sequence_limits(inst)
    keep = _informative(inst["px"], inst["p"])
    bayes_signs = bool(np.all(signs[keep] == bayes_rule(inst["p"][keep])))
    return Evaluation(holds=(not minimising) or bayes_signs,
                      figures={"minimising": minimising, "bayes_signs": bayes_signs})


EQ6 = register(Claim(
    id="eq-6-risk-identity",
    paper_ref="Eq. (6)",
    statement="R_l(f) = E[-y f(x)] = sum_i [P(x_i, y=1)(-f(x_i)) + P(x_i, y=-1) f(x_i)] "
              "= sum_i P(x=x_i)[p_i(-f(x_i)) + (1-p_i) f(x_i)] = sum_i P(x=x_i)(1-2p_i) f(x_i)  (eqs (3)-(6))",
))
EQ7 = register(Claim(
    id="eq-7-minimising-sequences",
    paper_ref="Eq. (7)",
    statement="R_l(f) is minimized when f(x_i) -> +inf if p_i > 1/2 and f(x_i) -> -inf if p_i < 1/2.",
    expected_verdict="gap",
    correction="Sequences obeying (7) do drive R_l to its infimum (-inf), but the infimum is never "
               "attained (no minimiser exists) and the converse fails: a minimising sequence need not "
               "obey (7) at every atom (f_k = (k, 0) on two atoms with p = (1, 1) is minimising). "
               "The Bayes-consistency conclusion needs the converse; see appendix-a-bayes-consistency. "
               "At p_i = 1/2 the atom contributes 0 for every f, and (7) rightly says nothing.",
))
EQ8 = register(Claim(
    id="eq-8-sign-rule",
    paper_ref="Eq. (8)",
    statement="(7) holds, 'or equivalently' sgn(f(x_i)) = +1 if P(y=1|x_i) > P(y=-1|x_i) and -1 if <.",
    expected_verdict="erratum",
    correction="(7) implies (8) for all large k (f_k has the Bayes sign on every atom with p_i != 1/2 "
               "from some k on), but (8) does not imply (7): a finite f with the Bayes sign has finite "
               "risk, while inf R_l = -inf whenever some atom of positive mass has p_i != 1/2.",
    counterexample_summary="one atom of mass 1 with p = 0 and f = -1: f obeys (8) but R_l(f) = 1 > inf R_l = -inf",
    instance_arrays=("px", "p", "f"),
    evaluate=evaluate_eq8,
))
BAYES = register(Claim(
    id="appendix-a-bayes-consistency",
    paper_ref="Appendix A",
    statement="The linear loss is Bayes consistent: minimizing R_l recovers Bayes' optimal decision "
              "rule (8) (Appendix A; Section 3).",
    expected_verdict="erratum",
    correction="Unbounded scores: false, since R_l is unbounded below and a minimising sequence may keep "
               "the wrong sign on an atom. Corrected: (i) over bounded scores |f| <= B the minimiser of "
               "R_l exists, is unique on atoms with P(x_i) > 0 and p_i != 1/2, and equals B sgn(2p_i - 1), "
               "the Bayes rule; (ii) pointwise, the linear loss is classification-calibrated: for p != 1/2, "
               "inf over wrong-sign scores of (1-2p)a is 0 > -inf = inf over all scores.",
    counterexample_summary="two atoms of mass 1/2 with p = (0, 0): f_k = (0, -k) is minimising "
                           "(R_l = -k/2 -> -inf) but stays 0 on the first atom, where Bayes says -1",
    instance_arrays=("px", "p", "a", "c"),
    evaluate=evaluate_bayes_consistency,
))


# ---------------------------------------------------------------------------------------
# Eq. (6): the risk identity.
# ---------------------------------------------------------------------------------------
P, p, f = sp.symbols("P p f", real=True)


@pytest.mark.claim(EQ6.id, kind="symbolic")
def test_eq6_symbolic():
    """(4), (5) and (6) are the same expression per atom (sympy)."""
    eq4 = (P * p) * (-f) + (P * (1 - p)) * f  # joint probabilities P(x_i, y = +-1)
    eq5 = P * (p * (-f) + (1 - p) * f)
    eq6 = P * (1 - 2 * p) * f
    assert_sympy_zero(eq4 - eq5, "(4) - (5)")
    assert_sympy_zero(eq5 - eq6, "(5) - (6)")


def monte_carlo_matches_eq6(formula, seed: int = 0, samples: int = 200_000) -> bool:
    """Sample (x, y) and compare the empirical mean of -y f(x) (eq. (3)) with ``formula``."""
    rng = np.random.default_rng(seed)
    px = rng.dirichlet(np.ones(5))
    p_ = rng.uniform(0, 1, 5)
    f_ = rng.normal(0, 2, 5)
    atoms = rng.choice(5, size=samples, p=px)
    y = np.where(rng.uniform(size=samples) < p_[atoms], 1.0, -1.0)
    losses = -y * f_[atoms]
    # 5 standard errors: a false formula is off by O(1), a true one is within 5 se w.p. 1 - 6e-7.
    return abs(losses.mean() - formula(px, p_, f_)) < 5 * losses.std() / np.sqrt(samples)


@pytest.mark.claim(EQ6.id, kind="numerical")
def test_eq6_monte_carlo():
    """Sampled E[-y f(x)] (eq. (3)) agrees with (6) within 5 standard errors."""
    assert monte_carlo_matches_eq6(eq6_risk)


def eq6_matches_joint(formula, inst) -> bool:
    """(6) equals the risk summed over the joint distribution (eq. (4))."""
    f_ = np.arange(inst["px"].size, dtype=float) - 1.5
    # 1e-12 relative: both sides are sums of <= 5 products of O(1) numbers in float64.
    return bool(np.isclose(formula(inst["px"], inst["p"], f_), expected_risk(inst["px"], inst["p"], f_),
                           rtol=1e-12, atol=1e-12))


@pytest.mark.claim(EQ6.id, kind="property")
def test_eq6_property(record_property):
    """On generated discrete distributions, (6) equals the joint-distribution risk (4)."""
    property_check(record_property, distributions(), lambda inst: require(eq6_matches_joint(eq6_risk, inst)))


def _broken_eq6(px, p, f):
    return float(np.sum(px * (2 * p - 1) * f))  # sign of (1 - 2p) flipped


@pytest.mark.negative_control(EQ6.id)
def test_eq6_negative_control():
    """A sign-flipped (6) is rejected by the Monte Carlo and the joint-risk checks."""
    assert not monte_carlo_matches_eq6(_broken_eq6)
    assert not eq6_matches_joint(_broken_eq6, {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])})


# ---------------------------------------------------------------------------------------
# Eq. (7): sequences obeying (7) are minimising; no minimiser; p = 1/2.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ7.id, kind="symbolic")
def test_eq7_symbolic_limits():
    """Along f = k sgn(2p-1) an atom's risk term tends to -oo for p != 1/2 and is 0 at p = 1/2."""
    k, q, P_ = sp.symbols("k q P", positive=True)
    above = P_ * (1 - 2 * (sp.Rational(1, 2) + q)) * k  # p = 1/2 + q, Bayes sign +1
    below = P_ * (1 - 2 * (sp.Rational(1, 2) - q)) * (-k)  # p = 1/2 - q, Bayes sign -1
    assert sp.limit(above, k, sp.oo) == -sp.oo
    assert sp.limit(below, k, sp.oo) == -sp.oo
    assert_sympy_zero(P * (1 - 2 * sp.Rational(1, 2)) * f, "the p = 1/2 term")


def obeys_eq7_and_reaches_infimum(direction_of, inst, ks=(1.0, 1e3, 1e6)) -> bool:
    """R_l(k d) decreases without bound (slope < 0) for the direction d = direction_of(p)."""
    d = direction_of(inst["p"])
    risks = [expected_risk(inst["px"], inst["p"], k * d) for k in ks]
    if np.isinf(infimum_risk(inst["px"], inst["p"])):
        return bool(np.all(np.diff(risks) < 0))
    return bool(np.allclose(risks, 0.0))  # all atoms at p = 1/2 or without mass: R_l = 0


@pytest.mark.claim(EQ7.id, kind="numerical")
def test_eq7_numerical_sequence():
    """On a fixed distribution R_l(k sgn(2p-1)) = -k sum P|1-2p| for k up to 1e6."""
    px, p_ = np.array([0.2, 0.3, 0.5]), np.array([0.9, 0.5, 0.1])
    for k in (1.0, 10.0, 1e6):
        # 1e-12 relative: three float64 products.
        assert np.isclose(expected_risk(px, p_, k * bayes_rule(p_)), -k * np.sum(px * np.abs(1 - 2 * p_)),
                          rtol=1e-12)


@pytest.mark.claim(EQ7.id, kind="property")
def test_eq7_property_sufficiency_and_no_minimiser(record_property):
    """Sequences obeying (7) are minimising, and no finite f attains the infimum."""
    def body(inst):
        require(obeys_eq7_and_reaches_infimum(bayes_rule, inst))
        if np.isinf(infimum_risk(inst["px"], inst["p"])):
            f0 = np.zeros_like(inst["p"])  # any finite f: moving along the Bayes signs lowers R_l
            require(expected_risk(inst["px"], inst["p"], f0 + bayes_rule(inst["p"]))
                    < expected_risk(inst["px"], inst["p"], f0))
    property_check(record_property, distributions(), body)


@pytest.mark.claim(EQ7.id, kind="property", form="proof-step")
def test_eq7_converse_as_used(record_property):
    """Proof step: every minimising sequence obeys (7) at every atom with p != 1/2."""
    def violates_eq7(inst):
        minimising, _ = sequence_limits(inst)
        keep = _informative(inst["px"], inst["p"])
        obeys = np.all(np.sign(inst["a"][keep]) == bayes_rule(inst["p"][keep]))
        return minimising and not obeys
    found = find_failing(record_property, score_sequences(), violates_eq7)
    assert not violates_eq7(found), f"minimising sequence violating (7): {found}"


@pytest.mark.negative_control(EQ7.id)
def test_eq7_negative_control():
    """The sufficiency check rejects sequences with the anti-Bayes sign."""
    inst = {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])}
    assert not obeys_eq7_and_reaches_infimum(lambda p_: -bayes_rule(p_), inst)


# ---------------------------------------------------------------------------------------
# Eq. (8): not equivalent to (7); (7) implies (8) eventually.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(EQ8.id, kind="property", form="printed")
def test_eq8_printed_equivalence(record_property):
    """Printed: f obeys (8) exactly when f minimises R_l; searched and shrunk by Hypothesis."""
    found = search_counterexample(record_property, EQ8, scored_distributions())
    assert EQ8.evaluate(found).holds


def eventually_bayes_sign(inst) -> bool:
    """For f_k = k a + c with sgn a = Bayes on informative atoms, sgn f_k = Bayes for k > K."""
    a, c, p_ = inst["a"], inst["c"], inst["p"]
    keep = _informative(inst["px"], p_) & (a != 0)
    K = np.max(np.abs(c[keep]) / np.abs(a[keep]), initial=0.0) + 1.0
    return satisfies_eq8(inst["px"][keep], p_[keep], (K * a + c)[keep]) and bool(
        np.all(np.sign(a[keep]) == bayes_rule(p_[keep])))


@pytest.mark.claim(EQ8.id, kind="property", form="corrected")
def test_eq8_corrected_eventual_sign(record_property):
    """Corrected: a sequence obeying (7) (a = Bayes signs) has the Bayes sign from some k on."""
    def body(inst):
        require(eventually_bayes_sign({**inst, "a": bayes_rule(inst["p"]) * (1 + np.abs(inst["a"]))}))
    property_check(record_property, score_sequences(), body)


@pytest.mark.claim(EQ8.id, kind="symbolic", form="corrected")
def test_eq8_corrected_finite_risk():
    """Corrected: a finite f with the Bayes sign has risk -sum P|1-2p||f| > -oo (sympy)."""
    a_ = sp.symbols("a", positive=True)
    q = sp.symbols("q", positive=True)
    term = P * (1 - 2 * (sp.Rational(1, 2) + q)) * a_  # p > 1/2, f = a > 0 obeys (8)
    assert_sympy_zero(term + 2 * P * q * a_, "risk of a finite Bayes-signed score + 2Pqa")
    assert term.is_finite


@pytest.mark.negative_control(EQ8.id)
def test_eq8_negative_control():
    """The eventual-sign check rejects a sequence whose direction has the anti-Bayes sign."""
    inst = {"px": np.array([1.0]), "p": np.array([0.9]), "a": np.array([-1.0]), "c": np.array([0.0])}
    assert not eventually_bayes_sign(inst)


# ---------------------------------------------------------------------------------------
# Bayes consistency: false for unbounded scores; true with bounded scores / pointwise.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(BAYES.id, kind="property", form="printed")
def test_bayes_printed(record_property):
    """Printed: every minimising sequence ends with the Bayes sign on informative atoms."""
    found = search_counterexample(record_property, BAYES, score_sequences())
    assert BAYES.evaluate(found).holds


def bounded_minimiser_is_bayes(inst, minimiser=bounded_risk_minimiser, bound: float = 2.0) -> bool:
    """The LP minimiser of R_l over |f| <= B equals B sgn(2p - 1) on informative atoms."""
    keep = _informative(inst["px"], inst["p"])
    f_star = minimiser(inst["px"], inst["p"], bound)
    # 1e-9 * B: the LP optimum is a vertex of the box, which HiGHS returns exactly up to rounding.
    return bool(np.allclose(f_star[keep], bound * bayes_rule(inst["p"][keep]), atol=1e-9 * bound))


@pytest.mark.claim(BAYES.id, kind="numerical", form="corrected")
def test_bayes_bounded_lp():
    """Corrected (i): scipy's LP minimiser over |f| <= B is B times the Bayes rule (seeded draws)."""
    rng = np.random.default_rng(20260)
    for _ in range(50):
        k = int(rng.integers(1, 8))
        inst = {"px": rng.dirichlet(np.ones(k)), "p": rng.choice([0.0, 0.3, 0.5, 0.7, 1.0], size=k)}
        assert bounded_minimiser_is_bayes(inst)


@pytest.mark.claim(BAYES.id, kind="property", form="corrected")
def test_bayes_bounded_property(record_property):
    """Corrected (i) on generated distributions."""
    property_check(record_property, distributions(), lambda inst: require(bounded_minimiser_is_bayes(inst)))


@pytest.mark.claim(BAYES.id, kind="symbolic", form="corrected")
def test_bayes_pointwise_calibration():
    """Corrected (ii): for p > 1/2 a wrong-sign score has conditional risk >= 0 (sympy)."""
    q, a_ = sp.symbols("q a", positive=True)
    wrong_sign_risk = (1 - 2 * (sp.Rational(1, 2) + q)) * (-a_)  # p = 1/2 + q, score -a < 0
    assert wrong_sign_risk.is_nonnegative
    right_sign_risk = (1 - 2 * (sp.Rational(1, 2) + q)) * a_
    assert sp.limit(right_sign_risk, a_, sp.oo) == -sp.oo


@pytest.mark.negative_control(BAYES.id)
def test_bayes_negative_control():
    """The bounded-minimiser check rejects a minimiser of the wrong loss l(u) = +u (anti-Bayes)."""
    def anti(px, p_, bound):
        return -bounded_risk_minimiser(px, p_, bound)
    inst = {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])}
    assert not bounded_minimiser_is_bayes(inst, minimiser=anti)
