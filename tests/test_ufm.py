# References: Appendix C.1, eqs (9)-(13) of "Linear Loss Classification: Efficient Training
# Through Neural Collapse". The closed form is derived by hand in models/ufm.py (v'' = n v);
# it is checked against scipy's DOP853 (Hairer, Norsett & Wanner) as an independent second
# solver, by differentiating it back (central finite differences), and against gradient
# descent through its measured first-order convergence (explicit Euler).
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.ufm import (
    UFMInputError,
    ufm_flow_closed_form,
    ufm_flow_numerical,
    ufm_gradient_descent,
    ufm_loss,
)

FAST = settings(max_examples=25, deadline=None)


@st.composite
def ufm_instances(draw, *, min_n: int = 2, max_n: int = 6, max_d: int = 4, bound: float = 3.0):
    """Generate (H0 (n, d), v0 (d,), y (n,), b0) with n in [min_n, max_n], d in [1, max_d].

    Entries are floats in [-bound, bound]; labels are drawn per sample (both classes not
    required). Cost: O(n d) draws. Shrinks towards n = min_n, d = 1, zero entries, y = -1.
    """
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    d = draw(st.integers(min_value=1, max_value=max_d))
    floats = st.floats(min_value=-bound, max_value=bound, allow_nan=False, allow_infinity=False)
    H0 = np.array(draw(st.lists(floats, min_size=n * d, max_size=n * d))).reshape(n, d)
    v0 = np.array(draw(st.lists(floats, min_size=d, max_size=d)))
    y = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    b0 = draw(floats)
    return H0, v0, y, b0


def state_vector(s) -> np.ndarray:
    return np.concatenate([s.H.ravel(), s.v, [s.b]])


def random_instance(seed: int, n: int = 5, d: int = 3):
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < 2, 1.0, -1.0)  # unbalanced: n_+ = 2, n_- = n - 2
    return rng.normal(size=(n, d)), rng.normal(size=d), y


@FAST
@given(ufm_instances(), st.sampled_from([0.0, 0.3, 1.0, 2.0]))
def test_closed_form_matches_dop853(instance, t):
    H0, v0, y, b0 = instance
    exact = state_vector(ufm_flow_closed_form(H0, v0, y, t, b0=b0))
    numeric = state_vector(ufm_flow_numerical(H0, v0, y, t, b0=b0))
    # 1e-9 normwise relative: DOP853 at rtol = atol = 1e-12 over t <= 2 (growth e^{2 sqrt 6}
    # ~ 130) leaves ~1e-11; the floor 1 covers states whose norm is near 0.
    assert np.linalg.norm(exact - numeric) <= 1e-9 * max(1.0, np.linalg.norm(exact))


@FAST
@given(ufm_instances())
def test_closed_form_is_initial_state_at_zero(instance):
    H0, v0, y, b0 = instance
    s = ufm_flow_closed_form(H0, v0, y, 0.0, b0=b0)
    # 1e-15 absolute: cosh(0) = 1 and sinh(0) = 0 exactly, so the result is bit-exact.
    np.testing.assert_allclose(s.H, H0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(s.v, v0, rtol=0, atol=1e-15)
    assert abs(s.b - b0) <= 1e-15


@FAST
@given(ufm_instances(), st.floats(min_value=0.05, max_value=1.5))
def test_closed_form_satisfies_the_ode(instance, t):
    H0, v0, y, b0 = instance
    delta = 1e-5
    s = ufm_flow_closed_form(H0, v0, y, t, b0=b0)
    fwd = state_vector(ufm_flow_closed_form(H0, v0, y, t + delta, b0=b0))
    bwd = state_vector(ufm_flow_closed_form(H0, v0, y, t - delta, b0=b0))
    fd = (fwd - bwd) / (2 * delta)
    rhs = np.concatenate([np.outer(y, s.v).ravel(), y @ s.H, [np.sum(y)]])
    # 1e-6 relative: central-difference truncation ~ delta^2 n^{3/2} |x| ~ 1e-9 |x| and
    # rounding ~ 1e-16 |x| / delta ~ 1e-11 |x|; 1e-6 leaves a wide margin.
    scale = max(1.0, np.linalg.norm(state_vector(s)))
    assert np.linalg.norm(fd - rhs) <= 1e-6 * scale


def test_printed_h_formula_is_a_negative_control():
    """The h_i(t) printed under (13) omits the constant -h0/n; the t = 0 check rejects it."""
    H0, v0, y = random_instance(0)
    n = len(y)
    r, h0 = np.sqrt(n), y @ H0

    def printed_H(t):
        bracket = ((v0 + h0 / r) * np.exp(r * t) - (v0 - h0 / r) * np.exp(-r * t)) / (2 * r)
        return H0 + np.outer(y, bracket)

    # The printed form is off by y_i h0 / n at every t, here O(1), far above 1e-15.
    assert np.abs(printed_H(0.0) - H0).max() > 1e-3
    np.testing.assert_allclose(printed_H(0.7) - ufm_flow_closed_form(H0, v0, y, 0.7).H,
                               np.outer(y, h0 / n), rtol=1e-12, atol=1e-12)  # rounding only


@pytest.mark.parametrize("t", [0.5, 3.0, 10.0])
def test_special_initialisation_only_decays(t):
    """v0 = -h0/sqrt(n) kills the growing mode: v = v0 e^{-sqrt(n) t}, nothing to collapse to."""
    H0, _, y = random_instance(3)
    r = np.sqrt(len(y))
    v0 = -(y @ H0) / r
    s = ufm_flow_closed_form(H0, v0, y, t)
    # 1e-12 relative: the rearranged form evaluates v0 e^{-rt} with O(1) rounding only;
    # the plain v0 cosh + (h0/r) sinh form would return 0 here at t = 10 (relative error 1).
    np.testing.assert_allclose(s.v, v0 * np.exp(-r * t), rtol=1e-12, atol=0)
    limit = H0 + np.outer(y, v0 / r)  # features converge to a finite point
    np.testing.assert_allclose(s.H - limit, -np.outer(y, v0 / r) * np.exp(-r * t),
                               rtol=1e-9, atol=1e-15)  # cancellation in H - limit: |H| * eps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_descent_converges_at_first_order(seed):
    H0, v0, y = random_instance(seed)
    horizon = 1.0
    ref = state_vector(ufm_flow_closed_form(H0, v0, y, horizon))
    errors = []
    for steps in (200, 400, 800):
        gd = ufm_gradient_descent(H0, v0, y, eta=horizon / steps, steps=steps)
        errors.append(np.linalg.norm(state_vector(gd) - ref))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # Explicit Euler has global error C eta + O(eta^2); at eta <= 1/200 the O(eta^2) part
    # moves the measured order by well under 0.2.
    assert np.all((orders >= 0.8) & (orders <= 1.2)), orders


@FAST
@given(ufm_instances(), st.sampled_from([0.3, 1.0, 2.0]))
def test_within_class_differences_are_conserved(instance, t):
    H0, v0, y, b0 = instance
    for s in (ufm_flow_closed_form(H0, v0, y, t), ufm_flow_numerical(H0, v0, y, t)):
        for cls in (-1.0, 1.0):
            idx = np.flatnonzero(y == cls)
            if idx.size == 0:
                continue  # the draw has a single class
            diff0 = H0[idx] - H0[idx[0]]  # (n_cls, d)
            diff = s.H[idx] - s.H[idx[0]]
            # Both rows get the same y_i int v added; only rounding of |H| ~ e^{2 sqrt 6}
            # times the initial scale survives, so 1e-9 relative to that scale is ample.
            scale = max(1.0, np.abs(s.H).max())
            np.testing.assert_allclose(diff, diff0, rtol=0, atol=1e-9 * scale)


def test_loss_matches_hand_computation():
    H = np.array([[1.0, 2.0], [3.0, -1.0]])
    v = np.array([0.5, -1.0])
    y = np.array([1.0, -1.0])
    # -[ (0.5 - 2 + b) - (1.5 + 1 + b) ] = -[-1.5 - 2.5] = 4 for any b (balanced classes)
    assert ufm_loss(H, v, y, b=3.0) == pytest.approx(4.0, abs=1e-15)  # exact arithmetic


GOOD_H, GOOD_V, GOOD_Y = np.ones((3, 2)), np.ones(2), np.array([1.0, -1.0, 1.0])
BAD_CALLS = [
    ("H0", lambda: ufm_flow_closed_form(np.ones(3), GOOD_V, GOOD_Y, 1.0)),
    ("H0", lambda: ufm_flow_closed_form(np.full((3, 2), np.nan), GOOD_V, GOOD_Y, 1.0)),
    ("H0", lambda: ufm_flow_numerical("abc", GOOD_V, GOOD_Y, 1.0)),
    ("v0", lambda: ufm_flow_closed_form(GOOD_H, np.ones(3), GOOD_Y, 1.0)),
    ("v0", lambda: ufm_flow_numerical(GOOD_H, np.array([1.0, np.inf]), GOOD_Y, 1.0)),
    ("y", lambda: ufm_flow_closed_form(GOOD_H, GOOD_V, np.array([1.0, 0.0, 1.0]), 1.0)),
    ("y", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, np.ones(2), eta=0.1, steps=1)),
    ("t", lambda: ufm_flow_closed_form(GOOD_H, GOOD_V, GOOD_Y, -0.5)),
    ("t", lambda: ufm_flow_numerical(GOOD_H, GOOD_V, GOOD_Y, np.inf)),
    ("b0", lambda: ufm_flow_closed_form(GOOD_H, GOOD_V, GOOD_Y, 1.0, b0=np.nan)),
    ("eta", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.0, steps=1)),
    ("eta", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=-1.0, steps=1)),
    ("steps", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.1, steps=-1)),
    ("steps", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.1, steps=2.5)),
    ("steps", lambda: ufm_gradient_descent(GOOD_H, GOOD_V, GOOD_Y, eta=0.1, steps=True)),
    ("rtol", lambda: ufm_flow_numerical(GOOD_H, GOOD_V, GOOD_Y, 1.0, rtol=0.0)),
    ("b", lambda: ufm_loss(GOOD_H, GOOD_V, GOOD_Y, b=np.inf)),
]


@pytest.mark.parametrize(("argument", "call"), BAD_CALLS)
def test_bad_calls_raise_ufm_input_error(argument, call):
    with pytest.raises(UFMInputError, match=rf"\b{argument}\b"):
        call()
