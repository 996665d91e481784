"""Figure 1 for every arm, and the per-seed step counts of each paired comparison (matplotlib, Agg).

    figure1(results, path)      test accuracy, NC1 (B.3's metric), the trace ratio, NC2 and NC3
                                against the GD step, mean and +-1 std over seeds, one colour per loss
    step_counts(results, path)  per sub-claim, the steps each seed took under the linear loss and
                                under each compared loss, joined per seed (the pairs the sign test
                                compares); a run that never got there is drawn at horizon + 1

References:
    Section 4; Figure 1 ("Test accuracy and NC metrics of linear/logistic loss"); Appendix B.3.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from models.digits_experiment.experiment import SUBCLAIMS, ArmResults, subclaim_time

COLOURS = {"linear": "tab:red", "logistic": "tab:blue", "mse": "tab:green", "label_smoothing": "tab:purple",
           "focal": "tab:orange"}
PANELS = (
    ("test_accuracy", "test accuracy", "linear"),
    ("nc1", "NC1: tr(Sigma_W Sigma_B^+)", "log"),
    ("trace_ratio", "tr(Sigma_W) / tr(Sigma_B)", "log"),
    ("nc2", "NC2: cos(mu_+, mu_-)", "symlog"),
    ("nc3", "NC3: ||v/||v|| - Delta/||Delta|| ||", "linear"),
    ("train_accuracy", "training accuracy (TPT: 1)", "linear"),
)
TITLES = {"accuracy": "final test accuracy", "nc1": "NC1 (B.3)", "nc2": "NC2", "nc3": "NC3",
          "trace_ratio": "trace ratio"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path


def figure1(results: ArmResults, path, *, title: str = "") -> Path:
    """Figure 1 over every arm of ``results``; returns the path written (PNG)."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, (name, label, scale) in zip(axes.flat, PANELS):
        for loss, histories in results.runs.items():
            steps = histories[0].steps
            values = np.vstack([h[name] for h in histories])  # (seeds, records)
            if np.isnan(values).all():
                ax.plot([], [], color=COLOURS[loss], label=f"{loss} (no finite record)")
                continue
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns after a non-finite step
                mean, std = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
            ax.plot(steps, mean, color=COLOURS[loss], label=loss)
            # Log axes cannot show values <= 0: the band is clipped at mean/10 (log) or 0 (NC2 >= 0).
            low = np.maximum(mean - std, mean / 10) if scale == "log" else mean - std
            low = np.maximum(low, 0.0) if scale == "symlog" else low
            ax.fill_between(steps, low, mean + std, color=COLOURS[loss], alpha=0.15, linewidth=0)
        ax.set_xscale("symlog", linthresh=10)
        if scale == "log":
            ax.set_yscale("log")
        elif scale == "symlog":
            ax.set_yscale("symlog", linthresh=1e-4)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("step (GD iteration)")
    axes.flat[0].legend(fontsize=8)
    cfg = results.config
    fig.suptitle(title or f"{results.data_description}; {len(results.seeds)} seeds, {cfg.steps} steps of GD "
                 f"(step size {cfg.step_size:g}); mean +- std over seeds", fontsize=10)
    fig.tight_layout()
    written = _save(fig, path)
    plt.close(fig)
    return written


def step_counts(results: ArmResults, path, *, title: str = "") -> Path:
    """Per-seed steps to each sub-claim's event, linear vs each compared loss; returns the path."""
    plt = _pyplot()
    horizon = results.config.steps
    fig, axes = plt.subplots(1, len(SUBCLAIMS), figsize=(4 * len(SUBCLAIMS), 4.2), sharey=True)
    for ax, sub in zip(axes, SUBCLAIMS):
        linear = np.array([subclaim_time(h, sub) for h in results.linear])
        linear = np.where(np.isinf(linear), horizon + 1, linear)
        for position, other in enumerate(results.compared):
            times = np.array([subclaim_time(h, sub) for h in results.arm(other)])
            times = np.where(np.isinf(times), horizon + 1, times)
            x0, x1 = position - 0.18, position + 0.18
            for a, b in zip(linear, times):
                ax.plot([x0, x1], [a, b], color="0.7", linewidth=0.7, zorder=1)
            ax.scatter(np.full(linear.size, x0), linear, color=COLOURS["linear"], s=14, zorder=2,
                       label="linear" if position == 0 else None)
            ax.scatter(np.full(times.size, x1), times, color=COLOURS[other], s=14, zorder=2, label=other)
        ax.axhline(horizon + 1, color="0.4", linestyle=":", linewidth=0.8)
        ax.set_xticks(range(len(results.compared)), [o.replace("_", "\n") for o in results.compared], fontsize=8)
        ax.set_yscale("symlog", linthresh=10)
        ax.set_title(TITLES[sub], fontsize=10)
    axes[0].set_ylabel(f"steps (GD iterations) to the event; dotted: not reached by {horizon}")
    axes[-1].legend(fontsize=7, loc="center right")
    fig.suptitle(title or f"Per-seed step counts, linear vs each loss, paired by seed; {results.data_description}, "
                 f"{len(results.seeds)} seeds", fontsize=10)
    fig.tight_layout()
    written = _save(fig, path)
    plt.close(fig)
    return written


def finite_or(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback
