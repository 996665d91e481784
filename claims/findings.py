"""The referee's judgement of the findings: how much each erratum, refutation and gap matters.

For every claim recorded as ``erratum``, ``refuted`` or ``gap`` (under any profile; see
claims/claim_experiment.py, ``EXPECTED``) this module gives a :class:`Finding`: its severity
(``typo`` < ``degenerate`` < ``scope`` < ``substantive``), the evidence for it and the root cause
it shares with other findings. It also declares the paper's main results, the proof graph as the
paper argues it, and the order in which the paper states its claims.

Degenerate findings are measured, not asserted: the fraction quoted in their evidence is
``perturbed_holds_fraction(claim.evaluate, counterexample, fixed=("y", "eta", "logistic"))`` on
the saved counterexample (relative noise 1e-6, 200 draws, seed 0); the labels ``y`` and the
variant switches must be held fixed (the Paper's ``fixed_arrays``), or a perturbed label makes the
instance meaningless. Where a fraction near 1 is an artefact (the perturbation breaks the
statement's own premise, so the implication holds vacuously), the finding is not called
degenerate and the evidence says why.

Meant for the Paper declaration in claims/paper.py: ``Paper(findings=FINDINGS,
root_causes=ROOT_CAUSES, main_results=MAIN_RESULTS, depends_on=DEPENDS_ON, claim_order=CLAIM_ORDER,
fixed_arrays=("y", "eta", "logistic"))``; without those fixed arrays the plugin's measured fractions
for the degenerate findings with labels drop to 0.

References:
    docs/contracts.md, "Severity of a finding"; claims/framework/severity.py.
"""

from __future__ import annotations

from claims.framework.claim import Finding, RootCause
from claims.framework.paper import MainResult

# ---------------------------------------------------------------------------------------------
# Root causes, most severe first.
# ---------------------------------------------------------------------------------------------
ROOT_CAUSES = (
    RootCause(
        id="homogeneous-max-margin-after-nc",
        title="After NC, the bias-free max-margin direction aligns only for equal class-mean norms",
        severity="substantive",
        explanation=(
            "The Abstract says that once NC occurs the max-margin direction and the class-mean "
            "difference become closely aligned. With collapsed features the max-margin problem sees two "
            "points, mu_+ and mu_-. With a free bias its direction is mu_+ - mu_-, and the sentence holds "
            "(the angle vanishes like the within-class spread). Without a bias (the paper's last layer "
            "f = v^T phi has none), the direction is the min-norm point of the segment [mu_+, -mu_-], "
            "parallel to mu_+ - mu_- only when ||mu_+|| = ||mu_-|| or the means are linearly dependent; "
            "for orthogonal means with norm ratio r the limiting cosine is 2r/(1 + r^2), and Section 5.2's "
            "class scales e^{||x_+-|| t} drive r away from 1, so the directions tend to orthogonality. "
            "Repair: state the sentence for the max-margin classifier with a bias, or add equal class-mean "
            "norms."),
    ),
    RootCause(
        id="unbounded-below-risk",
        title="Risk unbounded below: minimising is not deciding",
        severity="substantive",
        explanation=(
            "R_l(f) = sum_i P(x_i)(1 - 2 p_i) f(x_i) is linear in f, so its infimum is -inf and never "
            "attained. Appendix A reads 'minimised' as (7) and (7) as (8), but only (7) => (8) holds: a "
            "minimising sequence may drive one atom to infinity while another keeps a strictly wrong sign, "
            "so R_l(f_k) -> inf R_l does not force the 0-1 risk to the Bayes risk. The converse the "
            "conclusion needs is false, so no new argument repairs it for unbounded scores. What holds: over "
            "bounded scores |f| <= B the minimiser is B sgn(2p_i - 1), the Bayes rule, and pointwise the loss "
            "is classification-calibrated; the calibration-to-consistency theorem needs a loss bounded below. "
            "Affects Eq. (7), Eq. (8) and the Bayes consistency claimed in Section 3 and Appendix A."),
    ),
    RootCause(
        id="theorem-4-feature-scale",
        title="Theorem 4's collapse stated on the wrong scale",
        severity="substantive",
        explanation=(
            "After alignment each live group is D.3's linear network, whose features grow like e^{||x_+-|| t} "
            "while the component of W(t) orthogonal to x_+- stays at its aligned value. The collapse bullet "
            "compares phi(x_i) with <s x_+-, x_i> u absolutely and with the unnormalised class sums x_+-: the "
            "residual W(t_a) P_perp x_i does not vanish (d >= 2, non-parallel samples), and the scale of x_+- "
            "makes the collapse bullet and the alignment bullet v = s_+ u_+ - s_- u_- incompatible unless "
            "||x_+|| = ||x_-|| = 1. Repair: state the collapse relatively, phi(x_i)/s_+-(t) - <x_+-/||x_+-||, "
            "x_i> u_+-(t) -> 0, for classes whose group keeps a live neuron (a group may die entirely under "
            "Assumptions 1-3). Affects Theorem 4's directional-collapse and alignment bullets."),
    ),
    RootCause(
        id="ufm-zero-growing-mode",
        title="UFM starts with no growing mode (g = 0)",
        severity="substantive",
        explanation=(
            "The UFM flow (10)-(11) has one growing mode g = v0 + h0/sqrt(n) (e^{sqrt(n) t}) and one decaying "
            "mode. Appendix C.1 takes for granted that g != 0; on the null set g = 0, v decays to 0, the class "
            "means stop separating, and weak NC1 and NC3 (14) fail. With the norm constraint of C.2 the same "
            "starts stay inside the balls and converge to the non-minimal stationary set {v = 0, sum_i y_i "
            "h_i = 0} (value 0 > -n), where the KKT conditions (17) also hold (lambda = mu_i = 0). Adding g != 0 "
            "repairs C.1. C.2 needs more: it characterises the global minima only, so the claim that training "
            "reaches complete NC needs an argument that the flow from g != 0 reaches them (the suite verifies "
            "it numerically). Affects weak NC1, Eq. (14) and Appendix C.2's complete NC."),
    ),
    RootCause(
        id="fisher-scale-invariance",
        title="Fisher's direction ignores within-class shrinkage",
        severity="substantive",
        explanation=(
            "Section 3 argues that the linear loss plays Fisher's role once NC1 occurs. Fisher's direction "
            "Sigma_W^{-1}(mu_+ - mu_-) maximises a ratio that is invariant under Sigma_W -> eps^2 Sigma_W, so "
            "shrinking the within-class spread (NC1) never moves it towards mu_+ - mu_-; with anisotropic "
            "within-class covariance the two stay apart at every scale. The analogy holds for regularised "
            "forms (ridge discriminant (Sigma_W + lambda I)^{-1} Delta, or the difference criterion), which "
            "align with Delta as Sigma_W -> 0. Affects the Fisher remark of Section 3 only."),
    ),
    RootCause(
        id="binary-nc1-metric-blind",
        title="tr(Sigma_W Sigma_B^+) sees one direction in binary problems",
        severity="substantive",
        explanation=(
            "With two classes Sigma_B = Delta Delta^T/4 has rank one, so tr(Sigma_W Sigma_B^+) = 4 Delta^T "
            "Sigma_W Delta/||Delta||^4 measures within-class spread along Delta = mu_+ - mu_- only and is 0 "
            "for any spread orthogonal to it. It measures neither NC1 nor the paper's relative weak form; "
            "tr(Sigma_W)/tr(Sigma_B) does (relatively), and absolute NC1 needs tr(Sigma_W) on a fixed feature "
            "scale. Affects the NC1 curves of Figure 1 (Appendix B.3's metric), and the Section 4 comparison "
            "depends on it: on MNIST 0 vs 8 the linear loss is faster by tr(Sigma_W)/tr(Sigma_B) against the "
            "logistic, label-smoothing and focal losses in both replicates, while by B.3's metric NC1 is "
            "undecided against every loss (MSE diverges at step 0.001 and is compared with nothing)."),
    ),
    RootCause(
        id="d4-normalisation-mismatch",
        title="D.4 analyses a different normalisation than (47)",
        severity="substantive",
        explanation=(
            "D.4 normalises each neuron ((47): ||w_j|| and |v_j| fixed, v frozen up to sign), as the "
            "experiments do, but after alignment it studies (49), which normalises the whole group (||v||, "
            "||W|| fixed, v moving on a sphere). From the same aligned state the two flows differ, so (50)-(52) "
            "do not describe the network of (47). The conclusion survives by a different, short argument: "
            "under (47) each aligned w_j/||w_j|| follows (48) with x_a = x_+- fixed and tends to "
            "x_+-/||x_+-||, so W -> x (||w_j(0)||)_j^T/||x||, parallel to x v^T under balance. Affects the "
            "rank-one collapse under weight normalisation (Appendix D.4)."),
    ),
    RootCause(
        id="frozen-on-dead-boundary",
        title="Neurons frozen on the boundary of S_dead",
        severity="scope",
        explanation=(
            "A neuron that activates no sample has x_a(w_j) = 0 and, by (19), never moves. Definition (24) "
            "makes S_dead open (all <w, x_i> < 0), but a neuron of N_+ whose last active (negative) sample "
            "deactivates stops exactly on that sample's hyperplane <w_j, x_i> = 0: it activates nothing yet is "
            "in none of S_+, S_-, S_dead. This happens on an open set of initialisations under Assumptions "
            "1-3 (about one generated instance in seven). The remark 'x_a(w) in S_+ for any w', the bound "
            "'> 0' of (28), the rate (34) and the case split of Claim 2 all tacitly assume n_a(w_j) >= 1 "
            "outside S_dead, so Claim 2 and Theorem 9 fail as printed. Repair: read S_dead as its closure "
            "without the origin, {w != 0 : <w, x_i> <= 0 for all i} (no active sample), as the proof of "
            "Claim 1 already does ('w_j in S_dead does not change x_a(w_j) (= 0)'); then Claims 1-2 and "
            "Theorem 9 hold, with the measured alignment time below 0.12 T."),
    ),
    RootCause(
        id="unequal-class-sizes",
        title="Equal class sizes assumed after Section 2 only",
        severity="scope",
        explanation=(
            "Section 2 fixes N examples per class; from Section 3 on the data set is arbitrary. Under the "
            "linear loss the classifier follows s = sum_i y_i x_i = n_+ mu_+ - n_- mu_-, which is parallel to "
            "the mean difference mu_+ - mu_- only when n_+ = n_-, and the UFM bias drifts at db/dt = n_+ - n_-. "
            "With equal class sizes the mean-difference direction and NC3 of the linear model hold from every "
            "start (rate O(1/t)) and the bias is constant; otherwise the linear loss aligns the classifier "
            "with the size-weighted difference. Affects Section 3's arg min and NC3 remarks and the flow of "
            "Appendix C.1 (harmlessly there)."),
    ),
    RootCause(
        id="anti-aligned-branch",
        title="The anti-aligned equality case of Cauchy-Schwarz",
        severity="scope",
        explanation=(
            "In D.3 (and D.4) dc/dt = 0 on both branches of the Cauchy-Schwarz equality, W = lambda x v^T with "
            "lambda > 0 (the maximum of c) and lambda < 0 (its minimum); the paper keeps only the first. "
            "LaSalle's argument then misses starts that never leave the minimum's neighbourhood: for the "
            "unnormalised flow the null set u_+ = 0 (v(0) = -W(0)^T x/||x||), where v decays and (40) and "
            "'v/||v|| -> u_+/||u_+||' fail; for the normalised flow (50)-(51) the anti-aligned equilibria "
            "W(0) = -lambda x v(0)^T (an open set when d = m = 1). After neural alignment v^T W^T x > 0, which "
            "excludes both, so Theorem 4 is unaffected; the statements need 'from an aligned start'. Affects "
            "the equality case, (40), the limits of D.3 and (52)."),
    ),
    RootCause(
        id="etf-needs-equal-norms",
        title="Orthogonal class means need equal norms for an ETF",
        severity="scope",
        explanation=(
            "Appendix B.3 justifies the class-mean cosine as an NC2 metric by 'orthogonality of class means "
            "implies a simplex ETF of the centred means, even for multi-class'. For C = 2 the centred means "
            "are always antipodal; for C >= 3 orthogonal means with unequal norms (e_1, e_2, 2 e_3) give "
            "centred means that are neither equinorm nor equiangular. Adding equal norms ||mu_c|| = r repairs "
            "it (centred Gram r^2 (I - 11^T/C)). Affects the remark of Appendix B.3 only."),
    ),
    RootCause(
        id="equal-norm-tie",
        title="The tie ||x_+|| = ||x_-|| in the ratio caveat",
        severity="degenerate",
        explanation=(
            "Section 5.2 says lim s_+/s_- does not exist under the linear loss. With both groups alive "
            "log(s_+/s_-) = (||x_+|| - ||x_-||) t + const + o(1), so the limit fails to exist exactly when "
            "||x_+|| != ||x_-||, the case the paper goes on to discuss; on the tie it exists and is positive. "
            "Affects the caveat after Theorem 4 only."),
    ),
    RootCause(
        id="d2-bound-chains",
        title="Loose steps in the D.2 rate bounds",
        severity="typo",
        explanation=(
            "Two chains of inequalities behind T's constant sqrt(mu) x_min are written loosely: Lemma 6 "
            "replaces every ||x_i|| by x_min under '=' (it is '>='), and (32) places n_a in the middle term "
            "-zeta n_a ||x_-||, which is false when zeta n_a > 1 - cos^2, and uses Lemma 7's t = 0 bound at "
            "later times. The end points hold: with '>=' Lemma 6 is proved, and in S_- the cosine with x_- "
            "decreases by (31), so 1 - cos^2 >= zeta persists and -(1 - cos^2)||x_-|| <= -zeta ||x_-|| <= "
            "-zeta sqrt(mu) x_min. Affects Lemma 6 and (32); Theorem 9's T is unchanged."),
    ),
    RootCause(
        id="network-notation",
        title="Transpose and sign slips in the network's notation",
        severity="typo",
        explanation=(
            "Eq. (2) writes sigma(W^T x) with W = [w_1, ..., w_h]^T (rows w_j), which is undefined unless "
            "h = d; Appendix D.3 uses W = [w_j] (columns). Eq. (19) writes d/dt w_j = dL/dw_j where gradient "
            "flow is -dL/dw_j. In both the right-hand side the rest of the paper uses is correct (sum_j v_j "
            "sigma(<w_j, x>); v_j x_a(w_j)), so nothing downstream changes."),
    ),
    RootCause(
        id="misplaced-exponents",
        title="Misplaced exponents in closed forms",
        severity="typo",
        explanation=(
            "Two closed forms are typeset with the time inside the wrong exponent: e^{sqrt(nt)} for "
            "e^{sqrt(n) t} in (13) and e^{||x_+-||^t} for e^{||x_+-|| t} in the rates after Theorem 4. The "
            "intended forms follow from (12) and (44)-(46) and are verified. Affects (13) and the Section 5.2 "
            "rates; no conclusion changes."),
    ),
    RootCause(
        id="ufm-bookkeeping",
        title="Dropped constants in the UFM algebra",
        severity="typo",
        explanation=(
            "The UFM derivations drop constants: h_i(t) in (13) omits the constant of integration of "
            "h_i(0) + y_i int_0^t v (off by y_i h0/n at every t), and (17)'s conclusion writes v = sum_i "
            "y_i h_i where the minima have lambda = n, i.e. sum_i y_i h_i = n v and h_+ - h_- = 2 v with class "
            "means. The complete-NC structure h_i = y_i v/||v|| and every limit in C.1 are unaffected. "
            "Affects (13) and (17)."),
    ),
)

# ---------------------------------------------------------------------------------------------
# Findings, in the paper's order.
# ---------------------------------------------------------------------------------------------
FINDINGS = {
    "abstract-mean-difference": Finding(
        "scope",
        "Gradient descent under the linear loss aligns with s = n_+ mu_+ - n_- mu_-, which is the class-mean "
        "difference once n_+ = n_- (or the means are linearly dependent); the shrunk counterexample (one "
        "positive, two negatives) is 0.0139 rad off, and seeded unequal-size data stay 0.021 rad off.",
        "unequal-class-sizes",
    ),
    "abstract-nc-aligns-directions": Finding(
        "substantive",
        "Under collapse the bias-free max-margin direction tends to the min-norm point of [mu_+, -mu_-], "
        "0.464 rad from mu_+ - mu_- for x_+ = (1, 0), x_- = (-1, 1), on an open set of class means; only the "
        "free-bias SVM always aligns (the angle falls like the within-class spread, order 1.003).",
        "homogeneous-max-margin-after-nc",
    ),
    # Section 3
    "section-3-mean-difference": Finding(
        "scope",
        "Holds once equal class sizes n_+ = n_- are added (Section 2's 'N examples per class'); otherwise the "
        "arg min over unit w is s/||s|| with s = n_+ mu_+ - n_- mu_-, off the mean difference on an open set "
        "(perturbation fraction 0.00).",
        "unequal-class-sizes"),
    "section-3-nc3": Finding(
        "scope",
        "With equal class sizes NC3 holds from every start at rate O(1/t); with n_+ != n_- gradient flow "
        "converges to s/||s|| and the NC3 gap tends to a positive limit (0.041 on the counterexample, "
        "perturbation fraction 0.00).",
        "unequal-class-sizes"),
    "section-3-fisher-after-nc1": Finding(
        "substantive",
        "Fisher's direction is invariant under within-class shrinkage, so NC1 never aligns it with the "
        "mean difference: cos = 0.857 at every shrinkage on the counterexample, robust to perturbation "
        "(fraction 0.00); only regularised Fisher forms make the analogy true.",
        "fisher-scale-invariance"),
    # Section 4: no finding under the recorded profiles (claims/claim_experiment.py, EXPECTED: the
    # sub-claims are verified or inconclusive on real MNIST). The normalisation confound (only the
    # linear arm weight-normalised; with every arm normalised no sub-claim is decided against the
    # logistic loss) is reported in the claim module's docstring and the sensitivity table; a root
    # cause ``experiment-normalisation-confound`` returns with the first Section 4 finding.
    # Section 5.2
    "eq-2-network": Finding(
        "typo",
        "sigma(W^T x) with W = [w_1, ..., w_h]^T is undefined for h != d; the intended sigma(W x) = "
        "(sigma(<w_j, x>))_j is given by the right-hand side of (2) itself and is verified.",
        "network-notation"),
    "theorem-4-directional-collapse": Finding(
        "substantive",
        "The absolute residual tends to W(t_a) P_perp x_i != 0 for every choice of s, u (d >= 2, non-parallel "
        "samples of a class; perturbation fraction 0.00), and if a group dies no s, u exist; only the weaker "
        "relative statement phi(x_i)/s - <x_+-/||x_+-||, x_i> u -> 0 holds.",
        "theorem-4-feature-scale"),
    "theorem-4-alignment": Finding(
        "typo",
        "The alignment bullet is right once the collapse bullet uses x_+-/||x_+-||: the printed unnormalised "
        "x_+- forces s_+ u_+ ~ v_{N+}/||x_+|| (a factor 2 on the counterexample).",
        "theorem-4-feature-scale"),
    "section-5-2-ratio-limit": Finding(
        "degenerate",
        "Fails only on the tie ||x_+|| = ||x_-||, where the ratio converges; the printed statement holds on "
        "1.00 of perturbations of the counterexample (labels fixed).",
        "equal-norm-tie"),
    "section-5-2-rates": Finding(
        "typo",
        "e^{||x_+-||^t} is a misplaced exponent for e^{||x_+-|| t}, which follows from (46) and is verified "
        "(log s_+- - ||x_+-|| t converges for a live group).",
        "misplaced-exponents"),
    # Appendix A
    "eq-7-minimising-sequences": Finding(
        "substantive",
        "Sequences obeying (7) are minimising, but Bayes consistency needs the converse, which is false "
        "(f_k = (k, 0) on two atoms with p = (1, 1) is minimising and violates (7)); no argument can "
        "supply it for unbounded scores.",
        "unbounded-below-risk"),
    "eq-8-sign-rule": Finding(
        "typo",
        "'Or equivalently' should read 'hence': (7) implies (8), which is all the argument uses, while a "
        "bounded sequence obeys (8) but not (7). The perturbation fraction 1.00 is an artefact (it moves "
        "the slope a = 0 of f_k = a k + c off zero) and is not relied on.",
        "unbounded-below-risk"),
    "appendix-a-bayes-consistency": Finding(
        "substantive",
        "A minimising sequence can keep a strictly wrong sign on an atom (f_k = (0, 1, -k), excess 0-1 risk "
        "1/3; perturbation fraction 0.00), so the linear loss is not Bayes consistent for unbounded scores; "
        "it is for bounded scores |f| <= B.",
        "unbounded-below-risk"),
    # Appendix B.3
    "appendix-b3-nc1-metric": Finding(
        "substantive",
        "In binary problems the metric sees within-class spread along mu_+ - mu_- only: it is 0 while "
        "tr(Sigma_W)/tr(Sigma_B) = 0.02 on the counterexample (perturbation fraction 0.00), so it does not "
        "measure NC1 and Figure 1's NC1 curve needs another metric.",
        "binary-nc1-metric-blind"),
    "appendix-b3-orthogonal-means-etf": Finding(
        "scope",
        "Holds once the class means have equal norms (hypothesis: ||mu_c|| = r for all c); for C = 3 "
        "orthogonal means e_1, e_2, 2 e_3 give no ETF. The perturbation fraction 1.00 is vacuous "
        "(perturbing breaks the premise of orthogonality), so it is not called degenerate.",
        "etf-needs-equal-norms"),
    # Appendix C.1
    "appendix-c1-bias": Finding(
        "typo",
        "The flow omits db/dt = n_+ - n_- (zero with equal class sizes); b enters neither (10) nor (11) and "
        "grows only linearly against margins growing like e^{2 sqrt(n) t}, so no conclusion changes.",
        "unequal-class-sizes"),
    "eq-13-v": Finding(
        "typo",
        "The exponent sqrt(nt) is a misplaced brace for sqrt(n) t, the solution of (12), which is verified.",
        "misplaced-exponents"),
    "eq-13-features": Finding(
        "typo",
        "The integral of v from 0 to t drops its lower limit, leaving an offset y_i h0/n at every t; the "
        "first line h_i(0) + y_i int_0^t v, printed just above, gives the verified form.",
        "ufm-bookkeeping"),
    "appendix-c1-weak-nc1": Finding(
        "degenerate",
        "Fails only on the null set g = v0 + h0/sqrt(n) = 0; the printed statement holds on 1.00 of "
        "perturbations of the counterexample (labels fixed).",
        "ufm-zero-growing-mode"),
    "eq-14-nc3": Finding(
        "degenerate",
        "Fails only on the null set g = 0, where v keeps its initial direction; the printed statement holds "
        "on 1.00 of perturbations of the counterexample (labels fixed).",
        "ufm-zero-growing-mode"),
    # Appendix C.2
    "eq-17-minimiser": Finding(
        "typo",
        "At the minima lambda = n, so sum_i y_i h_i = n v (h_+ - h_- = 2 v with class means); the "
        "complete-NC structure h_i = y_i v/||v|| is right and verified. The perturbation fraction 0.72 is "
        "vacuous (perturbed points are no longer minima).",
        "ufm-bookkeeping"),
    "appendix-c2-complete-nc": Finding(
        "substantive",
        "The printed claim fails only on g = 0 (perturbation fraction 1.00), but C.2 characterises the "
        "minima only: (17) also holds on the non-minimal stationary set {v = 0, sum_i y_i h_i = 0}, so "
        "'training reaches complete NC' needs a new convergence argument.",
        "ufm-zero-growing-mode"),
    # Appendix D.1
    "eq-19": Finding(
        "typo",
        "Only the middle term has the wrong sign (gradient flow is -dL/dw_j); the velocity v_j x_a(w_j) "
        "that the rest of Appendix D uses is correct.",
        "network-notation"),
    # Appendix D.2
    "d2-xa-in-cones": Finding(
        "scope",
        "Holds once n_a(w) >= 1 (w activates a sample) is added; a w with no active sample has x_a = 0, in "
        "no cone, on an open set when S_dead is non-empty (fraction 0.83 on the saved boundary "
        "counterexample, 0.00 for a w inside S_dead).",
        "frozen-on-dead-boundary"),
    "claim-1": Finding(
        "typo",
        "'> 0' in (28) fails for a neuron on the boundary of S_dead (x_a = 0), but such a neuron is frozen "
        "and changes nothing, as the proof's own 'w_j in S_dead ... x_a (= 0)' intends; Claim 1 is verified.",
        "frozen-on-dead-boundary"),
    "lemma-6": Finding(
        "typo",
        "An '=' that should be '>=' (every ||x_i|| replaced by x_min); with '>=' the proof is complete and "
        "the bound is verified.",
        "d2-bound-chains"),
    "claim-2": Finding(
        "typo",
        "Fails on an open set (fraction 0.00) for neurons frozen on the boundary of S_dead, which the case "
        "split S_+^c n S_-^c n S_dead^c lets in only because (24) is strict; with S_dead read as 'no active "
        "sample', as Claim 1's proof does, Claim 2 is verified.",
        "frozen-on-dead-boundary"),
    "eq-32": Finding(
        "typo",
        "The middle term -zeta n_a ||x_-|| is wrong but the outer bound -zeta sqrt(mu) x_min holds: in S_- "
        "the cosine decreases by (31), so Lemma 7's bound persists and Lemma 6 gives the rest.",
        "d2-bound-chains"),
    "eq-34": Finding(
        "typo",
        "(34) needs n_a(w_j) >= 1, which fails only for the frozen boundary neurons that a closed S_dead "
        "excludes; with n_a >= 1 it holds along the whole stretch.",
        "frozen-on-dead-boundary"),
    "theorem-9": Finding(
        "typo",
        "Fails on an open set under Assumptions 1-3 (fraction 0.00; about 1 instance in 7) only because (24) "
        "uses '<': with S_dead = {w != 0 : <w, x_i> <= 0 for all i}, the 'dead' the proof of Claim 1 means, "
        "both bullets hold at T (measured alignment time <= 0.12 T).",
        "frozen-on-dead-boundary"),
    # Appendix D.3
    "appendix-d3-equality-case": Finding(
        "typo",
        "Cauchy-Schwarz is tight at both signs: '|v^T W^T x| = ||v|| ||W|| ||x||', i.e. W = lambda x v^T "
        "with lambda of either sign, is intended by 'W || x v^T' and verified; the dropped branch is where "
        "(40) and (52) fail.",
        "anti-aligned-branch"),
    "eq-40-rank-one-collapse": Finding(
        "degenerate",
        "Fails only on the null set u_+ = 0 (v(0) = -W(0)^T x/||x||), which alignment excludes; the printed "
        "statement holds on 1.00 of perturbations of the counterexample.",
        "anti-aligned-branch"),
    "appendix-d3-limits": Finding(
        "degenerate",
        "Both limits exist always and equal the printed ones unless u_+ = 0 (a null set); the printed "
        "statement holds on 1.00 of perturbations of the counterexample.",
        "anti-aligned-branch"),
    # Appendix D.4
    "appendix-d4-normalisations": Finding(
        "substantive",
        "D.4 proves the rank-one collapse for the group-normalised flow (49), not for the per-neuron "
        "normalisation (47) it sets out to study; the conclusion holds (under balance) but by a new, "
        "per-neuron argument from (48).",
        "d4-normalisation-mismatch"),
    "eq-52-rank-one-collapse": Finding(
        "scope",
        "Holds once the start is aligned, c(0) = v(0)^T W(0)^T x > 0, which D.4 implies ('after a neural "
        "alignment'); the anti-aligned equilibria are open when d = m = 1 (fraction 0.00 on the saved 1-D "
        "counterexample), so not degenerate.",
        "anti-aligned-branch"),
}

# ---------------------------------------------------------------------------------------------
# Main results.
# ---------------------------------------------------------------------------------------------
MAIN_RESULTS = (
    MainResult("Linear loss vs max margin: the classifier aligns with the mean difference, and after NC "
               "with the max-margin direction (Abstract)",
               ("abstract-not-max-margin", "abstract-mean-difference", "abstract-nc-aligns-directions")),
    MainResult("No gradient decay under the linear loss, the logistic loss's slow rates, faster alignment "
               "(Section 1, Appendix D)",
               ("section-1-logistic-rates", "section-1-no-gradient-decay", "appendix-d-faster-alignment")),
    MainResult("Bayes consistency of the linear loss (Appendix A, Section 3)",
               ("eq-6-risk-identity", "eq-7-minimising-sequences", "eq-8-sign-rule",
                "appendix-a-bayes-consistency")),
    MainResult("The linear classifier converges to the mean difference, NC3 (Section 3)",
               ("section-3-mean-difference", "section-3-nc3", "section-3-between-class-variance")),
    MainResult("The linear loss acts like Fisher's discriminant once NC1 occurs (Section 3)",
               ("section-3-fisher-after-nc1",)),
    MainResult("Linear loss: faster accuracy and NC than logistic and other losses (Abstract, Section 4, Figure 1, "
               "Appendix B.3)",
               ("abstract-nc-generalisation-faster", "abstract-faster-than-other-losses",
                "section-4-final-accuracy-similar", "section-4-accuracy-faster", "section-4-nc1-faster",
                "section-4-nc2-faster", "section-4-nc3-faster", "appendix-b3-nc1-metric",
                "appendix-b3-nc3-metric", "appendix-b3-nc2-binary", "appendix-b3-orthogonal-means-etf")),
    MainResult("UFM closed form, directional convergence and weak NC (Section 5.1, Appendix C.1)",
               ("eq-10-11-ufm-flow", "eq-12-ufm-second-order", "eq-13-v", "eq-13-features",
                "appendix-c1-weak-nc1", "eq-14-nc3", "appendix-c1-bias", "appendix-b3-nc2-binary",
                "section-5-1-directions")),
    MainResult("Complete NC under weight normalisation (Section 5.1, Appendix C.2)",
               ("eq-16-normal-cone", "eq-17-minimiser", "appendix-c2-complete-nc")),
    MainResult("Lemma 6 (lower bound on ||x_a(w)||)", ("lemma-6",)),
    MainResult("Early neuron alignment within T (Theorem 9, Claims 1-2, Lemmas 5-8)",
               ("eq-19", "eq-19-direction", "d1-balance-sign", "d2-cones", "d2-samples-in-cones",
                "d2-xa-in-cones", "claim-1", "lemma-5", "lemma-6", "claim-2", "lemma-7", "lemma-8",
                "eq-32", "eq-34", "theorem-9")),
    MainResult("Directional collapse of a two-layer ReLU network (Theorem 4)",
               ("eq-2-network", "theorem-4-limits", "theorem-4-directional-collapse",
                "theorem-4-feature-limits", "theorem-4-orthogonal-means", "theorem-4-alignment",
                "section-5-2-ratio-limit", "section-5-2-rates")),
    MainResult("Rank-one collapse of the aligned linear network (Appendix D.3)",
               ("appendix-d3-decoupling", "eq-36-linear-flow", "eq-37-38-norm-rates",
                "eq-39-direction-rates", "appendix-d3-dc-dt", "appendix-d3-equality-case",
                "eq-40-rank-one-collapse", "eq-43-ode", "eq-44-46-solution", "appendix-d3-limits")),
    MainResult("Rank-one collapse under weight normalisation (Appendix D.4, Section 5.2)",
               ("eq-47-homogeneity", "eq-48-direction-flow", "appendix-d4-constant-multiple",
                "appendix-d4-normalisations", "eq-50-51-normalised-flow", "appendix-d4-c-monotone",
                "eq-52-rank-one-collapse", "appendix-d4-limit-point", "section-5-2-wn-asymmetry")),
)

# ---------------------------------------------------------------------------------------------
# The proof graph as the paper argues it: {claim: claims its proof uses}.
# ---------------------------------------------------------------------------------------------
DEPENDS_ON = {
    # Section 3
    "section-3-nc3": ("section-3-mean-difference",),
    "section-3-between-class-variance": ("section-3-mean-difference",),
    "section-3-fisher-after-nc1": ("section-3-mean-difference", "section-3-between-class-variance"),
    # Section 4: the NC sub-claims are read through Appendix B.3's metrics
    "section-4-nc1-faster": ("appendix-b3-nc1-metric",),
    "section-4-nc2-faster": ("appendix-b3-orthogonal-means-etf",),
    "section-4-nc3-faster": ("appendix-b3-nc3-metric",),
    "abstract-nc-generalisation-faster": ("section-4-accuracy-faster", "section-4-nc1-faster", "section-4-nc2-faster",
                                          "section-4-nc3-faster"),
    "abstract-faster-than-other-losses": ("section-4-accuracy-faster",),
    # Section 5.2: Theorem 4 from Theorem 9 (D.2) and the linear networks of D.3
    "theorem-4-limits": ("theorem-9", "appendix-d3-decoupling", "appendix-d3-limits"),
    "theorem-4-directional-collapse": ("theorem-9", "appendix-d3-decoupling", "eq-40-rank-one-collapse",
                                       "appendix-d3-limits"),
    "theorem-4-feature-limits": ("theorem-4-directional-collapse", "appendix-d3-limits"),
    "theorem-4-orthogonal-means": ("appendix-d3-decoupling", "theorem-4-feature-limits"),
    "theorem-4-alignment": ("appendix-d3-decoupling", "theorem-4-directional-collapse"),
    "section-5-2-rates": ("eq-44-46-solution",),
    "section-5-2-ratio-limit": ("section-5-2-rates",),
    "section-5-2-wn-asymmetry": ("eq-52-rank-one-collapse", "appendix-d4-limit-point"),
    "section-5-1-directions": ("eq-13-v", "eq-13-features"),
    # Appendix A
    "eq-7-minimising-sequences": ("eq-6-risk-identity",),
    "eq-8-sign-rule": ("eq-7-minimising-sequences",),
    "appendix-a-bayes-consistency": ("eq-6-risk-identity", "eq-7-minimising-sequences", "eq-8-sign-rule"),
    # Appendix C.1
    "eq-12-ufm-second-order": ("eq-10-11-ufm-flow",),
    "eq-13-v": ("eq-12-ufm-second-order",),
    "eq-13-features": ("eq-10-11-ufm-flow", "eq-13-v"),
    "appendix-c1-weak-nc1": ("eq-13-v", "eq-13-features"),
    "eq-14-nc3": ("eq-13-v", "eq-13-features"),
    # Appendix C.2
    "eq-17-minimiser": ("eq-16-normal-cone",),
    "appendix-c2-complete-nc": ("eq-16-normal-cone", "eq-17-minimiser"),
    # Appendix D.1
    "eq-19-direction": ("eq-19", "d1-balance-sign"),
    "lemma-5": ("eq-19-direction",),
    # Appendix D.2
    "d2-xa-in-cones": ("d2-samples-in-cones",),
    "claim-1": ("lemma-5", "lemma-6", "d2-xa-in-cones"),
    "eq-32": ("lemma-5", "lemma-6", "lemma-7"),
    "eq-34": ("lemma-5", "lemma-6", "lemma-8"),
    "claim-2": ("lemma-5", "lemma-6", "lemma-7", "lemma-8", "eq-32", "eq-34"),
    "theorem-9": ("claim-1", "claim-2", "lemma-5", "lemma-6", "lemma-7", "lemma-8", "eq-32", "eq-34"),
    # Appendix D.3
    "appendix-d3-decoupling": ("theorem-9",),
    "eq-36-linear-flow": ("appendix-d3-decoupling",),
    "eq-37-38-norm-rates": ("eq-36-linear-flow",),
    "eq-39-direction-rates": ("eq-36-linear-flow", "eq-37-38-norm-rates"),
    "appendix-d3-dc-dt": ("eq-39-direction-rates",),
    "appendix-d3-equality-case": ("appendix-d3-dc-dt",),
    "eq-40-rank-one-collapse": ("appendix-d3-dc-dt", "appendix-d3-equality-case"),
    "eq-43-ode": ("eq-36-linear-flow",),
    "eq-44-46-solution": ("eq-43-ode",),
    "appendix-d3-limits": ("eq-44-46-solution", "eq-40-rank-one-collapse"),
    # Appendix D.4
    "eq-48-direction-flow": ("eq-47-homogeneity", "eq-19-direction"),
    "appendix-d4-constant-multiple": ("eq-48-direction-flow", "eq-19-direction", "theorem-9"),
    "appendix-d4-normalisations": ("appendix-d4-constant-multiple", "appendix-d3-decoupling"),
    "eq-50-51-normalised-flow": ("appendix-d4-normalisations",),
    "appendix-d4-c-monotone": ("eq-50-51-normalised-flow", "appendix-d3-dc-dt"),
    "eq-52-rank-one-collapse": ("appendix-d4-c-monotone",),
    "appendix-d4-limit-point": ("eq-52-rank-one-collapse",),
}

# ---------------------------------------------------------------------------------------------
# The order in which the paper states the claims (Sections 3, 4, 5.1, 5.2, Appendices A-D).
# ---------------------------------------------------------------------------------------------
CLAIM_ORDER = (
    # Abstract and Section 1
    "abstract-not-max-margin", "abstract-mean-difference", "abstract-nc-aligns-directions",
    "section-1-logistic-rates", "section-1-no-gradient-decay",
    # Section 3
    "section-3-mean-difference", "section-3-nc3", "section-3-between-class-variance",
    "section-3-fisher-after-nc1",
    # Section 4 and Figure 1 (with the Abstract's two empirical sentences, which this experiment checks)
    "abstract-nc-generalisation-faster", "abstract-faster-than-other-losses",
    "section-4-final-accuracy-similar", "section-4-accuracy-faster", "section-4-nc1-faster",
    "section-4-nc2-faster", "section-4-nc3-faster",
    # Section 5.1
    "section-5-1-directions",
    # Section 5.2
    "eq-2-network", "theorem-4-limits", "theorem-4-directional-collapse", "theorem-4-feature-limits",
    "theorem-4-orthogonal-means", "theorem-4-alignment", "section-5-2-ratio-limit", "section-5-2-rates",
    "section-5-2-wn-asymmetry",
    # Appendix A
    "eq-6-risk-identity", "eq-7-minimising-sequences", "eq-8-sign-rule", "appendix-a-bayes-consistency",
    # Appendix B.3
    "appendix-b3-nc1-metric", "appendix-b3-nc3-metric", "appendix-b3-nc2-binary",
    "appendix-b3-orthogonal-means-etf",
    # Appendix C.1
    "appendix-c1-bias", "eq-10-11-ufm-flow", "eq-12-ufm-second-order", "eq-13-v", "eq-13-features",
    "appendix-c1-weak-nc1", "eq-14-nc3",
    # Appendix C.2
    "eq-16-normal-cone", "eq-17-minimiser", "appendix-c2-complete-nc",
    # Appendix D (introduction) and D.1
    "appendix-d-faster-alignment", "eq-19", "eq-19-direction", "d1-balance-sign",
    # Appendix D.2
    "d2-cones", "d2-samples-in-cones", "d2-xa-in-cones", "claim-1", "lemma-5", "lemma-6", "claim-2",
    "lemma-7", "lemma-8", "eq-32", "eq-34", "theorem-9",
    # Appendix D.3
    "appendix-d3-decoupling", "eq-36-linear-flow", "eq-37-38-norm-rates", "eq-39-direction-rates",
    "appendix-d3-dc-dt", "appendix-d3-equality-case", "eq-40-rank-one-collapse", "eq-43-ode",
    "eq-44-46-solution", "appendix-d3-limits",
    # Appendix D.4
    "eq-47-homogeneity", "eq-48-direction-flow", "appendix-d4-constant-multiple",
    "appendix-d4-normalisations", "eq-50-51-normalised-flow", "appendix-d4-c-monotone",
    "eq-52-rank-one-collapse", "appendix-d4-limit-point",
)

# ---------------------------------------------------------------------------------------------
# Topic modules add their own root causes, findings, main results, proof edges and order.
# ---------------------------------------------------------------------------------------------
from claims import findings_beyond, findings_dynamics, findings_multiclass  # noqa: E402  (merged below)

for _topic in (findings_dynamics, findings_beyond, findings_multiclass):
    ROOT_CAUSES = ROOT_CAUSES + tuple(_topic.ROOT_CAUSES)
    FINDINGS = {**FINDINGS, **_topic.FINDINGS}
    MAIN_RESULTS = MAIN_RESULTS + tuple(_topic.MAIN_RESULTS)
    DEPENDS_ON = {**DEPENDS_ON, **_topic.DEPENDS_ON}
    CLAIM_ORDER = CLAIM_ORDER + tuple(_topic.CLAIM_ORDER)
