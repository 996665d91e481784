"""The command line: full --help with the configuration fields, progress on stderr, one JSON object
on stdout, --out writing the JSON, the figures and the summary, and one line with exit status 2
for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from models.digits_experiment.__main__ import main
from models.digits_experiment.config import field_docs


def test_help_is_complete(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "focal losses on MNIST digits 0 vs 8, over seeds, with Holm-corrected paired sign tests." in text
    assert "one step = one full-batch GD iteration" in text
    for name in field_docs():  # every configuration field is documented in --help
        assert f"\n{name} (default" in text, name


def test_run_writes_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--seeds", "2", "--steps", "3", "--base-seeds", "0", "5", "--settings", "--out", str(out),
                 "--set", "loss_reduction=mean"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout is one JSON object
    assert result["config"]["loss_reduction"] == "mean" and result["unit"].startswith("steps")
    assert (result["train"], result["test"]) == (800, 200) and "MNIST" in result["dataset"]
    nc1 = result["subclaims"]["nc1"]["logistic"]
    assert len(nc1["steps_linear"]) == 2 and nc1["verdict"] == "inconclusive"
    assert "smallest two-sided sign-test p-value is" in nc1["reason"]  # says why
    assert "[1/10] linear seed 0" in captured.err and "base seed 5" in captured.err  # progress on stderr
    assert json.loads((out / "results.json").read_text()) == result
    assert (out / "summary.md").read_text().startswith("# Section 4 on MNIST 0 vs 8")
    for name in ("figure1.png", "step_counts.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("argv", "word"), [
    (["--set", "width=0"], "width"), (["--seeds", "0"], "--seeds"), (["--bogus"], "--bogus"),
    (["--device", "tpu"], "device"), (["--set", "nothing"], "NAME=VALUE"), (["--set", "colour=red"], "colour"),
    (["--data-dir", "/nonexistent/folder", "--seeds", "1", "--steps", "1"], "not a folder"),
    (["--settings", "no such setting"], "settings"), (["--grid", "huge"], "grid"),
])
def test_bad_input_is_one_line_exit_2(argv, word):
    done = subprocess.run([sys.executable, "-m", "models.digits_experiment", "--quiet", *argv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and word in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
