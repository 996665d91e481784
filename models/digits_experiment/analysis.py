"""Times to final accuracy and to NC thresholds, the paired comparison over seeds, and Holm's correction.

Definitions (times are in steps, i.e. full-batch GD iterations; only recorded steps count, so
after ``dense_until`` times are multiples of ``eval_every``):

    time to final accuracy   the first recorded step s with |a(t) - a(T)| <= tol for every
                             recorded t >= s, where a(T) is the test accuracy at the last step T
                             and tol = config.accuracy_tolerance. inf when a(T) is undefined (the
                             run went non-finite).
    time to an NC threshold  the first recorded step s with m(t) <= q * m(0) for every recorded
                             t >= s, where m(0) is the metric at step 0 and q = config.nc_fraction.
                             NaN records count as above the threshold; inf when the metric is not
                             below it at the last step (or m(0) is undefined).

Paired comparison (``compare``): the same seed gives the same initial draw to both arms. Per
seed the linear arm wins when its time is smaller, loses when larger; ties (inf = inf included)
are dropped. With k wins out of m untied seeds the two-sided exact sign test gives
p = min(1, 2 P(Bin(m, 1/2) >= max(k, m - k))) (scipy.stats.binomtest). Effect size: the median
over seeds of the paired difference d = t_other - t_linear in steps (positive: the linear arm is
faster), a time not reached counted as horizon + 1 steps, with the distribution-free confidence
interval [d_(k), d_(n+1-k)] of the sign test (order statistics of the n differences; k the
largest with P(Bin(n, 1/2) <= k - 1) <= (1 - level) / 2; unbounded, None, for n < 6 at 95%).

Family (``holm``): the comparisons of a grid (sub-claims x compared losses) are one family;
Holm's step-down adjustment controls the family-wise error at alpha:
p_adj(i) = max_{j <= i} min(1, (m - j + 1) p_(j)) over the sorted p-values. scipy has the sign
test and no Holm adjustment, so the adjustment is these lines (tested against a hand computation).

Decision of one comparison at level alpha, on the adjusted p-value:

    "holds"         p_adj <= alpha and the linear arm wins more seeds (it is faster)
    "fails"         p_adj <= alpha and the other arm wins more seeds (the other loss is faster)
    "inconclusive"  otherwise; ``Comparison.reason`` says why in one sentence (e.g. "2 seeds: the
                    smallest two-sided sign-test p-value is 0.5 > alpha 0.05")

References:
    Section 4 ("the network trained with the linear loss reaches this performance faster ...
    each NC phenomenon emerges more rapidly under the linear loss"); Figure 1; S. Holm (1979),
    "A simple sequentially rejective multiple test procedure", Scand. J. Statist. 6.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import binom, binomtest

ALPHA = 0.05
CONFIDENCE = 0.95
DECISIONS = ("holds", "fails", "inconclusive")


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


def sign_test_interval(differences: Sequence[float], level: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Distribution-free confidence interval for the median of paired differences (module docstring)."""
    d = np.sort(np.asarray(differences, dtype=np.float64))
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    n = d.size
    tail = (1 - level) / 2
    # The largest k with P(Bin(n, 1/2) <= k - 1) <= tail (the cdf grows with k; k = 0: none).
    k = 0
    while k < n and binom.cdf(k, n, 0.5) <= tail:
        k += 1
    if k < 1:
        return None, None
    return float(d[k - 1]), float(d[n - k])


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given."""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"pvalues must be a 1-D sequence of numbers in [0, 1]; got {list(pvalues)!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted.tolist()


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of one sub-claim over seeds: the linear arm against ``other``."""

    other: str  # the compared loss
    t_linear: tuple[float, ...]  # per seed, steps; inf = not reached by the horizon
    t_other: tuple[float, ...]
    horizon: int  # steps of the runs; a time not reached counts as horizon + 1 in the effect
    linear_faster: int  # seeds where the linear arm's time is smaller
    other_faster: int
    ties: int
    p_value: float  # two-sided exact sign test
    p_adjusted: float  # after Holm's adjustment over the family (p_value when alone)
    family_size: int  # comparisons in the family (1 when alone)
    effect: float  # median over seeds of t_other - t_linear, steps (> 0: linear faster)
    ci_low: float | None  # sign-test confidence interval of the effect (None: unbounded)
    ci_high: float | None
    alpha: float

    @property
    def seeds(self) -> int:
        return len(self.t_linear)

    @property
    def decision(self) -> str:
        """holds | fails | inconclusive (module docstring)."""
        if self.p_adjusted <= self.alpha and self.linear_faster != self.other_faster:
            return "holds" if self.linear_faster > self.other_faster else "fails"
        return "inconclusive"

    @property
    def reason(self) -> str:
        """One sentence: the counts, the p-values and, when inconclusive, why."""
        counts = (f"{self.seeds} seeds: linear faster in {self.linear_faster}, {self.other} faster in "
                  f"{self.other_faster}, ties {self.ties}")
        adjusted = (f", Holm-adjusted over {self.family_size} comparisons {self.p_adjusted:.3g}"
                    if self.family_size > 1 else "")
        text = f"{counts}; two-sided sign-test p = {self.p_value:.3g}{adjusted}"
        if self.decision != "inconclusive":
            return f"{text} <= alpha {self.alpha:g}"
        untied = self.linear_faster + self.other_faster
        best = min(1.0, 2 * 0.5 ** untied) if untied else 1.0
        best_adjusted = min(1.0, best * self.family_size)
        if best_adjusted > self.alpha:
            return (f"{text}; with {untied} untied seeds the smallest two-sided sign-test p-value is {best:.3g}"
                    + (f" ({best_adjusted:.3g} after Holm's adjustment)" if self.family_size > 1 else "")
                    + f" > alpha {self.alpha:g}, so no split of these seeds can decide")
        return f"{text} > alpha {self.alpha:g}"

    def median(self, arm: str) -> float:
        """Median time of an arm ("linear" or "other"; inf when at least half its seeds never reach)."""
        return float(np.median(np.asarray(self.t_linear if arm == "linear" else self.t_other)))

    def adjusted(self, p_adjusted: float, family_size: int) -> Comparison:
        return replace(self, p_adjusted=float(p_adjusted), family_size=int(family_size))


def compare(t_linear: Sequence[float], t_other: Sequence[float], *, other: str = "logistic",
            horizon: int | None = None, alpha: float = ALPHA) -> Comparison:
    """Paired two-sided sign test of the linear arm against ``other`` (module docstring); NaN times
    are rejected. ``horizon`` (steps) censors inf at horizon + 1 for the effect size; when None, at
    one step past the largest finite time."""
    a, b = np.asarray(t_linear, dtype=np.float64), np.asarray(t_other, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"t_linear and t_other must be 1-D of equal non-zero length; got shapes {a.shape}, {b.shape}")
    if np.isnan(a).any() or np.isnan(b).any():
        raise ValueError("times must not be NaN (use inf for 'not reached')")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
    if horizon is None:
        finite = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
        horizon = int(finite.max()) if finite.size else 0
    wins, losses = int(np.sum(a < b)), int(np.sum(a > b))
    untied = wins + losses
    p = 1.0 if untied == 0 else float(binomtest(wins, untied, 0.5, alternative="two-sided").pvalue)
    censored_a, censored_b = (np.where(np.isinf(x), horizon + 1.0, x) for x in (a, b))
    differences = censored_b - censored_a
    low, high = sign_test_interval(differences)
    return Comparison(other, tuple(a.tolist()), tuple(b.tolist()), int(horizon), wins, losses, a.size - untied,
                      p, p, 1, float(np.median(differences)), low, high, alpha)


def adjust_family(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons with Holm-adjusted p-values over all of them (one family)."""
    adjusted = holm([c.p_value for c in comparisons])
    return [c.adjusted(p, len(comparisons)) for c, p in zip(comparisons, adjusted)]
