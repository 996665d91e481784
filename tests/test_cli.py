"""The ``python -m claims`` command line: list, check, and one table of user mistakes.

Every mistake must exit 2 with exactly one line on stderr and no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from claims.framework.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "claims", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_list_shows_every_claim(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ids = {r["id"] for r in rows}
    assert {"lemma-6", "eq-13-features", "appendix-a-bayes-consistency"} <= ids
    assert all(r["paper_ref"] for r in rows)


def test_check_replays_a_counterexample(tmp_path, capsys):
    data = tmp_path / "ce.npz"
    np.savez(data, px=np.array([1.0]), p=np.array([0.0]), f=np.array([-1.0]))
    assert main(["check", "eq-8-sign-rule", "--data", str(data)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["claim"] == "eq-8-sign-rule" and out["verdict"] == "fails"


def test_check_holds_exit_0(tmp_path, capsys):
    data = tmp_path / "ok.npz"
    np.savez(data, px=np.array([1.0]), p=np.array([0.5]), f=np.array([3.0]))  # p = 1/2: (8) silent, R = inf = 0
    assert main(["check", "eq-8-sign-rule", "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "holds"


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
    }


CASES = [
    "missing file", "not an npz", "single npy", "pickled objects", "missing array", "X not 2-D",
    "length mismatch", "NaN", "inf", "labels not +-1", "one class", "empty data", "W0 dimension",
    "string array", "unknown claim", "claim without instance", "no subcommand", "unknown subcommand",
    "check without --data",
]


@pytest.mark.parametrize("case", CASES)
def test_user_mistakes_exit_2_with_one_line(case, tmp_path, capsys):
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
    for sub in ("list", "report", "check"):
        result = run_cli(sub, "--help")
        assert result.returncode == 0 and "usage" in result.stdout

