"""Critical points of the norm-constrained UFM (15) with the linear loss, and their curvature.

f(H, v) = -sum_i y_i v^T h_i, labels y_i in {-1, +1}, points packed as x = (v, h_1, ..., h_n)
((n + 1) d numbers; block 0 is v, block i is h_i). Two constraint sets:

    ball    ||v|| <= 1, ||h_i|| <= 1: problem (15) of Appendix C.2, as printed.
    sphere  ||v|| = 1, ||h_i|| = 1: fixed norms, the model of weight normalisation
            (Section 4, Appendix B.2); a product of unit spheres, a smooth manifold.

Euclidean derivatives. grad_v f = -sum_i y_i h_i, grad_{h_i} f = -y_i v, and the Hessian is the
constant A = [[0, -y^T (x) I_d], [-y (x) I_d, 0]] (eigenvalues +-sqrt(n) and 0).

Sphere model (Absil, Mahony & Sepulchre 2008, Sec. 5.5). With P_j = I - x_j x_j^T the projection
onto the tangent space of block j and g_j the Euclidean gradient of block j,
    Riemannian gradient  grad f = (P_j g_j)_j,
    Riemannian Hessian   Hess f[xi] = P (A xi) - (<x_j, g_j> xi_j)_j      (xi tangent).
Critical points: P_v sum_i y_i h_i = 0 and P_{h_i} v = 0, so with unit v, h_i = s_i y_i v for a
sign pattern s in {-1, +1}^n (and then sum_i y_i h_i = (sum_i s_i) v is parallel to v). The value
is -sum_i s_i: the global minimum -n exactly when every s_i = +1 (complete NC). All tangent spaces
equal v^perp there, and on tangent vectors (a, b_1, ..., b_n) the Hessian's quadratic form is
    (sum_i s_i) ||a||^2 + sum_i s_i ||b_i||^2 - 2 sum_i y_i a^T b_i,
i.e. the (n + 1) x (n + 1) matrix B(s) = [[sum s, -y^T], [-y, diag(s)]] on each of the d - 1
directions of v^perp. For s = 1, B = sum_i (e_0 - y_i e_i)(e_0 - y_i e_i)^T is PSD with kernel
b_i = y_i a (the rotations of the configuration); if some s_j = -1, b_j alone gives curvature
-||b_j||^2 < 0 (a strict saddle), provided d >= 2. For d = 1 every sphere is the two points
{-1, +1}, the tangent spaces are 0, every point is critical and every non-global one is an
isolated (spurious) local minimum.

Ball model. The KKT conditions of (15) are (17): sum_i y_i h_i = lambda v, y_i v = mu_i h_i with
lambda, mu_i >= 0 and complementary slackness. If v != 0 then every mu_i > 0, ||h_i|| = 1,
h_i = y_i v/||v||, lambda = n/||v|| > 0, so ||v|| = 1: a global minimiser. If v = 0 the conditions
reduce to sum_i y_i h_i = 0. So the critical points are the global minimisers and the stationary
set S0 = {v = 0, sum_i y_i h_i = 0} (value 0), where the whole gradient vanishes (the multipliers
are 0). At a point of S0 with some h_j != 0 the segment
    v(t) = -t y_j h_j,   h_j(t) = (1 - t) h_j,   other h_i fixed,    t in [0, 1]
stays feasible and f(t) = -t^2 ||h_j||^2: a feasible direction d of negative curvature
d^T A d = -2 ||h_j||^2 (the segment moves h_j into the ball's interior, so it works for d = 1 too).
At H = 0 the point is interior and A has the eigenvalue -sqrt(n). Every point of S0 is therefore
a strict saddle in the sense that the second-order necessary condition fails on the tangent cone.
The Hessian of the stratum alone (the spheres of the active constraints, the open balls of the
others) can miss it: at a corner with d = 1 and every |h_i| = 1 that stratum Hessian is 0.

References:
    Appendix C.2, eqs (15)-(17). Zhou et al. 2022 (strict saddle functions). Absil, Mahony &
    Sepulchre (2008), "Optimization Algorithms on Matrix Manifolds", Sec. 5.5 (Riemannian Hessian
    of a submanifold) and Sec. 6.2 (Riemannian Newton). Nocedal & Wright (2006), Sec. 12.5
    (second-order conditions on the critical cone).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space
from scipy.optimize import least_squares

from models.ufm import UFMInputError, validate_problem
from models.ufm_constrained import constrained_loss

CLASSES = ("global-min", "strict-saddle", "degenerate", "not-critical")


def pack(H, v) -> np.ndarray:
    """x = (v, h_1, ..., h_n) as one vector ((n + 1) d,)."""
    return np.concatenate([np.asarray(v, float), np.asarray(H, float).ravel()])


def unpack(x, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``pack``: (H (n, d), v (d,))."""
    x = np.asarray(x, float)
    if x.shape != ((n + 1) * d,):
        raise UFMInputError(f"x must have shape ({(n + 1) * d},) for n={n}, d={d}; got shape {x.shape}")
    return x[d:].reshape(n, d), x[:d]


def euclidean_gradient(H, v, y) -> np.ndarray:
    """(grad_v f, grad_{h_1} f, ...) = (-sum_i y_i h_i, -y_1 v, ..., -y_n v), packed."""
    H, v, y = validate_problem(H, v, y)
    return pack(-np.outer(y, v), -(y @ H))


def euclidean_hessian(y, d: int) -> np.ndarray:
    """The constant Hessian A of f in packed coordinates."""
    y = np.asarray(y, float)
    n = y.size
    A = np.zeros(((n + 1) * d, (n + 1) * d))
    coupling = -np.kron(y[:, None], np.eye(d))  # (n d, d)
    A[d:, :d], A[:d, d:] = coupling, coupling.T
    return A


def _blocks(H: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.vstack([v[None, :], H])  # (n + 1, d): row 0 is v, row i is h_i


# ---------------------------------------------------------------------------------------------
# Sphere model.
# ---------------------------------------------------------------------------------------------
def _check_on_spheres(H: np.ndarray, v: np.ndarray) -> None:
    norms = np.linalg.norm(_blocks(H, v), axis=1)
    # 1e-9: points come from normalisations (error ~1e-16) or solvers converged to ~1e-12.
    if np.any(np.abs(norms - 1) > 1e-9):
        raise UFMInputError(f"v and every h_i must have norm 1 on the sphere model; got norms {norms!r}")


def sphere_projection(H, v) -> np.ndarray:
    """Block-diagonal projection onto the tangent space: P = diag(I - x_j x_j^T)."""
    X = _blocks(np.asarray(H, float), np.asarray(v, float))
    d = X.shape[1]
    P = np.zeros((X.size, X.size))
    for j, x in enumerate(X):
        P[j * d:(j + 1) * d, j * d:(j + 1) * d] = np.eye(d) - np.outer(x, x)
    return P


def sphere_tangent_basis(H, v) -> np.ndarray:
    """Orthonormal basis (columns) of the tangent space of the product of spheres, ((n+1) d, (n+1)(d-1))."""
    X = _blocks(np.asarray(H, float), np.asarray(v, float))
    d = X.shape[1]
    blocks = [null_space(x[None, :]) for x in X]  # each (d, d - 1)
    Q = np.zeros((X.size, sum(b.shape[1] for b in blocks)))
    col = 0
    for j, b in enumerate(blocks):
        Q[j * d:(j + 1) * d, col:col + b.shape[1]] = b
        col += b.shape[1]
    return Q


def sphere_riemannian_gradient(H, v, y) -> np.ndarray:
    """P grad f (packed)."""
    H, v, y = validate_problem(H, v, y)
    _check_on_spheres(H, v)
    return sphere_projection(H, v) @ euclidean_gradient(H, v, y)


def sphere_riemannian_hessian(H, v, y, *, curvature_term: bool = True) -> np.ndarray:
    """The Riemannian Hessian as a symmetric ambient matrix P A P - diag(<x_j, g_j> P_j).

    ``curvature_term=False`` drops the second term (the sphere's Weingarten map), leaving the
    projected Euclidean Hessian P A P: a broken variant for negative controls.
    """
    H, v, y = validate_problem(H, v, y)
    _check_on_spheres(H, v)
    d = v.size
    P = sphere_projection(H, v)
    hess = P @ euclidean_hessian(y, d) @ P
    if curvature_term:
        X = _blocks(H, v)
        G = euclidean_gradient(H, v, y).reshape(-1, d)  # (n + 1, d) block gradients
        for j in range(X.shape[0]):
            sl = slice(j * d, (j + 1) * d)
            hess[sl, sl] -= float(X[j] @ G[j]) * P[sl, sl]
    return hess


def sphere_hessian_eigenvalues(H, v, y, *, curvature_term: bool = True) -> np.ndarray:
    """Eigenvalues (ascending) of the Riemannian Hessian on the tangent space ((n + 1)(d - 1) of them)."""
    Q = sphere_tangent_basis(H, v)
    if Q.shape[1] == 0:
        return np.zeros(0)
    return np.linalg.eigvalsh(Q.T @ sphere_riemannian_hessian(H, v, y, curvature_term=curvature_term) @ Q)


def sphere_critical_point(v, y, s) -> np.ndarray:
    """H with h_i = s_i y_i v (v a unit vector, s in {-1, +1}^n): a critical point on the spheres."""
    v, s, y = np.asarray(v, float), np.asarray(s, float), np.asarray(y, float)
    # 1e-12: v is normalised by the caller to rounding.
    if abs(np.linalg.norm(v) - 1) > 1e-12 or not np.all(np.abs(s) == 1) or s.shape != y.shape:
        raise UFMInputError(f"v must be a unit vector and s a +-1 vector shaped like y; got v={v!r}, s={s!r}")
    return np.outer(s * y, v)


def geodesic(H, v, xi, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The point at time t of the geodesic through (H, v) with tangent velocity xi (packed), blockwise
    x_j cos(t ||xi_j||) + xi_j sin(t ||xi_j||)/||xi_j||."""
    X = _blocks(np.asarray(H, float), np.asarray(v, float))
    d = X.shape[1]
    Xi = np.asarray(xi, float).reshape(-1, d)
    speed = np.linalg.norm(Xi, axis=1, keepdims=True)  # (n + 1, 1)
    safe = np.where(speed > 0, speed, 1.0)
    Y = X * np.cos(t * speed) + Xi * np.where(speed > 0, np.sin(t * speed) / safe, t)
    return Y[1:], Y[0]


@dataclass(frozen=True)
class NewtonResult:
    """An end point of Riemannian Newton on the product of spheres."""

    H: np.ndarray
    v: np.ndarray
    converged: bool  # ||grad f|| <= tol
    iterations: int
    gradient_norm: float


def sphere_newton(H0, v0, y, *, tol: float = 1e-12, max_iter: int = 60) -> NewtonResult:
    """Riemannian Newton (Absil et al., Alg. 5) with the metric projection as retraction.

    Each step solves Hess f[xi] = -grad f on the tangent space in the least-squares sense (the
    Hessian is singular along the rotations of the configuration; lstsq takes the minimum-norm
    step), then normalises every block. Newton is attracted to critical points of every index,
    so random starts sample saddles as well as minima.
    """
    H, v, y = validate_problem(H0, v0, y)
    X = _blocks(H, v)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise UFMInputError(f"H0 and v0 must have nonzero rows to start on the spheres; got norms {norms.ravel()!r}")
    X = X / norms
    d = X.shape[1]
    grad_norm = np.inf
    for k in range(max_iter + 1):
        H, v = X[1:], X[0]
        grad = sphere_riemannian_gradient(H, v, y)
        grad_norm = float(np.linalg.norm(grad))
        if grad_norm <= tol or k == max_iter:
            break
        Q = sphere_tangent_basis(H, v)
        eta = np.linalg.lstsq(Q.T @ sphere_riemannian_hessian(H, v, y) @ Q, -Q.T @ grad, rcond=1e-10)[0]
        X = X + (Q @ eta).reshape(-1, d)
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return NewtonResult(H=X[1:].copy(), v=X[0].copy(), converged=grad_norm <= tol, iterations=k,
                        gradient_norm=grad_norm)


def classify_sphere_point(H, v, y, *, tol: float = 1e-8, curvature_term: bool = True) -> str:
    """"not-critical" (||grad f|| > tol), "global-min" (value within tol of -n), "strict-saddle"
    (a Hessian eigenvalue < -tol) or "degenerate" (critical, not global, no negative curvature)."""
    H, v, y = validate_problem(H, v, y)
    if np.linalg.norm(sphere_riemannian_gradient(H, v, y)) > tol:
        return "not-critical"
    if constrained_loss(H, v, y) <= -y.size + tol:
        return "global-min"
    eigenvalues = sphere_hessian_eigenvalues(H, v, y, curvature_term=curvature_term)
    return "strict-saddle" if eigenvalues.size and eigenvalues[0] < -tol else "degenerate"


# ---------------------------------------------------------------------------------------------
# Ball model (15).
# ---------------------------------------------------------------------------------------------
def _project_rows_to_ball(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1.0)


def ball_kkt_residual(H, v, y) -> float:
    """|| x - Proj(x - grad f(x)) ||: zero exactly at the KKT points of (15) (unit-step projected gradient)."""
    H, v, y = validate_problem(H, v, y)
    X = _blocks(H, v)
    G = euclidean_gradient(H, v, y).reshape(X.shape)
    return float(np.linalg.norm(X - _project_rows_to_ball(X - G)))


def ball_negative_curvature_direction(H, v, y) -> tuple[np.ndarray, np.ndarray]:
    """A feasible direction (dH, dv) of negative curvature at a point of S0 (module docstring).

    With j the row of largest norm: dv = -y_j h_j, dh_j = -h_j (other rows 0), curvature
    -2 ||h_j||^2; at H = 0: dv = e_1, dh_1 = y_1 e_1, curvature -2.
    """
    H, v, y = validate_problem(H, v, y)
    dH, dv = np.zeros_like(H), np.zeros_like(v)
    j = int(np.argmax(np.linalg.norm(H, axis=1)))
    if np.any(H[j]):
        dv, dH[j] = -y[j] * H[j], -H[j]
    else:
        dv[0], dH[0, 0] = 1.0, y[0]
    return dH, dv


def feasible_direction(H, v, dH, dv, *, tol: float = 1e-9) -> bool:
    """x + t d stays in the balls for all small t > 0: on an active block (norm within tol of 1)
    the direction must point inwards (<x_j, d_j> < 0) or vanish."""
    for x, dx in zip(_blocks(np.asarray(H, float), np.asarray(v, float)),
                     _blocks(np.asarray(dH, float), np.asarray(dv, float))):
        if abs(np.linalg.norm(x) - 1) <= tol and np.any(dx) and not x @ dx < 0:
            return False
    return True


def stratum_hessian_min_eigenvalue(H, v, y, *, tol: float = 1e-9) -> float:
    """Smallest eigenvalue of the Riemannian Hessian of f on the point's stratum (active blocks on
    their spheres, the others in their open balls); +inf when the stratum is a point."""
    H, v, y = validate_problem(H, v, y)
    X = _blocks(H, v)
    n1, d = X.shape
    G = euclidean_gradient(H, v, y).reshape(n1, d)
    active = np.abs(np.linalg.norm(X, axis=1) - 1) <= tol
    bases = [null_space(x[None, :]) if a else np.eye(d) for x, a in zip(X, active)]
    Q = np.zeros((n1 * d, sum(b.shape[1] for b in bases)))
    hess = euclidean_hessian(y, d)
    col = 0
    for j, b in enumerate(bases):
        Q[j * d:(j + 1) * d, col:col + b.shape[1]] = b
        col += b.shape[1]
        if active[j]:
            sl = slice(j * d, (j + 1) * d)
            hess[sl, sl] -= float(X[j] @ G[j]) * np.eye(d)  # Weingarten term on the sphere
    if Q.shape[1] == 0:
        return np.inf
    return float(np.linalg.eigvalsh(Q.T @ hess @ Q)[0])


def classify_ball_point(H, v, y, *, tol: float = 1e-8, curvature: str = "cone") -> str:
    """Classify a point of (15): "not-critical" (KKT residual > tol), "global-min" (value within tol
    of -n), "strict-saddle" or "degenerate".

    ``curvature="cone"``: strict saddle when the stratum Hessian has an eigenvalue < -tol, or the
    gradient vanishes and ``ball_negative_curvature_direction`` is feasible with curvature < -tol
    (the second-order condition fails on the tangent cone). ``curvature="stratum"`` uses the
    stratum Hessian only (a weaker test: it misses the inward directions at corners).
    """
    if curvature not in ("cone", "stratum"):
        raise UFMInputError(f"curvature must be 'cone' or 'stratum'; got {curvature!r}")
    H, v, y = validate_problem(H, v, y)
    if ball_kkt_residual(H, v, y) > tol:
        return "not-critical"
    if constrained_loss(H, v, y) <= -y.size + tol:
        return "global-min"
    if stratum_hessian_min_eigenvalue(H, v, y) < -tol:
        return "strict-saddle"
    if curvature == "cone" and np.linalg.norm(euclidean_gradient(H, v, y)) <= tol:
        dH, dv = ball_negative_curvature_direction(H, v, y)
        d = pack(dH, dv)
        if feasible_direction(H, v, dH, dv) and d @ euclidean_hessian(y, v.size) @ d < -tol * (d @ d):
            return "strict-saddle"
    return "degenerate"


@dataclass(frozen=True)
class KKTSolve:
    """An end point of the KKT-residual solver."""

    H: np.ndarray
    v: np.ndarray
    residual: float  # ball_kkt_residual at the end point


def find_ball_critical_point(H0, v0, y) -> KKTSolve:
    """Solve x = Proj(x - grad f(x)) from (H0, v0) by scipy's least_squares (Levenberg-Marquardt,
    finite-difference Jacobian), then project the end point onto the balls.

    The fixed-point residual vanishes exactly at the KKT points, minima and saddles alike, so
    random starts sample the whole critical set (a descent method would only find minima).
    """
    H0, v0, y = validate_problem(H0, v0, y)
    n, d = H0.shape

    def residual(x: np.ndarray) -> np.ndarray:
        X = _project_rows_to_ball(x.reshape(n + 1, d))
        H, v = X[1:], X[0]
        G = euclidean_gradient(H, v, y).reshape(n + 1, d)
        return (X - _project_rows_to_ball(X - G)).ravel()

    # The residual is only piecewise smooth (the projection), so some starts stall at a nonzero
    # residual (measured: about half); the caller checks ``residual``.
    result = least_squares(residual, _blocks(H0, v0).ravel(), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                           max_nfev=2000)
    X = _project_rows_to_ball(result.x.reshape(n + 1, d))
    H, v = X[1:], X[0]
    return KKTSolve(H=H, v=v, residual=ball_kkt_residual(H, v, y))
