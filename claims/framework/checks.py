"""Helpers that claim checks share: sympy zero tests, property runs, counterexample search,
negative controls.

A counterexample found by :func:`search_counterexample` travels with the test's report (the
``counterexample`` user property, JSON) and the plugin saves it as ``counterexamples/ID.npz``
in the report directory of the run, on the main process (so it works under pytest-xdist and
never writes outside that directory). A search that finds nothing raises
:class:`CounterexampleNotFound`: the plugin records the outcome ``not-found``, never a pass
and never a refutation.

A negative control (``@pytest.mark.negative_control(ID)``) shows that the claim's own
evaluation rejects a broken instance or a broken variant by calling :func:`rejects`; a
control that ends without a rejection seen by :func:`rejects` is an error.

References:
    SymPy ``Expr.equals`` (three-valued), Hypothesis ``given`` and ``find``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import json

import numpy as np
import pytest
import sympy
from hypothesis import Phase, find, given, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from claims.framework.claim import Claim, Evaluation

INCONCLUSIVE_PREFIX = "inconclusive: "
# Settings of a counterexample search (find_failing, search_counterexample): the explicit,
# reuse, generate, target and shrink phases (Hypothesis's default minus "explain", which only
# annotates failing tests), so a check that calls hypothesis.target() steers the search.
SEARCH = {"phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)}
# The user property carrying a found counterexample ({name: nested list}) to the plugin.
COUNTEREXAMPLE_PROPERTY = "counterexample"


class CounterexampleNotFound(Exception):
    """A counterexample search ended without one (its budget is in the message)."""


class NegativeControlError(Exception):
    """A negative control that did not show a rejection through :func:`rejects`."""


# Rejections seen by rejects() in the test now running (reset by the plugin per test).
_rejections = {"count": 0}


def reset_rejections() -> None:
    _rejections["count"] = 0


def rejections() -> int:
    """How many times :func:`rejects` saw a rejection since the last reset."""
    return _rejections["count"]


def rejects(evaluation: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Assert that ``evaluation(*args, **kwargs)`` rejects its input; return how.

    ``evaluation`` is the claim's own check or evaluation run on a broken instance or with a
    broken variant. It rejects when it raises ``AssertionError`` (a check's assertion), or
    returns an :class:`Evaluation` with ``holds`` False, or returns ``False``. Anything else
    (it returns ``True``, an Evaluation that holds, or ``None``: it accepted the input)
    fails the negative control. Other exceptions propagate: a control whose evaluation
    crashes shows nothing.
    """
    try:
        result = evaluation(*args, **kwargs)
    except AssertionError as error:
        _rejections["count"] += 1
        return f"rejected: {error}"
    if isinstance(result, Evaluation):
        result = result.holds
    if result is False or (isinstance(result, np.bool_) and not result):
        _rejections["count"] += 1
        return "rejected: does not hold"
    name = getattr(evaluation, "__name__", repr(evaluation))
    raise AssertionError(f"negative control: {name} accepted the broken input (returned {result!r})")

RecordProperty = Callable[[str, Any], None]


def inconclusive(reason: str) -> None:
    """End a check as inconclusive (reported as such, never as a pass)."""
    pytest.skip(INCONCLUSIVE_PREFIX + reason)


class PreconditionError(RuntimeError):
    """A check's own setup does not hold (a simulator disagrees with its reference, an instance
    is not what the check built). Not an AssertionError, so a printed-form or proof-step check,
    which the plugin expects to fail with an AssertionError, fails loudly instead of counting
    a broken setup as the recorded refutation."""


def precondition(condition: bool, message: str) -> None:
    """Stop the check with :class:`PreconditionError` unless ``condition``: use it for what a
    printed-form check must establish *before* it tests the printed statement."""
    if not condition:
        raise PreconditionError(message)


def require(condition: bool, message: str = "check failed") -> None:
    """Fail the current check unless ``condition`` (usable inside lambdas)."""
    if not condition:
        raise AssertionError(message)


def assert_sympy_zero(expr: sympy.Expr, what: str, *, spot_checks: int = 5) -> None:
    """Pass if ``expr`` simplifies to zero; fail if provably nonzero; else inconclusive.

    ``Expr.equals`` is three-valued: ``None`` means sympy could not decide. Then the
    expression is evaluated at seeded random positive rational points with 30 digits:
    a value clearly away from zero proves it nonzero (a failure); otherwise the check is
    reported inconclusive, never a pass.
    """
    simplified = sympy.simplify(expr)
    decided = simplified.equals(0)
    if decided is None:
        rng = np.random.default_rng(0)
        symbols = sorted(simplified.free_symbols, key=str)
        for _ in range(spot_checks):
            point = {s: sympy.Rational(int(rng.integers(1, 50)), int(rng.integers(1, 20))) for s in symbols}
            value = complex(simplified.subs(point).evalf(30))
            # 1e-20: 30-digit evaluation of O(1e3) terms leaves rounding far below this.
            assert abs(value) < 1e-20, f"{what} is not zero: {value} at {point}"
        inconclusive(f"sympy could not decide whether {what} is zero: {simplified}")
    assert decided, f"{what} is not zero: {simplified}"


def property_check(
    record_property: RecordProperty,
    strategy: SearchStrategy,
    body: Callable[[Any], None],
    **overrides: Any,
) -> int:
    """Run ``body`` on examples of ``strategy`` under the active profile.

    ``overrides`` are Hypothesis settings for this check only (e.g. max_examples).
    Records the number of examples run as the ``examples`` property and returns it.
    """
    count = 0

    @settings(parent=settings.default, **overrides)
    @given(strategy)
    def run(example: Any) -> None:
        nonlocal count
        count += 1
        body(example)

    run()
    record_property("examples", count)
    return count


def find_failing(
    record_property: RecordProperty,
    strategy: SearchStrategy,
    fails: Callable[[Any], bool],
    **overrides: Any,
) -> Any:
    """Hypothesis ``find``: the shrunk example of ``strategy`` on which ``fails`` is true.

    Records the number of examples tried. The budget is the active profile's
    ``max_examples`` unless ``overrides`` sets it; a search that spends it without finding
    anything raises :class:`CounterexampleNotFound` (outcome ``not-found``: neither a pass
    nor a refutation).
    """
    calls = 0

    def counted(example: Any) -> bool:
        nonlocal calls
        calls += 1
        return fails(example)

    search_settings = settings(parent=settings.default, **overrides)
    try:
        return find(strategy, counted, settings=search_settings)
    except NoSuchExample:
        raise CounterexampleNotFound(
            f"no example on which {getattr(fails, '__name__', 'the condition')} holds among "
            f"max_examples={search_settings.max_examples} examples ({calls} evaluated)") from None
    finally:
        record_property("examples", calls)


def encode_instance(instance: Mapping[str, Any]) -> str:
    """An instance as JSON ({name: nested lists}); float64 values round-trip exactly."""
    return json.dumps({name: np.asarray(value, dtype=np.float64).tolist() for name, value in instance.items()})


def decode_instance(text: str) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_instance`."""
    return {name: np.asarray(value, dtype=np.float64) for name, value in json.loads(text).items()}


def record_counterexample(record_property: RecordProperty, instance: Mapping[str, Any]) -> None:
    """Hand a claim's counterexample to the plugin, which saves it in the run's report."""
    record_property(COUNTEREXAMPLE_PROPERTY, encode_instance(instance))


def search_counterexample(
    record_property: RecordProperty,
    claim: Claim,
    strategy: SearchStrategy[Mapping[str, np.ndarray]],
    **overrides: Any,
) -> dict[str, np.ndarray]:
    """Shrink an instance on which the claim's printed statement fails; record it.

    Hypothesis's ``find`` searches ``strategy`` for an instance where ``claim.evaluate``
    says the statement does not hold and shrinks it; the result is handed to the plugin
    (saved as ``counterexamples/<id>.npz`` in the run's report directory). The search's budget is the active
    profile's ``max_examples`` unless ``overrides`` sets it; when the budget is spent
    without a counterexample it raises :class:`CounterexampleNotFound` (outcome
    ``not-found``).
    """
    if claim.evaluate is None:
        raise ValueError(f"claim {claim.id!r} has no evaluate(); nothing to search with")
    def printed_fails(instance: Mapping[str, np.ndarray]) -> bool:
        return not claim.evaluate(instance).holds

    printed_fails.__name__ = f"'{claim.id} fails as printed'"
    found = find_failing(record_property, strategy, printed_fails, **overrides)
    record_counterexample(record_property, found)
    return dict(found)
