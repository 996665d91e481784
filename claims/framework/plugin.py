"""pytest plugin: collects claim checks' outcomes and writes the claim report.

The paper is named by the ini option ``claims_paper`` (``module:ATTRIBUTE`` of a
:class:`~claims.framework.paper.Paper`). A check is a test with the ``claim`` marker::

    @pytest.mark.claim("eq-13-features", kind="numerical", form="corrected")

``form="printed"`` (the statement as printed, expected to fail) and ``form="proof-step"``
(a proof step as written, expected to fail) are turned into strict xfails (raising
AssertionError) whose reason holds the claim's counterexample. Outcomes (see
:mod:`claims.framework.verdicts`): such a check that passes is ``xpass``; a counterexample
search that spends its budget (:class:`~claims.framework.checks.CounterexampleNotFound`) is
``not-found``; both, like any unexpected failure, are mismatches.

Every claim needs a negative control: a test marked
``@pytest.mark.negative_control("eq-13-features")`` that runs the claim's own evaluation on a
broken instance or variant through :func:`claims.framework.checks.rejects`. A control that
ends without such a rejection fails with :class:`NegativeControlError`; the count of controls
that passed is the figure ``negative_controls_rejected``, and a claim with none is a mismatch.

Measured figures travel with ``record_property("fig:NAME", number)``; a property check
records ``record_property("examples", count)``; a counterexample travels as the
``counterexample`` property and is saved by the main process as
``counterexamples/ID.npz`` in the report directory; rows of the paper's report sections
travel as ``record_property(section.key, json.dumps(row))``. Everything goes through test
reports, so a run spread over pytest-xdist workers gives the same report as a serial one.

At session end the main process prints one line per mismatch,
``claim X: recorded verified, now refuted (test ...)``, writes ``claims.json``, ``claims.md``
and JUnit XML into the report directory (``--claims-report-dir``, default
``<rootdir>/reports``) even when there are mismatches (they are marked in it), and makes the
run exit 1. A run that checked some claims replaces only those in the report.

``--violate ASSUMPTION`` (repeatable) also probes, after the checks, every claim of the
session that lists ASSUMPTION (:mod:`claims.framework.probe`) and writes the rows into the
report's ``probes``; a probe's outcome never fails the run. Without it, probe rows of the
previous report are kept for every claim that still lists the assumption.

References:
    pytest "Writing plugins", hooks ``pytest_runtest_logreport``, ``pytest_runtest_makereport``,
    ``pytest_sessionfinish``; pytest-xdist (``workerinput``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from claims.framework import checks as checks_module
from claims.framework import profiles
from claims.framework.assumption import UnknownAssumptionError
from claims.framework.checks import (
    COUNTEREXAMPLE_PROPERTY,
    CounterexampleNotFound,
    NegativeControlError,
    decode_instance,
)
from claims.framework.claim import CHECK_KINDS, FORMS, Claim, UnknownClaimError, all_claims, get_claim
from claims.framework.instances import load_instance, save_instance
from claims.framework.paper import Paper, PaperSpecError, load_claims, load_paper
from claims.framework.probe import (
    DEFAULT_SECONDS,
    ProbeError,
    ProbeEvaluationError,
    check_budget,
    merge_probes,
    optional_arrays,
    probe,
    probe_pairs,
)
from claims.framework.report import build_report, claim_record, merge_claims, write_reports
from claims.framework.schema import ReportSchemaError, validate_report
from claims.framework.severity import perturbed_holds_fraction
from claims.framework.verdicts import CheckOutcome, decide, surprises

FIGURE_PREFIX = "fig:"
JUNIT_PARTIAL = "junit.partial.xml"
# Set on a report by the process that ran the test (a worker under xdist), read by the main process.
OUTCOME_PROPERTY = "claims:outcome"
CHECK_PROPERTY = "claims:check"
CONTROL_PROPERTY = "claims:control"
# Properties of the framework itself, not figures or section rows.
_INTERNAL = (OUTCOME_PROPERTY, CHECK_PROPERTY, CONTROL_PROPERTY)


def _builtin(value):
    """A numpy scalar as the Python number it holds; anything else unchanged."""
    if hasattr(value, "item") and type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("claims_paper", "the paper's declaration, as 'package.module:ATTRIBUTE' of a "
                  "claims.framework.paper.Paper", default="")
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


def configured_paper(config: pytest.Config) -> Paper:
    """The paper the ini option ``claims_paper`` names (UsageError if it names none)."""
    spec = config.getini("claims_paper")
    if not spec:
        raise pytest.UsageError("claims plugin: set the ini option claims_paper = 'module:ATTRIBUTE'")
    try:
        return load_paper(spec)
    except PaperSpecError as error:
        raise pytest.UsageError(str(error)) from None


def report_dir(config: pytest.Config) -> Path:
    """Where this run writes its report and counterexamples."""
    return Path(config.getoption("--claims-report-dir") or config.rootpath / "reports").resolve()


@pytest.fixture(scope="session")
def claims_report_dir(request: pytest.FixtureRequest) -> Path:
    """The run's report directory (for checks that write figures next to the report)."""
    return report_dir(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "claim(id, *, kind, form=None): a check of claim `id`; kind is symbolic|numerical|"
        "property|empirical; form is printed|corrected|proof-step or None",
    )
    config.addinivalue_line(
        "markers",
        "negative_control(id): shows through checks.rejects() that the checks of claim `id` "
        "reject a broken instance or variant",
    )
    paper = configured_paper(config)
    try:
        profile = profiles.load_profile()
    except profiles.UnknownProfileError as error:
        raise pytest.UsageError(str(error)) from None
    for assumption_id in config.getoption("--violate"):
        try:
            paper.assumption(assumption_id)
        except UnknownAssumptionError as error:
            raise pytest.UsageError(f"--violate: {error}") from None
    try:
        check_budget(None, config.getoption("--probe-seconds"))
    except ProbeError as error:
        raise pytest.UsageError(str(error).replace("--seconds", "--probe-seconds")) from None
    directory = report_dir(config)
    main_process = not hasattr(config, "workerinput")
    writes = not config.getoption("--no-claims-report") and main_process
    own_junit = writes and not config.option.xmlpath
    if own_junit:
        # Written beside the report first; moved over junit.xml only by a run that checked every
        # claim (see ClaimCollector.pytest_sessionfinish), so a partial run keeps the full file.
        config.option.xmlpath = str(directory / JUNIT_PARTIAL)
    collector = ClaimCollector(config, paper, profile, directory, writes, own_junit)
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

    def __init__(self, config: pytest.Config, paper: Paper, profile: str, directory: Path,
                 writes: bool, own_junit: bool) -> None:
        self.config = config
        self.paper = paper
        self.own_junit = own_junit
        self.profile = profile
        self.report_dir = directory
        self.writes = writes
        self.checks: dict[str, _CheckRecord] = {}
        self.controls: dict[str, str] = {}  # nodeid -> claim id
        self.controls_rejected: dict[str, int] = defaultdict(int)
        self.saved_counterexamples: set[str] = set()
        self.mismatches: list[str] = []
        self.verdicts: dict[str, str] = {}
        self.section_rows: dict[str, dict[str, list[dict]]] = {s.key: {} for s in paper.sections}
        self.probes: list[dict] = []  # rows probed in this session
        self.probe_errors: list[str] = []
        self.report_errors: list[str] = []
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
                    reason += f" (replay: {self._replay(claim.id)})"
                item.add_marker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))

    def _record_for(self, item: pytest.Item, marker: pytest.Mark) -> _CheckRecord:
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
        parts = {p.key for p in self.paper.parts}
        if claim.part is not None and claim.part not in parts:
            raise pytest.UsageError(f"{item.nodeid}: claim {claim.id!r} names part {claim.part!r}, which the paper "
                                    f"does not declare (declared: {sorted(parts) or 'none'})")
        doc = (getattr(item, "obj", None).__doc__ or item.name).strip().splitlines()[0]
        return _CheckRecord(claim=claim, kind=kind, form=form, detail=doc)

    # -- running (on the process that runs the test: a worker under xdist) ---------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        __tracebackhide__ = True
        checks_module.reset_rejections()
        result = yield
        if item.get_closest_marker("negative_control") is not None and checks_module.rejections() == 0:
            raise NegativeControlError(
                f"{item.nodeid}: a negative control must run the claim's own evaluation on a broken "
                "instance or variant through claims.framework.checks.rejects(); this one showed no rejection")
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        # numpy scalars (a figure computed with numpy) become Python numbers: the report travels
        # from a pytest-xdist worker to the main process, whose channel serialises builtins only.
        report.user_properties = [(name, _builtin(value)) for name, value in report.user_properties]
        # A skip's location relative to the project root: the JUnit file is committed with the report.
        if report.skipped and isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            path, line, message = report.longrepr
            try:
                path = Path(path).resolve().relative_to(self.config.rootpath.resolve()).as_posix()
            except ValueError:
                pass
            report.longrepr = (path, line, message)
        if call.when == "call" and call.excinfo is not None and call.excinfo.errisinstance(CounterexampleNotFound):
            report.user_properties.append((OUTCOME_PROPERTY, "not-found"))
        # What the check is (a pytest-xdist main process never collects the items itself).
        record = self.checks.get(item.nodeid)
        if record is not None:
            report.user_properties.append((CHECK_PROPERTY, json.dumps(
                {"claim": record.claim.id, "kind": record.kind, "form": record.form, "detail": record.detail})))
        if item.nodeid in self.controls:
            report.user_properties.append((CONTROL_PROPERTY, self.controls[item.nodeid]))
        return report

    # -- outcomes (on the main process) ------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._learn(report)
        control_of = self.controls.get(report.nodeid)
        if control_of is not None and report.when == "call" and report.passed:
            self.controls_rejected[control_of] += 1
        for key, rows in self.section_rows.items():
            found = [json.loads(value) for name, value in report.user_properties if name == key]
            if found:  # every phase's report repeats the item's properties: keep the latest
                rows[report.nodeid] = found
        record = self.checks.get(report.nodeid)
        if record is None:
            return
        marked = None
        for name, value in report.user_properties:
            if name == "examples":
                record.examples = int(value)
            elif name.startswith(FIGURE_PREFIX):
                record.figures[name[len(FIGURE_PREFIX):]] = float(value)
            elif name == COUNTEREXAMPLE_PROPERTY:
                if self.writes:
                    save_instance(self._counterexample_path(record.claim.id), decode_instance(value))
                self.saved_counterexamples.add(record.claim.id)  # found (saved when the run writes)
            elif name == OUTCOME_PROPERTY:
                marked = value
        outcome = marked or self._outcome(report, record.form)
        if outcome is not None and (record.outcome in (None, "pass") or outcome != "pass"):
            record.outcome = outcome

    def _learn(self, report: pytest.TestReport) -> None:
        """Under pytest-xdist the main process did not collect the items: learn each check and
        negative control from the properties its worker attached to the report."""
        for name, value in report.user_properties:
            if name == CHECK_PROPERTY and report.nodeid not in self.checks:
                info = json.loads(value)
                try:
                    claim = get_claim(info["claim"])
                except UnknownClaimError:  # not imported in this process yet
                    self._registered_claims()
                    claim = get_claim(info["claim"])
                self.checks[report.nodeid] = _CheckRecord(claim=claim, kind=info["kind"],
                                                          form=info["form"], detail=info["detail"])
            elif name == CONTROL_PROPERTY and report.nodeid not in self.controls:
                self.controls[report.nodeid] = value

    @staticmethod
    def _outcome(report: pytest.TestReport, form: str | None) -> str | None:
        if report.failed:
            strict_xpass = isinstance(report.longrepr, str) and report.longrepr.startswith("[XPASS(strict)]")
            if strict_xpass and report.when == "call" and form in ("printed", "proof-step"):
                return "xpass"
            return "fail"  # includes setup/teardown errors
        if report.skipped:
            if hasattr(report, "wasxfail"):
                return "xfail"
            return "inconclusive"  # explicit inconclusive() or any other skip
        if report.when == "call":
            return "pass"
        return None

    # -- session end ----------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.checks or hasattr(self.config, "workerinput"):
            return  # a worker's outcomes reach the main process through its test reports
        by_claim: dict[str, list[tuple[str, _CheckRecord]]] = defaultdict(list)
        for nodeid, record in self.checks.items():
            if record.outcome is not None:
                by_claim[record.claim.id].append((nodeid, record))
        records = []
        for claim_id, checks in by_claim.items():
            claim = checks[0][1].claim
            outcomes = [CheckOutcome(c.kind, c.outcome, c.form, c.examples, c.detail) for _, c in checks]
            nodeids = [nodeid for nodeid, _ in checks]
            verdict = decide(outcomes)
            self.verdicts[claim_id] = verdict
            reasons = []
            if verdict != claim.expected_verdict or surprises(outcomes):
                tests = [n for n, c in checks if c.outcome in ("fail", "xpass", "not-found")] or nodeids
                what = {"fail": "failed", "xpass": "passed though recorded as failing",
                        "not-found": "found no counterexample"}
                how = "; ".join(f"{n} {what.get(c.outcome, c.outcome)}" for n, c in checks if n in tests) \
                    or ", ".join(tests)
                reasons.append(f"claim {claim_id}: recorded {claim.expected_verdict}, now {verdict} (test {how})")
            ce_path = self._counterexample_path(claim_id)
            saved = claim_id in self.saved_counterexamples or ce_path.is_file()
            if verdict in ("erratum", "refuted") and verdict == claim.expected_verdict and not saved:
                reasons.append(f"claim {claim_id}: {verdict} but no saved counterexample")
            if self.controls_rejected[claim_id] == 0:
                reasons.append(f"claim {claim_id}: no negative control passed (none ran, or it failed)")
            self.mismatches += reasons
            figures = {k: v for _, c in checks for k, v in c.figures.items()}
            figures["negative_controls_rejected"] = self.controls_rejected[claim_id]
            fraction = self._degenerate_evidence(claim, verdict, ce_path)
            if fraction is not None:
                figures["perturbed_holds_fraction"] = fraction
            records.append(claim_record(claim, verdict, outcomes, figures, tests=nodeids,
                                        mismatch="; ".join(reasons) or None,
                                        counterexample_file=self._display(ce_path) if saved else None,
                                        replay=self._replay(claim_id),
                                        finding=self.paper.findings.get(claim_id),
                                        depends_on=self.paper.depends_on.get(claim_id, ())))
        claims = [checks[0][1].claim for checks in by_claim.values()]
        self._probe(claims)
        if self.writes and records:
            try:
                self._write(records, claims)
            except (ReportSchemaError, OSError) as error:
                self.report_errors.append(f"the report was not written: {error}")
        if self.mismatches or self.probe_errors or self.report_errors:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _write(self, records: list[dict], claims: list[Claim]) -> None:
        previous = self._previous_report()
        registered_claims = self._registered_claims()
        registered = [c.id for c in registered_claims]
        # The paper's order when it declares one (stable whichever modules this run imported first).
        order = [i for i in self.paper.claim_order if i in registered] + \
            [i for i in registered if i not in self.paper.claim_order]
        merged = merge_claims(previous.get("claims", []) if isinstance(previous.get("claims"), list) else [],
                              records, order)
        part = {c.id: c.part for c in registered_claims}
        run_now = {r["id"] for r in records}
        for record in merged:  # a kept record takes its claim's current part (older reports had none)
            record["part"] = part[record["id"]]
            finding = self.paper.findings.get(record["id"])
            flagged = record["verdict"] in ("erratum", "refuted", "gap") and finding is not None
            judged = (finding.severity, finding.root_cause) if flagged else (None, None)
            if record["id"] not in run_now and (record["severity"], record["root_cause"]) != judged:
                # a kept record takes the paper's current judgement of its finding (it was edited since)
                record["severity"], record["root_cause"] = judged
                record["severity_evidence"] = finding.evidence if flagged else None
        probes = merge_probes(self._previous_probes(previous, order), self.probes, order,
                              self.paper.assumption_ids)
        sections = {}
        for section in self.paper.sections:
            rows = [row for per_test in self.section_rows[section.key].values() for row in per_test]
            if not rows and isinstance(previous.get(section.key), list):
                rows = previous[section.key]  # the section's checks did not run: keep its rows
            sections[section.key] = rows
        run_ids = [c.id for c in claims]
        report = build_report(self.paper, merged, profile=self.profile, root=self.config.rootpath,
                              claims_run=[i for i in order if i in run_ids] + [i for i in run_ids if i not in order],
                              mismatches=self.mismatches, probes=probes, sections=sections)
        validate_report(report, self.paper.sections)
        write_reports(report, self.report_dir, self.paper)

    def _degenerate_evidence(self, claim: Claim, verdict: str, ce_path: Path) -> float | None:
        """For a finding recorded as degenerate: the fraction of small perturbations of its
        saved counterexample on which the printed statement holds (None when not measurable)."""
        finding = self.paper.findings.get(claim.id)
        if finding is None or finding.severity != "degenerate" or claim.evaluate is None:
            return None
        if verdict not in ("erratum", "refuted") or not ce_path.is_file():
            return None
        instance = load_instance(ce_path, claim.instance_arrays, optional_arrays(self.paper, claim))
        return perturbed_holds_fraction(claim.evaluate, instance, fixed=self.paper.fixed_arrays)

    def _counterexample_path(self, claim_id: str) -> Path:
        """Where the run saves a claim's printed-form counterexample."""
        return self.report_dir / "counterexamples" / f"{claim_id}.npz"

    def _replay(self, claim_id: str) -> str:
        """The command that replays a claim's printed-form counterexample (exit 1)."""
        return f"{self.paper.command} check {claim_id} --data {self._display(self._counterexample_path(claim_id))}"

    def _display(self, path: Path) -> str:
        """``path`` relative to the project root when inside it (the report's convention)."""
        try:
            return path.resolve().relative_to(self.config.rootpath.resolve()).as_posix()
        except ValueError:
            return str(path)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """After pytest's JUnit writer: a run that checked every registered claim replaces
        junit.xml; any other run (unit tests only, -k, one file) leaves it as it was."""
        if not self.own_junit:
            return
        partial = self.report_dir / JUNIT_PARTIAL
        if not partial.is_file():
            return
        complete = bool(self.verdicts) and set(self.verdicts) >= {c.id for c in all_claims()}
        if complete:
            partial.replace(self.report_dir / "junit.xml")
        else:
            partial.unlink()

    def _registered_claims(self) -> list[Claim]:
        """Every claim of the paper, in module order (imports the claim modules not collected)."""
        return load_claims(self.paper)

    def _previous_report(self) -> dict:
        try:
            previous = json.loads((self.report_dir / "claims.json").read_text())
        except (OSError, ValueError):
            return {}
        return previous if isinstance(previous, dict) else {}

    def _probe(self, claims: list[Claim]) -> None:
        """Probe each claim of the session against each ``--violate`` assumption it lists."""
        seconds = self.config.getoption("--probe-seconds")
        for assumption_id in self.config.getoption("--violate"):
            listing = [c for c in claims if assumption_id in c.assumptions]
            pairs = probe_pairs(listing, assumption_id)
            self.unprobed += [c.id for c in listing if c.verified_form is None]
            for claim, _ in pairs:
                try:
                    result = probe(self.paper, claim, assumption_id, seconds=seconds,
                                   report_dir=self.report_dir, root=self.config.rootpath)
                    self.probes.append(result.as_record())
                except (ProbeError, ProbeEvaluationError) as error:
                    self.probe_errors.append(str(error))

    def _previous_probes(self, previous: dict, order: list[str]) -> list[dict]:
        """Probe rows of the previous report that still describe a registered claim: the
        claim still lists the assumption and a break's counterexample file is there."""
        rows = previous.get("probes")
        listed = {(c.id, a) for c in all_claims() if c.id in order for a in c.assumptions}
        kept = []
        for row in rows if isinstance(rows, list) else []:
            try:
                key = (row["claim"], row["assumption"])
                ce = row["counterexample"]
                if key in listed and (ce is None or (self.config.rootpath / ce["file"]).is_file()
                                      or Path(ce["file"]).is_file()):
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
        for line in self.report_errors:
            terminalreporter.write_line(f"REPORT ERROR {line}", red=True)
        if self.writes and not self.report_errors:
            terminalreporter.write_line(f"report written to {self.report_dir}")
