"""Unconstrained feature model (UFM) trained with the linear loss (Appendix C.1).

Objective (9): L(H, v, b) = -sum_i y_i (v^T h_i + b), with features H (n, d) whose
rows are h_i, classifier v (d,), bias b and labels y_i in {-1, +1}. Gradient flow on (9):

    dv/dt = sum_i y_i h_i,    dh_i/dt = y_i v,    db/dt = sum_i y_i = n_+ - n_-.

Derivation of the closed form. Put s(t) = sum_i y_i h_i(t), so dv/dt = s and
ds/dt = sum_i y_i^2 v = n v. Hence v'' = n v with v(0) = v0 and v'(0) = s(0) =: h0 (eq 12),
whose solution, with r = sqrt(n), is

    v(t)          = v0 cosh(r t) + (h0 / r) sinh(r t)
                  = 1/2 (v0 + h0/r) e^{r t} + 1/2 (v0 - h0/r) e^{-r t}        (eq 13),
    int_0^t v     = (v0 / r) sinh(r t) + (h0 / n) (cosh(r t) - 1),
    h_i(t)        = h_i(0) + y_i int_0^t v,
    b(t)          = b0 + (n_+ - n_-) t.

The "- h0/n" term in the integral is the constant of integration that makes h_i(0) come
out right; the printed formula below (13) omits it, so it is off by y_i h0 / n at every t.

Two quantities are conserved along the flow (differentiate to check): the balance
||v||^2 - sum_i ||h_i||^2, and n ||v||^2 - ||s||^2 = n (v0 - h0/r) . (v0 + h0/r). Each
within-class difference h_i - h_j is conserved too, since both rows move by y_i int v.

Numerically we use the equivalent rearrangement, with g = v0 + h0/r (twice the growing
mode's coefficient),

    v(t)      = v0 e^{-r t} + g sinh(r t),
    int_0^t v = v0 (1 - e^{-r t}) / r + (g / r) 2 sinh(r t / 2)^2,

which is bit-exact at t = 0 (sinh 0 = 0, expm1 0 = 0) and, unlike v0 cosh + (h0/r) sinh,
keeps the decaying mode accurate for large t: in double precision cosh(rt) and sinh(rt)
agree to the last bit once e^{-2rt} < 1e-16, so the plain cosh/sinh form returns v = 0 on
the special initialisation g = 0 (v0 = -h0/sqrt(n)), where the true v0 e^{-rt} is nonzero.

References:
    "Linear Loss Classification: Efficient Training Through Neural Collapse", Appendix C.1,
    eqs (9)-(13). Mixon, Parshall & Pi (2022), "Neural collapse with unconstrained features".
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.integrate import solve_ivp


class UFMInputError(ValueError):
    """An argument to a UFM simulator is malformed; the message names it and its value."""


@dataclass(frozen=True)
class UFMState:
    """A point of the UFM parameter space."""

    H: np.ndarray  # (n, d) features, one row per sample
    v: np.ndarray  # (d,) linear classifier
    b: float  # bias


def _as_float_array(name: str, x) -> np.ndarray:
    try:
        return np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise UFMInputError(f"{name} must be a real array; got {x!r}") from err


def validate_problem(H0, v0, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check shapes, finiteness and labels; return float64 copies (H0, v0, y)."""
    H0, v0, y = (_as_float_array(name, x) for name, x in (("H0", H0), ("v0", v0), ("y", y)))
    if H0.ndim != 2 or H0.shape[0] < 1 or H0.shape[1] < 1:
        raise UFMInputError(f"H0 must be a non-empty 2-D array (n, d); got shape {H0.shape}")
    n, d = H0.shape
    if v0.shape != (d,):
        raise UFMInputError(f"v0 must have shape ({d},) to match H0; got shape {v0.shape}")
    if y.shape != (n,):
        raise UFMInputError(f"y must have shape ({n},) to match H0; got shape {y.shape}")
    if not np.all(np.isfinite(H0)):
        raise UFMInputError(f"H0 must be finite; got {H0!r}")
    if not np.all(np.isfinite(v0)):
        raise UFMInputError(f"v0 must be finite; got {v0!r}")
    if not np.all((y == 1.0) | (y == -1.0)):
        raise UFMInputError(f"y must have entries in {{-1, +1}}; got {y!r}")
    return H0, v0, y


def validate_real(name: str, value, *, positive: bool = False, nonnegative: bool = False) -> float:
    """Return value as a float, or raise UFMInputError naming ``name`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise UFMInputError(f"{name} must be a finite real number; got {value!r}")
    if positive and not value > 0:
        raise UFMInputError(f"{name} must be > 0; got {value!r}")
    if nonnegative and not value >= 0:
        raise UFMInputError(f"{name} must be >= 0; got {value!r}")
    return float(value)


def validate_steps(steps) -> int:
    """Return steps as an int >= 0, or raise UFMInputError naming ``steps``."""
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 0:
        raise UFMInputError(f"steps must be an integer >= 0; got {steps!r}")
    return int(steps)


def ufm_loss(H, v, y, b: float = 0.0) -> float:
    """Objective (9): -sum_i y_i (v^T h_i + b)."""
    H, v, y = validate_problem(H, v, y)
    b = validate_real("b", b)
    return float(-(y @ (H @ v + b)))


def ufm_flow_closed_form(H0, v0, y, t: float, *, b0: float = 0.0) -> UFMState:
    """Exact gradient-flow state at time t (derivation in the module docstring)."""
    H0, v0, y = validate_problem(H0, v0, y)
    t = validate_real("t", t, nonnegative=True)
    b0 = validate_real("b0", b0)
    n = H0.shape[0]
    r = np.sqrt(n)
    h0 = y @ H0  # (d,)  sum_i y_i h_i(0)
    g = v0 + h0 / r  # (d,)  growing mode: v(t) ~ (g / 2) e^{r t}
    v = v0 * np.exp(-r * t) + g * np.sinh(r * t)  # (d,)
    integral_v = v0 * (-np.expm1(-r * t) / r) + (g / r) * (2.0 * np.sinh(r * t / 2.0) ** 2)  # (d,)
    H = H0 + np.outer(y, integral_v)  # (n, d)
    b = b0 + float(np.sum(y)) * t
    return UFMState(H=H, v=v, b=b)


def ufm_flow_numerical(
    H0, v0, y, t: float, *, b0: float = 0.0, rtol: float = 1e-12, atol: float = 1e-12
) -> UFMState:
    """Integrate the flow (10)-(11) plus the bias with scipy's DOP853 (no closed form used)."""
    H0, v0, y = validate_problem(H0, v0, y)
    t = validate_real("t", t, nonnegative=True)
    b0 = validate_real("b0", b0)
    rtol = validate_real("rtol", rtol, positive=True)
    atol = validate_real("atol", atol, positive=True)
    n, d = H0.shape
    if t == 0.0:
        return UFMState(H=H0, v=v0, b=b0)

    def rhs(_t: float, z: np.ndarray) -> np.ndarray:
        H = z[: n * d].reshape(n, d)  # (n, d)
        v = z[n * d : n * d + d]  # (d,)
        dH = np.outer(y, v)  # (n, d)  dh_i/dt = y_i v
        dv = y @ H  # (d,)  dv/dt = sum_i y_i h_i
        return np.concatenate([dH.ravel(), dv, [np.sum(y)]])

    z0 = np.concatenate([H0.ravel(), v0, [b0]])  # (n d + d + 1,)
    sol = solve_ivp(rhs, (0.0, t), z0, method="DOP853", rtol=rtol, atol=atol, t_eval=[t])
    if not sol.success:
        raise RuntimeError(f"DOP853 failed on the UFM flow: {sol.message}")
    z = sol.y[:, -1]
    return UFMState(H=z[: n * d].reshape(n, d), v=z[n * d : n * d + d], b=float(z[-1]))


def ufm_gradient_descent(H0, v0, y, *, eta: float, steps: int, b0: float = 0.0) -> UFMState:
    """Gradient descent on (9) with step eta; H, v and b are updated simultaneously.

    One step: v <- v + eta sum_i y_i h_i, h_i <- h_i + eta y_i v, b <- b + eta (n_+ - n_-),
    all right-hand sides evaluated at the old iterate (explicit Euler for the flow).
    """
    H, v, y = validate_problem(H0, v0, y)
    eta = validate_real("eta", eta, positive=True)
    steps = validate_steps(steps)
    b = validate_real("b0", b0)
    for _ in range(steps):
        H, v, b = H + eta * np.outer(y, v), v + eta * (y @ H), b + eta * float(np.sum(y))
    return UFMState(H=H, v=v, b=b)
