"""End-to-end tests of the claims pytest plugin with pytester.

Each test writes a small claims module into a temporary project and runs pytest on it in
a subprocess (claims register themselves in a process-wide registry, so every run needs
a fresh interpreter).
"""

from __future__ import annotations

import json
import textwrap

import pytest

from claims.framework.schema import validate_report

pytest_plugins = ["pytester"]

HEADER = """
import numpy as np
import pytest
from hypothesis import strategies as st
from claims.framework.checks import inconclusive, property_check, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register

def evaluate_square(inst):
    x = float(inst["x"])
    return Evaluation(holds=x * x >= x, figures={"x": x})
"""

GOOD = HEADER + """
OK = register(Claim(id="toy-verified", paper_ref="Eq. (1)", statement="x^2 + 1 > 0"))
SQ = register(Claim(id="toy-erratum", paper_ref="Eq. (2)", statement="x^2 >= x for all real x",
    expected_verdict="erratum", correction="x^2 >= x for x outside (0, 1)",
    counterexample_summary="x = 1/2", instance_arrays=("x",), evaluate=evaluate_square))
GAP = register(Claim(id="toy-gap", paper_ref="Lemma 1", statement="x^2 >= 0",
    expected_verdict="gap", correction="the proof writes x^2 = |x| x, which needs x >= 0"))

@pytest.mark.claim("toy-verified", kind="property")
def test_ok(record_property):
    "x^2 + 1 > 0 on integers."
    property_check(record_property, st.integers(-100, 100), lambda x: require(x * x + 1 > 0))
    record_property("fig:answer", 42)

@pytest.mark.negative_control("toy-verified")
def test_ok_control():
    assert not (0 * 0 - 1 > 0)

@pytest.mark.claim("toy-erratum", kind="property", form="printed")
def test_square_printed(record_property):
    "printed"
    found = search_counterexample(record_property, SQ,
        st.fractions(0, 2, max_denominator=4).map(lambda q: {"x": np.array(float(q))}))
    assert SQ.evaluate(found).holds

@pytest.mark.claim("toy-erratum", kind="symbolic", form="corrected")
def test_square_corrected():
    "corrected"
    assert all(x * x >= x for x in (-2.0, 0.0, 1.0, 3.0))

@pytest.mark.negative_control("toy-erratum")
def test_square_control():
    assert not all(x * x >= 2 * x for x in (1.0,))

@pytest.mark.claim("toy-gap", kind="numerical")
def test_gap_statement():
    "statement"
    assert all(x * x >= 0 for x in (-1.0, 0.0, 2.0))

@pytest.mark.claim("toy-gap", kind="numerical", form="proof-step")
def test_gap_step():
    "step"
    assert (-2.0) ** 2 == abs(-2.0) * (-2.0)

@pytest.mark.negative_control("toy-gap")
def test_gap_control():
    assert not ((-1.0) ** 3 >= 0)
"""


@pytest.fixture
def project(pytester):
    pytester.makeini("[pytest]\nxfail_strict = true\njunit_family = xunit1\n")
    return pytester


def run(project, source: str, *args: str):
    project.makepyfile(claim_toy=textwrap.dedent(source))
    return project.runpytest_subprocess("-p", "claims.framework.plugin", "claim_toy.py", *args)


def load_report(project) -> dict:
    return json.loads((project.path / "reports" / "claims.json").read_text())


def test_end_to_end_report(project):
    result = run(project, GOOD)
    assert result.ret == 0, result.stdout.str()
    report = load_report(project)
    validate_report(report)
    verdicts = {c["id"]: c["verdict"] for c in report["claims"]}
    assert verdicts == {"toy-verified": "verified", "toy-erratum": "erratum", "toy-gap": "gap"}
    erratum = next(c for c in report["claims"] if c["id"] == "toy-erratum")
    assert erratum["counterexample"]["file"] == "reports/counterexamples/toy-erratum.npz"
    assert erratum["correction"] == "x^2 >= x for x outside (0, 1)"
    assert (project.path / "reports" / "counterexamples" / "toy-erratum.npz").is_file()
    verified = next(c for c in report["claims"] if c["id"] == "toy-verified")
    assert verified["figures"] == {"answer": 42.0, "negative_controls_rejected": 1.0}
    assert verified["checks"][0]["examples"] > 0
    assert report["profile"] == "ci"
    md = (project.path / "reports" / "claims.md").read_text()
    order = [md.index(h) for h in ("## Summary", "## Errata", "## Assumption probes", "## Figures")]
    assert order == sorted(order)
    junit = (project.path / "reports" / "junit.xml").read_text()
    assert 'name="fig:answer"' in junit


def test_counterexample_is_shrunk(project):
    run(project, GOOD)
    import numpy as np

    saved = np.load(project.path / "reports" / "counterexamples" / "toy-erratum.npz")
    assert 0 < float(saved["x"]) < 1
    assert float(saved["x"]) == 0.5  # Hypothesis shrinks fractions towards simple ones


def test_verdict_change_fails_the_run(project):
    changed = GOOD.replace('statement="x^2 + 1 > 0"))', 'statement="x^2 + 1 > 0", expected_verdict="gap", '
                           'correction="c"))')
    result = run(project, changed)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*MISMATCH toy-verified: verdict 'verified', recorded 'gap'*"])


def test_printed_form_that_passes_is_an_error(project):
    # make the printed statement true: x^2 >= x - 1 everywhere, so the strict xfail passes
    passing = GOOD.replace("return Evaluation(holds=x * x >= x", "return Evaluation(holds=x * x >= x - 1")
    result = run(project, passing)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*toy-erratum: verdict 'refuted', recorded 'erratum'*"])


def test_missing_negative_control_fails(project):
    result = run(project, GOOD.replace('@pytest.mark.negative_control("toy-gap")', ""))
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*toy-gap: no negative control passed*"])


def test_unknown_claim_id_is_a_usage_error(project):
    result = run(project, GOOD + '\n@pytest.mark.claim("nope", kind="symbolic")\ndef test_x():\n    pass\n')
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown claim id 'nope'*"])


def test_inconclusive_check(project):
    source = GOOD.replace('''def test_gap_statement():
    "statement"
''', '''def test_gap_statement():
    "statement"
    inconclusive("sympy returned None")
''').replace('expected_verdict="gap", correction="the proof', 'expected_verdict="inconclusive", correction="the proof')
    result = run(project, source)
    assert result.ret == 0, result.stdout.str()
    verdicts = {c["id"]: c["verdict"] for c in load_report(project)["claims"]}
    assert verdicts["toy-gap"] == "inconclusive"


def test_two_ci_runs_give_identical_verdicts(project):
    run(project, GOOD)
    first = load_report(project)
    saved_first = (project.path / "reports" / "counterexamples" / "toy-erratum.npz").read_bytes()
    run(project, GOOD)
    second = load_report(project)
    strip = lambda r: [(c["id"], c["verdict"], [k["examples"] for k in c["checks"]]) for c in r["claims"]]  # noqa: E731
    assert strip(first) == strip(second)
    assert saved_first == (project.path / "reports" / "counterexamples" / "toy-erratum.npz").read_bytes()


def test_no_report_option(project):
    result = run(project, GOOD, "--no-claims-report")
    assert result.ret == 0
    assert not (project.path / "reports" / "claims.json").exists()


def test_unknown_profile_is_a_usage_error(project, monkeypatch):
    monkeypatch.setenv("CLAIMS_PROFILE", "fast")
    result = run(project, GOOD)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*CLAIMS_PROFILE must be one of dev, ci, thorough; got 'fast'*"])


def test_profile_recorded_in_report(project, monkeypatch):
    monkeypatch.setenv("CLAIMS_PROFILE", "dev")
    assert run(project, GOOD).ret == 0
    assert load_report(project)["profile"] == "dev"
