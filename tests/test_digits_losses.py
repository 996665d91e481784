"""The five losses (torch's functions where torch has them) against their formulas written by hand
in numpy, in float64; and the identities between them.

References: eq. (1) (linear); log(1 + e^{-u}) (logistic); (f - y)^2 (Han et al. 2022);
cross-entropy against (1 - a) onehot + a/2 (label smoothing, Szegedy et al. 2016; Zhou et al.
2022); -(1 - p)^gamma log p with p = sigmoid(y f) (focal, Lin et al. 2017; Zhou et al. 2022).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from models.digits_experiment.config import LOSSES, ExperimentConfig
from models.digits_experiment.losses import loss_value, per_sample_loss

# 1e-12 relative: float64 evaluations of the same closed form by two routes (torch's fused
# log-sum-exp against numpy's logaddexp) differ by a few ulps. ATOL 1e-13: torch's
# binary_cross_entropy_with_logits adds f and subtracts max(-f, 0) before adding the small
# log-term, so a well-classified sample's loss (~e^{-|f|}) carries an absolute rounding of
# about eps |f| <= 2.2e-16 * 30 = 7e-15, not a relative one; 1e-13 leaves a factor 15.
RTOL, ATOL = 1e-12, 1e-13


def by_hand(f: np.ndarray, y: np.ndarray, loss: str, a: float = 0.1, gamma: float = 2.0) -> np.ndarray:
    u = y * f
    log_p = -np.logaddexp(0.0, -u)  # log sigmoid(u): probability of the true class
    log_q = -np.logaddexp(0.0, u)  # log of the other class's
    if loss == "linear":
        return -u
    if loss == "logistic":
        return np.logaddexp(0.0, -u)
    if loss == "mse":
        return (f - y) ** 2
    if loss == "label_smoothing":
        return -((1 - a / 2) * log_p + (a / 2) * log_q)
    if loss == "focal":
        return -(np.exp(log_q) ** gamma) * log_p  # 1 - p = sigmoid(-u), the other class
    raise AssertionError(loss)


@given(st.lists(st.floats(-30, 30), min_size=1, max_size=20), st.data())
def test_losses_match_their_formulas(values, data):
    f = np.array(values)
    y = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=f.size, max_size=f.size)))
    for loss in LOSSES:
        got = per_sample_loss(torch.tensor(f), torch.tensor(y), loss).numpy()
        np.testing.assert_allclose(got, by_hand(f, y, loss), rtol=RTOL, atol=ATOL, err_msg=loss)


def test_identities():
    f, y = torch.linspace(-3, 3, 13, dtype=torch.float64), torch.tensor([1.0, -1.0] * 6 + [1.0], dtype=torch.float64)
    logistic = per_sample_loss(f, y, "logistic")
    # Label smoothing 0 and focal gamma 0 are the logistic loss.
    torch.testing.assert_close(per_sample_loss(f, y, "label_smoothing", label_smoothing=0.0), logistic)
    torch.testing.assert_close(per_sample_loss(f, y, "focal", focal_gamma=0.0), logistic)
    # Focal down-weights well-classified samples: below the logistic loss wherever it is positive.
    assert bool((per_sample_loss(f, y, "focal") < logistic).all())


def test_reduction_and_negative_control():
    f, y = torch.tensor([0.5, -2.0, 1.0], dtype=torch.float64), torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
    total = loss_value(f, y, ExperimentConfig(loss="mse"))
    mean = loss_value(f, y, ExperimentConfig(loss="mse", loss_reduction="mean"))
    assert float(total) == pytest.approx(0.25 + 9 + 4, rel=RTOL) and float(mean) == pytest.approx(float(total) / 3)
    # The hand formula is sharp: MSE against 0/1 targets (a classic slip) differs.
    assert not np.allclose(by_hand(f.numpy(), y.numpy(), "mse"), (f.numpy() - (y.numpy() + 1) / 2) ** 2)
    with pytest.raises(ValueError, match="loss"):
        per_sample_loss(f, y, "hinge")
