"""Max-margin directions of a linear classifier, and the implicit bias of the logistic loss.

The abstract contrasts two directions of a last-layer classifier f(h) = <w, h> (+ b): the
max-margin direction, towards which gradient descent on the logistic loss converges (Soudry
et al. [13]), and the class-mean difference mu_+ - mu_-, towards which the linear loss drives
it. This module computes both, and the logistic flow whose limit is the first.

Max-margin classifiers (hard margin, data z_i = y_i x_i):

- homogeneous (``bias=False``): min ||w||^2 s.t. y_i <w, x_i> >= 1 for all i. This is the
  limit direction of gradient descent on the logistic loss for f(x) = <w, x> [13]; it is the
  min-norm point p of conv{z_i} rescaled, w = p / ||p||^2.
- with a free bias (``bias=True``): min ||w||^2 s.t. y_i (<w, x_i> + b) >= 1, b unpenalised:
  the usual SVM. (A bias trained by gradient descent is penalised like w, i.e. it is the
  homogeneous problem on the augmented data (x_i, 1).)

Two solvers, independent of each other:

- ``solver="qp"``: scipy's SLSQP on the primal, then *polished*: the constraints active at
  SLSQP's point are solved as equalities (the KKT system), and the polished point is kept when
  it is feasible and its multipliers are >= 0 (to rounding); otherwise SLSQP's point is kept.
- ``solver="svc"``: scikit-learn's ``SVC(kernel="linear", C=1e6)`` (libsvm, SMO on the dual).
  C = 1e6 exceeds every multiplier of the hard-margin problems used here, so the soft margin
  is the hard margin. For ``bias=False`` the data are symmetrised, {(x_i, y_i), (-x_i, -y_i)}:
  that problem is invariant under (w, b) -> (w, -b) and its solution is unique, so b = 0 and
  w is the homogeneous solution.

Limits under neural collapse (features x_i = mu_c + eps xi_i, eps -> 0): with a free bias
the SVM of the two collapsed points is their perpendicular bisector, w || mu_+ - mu_-; the
homogeneous one is the min-norm point of the segment [mu_+, -mu_-]
(:func:`collapsed_max_margin_direction`), parallel to mu_+ - mu_- iff ||mu_+|| = ||mu_-|| (or
the two means are collinear).

The logistic loss on a linear model (:func:`logistic_flow`): L(w) = sum_i log(1 + e^{-z_i.w}),
gradient flow dw/dt = sum_i z_i sigma(-z_i.w). On separable data (Soudry et al., Theorem 3)
w(t) = w_hat log t + w_tilde + o(1) with w_hat the homogeneous max-margin solution and, on the
support vectors S (w_hat = sum_S alpha_i z_i), exp(-z_i.w_tilde) = alpha_i
(:func:`implicit_bias_asymptote`, for flow: the step size is 1 per unit time).

References:
    Abstract and Section 1 of the paper; Soudry, Hoffer, Nacson, Gunasekar & Srebro, "The
    implicit bias of gradient descent on separable data" (JMLR 2018), Theorem 3 and Eq. (14);
    Boser, Guyon & Vapnik (1992) for the hard-margin SVM; scikit-learn ``sklearn.svm.SVC``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import minimize
from scipy.special import expit

# C of the soft-margin SVC standing for the hard margin: the multipliers of the hard-margin
# problems used here are at most ~1e2 (margins >= 0.1 on data of norm <= 10); 1e6 is four
# orders above, so no multiplier is clipped at C.
SVC_C = 1e6
# libsvm's stopping tolerance on the KKT violation: its directions are then accurate to
# ~1e-9, far below the tolerances of the checks (>= 1e-6).
SVC_TOL = 1e-11
# A constraint whose slack at SLSQP's point is below this (relative to 1, the margin) is
# taken as active when polishing. SLSQP's own point is accurate to ~1e-8; inactive
# constraints of the data used here have slacks >= ~1e-3.
ACTIVE_TOL = 1e-6
# The polished point is accepted when every constraint holds to this and every multiplier
# is >= -this: rounding of an O(1) linear solve is ~1e-14.
POLISH_TOL = 1e-9

SOLVERS = ("qp", "svc")


class MaxMarginError(ValueError):
    """A bad argument, or data that no hyperplane separates (the message says which)."""


@dataclass(frozen=True)
class MaxMargin:
    """A hard-margin solution: w (d,), b (0.0 when homogeneous), the margin 1/||w||, and the
    support vectors (indices whose constraint is active)."""

    w: np.ndarray
    b: float
    support: tuple[int, ...]

    @property
    def direction(self) -> np.ndarray:
        return self.w / np.linalg.norm(self.w)

    @property
    def margin(self) -> float:
        return 1.0 / float(np.linalg.norm(self.w))


def check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) finite, y (n,) in {-1, +1} with both labels; raise MaxMarginError otherwise."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2 or X.shape[1] < 1:
        raise MaxMarginError(f"X must be (n, d) with n >= 2, d >= 1; got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise MaxMarginError("X must be finite")
    if y.shape != (X.shape[0],) or not np.all(np.isin(y, (-1.0, 1.0))) or np.unique(y).size != 2:
        raise MaxMarginError(f"y must be ({X.shape[0]},) holding both labels -1 and +1; got {y!r}")
    return X, y


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    norm = float(np.linalg.norm(v))
    if norm == 0.0 or not math.isfinite(norm):
        raise MaxMarginError(f"a zero (or non-finite) vector has no direction: {v!r}")
    return v / norm


def angle(u, v) -> float:
    """The angle in [0, pi] between u and v: 2 atan2(||u^ - v^||, ||u^ + v^||), accurate at
    small and large angles alike (arccos of a cosine loses half the digits near 0)."""
    a, b = unit(u), unit(v)
    return float(2.0 * math.atan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


def mean_difference(X, y) -> np.ndarray:
    """mu_+ - mu_- (d,)."""
    X, y = check_data(X, y)
    return X[y > 0].mean(axis=0) - X[y < 0].mean(axis=0)


def signed_sum(X, y) -> np.ndarray:
    """s = sum_i y_i x_i = n_+ mu_+ - n_- mu_- (d,): the constant negative gradient of the linear
    loss of f(x) = <w, x>, hence the limit direction of its gradient descent."""
    X, y = check_data(X, y)
    return y @ X


# ---------------------------------------------------------------------------------------
# The QP solver: SLSQP on the primal, polished on the active set.
# ---------------------------------------------------------------------------------------
def _polish(Z: np.ndarray, y: np.ndarray, active: np.ndarray, bias: bool):
    """Solve the hard-margin problem with the ``active`` constraints as equalities.

    Homogeneous: w = the min-norm solution of Z_S w = 1 (lstsq), multipliers from Z_S^T a = w.
    With a bias: the KKT system [[Z_S Z_S^T, y_S], [y_S^T, 0]] (a, b) = (1, 0), w = Z_S^T a.
    Returns (w, b, multipliers) or None when the system has no consistent solution.
    """
    ZS = Z[active]
    if ZS.shape[0] == 0:
        return None
    if not bias:
        w = np.linalg.lstsq(ZS, np.ones(ZS.shape[0]), rcond=None)[0]
        a = np.linalg.lstsq(ZS.T, w, rcond=None)[0]
        if np.linalg.norm(ZS.T @ a - w) > POLISH_TOL * max(1.0, np.linalg.norm(w)):
            return None
        return w, 0.0, a
    yS = y[active]
    k = ZS.shape[0]
    K = np.zeros((k + 1, k + 1))
    K[:k, :k] = ZS @ ZS.T
    K[:k, k] = yS
    K[k, :k] = yS
    rhs = np.append(np.ones(k), 0.0)
    sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
    if np.linalg.norm(K @ sol - rhs) > POLISH_TOL * max(1.0, np.linalg.norm(sol)):
        return None
    a, b = sol[:k], float(sol[k])
    return ZS.T @ a, b, a


def _qp(X: np.ndarray, y: np.ndarray, bias: bool) -> MaxMargin:
    n, d = X.shape
    Z = y[:, None] * X  # (n, d): rows z_i = y_i x_i
    m = d + 1 if bias else d

    def split(p):
        return p[:d], (p[d] if bias else 0.0)

    constraints = {
        "type": "ineq",
        "fun": lambda p: Z @ p[:d] + (y * p[d] if bias else 0.0) - 1.0,
        "jac": lambda p: np.hstack([Z, y[:, None]]) if bias else Z,
    }
    start = np.zeros(m)
    start[:d] = signed_sum(X, y)
    result = minimize(lambda p: 0.5 * float(p[:d] @ p[:d]), start,
                      jac=lambda p: np.append(p[:d], 0.0) if bias else p.copy(),
                      constraints=[constraints], method="SLSQP",
                      options={"ftol": 1e-15, "maxiter": 1000})
    w, b = split(result.x)
    slack = Z @ w + y * b - 1.0
    if not np.all(np.isfinite(result.x)) or slack.min() < -1e-6:
        raise MaxMarginError(
            f"the data are not {'linearly' if bias else 'homogeneously (through the origin)'} separable "
            f"(SLSQP: {result.message}; worst constraint {slack.min():.3g})")
    active = slack <= ACTIVE_TOL
    polished = _polish(Z, y, active, bias)
    if polished is not None:
        w_p, b_p, a = polished
        slack_p = Z @ w_p + y * b_p - 1.0
        if slack_p.min() >= -POLISH_TOL and a.min() >= -POLISH_TOL:
            w, b, slack = w_p, b_p, slack_p
    support = tuple(int(i) for i in np.flatnonzero(slack <= ACTIVE_TOL))
    return MaxMargin(np.asarray(w, dtype=np.float64), float(b), support)


# ---------------------------------------------------------------------------------------
# The SVC solver (libsvm).
# ---------------------------------------------------------------------------------------
def separable(X, y, *, bias: bool = False) -> bool:
    """Whether some (w, b) (b = 0 when homogeneous) has y_i (<w, x_i> + b) >= 1 for all i: an LP
    feasibility problem (scipy HiGHS), independent of both solvers."""
    from scipy.optimize import linprog

    X, y = check_data(X, y)
    A = -(y[:, None] * np.hstack([X, np.ones((X.shape[0], 1))] if bias else [X]))
    result = linprog(np.zeros(A.shape[1]), A_ub=A, b_ub=-np.ones(X.shape[0]),
                     bounds=[(None, None)] * A.shape[1], method="highs")
    return result.status == 0


def _svc(X: np.ndarray, y: np.ndarray, bias: bool) -> MaxMargin:
    from sklearn.svm import SVC

    if not separable(X, y, bias=bias):  # libsvm at C = 1e6 crawls on non-separable data
        raise MaxMarginError(f"the data are not separable{'' if bias else ' through the origin'}")
    data, labels = (X, y) if bias else (np.vstack([X, -X]), np.concatenate([y, -y]))
    model = SVC(kernel="linear", C=SVC_C, tol=SVC_TOL)
    model.fit(data, labels)
    w = np.asarray(model.coef_[0], dtype=np.float64)  # decision > 0 <=> classes_[1] = +1
    b = float(model.intercept_[0]) if bias else 0.0
    slack = y * (X @ w + b) - 1.0
    # 1e-4: a separable problem solved to SVC_TOL has slacks >= -1e-8; a soft-margin solution
    # of non-separable data violates some margin by O(1).
    if slack.min() < -1e-4:
        raise MaxMarginError(f"the data are not separable{'' if bias else ' through the origin'} "
                             f"(SVC margin violation {slack.min():.3g})")
    support = tuple(int(i) for i in np.flatnonzero(slack <= ACTIVE_TOL))
    return MaxMargin(w, b, support)


def max_margin(X, y, *, bias: bool = False, solver: str = "qp") -> MaxMargin:
    """The hard-margin classifier of (X (n, d), y (n,)): homogeneous (``bias=False``) or with a
    free bias; ``solver`` "qp" (scipy SLSQP, polished) or "svc" (scikit-learn). Raises
    MaxMarginError for bad arguments or non-separable data."""
    X, y = check_data(X, y)
    if solver not in SOLVERS:
        raise MaxMarginError(f"solver must be one of {SOLVERS}; got {solver!r}")
    return _qp(X, y, bias) if solver == "qp" else _svc(X, y, bias)


def max_margin_direction(X, y, *, bias: bool = False, solver: str = "qp") -> np.ndarray:
    """Unit max-margin direction w / ||w|| (see :func:`max_margin`)."""
    return max_margin(X, y, bias=bias, solver=solver).direction


def angle_to_mean_difference(X, y, *, bias: bool = False, solver: str = "qp") -> float:
    """The angle (radians) between the max-margin direction and mu_+ - mu_-."""
    return angle(max_margin_direction(X, y, bias=bias, solver=solver), mean_difference(X, y))


def collapsed_max_margin_direction(mu_plus, mu_minus, *, bias: bool = False) -> np.ndarray:
    """Closed form: the max-margin direction of data collapsed onto the two class means.

    With a free bias: (mu_+ - mu_-)/||mu_+ - mu_-|| (the perpendicular bisector). Homogeneous:
    the min-norm point p = a + lam (c - a) of the segment from a = mu_+ to c = -mu_-,
    lam = clip(<a, a - c> / ||a - c||^2, 0, 1). Raises MaxMarginError when p = 0 (the origin is
    on the segment: mu_- is a non-negative multiple of mu_+, nothing separates through 0).
    """
    a = np.asarray(mu_plus, dtype=np.float64)
    c = -np.asarray(mu_minus, dtype=np.float64)
    if bias:
        return unit(a + c)
    gap = a - c
    if not np.any(gap):
        point = a
    else:
        point = a + float(np.clip(a @ gap / (gap @ gap), 0.0, 1.0)) * (c - a)
    # 1e-12 of the means' scale: below it the min-norm point is rounding of an exact 0.
    if np.linalg.norm(point) <= 1e-12 * max(np.linalg.norm(a), np.linalg.norm(c)):
        raise MaxMarginError("the collapsed means are not separable through the origin "
                             "(mu_- is a non-negative multiple of mu_+)")
    return unit(point)


# ---------------------------------------------------------------------------------------
# Losses on a linear model, their gradient flow and gradient descent.
# ---------------------------------------------------------------------------------------
LOSSES = ("linear", "logistic")


def _loss_name(loss: str) -> str:
    if loss not in LOSSES:
        raise MaxMarginError(f"loss must be one of {LOSSES}; got {loss!r}")
    return loss


def risk(w, X, y, *, loss: str = "logistic") -> float:
    """L(w) = sum_i l(y_i <w, x_i>), l(u) = log(1 + e^{-u}) (stably) or l(u) = -u."""
    X, y = check_data(X, y)
    u = y * (X @ np.asarray(w, dtype=np.float64))
    return float(np.sum(np.logaddexp(0.0, -u)) if _loss_name(loss) == "logistic" else -np.sum(u))


def _gradient(Z: np.ndarray, w: np.ndarray, loss: str) -> np.ndarray:
    u = Z @ w
    return -(expit(-u) @ Z) if loss == "logistic" else -np.sum(Z, axis=0)


def gradient(w, X, y, *, loss: str = "logistic") -> np.ndarray:
    """grad L(w) = sum_i l'(y_i <w, x_i>) y_i x_i, with -l'(u) = sigma(-u) or 1."""
    X, y = check_data(X, y)
    return _gradient(y[:, None] * X, np.asarray(w, dtype=np.float64), _loss_name(loss))


def logistic_flow(X, y, w0, times, *, rtol: float = 1e-10, atol: float = 1e-12) -> np.ndarray:
    """w(t) (len(times), d) of the logistic gradient flow dw/dt = sum_i z_i sigma(-z_i.w).

    Integrated by DOP853 in the time variable tau = log(1 + t), dw/dtau = (1 + t) dw/dt, in
    which the separable-data flow is smooth and slowly varying (w grows like log t), so the
    solver's steps stay O(1) up to t ~ 1e12. ``times`` must be >= 0 and increasing.
    """
    X, y = check_data(X, y)
    w0 = np.asarray(w0, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if w0.shape != (X.shape[1],) or not np.all(np.isfinite(w0)):
        raise MaxMarginError(f"w0 must be finite with shape ({X.shape[1]},); got {w0!r}")
    if times.ndim != 1 or times.size == 0 or times.min() < 0 or np.any(np.diff(times) <= 0):
        raise MaxMarginError(f"times must be a non-empty increasing array of t >= 0; got {times!r}")
    Z = y[:, None] * X

    def field(tau, w):
        return math.exp(tau) * (expit(-(Z @ w)) @ Z)  # (1 + t) dw/dt, 1 + t = e^tau

    taus = np.log1p(times)
    sol = solve_ivp(field, (0.0, float(taus[-1])), w0, method="DOP853", t_eval=taus, rtol=rtol, atol=atol)
    if sol.status != 0:
        raise MaxMarginError(f"DOP853 failed: {sol.message}")
    return sol.y.T


def descent(X, y, w0, eta: float, steps: int, *, loss: str = "linear") -> np.ndarray:
    """Gradient descent w_{k+1} = w_k - eta grad L(w_k); returns the iterates (steps + 1, d)."""
    X, y = check_data(X, y)
    if not (eta > 0 and math.isfinite(eta)):
        raise MaxMarginError(f"eta must be finite and > 0; got {eta!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise MaxMarginError(f"steps must be an int >= 0; got {steps!r}")
    loss = _loss_name(loss)
    Z = y[:, None] * X
    out = np.empty((int(steps) + 1, X.shape[1]))
    out[0] = np.asarray(w0, dtype=np.float64)
    for k in range(int(steps)):
        out[k + 1] = out[k] - eta * _gradient(Z, out[k], loss)
    return out


@dataclass(frozen=True)
class Asymptote:
    """w(t) = w_hat log t + w_tilde + o(1) for the logistic flow (Soudry et al., Theorem 3).

    w_hat: the homogeneous max-margin solution (margin 1); alpha: its multipliers on the
    support vectors ``support``; w_tilde: solves exp(-z_i.w_tilde) = alpha_i on them.
    """

    w_hat: np.ndarray
    w_tilde: np.ndarray
    alpha: np.ndarray
    support: tuple[int, ...]

    def angle_prediction(self, t: float) -> float:
        """atan(||P w_tilde|| / (||w_hat|| log t + <w_hat^, w_tilde>)), P the projection
        orthogonal to w_hat: the angle between w_hat log t + w_tilde and w_hat."""
        wh = unit(self.w_hat)
        par = float(self.w_tilde @ wh)
        perp = float(np.linalg.norm(self.w_tilde - par * wh))
        return math.atan2(perp, float(np.linalg.norm(self.w_hat)) * math.log(t) + par)


def implicit_bias_asymptote(X, y) -> Asymptote:
    """w_hat, alpha and w_tilde (:class:`Asymptote`) of separable data whose support vectors
    span R^d with positive multipliers (then w_tilde is determined by them); raises
    MaxMarginError otherwise."""
    X, y = check_data(X, y)
    sol = max_margin(X, y, bias=False, solver="qp")
    Z = y[:, None] * X
    S = list(sol.support)
    ZS = Z[S]
    if np.linalg.matrix_rank(ZS) < X.shape[1]:
        raise MaxMarginError(f"the support vectors {S} do not span R^{X.shape[1]}: w_tilde is not "
                             "determined by them")
    alpha = np.linalg.lstsq(ZS.T, sol.w, rcond=None)[0]
    # 1e-9: a multiplier of a genuine support vector here is >= ~1e-3; one at rounding level
    # means a degenerate (weakly active) constraint, for which exp(-z.w_tilde) = 0 has no solution.
    if alpha.min() <= 1e-9:
        raise MaxMarginError(f"a support vector has multiplier {alpha.min():.3g} <= 0 (degenerate data)")
    w_tilde = np.linalg.lstsq(ZS, -np.log(alpha), rcond=None)[0]
    return Asymptote(sol.w, w_tilde, alpha, tuple(S))
