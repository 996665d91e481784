"""Full-batch gradient descent on the Appendix B.2 network, recording accuracy and NC metrics.

One run = one arm (a loss) and one seed, on the CPU or a GPU (``device``; the initial draw is
made on the CPU, so every device starts from the same weights). Training is float32; every
metric is computed in float64 from the float32 features (models/nc_metrics.py):

    test_accuracy   fraction of test images with sign(f(x)) = y (f = 0 counts as an error)
    nc1             tr(Sigma_W Sigma_B^+) of the last-layer training features (Appendix B.3)
    nc2             <mu_+/||mu_+||, mu_-/||mu_-||> (Appendix B.3)
    nc3             || v/||v|| - (mu_+ - mu_-)/||mu_+ - mu_-|| || (Appendix B.3)
    trace_ratio     tr(Sigma_W) / tr(Sigma_B)

Numerical instability is a finding, not a crash: the first step whose loss, parameters or
outputs are not finite ends the run with ``status = "nonfinite"``; the records from then on
are NaN. A metric that is undefined at a finite state (e.g. every feature zero, so the class
means coincide) is recorded as NaN for that step.

References:
    Section 4; Appendix B.2-B.3.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.data import DigitsData
from models.digits_experiment.history import METRICS, STATUS_NONFINITE, STATUS_OK, History  # noqa: F401 (re-exported)
from models.digits_experiment.losses import loss_value
from models.digits_experiment.network import DigitsMLP
from models.nc_metrics import MetricInputError, binary_metrics

@contextmanager
def _threads(count: int):
    """Run torch with a fixed thread count (bitwise-reproducible reductions), then restore it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def gd_step(model: DigitsMLP, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One full-batch GD step theta <- theta - eta grad L(theta) (then the norm projection).

    The forward pass uses batch statistics and updates the running averages. Returns the loss
    at the weights before the step.
    """
    cfg = model.config
    model.zero_grad(set_to_none=True)
    h, _ = model.features(X, statistics="batch", update_running=True)
    loss = loss_value(model.head(h), y, cfg)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.sub_(cfg.step_size * p.grad)
    if model.projected:
        model.project_()
    return loss.detach()


def _finite_model(model: DigitsMLP) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in (*model.parameters(), *model.buffers()))


@torch.no_grad()
def evaluate(model: DigitsMLP, data: DigitsData, X: torch.Tensor, y: torch.Tensor,
             X_test: torch.Tensor, y_test: torch.Tensor) -> dict[str, float]:
    """Accuracies, the loss and the NC metrics at the current weights (see module docstring)."""
    cfg = model.config
    if cfg.eval_statistics == "train":
        H, stats = model.features(X, statistics="batch")
        H_test, _ = model.features(X_test, statistics=stats)
    else:
        H, _ = model.features(X, statistics="running")
        H_test, _ = model.features(X_test, statistics="running")
    f, f_test = model.head(H), model.head(H_test)
    values = {
        "train_accuracy": float((torch.sign(f) == y).double().mean()),
        "test_accuracy": float((torch.sign(f_test) == y_test).double().mean()),
        # The training loss uses batch statistics; with eval_statistics="train" that is f itself.
        "loss": float(loss_value(f if cfg.eval_statistics == "train" else model(X), y, cfg)),
    }
    H64 = H.double().cpu().numpy()  # (n, width) features, metrics in float64
    v64 = model.output_weight().double().cpu().numpy()  # (width,)
    if not (np.all(np.isfinite(H64)) and np.all(np.isfinite(v64))):
        return values | {name: np.nan for name in ("nc1", "nc2", "nc3", "trace_ratio")}
    try:
        metrics = binary_metrics(v64, H64, data.y_train)
    except MetricInputError:  # e.g. all features zero: the class means coincide
        metrics = {}
    for name in ("nc1", "nc2", "nc3", "trace_ratio"):
        values[name] = float(metrics.get(name, np.nan))
    return values


def resolve_device(device: str) -> torch.device:
    """"cpu", "cuda" (or "cuda:N"), or "auto" (a GPU when torch sees one, else the CPU)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]'; got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch sees no GPU (use 'cpu' or 'auto')")
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]'; got {device!r}")
    return resolved


def train(config: ExperimentConfig, data: DigitsData, seed: int, *, threads: int = 1,
          device: str = "cpu") -> History:
    """Train one arm from the seed's near-zero initialisation; record at ``config.record_steps()``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    where = resolve_device(device)
    with _threads(threads):
        generator = torch.Generator().manual_seed(int(seed))
        model = DigitsMLP(data.d, config, generator).to(where)
        X = torch.tensor(data.X_train, dtype=torch.float32, device=where)
        y = torch.tensor(data.y_train, dtype=torch.float32, device=where)
        X_test = torch.tensor(data.X_test, dtype=torch.float32, device=where)
        y_test = torch.tensor(data.y_test, dtype=torch.float32, device=where)
        record_steps = config.record_steps()
        records = {name: np.full(len(record_steps), np.nan) for name in METRICS}
        status, nonfinite_step = STATUS_OK, None
        slot = 0
        for step in range(config.steps + 1):
            if step == record_steps[slot]:
                for name, value in evaluate(model, data, X, y, X_test, y_test).items():
                    records[name][slot] = value
                slot += 1
            if step == config.steps:
                break
            loss = gd_step(model, X, y)
            # A non-finite parameter makes the next loss non-finite, so checking the loss each
            # step (and the parameters at recorded steps) finds the first bad step cheaply.
            if not torch.isfinite(loss) or (step + 1 == record_steps[slot] and not _finite_model(model)):
                status, nonfinite_step = STATUS_NONFINITE, step
                break
    return History(config, int(seed), np.array(record_steps), records, status, nonfinite_step)
