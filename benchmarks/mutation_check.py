"""Mutation check: does ``pytest claims/`` catch single-line bugs in the formulas the claims rest on?

Each mutant in MUTANTS replaces one line (or part of one) of a function in models/ by a plausible
bug: a flipped sign, a dropped constant of integration, mu for sqrt(mu), n for sqrt(n), a relative
cutoff made absolute, the later root for the earlier, an off-by-one, a transposed matrix, a wrong
exponent. Every mutant changes a quantity some claim asserts (``claimed``); one, in discrete
descent, only changes the referee's probes (``--violate gradient-flow``) and is listed for contrast.

For each mutant the script checks that the original text occurs exactly once in its file, applies
the replacement, runs ``python -m pytest claims/ -x -q -p no:cacheprovider --no-claims-report``
(with ``--unit`` also ``python -m pytest tests/ -x -q -p no:cacheprovider``), records caught
(non-zero exit) or missed, and restores the file byte for byte, with its modification time, in a
``finally`` (so also on Ctrl-C, SIGTERM or an error). A run past ``--timeout`` is reported as
"timeout" and does not count as caught.

Baseline: before the mutants, the same commands run once unmutated and without -x. Tests that
already fail there (work in progress) are deselected from the mutant runs, and the plugin's
MISMATCH lines already there (e.g. a claim whose failing negative control was deselected) are
ignored, so neither counts as a catch. With a clean baseline this is plain "non-zero exit =
caught". ``--no-baseline`` skips it.

    python benchmarks/mutation_check.py --list                  # the mutants; nothing is run
    python benchmarks/mutation_check.py                         # every mutant against pytest claims/
    python benchmarks/mutation_check.py --only ufm-n-for-sqrt-n --only xi-exponent --unit
    python benchmarks/mutation_check.py --scratch               # mutate a scratch copy of the tree

``--scratch`` copies the working tree to a temporary directory and mutates and tests the copy, so
nobody running tests in this tree meanwhile meets a mutant (and claims/ edited meanwhile does not
change the run). Prints a Markdown table; exits 1 when a mutant of a claimed quantity is not caught
by ``pytest claims/``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ["claims/", "-q", "-p", "no:cacheprovider", "--no-claims-report"]
UNIT = ["tests/", "-q", "-p", "no:cacheprovider"]
# No bytecode from a mutant may be left behind for the restored source to pick up.
ENV = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", CLAIMS_PROFILE=os.environ.get("CLAIMS_PROFILE", "ci"))


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the project root
    function: str
    old: str  # must occur exactly once in the file
    new: str
    description: str
    quantity: str  # the claimed quantity it changes
    claimed: bool = True  # False: no claim of ``pytest claims/`` asserts it (listed for contrast)


MUTANTS = [
    Mutant("exact-v-sign", "models/two_layer_relu/exact.py", "_assemble",
           "vec[:, -1] = grow - decay", "vec[:, -1] = grow + decay",
           "flipped sign: v(s) = alpha e^{ks} + beta e^{-ks} instead of alpha e^{ks} - beta e^{-ks}",
           "exact ReLU flow state (balance/sign d1-balance-sign, Claims 1-2, Theorem 9)"),
    Mutant("exact-later-root", "models/two_layer_relu/exact.py", "_crossing_rates",
           "win = np.argmax(r, axis=1)  # nan wins argmax", "win = np.argmin(np.where(r > 0, r, np.inf), axis=1)",
           "later crossing for the earlier: a neuron's next event is the sample with the smallest crossing rate",
           "event times of the exact flow (Claim 1, alignment time of Theorem 9)"),
    Mutant("alignment-mu-for-sqrt-mu", "models/alignment_bounds.py", "alignment_bounds",
           "scale = math.sqrt(mu) * xm if mu > 0 else 0.0", "scale = mu * xm if mu > 0 else 0.0",
           "mu for sqrt(mu) in t_1, t_2 and T (times 1/sqrt(mu) too long)",
           "t_1, t_2 of Claim 2 and T of Theorem 9"),
    Mutant("alignment-T-sqrt-n", "models/alignment_bounds.py", "alignment_bounds",
           "T=time(min(z, x), 2.0 * n)", "T=time(min(z, x), 2.0 * math.sqrt(n))",
           "sqrt(n) for n in T = 2n / (sqrt(mu) x_min min(zeta, xi)) (T too short by sqrt(n))",
           "T of Theorem 9"),
    Mutant("xi-exponent", "models/alignment_bounds.py", "xi",
           "return float(mu * mu) if mu > 0 else 0.0", "return float(mu) if mu > 0 else 0.0",
           "wrong exponent: xi = mu instead of mu^2",
           "xi of Lemma 8 (and t_2, T)"),
    Mutant("nc-pinv-absolute", "models/nc_metrics.py", "between_class_pinv",
           "keep = (s > rtol * s[0])", "keep = (s > 0.1)",
           "relative pinv cutoff made absolute: s > 0.1 instead of s > rtol s_max (the claims' "
           "class-mean singular values go down to 0.015 on digits, 0.14 on UFM features)",
           "tr(Sigma_W Sigma_B^+) (B.3 NC1 metric, Section 4 NC1 times, C.1 weak NC1)"),
    Mutant("nc-sigma-b-off-by-one", "models/nc_metrics.py", "class_statistics",
           "sigma_b=between.T @ between / classes.size", "sigma_b=between.T @ between / (classes.size - 1)",
           "off-by-one: Sigma_B divided by C - 1 instead of C",
           "Sigma_B and tr(Sigma_W)/tr(Sigma_B) (B.3 NC1 metric, C.2)"),
    Mutant("ufm-n-for-sqrt-n", "models/ufm.py", "ufm_flow_closed_form",
           "r = np.sqrt(n)", "r = n",
           "n for sqrt(n): rate of the UFM closed form",
           "UFM flow v(t), h_i(t) (eqs (12)-(14), weak NC1)"),
    Mutant("ufm-integration-constant", "models/ufm.py", "ufm_flow_closed_form",
           "H = H0 + np.outer(y, integral_v)", "H = H0 + np.outer(y, integral_v + h0 / n)",
           "dropped constant of integration: int_0^t v without its - h0/n (the printed (13))",
           "UFM features h_i(t) (eq. (13) features, weak NC1, NC3)"),
    Mutant("constrained-jac-transposed", "models/ufm_constrained.py", "solve_constrained_ufm_scipy",
           "-np.outer(y, v).ravel()", "-np.outer(v, y).ravel()",
           "transposed matrix: SLSQP gradient d f/d H raveled from (d, n) instead of (n, d)",
           "SLSQP solution of (15) (eq-17 two solvers)"),
    Mutant("linear-flow-sign", "models/linear_model.py", "gradient_flow",
           "np.asarray(w0, dtype=np.float64) + t * signed_sum(X, y)",
           "np.asarray(w0, dtype=np.float64) - t * signed_sum(X, y)",
           "flipped sign: w(t) = w0 - t s (gradient ascent)",
           "w(t) of the linear model (Section 3 NC3)"),
    Mutant("bayes-negative-class-sign", "models/bayes_risk.py", "expected_risk",
           "joint_neg * linear_loss(-f)", "joint_neg * linear_loss(f)",
           "flipped sign: the y = -1 term scores l(f) instead of l(-f)",
           "R_l(f) (eq. (6) risk identity)"),
    Mutant("theorem4-u-exponent", "models/theorem4_features.py", "predicted_limits",
           "Wc.T @ x_c / k**2 + vc / k", "Wc.T @ x_c / k + vc / k",
           "wrong exponent: u = (W^T x/k + v/k)/2 instead of (W^T x/k^2 + v/k)/2 (eq. (45))",
           "predicted limits v_bar, W_bar, u_bar and offsets (Theorem 4)"),
    Mutant("class-sums-sign", "models/data_geometry.py", "class_sums",
           "x_minus = X[y == -1.0].sum(axis=0)", "x_minus = -X[y == -1.0].sum(axis=0)",
           "flipped sign: x_- as the sum of y_i x_i over the negative class",
           "x_- of eq. (22) (zeta of Lemma 7, Assumption 3, Theorem 4 group x_-)"),
    Mutant("eq50-exponent", "models/two_layer_relu/normalised.py", "per_layer_flow_linear",
           "c * v / (nv**3 * nW)", "c * v / (nv**2 * nW)",
           "wrong exponent: ||v||^2 for ||v||^3 in eq. (50)",
           "per-layer normalised linear flow (eqs (50)-(52))"),
    Mutant("descent-sign", "models/two_layer_relu/descent.py", "gradient_descent",
           "W_new, v_new = W + eta * dW, v + eta * dv", "W_new, v_new = W - eta * dW, v - eta * dv",
           "flipped sign: gradient ascent",
           "discrete descent, used only by probes of the gradient-flow assumption", claimed=False),
]


def pytest(args: list[str], cwd: Path, timeout: float, deselect: list[str]) -> tuple[int | None, float, str]:
    """(exit status, None on timeout; seconds; output) of one pytest run, ``deselect``ed tests left out."""
    extra = [f"--deselect={n}" if "::" in n else f"--ignore={n}" for n in deselect]
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", *args, *extra], cwd=cwd, env=ENV, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - start, ""
    return proc.returncode, time.perf_counter() - start, proc.stdout


def failing(output: str) -> list[str]:
    """Node ids (paths, for collection errors) of the FAILED / ERROR lines of a pytest summary."""
    return [m.group(2) for m in re.finditer(r"^(FAILED|ERROR) (\S+)", output, re.MULTILINE)]


def mismatches(output: str) -> set[str]:
    """The plugin's MISMATCH lines (a claim's verdict or controls off the record: exit status 1)."""
    return set(re.findall(r"^MISMATCH (.*)$", output, re.MULTILINE))


def outcome(rc: int | None, output: str, known: set[str]) -> str:
    """"caught: WHAT", "missed" or "timeout". A failing run counts as caught unless all it reports
    is MISMATCH lines the baseline has too (a claim whose failing negative control was deselected)."""
    if rc is None:
        return "timeout"
    if rc == 0:
        return "missed"
    new = sorted(mismatches(output) - known)
    what = (failing(output) or [f"MISMATCH {line}" for line in new] or [None])[0]
    if what is None and rc == 1:
        return "missed"
    return f"caught: {what or f'exit status {rc}'}"


def apply(root: Path, mutant: Mutant) -> tuple[bytes, int]:
    """Write the mutant into its file; return the original bytes and modification time (ns)."""
    path = root / mutant.path
    original = path.read_bytes()
    count = original.count(mutant.old.encode())
    if count != 1:
        raise SystemExit(f"{mutant.name}: {mutant.old!r} occurs {count} times in {mutant.path}, not once")
    mtime = path.stat().st_mtime_ns
    path.write_bytes(original.replace(mutant.old.encode(), mutant.new.encode()))
    return original, mtime


def restore(root: Path, mutant: Mutant, original: bytes, mtime: int) -> None:
    path = root / mutant.path
    path.write_bytes(original)
    os.utime(path, ns=(mtime, mtime))
    if path.read_bytes() != original:
        raise SystemExit(f"could not restore {path}")


def scratch_copy(target: Path) -> Path:
    """Copy the working tree (no .git, caches) to target; check that models is imported from it."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(
        ".git", "__pycache__", ".hypothesis", ".pytest_cache", ".benchmarks", "*.egg-info"))
    where = subprocess.run([sys.executable, "-c", "import models; print(models.__file__)"], cwd=target,
                           env=ENV, text=True, capture_output=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(target.resolve()):
        raise SystemExit(f"--scratch: models is imported from {where}, not from the copy {target}")
    return target


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print the mutants and exit")
    parser.add_argument("--only", action="append", metavar="NAME", choices=[m.name for m in MUTANTS],
                        help="run only this mutant (repeatable)")
    parser.add_argument("--unit", action="store_true", help="also run pytest tests/ on each mutant")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per pytest run (default 900)")
    parser.add_argument("--no-baseline", action="store_true", help="do not run (and deselect) the baseline")
    parser.add_argument("--scratch", action="store_true", help="mutate and test a temporary copy of the tree")
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        print(table([[m.name, f"{m.path}:{m.function}", m.description, m.quantity if m.claimed else
                      f"(none) {m.quantity}", f"`{m.old}` -> `{m.new}`"] for m in mutants],
                    ["mutant", "file:function", "description", "claimed quantity", "change"]))
        return 0
    # SIGTERM as an exception, so that the finally below restores the file.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="mutation_check_") as tmp:
        root = scratch_copy(Path(tmp) / "tree") if args.scratch else ROOT
        suites = [("claims", CLAIMS)] + ([("unit", UNIT)] if args.unit else [])
        deselect: dict[str, list[str]] = {name: [] for name, _ in suites}
        known: dict[str, set[str]] = {name: set() for name, _ in suites}
        if not args.no_baseline:
            for name, argv in suites:
                rc, seconds, output = pytest(argv, root, args.timeout, [])  # unmutated, without -x
                if rc is None or (rc != 0 and not failing(output) and not mismatches(output)):
                    raise SystemExit(f"baseline {name} failed (exit status {rc}):\n{output[-3000:]}")
                deselect[name], known[name] = failing(output), mismatches(output)
                print(f"baseline {name} ({seconds:.0f} s): {len(deselect[name])} failing test(s) deselected, "
                      f"{len(known[name])} MISMATCH line(s) ignored", file=sys.stderr)
                for line in deselect[name] + sorted(known[name]):
                    print(f"    {line}", file=sys.stderr)
        rows, missed = [], []
        for mutant in mutants:
            print(f"{mutant.name} ...", file=sys.stderr, flush=True)
            original, mtime = apply(root, mutant)
            try:
                runs = [(name, pytest(["-x", *argv], root, args.timeout, deselect[name])) for name, argv in suites]
            finally:
                restore(root, mutant, original, mtime)
            results = [(outcome(rc, output, known[name]), seconds) for name, (rc, seconds, output) in runs]
            total = sum(seconds for _, seconds in results)
            print(f"    {' / '.join(r[0] for r in results)} ({total:.0f} s)", file=sys.stderr, flush=True)
            if mutant.claimed and not results[0][0].startswith("caught"):
                missed.append(mutant.name)
            name = mutant.name if mutant.claimed else f"{mutant.name} (unclaimed)"
            rows.append([name, f"{mutant.path}:{mutant.function}", mutant.description,
                         *[r[0] for r in results], f"{total:.0f}"])
    header = ["mutant", "file:function", "description", "`pytest claims/`"] + \
        (["`pytest tests/`"] if args.unit else []) + ["seconds"]
    print(table(rows, header))
    if missed:
        print(f"\nmissed by pytest claims/: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the finally in main() has restored the file
        sys.exit("interrupted; the mutated file was restored")
