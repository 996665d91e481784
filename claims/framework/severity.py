"""Evidence for a ``degenerate`` finding: does the printed statement hold near its counterexample?

A finding is degenerate when the printed statement fails only on a null set or a boundary
case. The evidence is measured, not asserted: perturb the saved counterexample by random noise
of relative size ``rel`` (1e-6 by default) many times, re-evaluate the printed statement, and
record the fraction of perturbed instances on which it holds. A fraction near 1 says the
counterexample sits on a null set; a fraction near 0 says the failure is robust (an open set),
and the severity should be reconsidered.

Noise is additive and scaled per array, ``x + rel * max|x| * N(0, 1)`` (1 for an all-zero
array), so that an entry exactly at zero, often what makes a case degenerate, moves too. Arrays
named in ``fixed`` (labels, switches) are left alone. An evaluation that raises on a perturbed
instance counts as not holding.

References:
    The project's CONTRIBUTING.md ("Severity of a finding").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from claims.framework.claim import Evaluation

# Relative size of the perturbation: far above float64 rounding (1e-16), far below any
# feature of the instances (sizes >= 1e-3 relative) that a statement could legitimately hinge on.
DEFAULT_REL = 1e-6
# Draws: the fraction is then known to about +-0.035 (binomial standard error at p = 1/2).
DEFAULT_DRAWS = 200


def perturbed_holds_fraction(evaluate: Callable[[Mapping[str, np.ndarray]], Evaluation],
                             instance: Mapping[str, np.ndarray], *, fixed: Iterable[str] = (),
                             rel: float = DEFAULT_REL, draws: int = DEFAULT_DRAWS, seed: int = 0) -> float:
    """Fraction of ``draws`` perturbed copies of ``instance`` on which ``evaluate`` holds."""
    fixed = set(fixed)
    rng = np.random.default_rng(seed)
    holds = 0
    for _ in range(draws):
        perturbed = {}
        for name, value in instance.items():
            value = np.asarray(value, dtype=np.float64)
            if name in fixed or value.size == 0:
                perturbed[name] = value
                continue
            scale = float(np.abs(value).max()) or 1.0
            perturbed[name] = value + rel * scale * rng.standard_normal(value.shape)
        try:
            holds += bool(evaluate(perturbed).holds)
        except Exception:  # noqa: BLE001 - an evaluation that cannot run does not hold
            continue
    return holds / draws
