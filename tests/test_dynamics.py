"""The dynamics an instance asks for (claims.dynamics): descent continued from a checkpoint is the
same descent, and a variant is looked at on its own clock."""

from __future__ import annotations

import numpy as np

from claims import dynamics
from models.instances import separable_instance
from models.two_layer_relu.descent import gradient_descent


def test_descent_from_a_checkpoint_is_the_descent_from_the_start():
    inst = separable_instance(np.random.default_rng(1), n_pos=3, n_neg=3, d=3, h=5)
    inst["eta"] = np.array(0.01)
    dynamics._CHECKPOINTS.clear()
    straight = dynamics.evolve(inst, 7.0)
    dynamics._CHECKPOINTS.clear()
    dynamics.evolve(inst, 3.0)  # leaves a checkpoint at 300 steps; 7.0 continues from it
    continued = dynamics.evolve(inst, 7.0)
    # 1e-12: the same float operations in another grouping (unit vectors renormalised at the checkpoint).
    np.testing.assert_allclose(continued.W_unit, straight.W_unit, atol=1e-12)
    np.testing.assert_allclose(continued.log_norm, straight.log_norm, rtol=1e-12)
    np.testing.assert_array_equal(continued.active, straight.active)
    # and both are the plain descent of the network (independent code, raw weights, no overflow at t = 7)
    raw = gradient_descent(inst["X"], inst["y"], inst["W0"], inst["v0"], eta=0.01, steps=700, loss="linear")
    norms = np.linalg.norm(np.hstack([raw.W, raw.v[:, None]]), axis=1)
    # 1e-9: 700 steps of rounding in two algebraically equal recursions.
    np.testing.assert_allclose(continued.W_unit, raw.W / norms[:, None], atol=1e-9)
    np.testing.assert_allclose(continued.log_norm, np.log(norms), rtol=1e-9)


def test_evolve_until_settled_stops_at_the_first_settled_state():
    inst = separable_instance(np.random.default_rng(2), n_pos=2, n_neg=2, d=2, h=3)
    inst["eta"] = np.array(0.05)
    seen = []

    def settled(state):
        seen.append(state)
        return len(seen) == 3  # settles on the third look: at 4 x first

    state, when = dynamics.evolve_until_settled(inst, 100.0, settled, first=0.5)
    assert when == 2.0 and len(seen) == 3 and state is seen[-1]
    never, at = dynamics.evolve_until_settled(inst, 3.0, lambda s: False, first=0.5)
    assert at == 3.0  # never settled: the state at the horizon
