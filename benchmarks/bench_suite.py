"""Time the whole suite: ``pytest claims/`` and ``probe --all``, serial and in parallel.

Runs each command in a fresh subprocess from the project root, writing its report into a
temporary directory (the project's ``reports/`` is never touched), and measures wall-clock
seconds and CPU seconds (user + system of the child processes, from ``resource.getrusage``).
Parallel runs use pytest-xdist (``pytest -n N claims/``) and ``probe --all --jobs N``; the
ratio column is the serial wall time over the parallel one, measured in the same run.

    python benchmarks/bench_suite.py                 # both commands, serial and -n 2
    python benchmarks/bench_suite.py --jobs 2 --only pytest

Prints a Markdown table (the one the README shows; benchmarks/RESULTS.md keeps the last one
recorded), whether the claim verdicts of the two pytest runs and the probe cells of the two probe
runs agree, and the machine's load average before each command.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


LOADS: list[float] = []  # 1-minute load average before each command


def timed(argv: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall s, CPU s of the child and its descendants, result) of one command."""
    LOADS.append(os.getloadavg()[0])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, CLAIMS_PROFILE=os.environ.get("CLAIMS_PROFILE", "ci")))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def pytest_run(report_dir: Path, jobs: int) -> tuple[float, float, dict]:
    argv = [sys.executable, "-m", "pytest", "claims/", "-q", "-p", "no:cacheprovider",
            "--claims-report-dir", str(report_dir)]
    if jobs > 1:
        argv += ["-n", str(jobs)]
    wall, cpu, result = timed(argv)
    if result.returncode != 0:
        sys.exit(f"pytest claims/ (jobs={jobs}) failed:\n{result.stdout[-4000:]}")
    report = json.loads((report_dir / "claims.json").read_text())
    return wall, cpu, {c["id"]: c["verdict"] for c in report["claims"]}


def probe_run(report_dir: Path, jobs: int, seconds: float) -> tuple[float, float, dict]:
    argv = [sys.executable, "-m", "claims", "probe", "--all", "--report-dir", str(report_dir),
            "--seconds", str(seconds), "--jobs", str(jobs)]
    wall, cpu, result = timed(argv)
    if result.returncode not in (0, 3):
        sys.exit(f"probe --all (jobs={jobs}) failed:\n{result.stderr[-4000:]}")
    out = json.loads(result.stdout)
    return wall, cpu, {(r["claim"], r["assumption"]): r["outcome"] for r in out["probes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel workers (default 2)")
    parser.add_argument("--only", choices=("pytest", "probe"), default=None)
    parser.add_argument("--probe-seconds", type=float, default=1200.0,
                        help="total budget of probe --all (default 1200, the command's default)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        serial_dir, parallel_dir = Path(tmp) / "serial", Path(tmp) / "parallel"
        if args.only in (None, "pytest"):
            w1, c1, v1 = pytest_run(serial_dir, 1)
            w2, c2, v2 = pytest_run(parallel_dir, args.jobs)
            same = "identical" if v1 == v2 else f"DIFFER: {sorted(k for k in v1 if v1[k] != v2.get(k))}"
            rows.append(("pytest claims/", w1, c1, w2, c2, f"verdicts {same}"))
        if args.only in (None, "probe"):
            for d in (serial_dir, parallel_dir):
                if not (d / "claims.json").is_file():  # probe --all merges into a report
                    d.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ROOT / "reports" / "claims.json", d / "claims.json")
            w1, c1, p1 = probe_run(serial_dir, 1, args.probe_seconds)
            w2, c2, p2 = probe_run(parallel_dir, args.jobs, args.probe_seconds)
            same = sum(p1[k] == p2.get(k) for k in p1)
            rows.append(("probe --all", w1, c1, w2, c2, f"{same}/{len(p1)} cells agree"))
    print(f"| command | serial wall s | serial CPU s | -n {args.jobs} wall s | -n {args.jobs} CPU s "
          "| wall speed-up | agreement |")
    print("|---|---|---|---|---|---|---|")
    for name, w1, c1, w2, c2, note in rows:
        print(f"| `{name}` | {w1:.0f} | {c1:.0f} | {w2:.0f} | {c2:.0f} | {w1 / w2:.2f}x | {note} |")
    print(f"\n{os.cpu_count()} CPU cores; 1-minute load average before each command: "
          + ", ".join(f"{load:.1f}" for load in LOADS)
          + " (a load above 0 is other work sharing the cores: it inflates wall times, and CPU times less).")


if __name__ == "__main__":
    main()
