"""Root causes, findings, main results, proof edges and order of the "Beyond the paper"
claims on Han et al. 2022's MSE decomposition and on the multi-class linear losses that
Section 6 names as future work.

Merged into :mod:`claims.findings` (same structure, same rules)."""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

ROOT_CAUSES: tuple[RootCause, ...] = (
    RootCause(
        id="multiclass-limit-keeps-init-shape",
        title="Multi-class linear losses: the limit keeps the initialisation's shape",
        severity="substantive",
        explanation=(
            "Every K-class extension of l(u) = -u is linear in the logits, so its UFM gradient flow is linear, "
            "d[W; H]/dt = [[0, S^T], [S, 0]] [W; H], and grows along the top singular directions of the score matrix S. "
            "With equal class sizes the centred loss (and the balanced one-vs-rest loss, K/(K-1) times it) grows all K-1 "
            "class directions at one rate, so the limit's class means are V C with C the initialisation's projection on "
            "that subspace: nothing pulls their Gram matrix towards the simplex ETF's (cross-entropy's normalisation does), "
            "so NC2 fails from every generic start and the classifier argmax_k m_k^T m_y can miss the true class when the "
            "means' norms differ (NC4, and even training accuracy, fail on an open set). What holds: relative NC1 and NC3 "
            "(W and the centred means tend to the same V C). A repair needs a non-linear loss or normalisation that "
            "equalises the class directions."),
    ),
    RootCause(
        id="ovr-common-mode",
        title="One-vs-rest: the common mode outgrows the class modes for K >= 4",
        severity="substantive",
        explanation=(
            "Unweighted one-vs-rest, l_i = -sum_k s_ik z_ik with s = +1 for the true class and -1 for the K-1 others, "
            "rewards moving every w_k and every h_i along one common vector: with N per class its rate is |K-2| sqrt(N) "
            "against 2 sqrt(N) for the class modes, a tie at K = 4 and dominant for K >= 5. Then W/||W|| tends to "
            "identical rows (NC3 fails), the common features' class-dependent scores w_k^T h_common outgrow the class "
            "scores so every sample is predicted as one class (NC4 fails, training accuracy -> 1/K), and under norm "
            "constraints every class collapses onto one point (w_k = e, h_i = -e has loss -n(K-2) below the ETF's -2n). "
            "Weighting the negatives by 1/(K-1) removes the common mode (it is then the centred loss)."),
    ),
    RootCause(
        id="centred-frame-minimisers",
        title="Under norm constraints any centred unit frame minimises the centred loss",
        severity="substantive",
        explanation=(
            "With ||w_k||, ||h_i|| <= 1 and N per class, L >= -N sum_k ||w_k - wbar|| >= -N sqrt(K sum_k ||w_k - wbar||^2) "
            ">= -N K = -n (Cauchy-Schwarz twice and sum_k ||w_k - wbar||^2 = sum_k ||w_k||^2 - K ||wbar||^2), with equality "
            "iff the w_k are unit vectors summing to 0 and h_i = w_{y_i}. So Appendix C.2's complete NC (NC1, NC3, NC4) "
            "generalises, but the minimisers are every centred unit frame: a simplex ETF only for K = 3 (three unit vectors "
            "summing to 0 are at 120 degrees); for K >= 4 a continuum (e.g. +-e_1, +-e_2) that the projected flow reaches "
            "from generic starts. NC2 needs a term that spreads the frame (cross-entropy's log-sum-exp does)."),
    ),
    RootCause(
        id="linear-head-unbounded-scale",
        title="The linear loss's classifier outgrows the least-squares classifier",
        severity="scope",
        explanation=(
            "Han et al.'s term (B) compares the classifier with the least-squares classifier of the current features, whose "
            "predictions stay bounded (they are a projection of the targets). Under the linear loss the classifier and the "
            "features both grow like e^{sqrt(n) t} on the UFM, so (B) grows like e^{4 sqrt(n) t} whatever the directions do. "
            "Measured up to scale (B_rel = 1 - cos_+^2 of the predictions) the flow approaches the central path, like "
            "e^{-2 sqrt(n) t}: adding scale invariance repairs the transfer of Han et al.'s observation to the UFM."),
    ),
    RootCause(
        id="linear-head-not-least-squares",
        title="The linear loss aligns the head with the signed feature sum, not the least-squares direction",
        severity="substantive",
        explanation=(
            "The linear loss's gradient on the last layer is -sum_i y_i h_i whatever the head is, so the head follows the "
            "(size-weighted) class-mean difference of the features, while the least-squares classifier is the "
            "within-class-whitened direction (Sigma^{-1}-weighted). The two agree only once the within-class spread is "
            "negligible (NC1) or isotropic. On the digits network, where the features do not collapse within the training "
            "horizon, the scale-invariant term (B) of the linear-loss arm stalls at a few 1e-2 while the MSE arm's falls to "
            "~1e-4: linear-loss training does not follow Han et al.'s central path."),
    ),
)

FINDINGS: dict[str, Finding] = {
    "multiclass-centred-nc2": Finding(
        "substantive", "Fails from every generic start (the limit's Gram matrix is the initialisation's projection, distance "
        "~0.4-0.7 from the ETF's for K = 3..10); an ETF limit needs the null set C C^T proportional to I.",
        "multiclass-limit-keeps-init-shape"),
    "multiclass-centred-nc4": Finding(
        "substantive", "Fails on an open box of starts around W0 = 1e-2 [[1, 0], [3, 1], [-4, -1]] (every draw of the search "
        "is a counterexample): the classifier scores class 0's samples highest for class 1.",
        "multiclass-limit-keeps-init-shape"),
    "multiclass-ovr-nc2": Finding(
        "substantive", "Fails from every generic start, as for the centred loss: the class modes keep the initialisation's "
        "shape.", "multiclass-limit-keeps-init-shape"),
    "multiclass-ovr-nc3": Finding(
        "substantive", "Fails from every generic start with K >= 4 (the common mode ties at K = 4 and dominates for K >= 5); "
        "holds for K = 3.", "ovr-common-mode"),
    "multiclass-ovr-nc4": Finding(
        "substantive", "Fails from every generic start with K >= 5 (every sample predicted as one class: disagreement "
        "(K-1)/K), and on the centred loss's open set for K = 3.", "ovr-common-mode"),
    "multiclass-centred-constrained-etf": Finding(
        "substantive", "For K = 4 no generic start of the suite reaches an ETF (all reach the minimum -n), and an open set of "
        "starts near the square stays near it; holds for K = 3.", "centred-frame-minimisers"),
    "multiclass-ovr-constrained-etf": Finding(
        "substantive", "Every generic start with K >= 5 collapses all classes onto one point (loss -n(K-2)); holds for K = 3.",
        "ovr-common-mode"),
    "han-term-b-linear-ufm": Finding(
        "scope", "Fails from every start with a nonzero growing mode ((B) grows like e^{4 sqrt(n) t}); the scale-invariant "
        "form holds (han-central-path-linear-ufm).", "linear-head-unbounded-scale"),
    "han-term-b-linear-digits": Finding(
        "substantive", "On the digits network the linear-loss arm's B_rel ends near 5e-2 (seed 0, 100 steps, 120 images; the "
        "thorough profile adds seeds, steps and the full training set) while the MSE arm's is ~1e-4: not a matter of scale.",
        "linear-head-not-least-squares"),
}

_MULTICLASS = ("multiclass-ufm-linear-flow", "multiclass-ovr-balanced-is-centred",
               "multiclass-centred-nc1", "multiclass-centred-nc2", "multiclass-centred-nc3", "multiclass-centred-nc4",
               "multiclass-ovr-nc1", "multiclass-ovr-nc2", "multiclass-ovr-nc3", "multiclass-ovr-nc4",
               "multiclass-centred-constrained-etf", "multiclass-ovr-constrained-etf")
_HAN = ("han-mse-decomposition", "han-term-b-linear-ufm", "han-central-path-linear-ufm", "han-term-b-linear-digits")

MAIN_RESULTS: tuple[MainResult, ...] = (
    MainResult("Beyond the paper: multi-class linear losses on the UFM, NC1-NC4 per extension (Section 6)", _MULTICLASS),
    MainResult("Beyond the paper: Han et al.'s term (B) and central path under the linear loss (Han et al. 2022)", _HAN),
)
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    **{cid: ("multiclass-ufm-linear-flow",) for cid in _MULTICLASS[1:10]},
    "han-term-b-linear-ufm": ("han-mse-decomposition",),
    "han-central-path-linear-ufm": ("han-mse-decomposition",),
    "han-term-b-linear-digits": ("han-mse-decomposition",),
}
CLAIM_ORDER: tuple[str, ...] = _HAN + _MULTICLASS
