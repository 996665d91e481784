"""This suite's paper, declared for the claim framework (see :mod:`claims.framework.paper`).

Everything the framework must know about "Linear Loss Classification" lives here: the title,
the arrays an instance holds and how their shapes agree, the assumptions (in
:mod:`claims.assumptions`), the dynamics variants an instance may ask for
(:mod:`claims.dynamics`), the referee's judgement of the findings, the main results, the proof
graph and the paper's order (in :mod:`claims.findings`), and the Section 4 sensitivity table.

Instance arrays (float64): ``X`` (n, d) data, ``y`` (n,) labels in {-1, +1}, ``W0`` (h, d)
first-layer initialisation, ``v0`` (h,) second-layer initialisation; claims may name others
(``H0``, ``t``, ...), checked for dtype and finiteness only. Variants: ``eta`` (a step size:
gradient descent instead of the flow) and ``logistic`` (1.0: the logistic loss).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from claims.assumptions import ASSUMPTIONS
from claims.dynamics import VARIANT_KEYS, DynamicsError, variant
from claims.findings import CLAIM_ORDER, DEPENDS_ON, FINDINGS, MAIN_RESULTS, ROOT_CAUSES
from claims.framework.paper import InstanceRuleError, Paper, ReportPart, ReportSection
from models.data_geometry import DataGeometryError
from models.han_decomposition import HanInputError
from models.multiclass_ufm import MulticlassInputError
from models.ufm import UFMInputError
from models.ufm_weight_decay import DecayUFMInputError

TITLE = "Linear Loss Classification: Efficient Training Through Neural Collapse"


def instance_rules(inst: Mapping[str, np.ndarray]) -> None:
    """Shapes of the standard arrays and labels in {-1, +1}; raises InstanceRuleError."""
    if "X" in inst:
        X = inst["X"]
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise InstanceRuleError(f"array X must be 2-D (n, d) with n, d >= 1; got shape {X.shape}")
    if "y" in inst:
        y = inst["y"]
        if y.ndim != 1 or y.size == 0:
            raise InstanceRuleError(f"array y must be 1-D (n,) and non-empty; got shape {y.shape}")
        if "X" in inst and y.shape[0] != inst["X"].shape[0]:
            raise InstanceRuleError(f"array y has {y.shape[0]} labels but X has {inst['X'].shape[0]} rows")
        if not np.all(np.isin(y, (-1.0, 1.0))):
            bad = np.unique(y[~np.isin(y, (-1.0, 1.0))])[:3]
            raise InstanceRuleError(f"array y must hold labels -1 and +1 only; found {bad.tolist()}")
        if np.unique(y).size < 2:
            raise InstanceRuleError("array y holds one class only; both -1 and +1 are needed")
    if "W0" in inst:
        W0 = inst["W0"]
        if W0.ndim != 2 or W0.shape[0] == 0:
            raise InstanceRuleError(f"array W0 must be 2-D (h, d) with h >= 1; got shape {W0.shape}")
        if "X" in inst and W0.shape[1] != inst["X"].shape[1]:
            raise InstanceRuleError(f"array W0 has dimension {W0.shape[1]} but X has {inst['X'].shape[1]}")
    if "v0" in inst:
        v0 = inst["v0"]
        if v0.ndim != 1 or ("W0" in inst and v0.shape[0] != inst["W0"].shape[0]):
            raise InstanceRuleError(f"array v0 must be 1-D (h,) matching W0's rows; got shape {v0.shape}")
    if any(key in inst for key in VARIANT_KEYS):
        try:
            variant(inst)
        except DynamicsError as error:
            raise InstanceRuleError(f"{error} (eta: a step size > 0; logistic: 0.0 or 1.0)") from None


def describe_instance(instance: Mapping[str, np.ndarray]) -> str:
    """Sizes and variant of an instance, e.g. ``n=3, d=1, h=1, eta=0.05``."""
    parts = []
    if "X" in instance:
        n, d = np.shape(instance["X"])
        parts.append(f"n={n}, d={d}")
    if "W0" in instance:
        parts.append(f"h={np.shape(instance['W0'])[0]}")
    if "eta" in instance:
        parts.append(f"eta={float(np.ravel(instance['eta'])[0]):.4g}")
    if "logistic" in instance:
        parts.append("logistic loss")
    return ", ".join(parts) or ", ".join(sorted(instance))


# --- the Section 4 sensitivity table ---------------------------------------------------------

SENSITIVITY_KEYS = {"setting", "dataset", "train", "test", "base_seeds", "seeds", "steps", "subclaim", "other",
                    "verdict", "linear_faster", "other_faster", "ties", "p", "p_holm", "family", "effect", "ci_low",
                    "ci_high", "median_linear", "median_other", "nonfinite_runs", "reason"}
# Per comparison: holds (linear faster) / fails (the other loss faster) / inconclusive; summary rows
# (both replicates, both readings of the normalisation): reproduced / not reproduced / refuted / inconclusive.
SENSITIVITY_VERDICTS = ("holds", "fails", "inconclusive", "reproduced", "not reproduced", "refuted")


def validate_sensitivity_row(where: str, row: Any) -> None:
    """One (setting, sub-claim, compared loss) comparison of the Section 4 experiment.

    Times and effects are steps (GD iterations); medians are null when the arm did not reach the
    event by the horizon in at least half of its seeds; the effect's interval is null when the
    seeds are too few to bound it. Raises ValueError naming ``where``."""
    if not isinstance(row, Mapping) or set(row) != SENSITIVITY_KEYS:
        got = sorted(row) if isinstance(row, Mapping) else type(row).__name__
        raise ValueError(f"{where} keys differ: expected {sorted(SENSITIVITY_KEYS)}, got {got}")
    for key in ("setting", "dataset", "subclaim", "other", "reason"):
        if not isinstance(row[key], str) or not row[key]:
            raise ValueError(f"{where}: {key} must be a non-empty string; got {row[key]!r}")
    if row["verdict"] not in SENSITIVITY_VERDICTS:
        raise ValueError(f"{where}: verdict must be one of {SENSITIVITY_VERDICTS}; got {row['verdict']!r}")
    for key in ("train", "test", "seeds", "steps", "linear_faster", "other_faster", "ties", "family",
                "nonfinite_runs"):
        if isinstance(row[key], bool) or not isinstance(row[key], int) or row[key] < 0:
            raise ValueError(f"{where}: {key} must be an int >= 0; got {row[key]!r}")
    if row["linear_faster"] + row["other_faster"] + row["ties"] != row["seeds"]:
        raise ValueError(f"{where}: linear_faster + other_faster + ties must equal seeds ({row['seeds']})")
    bases = row["base_seeds"]
    if (not isinstance(bases, list) or not bases
            or any(isinstance(b, bool) or not isinstance(b, int) or b < 0 for b in bases)):
        raise ValueError(f"{where}: base_seeds must be a non-empty list of ints >= 0; got {bases!r}")
    for key in ("p", "p_holm"):
        if isinstance(row[key], bool) or not isinstance(row[key], (int, float)) or not 0 <= row[key] <= 1:
            raise ValueError(f"{where}: {key} must be a number in [0, 1]; got {row[key]!r}")
    if row["p_holm"] < row["p"]:
        raise ValueError(f"{where}: p_holm ({row['p_holm']}) is below the raw p ({row['p']})")
    for key, nullable in (("effect", False), ("ci_low", True), ("ci_high", True), ("median_linear", True),
                          ("median_other", True)):
        value = row[key]
        if value is None and nullable:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where}: {key} must be a number{' or null' if nullable else ''}; got {value!r}")
    if (row["ci_low"] is None) != (row["ci_high"] is None):
        raise ValueError(f"{where}: ci_low and ci_high must both be numbers or both null")


def _cell(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_sensitivity(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The Section 4 comparisons, one table per setting (the summary verdicts first)."""
    def steps(value):
        return "not reached" if value is None else f"{value:g}"

    lines = [
        "Linear loss against each compared loss, per sub-claim: paired two-sided sign test over seeds, "
        "Holm-adjusted over each replicate's family of comparisons. Times are steps (GD iterations); *effect* is "
        "the median over seeds of steps(other) - steps(linear) (> 0: the linear loss is faster; not reached "
        "counts as the horizon + 1) with its 95% sign-test interval. Verdicts per comparison: holds (linear "
        "faster), fails (the other loss faster), inconclusive. Summary: reproduced / not reproduced (the other "
        "loss faster under the paper's protocol only: it depends on an unstated choice) / refuted / inconclusive.",
    ]
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    for setting in settings:
        group = [r for r in rows if r["setting"] == setting]
        head = group[0]
        lines += ["", f"**{_cell(setting, 120)}**: {_cell(head['dataset'], 80)}, {head['train']} train / "
                      f"{head['test']} test images; {head['seeds']} seeds per replicate (base seeds "
                      f"{', '.join(map(str, head['base_seeds']))}), {head['steps']} steps per run.", "",
                  "| sub-claim | vs | verdict | linear / other faster / ties | p | p (Holm) | effect, steps [95% CI] "
                  "| median steps linear / other | non-finite runs |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in group:
            ci = "unbounded" if r["ci_low"] is None else f"[{r['ci_low']:g}, {r['ci_high']:g}]"
            lines.append(f"| {r['subclaim']} | {r['other']} | **{r['verdict']}** | {r['linear_faster']} / "
                         f"{r['other_faster']} / {r['ties']} | {r['p']:.3g} | {r['p_holm']:.3g} | "
                         f"{r['effect']:g} {ci} | {steps(r['median_linear'])} / {steps(r['median_other'])} | "
                         f"{r['nonfinite_runs']} |")
        if head["verdict"] in ("reproduced", "not reproduced", "refuted") or setting.startswith("verdict"):
            lines += [""] + [f"- {r['subclaim']} vs {r['other']}: **{r['verdict']}**: {_cell(r['reason'], 600)}"
                             for r in group]
    return lines


SENSITIVITY = ReportSection(
    key="sensitivity",
    title="Sensitivity of the empirical claims",
    validate=validate_sensitivity_row,
    render=render_sensitivity,
)

BEYOND = ReportPart(
    key="beyond",
    title="Beyond the paper",
    intro=("The linear loss in the related work's settings (Zhou et al. 2022: weight decay and the "
           "landscape of the unconstrained feature model; Han et al. 2022: the MSE decomposition and its "
           "central path) and the multi-class extensions Section 6 names as future work. Statements of "
           "the related work are quoted; a conjecture of this suite is marked as such. Same verdict rules "
           "as the paper's own claims."),
)

# The standard instance arrays; claims with other arrays (or other shapes) document their own.
ARRAY_DOCS = {
    "X": "(n, d) data, one sample per row",
    "y": "(n,) labels in {-1, +1}",
    "W0": "(h, d) first-layer weights at t = 0, one neuron per row",
    "v0": "(h,) second-layer weights at t = 0",
    "eta": "() a step size > 0 (gradient descent instead of the flow)",
    "logistic": "() 1.0 for the logistic loss instead of the linear loss",
}

PAPER = Paper(
    title=TITLE,
    claim_package="claims",
    assumptions=tuple(ASSUMPTIONS.values()),
    instance_rules=instance_rules,
    array_docs=ARRAY_DOCS,
    variant_arrays=VARIANT_KEYS,
    input_errors=(DynamicsError, DataGeometryError, UFMInputError, DecayUFMInputError, MulticlassInputError,
                  HanInputError),
    describe_instance=describe_instance,
    sections=(SENSITIVITY,),
    parts=(BEYOND,),
    findings=FINDINGS,
    root_causes=ROOT_CAUSES,
    main_results=MAIN_RESULTS,
    claim_order=CLAIM_ORDER,
    depends_on=DEPENDS_ON,
    # Labels and the dynamics switches are not perturbed when measuring a degenerate finding.
    fixed_arrays=("y", "eta", "logistic"),
    versioned_packages=("numpy", "scipy", "sympy", "hypothesis", "pytest", "torch", "matplotlib",
                        "scikit-learn", "jsonschema"),
)
