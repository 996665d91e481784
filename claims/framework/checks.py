"""Helpers that claim checks share: sympy zero tests, property runs, counterexample search.

References:
    SymPy ``Expr.equals`` (three-valued), Hypothesis ``given`` and ``find``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import find, given, settings
from hypothesis.strategies import SearchStrategy

from claims.framework import paths
from claims.framework.claim import Claim
from claims.framework.instances import save_instance

INCONCLUSIVE_PREFIX = "inconclusive: "

RecordProperty = Callable[[str, Any], None]


def inconclusive(reason: str) -> None:
    """End a check as inconclusive (reported as such, never as a pass)."""
    pytest.skip(INCONCLUSIVE_PREFIX + reason)


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

    Records the number of examples tried. Raises ``NoSuchExample`` (a real failure,
    not an expected one) when the search finds nothing.
    """
    calls = 0

    def counted(example: Any) -> bool:
        nonlocal calls
        calls += 1
        return fails(example)

    try:
        return find(strategy, counted, settings=settings(parent=settings.default, **overrides))
    finally:
        record_property("examples", calls)


def search_counterexample(
    record_property: RecordProperty,
    claim: Claim,
    strategy: SearchStrategy[Mapping[str, np.ndarray]],
    **overrides: Any,
) -> dict[str, np.ndarray]:
    """Shrink an instance on which the claim's printed statement fails; save it.

    Hypothesis's ``find`` searches ``strategy`` for an instance where
    ``claim.evaluate`` says the statement does not hold and shrinks it; the result
    is saved where ``claim.replay_command`` reads it. Raises ``NoSuchExample`` (a
    real failure, not an expected one) when the search finds nothing.
    """
    if claim.evaluate is None:
        raise ValueError(f"claim {claim.id!r} has no evaluate(); nothing to search with")
    found = find_failing(
        record_property, strategy, lambda instance: not claim.evaluate(instance).holds, **overrides
    )
    save_instance(paths.counterexample_path(claim.id), found)
    return dict(found)
