# References: Appendix D.3, eqs (35)-(46) of "Linear Loss Classification: Efficient Training
# Through Neural Collapse": the two-layer linear network x (d,), W (d, m), v (m,) with loss
# -v^T W^T x and gradient flow dv/dt = W^T x, dW/dt = x v^T. The closed form of
# models.two_layer_relu.linear_network is checked against
#   - sympy: it solves a'' = ||x||^2 a + W0^T x, a(0) = 0, a'(0) = v0 (eq. (43)), and equals
#     the paper's (44)-(46) term by term;
#   - scipy's DOP853 (Hairer, Norsett & Wanner, Solving ODEs I, Section II.10) on eq. (36);
#   - substitution back: a central difference of v(t) against W(t)^T x;
#   - the conserved quantity ||W||_F^2 - ||v||^2 and the limit directions of eq. (40);
# and a hand-built degenerate case (u_+ = 0) where eq. (40) fails.
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from models.two_layer_relu.linear_network import (
    LinearTrajectory,
    linear_network_closed_form,
    linear_network_limit_directions,
    linear_network_numerical,
)
from models.two_layer_relu.result import FlowInputError

FAST = settings(max_examples=25, deadline=None)

# Closed form vs DOP853 at rtol = atol = 1e-12: DOP853's global error is a few times its
# tolerance over these horizons (k t <= 4, growth e^4 ~ 55), so 1e-9 relative leaves margin.
NUMERICAL_RTOL = 1e-9


@st.composite
def linear_networks(draw, *, max_d: int = 4, max_m: int = 4):
    """(x (d,), W0 (d, m), v0 (m,), t_end) with entries in [-2, 2], ||x|| >= 0.25, ||x|| t_end <= 4.

    Cost: one draw of at most 4 + 16 + 4 floats. Shrinks towards d = m = 1 and small entries.
    """
    d = draw(st.integers(1, max_d))
    m = draw(st.integers(1, max_m))
    entries = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
    x = np.array(draw(st.lists(entries, min_size=d, max_size=d)))
    x[0] = np.copysign(max(abs(x[0]), 0.25), x[0] if x[0] != 0 else 1.0)  # ||x|| >= 0.25, constructed
    W0 = np.array(draw(st.lists(entries, min_size=d * m, max_size=d * m))).reshape(d, m)
    v0 = np.array(draw(st.lists(entries, min_size=m, max_size=m)))
    t_end = 4.0 / np.linalg.norm(x) * draw(st.floats(0.0, 1.0))
    return x, W0, v0, t_end


def relative(a, b) -> float:
    scale = max(float(np.max(np.abs(b))), 1e-300)
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) / scale


# -- symbolic check ---------------------------------------------------------------------
def test_closed_form_and_paper_eq_44_46_solve_eq_43_symbolically():
    # Componentwise: b = (W0^T x)_l, v0 = v0_l; k = ||x|| > 0.
    t = sp.symbols("t", real=True)
    k = sp.symbols("k", positive=True)
    b, v0 = sp.symbols("b v0", real=True)
    ours = b / k**2 * (sp.cosh(k * t) - 1) + v0 / k * sp.sinh(k * t)
    u_plus = (b / k**2 + v0 / k) / 2  # eq. (45)
    u_minus = (b / k**2 - v0 / k) / 2
    paper = -b / k**2 + sp.exp(k * t) * u_plus + sp.exp(-k * t) * u_minus  # eq. (44)
    paper_v = k * sp.exp(k * t) * u_plus - k * sp.exp(-k * t) * u_minus  # eq. (46)
    for a in (ours, paper):
        # simplify(...) == 0 is a proof here; a None from .equals would be inconclusive.
        assert sp.simplify(sp.diff(a, t, 2) - k**2 * a - b) == 0  # eq. (43)
        assert sp.simplify(a.subs(t, 0)) == 0
        assert sp.simplify(sp.diff(a, t).subs(t, 0) - v0) == 0
    assert sp.simplify((ours - paper).rewrite(sp.exp)) == 0
    assert sp.simplify((sp.diff(paper, t) - paper_v).rewrite(sp.exp)) == 0


# -- numerical checks ---------------------------------------------------------------------
@FAST
@given(linear_networks())
def test_closed_form_matches_dop853(problem):
    x, W0, v0, t_end = problem
    times = np.linspace(0.0, t_end, 5)
    exact = linear_network_closed_form(x, W0, v0, times)
    numeric = linear_network_numerical(x, W0, v0, times)
    for l in range(times.size):
        state = np.concatenate([exact.W[l].ravel(), exact.v[l]])
        other = np.concatenate([numeric.W[l].ravel(), numeric.v[l]])
        scale = max(np.linalg.norm(state), 1e-12)
        assert np.linalg.norm(state - other) <= NUMERICAL_RTOL * scale + 1e-12  # + floor at state 0


@FAST
@given(linear_networks())
def test_closed_form_satisfies_the_ode_and_conserves_balance(problem):
    x, W0, v0, t_end = problem
    t, h = 0.5 * t_end + 0.1, 1e-4
    traj = linear_network_closed_form(x, W0, v0, [t - h, t, t + h])
    dv = (traj.v[2] - traj.v[0]) / (2 * h)
    dW = (traj.W[2] - traj.W[0]) / (2 * h)
    scale = 1.0 + np.abs(traj.W[1]).max() + np.abs(traj.v[1]).max()
    # central difference: truncation h^2 k^3 |state| / 6 <= 1e-8 * 3^3 |state|, rounding
    # 1e-16 |state| / h = 1e-12 |state|; 1e-6 relative covers both by a wide margin.
    assert np.abs(dv - traj.W[1].T @ x).max() <= 1e-6 * scale * max(np.linalg.norm(x), 1) ** 3
    assert np.abs(dW - np.outer(x, traj.v[1])).max() <= 1e-6 * scale * max(np.linalg.norm(x), 1) ** 3
    # ||W||^2 - ||v||^2: both terms up to e^{2 k t} ~ e^8 times the data; rounding 1e-15 relative.
    b0 = traj.balance
    assert np.allclose(b0, np.sum(W0**2) - np.sum(v0**2), rtol=0, atol=1e-12 * scale**2)


def test_small_times_match_the_taylor_expansion():
    # At t = 1e-9, a(t) = t v0 + t^2 b / 2 + O(t^3) and v(t) = v0 + t b + O(t^2): the
    # remainders (<= 1e-18 relative) are below rounding, so W and v agree to 1e-15 relative.
    rng = np.random.default_rng(0)
    x, W0, v0 = rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=2)
    t = 1e-9
    traj = linear_network_closed_form(x, W0, v0, t)
    a = t * v0 + t**2 / 2 * (W0.T @ x)
    assert np.allclose(traj.W[0], W0 + np.outer(x, a), rtol=1e-15, atol=0)
    assert np.allclose(traj.v[0], v0 + t * (W0.T @ x), rtol=1e-15, atol=0)


def test_directions_converge_to_eq_40_limits():
    rng = np.random.default_rng(1)
    x, W0, v0 = rng.normal(size=4), rng.normal(size=(4, 3)), rng.normal(size=3)
    k = np.linalg.norm(x)
    v_bar, W_bar = linear_network_limit_directions(x, W0, v0)
    traj = linear_network_closed_form(x, W0, v0, 30.0 / k)
    # Distance to the limit decays like e^{-2 k t} ||W0|| / ||a|| ~ e^{-30}: 1e-10 is loose.
    assert np.allclose(traj.v[0] / np.linalg.norm(traj.v[0]), v_bar, atol=1e-10)
    assert np.allclose(traj.W[0] / np.linalg.norm(traj.W[0]), W_bar, atol=1e-10)
    assert traj.cosine[0] == pytest.approx(1.0, abs=1e-12)


def test_antialigned_balanced_start_decays_to_origin_and_eq_40_fails():
    # W0 = -x v0^T / k is balanced (||W0||_F = ||v0||) and makes u_+ = 0: a = (v0/k)(1 - e^{-kt}),
    # v(t) = v0 e^{-kt}, W(t) = -x v0^T e^{-kt} / k: the state shrinks to the saddle at the
    # origin along its initial direction, anti-aligned with x v^T.
    x, v0 = np.array([3.0, 4.0]), np.array([1.0, -2.0])
    k = 5.0
    W0 = -np.outer(x, v0) / k
    t = np.array([0.0, 0.3, 1.0])
    traj = linear_network_closed_form(x, W0, v0, t)
    decay = np.exp(-k * t)
    # rounding only: the formula subtracts cosh from sinh terms of size <= e^5
    assert np.allclose(traj.v, decay[:, None] * v0, rtol=1e-12, atol=1e-14)
    assert np.allclose(traj.W, decay[:, None, None] * W0, rtol=1e-12, atol=1e-14)
    assert np.allclose(traj.cosine, -1.0, atol=1e-12)
    with pytest.raises(FlowInputError, match="u_\\+ = 0"):
        linear_network_limit_directions(x, W0, v0)


def test_negative_control_a_sign_error_in_eq_46_is_rejected():
    # v(t) = k e^{kt} u_+ + k e^{-kt} u_- (a + instead of the - of eq. (46)) starts at
    # k (u_+ + u_-) = b / k instead of v0: the DOP853 comparison used above must reject it.
    rng = np.random.default_rng(2)
    x, W0, v0 = rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=2)
    k, b = np.linalg.norm(x), W0.T @ x
    u_plus, u_minus = (b / k**2 + v0 / k) / 2, (b / k**2 - v0 / k) / 2
    t = np.array([0.0, 0.5, 1.0])
    wrong = k * np.exp(k * t)[:, None] * u_plus + k * np.exp(-k * t)[:, None] * u_minus
    numeric = linear_network_numerical(x, W0, v0, t)
    assert relative(wrong, numeric.v) > 1e3 * NUMERICAL_RTOL
    assert relative(linear_network_closed_form(x, W0, v0, t).v, numeric.v) <= NUMERICAL_RTOL


def test_zero_input_is_constant():
    W0, v0 = np.ones((2, 3)), np.arange(3.0)
    for solve in (linear_network_closed_form, linear_network_numerical):
        traj = solve(np.zeros(2), W0, v0, [0.0, 1.0, 2.0])
        assert isinstance(traj, LinearTrajectory)
        assert np.array_equal(traj.W, np.repeat(W0[None], 3, axis=0))
        assert np.array_equal(traj.v, np.repeat(v0[None], 3, axis=0))


# -- bad arguments ------------------------------------------------------------------------
GOOD = dict(x=np.ones(2), W0=np.ones((2, 3)), v0=np.ones(3), t=1.0)


@pytest.mark.parametrize("solve", [linear_network_closed_form, linear_network_numerical])
@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(x=np.ones((2, 1))), "x"),
        (dict(x=np.array([1.0, np.nan])), "x"),
        (dict(x=np.array(["a", "b"])), "x"),
        (dict(W0=np.ones((3, 3))), "W0"),
        (dict(W0=np.ones(2)), "W0"),
        (dict(v0=np.ones(2)), "v0"),
        (dict(v0=np.array([1.0, np.inf, 0.0])), "v0"),
        (dict(t=-1.0), "t"),
        (dict(t=[1.0, 0.5]), "t"),
        (dict(t=np.nan), "t"),
        (dict(t="soon"), "t"),
    ],
)
def test_bad_arguments_raise_flow_input_error_naming_them(solve, bad, name):
    args = {**GOOD, **bad}
    with pytest.raises(FlowInputError, match=f"^{name} "):
        solve(args["x"], args["W0"], args["v0"], args["t"])


@pytest.mark.parametrize("bad, name", [(dict(rtol=0.0), "rtol"), (dict(atol=-1.0), "atol")])
def test_bad_tolerances_raise(bad, name):
    with pytest.raises(FlowInputError, match=f"^{name} "):
        linear_network_numerical(GOOD["x"], GOOD["W0"], GOOD["v0"], 1.0, **bad)
