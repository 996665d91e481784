"""Instances on disk: the ``.npz`` files that ``check`` reads and counterexamples are saved as.

An instance is a mapping from array names to float64 arrays. The standard names are
``X`` (n, d), ``y`` (n,) in {-1, +1}, ``W0`` (h, d), ``v0`` (h,); a claim may name
others (e.g. ``H0``, ``t``). Files are read with ``allow_pickle=False``: nothing
that would need pickle is ever loaded.

References:
    DESIGN.md, "Command line" (the ``check`` contract).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


class InstanceError(ValueError):
    """An instance file or array is unusable; the message says what and how to fix it."""


def save_instance(path: Path, instance: Mapping[str, np.ndarray]) -> Path:
    """Write an instance as an uncompressed ``.npz`` of float64 arrays."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: np.asarray(value, dtype=np.float64) for name, value in instance.items()}
    with path.open("wb") as handle:
        np.savez(handle, **arrays)
    return path


def load_instance(path: Path, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Read and validate an instance file; raise InstanceError on anything wrong.

    ``required`` arrays must be present; ``optional`` ones (e.g. ``eta``, or ``v0`` for an
    assumption test) are validated the same way and kept when present.
    """
    path = Path(path)
    if not path.is_file():
        raise InstanceError(f"--data: no such file {str(path)!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InstanceError(f"--data: {str(path)!r} holds a single array, not an .npz archive of named arrays")
        with archive:
            raw = {name: archive[name] for name in archive.files}
    except InstanceError:
        raise
    except ValueError as error:
        if "pickle" in str(error):
            raise InstanceError(
                f"--data: {str(path)!r} holds object arrays that would need pickle; "
                "save plain numeric arrays with numpy.savez"
            ) from None
        raise InstanceError(f"--data: {str(path)!r} is not a readable .npz file ({error})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise InstanceError(f"--data: {str(path)!r} is not a readable .npz file ({error})") from None
    return validate_instance(raw, required, optional)


def validate_instance(
    raw: Mapping[str, np.ndarray], required: Iterable[str], optional: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """Check names, dtypes, finiteness and the shapes of the standard arrays.

    Returns the ``required`` arrays and those ``optional`` ones that ``raw`` holds.
    """
    required = tuple(required)
    present = required + tuple(name for name in optional if name in raw and name not in required)
    missing = [name for name in required if name not in raw]
    if missing:
        raise InstanceError(
            f"missing array(s) {', '.join(missing)}; this claim needs {', '.join(required)}"
        )
    instance: dict[str, np.ndarray] = {}
    for name in present:
        value = np.asarray(raw[name])
        if value.dtype.kind not in "biuf":
            raise InstanceError(f"array {name} must be numeric; got dtype {value.dtype}")
        value = value.astype(np.float64)
        if not np.all(np.isfinite(value)):
            raise InstanceError(f"array {name} contains NaN or inf")
        instance[name] = value
    _check_standard_shapes(instance)
    return instance


def _check_standard_shapes(inst: Mapping[str, np.ndarray]) -> None:
    if "X" in inst:
        X = inst["X"]
        if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
            raise InstanceError(f"array X must be 2-D (n, d) with n, d >= 1; got shape {X.shape}")
    if "y" in inst:
        y = inst["y"]
        if y.ndim != 1 or y.size == 0:
            raise InstanceError(f"array y must be 1-D (n,) and non-empty; got shape {y.shape}")
        if "X" in inst and y.shape[0] != inst["X"].shape[0]:
            raise InstanceError(f"array y has {y.shape[0]} labels but X has {inst['X'].shape[0]} rows")
        if not np.all(np.isin(y, (-1.0, 1.0))):
            bad = np.unique(y[~np.isin(y, (-1.0, 1.0))])[:3]
            raise InstanceError(f"array y must hold labels -1 and +1 only; found {bad.tolist()}")
        if np.unique(y).size < 2:
            raise InstanceError("array y holds one class only; both -1 and +1 are needed")
    if "W0" in inst:
        W0 = inst["W0"]
        if W0.ndim != 2 or W0.shape[0] == 0:
            raise InstanceError(f"array W0 must be 2-D (h, d) with h >= 1; got shape {W0.shape}")
        if "X" in inst and W0.shape[1] != inst["X"].shape[1]:
            raise InstanceError(f"array W0 has dimension {W0.shape[1]} but X has {inst['X'].shape[1]}")
    if "v0" in inst:
        v0 = inst["v0"]
        if v0.ndim != 1 or ("W0" in inst and v0.shape[0] != inst["W0"].shape[0]):
            raise InstanceError(f"array v0 must be 1-D (h,) matching W0's rows; got shape {v0.shape}")
