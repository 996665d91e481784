"""Neural-collapse metrics of last-layer features (Section 2, Appendix B.3, Papyan et al.).

Conventions (Section 2 of the paper):
    classes    the sorted unique labels (any integers: +-1, 0..K-1, {3, 7, 42});
               class c is the c-th of them, never the label value used as an index.
    mu_c       mean feature of class c.
    mu_G       the mean of the class means, (1/C) sum_c mu_c (the paper's definition);
               ``global_mean="samples"`` uses the mean of all samples instead
               (Papyan et al.'s; the two differ when class sizes differ).
    Sigma_W    (1/n) sum_c sum_{i in c} (h_i - mu_c)(h_i - mu_c)^T  (the paper's 1/(CN)
               with N samples per class; 1/n for unequal classes).
    Sigma_B    (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)^T.
Binary metrics treat the larger label as the positive class (+1 of +-1, 1 of 0/1, 8 of 0/8).

Pseudo-inverse cutoff. Sigma_B has rank <= C - 1. Its pseudo-inverse is built from the
SVD of the centred class-mean matrix M (d, C) (Sigma_B = M M^T / C), keeping at most
C - 1 singular values and only those above ``rtol * s_max``. numpy's ``pinv`` on a
Sigma_B formed in float32 inverts rounding noise (its default cutoff is 1e-15 relative)
and returns traces that are off by orders of magnitude.

References:
    Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase
    of deep learning training", PNAS 117(40). Paper: Section 2 and Appendix B.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Float32 features carry relative rounding ~6e-8; a between-class direction weaker than
# 1e-6 of the strongest cannot be told apart from that rounding, so it is treated as zero.
DEFAULT_RTOL = 1e-6


class MetricInputError(ValueError):
    """Malformed features, labels or classifier; the message names the argument."""


@dataclass(frozen=True)
class ClassStatistics:
    """Per-class summary of features H (n, d)."""

    classes: np.ndarray  # (C,) sorted unique labels
    counts: np.ndarray  # (C,) samples per class
    means: np.ndarray  # (C, d) class means, rows in the order of ``classes``
    global_mean: np.ndarray  # (d,)
    sigma_w: np.ndarray  # (d, d) within-class covariance
    sigma_b: np.ndarray  # (d, d) between-class covariance


def _features(H) -> np.ndarray:
    H = np.asarray(H)
    if H.dtype.kind not in "iuf":
        raise MetricInputError(f"H must be a real numeric array; got dtype {H.dtype}")
    if H.ndim != 2 or H.shape[0] == 0 or H.shape[1] == 0:
        raise MetricInputError(f"H must be a non-empty 2-D array (n, d); got shape {H.shape}")
    H = H.astype(np.float64)
    if not np.all(np.isfinite(H)):
        raise MetricInputError("H contains NaN or inf")
    return H


def _labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iuf" or labels.ndim != 1 or labels.shape[0] != n:
        raise MetricInputError(f"labels must be a 1-D numeric array of length {n}; got shape "
                               f"{labels.shape}, dtype {labels.dtype}")
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
        raise MetricInputError("labels must be integer-valued")
    if np.unique(labels).size < 2:
        raise MetricInputError(f"labels must hold at least 2 classes; got {np.unique(labels).tolist()}")
    return labels


def class_statistics(H, labels, *, global_mean: str = "class_means") -> ClassStatistics:
    """Class means, global mean, Sigma_W and Sigma_B of features H (n, d)."""
    H = _features(H)
    labels = _labels(labels, H.shape[0])
    if global_mean not in ("class_means", "samples"):
        raise MetricInputError(f"global_mean must be 'class_means' or 'samples'; got {global_mean!r}")
    classes, index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    means = np.stack([H[index == c].mean(axis=0) for c in range(classes.size)])  # (C, d)
    mu_g = means.mean(axis=0) if global_mean == "class_means" else H.mean(axis=0)
    centred = H - means[index]  # (n, d)
    sigma_w = centred.T @ centred / H.shape[0]
    between = means - mu_g  # (C, d)
    sigma_b = between.T @ between / classes.size
    return ClassStatistics(classes, counts, means, mu_g, sigma_w, sigma_b)


def between_class_pinv(stats: ClassStatistics, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Sigma_B^+ from the SVD of the centred class means (cutoff in the module docstring)."""
    C = stats.classes.size
    M = (stats.means - stats.global_mean).T  # (d, C)
    U, s, _ = np.linalg.svd(M, full_matrices=False)
    if s.size == 0 or s[0] == 0:
        return np.zeros_like(stats.sigma_b)
    keep = (s > rtol * s[0]) & (np.arange(s.size) < C - 1)
    # Sigma_B = U diag(s^2 / C) U^T, so its pseudo-inverse is U diag(C / s^2) U^T.
    return (U[:, keep] * (C / s[keep] ** 2)) @ U[:, keep].T


def nc1_paper(H, labels, *, rtol: float = DEFAULT_RTOL, global_mean: str = "class_means") -> float:
    """tr(Sigma_W Sigma_B^+), the NC1 metric of Appendix B.3."""
    stats = class_statistics(H, labels, global_mean=global_mean)
    return float(np.trace(stats.sigma_w @ between_class_pinv(stats, rtol=rtol)))


def nc1(H, labels, *, rtol: float = DEFAULT_RTOL, global_mean: str = "class_means") -> float:
    """tr(Sigma_W Sigma_B^+) / C, Papyan et al.'s NC1."""
    stats = class_statistics(H, labels, global_mean=global_mean)
    return float(np.trace(stats.sigma_w @ between_class_pinv(stats, rtol=rtol)) / stats.classes.size)


def trace_ratio(H, labels, *, global_mean: str = "class_means") -> float:
    """tr(Sigma_W) / tr(Sigma_B): 0 exactly when Sigma_W = 0; inf if only Sigma_B vanishes; 0 if both do."""
    stats = class_statistics(H, labels, global_mean=global_mean)
    within, between = float(np.trace(stats.sigma_w)), float(np.trace(stats.sigma_b))
    if between == 0:
        return np.inf if within > 0 else 0.0
    return within / between


def _centred_means(H, labels, global_mean: str) -> np.ndarray:
    stats = class_statistics(H, labels, global_mean=global_mean)
    return stats.means - stats.global_mean  # (C, d)


def nc2_equinorm(H, labels, *, global_mean: str = "class_means") -> float:
    """std / mean of ||mu_c - mu_G|| over classes (0 for equal norms)."""
    norms = np.linalg.norm(_centred_means(H, labels, global_mean), axis=1)
    if norms.mean() == 0:
        raise MetricInputError("all class means coincide: ||mu_c - mu_G|| = 0 for every class")
    return float(norms.std() / norms.mean())


def _unit_rows(A: np.ndarray, what: str) -> np.ndarray:
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise MetricInputError(f"{what} has a zero row; its direction is undefined")
    return A / norms


def nc2_equiangle(H, labels, *, global_mean: str = "class_means") -> float:
    """Mean over pairs c != c' of |cos(mu_c - mu_G, mu_c' - mu_G) + 1/(C - 1)| (0 for a simplex ETF)."""
    U = _unit_rows(_centred_means(H, labels, global_mean), "the centred class-mean matrix")
    C = U.shape[0]
    cos = U @ U.T
    off = ~np.eye(C, dtype=bool)
    return float(np.mean(np.abs(cos[off] + 1.0 / (C - 1))))


def nc2_etf_distance(H, labels, *, global_mean: str = "class_means") -> float:
    """|| M^T M/||M^T M||_F - (I - 11^T/C)/||I - 11^T/C||_F ||_F with M the centred means as columns."""
    M = _centred_means(H, labels, global_mean).T  # (d, C)
    C = M.shape[1]
    gram = M.T @ M
    if not np.any(gram):
        raise MetricInputError("all class means coincide: the Gram matrix of centred means is 0")
    etf = np.eye(C) - np.ones((C, C)) / C
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - etf / np.linalg.norm(etf)))


def _classifier(W, C: int, d: int) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.shape != (C, d) or not np.all(np.isfinite(W)):
        raise MetricInputError(f"W must be a finite ({C}, {d}) array (one row per class); got shape {W.shape}")
    return W


def nc3(W, H, labels, *, global_mean: str = "class_means") -> float:
    """|| W/||W||_F - M^T/||M^T||_F ||_F^2 with W (C, d) rows in sorted-class order (Papyan's NC3)."""
    Mt = _centred_means(H, labels, global_mean)  # (C, d)
    W = _classifier(W, *Mt.shape)
    if not np.any(W) or not np.any(Mt):
        raise MetricInputError("W and the centred class means must be nonzero")
    return float(np.linalg.norm(W / np.linalg.norm(W) - Mt / np.linalg.norm(Mt)) ** 2)


def nc3_per_class(W, H, labels, *, global_mean: str = "class_means") -> np.ndarray:
    """(C,) array of || w_c/||w_c|| - (mu_c - mu_G)/||mu_c - mu_G|| || (Section 2's NC3)."""
    Mt = _centred_means(H, labels, global_mean)
    W = _classifier(W, *Mt.shape)
    return np.linalg.norm(_unit_rows(W, "W") - _unit_rows(Mt, "the centred class-mean matrix"), axis=1)


def nc4(W, b, H, labels) -> float:
    """Fraction of samples where argmax_c <w_c, h> + b_c differs from the nearest class mean."""
    stats = class_statistics(H, labels)
    H = _features(H)
    W = _classifier(W, *stats.means.shape)
    b = np.asarray(b, dtype=np.float64)
    if b.shape != (stats.classes.size,):
        raise MetricInputError(f"b must have shape ({stats.classes.size},); got {b.shape}")
    classifier = np.argmax(H @ W.T + b, axis=1)
    ncc = np.argmin(np.linalg.norm(H[:, None, :] - stats.means[None], axis=2), axis=1)
    return float(np.mean(classifier != ncc))


def _binary(H, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    H = _features(H)
    labels = _labels(labels, H.shape[0])
    classes = np.unique(labels)
    if classes.size != 2:
        raise MetricInputError(f"labels must hold exactly 2 classes; got {classes.tolist()}")
    mu_pos, mu_neg = H[labels == classes[1]].mean(axis=0), H[labels == classes[0]].mean(axis=0)
    return H, mu_pos, mu_neg


def binary_nc1(H, labels, *, rtol: float = DEFAULT_RTOL) -> float:
    """tr(Sigma_W Sigma_B^+) for two classes (Appendix B.3's NC1 metric)."""
    _binary(H, labels)
    return nc1_paper(H, labels, rtol=rtol)


def binary_nc2(H, labels) -> float:
    """<mu_+/||mu_+||, mu_-/||mu_-||>, the uncentred cosine of class means (Appendix B.3)."""
    _, mu_pos, mu_neg = _binary(H, labels)
    if np.linalg.norm(mu_pos) == 0 or np.linalg.norm(mu_neg) == 0:
        raise MetricInputError("a class mean mu_+ or mu_- is zero; its direction is undefined")
    return float(mu_pos @ mu_neg / (np.linalg.norm(mu_pos) * np.linalg.norm(mu_neg)))


def binary_nc3(v, H, labels) -> float:
    """|| v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| || (Appendix B.3's NC3 metric)."""
    H, mu_pos, mu_neg = _binary(H, labels)
    v = np.asarray(v, dtype=np.float64)
    if v.shape != (H.shape[1],) or not np.all(np.isfinite(v)):
        raise MetricInputError(f"v must be a finite vector of shape ({H.shape[1]},); got {v.shape}")
    delta = mu_pos - mu_neg
    if np.linalg.norm(v) == 0:
        raise MetricInputError("v is zero; its direction is undefined")
    if np.linalg.norm(delta) == 0:
        raise MetricInputError("mu_+ - mu_- is zero; its direction is undefined")
    return float(np.linalg.norm(v / np.linalg.norm(v) - delta / np.linalg.norm(delta)))


def binary_metrics(v, H, labels) -> dict[str, float]:
    """The Appendix B.3 metrics plus tr(Sigma_W)/tr(Sigma_B) for a binary problem."""
    return {"nc1": binary_nc1(H, labels), "nc2": binary_nc2(H, labels),
            "nc3": binary_nc3(v, H, labels), "trace_ratio": trace_ratio(H, labels)}
