"""pytest plugin: collects claim checks' outcomes and writes the claim report.

A check is a test with the ``claim`` marker::

    @pytest.mark.claim("eq-13-features", kind="numerical", form="corrected")

``form="printed"`` (the statement as printed, expected to fail) and
``form="proof-step"`` (a proof step as written, expected to fail) are turned into
strict xfails (raising AssertionError) whose reason holds the claim's counterexample.
Every claim also needs a negative control: a test marked
``@pytest.mark.negative_control("eq-13-features")`` that shows its check rejects a
deliberately broken variant; the count that passed is reported as the figure
``negative_controls_rejected`` and a claim without one fails the run.
Measured figures travel with ``record_property("fig:NAME", number)``; a property
check records ``record_property("examples", count)``. Outcomes are read from the
test reports; at session end the main process writes ``claims.json``, ``claims.md``
and JUnit XML and fails the run if a claim's verdict is not the recorded one.

``--violate ASSUMPTION`` (repeatable) also probes, after the checks, every claim of the
session that lists ASSUMPTION (:mod:`claims.framework.probe`) and writes the results into
the report's ``probes``. A probe's outcome never fails the run. Without ``--violate`` no
probe runs; probe rows of the previous report are kept for the claims of this run (until
the pair is probed again), so the matrix survives a plain ``pytest claims/``.

References:
    pytest "Writing plugins", hooks ``pytest_runtest_logreport``, ``pytest_sessionfinish``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claims.framework import paths, profiles
from claims.framework.assumptions import UnknownAssumptionError, get_assumption
from claims.framework.claim import CHECK_KINDS, FORMS, Claim, UnknownClaimError, get_claim
from claims.framework.probe import (
    DEFAULT_SECONDS,
    ProbeError,
    ProbeEvaluationError,
    check_budget,
    merge_probes,
    probe,
    probe_pairs,
)
from claims.framework.report import build_report, claim_record, write_reports
from claims.framework.schema import validate_report
from claims.framework.verdicts import CheckOutcome, decide

FIGURE_PREFIX = "fig:"
# A test passes rows of the report's "sensitivity" table as
# record_property(SENSITIVITY_PROPERTY, json.dumps(row)), one call per row.
SENSITIVITY_PROPERTY = "sensitivity"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("claims", "claim report")
    group.addoption("--claims-report-dir", default=None,
                    help="directory for claims.json, claims.md, junit.xml (default: <rootdir>/reports)")
    group.addoption("--no-claims-report", action="store_true",
                    help="check claims but do not write the report")
    group.addoption("--violate", action="append", default=[], metavar="ASSUMPTION",
                    help="after the checks, probe every claim listing ASSUMPTION with it violated "
                         "and write the results into the report's probes (repeatable)")
    group.addoption("--probe-seconds", type=float, default=DEFAULT_SECONDS,
                    help=f"wall-clock budget of each probe (default {DEFAULT_SECONDS:g})")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(id, *, kind, form=None): a check of claim `id`; kind is symbolic|numerical|"
        "property|empirical; form is printed|corrected|proof-step or None",
    )
    config.addinivalue_line(
        "markers",
        "negative_control(id): shows that the checks of claim `id` reject a broken variant",
    )
    try:
        profile = profiles.load_profile()
    except profiles.UnknownProfileError as error:
        raise pytest.UsageError(str(error)) from None
    for assumption_id in config.getoption("--violate"):
        try:
            get_assumption(assumption_id)
        except UnknownAssumptionError as error:
            raise pytest.UsageError(f"--violate: {error}") from None
    try:
        check_budget(None, config.getoption("--probe-seconds"))
    except ProbeError as error:
        raise pytest.UsageError(str(error).replace("--seconds", "--probe-seconds")) from None
    report_dir = Path(config.getoption("--claims-report-dir") or config.rootpath / "reports")
    paths.set_report_dir(report_dir)
    writes = not config.getoption("--no-claims-report") and not hasattr(config, "workerinput")
    own_junit = writes and not config.option.xmlpath
    if own_junit:
        config.option.xmlpath = str(report_dir / "junit.xml")
    collector = ClaimCollector(config, profile, report_dir, writes, own_junit)
    config.pluginmanager.register(collector, "claims-collector")


@dataclass
class _CheckRecord:
    claim: Claim
    kind: str
    form: str | None
    detail: str
    outcome: str | None = None
    examples: int | None = None
    figures: dict[str, float] = field(default_factory=dict)


class ClaimCollector:
    """Holds every claim check of the session and turns them into the report."""

    def __init__(self, config: pytest.Config, profile: str, report_dir: Path, writes: bool,
                 own_junit: bool) -> None:
        self.config = config
        self.own_junit = own_junit
        self.profile = profile
        self.report_dir = report_dir
        self.writes = writes
        self.checks: dict[str, _CheckRecord] = {}
        self.controls: dict[str, str] = {}  # nodeid -> claim id
        self.controls_rejected: dict[str, int] = defaultdict(int)
        self.mismatches: list[str] = []
        self.verdicts: dict[str, str] = {}
        self.sensitivity: dict[str, list[dict]] = {}  # nodeid -> rows it recorded
        self.probes: list[dict] = []  # rows probed in this session
        self.probe_errors: list[str] = []
        self.unprobed: list[str] = []  # claims listing a --violate assumption, no instance evaluation

    # -- collection -----------------------------------------------------------------
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            control = item.get_closest_marker("negative_control")
            if control is not None:
                try:
                    self.controls[item.nodeid] = get_claim(control.args[0]).id
                except (UnknownClaimError, IndexError) as error:
                    raise pytest.UsageError(f"{item.nodeid}: negative_control needs a known claim id ({error})") from None
            marker = item.get_closest_marker("claim")
            if marker is None:
                continue
            record = self._record_for(item, marker)
            self.checks[item.nodeid] = record
            if record.form in ("printed", "proof-step"):
                claim = record.claim
                what = "printed statement" if record.form == "printed" else "proof step as written"
                reason = f"{what} fails: {claim.counterexample_summary or claim.correction}"
                if record.form == "printed":
                    reason += f" (replay: {claim.replay_command})"
                item.add_marker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))
        if not self.checks and self.own_junit:
            self._drop_junit()

    def _drop_junit(self) -> None:
        """A run without claim checks (unit tests only) leaves the report's JUnit file alone."""
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is not None:
            self.config.pluginmanager.unregister(xml)
            del self.config.stash[xml_key]

    @staticmethod
    def _record_for(item: pytest.Item, marker: pytest.Mark) -> _CheckRecord:
        if len(marker.args) != 1:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim takes exactly one claim id")
        try:
            claim = get_claim(marker.args[0])
        except UnknownClaimError as error:
            raise pytest.UsageError(f"{item.nodeid}: {error}") from None
        kind = marker.kwargs.get("kind")
        form = marker.kwargs.get("form")
        if kind not in CHECK_KINDS:
            raise pytest.UsageError(f"{item.nodeid}: kind must be one of {CHECK_KINDS}; got {kind!r}")
        if form is not None and form not in FORMS:
            raise pytest.UsageError(f"{item.nodeid}: form must be one of {FORMS}; got {form!r}")
        doc = (getattr(item, "obj", None).__doc__ or item.name).strip().splitlines()[0]
        return _CheckRecord(claim=claim, kind=kind, form=form, detail=doc)

    # -- outcomes -------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        control_of = self.controls.get(report.nodeid)
        if control_of is not None and report.when == "call" and report.passed:
            self.controls_rejected[control_of] += 1
        rows = [json.loads(value) for name, value in report.user_properties if name == SENSITIVITY_PROPERTY]
        if rows:  # every phase's report repeats the item's properties: keep the latest
            self.sensitivity[report.nodeid] = rows
        record = self.checks.get(report.nodeid)
        if record is None:
            return
        for name, value in report.user_properties:
            if name == "examples":
                record.examples = int(value)
            elif name.startswith(FIGURE_PREFIX):
                record.figures[name[len(FIGURE_PREFIX):]] = float(value)
        outcome = self._outcome(report)
        if outcome is not None and (record.outcome in (None, "pass") or outcome == "fail"):
            record.outcome = outcome

    @staticmethod
    def _outcome(report: pytest.TestReport) -> str | None:
        if report.failed:
            return "fail"  # includes setup/teardown errors and strict XPASS
        if report.skipped:
            if hasattr(report, "wasxfail"):
                return "xfail"
            return "inconclusive"  # explicit inconclusive() or any other skip
        if report.when == "call":
            return "pass"
        return None

    # -- session end ----------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.checks:
            return
        by_claim: dict[str, list[_CheckRecord]] = defaultdict(list)
        for record in self.checks.values():
            if record.outcome is not None:
                by_claim[record.claim.id].append(record)
        records = []
        for claim_id, checks in by_claim.items():
            claim = checks[0].claim
            outcomes = [CheckOutcome(c.kind, c.outcome, c.form, c.examples, _detail(c)) for c in checks]
            verdict = decide(outcomes)
            self.verdicts[claim_id] = verdict
            if verdict != claim.expected_verdict:
                self.mismatches.append(
                    f"{claim_id}: verdict {verdict!r}, recorded {claim.expected_verdict!r}"
                )
            if verdict in ("erratum", "refuted") and not paths.counterexample_path(claim_id).is_file():
                self.mismatches.append(f"{claim_id}: {verdict} but no saved counterexample")
            if self.controls_rejected[claim_id] == 0:
                self.mismatches.append(f"{claim_id}: no negative control passed (none, or it failed)")
            figures = {k: v for c in checks for k, v in c.figures.items()}
            figures["negative_controls_rejected"] = self.controls_rejected[claim_id]
            records.append(claim_record(claim, verdict, outcomes, figures))
        claims = [checks[0].claim for checks in by_claim.values()]
        if not hasattr(self.config, "workerinput"):
            self._probe(claims)
        if self.mismatches or self.probe_errors:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.writes and records:
            order = [c.id for c in claims]
            probes = merge_probes(self._previous_probes(claims), self.probes, order)
            report = build_report(records, profile=self.profile, root=self.config.rootpath, probes=probes,
                                  sensitivity=[row for rows in self.sensitivity.values() for row in rows])
            validate_report(report)
            write_reports(report, self.report_dir)

    def _probe(self, claims: list[Claim]) -> None:
        """Probe each claim of the session against each ``--violate`` assumption it lists."""
        seconds = self.config.getoption("--probe-seconds")
        for assumption_id in self.config.getoption("--violate"):
            listing = [c for c in claims if assumption_id in c.assumptions]
            pairs = probe_pairs(listing, assumption_id)
            self.unprobed += [c.id for c in listing if c.verified_form is None]
            for claim, _ in pairs:
                try:
                    self.probes.append(probe(claim, assumption_id, seconds=seconds).as_record())
                except (ProbeError, ProbeEvaluationError) as error:
                    self.probe_errors.append(str(error))

    def _previous_probes(self, claims: list[Claim]) -> list[dict]:
        """Probe rows of the report being replaced that still describe a claim of this run:
        the claim still lists the assumption and a break's counterexample file is there."""
        path = self.report_dir / "claims.json"
        try:
            rows = json.loads(path.read_text())["probes"]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        listed = {(c.id, a) for c in claims for a in c.assumptions}
        kept = []
        for row in rows if isinstance(rows, list) else []:
            try:
                key = (row["claim"], row["assumption"])
                ce = row["counterexample"]
                if key in listed and (ce is None or (paths.PROJECT_ROOT / ce["file"]).is_file()):
                    kept.append(row)
            except (KeyError, TypeError):
                continue
        return kept

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.verdicts:
            return
        terminalreporter.section("claim verdicts")
        for claim_id, verdict in self.verdicts.items():
            terminalreporter.write_line(f"{verdict:>12}  {claim_id}")
        for line in self.mismatches:
            terminalreporter.write_line(f"MISMATCH {line}", red=True)
        if self.config.getoption("--violate"):
            terminalreporter.section("assumption probes")
            for row in self.probes:
                ce = row["counterexample"]
                terminalreporter.write_line(
                    f"{row['outcome']:>7}  {row['claim']} --violate {row['assumption']} "
                    f"({row['examples']} examples, {row['seconds']:.1f} s)"
                    + (f"; replay: {ce['replay']}" if ce else ""))
            for claim_id in self.unprobed:
                terminalreporter.write_line(f"NOT PROBED {claim_id}: no instance evaluation", yellow=True)
            for line in self.probe_errors:
                terminalreporter.write_line(f"PROBE ERROR {line}", red=True)
        if self.writes:
            terminalreporter.write_line(f"report written to {self.report_dir}")


def _detail(record: _CheckRecord) -> str:
    prefix = f"[{record.form}] " if record.form else ""
    return prefix + record.detail
