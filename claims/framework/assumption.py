"""Assumptions as objects: each one tests an instance and generates instances that satisfy
or violate it.

An *instance* is a mapping of array names to float64 arrays (what the arrays are is the
paper's business). A claim lists the ids of the assumptions it rests on; an assumption probe
(:mod:`claims.framework.probe`) swaps the generator of one of them for its violator while
the others keep holding. The paper declares its assumptions in its
:class:`~claims.framework.paper.Paper`.

References:
    Hypothesis strategies (``SearchStrategy``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis.strategies import SearchStrategy

_ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class UnknownAssumptionError(KeyError):
    """An assumption id that is not declared; the message lists the valid ids."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0])


class AssumptionArgumentError(ValueError):
    """A bad argument to a generator or a malformed instance; the message names the
    argument and its value."""


# generate(violate=None | assumption id, **bounds) -> strategy of instances that satisfy
# every assumption of the paper except ``violate``, which they violate.
Generator = Callable[..., SearchStrategy]


@dataclass(frozen=True)
class Assumption:
    """One hypothesis of a paper (or one a review adds), testable and generable.

    Attributes:
        id: stable kebab-case identifier, e.g. ``balanced-init``.
        paper_ref: where the paper states (or uses) it, e.g. ``Assumption 2``.
        statement: the statement quoted from the paper, or the suite's where it has none.
        test: ``test(instance) -> bool``, whether an instance satisfies it.
        arrays: the arrays ``test`` needs; an instance without one of them cannot be
            tested (``check`` then reports the assumption as null).
        generate: the paper's instance generator (see :data:`Generator`); None when the
            assumption cannot be probed.
        precision_aware: ``test`` takes a keyword ``precision``, the unit roundoff of the
            least precise array a user stored (2**-53 for float64, 2**-24 for float32), and
            widens its tolerances to it; ``check`` passes it.
    """

    id: str
    paper_ref: str
    statement: str
    test: Callable[[Mapping[str, np.ndarray]], bool]
    arrays: tuple[str, ...] = ()
    generate: Generator | None = None
    precision_aware: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not _ID_PATTERN.match(self.id):
            raise AssumptionArgumentError(f"id must be kebab-case; got {self.id!r}")

    def satisfying(self, **bounds: Any) -> SearchStrategy:
        """Instances satisfying this and every other assumption of the paper."""
        return self._generator(bounds)(**bounds)

    def violating(self, **bounds: Any) -> SearchStrategy:
        """Instances violating this assumption while satisfying every other one."""
        return self._generator(bounds)(violate=self.id, **bounds)

    def _generator(self, bounds: Mapping[str, Any]) -> Generator:
        for key in ("satisfy", "violate"):
            if key in bounds:
                raise AssumptionArgumentError(
                    f"{key}={bounds[key]!r} cannot be passed to satisfying()/violating(); "
                    "call the paper's generator for a custom combination")
        if self.generate is None:
            raise AssumptionArgumentError(f"assumption {self.id!r} has no generator (generate=None)")
        return self.generate
