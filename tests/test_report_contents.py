"""The committed claim report is complete and consistent with the registered claims.

``pytest claims/`` rewrites reports/claims.json; these tests read whatever is there, so in
the README's second command they check the report the first command just wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claims.framework.cli import load_claim_modules
from claims.framework.schema import validate_report

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "claims.json"


@pytest.fixture(scope="module")
def report() -> dict:
    if not REPORT.is_file():
        pytest.fail("reports/claims.json is missing: run `pytest claims/` first")
    return json.loads(REPORT.read_text())


def test_schema(report):
    validate_report(report)  # raises ReportSchemaError on any deviation from DESIGN.md's schema
    assert report["claims"], "the report lists no claims"


def test_every_registered_claim_is_reported(report):
    registered = {c.id: c for c in load_claim_modules()}
    reported = {c["id"]: c for c in report["claims"]}
    assert set(registered) == set(reported)
    for claim_id, rec in reported.items():
        assert rec["verdict"] == registered[claim_id].expected_verdict, claim_id
        assert rec["paper_ref"] == registered[claim_id].paper_ref
        assert rec["figures"]["negative_controls_rejected"] >= 1, claim_id


def test_all_check_kinds_occur(report):
    kinds = {check["kind"] for rec in report["claims"] for check in rec["checks"]}
    assert {"symbolic", "numerical", "property"} <= kinds


def test_counterexamples_exist_and_replay(report):
    flagged = [rec for rec in report["claims"] if rec["counterexample"]]
    assert flagged
    for rec in flagged:
        ce = rec["counterexample"]
        assert (ROOT / ce["file"]).is_file(), ce["file"]
        argv = ce["replay"].split()
        assert argv[:3] == ["python", "-m", "claims"]
        result = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, (rec["id"], result.stdout, result.stderr)
        assert json.loads(result.stdout)["verdict"] == "fails"


def test_markdown_matches_json(report):
    md = (ROOT / "reports" / "claims.md").read_text()
    for rec in report["claims"]:
        assert f"| `{rec['id']}` | {rec['paper_ref']} | **{rec['verdict']}** |" in md
    for rec in report["claims"]:
        if rec["verdict"] in ("erratum", "gap"):
            assert f"### `{rec['id']}`" in md
