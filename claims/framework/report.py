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

from claims.framework.claim import Claim
from claims.framework.paper import Paper
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
    command: str = "python -m claims",
) -> dict[str, Any]:
    """One entry of ``claims``: ``tests[i]`` is the pytest node id of ``checks[i]``.

    The counterexample is listed when the verdict calls for one and it was saved
    (``counterexample_file``, relative to the project root); a claim whose run mismatched
    may have none (its ``mismatch`` says why). Replays start with ``command``."""
    counterexample = None
    if verdict in ("erratum", "refuted") and claim.counterexample_summary and counterexample_file:
        counterexample = {
            "file": counterexample_file,
            "replay": f"{command} check {claim.id} --data {counterexample_file}",
            "summary": claim.counterexample_summary,
        }
    return {
        "id": claim.id,
        "paper_ref": claim.paper_ref,
        "statement": claim.statement,
        "assumptions": list(claim.assumptions),
        "verdict": verdict,
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
        "probes": list(probes),
    }
    for section in paper.sections:
        report[section.key] = list(sections.get(section.key, ()))
    return report


def _one_line(text: str, limit: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence(record: Mapping[str, Any]) -> str:
    """One line: each check's kind, example count and outcome; failing printed forms marked."""
    parts = []
    for check in record["checks"]:
        label = check["kind"] + (f" ({check['examples']} ex.)" if check["examples"] else "")
        what = "proof step" if check["form"] == "proof-step" else "printed form"
        if check["outcome"] == "xfail":
            parts.append(f"{what} fails: {label}")
        elif check["outcome"] == "xpass":
            parts.append(f"{what} PASSES (recorded as failing): {label}")
        else:
            mark = {"pass": "passes", "fail": "FAILS", "inconclusive": "inconclusive",
                    "not-found": "NO COUNTEREXAMPLE FOUND"}[check["outcome"]]
            parts.append(f"{label} {mark}")
    return "; ".join(parts)


def _probe_matrix(probes: Sequence[Mapping[str, Any]]) -> list[str]:
    """The claims x assumptions matrix: one row per probed (claim, assumption) cell."""
    if not probes:
        return ["No probes yet (probing is on demand: `python -m claims probe --all`, or "
                "`pytest claims/ --violate ASSUMPTION`)."]
    lines = [
        "Each claim with one of its assumptions violated (the others held) while Hypothesis "
        "searches for an instance where the statement fails. *holds*: nothing found in the "
        "examples tried; *breaks*: the shrunk counterexample and the command that replays it "
        "(exit 1). Rows stay until the pair is probed again.",
        "",
        "| claim | assumption violated | outcome | examples | seconds | counterexample |",
        "|---|---|---|---|---|---|",
    ]
    for p in probes:
        ce = p["counterexample"]
        evidence = (f"{_one_line(ce['summary'], 160)}; `{ce['file']}`; replay: `{ce['replay']}`"
                    if ce else "")
        outcome = "**breaks**" if p["outcome"] == "breaks" else "holds"
        lines.append(f"| `{p['claim']}` | `{p['assumption']}` | {outcome} | {p['examples']} | "
                     f"{p['seconds']:.2f} | {evidence} |")
    return lines


def render_markdown(report: Mapping[str, Any], paper: Paper, figure_files: Sequence[str] = ()) -> str:
    """``claims.md``: summary table, errata and gaps, probe matrix, the paper's sections, figures."""
    session = report["session"]
    lines = [
        f"# Claim report: {report['paper']}",
        "",
        f"Generated {report['generated']} from commit `{report['commit']}` "
        f"under the Hypothesis profile `{report['profile']}`; this run checked "
        f"{len(session['claims_run'])} of {len(report['claims'])} claims (the others are kept "
        "from the previous report).",
        "",
    ]
    if session["mismatches"]:
        lines += ["**This run did not reproduce the recorded verdicts:**", ""]
        lines += [f"- {_one_line(m, 300)}" for m in session["mismatches"]] + [""]
    lines += [
        "## Summary",
        "",
        "| claim | reference | verdict | evidence |",
        "|---|---|---|---|",
    ]
    claims = report["claims"]
    for rec in claims:
        flag = " (MISMATCH)" if rec["mismatch"] else ""
        lines.append(f"| `{rec['id']}` | {rec['paper_ref']} | **{rec['verdict']}**{flag} | {_evidence(rec)} |")
    totals: dict[str, int] = {}
    for rec in claims:
        totals[rec["verdict"]] = totals.get(rec["verdict"], 0) + 1
    lines += ["", "Totals: " + ", ".join(f"{v} {k}" for k, v in sorted(totals.items())), ""]

    lines += ["## Errata, refutations and gaps", ""]
    flagged = [r for r in claims if r["verdict"] in ("erratum", "refuted", "gap")]
    if not flagged:
        lines.append("None.")
    for rec in flagged:
        lines += [f"### `{rec['id']}` ({rec['paper_ref']}): {rec['verdict']}", "",
                  f"*As printed:* {_one_line(rec['statement'], 2000)}", ""]
        if rec["correction"]:
            label = "Corrected statement (verified)" if rec["verdict"] == "erratum" else "Proof step"
            lines += [f"*{label}:* {_one_line(rec['correction'], 2000)}", ""]
        ce = rec["counterexample"]
        if ce:
            lines += [f"*Counterexample:* {ce['summary']}  ", f"File `{ce['file']}`; replay: `{ce['replay']}`", ""]

    lines += ["## Assumption probes", ""]
    lines += _probe_matrix(report["probes"])
    lines.append("")
    for section in paper.sections:
        rows = report.get(section.key, [])
        if rows:
            lines += [f"## {section.title}", ""] + section.render(rows) + [""]
    lines += ["## Figures", ""]
    with_figures = [r for r in claims if r["figures"]]
    if with_figures:
        lines += ["| claim | figure | value |", "|---|---|---|"]
        for rec in with_figures:
            for name, value in rec["figures"].items():
                lines.append(f"| `{rec['id']}` | {name} | {value:.6g} |")
    for path in figure_files:
        lines += ["", f"![{Path(path).stem}]({path})"]
    lines.append("")
    return "\n".join(lines)


def write_reports(report: Mapping[str, Any], report_dir: Path, paper: Paper) -> None:
    """Write ``claims.json`` and ``claims.md`` into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "claims.json").write_text(json.dumps(report, indent=2) + "\n")
    figures = sorted(
        str(p.relative_to(report_dir)) for p in (report_dir / "figures").glob("*.png")
    ) if (report_dir / "figures").is_dir() else []
    (report_dir / "claims.md").write_text(render_markdown(report, paper, figures))
