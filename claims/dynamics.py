"""The training dynamics an instance asks for: the paper's flow, or a referee's variant.

Claims of Section 5.2 and Appendix D are about gradient *flow* of the two-layer ReLU network
under the *linear* loss. A referee probing them asks what happens with a finite step or the
logistic loss instead. An instance selects the dynamics with two optional scalar arrays,
next to ``X`` (n, d), ``y`` (n,), ``W0`` (h, d), ``v0`` (h,):

- ``eta`` (shape () or (1,)), a step size > 0: discrete gradient descent with that step,
  run for ceil(t / eta) steps to stand for time t (absent: gradient flow);
- ``logistic`` (shape () or (1,)), 1.0: the logistic loss log(1 + e^{-u}) instead of the
  linear loss -u (absent or 0.0: linear loss).

A claim that evaluates a trained network calls :func:`evolve`, so the same evaluation
serves the paper's setting and every variant, and ``python -m claims check`` replays a
variant from the saved file alone.

References:
    Section 5.2, eq. (2); Appendix D.1, eqs (18)-(19); Section 4 (the paper's own
    experiment uses gradient descent with step 0.001).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from models.two_layer_relu import gradient_flow
from models.step_size import descend_states
from models.two_layer_relu.descent import gradient_descent

VARIANT_KEYS = ("eta", "logistic")


class DynamicsError(ValueError):
    """An instance's ``eta`` or ``logistic`` entry is malformed (the message names it)."""


@dataclass(frozen=True)
class EndState:
    """The network after training for time ``t`` (or the steps standing for it).

    Attributes (h neurons, d inputs, n samples):
        W_unit (h, d), v_unit (h,): (w_j, v_j) / ||(w_j, v_j)||, finite at any horizon.
        log_norm (h,): log ||(w_j, v_j)|| (-inf for a neuron at the origin).
        active (h, n): <w_j, x_i> > 0 at the end (relu'(0) = 0).
        status: "ok", or why the run stopped early ("sliding", "max_events", "failed",
            "overflow" for descent whose weights left float64).
        label: the dynamics used, e.g. "flow/linear", "gd(eta=0.01)/logistic".
    """

    W_unit: np.ndarray
    v_unit: np.ndarray
    log_norm: np.ndarray
    active: np.ndarray
    status: str
    label: str


def _scalar(inst: Mapping[str, np.ndarray], key: str) -> float | None:
    if key not in inst:
        return None
    arr = np.asarray(inst[key], dtype=np.float64)
    if arr.size != 1 or not np.isfinite(arr).all():
        raise DynamicsError(f"{key} must be one finite number; got {np.asarray(inst[key]).tolist()!r}")
    return float(arr.reshape(()))


def variant(inst: Mapping[str, np.ndarray]) -> tuple[float | None, str]:
    """(eta or None, loss name) requested by the instance; DynamicsError if malformed."""
    eta = _scalar(inst, "eta")
    if eta is not None and not eta > 0:
        raise DynamicsError(f"eta must be > 0; got {eta!r}")
    flag = _scalar(inst, "logistic")
    if flag not in (None, 0.0, 1.0):
        raise DynamicsError(f"logistic must be 0.0 or 1.0; got {flag!r}")
    return eta, "logistic" if flag == 1.0 else "linear"


def describe(inst: Mapping[str, np.ndarray]) -> str:
    """Short label of the dynamics the instance asks for."""
    eta, loss = variant(inst)
    return f"{'flow' if eta is None else f'gd(eta={eta:g})'}/{loss}"


def evolve(inst: Mapping[str, np.ndarray], t: float, *, max_steps: int = 200_000) -> EndState:
    """Train the instance's network for time ``t`` with the dynamics it asks for.

    Flow: models.two_layer_relu.gradient_flow (exact for the linear loss, DOP853 with events
    for the logistic one). Descent: ceil(t / eta) steps, at most ``max_steps`` (DynamicsError
    beyond), of models.step_size.descend under the linear loss (per-neuron scale-free: no
    overflow) and models.two_layer_relu.descent.gradient_descent under the logistic loss.
    """
    X, y, W0, v0 = (np.asarray(inst[k], dtype=np.float64) for k in ("X", "y", "W0", "v0"))
    eta, loss = variant(inst)
    label = describe(inst)
    if eta is None:
        res = gradient_flow(X, y, W0, v0, t, loss=loss)
        W_unit, v_unit, log_norm = res.unit_state_at(res.t_end)
        return EndState(W_unit, v_unit, log_norm, res.activation_pattern(res.t_end), res.status, label)
    steps = math.ceil(t / eta)
    if steps > max_steps:
        raise DynamicsError(f"eta = {eta:g} needs {steps} steps to reach t = {t:g}; at most {max_steps}")
    if loss == "linear":
        # Under the linear loss a step is linear in each neuron's (w_j, v_j), so descent run on the
        # unit vectors with the scale carried as a logarithm is the same descent, and never overflows.
        W_unit, v_unit, log_norm, active = _linear_descent(X, y, W0, v0, eta, steps)
        return EndState(W_unit, v_unit, log_norm, active, "ok", label)
    with np.errstate(over="ignore", invalid="ignore"):
        res = gradient_descent(X, y, W0, v0, eta=eta, steps=steps, loss=loss)
        state = np.hstack([res.W, res.v[:, None]])
        norms = np.linalg.norm(state, axis=1)
    if not np.all(np.isfinite(state)) or not np.all(np.isfinite(norms)):
        h, d = W0.shape
        nan = np.full(h, np.nan)
        return EndState(np.full((h, d), np.nan), nan, nan, np.zeros((h, X.shape[0]), bool), "overflow", label)
    unit = np.divide(state, norms[:, None], out=np.zeros_like(state), where=norms[:, None] > 0)
    with np.errstate(divide="ignore"):
        log_norm = np.log(norms)
    return EndState(unit[:, :-1], unit[:, -1], log_norm, (res.W @ X.T) > 0, "ok", label)


# Checkpoints of linear-loss descent runs: {(X, y, W0, v0, eta) bytes: [(steps, W_unit, v_unit, log_norm)]}.
# A claim evaluates one instance at several times (and evolve_until_settled at doubling ones); each run
# continues from the latest checkpoint at or before its step count instead of starting over.
_CHECKPOINTS: dict[bytes, list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]] = {}
_MAX_CHECKPOINTED = 256  # instances kept (oldest dropped first); one probe evaluates far fewer at a time


def _linear_descent(X, y, W0, v0, eta: float, steps: int):
    """(W_unit, v_unit, log_norm, active) after ``steps`` linear-loss descent steps.

    A step is linear in each neuron's (w_j, v_j) with a matrix that depends on its direction only, so
    descent from a checkpoint's unit vectors, with the checkpoint's log-norms added afterwards, is the
    same descent as from the start: the continuation is exact, not an approximation."""
    key = b"".join(np.ascontiguousarray(a, dtype=np.float64).tobytes() + str(a.shape).encode()
                   for a in (X, y, W0, v0)) + repr(float(eta)).encode()
    saved = _CHECKPOINTS.setdefault(key, [])
    if len(_CHECKPOINTS) > _MAX_CHECKPOINTED:
        del _CHECKPOINTS[next(iter(_CHECKPOINTS))]
    start = max((c for c in saved if c[0] <= steps), key=lambda c: c[0], default=None)
    if start is None:
        norms = np.linalg.norm(np.hstack([W0, v0[:, None]]), axis=1)
        live = norms > 0
        with np.errstate(divide="ignore"):
            start = (0, np.divide(W0, norms[:, None], out=np.zeros_like(W0), where=live[:, None]),
                     np.divide(v0, norms, out=np.zeros_like(v0), where=live), np.log(norms))
    done, W_s, v_s, log_s = start
    W_unit, v_unit, gained = descend_states(X, y, W_s, v_s, eta=eta, steps=steps - done)
    log_norm = log_s + np.where(np.isfinite(log_s), gained, 0.0)
    if all(c[0] != steps for c in saved):
        saved.append((steps, W_unit, v_unit, log_norm))
    return W_unit, v_unit, log_norm, (W_unit @ X.T) > 0


def evolve_until_settled(inst: Mapping[str, np.ndarray], t: float, settled, *, first: float,
                         max_steps: int = 200_000) -> tuple[EndState, float]:
    """The instance's dynamics towards time ``t``, looked at on their own clock.

    The state is evaluated at ``first``, ``2 first``, ``4 first``, ... (each run from the
    start, so the cost is at most twice that of the last one); the first state for which
    ``settled(state)`` is true is returned with its time, else the state at ``t``. A claim
    uses it when the state it asks about cannot change once settled (a neuron in a cone the
    dynamics cannot leave), so a variant (gradient descent, the logistic loss) is judged by
    when *it* settles, not by the flow's clock, and a long horizon is not run for nothing.
    """
    time_ = min(float(first), float(t))
    while True:
        state = evolve(inst, time_, max_steps=max_steps)
        if time_ >= t or (state.status == "ok" and settled(state)):
            return state, time_
        time_ = min(2.0 * time_, float(t))
