"""Verdict rules: from the outcomes of a claim's checks to its verdict.

| verdict      | rule                                                                  |
|--------------|-----------------------------------------------------------------------|
| refuted      | some check failed unexpectedly (``fail``)                             |
| inconclusive | some check was inconclusive, or a printed form / proof step expected  |
|              | to fail passed (``xpass``), or a counterexample search found nothing  |
|              | within its budget (``not-found``)                                     |
| erratum      | a printed-form check is a strict xfail, a corrected-form check passes |
| refuted      | a printed-form check is a strict xfail and no corrected form passes   |
| gap          | the statement's checks pass; a proof-step check is a strict xfail     |
| verified     | every check passes                                                    |

An unexpected failure (``fail``) gives ``refuted``; the recorded verdict of the
claim then disagrees and the run fails, which is how a change is noticed. ``xpass`` and
``not-found`` mean the evidence for a recorded erratum, refutation or gap did not come
back: the claim is ``inconclusive`` and :func:`surprises` lists it as a mismatch whatever
its recorded verdict.

Check outcomes:

| outcome      | meaning                                                                   |
|--------------|---------------------------------------------------------------------------|
| pass         | the check passed                                                          |
| fail         | the check failed (assertion, error, setup or teardown error)              |
| xfail        | a printed form or proof step failed, as recorded                          |
| xpass        | a printed form or proof step recorded as failing passed                   |
| not-found    | a counterexample search ended without a counterexample (budget spent)     |
| inconclusive | the check could not decide (sympy's ``equals`` gave None, a budget ran out) |

References:
    docs/contracts.md, "Verdicts".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

OUTCOMES = ("pass", "fail", "xfail", "xpass", "not-found", "inconclusive")
# Outcomes that always make a run fail: the recorded evidence did not come back.
SURPRISES = ("fail", "xpass", "not-found")


@dataclass(frozen=True)
class CheckOutcome:
    """One check of a claim, as the report lists it."""

    kind: str  # symbolic | numerical | property | empirical
    outcome: str  # one of OUTCOMES
    form: str | None  # printed | corrected | proof-step | None (the statement as it stands)
    examples: int | None
    detail: str


def decide(outcomes: Sequence[CheckOutcome]) -> str:
    """The verdict implied by a claim's check outcomes (rules in the module docstring)."""
    if not outcomes:
        return "inconclusive"
    kinds = {o.outcome for o in outcomes}
    if "fail" in kinds:
        return "refuted"
    if kinds & {"inconclusive", "xpass", "not-found"}:
        return "inconclusive"
    printed_refuted = any(o.outcome == "xfail" and o.form == "printed" for o in outcomes)
    if printed_refuted:
        corrected_passes = any(o.outcome == "pass" and o.form == "corrected" for o in outcomes)
        return "erratum" if corrected_passes else "refuted"
    xfail_forms = {o.form for o in outcomes if o.outcome == "xfail"}
    if xfail_forms == {"proof-step"}:
        return "gap"
    if xfail_forms:  # an xfail of the statement itself without a printed form: undecided
        return "inconclusive"
    return "verified"


def surprises(outcomes: Sequence[CheckOutcome]) -> list[CheckOutcome]:
    """The checks whose outcome is never as recorded (``fail``, ``xpass``, ``not-found``)."""
    return [o for o in outcomes if o.outcome in SURPRISES]
