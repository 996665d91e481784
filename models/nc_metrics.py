"""Neural-collapse metrics of last-layer features (Section 2, Appendix B.3, Papyan et al.).

Conventions (Section 2 of the paper), for features H (n, d) and integer labels (n,):
    classes    the sorted unique labels (any integers: +-1, 0/1, {3, 7, 42}); class c is
               the c-th of them, never the label value used as an index.
    mu_c       mean feature of class c.
    mu_G       (1/C) sum_c mu_c, the mean of the class means (the paper's definition);
               ``global_mean="samples"`` uses the mean of all samples (Papyan et al.'s
               convention). They differ when class sizes differ.
    Sigma_W    (1/n) sum_c sum_{i in c} (h_i - mu_c)(h_i - mu_c)^T. The paper writes
               1/(CN) with N samples per class, which is 1/n; we keep 1/n for unequal classes.
    Sigma_B    (1/C) sum_c (mu_c - mu_G)(mu_c - mu_G)^T. Either global mean is a weighted
               average of the mu_c, so the centred means are linearly dependent and
               Sigma_B has rank <= C - 1.
Binary metrics (Appendix B.3) take the larger label as the positive class: +1 of +-1,
1 of 0/1, 8 of 0/8. Classifier rows W (C, d) and biases b (C,) follow the sorted classes.
Inputs are validated first, then cast to float64; everything is computed in float64.

References:
    Paper: Section 2 (definitions, NC1-NC3) and Appendix B.3 (binary metrics).
    Papyan, Han & Donoho (2020), "Prevalence of neural collapse during the terminal phase
    of deep learning training", PNAS 117(40) (NC1 = tr(Sigma_W Sigma_B^+)/C, NC2-NC4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Relative cutoff on the singular values of the centred class-mean matrix M (feature units;
# it is DEFAULT_RTOL**2 on the eigenvalues of Sigma_B = M M^T / C). Float32 features carry
# relative rounding ~6e-8, so a between-class direction weaker than 1e-6 of the strongest
# cannot be told apart from rounding and is dropped. numpy's pinv default (1e-15) keeps such
# directions and inverts rounding noise.
DEFAULT_RTOL = 1e-6


class MetricInputError(ValueError):
    """Malformed features, labels, classifier or option; the message names the argument."""


@dataclass(frozen=True)
class ClassStatistics:
    """Per-class summary of features H (n, d); rows follow the sorted classes."""

    classes: np.ndarray  # (C,) sorted unique labels
    counts: np.ndarray  # (C,) samples per class
    means: np.ndarray  # (C, d) class means mu_c
    global_mean: np.ndarray  # (d,) mu_G
    sigma_w: np.ndarray  # (d, d) within-class covariance
    sigma_b: np.ndarray  # (d, d) between-class covariance


def _real_array(value, name: str) -> np.ndarray:
    """Finite real numeric array as float64 (bool, complex, object and strings rejected)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested sequences
        raise MetricInputError(f"{name} must be a numeric array; got {value!r} ({error})") from None
    if array.dtype.kind not in "iuf":
        raise MetricInputError(f"{name} must be a real numeric array; got dtype {array.dtype}")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise MetricInputError(f"{name} must be finite; got {array[where]!r} at index {where}")
    return array.astype(np.float64)


def _features(H) -> np.ndarray:
    H = _real_array(H, "H")
    if H.ndim != 2 or H.shape[0] == 0 or H.shape[1] == 0:
        raise MetricInputError(f"H must be a non-empty 2-D array (n, d); got shape {H.shape}")
    return H  # (n, d)


def _labels(labels, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(classes (C,), class index of each sample (n,), counts (C,)), with C >= 2."""
    values = _real_array(labels, "labels")
    if values.shape != (n,):
        raise MetricInputError(f"labels must have shape ({n},) to match H; got shape {values.shape}")
    fractional = values != np.round(values)
    if np.any(fractional):
        raise MetricInputError(f"labels must be integer-valued; got {values[fractional][0]!r}")
    if np.asarray(labels).dtype.kind in "iu":  # keep integer labels exact (no float64 merging)
        values = np.asarray(labels)
    classes, index, counts = np.unique(values, return_inverse=True, return_counts=True)
    if classes.size < 2:
        raise MetricInputError(f"labels must hold at least 2 classes; got {classes.tolist()}")
    return classes, index, counts


def _check_rtol(rtol) -> None:
    number = isinstance(rtol, (int, float, np.integer, np.floating)) and not isinstance(rtol, bool)
    if not (number and 0 <= rtol < 1):
        raise MetricInputError(f"rtol must be a real number in [0, 1); got {rtol!r}")


def class_statistics(H, labels, *, global_mean: str = "class_means") -> ClassStatistics:
    """Class means, mu_G, Sigma_W and Sigma_B of features H (n, d) (Section 2)."""
    if global_mean not in ("class_means", "samples"):
        raise MetricInputError(f"global_mean must be 'class_means' or 'samples'; got {global_mean!r}")
    H = _features(H)
    classes, index, counts = _labels(labels, H.shape[0])
    means = np.stack([H[index == c].mean(axis=0) for c in range(classes.size)])  # (C, d)
    mu_g = means.mean(axis=0) if global_mean == "class_means" else H.mean(axis=0)  # (d,)
    within = H - means[index]  # (n, d)
    between = means - mu_g  # (C, d)
    return ClassStatistics(classes, counts, means, mu_g,
                           sigma_w=within.T @ within / H.shape[0],
                           sigma_b=between.T @ between / classes.size)


def between_class_pinv(stats: ClassStatistics, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Sigma_B^+ (d, d) from the SVD of the centred class means M (d, C), Sigma_B = M M^T / C.

    Keeps the singular values s > rtol * max(s), and at most C - 1 of them (the rank of
    Sigma_B); returns the zero matrix when all class means coincide.
    """
    _check_rtol(rtol)
    C = stats.classes.size
    M = (stats.means - stats.global_mean).T  # (d, C)
    U, s, _ = np.linalg.svd(M, full_matrices=False)  # U (d, k), s (k,) descending
    if s[0] == 0:
        return np.zeros_like(stats.sigma_b)
    keep = (s > rtol * s[0]) & (np.arange(s.size) < C - 1)
    # Sigma_B = U diag(s^2 / C) U^T, so Sigma_B^+ = U_k diag(C / s_k^2) U_k^T.
    return (U[:, keep] * (C / s[keep] ** 2)) @ U[:, keep].T


def _within_over_between(stats: ClassStatistics, rtol: float) -> float:
    return float(np.trace(stats.sigma_w @ between_class_pinv(stats, rtol=rtol)))


def nc1_paper(H, labels, *, rtol: float = DEFAULT_RTOL, global_mean: str = "class_means") -> float:
    """tr(Sigma_W Sigma_B^+), the NC1 metric of Appendix B.3 (no 1/C)."""
    return _within_over_between(class_statistics(H, labels, global_mean=global_mean), rtol)


def nc1(H, labels, *, rtol: float = DEFAULT_RTOL, global_mean: str = "class_means") -> float:
    """tr(Sigma_W Sigma_B^+) / C, Papyan et al.'s NC1."""
    stats = class_statistics(H, labels, global_mean=global_mean)
    return _within_over_between(stats, rtol) / stats.classes.size


def trace_ratio(H, labels, *, global_mean: str = "class_means") -> float:
    """tr(Sigma_W) / tr(Sigma_B); 0 exactly when Sigma_W = 0.

    When tr(Sigma_B) == 0 (all class means equal) it returns inf if tr(Sigma_W) > 0 and
    0.0 if both vanish (every feature equal: collapsed, with nothing to separate).
    """
    stats = class_statistics(H, labels, global_mean=global_mean)
    within, between = float(np.trace(stats.sigma_w)), float(np.trace(stats.sigma_b))
    if between == 0:
        return np.inf if within > 0 else 0.0
    return within / between


def _unit_rows(A: np.ndarray, name: str, what: str) -> np.ndarray:
    norms = np.linalg.norm(A, axis=1, keepdims=True)  # (rows, 1)
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise MetricInputError(f"{name}: {what} row {int(zero[0])} is zero; its direction is undefined")
    return A / norms


def _centred_means(H, labels, global_mean: str) -> np.ndarray:
    stats = class_statistics(H, labels, global_mean=global_mean)
    return stats.means - stats.global_mean  # (C, d), rows mu_c - mu_G


def nc2_equinorm(H, labels, *, global_mean: str = "class_means") -> float:
    """std / mean over classes of ||mu_c - mu_G|| (population std; 0 for equal norms)."""
    norms = np.linalg.norm(_centred_means(H, labels, global_mean), axis=1)  # (C,)
    if norms.mean() == 0:
        raise MetricInputError("H: all class means coincide, so every ||mu_c - mu_G|| is 0")
    return float(norms.std() / norms.mean())


def nc2_equiangle(H, labels, *, global_mean: str = "class_means") -> float:
    """Mean over pairs c != c' of |cos(mu_c - mu_G, mu_c' - mu_G) + 1/(C-1)| (0 for a simplex ETF)."""
    U = _unit_rows(_centred_means(H, labels, global_mean), "H", "centred class mean")  # (C, d)
    C = U.shape[0]
    cos = U @ U.T  # (C, C)
    return float(np.mean(np.abs(cos[~np.eye(C, dtype=bool)] + 1.0 / (C - 1))))


def nc2_etf_distance(H, labels, *, global_mean: str = "class_means") -> float:
    """|| M^T M/||M^T M||_F - P/||P||_F ||_F, P = I_C - 11^T/C, M (d, C) the centred means."""
    M = _centred_means(H, labels, global_mean).T  # (d, C)
    C = M.shape[1]
    gram = M.T @ M  # (C, C)
    if not np.any(gram):
        raise MetricInputError("H: all class means coincide, so the Gram matrix M^T M is 0")
    etf = np.eye(C) - np.ones((C, C)) / C
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - etf / np.linalg.norm(etf)))


def _shaped(value, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = _real_array(value, name)
    if array.shape != shape:
        raise MetricInputError(f"{name} must have shape {shape}; got shape {array.shape}")
    return array


def nc3(W, H, labels, *, global_mean: str = "class_means") -> float:
    """|| W/||W||_F - M^T/||M||_F ||_F^2, W (C, d) one row per class (Papyan et al.'s NC3)."""
    Mt = _centred_means(H, labels, global_mean)  # (C, d)
    W = _shaped(W, Mt.shape, "W")
    if not np.any(W):
        raise MetricInputError("W is zero; ||W||_F = 0")
    if not np.any(Mt):
        raise MetricInputError("H: all class means coincide, so ||M||_F = 0")
    return float(np.linalg.norm(W / np.linalg.norm(W) - Mt / np.linalg.norm(Mt)) ** 2)


def nc3_per_class(W, H, labels, *, global_mean: str = "class_means") -> np.ndarray:
    """(C,) array of || w_c/||w_c|| - (mu_c - mu_G)/||mu_c - mu_G|| || (Section 2's NC3)."""
    Mt = _centred_means(H, labels, global_mean)  # (C, d)
    W = _shaped(W, Mt.shape, "W")
    return np.linalg.norm(_unit_rows(W, "W", "classifier")
                          - _unit_rows(Mt, "H", "centred class mean"), axis=1)


def nc4(W, b, H, labels) -> float:
    """Fraction of samples where argmax_c <w_c, h> + b_c differs from the nearest class mean.

    Papyan et al.'s NC4; W (C, d), b (C,). Ties go to the first (smallest-label) class on
    both sides, as np.argmax / np.argmin do.
    """
    stats = class_statistics(H, labels)
    H = _features(H)  # (n, d)
    W = _shaped(W, stats.means.shape, "W")
    b = _shaped(b, (stats.classes.size,), "b")
    classifier = np.argmax(H @ W.T + b, axis=1)  # (n,)
    distances = np.linalg.norm(H[:, None, :] - stats.means[None, :, :], axis=2)  # (n, C)
    return float(np.mean(classifier != np.argmin(distances, axis=1)))


def _binary(H, labels) -> ClassStatistics:
    stats = class_statistics(H, labels)
    if stats.classes.size != 2:
        raise MetricInputError(f"labels must hold exactly 2 classes; got {stats.classes.tolist()}")
    return stats  # means[0] = mu_-, means[1] = mu_+


def binary_nc1(H, labels, *, rtol: float = DEFAULT_RTOL) -> float:
    """tr(Sigma_W Sigma_B^+) for two classes, Appendix B.3's NC1 metric.

    With Delta = mu_+ - mu_-, Sigma_B = Delta Delta^T / 4, so this equals
    4 Delta^T Sigma_W Delta / ||Delta||^4: only within-class spread along Delta counts.
    """
    return _within_over_between(_binary(H, labels), rtol)


def binary_nc2(H, labels) -> float:
    """<mu_+/||mu_+||, mu_-/||mu_-||>, the uncentred cosine of the class means (Appendix B.3)."""
    unit = _unit_rows(_binary(H, labels).means, "H", "class mean (row 0 = mu_-, row 1 = mu_+)")
    return float(unit[1] @ unit[0])


def binary_nc3(v, H, labels) -> float:
    """|| v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| ||, Appendix B.3's NC3 metric; v (d,)."""
    stats = _binary(H, labels)
    v = _shaped(v, stats.global_mean.shape, "v")  # (d,)
    delta = stats.means[1] - stats.means[0]  # (d,)
    if not np.any(v):
        raise MetricInputError("v is zero; its direction is undefined")
    if not np.any(delta):
        raise MetricInputError("H: mu_+ - mu_- is zero (class means coincide); its direction is undefined")
    return float(np.linalg.norm(v / np.linalg.norm(v) - delta / np.linalg.norm(delta)))


def binary_metrics(v, H, labels) -> dict[str, float]:
    """{"nc1", "nc2", "nc3", "trace_ratio"}: the Appendix B.3 metrics plus tr(Sigma_W)/tr(Sigma_B)."""
    return {"nc1": binary_nc1(H, labels), "nc2": binary_nc2(H, labels),
            "nc3": binary_nc3(v, H, labels), "trace_ratio": trace_ratio(H, labels)}
