"""Times to final accuracy and NC thresholds, the paired two-sided sign test, its interval, and
Holm's adjustment, on hand-made records.

References for the numbers: the exact binomial tail by hand, 2 P(Bin(10, 1/2) >= 10) = 2/1024,
2 P(Bin(6, 1/2) >= 5) = 14/64; Holm (1979)'s step-down rule applied by hand to four p-values; the
sign-test interval for n = 10 at 95%: P(Bin(10, 1/2) <= 1) = 11/1024 <= 0.025 < 56/1024, so k = 2.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.digits_experiment.analysis import (adjust_family, compare, holm, sign_test_interval,
                                               time_to_final_accuracy, time_to_threshold)

STEPS = np.array([0, 1, 2, 3, 10, 20])


def test_time_to_final_accuracy():
    acc = np.array([0.5, 0.9, 1.0, 0.97, 1.0, 1.0])
    assert time_to_final_accuracy(STEPS, acc, 0.02) == 10.0  # 0.97 at step 3 is outside 0.02
    assert time_to_final_accuracy(STEPS, acc, 0.05) == 2.0
    assert time_to_final_accuracy(STEPS, np.full(6, 0.8), 0.01) == 0.0
    assert time_to_final_accuracy(STEPS, np.array([0.5, 1, 1, np.nan, 1, 1]), 0.01) == 10.0  # NaN breaks a streak
    assert time_to_final_accuracy(STEPS, np.array([0.5, 1, 1, 1, 1, np.nan]), 0.01) == math.inf


def test_time_to_threshold():
    metric = np.array([2.0, 0.1, 0.3, 0.15, 0.2, 0.19])  # threshold q * 2.0
    assert time_to_threshold(STEPS, metric, 0.1) == 3.0  # 0.3 at step 2 is above 0.2; at or below from step 3
    assert time_to_threshold(STEPS, metric, 0.05) == math.inf  # 0.19 > 0.1 at the end
    assert time_to_threshold(STEPS, metric, 0.5) == 1.0
    assert time_to_threshold(STEPS, np.array([np.nan, 0, 0, 0, 0, 0.0]), 0.5) == math.inf
    assert time_to_threshold(STEPS, np.array([1, 0, 0, np.nan, 0, 0.0]), 0.5) == 10.0


def test_sign_test_decisions():
    faster = compare([1] * 10, [2] * 10)
    assert faster.decision == "holds" and faster.p_value == pytest.approx(2 / 1024)
    assert faster.linear_faster == 10 and faster.ties == 0 and faster.effect == 1.0
    slower = compare([2] * 10, [1] * 10)
    assert slower.decision == "fails" and slower.p_value == pytest.approx(2 / 1024) and slower.effect == -1.0
    mixed = compare([1, 1, 1, 1, 1, 9], [2, 2, 2, 2, 2, 2])
    assert mixed.decision == "inconclusive" and mixed.p_value == pytest.approx(14 / 64)
    ties = compare([math.inf, 3, 3], [math.inf, 3, 3])
    assert ties.decision == "inconclusive" and ties.ties == 3 and ties.p_value == 1.0
    censored = compare([1] * 10, [math.inf] * 10, horizon=100)  # the other arm never gets there
    assert censored.decision == "holds" and censored.median("other") == math.inf
    assert censored.effect == 100.0  # not reached counts as horizon + 1 = 101 steps


def test_inconclusive_says_why():
    two = compare([1, 2], [2, 3])
    assert two.decision == "inconclusive"
    assert "smallest two-sided sign-test p-value is 0.5 > alpha 0.05" in two.reason
    decided = compare([1] * 10, [2] * 10)
    assert "<= alpha 0.05" in decided.reason and "10 seeds" in decided.reason


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04: 4 x 0.005 = 0.02, 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 0.04) = 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    with pytest.raises(ValueError, match="pvalues"):
        holm([0.1, 1.5])


@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_holm_properties(p):
    """Adjusted >= raw, <= 1, monotone in the raw order, and no larger than Bonferroni."""
    adjusted = holm(p)
    for raw, adj in zip(p, adjusted):
        assert raw <= adj <= min(1.0, len(p) * raw) + 1e-15  # 1e-15: one rounding of m * p
    order = np.argsort(p, kind="stable")
    assert all(adjusted[order[i]] <= adjusted[order[i + 1]] for i in range(len(p) - 1))


def test_family_adjustment_changes_the_decision():
    alone = compare([1] * 10, [2] * 10)
    family = adjust_family([alone] * 30)  # 30 x 2/1024 > 0.05
    assert alone.decision == "holds" and family[0].decision == "inconclusive" and family[0].family_size == 30
    assert "Holm-adjusted over 30 comparisons" in family[0].reason


def test_sign_test_interval():
    assert sign_test_interval(range(10)) == (1.0, 8.0)  # [d_(2), d_(9)]
    assert sign_test_interval(range(5)) == (None, None)  # 2 / 32 > 0.05: no bounded 95% interval
    with pytest.raises(ValueError, match="level"):
        sign_test_interval([1, 2], level=1.0)


@given(st.lists(st.integers(-50, 50), min_size=6, max_size=40))
def test_interval_contains_the_median(d):
    low, high = sign_test_interval(d)
    assert low <= float(np.median(d)) <= high


@pytest.mark.parametrize(("a", "b", "message"), [
    ([1, 2], [1], "equal"), ([], [], "equal"), ([1, np.nan], [1, 2], "NaN"),
])
def test_compare_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        compare(a, b)
    with pytest.raises(ValueError, match="alpha"):
        compare([1], [2], alpha=1.5)
