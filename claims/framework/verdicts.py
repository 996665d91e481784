"""Verdict rules: from the outcomes of a claim's checks to its verdict.

| verdict      | rule                                                                  |
|--------------|-----------------------------------------------------------------------|
| inconclusive | some check was inconclusive (and none failed unexpectedly)            |
| erratum      | a printed-form check is a strict xfail, a corrected-form check passes |
| refuted      | a printed-form check is a strict xfail and no corrected form passes   |
| gap          | the statement's checks pass; a proof-step check is a strict xfail     |
| verified     | every check passes                                                    |

An unexpected failure (``fail``) gives ``refuted``; the recorded verdict of the
claim then disagrees and the run fails, which is how a change is noticed.

References:
    DESIGN.md, "Verdicts".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckOutcome:
    """One check of a claim, as the report lists it."""

    kind: str  # symbolic | numerical | property | empirical
    outcome: str  # pass | fail | xfail | inconclusive
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
    if "inconclusive" in kinds:
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
