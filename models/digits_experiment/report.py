"""Rows, JSON and a Markdown summary of a grid's verdicts (shared by the claims and the command line).

One row per (setting, replicate, sub-claim, compared loss), plus one summary row per (sub-claim,
compared loss) with the verdict over both replicates and both readings of the normalisation
(grid.py). Every row names the dataset, its sizes, the seeds and the steps; times and effects
are in steps (GD iterations).

References:
    Section 4; Figure 1.
"""

from __future__ import annotations

import math

from models.digits_experiment.analysis import Comparison
from models.digits_experiment.experiment import SUBCLAIMS, ArmResults
from models.digits_experiment.grid import DEFINITIONS, PAPER_PROTOCOL, GridResult

SUMMARY_SETTING = "verdict: both replicates, both readings of the normalisation"


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def comparison_row(setting: str, results: ArmResults, c: Comparison, subclaim: str, *, verdict: str | None = None,
                   reason: str | None = None, base_seeds: list[int] | None = None) -> dict:
    return {
        "setting": setting, "dataset": results.dataset, "train": results.n_train, "test": results.n_test,
        "base_seeds": base_seeds if base_seeds is not None else [results.seeds[0]],
        "seeds": c.seeds, "steps": results.config.steps, "subclaim": subclaim, "other": c.other,
        "verdict": verdict or c.decision, "linear_faster": c.linear_faster, "other_faster": c.other_faster,
        "ties": c.ties, "p": c.p_value, "p_holm": c.p_adjusted, "family": c.family_size, "effect": c.effect,
        "ci_low": c.ci_low, "ci_high": c.ci_high, "median_linear": _finite(c.median("linear")),
        "median_other": _finite(c.median("other")),
        "nonfinite_runs": results.nonfinite_runs("linear") + results.nonfinite_runs(c.other),
        "reason": reason or c.reason,
    }


def grid_rows(result: GridResult) -> list[dict]:
    """Every row of the grid (module docstring), summary rows first."""
    rows = []
    first = result.first
    for (sub, other), c in result.family(first).items():
        verdict, reason = result.verdict(sub, other)
        rows.append(comparison_row(SUMMARY_SETTING, first, c, sub, verdict=verdict, reason=reason,
                                   base_seeds=list(result.grid.base_seeds)))
    for base, results in result.replicates.items():
        for (sub, other), c in result.family(results).items():
            rows.append(comparison_row(f"{PAPER_PROTOCOL}, base seed {base}", results, c, sub))
    for label, definitions in DEFINITIONS:
        for (sub, other), c in result.family(first, **definitions).items():
            rows.append(comparison_row(f"{label}, base seed {first.seeds[0]}", first, c, sub))
    for label, results in result.settings.items():
        for (sub, other), c in result.family(results).items():
            rows.append(comparison_row(f"{label}, base seed {results.seeds[0]}", results, c, sub))
    return rows


def markdown_summary(result: GridResult) -> str:
    """A short Markdown summary: the setup and the summary verdicts per sub-claim and loss."""
    grid, first = result.grid, result.first
    lines = [
        f"# Section 4 on {result.data.describe()}", "",
        f"Grid `{grid.name}`: {grid.seeds} seeds per replicate, replicates with base seeds "
        f"{', '.join(map(str, grid.base_seeds))}; {grid.steps} steps (GD iterations) per run, step size "
        f"{first.config.step_size:g}; arms {', '.join(first.losses)}. Per replicate, each sub-claim x loss is a paired "
        f"two-sided sign test over seeds, Holm-adjusted over the {len(SUBCLAIMS) * len(first.compared)} comparisons; "
        f"effect = median over seeds of (steps of the other loss - steps of the linear loss), with its 95% "
        f"sign-test interval.", "",
        "| sub-claim | vs | verdict | linear / other faster / ties (first replicate) | effect, steps [95% CI] | why |",
        "|---|---|---|---|---|---|",
    ]
    for (sub, other), c in result.family(first).items():
        verdict, reason = result.verdict(sub, other)
        ci = "unbounded" if c.ci_low is None else f"[{c.ci_low:g}, {c.ci_high:g}]"
        lines.append(f"| {sub} | {other} | **{verdict}** | {c.linear_faster} / {c.other_faster} / {c.ties} | "
                     f"{c.effect:g} {ci} | {reason} |")
    lines += ["", "Non-finite runs: " + ", ".join(f"{loss} {first.nonfinite_runs(loss)}" for loss in first.losses), ""]
    return "\n".join(lines)
