"""Benchmark: exact event-driven linear-loss flow against scipy DOP853 with restarts.

Baseline: scipy's DOP853 stepper (rtol 1e-10) on the whole network with the activation
masks fixed; after every step the sign of each pre-activation <w_j, x_i> is compared with
its mask, the earliest crossing is located on the step's dense output with brentq, the
mask is flipped there and the integration restarts. Both run in the same process on the
same instances: orthogonally separable data (margin mu = 0.5 by construction), small
balanced initialisation (||w_j|| = |v_j| = 1e-3), t_end = 20 / ||sum_i y_i x_i||.

Run: python benchmarks/bench_two_layer_relu.py [--quick] [--sizes 20 100] [--budget SECONDS]
Prints a Markdown table: time of each solver, speed-up, events found, and the relative
difference of the final unit states (exact vs baseline).

Times are CPU seconds of this process (time.process_time), so that other work on the
machine does not inflate either solver's time; a baseline that runs past ``--budget`` CPU
seconds is stopped and its speed-up reported as a lower bound.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.integrate import DOP853
from scipy.optimize import brentq

from models.two_layer_relu import gradient_flow


def separable_instance(n: int, d: int, h: int, seed: int):
    """Orthogonally separable data: y_i x_i in a cap of half-angle 30 degrees around e_1."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    tangent = rng.normal(size=(n, d))
    tangent[:, 0] = 0.0
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    angle = rng.uniform(0, np.pi / 6, size=n)  # pairwise angle <= 60 deg: cos >= 0.5
    z = np.cos(angle)[:, None] * np.eye(d)[0] + np.sin(angle)[:, None] * tangent
    X = y[:, None] * z * rng.uniform(1.0, 2.0, size=(n, 1))
    W0 = rng.normal(size=(h, d))
    W0 *= 1e-3 / np.linalg.norm(W0, axis=1, keepdims=True)
    v0 = 1e-3 * np.where(rng.uniform(size=h) < 0.5, 1.0, -1.0)
    t_end = 20.0 / np.linalg.norm(y @ X)
    return X, y, W0, v0, t_end


class BudgetExceeded(Exception):
    """The baseline ran past its time budget."""


def dop853_flow(X, y, W0, v0, t_end, *, rtol=1e-10, atol=1e-14, budget=np.inf):
    """Baseline described in the module docstring; returns (W, v, number of events)."""
    started = time.process_time()
    h, d = W0.shape
    hd = h * d
    z = np.concatenate([W0.ravel(), v0])
    mask = (W0 @ X.T) > 0  # (h, n)
    t, events = 0.0, 0
    while t < t_end:
        a = (mask * y) @ X  # (h, d)

        def rhs(_t, state, a=a):
            W, v = state[:hd].reshape(h, d), state[hd:]
            return np.concatenate([(v[:, None] * a).ravel(), np.sum(W * a, axis=1)])

        solver = DOP853(rhs, t, z, t_end, rtol=rtol, atol=atol)
        restarted = False
        while solver.status == "running":
            if time.process_time() - started > budget:
                raise BudgetExceeded
            solver.step()
            changed = ((solver.y[:hd].reshape(h, d) @ X.T) > 0) != mask
            if not changed.any():
                continue
            dense = solver.dense_output()
            crossings = []
            for j, i in zip(*np.nonzero(changed)):
                f = lambda s, j=j, i=i: dense(s)[j * d:(j + 1) * d] @ X[i]  # noqa: E731
                crossings.append((brentq(f, solver.t_old, solver.t, xtol=1e-15, rtol=1e-14), j, i))
            t_event = min(c[0] for c in crossings)
            for s, j, i in crossings:
                if s <= t_event * (1 + 1e-12):
                    mask[j, i] = not mask[j, i]
                    events += 1
            t, z, restarted = t_event, dense(t_event), True
            break
        if not restarted:
            t, z = solver.t, solver.y
    return z[:hd].reshape(h, d), z[hd:], events


def unit_rows(W, v):
    M = np.hstack([W, v[:, None]])
    return M / np.linalg.norm(M, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only n in {20, 100}")
    parser.add_argument("--sizes", type=int, nargs="+", choices=(20, 100, 500), default=None,
                        help="sample counts n to run (default: all three; --quick: 20 and 100)")
    parser.add_argument("--hidden", type=int, nargs="+", choices=(10, 100), default=(10, 100),
                        help="neuron counts h to run (default: both)")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="CPU seconds allowed to the baseline per instance (past it: a lower bound)")
    args = parser.parse_args()
    sizes = args.sizes or ([20, 100] if args.quick else [20, 100, 500])
    print("| n | d | h | events (exact / DOP853) | exact s | DOP853 s | speed-up | max unit-state diff |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        for d in (5, 50):
            for h in args.hidden:
                X, y, W0, v0, t_end = separable_instance(n, d, h, seed=n + d + h)
                start = time.process_time()
                repeats = 0
                while repeats < 3 or time.process_time() - start < 0.2:
                    exact = gradient_flow(X, y, W0, v0, t_end)
                    repeats += 1
                t_exact = (time.process_time() - start) / repeats
                start = time.process_time()
                try:
                    W, v, n_events = dop853_flow(X, y, W0, v0, t_end, budget=args.budget)
                except BudgetExceeded:
                    print(f"| {n} | {d} | {h} | {len(exact.events)} / - | {t_exact:.4f} | "
                          f"> {args.budget:.0f} | > {args.budget / t_exact:.0f}x | - |", flush=True)
                    continue
                t_base = time.process_time() - start
                diff = np.max(np.abs(unit_rows(W, v) - np.hstack([exact.W_unit, exact.v_unit[:, None]])))
                print(f"| {n} | {d} | {h} | {len(exact.events)} / {n_events} | {t_exact:.4f} | "
                      f"{t_base:.3f} | {t_base / t_exact:.0f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
