"""A linear classifier f(x) = <w, x> trained with the linear loss (Section 3).

L(w) = sum_i -y_i <w, x_i> = -<w, s> with s = sum_i y_i x_i = n_+ mu_+ - n_- mu_-.
Gradient flow dw/dt = s has the closed form w(t) = w0 + t s.

References:
    Section 3 ("arg min_w L(w) = arg max_w w^T (mu_+ - mu_-)", NC3, Fisher's discriminant);
    Fisher (1936).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


class LinearModelError(ValueError):
    """Bad arguments to the linear-model helpers."""


def _xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise LinearModelError(f"X must be (n, d) and y (n,); got X {X.shape}, y {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))) or np.unique(y).size != 2:
        raise LinearModelError(f"y must hold both labels -1 and +1 and nothing else; got {np.unique(y)}")
    return X, y


def linear_loss_risk(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """L(w) = sum_i -y_i <w, x_i> (eq. (1) for f(x) = <w, x>)."""
    X, y = _xy(X, y)
    return float(-np.sum(y * (X @ w)))


def signed_sum(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """s = sum_i y_i x_i, the (constant) negative gradient of L; shape (d,)."""
    X, y = _xy(X, y)
    return y @ X


def class_means(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mu_+, mu_-), the class means; each (d,)."""
    X, y = _xy(X, y)
    return X[y > 0].mean(axis=0), X[y < 0].mean(axis=0)


def gradient_flow(X: np.ndarray, y: np.ndarray, w0: np.ndarray, t: float) -> np.ndarray:
    """w(t) = w0 + t s, the exact gradient flow of L; shape (d,)."""
    return np.asarray(w0, dtype=np.float64) + t * signed_sum(X, y)


def sphere_minimiser(X: np.ndarray, y: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """argmin of L over the unit sphere, by scipy SLSQP (independent of the closed form)."""
    X, y = _xy(X, y)
    rng = np.random.default_rng(seed)
    start = rng.normal(size=X.shape[1])
    result = minimize(
        lambda w: linear_loss_risk(w, X, y), start / np.linalg.norm(start), method="SLSQP",
        constraints=[{"type": "eq", "fun": lambda w: w @ w - 1.0}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return result.x / np.linalg.norm(result.x)


def within_class_covariance(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sigma_W = (1/n) sum_c sum_{i in c} (x_i - mu_c)(x_i - mu_c)^T; shape (d, d)."""
    X, y = _xy(X, y)
    mu_p, mu_m = class_means(X, y)
    centred = X - np.where(y[:, None] > 0, mu_p, mu_m)
    return centred.T @ centred / X.shape[0]


def fisher_direction(X: np.ndarray, y: np.ndarray, *, ridge: float = 0.0) -> np.ndarray:
    """Unit vector along (Sigma_W + ridge I)^{-1} (mu_+ - mu_-) (Fisher's discriminant)."""
    if ridge < 0 or not np.isfinite(ridge):
        raise LinearModelError(f"ridge must be finite and >= 0; got {ridge!r}")
    X, y = _xy(X, y)
    mu_p, mu_m = class_means(X, y)
    sigma = within_class_covariance(X, y) + ridge * np.eye(X.shape[1])
    direction = np.linalg.solve(sigma, mu_p - mu_m)
    return direction / np.linalg.norm(direction)


def shrink_within_class(X: np.ndarray, y: np.ndarray, factor: float) -> np.ndarray:
    """Move every point towards its class mean: x_i -> mu_c + factor (x_i - mu_c) (NC1 as factor -> 0)."""
    X, y = _xy(X, y)
    mu_p, mu_m = class_means(X, y)
    means = np.where(y[:, None] > 0, mu_p, mu_m)
    return means + factor * (X - means)
