"""The ``python -m claims`` command line.

- ``list``: claims with reference, assumptions and the verdict of the last report.
- ``report``: runs the suite and writes the report (same as ``pytest claims/``).
- ``check CLAIM_ID --data FILE.npz``: the claim's printed statement on a user's
  instance; prints ``{"claim", "verdict": "holds"|"fails", "figures"}``, exits 0/1.

User mistakes print one line on stderr and exit 2, never a traceback.

References:
    DESIGN.md, "Command line".
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import claims
from claims.framework import paths
from claims.framework.claim import Claim, UnknownClaimError, all_claims, get_claim
from claims.framework.instances import InstanceError, load_instance

EXIT_USAGE = 2


class UsageError(Exception):
    """A user mistake on the command line; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage + message; we want one line
        raise UsageError(f"{message} (see 'python -m claims {self.prog.split()[-1]} --help')"
                         if " " in self.prog else f"{message} (see 'python -m claims --help')")


def load_claim_modules() -> list[Claim]:
    """Import every ``claims.claim_*`` module so that its claims are registered."""
    for info in pkgutil.iter_modules(claims.__path__):
        if info.name.startswith("claim_"):
            importlib.import_module(f"claims.{info.name}")
    return all_claims()


def _last_verdicts() -> dict[str, str]:
    report = paths.report_dir() / "claims.json"
    if not report.is_file():
        return {}
    try:
        return {c["id"]: c["verdict"] for c in json.loads(report.read_text())["claims"]}
    except (ValueError, KeyError, TypeError):
        return {}


def cmd_list(args: argparse.Namespace) -> int:
    verdicts = _last_verdicts()
    rows = [(c.id, c.paper_ref, ",".join(c.assumptions) or "-", verdicts.get(c.id, "not run"))
            for c in load_claim_modules()]
    if args.json:
        print(json.dumps([dict(zip(("id", "paper_ref", "assumptions", "verdict"), r)) for r in rows]))
        return 0
    widths = [max(len(r[i]) for r in rows + [("claim", "reference", "assumptions", "verdict")])
              for i in range(4)]
    for row in [("claim", "reference", "assumptions", "verdict")] + rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import pytest

    return int(pytest.main([str(Path(claims.__file__).parent), "-q", *args.pytest_args]))


def cmd_check(args: argparse.Namespace) -> int:
    load_claim_modules()
    try:
        claim = get_claim(args.claim_id)
    except UnknownClaimError as error:
        raise UsageError(str(error)) from None
    if claim.evaluate is None:
        raise UsageError(f"claim {claim.id!r} does not take an instance; "
                         "'python -m claims list' shows the claims, 'report' runs them all")
    try:
        instance = load_instance(Path(args.data), claim.instance_arrays)
    except InstanceError as error:
        raise UsageError(str(error)) from None
    result = claim.evaluate(instance)
    print(json.dumps({
        "claim": claim.id,
        "verdict": "holds" if result.holds else "fails",
        "figures": {k: float(v) for k, v in result.figures.items()},
    }))
    return 0 if result.holds else 1


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="claims", description="Executable referee report: claims of the paper.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    p_list = sub.add_parser("list", help="claims with reference, assumptions, last verdict")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_list.set_defaults(run=cmd_list)
    p_report = sub.add_parser("report", help="run every claim and write reports/ (= pytest claims/)")
    p_report.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments")
    p_report.set_defaults(run=cmd_report)
    p_check = sub.add_parser("check", help="check one claim's printed statement on an instance file")
    p_check.add_argument("claim_id", help="a claim id, as 'list' shows it")
    p_check.add_argument("--data", required=True, help=".npz file with the arrays the claim needs")
    p_check.set_defaults(run=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
