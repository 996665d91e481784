"""Beyond the paper: multi-class linear losses on the unconstrained feature model (Section 6).

Section 6 names the multi-class setting as the main future direction. The natural K-class
extensions of l(u) = -u (models/multiclass_ufm.py) are all linear in the logits z_ik = w_k^T h_i:

    centred        l_i = -(z_{i,y_i} - (1/K) sum_k z_ik)                    S = Y - 11^T/K
    ovr            one-vs-rest, l_i = -sum_k s_ik z_ik, s = +1 (k = y_i), -1  S = 2Y - 11^T
    ovr-balanced   one-vs-rest with the negatives weighted 1/(K-1)           S = K/(K-1) (Y - 11^T/K)

so the UFM gradient flow is linear, d[W; H]/dt = [[0, S^T], [S, 0]] [W; H], solved by a matrix
exponential (scipy's expm; checked against numpy's eigendecomposition and DOP853). The balanced
one-vs-rest loss is the centred loss times K/(K-1): the same flow run K/(K-1) times faster, so its
NC verdicts are the centred loss's (claim ``multiclass-ovr-balanced-is-centred``).

Referee reading. For each extension and each of Papyan et al.'s NC1-NC4 (models/nc_metrics.py),
a conjecture of this suite: "from a generic small initialisation (equal class sizes N, features
and classifier entries 1e-2 N(0, 1) from a seeded generator), the UFM gradient flow exhibits NCj".
NC1 is read relatively, as Appendix C.1 does (tr Sigma_W / tr Sigma_B -> 0: within-class
differences are conserved by the flow, so Sigma_W itself never shrinks). NC2: the centred class
means' Gram matrix tends to the simplex ETF's. NC3: W/||W|| - M/||M|| -> 0 (Papyan's form, M the
centred class means). NC4: the classifier argmax_k w_k^T h + b_k agrees with the nearest class
mean on every sample, eventually. Limits are computed from the growing modes (the flow's exact
asymptotics); finite-time checks run the closed form to a horizon where the leading mode has grown
by e^{15}.

What comes out (equal class sizes). The centred loss grows the K-1 modes of 1^perp at one rate
sqrt(N): the limit's class means are V C, C the initialisation's projection on that subspace, so
their Gram matrix keeps the initialisation's shape (a simplex ETF only when C C^T is a multiple of
the identity, a null set for d < infinity): NC2 fails. W tends to the same V C: NC3 holds.
NC4 fails on an open set: with limit means m_k the classifier picks argmax_k m_k^T m_y, which is
not y when some m_k^T m_y > ||m_y||^2 (e.g. m = (1, 0), (3, 1), (-4, -1)): the flow does not even
fit the training labels. One-vs-rest adds a common mode (all w_k and all h_i moving along one
vector) of rate |K-2| sqrt(N) against 2 sqrt(N) for the class modes: it ties at K = 4 and
dominates for K >= 5, so W/||W|| tends to identical rows (NC3 fails) and the common features'
k-dependent scores w_k^T h_common outgrow the class scores, so every sample is predicted as one
class (NC4 fails, training accuracy -> 1/K).

Under norm constraints ||w_k|| <= 1, ||h_i|| <= 1 (Appendix C.2 generalised; projected gradient
descent), the centred loss's minimum is -n, attained exactly by unit w_k with sum_k w_k = 0 and
h_i = w_{y_i} (Cauchy-Schwarz): complete NC1, NC3 and NC4, and a simplex ETF for K = 3, but for
K >= 4 any unit vectors summing to 0 (e.g. +-e_1, +-e_2) are minimisers, and the projected flow
from generic starts reaches non-ETF ones. One-vs-rest under the constraints collapses every class
onto one point for K >= 5: w_k = e, h_i = -e gives -n(K-2), below the ETF's -2n.

References:
    Section 6; Appendix C.1-C.2; Papyan, Han & Donoho (2020) (NC1-NC4).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp
from hypothesis import strategies as st

from claims.framework import profiles
from claims.framework.checks import (
    SEARCH,
    assert_sympy_zero,
    precondition,
    property_check,
    record_counterexample,
    rejects,
    require,
    search_counterexample,
)
from claims.framework.claim import Claim, Evaluation, register
from models import multiclass_ufm as mu
from models import nc_metrics as ncm

PROFILE = profiles.profile_for_claims()

# ---------------------------------------------------------------------------------------
# Tolerances and horizons.
# ---------------------------------------------------------------------------------------
# The leading class-mean mode grows by e^{GROWTH} by the horizon: within-class spread (conserved)
# over between-class spread then falls by e^{-2 GROWTH} ~ 1e-13 from its O(1)..O(1e2) start.
GROWTH = 15.0
# NC1: trace ratio at the horizon. Generic starts give <= ~1e-10 (start ratio <= ~1e2 times
# e^{-30}); a flow without a growing class-mean mode keeps an O(1) ratio.
NC1_TOL = 1e-8
# NC2 / NC3 of the exact limit (growing modes): computed from O(1e-2) matrices by SVDs and
# products, rounding ~1e-15 relative; the generic values refuted here are >= 1e-2.
LIMIT_TOL = 1e-9
# Time steps of the closed form against DOP853 (rtol 1e-12, atol scaled to the state): over a
# growth of e^{GROWTH} the integrator keeps ~1e-10 relative accuracy; a wrong generator is off by O(1).
FLOW_RTOL = 1e-8
# Projected descent under the norm constraints: step and length (1000 steps at 0.1 reach the
# minimum to rounding for K <= 10, N <= 3, measured: the last 50 losses agree to 1e-15).
ETA, STEPS = 0.1, 1000
# Seeded generic starts per K in the constrained checks (each run ~0.04 s); more under thorough.
CONSTRAINED_SEEDS = 20 if PROFILE == "thorough" else 3
# A constrained limit reaches the minimum -n when its loss is within 1e-9 n of it (rounding of
# n K d products of unit vectors is ~1e-15 n).
MIN_TOL = 1e-9
# Class means count as coinciding when tr Sigma_B <= 1e-12 mean ||h_i||^2 (rounding of unit rows).
COINCIDE_TOL = 1e-12

ARRAY_DOCS = {"W0": "(K, d) classifier rows w_k at t = 0", "H0": "(n, d) features h_i at t = 0",
              "labels": "(n,) class of each feature, integers 0..K-1, every class present"}


# ---------------------------------------------------------------------------------------
# Instances.
# ---------------------------------------------------------------------------------------
def seeded_instance(K: int, N: int, d: int, seed: int, scale: float = 1e-2) -> dict[str, np.ndarray]:
    """Equal class sizes N, W0 (K, d) and H0 (K N, d) with i.i.d. entries scale * N(0, 1) from
    np.random.default_rng(seed); labels sorted."""
    rng = np.random.default_rng(seed)
    return {"W0": scale * rng.normal(size=(K, d)), "H0": scale * rng.normal(size=(K * N, d)),
            "labels": np.repeat(np.arange(K), N).astype(float)}


@st.composite
def generic_instances(draw, *, min_K: int = 3, max_K: int = 6):
    """A generic small initialisation: K in [min_K, max_K], N in 1..3 per class, d in 2..K+2,
    entries 1e-2 N(0, 1) from a drawn seed (seeded_instance). Shrinks to K = min_K, N = 1, d = 2,
    seed 0."""
    K = draw(st.integers(min_K, max_K))
    return seeded_instance(K, draw(st.integers(1, 3)), draw(st.integers(2, K + 2)), draw(st.integers(0, 2**32 - 1)))


# NC4 of the centred loss fails near this classifier: rows sum to 0 (so it is its own growing
# component), and m_2^T m_1 = 3 > 1 = ||m_1||^2: class-0 samples are scored highest by w_1.
NC4_BASE = np.array([[1.0, 0.0], [3.0, 1.0], [-4.0, -1.0]])


@st.composite
def nc4_open_set(draw):
    """K = 3, d = 2, N in 1..3: W0 = 1e-2 (NC4_BASE + 0.1 U), U in [-1, 1]^{3x2} drawn, and
    H0 = 1e-4 N(0, 1) (seeded). Over the whole box m_1^T m_0 - ||m_0||^2 >= 2.9 * 0.9 - 0.11 - 1.22 > 1
    for the limit means m = Pi W0 (the box is inside the failure set). Shrinks to U = 0, seed 0."""
    N = draw(st.integers(1, 3))
    U = np.array([[draw(st.floats(-1.0, 1.0)) for _ in range(2)] for _ in range(3)])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return {"W0": 1e-2 * (NC4_BASE + 0.1 * U), "H0": 1e-4 * rng.normal(size=(3 * N, 2)),
            "labels": np.repeat(np.arange(3), N).astype(float)}


def unpack(inst) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.asarray(inst["W0"], float), np.asarray(inst["H0"], float),
            np.asarray(inst["labels"], float).astype(int))


def horizon(inst, extension: str) -> float:
    """GROWTH over the leading class-mean rate."""
    W0, H0, labels = unpack(inst)
    rate, _ = mu.leading_class_means(W0, H0, labels, extension)
    return GROWTH / rate


# ---------------------------------------------------------------------------------------
# The conjectures on one instance.
# ---------------------------------------------------------------------------------------
def etf_distance(M: np.ndarray) -> float:
    """|| G/||G|| - P/||P|| ||_F for the Gram matrix G of centred means M (K, d), P = I - 11^T/K
    (models.nc_metrics.nc2_etf_distance's formula, on means given directly)."""
    K = M.shape[0]
    G = M @ M.T
    P = np.eye(K) - np.ones((K, K)) / K
    return float(np.linalg.norm(G / np.linalg.norm(G) - P / np.linalg.norm(P)))


def evaluate_nc(inst, *, extension: str, prop: str, growth: float = GROWTH) -> Evaluation:
    """Whether NC``prop`` (1-4) emerges along the UFM flow of ``extension`` from this start.
    ``growth``: how far the finite-time checks (NC1, NC4) run (the negative control shortens it)."""
    W0, H0, labels = unpack(inst)
    try:
        rate, M = mu.leading_class_means(W0, H0, labels, extension)
    except mu.MulticlassInputError as error:
        return Evaluation(holds=False, figures={}, reason=str(error))
    T = growth / rate
    if prop == "nc1":
        state = mu.flow_closed_form(W0, H0, labels, extension, T)
        ratio = ncm.trace_ratio(state.H, labels)
        return Evaluation(holds=ratio <= NC1_TOL, figures={"trace_ratio_at_horizon": ratio, "horizon": T})
    if prop == "nc2":
        dist = etf_distance(M)
        return Evaluation(holds=dist <= LIMIT_TOL, figures={"limit_etf_distance": dist},
                          reason=None if dist <= LIMIT_TOL else "the limit's class-mean Gram matrix is not the ETF's")
    if prop == "nc3":
        W = mu.growing_component(W0, H0, labels, extension).W
        gap = float(np.linalg.norm(W / np.linalg.norm(W) - M / np.linalg.norm(M)) ** 2)
        return Evaluation(holds=gap <= LIMIT_TOL, figures={"limit_nc3": gap})
    if prop == "nc4":
        state = mu.flow_closed_form(W0, H0, labels, extension, T)
        disagree = ncm.nc4(state.W, state.b, state.H, labels)
        return Evaluation(holds=disagree == 0.0, figures={"nc4_at_horizon": disagree, "horizon": T})
    raise ValueError(f"prop must be nc1..nc4; got {prop!r}")


def constrained_limit(inst, *, extension: str, steps: int = STEPS):
    W0, H0, labels = unpack(inst)
    state, history = mu.projected_descent(W0, H0, labels, extension, eta=ETA, steps=steps)
    return state, history, labels


def evaluate_constrained_etf(inst, *, extension: str, steps: int = STEPS) -> Evaluation:
    """Conjecture: under ||w_k||, ||h_i|| <= 1 the projected flow reaches complete NC with a simplex
    ETF: h_i = w_{y_i} (NC1, NC3) and the class means' Gram matrix is the unit ETF's."""
    state, history, labels = constrained_limit(inst, extension=extension, steps=steps)
    H, W = state.H, state.W
    stats = ncm.class_statistics(H, labels)
    spread = float(np.trace(stats.sigma_b)) / float(np.mean(np.sum(H**2, axis=1)))
    figures = {"final_loss": float(history[-1]), "between_over_norm": spread,
               "nc1_gap": float(np.max(np.linalg.norm(H - W[labels], axis=1)))}
    if spread <= COINCIDE_TOL:
        return Evaluation(holds=False, figures=figures, reason="every class mean coincides (all classes collapsed)")
    G = stats.means @ stats.means.T
    figures["etf_gram_gap"] = float(np.max(np.abs(G - mu.etf_gram(len(stats.classes)))))
    # 1e-6: at the reached minimum the rows are unit to ~1e-15 and h_i = w_{y_i} to ~1e-12.
    holds = figures["etf_gram_gap"] <= 1e-6 and figures["nc1_gap"] <= 1e-6
    return Evaluation(holds=holds, figures=figures)


# ---------------------------------------------------------------------------------------
# The claims.
# ---------------------------------------------------------------------------------------
SECTION_6 = ("Extending these results to multi-class settings and broader architectures, such as convolutional "
             "neural networks, is an important direction for future work.")

FLOW = register(Claim(
    id="multiclass-ufm-linear-flow",
    paper_ref="Section 6",
    part="beyond",
    statement="For each K-class extension of the linear loss (centred, one-vs-rest, balanced one-vs-rest) the UFM "
              "gradient flow is linear, d[W; H]/dt = [[0, S^T], [S, 0]] [W; H], db/dt = S^T 1, so [W; H](t) = "
              "expm(t A) [W; H](0); its growth rates are the singular values of S: with N samples per class, "
              "sqrt(N) (multiplicity K-1, on 1^perp) for the centred loss, 2 sqrt(N) (K-1) and |K-2| sqrt(N) (on 1) "
              "for one-vs-rest.",
    quote=SECTION_6,
    reading="The extensions' UFM flow in closed form (the multi-class counterpart of Appendix C.1's (10)-(13)).",
    instance_arrays=("W0", "H0", "labels"),
    array_docs=ARRAY_DOCS,
    evaluate=lambda inst: evaluate_flow(inst),
))


def evaluate_flow(inst, *, time_scale: float = 1.0) -> Evaluation:
    """expm's closed form agrees with DOP853 at the horizon of every extension (``time_scale`` != 1
    evaluates the closed form at a rescaled time: the negative control's broken variant)."""
    W0, H0, labels = unpack(inst)
    worst = 0.0
    for ext in mu.EXTENSIONS:
        T = min(horizon(inst, ext), GROWTH / mu.singular_values(labels, ext)[0])
        exact = mu.flow_closed_form(W0, H0, labels, ext, time_scale * T)
        ref = mu.flow_numerical(W0, H0, labels, ext, T)
        scale = np.linalg.norm(np.vstack([ref.W, ref.H]))
        worst = max(worst, float(np.linalg.norm(np.vstack([exact.W - ref.W, exact.H - ref.H])) / scale))
    return Evaluation(holds=worst <= FLOW_RTOL, figures={"relative_error_vs_dop853": worst})


BALANCED = register(Claim(
    id="multiclass-ovr-balanced-is-centred",
    paper_ref="Section 6",
    part="beyond",
    statement="Conjecture (this suite): one-vs-rest with the K-1 negatives weighted 1/(K-1) is K/(K-1) times the "
              "centred loss -(z_y - mean_k z_k); its UFM flow is the centred flow at times K t/(K-1), so every NC "
              "verdict of the centred loss is also the balanced one-vs-rest loss's.",
    quote="",
    instance_arrays=("W0", "H0", "labels"),
    array_docs=ARRAY_DOCS,
    evaluate=lambda inst: evaluate_balanced(inst),
))


def evaluate_balanced(inst, *, other: str = "ovr-balanced") -> Evaluation:
    """The ``other`` flow at time t equals the centred flow at K t/(K-1) (``other`` "ovr" is the control's variant)."""
    W0, H0, labels = unpack(inst)
    K = int(labels.max()) + 1
    T = horizon(inst, "centred") * (K - 1) / K
    a = mu.flow_closed_form(W0, H0, labels, other, T)
    b = mu.flow_closed_form(W0, H0, labels, "centred", K * T / (K - 1))
    err = float(np.linalg.norm(np.vstack([a.W - b.W, a.H - b.H])) / np.linalg.norm(np.vstack([b.W, b.H])))
    # FLOW_RTOL: two expm evaluations of the same matrix (times differ by rounding only), ~1e-13 relative.
    return Evaluation(holds=err <= FLOW_RTOL, figures={"relative_difference": err})


NC_EXPECTED = {
    ("centred", "nc1"): "verified", ("centred", "nc2"): "refuted", ("centred", "nc3"): "verified",
    ("centred", "nc4"): "refuted",
    ("ovr", "nc1"): "verified", ("ovr", "nc2"): "refuted", ("ovr", "nc3"): "refuted", ("ovr", "nc4"): "refuted",
}
NC_WORDS = {
    "nc1": "relative within-class variability collapse, tr(Sigma_W)/tr(Sigma_B) -> 0 (the weak NC1 of Appendix C.1)",
    "nc2": "convergence of the centred class means to a simplex ETF (equal norms, cosines -1/(K-1))",
    "nc3": "self-duality, W/||W|| - M/||M|| -> 0 with M the centred class means",
    "nc4": "agreement of the classifier argmax_k w_k^T h + b_k with the nearest class mean on every sample",
}
NC_COUNTEREXAMPLES = {
    ("centred", "nc2"): "K = 3, N = 1, d = 2, seeded start: the limit's centred class means keep the start's "
                        "shape, Gram matrix at distance ~0.6 from the ETF's",
    ("centred", "nc4"): "K = 3, d = 2, W0 = 1e-2 [[1, 0], [3, 1], [-4, -1]]: the limit scores class-0 samples highest "
                        "for class 1 (m_1^T m_0 = 3 > 1 = ||m_0||^2)",
    ("ovr", "nc2"): "K = 3, N = 1, d = 2, seeded start: the limit's class means keep the start's shape",
    ("ovr", "nc3"): "K = 4, N = 1, d = 2, seeded start: the common mode (rate |K-2| sqrt(N) = 2 sqrt(N)) ties with the "
                    "class modes, so W keeps a common component that the centred means lack",
    ("ovr", "nc4"): "K = 5, N = 1, d = 2, seeded start: the common mode dominates and every sample is predicted as the "
                    "same class",
}
NC_CLAIMS: dict[tuple[str, str], Claim] = {}
for (_ext, _prop), _verdict in NC_EXPECTED.items():
    NC_CLAIMS[_ext, _prop] = register(Claim(
        id=f"multiclass-{_ext}-{_prop}",
        paper_ref="Section 6",
        part="beyond",
        statement=(f"Conjecture (this suite): under the {'centred' if _ext == 'centred' else 'one-vs-rest'} K-class linear "
                   f"loss ({'-(z_y - mean_k z_k)' if _ext == 'centred' else '-sum_k s_k z_k, s = +1 for the true class, -1 otherwise'}), "
                   f"the UFM gradient flow from a generic small initialisation (equal class sizes) exhibits "
                   f"{_prop.upper()}: {NC_WORDS[_prop]}."),
        quote="",
        reading="Limits from the flow's growing modes (exact asymptotics); NC1 and NC4 at the horizon where the leading "
                "class-mean mode has grown by e^15. Generic: K in 3..6, N in 1..3, d in 2..K+2, entries 1e-2 N(0, 1).",
        expected_verdict=_verdict,
        counterexample_summary=NC_COUNTEREXAMPLES.get((_ext, _prop)),
        instance_arrays=("W0", "H0", "labels"),
        array_docs=ARRAY_DOCS,
        evaluate=functools.partial(evaluate_nc, extension=_ext, prop=_prop),
    ))

CONSTRAINED = {
    ext: register(Claim(
        id=f"multiclass-{ext}-constrained-etf",
        paper_ref="Section 6",
        part="beyond",
        statement=(f"Conjecture (this suite): under the norm constraints ||w_k|| <= 1, ||h_i|| <= 1 (Appendix C.2 "
                   f"generalised), projected gradient descent on the {'centred' if ext == 'centred' else 'one-vs-rest'} "
                   "K-class linear loss from a generic small start (equal class sizes) reaches complete NC with a simplex "
                   "ETF: h_i = w_{y_i} and the w_k are the vertices of a unit simplex ETF."),
        quote="",
        reading=f"Projected descent, step {ETA}, {STEPS} steps (converged to rounding). 'Complete NC with a simplex ETF': "
                "Gram matrix of the class means within 1e-6 of K/(K-1)(I - 11^T/K), and h_i = w_{y_i} within 1e-6.",
        expected_verdict="refuted",
        counterexample_summary=(
            "K = 4, N = 2, d = 3, start near the square w = +-e_1, +-e_2: the flow stays at a minimiser (loss -n) whose "
            "means form a rectangle, cosines ~0 and -1, not -1/3" if ext == "centred" else
            "K = 5, N = 2, d = 6, seeded start (seed 2000): every w_k tends to one unit vector e and every h_i to -e (loss -n(K-2) "
            "< -2n, the ETF's): all classes collapse onto one point"),
        instance_arrays=("W0", "H0", "labels"),
        array_docs=ARRAY_DOCS,
        evaluate=functools.partial(evaluate_constrained_etf, extension=ext),
    ))
    for ext in ("centred", "ovr")
}


# ---------------------------------------------------------------------------------------
# multiclass-ufm-linear-flow
# ---------------------------------------------------------------------------------------
def symbolic_onehot(K: int, N: int) -> sp.Matrix:
    return sp.Matrix(K * N, K, lambda i, k: 1 if i // N == k else 0)


@pytest.mark.claim(FLOW.id, kind="symbolic")
def test_flow_symbolic():
    """sympy: the gradient of L = -sum S_ik w_k^T h_i is (-S^T H, -S W) (K = 3, N = 1, d = 2, symbolic entries), and with
    N per class S^T S = N (I - 11^T/K) (centred) and 4N I + N(K^2 - 4K) 11^T/K... (ovr) for K = 3, 4, 5 and symbolic N."""
    K, d = 3, 2
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w{k}{j}", real=True))
    H = sp.Matrix(K, d, lambda i, j: sp.Symbol(f"h{i}{j}", real=True))
    for name, S in (("centred", symbolic_onehot(K, 1) - sp.ones(K, K) / K), ("ovr", 2 * symbolic_onehot(K, 1) - sp.ones(K, K))):
        L = -sum(S[i, k] * (W[k, :] * H[i, :].T)[0] for i in range(K) for k in range(K))
        gW = sp.Matrix(K, d, lambda k, j: sp.diff(L, W[k, j]))
        gH = sp.Matrix(K, d, lambda i, j: sp.diff(L, H[i, j]))
        assert_sympy_zero((gW + S.T * H).norm() + (gH + S * W).norm(), f"{name}: gradient - (-S^T H, -S W)")
    N = sp.Symbol("N", positive=True, integer=True)
    for K in (3, 4, 5):
        for Nv in (1, 2):
            Y = symbolic_onehot(K, Nv)
            one = sp.ones(K, K)
            Sc, So = Y - sp.ones(K * Nv, K) / K, 2 * Y - sp.ones(K * Nv, K)
            assert_sympy_zero((Sc.T * Sc - (N * (sp.eye(K) - one / K)).subs(N, Nv)).norm(), f"centred S^T S, K={K}")
            # ovr: 4N on 1^perp and N (K-2)^2 on 1: S^T S = 4N (I - 11^T/K) + N (K-2)^2 11^T/K.
            target = 4 * N * (sp.eye(K) - one / K) + N * (K - 2) ** 2 * one / K
            assert_sympy_zero((So.T * So - target.subs(N, Nv)).norm(), f"ovr S^T S, K={K}")


@pytest.mark.claim(FLOW.id, kind="numerical")
def test_flow_three_solvers(record_property):
    """expm (scipy), numpy's eigendecomposition and DOP853 (K = 10: thorough profile) agree on seeded instances (K = 3, 4,
    10), and the growth rates
    are sqrt(N), 2 sqrt(N) and |K-2| sqrt(N) as derived."""
    worst = 0.0
    for K, N, d, seed in ((3, 2, 2, 1), (4, 3, 5, 2), (10, 2, 12, 3)):
        inst = seeded_instance(K, N, d, seed)
        if K < 10 or PROFILE == "thorough":  # DOP853 on K = 10 costs ~1 s: thorough only
            require(evaluate_flow(inst).holds, f"K={K}")
        W0, H0, labels = unpack(inst)
        for ext in mu.EXTENSIONS:
            T = GROWTH / mu.singular_values(labels, ext)[0]
            a, b = mu.flow_closed_form(W0, H0, labels, ext, T), mu.flow_spectral(W0, H0, labels, ext, T)
            worst = max(worst, float(np.linalg.norm(a.H - b.H) / np.linalg.norm(b.H)))
        s_c, s_o = mu.singular_values(labels, "centred"), mu.singular_values(labels, "ovr")
        # 1e-12: singular values of O(1) integer-valued matrices from LAPACK, rounding ~1e-15.
        assert np.allclose(s_c[: K - 1], np.sqrt(N), rtol=1e-12) and abs(s_c[K - 1]) < 1e-12
        assert np.allclose(np.sort(s_o)[::-1][:K], sorted([2 * np.sqrt(N)] * (K - 1) + [abs(K - 2) * np.sqrt(N)], reverse=True),
                           rtol=1e-12)
    record_property("fig:expm_vs_eigh_relative", worst)
    # FLOW_RTOL: two closed forms of the same exponential, both ~1e-13 relative at e^15.
    assert worst <= FLOW_RTOL


@pytest.mark.claim(FLOW.id, kind="property")
def test_flow_property(record_property):
    """On generic instances (K 3..6, N 1..3, d 2..K+2) expm's flow agrees with DOP853 for every extension."""
    property_check(record_property, generic_instances(), lambda inst: require(evaluate_flow(inst).holds), max_examples=6)


@pytest.mark.negative_control(FLOW.id)
def test_flow_negative_control():
    """Broken variant: the closed form at 1.01 t against DOP853 at t is rejected; the right one accepted."""
    inst = seeded_instance(3, 2, 3, 5)
    assert evaluate_flow(inst).holds
    rejects(evaluate_flow, inst, time_scale=1.01)


# ---------------------------------------------------------------------------------------
# multiclass-ovr-balanced-is-centred
# ---------------------------------------------------------------------------------------
@pytest.mark.claim(BALANCED.id, kind="symbolic")
def test_balanced_symbolic():
    """sympy: Y - (11^T - Y)/(K-1) = K/(K-1) (Y - 11^T/K) entrywise (symbolic K, y_ik in {0, 1})."""
    K = sp.Symbol("K", positive=True)
    for y in (0, 1):
        assert_sympy_zero(y - (1 - y) / (K - 1) - K / (K - 1) * (y - 1 / K), f"entry with y_ik = {y}")


@pytest.mark.claim(BALANCED.id, kind="property")
def test_balanced_property(record_property):
    """Generic instances: the balanced one-vs-rest flow at t is the centred flow at K t/(K-1)."""
    property_check(record_property, generic_instances(), lambda inst: require(evaluate_balanced(inst).holds), max_examples=10)


@pytest.mark.negative_control(BALANCED.id)
def test_balanced_negative_control():
    """Broken variant: unweighted one-vs-rest in place of the balanced one is rejected."""
    inst = seeded_instance(4, 2, 3, 0)
    assert evaluate_balanced(inst).holds
    rejects(evaluate_balanced, inst, other="ovr")


# ---------------------------------------------------------------------------------------
# NC1-NC4 per extension.
# ---------------------------------------------------------------------------------------
def _nc_params(verdict: str, kind: str, form=None):
    return [pytest.param(ext, prop, marks=pytest.mark.claim(claim.id, kind=kind, form=form), id=claim.id)
            for (ext, prop), claim in NC_CLAIMS.items() if NC_EXPECTED[ext, prop] == verdict]


@pytest.mark.parametrize("ext, prop", _nc_params("verified", "property"))
def test_nc_holds_generic(record_property, ext, prop):
    """On generic small initialisations (K 3..6, N 1..3, d 2..K+2) the NC property holds for the extension."""
    property_check(record_property, generic_instances(),
                   lambda inst: require(evaluate_nc(inst, extension=ext, prop=prop).holds, f"{ext} {prop}"), max_examples=20)


@pytest.mark.parametrize("ext, prop", _nc_params("verified", "numerical"))
def test_nc_holds_along_flow(record_property, ext, prop):
    """Along DOP853's integration (independent of expm and of the mode analysis) the metric falls towards 0 for K = 3, 4 and
    10 (one-vs-rest: 6, where its common mode still fits in floating point at the horizon):
    NC1 by >= e^{-20} from the start at the horizon, NC3 below 1e-6 at the horizon."""
    worst = 0.0
    sizes = ((3, 2, 2, 11), (4, 2, 6, 12), (10, 2, 12, 13) if ext == "centred" else (6, 2, 8, 13))
    for K, N, d, seed in sizes:
        inst = seeded_instance(K, N, d, seed)
        W0, H0, labels = unpack(inst)
        T = horizon(inst, ext)  # one-vs-rest: the common mode grows by at most e^{30} (K <= 6), far below overflow
        end, start = mu.flow_numerical(W0, H0, labels, ext, T), mu.MulticlassState(W0, H0, np.zeros(K))
        if prop == "nc1":
            value = ncm.trace_ratio(end.H, labels) / ncm.trace_ratio(start.H, labels)
            # e^{-20}: the exact factor is ~e^{-30} times the start's mean-to-mode ratio (O(1)); 20 leaves e^{10}.
            require(value <= np.exp(-20.0), f"{ext} K={K}: trace ratio fell by only {value:.3g}")
        else:
            value = ncm.nc3(end.W, end.H, labels)
            # 1e-6: the decaying and subdominant modes leave O(e^{-GROWTH}) ~ 3e-7 of the direction, squared ~1e-13.
            require(value <= 1e-6, f"{ext} K={K}: nc3 {value:.3g} at the horizon")
        worst = max(worst, value)
    record_property(f"fig:{ext}_{prop}_worst_at_horizon", worst)


NC_SEARCH_STRATEGY = {("centred", "nc4"): nc4_open_set}


@pytest.mark.parametrize("ext, prop", _nc_params("refuted", "property", form="printed"))
def test_nc_fails_printed(record_property, ext, prop):
    """Printed conjecture: counterexample searched over generic starts (centred NC4: over an open box of starts, every one a
    counterexample) and shrunk by Hypothesis."""
    claim = NC_CLAIMS[ext, prop]
    strategy = NC_SEARCH_STRATEGY.get((ext, prop), generic_instances)()
    # 60: NC2 fails on every generic draw, ovr NC3 on every draw with K >= 4 (3/4 of draws), ovr NC4 on K >= 5 (1/2):
    # a miss has probability <= 2^-60 under any seed; the centred NC4 box is all counterexamples.
    found = search_counterexample(record_property, claim, strategy, max_examples=60, **SEARCH)
    record_property("fig:counterexample_K", float(np.max(found["labels"]) + 1))
    assert claim.evaluate(found).holds


@pytest.mark.parametrize("ext, prop", _nc_params("refuted", "numerical", form="printed"))
def test_nc_fails_along_flow(record_property, ext, prop):
    """Printed conjecture along DOP853's flow (not the mode analysis) for K = 3, 4, 5 and 10 (centred NC4: the NC4_BASE
    start, K = 3): the metric at the horizon, recorded, must be ~0 for the conjecture to hold."""
    cases = [{"W0": 1e-2 * NC4_BASE, "H0": 1e-4 * np.random.default_rng(0).normal(size=(6, 2)),
              "labels": np.repeat(np.arange(3), 2).astype(float)}] if (ext, prop) == ("centred", "nc4") else \
        [seeded_instance(K, 2, K + 2, 20 + K) for K in (3, 4, 5, 10)]
    values = []
    for inst in cases:
        W0, H0, labels = unpack(inst)
        T = min(horizon(inst, ext), 34.0 / mu.singular_values(labels, ext)[0])  # e^34 keeps the common mode < 1e15
        end = mu.flow_numerical(W0, H0, labels, ext, T)
        metric = {"nc2": lambda: ncm.nc2_etf_distance(end.H, labels), "nc3": lambda: ncm.nc3(end.W, end.H, labels),
                  "nc4": lambda: ncm.nc4(end.W, end.b, end.H, labels)}[prop]()
        values.append(metric)
        record_property(f"fig:{prop}_at_horizon_K{int(labels.max()) + 1}", metric)
    # 1e-6: a metric that tends to 0 is ~1e-13 at the horizon (see test_nc_holds_along_flow); the conjecture needs all ~0.
    assert max(values) <= 1e-6


@pytest.mark.parametrize("ext, prop", _nc_params("refuted", "symbolic", form="printed"))
def test_nc_fails_symbolic(ext, prop):
    """Printed conjecture against the exact limit (sympy, rational data): NC2 for K = 3 with the limit means of start
    W0 = [[1, 0], [0, 2], [-1, -2]] (H0 = 0); NC3 for one-vs-rest at K = 4 (the common mode ties); NC4 with m = NC4_BASE."""
    K = 3 if (ext, prop) != ("ovr", "nc3") else 4
    Y = symbolic_onehot(K, 1)
    S = Y - sp.ones(K, K) / K if ext == "centred" else 2 * Y - sp.ones(K, K)
    if prop == "nc2":
        W0 = sp.Matrix([[1, 0], [0, 2], [-1, -2]])
        P = sp.eye(K) - sp.ones(K, K) / K  # with N = 1 the growing subspace of both losses is 1^perp: limit means P W0 / ...
        M = P * W0
        G = M * M.T
        # ETF: G proportional to P, i.e. G - (tr G/(K-1)) P = 0.
        diff = G - G.trace() / (K - 1) * P
        assert_sympy_zero(diff.norm(), "limit Gram - ETF Gram")
    elif prop == "nc3":
        # S^T S = 4 I_4 - 4/4 11^T + (4-2)^2/4 11^T = 4 I: every direction, 1 included, grows at rate 2: W keeps 1 c^T.
        precondition(sp.simplify((S.T * S - 4 * sp.eye(K)).norm()) == 0, "ovr K = 4: S^T S is not 4 I")
        W0 = sp.Matrix([[1, 0], [0, 1], [0, 0], [0, 0]])  # H0 = 0: limit W = W0, limit means P W0 (N = 1)
        P = sp.eye(K) - sp.ones(K, K) / K
        assert_sympy_zero((W0 - P * W0).norm(), "limit W - centred limit means (NC3 needs 0)")
    else:
        m = sp.Matrix(NC4_BASE.astype(int).tolist())
        scores = m * m.T  # class c's samples tend to m_c: score of class k is m_k . m_c
        assert_sympy_zero(sp.Integer(max(range(K), key=lambda k: scores[0, k])) - 0, "argmax score of class 0's samples - 0")


@pytest.mark.parametrize("ext, prop", [pytest.param(e, p, marks=pytest.mark.negative_control(c.id), id=c.id)
                                       for (e, p), c in NC_CLAIMS.items()])
def test_nc_negative_control(ext, prop):
    """Broken variants fed into the claim's evaluation, which accepts a good case: NC1 and NC4 at growth 0 (the start, no
    time to emerge); NC2 on a generic start (limit keeps its shape) after accepting an ETF start; NC3 with one-vs-rest at
    K = 5 (the common mode) after accepting K = 3."""
    if prop == "nc1":
        good = seeded_instance(3, 2, 4, 7)
        assert evaluate_nc(good, extension=ext, prop=prop).holds
        rejects(evaluate_nc, good, extension=ext, prop=prop, growth=0.0)
    elif prop == "nc2":
        etf = {"W0": 1e-2 * np.array([[1.0, 0.0], [-0.5, np.sqrt(3) / 2], [-0.5, -np.sqrt(3) / 2]]),
               "H0": np.zeros((3, 2)), "labels": np.arange(3.0)}
        assert evaluate_nc(etf, extension=ext, prop=prop).holds
        rejects(evaluate_nc, seeded_instance(3, 1, 2, 0), extension=ext, prop=prop)
    elif prop == "nc3":
        assert evaluate_nc(seeded_instance(3, 2, 4, 7), extension=ext, prop=prop).holds
        rejects(evaluate_nc, seeded_instance(5, 1, 3, 7), extension="ovr", prop=prop)
    else:
        # Limit means: rows of the ETF (W0 rows sum to 0); at t = 0 every h_i = -w_{y_i}/2 scores its own class lowest.
        W0 = 1e-2 * (np.eye(3) - 1.0 / 3.0)
        good = {"W0": W0, "H0": -0.5 * W0, "labels": np.arange(3.0)}
        assert evaluate_nc(good, extension=ext, prop=prop).holds
        rejects(evaluate_nc, good, extension=ext, prop=prop, growth=0.0)


# ---------------------------------------------------------------------------------------
# Figures: NC metrics over time for K = 3, 4, 10.
# ---------------------------------------------------------------------------------------
def nc_curves(ext: str, K: int, *, points: int = 16) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """NC metrics along the closed-form flow (one eigendecomposition of A, exponentials per time) from a seeded start,
    N = 2, d = K + 2, up to the horizon (one-vs-rest: capped where its common mode reaches e^34)."""
    inst = seeded_instance(K, 2, K + 2, 100 + K)
    W0, H0, labels = unpack(inst)
    S = mu.score_matrix(labels, ext)
    T = min(horizon(inst, ext), 34.0 / mu.singular_values(labels, ext)[0])
    times = np.linspace(0.0, T, points)
    lam, Q = np.linalg.eigh(mu.generator(S))
    coeff = Q.T @ np.vstack([W0, H0])
    rows = []
    for t in times:
        Z = Q @ (np.exp(t * lam)[:, None] * coeff)
        rows.append(mu.nc_metrics(Z[:K], t * S.sum(axis=0), Z[K:], labels))
    return times, {key: np.array([r[key] for r in rows]) for key in rows[0]}


@pytest.mark.parametrize("ext", [pytest.param(e, marks=pytest.mark.claim(NC_CLAIMS[e, "nc2"].id, kind="numerical"), id=e)
                                 for e in ("centred", "ovr")])
def test_nc_figures(record_property, claims_report_dir, ext):
    """Figure: NC1 (trace ratio), NC2 (ETF distance), NC3 and NC4 over time, K = 3, 4, 10 (closed form); the ETF distance
    settles at a positive value (recorded), the start's shape, not 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for K in (3, 4, 10):
        times, curves = nc_curves(ext, K)
        for ax, key in zip(axes, ("trace_ratio", "nc2_etf", "nc3", "nc4")):
            ax.plot(times, np.maximum(curves[key], 1e-18) if key != "nc4" else curves[key], label=f"K = {K}")
        record_property(f"fig:final_nc2_etf_K{K}", float(curves["nc2_etf"][-1]))
        record_property(f"fig:final_nc3_K{K}", float(curves["nc3"][-1]))
        record_property(f"fig:final_nc4_K{K}", float(curves["nc4"][-1]))
        # 1e-3: the limit's ETF distance for these seeded starts is >= 0.1; its change over the last 10% of the run is
        # O(e^{-1.5}) of the subdominant part, so the curve has settled at a positive value.
        assert curves["nc2_etf"][-1] > 1e-3
    for ax, title in zip(axes, ("NC1: tr(Sw)/tr(Sb)", "NC2: ETF distance", "NC3", "NC4: disagreement")):
        ax.set_title(title)
        ax.set_xlabel("t")
        if title.startswith(("NC1", "NC3")):
            ax.set_yscale("log")
    axes[0].legend()
    fig.suptitle(f"{ext} linear loss, UFM gradient flow (N = 2 per class, d = K + 2)")
    fig.tight_layout()
    out = claims_report_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"multiclass_{ext}_nc.png", dpi=80)
    plt.close(fig)
    assert (out / f"multiclass_{ext}_nc.png").stat().st_size > 0


# ---------------------------------------------------------------------------------------
# Norm constraints.
# ---------------------------------------------------------------------------------------
def square_start(rng_seed: int = 0, jitter: float = 0.05) -> dict[str, np.ndarray]:
    """K = 4, N = 2, d = 3: W0 = 0.5 (+-e_1, +-e_2) + jitter U (seeded), H0 = W0[labels]/2 + 0.01 noise."""
    rng = np.random.default_rng(rng_seed)
    square = np.array([[1.0, 0, 0], [0, 1.0, 0], [-1.0, 0, 0], [0, -1.0, 0]])
    W0 = 0.5 * square + jitter * rng.uniform(-1, 1, size=(4, 3))
    labels = np.repeat(np.arange(4), 2)
    return {"W0": W0, "H0": 0.5 * W0[labels] + 0.01 * rng.normal(size=(8, 3)), "labels": labels.astype(float)}


@pytest.mark.claim(CONSTRAINED["centred"].id, kind="symbolic")
def test_constrained_centred_symbolic():
    """sympy: sum_k ||w_k - wbar||^2 = sum_k ||w_k||^2 - K ||wbar||^2 (so by Cauchy-Schwarz L >= -N sum_k ||w_k - wbar|| >= -N K
    = -n), the square +-e_1, +-e_2 with h_i = w_{y_i} attains -n (K = 4, N = 1), and its Gram matrix is not the ETF's."""
    K, d = 4, 2
    W = sp.Matrix(K, d, lambda k, j: sp.Symbol(f"w{k}{j}", real=True))
    wbar = sum((W[k, :] for k in range(K)), sp.zeros(1, d)) / K
    lhs = sum(((W[k, :] - wbar) * (W[k, :] - wbar).T)[0] for k in range(K))
    rhs = sum((W[k, :] * W[k, :].T)[0] for k in range(K)) - K * (wbar * wbar.T)[0]
    assert_sympy_zero(sp.expand(lhs - rhs), "sum ||w_k - wbar||^2 - (sum ||w_k||^2 - K ||wbar||^2)")
    square = sp.Matrix([[1, 0], [0, 1], [-1, 0], [0, -1]])
    S = sp.eye(K) - sp.ones(K, K) / K  # centred S for N = 1
    value = -sum(S[i, k] * (square[k, :] * square[i, :].T)[0] for i in range(K) for k in range(K))
    assert_sympy_zero(value + K, "loss of the square + n")
    etf = sp.Rational(K, K - 1) * (sp.eye(K) - sp.ones(K, K) / K)
    assert (square * square.T - etf).norm() != 0


@pytest.mark.claim(CONSTRAINED["centred"].id, kind="numerical")
def test_constrained_centred_starts(record_property):
    """Projected descent from CONSTRAINED_SEEDS seeded generic starts per K (3, 4, 10; N = 2, d = K + 1): every start reaches the minimum -n
    (the global optimum, by the Cauchy-Schwarz bound); for K = 3 every limit is the ETF, for K = 4 none is."""
    starts = reached = 0
    per_K = {}
    for K in (3, 4, 10):
        per_K[K] = 0
        for seed in range(CONSTRAINED_SEEDS):
            inst = seeded_instance(K, 2, K + 1, 1000 + seed)
            result = evaluate_constrained_etf(inst, extension="centred")
            starts += 1
            reached += abs(result.figures["final_loss"] + 2 * K) <= MIN_TOL * 2 * K
            per_K[K] += result.holds
        record_property(f"fig:etf_limits_K{K}", per_K[K])
    record_property("fig:starts", starts)
    record_property("fig:reached", reached)
    assert reached == starts and per_K[3] == CONSTRAINED_SEEDS and per_K[4] == 0


@pytest.mark.claim(CONSTRAINED["centred"].id, kind="property", form="printed")
def test_constrained_centred_printed(record_property):
    """Printed conjecture: the projected flow from a start near the square reaches a non-ETF minimiser (open set of starts;
    Hypothesis draws the jitter seed, every draw a counterexample)."""
    strategy = st.integers(0, 2**16).map(square_start)
    # 20: every start of the strategy is a counterexample (the jitter 0.05 keeps the limit near the square); budget for safety.
    found = search_counterexample(record_property, CONSTRAINED["centred"], strategy, max_examples=20, **SEARCH)
    assert CONSTRAINED["centred"].evaluate(found).holds


@pytest.mark.claim(CONSTRAINED["ovr"].id, kind="symbolic")
def test_constrained_ovr_symbolic():
    """sympy: for one-vs-rest with N per class, the collapse w_k = e, h_i = -e has loss -N K (K-2) and the unit ETF with
    h_i = w_{y_i} has -2 N K; the collapse is lower for every K >= 5 (difference N K (K-4) > 0)."""
    N, K = sp.symbols("N K", positive=True)
    collapse = -N * K * (K - 2)  # each of the N K samples: -(2 w_y - sum_k w_k) . h = -(2 - K) e . (-e) = -(K - 2)
    etf = -2 * N * K  # sum_k w_k = 0: -(2 w_y) . w_y = -2
    assert_sympy_zero(sp.expand(etf - collapse - N * K * (K - 4)), "ETF loss - collapse loss - N K (K - 4)")
    e = sp.Matrix([1, 0])
    for Kv in (5, 6):
        Wv = [e] * Kv
        per_sample = -(2 * Wv[0] - sum(Wv, sp.zeros(2, 1))).dot(-e)
        assert_sympy_zero(per_sample + (Kv - 2), f"collapse per-sample loss, K = {Kv}")


@pytest.mark.claim(CONSTRAINED["ovr"].id, kind="numerical", form="printed")
def test_constrained_ovr_starts(record_property):
    """Printed conjecture on CONSTRAINED_SEEDS seeded generic starts per K (3, 5, 10; N = 2, d = K + 1): for K = 3 every start reaches the
    ETF; for K >= 5 every start collapses all classes (loss -n(K-2)), so the conjecture fails."""
    starts = collapsed = 0
    results, saved = [], False
    for K in (3, 5, 10):
        for seed in range(CONSTRAINED_SEEDS):
            inst = seeded_instance(K, 2, K + 1, 2000 + seed)
            result = evaluate_constrained_etf(inst, extension="ovr")
            results.append(result.holds)
            starts += 1
            collapsed += result.figures["between_over_norm"] <= COINCIDE_TOL and \
                abs(result.figures["final_loss"] + 2 * K * (K - 2)) <= MIN_TOL * 2 * K * K
            if not result.holds and not saved:
                record_counterexample(record_property, inst)
                saved = True
    record_property("fig:starts", starts)
    record_property("fig:reached", collapsed)
    record_property("fig:etf_fraction", float(np.mean(results)))
    assert all(results)


@pytest.mark.parametrize("ext", [pytest.param(e, marks=pytest.mark.negative_control(CONSTRAINED[e].id), id=e)
                                 for e in ("centred", "ovr")])
def test_constrained_negative_control(ext):
    """The evaluation accepts K = 3 (the ETF is reached) and rejects it with the descent cut to 0 steps (the start, no NC)."""
    inst = seeded_instance(3, 2, 4, 3)
    assert evaluate_constrained_etf(inst, extension=ext).holds
    rejects(evaluate_constrained_etf, inst, extension=ext, steps=0)
