"""models.nc_metrics against hand computations on tiny explicit data.

Reference problems: the definitions of Section 2 (mu_G, Sigma_W, Sigma_B, NC1-NC3) and
Appendix B.3 (binary metrics) of "Linear Loss Classification: Efficient Training Through
Neural Collapse", and Papyan, Han & Donoho (2020) for NC1 (with 1/C), NC2's equinorm /
equiangle, NC3 and NC4. Every expected number below is derived by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from models import nc_metrics as nc

# 1e-12: every hand value is a short float64 computation on small integers, exact up to a
# few roundings of ~1e-16 each.
TOL = 1e-12

# ---------------------------------------------------------------------------------------
# Example A: three classes in 2-D, equal sizes, not a simplex ETF.
#   class 0: (3, 1), (3, -1)    mean (3, 0)   deviations (0, +-1)
#   class 1: (1, 3), (-1, 3)    mean (0, 3)   deviations (+-1, 0)
#   class 2: (1, 1), (-1, -1)   mean (0, 0)   deviations +-(1, 1)
# mu_G = (1, 1); centred means m_0 = (2, -1), m_1 = (-1, 2), m_2 = (-1, -1).
# Sigma_W = (1/6)[2 e2 e2^T + 2 e1 e1^T + 2 (1,1)(1,1)^T] = [[2/3, 1/3], [1/3, 2/3]]
# Sigma_B = (1/3)[[4,-2],[-2,1]] + [[1,-2],[-2,4]] + [[1,1],[1,1]] = [[2, -1], [-1, 2]]
# det 3, Sigma_B^+ = Sigma_B^-1 = (1/3)[[2, 1], [1, 2]]
# Sigma_W Sigma_B^+ = (1/3)[[5/3, 4/3], [4/3, 5/3]]: trace 10/9; Papyan's NC1 = 10/27.
# tr Sigma_W / tr Sigma_B = (4/3) / 4 = 1/3.
# ---------------------------------------------------------------------------------------
HA = np.array([[3.0, 1.0], [3.0, -1.0], [1.0, 3.0], [-1.0, 3.0], [1.0, 1.0], [-1.0, -1.0]])
YA = np.array([0, 0, 1, 1, 2, 2])
MA = np.array([[2.0, -1.0], [-1.0, 2.0], [-1.0, -1.0]])  # (C, d) centred means
WA = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])  # (C, d) a classifier near M^T

# ---------------------------------------------------------------------------------------
# Example B: two classes in 2-D, sizes 2 and 3.
#   class +1: (4, 2), (2, 0)            mu_+ = (3, 1)   deviations +-(1, 1)
#   class -1: (1, 2), (1, 0), (1, 1)    mu_- = (1, 1)   deviations (0, 1), (0, -1), 0
# Delta = mu_+ - mu_- = (2, 0); paper's mu_G = (2, 1); centred means (1, 0), (-1, 0).
# Sigma_W = (1/5)[2 (1,1)(1,1)^T + 2 e2 e2^T] = (1/5)[[2, 2], [2, 4]]   (1/n, n = 5)
# Sigma_B = diag(1, 0) = Delta Delta^T / 4;  Sigma_B^+ = diag(1, 0)
# tr(Sigma_W Sigma_B^+) = 2/5 = 4 Delta^T Sigma_W Delta / ||Delta||^4 = 4 (8/5) / 16.
# tr Sigma_W / tr Sigma_B = (6/5) / 1.   binary NC2: cos((3,1), (1,1)) = 4/sqrt(20) = 2/sqrt5.
# ---------------------------------------------------------------------------------------
HB = np.array([[4.0, 2.0], [2.0, 0.0], [1.0, 2.0], [1.0, 0.0], [1.0, 1.0]])
YB = np.array([1, 1, -1, -1, -1])


def test_class_statistics_by_hand():
    a = nc.class_statistics(HA, YA)
    assert a.classes.tolist() == [0, 1, 2] and a.counts.tolist() == [2, 2, 2]
    np.testing.assert_allclose(a.means, [[3, 0], [0, 3], [0, 0]], atol=TOL)
    np.testing.assert_allclose(a.global_mean, [1, 1], atol=TOL)
    np.testing.assert_allclose(a.sigma_w, [[2 / 3, 1 / 3], [1 / 3, 2 / 3]], atol=TOL)
    np.testing.assert_allclose(a.sigma_b, [[2, -1], [-1, 2]], atol=TOL)
    b = nc.class_statistics(HB, YB)
    assert b.classes.tolist() == [-1, 1] and b.counts.tolist() == [3, 2]
    np.testing.assert_allclose(b.means, [[1, 1], [3, 1]], atol=TOL)
    np.testing.assert_allclose(b.sigma_w, np.array([[2, 2], [2, 4]]) / 5, atol=TOL)
    np.testing.assert_allclose(b.sigma_b, [[1, 0], [0, 0]], atol=TOL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.classes = None


def test_global_mean_option_by_hand():
    # Example B, sample mean (2 (3,1) + 3 (1,1)) / 5 = (9/5, 1): centred means (6/5, 0) and
    # (-4/5, 0), so Sigma_B = (1/2)(36/25 + 16/25) e1 e1^T = (26/25) e1 e1^T.
    b = nc.class_statistics(HB, YB, global_mean="samples")
    np.testing.assert_allclose(b.global_mean, [9 / 5, 1], atol=TOL)
    np.testing.assert_allclose(b.sigma_b, [[26 / 25, 0], [0, 0]], atol=TOL)
    # Equal class sizes: both conventions agree (Example A).
    a = nc.class_statistics(HA, YA, global_mean="samples")
    np.testing.assert_allclose(a.sigma_b, nc.class_statistics(HA, YA).sigma_b, atol=TOL)


def test_between_class_pinv_by_hand():
    pinv = nc.between_class_pinv(nc.class_statistics(HA, YA))
    np.testing.assert_allclose(pinv, np.array([[2, 1], [1, 2]]) / 3, atol=TOL)
    pinv = nc.between_class_pinv(nc.class_statistics(HB, YB))
    np.testing.assert_allclose(pinv, [[1, 0], [0, 0]], atol=TOL)


def test_between_class_pinv_keeps_at_most_c_minus_1_directions():
    # 3 classes in 5-D: M (5, 3) has rank 2, but its third singular value comes out as
    # rounding (~1e-16 relative), not 0. With rtol=0 only the C - 1 cap drops it.
    rng = np.random.default_rng(1)
    H, y = 3 * rng.normal(size=(6, 5)), np.repeat([0, 1, 2], 2)
    stats = nc.class_statistics(H, y)
    s = np.linalg.svd((stats.means - stats.global_mean).T, compute_uv=False)
    assert 0 < s[2] < 1e-12 * s[0]  # the rounding direction exists (1e-12: far above eps)
    capped = nc.between_class_pinv(stats, rtol=0.0)
    # 1e-9 relative: the kept singular values are O(1), well conditioned in float64.
    np.testing.assert_allclose(capped, nc.between_class_pinv(stats), rtol=1e-9, atol=1e-12)
    # Without the cap the rounding eigenvalue (~1e-16) is inverted: entries ~1e16 (1e12: far
    # above the O(1) entries of the true pseudo-inverse, far below what rounding produces).
    assert np.abs(np.linalg.pinv(stats.sigma_b, rcond=0.0)).max() > 1e12


def test_nc1_and_trace_ratio_by_hand():
    assert nc.nc1_paper(HA, YA) == pytest.approx(10 / 9, abs=TOL)
    assert nc.nc1(HA, YA) == pytest.approx(10 / 27, abs=TOL)
    assert nc.trace_ratio(HA, YA) == pytest.approx(1 / 3, abs=TOL)
    assert nc.nc1_paper(HB, YB) == pytest.approx(2 / 5, abs=TOL)
    assert nc.nc1(HB, YB) == pytest.approx(1 / 5, abs=TOL)
    assert nc.binary_nc1(HB, YB) == pytest.approx(2 / 5, abs=TOL)
    assert nc.trace_ratio(HB, YB) == pytest.approx(6 / 5, abs=TOL)


def test_nc2_by_hand():
    # Example A: ||m_c|| = sqrt5, sqrt5, sqrt2. mean m = (2 sqrt5 + sqrt2)/3, mean square 4,
    # so m^2 = (22 + 4 sqrt10)/9 and the population std is sqrt(14 - 4 sqrt10)/3.
    expected = np.sqrt(14 - 4 * np.sqrt(10)) / (2 * np.sqrt(5) + np.sqrt(2))
    assert nc.nc2_equinorm(HA, YA) == pytest.approx(expected, abs=TOL)
    # cos(m_0, m_1) = -4/5, cos(m_0, m_2) = cos(m_1, m_2) = -1/sqrt10; + 1/(C-1) = + 1/2:
    # mean of 0.3, 0.5 - 1/sqrt10, 0.5 - 1/sqrt10.
    assert nc.nc2_equiangle(HA, YA) == pytest.approx((1.3 - 2 / np.sqrt(10)) / 3, abs=TOL)
    # Gram G = [[5,-4,-1],[-4,5,-1],[-1,-1,2]], ||G||_F = sqrt90; P = I - 11^T/3, ||P||_F =
    # sqrt2; <G, P> = tr G = 12 (rows of G sum to 0). Distance^2 = 1 + 1 - 2*12/(sqrt90 sqrt2).
    assert nc.nc2_etf_distance(HA, YA) == pytest.approx(np.sqrt(2 - 4 / np.sqrt(5)), abs=TOL)


def test_three_class_simplex_etf_is_collapsed():
    angles = 2 * np.pi * np.arange(3) / 3
    means = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (3, 2) equilateral, centre 0
    H = np.repeat(means, 2, axis=0) + np.array([[0.1, 0.0], [-0.1, 0.0]] * 3)
    y = np.repeat([0, 1, 2], 2)
    for metric in (nc.nc2_equinorm, nc.nc2_equiangle, nc.nc2_etf_distance):
        assert metric(H, y) == pytest.approx(0.0, abs=TOL)
    assert nc.nc3(means, H, y) == pytest.approx(0.0, abs=TOL)


def test_binary_nc2_is_automatic_with_the_papers_global_mean():
    stats = nc.class_statistics(HB, YB)
    centred = stats.means - stats.global_mean  # (2, d): mu_- - mu_G, mu_+ - mu_G
    np.testing.assert_allclose(centred[1], -centred[0], atol=TOL)
    assert nc.nc2_equinorm(HB, YB) == pytest.approx(0.0, abs=TOL)
    assert nc.nc2_equiangle(HB, YB) == pytest.approx(0.0, abs=TOL)  # cos = -1, + 1/(2-1)
    assert nc.nc2_etf_distance(HB, YB) == pytest.approx(0.0, abs=TOL)
    # Sample mean, unequal sizes: norms 6/5 and 4/5, mean 1, std 1/5 -> equinorm 1/5;
    # the centred means still point opposite, so equiangle stays 0.
    assert nc.nc2_equinorm(HB, YB, global_mean="samples") == pytest.approx(0.2, abs=TOL)
    assert nc.nc2_equiangle(HB, YB, global_mean="samples") == pytest.approx(0.0, abs=TOL)


def test_binary_nc2_by_hand():
    assert nc.binary_nc2(HB, YB) == pytest.approx(2 / np.sqrt(5), abs=TOL)
    # mu_+ = (2, 0), mu_- = (-1, 0): opposite; mu_+ = e1, mu_- = e2: orthogonal
    assert nc.binary_nc2([[2.0, 0.0], [-1.0, 0.0]], [1, -1]) == pytest.approx(-1.0, abs=TOL)
    assert nc.binary_nc2(np.eye(2), [1, -1]) == pytest.approx(0.0, abs=TOL)


def test_nc3_by_hand():
    # ||W_A||_F = 2, ||M||_F = sqrt12, <W_A, M^T> = 2 + 2 + 2 = 6:
    # NC3 = 1 + 1 - 2 * 6 / (2 sqrt12) = 2 - sqrt3.
    assert nc.nc3(WA, HA, YA) == pytest.approx(2 - np.sqrt(3), abs=TOL)
    assert nc.nc3(5 * MA, HA, YA) == pytest.approx(0.0, abs=TOL)
    # per class: cos(e1, m_0) = cos(e2, m_1) = 2/sqrt5, cos((-1,-1), m_2) = 1;
    # ||u - u'|| = sqrt(2 - 2 cos).
    per_class = nc.nc3_per_class(WA, HA, YA)
    np.testing.assert_allclose(per_class, [np.sqrt(2 - 4 / np.sqrt(5))] * 2 + [0.0], atol=TOL)


def test_binary_nc3_by_hand():
    # Delta / ||Delta|| = e1. v = (1, 1): ||(1,1)/sqrt2 - e1||^2 = 2 - sqrt2.
    assert nc.binary_nc3([1.0, 1.0], HB, YB) == pytest.approx(np.sqrt(2 - np.sqrt(2)), abs=TOL)
    assert nc.binary_nc3([5.0, 0.0], HB, YB) == pytest.approx(0.0, abs=TOL)
    assert nc.binary_nc3([-1.0, 0.0], HB, YB) == pytest.approx(2.0, abs=TOL)
    # It is Section 2's NC3 for classifier rows (w_-, w_+) = (-v, v) with the paper's mu_G.
    v = np.array([1.0, 1.0])
    np.testing.assert_allclose(nc.nc3_per_class(np.stack([-v, v]), HB, YB),
                               [np.sqrt(2 - np.sqrt(2))] * 2, atol=TOL)


def test_nc4_by_hand():
    # W = M^T: scores (2x - y, -x + 2y, -x - y) + b. Nearest means: each sample's own class
    # (squared distances 1 or 2 against >= 5). b = (0, 0, 4): scores of (1, 1) are (1, 1, 2),
    # of (-1, -1) are (-1, -1, 6); the others keep their class -> NC4 = 0.
    assert nc.nc4(MA, [0.0, 0.0, 4.0], HA, YA) == 0.0
    # b = (0, 4, 0): (1, 1) -> (1, 5, -2), (-1, -1) -> (-1, 3, 2): class 1, not 2 -> 2/6.
    assert nc.nc4(MA, [0.0, 4.0, 0.0], HA, YA) == pytest.approx(1 / 3, abs=TOL)


def test_binary_metrics_by_hand():
    got = nc.binary_metrics([1.0, 1.0], HB, YB)
    expected = {"nc1": 2 / 5, "nc2": 2 / np.sqrt(5), "nc3": np.sqrt(2 - np.sqrt(2)),
                "trace_ratio": 6 / 5}
    assert got == pytest.approx(expected, abs=TOL)


def _all_metrics(H, y, perm=(0, 1, 2)) -> dict[str, float]:
    """Every multi-class metric of Example A; classifier rows reordered by perm."""
    perm = list(perm)
    b = np.array([0.0, 4.0, 0.0])  # with W = M^T: no ties in any argmax or argmin (see NC4)
    out = {name: getattr(nc, name)(H, y) for name in
           ("nc1", "nc1_paper", "trace_ratio", "nc2_equinorm", "nc2_equiangle", "nc2_etf_distance")}
    return out | {"nc3": nc.nc3(WA[perm], H, y), "nc4": nc.nc4(MA[perm], b[perm], H, y)}


@pytest.mark.parametrize("labels", [[0, 0, 1, 1, 2, 2], [3, 3, 7, 7, 42, 42], [-5, -5, 0, 0, 9, 9]])
@pytest.mark.parametrize("seed", [0, 1])
def test_label_values_and_sample_order_do_not_matter(labels, seed):
    # order-preserving relabelling: the classifier rows keep their meaning
    order = np.random.default_rng(seed).permutation(6)
    got = _all_metrics(HA[order], np.array(labels)[order])
    assert got == pytest.approx(_all_metrics(HA, YA), abs=TOL)


def test_rows_of_w_follow_sorted_classes_not_label_values():
    # classes 0, 1, 2 renamed 42, 3, 7: sorted classes (3, 7, 42) are the old (1, 2, 0).
    y = np.array([42, 42, 3, 3, 7, 7])
    perm = [1, 2, 0]
    assert _all_metrics(HA, y, perm) == pytest.approx(_all_metrics(HA, YA), abs=TOL)
    np.testing.assert_allclose(nc.nc3_per_class(WA[perm], HA, y), nc.nc3_per_class(WA, HA, YA)[perm],
                               atol=TOL)
    # negative control: rows left in the old order now belong to other classes
    assert nc.nc4(MA, [0.0, 4.0, 0.0], HA, y) != nc.nc4(MA, [0.0, 4.0, 0.0], HA, YA)


def test_huge_integer_labels_stay_distinct():
    # 2**60 and 2**60 + 1 are the same float64; as integers they are two classes.
    stats = nc.class_statistics(HB, [2**60, 2**60, 2**60 + 1, 2**60 + 1, 2**60 + 1])
    assert stats.classes.tolist() == [2**60, 2**60 + 1] and stats.counts.tolist() == [2, 3]


@pytest.mark.parametrize("labels", [[1, 1, -1, -1, -1], [1, 1, 0, 0, 0], [42, 42, 3, 3, 3],
                                    [1.0, 1.0, -1.0, -1.0, -1.0]])
def test_binary_label_values_and_order_do_not_matter(labels):
    order = np.array([3, 0, 4, 2, 1])
    got = nc.binary_metrics([1.0, 1.0], HB[order], np.array(labels)[order])
    assert got == pytest.approx(nc.binary_metrics([1.0, 1.0], HB, YB), abs=TOL)


@pytest.mark.parametrize("seed", range(5))
def test_binary_nc1_matches_the_rank_one_formula(seed):
    # Sigma_B = Delta Delta^T / 4 has pseudo-inverse 4 Delta Delta^T / ||Delta||^4, so
    # tr(Sigma_W Sigma_B^+) = 4 Delta^T Sigma_W Delta / ||Delta||^4.
    rng = np.random.default_rng(seed)
    H = rng.normal(size=(9, 4))
    y = np.array([1] * 4 + [-1] * 5)
    stats = nc.class_statistics(H, y)
    delta = stats.means[1] - stats.means[0]
    formula = 4 * delta @ stats.sigma_w @ delta / (delta @ delta) ** 2
    # 1e-10 relative: O(1) Gaussian data, a few dozen float64 operations.
    assert nc.binary_nc1(H, y) == pytest.approx(formula, rel=1e-10)


def test_binary_nc1_is_blind_to_spread_orthogonal_to_delta():
    # class +1: (10, +-1), class -1: (0, 0) twice. Delta = (10, 0), Sigma_W = diag(0, 1/2),
    # Sigma_B = diag(25, 0): tr(Sigma_W Sigma_B^+) = 0, yet tr Sigma_W / tr Sigma_B = 0.02.
    H, y = np.array([[10.0, 1.0], [10.0, -1.0], [0.0, 0.0], [0.0, 0.0]]), np.array([1, 1, -1, -1])
    assert nc.binary_nc1(H, y) == pytest.approx(0.0, abs=TOL)
    assert nc.trace_ratio(H, y) == pytest.approx(0.02, abs=TOL)


def test_float32_sigma_b_breaks_numpys_default_pinv_but_not_nc1_paper():
    rng = np.random.default_rng(0)
    d, per_class = 32, 50
    delta = rng.normal(size=d)
    H32 = np.vstack([0.1 * rng.normal(size=(per_class, d)) + delta,
                     0.1 * rng.normal(size=(per_class, d)) - delta]).astype(np.float32)
    y = np.repeat([1, -1], per_class)
    truth = nc.nc1_paper(H32.astype(np.float64), y)  # float64 on the very same numbers
    # Naive: everything in float32, numpy's default cutoff 1e-15 relative.
    mu_p, mu_m = H32[y > 0].mean(axis=0), H32[y < 0].mean(axis=0)  # (d,) float32
    mu_g = (mu_p + mu_m) / 2
    sigma_b = (np.outer(mu_p - mu_g, mu_p - mu_g) + np.outer(mu_m - mu_g, mu_m - mu_g)) / 2
    centred = H32 - np.where(y[:, None] > 0, mu_p, mu_m)
    sigma_w = centred.T @ centred / y.size
    assert sigma_b.dtype == np.float32
    # Sigma_B has rank 1, but float32 rounding leaves ~1e-8-relative eigenvalues, above 1e-15.
    assert np.linalg.matrix_rank(sigma_b, rtol=1e-15) > 1
    naive = float(np.trace(sigma_w @ np.linalg.pinv(sigma_b)))
    assert abs(naive - truth) > 1e3 * truth  # off by orders of magnitude: noise inverted
    # 1e-9 relative: the SVD cutoff drops the noise; what is left is float64 rounding.
    assert nc.nc1_paper(H32, y) == pytest.approx(truth, rel=1e-9)


def test_rtol_drops_float32_rounding_directions_of_collinear_means():
    # Three classes with collinear means t_c u (rank 1 < C - 1 = 2), within-class noise of
    # exactly zero class mean. Closed form: Sigma_B = (sum_c a_c^2 / C) u u^T with
    # a = t - mean(t), so tr(Sigma_W Sigma_B^+) = C u^T Sigma_W u / sum_c a_c^2.
    rng = np.random.default_rng(0)
    d, per_class, t = 8, 20, np.array([0.0, 5.0, 15.0])
    u = rng.normal(size=d)
    u /= np.linalg.norm(u)
    noise = 0.1 * rng.normal(size=(3, per_class, d))
    noise -= noise.mean(axis=1, keepdims=True)
    H64 = (t[:, None, None] * u + noise).reshape(-1, d)
    y = np.repeat([0, 1, 2], per_class)
    a = t - t.mean()
    truth = 3 * u @ nc.class_statistics(H64, y).sigma_w @ u / (a @ a)
    H32 = H64.astype(np.float32)  # rounding gives the means a second direction, ~3e-9 relative
    # 1e-4 relative: float32 rounding (~1e-6 absolute on entries up to ~15) moves Sigma_W,
    # whose entries come from spread 0.1, by ~1e-6 relative (measured); 1e-4 leaves room.
    assert nc.nc1_paper(H32, y) == pytest.approx(truth, rel=1e-4)
    # negative control: numpy's 1e-15 cutoff keeps and inverts the rounding direction
    assert nc.nc1_paper(H32, y, rtol=1e-15) > 1e6 * truth


def test_coinciding_class_means():
    # class means both (0, 0): Sigma_B = 0, Sigma_B^+ = 0, tr Sigma_W = 1 > 0 -> inf.
    H, y = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]]), np.array([1, 1, -1, -1])
    assert not np.any(nc.between_class_pinv(nc.class_statistics(H, y)))
    assert nc.binary_nc1(H, y) == 0.0
    assert nc.trace_ratio(H, y) == np.inf
    assert nc.trace_ratio(np.zeros((2, 2)), [1, -1]) == 0.0  # fully collapsed: both traces 0


ZERO_MEAN = np.array([[1.0, 0.0], [-1.0, 0.0], [3.0, 0.0]])  # class -1 has mean (0, 0)
BAD_CALLS = [
    ("H", lambda: nc.nc1_paper(HB.ravel(), np.arange(10) % 2)),
    ("H", lambda: nc.nc1_paper(HB[None], YB)),
    ("H", lambda: nc.nc1_paper(np.where(HB == 4, np.nan, HB), YB)),
    ("H", lambda: nc.nc1_paper(np.where(HB == 4, np.inf, HB), YB)),
    ("H", lambda: nc.nc1_paper(HB.astype(object), YB)),
    ("H", lambda: nc.nc1_paper(HB > 1, YB)),
    ("H", lambda: nc.nc1_paper([[1.0, 2.0], [3.0]], [0, 1])),
    ("labels", lambda: nc.nc1_paper(HB, YB[:4])),
    ("labels", lambda: nc.nc1_paper(HB, YB[:, None])),
    ("labels", lambda: nc.nc1_paper(HB, [1.0, 1.0, np.nan, -1.0, -1.0])),
    ("labels", lambda: nc.nc1_paper(HB, [0.5, 1, -1, -1, -1])),
    ("labels", lambda: nc.nc1_paper(HB, np.ones(5))),
    ("labels", lambda: nc.nc1_paper(HB, list("aabbb"))),
    ("labels", lambda: nc.binary_nc1(HA, YA)),
    ("global_mean", lambda: nc.class_statistics(HB, YB, global_mean="median")),
    ("rtol", lambda: nc.nc1_paper(HB, YB, rtol=-1e-6)),
    ("rtol", lambda: nc.nc1(HB, YB, rtol=1.0)),
    ("rtol", lambda: nc.binary_nc1(HB, YB, rtol="small")),
    ("v", lambda: nc.binary_nc3(np.zeros(2), HB, YB)),
    ("v", lambda: nc.binary_nc3(np.ones(3), HB, YB)),
    ("v", lambda: nc.binary_nc3([np.inf, 1.0], HB, YB)),
    ("W", lambda: nc.nc3(np.ones((2, 2)), HA, YA)),
    ("W", lambda: nc.nc3(np.zeros((3, 2)), HA, YA)),
    ("W", lambda: nc.nc3_per_class(np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), HA, YA)),
    ("b", lambda: nc.nc4(MA, np.zeros(2), HA, YA)),
    ("b", lambda: nc.nc4(MA, [0.0, np.nan, 0.0], HA, YA)),
    ("H", lambda: nc.binary_nc2(ZERO_MEAN, [-1, -1, 1])),
    ("H", lambda: nc.binary_nc3([1.0, 0.0], [[1.0, 0.0], [1.0, 0.0]], [1, -1])),
    ("H", lambda: nc.nc2_equinorm(np.ones((4, 2)), [0, 0, 1, 1])),
    ("H", lambda: nc.nc2_equiangle(np.ones((4, 2)), [0, 0, 1, 1])),
]


@pytest.mark.parametrize("name, call", BAD_CALLS)
def test_bad_input_raises_naming_the_argument(name, call):
    with pytest.raises(nc.MetricInputError, match=rf"^{re.escape(name)}\b"):
        call()
