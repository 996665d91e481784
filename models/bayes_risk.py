"""Expected risk of a score function on a discrete distribution (Appendix A).

The distribution puts mass ``px[i]`` on the point ``x_i``, and ``p[i] = P(y = 1 | x_i)``.
A score function is its vector of values ``f[i] = f(x_i)``. The risk is computed from
the joint probabilities, as in eqs (3)-(4), not from the simplified form (6), so that
(6) can be checked against it.

References:
    Appendix A, eqs (3)-(8). Bartlett, Jordan & McAuliffe (2006), "Convexity,
    classification, and risk bounds" (classification calibration).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog


class DistributionError(ValueError):
    """A discrete distribution or score vector is malformed."""


def linear_loss(u: np.ndarray) -> np.ndarray:
    """The linear loss l(u) = -u of Section 3."""
    return -np.asarray(u, dtype=np.float64)


def _validate(px: np.ndarray, p: np.ndarray, f: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    px = np.asarray(px, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if px.ndim != 1 or px.size == 0:
        raise DistributionError(f"px must be a non-empty 1-D array; got shape {px.shape}")
    if p.shape != px.shape:
        raise DistributionError(f"p must have the shape of px {px.shape}; got {p.shape}")
    if not (np.all(np.isfinite(px)) and np.all(px >= 0) and abs(px.sum() - 1) < 1e-9):
        # 1e-9: probabilities typed or drawn as floats sum to 1 up to rounding, far above 1e-9.
        raise DistributionError(f"px must be finite, >= 0 and sum to 1; got sum {px.sum()!r}")
    if not (np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))):
        raise DistributionError(f"p must lie in [0, 1]; got min {p.min()!r}, max {p.max()!r}")
    if f is None:
        return px, p
    f = np.asarray(f, dtype=np.float64)
    if f.shape != px.shape:
        raise DistributionError(f"f must have the shape of px {px.shape}; got {f.shape}")
    return px, p, f


def expected_risk(px: np.ndarray, p: np.ndarray, f: np.ndarray) -> float:
    """R_l(f) = E[l(y f(x))] summed over the joint distribution (eqs (3)-(4)).

    Values of f may be +-inf; a term with zero probability contributes 0.
    """
    px, p, f = _validate(px, p, f)
    joint_pos = px * p  # P(x = x_i, y = +1)
    joint_neg = px * (1 - p)  # P(x = x_i, y = -1)
    with np.errstate(invalid="ignore"):
        terms = np.where(joint_pos > 0, joint_pos * linear_loss(f), 0.0)
        terms += np.where(joint_neg > 0, joint_neg * linear_loss(-f), 0.0)
    return float(terms.sum())


def risk_slope(px: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Coefficients c with R_l(f) = c @ f, read off the joint probabilities (eq (4))."""
    px, p = _validate(px, p)
    return -px * p + px * (1 - p)


def bayes_rule(p: np.ndarray) -> np.ndarray:
    """Bayes decision sgn(P(y=1|x) - P(y=-1|x)); 0 where p = 1/2 (either label is optimal)."""
    return np.sign(2 * np.asarray(p, dtype=np.float64) - 1)


def infimum_risk(px: np.ndarray, p: np.ndarray) -> float:
    """inf_f R_l(f): -inf if some atom of positive mass has p != 1/2, else 0."""
    c = risk_slope(px, p)
    return -np.inf if np.any(c != 0) else 0.0


def bounded_risk_minimiser(px: np.ndarray, p: np.ndarray, bound: float) -> np.ndarray:
    """argmin of R_l over |f(x_i)| <= bound, by linear programming (scipy HiGHS).

    On atoms with zero slope (mass 0 or p = 1/2) the LP may return any value in
    [-bound, bound]; the minimiser is unique only on the other atoms.
    """
    if not (np.isfinite(bound) and bound > 0):
        raise DistributionError(f"bound must be finite and > 0; got {bound!r}")
    c = risk_slope(px, p)
    result = linprog(c, bounds=[(-bound, bound)] * c.size, method="highs")
    if result.status != 0:
        raise RuntimeError(f"linprog failed: {result.message}")
    return np.asarray(result.x, dtype=np.float64)
