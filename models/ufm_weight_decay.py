"""Unconstrained feature model with weight decay (the setting of Zhou et al. 2022), under the
linear loss and under cross-entropy, label smoothing, focal loss and MSE.

K-class problem (Zhou et al.'s form, balanced or not), features H (n, d) with rows h_i,
classifier W (K, d) with rows w_k, bias b (K,), integer labels y_i in {0, ..., K-1}:

    F(W, H, b) = (1/n) sum_i L(W h_i + b, y_i) + lam_w/2 ||W||_F^2 + lam_h/2 ||H||_F^2 + lam_b/2 ||b||^2.

Losses L(z, y) of a logit vector z (K,), all torch's own where torch has them:
    linear   -(z_y - (1/K) sum_k z_k). The paper's loss l(u) = -u is binary (Section 3); this
             is the K-class form this module uses (the margin of the true class over the mean
             logit). For K = 2 it is -(1/2) y (z_+ - z_-), the binary linear loss of
             u = y (w_+ - w_-)^T h / 2.
    ce       torch.nn.functional.cross_entropy.
    ls       cross_entropy(..., label_smoothing=LABEL_SMOOTHING).
    focal    -(1 - p_y)^FOCAL_GAMMA log p_y, p = softmax(z) (Lin et al. 2017's formula).
    mse      (1/2) ||z - e_y||^2 (torch's mse_loss with reduction "sum", halved, per sample).

Binary problem in the paper's form ((9) plus weight decay), labels y_i in {-1, +1}:

    G(H, v, b) = -sum_i y_i (v^T h_i + b) + lam_v/2 ||v||^2 + lam_h/2 ||H||_F^2 + lam_b/2 b^2.

The linear loss with weight decay in closed form (derivations; the tests check them).
    Binary. Completing the square in each h_i,
        G = (lam_v - n/lam_h)/2 ||v||^2 + lam_h/2 sum_i ||h_i - y_i v/lam_h||^2
            + lam_b/2 (b - (n_+ - n_-)/lam_b)^2 - (n_+ - n_-)^2/(2 lam_b)        (lam_b > 0).
    So G is bounded below iff lam_v lam_h >= n and (lam_b > 0 or n_+ = n_-), whatever the class
    sizes. For lam_v lam_h > n its only minimiser is v = 0, H = 0, b = (n_+ - n_-)/lam_b: every
    feature is 0, the class means coincide, no neural collapse. At lam_v lam_h = n the minimisers
    are h_i = y_i v/lam_h with v free: collapsed for every v, with no scale selected (v = 0
    included). Below the threshold G -> -inf along v = t u, h_i = t y_i u/lam_h.
    K-class. The quadratic part is Q = -(1/n) <P Y^T H, W> + lam_w/2 ||W||^2 + lam_h/2 ||H||^2 with
    P = I - 11^T/K and Y (n, K) the one-hot labels. Minimising over W (W = P Y^T H/(n lam_w)) leaves
    lam_h/2 ||H||^2 - ||P Y^T H||^2/(2 n^2 lam_w), so Q is bounded below iff
    lam_w lam_h >= sigma_max(P D P)/n^2, D = diag(class sizes) (= 1/(K n) for balanced classes).
    The bias part -(1/n) c^T P b + lam_b/2 ||b||^2, c the class sizes, has its minimiser
    b = P c/(n lam_b) (0 for balanced classes) and is unbounded when lam_b = 0 and P c != 0.
    Above the threshold the only minimiser has W = 0, H = 0. At the threshold with balanced classes
    (N = n/K per class) the minimisers are H = Y M and W = M/(K lam_w) for every M (K, d) with
    centred rows (1^T M = 0): within-class collapse and self-duality, but the centred class means
    M are arbitrary, a simplex ETF only for special M when K >= 3 (always, up to scale, when K = 2).

Unlike the linear loss, CE, LS and FL are bounded below (>= 0) and decrease in the margins, so
the quadratic penalty stops the features at a finite nonzero scale; Zhou et al. 2022 prove that
the minimisers are then neural-collapse configurations. ``nc_family_minimum`` minimises F over
those configurations only (three numbers: feature scale, classifier scale, a common bias), the
reference the tests compare full minimisation with.

References:
    Zhou et al. 2022, "Are all losses created equal: a neural collapse perspective" (NeurIPS).
    Lin et al. 2017, "Focal loss for dense object detection". Nocedal & Wright (2006),
    "Numerical Optimization", Sec. 7.2 (L-BFGS) and Sec. 16.1 (quadratic programs: bounded
    below iff the Hessian is PSD and the linear term lies in its range).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING
from dataclasses import dataclass
from numbers import Real

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits  # installed with scikit-learn, a dependency

if TYPE_CHECKING:  # annotations only; torch is imported where it is used
    import torch

from models.nc_metrics import nc2_etf_distance, nc3, trace_ratio

LOSSES = ("linear", "ce", "ls", "focal", "mse")
LABEL_SMOOTHING = 0.1  # Szegedy et al.'s common choice; Zhou et al. vary it
FOCAL_GAMMA = 2.0  # Lin et al.'s default
# An objective below this is read as diverging to -inf: every bounded objective of this module
# is >= -(n_+ - n_-)^2/(2 lam_b) or >= 0, far above it for the sizes used.
DIVERGENCE_VALUE = -1e8


class DecayUFMInputError(ValueError):
    """An argument of a weight-decay UFM function is malformed; the message names it."""


@contextmanager
def _one_thread():
    """Run torch and the BLAS under scipy's L-BFGS-B on one thread each, then restore them.

    The problems are tiny (tens of parameters): with two BLAS threads on a shared machine each
    L-BFGS-B iteration measured ~1 ms of thread hand-off, eight times the single-thread cost.
    """
    import torch  # here, not at module level: listing the claims must not load torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def _real(name: str, value, *, nonnegative: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise DecayUFMInputError(f"{name} must be a finite real number; got {value!r}")
    if nonnegative and value < 0:
        raise DecayUFMInputError(f"{name} must be >= 0; got {value!r}")
    return float(value)


def _array(name: str, value, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DecayUFMInputError(f"{name} must be a real array; got {value!r}") from error
    if shape is not None and array.shape != shape:
        raise DecayUFMInputError(f"{name} must have shape {shape}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DecayUFMInputError(f"{name} must be finite; got {value!r}")
    return array


def class_labels(labels) -> tuple[np.ndarray, int]:
    """Integer labels (n,) in {0, ..., K-1} with every class present and K >= 2; returns (labels, K)."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.size < 2 or array.dtype.kind not in "iuf":
        raise DecayUFMInputError(f"labels must be a 1-D integer array of length >= 2; got {labels!r}")
    if not np.all(array == np.round(array)) or array.min() < 0:
        raise DecayUFMInputError(f"labels must be integers >= 0; got {labels!r}")
    array = array.astype(np.int64)
    K = int(array.max()) + 1
    if K < 2 or np.unique(array).size != K:
        raise DecayUFMInputError(f"labels must use every class 0..K-1 with K >= 2; got {labels!r}")
    return array, K


def binary_labels(y) -> np.ndarray:
    """Labels (n,) in {-1, +1}, both present."""
    y = _array("y", y)
    if y.ndim != 1 or not np.all((y == 1.0) | (y == -1.0)) or abs(float(np.sum(y))) == y.size:
        raise DecayUFMInputError(f"y must be a 1-D array of +-1 with both classes present; got {y!r}")
    return y


# ---------------------------------------------------------------------------------------------
# Losses and the K-class objective (torch).
# ---------------------------------------------------------------------------------------------
def classification_loss(Z: torch.Tensor, labels: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean over samples of L(z_i, y_i) for logits Z (n, K) and integer labels (n,)."""
    import torch.nn.functional as F

    if loss == "linear":
        return -(Z.gather(1, labels[:, None])[:, 0] - Z.mean(dim=1)).mean()
    if loss == "ce":
        return F.cross_entropy(Z, labels)
    if loss == "ls":
        return F.cross_entropy(Z, labels, label_smoothing=LABEL_SMOOTHING)
    if loss == "focal":
        log_p = F.log_softmax(Z, dim=1).gather(1, labels[:, None])[:, 0]
        return -((1.0 - log_p.exp()) ** FOCAL_GAMMA * log_p).mean()
    if loss == "mse":
        target = F.one_hot(labels, Z.shape[1]).to(Z.dtype)
        return F.mse_loss(Z, target, reduction="sum") / (2 * Z.shape[0])
    raise DecayUFMInputError(f"loss must be one of {LOSSES}; got {loss!r}")


@dataclass(frozen=True)
class Decay:
    """Weight-decay parameters lam_w, lam_h, lam_b (all >= 0)."""

    lam_w: float
    lam_h: float
    lam_b: float

    def __post_init__(self) -> None:
        for name in ("lam_w", "lam_h", "lam_b"):
            object.__setattr__(self, name, _real(name, getattr(self, name)))


def _torch_objective(W, H, b, labels_t, loss: str, decay: Decay) -> torch.Tensor:

    return (classification_loss(H @ W.T + b, labels_t, loss) + decay.lam_w / 2 * (W * W).sum()
            + decay.lam_h / 2 * (H * H).sum() + decay.lam_b / 2 * (b * b).sum())


def decay_objective(W, H, b, labels, *, loss: str, decay: Decay) -> float:
    """F(W, H, b) of the module docstring, in float64."""
    import torch  # here, not at module level: listing the claims must not load torch

    labels, K = class_labels(labels)
    n = labels.size
    H = _array("H", H)
    if H.ndim != 2 or H.shape[0] != n:
        raise DecayUFMInputError(f"H must have shape ({n}, d); got shape {H.shape}")
    W, b = _array("W", W, (K, H.shape[1])), _array("b", b, (K,))
    with _one_thread():
        value = _torch_objective(*(torch.from_numpy(a) for a in (W, H, b)), torch.from_numpy(labels), loss, decay)
    return float(value)


class _Diverged(Exception):
    """Raised inside the objective when it falls below DIVERGENCE_VALUE."""


@dataclass(frozen=True)
class DecaySolution:
    """An end point of L-BFGS on F."""

    W: np.ndarray  # (K, d)
    H: np.ndarray  # (n, d)
    b: np.ndarray  # (K,)
    value: float  # F at the end point (<= DIVERGENCE_VALUE when diverged)
    status: str  # "converged" (scipy's test met), "diverged" (F below DIVERGENCE_VALUE) or "stopped"
    iterations: int
    gradient_norm: float  # max-norm of the gradient at the end point (inf when diverged)


def minimise_decay_ufm(W0, H0, b0, labels, *, loss: str, decay: Decay, gtol: float = 1e-10,
                       max_iter: int = 5000) -> DecaySolution:
    """L-BFGS (scipy's L-BFGS-B without bounds, torch autograd gradients, float64) on F from (W0, H0, b0).

    Stops when the projected gradient's max-norm is below ``gtol`` or the relative decrease of
    F stalls at rounding level (ftol = 1e-15), or reports ``diverged`` as soon as F is below
    DIVERGENCE_VALUE (the linear loss below its threshold).
    """
    import torch  # here, not at module level: listing the claims must not load torch

    labels, K = class_labels(labels)
    n = labels.size
    H0 = _array("H0", H0)
    if H0.ndim != 2 or H0.shape[0] != n or H0.shape[1] < 1:
        raise DecayUFMInputError(f"H0 must have shape ({n}, d); got shape {H0.shape}")
    d = H0.shape[1]
    W0, b0 = _array("W0", W0, (K, d)), _array("b0", b0, (K,))
    if loss not in LOSSES:
        raise DecayUFMInputError(f"loss must be one of {LOSSES}; got {loss!r}")
    gtol = _real("gtol", gtol)
    labels_t = torch.from_numpy(labels)
    sizes = (K * d, n * d)

    def split(x):
        return x[: sizes[0]].reshape(K, d), x[sizes[0]: sizes[0] + sizes[1]].reshape(n, d), x[sizes[0] + sizes[1]:]

    def fun(x: np.ndarray):
        t = torch.tensor(x, requires_grad=True)
        value = _torch_objective(*split(t), labels_t, loss, decay)
        if value.item() < DIVERGENCE_VALUE:
            raise _Diverged
        value.backward()
        return value.item(), t.grad.numpy().copy()

    x0 = np.concatenate([W0.ravel(), H0.ravel(), b0])
    last = {"x": x0}

    def remember(intermediate_result):  # scipy passes an OptimizeResult to a parameter of this name
        last["x"] = np.array(intermediate_result.x)

    with _one_thread():
        try:
            result = minimize(fun, x0, jac=True, method="L-BFGS-B", callback=remember,
                              options={"gtol": gtol, "ftol": 1e-15, "maxiter": int(max_iter), "maxcor": 30})
        except _Diverged:
            W, H, b = split(last["x"])
            return DecaySolution(W=W, H=H, b=b, value=-np.inf, status="diverged", iterations=-1,
                                 gradient_norm=np.inf)
    W, H, b = split(result.x)
    return DecaySolution(W=W.copy(), H=H.copy(), b=b.copy(), value=float(result.fun),
                         status="converged" if result.success else "stopped", iterations=int(result.nit),
                         gradient_norm=float(np.max(np.abs(result.jac))))


# ---------------------------------------------------------------------------------------------
# Neural-collapse configurations and the best of them.
# ---------------------------------------------------------------------------------------------
def simplex_etf(K: int, d: int) -> np.ndarray:
    """(K, d) rows: unit vectors with pairwise inner products -1/(K-1) (a simplex ETF), d >= K - 1.

    The rows of P = I - 11^T/K written in an orthonormal basis of its range (K - 1 columns),
    scaled to unit norm, padded with zeros to d columns.
    """
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 2:
        raise DecayUFMInputError(f"K must be an integer >= 2; got {K!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < K - 1:
        raise DecayUFMInputError(f"d must be an integer >= K - 1 = {K - 1}; got {d!r}")
    P = np.eye(K) - np.ones((K, K)) / K
    U, _, _ = np.linalg.svd(P)
    coords = P @ U[:, : K - 1]  # (K, K-1)
    coords /= np.linalg.norm(coords, axis=1, keepdims=True)
    return np.hstack([coords, np.zeros((K, d - K + 1))])


def nc_configuration(labels, d: int, rho_h: float, rho_w: float, beta: float) -> tuple[np.ndarray, ...]:
    """(W (K, d), H (n, d), b (K,)): h_i = rho_h e_{y_i}, w_k = rho_w e_k, b = beta 1, e a simplex ETF."""
    labels, K = class_labels(labels)
    E = simplex_etf(K, d)
    return rho_w * E, rho_h * E[labels], np.full(K, float(beta))


@dataclass(frozen=True)
class NCReference:
    """The minimum of F over the neural-collapse configurations of ``nc_configuration``."""

    value: float
    rho_h: float
    rho_w: float
    beta: float


def nc_family_minimum(labels, d: int, *, loss: str, decay: Decay) -> NCReference:
    """min over (rho_h, rho_w, beta) of F(nc_configuration(...)), by Nelder-Mead from two starts.

    A second optimiser on a three-parameter family, independent of the full L-BFGS runs: if
    the global minimisers of F are NC configurations, the full runs end at this value.
    """
    import torch  # here, not at module level: listing the claims must not load torch

    labels, K = class_labels(labels)
    if loss not in LOSSES:
        raise DecayUFMInputError(f"loss must be one of {LOSSES}; got {loss!r}")
    E = torch.from_numpy(simplex_etf(K, d))  # (K, d)
    labels_t = torch.from_numpy(labels)
    ones = torch.ones(K, dtype=torch.float64)

    def value(p: np.ndarray) -> float:
        rho_h, rho_w, beta = (float(x) for x in p)
        return _torch_objective(rho_w * E, rho_h * E[labels_t], beta * ones, labels_t, loss, decay).item()

    best = None
    with _one_thread():
        for start in ([1.0, 1.0, 0.0], [3.0, 3.0, 0.1]):
            result = minimize(value, np.array(start), method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 5000, "maxfev": 5000})
            if best is None or result.fun < best.fun:
                best = result
    rho_h, rho_w, beta = (float(x) for x in best.x)
    return NCReference(value=float(best.fun), rho_h=rho_h, rho_w=rho_w, beta=beta)


def gradient_and_hessian(W, H, b, labels, *, loss: str, decay: Decay) -> tuple[np.ndarray, np.ndarray]:
    """Gradient ((K + n) d + K,) and Hessian of F at (W, H, b) in the packed order (W, H, b), by torch
    autograd (float64, one thread)."""
    import torch  # here, not at module level: listing the claims must not load torch

    labels, K = class_labels(labels)
    n = labels.size
    H = _array("H", H)
    if H.ndim != 2 or H.shape[0] != n:
        raise DecayUFMInputError(f"H must have shape ({n}, d); got shape {H.shape}")
    d = H.shape[1]
    W, b = _array("W", W, (K, d)), _array("b", b, (K,))
    labels_t = torch.from_numpy(labels)

    def objective(z: torch.Tensor) -> torch.Tensor:
        return _torch_objective(z[: K * d].reshape(K, d), z[K * d: K * d + n * d].reshape(n, d), z[K * d + n * d:],
                                labels_t, loss, decay)

    x = torch.from_numpy(np.concatenate([W.ravel(), H.ravel(), b]))
    with _one_thread():
        grad = torch.autograd.functional.jacobian(objective, x, vectorize=True).numpy()
        hessian = torch.autograd.functional.hessian(objective, x, vectorize=True).numpy()
    return grad, hessian


@dataclass(frozen=True)
class NCMetrics:
    """Neural-collapse measures of an end point (models.nc_metrics conventions)."""

    nc1: float  # tr(Sigma_W)/tr(Sigma_B): 0 iff within-class collapse (inf if the class means coincide)
    nc2: float  # distance of the centred class means' Gram matrix to the simplex ETF's (inf if they coincide)
    nc3: float  # || W/||W|| - M^T/||M|| ||^2 (inf if W or M is 0)
    feature_scale: float  # max_i ||h_i||


def collapse_metrics(W, H, labels) -> NCMetrics:
    """NC1-NC3 of (W, H) with the metrics of models.nc_metrics; inf where one is undefined (zero means)."""
    labels, K = class_labels(labels)
    H = _array("H", H)
    W = _array("W", W, (K, H.shape[1]))
    means = np.stack([H[labels == k].mean(axis=0) for k in range(K)])
    centred = means - means.mean(axis=0)
    separated = bool(np.any(centred))
    return NCMetrics(
        nc1=trace_ratio(H, labels),
        nc2=nc2_etf_distance(H, labels) if separated else np.inf,
        nc3=nc3(W, H, labels) if separated and np.any(W) else np.inf,
        feature_scale=float(np.linalg.norm(H, axis=1).max()),
    )


def is_neural_collapse(metrics: NCMetrics, tol: float) -> bool:
    """NC1, NC2 (simplex ETF) and NC3 (self-duality) all within ``tol``."""
    return bool(metrics.nc1 <= tol and metrics.nc2 <= tol and metrics.nc3 <= tol)


# ---------------------------------------------------------------------------------------------
# The linear loss with weight decay in closed form.
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinearDecayRegime:
    """Where (lam_v, lam_h) or (lam_w, lam_h) sits against the threshold, and what that implies."""

    regime: str  # "unbounded", "unique" (only the zero features/classifier) or "threshold"
    product: float  # lam_v lam_h (binary) or lam_w lam_h (K-class)
    threshold: float  # n (binary) or sigma_max(P D P)/n^2 (K-class)
    bias_bounded: bool  # the bias part is bounded below
    infimum: float  # inf of the objective (-inf when unbounded)


def binary_linear_decay_objective(H, v, b: float, y, *, lam_v: float, lam_h: float, lam_b: float) -> float:
    """G(H, v, b) = -sum_i y_i (v^T h_i + b) + lam_v/2 ||v||^2 + lam_h/2 ||H||^2 + lam_b/2 b^2."""
    y = binary_labels(y)
    H = _array("H", H)
    if H.ndim != 2 or H.shape[0] != y.size:
        raise DecayUFMInputError(f"H must have shape ({y.size}, d); got shape {H.shape}")
    v = _array("v", v, (H.shape[1],))
    b = _real("b", b, nonnegative=False)
    lam_v, lam_h, lam_b = (_real(name, x) for name, x in (("lam_v", lam_v), ("lam_h", lam_h), ("lam_b", lam_b)))
    return float(-(y @ (H @ v + b)) + lam_v / 2 * v @ v + lam_h / 2 * np.sum(H * H) + lam_b / 2 * b * b)


def binary_linear_decay_gradient(H, v, b: float, y, *, lam_v: float, lam_h: float, lam_b: float):
    """(dG/dH (n, d), dG/dv (d,), dG/db) of ``binary_linear_decay_objective``."""
    y = binary_labels(y)
    H, v = _array("H", H), _array("v", v)
    return (-np.outer(y, v) + lam_h * H, -(y @ H) + lam_v * v, -float(np.sum(y)) + lam_b * float(b))


def binary_linear_decay_regime(y, *, lam_v: float, lam_h: float, lam_b: float,
                               threshold: float | None = None) -> LinearDecayRegime:
    """Regime of G (module docstring): lam_v lam_h against the threshold n, compared exactly in float64
    (``threshold`` replaces n: only negative controls pass a wrong one)."""
    y = binary_labels(y)
    lam_v, lam_h, lam_b = (_real(name, x) for name, x in (("lam_v", lam_v), ("lam_h", lam_h), ("lam_b", lam_b)))
    n, imbalance = (y.size if threshold is None else _real("threshold", threshold)), float(np.sum(y))
    product = lam_v * lam_h
    bias_bounded = lam_b > 0 or imbalance == 0
    if product < n or not bias_bounded:
        return LinearDecayRegime("unbounded", product, float(n), bias_bounded, -np.inf)
    bias_value = -imbalance**2 / (2 * lam_b) + 0.0 if lam_b > 0 else 0.0  # + 0.0: no -0.0
    return LinearDecayRegime("unique" if product > n else "threshold", product, float(n), True, bias_value)


def binary_linear_decay_minimiser(y, v, *, lam_v: float, lam_h: float, lam_b: float):
    """The global minimiser (H, v, b) of G through classifier ``v``: h_i = y_i v/lam_h, b = (n_+ - n_-)/lam_b.

    Above the threshold only v = 0 is allowed; below it there is none (DecayUFMInputError).
    With lam_b = 0 (and balanced classes) every b minimises; b = 0 is returned.
    """
    regime = binary_linear_decay_regime(y, lam_v=lam_v, lam_h=lam_h, lam_b=lam_b)
    y = binary_labels(y)
    v = _array("v", v)
    if regime.regime == "unbounded":
        raise DecayUFMInputError(f"lam_v lam_h = {regime.product!r} < n = {y.size} (or lam_b = 0 with unequal "
                                 "classes): G is unbounded below and has no minimiser")
    if regime.regime == "unique" and np.any(v):
        raise DecayUFMInputError(f"v must be 0 above the threshold (lam_v lam_h = {regime.product!r} > n = {y.size}); "
                                 f"got {v!r}")
    b = float(np.sum(y)) / lam_b if lam_b > 0 else 0.0
    return np.outer(y, v) / lam_h, v, b


def binary_linear_decay_hessian(y, d: int, *, lam_v: float, lam_h: float) -> np.ndarray:
    """Hessian of G in (v, h_1, ..., h_n) (the bias decouples): [[lam_v I, -y^T (x) I], [-y (x) I, lam_h I]]."""
    y = binary_labels(y)
    n = y.size
    A = np.zeros(((n + 1) * d, (n + 1) * d))
    A[:d, :d] = lam_v * np.eye(d)
    A[d:, d:] = lam_h * np.eye(n * d)
    coupling = -np.kron(y[:, None], np.eye(d))  # (n d, d)
    A[d:, :d], A[:d, d:] = coupling, coupling.T
    return A


def kclass_linear_threshold(labels) -> float:
    """sigma_max(P D P)/n^2, D = diag(class sizes): lam_w lam_h at which the K-class linear UFM stops
    being unbounded (1/(K n) for balanced classes)."""
    labels, K = class_labels(labels)
    counts = np.bincount(labels, minlength=K).astype(float)
    P = np.eye(K) - np.ones((K, K)) / K
    return float(np.linalg.eigvalsh(P @ np.diag(counts) @ P)[-1]) / labels.size**2


def kclass_linear_regime(labels, decay: Decay, *, threshold: float | None = None) -> LinearDecayRegime:
    """Regime of F under the linear loss (module docstring); ``threshold`` overrides the computed one
    (pass the exact value, e.g. 1/(K n), to compare at the threshold without eigenvalue rounding)."""
    labels, K = class_labels(labels)
    n = labels.size
    counts = np.bincount(labels, minlength=K).astype(float)
    centred_counts = counts - counts.mean()  # P c
    bound = kclass_linear_threshold(labels) if threshold is None else _real("threshold", threshold)
    if threshold is None and np.all(counts == counts[0]):
        bound = float(counts[0]) / n**2  # N/n^2 = 1/(K n) exactly, not through an eigenvalue solver
    product = decay.lam_w * decay.lam_h
    bias_bounded = decay.lam_b > 0 or not np.any(centred_counts)
    if product < bound or not bias_bounded:
        return LinearDecayRegime("unbounded", product, bound, bias_bounded, -np.inf)
    bias_value = -float(centred_counts @ centred_counts) / (2 * n**2 * decay.lam_b) + 0.0 if decay.lam_b > 0 else 0.0
    return LinearDecayRegime("unique" if product > bound else "threshold", product, bound, True, bias_value)


def kclass_threshold_minimiser(M, labels, *, lam_w: float):
    """(W, H) = (M/(K lam_w), Y M): the threshold minimiser of F (linear loss, balanced classes) with
    centred class means M (K, d), 1^T M = 0."""
    labels, K = class_labels(labels)
    if np.unique(np.bincount(labels)).size != 1:
        raise DecayUFMInputError(f"labels must be balanced for the threshold minimiser; got counts {np.bincount(labels)}")
    M = _array("M", M)
    if M.ndim != 2 or M.shape[0] != K:
        raise DecayUFMInputError(f"M must have shape ({K}, d); got shape {M.shape}")
    # 1e-12 * scale: centring is exact up to rounding of K O(scale) numbers.
    if np.any(np.abs(M.sum(axis=0)) > 1e-12 * max(1.0, float(np.abs(M).max()))):
        raise DecayUFMInputError(f"M must have centred rows (1^T M = 0); got column sums {M.sum(axis=0)!r}")
    lam_w = _real("lam_w", lam_w)
    if lam_w == 0:
        raise DecayUFMInputError("lam_w must be > 0 for the threshold minimiser; got 0")
    return M / (K * lam_w), M[labels]


def kclass_linear_hessian(labels, d: int, decay: Decay) -> np.ndarray:
    """Hessian of the quadratic part of F (linear loss) in (W row-major, H row-major), assembled by hand.

    The bilinear term -(1/n) sum_i (P e_{y_i})^T W h_i couples W[k, a] with H[i, a] by
    -(1/n) (P e_{y_i})_k.
    """
    labels, K = class_labels(labels)
    n = labels.size
    P = np.eye(K) - np.ones((K, K)) / K
    C = -P[:, labels] / n  # (K, n): coefficient of W[k, a] H[i, a]
    size_w, size_h = K * d, n * d
    A = np.zeros((size_w + size_h, size_w + size_h))
    A[:size_w, :size_w] = decay.lam_w * np.eye(size_w)
    A[size_w:, size_w:] = decay.lam_h * np.eye(size_h)
    coupling = np.kron(C, np.eye(d))  # (K d, n d)
    A[:size_w, size_w:], A[size_w:, :size_w] = coupling, coupling.T
    return A
