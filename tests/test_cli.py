"""The ``python -m claims`` command line: list, check, probe, and one table of user mistakes.

Every mistake must exit 2 with exactly one line on stderr and no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from claims.framework import cli
from claims.paper import PAPER

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    """The command line of this suite's paper, in-process."""
    return cli.main(argv, paper=PAPER, root=ROOT)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claims", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_list_shows_every_claim(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in rows}
    assert {"lemma-6", "eq-13-features", "appendix-a-bayes-consistency"} <= ids
    assert all(r["paper_ref"] for r in rows)


def test_check_undefined_off_the_assumption_exit_1(tmp_path, capsys):
    # Mislabelled points (cos(y_1 x_1, y_2 x_2) = -0.8, so mu < 0): Lemma 6's sqrt(mu) does not exist.
    data = tmp_path / "ce.npz"
    np.savez(data, X=np.array([[1.0, 0.0], [0.8, 0.6]]), y=np.array([1.0, -1.0]), W0=np.array([[1.0, 0.5]]))
    assert main(["check", "lemma-6", "--data", str(data)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["claim"] == "lemma-6" and out["verdict"] == "undefined"
    assert "sqrt(mu) is undefined" in out["reason"]


def test_check_names_the_failing_neuron_cone_and_time(tmp_path, capsys):
    # Theorem 9's documented counterexample: the neuron of N_+ at 92 degrees stops on a boundary.
    angle = np.deg2rad(92.0)
    data = _write(tmp_path, "t9.npz", X=np.array([[1.0, 0.0], [-np.cos(np.deg2rad(1.0)), -np.sin(np.deg2rad(1.0))]]),
                  y=np.array([1.0, -1.0]), W0=1e-3 * np.array([[np.cos(angle), np.sin(angle)]]), v0=np.array([1e-3]))
    assert main(["check", "theorem-9", "--data", data]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["verdict"] == "fails"
    assert out["reason"].startswith("neuron 0 (N_+) is in cone 'boundary' at T = "), out["reason"]
    assert main(["check", "theorem-9", "--data", data, "--form", "verified"]) == 0
    assert json.loads(capsys.readouterr().out)["reason"] is None


def test_float32_input_is_judged_at_its_precision(tmp_path, capsys):
    from models.instances import separable_instance

    inst = separable_instance(np.random.default_rng(3), n_pos=2, n_neg=2, d=3, h=3)
    data = _write(tmp_path, "f32.npz", **{k: v.astype(np.float32) for k, v in inst.items()})
    assert main(["check", "claim-1", "--data", data, "--form", "verified"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert out["assumptions"]["balanced-init"] is True and "roundoff 5.96e-08" in out["precision"]
    # In float64 the tolerance stays 1e-12: an imbalance of 1e-9 is an imbalance.
    unbalanced = dict(inst, v0=inst["v0"] * (1 + 1e-9))
    data = _write(tmp_path, "f64.npz", **unbalanced)
    main(["check", "claim-1", "--data", data, "--form", "verified"])
    out = json.loads(capsys.readouterr().out)
    assert out["assumptions"]["balanced-init"] is False and out["precision"] == "float64"


def test_check_holds_exit_0(tmp_path, capsys):
    data = tmp_path / "ok.npz"
    np.savez(data, X=np.array([[1.0, 0.0], [-0.8, -0.6]]), y=np.array([1.0, -1.0]), W0=np.array([[1.0, 0.5]]))
    assert main(["check", "lemma-6", "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "holds"


@pytest.fixture
def printed_only(monkeypatch):
    """An erratum claim with no verified statement (no probe_evaluate), for this test only."""
    from claims.framework import claim as claim_module
    from claims.framework.claim import Claim, Evaluation

    main(["list", "--json"])  # registers the real claims first
    toy = Claim(id="toy-printed-only", paper_ref="Eq. (1)", statement="s", expected_verdict="erratum",
                correction="c", counterexample_summary="x = 0", instance_arrays=("X",),
                evaluate=lambda inst: Evaluation(holds=False))
    monkeypatch.setitem(claim_module._REGISTRY, toy.id, toy)


def _write(tmp_path: Path, name: str, **arrays) -> str:
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def _bad_files(tmp_path: Path) -> dict[str, list[str]]:
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, -1.0])
    W0 = np.ones((1, 2))
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    npy = tmp_path / "single.npy"
    np.save(npy, X)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, X=np.array([{"a": 1}], dtype=object), y=y, W0=W0)
    return {
        "missing file": ["check", "lemma-6", "--data", str(tmp_path / "nope.npz")],
        "not an npz": ["check", "lemma-6", "--data", str(text)],
        "single npy": ["check", "lemma-6", "--data", str(npy)],
        "pickled objects": ["check", "lemma-6", "--data", str(pickled)],
        "missing array": ["check", "lemma-6", "--data", _write(tmp_path, "m.npz", X=X, y=y)],
        "X not 2-D": ["check", "lemma-6", "--data", _write(tmp_path, "a.npz", X=X.ravel(), y=y, W0=W0)],
        "length mismatch": ["check", "lemma-6", "--data", _write(tmp_path, "b.npz", X=X, y=np.ones(3), W0=W0)],
        "NaN": ["check", "lemma-6", "--data", _write(tmp_path, "c.npz", X=X * np.nan, y=y, W0=W0)],
        "inf": ["check", "lemma-6", "--data", _write(tmp_path, "d.npz", X=X, y=y, W0=W0 * np.inf)],
        "labels not +-1": ["check", "lemma-6", "--data", _write(tmp_path, "e.npz", X=X, y=np.array([0.0, 1.0]), W0=W0)],
        "one class": ["check", "lemma-6", "--data", _write(tmp_path, "f.npz", X=X, y=np.ones(2), W0=W0)],
        "empty data": ["check", "lemma-6", "--data", _write(tmp_path, "g.npz", X=np.zeros((0, 2)), y=np.zeros(0), W0=W0)],
        "W0 dimension": ["check", "lemma-6", "--data", _write(tmp_path, "h.npz", X=X, y=y, W0=np.ones((1, 3)))],
        "string array": ["check", "lemma-6", "--data", _write(tmp_path, "i.npz", X=np.array(["a", "b"]), y=y, W0=W0)],
        "unknown claim": ["check", "no-such-claim", "--data", str(text)],
        "claim without instance": ["check", "eq-6-risk-identity", "--data", str(text)],
        "no subcommand": [],
        "unknown subcommand": ["frobnicate"],
        "check without --data": ["check", "lemma-6"],
        "zero data point": ["check", "lemma-6", "--data", _write(tmp_path, "z.npz", X=np.array([[1.0, 0.0], [0.0, 0.0]]), y=y, W0=W0)],
        "complex array": ["check", "lemma-6", "--data", _write(tmp_path, "j.npz", X=X + 1j, y=y, W0=W0)],
        "eta not positive": ["check", "lemma-6", "--data", _write(tmp_path, "k.npz", X=X, y=y, W0=W0, eta=np.array(-0.1))],
        "eta not a scalar": ["check", "lemma-6", "--data", _write(tmp_path, "l.npz", X=X, y=y, W0=W0, eta=np.ones(2))],
        "eta NaN": ["check", "lemma-6", "--data", _write(tmp_path, "m2.npz", X=X, y=y, W0=W0, eta=np.array(np.nan))],
        "logistic not 0 or 1": ["check", "lemma-6", "--data", _write(tmp_path, "n.npz", X=X, y=y, W0=W0, logistic=np.array(0.5))],
        "unknown form": ["check", "lemma-6", "--data", str(text), "--form", "corrected"],
        "no verified form": ["check", "toy-printed-only", "--data", str(text), "--form", "verified"],
        "probe unknown claim": ["probe", "no-such-claim", "--violate", "small-init"],
        "probe unknown assumption": ["probe", "lemma-6", "--violate", "separability"],
        "probe unlisted assumption": ["probe", "lemma-6", "--violate", "small-init"],
        "probe claim without instance": ["probe", "eq-6-risk-identity", "--violate", "small-init"],
        "probe without --violate": ["probe", "lemma-6"],
        "probe claim and --all": ["probe", "lemma-6", "--all", "--violate", "orthogonal-separability"],
        "probe neither claim nor --all": ["probe", "--violate", "orthogonal-separability"],
        "probe --all unknown assumption": ["probe", "--all", "--violate", "separability", "--no-write"],
        "probe --no-write without --all": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--no-write"],
        "max-examples 0": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--max-examples", "0"],
        "max-examples not a number": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--max-examples", "ten"],
        "max-examples float": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--max-examples", "2.5"],
        "seconds 0": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--seconds", "0"],
        "seconds negative": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--seconds", "-5"],
        "seconds NaN": ["probe", "lemma-6", "--violate", "orthogonal-separability", "--seconds", "nan"],
        "seconds inf": ["probe", "--all", "--seconds", "inf", "--no-write"],
    }


CASES = [
    "missing file", "not an npz", "single npy", "pickled objects", "missing array", "X not 2-D",
    "length mismatch", "NaN", "inf", "labels not +-1", "one class", "empty data", "W0 dimension",
    "string array", "unknown claim", "claim without instance", "no subcommand", "unknown subcommand",
    "check without --data", "zero data point", "complex array", "eta not positive", "eta not a scalar",
    "eta NaN", "logistic not 0 or 1", "unknown form", "no verified form",
    "probe unknown claim", "probe unknown assumption", "probe unlisted assumption", "probe claim without instance",
    "probe without --violate", "probe claim and --all", "probe neither claim nor --all",
    "probe --all unknown assumption", "probe --no-write without --all", "max-examples 0",
    "max-examples not a number", "max-examples float", "seconds 0", "seconds negative", "seconds NaN", "seconds inf",
]


@pytest.mark.parametrize("case", CASES)
def test_user_mistakes_exit_2_with_one_line(case, tmp_path, capsys, printed_only):
    table = _bad_files(tmp_path)
    assert set(table) == set(CASES)
    argv = table[case]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err


def test_subprocess_mistake_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    result = run_cli("check", "lemma-6", "--data", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_help_for_every_subcommand():
    for sub in ("list", "show", "report", "check", "probe"):
        result = run_cli(sub, "--help")
        assert result.returncode == 0 and "usage" in result.stdout



def test_check_reports_assumptions_before_the_verdict(tmp_path, capsys):
    # Separable data (cos(y_1 x_1, y_2 x_2) = 0.8 > 0): inside Lemma 6, where its bound holds.
    data = _write(tmp_path, "sep.npz", X=np.array([[1.0, 0.0], [-0.8, -0.6]]), y=np.array([1.0, -1.0]),
                  W0=np.array([[1.0, 0.5]]))
    assert main(["check", "lemma-6", "--data", data]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["claim", "assumptions", "verdict", "reason", "figures", "precision"]
    assert out["assumptions"] == {"orthogonal-separability": True} and out["verdict"] == "holds"
    # The same points mislabelled: outside the claim, and the JSON says so before the verdict.
    data = _write(tmp_path, "mixed.npz", X=np.array([[1.0, 0.0], [0.8, 0.6]]), y=np.array([1.0, -1.0]),
                  W0=np.array([[1.0, 0.5]]))
    assert main(["check", "lemma-6", "--data", data]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["assumptions"] == {"orthogonal-separability": False} and out["verdict"] == "undefined"


def test_check_reports_null_for_an_assumption_it_cannot_test(tmp_path, capsys, monkeypatch):
    from claims.framework import claim as claim_module
    from claims.framework.claim import Claim, Evaluation

    toy = Claim(id="toy-needs-v0", paper_ref="Lemma 1", statement="s", assumptions=("balanced-init", "gradient-flow"),
                instance_arrays=("X", "y"), evaluate=lambda inst: Evaluation(holds=True))
    main(["list", "--json"])  # registers the real claims first
    capsys.readouterr()
    monkeypatch.setitem(claim_module._REGISTRY, toy.id, toy)
    data = _write(tmp_path, "no_v0.npz", X=np.ones((2, 1)), y=np.array([1.0, -1.0]), W0=np.ones((1, 1)))
    assert main(["check", toy.id, "--data", data]) == 0
    # balanced-init reads W0 and v0; the file has no v0. No eta: gradient flow.
    assert json.loads(capsys.readouterr().out)["assumptions"] == {"balanced-init": None, "gradient-flow": True}


def test_not_an_npz_is_named_as_such(tmp_path, capsys):
    # A text file or random bytes renamed .npz is not "object arrays that need pickle".
    for name, content in (("text.npz", b"X,y\n1,2\n"), ("bytes.npz", bytes(range(256)))):
        path = tmp_path / name
        path.write_bytes(content)
        assert main(["check", "lemma-6", "--data", str(path)]) == 2
        err = capsys.readouterr().err
        assert "is not an .npz archive" in err and "pickle" not in err, err


def test_mistyped_claim_id_gets_a_suggestion(tmp_path, capsys):
    assert main(["probe", "lemma6", "--violate", "orthogonal-separability"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'lemma-6'" in err and "eq-13-features" not in err, err


def test_list_json_gives_arrays_and_what_can_be_done(capsys):
    assert main(["list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    lemma6 = rows["lemma-6"]
    assert lemma6["assumptions"] == ["orthogonal-separability"]
    assert [a["name"] for a in lemma6["arrays"]] == ["X", "y", "W0"] and lemma6["checkable"] and lemma6["probeable"]
    assert lemma6["arrays"][0]["doc"] == "(n, d) data, one sample per row"
    assert not rows["eq-6-risk-identity"]["checkable"]
    # The UFM's v0 is a (d,) classifier, not the network's (h,) second layer: the claim says so.
    assert {a["name"]: a["doc"] for a in rows["eq-13-v"]["arrays"]}["v0"].startswith("(d,)")
    assert all(a["doc"] != "(undocumented)" for r in rows.values() for a in r["arrays"])


def test_list_table_and_show_say_what_check_needs(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    header, lemma6 = out.splitlines()[0], next(line for line in out.splitlines() if line.startswith("lemma-6 "))
    assert header.split()[:4] == ["claim", "reference", "verdict", "check"]
    assert "X,y,W0" in lemma6 and " yes " in lemma6
    assert main(["show", "eq-13-v"]) == 0
    out = capsys.readouterr().out
    assert "v0: (d,) linear classifier v(0)" in out and "t: () the time" in out and "probe: no" in out
    assert main(["show", "theorm-9"]) == 2
    assert "did you mean 'theorem-9'" in capsys.readouterr().err


def test_report_dir_is_honoured_by_list_and_check(tmp_path, capsys):
    reports = tmp_path / "elsewhere"
    (reports / "counterexamples").mkdir(parents=True)
    (reports / "claims.json").write_text(json.dumps({"claims": [{"id": "lemma-6", "verdict": "refuted"}]}))
    np.savez(reports / "counterexamples" / "lemma-6.npz", X=np.array([[1.0, 0.0], [0.8, 0.6]]),
             y=np.array([1.0, -1.0]), W0=np.array([[1.0, 0.5]]))
    assert main(["list", "--json", "--report-dir", str(reports)]) == 0
    verdicts = {r["id"]: r["verdict"] for r in json.loads(capsys.readouterr().out)}
    assert verdicts["lemma-6"] == "refuted" and verdicts["theorem-9"] == "not run"
    # check without --data replays the counterexample saved in the report directory
    assert main(["check", "lemma-6", "--report-dir", str(reports)]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "undefined"


def test_probe_from_another_folder_prints_paths_that_work_there(tmp_path, capsys, monkeypatch):
    # A project rooted at tmp_path/project (default report dir: its reports/), run from elsewhere.
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert cli.main(["probe", "lemma-6", "--violate", "orthogonal-separability", "--max-examples", "5"],
                    paper=PAPER, root=project) == 0
    ce = json.loads(capsys.readouterr().out)["counterexample"]
    assert Path(ce["file"]).is_absolute() and Path(ce["file"]).is_file()
    assert Path(ce["file"]).parent == project / "reports" / "counterexamples"
    assert ce["file"] in ce["replay"]


def test_list_show_check_probe_do_not_import_torch(tmp_path):
    # Only the claims that train a network need torch; the commands on the others must not pay for it.
    data = _write(tmp_path, "sep.npz", X=np.array([[1.0, 0.0], [-0.8, -0.6]]), y=np.array([1.0, -1.0]),
                  W0=np.array([[1.0, 0.5]]))
    script = f"""
import contextlib, io, sys
from pathlib import Path
from claims.framework.cli import main
from claims.paper import PAPER
root = Path({str(ROOT)!r})
with contextlib.redirect_stdout(io.StringIO()):
    codes = [main(["list"], paper=PAPER, root=root), main(["show", "theorem-9"], paper=PAPER, root=root),
             main(["check", "lemma-6", "--data", {data!r}], paper=PAPER, root=root),
             main(["probe", "theorem-9", "--violate", "balanced-init", "--max-examples", "2",
                   "--report-dir", {str(tmp_path / "r")!r}], paper=PAPER, root=root)]
print(codes, "torch" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("]")[-1].strip() == "False" and result.stdout.startswith("[0, 0, 0, 0]"), result.stdout


def test_report_dir_and_data_mistakes_are_named(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    np.savez(tmp_path / "none.npz")
    cases = {
        ("list", "--report-dir", str(tmp_path / "missing")): "is not a folder",
        ("list", "--report-dir", str(tmp_path / "empty")): "no claims.json in",
        ("check", "lemma-6", "--data", str(tmp_path / "none.npz")): "an .npz archive with no arrays in it",
        ("check", "lemma-6", "--data", str(tmp_path)): "is a folder; give the .npz file",
    }
    for argv, message in cases.items():
        assert main(list(argv)) == 2, argv
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)


def test_output_piped_into_a_reader_that_closes_is_not_a_traceback():
    result = subprocess.run(f"{sys.executable} -m claims list | head -1", shell=True, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr and result.stdout.startswith("claim")
