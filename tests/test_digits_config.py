"""ExperimentConfig: defaults follow Appendix B.2, bad settings raise ConfigError naming the argument."""

from __future__ import annotations

import dataclasses

import pytest

from models.digits_experiment.config import COMPARED_LOSSES, ConfigError, ExperimentConfig, describe_fields, field_docs


def test_defaults_follow_appendix_b2():
    cfg = ExperimentConfig()
    assert (cfg.hidden_layers, cfg.width, cfg.step_size) == (2, 32, 1e-3)
    assert (cfg.hidden_norm, cfg.output_norm) == (0.5, 0.2)
    assert cfg.loss_reduction == "sum"  # eq. (1)
    assert cfg.dataset == "mnist" and cfg.data_dir is None  # real MNIST by default
    assert cfg.weight_normalised
    for loss in COMPARED_LOSSES:  # B.2: only the linear arm is normalised
        assert not cfg.with_loss(loss).weight_normalised
        assert cfg.with_loss(loss).changed(compared_weight_norm=True).weight_normalised


def test_every_field_is_documented():
    docs = field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(ExperimentConfig)}
    assert all(len(text) > 10 for text in docs.values())
    text = describe_fields()
    assert "compared_weight_norm (default False)" in text and "steps (default 100)" in text


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
    ("compared_weight_norm", "yes"), ("output_bias", None), ("data_dir", 3),
    ("mnist_train", 0), ("dataset", "cifar"), ("label_smoothing", 1.0), ("focal_gamma", -1.0),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_setting_names_the_argument(name, value):
    with pytest.raises(ConfigError, match=name):
        ExperimentConfig(**{name: value})


def test_data_dir_goes_with_mnist_idx():
    with pytest.raises(ConfigError, match="data_dir"):
        ExperimentConfig(dataset="mnist-idx")
    with pytest.raises(ConfigError, match="data_dir"):
        ExperimentConfig(data_dir="somewhere")


def test_changed_rejects_unknown_names():
    with pytest.raises(ConfigError, match="learning_rate"):
        ExperimentConfig().changed(learning_rate=0.1)
    with pytest.raises(ConfigError, match="width"):
        ExperimentConfig().changed(width=0)
