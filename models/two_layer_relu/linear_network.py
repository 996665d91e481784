"""The two-layer linear network of Appendix D.3 under the linear loss, solved in closed form.

Shapes follow eq. (35), not the (h, d) convention of the ReLU network: x (d,), W (d, m)
with one column per neuron, v (m,), loss L = -v^T W^T x. Gradient flow (eq. (36)):

    dv/dt = W^T x,        dW/dt = x v^T.

Derivation (independent of the paper's (41)-(46)). dW/dt has the fixed column space x, so
W(t) = W0 + x a(t)^T with a(t) = int_0^t v. Then dv/dt = W0^T x + ||x||^2 a, i.e. with
k = ||x||, b = W0^T x:

    a'' = k^2 a + b,   a(0) = 0,   a'(0) = v0,

whose solution is

    a(t) = (b / k^2) (cosh(kt) - 1) + (v0 / k) sinh(kt),
    v(t) = a'(t) = (b / k) sinh(kt) + v0 cosh(kt),
    W(t) = W0 + x a(t)^T.

(cosh(kt) - 1 is evaluated as 2 sinh(kt/2)^2, which keeps full relative accuracy at small
t.) Expanding in e^{+-kt} gives the paper's (44)-(46): a = -b/k^2 + e^{kt} u_+ + e^{-kt} u_-
with u_+- = (b/k^2 +- v0/k)/2; they agree (tests/test_linear_network.py checks it
symbolically and numerically).

Consequences used by the claims:
    - ||W||_F^2 - ||v||^2 is conserved (both derivatives equal 2 v^T W^T x);
    - if u_+ != 0, v/||v|| -> u_+/||u_+|| and W/||W|| -> x u_+^T/(||x|| ||u_+||) (eq. (40));
    - u_+ = 0 iff v0 = -b/k, which forces v0^T W0^T x = -k ||v0||^2 < 0: never after
      alignment (c > 0), but possible in general. Then a = (v0/k)(1 - e^{-kt}),
      v(t) = v0 e^{-kt}, W(t) = W0 + x a^T, and for balanced W0 = -x v0^T / k the whole
      state shrinks to the saddle at the origin with W/||W|| = -x v^T/(||x|| ||v||), the
      opposite of (40). (D.3's "equality only when v^T W^T x = ||v|| ||W|| ||x||" omits
      this other equality case of Cauchy-Schwarz, -||v|| ||W|| ||x||.)

x = 0 gives the constant solution.

References:
    Appendix D.3, eqs (35)-(46); Appendix D.4, eqs (49)-(52).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from models.two_layer_relu.result import FlowInputError


@dataclass(frozen=True)
class LinearTrajectory:
    """States of a two-layer linear network at the times ``t``.

    Fields:
        x: (d,) the input of eq. (35).
        t: (k,) nondecreasing times.
        W: (k, d, m) W(t_l) for each time.
        v: (k, m) v(t_l) for each time.
    """

    x: np.ndarray
    t: np.ndarray
    W: np.ndarray
    v: np.ndarray

    @property
    def loss(self) -> np.ndarray:
        """(k,) -v^T W^T x (eq. (35))."""
        return -np.einsum("km,kdm,d->k", self.v, self.W, self.x)

    @property
    def cosine(self) -> np.ndarray:
        """(k,) c = v^T W^T x / (||v|| ||W||_F ||x||) in [-1, 1]; 1 iff W is parallel to x v^T."""
        norms = np.linalg.norm(self.v, axis=1) * np.linalg.norm(self.W, axis=(1, 2)) * np.linalg.norm(self.x)
        return -self.loss / norms

    @property
    def balance(self) -> np.ndarray:
        """(k,) ||W||_F^2 - ||v||^2, conserved by the unnormalised flow (36)."""
        return np.sum(self.W**2, axis=(1, 2)) - np.sum(self.v**2, axis=1)


def validate_linear_problem(x, W0, v0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (d,), W0 (d, m), v0 (m,), real and finite; raise FlowInputError naming the argument."""
    arrays = {}
    for name, value, ndim in (("x", x, 1), ("W0", W0, 2), ("v0", v0, 1)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf":
            raise FlowInputError(f"{name} must be a real numeric array; got dtype {arr.dtype}")
        if arr.ndim != ndim:
            raise FlowInputError(f"{name} must be {ndim}-D; got shape {arr.shape}")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise FlowInputError(f"{name} contains NaN or inf")
        arrays[name] = arr
    x, W0, v0 = arrays["x"], arrays["W0"], arrays["v0"]
    if x.size == 0:
        raise FlowInputError(f"x must have at least one entry; got shape {x.shape}")
    if W0.shape[0] != x.size or W0.shape[1] == 0:
        raise FlowInputError(f"W0 must have shape ({x.size}, m) with m >= 1 (eq. (35)); got {W0.shape}")
    if v0.shape != (W0.shape[1],):
        raise FlowInputError(f"v0 must have shape ({W0.shape[1]},) to match W0; got {v0.shape}")
    return x, W0, v0


def _times(t) -> np.ndarray:
    try:
        times = np.atleast_1d(np.asarray(t, dtype=np.float64))
    except (TypeError, ValueError):
        raise FlowInputError(f"t must be a real number or a 1-D array of them; got {t!r}") from None
    if times.ndim != 1 or times.size == 0 or not np.all(np.isfinite(times)) or np.any(times < 0) \
            or np.any(np.diff(times) < 0):
        raise FlowInputError(f"t must be finite, >= 0 and nondecreasing; got {t!r}")
    return times


def linear_network_closed_form(x, W0, v0, t) -> LinearTrajectory:
    """Closed-form solution of eq. (36) at time(s) t (scalar or nondecreasing 1-D array, >= 0).

    Overflows to inf once e^{||x|| t} exceeds float64 (||x|| t > ~709).
    """
    x, W0, v0 = validate_linear_problem(x, W0, v0)
    times = _times(t)
    k = float(np.linalg.norm(x))
    if k == 0.0:
        count = times.size
        return LinearTrajectory(x, times, np.repeat(W0[None], count, axis=0), np.repeat(v0[None], count, axis=0))
    b = W0.T @ x  # (m,)
    kt = k * times  # (K,)
    with np.errstate(over="ignore"):
        sinh = np.sinh(kt)
        cosh_m1 = 2.0 * np.sinh(kt / 2.0) ** 2
        a = np.outer(cosh_m1, b / k**2) + np.outer(sinh, v0 / k)  # (K, m)
        v = np.outer(sinh, b / k) + np.outer(cosh_m1 + 1.0, v0)  # (K, m)
    W = W0[None] + x[None, :, None] * a[:, None, :]  # (K, d, m)
    return LinearTrajectory(x, times, W, v)


def linear_network_numerical(x, W0, v0, t, *, rtol: float = 1e-12, atol: float = 1e-12) -> LinearTrajectory:
    """Eq. (36) integrated by scipy's DOP853, reported at time(s) t (as for the closed form)."""
    x, W0, v0 = validate_linear_problem(x, W0, v0)
    times = _times(t)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise FlowInputError(f"{name} must be finite and > 0; got {value!r}")
    d, m = W0.shape

    def rhs(_t, z):
        W, v = z[:d * m].reshape(d, m), z[d * m:]
        return np.concatenate([np.outer(x, v).ravel(), W.T @ x])

    if times[-1] == 0:
        return LinearTrajectory(x, times, np.repeat(W0[None], times.size, axis=0),
                                np.repeat(v0[None], times.size, axis=0))
    sol = solve_ivp(rhs, (0.0, float(times[-1])), np.concatenate([W0.ravel(), v0]), method="DOP853",
                    rtol=rtol, atol=atol, t_eval=times)
    if sol.status != 0:
        raise RuntimeError(f"DOP853 failed: {sol.message}")
    K = times.size
    return LinearTrajectory(x, times, sol.y[:d * m].T.reshape(K, d, m), sol.y[d * m:].T.copy())


def linear_network_limit_directions(x, W0, v0) -> tuple[np.ndarray, np.ndarray]:
    """(v_bar (m,), W_bar (d, m)): limits of v/||v|| and W/||W||_F as t -> infinity.

    v_bar = u_+/||u_+|| with u_+ proportional to W0^T x/||x|| + v0 (eq. (45)), and
    W_bar = x v_bar^T/||x|| (eq. (40)). Raises FlowInputError when x = 0 (no motion) or
    u_+ = 0 (the state decays to the origin along its initial direction; see the module
    docstring).
    """
    x, W0, v0 = validate_linear_problem(x, W0, v0)
    k = float(np.linalg.norm(x))
    if k == 0.0:
        raise FlowInputError("x must be nonzero for limit directions; got x = 0 (the flow is constant)")
    u = W0.T @ x / k + v0  # 2 k u_+
    size = float(np.linalg.norm(u))
    # 1e-14 relative to the data: below it u_+ is the rounding residue of an exact zero
    # (two float64 terms of that size cancelling to ~1e-16 relative, with a 100x margin).
    if size <= 1e-14 * (float(np.linalg.norm(W0)) + float(np.linalg.norm(v0))):
        raise FlowInputError(f"v0 = -W0^T x/||x|| (u_+ = 0, |u_+| = {size:.3g}): the state decays to the "
                             "origin and eq. (40) does not hold")
    v_bar = u / size
    return v_bar, np.outer(x / k, v_bar)
