"""models.bayes_risk against hand computations (Appendix A)."""

import numpy as np
import pytest

from models.bayes_risk import (
    DistributionError,
    bayes_rule,
    bounded_risk_minimiser,
    expected_risk,
    infimum_risk,
    risk_slope,
)


def test_expected_risk_by_hand():
    # atoms: P = (0.25, 0.75), p = (1, 0.2), f = (2, -1)
    # E[-y f] = 0.25 * (1 * -2) + 0.75 * (0.2 * 1 + 0.8 * -1) = -0.5 - 0.45 = -0.95
    assert expected_risk(np.array([0.25, 0.75]), np.array([1.0, 0.2]), np.array([2.0, -1.0])) == pytest.approx(-0.95, abs=1e-15)


def test_infinite_scores_and_zero_mass():
    px, p = np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.5, 0.3])
    assert expected_risk(px, p, np.array([np.inf, 7.0, -np.inf])) == -np.inf  # zero-mass atom ignored
    assert infimum_risk(px, p) == -np.inf
    assert infimum_risk(np.array([1.0]), np.array([0.5])) == 0.0


def test_slope_and_bayes_rule():
    assert np.allclose(risk_slope(np.array([0.5, 0.5]), np.array([0.9, 0.5])), [-0.4, 0.0], atol=1e-15)
    assert bayes_rule(np.array([0.9, 0.5, 0.1])).tolist() == [1.0, 0.0, -1.0]


def test_bounded_minimiser_by_hand():
    f = bounded_risk_minimiser(np.array([0.3, 0.7]), np.array([0.8, 0.1]), 3.0)
    assert np.allclose(f, [3.0, -3.0], atol=1e-9)  # 1e-9: LP vertex up to rounding


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: expected_risk(np.array([0.5, 0.6]), np.array([0.1, 0.2]), np.zeros(2)), "px"),
        (lambda: expected_risk(np.array([1.0]), np.array([1.5]), np.zeros(1)), "p"),
        (lambda: expected_risk(np.array([1.0]), np.array([0.5, 0.5]), np.zeros(1)), "p"),
        (lambda: expected_risk(np.array([1.0]), np.array([0.5]), np.zeros(2)), "f"),
        (lambda: expected_risk(np.zeros(0), np.zeros(0), np.zeros(0)), "px"),
        (lambda: bounded_risk_minimiser(np.array([1.0]), np.array([0.5]), -1.0), "bound"),
    ],
)
def test_bad_arguments(call, name):
    with pytest.raises(DistributionError, match=name):
        call()
