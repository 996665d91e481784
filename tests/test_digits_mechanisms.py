"""models.digits_mechanisms against independent references: the Section 4 experiment's own network
(same weights, batch normalisation on, fixed affine parameters) and a hand computation of batch
normalisation's class balance at the pre-activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.digits_mechanisms import MechanismsError, Setting, init_weights, load_digits_pair, network_outputs, train


def test_outputs_match_the_experiment_network():
    """With batch normalisation on and no affine parameters, our forward pass equals DigitsMLP's (same weights)."""
    from models.digits_experiment.config import ExperimentConfig
    from models.digits_experiment.network import DigitsMLP

    X, _ = load_digits_pair()
    X = X[:40]
    config = ExperimentConfig(bn_affine=False, loss="logistic")  # logistic arm: no weight normalisation
    net = DigitsMLP(X.shape[1], config, torch.Generator().manual_seed(0), dtype=torch.float64)
    weights = [net.hidden_weight(i).detach().numpy() for i in range(config.hidden_layers)]
    weights.append(net.output_weight().detach().numpy())
    setting = Setting(hidden_layers=config.hidden_layers, width=config.width, bn_eps=config.bn_eps)
    _, ours = network_outputs(X, weights, setting)
    with torch.no_grad():
        theirs = net(torch.as_tensor(X)).numpy()
    # 1e-9 relative: the same float64 operations in another order (batch statistics over 40 rows).
    assert np.allclose(ours, theirs, rtol=1e-9, atol=1e-9 * np.abs(theirs).max())


def test_batch_norm_pre_activation_class_sums_are_opposite():
    """Batch-normalised pre-activations have batch mean 0, so their class sums are opposite vectors of equal norm
    (n_+ mu_+ = -n_- mu_-), whatever the weights: the balance that survives until the ReLU."""
    X, y = load_digits_pair()
    W = init_weights(Setting(hidden_layers=1), X.shape[1], seed=3)[0]
    z = torch.nn.functional.batch_norm(torch.as_tensor(X @ W.T), None, None, training=True, eps=1e-5).numpy()
    plus, minus = z[y > 0].sum(axis=0), z[y < 0].sum(axis=0)
    # 1e-9: a sum of 352 values of size <= ~20 in float64.
    assert np.allclose(plus, -minus, atol=1e-9)


def test_train_records_and_arguments():
    """A short run records finite values of the right length; weight normalisation holds the norms; bad settings
    raise MechanismsError naming the argument."""
    X, y = load_digits_pair()
    run = train(Setting(steps=5, weight_norm=True, dtype="float64"), X, y, seed=0)
    assert run.grad_norm.shape == (6,) and run.finite.all()
    # sqrt(2 * 32 * 0.5^2 + 0.2^2): every hidden row at 0.5, v at 0.2 (1e-9: rounding of the projection).
    assert abs(run.param_norm[-1] - np.sqrt(64 * 0.25 + 0.04)) < 1e-9
    with pytest.raises(MechanismsError, match="loss"):
        Setting(loss="hinge")
    with pytest.raises(MechanismsError, match="eta"):
        Setting(eta=0.0)
    with pytest.raises(MechanismsError, match="y"):
        train(Setting(steps=1), X, np.ones(X.shape[0]))
