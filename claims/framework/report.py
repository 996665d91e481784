"""The claim report: ``reports/claims.json`` (DESIGN.md's schema) and ``claims.md`` rendered from it.

References:
    DESIGN.md, "Contracts other tools rely on" (claims.json schema, claims.md layout).
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
from claims.framework.verdicts import CheckOutcome

PAPER = "Linear Loss Classification: Efficient Training Through Neural Collapse"
VERSIONED_PACKAGES = (
    "numpy", "scipy", "sympy", "hypothesis", "pytest", "torch", "matplotlib", "scikit-learn",
)


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


def package_versions() -> dict[str, str]:
    """Installed versions of the packages the claims depend on."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def claim_record(
    claim: Claim, verdict: str, checks: Sequence[CheckOutcome], figures: Mapping[str, float]
) -> dict[str, Any]:
    """One entry of ``claims`` in the JSON schema."""
    counterexample = None
    if verdict in ("erratum", "refuted"):
        counterexample = {
            "file": claim.counterexample_file,
            "replay": claim.replay_command,
            "summary": claim.counterexample_summary,
        }
    return {
        "id": claim.id,
        "paper_ref": claim.paper_ref,
        "statement": claim.statement,
        "assumptions": list(claim.assumptions),
        "verdict": verdict,
        "checks": [
            {"kind": c.kind, "outcome": c.outcome, "examples": c.examples, "detail": c.detail}
            for c in checks
        ],
        "counterexample": counterexample,
        "correction": claim.correction if verdict in ("erratum", "gap") else None,
        "figures": {name: float(value) for name, value in sorted(figures.items())},
    }


def build_report(
    claims: Sequence[dict[str, Any]], *, profile: str, root: Path,
    probes: Sequence[dict[str, Any]] = (),
    sensitivity: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The whole JSON document, with provenance."""
    return {
        "paper": PAPER,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit_description(root),
        "profile": profile,
        "versions": package_versions(),
        "claims": list(claims),
        "probes": list(probes),
        "sensitivity": list(sensitivity),
    }


def _one_line(text: str, limit: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence(record: Mapping[str, Any]) -> str:
    """One line: each check's kind, example count and outcome; failing printed forms marked."""
    parts = []
    for check in record["checks"]:
        label = check["kind"] + (f" ({check['examples']} ex.)" if check["examples"] else "")
        if check["outcome"] == "xfail":
            what = "proof step" if check["detail"].startswith("[proof-step]") else "printed form"
            parts.append(f"{what} fails: {label}")
        else:
            mark = {"pass": "passes", "fail": "FAILS", "inconclusive": "inconclusive"}[check["outcome"]]
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


def _sensitivity_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The empirical claims' verdicts under each open experimental choice (one row per cell)."""
    if not rows:
        return []
    def median(value):
        return "not reached" if value is None else f"{value:g}"
    lines = [
        "## Sensitivity of the empirical claims", "",
        "Verdict of each sub-claim (paired sign test over seeds, linear vs logistic loss) under each "
        "setting of the choices the paper leaves open. Medians are steps to the event; *not reached*: "
        "not by the horizon in at least half the seeds.", "",
        "| setting | sub-claim | verdict | seeds | steps | linear faster / logistic faster / ties "
        "| p (linear faster) | p (logistic faster) | median steps linear | median steps logistic | non-finite runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {_one_line(r['setting'], 60)} | {r['subclaim']} | **{r['verdict']}** | {r['seeds']} | "
                     f"{r['steps']} | {r['linear_faster']} / {r['logistic_faster']} / {r['ties']} | "
                     f"{r['p_linear']:.3g} | {r['p_logistic']:.3g} | {median(r['median_linear'])} | "
                     f"{median(r['median_logistic'])} | {r['nonfinite_runs']} |")
    return lines + [""]


def render_markdown(report: Mapping[str, Any], figure_files: Sequence[str] = ()) -> str:
    """``claims.md``: summary table, errata and gaps, probe matrix, figures."""
    lines = [
        f"# Claim report: {report['paper']}",
        "",
        f"Generated {report['generated']} from commit `{report['commit']}` "
        f"under the Hypothesis profile `{report['profile']}`.",
        "",
        "## Summary",
        "",
        "| claim | reference | verdict | evidence |",
        "|---|---|---|---|",
    ]
    claims = report["claims"]
    for rec in claims:
        lines.append(f"| `{rec['id']}` | {rec['paper_ref']} | **{rec['verdict']}** | {_evidence(rec)} |")
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
    lines += [""] + _sensitivity_table(report.get("sensitivity", []))
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


def write_reports(report: Mapping[str, Any], report_dir: Path) -> None:
    """Write ``claims.json`` and ``claims.md`` into ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "claims.json").write_text(json.dumps(report, indent=2) + "\n")
    figures = sorted(
        str(p.relative_to(report_dir)) for p in (report_dir / "figures").glob("*.png")
    ) if (report_dir / "figures").is_dir() else []
    (report_dir / "claims.md").write_text(render_markdown(report, figures))
