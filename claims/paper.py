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

SENSITIVITY_KEYS = {"setting", "subclaim", "verdict", "seeds", "steps", "linear_faster", "logistic_faster",
                    "ties", "p_linear", "p_logistic", "median_linear", "median_logistic", "nonfinite_runs"}
SENSITIVITY_VERDICTS = ("holds", "refuted", "inconclusive")


def validate_sensitivity_row(where: str, row: Any) -> None:
    """One (setting, sub-claim) verdict of an empirical claim under an open experimental choice.

    Medians are null when the arm did not reach the event by the horizon in at least half
    of its seeds. Raises ValueError naming ``where``."""
    if not isinstance(row, Mapping) or set(row) != SENSITIVITY_KEYS:
        got = sorted(row) if isinstance(row, Mapping) else type(row).__name__
        raise ValueError(f"{where} keys differ: expected {sorted(SENSITIVITY_KEYS)}, got {got}")
    if not all(isinstance(row[k], str) and row[k] for k in ("setting", "subclaim")):
        raise ValueError(f"{where}: setting and subclaim must be non-empty strings")
    if row["verdict"] not in SENSITIVITY_VERDICTS:
        raise ValueError(f"{where}: verdict must be one of {SENSITIVITY_VERDICTS}; got {row['verdict']!r}")
    for key in ("seeds", "steps", "linear_faster", "logistic_faster", "ties", "nonfinite_runs"):
        if isinstance(row[key], bool) or not isinstance(row[key], int) or row[key] < 0:
            raise ValueError(f"{where}: {key} must be an int >= 0; got {row[key]!r}")
    for key in ("p_linear", "p_logistic"):
        if isinstance(row[key], bool) or not isinstance(row[key], (int, float)) or not 0 <= row[key] <= 1:
            raise ValueError(f"{where}: {key} must be a number in [0, 1]; got {row[key]!r}")
    for key in ("median_linear", "median_logistic"):
        if row[key] is not None and (isinstance(row[key], bool) or not isinstance(row[key], (int, float))):
            raise ValueError(f"{where}: {key} must be a number or null; got {row[key]!r}")


def _cell(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_sensitivity(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The empirical claims' verdicts under each open experimental choice (one row per cell)."""
    def median(value):
        return "not reached" if value is None else f"{value:g}"
    lines = [
        "Verdict of each sub-claim (paired sign test over seeds, linear vs logistic loss) under each "
        "setting of the choices the paper leaves open. Medians are steps to the event; *not reached*: "
        "not by the horizon in at least half the seeds.", "",
        "| setting | sub-claim | verdict | seeds | steps | linear faster / logistic faster / ties "
        "| p (linear faster) | p (logistic faster) | median steps linear | median steps logistic | non-finite runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {_cell(r['setting'])} | {r['subclaim']} | **{r['verdict']}** | {r['seeds']} | "
                     f"{r['steps']} | {r['linear_faster']} / {r['logistic_faster']} / {r['ties']} | "
                     f"{r['p_linear']:.3g} | {r['p_logistic']:.3g} | {median(r['median_linear'])} | "
                     f"{median(r['median_logistic'])} | {r['nonfinite_runs']} |")
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
    "t_linear": "(seeds,) steps (GD iterations) to the event under the linear loss, one per seed; inf if not reached",
    "t_logistic": "(seeds,) steps (GD iterations) to the event under the logistic loss, paired with t_linear",
}

PAPER = Paper(
    title=TITLE,
    claim_package="claims",
    assumptions=tuple(ASSUMPTIONS.values()),
    instance_rules=instance_rules,
    array_docs=ARRAY_DOCS,
    variant_arrays=VARIANT_KEYS,
    input_errors=(DynamicsError, DataGeometryError),
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
