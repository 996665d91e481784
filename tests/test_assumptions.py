# References: Section 5.2 (Assumptions 1-3) and Appendix D.2 (eq (22)) of "Linear Loss
# Classification: Efficient Training Through Neural Collapse"; the small-init regime of
# Min, Mallada & Vidal (2024). Each assumption's test is checked on hand-built instances,
# and each generator against every registered test over many draws.
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from claims.assumptions import (
    ASSUMPTIONS,
    BALANCED_INIT,
    DYNAMICS_IDS,
    EQUAL_CLASS_SIZES,
    ETA_FRACTION_RANGE,
    GRADIENT_FLOW,
    LINEAR_LOSS,
    NON_EXTREME_INIT,
    ORTHOGONAL_SEPARABILITY,
    SMALL_INIT,
    AssumptionArgumentError,
    UnknownAssumptionError,
    get_assumption,
    instances,
)
from models.data_geometry import margin_mu

MANY = settings(max_examples=100, deadline=None)
# find() only needs generation and shrinking; the explain phase would re-run the
# minimal example dozens of times for nothing. No example database: nothing is replayed.
SHRINK = settings(database=None, phases=(Phase.generate, Phase.shrink))

# margin_mu computes cosines with a few ulps of rounding (~1e-16); the constructed margin
# is exact in real arithmetic, so 1e-12 separates rounding from a broken construction.
MARGIN_ROUNDING = 1e-12

ALL = list(ASSUMPTIONS.values())
IDS = [a.id for a in ALL]


def verdicts(instance):
    return {a.id: a.test(instance) for a in ALL}


def check_well_formed(instance):
    assert set(instance) <= {"X", "y", "W0", "v0", "eta", "logistic"}
    for key in ("eta", "logistic"):
        if key in instance:
            assert instance[key].dtype == np.float64 and instance[key].shape == ()
    X, y, W0, v0 = instance["X"], instance["y"], instance["W0"], instance["v0"]
    n, d = X.shape
    h = W0.shape[0]
    assert all(a.dtype == np.float64 for a in (X, y, W0, v0))
    assert y.shape == (n,) and W0.shape == (h, d) and v0.shape == (h,)
    assert set(np.unique(y)) == {-1.0, 1.0}  # both classes non-empty
    assert all(np.all(np.isfinite(a)) for a in (X, y, W0, v0))
    norms = np.linalg.norm(X, axis=1)
    # Radii are drawn in [0.1, 10]; the unit directions carry a few ulps of rounding.
    assert np.all(norms >= 0.1 * (1 - 1e-12)) and np.all(norms <= 10.0 * (1 + 1e-12))


# -- the registry --------------------------------------------------------------------------


def test_registry_holds_the_seven_assumptions():
    assert IDS == [
        "orthogonal-separability",
        "equal-class-sizes",
        "balanced-init",
        "non-extreme-init",
        "small-init",
        "gradient-flow",
        "linear-loss",
    ]
    assert DYNAMICS_IDS == ("gradient-flow", "linear-loss")
    assert ORTHOGONAL_SEPARABILITY.paper_ref == "Assumption 1"
    assert BALANCED_INIT.paper_ref == "Assumption 2"
    assert NON_EXTREME_INIT.paper_ref == "Assumption 3"
    for a in ALL:
        assert get_assumption(a.id) is a


def test_unknown_assumption_names_it_and_lists_valid_ids():
    with pytest.raises(UnknownAssumptionError) as caught:
        get_assumption("separability")
    message = str(caught.value)
    assert "'separability'" in message
    assert all(a_id in message for a_id in IDS)
    assert isinstance(caught.value, KeyError)


# -- each test on hand-built instances ------------------------------------------------------


def make(X, y, W0, v0):
    return {k: np.array(v, dtype=np.float64) for k, v in dict(X=X, y=y, W0=W0, v0=v0).items()}


GOOD = make(X=[[1.0, 0.0], [-1.0, 0.2]], y=[1.0, -1.0], W0=[[0.0, 0.001]], v0=[0.001])


def test_hand_built_good_instance_satisfies_all():
    assert verdicts(GOOD) == dict.fromkeys(IDS, True)


def test_orthogonal_separability_hand_built():
    # Same point, opposite labels: cos(y_1 x_1, y_2 x_2) = -1.
    bad = dict(GOOD, X=np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert not ORTHOGONAL_SEPARABILITY.test(bad)
    # Orthogonal y_i x_i: margin 0, and Assumption 1 needs mu > 0.
    edge = dict(GOOD, X=np.array([[1.0, 0.0], [0.0, -1.0]]))
    assert not ORTHOGONAL_SEPARABILITY.test(edge)


def test_equal_class_sizes_hand_built():
    bad = make(X=[[1.0], [2.0], [-1.0]], y=[1.0, 1.0, -1.0], W0=[[0.001]], v0=[0.001])
    assert not EQUAL_CLASS_SIZES.test(bad)


def test_balanced_init_tolerates_rounding_only():
    w = np.array([[3e-3, 4e-3]])  # ||w|| = 5e-3
    ulps = dict(GOOD, W0=w, v0=np.array([-5e-3 * (1 + 4e-16)]))
    assert BALANCED_INIT.test(ulps)
    off = dict(GOOD, W0=w, v0=np.array([5e-3 * (1 + 1e-9)]))
    assert not BALANCED_INIT.test(off)


def test_non_extreme_init_hand_built():
    # x_+ = (1, 0), x_- = (-1, 0.2).
    parallel_to_x_minus = dict(GOOD, W0=np.array([[-0.005, 0.001]]), v0=np.array([np.hypot(0.005, 0.001)]))
    assert not NON_EXTREME_INIT.test(parallel_to_x_minus)
    # Same w with v < 0: the condition is about x_+, which w is not parallel to.
    flipped = dict(parallel_to_x_minus, v0=-parallel_to_x_minus["v0"])
    assert NON_EXTREME_INIT.test(flipped)
    parallel_to_x_plus = dict(GOOD, W0=np.array([[0.002, 0.0]]), v0=np.array([-0.002]))
    assert not NON_EXTREME_INIT.test(parallel_to_x_plus)


def test_non_extreme_init_in_one_dimension():
    # x_+ = 2, x_- = -1: for v > 0, w must not point along x_- (negative), so w > 0 is fine.
    base = make(X=[[2.0], [-1.0]], y=[1.0, -1.0], W0=[[0.001]], v0=[0.001])
    assert NON_EXTREME_INIT.test(base)
    assert not NON_EXTREME_INIT.test(dict(base, W0=np.array([[-0.001]])))
    assert not NON_EXTREME_INIT.test(dict(base, v0=np.array([-0.001])))


def test_dynamics_assumptions_hand_built():
    # Absent keys are the paper's setting; logistic = 0.0 also means the linear loss.
    assert GRADIENT_FLOW.test(GOOD) and LINEAR_LOSS.test(GOOD)
    assert not GRADIENT_FLOW.test(dict(GOOD, eta=np.array(0.01)))
    assert not GRADIENT_FLOW.test(dict(GOOD, eta=np.array([0.01])))
    assert LINEAR_LOSS.test(dict(GOOD, logistic=np.array(0.0)))
    assert not LINEAR_LOSS.test(dict(GOOD, logistic=np.array(1.0)))
    # They read no data: an instance with only the variant key can be tested.
    assert GRADIENT_FLOW.arrays == () and LINEAR_LOSS.arrays == ()
    assert not GRADIENT_FLOW.test({"eta": np.array(0.1)})
    with pytest.raises(AssumptionArgumentError, match="instance\\['eta'\\] must be one finite number"):
        GRADIENT_FLOW.test(dict(GOOD, eta=np.array([0.1, 0.2])))
    with pytest.raises(AssumptionArgumentError, match="instance\\['logistic'\\] must be one finite number"):
        LINEAR_LOSS.test(dict(GOOD, logistic=np.array(np.nan)))


def test_assumption_arrays_are_what_the_tests_read():
    # Each test gives GOOD's answer (it satisfies every assumption) on an instance holding only its
    # declared arrays, and cannot be evaluated once one of them is missing.
    for a in ALL:
        assert a.test({k: GOOD[k] for k in a.arrays}) is True, a.id
        for missing in a.arrays:
            with pytest.raises((KeyError, AssumptionArgumentError)):
                a.test({k: GOOD[k] for k in a.arrays if k != missing})


@MANY
@given(data=st.data())
def test_gradient_flow_violator_step_scale(data):
    # eta = c / sum_i ||x_i||, c in [0.01, 0.2]: eta ||x_a(w)|| <= c for every active set.
    inst = data.draw(GRADIENT_FLOW.violating())
    c = float(inst["eta"]) * np.linalg.norm(inst["X"], axis=1).sum()
    # 1e-12: c is recovered through one division and one sum of <= 8 norms.
    assert ETA_FRACTION_RANGE[0] * (1 - 1e-12) <= c <= ETA_FRACTION_RANGE[1] * (1 + 1e-12)
    assert "logistic" not in inst


@MANY
@given(data=st.data())
def test_dynamics_ids_are_never_left_free(data):
    # satisfy= naming data assumptions only: the dynamics stay the paper's (no eta, no logistic).
    inst = data.draw(instances(satisfy=["balanced-init"]))
    assert "eta" not in inst and "logistic" not in inst
    inst = data.draw(LINEAR_LOSS.violating())
    assert float(inst["logistic"]) == 1.0 and "eta" not in inst


def test_small_init_bound_is_relative_to_the_largest_point():
    # max ||x_i|| = 2, so the bound is 1e-2 / 2 = 5e-3 on ||w_j|| and |v_j|.
    base = make(X=[[2.0, 0.0], [-1.0, 0.0]], y=[1.0, -1.0], W0=[[0.0, 5e-3]], v0=[5e-3])
    assert SMALL_INIT.test(base)
    assert not SMALL_INIT.test(dict(base, v0=np.array([5.1e-3])))
    assert not SMALL_INIT.test(dict(base, W0=np.array([[0.0, 6e-3]])))


# -- generators against every test ---------------------------------------------------------


@pytest.mark.parametrize("assumption", ALL, ids=IDS)
@MANY
@given(data=st.data())
def test_satisfying_instances_satisfy_every_assumption(assumption, data):
    instance = data.draw(assumption.satisfying())
    check_well_formed(instance)
    assert verdicts(instance) == dict.fromkeys(IDS, True)


# Every violation is compatible with all other assumptions holding: the generator builds
# sizes, data and initialisation in independent stages, so for each assumption the
# violator keeps the other four. The one constraint is on sizes: unequal classes need
# n >= 3 (both classes non-empty).
@pytest.mark.parametrize("assumption", ALL, ids=IDS)
@MANY
@given(data=st.data())
def test_violating_instances_violate_only_that_assumption(assumption, data):
    instance = data.draw(assumption.violating())
    check_well_formed(instance)
    expected = dict.fromkeys(IDS, True)
    expected[assumption.id] = False
    assert verdicts(instance) == expected


@MANY
@given(data=st.data())
def test_all_violations_at_once(data):
    instance = data.draw(instances(violate=IDS))
    check_well_formed(instance)
    assert verdicts(instance) == dict.fromkeys(IDS, False)


@MANY
@given(data=st.data())
def test_only_the_named_assumptions_are_guaranteed(data):
    # satisfy= names what must hold; the other three are free (a drawn coin).
    instance = data.draw(instances(satisfy=["balanced-init", "small-init"]))
    check_well_formed(instance)
    result = verdicts(instance)
    assert result["balanced-init"] and result["small-init"]


@MANY
@given(data=st.data())
def test_orthogonal_separability_honours_mu(data):
    mu = data.draw(st.floats(min_value=1e-6, max_value=1.0), label="mu")
    good = data.draw(ORTHOGONAL_SEPARABILITY.satisfying(mu=mu), label="good")
    assert margin_mu(good["X"], good["y"]) >= mu - MARGIN_ROUNDING
    # The violator mislabels a set of points: those pairs have cosine <= -mu.
    bad = data.draw(ORTHOGONAL_SEPARABILITY.violating(mu=mu), label="bad")
    assert margin_mu(bad["X"], bad["y"]) <= -mu + MARGIN_ROUNDING


@MANY
@given(data=st.data())
def test_violators_are_clearly_violating(data):
    # Balanced-init: some neuron off by a factor in [1.5, 4] or [0.25, 0.67].
    inst = data.draw(BALANCED_INIT.violating())
    ratios = np.abs(inst["v0"]) / np.linalg.norm(inst["W0"], axis=1)
    assert np.any((ratios >= 1.5 - 1e-12) | (ratios <= 0.67 + 1e-12))
    # Small-init: at least 100 times the bound 1e-2 / max ||x_i||.
    inst = data.draw(SMALL_INIT.violating())
    bound = 1e-2 / np.linalg.norm(inst["X"], axis=1).max()
    assert np.linalg.norm(inst["W0"], axis=1).min() >= 100 * bound * (1 - 1e-12)


@MANY
@given(data=st.data())
def test_non_extreme_satisfying_keeps_a_gap(data):
    inst = data.draw(NON_EXTREME_INIT.satisfying())
    x_plus = inst["X"][inst["y"] == 1].sum(axis=0)
    x_minus = inst["X"][inst["y"] == -1].sum(axis=0)
    for w, v in zip(inst["W0"], inst["v0"]):
        c = x_minus if v > 0 else x_plus
        # The generator keeps cos <= 1 - 1e-6 (plus rounding of the scaling, ~1e-16).
        assert np.dot(w, c) / (np.linalg.norm(w) * np.linalg.norm(c)) <= 1 - 1e-6 + 1e-12


# -- shrinking -----------------------------------------------------------------------------


@pytest.mark.parametrize("assumption", ALL, ids=IDS)
def test_satisfying_shrinks_to_minimal_sizes(assumption):
    minimal = find(assumption.satisfying(), lambda instance: True, settings=SHRINK)
    assert minimal["X"].shape == (2, 1)
    assert minimal["W0"].shape == (1, 1)


@pytest.mark.parametrize("assumption", ALL, ids=IDS)
def test_violating_shrinks_to_minimal_sizes(assumption):
    minimal = find(assumption.violating(), lambda instance: True, settings=SHRINK)
    n_min = 3 if assumption is EQUAL_CLASS_SIZES else 2  # unequal classes need n >= 3
    assert minimal["X"].shape == (n_min, 1)
    assert minimal["W0"].shape == (1, 1)
    assert not assumption.test(minimal)


def test_minimal_good_instance_is_the_documented_one():
    minimal = find(instances(), lambda instance: True, settings=SHRINK)
    np.testing.assert_array_equal(minimal["X"], [[1.0], [-1.0]])
    np.testing.assert_array_equal(minimal["y"], [1.0, -1.0])
    np.testing.assert_array_equal(minimal["W0"], [[0.005]])
    np.testing.assert_array_equal(minimal["v0"], [0.005])


# -- bad arguments: one table --------------------------------------------------------------

BAD_CALLS = [
    ("min_n 1", lambda: instances(min_n=1), AssumptionArgumentError, "min_n must be an integer >= 2; got 1"),
    ("max_n < min_n", lambda: instances(min_n=5, max_n=4), AssumptionArgumentError, "max_n must be >= min_n=5; got max_n=4"),
    ("min_d 0", lambda: instances(min_d=0), AssumptionArgumentError, "min_d must be an integer >= 1; got 0"),
    ("max_h float", lambda: instances(max_h=2.5), AssumptionArgumentError, "max_h must be an integer >= 1; got 2.5"),
    ("mu 0", lambda: instances(mu=0.0), AssumptionArgumentError, "mu must be a real number in .*; got 0.0"),
    ("mu > 1", lambda: instances(mu=1.5), AssumptionArgumentError, "got 1.5"),
    ("unknown violate", lambda: instances(violate="margin"), UnknownAssumptionError, "'margin'"),
    ("unknown satisfy", lambda: instances(satisfy=["margin"]), UnknownAssumptionError, "'margin'"),
    ("both", lambda: instances(satisfy=["small-init"], violate="small-init"), AssumptionArgumentError, "both name small-init"),
    ("no even n", lambda: instances(min_n=3, max_n=3), AssumptionArgumentError, "min_n=3, max_n=3"),
    ("no unequal n", lambda: EQUAL_CLASS_SIZES.violating(max_n=2), AssumptionArgumentError, "got max_n=2"),
    ("violate in satisfying", lambda: SMALL_INIT.satisfying(violate="small-init"), AssumptionArgumentError, "violate='small-init'"),
    ("missing array", lambda: SMALL_INIT.test({"X": np.ones((2, 1))}), AssumptionArgumentError, "missing array.*W0"),
]


@pytest.mark.parametrize(
    "call, error, message", [(c, e, m) for _, c, e, m in BAD_CALLS], ids=[i for i, _, _, _ in BAD_CALLS]
)
def test_bad_arguments_raise_named_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
