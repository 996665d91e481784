"""Benchmark: exact event-driven linear-loss flow against two DOP853 baselines.

Baselines (both scipy DOP853 at rtol 1e-10, event location on the step's dense output):

- per-neuron: ``models.two_layer_relu.reference.reference_flow``. Under the linear loss the
  neurons decouple (eq. (19)), so each neuron is integrated on its own; after every step one
  product X w gives the signs of all its pre-activations (one vectorised event function), the
  earliest crossing is located on the dense output and the integration restarts there, at that
  neuron's own events only, with the step size it had reached. The strongest general baseline.
- joint: the whole network as one system of h (d + 1) equations, restarted at every activation
  change of any neuron, crossings located one by one with brentq (the baseline this benchmark
  used first; a lower bound past ``--budget`` CPU seconds).

Instances (same process, same instances for all solvers): orthogonally separable data with
margin mu (Assumption 1: every cos(y_i x_i, y_k x_k) >= mu; default 0.2), y_i x_i in a cap of
half-angle arccos(mu) / 2 around e_1 with norms in [1, 2]; small balanced initialisation
(||w_j|| = |v_j| = 1e-3); t_end = 20 / ||sum_i y_i x_i||.

Each cell reports: events found by each solver; CPU time of each (median and best of
``--repeat`` runs; the exact solver of ``--repeat-exact`` runs); both speed-ups (baseline median
over exact median; for the per-neuron baseline also best over best); the exact solver's time per
event and its achieved flop rate against the arithmetic a solve needs (below); and the largest
difference of the final unit states (w_j, v_j)/||(w_j, v_j)|| between the exact solver and each
baseline.

Arithmetic of a solve: in each round a moving neuron touches every sample once, with two
d-products (<w, x_i> and <a_hat, x_i>), one more for its active sum a = sum y_i x_i (2d flops
each) and ~6 elementwise flops (sign, clamp, ratio, argmax, threshold): (6 d + 6) flops per
(neuron, round, sample); the rounds of neuron j are its distinct event times plus one.

Times are CPU seconds of this process (time.process_time): other work on the machine inflates
them less than wall time, but on a loaded machine (shared cores, caches) absolute times still
grow; the speed-ups compare solvers measured in the same run. BLAS runs on one thread for all
solvers: the products here are small, and OpenBLAS's second thread, spinning between calls,
would add its CPU time to whichever solver runs next without making any of them faster.

Run: python benchmarks/bench_two_layer_relu.py [--quick] [--sizes 100 500] [--hidden 100] [--dims 5]
     [--repeat 3] [--budget 60] [--no-joint] [--profile]
Prints a Markdown table; --profile adds a cProfile of the exact solver on the last cell and a
breakdown of its time (``breakdown``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import time

import numpy as np
from scipy.integrate import DOP853
from threadpoolctl import threadpool_limits
from scipy.optimize import brentq

from models.two_layer_relu import gradient_flow
from models.two_layer_relu.reference import BudgetExceeded, reference_flow

RTOL = 1e-10  # the baselines' DOP853 tolerance (the issue's setting)


def separable_instance(n: int, d: int, h: int, seed: int, mu: float = 0.2):
    """Orthogonally separable data with margin mu: y_i x_i in a cap of half-angle arccos(mu)/2
    around e_1 (so every pairwise angle is <= arccos(mu)), norms in [1, 2]; small balanced
    initialisation; t_end = 20 / ||sum_i y_i x_i||. Returns (X, y, W0, v0, t_end)."""
    rng = np.random.default_rng(seed)
    y = np.where(np.arange(n) < n // 2, 1.0, -1.0)
    tangent = rng.normal(size=(n, d))
    tangent[:, 0] = 0.0
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    angle = rng.uniform(0, np.arccos(mu) / 2, size=n)
    z = np.cos(angle)[:, None] * np.eye(d)[0] + np.sin(angle)[:, None] * tangent
    X = y[:, None] * z * rng.uniform(1.0, 2.0, size=(n, 1))
    W0 = rng.normal(size=(h, d))
    W0 *= 1e-3 / np.linalg.norm(W0, axis=1, keepdims=True)
    v0 = 1e-3 * np.where(rng.uniform(size=h) < 0.5, 1.0, -1.0)
    t_end = 20.0 / np.linalg.norm(y @ X)
    return X, y, W0, v0, t_end


def margin(X, y) -> float:
    """min_{i, k} cos(y_i x_i, y_k x_k) (Assumption 1's mu)."""
    Z = y[:, None] * X
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    return float((Z @ Z.T).min())


def joint_dop853_flow(X, y, W0, v0, t_end, *, rtol=RTOL, atol=1e-14, budget=np.inf):
    """The joint baseline of the module docstring; returns (W, v, number of events)."""
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


def cpu_times(fn, repeat: int, min_total: float = 0.0):
    """(median, best) CPU seconds over >= repeat runs (more until min_total seconds), last result."""
    times, result, total = [], None, 0.0
    while len(times) < repeat or total < min_total:
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
        total += times[-1]
    return (statistics.median(times), min(times)), result


def solve_flops(result, n: int, d: int) -> float:
    """Arithmetic of a solve (module docstring): (6 d + 6) n per neuron and round."""
    return float((6 * d + 6) * n * rounds_per_neuron(result).sum())


def rounds_per_neuron(result) -> np.ndarray:
    """(h,) rounds in which each neuron moved: its distinct event times plus one."""
    rounds = np.ones(result.W_unit.shape[0], dtype=int)
    seen = set()
    for e in result.events:
        if (e.neuron, e.time) not in seen:
            seen.add((e.neuron, e.time))
            rounds[e.neuron] += 1
    return rounds


def breakdown(X, y, W0, v0, t_end, repeat: int) -> list[tuple[str, float]]:
    """Where the exact solver's time goes on one instance (CPU ms, medians of ``repeat``):

    - the whole solve;
    - the (m, n) arithmetic: the per-round kernels of models.two_layer_relu.exact (the
      active sum a = sum y_i x_i, the crossing rates, the threshold and the flipped pairs) run
      alone on arrays of the solve's shapes (m neurons moving in each round);
    - building the result's Event objects (one Python object per event, the API's list);
    - the rest: per-round interpreter work on (m,) and (m, d) arrays (modes, times, motion,
      bookkeeping), about 130 numpy calls per round whatever m.
    """
    from models.two_layer_relu.exact import PARKED_RTOL, _crossing_rates
    from models.two_layer_relu.result import Event

    result = gradient_flow(X, y, W0, v0, t_end)
    per = rounds_per_neuron(result)
    moving = np.array([(per >= r).sum() for r in range(1, per.max() + 1)])  # m in each round
    n, d = X.shape
    rng = np.random.default_rng(0)
    Xt, floor = X.T.copy(), PARKED_RTOL * np.linalg.norm(X, axis=1)
    h = W0.shape[0]
    w = rng.normal(size=(h, d))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    a_hat = np.roll(w, 1, axis=1)
    sign = np.where(rng.uniform(size=(h, n)) < 0.5, 1.0, -1.0)
    signed_y = np.where(sign > 0, y, 0.0)
    sigma = np.ones(h)

    def kernels():
        with np.errstate(divide="ignore", invalid="ignore"):
            for m in moving.tolist():
                signed_y[:m] @ X
                r, _, dmin, _ = _crossing_rates(Xt, floor, sign[:m], w[:m], a_hat[:m], sigma[:m])
                np.flatnonzero(r >= (2.0 / dmin)[:, None])

    items = [(e.time, e.neuron, e.sample, e.direction) for e in result.events]
    (t_solve, _), _ = cpu_times(lambda: gradient_flow(X, y, W0, v0, t_end), repeat)
    (t_kernels, _), _ = cpu_times(kernels, repeat)

    def events():
        gc.disable()  # as the solver builds them
        try:
            return list(map(Event, *zip(*items)))
        finally:
            gc.enable()

    (t_events, _), _ = cpu_times(events, repeat)
    rest = t_solve - t_kernels - t_events
    return [("solve", t_solve), (f"(m, n) arithmetic: {moving.size} rounds, {moving.sum()} neuron-rounds", t_kernels),
            (f"{len(items)} Event objects", t_events),
            (f"the rest: per-round work on (m,) arrays, {1e6 * rest / moving.size:.0f} us per round", rest)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only n in {20, 100}")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="sample counts n (default: 20 100 500; --quick: 20 100)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[10, 100], help="neuron counts h")
    parser.add_argument("--dims", type=int, nargs="+", default=[5], help="input dimensions d")
    parser.add_argument("--mu", type=float, default=0.2, help="margin of the data (Assumption 1)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each baseline per cell (median)")
    parser.add_argument("--repeat-exact", type=int, default=15, help="runs of the exact solver per cell (median)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="CPU seconds allowed to one joint-baseline run (past it: a lower bound)")
    parser.add_argument("--no-joint", action="store_true", help="skip the joint baseline")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile and time breakdown of the exact solver on the last cell")
    args = parser.parse_args()
    print("| n | d | h | events exact / per-neuron / joint | exact ms, median (best) | us per event | Mflop/s "
          "| per-neuron DOP853 s, median (best) | speed-up | joint DOP853 s | speed-up "
          "| unit-state diff per-neuron / joint |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    last = None
    for n in args.sizes or ([20, 100] if args.quick else [20, 100, 500]):
        for d in args.dims:
            for h in args.hidden:
                X, y, W0, v0, t_end = separable_instance(n, d, h, seed=n + d + h, mu=args.mu)
                assert margin(X, y) >= args.mu * (1 - 1e-12), margin(X, y)  # Assumption 1 with this mu
                t_exact, exact = cpu_times(lambda: gradient_flow(X, y, W0, v0, t_end), args.repeat_exact, 0.5)
                units = np.hstack([exact.W_unit, exact.v_unit[:, None]])
                n_events = len(exact.events)
                t_ref, ref = cpu_times(lambda: reference_flow(X, y, W0, v0, t_end, rtol=RTOL), args.repeat)
                diff_ref = np.abs(unit_rows(ref.W, ref.v) - units).max()
                joint = "-", "-", "-", "-"
                if not args.no_joint:
                    try:
                        (t_joint, _), (W, v, joint_events) = cpu_times(
                            lambda: joint_dop853_flow(X, y, W0, v0, t_end, budget=args.budget), args.repeat)
                        joint = (joint_events, f"{t_joint:.3f}", f"{t_joint / t_exact[0]:.0f}x",
                                 f"{np.abs(unit_rows(W, v) - units).max():.1e}")
                    except BudgetExceeded:
                        joint = ("-", f"> {args.budget:.0f}", f"> {args.budget / t_exact[0]:.0f}x", "-")
                flops = solve_flops(exact, n, d)
                (med, best), (ref_med, ref_best) = t_exact, t_ref
                print(f"| {n} | {d} | {h} | {n_events} / {len(ref.events)} / {joint[0]} | {1e3 * med:.1f} "
                      f"({1e3 * best:.1f}) | {1e6 * med / max(n_events, 1):.2f} | {flops / med / 1e6:.0f} | "
                      f"{ref_med:.2f} ({ref_best:.2f}) | {ref_med / med:.0f}x ({ref_best / best:.0f}x) | "
                      f"{joint[1]} | {joint[2]} | {diff_ref:.1e} / {joint[3]} |", flush=True)
                last = (X, y, W0, v0, t_end)
    if args.profile and last is not None:
        profiler = cProfile.Profile()
        profiler.enable()
        gradient_flow(*last)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\n```\n" + out.getvalue().strip() + "\n```")
        print("\n| part of the exact solve (last cell) | CPU ms (median) |\n|---|---|")
        for name, seconds in breakdown(*last, repeat=args.repeat_exact):
            print(f"| {name} | {1e3 * seconds:.1f} |")


if __name__ == "__main__":
    with threadpool_limits(limits=1, user_api="blas"):  # see the module docstring
        main()
