"""The ``claims.json`` schema of DESIGN.md, checked exactly (no missing or extra keys).

References:
    DESIGN.md, "Contracts other tools rely on".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claims.framework.claim import CHECK_KINDS, VERDICTS

TOP_KEYS = {"paper", "generated", "commit", "profile", "versions", "claims", "probes"}
CLAIM_KEYS = {"id", "paper_ref", "statement", "assumptions", "verdict", "checks",
              "counterexample", "correction", "figures"}
CHECK_KEYS = {"kind", "outcome", "examples", "detail"}
COUNTEREXAMPLE_KEYS = {"file", "replay", "summary"}
PROBE_KEYS = {"claim", "assumption", "outcome", "counterexample"}
OUTCOMES = ("pass", "fail", "xfail", "inconclusive")


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
        _keys(f"probes[{i}]", probe, PROBE_KEYS)
        if probe["outcome"] not in ("holds", "breaks"):
            raise ReportSchemaError(f"probes[{i}]: outcome must be holds or breaks")
        _counterexample(f"probes[{i}].counterexample", probe["counterexample"])
