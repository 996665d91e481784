"""The five losses of the Section 4 comparison, each l(f, y) summed (or averaged) over samples.

With outputs f (n,), labels y in {-1, +1} (n,), margins u = y f and targets t = (y + 1) / 2:

    linear            -u                                    (eq. (1); torch has no such loss)
    logistic          log(1 + e^{-u})                       binary_cross_entropy_with_logits(f, t)
    mse               (f - y)^2                             mse_loss(f, y)              (Han et al. 2022)
    label_smoothing   cross-entropy of the two-class logits (0, f) against (1 - a) onehot + a/2
                                                            cross_entropy(..., label_smoothing=a)
                                                                                        (Zhou et al. 2022)
    focal             (1 - p)^gamma * log(1 + e^{-u}),  p = sigmoid(u)  the probability of the true
                      class (Lin et al. 2017; Zhou et al. 2022); torch has no focal loss, so it is
                      binary_cross_entropy_with_logits times (-expm1(-that cross-entropy))^gamma.

The two-class logits (0, f) give softmax probabilities (1 - sigmoid(f), sigmoid(f)), so the
logistic loss is their cross-entropy and label smoothing at a = 0 is the logistic loss.
``reduction`` "sum" is eq. (1)'s sum over samples, "mean" divides by n.

References:
    Eq. (1); Section 4; Han et al. 2022 (MSE); Zhou et al. 2022 (label smoothing, focal loss);
    Lin et al. 2017 (focal loss); Szegedy et al. 2016 (label smoothing).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from models.digits_experiment.config import LOSSES, ExperimentConfig


def per_sample_loss(f: torch.Tensor, y: torch.Tensor, loss: str, *, label_smoothing: float = 0.1,
                    focal_gamma: float = 2.0) -> torch.Tensor:
    """l(f_i, y_i) for every sample (n,); see the module docstring."""
    targets = (y + 1) / 2  # {0, 1}
    if loss == "linear":
        return -(y * f)
    if loss == "logistic":
        return F.binary_cross_entropy_with_logits(f, targets, reduction="none")
    if loss == "mse":
        return F.mse_loss(f, y, reduction="none")
    if loss == "label_smoothing":
        logits = torch.stack([torch.zeros_like(f), f], dim=1)  # (n, 2): classes -1, +1
        return F.cross_entropy(logits, targets.long(), reduction="none", label_smoothing=label_smoothing)
    if loss == "focal":
        ce = F.binary_cross_entropy_with_logits(f, targets, reduction="none")  # -log p
        return (-torch.expm1(-ce)) ** focal_gamma * ce  # 1 - p = -expm1(log p): no cancellation near p = 1
    raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")


def loss_value(f: torch.Tensor, y: torch.Tensor, config: ExperimentConfig) -> torch.Tensor:
    """L(theta) of eq. (1) for the arm's loss: the sum (or mean) of the per-sample losses."""
    per_sample = per_sample_loss(f, y, config.loss, label_smoothing=config.label_smoothing,
                                 focal_gamma=config.focal_gamma)
    return per_sample.sum() if config.loss_reduction == "sum" else per_sample.mean()
