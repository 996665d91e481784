"""K-class linear losses on the unconstrained feature model (UFM): closed-form gradient flow,
its growing modes, and the projected flow under norm constraints (Section 6's future work).

Setting. Features H (n, d) with rows h_i, classifier W (K, d) with rows w_k, biases b (K,),
integer labels y_i in {0, ..., K-1} (every class present), logits z_ik = w_k^T h_i + b_k. Each
extension of the binary linear loss l(u) = -u is linear in the logits,

    L(W, H, b) = -sum_i sum_k S_ik (w_k^T h_i + b_k) = -<S, H W^T + 1 b^T>_F,

with a score matrix S (n, K) built from the one-hot matrix Y (n, K):

    "centred"       S = Y - 11^T/K:                 l_i = -(z_{i,y_i} - (1/K) sum_k z_ik)
    "ovr"           S = 2Y - 11^T:                  one-vs-rest, l_i = -sum_k s_ik z_ik with
                                                    s_ik = +1 for k = y_i and -1 otherwise
    "ovr-balanced"  S = Y - (11^T - Y)/(K-1):       one-vs-rest with the K-1 negatives weighted
                                                    1/(K-1); it equals K/(K-1) times "centred"

For K = 2, "centred" is 1/2 and "ovr" is 1 times the paper's binary loss (9) with v = w_1 - w_0 read
as the classifier.

Gradient flow. dL/dW = -S^T H, dL/dH = -S W, dL/db = -S^T 1, so the flow is linear:

    dW/dt = S^T H,    dH/dt = S W,    db/dt = S^T 1 (the column sums of S).

Stacking Z = [W; H] ((K + n), d), dZ/dt = A Z with the symmetric generator A = [[0, S^T], [S, 0]],
hence Z(t) = expm(t A) Z(0) (each of the d feature coordinates evolves independently) and
b(t) = b(0) + t S^T 1. With S = U diag(s) V^T (thin SVD), A has eigenvalues +-s_j with eigenvectors
[v_j; +-u_j]/sqrt(2), and 0 on the rest. So Z(t) e^{-s_1 t} -> P_1 Z(0), P_1 the projector on the
eigenspace of the top singular value s_1: writing V_1, U_1 for the singular vectors of s_1 and
C = V_1^T W0 + U_1^T H0,

    W(t) ~ (e^{s_1 t}/2) V_1 C,    H(t) ~ (e^{s_1 t}/2) U_1 C        (the growing component).

The limit's geometry is set by S's spectrum and by C, i.e. by the initialisation.

Spectra with N samples in each class (n = N K): "centred" has S^T S = N (I - 11^T/K), singular
value sqrt(N) with multiplicity K-1 on 1^perp and 0 on 1; "ovr" has 2 sqrt(N) on 1^perp
(multiplicity K-1) and |K-2| sqrt(N) on 1 (the common mode, all w_k and all h_i moving together):
it dominates for K >= 5 and ties for K = 4.

Norm constraints (Appendix C.2 generalised): ||w_k|| <= 1, ||h_i|| <= 1. ``projected_descent``
discretises the projected flow (a gradient step, then each row projected on its unit ball).

References:
    Section 6 (multi-class as future work); Appendix C.1-C.2 (binary UFM); Papyan, Han & Donoho
    (2020) (NC1-NC4, metrics in models/nc_metrics.py); Mixon, Parshall & Pi (2022) (UFM).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from models import nc_metrics as ncm

EXTENSIONS = ("centred", "ovr", "ovr-balanced")
# Relative gap below which two singular values of S count as one (a multiple top singular value,
# e.g. K-1 equal ones for equal class sizes): S's entries are O(1) and its singular values come
# from a symmetric eigensolver accurate to ~1e-15 relative; distinct values of the class-size
# patterns used here differ by >= 1e-3 relative.
SPECTRAL_RTOL = 1e-9


class MulticlassInputError(ValueError):
    """A malformed argument of the multi-class UFM; the message names it and its value."""


@dataclass(frozen=True)
class MulticlassState:
    """A point of the multi-class UFM: classifier W (K, d), features H (n, d), biases b (K,)."""

    W: np.ndarray
    H: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class GrowingComponent:
    """The top mode of the flow: Z(t) e^{-rate t} -> 1/2 [W; H] (see the module docstring)."""

    rate: float  # s_1, the top singular value of S
    multiplicity: int  # how many singular values equal s_1 (to SPECTRAL_RTOL)
    W: np.ndarray  # (K, d) V_1 C
    H: np.ndarray  # (n, d) U_1 C


def _array(name: str, value, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise MulticlassInputError(f"{name} must be a real array; got {value!r}") from error
    if array.ndim != ndim or 0 in array.shape:
        raise MulticlassInputError(f"{name} must be a non-empty {ndim}-D array; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise MulticlassInputError(f"{name} must be finite; got {value!r}")
    return array


def validate_labels(labels, K: int | None = None) -> tuple[np.ndarray, int]:
    """(labels as int array (n,), K). Labels are integers 0..K-1 with every class present;
    K defaults to max(labels) + 1 and must be >= 2."""
    values = _array("labels", labels, 1)
    if np.any(values != np.round(values)) or np.any(values < 0):
        raise MulticlassInputError(f"labels must be non-negative integers; got {values.tolist()!r}")
    ints = values.astype(np.int64)
    if K is None:
        K = int(ints.max()) + 1
    if isinstance(K, bool) or not isinstance(K, Integral) or K < 2:
        raise MulticlassInputError(f"K must be an integer >= 2; got {K!r}")
    present = np.unique(ints)
    if present.size != K or present[-1] != K - 1:
        raise MulticlassInputError(f"labels must contain every class 0..{K - 1} (K={K}); got classes {present.tolist()}")
    return ints, int(K)


def one_hot(labels, K: int | None = None) -> np.ndarray:
    """The one-hot matrix Y (n, K) of the labels."""
    ints, K = validate_labels(labels, K)
    return np.eye(K)[ints]


def score_matrix(labels, extension: str, K: int | None = None) -> np.ndarray:
    """S (n, K) of the extension (module docstring): L = -<S, H W^T + 1 b^T>_F."""
    if extension not in EXTENSIONS:
        raise MulticlassInputError(f"extension must be one of {EXTENSIONS}; got {extension!r}")
    Y = one_hot(labels, K)
    K = Y.shape[1]
    if extension == "centred":
        return Y - 1.0 / K
    if extension == "ovr":
        return 2.0 * Y - 1.0
    return Y - (1.0 - Y) / (K - 1)


def _problem(W, H, labels, extension: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    W, H = _array("W", W, 2), _array("H", H, 2)
    S = score_matrix(labels, extension)
    n, K = S.shape
    if W.shape[0] != K or H.shape != (n, W.shape[1]):
        raise MulticlassInputError(f"W must be (K={K}, d) and H (n={n}, d) with the same d; "
                                   f"got W {W.shape}, H {H.shape}")
    return W, H, S


def _bias(b, K: int) -> np.ndarray:
    if b is None:
        return np.zeros(K)
    b = _array("b", b, 1)
    if b.shape != (K,):
        raise MulticlassInputError(f"b must have shape ({K},); got {b.shape}")
    return b


def loss(W, H, labels, extension: str, b=None) -> float:
    """L(W, H, b) = -sum_{i,k} S_ik (w_k^T h_i + b_k)."""
    W, H, S = _problem(W, H, labels, extension)
    b = _bias(b, S.shape[1])
    return float(-np.sum(S * (H @ W.T + b)))


def generator(S) -> np.ndarray:
    """A = [[0, S^T], [S, 0]] ((K + n), (K + n)): d[W; H]/dt = A [W; H]."""
    S = _array("S", S, 2)
    n, K = S.shape
    A = np.zeros((K + n, K + n))
    A[:K, K:] = S.T
    A[K:, :K] = S
    return A


def _time(t) -> float:
    if isinstance(t, bool) or not isinstance(t, Real) or not np.isfinite(t) or t < 0:
        raise MulticlassInputError(f"t must be a finite real number >= 0; got {t!r}")
    return float(t)


def flow_closed_form(W0, H0, labels, extension: str, t: float, *, b0=None) -> MulticlassState:
    """The exact flow at time t: [W; H](t) = expm(t A) [W0; H0], b(t) = b0 + t S^T 1."""
    W0, H0, S = _problem(W0, H0, labels, extension)
    t = _time(t)
    K = S.shape[1]
    Z = expm(t * generator(S)) @ np.vstack([W0, H0])  # (K + n, d)
    return MulticlassState(W=Z[:K], H=Z[K:], b=_bias(b0, K) + t * S.sum(axis=0))


def flow_spectral(W0, H0, labels, extension: str, t: float, *, b0=None) -> MulticlassState:
    """The same flow from the eigendecomposition A = Q diag(lam) Q^T (numpy's eigh), a second
    closed form that shares nothing with scipy's expm (Pade approximation and squaring)."""
    W0, H0, S = _problem(W0, H0, labels, extension)
    t = _time(t)
    K = S.shape[1]
    lam, Q = np.linalg.eigh(generator(S))
    Z = Q @ (np.exp(t * lam)[:, None] * (Q.T @ np.vstack([W0, H0])))
    return MulticlassState(W=Z[:K], H=Z[K:], b=_bias(b0, K) + t * S.sum(axis=0))


def flow_numerical(W0, H0, labels, extension: str, t: float, *, b0=None,
                   rtol: float = 1e-12) -> MulticlassState:
    """The flow dW/dt = S^T H, dH/dt = S W, db/dt = S^T 1 integrated by scipy's DOP853; the
    absolute tolerance is rtol times the initial state's size (relative to the state's scale)."""
    W0, H0, S = _problem(W0, H0, labels, extension)
    t = _time(t)
    n, K = S.shape
    d = W0.shape[1]
    b0 = _bias(b0, K)
    if t == 0.0:
        return MulticlassState(W=W0, H=H0, b=b0)

    def rhs(_t, z):
        W = z[: K * d].reshape(K, d)
        H = z[K * d: K * d + n * d].reshape(n, d)
        return np.concatenate([(S.T @ H).ravel(), (S @ W).ravel(), S.sum(axis=0)])

    z0 = np.concatenate([W0.ravel(), H0.ravel(), b0])
    scale = max(float(np.max(np.abs(z0))), 1e-300)
    sol = solve_ivp(rhs, (0.0, t), z0, method="DOP853", rtol=rtol, atol=rtol * scale, t_eval=[t])
    if not sol.success:
        raise RuntimeError(f"DOP853 failed on the multi-class UFM flow: {sol.message}")
    z = sol.y[:, -1]
    return MulticlassState(W=z[: K * d].reshape(K, d), H=z[K * d: K * d + n * d].reshape(n, d), b=z[K * d + n * d:])


def singular_values(labels, extension: str) -> np.ndarray:
    """Singular values of S, largest first (min(n, K) of them): the growth rates of the flow."""
    return np.linalg.svd(score_matrix(labels, extension), compute_uv=False)


def growing_component(W0, H0, labels, extension: str) -> GrowingComponent:
    """The top mode: rate s_1 and [V_1 C; U_1 C], C = V_1^T W0 + U_1^T H0 (module docstring);
    [W; H](t) e^{-s_1 t} -> 1/2 [V_1 C; U_1 C]."""
    W0, H0, S = _problem(W0, H0, labels, extension)
    U, s, Vt = np.linalg.svd(S, full_matrices=False)  # U (n, r), s (r,), Vt (r, K)
    top = s >= s[0] * (1.0 - SPECTRAL_RTOL)
    U1, V1 = U[:, top], Vt[top].T  # (n, m), (K, m)
    C = V1.T @ W0 + U1.T @ H0  # (m, d)
    return GrowingComponent(rate=float(s[0]), multiplicity=int(top.sum()), W=V1 @ C, H=U1 @ C)


def project_rows(A) -> np.ndarray:
    """Each row of A (m, d) projected on the unit ball {||x|| <= 1}."""
    A = _array("A", A, 2)
    return A / np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1.0)


def projected_descent(W0, H0, labels, extension: str, *, eta: float, steps: int) -> tuple[MulticlassState, np.ndarray]:
    """Projected gradient descent on L under ||w_k|| <= 1, ||h_i|| <= 1 (no bias: L is linear in
    b and unbounded below under norm constraints on W and H alone): W <- P(W + eta S^T H),
    H <- P(H + eta S W), simultaneously, starting from the projected start. Returns the last
    iterate and the loss at every iterate (steps + 1 values)."""
    W, H, S = _problem(W0, H0, labels, extension)
    if isinstance(eta, bool) or not isinstance(eta, Real) or not np.isfinite(eta) or eta <= 0:
        raise MulticlassInputError(f"eta must be a finite real number > 0; got {eta!r}")
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 0:
        raise MulticlassInputError(f"steps must be an integer >= 0; got {steps!r}")
    W, H = project_rows(W), project_rows(H)
    history = np.empty(steps + 1)
    history[0] = -np.sum(S * (H @ W.T))
    for k in range(steps):
        W, H = project_rows(W + eta * S.T @ H), project_rows(H + eta * S @ W)
        history[k + 1] = -np.sum(S * (H @ W.T))
    return MulticlassState(W=W, H=H, b=np.zeros(S.shape[1])), history


def nc_metrics(W, b, H, labels) -> dict[str, float]:
    """Papyan et al.'s metrics (models/nc_metrics.py) of one state: ``nc1`` (tr(Sigma_W
    Sigma_B^+)/K), ``trace_ratio`` (tr Sigma_W / tr Sigma_B, relative NC1), ``nc2_etf``
    (distance of the centred means' Gram matrix to the simplex ETF's), ``nc2_equinorm``,
    ``nc2_equiangle``, ``nc3`` (||W/||W|| - M/||M|| ||^2) and ``nc4`` (disagreement of the
    classifier with the nearest class centre)."""
    ints, K = validate_labels(labels)
    W, H = _array("W", W, 2), _array("H", H, 2)
    b = _bias(b, K)
    return {
        "nc1": ncm.nc1(H, ints),
        "trace_ratio": ncm.trace_ratio(H, ints),
        "nc2_etf": ncm.nc2_etf_distance(H, ints),
        "nc2_equinorm": ncm.nc2_equinorm(H, ints),
        "nc2_equiangle": ncm.nc2_equiangle(H, ints),
        "nc3": ncm.nc3(W, H, ints),
        "nc4": ncm.nc4(W, b, H, ints),
    }


def etf_gram(K: int) -> np.ndarray:
    """Gram matrix of the unit simplex ETF, K/(K-1) (I - 11^T/K): unit norms, cosines -1/(K-1)."""
    if isinstance(K, bool) or not isinstance(K, Integral) or K < 2:
        raise MulticlassInputError(f"K must be an integer >= 2; got {K!r}")
    return K / (K - 1) * (np.eye(K) - np.ones((K, K)) / K)


def class_mean_modes(W0, H0, labels, extension: str) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The growing modes, fastest first: [(s_j, W_j, H_j)] over the distinct singular values
    s_j > 0 of S, with [W_j; H_j] = [V_j C_j; U_j C_j], C_j = V_j^T W0 + U_j^T H0. Exactly,
    [W; H](t) = sum_j (e^{s_j t}/2) [W_j; H_j] + (decaying and constant terms), so the modes
    set every limit of the flow."""
    W0, H0, S = _problem(W0, H0, labels, extension)
    U, s, Vt = np.linalg.svd(S, full_matrices=False)
    modes, start = [], 0
    while start < s.size and s[start] > SPECTRAL_RTOL * max(s[0], 1.0):
        group = np.flatnonzero(np.abs(s - s[start]) <= SPECTRAL_RTOL * s[start])
        U1, V1 = U[:, group], Vt[group].T
        C = V1.T @ W0 + U1.T @ H0
        modes.append((float(s[start]), V1 @ C, U1 @ C))
        start = int(group[-1]) + 1
    return modes


def leading_class_means(W0, H0, labels, extension: str, *, rtol: float = 1e-9) -> tuple[float, np.ndarray]:
    """(rate, M): the fastest-growing mode whose centred class means are not zero, and those
    means (K, d), rows mu_k - mu_G of that mode's features. The centred class means of H(t) are
    e^{rate t} M / 2 + o(e^{rate t}). A mode counts as zero when its centred means are below
    ``rtol`` times its features' size (rounding). Raises MulticlassInputError when no mode moves
    the class means (the initialisation has no growing component)."""
    ints, K = validate_labels(labels)
    for rate, _, H in class_mean_modes(W0, H0, labels, extension):
        means = np.stack([H[ints == k].mean(axis=0) for k in range(K)])
        centred = means - means.mean(axis=0)
        if np.linalg.norm(centred) > rtol * max(np.linalg.norm(H), 1e-300):
            return rate, centred
    raise MulticlassInputError("W0, H0: no growing mode moves the class means (zero growing component)")
