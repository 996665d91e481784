"""The verdict rules of claims.framework.verdicts, one row per rule."""

import pytest

from claims.framework.verdicts import CheckOutcome, decide, surprises


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
        ([check("xpass", "printed"), check("pass", "corrected")], "inconclusive"),
        ([check("not-found", "printed"), check("pass", "corrected")], "inconclusive"),
        ([check("pass"), check("xpass", "proof-step")], "inconclusive"),
        ([check("fail"), check("xpass", "printed")], "refuted"),
        ([], "inconclusive"),
    ],
)
def test_decide(outcomes, verdict):
    assert decide(outcomes) == verdict


def test_surprises_are_fail_xpass_and_not_found():
    outcomes = [check(o) for o in ("pass", "fail", "xfail", "xpass", "not-found", "inconclusive")]
    assert [o.outcome for o in surprises(outcomes)] == ["fail", "xpass", "not-found"]
