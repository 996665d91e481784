"""Measurements of the mechanisms Sections 4 and 5.2 invoke, on a small digits network.

The network is Appendix B.2's fully connected ReLU network, f(x) = h_L v, h_l = relu(BN(h_{l-1}
W_l^T)), here with switches the paper does not offer: batch normalisation on or off, per-neuron
weight normalisation (each row of W_l held at norm ``hidden_norm``, v at ``output_norm``, by
projection after every step, as B.2 describes) on or off, linear or logistic loss summed over
samples (eq. (1)). Batch normalisation uses the full batch's mean and biased variance with fixed
affine parameters (scale 1, shift 0), so that every trained parameter is a weight matrix. Full
batch gradient descent with step ``eta``; gradients by torch autograd, the losses by torch's own
functions (``softplus`` for the logistic loss).

Recorded per step (:class:`Run`): the gradient norm over all parameters, the parameter norm,
the class-mean features mu_+-(t) of the last hidden layer and the ratio ||mu_+|| / ||mu_-||
(Section 5.2's ||x_+|| / ||x_-|| for the deep network: the class sums there are n_+- mu_+-; we
use means so that unequal class counts do not enter), and whether everything is finite.

Data: scikit-learn's bundled 8x8 digits 0 (label -1) and 8 (label +1), pixels / 16, flattened
(352 images, 64 inputs); a run of a few hundred steps takes a fraction of a second.

``network_outputs`` evaluates the same network from given weights without any torch module, so a
test can compare it with the Section 4 experiment's own network (models.digits_experiment).

References:
    Section 4; Section 5.2; Appendix B.2; Ioffe & Szegedy (2015); Salimans & Kingma (2016).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import math
from dataclasses import dataclass, field

import numpy as np

LOSSES = ("linear", "logistic")


if TYPE_CHECKING:  # annotations only
    import torch


class MechanismsError(ValueError):
    """A bad argument; the message names the argument and its value."""


@dataclass(frozen=True)
class Setting:
    """One arm: loss, batch normalisation, weight normalisation, sizes, step and horizon."""

    loss: str = "linear"
    batch_norm: bool = True
    weight_norm: bool = False
    hidden_layers: int = 2
    width: int = 32
    eta: float = 1e-3
    steps: int = 200
    init_scale: float = 1e-3
    hidden_norm: float = 0.5
    output_norm: float = 0.2
    bn_eps: float = 1e-5
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise MechanismsError(f"loss must be one of {LOSSES}; got {self.loss!r}")
        for name in ("batch_norm", "weight_norm"):
            if not isinstance(getattr(self, name), bool):
                raise MechanismsError(f"{name} must be True or False; got {getattr(self, name)!r}")
        for name in ("hidden_layers", "width", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "steps" else 1):
                raise MechanismsError(f"{name} must be a positive int; got {value!r}")
        for name in ("eta", "init_scale", "hidden_norm", "output_norm", "bn_eps"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise MechanismsError(f"{name} must be a finite number > 0; got {value!r}")
        if self.dtype not in ("float32", "float64"):
            raise MechanismsError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")


@dataclass
class Run:
    """Per-step records of one training run (index 0: before the first step).

    grad_norm (steps + 1,): ||grad L|| over all parameters at the weights of that step.
    param_norm (steps + 1,): ||theta||.
    mean_norm_plus, mean_norm_minus (steps + 1,): ||mu_+||, ||mu_-|| of the last hidden layer.
    finite (steps + 1,): every weight, output and gradient finite at that step.
    accuracy (steps + 1,): training accuracy of sgn f.
    """

    setting: Setting
    grad_norm: np.ndarray = field(repr=False)
    param_norm: np.ndarray = field(repr=False)
    mean_norm_plus: np.ndarray = field(repr=False)
    mean_norm_minus: np.ndarray = field(repr=False)
    finite: np.ndarray = field(repr=False)
    accuracy: np.ndarray = field(repr=False)

    @property
    def ratio(self) -> np.ndarray:
        """||mu_+|| / ||mu_-|| per step (nan where either is 0 or not finite)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            r = self.mean_norm_plus / self.mean_norm_minus
        return np.where(np.isfinite(r) & (r > 0), r, np.nan)

    def first_nonfinite_step(self) -> int:
        """First step whose records are not finite (-1 if none)."""
        bad = np.flatnonzero(~self.finite)
        return int(bad[0]) if bad.size else -1


def load_digits_pair() -> tuple[np.ndarray, np.ndarray]:
    """(X (352, 64) in [0, 1], y (352,)): scikit-learn's 8x8 digits 0 (-1) and 8 (+1)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.isin(data.target, (0, 8))
    X = data.data[keep] / 16.0
    y = np.where(data.target[keep] == 8, 1.0, -1.0)
    return X, y


def init_weights(setting: Setting, d_in: int, seed: int) -> list[np.ndarray]:
    """[W_1 (width, d_in), ..., W_L (width, width), v (width,)]: i.i.d. N(0, init_scale^2 / fan_in)
    (near-zero initialisation, row norms ~ init_scale), from np.random.default_rng(seed)."""
    rng = np.random.default_rng(seed)
    dims = [d_in] + [setting.width] * setting.hidden_layers
    weights = [rng.normal(size=(dims[i + 1], dims[i])) * setting.init_scale / math.sqrt(dims[i])
               for i in range(setting.hidden_layers)]
    weights.append(rng.normal(size=setting.width) * setting.init_scale / math.sqrt(setting.width))
    return weights


def _features(x: torch.Tensor, hidden: list[torch.Tensor], setting: Setting) -> torch.Tensor:
    import torch  # here, not at module level: listing the claims must not load torch

    h = x
    for W in hidden:
        z = h @ W.T
        if setting.batch_norm:
            z = torch.nn.functional.batch_norm(z, None, None, training=True, eps=setting.bn_eps)
        h = torch.relu(z)
    return h


def network_outputs(X, weights, setting: Setting) -> tuple[np.ndarray, np.ndarray]:
    """(features h_L (n, width), outputs f (n,)) of the network with the given weights (float64)."""
    import torch  # here, not at module level: listing the claims must not load torch

    x = torch.as_tensor(np.asarray(X, dtype=np.float64))
    ws = [torch.as_tensor(np.asarray(w, dtype=np.float64)) for w in weights]
    with torch.no_grad():
        h = _features(x, ws[:-1], setting)
        return h.numpy(), (h @ ws[-1]).numpy()


def _loss(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    import torch  # here, not at module level: listing the claims must not load torch

    margins = y * f
    if loss == "linear":
        return -margins.sum()
    return torch.nn.functional.softplus(-margins).sum()


def _project(params: list[torch.Tensor], setting: Setting) -> None:
    import torch  # here, not at module level: listing the claims must not load torch

    with torch.no_grad():
        for W in params[:-1]:
            W.mul_(setting.hidden_norm / W.norm(dim=1, keepdim=True))
        params[-1].mul_(setting.output_norm / params[-1].norm())


def train(setting: Setting, X, y, *, seed: int = 0, weights: list[np.ndarray] | None = None) -> Run:
    """Full-batch GD of ``setting`` on (X (n, d), y (n,)) from ``weights`` (default init_weights(seed)).

    Runs on one torch thread (restored afterwards): at these sizes (352 x 64 x 32) thread start-up costs
    ten times the arithmetic."""
    import torch  # here, not at module level: listing the claims must not load torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(setting, X, y, seed=seed, weights=weights)
    finally:
        torch.set_num_threads(threads)


def _train(setting: Setting, X, y, *, seed: int, weights: list[np.ndarray] | None) -> Run:
    import torch  # here, not at module level: listing the claims must not load torch

    dtype = torch.float32 if setting.dtype == "float32" else torch.float64
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],) or not np.all(np.isin(y, (-1.0, 1.0))):
        raise MechanismsError(f"X must be (n, d) and y (n,) in {{-1, +1}}; got X {X.shape}, y {y.shape}")
    if not (np.any(y > 0) and np.any(y < 0)):
        raise MechanismsError("y must contain both classes")
    weights = init_weights(setting, X.shape[1], seed) if weights is None else weights
    params = [torch.tensor(np.asarray(w, dtype=np.float64), dtype=dtype, requires_grad=True) for w in weights]
    if setting.weight_norm:
        _project(params, setting)
    x, t = torch.as_tensor(X, dtype=dtype), torch.as_tensor(y, dtype=dtype)
    pos, neg = t > 0, t < 0
    n = setting.steps + 1
    rec = {k: np.full(n, np.nan) for k in ("grad", "param", "plus", "minus", "acc")}
    finite = np.zeros(n, dtype=bool)
    for step in range(n):
        for p in params:
            p.grad = None
        h = _features(x, params[:-1], setting)
        f = h @ params[-1]
        _loss(f, t, setting.loss).backward()
        with torch.no_grad():
            grads = torch.cat([p.grad.reshape(-1) for p in params])
            theta = torch.cat([p.reshape(-1) for p in params])
            rec["grad"][step] = float(grads.double().norm())
            rec["param"][step] = float(theta.double().norm())
            rec["plus"][step] = float(h[pos].double().mean(dim=0).norm())
            rec["minus"][step] = float(h[neg].double().mean(dim=0).norm())
            rec["acc"][step] = float(((f > 0) == pos).double().mean())
            finite[step] = bool(torch.isfinite(grads).all() and torch.isfinite(theta).all() and torch.isfinite(f).all())
            if step == n - 1 or not finite[step]:
                break
            for p in params:
                p -= setting.eta * p.grad
        if setting.weight_norm:
            _project(params, setting)
    return Run(setting, rec["grad"], rec["param"], rec["plus"], rec["minus"], finite, rec["acc"])


def growth_rate(values: np.ndarray, start: int, stop: int) -> float:
    """Least-squares slope of log(values[start:stop]) per step (finite entries only)."""
    seg = np.asarray(values[start:stop], dtype=np.float64)
    idx = np.arange(start, start + seg.size)
    ok = np.isfinite(seg) & (seg > 0)
    if ok.sum() < 2:
        raise MechanismsError(f"need two finite positive values in [{start}, {stop}); got {int(ok.sum())}")
    return float(np.polyfit(idx[ok], np.log(seg[ok]), 1)[0])
