"""Instances shared by the two-layer ReLU simulator tests (not a test module).

Orthogonally separable data (Assumption 1, Appendix D; built by models.instances) and the
relative error used to compare two states of the network.
"""

from __future__ import annotations

import numpy as np

from models.instances import separable_data  # noqa: F401  (re-exported for the simulator tests)


def relative_error(W, v, W_ref, v_ref) -> float:
    """||(W, v) - (W_ref, v_ref)|| / ||(W_ref, v_ref)|| over all entries."""
    ref = np.concatenate([W_ref.ravel(), v_ref])
    return float(np.linalg.norm(np.concatenate([W.ravel(), v]) - ref) / np.linalg.norm(ref))
