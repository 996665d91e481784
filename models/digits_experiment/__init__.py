"""The Section 4 experiment: a three-layer ReLU MLP with batch normalisation, trained by
full-batch GD on digits 0 vs 8 under the linear and the logistic loss.

Modules: ``config`` (the one frozen configuration), ``data`` (bundled digits, MNIST IDX
reader), ``network`` (the model), ``train`` (GD and the recorded metrics), ``analysis``
(times to accuracy and NC thresholds, the paired sign test), ``experiment`` (both arms over
seeds).

References:
    Section 4; Figure 1; Appendix B.
"""

from __future__ import annotations

from models.digits_experiment.analysis import Comparison, compare, time_to_final_accuracy, time_to_threshold
from models.digits_experiment.config import ConfigError, ExperimentConfig
from models.digits_experiment.data import DataError, DigitsData, IDXFormatError, load_data, read_idx
from models.digits_experiment.experiment import SUBCLAIMS, ArmResults, compare_subclaim, run_arms, subclaim_time
from models.digits_experiment.network import DigitsMLP, loss_value
from models.digits_experiment.train import History, gd_step, train

__all__ = [
    "ArmResults", "Comparison", "ConfigError", "DataError", "DigitsData", "DigitsMLP", "ExperimentConfig",
    "History", "IDXFormatError", "SUBCLAIMS", "compare", "compare_subclaim", "gd_step", "load_data",
    "loss_value", "read_idx", "run_arms", "subclaim_time", "time_to_final_accuracy", "time_to_threshold", "train",
]
