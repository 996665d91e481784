"""The claim report: ``claims.json`` (the schema in ``claims.schema.json``) and ``claims.md``
rendered from it, written into the report directory the run is given.

A run that checked some claims only (``-k``, a file, a node id) updates those claims and keeps
every other claim and every probe row of the previous report (:func:`merge_claims`); the
report's ``session`` says which claims this run checked. Figures are rounded to
:data:`FIGURE_DIGITS` significant digits so two runs on one commit write the same bytes
(apart from ``generated``).

References:
    The project's CONTRIBUTING.md ("Report and contracts").
"""

from __future__ import annotations

import datetime as _dt
import json
import subprocess
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from claims.framework.claim import Claim, Finding
from claims.framework.paper import Paper
from claims.framework.render import render_markdown
from claims.framework.verdicts import CheckOutcome

# Significant digits of a figure in claims.json: floating-point noise from summation order
# and libm (~1e-13 relative) stays below the last digit kept, so reruns give the same bytes.
FIGURE_DIGITS = 10


def commit_description(root: Path) -> str:
    """``git describe --always`` of the project, with ``-dirty`` when files outside
    ``reports/`` (which this run rewrites) differ from the commit; ``unknown`` outside git."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip()

    try:
        described = git("describe", "--always")
        dirty = git("status", "--porcelain", "--", ".", ":(exclude)reports")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (described + ("-dirty" if dirty else "")) if described else "unknown"


def package_versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of the packages the claims depend on."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def round_figure(value: float) -> float:
    """``value`` to FIGURE_DIGITS significant digits (non-finite values unchanged)."""
    value = float(value)
    return float(f"{value:.{FIGURE_DIGITS}g}") if value == value and abs(value) != float("inf") else value


def claim_record(
    claim: Claim, verdict: str, checks: Sequence[CheckOutcome], figures: Mapping[str, float],
    *, tests: Sequence[str], mismatch: str | None = None, counterexample_file: str | None = None,
    replay: str | None = None, finding: Finding | None = None, depends_on: Sequence[str] = (),
) -> dict[str, Any]:
    """One entry of ``claims``: ``tests[i]`` is the pytest node id of ``checks[i]``.

    The counterexample is listed when the verdict calls for one and it was saved
    (``counterexample_file``, relative to the project root); a claim whose run mismatched
    may have none (its ``mismatch`` says why); ``replay`` is the command that reproduces it."""
    counterexample = None
    if verdict in ("erratum", "refuted") and claim.counterexample_summary and counterexample_file and replay:
        counterexample = {
            "file": counterexample_file,
            "replay": replay,
            "summary": claim.counterexample_summary,
        }
    flagged = verdict in ("erratum", "refuted", "gap") and finding is not None
    return {
        "id": claim.id,
        "paper_ref": claim.paper_ref,
        "part": claim.part,
        "statement": claim.statement,
        "quote": claim.quote,
        "reading": claim.reading,
        "depends_on": list(dict.fromkeys([*claim.depends_on, *depends_on])),
        "assumptions": list(claim.assumptions),
        "verdict": verdict,
        "severity": finding.severity if flagged else None,
        "severity_evidence": finding.evidence if flagged else None,
        "root_cause": finding.root_cause if flagged else None,
        "mismatch": mismatch,
        "checks": [
            {"kind": c.kind, "form": c.form, "outcome": c.outcome, "examples": c.examples,
             "detail": c.detail, "test": test}
            for c, test in zip(checks, tests, strict=True)
        ],
        "counterexample": counterexample,
        "correction": claim.correction if verdict in ("erratum", "gap") else None,
        "figures": {name: round_figure(value) for name, value in sorted(figures.items())},
    }


def merge_claims(previous: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]],
                 order: Sequence[str]) -> list[dict[str, Any]]:
    """This run's claim records replace the previous report's; every other previous record
    whose id is still in ``order`` (the registered claims) is kept. Sorted by ``order``."""
    by_id = {r["id"]: dict(r) for r in previous if r.get("id") in order}
    by_id.update({r["id"]: dict(r) for r in new})
    position = {claim_id: i for i, claim_id in enumerate(order)}
    return sorted(by_id.values(), key=lambda r: position.get(r["id"], len(position)))


def build_report(
    paper: Paper, claims: Sequence[dict[str, Any]], *, profile: str, root: Path,
    claims_run: Sequence[str] = (), mismatches: Sequence[str] = (),
    probes: Sequence[dict[str, Any]] = (),
    sections: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The whole JSON document, with provenance; ``sections`` maps each of the paper's
    section keys to its rows (missing keys: no rows)."""
    sections = sections or {}
    report = {
        "paper": paper.title,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit_description(root),
        "profile": profile,
        "versions": package_versions(paper.versioned_packages),
        "session": {"claims_run": list(claims_run), "mismatches": list(mismatches)},
        "claims": list(claims),
        "root_causes": root_cause_records(paper, claims),
        "probes": list(probes),
    }
    for section in paper.sections:
        report[section.key] = list(sections.get(section.key, ()))
    return report


def root_cause_records(paper: Paper, claims: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The root causes that some reported finding names, most severe first, with its claims."""
    from claims.framework.claim import SEVERITIES

    rows = []
    for cause in paper.root_causes:
        members = [c["id"] for c in claims if c.get("root_cause") == cause.id]
        if members:
            rows.append({"id": cause.id, "title": cause.title, "severity": cause.severity,
                         "explanation": cause.explanation, "claims": members})
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(rows, key=lambda r: -rank[r["severity"]])


def write_reports(report: Mapping[str, Any], report_dir: Path, paper: Paper) -> None:
    """Write ``claims.json`` and ``claims.md`` into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "claims.json").write_text(json.dumps(report, indent=2) + "\n")
    figures = sorted(
        str(p.relative_to(report_dir)) for p in (report_dir / "figures").glob("*.png")
    ) if (report_dir / "figures").is_dir() else []
    (report_dir / "claims.md").write_text(render_markdown(report, paper, figures))
