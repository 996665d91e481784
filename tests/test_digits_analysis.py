"""Times to final accuracy and NC thresholds, and the paired sign test, on hand-made records.

Reference for the p-values: the exact binomial tail, P(Bin(5, 1/2) >= 5) = 1/32 and
P(Bin(6, 1/2) >= 5) = 7/64, computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.digits_experiment.analysis import compare, time_to_final_accuracy, time_to_threshold

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
    faster = compare([1, 2, 3, 4, 5], [2, 3, 4, 5, 6])
    assert faster.verdict == "holds" and faster.p_linear == pytest.approx(1 / 32)
    assert faster.linear_faster == 5 and faster.ties == 0
    slower = compare([2, 3, 4, 5, 6], [1, 2, 3, 4, 5])
    assert slower.verdict == "refuted" and slower.p_logistic == pytest.approx(1 / 32)
    mixed = compare([1, 1, 1, 1, 1, 9], [2, 2, 2, 2, 2, 2])
    assert mixed.verdict == "inconclusive" and mixed.p_linear == pytest.approx(7 / 64)
    ties = compare([math.inf, 3, 3], [math.inf, 3, 3])
    assert ties.verdict == "inconclusive" and ties.ties == 3 and ties.p_linear == 1.0
    censored = compare([1, 1, 1, 1, 1], [math.inf] * 5)  # the logistic arm never gets there
    assert censored.verdict == "holds" and censored.median("logistic") == math.inf


@pytest.mark.parametrize(("a", "b", "message"), [
    ([1, 2], [1], "equal"), ([], [], "equal"), ([1, np.nan], [1, 2], "NaN"),
])
def test_compare_rejects_bad_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        compare(a, b)
    with pytest.raises(ValueError, match="alpha"):
        compare([1], [2], alpha=1.5)
