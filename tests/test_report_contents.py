"""The claim report: what a run writes, and the committed report.

``session_report`` runs a few claim modules in a subprocess into a temporary report
directory seeded with the committed report, and the tests read what that run wrote: the
schema, the merge of a partial run (every other claim and probe row kept, ``session`` naming
the claims run), counterexamples that replay, Markdown that matches the JSON.

``committed_report`` is ``reports/claims.json`` as committed (or as the README's first command
just rewrote it): it must list every registered claim with its recorded verdict.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claims.framework.cli import load_claim_modules
from claims.framework.schema import validate_report
from claims.paper import PAPER

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / "claims.json"
# Fast claim modules with an erratum, a gap and verified claims (about 10 s together).
MODULES = ("claims/claim_lemma6.py", "claims/claim_bayes.py", "claims/claim_ufm_directions.py")


@pytest.fixture(scope="module")
def committed_report() -> dict:
    if not COMMITTED.is_file():
        pytest.fail("reports/claims.json is missing: run `pytest claims/` first")
    return json.loads(COMMITTED.read_text())


@pytest.fixture(scope="module")
def session_run(tmp_path_factory, committed_report) -> tuple[Path, dict, subprocess.CompletedProcess]:
    report_dir = tmp_path_factory.mktemp("reports")
    shutil.copy(COMMITTED, report_dir / "claims.json")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *MODULES, "-q", "-p", "no:cacheprovider",
         "--claims-report-dir", str(report_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    return report_dir, json.loads((report_dir / "claims.json").read_text()), result


def test_session_run_passes_and_writes_a_valid_report(session_run):
    _, report, result = session_run
    assert result.returncode == 0, result.stdout[-3000:]
    validate_report(report, PAPER.sections)  # raises ReportSchemaError on any deviation


def test_partial_run_updates_only_its_claims(session_run, committed_report):
    _, report, _ = session_run
    run = set(report["session"]["claims_run"])
    assert run == {c.id for c in load_claim_modules(PAPER)
                   if any(c.id == rec["id"] for rec in report["claims"]) and _module_of(c.id) in MODULES}
    assert [c["id"] for c in report["claims"]] == [c["id"] for c in committed_report["claims"]]
    for old, new in zip(committed_report["claims"], report["claims"]):
        if new["id"] not in run:
            assert new == old, new["id"]
    assert report["probes"] == committed_report["probes"]
    assert report["sensitivity"] == committed_report["sensitivity"]


def _module_of(claim_id: str) -> str:
    for module in MODULES:
        if f'"{claim_id}"' in (ROOT / module).read_text():
            return module
    return ""


def test_counterexamples_of_the_run_exist_and_replay(session_run):
    report_dir, report, _ = session_run
    flagged = [rec for rec in report["claims"] if rec["counterexample"] and rec["id"] in report["session"]["claims_run"]]
    assert flagged
    for rec in flagged:
        ce = rec["counterexample"]
        assert Path(ce["file"]).is_absolute() or (ROOT / ce["file"]).is_file(), ce["file"]
        assert Path(ce["file"]).name == f"{rec['id']}.npz" and (report_dir / "counterexamples" / f"{rec['id']}.npz").is_file()
        argv = ce["replay"].split()
        assert argv[:3] == ["python", "-m", "claims"]
        result = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, (rec["id"], result.stdout, result.stderr)
        assert json.loads(result.stdout)["verdict"] == "fails"


def test_markdown_matches_json(session_run):
    report_dir, report, _ = session_run
    md = (report_dir / "claims.md").read_text()
    for rec in report["claims"]:
        assert f"| `{rec['id']}` | {rec['paper_ref']} | **{rec['verdict']}** |" in md
        if rec["verdict"] in ("erratum", "gap"):
            assert f"#### {rec['paper_ref']} (`{rec['id']}`): {rec['verdict']}" in md
    assert f"this run checked {len(report['session']['claims_run'])} of {len(report['claims'])} claims" in md


def test_committed_report_lists_every_claim_with_its_recorded_verdict(committed_report):
    validate_report(committed_report, PAPER.sections)
    registered = {c.id: c for c in load_claim_modules(PAPER)}
    reported = {c["id"]: c for c in committed_report["claims"]}
    assert set(registered) == set(reported)
    for claim_id, rec in reported.items():
        assert rec["verdict"] == registered[claim_id].expected_verdict, claim_id
        assert rec["mismatch"] is None, claim_id
        assert rec["paper_ref"] == registered[claim_id].paper_ref
        assert rec["figures"]["negative_controls_rejected"] >= 1, claim_id
    kinds = {check["kind"] for rec in committed_report["claims"] for check in rec["checks"]}
    assert {"symbolic", "numerical", "property", "empirical"} <= kinds


def test_committed_counterexamples_exist(committed_report):
    for rec in committed_report["claims"]:
        if rec["counterexample"]:
            assert (ROOT / rec["counterexample"]["file"]).is_file(), rec["id"]
    for row in committed_report["probes"]:
        if row["counterexample"]:
            assert (ROOT / row["counterexample"]["file"]).is_file(), (row["claim"], row["assumption"])
