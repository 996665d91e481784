"""Claim identity: what a claim is, where it is printed, what it rests on.

A claim is one mathematical statement of the paper. Its checks are pytest tests
carrying the ``claim`` marker (see :mod:`claims.framework.plugin`); its verdict is
computed from their outcomes by :mod:`claims.framework.verdicts` and compared with
``expected_verdict``, so a claim that changes outcome fails the run.

References:
    docs/contracts.md, "Claim identity" and "claims.json".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

VERDICTS = ("verified", "erratum", "refuted", "gap", "inconclusive")
# Severity of a finding (erratum, refuted, gap), least to most severe.
SEVERITIES = ("typo", "degenerate", "scope", "substantive")
CHECK_KINDS = ("symbolic", "numerical", "property", "empirical")
FORMS = ("printed", "corrected", "proof-step")

_ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9.]+)*$")
_REF_PATTERN = re.compile(
    r"^(Eq\. \(\d+\)|Lemma \d+|Claim \d+|Theorem \d+|Section \d+(\.\d+)?"
    r"|Appendix [A-Z](\.\d+)?|Figure \d+|Assumption \d+|Abstract|Introduction"
    # a result of the related work, for claims outside the paper: "Zhou et al. 2022"
    r"|[A-Z][A-Za-z-]+ et al\. \d{4})$"
)


class ClaimDefinitionError(ValueError):
    """A claim is declared inconsistently (bad id, reference, verdict or fields)."""


class UnknownClaimError(KeyError):
    """A claim id that no claim module declares."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0])


@dataclass(frozen=True)
class Evaluation:
    """The claim's statement evaluated on one instance (used by ``check``).

    ``reason``, when the statement fails: which part failed, for which neuron or sample, at
    what time (``check`` prints it). ``undefined``: the statement says nothing on this
    instance (a quantity it uses does not exist there, e.g. the square root of a negative
    margin off Assumption 1); ``holds`` is then False, and a probe counts the instance as
    undefined, never as a counterexample."""

    holds: bool
    figures: Mapping[str, float] = field(default_factory=dict)
    reason: str | None = None
    undefined: bool = False

    def __post_init__(self) -> None:
        if self.undefined and self.holds:
            raise ClaimDefinitionError("an Evaluation cannot both hold and be undefined")


# An instance is a mapping of array names to float64 arrays, e.g. X (n, d), y (n,).
Instance = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Claim:
    """One statement of the paper and what we expect of it.

    Attributes:
        id: stable kebab-case identifier, e.g. ``eq-13-features``.
        paper_ref: where it is printed, e.g. ``Eq. (13)``, ``Lemma 6``.
        statement: the statement quoted (or closely paraphrased) from the paper.
        assumptions: ids of the assumption objects it rests on.
        expected_verdict: the verdict recorded for it; the run fails if the
            checks now give another one.
        correction: for an erratum, the corrected statement that is verified;
            for a gap, the proof step that does not follow as written and its repair.
        counterexample_summary: for an erratum or refuted claim, a one-line
            description of the saved minimal counterexample.
        instance_arrays: names of the arrays ``evaluate`` needs from an instance.
        evaluate: the statement *as printed* evaluated on one instance; the
            ``check`` command and counterexample replays call it.
        probe_evaluate: the statement the checks *verify* on one instance (the
            corrected form for an erratum); assumption probes evaluate it on instances
            that violate one assumption. None means ``evaluate`` (when the claim is
            not an erratum or refuted).
        instance_bounds: keyword arguments for the paper's instance generator (sizes
            such as ``max_n``, ``max_h``) that keep a probe of this claim within its time
            budget.
        quote: the paper's own words, verbatim (LaTeX kept; whitespace may differ).
        reading: how the suite formalises the quote, when that needs saying.
        depends_on: ids of the claims the statement's proof uses (the proof graph).
        array_docs: {array name: shape and meaning} for arrays of ``instance_arrays`` whose
            meaning differs from (or is not among) the paper's standard arrays
            (``Paper.array_docs``), e.g. ``{"v0": "(d,) classifier at t = 0"}``; a module may
            share one mapping among its claims (names a claim does not use are ignored).
        part: the key of the report part it belongs to (a :class:`~claims.framework.paper.ReportPart`
            the paper declares, e.g. results beyond the paper); None for the paper's own claims.
    """

    id: str
    paper_ref: str
    statement: str
    assumptions: tuple[str, ...] = ()
    expected_verdict: str = "verified"
    correction: str | None = None
    counterexample_summary: str | None = None
    instance_arrays: tuple[str, ...] = ()
    evaluate: Callable[[Instance], Evaluation] | None = None
    probe_evaluate: Callable[[Instance], Evaluation] | None = None
    instance_bounds: Mapping[str, int | float] = field(default_factory=dict)
    quote: str = ""
    reading: str | None = None
    depends_on: tuple[str, ...] = ()
    array_docs: Mapping[str, str] = field(default_factory=dict)
    part: str | None = None

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise ClaimDefinitionError(f"id must be kebab-case; got {self.id!r}")
        if not _REF_PATTERN.match(self.paper_ref):
            raise ClaimDefinitionError(
                f"paper_ref must look like 'Eq. (13)', 'Lemma 6', 'Appendix C.2', 'Zhou et al. 2022'; "
                f"got {self.paper_ref!r} for claim {self.id!r}"
            )
        if self.expected_verdict not in VERDICTS:
            raise ClaimDefinitionError(
                f"expected_verdict must be one of {VERDICTS}; got {self.expected_verdict!r}"
            )
        needs_counterexample = self.expected_verdict in ("erratum", "refuted")
        if needs_counterexample and not self.counterexample_summary:
            raise ClaimDefinitionError(
                f"claim {self.id!r} is {self.expected_verdict} but has no counterexample_summary"
            )
        if self.expected_verdict in ("erratum", "gap") and not self.correction:
            raise ClaimDefinitionError(
                f"claim {self.id!r} is {self.expected_verdict} but has no correction"
            )
        if needs_counterexample and self.evaluate is None:
            raise ClaimDefinitionError(
                f"claim {self.id!r} is {self.expected_verdict}: it needs evaluate() so that "
                "its saved counterexample can be replayed"
            )

    @property
    def verified_form(self) -> Callable[[Instance], Evaluation] | None:
        """What a probe evaluates: ``probe_evaluate``, else ``evaluate`` unless that is a
        printed form known to fail (erratum, refuted); None if the claim takes no instance."""
        if self.probe_evaluate is not None:
            return self.probe_evaluate
        if self.expected_verdict in ("erratum", "refuted"):
            return None
        return self.evaluate


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry; ids are unique across all claim modules."""
    existing = _REGISTRY.get(claim.id)
    if existing is not None and existing != claim:
        raise ClaimDefinitionError(f"claim id {claim.id!r} is declared twice")
    _REGISTRY[claim.id] = claim
    return claim


def get_claim(claim_id: str) -> Claim:
    """The registered claim with this id (claim modules must be imported first)."""
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        close = difflib.get_close_matches(str(claim_id), list(_REGISTRY), n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
        raise UnknownClaimError(f"unknown claim id {claim_id!r}; {hint}('list' shows all "
                                f"{len(_REGISTRY)} ids)") from None


@dataclass(frozen=True)
class Finding:
    """How much a finding (an erratum, refutation or gap) matters, and why.

    Attributes:
        severity: ``typo`` (the intended statement is evident and verified), ``degenerate``
            (fails only on a null set or a boundary case: small random perturbations of the
            counterexample restore it, measured by the plugin), ``scope`` (holds once a
            hypothesis the context implies is added: name it in ``evidence``) or
            ``substantive`` (fails on an open set inside the stated assumptions, or the
            conclusion needs a new argument).
        evidence: the reason for the severity, in one or two sentences.
        root_cause: id of the :class:`RootCause` it shares with other findings.
    """

    severity: str
    evidence: str
    root_cause: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ClaimDefinitionError(f"severity must be one of {SEVERITIES}; got {self.severity!r}")
        if not self.evidence or not self.root_cause:
            raise ClaimDefinitionError("a finding needs evidence and a root_cause id")


@dataclass(frozen=True)
class RootCause:
    """One cause shared by several findings, explained once.

    Attributes:
        id: kebab-case identifier (e.g. ``frozen-on-dead-boundary``).
        title: a few words for the report's heading.
        severity: the most severe severity among its findings.
        explanation: one paragraph: what goes wrong and why, and what repairs it.
    """

    id: str
    title: str
    severity: str
    explanation: str

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise ClaimDefinitionError(f"root cause id must be kebab-case; got {self.id!r}")
        if self.severity not in SEVERITIES:
            raise ClaimDefinitionError(f"severity must be one of {SEVERITIES}; got {self.severity!r}")


def all_claims() -> list[Claim]:
    """Every registered claim, in registration order."""
    return list(_REGISTRY.values())
