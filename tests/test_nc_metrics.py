"""models.nc_metrics against hand computations.

Reference values are derived by hand in the comments (tiny 2-D examples), following
Section 2 of the paper and Papyan, Han & Donoho (2020).
"""

from __future__ import annotations

import numpy as np
import pytest

from models import nc_metrics as nc

# Hand example: two classes in 2-D.
#   class +1: (2, 1), (2, -1)   mean (2, 0)
#   class -1: (0, 0), (-2, 0)   mean (-1, 0)
# mu_G (mean of class means) = (0.5, 0); Delta = mu_+ - mu_- = (3, 0)
# Sigma_W = (1/4) [ (0,1)(0,1)^T + (0,-1)(0,-1)^T + (1,0)(1,0)^T + (-1,0)(-1,0)^T ] = diag(0.5, 0.5)
# Sigma_B = (1/2) [ (1.5,0)(1.5,0)^T * 2 ] = diag(2.25, 0);  Sigma_B^+ = diag(1/2.25, 0)
# tr(Sigma_W Sigma_B^+) = 0.5 / 2.25 = 2/9;  tr(Sigma_W)/tr(Sigma_B) = 1 / 2.25 = 4/9
H = np.array([[2.0, 1.0], [2.0, -1.0], [0.0, 0.0], [-2.0, 0.0]])
Y = np.array([1, 1, -1, -1])

# 1e-12: all hand values are exact rationals; float64 rounding of these tiny sums is ~1e-16.
TOL = 1e-12


def test_class_statistics_by_hand():
    stats = nc.class_statistics(H, Y)
    assert stats.classes.tolist() == [-1, 1]
    assert np.allclose(stats.means, [[-1.0, 0.0], [2.0, 0.0]], atol=TOL)
    assert np.allclose(stats.global_mean, [0.5, 0.0], atol=TOL)
    assert np.allclose(stats.sigma_w, np.diag([0.5, 0.5]), atol=TOL)
    assert np.allclose(stats.sigma_b, np.diag([2.25, 0.0]), atol=TOL)


def test_nc1_variants_by_hand():
    assert nc.nc1_paper(H, Y) == pytest.approx(2 / 9, abs=TOL)
    assert nc.binary_nc1(H, Y) == pytest.approx(2 / 9, abs=TOL)
    assert nc.nc1(H, Y) == pytest.approx(1 / 9, abs=TOL)  # Papyan's 1/C
    assert nc.trace_ratio(H, Y) == pytest.approx(4 / 9, abs=TOL)


@pytest.mark.parametrize("labels", [[1, 1, -1, -1], [1, 1, 0, 0], [42, 42, 7, 7], [8, 8, 0, 0]])
def test_label_values_do_not_matter(labels):
    order = np.array([2, 0, 3, 1])  # shuffled samples too
    labels = np.array(labels)
    assert nc.binary_nc1(H[order], labels[order]) == pytest.approx(2 / 9, abs=TOL)
    v = np.array([1.0, 1.0])
    # NC3: v/|v| = (1,1)/sqrt2, Delta/|Delta| = (1,0): distance sqrt((1-1/sqrt2)^2 + 1/2) = sqrt(2 - sqrt2)
    assert nc.binary_nc3(v, H[order], labels[order]) == pytest.approx(np.sqrt(2 - np.sqrt(2)), abs=TOL)


def test_binary_nc2_by_hand():
    # mu_+ = (2, 0), mu_- = (-1, 0): uncentred cosine -1
    assert nc.binary_nc2(H, Y) == pytest.approx(-1.0, abs=TOL)
    H2 = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert nc.binary_nc2(H2, np.array([1, -1])) == pytest.approx(0.0, abs=TOL)


def test_nc2_binary_is_exact_with_class_means_but_not_sample_mean():
    assert nc.nc2_equinorm(H, Y) == pytest.approx(0.0, abs=TOL)
    assert nc.nc2_equiangle(H, Y) == pytest.approx(0.0, abs=TOL)
    assert nc.nc2_etf_distance(H, Y) == pytest.approx(0.0, abs=TOL)
    # unequal sizes: class +1: (3,0),(3,0),(3,0); class -1: (0,0). sample mean (2.25, 0)
    # centred norms 0.75 and 2.25: mean 1.5, std 0.75 -> equinorm 0.5
    H3 = np.array([[3.0, 0.0]] * 3 + [[0.0, 0.0]])
    y3 = np.array([1, 1, 1, -1])
    assert nc.nc2_equinorm(H3, y3, global_mean="samples") == pytest.approx(0.5, abs=TOL)
    assert nc.nc2_equinorm(H3, y3) == pytest.approx(0.0, abs=TOL)


def test_three_class_simplex():
    # class means at the vertices of an equilateral triangle centred at 0: a simplex ETF
    angles = 2 * np.pi * np.arange(3) / 3
    means = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    Hs = np.repeat(means, 2, axis=0) + np.array([[0.1, 0.0], [-0.1, 0.0]] * 3)
    ys = np.repeat([0, 1, 2], 2)
    assert nc.nc2_equinorm(Hs, ys) == pytest.approx(0.0, abs=1e-12)
    assert nc.nc2_equiangle(Hs, ys) == pytest.approx(0.0, abs=1e-12)
    assert nc.nc2_etf_distance(Hs, ys) == pytest.approx(0.0, abs=1e-12)
    # classifier = class means: NC3 = 0; NC4: every sample's nearest mean is its own class
    assert nc.nc3(means, Hs, ys) == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(nc.nc3_per_class(means, Hs, ys), 0.0, atol=1e-12)
    assert nc.nc4(means, np.zeros(3), Hs, ys) == 0.0
    # a bias that always picks class 0 disagrees with NCC on the 4 samples of classes 1, 2
    assert nc.nc4(means, np.array([10.0, 0.0, 0.0]), Hs, ys) == pytest.approx(4 / 6)


def test_nc1_sees_only_spread_along_delta_in_binary():
    # spread along e_2 only, Delta along e_1: tr(Sigma_W Sigma_B^+) = 0 but Sigma_W != 0
    Ho = np.array([[10.0, 1.0], [10.0, -1.0], [0.0, 0.0], [0.0, 0.0]])
    yo = np.array([1, 1, -1, -1])
    assert nc.binary_nc1(Ho, yo) == pytest.approx(0.0, abs=TOL)
    # Sigma_W = diag(0, 0.5), tr Sigma_B = 25: ratio 0.02
    assert nc.trace_ratio(Ho, yo) == pytest.approx(0.02, abs=TOL)


def test_float32_features_need_the_cutoff():
    rng = np.random.default_rng(0)
    d = 32
    delta = rng.normal(size=d)
    H64 = np.vstack([rng.normal(size=(50, d)) * 0.1 + delta, rng.normal(size=(50, d)) * 0.1 - delta])
    y = np.repeat([1, -1], 50)
    truth = nc.binary_nc1(H64, y)
    H32 = H64.astype(np.float32)
    # naive: Sigma_W and Sigma_B formed in float32, numpy's default pinv cutoff (1e-15)
    mu_p, mu_m = H32[y > 0].mean(0), H32[y < 0].mean(0)
    mu_g = (mu_p + mu_m) / 2
    sigma_b = (np.outer(mu_p - mu_g, mu_p - mu_g) + np.outer(mu_m - mu_g, mu_m - mu_g)) / 2
    centred = H32 - np.where(y[:, None] > 0, mu_p, mu_m)
    sigma_w = centred.T @ centred / len(y)
    naive = float(np.trace(sigma_w @ np.linalg.pinv(sigma_b)))
    assert abs(naive - truth) > 1e3 * truth  # the documented failure: rounding noise inverted
    # ours on the same float32 features: within float32 accuracy of the float64 truth
    assert nc.binary_nc1(H32, y) == pytest.approx(truth, rel=1e-4)  # 1e-4: float32 inputs, ~1e-7 each


def test_all_means_equal_gives_zero_pinv_and_inf_ratio():
    Hz = np.array([[1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    yz = np.array([1, 1, -1, -1])
    assert nc.binary_nc1(Hz, yz) == 0.0
    assert nc.trace_ratio(Hz, yz) == np.inf
    assert nc.trace_ratio(np.zeros((2, 2)), np.array([1, -1])) == 0.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: nc.binary_nc1(H.ravel(), Y), "H"),
        (lambda: nc.binary_nc1(H, Y[:3]), "labels"),
        (lambda: nc.binary_nc1(H * np.nan, Y), "H"),
        (lambda: nc.binary_nc1(H + np.inf, Y), "H"),
        (lambda: nc.binary_nc1(H, np.ones(4)), "labels"),
        (lambda: nc.binary_nc1(H.astype(object), Y), "H"),
        (lambda: nc.binary_nc1(H, np.array([0.5, 1, -1, -1])), "labels"),
        (lambda: nc.binary_nc3(np.zeros(2), H, Y), "v"),
        (lambda: nc.binary_nc3(np.ones(3), H, Y), "v"),
        (lambda: nc.nc3(np.ones((3, 2)), H, Y), "W"),
        (lambda: nc.class_statistics(H, Y, global_mean="median"), "global_mean"),
        (lambda: nc.binary_nc1(np.zeros((6, 2)), np.array([0, 0, 1, 1, 2, 2])), "labels"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(nc.MetricInputError, match=name):
        call()
