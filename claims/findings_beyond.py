"""Root causes, findings, main results, proof edges and order of the "Beyond the paper"
claims on the related work's binary settings: the weight-decay UFM (Zhou et al. 2022) and the
landscape of the norm-constrained UFM.

Merged into :mod:`claims.findings` (same structure, same rules)."""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

ROOT_CAUSES: tuple[RootCause, ...] = (
    RootCause(
        id="linear-loss-quadratic-under-decay",
        title="With weight decay the linear-loss UFM is a quadratic form: no scale is selected",
        severity="substantive",
        explanation=(
            "Zhou et al. 2022's losses (CE, LS, FL, MSE) are bounded below and, for CE, LS and FL, decrease in "
            "the margins, so weight decay stops the features at a finite nonzero scale, where the minimisers are "
            "neural-collapse configurations. The linear loss is linear in the logits: with decay on W and H the "
            "UFM objective is a bilinear term plus squared norms, homogeneous of degree two. Its infimum is "
            "0 or -inf, and which one is decided by one threshold (binary, the paper's sum form: lam_v lam_h = n "
            "for any class sizes; K classes, Zhou et al.'s averaged form: lam_w lam_h = 1/(K n) for balanced "
            "classes). Below it, which includes the small decays of practice, the objective is unbounded; above "
            "it the only minimiser is the zero configuration (no class separation); at it the minimisers are a "
            "linear space of collapsed, self-dual configurations with arbitrary centred class means (a simplex "
            "ETF only for special means when K >= 3), the zero configuration included. The linear loss therefore "
            "sits outside Zhou et al.'s family: training it with weight decay does not select the NC solution. "
            "Repair: a norm constraint instead of a penalty (Appendix C.2), whose binary minimisers are complete "
            "NC."),
    ),
    RootCause(
        id="fixed-norms-in-one-dimension",
        title="With d = 1 the fixed-norm constraint set is finite",
        severity="scope",
        explanation=(
            "Weight normalisation fixes ||v|| = ||h_i|| = 1. For d >= 2 that product of spheres is connected, and "
            "the linear loss on it is strict saddle: critical points h_i = s_i y_i v, global iff every s_i = +1, "
            "and a misaligned feature (s_j = -1) is a direction of curvature -1 on its sphere. For d = 1 each "
            "sphere is {-1, +1}: the constraint set is 2^(n+1) isolated points, all critical, and every "
            "misaligned one is a spurious local minimum (a sign cannot change continuously). Repair: d >= 2, or "
            "the balls of (15) as printed, where a misaligned feature can shrink through the interior and the "
            "landscape is strict saddle for every d."),
    ),
)

FINDINGS: dict[str, Finding] = {
    "zhou-wd-linear-loss-nc": Finding(
        "substantive",
        "Fails for every choice of decay, not on a boundary: for lam_v lam_h < n (an open set, including "
        "Zhou-like decays 5e-3) the objective is unbounded below, for lam_v lam_h >= n the zero configuration is a "
        "global minimiser (the shrunk counterexample: n = 2, lam_v = 2.25, lam_h = 1, where it is the only one); "
        "K = 3 L-BFGS runs diverge, reach 0, or reach non-ETF class means, none reaching NC.",
        "linear-loss-quadratic-under-decay",
    ),
    "zhou-landscape-sphere": Finding(
        "scope",
        "Holds once d >= 2 (a feature dimension of at least two, which any UFM with two separated classes and a "
        "rotation to spare has): Riemannian Newton from random starts and every sign pattern give global minima "
        "or saddles of curvature <= -1. Fails only for d = 1, where the spheres are two-point sets; the ball model "
        "(15) has no such exception.",
        "fixed-norms-in-one-dimension",
    ),
}

MAIN_RESULTS: tuple[MainResult, ...] = (
    MainResult("Beyond the paper: the linear loss under weight decay, against CE, LS, FL and MSE (Zhou et al. 2022)",
               ("zhou-wd-family-nc", "zhou-wd-linear-loss-nc", "zhou-wd-linear-minimisers")),
    MainResult("Beyond the paper: the landscape of the norm-constrained UFM under the linear loss is strict saddle "
               "(Zhou et al. 2022, Appendix C.2)",
               ("zhou-landscape-ball", "zhou-landscape-sphere")),
)

DEPENDS_ON: dict[str, tuple[str, ...]] = {
    # The critical points of (15) are read off the KKT conditions (17) (in their corrected form).
    "zhou-landscape-ball": ("eq-17-minimiser",),
}

CLAIM_ORDER: tuple[str, ...] = (
    "zhou-wd-family-nc", "zhou-wd-linear-loss-nc", "zhou-wd-linear-minimisers",
    "zhou-landscape-ball", "zhou-landscape-sphere",
)
