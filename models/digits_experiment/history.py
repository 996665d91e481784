"""What one training run recorded (torch-free, so that reading results and the cache does not
load torch)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.digits_experiment.config import ExperimentConfig

METRICS = ("test_accuracy", "train_accuracy", "nc1", "nc2", "nc3", "trace_ratio", "loss")
STATUS_OK, STATUS_NONFINITE = "ok", "nonfinite"


@dataclass(frozen=True)
class History:
    """What one run recorded: ``steps`` (k,) and one float64 array (k,) per metric."""

    config: ExperimentConfig
    seed: int
    steps: np.ndarray  # (k,) the recorded steps, 0 .. config.steps
    records: dict[str, np.ndarray]  # name -> (k,) float64, NaN where undefined
    status: str  # "ok" or "nonfinite"
    nonfinite_step: int | None  # the first step with a non-finite loss, parameter or output

    def __getitem__(self, name: str) -> np.ndarray:
        return self.records[name]
