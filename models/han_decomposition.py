"""Han et al. 2022's decomposition of the MSE loss, measured along linear-loss and MSE training.

Definitions (our reading of Han et al. 2022, stated precisely). Features H (n, d), a linear
classifier W (K, d) with bias b (K,), targets Y (n, K) (one-hot, or the labels +-1 as one
column for a scalar-output binary head), predictions P = H W^T + 1 b^T and the MSE loss

    L(W, b, H) = 1/(2n) ||P - Y||_F^2.

The least-squares classifier of the current features is (W_LS, b_LS) = argmin_{W, b} L(W, b, H)
(minimum-norm solution when [H, 1] is rank deficient), with predictions P_LS = [H, 1] [W_LS, b_LS]^T,
the orthogonal projection of Y on the column space of [H, 1]. Since P - P_LS lies in that
column space and Y - P_LS is orthogonal to it, Pythagoras gives the exact decomposition

    L(W, b, H) = L(W_LS, b_LS, H) + 1/(2n) ||(W - W_LS) H^T + (b - b_LS) 1^T||_F^2
               =       term (A)    +                    term (B),

term (A) the loss of the least-squares classifier (Han et al. split it further into NC terms),
term (B) the deviation of the actual classifier from it. Han et al.'s *central path* is the set
where term (B) = 0 (the classifier stays least-squares optimal for the current features).

Scale-invariant term (B). Under the linear loss the classifier grows without bound while
P_LS stays bounded, so term (B) grows whatever the directions do. The relative deviation of the
*rescaled* classifier,

    B_rel = min_{c >= 0} ||c P - P_LS||_F^2 / ||P_LS||_F^2 = 1 - cos_+^2(P, P_LS),

(cos_+ = max(cos, 0) of the angle between P and P_LS as vectors) is invariant under (W, b) ->
c (W, b), lies in [0, 1] and is 0 exactly when some positive multiple of the classifier is on the
central path.

Simulators: ``mse_ufm_flow`` integrates the gradient flow of n L on the binary UFM (the sum
convention of the paper's eq. (1)) with scipy's DOP853; ``train_digits`` trains the Section 4
network (models/digits_experiment, its public network and data functions only) with the linear
loss or the MSE and records term (B) of the last layer along training.

References:
    Han, Papyan & Donoho (2022), "Neural collapse under MSE loss: proximity to and dynamics on
    the central path" (abstract: the decomposition into (A) and (B), term (B) negligible, the
    central path); Appendix C.1 (binary UFM); Section 4 / Appendix B (the network).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.integrate import solve_ivp


class HanInputError(ValueError):
    """A malformed argument; the message names it and its value."""


@dataclass(frozen=True)
class HanTerms:
    """The decomposition of one state (see the module docstring)."""

    loss: float  # 1/(2n) ||P - Y||^2
    term_a: float  # 1/(2n) ||P_LS - Y||^2
    term_b: float  # 1/(2n) ||P - P_LS||^2
    term_b_relative: float  # 1 - cos_+^2(P, P_LS), scale-invariant
    W_ls: np.ndarray  # (K, d)
    b_ls: np.ndarray  # (K,)


def _matrix(name: str, value) -> np.ndarray:
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise HanInputError(f"{name} must be a real array; got {value!r}") from error
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or 0 in array.shape or not np.all(np.isfinite(array)):
        raise HanInputError(f"{name} must be a finite non-empty 1-D or 2-D array; got shape {array.shape}")
    return array


def least_squares_classifier(H, Y) -> tuple[np.ndarray, np.ndarray]:
    """(W_LS (K, d), b_LS (K,)): the minimum-norm minimiser of ||H W^T + 1 b^T - Y||_F^2
    (numpy's lstsq on [H, 1]); Y (n, K), or (n,) for one output."""
    H, Y = _matrix("H", H), _matrix("Y", Y)
    if Y.shape[0] != H.shape[0]:
        raise HanInputError(f"Y must have {H.shape[0]} rows to match H; got shape {Y.shape}")
    design = np.hstack([H, np.ones((H.shape[0], 1))])  # (n, d + 1)
    coef, *_ = np.linalg.lstsq(design, Y, rcond=None)  # (d + 1, K)
    return coef[:-1].T, coef[-1]


def decomposition(W, b, H, Y) -> HanTerms:
    """Term (A), term (B) and the scale-invariant B_rel of classifier (W, b) on features H.

    W (K, d) (or (d,) for one output), b (K,) or a number, H (n, d), Y (n, K) or (n,)."""
    H, Y = _matrix("H", H), _matrix("Y", Y)
    W = np.array(W, dtype=np.float64)
    W = W[None, :] if W.ndim == 1 else W
    if W.ndim != 2 or W.shape != (Y.shape[1], H.shape[1]) or not np.all(np.isfinite(W)):
        raise HanInputError(f"W must be a finite ({Y.shape[1]}, {H.shape[1]}) array; got {np.shape(W)}")
    b = np.broadcast_to(np.array(b, dtype=np.float64), (Y.shape[1],))
    if not np.all(np.isfinite(b)):
        raise HanInputError(f"b must be finite; got {b!r}")
    n = H.shape[0]
    W_ls, b_ls = least_squares_classifier(H, Y)
    P = H @ W.T + b  # (n, K)
    P_ls = H @ W_ls.T + b_ls  # (n, K)
    gram = float(np.sum(P * P_ls))
    pp, qq = float(np.sum(P * P)), float(np.sum(P_ls * P_ls))
    if qq == 0.0 or pp == 0.0:
        relative = 1.0
    else:
        relative = 1.0 - max(gram, 0.0) ** 2 / (pp * qq)
    return HanTerms(loss=float(np.sum((P - Y) ** 2)) / (2 * n), term_a=float(np.sum((P_ls - Y) ** 2)) / (2 * n),
                    term_b=float(np.sum((P - P_ls) ** 2)) / (2 * n), term_b_relative=float(max(relative, 0.0)),
                    W_ls=W_ls, b_ls=np.array(b_ls))


def _times(times) -> np.ndarray:
    t = np.array(times, dtype=np.float64).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(np.diff(t) <= 0):
        raise HanInputError(f"times must be finite, >= 0 and increasing; got {times!r}")
    return t


def mse_ufm_rhs(H, v, b, y) -> tuple[np.ndarray, np.ndarray, float]:
    """Minus the gradient of (1/2) sum_i (v^T h_i + b - y_i)^2: with r = H v + b - y,
    dH/dt = -r v^T, dv/dt = -H^T r, db/dt = -sum_i r_i."""
    r = H @ v + b - y  # (n,)
    return -np.outer(r, v), -H.T @ r, -float(r.sum())


def mse_ufm_flow(H0, v0, y, times, *, b0: float = 0.0, rtol: float = 1e-10) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Gradient flow of (1/2) sum_i (v^T h_i + b - y_i)^2 over (H, v, b) on the binary UFM
    (DOP853, atol = rtol times the start's size); the states (H, v, b) at ``times``."""
    H0, v0, y = np.array(H0, float), np.array(v0, float), np.array(y, float)
    if H0.ndim != 2 or v0.shape != (H0.shape[1],) or y.shape != (H0.shape[0],):
        raise HanInputError(f"H0 (n, d), v0 (d,), y (n,) must agree; got {H0.shape}, {v0.shape}, {y.shape}")
    if not (np.all(np.isfinite(H0)) and np.all(np.isfinite(v0)) and np.all(np.isfinite(y))):
        raise HanInputError("H0, v0 and y must be finite")
    if isinstance(b0, bool) or not isinstance(b0, Real):
        raise HanInputError(f"b0 must be a real number; got {b0!r}")
    t = _times(times)
    n, d = H0.shape

    def rhs(_t, z):
        dH, dv, db = mse_ufm_rhs(z[: n * d].reshape(n, d), z[n * d: n * d + d], z[-1], y)
        return np.concatenate([dH.ravel(), dv, [db]])

    z0 = np.concatenate([H0.ravel(), v0, [float(b0)]])
    scale = max(float(np.max(np.abs(z0))), 1.0)
    sol = solve_ivp(rhs, (0.0, float(t[-1])), z0, method="DOP853", rtol=rtol, atol=rtol * scale, t_eval=t)
    if not sol.success:
        raise RuntimeError(f"DOP853 failed on the MSE UFM flow: {sol.message}")
    return [(z[: n * d].reshape(n, d), z[n * d: n * d + d], float(z[-1])) for z in sol.y.T]


@dataclass(frozen=True)
class DigitsTermB:
    """Term (B) of the last layer along one training run of the digits network."""

    steps: np.ndarray  # (m,) recorded GD steps
    term_b: np.ndarray  # (m,)
    term_b_relative: np.ndarray  # (m,)
    term_a: np.ndarray  # (m,)
    train_accuracy: np.ndarray  # (m,)


TRAIN_LOSSES = ("linear", "mse")
# The bundled 8x8 digits 0 vs 8 (352 images, 64 inputs): small enough for a run of ~0.3 s.
DIGITS_DATASET = "sklearn-digits"


def train_digits(loss: str, *, steps: int, seed: int, record: list[int], data=None, n_train: int | None = None,
                 step_size: float | None = None) -> DigitsTermB:
    """Full-batch GD on the Section 4 network and digits (models/digits_experiment's default
    configuration: width 32, two hidden layers, batch normalisation, near-zero init) with the
    linear loss (weight-normalised by projection, as the paper's linear arm) or the MSE
    (1/2) sum_i (f(x_i) - y_i)^2 (unnormalised, as the paper's logistic baseline). Records term (B)
    of the output layer (f = h v, no bias in the network; W_LS has one) at the steps ``record``.
    ``data``: a DigitsData split (default: load_data of the bundled 8x8 digits, DIGITS_DATASET; callers
    that train repeatedly load it once and pass it). ``step_size``: GD's step (default the
    configuration's 1e-3). ``n_train``: use only the first n_train // 2 training images of each class (plus one positive
    when n_train is odd)."""
    import torch

    from models.digits_experiment import DigitsMLP, ExperimentConfig, load_data

    if loss not in TRAIN_LOSSES:
        raise HanInputError(f"loss must be one of {TRAIN_LOSSES}; got {loss!r}")
    for name, value in (("steps", steps), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise HanInputError(f"{name} must be an integer >= 0; got {value!r}")
    config = ExperimentConfig().changed(dataset=DIGITS_DATASET)
    if step_size is not None:
        config = config.changed(step_size=float(step_size))
    if loss == "mse":  # the unnormalised arm: the paper's baseline settings (no weight normalisation)
        config = config.changed(loss="logistic")
    if data is None:
        data = load_data(config)
    X_np, y_np = data.X_train, data.y_train
    if n_train is not None:
        if isinstance(n_train, bool) or not isinstance(n_train, Integral) or n_train < 2:
            raise HanInputError(f"n_train must be an integer >= 2; got {n_train!r}")
        keep = np.sort(np.concatenate([np.flatnonzero(y_np == label)[: n_train // 2 + (label > 0) * (n_train % 2)]
                                       for label in (-1.0, 1.0)]))
        X_np, y_np = X_np[keep], y_np[keep]
    record = sorted(set(int(s) for s in record if 0 <= s <= steps))
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = DigitsMLP(X_np.shape[1], config, torch.Generator().manual_seed(int(seed)), dtype=torch.float64)
        X, y = torch.tensor(X_np), torch.tensor(y_np)
        rows = []
        for step in range(steps + 1):
            if step in record:
                with torch.no_grad():
                    h, _ = model.features(X)
                    f = model.head(h)
                    terms = decomposition(model.output_weight().numpy(), 0.0, h.numpy(), y_np)
                    rows.append((step, terms.term_b, terms.term_b_relative, terms.term_a,
                                 float((torch.sign(f) == y).double().mean())))
            if step == steps:
                break
            model.zero_grad(set_to_none=True)
            f = model(X)
            value = -(y * f).sum() if loss == "linear" else 0.5 * torch.nn.functional.mse_loss(f, y, reduction="sum")
            value.backward()
            with torch.no_grad():
                for p in model.parameters():
                    if p.grad is not None:
                        p.sub_(config.step_size * p.grad)
            if model.projected:
                model.project_()
    finally:
        torch.set_num_threads(before)
    cols = list(zip(*rows))
    return DigitsTermB(*(np.array(c, dtype=float) for c in cols))
