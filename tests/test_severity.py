"""The perturbation evidence of a degenerate finding (claims.framework.severity)."""

from __future__ import annotations

import numpy as np

from claims.framework.claim import Evaluation
from claims.framework.severity import perturbed_holds_fraction


def positive_square(inst):
    return Evaluation(holds=float(inst["x"]) ** 2 > 0)


def square_dominates(inst):
    x = float(inst["x"])
    return Evaluation(holds=x * x >= x)


def test_a_null_set_failure_is_restored_by_perturbation():
    # x^2 > 0 fails only at x = 0: every perturbation restores it.
    assert perturbed_holds_fraction(positive_square, {"x": np.array(0.0)}) == 1.0


def test_an_open_set_failure_is_not():
    # x^2 >= x fails on (0, 1): perturbing x = 1/2 by 1e-6 never restores it.
    assert perturbed_holds_fraction(square_dominates, {"x": np.array(0.5)}) == 0.0


def test_fixed_arrays_are_not_perturbed_and_errors_do_not_hold():
    seen = []

    def labels_untouched(inst):
        seen.append(inst["y"].copy())
        if float(inst["x"]) > 0:
            raise ZeroDivisionError("cannot evaluate")
        return Evaluation(holds=True)

    fraction = perturbed_holds_fraction(labels_untouched, {"x": np.array(0.0), "y": np.array([1.0, -1.0])},
                                        fixed=("y",), draws=400)
    assert all(np.array_equal(y, [1.0, -1.0]) for y in seen)
    # 0.4 to 0.6: half the draws move x above 0 (an error, not holding); 400 draws put the
    # fraction within ~0.05 of 1/2 with overwhelming probability for the fixed seed.
    assert 0.4 < fraction < 0.6
