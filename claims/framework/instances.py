"""Instances on disk: the ``.npz`` files that ``check`` reads and counterexamples are saved as.

An instance is a mapping from array names to float64 arrays; which names exist and how
their shapes must agree is the paper's business (its ``instance_rules``, see
:mod:`claims.framework.paper`). Files are read with ``allow_pickle=False``: nothing
that would need pickle is ever loaded.

References:
    docs/contracts.md, "Instance files" and "Command line".
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Mapping
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


def load_instance(path: Path, required: Iterable[str], optional: Iterable[str] = (),
                  rules: Callable[[dict], None] | None = None) -> dict[str, np.ndarray]:
    """Read and validate an instance file; raise InstanceError on anything wrong.

    ``required`` arrays must be present; ``optional`` ones are validated the same way and
    kept when present; ``rules`` are the paper's instance rules (see :func:`validate_instance`).
    """
    path = Path(path)
    if path.is_dir():
        raise InstanceError(f"--data: {str(path)!r} is a folder; give the .npz file")
    if not path.is_file():
        raise InstanceError(f"--data: no such file {str(path)!r}")
    with path.open("rb") as handle:
        magic = handle.read(6)
    if not (magic.startswith((b"PK\x03\x04", b"PK\x05\x06")) or magic.startswith(b"\x93NUMPY")):
        raise InstanceError(f"--data: {str(path)!r} is not an .npz archive (it does not start like one); "
                            "save the arrays with numpy.savez")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InstanceError(f"--data: {str(path)!r} holds a single array, not an .npz archive of named arrays")
        with archive:
            raw = {name: archive[name] for name in archive.files}
        if not raw:
            raise InstanceError(f"--data: {str(path)!r} is an .npz archive with no arrays in it")
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
    return validate_instance(raw, required, optional, rules)


def stored_precision(path: Path) -> float:
    """Unit roundoff of the least precise floating-point array in an .npz file (2**-53 when
    every array is float64 or integer); call after :func:`load_instance` accepted the file."""
    with np.load(Path(path), allow_pickle=False) as archive:
        kinds = [archive[name].dtype for name in archive.files]
    return max([float(np.finfo(dtype).eps) / 2 for dtype in kinds if dtype.kind == "f"] + [2.0 ** -53])


def validate_instance(
    raw: Mapping[str, np.ndarray], required: Iterable[str], optional: Iterable[str] = (),
    rules: Callable[[dict], None] | None = None,
) -> dict[str, np.ndarray]:
    """Check names, numeric dtypes and finiteness, then the paper's ``rules``.

    Returns the ``required`` arrays and those ``optional`` ones that ``raw`` holds. ``rules``
    raises :class:`~claims.framework.paper.InstanceRuleError` (or any ``ValueError``) with a
    message naming the array; it is re-raised as :class:`InstanceError`.
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
    if rules is not None:
        try:
            rules(instance)
        except ValueError as error:
            raise InstanceError(str(error)) from None
    return instance


