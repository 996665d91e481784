"""Assumption probes: drop one assumption of a claim and hunt for an instance where it fails.

A probe of claim C against assumption A draws instances from
``A.violating(**C.instance_bounds)`` (the paper's generator: A violated, every other
assumption held), evaluates ``C.verified_form`` on each (the statement the claim's checks
verify: the corrected one for an erratum) and lets Hypothesis's ``find`` search, and
shrink, an instance where it does not hold:

- ``holds``: no failing instance within the budget; ``examples`` says how many were tried.
- ``undefined``: no failing instance, but on some the statement is undefined (a quantity it
  uses does not exist off the assumption, ``Evaluation.undefined``); the first such instance is
  saved like a counterexample, and its replay prints ``undefined``. An undefined statement is
  not a counterexample.
- ``breaks``: the shrunk instance is saved as ``<report dir>/counterexamples/
  <claim>--violate-<assumption>.npz`` (beside, never over, the printed-form counterexample
  ``<claim>.npz``), reloaded and re-evaluated before it is reported, and ``replay`` is the
  ``python -m claims check`` command that reproduces the failure (exit 1).

The search has two budgets: ``max_examples`` (Hypothesis's, default the active profile's)
and ``seconds`` (wall clock: once spent, the search stops at the next evaluation; a failure
already found is reported as shrunk so far). Under the derandomized ``ci`` profile a probe
that ends on its example budget gives the same result every run; one cut short by the
clock may not.

A probe result is one row of ``probes`` in ``claims.json``:
``{"claim", "assumption", "outcome", "examples", "seconds", "counterexample"}``.

References:
    Hypothesis ``find``; the project's CONTRIBUTING.md ("Assumptions and probes").
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from claims.framework.assumption import AssumptionArgumentError, UnknownAssumptionError
from claims.framework.claim import Claim, Evaluation
from claims.framework.instances import load_instance, save_instance
from claims.framework.paper import Paper

# Default wall-clock budget of one probe: the claims evaluated through the exact flow take
# up to ~0.1 s per instance (claim.instance_bounds keeps them there), so 60 s covers the
# ci profile's 40 examples plus shrinking many times over on a slow shared machine.
DEFAULT_SECONDS = 60.0

class ProbeError(ValueError):
    """A probe that cannot be run as asked (unknown or unlisted assumption, a claim without
    an instance evaluation, a bad budget); the message says what and how to fix it."""


class _BudgetSpent(BaseException):
    """Raised inside the search when the clock budget is spent. A BaseException (like
    KeyboardInterrupt) so that Hypothesis stops at once instead of treating it as a failure
    to shrink."""


class ProbeEvaluationError(RuntimeError):
    """The claim's evaluation raised on a generated instance, or a saved counterexample did
    not replay: a defect of the claim's code, not an outcome of the probe."""


@dataclass(frozen=True)
class ProbeResult:
    """One cell of the claims x assumptions matrix.

    Attributes:
        claim, assumption: the ids probed.
        outcome: "holds" (nothing found within the budget), "undefined" (the statement is
            undefined on some instances and fails on none) or "breaks".
        examples: instances evaluated, shrinking included (>= 1).
        seconds: wall-clock seconds the search took.
        counterexample: {"file", "replay", "summary"} for "breaks" (the shrunk failing
            instance) and "undefined" (an instance where the statement is undefined), else None.
    """

    claim: str
    assumption: str
    outcome: str
    examples: int
    seconds: float
    counterexample: Mapping[str, str] | None

    def as_record(self) -> dict[str, Any]:
        """The row of ``probes`` in claims.json (keys in the contract's order)."""
        return {
            "claim": self.claim,
            "assumption": self.assumption,
            "outcome": self.outcome,
            "examples": self.examples,
            "seconds": self.seconds,
            "counterexample": dict(self.counterexample) if self.counterexample else None,
        }


def check_budget(max_examples: Any, seconds: Any) -> tuple[int | None, float]:
    """Validated budgets: max_examples an int >= 1 (or None: the profile's), seconds > 0."""
    if max_examples is not None and (
        isinstance(max_examples, bool) or not isinstance(max_examples, Integral) or max_examples < 1
    ):
        raise ProbeError(f"--max-examples must be an integer >= 1; got {max_examples!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, Real) or not (math.isfinite(seconds) and seconds > 0):
        raise ProbeError(f"--seconds must be a finite number > 0; got {seconds!r}")
    return (None if max_examples is None else int(max_examples)), float(seconds)


def check_target(paper: Paper, claim: Claim, assumption_id: str) -> None:
    """Raise ProbeError unless ``claim`` can be probed against ``assumption_id``."""
    try:
        paper.assumption(assumption_id)
    except UnknownAssumptionError as error:
        raise ProbeError(str(error)) from None
    if claim.verified_form is None:
        raise ProbeError(
            f"claim {claim.id!r} has no instance evaluation to probe (no evaluate, or an "
            "erratum without probe_evaluate); 'python -m claims list' shows the claims"
        )
    if assumption_id not in claim.assumptions:
        listed = ", ".join(claim.assumptions) or "none"
        raise ProbeError(
            f"claim {claim.id!r} does not rest on {assumption_id!r} (it lists: {listed}); "
            "probe one of the assumptions it lists"
        )


def probe_pairs(claims: Iterable[Claim], assumption_id: str | None = None) -> list[tuple[Claim, str]]:
    """Every (claim, assumption) cell of the matrix: each claim with an instance evaluation
    and each assumption it lists (only ``assumption_id`` when given)."""
    return [
        (claim, a)
        for claim in claims
        if claim.verified_form is not None
        for a in claim.assumptions
        if assumption_id is None or a == assumption_id
    ]


def probeable(claim: Claim) -> bool:
    """Whether the claim takes a probe: it lists assumptions and has an instance evaluation."""
    return bool(claim.assumptions) and claim.verified_form is not None


def unprobeable(claims: Iterable[Claim]) -> list[Claim]:
    """Claims that list assumptions but have no instance evaluation: holes in the matrix."""
    return [c for c in claims if c.assumptions and not probeable(c)]


def optional_arrays(paper: Paper, claim: Claim) -> tuple[str, ...]:
    """Arrays an instance file may hold besides ``claim.instance_arrays``: those its
    assumptions' tests read and the paper's variant arrays. ``check`` and the replay of a
    probe's counterexample both load them when present."""
    names: list[str] = []
    for assumption_id in claim.assumptions:
        names += [a for a in paper.assumption(assumption_id).arrays if a not in names]
    names += [a for a in paper.variant_arrays if a not in names]
    return tuple(a for a in names if a not in claim.instance_arrays)


def counterexample_name(claim_id: str, assumption_id: str) -> str:
    """File name of a probe's counterexample; never that of the printed-form one."""
    return f"{claim_id}--violate-{assumption_id}.npz"


def _display_path(path: Path, root: Path) -> str:
    """The path as a replay command should show it: relative to the project root when the
    file is inside it (the report's convention), else absolute."""
    path = path.resolve()
    try:
        return path.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def replay_command(paper: Paper, claim: Claim, file: str) -> str:
    """The ``check`` command that re-evaluates what the probe evaluated on ``file``."""
    form = " --form verified" if claim.probe_evaluate is not None else ""
    return f"{paper.command} check {claim.id} --data {file}{form}"


def _summary(paper: Paper, instance: Mapping[str, np.ndarray], assumption_id: str,
             evaluation: Evaluation) -> str:
    figures = ", ".join(f"{k}={float(v):.4g}" for k, v in sorted(evaluation.figures.items()))
    what = "the statement is undefined" if evaluation.undefined else "the statement fails"
    text = f"{paper.describe_instance(instance)}; {assumption_id} violated: {what}"
    if evaluation.reason:
        text += f": {evaluation.reason}"
    return text + (f" ({figures})" if figures else "")


def _quietly(evaluate, instance) -> Evaluation:
    """``evaluate(instance)`` with numpy's RuntimeWarnings (overflow, invalid) silenced.

    Instances outside an assumption push simulators to extremes (a large initialisation
    overflows exp); what a probe reports is the evaluation's verdict, and the same warning
    must not become an error under pytest's ``filterwarnings = error`` in one run and a
    printout in another.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return evaluate(instance)


def probe(
    paper: Paper,
    claim: Claim,
    assumption_id: str,
    *,
    report_dir: Path,
    root: Path,
    max_examples: int | None = None,
    seconds: float = DEFAULT_SECONDS,
) -> ProbeResult:
    """Probe ``claim`` with ``assumption_id`` violated; see the module docstring.

    A counterexample is saved under ``report_dir``; its path in the result is relative to
    ``root`` (the project root) when inside it.

    Uses the Hypothesis profile loaded at call time (``settings.default``) with
    ``max_examples`` replaced when given. Raises ProbeError for a bad request and
    ProbeEvaluationError when the claim's evaluation raises on a generated instance.
    """
    max_examples, seconds = check_budget(max_examples, seconds)
    check_target(paper, claim, assumption_id)
    evaluate = claim.verified_form
    try:
        strategy = paper.assumption(assumption_id).violating(**claim.instance_bounds)
    except (AssumptionArgumentError, TypeError) as error:
        raise ProbeError(
            f"claim {claim.id!r}: its instance_bounds {dict(claim.instance_bounds)!r} cannot "
            f"generate instances violating {assumption_id!r} ({error})"
        ) from None

    evaluated = 0
    start = time.monotonic()
    deadline = start + seconds
    smallest_failing: list[Mapping[str, np.ndarray]] = []  # the shrinker only accepts smaller ones
    undefined: list[Mapping[str, np.ndarray]] = []  # the first instance where the statement is undefined

    def fails(instance: Mapping[str, np.ndarray]) -> bool:
        nonlocal evaluated
        if evaluated and time.monotonic() > deadline:
            raise _BudgetSpent
        evaluated += 1
        try:
            result = _quietly(evaluate, instance)
        except Exception as error:  # noqa: BLE001 - reported with the claim's name, then re-raised
            raise ProbeEvaluationError(
                f"claim {claim.id!r} raised {type(error).__name__} on an instance violating "
                f"{assumption_id!r}: {error}"
            ) from error
        if result.undefined:
            undefined[:] = undefined or [instance]
            return False
        if not result.holds:
            smallest_failing[:] = [instance]
        return not result.holds

    overrides: dict[str, Any] = dict(
        phases=(Phase.generate, Phase.shrink),
        database=None,
        report_multiple_bugs=False,
        # The generators construct every instance; what can be slow is the claim's evaluation.
        suppress_health_check=list(HealthCheck),
    )
    if max_examples is not None:
        overrides["max_examples"] = max_examples
    try:
        found = find(strategy, fails, settings=settings(parent=settings.default, **overrides))
    except NoSuchExample:
        found = None
    except _BudgetSpent:
        found = smallest_failing[0] if smallest_failing else None
    elapsed = round(time.monotonic() - start, 3)
    outcome = "breaks"
    if found is None and undefined:
        found, outcome = undefined[0], "undefined"
    if found is None:
        return ProbeResult(claim.id, assumption_id, "holds", evaluated, elapsed, None)

    target = Path(report_dir) / "counterexamples" / counterexample_name(claim.id, assumption_id)
    save_instance(target, found)
    try:
        replayed = load_instance(target, claim.instance_arrays, optional=optional_arrays(paper, claim),
                                 rules=paper.instance_rules)
        final = _quietly(evaluate, replayed)
    except Exception as error:  # noqa: BLE001 - a replay that cannot run is the claim's defect
        raise ProbeEvaluationError(
            f"claim {claim.id!r}: the counterexample saved to {target} cannot be replayed "
            f"({type(error).__name__}: {error}); does instance_arrays name every array it reads?"
        ) from error
    if final.holds or final.undefined != (outcome == "undefined"):
        raise ProbeEvaluationError(
            f"claim {claim.id!r}: the instance saved to {target} gives another outcome when reloaded "
            f"({'holds' if final.holds else 'undefined' if final.undefined else 'fails'} instead of "
            f"{'undefined' if outcome == 'undefined' else 'fails'}); its evaluation depends on more than "
            "the saved arrays"
        )
    file = _display_path(target, root)
    counterexample = {
        "file": file,
        "replay": replay_command(paper, claim, file),
        "summary": _summary(paper, found, assumption_id, final),
    }
    return ProbeResult(claim.id, assumption_id, outcome, evaluated, elapsed, counterexample)


# The paper a forked probe worker uses (set in the parent just before the pool forks).
_WORKER_PAPER: list[Paper] = []


def _probe_in_worker(claim_id: str, assumption_id: str, kwargs: dict[str, Any]) -> ProbeResult | str:
    """One pair in a worker process: the result, or the error's one-line message."""
    from claims.framework.claim import get_claim

    try:
        return probe(_WORKER_PAPER[0], get_claim(claim_id), assumption_id, **kwargs)
    except (ProbeError, ProbeEvaluationError) as error:
        return f"ERROR {error}"


def probe_all(
    paper: Paper,
    pairs: Sequence[tuple[Claim, str]],
    *,
    report_dir: Path,
    root: Path,
    max_examples: int | None = None,
    seconds: float,
    errors: list[str] | None = None,
    jobs: int = 1,
) -> list[ProbeResult]:
    """Probe every pair within a total wall-clock budget of ``seconds``, in ``jobs`` processes.

    Serially (``jobs=1``) each pair gets an even share of what is left (remaining / pairs
    left), so a probe that ends early leaves its time to the others. With ``jobs > 1`` the
    pairs run in forked worker processes, each with the fixed share ``seconds * jobs / pairs``;
    results come back in the order of ``pairs``. A pair whose claim's code raises
    (ProbeEvaluationError) or whose instance_bounds cannot violate the assumption
    (ProbeError) stops the run, or, when ``errors`` is a list, is appended to it as one line
    and skipped.
    """
    max_examples, seconds = check_budget(max_examples, seconds)
    if isinstance(jobs, bool) or not isinstance(jobs, Integral) or jobs < 1:
        raise ProbeError(f"--jobs must be an integer >= 1; got {jobs!r}")
    common = dict(report_dir=report_dir, root=root, max_examples=max_examples)
    results: list[ProbeResult] = []
    if jobs > 1 and len(pairs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        share = max(seconds * jobs / len(pairs), 1e-3)
        _WORKER_PAPER[:] = [paper]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            outcomes = list(pool.map(_probe_in_worker, [c.id for c, _ in pairs], [a for _, a in pairs],
                                     [dict(common, seconds=share)] * len(pairs)))
        for outcome in outcomes:
            if isinstance(outcome, str):
                if errors is None:
                    raise ProbeEvaluationError(outcome[len("ERROR "):])
                errors.append(outcome[len("ERROR "):])
            else:
                results.append(outcome)
        return results
    deadline = time.monotonic() + seconds
    for k, (claim, assumption_id) in enumerate(pairs):
        # 1 ms floor: a pair reached after the budget is spent still evaluates one instance.
        share = max((deadline - time.monotonic()) / (len(pairs) - k), 1e-3)
        try:
            results.append(probe(paper, claim, assumption_id, seconds=share, **common))
        except (ProbeError, ProbeEvaluationError) as error:
            if errors is None:
                raise
            errors.append(str(error))
    return results


def merge_probes(
    previous: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]], order: Sequence[str] = (),
    assumption_order: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Rows of ``previous`` not re-probed in ``new``, plus ``new``; sorted by the claim's
    position in ``order`` (unknown claims last), then by ``assumption_order``."""
    rows = {(r["claim"], r["assumption"]): dict(r) for r in previous}
    rows.update({(r["claim"], r["assumption"]): dict(r) for r in new})
    position = {claim_id: i for i, claim_id in enumerate(order)}
    assumption_rank = {a: i for i, a in enumerate(assumption_order)}
    return sorted(
        rows.values(),
        key=lambda r: (position.get(r["claim"], len(position)), r["claim"],
                       assumption_rank.get(r["assumption"], len(assumption_rank)), r["assumption"]),
    )

