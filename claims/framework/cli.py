"""The ``python -m claims`` command line.

- ``list``: claims in the paper's order: reference, last verdict, the arrays ``check`` needs,
  whether ``probe`` applies, statement (``--json``: arrays with shapes and meaning).
- ``show CLAIM_ID``: one claim in full, with its assumptions and arrays.
- ``report``: runs the suite and writes the report (same as ``pytest claims/``).
- ``check CLAIM_ID [--data FILE.npz] [--form printed|verified]``: the claim's printed
  statement (or the one its checks verify) on a user's instance; prints
  ``{"claim", "assumptions": {id: true|false|null}, "verdict": "holds"|"fails", "figures"}``
  and exits 0/1. ``assumptions`` says, before the verdict, which of the claim's assumptions
  the instance satisfies (null: the file lacks an array the assumption's test reads), so a
  failure reads as a refutation or as an instance outside the claim.
- ``probe CLAIM_ID --violate ASSUMPTION`` / ``probe --all [--violate ASSUMPTION]``: hunt for
  a counterexample with that assumption dropped (:mod:`claims.framework.probe`); ``--all``
  merges the claims x assumptions matrix into the last report.

Every command takes ``--report-dir`` (relative to the current folder; default the project's
``reports/``). Paths printed work from the folder the command runs in. User mistakes print one
line on stderr and exit 2, never a traceback.

The command line serves any paper: the paper's package calls :func:`main` with its
:class:`~claims.framework.paper.Paper` and its project root (whose ``reports/`` is the
default report directory); this suite's ``claims/__main__.py`` does exactly that.

References:
    The project's README ("Command line") and CONTRIBUTING.md.
"""

from __future__ import annotations

import argparse
import os
import importlib
import json
import sys
import time
from pathlib import Path

from claims.framework import profiles
from claims.framework.assumption import UnknownAssumptionError
from claims.framework.claim import Claim, UnknownClaimError, get_claim
from claims.framework.instances import InstanceError, load_instance, stored_precision
from claims.framework.probe import (
    DEFAULT_SECONDS,
    ProbeError,
    ProbeEvaluationError,
    check_budget,
    check_target,
    merge_probes,
    optional_arrays,
    probe,
    probe_all,
    probe_pairs,
    probeable,
    unprobeable,
)
from claims.framework.paper import Paper, load_claims
from claims.framework.report import write_reports
from claims.framework.schema import validate_report

EXIT_USAGE = 2
EXIT_DEFECT = 3  # a claim's own code raised during a probe: not the user's mistake

# Total wall-clock budget of ``probe --all``: about 80 (claim, assumption) cells at a few
# seconds each under the ci profile, with room for the slow ones.
DEFAULT_ALL_SECONDS = 1200.0


class UsageError(Exception):
    """A user mistake on the command line; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; we want one line
        raise UsageError(f"{message} (see 'python -m claims {self.prog.split()[-1]} --help')"
                         if " " in self.prog else f"{message} (see 'python -m claims --help')")


def load_claim_modules(paper: Paper) -> list[Claim]:
    """Every claim of the paper (see :func:`claims.framework.paper.load_claims`)."""
    return load_claims(paper)


def _json_number(value) -> float | str:
    """A figure as strict JSON: a float, or "inf", "-inf", "nan" (JSON has no non-finite numbers)."""
    value = float(value)
    return value if value == value and abs(value) != float("inf") else str(value)


def _report_dir(args: argparse.Namespace) -> Path:
    """The report directory: ``--report-dir`` (relative to the current folder) or reports/."""
    given = getattr(args, "report_dir", None)
    return Path(given).resolve() if given else args.root / "reports"


def _last_verdicts(args: argparse.Namespace) -> dict[str, str]:
    """{claim id: verdict} of the last report; {} when the default report directory has none yet.
    A ``--report-dir`` the user names must hold a readable report (UsageError otherwise)."""
    folder = _report_dir(args)
    report = folder / "claims.json"
    given = getattr(args, "report_dir", None) is not None
    if given and not folder.is_dir():
        raise UsageError(f"--report-dir: {str(folder)!r} is not a folder")
    if not report.is_file():
        if given:
            raise UsageError(f"--report-dir: no claims.json in {str(folder)!r} (a report directory is written by "
                             "'python -m claims report --report-dir DIR')")
        return {}
    try:
        return {c["id"]: c["verdict"] for c in json.loads(report.read_text())["claims"]}
    except (ValueError, KeyError, TypeError) as error:
        if given:
            raise UsageError(f"--report-dir: {str(report)!r} is not a readable report ({error})") from None
        return {}


def _in_paper_order(paper: Paper, claims_: list[Claim]) -> list[Claim]:
    position = {claim_id: i for i, claim_id in enumerate(paper.claim_order)}
    return sorted(claims_, key=lambda c: position.get(c.id, len(position)))


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cmd_list(args: argparse.Namespace) -> int:
    paper = args.paper
    verdicts = _last_verdicts(args)
    claims_ = _in_paper_order(paper, load_claim_modules(paper))
    if args.json:
        print(json.dumps([{
            "id": c.id, "paper_ref": c.paper_ref, "part": c.part, "statement": c.statement,
            "assumptions": list(c.assumptions),
            "arrays": [{"name": a, "doc": paper.array_doc(c, a)} for a in c.instance_arrays],
            "checkable": c.evaluate is not None, "probeable": probeable(c),
            "verdict": verdicts.get(c.id, "not run")} for c in claims_]))
        return 0
    header = ("claim", "reference", "verdict", "check (arrays)", "probe", "statement")
    rows = [(c.id, c.paper_ref, verdicts.get(c.id, "not run"),
             ",".join(c.instance_arrays) if c.evaluate is not None else "-",
             "yes" if probeable(c) else "-", _short(c.statement, 70)) for c in claims_]
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    for row in [header] + rows:
        print("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[5]]).rstrip())
    print(f"\n{len(rows)} claims. 'show CLAIM_ID' prints one claim with its arrays (shapes, meaning) "
          "and assumptions; 'check CLAIM_ID --data FILE.npz' evaluates it on your arrays.")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    paper = args.paper
    claim = _claim(args, args.claim_id)
    verdict = _last_verdicts(args).get(claim.id, "not run")
    lines = [f"{claim.id} ({claim.paper_ref}){' [part: ' + claim.part + ']' if claim.part else ''}",
             f"  verdict in the last report: {verdict}; the suite expects: {claim.expected_verdict}"
             + (" (a run that gives another verdict is a mismatch and fails)" if verdict not in (
                 "not run", claim.expected_verdict) else ""),
             f"  statement: {_short(claim.statement, 2000)}"]
    if claim.reading:
        lines.append(f"  reading: {_short(claim.reading, 2000)}")
    if claim.correction:
        lines.append(f"  correction: {_short(claim.correction, 2000)}")
    for assumption_id in claim.assumptions:
        assumption = paper.assumption(assumption_id)
        lines.append(f"  assumption {assumption_id} ({assumption.paper_ref}): {_short(assumption.statement, 300)}")
    if claim.evaluate is None:
        lines.append("  check: no (the claim does not take an instance; its checks run in 'report')")
    else:
        lines.append(f"  check: python -m claims check {claim.id} --data FILE.npz, with arrays (float, saved with numpy.savez):")
        lines += [f"    {name}: {paper.array_doc(claim, name)}" for name in claim.instance_arrays]
        if claim.assumptions:  # the arrays its assumptions' tests read, and the paper's variant switches
            lines += [f"    {name} (optional): {paper.array_doc(claim, name)}"
                      for name in optional_arrays(paper, claim) if name not in claim.instance_arrays]
    lines.append(f"  probe: {'yes, --violate one of: ' + ', '.join(claim.assumptions) if probeable(claim) else 'no'}")
    print("\n".join(lines))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import pytest

    package = importlib.import_module(args.paper.claim_package)
    return int(pytest.main([str(Path(package.__file__).parent), "-q",
                            f"--claims-report-dir={_report_dir(args)}", *args.pytest_args]))


def _claim(args: argparse.Namespace, claim_id: str) -> Claim:
    load_claim_modules(args.paper)
    try:
        return get_claim(claim_id)
    except UnknownClaimError as error:
        raise UsageError(str(error)) from None


def _own_input_error(paper: Paper, error: Exception) -> bool:
    """One of the paper's named input errors (``Paper.input_errors``): the instance is
    outside what the claim's code accepts, which is the user's to fix."""
    return isinstance(error, paper.input_errors)


def assumption_verdicts(paper: Paper, claim: Claim, instance,
                        precision: float = 2.0 ** -53) -> dict[str, bool | None]:
    """{id: whether the instance satisfies it} for each assumption the claim lists; None
    when the instance lacks an array the assumption's test reads. ``precision``: the unit
    roundoff of the arrays as stored (a precision-aware test widens its tolerances to it)."""
    verdicts: dict[str, bool | None] = {}
    for assumption_id in claim.assumptions:
        assumption = paper.assumption(assumption_id)
        if any(name not in instance for name in assumption.arrays):
            verdicts[assumption_id] = None
            continue
        try:
            verdicts[assumption_id] = bool(assumption.test(instance, precision=precision)
                                           if assumption.precision_aware else assumption.test(instance))
        except ValueError as error:
            if not _own_input_error(paper, error):
                raise
            # e.g. a zero x_i: its cosine is undefined, so Assumption 1 cannot be said to hold
            verdicts[assumption_id] = False
    return verdicts


def cmd_check(args: argparse.Namespace) -> int:
    paper = args.paper
    claim = _claim(args, args.claim_id)
    if claim.evaluate is None:
        raise UsageError(f"claim {claim.id!r} does not take an instance; "
                         "'python -m claims list' shows the claims, 'report' runs them all")
    evaluate = claim.evaluate if args.form == "printed" else claim.verified_form
    if evaluate is None:
        raise UsageError(f"claim {claim.id!r} is {claim.expected_verdict} with no verified statement to "
                         "evaluate; use --form printed")
    if args.data is None:  # replay the counterexample the last report saved for this claim
        saved = _report_dir(args) / "counterexamples" / f"{claim.id}.npz"
        if not saved.is_file():
            raise UsageError(f"no --data given and no saved counterexample {saved} for {claim.id!r}; "
                             f"'python -m claims show {claim.id}' lists the arrays a --data file needs")
        args.data = str(saved)
    try:
        instance = load_instance(Path(args.data), claim.instance_arrays, optional_arrays(paper, claim),
                                 rules=paper.instance_rules)
    except InstanceError as error:
        raise UsageError(str(error)) from None
    precision = stored_precision(Path(args.data))
    try:
        assumptions = assumption_verdicts(paper, claim, instance, precision)
        result = evaluate(instance)
    except Exception as error:  # noqa: BLE001 - only the paper's input errors are the user's
        if not _own_input_error(paper, error):
            raise
        raise UsageError(f"claim {claim.id!r} cannot be evaluated on {args.data!r}: {error}") from None
    reason = None
    if result.undefined:
        reason = result.reason or "a quantity the statement uses does not exist on this instance"
    elif not result.holds:
        reason = result.reason or ("the statement's condition is false on this instance (this claim's "
                                   "evaluation names no finer part; see figures)")
    print(json.dumps({
        "claim": claim.id,
        "assumptions": assumptions,
        "verdict": "holds" if result.holds else "undefined" if result.undefined else "fails",
        "reason": reason,
        "figures": {k: _json_number(v) for k, v in result.figures.items()},
        "precision": "float64" if precision <= 2.0 ** -53 else
                     (f"arrays stored at unit roundoff {precision:.3g}: the assumption tests that depend on rounding "
                      "widen their tolerances to it; the claim's own evaluation keeps its float64 tolerances"),
    }))
    return 0 if result.holds else 1


def _load_profile() -> str:
    try:
        return profiles.load_profile()
    except profiles.UnknownProfileError as error:
        raise UsageError(str(error)) from None


def _positive_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None


def _positive_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}") from None


def _report_for_merge(paper: Paper, report_dir: Path) -> dict:
    path = report_dir / "claims.json"
    if not path.is_file():
        raise UsageError(f"no report at {path} to write the probe matrix into; run "
                         "'python -m claims report' first, or pass --no-write")
    try:
        report = json.loads(path.read_text())
        validate_report(report, paper.sections)  # before probing: a stale report is refused at once
    except ValueError as error:  # JSONDecodeError and ReportSchemaError
        raise UsageError(f"{path} is not a valid claim report ({error}); regenerate it with "
                         "'python -m claims report'") from None
    return report


def cmd_probe(args: argparse.Namespace) -> int:
    seconds = args.seconds if args.seconds is not None else (DEFAULT_ALL_SECONDS if args.all else DEFAULT_SECONDS)
    try:
        check_budget(args.max_examples, seconds)
    except ProbeError as error:
        raise UsageError(str(error)) from None
    args.report_dir = _report_dir(args)
    if args.all == (args.claim_id is not None):
        raise UsageError("give either a CLAIM_ID or --all (see 'python -m claims probe --help')")
    if args.all:
        return _probe_all(args, seconds)
    if args.violate is None:
        raise UsageError("probe CLAIM_ID needs --violate ASSUMPTION (one the claim lists; "
                         "'python -m claims show CLAIM_ID' shows them)")
    if args.no_write:
        raise UsageError("--no-write goes with --all; a single probe never writes the report")
    claim = _claim(args, args.claim_id)
    try:
        check_target(args.paper, claim, args.violate)
    except ProbeError as error:
        raise UsageError(str(error)) from None
    _load_profile()
    try:
        result = probe(args.paper, claim, args.violate, max_examples=args.max_examples, seconds=seconds,
                       report_dir=args.report_dir, root=args.root)
    except ProbeError as error:
        raise UsageError(str(error)) from None
    except ProbeEvaluationError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DEFECT
    print(json.dumps(_from_here(result.as_record(), args.root)))
    return 0


def _from_here(record: dict, root: Path) -> dict:
    """A probe row whose counterexample path and replay command work from the current folder:
    relative to the project root (the report's convention) when run there, absolute elsewhere."""
    ce = record.get("counterexample")
    if ce is None or Path.cwd().resolve() == root or Path(ce["file"]).is_absolute():
        return record
    absolute = str(root / ce["file"])
    return dict(record, counterexample=dict(ce, file=absolute, replay=ce["replay"].replace(ce["file"], absolute)))


def _probe_all(args: argparse.Namespace, seconds: float) -> int:
    paper = args.paper
    claims_ = load_claim_modules(paper)
    if args.violate is not None:
        try:
            paper.assumption(args.violate)
        except UnknownAssumptionError as error:
            raise UsageError(str(error)) from None
    report_dir = args.report_dir
    report = None if args.no_write else _report_for_merge(paper, report_dir)
    _load_profile()
    pairs = probe_pairs(claims_, args.violate)
    start = time.monotonic()
    errors: list[str] = []
    try:
        results = probe_all(paper, pairs, max_examples=args.max_examples, seconds=seconds, errors=errors,
                            jobs=args.jobs, report_dir=report_dir, root=args.root)
    except ProbeError as error:
        raise UsageError(str(error)) from None
    rows = [r.as_record() for r in results]
    holes = [c.id for c in unprobeable(claims_)
             if args.violate is None or args.violate in c.assumptions]
    written = None
    if report is not None:
        report["probes"] = merge_probes(report.get("probes", []), rows,
                                        [c.get("id") for c in report.get("claims", [])], paper.assumption_ids)
        validate_report(report, paper.sections)  # the rows are ours and the rest was valid: a failure is a bug
        write_reports(report, report_dir, paper)
        written = str(report_dir / "claims.json")
    print(json.dumps({"probes": rows, "unprobeable": holes, "errors": errors,
                      "seconds": round(time.monotonic() - start, 3), "report": written}))
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    return EXIT_DEFECT if errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="claims", description="Executable referee report: claims of the paper.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--report-dir", default=None,
                       help="report directory (claims.json, counterexamples/), relative to the current "
                            "folder; default: the project's reports/")
    p_list = sub.add_parser("list", parents=[where], help="claims: reference, last verdict, arrays, statement",
                            description="Every claim in the paper's order: its reference, the verdict of the "
                                        "last report, the arrays 'check' needs (- : it takes none), whether "
                                        "'probe' applies, and the statement. --json gives the same with each "
                                        "array's shape and meaning, assumptions as a list.")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_list.set_defaults(run=cmd_list)
    p_show = sub.add_parser("show", parents=[where], help="one claim: statement, assumptions, arrays with shapes",
                            description="One claim in full: statement, reading, correction, each assumption, "
                                        "the arrays 'check' needs with their shapes and meaning, and whether "
                                        "'probe' applies.")
    p_show.add_argument("claim_id", help="a claim id, as 'list' shows it")
    p_show.set_defaults(run=cmd_show)
    p_report = sub.add_parser("report", parents=[where], help="run every claim and write the report (= pytest claims/)")
    p_report.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments")
    p_report.set_defaults(run=cmd_report)
    p_check = sub.add_parser(
        "check", parents=[where], help="check one claim's printed statement on an instance file",
        description="Evaluate the claim on your arrays. Prints JSON {claim, assumptions: {id: true|false|null}, "
                    "verdict: holds|fails|undefined, reason (what failed, or why the statement is undefined "
                    "here), figures, precision}; exit 0 (holds), 1 (fails or undefined), 2 (your input is wrong). 'show CLAIM_ID' lists the arrays.")
    p_check.add_argument("claim_id", help="a claim id, as 'list' shows it")
    p_check.add_argument("--data", default=None,
                         help=".npz file (numpy.savez) with the arrays the claim needs; default: the "
                              "counterexample the last report saved for the claim")
    p_check.add_argument("--form", choices=("printed", "verified"), default="printed",
                         help="printed: the statement as printed (default); verified: the statement "
                              "the claim's checks verify (the corrected one for an erratum), which probes evaluate")
    p_check.set_defaults(run=cmd_check)
    p_probe = sub.add_parser(
        "probe", parents=[where], help="drop one assumption of a claim and hunt for a counterexample",
        description="Violate one assumption the claim lists, keep the others, and let Hypothesis "
                    "search and shrink an instance where the claim fails. Prints JSON "
                    "{claim, assumption, outcome: holds|undefined|breaks, examples, seconds, counterexample}; "
                    "a counterexample is saved as an .npz that 'check' replays (exit 1). "
                    "--all probes every claim against every assumption it lists, writes the "
                    "matrix into the report's 'probes' and prints {probes: [rows as above], "
                    "unprobeable: [claims listing assumptions without an instance evaluation], "
                    "errors: [claims whose code raised], seconds, report}. Exit 0 whatever the "
                    "outcome; 2 on a usage error; 3 when a claim's own code raises.")
    p_probe.add_argument("claim_id", nargs="?", help="a claim id, as 'list' shows it")
    p_probe.add_argument("--violate", metavar="ASSUMPTION",
                         help="the assumption to drop (required with CLAIM_ID; with --all, only this column)")
    p_probe.add_argument("--all", action="store_true", help="every (claim, listed assumption) pair")
    p_probe.add_argument("--max-examples", type=_positive_int, default=None,
                         help="Hypothesis example budget per probe (default: the profile's, ci: 40)")
    p_probe.add_argument("--seconds", type=_positive_float, default=None,
                         help=f"wall-clock budget: per probe (default {DEFAULT_SECONDS:g}), or in total "
                              f"with --all (default {DEFAULT_ALL_SECONDS:g})")
    p_probe.add_argument("--jobs", type=_positive_int, default=1,
                         help="with --all: worker processes probing pairs in parallel (default 1)")
    p_probe.add_argument("--no-write", action="store_true",
                         help="with --all: print the matrix but leave claims.json and claims.md alone")
    p_probe.set_defaults(run=cmd_probe)
    return parser


def main(argv: list[str] | None = None, *, paper: Paper, root: Path) -> int:
    """Run one command for ``paper``; ``root`` is its project root (default reports/ there)."""
    try:
        args = build_parser().parse_args(argv)
        args.paper, args.root = paper, Path(root).resolve()
        return args.run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (``... | head``): stop quietly, as a Unix filter does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
