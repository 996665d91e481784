"""The paper's side of the framework: everything the machinery needs to know about one paper.

The framework (claims, verdicts, the pytest plugin, the report, the command line, probes)
knows nothing of any particular paper. A paper declares itself with one :class:`Paper`
object and names it in the pytest configuration::

    [tool.pytest.ini_options]
    claims_paper = "mypaper.claims.paper:PAPER"   # module:attribute

The command line takes the same object (``python -m mypaper.claims`` calls
:func:`claims.framework.cli.main` with ``paper=PAPER``).

What a paper declares:

- ``title``: written at the top of the report.
- ``claim_package``: the package whose ``claim_*`` modules register the claims.
- ``assumptions``: its :class:`~claims.framework.assumption.Assumption` objects, in the order
  the report's probe matrix lists them.
- ``instance_rules``: ``rules(instance)`` checks what the framework cannot know (shapes that
  must agree, labels in {-1, +1}, ...) and raises :class:`InstanceRuleError` with a message
  naming the array; the framework itself checks names, numeric dtypes and finiteness.
- ``array_docs``: {array name: shape and meaning} of the paper's standard instance arrays
  (``list`` and ``show`` print them; a claim documents its own arrays in ``Claim.array_docs``).
- ``variant_arrays``: optional arrays an instance may carry to select another setting (for
  this suite's paper, a step size or another loss); ``check`` and probe replays load them.
- ``input_errors``: exception types an evaluation raises when an instance is malformed in a
  way only the paper's code can see; ``check`` reports them as the user's mistake (exit 2).
- ``describe_instance``: a short text naming an instance's sizes, used in probe summaries.
- ``parts``: report parts beyond the paper's own claims (:class:`ReportPart`); a claim joins
  one with ``Claim(part=key)`` and is listed in that part's own table, after the summary.
- ``sections``: extra report sections (:class:`ReportSection`); a check adds rows to one
  with ``record_property(section.key, json.dumps(row))``.
- ``findings``: {claim id: :class:`~claims.framework.claim.Finding`} for every claim recorded
  as an erratum, refuted or gap: its severity, the evidence for it and its root cause.
- ``root_causes``: the :class:`~claims.framework.claim.RootCause` objects the findings name.
- ``main_results``: :class:`MainResult` objects, the headline results the report opens with.
- ``claim_order``: claim ids in the order the paper states them (the summary table's order;
  claims not listed follow in registration order).
- ``depends_on``: {claim id: ids of the claims its proof uses}, the proof graph in one place
  (a claim's own ``depends_on`` is added to it).
- ``fixed_arrays``: arrays that are not perturbed when a ``degenerate`` finding's
  counterexample is perturbed (labels, switches such as a loss selector).
- ``versioned_packages``: the packages whose versions the report records.
- ``command``: how users invoke the paper's command line (replay commands start with it).

References:
    pytest "Writing plugins" (ini options), Python ``importlib``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claims.framework.assumption import Assumption, UnknownAssumptionError
from claims.framework.claim import Claim, Finding, RootCause, all_claims


class PaperSpecError(ValueError):
    """A ``claims_paper`` setting that does not name a :class:`Paper` (message says why)."""


class InstanceRuleError(ValueError):
    """An instance breaks one of the paper's instance rules; the message names the array."""


@dataclass(frozen=True)
class ReportSection:
    """An extra table of the report that the paper's checks fill row by row.

    Attributes:
        key: the top-level key of ``claims.json`` holding the rows, and the name checks pass
            to ``record_property`` (one JSON-encoded row per call).
        title: the heading of the section in ``claims.md``.
        validate: ``validate(where, row)`` raises ``ValueError`` naming ``where`` when a row
            is malformed; called before the report is written.
        render: ``render(rows) -> list[str]``: the Markdown lines of the section.
    """

    key: str
    title: str
    validate: Callable[[str, Any], None]
    render: Callable[[Sequence[Mapping[str, Any]]], list[str]]


@dataclass(frozen=True)
class ReportPart:
    """A group of claims the report lists apart from the paper's own (e.g. the paper's results
    carried to the related work's settings, or conjectures of the suite).

    Attributes:
        key: what a claim names in ``Claim(part=...)``; also written in its ``claims.json`` record.
        title: the heading of the part in ``claims.md``.
        intro: one paragraph saying what the part's claims are and where their statements come from.
    """

    key: str
    title: str
    intro: str = ""


@dataclass(frozen=True)
class MainResult:
    """A headline result of the paper and the claims that make it up.

    Attributes:
        name: how the report names it (e.g. "Bayes consistency (Appendix A)").
        claims: ids of its claims; the report says whether all hold, hold after the
            repairs of their findings, or fail.
    """

    name: str
    claims: tuple[str, ...]


def _no_rules(instance: Mapping[str, Any]) -> None:
    """Default instance rules: none beyond the framework's own."""


@dataclass(frozen=True)
class Paper:
    """One paper's declarations (see the module docstring)."""

    title: str
    claim_package: str
    assumptions: tuple[Assumption, ...] = ()
    instance_rules: Callable[[dict], None] = _no_rules
    array_docs: Mapping[str, str] = field(default_factory=dict)
    variant_arrays: tuple[str, ...] = ()
    input_errors: tuple[type[Exception], ...] = ()
    describe_instance: Callable[[Mapping[str, Any]], str] = lambda instance: ", ".join(
        f"{name}{tuple(value.shape)}" for name, value in sorted(instance.items()))
    sections: tuple[ReportSection, ...] = ()
    parts: tuple[ReportPart, ...] = ()
    findings: Mapping[str, Finding] = field(default_factory=dict)
    root_causes: tuple[RootCause, ...] = ()
    main_results: tuple[MainResult, ...] = ()
    claim_order: tuple[str, ...] = ()
    depends_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fixed_arrays: tuple[str, ...] = ()
    versioned_packages: tuple[str, ...] = ("hypothesis", "pytest")
    command: str = "python -m claims"
    _by_id: Mapping[str, Assumption] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title:
            raise PaperSpecError(f"Paper.title must be a non-empty string; got {self.title!r}")
        by_id = {}
        for assumption in self.assumptions:
            if assumption.id in by_id:
                raise PaperSpecError(f"assumption id {assumption.id!r} is declared twice")
            by_id[assumption.id] = assumption
        object.__setattr__(self, "_by_id", by_id)
        causes = {c.id for c in self.root_causes}
        unknown = sorted({f.root_cause for f in self.findings.values()} - causes)
        if unknown:
            raise PaperSpecError(f"findings name root causes that are not declared: {unknown}")
        keys = [s.key for s in self.sections]
        if len(set(keys)) != len(keys):
            raise PaperSpecError(f"report section keys must be unique; got {keys}")
        parts = [p.key for p in self.parts]
        if len(set(parts)) != len(parts):
            raise PaperSpecError(f"report part keys must be unique; got {parts}")

    def assumption(self, assumption_id: str) -> Assumption:
        """The declared assumption with this id; UnknownAssumptionError otherwise."""
        try:
            return self._by_id[assumption_id]
        except (KeyError, TypeError):
            known = ", ".join(self._by_id) or "none declared"
            raise UnknownAssumptionError(
                f"unknown assumption id {assumption_id!r}; valid ids are {known}") from None

    @property
    def assumption_ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def array_doc(self, claim: Claim, name: str) -> str:
        """Shape and meaning of array ``name`` for ``claim`` (the claim's own words first)."""
        return claim.array_docs.get(name) or self.array_docs.get(name) or "(undocumented)"

    def root_cause(self, cause_id: str) -> RootCause:
        """The declared root cause with this id (PaperSpecError otherwise)."""
        for cause in self.root_causes:
            if cause.id == cause_id:
                return cause
        raise PaperSpecError(f"unknown root cause {cause_id!r}")


def load_claims(paper: Paper) -> list[Claim]:
    """Import every ``claim_*`` module of the paper's claim package (registering its claims) and
    return every registered claim; PaperSpecError if a claim names a report part the paper
    does not declare."""
    package = importlib.import_module(paper.claim_package)
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("claim_"):
            importlib.import_module(f"{paper.claim_package}.{info.name}")
    claims = all_claims()
    parts = {p.key for p in paper.parts}
    for claim in claims:
        if claim.part is not None and claim.part not in parts:
            raise PaperSpecError(f"claim {claim.id!r} names part {claim.part!r}, which the paper does not "
                                 f"declare (declared: {sorted(parts) or 'none'})")
    return claims


def load_paper(spec: str) -> Paper:
    """The :class:`Paper` named by ``spec`` (``"package.module:ATTRIBUTE"``)."""
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise PaperSpecError(f"claims_paper must look like 'package.module:ATTRIBUTE'; got {spec!r}")
    module_name, attribute = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise PaperSpecError(f"claims_paper {spec!r}: cannot import {module_name!r} ({error})") from None
    paper = getattr(module, attribute, None)
    if not isinstance(paper, Paper):
        raise PaperSpecError(f"claims_paper {spec!r}: {attribute!r} is not a claims.framework.paper.Paper")
    return paper
