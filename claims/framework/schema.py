"""The ``claims.json`` schema of DESIGN.md, checked exactly (no missing or extra keys).

References:
    DESIGN.md, "Contracts other tools rely on".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claims.framework.claim import CHECK_KINDS, VERDICTS

TOP_KEYS = {"paper", "generated", "commit", "profile", "versions", "claims", "probes", "sensitivity"}
CLAIM_KEYS = {"id", "paper_ref", "statement", "assumptions", "verdict", "checks",
              "counterexample", "correction", "figures"}
CHECK_KEYS = {"kind", "outcome", "examples", "detail"}
COUNTEREXAMPLE_KEYS = {"file", "replay", "summary"}
# examples and seconds: added with assumption probes (see CONTRIBUTING.md, migration notes).
PROBE_KEYS = {"claim", "assumption", "outcome", "examples", "seconds", "counterexample"}
OUTCOMES = ("pass", "fail", "xfail", "inconclusive")
# sensitivity: added with the Section 4 experiment (see CONTRIBUTING.md, "Report and contracts").
SENSITIVITY_KEYS = {"setting", "subclaim", "verdict", "seeds", "steps", "linear_faster", "logistic_faster",
                    "ties", "p_linear", "p_logistic", "median_linear", "median_logistic", "nonfinite_runs"}
SENSITIVITY_VERDICTS = ("holds", "refuted", "inconclusive")


class ReportSchemaError(ValueError):
    """A claims.json document does not follow the schema; the message says where."""


def _keys(where: str, obj: Any, expected: set[str]) -> None:
    if not isinstance(obj, Mapping):
        raise ReportSchemaError(f"{where} must be an object; got {type(obj).__name__}")
    if set(obj) != expected:
        raise ReportSchemaError(
            f"{where} keys differ: missing {sorted(expected - set(obj))}, extra {sorted(set(obj) - expected)}"
        )


def _counterexample(where: str, ce: Any) -> None:
    if ce is None:
        return
    _keys(where, ce, COUNTEREXAMPLE_KEYS)
    if not all(isinstance(ce[k], str) and ce[k] for k in COUNTEREXAMPLE_KEYS):
        raise ReportSchemaError(f"{where}: file, replay and summary must be non-empty strings")


def validate_report(report: Any) -> None:
    """Raise ReportSchemaError unless ``report`` follows DESIGN.md's schema and verdict rules."""
    _keys("report", report, TOP_KEYS)
    for key in ("paper", "generated", "commit", "profile"):
        if not isinstance(report[key], str):
            raise ReportSchemaError(f"report.{key} must be a string")
    if not all(isinstance(v, str) for v in report["versions"].values()):
        raise ReportSchemaError("report.versions must map package names to version strings")
    for i, claim in enumerate(report["claims"]):
        where = f"claims[{i}] ({claim.get('id', '?') if isinstance(claim, Mapping) else '?'})"
        _keys(where, claim, CLAIM_KEYS)
        if claim["verdict"] not in VERDICTS:
            raise ReportSchemaError(f"{where}: verdict {claim['verdict']!r} not in {VERDICTS}")
        if not claim["checks"]:
            raise ReportSchemaError(f"{where}: no checks")
        for j, check in enumerate(claim["checks"]):
            _keys(f"{where}.checks[{j}]", check, CHECK_KEYS)
            if check["kind"] not in CHECK_KINDS or check["outcome"] not in OUTCOMES:
                raise ReportSchemaError(f"{where}.checks[{j}]: bad kind/outcome {check['kind']!r}/{check['outcome']!r}")
            if check["examples"] is not None and not isinstance(check["examples"], int):
                raise ReportSchemaError(f"{where}.checks[{j}]: examples must be an int or null")
        _counterexample(f"{where}.counterexample", claim["counterexample"])
        if claim["verdict"] in ("erratum", "refuted") and claim["counterexample"] is None:
            raise ReportSchemaError(f"{where}: {claim['verdict']} without a counterexample")
        if claim["verdict"] == "erratum" and not claim["correction"]:
            raise ReportSchemaError(f"{where}: erratum without a correction")
        if not all(isinstance(v, (int, float)) for v in claim["figures"].values()):
            raise ReportSchemaError(f"{where}: figures must be numbers")
    for i, probe in enumerate(report["probes"]):
        _probe(f"probes[{i}]", probe)
    for i, row in enumerate(report["sensitivity"]):
        _sensitivity_row(f"sensitivity[{i}]", row)


def _probe(where: str, probe: Any) -> None:
    """One cell of the claims x assumptions matrix: a break has its counterexample, a hold
    says how many examples it tried."""
    _keys(where, probe, PROBE_KEYS)
    if not all(isinstance(probe[k], str) and probe[k] for k in ("claim", "assumption")):
        raise ReportSchemaError(f"{where}: claim and assumption must be non-empty strings")
    if probe["outcome"] not in ("holds", "breaks"):
        raise ReportSchemaError(f"{where}: outcome must be holds or breaks")
    examples = probe["examples"]
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ReportSchemaError(f"{where}: examples must be an int >= 1; got {examples!r}")
    seconds = probe["seconds"]
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0:
        raise ReportSchemaError(f"{where}: seconds must be a number >= 0; got {seconds!r}")
    _counterexample(f"{where}.counterexample", probe["counterexample"])
    if (probe["outcome"] == "breaks") != (probe["counterexample"] is not None):
        raise ReportSchemaError(f"{where}: a counterexample goes with 'breaks' and only with it")


def _sensitivity_row(where: str, row: Any) -> None:
    """One (setting, sub-claim) verdict of an empirical claim under an open experimental choice.

    Medians are null when the arm did not reach the event by the horizon in at least half
    of its seeds."""
    _keys(where, row, SENSITIVITY_KEYS)
    if not all(isinstance(row[k], str) and row[k] for k in ("setting", "subclaim")):
        raise ReportSchemaError(f"{where}: setting and subclaim must be non-empty strings")
    if row["verdict"] not in SENSITIVITY_VERDICTS:
        raise ReportSchemaError(f"{where}: verdict must be one of {SENSITIVITY_VERDICTS}; got {row['verdict']!r}")
    for key in ("seeds", "steps", "linear_faster", "logistic_faster", "ties", "nonfinite_runs"):
        if isinstance(row[key], bool) or not isinstance(row[key], int) or row[key] < 0:
            raise ReportSchemaError(f"{where}: {key} must be an int >= 0; got {row[key]!r}")
    for key in ("p_linear", "p_logistic"):
        if isinstance(row[key], bool) or not isinstance(row[key], (int, float)) or not 0 <= row[key] <= 1:
            raise ReportSchemaError(f"{where}: {key} must be a number in [0, 1]; got {row[key]!r}")
    for key in ("median_linear", "median_logistic"):
        if row[key] is not None and (isinstance(row[key], bool) or not isinstance(row[key], (int, float))):
            raise ReportSchemaError(f"{where}: {key} must be a number or null; got {row[key]!r}")
