"""Geometry of a labelled data set and of one neuron against it (Section 5.2, Appendix D).

Notation follows the paper. Data are rows x_i of X (n, d) with labels y_i in {-1, +1};
a neuron is an input weight w (d,).

- Assumption 1's margin: mu(X, y) = min_{i, j} cos(y_i x_i, y_j x_j); the data are
  orthogonally separable with margin mu exactly when this minimum is >= mu > 0.
- Class sums, eq (22): x_+ = sum_{y_i = +1} x_i and x_- = sum_{y_i = -1} x_i. Both are
  *plain* sums of the data points, not of y_i x_i, so for separable data x_- points
  away from the cone that holds the y_i x_i.
- x_min = min_i ||x_i||, eq (22).
- Active set of a neuron, Appendix D.1: I_a(w) = {i : <w, x_i> > 0}, its size n_a(w)
  (Lemma 6) and x_a(w) = sum_{i in I_a(w)} y_i x_i.

Convention at the ReLU kink: sigma'(0) = 0. A point exactly on a neuron's boundary
(<w, x_i> == 0) is *inactive*: it contributes nothing to x_a(w) and is not counted
by n_a(w). The paper writes the sums of eq (19) over <w_j, x_i> > 0, which is this
convention; in an event-driven gradient flow it decides what happens at a crossing.

Every function validates its arguments and raises DataGeometryError naming the
argument and its offending value or shape.

References:
    "Linear Loss Classification: Efficient Training Through Neural Collapse",
    Section 5.2 (Assumption 1), Appendix D.1 (eq (19), x_a), Appendix D.2 (eqs (20)-(22),
    Lemma 6). Min, Mallada & Vidal (2024), "Early neuron alignment in two-layer ReLU
    networks with small initialization".
"""

from __future__ import annotations

import numpy as np


class DataGeometryError(ValueError):
    """An argument is malformed (shape, dtype, non-finite, zero row, bad label); the
    message names the argument and its value."""


# ---------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------


def _as_float_array(value, name: str) -> np.ndarray:
    """Real numeric array as float64; rejects bool/complex/object and non-finite values."""
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise DataGeometryError(
            f"{name} must be a real numeric array; got dtype {array.dtype} ({value!r})"
        )
    array = array.astype(np.float64, copy=False)
    if not np.all(np.isfinite(array)):
        raise DataGeometryError(f"{name} must be finite; got {array!r}")
    return array


def check_data_matrix(X, name: str = "X") -> np.ndarray:
    """Return X as a float64 array of shape (n, d) with n >= 1 and d >= 1, or raise."""
    array = _as_float_array(X, name)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise DataGeometryError(
            f"{name} must have shape (n, d) with n >= 1 and d >= 1; got shape {array.shape}"
        )
    return array


def check_labels(y, n: int, name: str = "y") -> np.ndarray:
    """Return y as a float64 array of shape (n,) with entries in {-1, +1}, or raise."""
    array = _as_float_array(y, name)
    if array.shape != (n,):
        raise DataGeometryError(f"{name} must have shape ({n},); got shape {array.shape}")
    bad = ~((array == 1.0) | (array == -1.0))
    if np.any(bad):
        raise DataGeometryError(
            f"{name} must hold only -1.0 and +1.0; got {float(array[bad][0])!r} at index "
            f"{int(np.flatnonzero(bad)[0])}"
        )
    return array


def check_vector(v, d: int | None = None, name: str = "w") -> np.ndarray:
    """Return v as a float64 array of shape (d,) (any length >= 1 if d is None), or raise."""
    array = _as_float_array(v, name)
    if array.ndim != 1 or array.shape[0] < 1 or (d is not None and array.shape[0] != d):
        wanted = "(d,) with d >= 1" if d is None else f"({d},)"
        raise DataGeometryError(f"{name} must have shape {wanted}; got shape {array.shape}")
    return array


def check_nonzero_rows(X: np.ndarray, name: str = "X") -> np.ndarray:
    """Return the row norms of X (n,), raising if any row is exactly zero."""
    norms = np.linalg.norm(X, axis=1)  # (n,)
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise DataGeometryError(
            f"{name} has a zero row at index {int(zero[0])}; its direction (and any cosine "
            "with it) is undefined"
        )
    return norms


# ---------------------------------------------------------------------------------------
# Data geometry
# ---------------------------------------------------------------------------------------


def cosine(a, b) -> float:
    """cos(a, b) = <a, b> / (||a|| ||b||), clipped to [-1, 1] against rounding.

    Raises DataGeometryError if either vector is zero (the cosine is undefined) or the
    shapes differ.
    """
    a = check_vector(a, name="a")
    b = check_vector(b, d=a.shape[0], name="b")
    norm_a = float(np.linalg.norm(a))
    norm_b = float(np.linalg.norm(b))
    if norm_a == 0.0:
        raise DataGeometryError(f"a is the zero vector ({a!r}); its cosine is undefined")
    if norm_b == 0.0:
        raise DataGeometryError(f"b is the zero vector ({b!r}); its cosine is undefined")
    # Normalise first: the product ||a|| ||b|| could overflow for huge vectors.
    value = float(np.dot(a / norm_a, b / norm_b))
    return float(np.clip(value, -1.0, 1.0))


def margin_mu(X, y) -> float:
    """Assumption 1's margin: min over all pairs (i, j) of cos(y_i x_i, y_j x_j).

    The pair i == j contributes cos = 1, so the result lies in [-1, 1] and a single
    point (n == 1) has margin 1.0. The data are orthogonally separable with margin mu
    (Assumption 1) iff margin_mu(X, y) >= mu > 0. Cosines are clipped to [-1, 1].

    Raises DataGeometryError on bad shapes, bad labels or a zero row of X.
    """
    X = check_data_matrix(X)
    y = check_labels(y, X.shape[0])
    norms = check_nonzero_rows(X)  # (n,)
    n = X.shape[0]
    if n == 1:
        return 1.0
    Z = (y / norms)[:, None] * X  # (n, d) unit vectors y_i x_i / ||x_i||
    gram = Z @ Z.T  # (n, n) pairwise cosines
    off_diagonal = gram[~np.eye(n, dtype=bool)]
    return float(np.clip(min(1.0, off_diagonal.min()), -1.0, 1.0))


def class_sums(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Eq (22): (x_+, x_-) with x_+ = sum_{y_i=+1} x_i and x_- = sum_{y_i=-1} x_i.

    x_- is the plain sum of the negative class's points (not of y_i x_i). An empty class
    gives the zero vector. Both results have shape (d,).
    """
    X = check_data_matrix(X)
    y = check_labels(y, X.shape[0])
    x_plus = X[y == 1.0].sum(axis=0)  # (d,)
    x_minus = X[y == -1.0].sum(axis=0)  # (d,)
    return x_plus, x_minus


def x_min(X) -> float:
    """Eq (22): min_i ||x_i|| (0.0 if some row is zero)."""
    X = check_data_matrix(X)
    return float(np.linalg.norm(X, axis=1).min())


def active_set(w, X) -> np.ndarray:
    """Boolean mask (n,) of the points a neuron w activates: <w, x_i> > 0, strictly.

    Convention sigma'(0) = 0: a point with <w, x_i> == 0 is inactive.
    """
    X = check_data_matrix(X)
    w = check_vector(w, d=X.shape[1], name="w")
    return (X @ w) > 0.0


def n_active(w, X) -> int:
    """n_a(w) of Lemma 6: the number of points with <w, x_i> > 0 (boundary inactive)."""
    return int(np.count_nonzero(active_set(w, X)))


def x_active(w, X, y) -> np.ndarray:
    """x_a(w) of Appendix D.1: sum over i with <w, x_i> > 0 of y_i x_i, shape (d,).

    Points on the boundary (<w, x_i> == 0) are inactive (sigma'(0) = 0); with no active
    point the result is the zero vector.
    """
    X = check_data_matrix(X)
    y = check_labels(y, X.shape[0])
    mask = active_set(w, X)  # (n,)
    return (y * mask) @ X  # (d,)
