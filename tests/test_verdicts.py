"""The verdict rules of claims.framework.verdicts, one row per rule."""

import pytest

from claims.framework.verdicts import CheckOutcome, decide


def check(outcome, form=None, kind="numerical"):
    return CheckOutcome(kind=kind, outcome=outcome, form=form, examples=None, detail="")


@pytest.mark.parametrize(
    "outcomes, verdict",
    [
        ([check("pass"), check("pass", kind="symbolic")], "verified"),
        ([check("xfail", "printed"), check("pass", "corrected")], "erratum"),
        ([check("xfail", "printed"), check("pass")], "refuted"),
        ([check("pass"), check("xfail", "proof-step")], "gap"),
        ([check("pass"), check("inconclusive")], "inconclusive"),
        ([check("xfail", "printed"), check("pass", "corrected"), check("inconclusive")], "inconclusive"),
        ([check("fail"), check("pass")], "refuted"),
        ([check("xfail")], "inconclusive"),
        ([], "inconclusive"),
    ],
)
def test_decide(outcomes, verdict):
    assert decide(outcomes) == verdict
