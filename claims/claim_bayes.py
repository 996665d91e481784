"""Appendix A, eqs (3)-(8): Bayes consistency of the linear loss.

Statements, as printed:
    (3)-(6)  R_l(f) = E[-y f(x)] = sum_i P(x = x_i) (1 - 2 p_i) f(x_i).
    (7)      "This value is minimized when f(x_i) -> +inf if p_i > 1/2, -inf if p_i < 1/2,"
    (8)      "or equivalently sgn(f(x_i)) = +1 if P(y_i=1|x_i) > P(y_i=-1|x_i), -1 if <,
              which is exactly Bayes optimal decision rule."
    Sec. 3   "The linear loss is ... Bayes consistent: minimizing it recovers Bayes'
              optimal decision rule."

Referee reading. R_l is linear in f, so on any distribution with an atom of positive
mass and p_i != 1/2 its infimum is -inf and is never attained: "minimized" read literally
(an arg min over all score functions) is vacuous. It can only mean a minimising sequence
(R_l(f_k) -> inf R_l), and (7)/(8) are read as conditions on sequences f_k: (7) says
f_k(x_i) -> +-inf with the Bayes sign, (8) says sgn f_k(x_i) is the Bayes decision (for
all large k). Sequences obeying (7) are minimising and obey (8) from some k on; the
converse fails: the constant sequence f_k = sgn(2p - 1) obeys (8) at every k but not (7),
so the two are not equivalent. Nor does a minimising sequence have to obey either: one
atom driven to infinity is enough, while another keeps a strictly wrong sign. That
refutes the paper's own reading of Bayes consistency (Section 3: "minimizing it recovers
Bayes' optimal decision rule"), which is also the standard one (R_l(f_k) -> inf R_l implies
the 0-1 risk tends to the Bayes risk), for the unbounded scores the paper trains. What
does hold: pointwise the loss is classification-calibrated in the sense of Bartlett,
Jordan & McAuliffe (for p != 1/2 the best wrong-sign conditional risk, 0, exceeds the
infimum, -inf), and over bounded scores |f| <= B the minimiser exists, is unique on
informative atoms, and is B times the Bayes rule, so there minimising does recover it.
Their theorem turning calibration into consistency assumes a loss bounded below, which
the linear loss is not; that is where the unbounded case escapes.

References:
    Appendix A; Bartlett, Jordan & McAuliffe (2006) on classification calibration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import Phase
from hypothesis import strategies as st

from claims.framework.checks import (
    assert_sympy_zero,
    find_failing,
    property_check,
    rejects,
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
# Counterexample searches skip Hypothesis's explain phase, which re-runs a shrunk failure
# a hundred times to annotate it (the report does not use the annotation).
SEARCH = {"phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)}

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
def score_sequences(draw, *, max_atoms: int = 4, bounded_atoms: bool = False) -> dict[str, np.ndarray]:
    """Affine score sequences f_k = k * a + c on a drawn distribution.

    The sequence's limit behaviour is exact: R_l(f_k) = k (slope @ a) + slope @ c, and
    sgn f_k(x_i) -> sgn a_i (or sgn c_i where a_i = 0). With ``bounded_atoms`` a coin per
    atom sets a_i = 0 (f_k(x_i) = c_i stays bounded), which shrinks towards bounded atoms.
    Shrinks towards small integers.
    """
    dist = draw(distributions(max_atoms=max_atoms))
    n = dist["px"].size
    ints = st.lists(st.integers(-3, 3), min_size=n, max_size=n)
    a = np.array(draw(ints), float)
    if bounded_atoms:
        a *= np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), float)
    return {**dist, "a": a, "c": np.array(draw(ints), float)}


@st.composite
def polynomial_sequences(draw, *, max_atoms: int = 4, degree: int = 2,
                         obey_eq7: bool = False) -> dict[str, np.ndarray]:
    """Score sequences f_k(x_i) = sum_j C[i, j] k^j (C small integers, j <= degree) on a drawn
    distribution; nothing ties C to the Bayes signs. Shrinks towards C = 0 on one atom.

    With ``obey_eq7`` the sequence obeys (7) by construction: on every informative atom the
    leading term is drawn (degree 1..``degree``, coefficient 1..3 times the Bayes sign) and the
    terms above it are 0, so f_k(x_i) -> +-inf with the Bayes sign; the lower terms stay free
    (they set where f_k crosses 0). Shrinks towards f_k(x_i) = sgn(2 p_i - 1) k.
    """
    dist = draw(distributions(max_atoms=max_atoms))
    n = dist["px"].size
    rows = st.lists(st.integers(-3, 3), min_size=degree + 1, max_size=degree + 1)
    C = np.array(draw(st.lists(rows, min_size=n, max_size=n)), float)
    if obey_eq7:
        for i in np.flatnonzero(_informative(dist["px"], dist["p"])):
            lead = draw(st.integers(1, degree))
            C[i, lead] = bayes_rule(dist["p"][i]) * draw(st.integers(1, 3))
            C[i, lead + 1:] = 0.0
    return {**dist, "C": C}


def _informative(px: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Atoms where the Bayes rule is determined: positive mass and p != 1/2."""
    return (px > 0) & (p != 0.5)


# ---------------------------------------------------------------------------------------
# The printed statements as predicates on an instance.
# ---------------------------------------------------------------------------------------
def eq6_risk(px: np.ndarray, p: np.ndarray, f: np.ndarray, *, sign: float = 1.0) -> float:
    """Eq. (6) as printed: sum_i P(x = x_i) (1 - 2 p_i) f(x_i).

    ``sign`` multiplies (1 - 2 p_i): 1 is (6); -1 is the sign slip (2 p_i - 1) that the negative
    control feeds to the checks."""
    return float(np.sum(px * sign * (1 - 2 * p) * f))


def limiting_signs(inst) -> np.ndarray:
    """sgn f_k(x_i) for all large k, f_k = k a + c: sgn a_i, or sgn c_i where a_i = 0 (0: a tie)."""
    return np.where(inst["a"] != 0, np.sign(inst["a"]), np.sign(inst["c"]))


def obeys_eq7(inst) -> bool:
    """(7) for f_k = k a + c: on informative atoms f_k(x_i) -> +inf if p_i > 1/2, -inf if < 1/2."""
    keep = _informative(inst["px"], inst["p"])
    return bool(np.all(np.sign(inst["a"][keep]) == bayes_rule(inst["p"][keep])))


def obeys_eq8_eventually(inst, *, at_k: int | None = None) -> bool:
    """(8) for f_k = k a + c: on informative atoms sgn f_k(x_i) is the Bayes decision for all large k.

    ``at_k`` (a broken variant for the negative control) reads (8) at that one k instead of for
    all large k."""
    keep = _informative(inst["px"], inst["p"])
    signs = limiting_signs(inst) if at_k is None else np.sign(at_k * inst["a"] + inst["c"])
    return bool(np.all(signs[keep] == bayes_rule(inst["p"][keep])))


def evaluate_eq8(inst) -> Evaluation:
    """(7) 'or equivalently' (8), for the sequence f_k = k a + c: it obeys (7) exactly when it obeys (8)."""
    obeys7, obeys8 = obeys_eq7(inst), obeys_eq8_eventually(inst)
    return Evaluation(holds=obeys7 == obeys8, figures={"obeys_eq7": obeys7, "obeys_eq8": obeys8})


def evaluate_eq8_corrected(inst, *, at_k: int | None = None) -> Evaluation:
    """Corrected: a sequence f_k = k a + c obeying (7) obeys (8) for all large k (``at_k``: see
    obeys_eq8_eventually)."""
    obeys7, obeys8 = obeys_eq7(inst), obeys_eq8_eventually(inst, at_k=at_k)
    return Evaluation(holds=(not obeys7) or obeys8, figures={"obeys_eq7": obeys7, "obeys_eq8": obeys8})


def sequence_limits(inst) -> tuple[bool, np.ndarray]:
    """For f_k = k a + c: (is the sequence minimising?, limiting signs sgn f_k(x_i))."""
    slope = risk_slope(inst["px"], inst["p"])
    growth = slope @ inst["a"]
    # With a finite infimum every atom has zero slope, R_l = 0 and every sequence is minimising.
    minimising = growth < 0 if np.isinf(infimum_risk(inst["px"], inst["p"])) else True
    return bool(minimising), limiting_signs(inst)


def evaluate_bayes_consistency(inst) -> Evaluation:
    """Every minimising sequence ends up deciding as the Bayes rule on every informative atom.

    Only a strictly wrong limiting sign counts as a failure: a tie (score 0) could be broken
    either way by a classifier, so a counterexample must show a wrong decision. The figure
    ``excess_01_risk`` is the 0-1 risk the wrong atoms add to the Bayes risk in the limit.
    """
    minimising, signs = sequence_limits(inst)
    keep = _informative(inst["px"], inst["p"])
    wrong = keep & (signs == -bayes_rule(inst["p"]))
    excess = float(np.sum(inst["px"][wrong] * np.abs(2 * inst["p"][wrong] - 1)))
    return Evaluation(holds=(not minimising) or not np.any(wrong),
                      figures={"minimising": minimising, "wrong_sign_atoms": int(np.sum(wrong)),
                               "excess_01_risk": excess})


def bounded_minimiser_is_bayes(inst, bound: float = 2.0, *, labels_swapped: bool = False) -> bool:
    """The LP minimiser of R_l over |f| <= B equals B sgn(2p - 1) on informative atoms.

    ``labels_swapped`` (a broken variant for the negative control) minimises the risk of the loss
    l(u) = +u instead, i.e. R_l with p -> 1 - p."""
    keep = _informative(inst["px"], inst["p"])
    f_star = bounded_risk_minimiser(inst["px"], 1 - inst["p"] if labels_swapped else inst["p"], bound)
    # 1e-9 * B: the LP optimum is a vertex of the box, which HiGHS returns exactly up to rounding.
    return bool(np.allclose(f_star[keep], bound * bayes_rule(inst["p"][keep]), atol=1e-9 * bound))


def evaluate_bayes_bounded(inst, *, labels_swapped: bool = False) -> Evaluation:
    """Corrected (i) on the instance's distribution: over |f| <= 2 minimising R_l gives 2 x the Bayes rule
    (``labels_swapped``: see bounded_minimiser_is_bayes)."""
    return Evaluation(holds=bounded_minimiser_is_bayes(inst, labels_swapped=labels_swapped))


# Arrays of this module's instances (shapes and meaning; `list` and `show` print them).
ATOM_ARRAYS = {
    "px": "(m,) probabilities P(x = x_i) of the m atoms of the input distribution",
    "p": "(m,) conditional probabilities p_i = P(y = 1 | x = x_i)",
    "a": "(m,) slope of the score sequence f_k(x_i) = k a_i + c_i",
    "c": "(m,) offset of the score sequence f_k(x_i) = k a_i + c_i",
}


EQ6 = register(Claim(
    id="eq-6-risk-identity",
    paper_ref="Eq. (6)",
    statement=r"$R_l(f) = E[-y f(x)] = \sum_i [P(x_i, y=1)(-f(x_i)) + P(x_i, y=-1) f(x_i)] = \sum_i "
              r"P(x=x_i)[p_i(-f(x_i)) + (1-p_i) f(x_i)] = \sum_i P(x=x_i)(1-2p_i) f(x_i)$ (eqs (3)-(6))",
    quote=r"$$R_l(f) = E_{\mathbf{x} \in \mathcal{X}, y \in \mathcal{Y}}[-yf(\mathbf{x})] \quad (3)$$ $$= \sum_i "
          r"[P(\mathbf{x} = \mathbf{x}_i, y = 1) \times (-f(\mathbf{x}_i)) + P(\mathbf{x} = \mathbf{x}_i, y = -1) "
          r"\times f(\mathbf{x}_i)] \quad (4)$$ $$= \sum_i P(\mathbf{x} = \mathbf{x}_i)[p_i \times "
          r"(-f(\mathbf{x}_i)) + (1 - p_i) \times f(\mathbf{x}_i)] \quad (5)$$ $$= \sum_i P(\mathbf{x} = "
          r"\mathbf{x}_i)(1 - 2p_i)f(\mathbf{x}_i) \quad (6)$$",
    reading=r"Read for a distribution on finitely many atoms $x_i$ with $p_i = P(y = 1 \mid x = x_i)$: the "
            r"equalities are checked symbolically per atom and (3) also by Monte Carlo.",
))
EQ7 = register(Claim(
    id="eq-7-minimising-sequences",
    paper_ref="Eq. (7)",
    statement=r"$R_l(f)$ is minimized when $f(x_i) \to +\infty$ if $p_i > 1/2$ and $f(x_i) \to -\infty$ if $p_i < "
              r"1/2$.",
    quote=r"This value is minimized when $$f(\mathbf{x}_i) \rightarrow \begin{cases} +\infty & \text{if } p_i > "
          r"\frac{1}{2} \\ -\infty & \text{if } p_i < \frac{1}{2} \end{cases}, \quad (7)$$",
    reading=r"$R_l$ is linear in $f$, so its infimum is $-\infty$ and never attained; 'minimized when' is read for "
            r"sequences $f_k$: one obeying (7) on every atom with $P(x_i) > 0$ and $p_i \neq 1/2$ is minimising "
            r"($R_l(f_k) \to \inf R_l$), and, as the argument uses it, every minimising sequence obeys (7).",
    expected_verdict="gap",
    correction=r"Sequences obeying (7) do drive $R_l$ to its infimum ($-\infty$), but the infimum is never "
               r"attained (no minimiser exists) and the converse fails: a minimising sequence need not obey (7) at "
               r"every atom ($f_k = (k, 0)$ on two atoms with $p = (1, 1)$ is minimising). The Bayes-consistency "
               r"conclusion needs the converse; see appendix-a-bayes-consistency. At $p_i = 1/2$ the atom "
               r"contributes 0 for every $f$, and (7) rightly says nothing.",
))
EQ8 = register(Claim(
    id="eq-8-sign-rule",
    paper_ref="Eq. (8)",
    statement=r"(7) holds, 'or equivalently' $\mathrm{sgn}(f(x_i)) = +1$ if $P(y=1 \mid x_i) > P(y=-1 \mid x_i)$ "
              r"and $-1$ if $<$. Read for a sequence $f_k$ (the only reading in which (7) means anything): $f_k$ "
              r"obeys (7) exactly when $\mathrm{sgn} f_k(x_i)$ is the Bayes decision for all large $k$.",
    quote=r"or equivalently $$\text{sgn}(f(\mathbf{x}_i)) = \begin{cases} +1 & \text{if } P(y_i = 1|\mathbf{x}_i) "
          r"> P(y_i = -1|\mathbf{x}_i) \\ -1 & \text{if } P(y_i = 1|\mathbf{x}_i) < P(y_i = -1|\mathbf{x}_i) "
          r"\end{cases}, \quad (8)$$ which is exactly Bayes optimal decision rule.",
    reading=r"'Equivalently' is read for sequences $f_k$: $f_k$ obeys (7) exactly when, for all large $k$, "
            r"$\mathrm{sgn} f_k(x_i)$ is the Bayes decision on every atom with $P(x_i) > 0$ and $p_i \neq 1/2$ "
            r"(checked on affine sequences $f_k = k a + c$).",
    expected_verdict="erratum",
    correction=r"(7) implies (8) for all large $k$ (a sequence with $f_k(x_i) \to \pm\infty$ with the Bayes sign "
               r"has the Bayes sign on every atom with $p_i \neq 1/2$ from some $k$ on), but (8) does not imply "
               r"(7): the constant sequence $f_k = \mathrm{sgn}(2p - 1)$ obeys (8) at every $k$, stays bounded, "
               r"and has finite risk, while $\inf R_l = -\infty$ whenever some atom of positive mass has $p_i \neq "
               r"1/2$.",
    counterexample_summary="one atom of mass 1 with p = 0 and the constant sequence f_k = -1 (a = 0, c = -1): "
                           "it obeys (8) at every k but not (7) (f_k stays bounded; R_l = 1 > inf R_l = -inf)",
    instance_arrays=("px", "p", "a", "c"),
    array_docs=ATOM_ARRAYS,
    evaluate=evaluate_eq8,
    probe_evaluate=evaluate_eq8_corrected,
))


BAYES = register(Claim(
    id="appendix-a-bayes-consistency",
    paper_ref="Appendix A",
    statement=r"The linear loss is Bayes consistent: minimizing $R_l$ recovers Bayes' optimal decision rule (8) "
              r"(Appendix A; Section 3). Read as the paper does, for unbounded scores: every minimising sequence "
              r"($R_l(f_k) \to \inf R_l$) ends up deciding as the Bayes rule.",
    quote="The linear loss is also a suitable classification loss, as it is Bayes consistent (see Section A): "
          "minimizing it recovers Bayes’ optimal decision rule.",
    reading=r"Read for unbounded scores, as the paper trains them: every minimising sequence ($R_l(f_k) \to \inf "
            r"R_l$) has, for all large $k$, $\mathrm{sgn} f_k(x_i)$ equal to the Bayes decision on every atom with "
            r"$P(x_i) > 0$ and $p_i \neq 1/2$; only a strictly wrong sign counts as a failure.",
    expected_verdict="erratum",
    correction=r"Unbounded scores: false, in the paper's reading and in the standard sense ($R_l(f_k) \to \inf "
               r"R_l$ does not force the 0-1 risk to the Bayes risk), since $R_l$ is unbounded below and a "
               r"minimising sequence may keep a strictly wrong sign on an atom. Corrected: (i) over bounded scores "
               r"$|f| \leq B$ the minimiser of $R_l$ exists, is unique on atoms with $P(x_i) > 0$ and $p_i \neq "
               r"1/2$, and equals $B\, \mathrm{sgn}(2p_i - 1)$, the Bayes rule, so minimising recovers it; (ii) "
               r"pointwise the linear loss is classification-calibrated (Bartlett, Jordan & McAuliffe): for $p "
               r"\neq 1/2$ the infimum of $(1-2p)a$ over wrong-sign scores is $0 > -\infty$ = the infimum over all "
               r"scores. Their calibration-implies-consistency theorem needs a loss bounded below, which this one "
               r"is not.",
    counterexample_summary="three atoms of mass 1/3 with p = (0, 0, 0): f_k = (0, 1, -k) is minimising "
                           "(R_l = -k/3 -> -inf) but keeps the strictly wrong sign +1 on the second atom, where "
                           "Bayes says -1 (excess 0-1 risk 1/3 in the limit)",
    instance_arrays=("px", "p", "a", "c"),
    array_docs=ATOM_ARRAYS,
    evaluate=evaluate_bayes_consistency,
    probe_evaluate=evaluate_bayes_bounded,
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


def _sign_slipped_eq6(px, p, f):
    """(6) with the sign slip (2 p_i - 1) for (1 - 2 p_i)."""
    return eq6_risk(px, p, f, sign=-1.0)


@pytest.mark.negative_control(EQ6.id)
def test_eq6_negative_control():
    """Broken variant: (6) with (2 p_i - 1) for (1 - 2 p_i) (eq6_risk(sign=-1)); the Monte Carlo and
    the joint-risk checks, which accept (6) itself, reject it."""
    inst = {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])}
    assert monte_carlo_matches_eq6(eq6_risk) and eq6_matches_joint(eq6_risk, inst)
    rejects(monte_carlo_matches_eq6, _sign_slipped_eq6)
    rejects(eq6_matches_joint, _sign_slipped_eq6, inst)


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


def eq7_sufficiency_and_no_minimiser(inst, *, sign: float = 1.0) -> bool:
    """Along f_k = k d, d = ``sign`` sgn(2p - 1) (sign 1: the direction (7) prescribes), R_l decreases
    without bound; and (when inf R_l = -inf) a step along d from a finite f lowers R_l, so no
    finite f attains the infimum."""
    def direction(p_):
        return sign * bayes_rule(p_)
    if not obeys_eq7_and_reaches_infimum(direction, inst):
        return False
    if np.isinf(infimum_risk(inst["px"], inst["p"])):
        f0 = np.zeros_like(inst["p"])  # any finite f: moving along the Bayes signs lowers R_l
        stepped = expected_risk(inst["px"], inst["p"], f0 + direction(inst["p"]))
        return stepped < expected_risk(inst["px"], inst["p"], f0)
    return True


@pytest.mark.claim(EQ7.id, kind="property")
def test_eq7_property_sufficiency_and_no_minimiser(record_property):
    """Sequences obeying (7) are minimising, and no finite f attains the infimum."""
    property_check(record_property, distributions(), lambda inst: require(eq7_sufficiency_and_no_minimiser(inst)))


# Informative probabilities for the atom that drives a minimising sequence: away from 1/2, so
# the coefficient that makes the sequence minimising stays a small number.
_DRIVING_P = st.sampled_from([0.0, 0.1, 0.25, 0.75, 0.9, 1.0])


@st.composite
def minimising_sequences(draw, *, max_atoms: int = 4) -> dict[str, np.ndarray]:
    """Affine score sequences f_k = k a + c that are minimising by construction (the domain of the
    proof step "every minimising sequence obeys (7)").

    At least two atoms; atom 0 is informative and driven along its Bayes sign with a coefficient
    m large enough that R_l(f_k) = k (slope @ a) + const has slope @ a <= -|slope_0| < 0; the
    other atoms' a_i, and c, are free small integers (``score_sequences``' ranges). Nothing ties
    the other atoms to (7). Shrinks towards two atoms with p = (0, 0), a = (-m, 0), c = 0.
    """
    dist = draw(distributions(min_atoms=2, max_atoms=max_atoms))
    p = dist["p"].copy()
    p[0] = draw(_DRIVING_P)
    n = p.size
    ints = st.lists(st.integers(-3, 3), min_size=n, max_size=n)
    a = np.array(draw(ints), float)
    slope = risk_slope(dist["px"], p)
    rest = float(np.sum(np.abs(slope[1:] * a[1:])))
    # ceil(.) + 1: slope @ a <= rest - (rest/|slope_0| + 1)|slope_0| = -|slope_0|, a margin of a
    # whole |slope_0| (>= 1/122: mass >= 1/61, |1 - 2 p_0| >= 1/2) over the rounding of these
    # <= 4 products (~1e-16).
    a[0] = bayes_rule(p[0]) * (math.ceil(rest / abs(slope[0])) + 1)
    return {"px": dist["px"], "p": p, "a": a, "c": np.array(draw(ints), float)}


def violates_eq7(inst) -> bool:
    """A minimising affine sequence f_k = k a + c that does not obey (7) at some informative atom."""
    minimising, _ = sequence_limits(inst)
    return minimising and not obeys_eq7(inst)


@pytest.mark.claim(EQ7.id, kind="property", form="proof-step")
def test_eq7_converse_as_used(record_property):
    """Proof step: every minimising sequence obeys (7) at every atom with p != 1/2 (searched among
    minimising sequences)."""
    # max_examples=100: a draw violates the step as soon as one atom besides the driving one is
    # informative (p != 1/2, about 13/14 of the draws of _PROBABILITIES) with a_i not of the
    # Bayes sign (4 of the 7 values -3..3): about 1/2 per draw with one such atom, and 1562 of
    # 2000 draws (78%) measured; 100 draws miss with probability ~0.22^100. The first draw
    # Hypothesis tries (every integer 0, p_1 = 0) is one.
    found = find_failing(record_property, minimising_sequences(), violates_eq7, max_examples=100, **SEARCH)
    assert not violates_eq7(found), f"minimising sequence violating (7): {found}"


@pytest.mark.negative_control(EQ7.id)
def test_eq7_negative_control():
    """Broken variant: sequences along the anti-Bayes direction -sgn(2p - 1) (sign=-1) in the
    sufficiency-and-no-minimiser check, which accepts the Bayes direction on the same distribution."""
    inst = {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])}
    assert eq7_sufficiency_and_no_minimiser(inst)
    rejects(eq7_sufficiency_and_no_minimiser, inst, sign=-1.0)


# ---------------------------------------------------------------------------------------
# Eq. (8): not equivalent to (7); (7) implies (8) eventually.
# ---------------------------------------------------------------------------------------
@st.composite
def eq8_sequences(draw, *, max_atoms: int = 4) -> dict[str, np.ndarray]:
    """Affine score sequences f_k = k a + c that obey (8) for all large k by construction (the side
    of the equivalence whose converse, (8) => (7), is in question).

    Per atom a coin says whether f_k(x_i) stays bounded (a_i = 0, c_i = m sgn(2 p_i - 1)) or
    grows (a_i = m sgn(2 p_i - 1), c_i free), m in 1..3; atoms with p_i = 1/2 are free. Whether
    (7) also holds is left to the draw. Shrinks towards one atom with p = 0, a = 0, c = -1.
    """
    dist = draw(distributions(max_atoms=max_atoms))
    n = dist["px"].size
    a = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), float)
    c = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), float)
    for i in np.flatnonzero(_informative(dist["px"], dist["p"])):
        bounded = not draw(st.booleans())  # booleans shrink to False: towards a bounded atom
        m = bayes_rule(dist["p"][i]) * draw(st.integers(1, 3))
        a[i], c[i] = (0.0, m) if bounded else (m, c[i])
    return {**dist, "a": a, "c": c}


@pytest.mark.claim(EQ8.id, kind="property", form="printed")
def test_eq8_printed_equivalence(record_property):
    """Printed: a sequence f_k = k a + c obeys (7) exactly when it obeys (8); searched among sequences
    obeying (8) and shrunk."""
    # max_examples=100: a draw is a counterexample as soon as one informative atom (p != 1/2,
    # about 13/14 of the draws) takes the bounded branch of its coin (1/2): 1506 of 2000 draws
    # (75%) measured, so 100 draws miss with probability ~0.25^100. The first draw Hypothesis
    # tries (one atom, p = 0, bounded) is one.
    found = search_counterexample(record_property, EQ8, eq8_sequences(), max_examples=100, **SEARCH)
    assert EQ8.evaluate(found).holds


def obeys_eq7_polynomial(inst, decision=bayes_rule) -> bool:
    """(7) for f_k(x_i) = sum_j C[i, j] k^j: on informative atoms the leading term has degree >= 1
    and the sign ``decision(p_i)`` (the Bayes sign), i.e. f_k(x_i) -> +-inf with that sign."""
    for coeffs, p_i in zip(inst["C"][_informative(inst["px"], inst["p"])],
                           inst["p"][_informative(inst["px"], inst["p"])]):
        nonzero = np.flatnonzero(coeffs)
        if nonzero.size == 0 or nonzero[-1] == 0 or np.sign(coeffs[nonzero[-1]]) != decision(p_i):
            return False
    return True


def past_last_root(coeffs: np.ndarray) -> int:
    """The smallest integer k >= 1 beyond every real root of sum_j coeffs[j] k^j (numpy roots)."""
    trimmed = np.trim_zeros(coeffs[::-1], "f")  # highest degree first
    if trimmed.size <= 1:
        return 1
    roots = np.roots(trimmed)
    # 1e-9: a real root of a small-integer polynomial of degree <= 2 carries ~1e-15 imaginary
    # rounding; ceil(root + 1e-9) + 1 stays past a root computed a hair below an integer.
    real = roots[np.abs(roots.imag) < 1e-9].real
    return int(max(1, np.ceil(real.max() + 1e-9) + 1)) if real.size else 1


def eventual_sign_holds(inst, criterion=obeys_eq7_polynomial, *, past_roots: bool = True) -> bool:
    """If the sequence obeys (7) (by ``criterion``), sgn f_k(x_i) is the Bayes decision at every
    probed integer k past the last real root, f_k evaluated exactly in integer arithmetic.

    ``past_roots=False`` (a broken variant for the negative control) probes from k = 1 instead,
    i.e. reads (8) at every k rather than for all large k."""
    if not criterion(inst):
        return True
    keep = _informative(inst["px"], inst["p"])
    start = max((past_last_root(c) for c in inst["C"][keep]), default=1) if past_roots else 1
    for k in (start + int(m) for m in (0, *inst["offsets"])):
        for coeffs, p_i in zip(inst["C"][keep], inst["p"][keep]):
            value = sum(int(c) * k**j for j, c in enumerate(coeffs))  # exact: Python integers
            if np.sign(value) != bayes_rule(p_i):
                return False
    return True


@st.composite
def probed_polynomial_sequences(draw, *, obey_eq7: bool = False):
    """``polynomial_sequences`` (``obey_eq7``: constructed to obey (7)) plus three offsets in
    [0, 10^6] at which k is probed past the last root."""
    inst = draw(polynomial_sequences(obey_eq7=obey_eq7))
    return {**inst, "offsets": np.array(draw(st.lists(st.integers(0, 10**6), min_size=3, max_size=3)))}


@pytest.mark.claim(EQ8.id, kind="property", form="corrected")
def test_eq8_corrected_eventual_sign(record_property):
    """Corrected: any polynomial sequence obeying (7) has the Bayes sign at probed k past its last root
    (each example: a free drawn sequence and one constructed to obey (7))."""
    obeying = 0

    def body(pair):
        nonlocal obeying
        free, constructed = pair
        require(obeys_eq7_polynomial(constructed), f"the construction does not obey (7): {constructed}")
        obeying += 1 + int(obeys_eq7_polynomial(free))
        require(eventual_sign_holds(free))
        require(eventual_sign_holds(constructed))
    examples = property_check(record_property, st.tuples(probed_polynomial_sequences(),
                                                         probed_polynomial_sequences(obey_eq7=True)), body)
    record_property("fig:sequences_obeying_eq7", obeying)
    assert obeying >= examples > 0  # not vacuous: every example carries a sequence obeying (7)


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
    """Broken variants of the corrected reading "(7) implies (8) for all large k": (8) read at every k
    (the polynomial check probing from k = 1, past_roots=False; the affine evaluation at k = 1,
    at_k=1) on f_k = k - 3, which obeys (7) but has f_1 = -2 where Bayes says +1; and a (7)
    criterion with the anti-Bayes sign, which lets f_k = -k through. The correct forms accept both."""
    anti = {"px": np.array([1.0]), "p": np.array([0.9]), "C": np.array([[0.0, -1.0, 0.0]]),
            "offsets": np.array([0, 5, 10**6])}  # f_k = -k on an atom where Bayes says +1
    late = {**anti, "C": np.array([[-3.0, 1.0, 0.0]])}  # f_k = k - 3 obeys (7) but f_1 = -2
    assert eventual_sign_holds(anti) and eventual_sign_holds(late)
    rejects(eventual_sign_holds, late, past_roots=False)
    rejects(eventual_sign_holds, anti, criterion=lambda i: obeys_eq7_polynomial(i, decision=lambda q: -bayes_rule(q)))
    affine = {"px": np.array([1.0]), "p": np.array([0.9]), "a": np.array([1.0]), "c": np.array([-3.0])}
    assert evaluate_eq8_corrected(affine).holds
    rejects(evaluate_eq8_corrected, affine, at_k=1)


# ---------------------------------------------------------------------------------------
# Bayes consistency: false for unbounded scores; true with bounded scores / pointwise.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(BAYES.id, kind="property", form="printed")
def test_bayes_printed(record_property):
    """Printed: no minimising sequence ends with a strictly wrong sign on an informative atom."""
    # max_examples=200: 427 of 2000 draws of score_sequences() (21%) were counterexamples, so
    # 200 draws miss with probability ~0.79^200 < 1e-20 (15, the dev profile's budget, missed
    # with probability ~3%).
    found = search_counterexample(record_property, BAYES, score_sequences(), max_examples=200, **SEARCH)
    assert BAYES.evaluate(found).holds


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
    """Broken variant: the bounded minimiser of the wrong loss l(u) = +u (R_l with p -> 1 - p,
    labels_swapped=True) in the corrected evaluation, which accepts l(u) = -u on the same distribution."""
    inst = {"px": np.array([0.5, 0.5]), "p": np.array([0.9, 0.2])}
    assert evaluate_bayes_bounded(inst).holds
    rejects(evaluate_bayes_bounded, inst, labels_swapped=True)
