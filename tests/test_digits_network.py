"""The digits MLP in float64 against an independent computation.

References: gradients against a forward/backward pass written by hand in numpy (batch
normalisation's backward as in Ioffe & Szegedy 2015, Section 3) and against central finite
differences (torch.autograd.gradcheck); one GD step against theta - eta * grad; the
weight-norm projection against the norms it must keep.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.losses import loss_value
from models.digits_experiment.network import DigitsMLP
from models.digits_experiment.train import gd_step

# 1e-10 relative: float64 forward/backward of a 3-layer net on 12 samples differs from the
# numpy reference only by rounding (~1e-14); batch normalisation with a tiny variance can
# amplify it by 1/sqrt(var + eps) ~ 3e2.
GRAD_RTOL = 1e-10


def small_problem(seed: int = 0, n: int = 12, d: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    return X, y


def make_model(cfg: ExperimentConfig, d: int, seed: int = 0) -> DigitsMLP:
    model = DigitsMLP(d, cfg, torch.Generator().manual_seed(seed), dtype=torch.float64)
    with torch.no_grad():  # move gamma, beta and the bias off their trivial starting values
        rng = np.random.default_rng(seed + 100)
        for p in model.parameters():
            if p is not model.raw_output and all(p is not w for w in model.raw_weights):
                p.add_(torch.tensor(rng.normal(scale=0.3, size=tuple(p.shape))))
    return model


def numpy_loss_and_grads(model: DigitsMLP, X: np.ndarray, y: np.ndarray):
    """Loss and gradients w.r.t. every parameter, by hand (training mode: batch statistics)."""
    cfg = model.config
    n = X.shape[0]
    raws = [w.detach().numpy() for w in model.raw_weights]
    raw_v = model.raw_output.detach().numpy()
    c_h, c_v = (cfg.hidden_norm, cfg.output_norm) if model.reparametrised else (None, None)
    Ws = [c_h * u / np.linalg.norm(u, axis=1, keepdims=True) if c_h else u for u in raws]
    v = c_v * raw_v / np.linalg.norm(raw_v) if c_v else raw_v
    gammas = [g.detach().numpy() for g in model.gammas] if cfg.bn_affine else [np.ones(cfg.width)] * len(Ws)
    betas = [b.detach().numpy() for b in model.betas] if cfg.bn_affine else [np.zeros(cfg.width)] * len(Ws)
    b = model.output_bias.detach().numpy()[0] if cfg.output_bias else 0.0
    # forward
    hs, cache = [X], []
    for W, g, be in zip(Ws, gammas, betas):
        z = hs[-1] @ W.T
        mu, var = z.mean(axis=0), z.var(axis=0)
        xhat = (z - mu) / np.sqrt(var + cfg.bn_eps)
        a = g * xhat + be
        cache.append((xhat, var, a))
        hs.append(np.maximum(a, 0.0))
    f = hs[-1] @ v + b
    scale = 1.0 if cfg.loss_reduction == "sum" else 1.0 / n
    if cfg.loss == "linear":
        loss, df = -scale * np.sum(y * f), -scale * y
    else:
        loss = scale * np.sum(np.logaddexp(0.0, -y * f))
        df = -scale * y / (1.0 + np.exp(y * f))  # d/df log(1 + e^{-yf}) = -y sigmoid(-yf)
    # backward (plus the distance of the nearest pre-activation to the ReLU kink)
    grads = {"v": hs[-1].T @ df, "b": np.sum(df), "min_abs_preactivation": min(np.abs(a).min() for _, _, a in cache)}
    dh = np.outer(df, v)
    for layer in reversed(range(len(Ws))):
        xhat, var, a = cache[layer]
        da = dh * (a > 0)  # ReLU'(0) = 0
        grads[f"gamma{layer}"], grads[f"beta{layer}"] = np.sum(da * xhat, axis=0), np.sum(da, axis=0)
        dxhat = da * gammas[layer]
        dz = (n * dxhat - dxhat.sum(axis=0) - xhat * np.sum(dxhat * xhat, axis=0)) / (n * np.sqrt(var + cfg.bn_eps))
        grads[f"W{layer}"] = dz.T @ hs[layer]
        dh = dz @ Ws[layer]
    if model.reparametrised:  # w = c u/||u||: dL/du = (c/||u||)(dL/dw - (dL/dw . u_hat) u_hat), per row
        def through(g, u, c):
            norm = np.linalg.norm(u, axis=-1, keepdims=True)
            unit = u / norm
            return c / norm * (g - np.sum(g * unit, axis=-1, keepdims=True) * unit)
        for layer in range(len(Ws)):
            grads[f"W{layer}"] = through(grads[f"W{layer}"], raws[layer], c_h)
        grads["v"] = through(grads["v"], raw_v, c_v)
    return loss, grads


def torch_loss_and_grads(model: DigitsMLP, X: np.ndarray, y: np.ndarray):
    model.zero_grad(set_to_none=True)
    loss = loss_value(model(torch.tensor(X)), torch.tensor(y), model.config)
    loss.backward()
    grads = {f"W{i}": w.grad.numpy() for i, w in enumerate(model.raw_weights)}
    grads["v"] = model.raw_output.grad.numpy()
    if model.config.bn_affine:
        for i in range(model.config.hidden_layers):
            grads[f"gamma{i}"], grads[f"beta{i}"] = model.gammas[i].grad.numpy(), model.betas[i].grad.numpy()
    if model.config.output_bias:
        grads["b"] = model.output_bias.grad.numpy()[0]
    return float(loss.detach()), grads


SETTINGS = [
    dict(loss="linear"),
    dict(loss="logistic"),
    dict(loss="logistic", loss_reduction="mean", output_bias=True),
    dict(loss="linear", bn_affine=False, hidden_layers=3),
    dict(loss="linear", weight_norm="reparametrisation"),
    dict(loss="logistic", compared_weight_norm=True, weight_norm="reparametrisation", output_bias=True),
]


@pytest.mark.parametrize("changes", SETTINGS, ids=[str(s) for s in SETTINGS])
def test_gradients_match_hand_written_backward(changes):
    X, y = small_problem()
    cfg = ExperimentConfig(width=6, init_scale=1.0, **changes)
    model = make_model(cfg, X.shape[1])
    loss_t, grads_t = torch_loss_and_grads(model, X, y)
    loss_n, grads_n = numpy_loss_and_grads(model, X, y)
    assert loss_t == pytest.approx(loss_n, rel=GRAD_RTOL)
    assert set(grads_t) <= set(grads_n)
    for name, value in grads_t.items():
        np.testing.assert_allclose(value, grads_n[name], rtol=GRAD_RTOL, atol=GRAD_RTOL * np.abs(grads_n[name]).max(),
                                   err_msg=name)


def test_negative_control_reference_detects_a_wrong_batchnorm_backward():
    """The comparison is sharp: dropping the mean-gradient term of the BN backward is detected."""
    X, y = small_problem(1)
    model = make_model(ExperimentConfig(width=6, init_scale=1.0, loss="logistic"), X.shape[1])
    _, grads_t = torch_loss_and_grads(model, X, y)
    # The same reference with the batch statistics treated as constants (a classic mistake):
    with torch.no_grad():
        h = torch.tensor(X)
        stats = []
        for layer in range(2):
            z = h @ model.hidden_weight(layer).T
            stats.append((z.mean(0), z.var(0, unbiased=False)))
            h = torch.relu(model.gammas[layer] * (z - stats[-1][0]) / torch.sqrt(stats[-1][1] + 1e-5) + model.betas[layer])
    model.zero_grad(set_to_none=True)
    h, _ = model.features(torch.tensor(X), statistics=stats)
    loss_value(model.head(h), torch.tensor(y), model.config).backward()
    assert not np.allclose(model.raw_weights[0].grad.numpy(), grads_t["W0"], rtol=1e-3)


def test_gradcheck_finite_differences():
    """torch.autograd.gradcheck: central differences (eps 1e-6) against autograd, float64."""
    X, y = small_problem(2, n=8, d=3)
    cfg = ExperimentConfig(width=4, init_scale=1.0, loss="logistic", weight_norm="reparametrisation",
                           compared_weight_norm=True)
    model = make_model(cfg, 3)
    params = list(model.parameters())
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def loss_of(*values):
        return _functional_loss(model, values, Xt, yt)

    assert numpy_loss_and_grads(model, X, y)[1]["min_abs_preactivation"] > 1e-3  # away from the kink
    inputs = tuple(p.detach().clone().requires_grad_(True) for p in params)
    # atol 1e-6 / rtol 1e-4: central differences with eps 1e-6 in float64 are accurate to ~1e-8
    # relative; kinks of ReLU are avoided because no pre-activation is within 1e-3 of 0 here.
    assert torch.autograd.gradcheck(loss_of, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


def _functional_loss(model: DigitsMLP, values, X, y):
    """The model's loss as a function of explicit tensors (same order as model.parameters())."""
    names = [name for name, _ in model.named_parameters()]
    f = torch.func.functional_call(model, dict(zip(names, values)), (X,))
    return loss_value(f, y, model.config)


def test_one_gd_step_is_minus_eta_times_gradient():
    X, y = small_problem(3)
    cfg = ExperimentConfig(width=6, init_scale=1.0, loss="logistic", step_size=0.01)
    model = make_model(cfg, X.shape[1])
    _, grads = numpy_loss_and_grads(model, X, y)
    before = {f"W{i}": w.detach().numpy().copy() for i, w in enumerate(model.raw_weights)}
    before["v"] = model.raw_output.detach().numpy().copy()
    before["gamma0"] = model.gammas[0].detach().numpy().copy()
    gd_step(model, torch.tensor(X), torch.tensor(y))
    after = {f"W{i}": w.detach().numpy() for i, w in enumerate(model.raw_weights)}
    after["v"] = model.raw_output.detach().numpy()
    after["gamma0"] = model.gammas[0].detach().numpy()
    for name in before:
        np.testing.assert_allclose(after[name], before[name] - 0.01 * grads[name], rtol=GRAD_RTOL, atol=1e-14,
                                   err_msg=name)


def test_projected_step_is_step_then_rescale():
    X, y = small_problem(4)
    cfg = ExperimentConfig(width=6, init_scale=1.0, loss="linear", step_size=0.01)
    model = make_model(cfg, X.shape[1])
    _, grads = numpy_loss_and_grads(model, X, y)
    W0 = model.raw_weights[0].detach().numpy().copy()
    v = model.raw_output.detach().numpy().copy()
    gd_step(model, torch.tensor(X), torch.tensor(y))
    stepped = W0 - 0.01 * grads["W0"]
    np.testing.assert_allclose(model.raw_weights[0].detach().numpy(),
                               0.5 * stepped / np.linalg.norm(stepped, axis=1, keepdims=True), rtol=GRAD_RTOL)
    stepped_v = v - 0.01 * grads["v"]
    np.testing.assert_allclose(model.raw_output.detach().numpy(), 0.2 * stepped_v / np.linalg.norm(stepped_v),
                               rtol=GRAD_RTOL)


@pytest.mark.parametrize("method", ["projection", "reparametrisation"])
def test_weight_norm_keeps_norms(method):
    """Each neuron stays at norm 0.5 (hidden) / 0.2 (output) through 50 float32 steps."""
    rng = np.random.default_rng(5)
    X = torch.tensor(rng.normal(size=(20, 7)), dtype=torch.float32)
    y = torch.tensor(np.where(rng.random(20) < 0.5, 1.0, -1.0), dtype=torch.float32)
    model = DigitsMLP(7, ExperimentConfig(width=8, weight_norm=method), torch.Generator().manual_seed(0))
    for _ in range(50):
        gd_step(model, X, y)
    for layer in range(2):
        norms = model.hidden_weight(layer).detach().norm(dim=1).numpy()
        np.testing.assert_allclose(norms, 0.5, rtol=1e-6)  # 1e-6: float32 rounding of a rescale
    assert float(model.output_weight().detach().norm()) == pytest.approx(0.2, rel=1e-6)


def test_logistic_arm_is_not_normalised():
    model = DigitsMLP(7, ExperimentConfig(loss="logistic", init_scale=1e-3), torch.Generator().manual_seed(0))
    assert not model.projected and not model.reparametrised
    assert float(model.output_weight().detach().norm()) < 1e-2  # near-zero initialisation kept


def test_running_statistics_follow_batchnorm1d():
    """The running averages after a step equal torch.nn.BatchNorm1d's (momentum, unbiased variance)."""
    X, y = small_problem(6)
    cfg = ExperimentConfig(width=6, init_scale=1.0, loss="logistic")
    model = make_model(cfg, X.shape[1])
    z = torch.tensor(X) @ model.hidden_weight(0).detach().T
    bn = torch.nn.BatchNorm1d(6, dtype=torch.float64).train()
    bn(z)
    gd_step(model, torch.tensor(X), torch.tensor(y))
    np.testing.assert_allclose(model.running_mean_0.numpy(), bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.running_var_0.numpy(), bn.running_var.numpy(), rtol=1e-12)
