"""``save`` and ``load``: state dicts and optimizer states, in files that cannot run code.

The extension picks the format:

- ``.safetensors``: the safetensors format (written with ``safetensors.numpy``). PyTorch
  reads a saved state dict directly: ``model.load_state_dict(safetensors.torch.load_file(p))``,
  and a state dict PyTorch wrote with ``safetensors.torch.save_file`` loads here.
- ``.npz``: numpy's zip of arrays, read back with ``allow_pickle=False``.

Neither format holds code, so loading a file from someone else is safe (``torch.load`` and
``pickle`` run whatever the file says). Arrays are stored under their dotted key paths
(``"0.weight"``, ``"state.0.exp_avg"``); everything else of a nested state (ints, floats,
strings, lists, tuples, dict keys and their types) goes into a JSON description stored with
them, so ``load`` gives back what was saved.

Writes are atomic: the data goes to a temporary file in the same directory, is flushed to
disk (``fsync``) and then renamed over the target (``os.replace``), so a crash or an error
mid-save leaves the previous file intact. A corrupt, truncated or foreign file (a pickle,
a ``torch.save`` archive, random bytes, an ``.npz`` with object arrays) raises
``SerializationError`` naming the file and the problem.

>>> import os, tempfile
>>> import numpy as np
>>> import tinygrad_edu as tg
>>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
>>> save({"0.weight": tg.ones(2, 3), "0.bias": tg.zeros(2)}, path)
>>> state = load(path)
>>> list(state), state["0.weight"].shape
(['0.weight', '0.bias'], (2, 3))
>>> opt_state = {"state": {0: {"step": 3, "exp_avg": np.zeros(2)}},
...              "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0]}]}
>>> save(opt_state, path)
>>> back = load(path)
>>> back["state"][0]["step"], back["param_groups"][0]["betas"]
(3, (0.9, 0.999))
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

from .tensor import Tensor

SUPPORTED_EXTENSIONS = (".safetensors", ".npz")
_META_KEY = "tinygrad_edu"          # safetensors metadata key
_NPZ_META = "__tinygrad_edu__"      # the npz entry holding the JSON description
_FORMAT_VERSION = 1
_SAFETENSORS_DTYPES = frozenset("?bBhHiIlLqQefd")  # bool, ints, float16/32/64


class SerializationError(ValueError):
    """A file cannot be loaded (corrupt, truncated, foreign) or an object cannot be saved."""


def check_extension(path: str | os.PathLike) -> str:
    """The file's format from its extension, or a ``ValueError`` listing the supported ones.

    >>> check_extension("weights.npz")
    '.npz'
    >>> check_extension("weights.pt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: weights.pt: unsupported extension '.pt'; use one of .safetensors, .npz ...
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise ValueError(
            f"{os.fspath(path)}: unsupported extension {ext!r}; use one of "
            f"{', '.join(SUPPORTED_EXTENSIONS)} (tinygrad_edu never writes or reads pickles "
            "such as .pt/.pth/.pkl)"
        )
    return ext


# --------------------------------------------------------------------------- flattening
class _Flattener:
    """Split a nested state into arrays (by dotted key) and a JSON-able skeleton."""

    def __init__(self, ext: str) -> None:
        self.ext = ext
        self.arrays: dict[str, np.ndarray] = {}

    def key_for(self, path: list[str]) -> str:
        key = ".".join(path) or "tensor"
        if key == _NPZ_META:
            key += "_"
        base, i = key, 1
        while key in self.arrays:
            i += 1
            key = f"{base}~{i}"
        return key

    def array(self, arr: np.ndarray, path: list[str]) -> str:
        where = ".".join(path) or "(top level)"
        if arr.dtype.hasobject:
            raise SerializationError(f"cannot save {where}: an array of Python objects "
                                     "(only numeric and bool arrays can be stored safely)")
        if self.ext == ".safetensors" and arr.dtype.char not in _SAFETENSORS_DTYPES:
            raise SerializationError(
                f"cannot save {where}: dtype {arr.dtype} is not supported by safetensors "
                "(bool, integers, float16/32/64); use .npz or convert it"
            )
        key = self.key_for(path)
        self.arrays[key] = arr if arr.flags.c_contiguous else np.array(arr, order="C")
        return key

    def node(self, obj: Any, path: list[str]) -> Any:
        if isinstance(obj, Tensor):
            return {"$t": self.array(obj.data, path)}
        if isinstance(obj, np.ndarray):
            return {"$a": self.array(obj, path)}
        if hasattr(obj, "detach") and hasattr(obj, "numpy") and hasattr(obj, "shape"):
            return {"$t": self.array(obj.detach().cpu().numpy(), path)}  # a torch tensor
        if isinstance(obj, np.generic):
            obj = obj.item()
        if obj is None or isinstance(obj, bool | int | float | str):
            return obj
        if isinstance(obj, Mapping):
            items = []
            for k, v in obj.items():
                if isinstance(k, np.generic):
                    k = k.item()
                if not (k is None or isinstance(k, bool | int | float | str)):
                    raise SerializationError(
                        f"cannot save the key {k!r} at {'.'.join(path) or '(top level)'}: dict "
                        "keys must be strings, numbers, bools or None"
                    )
                items.append([k, self.node(v, [*path, str(k)])])
            return {"$dict": items}
        if isinstance(obj, list | tuple):
            tag = "$tuple" if isinstance(obj, tuple) else "$list"
            return {tag: [self.node(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        hint = ""
        if hasattr(obj, "state_dict"):
            hint = "; save its state instead: save(obj.state_dict(), path)"
        raise SerializationError(
            f"cannot save {type(obj).__name__} at {'.'.join(path) or '(top level)'}: only "
            "Tensors, numpy arrays, numbers, strings, None, and dicts/lists/tuples of them are "
            f"stored (nothing that would need code to rebuild){hint}"
        )


def _description(tree: Any) -> str:
    return json.dumps({"format": "tinygrad_edu", "version": _FORMAT_VERSION, "tree": tree},
                      separators=(",", ":"))


# --------------------------------------------------------------------------- writing
def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _write_atomic(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` into a temporary file next to ``path``, fsync it, and
    rename it over ``path``; on any error the temporary file is removed and ``path`` is left
    as it was."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a state dict (name -> Tensor/array) or a nested state (an optimizer's
    ``state_dict()``) to ``path``; ``.safetensors`` or ``.npz`` by extension. Atomic.

    >>> import os, tempfile
    >>> import tinygrad_edu as tg
    >>> save({"w": tg.ones(2)}, os.path.join(tempfile.mkdtemp(), "w.pt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...w.pt: unsupported extension '.pt'; use one of .safetensors, .npz ...
    """
    path = os.fspath(path)
    ext = check_extension(path)
    if not isinstance(obj, Mapping | list | tuple):
        raise SerializationError(
            f"save() stores a state dict or a nested state, got {type(obj).__name__}"
            + ("; save its state instead: save(obj.state_dict(), path)"
               if hasattr(obj, "state_dict") else "")
        )
    flat = _Flattener(ext)
    description = _description(flat.node(obj, []))
    arrays = flat.arrays
    if ext == ".safetensors":
        from safetensors.numpy import save as st_save

        payload = st_save(arrays, metadata={_META_KEY: description})

        def write(f: IO[bytes]) -> None:
            f.write(payload)
    else:
        def write(f: IO[bytes]) -> None:
            np.savez(f, **arrays, **{_NPZ_META: np.array(description)})
    _write_atomic(path, write)


# --------------------------------------------------------------------------- reading
def _sniff(path: str, head: bytes, size: int, ext: str) -> None:
    """Name foreign formats before a parser fails on them with a cryptic message."""
    if size == 0:
        raise SerializationError(f"{path}: the file is empty (0 bytes); it may be the remains "
                                 "of an interrupted write by another program")
    if ext == ".safetensors" and len(head) > 8 and head[8:9] == b"{" and (
            int.from_bytes(head[:8], "little") <= size - 8):
        return  # a plausible safetensors header: let the parser judge the rest
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise SerializationError(
            f"{path}: this is a Python pickle (what torch.save, pickle.dump or joblib write), "
            f"not a {ext} file. tinygrad_edu never unpickles: loading a pickle can run "
            "arbitrary code. Re-save it where it was made, e.g. in PyTorch: "
            "safetensors.torch.save_file(model.state_dict(), 'model.safetensors')"
        )
    if head.startswith(b"PK\x03\x04") and ext == ".safetensors":
        kind = "a zip archive"
        with contextlib.suppress(zipfile.BadZipFile, OSError), zipfile.ZipFile(path) as z:
            names = z.namelist()
            if any(n.endswith("data.pkl") for n in names):
                kind = "a torch.save archive (a zip holding a pickle)"
            elif names and all(n.endswith(".npy") for n in names):
                kind = "an .npz archive"
        raise SerializationError(
            f"{path}: this is {kind}, not a safetensors file. Name .npz files .npz; for "
            "PyTorch checkpoints re-save with safetensors.torch.save_file(state_dict, path)"
        )
    if head.startswith(b"\x93NUMPY"):
        raise SerializationError(f"{path}: this is a single .npy array, not a {ext} file; "
                                 "load it with numpy.load and save a dict of arrays")
    if head.startswith(b"\x89HDF"):
        raise SerializationError(f"{path}: this is an HDF5 file (Keras .h5), not a {ext} file")
    if ext == ".npz" and not head.startswith(b"PK"):
        raise SerializationError(f"{path}: not an .npz file (no zip signature at the start); "
                                 "it is corrupt or another format")


def _read_safetensors(path: str, blob: bytes) -> tuple[dict[str, np.ndarray], str | None]:
    from safetensors.numpy import load as st_load

    if len(blob) < 8:
        raise SerializationError(f"{path}: truncated: {len(blob)} bytes, less than the "
                                 "8-byte header length of a safetensors file")
    n = int.from_bytes(blob[:8], "little")
    if n > len(blob) - 8:
        raise SerializationError(
            f"{path}: not a valid safetensors file: the header claims {n} bytes but only "
            f"{len(blob) - 8} follow (truncated, or not safetensors at all)"
        )
    try:
        header = json.loads(blob[8:8 + n])
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (ValueError, UnicodeDecodeError) as e:
        raise SerializationError(f"{path}: not a valid safetensors file: its header is not "
                                 f"JSON ({e})") from None
    meta = header.get("__metadata__") or {}
    try:
        arrays = st_load(blob)
    except Exception as e:  # SafetensorError and numpy dtype errors
        text = str(e)
        hint = (" (bfloat16 has no numpy dtype: convert to float32 before saving)"
                if "bf16" in text.lower() or "bfloat16" in text.lower() else "")
        raise SerializationError(f"{path}: corrupt or truncated safetensors file: "
                                 f"{type(e).__name__}: {text}{hint}") from None
    order = [k for k in header if k != "__metadata__"]
    ordered = {k: arrays[k] for k in order if k in arrays}
    return ordered, meta.get(_META_KEY) if isinstance(meta, dict) else None


def _read_npz(path: str) -> tuple[dict[str, np.ndarray], str | None]:
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):  # pragma: no cover - sniffed before
                raise SerializationError(f"{path}: not an .npz archive")
            for k in z.files:
                try:
                    arrays[k] = z[k]
                except ValueError as e:
                    if "pickle" in str(e) or "Object arrays" in str(e):
                        raise SerializationError(
                            f"{path}: entry {k!r} is an array of Python objects, which only "
                            "unpickling could read (that can run code); refusing to load it. "
                            "Save numeric arrays only."
                        ) from None
                    raise
    except SerializationError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as e:
        raise SerializationError(f"{path}: corrupt or truncated .npz file: "
                                 f"{type(e).__name__}: {e}") from None
    meta = arrays.pop(_NPZ_META, None)
    if meta is not None:
        if meta.dtype.kind != "U" or meta.ndim != 0:
            raise SerializationError(f"{path}: its {_NPZ_META} entry is not a JSON string")
        meta = str(meta[()])
    return arrays, meta


def _rebuild(path: str, node: Any, arrays: dict[str, np.ndarray], used: set[str]) -> Any:
    if isinstance(node, dict):
        if len(node) != 1:
            raise SerializationError(f"{path}: malformed tinygrad_edu description: {node!r}")
        (tag, value), = node.items()
        if tag in ("$t", "$a"):
            if value not in arrays:
                raise SerializationError(
                    f"{path}: the description refers to array {value!r}, which the file does "
                    "not contain (the file is corrupt or was edited)"
                )
            used.add(value)
            arr = arrays[value]
            if not arr.flags.writeable:
                arr = arr.copy()
            return Tensor._wrap(arr) if tag == "$t" else arr
        if tag == "$dict":
            return {k: _rebuild(path, v, arrays, used) for k, v in value}
        if tag == "$list":
            return [_rebuild(path, v, arrays, used) for v in value]
        if tag == "$tuple":
            return tuple(_rebuild(path, v, arrays, used) for v in value)
        raise SerializationError(f"{path}: unknown tag {tag!r} in the tinygrad_edu description")
    if isinstance(node, list):
        raise SerializationError(f"{path}: malformed tinygrad_edu description")
    return node


def load(path: str | os.PathLike) -> Any:
    """Load what ``save`` wrote (or a foreign ``.safetensors``/``.npz`` of plain arrays,
    returned as a dict name -> Tensor). Arrays saved as Tensors come back as Tensors, numpy
    arrays as numpy arrays; the rest of a nested state exactly as saved. Never runs code
    from the file.

    >>> import os, tempfile
    >>> bad = os.path.join(tempfile.mkdtemp(), "bad.safetensors")
    >>> with open(bad, "wb") as f:
    ...     _ = f.write(b"not a model")
    >>> load(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tinygrad_edu.serialization.SerializationError: ...bad.safetensors: not a valid ...
    """
    path = os.fspath(path)
    ext = check_extension(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file")
    with open(path, "rb") as f:
        blob = f.read() if ext == ".safetensors" else f.read(16)
    size = os.path.getsize(path)
    _sniff(path, blob[:16], size, ext)
    arrays, meta = _read_safetensors(path, blob) if ext == ".safetensors" else _read_npz(path)
    if meta is None:  # a plain file of arrays (PyTorch's safetensors, np.savez)
        return {k: Tensor._wrap(a if a.flags.writeable else a.copy()) for k, a in arrays.items()}
    try:
        desc = json.loads(meta)
    except ValueError as e:
        raise SerializationError(f"{path}: its tinygrad_edu description is not valid JSON "
                                 f"({e}); the file is corrupt") from None
    if not isinstance(desc, dict) or desc.get("format") != "tinygrad_edu" or "tree" not in desc:
        raise SerializationError(f"{path}: unrecognised tinygrad_edu description")
    if desc.get("version", 0) > _FORMAT_VERSION:
        raise SerializationError(
            f"{path}: written by a newer tinygrad_edu (format version {desc['version']}, this "
            f"one reads up to {_FORMAT_VERSION}); upgrade tinygrad_edu"
        )
    used: set[str] = set()
    obj = _rebuild(path, desc["tree"], arrays, used)
    extra = sorted(set(arrays) - used)
    if extra:
        raise SerializationError(f"{path}: arrays {extra[:5]} are not in the file's "
                                 "description (the file is corrupt or was edited)")
    return obj
