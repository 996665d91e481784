"""The ``claims.json`` contract: the JSON Schema file beside this module, plus the rules a
schema cannot say (verdicts and their evidence) and the paper's own report sections.

The schema is ``claims.schema.json`` (JSON Schema 2020-12), validated with ``jsonschema``.
The cross-field rules checked here:

- an ``erratum`` or ``refuted`` claim has a counterexample, unless its run mismatched
  (``mismatch`` set: the report is still written, marked as mismatching);
- an ``erratum`` has a correction;
- only an erratum, refuted or gap claim has a severity, always with a root cause listed in
  ``root_causes``;
- a probe row has a counterexample exactly when its outcome is ``breaks`` or ``undefined``;
- every top-level key besides the schema's is one of the paper's report sections, and each
  of its rows passes the section's ``validate``.

References:
    JSON Schema 2020-12; the ``jsonschema`` package (``Draft202012Validator``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from claims.framework.paper import ReportSection

SCHEMA_FILE = Path(__file__).with_name("claims.schema.json")


class ReportSchemaError(ValueError):
    """A claims.json document does not follow the contract; the message says where."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of ``claims.json``."""
    return json.loads(SCHEMA_FILE.read_text())


def validate_report(report: Any, sections: Sequence[ReportSection] = ()) -> None:
    """Raise ReportSchemaError unless ``report`` follows the schema and the rules above."""
    validator = jsonschema.Draft202012Validator(schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(report))
    if error is not None:
        where = "report" + "".join(f"[{p!r}]" for p in error.absolute_path)
        raise ReportSchemaError(f"{where}: {error.message}")
    for i, claim in enumerate(report["claims"]):
        where = f"claims[{i}] ({claim['id']})"
        if claim["verdict"] in ("erratum", "refuted") and claim["counterexample"] is None \
                and claim["mismatch"] is None:
            raise ReportSchemaError(f"{where}: {claim['verdict']} without a counterexample")
        if claim["verdict"] == "erratum" and not claim["correction"]:
            raise ReportSchemaError(f"{where}: erratum without a correction")
        if claim["verdict"] not in ("erratum", "refuted", "gap") and claim["severity"] is not None:
            raise ReportSchemaError(f"{where}: a {claim['verdict']} claim has no severity")
        if (claim["severity"] is None) != (claim["root_cause"] is None):
            raise ReportSchemaError(f"{where}: severity and root_cause go together")
    causes = {c["id"] for c in report["root_causes"]}
    for i, claim in enumerate(report["claims"]):
        if claim["root_cause"] is not None and claim["root_cause"] not in causes:
            raise ReportSchemaError(f"claims[{i}] ({claim['id']}): root cause {claim['root_cause']!r} "
                                    "is not in root_causes")
    for i, probe in enumerate(report["probes"]):
        if (probe["outcome"] != "holds") != (probe["counterexample"] is not None):
            raise ReportSchemaError(f"probes[{i}]: a counterexample (or undefined instance) goes with "
                                    "'breaks' and 'undefined' and only with them")
    by_key: Mapping[str, ReportSection] = {s.key: s for s in sections}
    for key in set(report) - set(schema()["properties"]):
        section = by_key.get(key)
        if section is None:
            raise ReportSchemaError(f"report: unknown key {key!r} (not a section the paper declares)")
        for i, row in enumerate(report[key]):
            try:
                section.validate(f"{key}[{i}]", row)
            except ValueError as error:
                raise ReportSchemaError(str(error)) from None
