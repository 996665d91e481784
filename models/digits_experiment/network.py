"""The Appendix B.2 network: fully connected ReLU layers with batch normalisation before each ReLU.

    h_0 = x                                                   (n, d)
    z_l = h_{l-1} W_l^T                                       (n, width), W_l (width, fan_in)
    h_l = relu(gamma_l * (z_l - m_l) / sqrt(s_l + eps) + beta_l)   l = 1 .. hidden_layers
    f(x) = h_L v (+ b)                                        (n,), v (width,)

m_l, s_l are the mean and biased variance over the batch while training (full batch: the
whole training set), and, when evaluating, either those of the training set ("train") or
PyTorch's running averages ("running"); see ``ExperimentConfig.eval_statistics``. The
running variance is updated with the unbiased batch variance, as torch.nn.BatchNorm1d does.
Linear layers carry no bias (batch normalisation removes it). ReLU'(0) = 0 (PyTorch's
convention).

Weight normalisation (the linear-loss arm; see the config): each neuron's weight vector, a
row of W_l or the vector v, is held at norm c (hidden_norm, output_norm), either by
projection after every step (``project_``) or by reparametrisation w = c u / ||u||.

References:
    Appendix B.2; Section 4; Ioffe & Szegedy (2015) (batch normalisation); Salimans & Kingma
    (2016) (weight normalisation).
"""

from __future__ import annotations

import math

import torch

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.losses import loss_value  # noqa: F401  (re-exported: the model's loss)

BatchStatistics = list[tuple[torch.Tensor, torch.Tensor]]  # per hidden layer: mean (width,), var (width,)


def _unit_rows(u: torch.Tensor) -> torch.Tensor:
    return u / u.norm(dim=-1, keepdim=True)


class DigitsMLP(torch.nn.Module):
    """f(x; theta) of Appendix B.2; parameters are drawn from ``generator`` (near-zero init)."""

    def __init__(self, d_in: int, config: ExperimentConfig, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.config = config
        self.reparametrised = config.weight_normalised and config.weight_norm == "reparametrisation"
        self.projected = config.weight_normalised and config.weight_norm == "projection"
        dims = [d_in] + [config.width] * config.hidden_layers

        def draw(*shape: int, fan_in: int) -> torch.nn.Parameter:
            # Near-zero initialisation: i.i.d. N(0, init_scale^2 / fan_in), row norms ~ init_scale.
            values = torch.randn(*shape, generator=generator, dtype=torch.float64)
            return torch.nn.Parameter((values * config.init_scale / math.sqrt(fan_in)).to(dtype))

        self.raw_weights = torch.nn.ParameterList(
            [draw(dims[i + 1], dims[i], fan_in=dims[i]) for i in range(config.hidden_layers)]
        )
        self.raw_output = draw(config.width, fan_in=config.width)  # (width,)
        self.output_bias = (torch.nn.Parameter(torch.zeros(1, dtype=dtype))
                            if config.output_bias else None)
        if config.bn_affine:
            self.gammas = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.ones(config.width, dtype=dtype)) for _ in range(config.hidden_layers)])
            self.betas = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.zeros(config.width, dtype=dtype)) for _ in range(config.hidden_layers)])
        for i in range(config.hidden_layers):
            self.register_buffer(f"running_mean_{i}", torch.zeros(config.width, dtype=dtype))
            self.register_buffer(f"running_var_{i}", torch.ones(config.width, dtype=dtype))
        if self.projected:
            self.project_()

    # -- weights --------------------------------------------------------------------
    def hidden_weight(self, layer: int) -> torch.Tensor:
        """W_l (width, fan_in) as the network uses it."""
        raw = self.raw_weights[layer]
        return self.config.hidden_norm * _unit_rows(raw) if self.reparametrised else raw

    def output_weight(self) -> torch.Tensor:
        """v (width,) as the network uses it."""
        raw = self.raw_output
        return self.config.output_norm * _unit_rows(raw) if self.reparametrised else raw

    @torch.no_grad()
    def project_(self) -> None:
        """Rescale each neuron's weight vector to its fixed norm (projection weight normalisation)."""
        for raw in self.raw_weights:
            raw.mul_(self.config.hidden_norm / raw.norm(dim=1, keepdim=True))
        self.raw_output.mul_(self.config.output_norm / self.raw_output.norm())

    # -- forward --------------------------------------------------------------------
    def features(self, x: torch.Tensor, *, statistics: str | BatchStatistics = "batch",
                 update_running: bool = False) -> tuple[torch.Tensor, BatchStatistics]:
        """Last hidden layer h_L (n, width) and the (mean, variance) each layer normalised with
        (an empty list for a training step, ``update_running=True``).

        statistics: "batch" (the batch's own mean and biased variance, as in training),
        "running" (the running averages), or a list of (mean, var) per layer (e.g. the
        training set's, returned by an earlier call).
        """
        cfg = self.config
        h = x
        used: BatchStatistics = []
        for layer in range(cfg.hidden_layers):
            z = h @ self.hidden_weight(layer).T  # (n, width)
            gamma = self.gammas[layer] if cfg.bn_affine else None
            beta = self.betas[layer] if cfg.bn_affine else None
            if isinstance(statistics, list):
                mean, var = statistics[layer]
            elif statistics == "batch":
                if update_running:  # a training step: the caller does not read the statistics
                    mean = var = None
                else:
                    with torch.no_grad():
                        mean, var = z.mean(dim=0), z.var(dim=0, unbiased=False)
                if update_running:  # torch.nn.BatchNorm1d's training step (unbiased running variance)
                    running = (getattr(self, f"running_mean_{layer}"), getattr(self, f"running_var_{layer}"))
                else:
                    running = (None, None)
                z = torch.nn.functional.batch_norm(z, *running, gamma, beta, training=True,
                                                   momentum=cfg.bn_momentum, eps=cfg.bn_eps)
            elif statistics == "running":
                mean, var = getattr(self, f"running_mean_{layer}"), getattr(self, f"running_var_{layer}")
            else:
                raise ValueError(f"statistics must be 'batch', 'running' or a list of (mean, var); got {statistics!r}")
            if isinstance(statistics, list) or statistics == "running":
                z = torch.nn.functional.batch_norm(z, mean, var, gamma, beta, training=False, eps=cfg.bn_eps)
            if mean is not None:
                used.append((mean.detach(), var.detach()))
            h = torch.relu(z)
        return h, used

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """f = h v (+ b): (n,) outputs from last-layer features h (n, width)."""
        f = h @ self.output_weight()
        return f + self.output_bias if self.output_bias is not None else f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Training-mode outputs (n,): batch statistics, running averages not touched."""
        return self.head(self.features(x)[0])
