# References: Appendix D.4, eqs (47)-(52), and Appendix B.2 of "Linear Loss Classification:
# Efficient Training Through Neural Collapse" (weight-normalised gradient flows under the
# linear loss of eq. (2)). The flows of models.two_layer_relu.normalised are checked against
# independent solutions:
#   - the exact event-driven linear-loss solver (models.two_layer_relu.gradient_flow): under
#     balance |v_j(0)| = ||w_j(0)|| the per-neuron flow moves each direction w_j/||w_j|| as
#     the unnormalised flow does (d/dt w_hat = sgn(v_j) (I - w_hat w_hat^T) a_j in both), and
#     under ||W(0)||_F = ||v(0)|| the per-layer flow is the unnormalised one radially
#     projected (the unnormalised field is linear in (W, v) within an activation region, and
#     <G_W, W> = <G_v, v> = -L makes the per-layer projection the joint-sphere projection);
#   - closed forms: a great circle with tan(phi/2) = tan(phi_0/2) e^{-kappa t} for one
#     neuron with a fixed active set, and the replicator equation
#     rho' = 2 rho (1 - rho)(||x_+|| - ||x_-||) for two aligned groups under whole-layer
#     normalisation (rho = share of ||v||^2 held by the positive group);
#   - eqs (50)-(51) integrated literally (per_layer_flow_linear) against the ReLU engine on
#     an instance whose activations never change, and against the m = 1 great circle.
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.two_layer_relu import gradient_flow
from models.two_layer_relu.normalised import (
    per_layer_flow_linear,
    per_layer_normalised_flow,
    per_neuron_normalised_flow,
)
from models.two_layer_relu.result import STATUS_OK, FlowInputError
from relu_instances import separable_data

FAST = settings(max_examples=10, deadline=None)

# Norms: the field is tangent to the spheres and restart states are projected back, so the
# drift is DOP853's error over one piece (rtol = 1e-10 per step): observed <= 4e-11.
NORM_ATOL = 1e-9
# Two DOP853 (rtol = 1e-10) trajectories, or one against a closed form: global error of a
# few 1e-10 on these O(1) horizons (observed <= 7e-11); 1e-8 leaves margin.
STATE_ATOL = 1e-8
# Event times located by DOP853 root finding on its dense output (error ~ rtol) against the
# exact solver's closed-form roots: observed <= 3e-11.
EVENT_ATOL = 1e-9


# -- instances ---------------------------------------------------------------------------

def balanced_init(rng, h: int, d: int, signs):
    """Random W0 (h, d) and v0 = signs * ||w_j|| (Assumption 2)."""
    W0 = rng.normal(size=(h, d)) * 0.5
    return W0, np.linalg.norm(W0, axis=1) * np.asarray(signs, dtype=float)


def aligned_init(rng, X, y, signs):
    """w_j = sgn(v_j) sum_i lambda_ij y_i x_i (lambda > 0), so w_j is in S_+ (v_j > 0) or S_-
    (v_j < 0): no activation ever changes (Appendix D.2); balanced."""
    signs = np.asarray(signs, dtype=float)
    lam = rng.uniform(0.1, 1.0, size=(signs.size, X.shape[0]))
    W0 = signs[:, None] * (lam @ (y[:, None] * X)) / X.shape[0]
    return W0, signs * np.linalg.norm(W0, axis=1)


def directions(W):
    return W / np.linalg.norm(W, axis=1)[:, None]


def event_keys(result):
    return [(e.neuron, e.sample, e.direction) for e in result.events]


# -- agreement with the exact unnormalised flow ------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_neuron_flow_moves_directions_like_the_exact_flow_under_balance(seed):
    rng = np.random.default_rng(seed)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = balanced_init(rng, 5, 3, [1, -1, 1, -1, 1])
    exact = gradient_flow(X, y, W0, v0, 2.0)
    normed = per_neuron_normalised_flow(X, y, W0, v0, 2.0)
    assert exact.status == normed.status == STATUS_OK
    assert len(exact.events) > 0  # the comparison goes through activation changes
    assert event_keys(normed) == event_keys(exact)
    assert max(abs(a.time - b.time) for a, b in zip(exact.events, normed.events)) <= EVENT_ATOL
    for t in np.linspace(0.0, 2.0, 9):
        W_e, _ = exact.state_at(t)
        W_n, v_n = normed.state_at(t)
        assert np.abs(directions(W_n) - directions(W_e)).max() <= STATE_ATOL
        # a 0-sphere has no tangent: v is frozen; FlowResult rebuilds it as unit * e^{log-norm},
        # which costs a few ulps (1e-14 relative).
        assert np.allclose(v_n, v0, rtol=1e-14, atol=0)


def test_negative_control_without_balance_the_directions_differ():
    # The identity above rests on |v_j| = ||w_j||: with |v_j| = 2 ||w_j|| the normalised
    # directions move at half the unnormalised angular speed, and the comparison must fail.
    rng = np.random.default_rng(0)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = balanced_init(rng, 5, 3, [1, -1, 1, -1, 1])
    exact = gradient_flow(X, y, W0, v0, 1.0)
    normed = per_neuron_normalised_flow(X, y, 2.0 * W0, v0, 1.0)
    W_e, _ = exact.state_at(1.0)
    W_n, _ = normed.state_at(1.0)
    assert np.abs(directions(W_n) - directions(W_e)).max() > 1e3 * STATE_ATOL


@pytest.mark.parametrize("form", ["projected", "eq49"])
def test_per_layer_flow_is_the_exact_flow_radially_projected(form):
    rng = np.random.default_rng(5)
    X, y = separable_data(rng, 4, 4, 3)
    W0, v0 = balanced_init(rng, 5, 3, [1, -1, 1, -1, 1])  # hence ||W0||_F = ||v0|| = R
    R = np.linalg.norm(v0)
    # eq49 divides the field by ||v|| ||W|| = R^2: the same path at time t / R^2.
    speed = 1.0 if form == "projected" else 1.0 / R**2
    T = 2.0
    normed = per_layer_normalised_flow(X, y, W0, v0, T / speed, form=form)
    exact = gradient_flow(X, y, W0, v0, T)
    assert event_keys(normed) == event_keys(exact) and len(exact.events) > 0
    for t in np.linspace(0.0, T, 9):
        theta = np.concatenate([m.ravel() for m in exact.state_at(t)])
        expected = np.sqrt(2.0) * R * theta / np.linalg.norm(theta)
        got = np.concatenate([m.ravel() for m in normed.state_at(t / speed)])
        assert np.abs(got - expected).max() <= STATE_ATOL * R


def test_sign_blocks_are_the_exact_flow_projected_group_by_group():
    rng = np.random.default_rng(6)
    X, y = separable_data(rng, 3, 3, 3)
    signs = np.array([1, -1, 1, -1])
    W0, v0 = balanced_init(rng, 4, 3, signs)
    normed = per_layer_normalised_flow(X, y, W0, v0, 2.0, blocks="sign")
    exact = gradient_flow(X, y, W0, v0, 2.0)
    assert event_keys(normed) == event_keys(exact)
    for t in (0.7, 2.0):
        W_e, v_e = exact.state_at(t)
        W_n, v_n = normed.state_at(t)
        for group in (signs > 0, signs < 0):
            R = np.linalg.norm(v0[group])
            theta = np.concatenate([W_e[group].ravel(), v_e[group]])
            got = np.concatenate([W_n[group].ravel(), v_n[group]])
            assert np.abs(got - np.sqrt(2.0) * R * theta / np.linalg.norm(theta)).max() <= STATE_ATOL * R


# -- norms ---------------------------------------------------------------------------------
def _norm_errors(result, W0, v0, kind):
    worst = 0.0
    for t in np.linspace(0.0, result.t_end, 41):
        W, v = result.state_at(t)
        if kind == "neuron":
            worst = max(worst, np.abs(np.linalg.norm(W, axis=1) - np.linalg.norm(W0, axis=1)).max())
        else:
            worst = max(worst, abs(np.linalg.norm(W) - np.linalg.norm(W0)))
        worst = max(worst, abs(np.linalg.norm(v) - np.linalg.norm(v0)))
    return worst


@pytest.mark.parametrize(
    "flow, options, kind",
    [
        (per_neuron_normalised_flow, dict(), "neuron"),
        (per_neuron_normalised_flow, dict(form="eq47"), "neuron"),
        (per_neuron_normalised_flow, dict(output="layer"), "neuron"),
        (per_layer_normalised_flow, dict(), "layer"),
        (per_layer_normalised_flow, dict(form="eq49", blocks="sign"), "layer"),
    ],
)
def test_norms_are_kept(flow, options, kind):
    rng = np.random.default_rng(7)
    X, y = separable_data(rng, 4, 3, 3)
    W0, v0 = rng.normal(size=(4, 3)), rng.normal(size=4)  # unbalanced on purpose
    result = flow(X, y, W0, v0, 3.0, **options)
    assert result.status == STATUS_OK
    assert _norm_errors(result, W0, v0, kind) <= NORM_ATOL


def test_layer_output_moves_v_on_its_sphere():
    rng = np.random.default_rng(8)
    X, y = separable_data(rng, 3, 3, 3)
    W0, v0 = balanced_init(rng, 4, 3, [1, -1, 1, -1])
    result = per_neuron_normalised_flow(X, y, W0, v0, 1.0, output="layer")
    _, v = result.state_at(1.0)
    assert np.linalg.norm(v - v0) > 1e-3  # it moves (by O(1) here) ...
    assert abs(np.linalg.norm(v) - np.linalg.norm(v0)) <= NORM_ATOL  # ... on its sphere


# -- closed forms --------------------------------------------------------------------------
def test_single_neuron_with_fixed_active_set_follows_a_great_circle():
    # One neuron, v > 0, w in S_+ of orthogonally separable data: its active set is fixed,
    # a = sum_{y_i = +1} x_i, and u = w/r moves as du/dt = (v/r)(I - u u^T) a, so the angle
    # phi to a obeys phi' = -(v ||a|| / r) sin(phi): tan(phi/2) = tan(phi_0/2) e^{-kappa t}.
    rng = np.random.default_rng(9)
    X, y = separable_data(rng, 3, 3, 3)
    W0, v0 = aligned_init(rng, X, y, [1.0])
    W0 = W0 + 0.3 * np.array([[0.0, 1.0, -1.0]]) * np.linalg.norm(W0)  # rotate away from a
    assert np.all((W0 @ X.T > 0) == (y > 0))  # still in S_+
    v0 = np.array([0.8])  # unbalanced: the speed is v/r
    result = per_neuron_normalised_flow(X, y, W0, v0, 3.0)
    assert result.events == []
    a = X[y > 0].sum(axis=0)
    r = np.linalg.norm(W0[0])
    kappa = v0[0] * np.linalg.norm(a) / r
    a_hat, u0 = a / np.linalg.norm(a), W0[0] / r
    phi0 = np.arccos(u0 @ a_hat)
    e2 = (u0 - (u0 @ a_hat) * a_hat) / np.sin(phi0)  # the great circle's plane
    for t in np.linspace(0.0, 3.0, 7):
        phi = 2 * np.arctan(np.tan(phi0 / 2) * np.exp(-kappa * t))
        W, _ = result.state_at(t)
        assert np.abs(W[0] - r * (np.cos(phi) * a_hat + np.sin(phi) * e2)).max() <= STATE_ATOL * r


def test_eq47_form_is_the_projected_form_with_neuron_time_rescaled():
    # Projected: w_hat' = (|v_j|/r_j) sgn(v_j) (I - P) a_j; eq. (47): (1/r_j^2) sgn(v_j) (I - P) a_j.
    # Neurons decouple, so neuron j of eq47 at time t is neuron j of projected at t / (r_j |v_j|).
    rng = np.random.default_rng(10)
    X, y = separable_data(rng, 3, 3, 3)
    W0, v0 = rng.normal(size=(3, 3)), np.array([1.5, -0.4, 0.9])
    factor = np.linalg.norm(W0, axis=1) * np.abs(v0)
    eq47 = per_neuron_normalised_flow(X, y, W0, v0, 2.0, form="eq47")
    proj = per_neuron_normalised_flow(X, y, W0, v0, 2.0 / factor.min() + 1e-9)
    for t in (0.5, 1.2, 2.0):
        W47, _ = eq47.state_at(t)
        for j in range(3):
            Wp, _ = proj.state_at(t / factor[j])
            assert np.abs(W47[j] - Wp[j]).max() <= STATE_ATOL * np.linalg.norm(W0[j])


def test_whole_layer_normalisation_keeps_the_class_asymmetry():
    # Two aligned neurons on data along +-e_1: w_1 = a e_1, v_1 = a (S_+); w_2 = -b e_1,
    # v_2 = -b (S_-); ||x_+|| = 4, ||x_-|| = 2. The flow stays in this family with a^2 + b^2 = R^2
    # and rho = a^2/R^2 solving rho' = 2 rho (1 - rho)(4 - 2): rho -> 1, so s_-/s_+ = b/a -> 0
    # exactly as without normalisation. Per-group normalisation (blocks="sign") fixes a and b.
    X = np.array([[2.0, 0.5], [2.0, -0.5], [-1.0, 0.5], [-1.0, -0.5]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    a0, b0 = 0.6, 0.8
    W0, v0 = np.array([[a0, 0.0], [-b0, 0.0]]), np.array([a0, -b0])
    layer = per_layer_normalised_flow(X, y, W0, v0, 2.0)
    groups = per_layer_normalised_flow(X, y, W0, v0, 2.0, blocks="sign")
    rho0 = a0**2
    for t in np.linspace(0.0, 2.0, 5):
        rho = rho0 * np.exp(4 * t) / (1 - rho0 + rho0 * np.exp(4 * t))
        _, v = layer.state_at(t)
        assert v[0] ** 2 == pytest.approx(rho, abs=STATE_ATOL)
        _, v_groups = groups.state_at(t)
        assert np.abs(v_groups - v0).max() <= STATE_ATOL


# -- eqs (50)-(51) for the linear network ----------------------------------------------------
def test_eq_50_51_match_the_relu_engine_when_activations_never_change():
    # One positive sample x, v_j > 0, <w_j, x> > 0: at <w_j, x> = 0 the rate is v_j ||x||^2 / (R_v R_W) > 0
    # and at v_j = 0 the rate of v_j is <w_j, x> / (R_v R_W) > 0, so nothing changes sign and the
    # ReLU network is the linear network -v^T W^T x with the paper's W = our W^T.
    rng = np.random.default_rng(11)
    x = np.array([1.0, 0.5, -0.3])
    W0 = np.abs(rng.normal(size=(3, 3))) * np.sign(x) + 0.1
    assert np.all(W0 @ x > 0)
    v0 = rng.uniform(0.2, 1.0, size=3)
    relu = per_layer_normalised_flow(x[None], np.array([1.0]), W0, v0, 3.0, form="eq49")
    assert relu.events == []
    times = np.linspace(0.0, 3.0, 7)
    linear = per_layer_flow_linear(x, W0.T, v0, 3.0, t_eval=times)
    for l, t in enumerate(times):
        W, v = relu.state_at(t)
        assert np.abs(W.T - linear.W[l]).max() <= STATE_ATOL
        assert np.abs(v - linear.v[l]).max() <= STATE_ATOL


def test_eq_50_51_with_one_neuron_follow_a_great_circle():
    # m = 1: v is a scalar of fixed |v| (frozen), W = w (d, 1) on its sphere of radius R, and
    # w' = (sgn v / R) (I - w w^T/R^2) x: the angle to sgn(v) x obeys phi' = -(||x||/R^2) sin(phi).
    x = np.array([2.0, 1.0])
    R = 1.5
    w0 = R * np.array([np.cos(2.5), np.sin(2.5)])
    v0 = np.array([0.7])
    times = np.linspace(0.0, 2.0, 5)
    traj = per_layer_flow_linear(x, w0[:, None], v0, 2.0, t_eval=times)
    x_hat = x / np.linalg.norm(x)
    phi0 = np.arccos(w0 @ x_hat / R)
    e2 = (w0 / R - np.cos(phi0) * x_hat) / np.sin(phi0)
    for l, t in enumerate(times):
        phi = 2 * np.arctan(np.tan(phi0 / 2) * np.exp(-np.linalg.norm(x) * t / R**2))
        # 1e-9: DOP853 at rtol = atol = 1e-12 on an O(1) horizon
        assert np.abs(traj.W[l][:, 0] - R * (np.cos(phi) * x_hat + np.sin(phi) * e2)).max() <= 1e-9
        assert traj.v[l][0] == pytest.approx(0.7, abs=1e-12)


def _at_least(value: float, floor: float) -> float:
    return float(np.copysign(max(abs(value), floor), value if value != 0 else 1.0))


@st.composite
def linear_instances(draw, *, max_d: int = 4, max_m: int = 4):
    """(x (d,), W0 (d, m), v0 (m,)) with entries in [-1, 1] and the first entry of each pushed
    to |.| >= 0.25, so that no argument is 0 (eqs (50)-(51) divide by ||v|| ||W||).

    Cost: at most 24 floats. Shrinks towards d = m = 1 and entries of size 0.25.
    """
    d, m = draw(st.integers(1, max_d)), draw(st.integers(1, max_m))
    entries = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)
    x = np.array(draw(st.lists(entries, min_size=d, max_size=d)))
    W0 = np.array(draw(st.lists(entries, min_size=d * m, max_size=d * m))).reshape(d, m)
    v0 = np.array(draw(st.lists(entries, min_size=m, max_size=m)))
    x[0], W0[0, 0], v0[0] = _at_least(x[0], 0.25), _at_least(W0[0, 0], 0.25), _at_least(v0[0], 0.25)
    return x, W0, v0


@FAST
@given(linear_instances())
def test_eq_50_51_keep_norms_and_increase_the_alignment(instance):
    x, W0, v0 = instance
    traj = per_layer_flow_linear(x, W0, v0, 5.0, t_eval=np.linspace(0.0, 5.0, 51))
    # rtol = atol = 1e-12, tangent field: drift ~1e-12 over the horizon
    assert np.abs(np.linalg.norm(traj.v, axis=1) - np.linalg.norm(v0)).max() <= NORM_ATOL
    assert np.abs(np.linalg.norm(traj.W, axis=(1, 2)) - np.linalg.norm(W0)).max() <= NORM_ATOL
    # D.4: c = v^T W^T x is nondecreasing (up to the solver's 1e-12-level noise)
    assert np.all(np.diff(traj.cosine) >= -1e-10)


# -- bad arguments ---------------------------------------------------------------------------
X_OK, Y_OK = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
W_OK, V_OK = np.ones((2, 2)), np.array([1.0, -1.0])


@pytest.mark.parametrize("flow", [per_neuron_normalised_flow, per_layer_normalised_flow])
@pytest.mark.parametrize(
    "bad, name",
    [
        (dict(X=np.ones(2)), "X"),
        (dict(y=np.array([1.0, 0.0])), "y"),
        (dict(W0=np.ones((2, 3))), "W0"),
        (dict(v0=np.ones(3)), "v0"),
        (dict(t_end=-1.0), "t_end"),
        (dict(rtol=0.0), "rtol"),
        (dict(atol=np.inf), "atol"),
        (dict(max_events=-1), "max_events"),
        (dict(form="spherical"), "form"),
    ],
)
def test_bad_arguments_raise_flow_input_error_naming_them(flow, bad, name):
    args = dict(X=X_OK, y=Y_OK, W0=W_OK, v0=V_OK, t_end=1.0)
    options = {key: value for key, value in bad.items() if key not in args}
    args.update({key: value for key, value in bad.items() if key in args})
    with pytest.raises(FlowInputError, match=f"^{name} "):
        flow(args["X"], args["y"], args["W0"], args["v0"], args["t_end"], **options)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: per_neuron_normalised_flow(X_OK, Y_OK, W_OK, V_OK, 1.0, output="row"), "output"),
        (lambda: per_neuron_normalised_flow(X_OK, Y_OK, W_OK, V_OK, 1.0, form="eq47", output="layer"), "output"),
        (lambda: per_layer_normalised_flow(X_OK, Y_OK, W_OK, V_OK, 1.0, blocks="column"), "blocks"),
        (lambda: per_layer_flow_linear(np.ones(2), np.zeros((2, 2)), np.ones(2), 1.0), "W0"),
        (lambda: per_layer_flow_linear(np.ones(2), np.ones((2, 2)), np.ones(2), -1.0), "t_end"),
        (lambda: per_layer_flow_linear(np.ones(2), np.ones((2, 2)), np.ones(2), 1.0, t_eval=[2.0]), "t_eval"),
        (lambda: per_layer_flow_linear(np.ones(3), np.ones((2, 2)), np.ones(2), 1.0), "W0"),
    ],
)
def test_bad_options_raise_flow_input_error_naming_them(call, name):
    with pytest.raises(FlowInputError, match=f"^{name} "):
        call()
