"""Norm-constrained UFM with the linear loss (Appendix C.2, eqs (15)-(17)).

Problem (15): minimise f(H, v) = -sum_i y_i v^T h_i subject to ||v|| <= 1, ||h_i|| <= 1.

Optimal value. By Cauchy-Schwarz each term obeys y_i v^T h_i <= ||v|| ||h_i|| <= 1, so
f >= -n, with equality iff ||v|| = 1 and h_i = y_i v for every i (equality in
Cauchy-Schwarz with both norms 1). So the minimum is -n, attained exactly on
{(H, v): ||v|| = 1, h_i = y_i v}: complete neural collapse, with v = (h_+ - h_-) / 2 where
h_+ = v and h_- = -v are the collapsed class features. (Eq (17)'s "v = sum_i y_i h_i"
holds only up to the positive factor lambda = n.)

Two independent solvers are provided: projected gradient descent, which discretises the
differential inclusion (16) (a gradient step followed by projection onto the balls; the
projection supplies the normal-cone term), and scipy's SLSQP with the norm constraints as
smooth inequality constraints 1 - ||x||^2 >= 0.

Ball or sphere. (15) and (16) constrain to the unit *balls* ||x|| <= 1, and that is what
the solvers model by default. Weight normalisation as the paper runs it (Section 4, B.2:
"we normalize the norm of each neuron to be a constant") fixes the norms, i.e. the unit
*spheres*; ``constraint="sphere"`` projects onto those instead. Both models have the same
minimum -n and the same minimisers (they lie on the spheres), but not the same flow: inside
the balls the normal cones vanish and the flow is the unconstrained one, so v can shrink
to 0, which the spheres forbid.

References:
    "Linear Loss Classification: Efficient Training Through Neural Collapse", Appendix C.2,
    eqs (15)-(17). Bauschke & Combettes (2017), "Convex Analysis and Monotone Operator
    Theory in Hilbert Spaces" (projection onto a ball; normal cones). Beck (2017),
    "First-Order Methods in Optimization", Lemma 10.4 (sufficient decrease of projected
    gradient for an L-smooth objective on a convex set when eta < 2 / L).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from models.ufm import UFMInputError, validate_problem, validate_real, validate_steps


class SLSQPFailedError(RuntimeError):
    """scipy's SLSQP reported failure on problem (15)."""


@dataclass(frozen=True)
class ConstrainedUFMResult:
    """Outcome of projected gradient descent on (15)."""

    H: np.ndarray  # (n, d) final features, every row of norm <= 1
    v: np.ndarray  # (d,) final classifier, norm <= 1
    loss_history: np.ndarray  # (steps + 1,) objective (15) at each iterate, the start first
    steps: int  # number of projected gradient steps taken


def constrained_loss(H: np.ndarray, v: np.ndarray, y: np.ndarray) -> float:
    """Objective of (15): -sum_i y_i v^T h_i."""
    return float(-(y @ (H @ v)))


def constrained_ufm_minimum(n: int) -> float:
    """Optimal value -n of (15) for n samples (Cauchy-Schwarz, see the module docstring)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UFMInputError(f"n must be an integer >= 1; got {n!r}")
    return -float(n)


def project_to_unit_ball(x) -> np.ndarray:
    """Euclidean projection onto {||x|| <= 1}: of a vector (d,), or of each row of (n, d).

    A point inside the ball is returned unchanged; one outside is scaled to norm 1.
    """
    x = np.array(x, dtype=np.float64)
    if x.ndim not in (1, 2) or not np.all(np.isfinite(x)):
        raise UFMInputError(f"x must be a finite 1-D or 2-D array; got {x!r}")
    norms = np.linalg.norm(x, axis=-1, keepdims=True)  # (1,) or (n, 1)
    return x / np.maximum(norms, 1.0)


def project_to_unit_sphere(x) -> np.ndarray:
    """Euclidean projection onto {||x|| = 1}: of a vector (d,), or of each row of (n, d).

    Every nonzero vector is scaled to norm 1; a zero vector has no nearest point on the
    sphere that is unique, and raises UFMInputError.
    """
    x = np.array(x, dtype=np.float64)
    if x.ndim not in (1, 2) or not np.all(np.isfinite(x)):
        raise UFMInputError(f"x must be a finite 1-D or 2-D array; got {x!r}")
    norms = np.linalg.norm(x, axis=-1, keepdims=True)  # (1,) or (n, 1)
    if np.any(norms == 0):
        raise UFMInputError(f"x has a zero vector, whose projection onto the unit sphere is not unique; got {x!r}")
    return x / norms


_PROJECTIONS = {"ball": project_to_unit_ball, "sphere": project_to_unit_sphere}


def _rows_onto_ball(x: np.ndarray) -> np.ndarray:
    """project_to_unit_ball without validation, for the inner loop (x already checked)."""
    return x / np.maximum(np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), 1.0)


def _rows_onto_sphere(x: np.ndarray) -> np.ndarray:
    """project_to_unit_sphere without validation; a zero row gives inf/nan (checked after the loop)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True))


_FAST_PROJECTIONS = {"ball": _rows_onto_ball, "sphere": _rows_onto_sphere}


def projected_gradient_descent(H0, v0, y, *, eta: float, steps: int,
                               constraint: str = "ball") -> ConstrainedUFMResult:
    """Projected gradient descent on (15), discretising the inclusion (16).

    The initial point is first projected onto the feasible set (a no-op when it is
    feasible). Then each step updates simultaneously
        v   <- P(v + eta sum_i y_i h_i),     h_i <- P(h_i + eta y_i v),
    with P the projection onto the unit ball (``constraint="ball"``, as (15) states) or
    onto the unit sphere (``constraint="sphere"``, fixed norms as weight normalisation
    keeps them). The objective's gradient is sqrt(n)-Lipschitz (its Hessian
    [[0, -y^T (x) I], [-y (x) I, 0]] has norm ||y|| = sqrt(n)), so on the (convex) balls
    for eta < 2 / sqrt(n) the loss is non-increasing along the iterates.
    """
    H, v, y = validate_problem(H0, v0, y)
    eta = validate_real("eta", eta, positive=True)
    steps = validate_steps(steps)
    if constraint not in _PROJECTIONS:
        raise UFMInputError(f"constraint must be 'ball' or 'sphere'; got {constraint!r}")
    H, v = _PROJECTIONS[constraint](H), _PROJECTIONS[constraint](v)  # (n, d), (d,)
    project = _FAST_PROJECTIONS[constraint]
    history = np.empty(steps + 1)  # (steps + 1,)
    history[0] = constrained_loss(H, v, y)
    y_col = y[:, None]  # (n, 1)
    for k in range(steps):
        H, v = (
            project(H + eta * (y_col * v)),
            project(v + eta * (y @ H)),
        )
        history[k + 1] = -(y @ (H @ v))
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(v))):
        raise UFMInputError(f"projection onto the unit {constraint} met a zero vector (eta={eta!r}); "
                            "its projection is not unique")
    return ConstrainedUFMResult(H=H, v=v, loss_history=history, steps=steps)


def solve_constrained_ufm_scipy(H0, v0, y) -> tuple[np.ndarray, np.ndarray, float]:
    """Solve (15) with scipy's SLSQP from (H0, v0); return (H (n, d), v (d,), its value).

    The returned point is SLSQP's answer projected onto the feasible set, and the value
    is the objective of (15) there (so it is never below the true minimum -n).
    Constraints are 1 - ||v||^2 >= 0 and 1 - ||h_i||^2 >= 0, with exact Jacobians.
    Raises SLSQPFailedError if SLSQP fails, except for a precision-limit stop (exit mode 8)
    at a stationary point, which is accepted (see the comment in the body).
    """
    H0, v0, y = validate_problem(H0, v0, y)
    n, d = H0.shape

    def split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return z[: n * d].reshape(n, d), z[n * d :]  # (n, d), (d,)

    def fun(z: np.ndarray) -> float:
        H, v = split(z)
        return constrained_loss(H, v, y)

    def jac(z: np.ndarray) -> np.ndarray:
        H, v = split(z)
        return np.concatenate([-np.outer(y, v).ravel(), -(y @ H)])  # (n d + d,)

    def cons(z: np.ndarray) -> np.ndarray:
        H, v = split(z)
        return 1.0 - np.concatenate([np.sum(H**2, axis=1), [v @ v]])  # (n + 1,)

    def cons_jac(z: np.ndarray) -> np.ndarray:
        H, v = split(z)
        J = np.zeros((n + 1, n * d + d))  # (n + 1, n d + d)
        for i in range(n):
            J[i, i * d : (i + 1) * d] = -2.0 * H[i]
        J[n, n * d :] = -2.0 * v
        return J

    z0 = np.concatenate([H0.ravel(), v0])
    res = minimize(
        fun, z0, jac=jac, method="SLSQP",
        constraints=[{"type": "ineq", "fun": cons, "jac": cons_jac}],
        # 1e-10: the optimum -n is O(1..10) and the tests compare values to 1e-7; tighter
        # ftol only makes SLSQP stop more often on its precision limit (exit mode 8).
        options={"ftol": 1e-10, "maxiter": 1000},
    )
    H, v = split(res.x)
    if not res.success:
        # Exit mode 8 ("positive directional derivative for linesearch") is how SLSQP
        # reports hitting its precision limit here: the minimisers form a sphere (the
        # problem is rotation invariant), so the Lagrangian Hessian is singular. Accept it
        # only at a stationary point: the unit-step projected-gradient residual is ~1e-7
        # at such stops (the constraint violation) and O(1) far from stationarity.
        residual = np.concatenate([project_to_unit_ball(H + np.outer(y, v)).ravel(),
                                   project_to_unit_ball(v + y @ H)]) - res.x
        if res.status != 8 or np.linalg.norm(residual) > 1e-6:
            raise SLSQPFailedError(f"SLSQP failed on (15) with n={n}, d={d}: {res.message}")
    # SLSQP may end up to ~1e-6 outside the balls, which lets res.fun undershoot -n; we
    # return the projected (feasible) point and the objective evaluated there.
    H, v = project_to_unit_ball(H), project_to_unit_ball(v)  # (n, d), (d,)
    return H, v, constrained_loss(H, v, y)
