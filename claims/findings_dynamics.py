"""Root causes, findings, main results, proof edges and order of the claims on the paper's
dynamics beyond gradient flow: gradient descent with a finite step (the Abstract's "GD") and
the mechanisms Sections 4 and 5.2 invoke (gradient growth, batch-norm balance).

Merged into :mod:`claims.findings` (same structure, same rules)."""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

ROOT_CAUSES: tuple[RootCause, ...] = (
    RootCause(
        id="gd-is-not-gf",
        title="The theorems are proved for gradient flow, the Abstract claims them for GD",
        severity="scope",
        explanation=(
            "Theorems 4 and 9 are stated and proved for gradient flow; the Abstract says the network is "
            "'trained with GD'. Under the linear loss GD is the explicit Euler method of the flow's "
            "piecewise-linear ODE: per step a neuron's modes grow and decay by 1 +- eta k (k <= ||sum_i y_i x_i|| "
            "under Assumption 1) instead of e^{+-k eta}. Claim 1's sign argument survives any step, but the "
            "flow's conservation of v_j^2 - ||w_j||^2 does not, and GD can change the sign of v_j, moving the "
            "neuron to the other group (seen from eta ||s|| = 0.1 on adversarial instances). Repair: read the "
            "groups off the final sign of v_j (then the conclusions hold at every step), or take steps small "
            "enough that no v_j changes sign (eta ||s|| <= 0.01 matched the flow's cones on every instance tried)."),
    ),
)
FINDINGS: dict[str, Finding] = {
    "abstract-gd-theorems": Finding(
        "scope",
        "Holds once the step is small enough that no v_j changes sign (the gradient-flow regime of the theorems); "
        "at eta ||s|| = 0.3 a neuron of N_+ ends in S_- on the counterexample (zeta = 0.73), while at every step "
        "GD still aligns and collapses directionally with the groups read off the final sign of v_j.",
        "gd-is-not-gf"),
}
MAIN_RESULTS: tuple[MainResult, ...] = (
    MainResult("Gradient descent against the gradient flow of Theorems 4 and 9 (Abstract)",
               ("abstract-gd-theorems",)),
)
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "abstract-gd-theorems": ("theorem-9", "claim-1", "theorem-4-directional-collapse"),
}
CLAIM_ORDER: tuple[str, ...] = ("abstract-gd-theorems",)
