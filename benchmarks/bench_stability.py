"""Stability of the verdicts under random seeds: does every claim get its recorded verdict?

Runs ``pytest claims/`` under the ``dev`` profile with N random Hypothesis seeds, and once
under ``thorough``, each into its own temporary report directory (no profile keeps an
example database, so every run starts empty), and prints per claim how many runs gave the
verdict recorded for it (``Claim.expected_verdict``). Not part of CI: the ``thorough`` run
alone takes several times as long as the ``ci`` one.

    python benchmarks/bench_stability.py                    # 10 dev seeds + thorough
    python benchmarks/bench_stability.py --seeds 1 2 3 --no-thorough --jobs 2

Prints a Markdown table of the claims that did not always get their recorded verdict (and
the totals), then one line per run with its seed, time and number of mismatches; with
``--all-rows`` every claim gets a row. ``--jobs N`` spreads each run over N pytest-xdist
workers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(profile: str, seed: int | None, jobs: int, report_dir: Path) -> tuple[dict, float, int]:
    """({claim: (verdict, as recorded?)}, wall seconds, exit status) of one run."""
    argv = [sys.executable, "-m", "pytest", "claims/", "-q", "-p", "no:cacheprovider",
            "--claims-report-dir", str(report_dir)]
    if seed is not None:
        argv.append(f"--hypothesis-seed={seed}")
    if jobs > 1:
        argv += ["-n", str(jobs)]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, CLAIMS_PROFILE=profile))
    seconds = time.perf_counter() - start
    try:
        report = json.loads((report_dir / "claims.json").read_text())
    except (OSError, ValueError):
        sys.exit(f"run {profile} seed={seed} wrote no report:\n{result.stdout[-3000:]}")
    # A claim whose run gave its recorded verdict (for this profile) has no mismatch.
    return ({c["id"]: (c["verdict"], c["mismatch"] is None) for c in report["claims"]},
            seconds, result.returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=None,
                        help="dev-profile seeds (default: 10 seeds drawn from the clock)")
    parser.add_argument("--no-thorough", action="store_true", help="skip the thorough run")
    parser.add_argument("--jobs", type=int, default=1, help="pytest-xdist workers per run")
    parser.add_argument("--all-rows", action="store_true", help="a row for every claim")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else [int(time.time_ns() % 10**9) + k for k in range(10)]

    runs = [("dev", s) for s in seeds] + ([] if args.no_thorough else [("thorough", None)])
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (profile, seed) in enumerate(runs):
            verdicts, seconds, status = run(profile, seed, args.jobs, Path(tmp) / f"run{k}")
            results.append((profile, seed, verdicts, seconds, status))
            print(f"# {profile} seed={seed}: {seconds:.0f} s, exit {status}, "
                  f"{sum(not ok for _, ok in verdicts.values())} claims off their recorded verdict",
                  file=sys.stderr)
    header = [f"{p}{'' if s is None else f' {s}'}" for p, s, *_ in results]
    print("| claim | runs giving its recorded verdict | " + " | ".join(header) + " |")
    print("|---|---|" + "---|" * len(header))
    claim_ids = list(results[0][2])
    stable = 0
    for claim_id in claim_ids:
        got = [r[2].get(claim_id, ("missing", False)) for r in results]
        agree = sum(ok for _, ok in got)
        stable += agree == len(got)
        if args.all_rows or agree < len(got):
            cells = " | ".join(f"{v}" if ok else f"**{v}**" for v, ok in got)
            print(f"| `{claim_id}` | {agree}/{len(got)} | {cells} |")
    print(f"\n{stable} of {len(claim_ids)} claims got their recorded verdict in all {len(results)} runs "
          "(the recorded verdict is the profile's: the Section 4 claims record one per profile).")
    print("\n| run | seconds | exit |\n|---|---|---|")
    for profile, seed, _, seconds, status in results:
        print(f"| {profile}{'' if seed is None else f' seed {seed}'} | {seconds:.0f} | {status} |")


if __name__ == "__main__":
    main()
