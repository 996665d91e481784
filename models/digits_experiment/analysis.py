"""Times to final accuracy and to NC thresholds, and the paired decision rule over seeds.

Definitions (steps are GD steps; only recorded steps count, so times are multiples of
``eval_every``):

    time to final accuracy   the first recorded step s with |a(t) - a(T)| <= tol for every
                             recorded t >= s, where a(T) is the test accuracy at the last step T
                             and tol = config.accuracy_tolerance. inf when a(T) is undefined (the
                             run went non-finite).
    time to an NC threshold  the first recorded step s with m(t) <= q * m(0) for every recorded
                             t >= s, where m(0) is the metric at step 0 and q = config.nc_fraction.
                             NaN records count as above the threshold; inf when the metric is not
                             below it at the last step (or m(0) is undefined).

Decision rule (paired sign test): the same seed gives the same initial draw to both arms. Per
seed, the linear arm wins when its time is smaller, loses when larger, ties are dropped
(inf = inf is a tie). With k wins out of m untied seeds, p_linear = P(Bin(m, 1/2) >= k) and
p_logistic = P(Bin(m, 1/2) >= m - k) (exact, one-sided). Verdict at level alpha:

    "holds"         p_linear <= alpha       (the linear loss is faster)
    "refuted"       p_logistic <= alpha     (the logistic loss is faster)
    "inconclusive"  otherwise (with 5 seeds only 5 of 5 wins reach p = 1/32 <= 0.05)

References:
    Section 4 ("the network trained with the linear loss reaches this performance faster ...
    each NC phenomenon emerges more rapidly under the linear loss"); Figure 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

ALPHA = 0.05
VERDICTS = ("holds", "refuted", "inconclusive")


def _stays_from(ok: np.ndarray) -> int | None:
    """Index of the first position from which ``ok`` is true to the end; None if ok[-1] is false."""
    if ok.size == 0 or not ok[-1]:
        return None
    bad = np.flatnonzero(~ok)
    return 0 if bad.size == 0 else int(bad[-1]) + 1


def time_to_final_accuracy(steps: np.ndarray, accuracy: np.ndarray, tolerance: float) -> float:
    """First recorded step after which test accuracy stays within ``tolerance`` of its last value."""
    steps, accuracy = np.asarray(steps), np.asarray(accuracy, dtype=np.float64)
    if accuracy.size == 0 or not np.isfinite(accuracy[-1]):
        return math.inf
    with np.errstate(invalid="ignore"):
        ok = np.abs(accuracy - accuracy[-1]) <= tolerance  # NaN -> False
    index = _stays_from(ok)
    return math.inf if index is None else float(steps[index])


def time_to_threshold(steps: np.ndarray, metric: np.ndarray, fraction: float) -> float:
    """First recorded step after which the metric stays at or below ``fraction`` times its step-0 value."""
    steps, metric = np.asarray(steps), np.asarray(metric, dtype=np.float64)
    if metric.size == 0 or not np.isfinite(metric[0]):
        return math.inf
    with np.errstate(invalid="ignore"):
        ok = metric <= fraction * metric[0]  # NaN -> False
    index = _stays_from(ok)
    return math.inf if index is None else float(steps[index])


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of one sub-claim over seeds."""

    t_linear: tuple[float, ...]  # per seed; inf = not reached by the horizon
    t_logistic: tuple[float, ...]
    linear_faster: int  # seeds where the linear arm's time is smaller
    logistic_faster: int
    ties: int
    p_linear: float  # one-sided exact sign-test p-value for "linear faster"
    p_logistic: float  # ... for "logistic faster"
    verdict: str  # holds | refuted | inconclusive

    @property
    def seeds(self) -> int:
        return len(self.t_linear)

    def median(self, arm: str) -> float:
        """Median time of an arm (inf when at least half its seeds never reach)."""
        return float(np.median(np.asarray(self.t_linear if arm == "linear" else self.t_logistic)))


def compare(t_linear: Sequence[float], t_logistic: Sequence[float], *, alpha: float = ALPHA) -> Comparison:
    """Paired sign test of 'the linear arm is faster' (module docstring); NaN times are rejected."""
    a, b = np.asarray(t_linear, dtype=np.float64), np.asarray(t_logistic, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"t_linear and t_logistic must be 1-D of equal non-zero length; got shapes {a.shape}, {b.shape}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("times must not be NaN (use inf for 'not reached')")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    wins, losses = int(np.sum(a < b)), int(np.sum(a > b))
    untied = wins + losses
    if untied == 0:
        p_lin = p_log = 1.0
    else:
        p_lin = float(binomtest(wins, untied, 0.5, alternative="greater").pvalue)
        p_log = float(binomtest(losses, untied, 0.5, alternative="greater").pvalue)
    verdict = "holds" if p_lin <= alpha else "refuted" if p_log <= alpha else "inconclusive"
    return Comparison(tuple(a.tolist()), tuple(b.tolist()), wins, losses, a.size - untied, p_lin, p_log, verdict)
