"""Assumption probes (claims.framework.probe), the ``probe`` command and ``pytest --violate``.

The reference outcomes come from what the statements' proofs rely on, not from running the
probes: Lemma 6's bound takes sqrt(mu), which only Assumption 1 keeps positive, so it must
break without it; conservation of ||w_j||^2 - v_j^2 is a property of gradient *flow* under
any loss (d/dt (||w_j||^2 - v_j^2) = 2 v_j <w_j, g_j> - 2 v_j <w_j, g_j> = 0 for a
1-homogeneous neuron) and fails under a finite step by eta^2 (v_j^2 ||g_j||^2 - <w_j, g_j>^2),
which is zero in one dimension; so a synthetic claim "balance is conserved" must hold with
the logistic loss and break under gradient descent with a shrunk counterexample in d >= 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from claims.dynamics import evolve
from claims.framework import claim as claim_module
from claims.framework import cli
from claims.framework import probe as probe_module
from claims.framework.claim import Claim, Evaluation, get_claim
from claims.framework.probe import (
    ProbeError,
    ProbeEvaluationError,
    counterexample_name,
    merge_probes,
    probe_pairs,
)
from claims.framework.report import build_report
from claims.framework.schema import ReportSchemaError, schema
from claims.framework.schema import validate_report as validate_any_report
from claims.paper import PAPER

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
PROBE_KEYS = set(schema()["$defs"]["probe"]["required"])
# The report directory of the test now running (set by the report_dir fixture).
_REPORT_DIR: list[Path] = []


def probe(claim, assumption, **kwargs):
    """A probe of this suite's paper into the test's report directory."""
    return probe_module.probe(PAPER, claim, assumption, report_dir=_REPORT_DIR[-1], root=ROOT, **kwargs)


def probe_all(pairs, **kwargs):
    return probe_module.probe_all(PAPER, pairs, report_dir=_REPORT_DIR[-1], root=ROOT, **kwargs)


def main(argv):
    return cli.main(argv, paper=PAPER, root=ROOT)


def load_claim_modules():
    return cli.load_claim_modules(PAPER)


def validate_report(report):
    validate_any_report(report, PAPER.sections)

# Imbalance tolerance of the synthetic balance claim: the exact linear flow conserves
# ||w||^2 - v^2 to rounding (~1e-15) and DOP853 at rtol 1e-10 / atol 1e-12 (the logistic
# flow) to ~1e-9 relative; one finite step of eta ||x_a|| in [0.01, 0.2] moves it by
# ~1e-4 or more in d >= 2 (measured: 6e-4 on the shrunk instance).
IMBALANCE_TOL = 1e-6


def conserved_balance(inst) -> Evaluation:
    """max_j | ||w_j||^2 - v_j^2 | / ||(w_j, v_j)||^2 after time 3 / ||sum_i y_i x_i||."""
    t = 3.0 / float(np.linalg.norm(inst["y"] @ inst["X"]))
    end = evolve(inst, t)
    imbalance = float(np.max(np.abs(np.sum(end.W_unit**2, axis=1) - end.v_unit**2)))
    return Evaluation(holds=imbalance <= IMBALANCE_TOL, figures={"imbalance": imbalance})


BALANCE = Claim(
    id="toy-balance",
    paper_ref="Lemma 1",
    statement="||w_j(t)||^2 - v_j(t)^2 is conserved, so a balanced initialisation stays balanced",
    assumptions=("balanced-init", "gradient-flow", "linear-loss"),
    instance_arrays=("X", "y", "W0", "v0"),
    evaluate=conserved_balance,
    instance_bounds={"max_n": 4, "max_h": 2, "max_d": 3},
)


def printed_half(inst) -> Evaluation:
    """A printed form that is false everywhere (an erratum's)."""
    return Evaluation(holds=False)


def corrected_margin(inst) -> Evaluation:
    """The 'corrected' form: Assumption 1's margin is positive (fails when it is violated)."""
    X, y = inst["X"], inst["y"]
    Z = y[:, None] * X
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    mu = float((Z @ Z.T).min())
    return Evaluation(holds=mu > 0, figures={"mu": mu})


ERRATUM = Claim(
    id="toy-erratum-margin",
    paper_ref="Lemma 2",
    statement="printed: nothing holds; corrected: the margin is positive",
    assumptions=("orthogonal-separability", "small-init"),
    expected_verdict="erratum",
    correction="the margin is positive",
    counterexample_summary="any instance",
    instance_arrays=("X", "y"),
    evaluate=printed_half,
    probe_evaluate=corrected_margin,
)

NO_EVALUATION = Claim(id="toy-no-instance", paper_ref="Lemma 3", statement="s", assumptions=("small-init",))


def crashes(inst) -> Evaluation:
    raise ZeroDivisionError("a defect in the claim's code")


CRASHING = Claim(id="toy-crash", paper_ref="Lemma 4", statement="s", assumptions=("small-init",),
                 instance_arrays=("X",), evaluate=crashes)


@pytest.fixture
def report_dir(tmp_path):
    """Counterexamples go to a temporary report directory, never to the project's."""
    _REPORT_DIR.append(tmp_path / "reports")
    yield tmp_path / "reports"
    _REPORT_DIR.pop()


@pytest.fixture
def registered(monkeypatch):
    """The synthetic claims in the registry for this test only (``check`` looks them up)."""
    load_claim_modules()
    for c in (BALANCE, ERRATUM, NO_EVALUATION, CRASHING):
        monkeypatch.setitem(claim_module._REGISTRY, c.id, c)


def report_with(probes: list[dict]) -> dict:
    """A report with no claims and these probe rows (whatever else the schema holds)."""
    return build_report(PAPER, [], profile="ci", root=ROOT, probes=probes)


def replay(record, capsys) -> tuple[int, dict]:
    """Run the record's replay command in-process; (exit status, printed JSON)."""
    argv = record["counterexample"]["replay"].split()
    assert argv[:3] == ["python", "-m", "claims"]
    capsys.readouterr()
    status = main(argv[3:])
    return status, json.loads(capsys.readouterr().out)


# -- must break / must hold ------------------------------------------------------------------


def test_lemma6_is_undefined_without_orthogonal_separability(report_dir, capsys):
    # Off Assumption 1 the margin mu is <= 0 and Lemma 6's sqrt(mu) does not exist: the probe says
    # "undefined", not "breaks", and keeps one such instance for the replay.
    record = probe(get_claim_loaded("lemma-6"), "orthogonal-separability").as_record()
    assert record["outcome"] == "undefined" and record["examples"] >= 1
    assert "the statement is undefined" in record["counterexample"]["summary"]
    ce = record["counterexample"]
    saved = report_dir / "counterexamples" / "lemma-6--violate-orthogonal-separability.npz"
    assert Path(ce["file"]).resolve() == saved.resolve() and saved.is_file()
    status, out = replay(record, capsys)
    assert status == 1 and out["verdict"] == "undefined" and "sqrt(mu)" in out["reason"]
    assert out["assumptions"] == {"orthogonal-separability": False}  # outside the claim


def get_claim_loaded(claim_id: str) -> Claim:
    load_claim_modules()
    return get_claim(claim_id)


def test_gradient_descent_breaks_balance_with_a_shrunk_2d_instance(report_dir, registered, capsys):
    record = probe(BALANCE, "gradient-flow").as_record()
    assert record["outcome"] == "breaks"
    with np.load(report_dir / "counterexamples" / counterexample_name(BALANCE.id, "gradient-flow")) as data:
        assert "eta" in data.files and "logistic" not in data.files
        assert data["X"].shape[1] == 2  # d = 1 conserves balance exactly; shrinking stops at 2
        assert data["W0"].shape[0] == 1
    status, out = replay(record, capsys)
    assert status == 1 and out["verdict"] == "fails"
    assert out["assumptions"] == {"balanced-init": True, "gradient-flow": False, "linear-loss": True}


def test_logistic_loss_keeps_balance(report_dir):
    result = probe(BALANCE, "linear-loss", max_examples=8)
    assert result.outcome == "holds" and result.counterexample is None
    assert result.examples == 8  # every example of the budget was evaluated
    assert not (report_dir / "counterexamples").exists()


def test_unbalanced_init_breaks_balance(report_dir):
    assert probe(BALANCE, "balanced-init").outcome == "breaks"


def test_erratum_probe_evaluates_the_corrected_form_and_replays_it(report_dir, registered, capsys):
    # The printed form fails everywhere; with small-init violated the corrected form holds.
    assert probe(ERRATUM, "small-init", max_examples=5).outcome == "holds"
    record = probe(ERRATUM, "orthogonal-separability").as_record()
    assert record["outcome"] == "breaks"
    assert record["counterexample"]["replay"].endswith("--form verified")
    status, out = replay(record, capsys)
    assert status == 1 and out["figures"]["mu"] < 0


# -- budgets, determinism, contract ----------------------------------------------------------


def test_time_budget_stops_the_search(report_dir):
    slow_calls = []

    def slow(inst) -> Evaluation:
        slow_calls.append(1)
        import time

        time.sleep(0.05)
        return Evaluation(holds=True)

    claim = Claim(id="toy-slow", paper_ref="Lemma 5", statement="s", assumptions=("small-init",),
                  instance_arrays=("X",), evaluate=slow)
    result = probe(claim, "small-init", max_examples=1000, seconds=0.2)
    assert result.outcome == "holds"
    # 0.2 s at 0.05 s per evaluation: about 4 evaluated (at least the first one), not 1000.
    assert 1 <= result.examples == len(slow_calls) <= 10


def test_ci_profile_gives_identical_results_twice(tmp_path, monkeypatch):
    runs = []
    for k in range(2):
        _REPORT_DIR.append(tmp_path / f"run{k}")
        results = [probe(BALANCE, a).as_record() for a in ("gradient-flow", "linear-loss")]
        _REPORT_DIR.pop()
        saved = (tmp_path / f"run{k}" / "counterexamples" / counterexample_name(BALANCE.id, "gradient-flow")).read_bytes()
        for r in results:
            r.pop("seconds")
            if r["counterexample"]:
                r["counterexample"]["file"] = Path(r["counterexample"]["file"]).name
                r["counterexample"]["replay"] = r["counterexample"]["replay"].replace(f"run{k}", "run")
        runs.append((results, saved))
    assert runs[0] == runs[1]


def test_record_is_exactly_the_contract(report_dir):
    for record in (probe(BALANCE, "linear-loss", max_examples=3).as_record(),
                   probe(get_claim_loaded("lemma-6"), "orthogonal-separability").as_record()):
        assert list(record) == ["claim", "assumption", "outcome", "examples", "seconds", "counterexample"]
        assert set(record) == PROBE_KEYS
        assert isinstance(record["examples"], int) and isinstance(record["seconds"], float)
        if record["counterexample"] is not None:
            assert list(record["counterexample"]) == ["file", "replay", "summary"]
        validate_report(report_with([record]))


@pytest.mark.parametrize("row, message", [
    ({"outcome": "holds", "examples": 0}, r"\['examples'\]: 0 is less than the minimum of 1"),
    ({"outcome": "holds", "examples": True}, r"\['examples'\]: True is not of type 'integer'"),
    ({"outcome": "holds", "seconds": -1.0}, r"\['seconds'\]: -1.0 is less than the minimum of 0"),
    ({"outcome": "breaks"}, "a counterexample \\(or undefined instance\\) goes with 'breaks' and 'undefined'"),
    ({"outcome": "undefined"}, "goes with 'breaks' and 'undefined' and only with them"),
    ({"outcome": "maybe"}, r"\['outcome'\]: 'maybe' is not one of \['holds', 'undefined', 'breaks'\]"),
    ({"claim": ""}, r"\['claim'\]: '' (should be non-empty|is too short)"),
])
def test_schema_rejects_bad_probe_rows(row, message):
    good = {"claim": "c", "assumption": "small-init", "outcome": "holds", "examples": 3, "seconds": 0.1,
            "counterexample": None}
    report = report_with([dict(good, **row)])
    with pytest.raises(ReportSchemaError, match=message):
        validate_report(report)
    missing = {k: v for k, v in good.items() if k != "seconds"}
    with pytest.raises(ReportSchemaError, match="'seconds' is a required property"):
        validate_report(dict(report, probes=[missing]))


@pytest.mark.parametrize("kwargs, claim, assumption, message", [
    ({}, BALANCE, "no-such", "unknown assumption id 'no-such'"),
    ({}, BALANCE, "small-init", "does not rest on 'small-init'"),
    ({}, NO_EVALUATION, "small-init", "no instance evaluation"),
    ({"max_examples": 0}, BALANCE, "linear-loss", "--max-examples must be an integer >= 1; got 0"),
    ({"seconds": float("nan")}, BALANCE, "linear-loss", "--seconds must be a finite number > 0; got nan"),
    ({"seconds": 0}, BALANCE, "linear-loss", "--seconds must be a finite number > 0; got 0"),
])
def test_bad_requests_raise_probe_error(report_dir, kwargs, claim, assumption, message):
    with pytest.raises(ProbeError, match=message):
        probe(claim, assumption, **kwargs)


def test_instance_bounds_that_cannot_violate_are_a_probe_error(report_dir):
    narrow = Claim(id="toy-narrow", paper_ref="Lemma 6", statement="s", assumptions=("equal-class-sizes",),
                   instance_arrays=("X",), evaluate=lambda inst: Evaluation(True), instance_bounds={"max_n": 2})
    with pytest.raises(ProbeError, match="cannot generate instances violating 'equal-class-sizes'"):
        probe(narrow, "equal-class-sizes")


def test_a_crashing_claim_is_a_defect_not_an_outcome(report_dir):
    with pytest.raises(ProbeEvaluationError, match="toy-crash.*ZeroDivisionError"):
        probe(CRASHING, "small-init")
    errors: list[str] = []
    results = probe_all([(CRASHING, "small-init"), (BALANCE, "linear-loss")], max_examples=2, seconds=60,
                        errors=errors)
    assert [r.claim for r in results] == ["toy-balance"] and len(errors) == 1


def test_pairs_cover_every_listed_assumption_of_every_probeable_claim():
    pairs = probe_pairs([BALANCE, ERRATUM, NO_EVALUATION])
    assert [(c.id, a) for c, a in pairs] == [
        ("toy-balance", "balanced-init"), ("toy-balance", "gradient-flow"), ("toy-balance", "linear-loss"),
        ("toy-erratum-margin", "orthogonal-separability"), ("toy-erratum-margin", "small-init"),
    ]
    assert [(c.id, a) for c, a in probe_pairs([BALANCE], "linear-loss")] == [("toy-balance", "linear-loss")]


def test_merge_replaces_reprobed_pairs_and_keeps_the_rest():
    old = [{"claim": "b", "assumption": "small-init", "outcome": "holds"},
           {"claim": "a", "assumption": "small-init", "outcome": "holds"}]
    new = [{"claim": "a", "assumption": "small-init", "outcome": "breaks"},
           {"claim": "a", "assumption": "orthogonal-separability", "outcome": "holds"}]
    merged = merge_probes(old, new, order=["a", "b"], assumption_order=PAPER.assumption_ids)
    assert [(r["claim"], r["assumption"], r["outcome"]) for r in merged] == [
        ("a", "orthogonal-separability", "holds"), ("a", "small-init", "breaks"), ("b", "small-init", "holds")]


def test_every_claim_with_assumptions_can_be_probed():
    # The matrix must cover every claim that lists an assumption: each needs an instance
    # evaluation (evaluate, or probe_evaluate for an erratum) and bounds its generator accepts.
    claims = load_claim_modules()
    holes = [c.id for c in claims if c.assumptions and c.verified_form is None]
    assert holes == [], (
        f"claims listing assumptions but without an instance evaluation: {holes}; give each an evaluate "
        "(probe_evaluate for an erratum) over an instances() draw (X, y, W0, v0, and eta / logistic for "
        "the dynamics) so that the claims x assumptions matrix covers it")
    from claims.assumptions import instances

    for c, a in probe_pairs(claims):
        instances(violate=a, **c.instance_bounds)  # raises on bounds that cannot violate a


# -- the command line ------------------------------------------------------------------------


def test_cli_probe_prints_the_contract(tmp_path, capsys):
    assert main(["probe", "lemma-6", "--violate", "orthogonal-separability",
                 "--report-dir", str(tmp_path / "r"), "--max-examples", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["claim", "assumption", "outcome", "examples", "seconds", "counterexample"]
    assert out["outcome"] == "undefined" and Path(out["counterexample"]["file"]).is_file()


def _minimal_report(report_dir: Path) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_with([{"claim": "lemma-6", "assumption": "small-init", "outcome": "holds",
                           "examples": 2, "seconds": 0.5, "counterexample": None}])
    (report_dir / "claims.json").write_text(json.dumps(report))


@pytest.fixture
def few_claims(monkeypatch):
    """``probe --all`` over lemma-6 and the synthetic claims only (the real matrix is the
    lead's full run; here its cost would dominate the unit tests)."""
    chosen = [get_claim_loaded("lemma-6"), BALANCE, NO_EVALUATION, CRASHING]
    monkeypatch.setattr(cli, "load_claim_modules", lambda paper: chosen)


def test_cli_probe_all_merges_the_matrix_into_the_report(tmp_path, capsys, few_claims):
    report_dir = tmp_path / "r"
    _minimal_report(report_dir)
    status = main(["probe", "--all", "--report-dir", str(report_dir), "--max-examples", "40", "--seconds", "120"])
    captured = capsys.readouterr()
    assert status == 3  # the crashing claim: one line on stderr, the other cells still written
    assert captured.err.count("\n") == 1 and "toy-crash" in captured.err
    out = json.loads(captured.out)
    assert list(out) == ["probes", "unprobeable", "errors", "seconds", "report"]
    assert out["unprobeable"] == ["toy-no-instance"]
    written = json.loads((report_dir / "claims.json").read_text())
    validate_report(written)
    cells = {(r["claim"], r["assumption"]): r["outcome"] for r in written["probes"]}
    assert cells == {
        ("lemma-6", "orthogonal-separability"): "undefined",
        ("lemma-6", "small-init"): "holds",  # an earlier row is kept
        ("toy-balance", "balanced-init"): "breaks",
        ("toy-balance", "gradient-flow"): "breaks",
        ("toy-balance", "linear-loss"): "holds",
    }
    md = (report_dir / "claims.md").read_text()
    assert "lemma-6--violate-orthogonal-separability.npz" in md and "| examples | seconds |" in md


def test_cli_probe_all_needs_a_report_to_write_into(tmp_path, capsys):
    assert main(["probe", "--all", "--report-dir", str(tmp_path / "none")]) == 2
    assert "run 'python -m claims report' first, or pass --no-write" in capsys.readouterr().err


def test_cli_probe_subprocess_defect_exit_3_one_line(tmp_path):
    # A claim module whose evaluation raises: exit 3, one line on stderr, no traceback.
    module = tmp_path / "defect_probe.py"
    module.write_text(textwrap.dedent('''
        import sys
        from claims.framework.claim import Claim, register
        def crashes(inst):
            raise ZeroDivisionError("boom")
        register(Claim(id="toy-crash", paper_ref="Lemma 4", statement="s", assumptions=("small-init",),
                       instance_arrays=("X",), evaluate=crashes))
        from pathlib import Path
        from claims.framework.cli import main
        from claims.paper import PAPER
        sys.exit(main(["probe", "toy-crash", "--violate", "small-init", "--report-dir", sys.argv[1]],
                      paper=PAPER, root=Path.cwd()))
    '''))
    result = subprocess.run([sys.executable, str(module), str(tmp_path / "r")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "raised ZeroDivisionError" in result.stderr
    assert "Traceback" not in result.stderr


# -- pytest --violate --------------------------------------------------------------------------

TOY_MODULE = '''
import numpy as np
import pytest
from claims.assumptions import get_assumption
from claims.framework.checks import property_check, rejects, require
from claims.framework.claim import Claim, Evaluation, register

def evaluate_small(inst):
    largest = float(np.abs(inst["v0"]).max() * np.linalg.norm(inst["X"], axis=1).max())
    return Evaluation(holds=largest <= 1e-2, figures={"largest": largest})

SMALL = register(Claim(id="toy-small", paper_ref="Lemma 1", statement="|v_j(0)| max||x_i|| <= 1e-2",
    assumptions=("small-init", "equal-class-sizes"), instance_arrays=("X", "v0"), evaluate=evaluate_small))

@pytest.mark.claim("toy-small", kind="property")
def test_small(record_property):
    "the bound on instances satisfying every assumption"
    property_check(record_property, get_assumption("small-init").satisfying(),
                   lambda inst: require(evaluate_small(inst).holds))

@pytest.mark.negative_control("toy-small")
def test_small_control():
    rejects(evaluate_small, {"X": np.ones((1, 1)), "v0": np.array([1.0])})
'''


@pytest.fixture
def project(pytester):
    # This suite's paper (its assumptions are what --violate probes); the toy claim module is
    # passed on the command line, so the paper's own claim modules are only imported at the end.
    pytester.makeini("[pytest]\nxfail_strict = true\njunit_family = xunit1\n"
                     "claims_paper = claims.paper:PAPER\n")
    pytester.makepyfile(claim_toy=textwrap.dedent(TOY_MODULE))
    return pytester


def _probes(project) -> list[dict]:
    report = json.loads((project.path / "reports" / "claims.json").read_text())
    validate_report(report)
    return report["probes"]


def test_pytest_violate_fills_the_probes_and_a_plain_run_keeps_them(project):
    # Without --violate nothing is probed.
    assert project.runpytest_subprocess("-p", "claims.framework.plugin", "claim_toy.py").ret == 0
    assert _probes(project) == []
    assert "No probes yet" in (project.path / "reports" / "claims.md").read_text()
    result = project.runpytest_subprocess("-p", "claims.framework.plugin", "claim_toy.py",
                                          "--violate", "small-init", "--violate", "equal-class-sizes")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*assumption probes*", "*breaks  toy-small --violate small-init*",
                                 "*holds  toy-small --violate equal-class-sizes*"])
    rows = {r["assumption"]: r for r in _probes(project)}
    assert rows["small-init"]["outcome"] == "breaks" and rows["equal-class-sizes"]["outcome"] == "holds"
    assert rows["equal-class-sizes"]["examples"] == 40  # the ci profile's budget, all tried
    saved = Path(rows["small-init"]["counterexample"]["file"])
    assert saved.name == "toy-small--violate-small-init.npz" and saved.is_file()
    # A plain run probes nothing and keeps the matrix.
    plain = project.runpytest_subprocess("-p", "claims.framework.plugin", "claim_toy.py")
    assert plain.ret == 0 and "assumption probes" not in plain.stdout.str()
    assert _probes(project) == list(rows.values())


def test_pytest_unknown_violate_is_a_usage_error(project):
    result = project.runpytest_subprocess("-p", "claims.framework.plugin", "claim_toy.py", "--violate", "margin")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--violate: unknown assumption id 'margin'*"])
