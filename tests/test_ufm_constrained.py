# References: Appendix C.2, eqs (15)-(17) of "Linear Loss Classification: Efficient Training
# Through Neural Collapse". The optimal value -n is derived by hand (Cauchy-Schwarz, see
# models/ufm_constrained.py); scipy's SLSQP (Kraft 1988) is an independent second optimiser;
# monotone decrease of projected gradient for eta < 2/L is Beck (2017), Lemma 10.4.
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ufm import UFMInputError
from models.ufm_constrained import (
    constrained_loss,
    constrained_ufm_minimum,
    project_to_unit_ball,
    project_to_unit_sphere,
    projected_gradient_descent,
    solve_constrained_ufm_scipy,
)

SEEDS = [0, 1, 2, 3, 4]
ETA = 0.1  # below 2 / sqrt(n) = 0.63 for every n <= 10 used here (gradient is sqrt(n)-Lipschitz)


def random_problem(seed: int):
    """Random (H0 (n, d), v0 (d,), y (n,)) with n in [2, 8], d in [1, 4], both classes present."""
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 9)), int(rng.integers(1, 5))
    y = np.where(rng.permutation(n) < max(1, n // 3), 1.0, -1.0)  # (n,)
    return rng.normal(size=(n, d)), rng.normal(size=d), y


@pytest.mark.parametrize("seed", SEEDS)
def test_projected_gd_reaches_complete_collapse(seed):
    H0, v0, y = random_problem(seed)
    n = len(y)
    res = projected_gradient_descent(H0, v0, y, eta=ETA, steps=3000)
    # 1e-9: near the optimum PGD contracts linearly; 3000 steps of 0.1 reach rounding level.
    assert res.loss_history[-1] == pytest.approx(constrained_ufm_minimum(n), abs=1e-9)
    assert np.linalg.norm(res.v) == pytest.approx(1.0, abs=1e-9)  # same reason
    np.testing.assert_allclose(res.H, np.outer(y, res.v), rtol=0, atol=1e-6)  # ~sqrt(1e-9 gap)


@pytest.mark.parametrize("seed", SEEDS)
def test_slsqp_reaches_the_same_optimum(seed):
    H0, v0, y = random_problem(seed)
    H, v, fun = solve_constrained_ufm_scipy(H0, v0, y)
    pgd = projected_gradient_descent(H0, v0, y, eta=ETA, steps=3000)
    # 1e-7: SLSQP stops at ftol = 1e-10, and its answer (projected back onto the balls,
    # where it was up to ~1e-6 outside) lands within ~1e-10 of -n over 2000 trial seeds.
    assert -len(y) - 1e-12 <= fun <= -len(y) + 1e-7  # 1e-12: rounding of an O(n) sum
    assert fun == pytest.approx(pgd.loss_history[-1], abs=1e-7)
    np.testing.assert_allclose(H, np.outer(y, v), rtol=0, atol=1e-3)  # ~sqrt of value gap


@pytest.mark.parametrize("seed", SEEDS)
def test_loss_is_non_increasing_for_small_step(seed):
    H0, v0, y = random_problem(seed)
    res = projected_gradient_descent(H0, v0, y, eta=ETA, steps=500)
    # 1e-12: the sufficient-decrease lemma gives exact monotonicity; only rounding of
    # O(n) sums (~1e-15) can show up as an increase.
    assert np.all(np.diff(res.loss_history) <= 1e-12)
    assert res.loss_history.shape == (501,) and res.steps == 500


def test_monotonicity_negative_control():
    """A huge step (eta = 50 >> 2 / sqrt(n)) must be able to increase the loss."""
    rng = np.random.default_rng(7)
    n, d = 6, 3
    y = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0])
    increased = False
    for _ in range(20):
        res = projected_gradient_descent(rng.normal(size=(n, d)), rng.normal(size=d), y,
                                         eta=50.0, steps=50)
        increased |= bool(np.any(np.diff(res.loss_history) > 1e-6))
    assert increased


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_feasible_points_are_bounded_by_minus_n(n, d, seed):
    rng = np.random.default_rng(seed)
    H = project_to_unit_ball(rng.normal(size=(n, d)) * 3)  # (n, d)
    v = project_to_unit_ball(rng.normal(size=d) * 3)  # (d,)
    y = rng.choice([-1.0, 1.0], size=n)
    assert np.all(np.linalg.norm(H, axis=1) <= 1 + 1e-12)  # rounding of a rescale
    assert constrained_loss(H, v, y) >= constrained_ufm_minimum(n) - 1e-12  # rounding
    assert constrained_loss(np.outer(y, v / np.linalg.norm(v)), v / np.linalg.norm(v), y) == (
        pytest.approx(-n, abs=1e-12))  # the collapsed configuration attains -n (rounding)


def test_projection_by_hand():
    np.testing.assert_allclose(project_to_unit_ball([3.0, 4.0]), [0.6, 0.8], atol=1e-15)
    np.testing.assert_array_equal(project_to_unit_ball([0.3, 0.4]), [0.3, 0.4])  # inside
    np.testing.assert_allclose(project_to_unit_ball([[0.0, 2.0], [0.1, 0.0]]),
                               [[0.0, 1.0], [0.1, 0.0]], atol=1e-15)  # per row


def test_sphere_projection_by_hand():
    np.testing.assert_allclose(project_to_unit_sphere([3.0, 4.0]), [0.6, 0.8], atol=1e-15)
    np.testing.assert_allclose(project_to_unit_sphere([0.3, 0.4]), [0.6, 0.8], atol=1e-15)  # scaled up
    np.testing.assert_allclose(project_to_unit_sphere([[0.0, 2.0], [0.1, 0.0]]),
                               [[0.0, 1.0], [1.0, 0.0]], atol=1e-15)  # per row


@pytest.mark.parametrize("seed", SEEDS)
def test_sphere_model_reaches_the_same_optimum(seed):
    """Fixed norms (weight normalisation) and the balls of (15) share the minimum -n (d >= 2).

    In d = 1 the unit sphere is {-1, +1}: a feature of the wrong sign cannot move at all, so
    the sphere model is only a flow for d >= 2; a column of ones is appended when d = 1.
    """
    H0, v0, y = random_problem(seed)
    if H0.shape[1] == 1:
        H0, v0 = np.hstack([H0, np.ones((len(y), 1))]), np.append(v0, 1.0)
    res = projected_gradient_descent(H0, v0, y, eta=ETA, steps=3000, constraint="sphere")
    assert np.allclose(np.linalg.norm(res.H, axis=1), 1.0, atol=1e-12)  # rounding of a rescale
    # 1e-9: as for the ball, linear contraction near the optimum reaches rounding level.
    assert res.loss_history[-1] == pytest.approx(constrained_ufm_minimum(len(y)), abs=1e-9)
    assert np.allclose(res.H, np.outer(y, res.v), atol=1e-6)  # sqrt of the loss gap


GOOD_H, GOOD_V, GOOD_Y = np.ones((3, 2)), np.ones(2), np.array([1.0, -1.0, 1.0])
BAD_CALLS = [
    ("H0", lambda: projected_gradient_descent(np.ones(3), GOOD_V, GOOD_Y, eta=0.1, steps=1)),
    ("v0", lambda: projected_gradient_descent(GOOD_H, np.ones(4), GOOD_Y, eta=0.1, steps=1)),
    ("y", lambda: projected_gradient_descent(GOOD_H, GOOD_V, np.array([1, 2, 1]), eta=0.1,
                                             steps=1)),
    ("eta", lambda: projected_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.0, steps=1)),
    ("eta", lambda: projected_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=np.nan, steps=1)),
    ("steps", lambda: projected_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.1, steps=-3)),
    ("H0", lambda: solve_constrained_ufm_scipy(np.full((3, 2), np.inf), GOOD_V, GOOD_Y)),
    ("y", lambda: solve_constrained_ufm_scipy(GOOD_H, GOOD_V, np.ones((3, 1)))),
    ("n", lambda: constrained_ufm_minimum(0)),
    ("n", lambda: constrained_ufm_minimum(2.0)),
    ("x", lambda: project_to_unit_ball(np.ones((2, 2, 2)))),
    ("x", lambda: project_to_unit_sphere(np.zeros(2))),
    ("constraint", lambda: projected_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.1, steps=1,
                                                      constraint="box")),
]


@pytest.mark.parametrize(("argument", "call"), BAD_CALLS)
def test_bad_calls_raise_ufm_input_error(argument, call):
    with pytest.raises(UFMInputError, match=rf"\b{argument}\b"):
        call()
