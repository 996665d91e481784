"""End-to-end tests of the claim framework on a second, toy paper, with pytester.

Each test writes a small project into a temporary folder: a package ``toyclaims`` with its
own :class:`~claims.framework.paper.Paper` (title, one assumption with a generator, an
instance rule), and a claim module; then it runs pytest on it in a subprocess (claims register
themselves in a process-wide registry, so every run needs a fresh interpreter). The framework
is used unchanged: nothing of this suite's paper is imported.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from claims.framework.schema import validate_report

pytest_plugins = ["pytester"]

PAPER = '''
import numpy as np
from hypothesis import strategies as st
from claims.framework.assumption import Assumption
from claims.framework.claim import Finding, RootCause
from claims.framework.paper import InstanceRuleError, MainResult, Paper


def generate(violate=None, **bounds):
    """x in (0, 1) (violated: x in [1, 3])."""
    if violate == "unit-interval":
        return st.fractions(1, 3, max_denominator=4).map(lambda q: {"x": np.array(float(q))})
    return st.fractions(0, 1, max_denominator=8).filter(lambda q: 0 < q < 1).map(
        lambda q: {"x": np.array(float(q))})


def rules(instance):
    if "x" in instance and np.shape(instance["x"]) != ():
        raise InstanceRuleError(f"array x must be a scalar; got shape {np.shape(instance['x'])}")


UNIT = Assumption(id="unit-interval", paper_ref="Assumption 1", statement="0 < x < 1",
                  test=lambda inst: bool(0 < float(inst["x"]) < 1), arrays=("x",), generate=generate)

CAUSES = (RootCause("square-below-one", "Squares shrink below one", "substantive",
                    "On (0, 1) squaring shrinks: x^2 < x, an open set."),
          RootCause("absolute-value", "|x| x is not x^2", "typo", "The proof drops an absolute value."))
FINDINGS = {"toy-erratum": Finding("substantive", "fails on the open interval (0, 1)", "square-below-one"),
            "toy-gap": Finding("typo", "the intended step x^2 = |x|^2 is evident", "absolute-value")}

PAPER = Paper(title="A Toy Paper on Squares", claim_package="toyclaims", assumptions=(UNIT,),
              instance_rules=rules, command="python -m toyclaims", findings=FINDINGS, root_causes=CAUSES,
              main_results=(MainResult("Squares dominate", ("toy-erratum",)),
                            MainResult("Squares are non-negative", ("toy-gap",))),
              claim_order=("toy-gap", "toy-erratum"))
'''

CLAIMS = '''
import numpy as np
import pytest
from hypothesis import strategies as st
from claims.framework.checks import inconclusive, property_check, rejects, require, search_counterexample
from claims.framework.claim import Claim, Evaluation, register
from toyclaims.paper import UNIT


def evaluate_square(inst, power=2):
    x = float(inst["x"])
    return Evaluation(holds=x ** power >= x, figures={"x": x})


def evaluate_below(inst, power=2):
    x = float(inst["x"])
    return Evaluation(holds=x ** power <= x, figures={"x": x})


SQ = register(Claim(id="toy-erratum", paper_ref="Eq. (2)", statement="x^2 >= x for all real x",
    expected_verdict="erratum", correction="x^2 <= x for 0 < x < 1",
    counterexample_summary="x = 1/2", instance_arrays=("x",), evaluate=evaluate_square,
    probe_evaluate=evaluate_below, assumptions=("unit-interval",)))
GAP = register(Claim(id="toy-gap", paper_ref="Lemma 1", statement="x^2 >= 0",
    expected_verdict="gap", correction="the proof writes x^2 = |x| x, which needs x >= 0",
    quote="$x^2 \\geq 0$", depends_on=("toy-erratum",)))


@pytest.mark.claim("toy-erratum", kind="property", form="printed")
def test_square_printed(record_property):
    "printed"
    found = search_counterexample(record_property, SQ, UNIT.satisfying())
    assert SQ.evaluate(found).holds


@pytest.mark.claim("toy-erratum", kind="property", form="corrected")
def test_square_corrected(record_property):
    "corrected"
    property_check(record_property, UNIT.satisfying(), lambda inst: require(evaluate_below(inst).holds))
    record_property("fig:answer", np.float64(0.1) + 0.2)  # a numpy scalar must cross to the xdist controller


@pytest.mark.negative_control("toy-erratum")
def test_square_control():
    "the corrected evaluation with x^1/2 for x^2 rejects x = 1/4"
    assert evaluate_below({"x": np.array(0.25)}).holds
    rejects(evaluate_below, {"x": np.array(0.25)}, power=0.5)


@pytest.mark.claim("toy-gap", kind="numerical")
def test_gap_statement():
    "statement"
    assert all(x * x >= 0 for x in (-1.0, 0.0, 2.0))


@pytest.mark.claim("toy-gap", kind="numerical", form="proof-step")
def test_gap_step():
    "step"
    assert (-2.0) ** 2 == abs(-2.0) * (-2.0)


def gap_check(xs, power=2):
    require(all(x ** power >= 0 for x in xs), "a negative power")


@pytest.mark.negative_control("toy-gap")
def test_gap_control():
    "x^3 for x^2 is rejected at x = -1"
    gap_check([-1.0, 2.0])
    rejects(gap_check, [-1.0, 2.0], power=3)
'''


@pytest.fixture
def project(pytester):
    pytester.makeini(textwrap.dedent("""\
        [pytest]
        xfail_strict = true
        junit_family = xunit1
        pythonpath = .
        python_files = claim_*.py
        claims_paper = toyclaims.paper:PAPER
        """))
    package = pytester.path / "toyclaims"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "paper.py").write_text(PAPER)
    return pytester


def run(project, source: str = CLAIMS, *args: str):
    (project.path / "toyclaims" / "claim_toy.py").write_text(source)
    return project.runpytest_subprocess("-p", "claims.framework.plugin", "toyclaims", *args)


def claim_of(report: dict, claim_id: str) -> dict:
    return next(c for c in report["claims"] if c["id"] == claim_id)


def load_report(project) -> dict:
    return json.loads((project.path / "reports" / "claims.json").read_text())


def test_toy_paper_gets_its_own_report(project):
    result = run(project)
    assert result.ret == 0, result.stdout.str()
    report = load_report(project)
    validate_report(report)
    assert report["paper"] == "A Toy Paper on Squares"
    assert {c["id"]: c["verdict"] for c in report["claims"]} == {"toy-erratum": "erratum", "toy-gap": "gap"}
    assert [c["id"] for c in report["claims"]] == ["toy-gap", "toy-erratum"]  # the paper's declared order
    erratum = claim_of(report, "toy-erratum")
    assert erratum["counterexample"]["file"] == "reports/counterexamples/toy-erratum.npz"
    assert erratum["counterexample"]["replay"].startswith("python -m toyclaims check toy-erratum")
    assert [c["form"] for c in erratum["checks"]] == ["printed", "corrected"]
    assert [c["outcome"] for c in erratum["checks"]] == ["xfail", "pass"]
    assert erratum["figures"] == {"answer": 0.3, "negative_controls_rejected": 1.0}  # 0.30000000000000004 rounded
    assert report["session"] == {"claims_run": ["toy-gap", "toy-erratum"], "mismatches": []}
    saved = np.load(project.path / "reports" / "counterexamples" / "toy-erratum.npz")
    assert float(saved["x"]) == 0.5  # Hypothesis shrinks fractions towards simple ones
    assert erratum["severity"] == "substantive" and erratum["root_cause"] == "square-below-one"
    assert [c["id"] for c in report["root_causes"]] == ["square-below-one", "absolute-value"]  # most severe first
    md = (project.path / "reports" / "claims.md").read_text()
    order = [md.index(h) for h in ("## Main results", "## Summary", "## Findings by root cause",
                                   "## Proof graph", "## Legend", "## Appendix", "### Assumption probes",
                                   "### Figures")]
    assert order == sorted(order)
    assert "*fails as stated*: Squares dominate" in md and "*holds after repair*: Squares are non-negative" in md
    assert md.index("| `toy-gap` |") < md.index("| `toy-erratum` |")  # the paper's order
    assert "```mermaid" in md and "toy_erratum --> toy_gap" in md
    assert "> $x^2 \\geq 0$" in md
    assert 'name="fig:answer"' in (project.path / "reports" / "junit.xml").read_text()


def test_toy_paper_probe_breaks_outside_its_assumption(project):
    result = run(project, CLAIMS, "--violate", "unit-interval")
    assert result.ret == 0, result.stdout.str()
    (row,) = load_report(project)["probes"]
    assert (row["claim"], row["assumption"], row["outcome"]) == ("toy-erratum", "unit-interval", "breaks")
    assert row["counterexample"]["replay"].endswith("--form verified")
    assert (project.path / row["counterexample"]["file"]).is_file()


def test_unexpected_failure_is_shown_and_the_report_still_written(project):
    broken = CLAIMS.replace("assert all(x * x >= 0 for x in (-1.0, 0.0, 2.0))",
                            "assert all(x * x >= 1 for x in (-1.0, 0.0, 2.0)), 'square below one'")
    result = run(project, broken)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*AssertionError: square below one*",  # pytest's own failure output reaches the screen
        "*MISMATCH claim toy-gap: recorded gap, now refuted (test toyclaims/claim_toy.py::test_gap_statement failed)*",
    ])
    report = load_report(project)
    validate_report(report)
    gap = next(c for c in report["claims"] if c["id"] == "toy-gap")
    assert gap["verdict"] == "refuted" and gap["mismatch"].startswith("claim toy-gap: recorded gap")
    assert report["session"]["mismatches"]
    assert "MISMATCH" in (project.path / "reports" / "claims.md").read_text()


def test_unexpected_failure_of_an_erratum_without_counterexample_writes_the_report(project):
    # the corrected form fails and the printed search is skipped: refuted, no counterexample file
    broken = CLAIMS.replace("require(evaluate_below(inst).holds)", "require(False, 'corrected fails')")
    result = run(project, broken, "-k", "not printed")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*MISMATCH claim toy-erratum: recorded erratum, now refuted*"])
    assert "ReportSchemaError" not in result.stdout.str() + result.stderr.str()
    validate_report(load_report(project))


def test_printed_form_that_passes_is_a_mismatch_not_a_refutation(project):
    passing = CLAIMS.replace("return Evaluation(holds=x ** power >= x,", "return Evaluation(holds=True,")
    passing = passing.replace("found = search_counterexample(record_property, SQ, UNIT.satisfying())",
                              "found = {'x': np.array(0.5)}")
    result = run(project, passing)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*MISMATCH claim toy-erratum: recorded erratum, now inconclusive "
                                 "(test *test_square_printed passed though recorded as failing)*"])
    erratum = claim_of(load_report(project), "toy-erratum")
    assert erratum["checks"][0]["outcome"] == "xpass"


def test_search_that_finds_nothing_is_its_own_outcome(project):
    nothing = CLAIMS.replace("return Evaluation(holds=x ** power >= x,", "return Evaluation(holds=True,")
    result = run(project, nothing)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*CounterexampleNotFound*",
                                 "*MISMATCH claim toy-erratum: recorded erratum, now inconclusive "
                                 "(test *test_square_printed found no counterexample)*"])
    assert claim_of(load_report(project), "toy-erratum")["checks"][0]["outcome"] == "not-found"


def test_negative_control_that_asserts_nothing_is_an_error(project):
    idle = CLAIMS.replace("    rejects(gap_check, [-1.0, 2.0], power=3)\n", "")
    result = run(project, idle)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*NegativeControlError*", "*MISMATCH claim toy-gap: no negative control passed*"])


def test_negative_control_whose_variant_is_accepted_fails(project):
    accepted = CLAIMS.replace("rejects(gap_check, [-1.0, 2.0], power=3)", "rejects(gap_check, [1.0, 2.0], power=3)")
    result = run(project, accepted)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*negative control: gap_check accepted the broken input*"])


def test_missing_negative_control_fails(project):
    result = run(project, CLAIMS.replace('@pytest.mark.negative_control("toy-gap")', ""))
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*claim toy-gap: no negative control passed*"])


def test_partial_run_keeps_the_other_claims_and_the_probes(project):
    assert run(project, CLAIMS, "--violate", "unit-interval").ret == 0
    full = load_report(project)
    assert run(project, CLAIMS, "-k", "gap").ret == 0
    partial = load_report(project)
    assert [c["id"] for c in partial["claims"]] == ["toy-gap", "toy-erratum"]
    assert claim_of(partial, "toy-erratum") == claim_of(full, "toy-erratum")  # kept as it was
    assert partial["probes"] == full["probes"]
    assert partial["session"]["claims_run"] == ["toy-gap"]


def test_two_runs_write_identical_reports(project):
    run(project)
    first = load_report(project)
    saved_first = (project.path / "reports" / "counterexamples" / "toy-erratum.npz").read_bytes()
    run(project)
    second = load_report(project)
    first.pop("generated"), second.pop("generated")
    assert first == second
    assert saved_first == (project.path / "reports" / "counterexamples" / "toy-erratum.npz").read_bytes()


def test_xdist_run_gives_the_serial_report(project):
    pytest.importorskip("xdist")
    assert run(project, CLAIMS, "--claims-report-dir", "serial").ret == 0
    result = run(project, CLAIMS, "-n", "2", "--claims-report-dir", "parallel")
    assert result.ret == 0, result.stdout.str()
    serial, parallel = (json.loads((project.path / d / "claims.json").read_text()) for d in ("serial", "parallel"))
    assert (project.path / "parallel" / "counterexamples" / "toy-erratum.npz").is_file()
    for report in (serial, parallel):
        report.pop("generated")
        report["claims"] = sorted(report["claims"], key=lambda c: c["id"])
        for claim in report["claims"]:
            claim["checks"] = sorted(claim["checks"], key=lambda c: c["test"])
            if claim["counterexample"]:  # the report directories differ
                claim["counterexample"] = None
    assert parallel == serial


def test_xdist_run_shows_a_mismatch(project):
    pytest.importorskip("xdist")
    broken = CLAIMS.replace("assert all(x * x >= 0 for x in (-1.0, 0.0, 2.0))", "assert False, 'broken'")
    result = run(project, broken, "-n", "2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*MISMATCH claim toy-gap: recorded gap, now refuted*"])
    assert claim_of(load_report(project), "toy-gap")["mismatch"]


def test_unknown_claim_id_is_a_usage_error(project):
    result = run(project, CLAIMS + '\n@pytest.mark.claim("nope", kind="symbolic")\ndef test_x():\n    pass\n')
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown claim id 'nope'*"])


def test_missing_paper_setting_is_a_usage_error(project):
    project.makeini("[pytest]\nxfail_strict = true\n")
    result = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*set the ini option claims_paper*"])


def test_inconclusive_check(project):
    source = CLAIMS.replace('''def test_gap_statement():
    "statement"
''', '''def test_gap_statement():
    "statement"
    inconclusive("sympy returned None")
''').replace('expected_verdict="gap", correction="the proof', 'expected_verdict="inconclusive", correction="the proof')
    result = run(project, source)
    assert result.ret == 0, result.stdout.str()
    verdicts = {c["id"]: c["verdict"] for c in load_report(project)["claims"]}
    assert verdicts["toy-gap"] == "inconclusive"


def test_no_report_option(project):
    result = run(project, CLAIMS, "--no-claims-report")
    assert result.ret == 0
    assert not (project.path / "reports" / "claims.json").exists()


def test_unknown_profile_is_a_usage_error(project, monkeypatch):
    monkeypatch.setenv("CLAIMS_PROFILE", "fast")
    result = run(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*CLAIMS_PROFILE must be one of dev, ci, thorough; got 'fast'*"])


def test_profile_recorded_in_report(project, monkeypatch):
    monkeypatch.setenv("CLAIMS_PROFILE", "dev")
    assert run(project).ret == 0
    assert load_report(project)["profile"] == "dev"


PART_CLAIM = '''

CUBE = register(Claim(id="toy-cube", paper_ref="Smith et al. 2020", statement="Conjecture (this suite): x^3 <= x^2 on (0, 1)",
    part="beyond"))


@pytest.mark.claim("toy-cube", kind="numerical")
def test_cube():
    "x^3 <= x^2 at three points"
    assert all(x ** 3 <= x ** 2 for x in (0.1, 0.5, 0.9))


@pytest.mark.negative_control("toy-cube")
def test_cube_control():
    "x^1 for x^3 is rejected"
    rejects(lambda power=3: require(all(x ** power <= x ** 2 for x in (0.5,))), power=1)
'''


def test_claims_of_a_report_part_get_their_own_table(project):
    paper = PAPER.replace("from claims.framework.paper import InstanceRuleError, MainResult, Paper",
                          "from claims.framework.paper import InstanceRuleError, MainResult, Paper, ReportPart")
    paper = paper.replace('claim_order=("toy-gap", "toy-erratum"))',
                          'claim_order=("toy-gap", "toy-erratum"), parts=(ReportPart("beyond", "Past the toy", '
                          '"Results the toy paper does not state."),))')
    (project.path / "toyclaims" / "paper.py").write_text(paper)
    result = run(project, CLAIMS + PART_CLAIM)
    assert result.ret == 0, result.stdout.str()
    report = load_report(project)
    validate_report(report)
    assert {c["id"]: c["part"] for c in report["claims"]} == {"toy-gap": None, "toy-erratum": None,
                                                               "toy-cube": "beyond"}
    md = (project.path / "reports" / "claims.md").read_text()
    summary, part = md.index("## Summary"), md.index("## Past the toy")
    assert summary < md.index("| `toy-gap` |") < part < md.index("| `toy-cube` |")
    assert "Results the toy paper does not state." in md and "| Smith et al. 2020 |" in md


def test_claim_naming_an_undeclared_part_is_a_usage_error(project):
    result = run(project, CLAIMS + PART_CLAIM)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*claim 'toy-cube' names part 'beyond', which the paper does not declare*"])


def test_broken_setup_of_a_printed_check_is_a_mismatch_not_the_refutation(project):
    # A printed-form check is expected to fail with an AssertionError; a failed precondition is not that.
    broken = CLAIMS.replace('''    found = search_counterexample(record_property, SQ, UNIT.satisfying())''',
                            '''    from claims.framework.checks import precondition
    precondition(1 + 1 == 3, "the simulator disagrees with its reference")
    found = search_counterexample(record_property, SQ, UNIT.satisfying())''')
    result = run(project, broken)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*PreconditionError: the simulator disagrees with its reference*",
                                 "*MISMATCH claim toy-erratum*"])
