"""Both arms of the Section 4 experiment over seeds, and the per-sub-claim comparisons.

``run_arms(config, seeds)`` trains the linear and the logistic arm (same settings otherwise,
same initial draw per seed) and returns their histories; ``compare_subclaim`` turns them into
the paired comparison of :mod:`models.digits_experiment.analysis` for one sub-claim:

    "accuracy"     time to final test accuracy
    "nc1"          time for tr(Sigma_W Sigma_B^+) to fall to nc_fraction of its step-0 value
    "nc2"          ... for <mu_+/||mu_+||, mu_-/||mu_-||>
    "nc3"          ... for ||v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| ||
    "trace_ratio"  ... for tr(Sigma_W)/tr(Sigma_B) (NC1 as Sigma_W -> 0; see appendix-b3-nc1-metric)

References:
    Section 4; Figure 1; Appendix B.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.digits_experiment.analysis import ALPHA, Comparison, compare, time_to_final_accuracy, time_to_threshold
from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.data import DigitsData, load_data
from models.digits_experiment.train import History, train

SUBCLAIMS = ("accuracy", "nc1", "nc2", "nc3", "trace_ratio")


@dataclass(frozen=True)
class ArmResults:
    """Histories of both arms, one per seed, in the order of ``seeds``."""

    config: ExperimentConfig  # the shared settings (its loss field is that of the linear arm)
    seeds: tuple[int, ...]
    linear: tuple[History, ...]
    logistic: tuple[History, ...]

    def arm(self, loss: str) -> tuple[History, ...]:
        return self.linear if loss == "linear" else self.logistic


def subclaim_time(history: History, subclaim: str, *, accuracy_tolerance: float | None = None,
                  nc_fraction: float | None = None) -> float:
    """The run's time (in GD steps) for one sub-claim; inf when not reached.

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


def run_arms(config: ExperimentConfig, seeds: Sequence[int], data: DigitsData | None = None) -> ArmResults:
    """Train both arms for every seed (``config.loss`` is ignored: both losses are run)."""
    data = load_data(config) if data is None else data
    seeds = tuple(int(s) for s in seeds)
    runs = {loss: tuple(train(config.with_loss(loss), data, seed) for seed in seeds)
            for loss in ("linear", "logistic")}
    return ArmResults(config.with_loss("linear"), seeds, runs["linear"], runs["logistic"])


def compare_subclaim(results: ArmResults, subclaim: str, *, alpha: float = ALPHA,
                     swap: bool = False, same_arm: str | None = None, **definitions: float) -> Comparison:
    """Paired comparison of one sub-claim; ``swap`` exchanges the arms and ``same_arm`` puts
    one arm on both sides (the negative controls); ``definitions`` (accuracy_tolerance,
    nc_fraction) override the time definitions as in :func:`subclaim_time`."""
    first, second = results.linear, results.logistic
    if same_arm is not None:
        first = second = results.arm(same_arm)
    if swap:
        first, second = second, first
    return compare([subclaim_time(h, subclaim, **definitions) for h in first],
                   [subclaim_time(h, subclaim, **definitions) for h in second], alpha=alpha)
