"""A per-run cache: one ``.npz`` file per (arm configuration, seed, device), keyed by content.

The key hashes everything a run's history depends on: the fields of the arm's configuration
that training reads (the loss, the network, the optimiser, the data settings; not the time
definitions, which are applied afterwards), the seed, the device type, the data arrays
themselves, the source of the modules that train (config, losses, network, train, the NC
metrics) and the torch version. A change to any of them gives a new key, so a stale history
is never read; an unreadable file is recomputed and rewritten.

References:
    Section 4 (the runs); models/digits_experiment/train.py (what a run records).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
from importlib.metadata import version

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.data import DigitsData
from models.digits_experiment.history import History

# Settings that only the analysis reads (applied to a recorded history).
ANALYSIS_ONLY = ("accuracy_tolerance", "nc_fraction")
_SOURCES = ("config.py", "losses.py", "network.py", "train.py")


def _code_fingerprint() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in [here / name for name in _SOURCES] + [here.parent / "nc_metrics.py"]:
        digest.update(path.read_bytes())
    digest.update(version("torch").encode())  # without importing torch
    return digest.hexdigest()


def data_fingerprint(data: DigitsData) -> str:
    """Hash of the split's arrays (so two splits never share a cache entry)."""
    digest = hashlib.sha256()
    for array in (data.X_train, data.y_train, data.X_test, data.y_test):
        digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()


def training_settings(config: ExperimentConfig) -> dict:
    """The fields a run's history depends on; choices this arm never reads are dropped."""
    settings = {f.name: getattr(config, f.name) for f in fields(config) if f.name not in ANALYSIS_ONLY}
    settings["compared_weight_norm"] = config.weight_normalised  # the linear arm ignores the switch
    if config.loss != "label_smoothing":
        settings.pop("label_smoothing")
    if config.loss != "focal":
        settings.pop("focal_gamma")
    return settings


def run_key(config: ExperimentConfig, seed: int, data: DigitsData, device: str) -> str:
    payload = json.dumps({"settings": training_settings(config), "seed": int(seed), "device": device,
                          "data": data_fingerprint(data), "code": _code_fingerprint()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def load(folder: Path, key: str, config: ExperimentConfig, seed: int) -> History | None:
    """The cached history, or None when absent or unreadable."""
    path = Path(folder) / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            steps = archive["steps"]
            records = {name[len("record_"):]: archive[name] for name in archive.files if name.startswith("record_")}
            status = str(archive["status"])
            nonfinite = int(archive["nonfinite_step"])
    except (OSError, KeyError, ValueError):
        return None
    if not np.array_equal(steps, config.record_steps()):
        return None
    return History(config, int(seed), steps, records, status, None if nonfinite < 0 else nonfinite)


def save(folder: Path, key: str, history: History) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"record_{name}": values for name, values in history.records.items()}
    tmp = folder / f"{key}.tmp.npz"
    np.savez(tmp, steps=history.steps, status=np.array(history.status),
             nonfinite_step=np.array(-1 if history.nonfinite_step is None else history.nonfinite_step), **arrays)
    tmp.replace(folder / f"{key}.npz")
