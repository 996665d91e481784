"""Run the Section 4 comparison from the command line, e.g. on MNIST IDX files::

    python -m models.digits_experiment --data-dir FOLDER --seeds 5 --steps 1000 --set init_scale=0.1

Prints one JSON object: the settings and, per sub-claim, the sign-test verdict with its numbers.
Exit status 2 with one line on stderr for a bad argument, setting or data folder.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import sys

from models.digits_experiment.config import ConfigError, ExperimentConfig
from models.digits_experiment.data import DataError
from models.digits_experiment.experiment import SUBCLAIMS, compare_subclaim, run_arms


def _setting(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE; got {text!r}")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value  # a bare word such as mean or running
    return name, parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.digits_experiment", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (default: bundled digits)")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0 .. N-1)")
    parser.add_argument("--steps", type=int, default=600, help="GD steps per run")
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
                        help="any ExperimentConfig field, e.g. loss_reduction=mean (repeatable)")
    args = parser.parse_args(argv)
    try:
        if args.seeds < 1:
            raise ConfigError(f"--seeds must be a positive integer; got {args.seeds!r}")
        config = ExperimentConfig(steps=args.steps, data_dir=args.data_dir).changed(**dict(args.set))
        results = run_arms(config, range(args.seeds))
    except (ConfigError, DataError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = {"config": {k: v for k, v in vars(config).items() if k != "loss"}, "subclaims": {}}
    for sub in SUBCLAIMS:
        c = compare_subclaim(results, sub)
        out["subclaims"][sub] = {
            "verdict": c.verdict, "linear_faster": c.linear_faster, "logistic_faster": c.logistic_faster,
            "ties": c.ties, "p_linear": c.p_linear, "p_logistic": c.p_logistic,
            "t_linear": [t if math.isfinite(t) else None for t in c.t_linear],
            "t_logistic": [t if math.isfinite(t) else None for t in c.t_logistic],
        }
    out["nonfinite_runs"] = sum(h.status != "ok" for h in results.linear + results.logistic)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
