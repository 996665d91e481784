"""ExperimentConfig: defaults follow Appendix B.2, bad settings raise ConfigError naming the argument."""

from __future__ import annotations

import dataclasses

import pytest

from models.digits_experiment.config import ConfigError, ExperimentConfig


def test_defaults_follow_appendix_b2():
    cfg = ExperimentConfig()
    assert (cfg.hidden_layers, cfg.width, cfg.step_size) == (2, 32, 1e-3)
    assert (cfg.hidden_norm, cfg.output_norm) == (0.5, 0.2)
    assert cfg.loss_reduction == "sum"  # eq. (1)
    assert cfg.weight_normalised and not cfg.with_loss("logistic").weight_normalised
    assert cfg.with_loss("logistic").changed(logistic_weight_norm=True).weight_normalised


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ExperimentConfig().steps = 3


def test_record_steps():
    cfg = ExperimentConfig(steps=25, dense_until=3, eval_every=10)
    assert cfg.record_steps() == [0, 1, 2, 3, 10, 20, 25]
    assert ExperimentConfig(steps=2, dense_until=50).record_steps() == [0, 1, 2]


BAD = [
    ("loss", "hinge"), ("loss_reduction", "max"), ("eval_statistics", "batch"),
    ("weight_norm", "spectral"), ("hidden_layers", 0), ("width", 2.5), ("steps", -1),
    ("eval_every", True), ("dense_until", -2), ("split_seed", 1.0), ("step_size", 0.0),
    ("step_size", float("nan")), ("bn_eps", -1e-5), ("init_scale", float("inf")),
    ("hidden_norm", "0.5"), ("output_norm", 0), ("accuracy_tolerance", 0.0),
    ("bn_momentum", 1.0), ("test_fraction", 1.5), ("nc_fraction", 1.0), ("bn_affine", 1),
    ("logistic_weight_norm", "yes"), ("output_bias", None), ("data_dir", 3),
    ("mnist_train", 0),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_setting_names_the_argument(name, value):
    with pytest.raises(ConfigError, match=name):
        ExperimentConfig(**{name: value})


def test_changed_rejects_unknown_names():
    with pytest.raises(ConfigError, match="learning_rate"):
        ExperimentConfig().changed(learning_rate=0.1)
    with pytest.raises(ConfigError, match="width"):
        ExperimentConfig().changed(width=0)
