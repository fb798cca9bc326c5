"""``save`` and ``load``: state dicts and optimizer states, in files that cannot run code.

The extension picks the format:

- ``.safetensors``: the safetensors format (written with ``safetensors.numpy``). PyTorch
  reads a saved state dict directly: ``model.load_state_dict(safetensors.torch.load_file(p))``,
  and a state dict PyTorch wrote with ``safetensors.torch.save_file`` loads here.
- ``.npz``: numpy's zip of arrays, read back without pickle.

Neither format holds code, so loading a file from someone else is safe (``torch.load`` and
``pickle`` run whatever the file says). Arrays are stored under their dotted key paths
(``"0.weight"``, ``"state.0.exp_avg"``); everything else of a nested state (ints, floats,
strings, lists, tuples, dict keys and their types) goes into a JSON description stored with
them, so ``load`` gives back what was saved.

**Writing.** The data goes to a hidden temporary file in the target's directory, is
flushed to disk (``fsync``) and renamed over the target (``os.replace``), so a crash or
an error mid-save leaves the previous file intact. Saving through a symbolic link writes
the file it points to and keeps the link. A temporary file left by a save that was killed
(its process no longer runs) is removed by the next save to the same path.

**Integrity.** A ``.safetensors`` file from ``save`` carries a CRC-32 of its description
and of each tensor (dtype, shape and bytes) in its metadata, and ``load`` checks them: a
changed bit anywhere in the file is an error, never a silently different value. Files
without checksums (PyTorch's, or tinygrad_edu's before they were added) load unchecked.
An ``.npz`` relies on the zip format's own CRC-32 of every member.

**Reading.** Every malformed, tampered or foreign file raises ``SerializationError``
naming the file and the problem: pickles and ``torch.save`` archives, random bytes,
truncated files, JSON nested more than :data:`MAX_NESTING` levels deep, a description
that does not match the arrays, arrays of anything but numbers (strings, dates, records,
Python objects), sizes that disagree with the file (checked before anything is
allocated), and ``.npz`` files whose compressed arrays would inflate to more than
``max_inflated_bytes`` (1 GiB unless raised).

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
import lzma
import math
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

from .tensor import Tensor

SUPPORTED_EXTENSIONS = (".safetensors", ".npz")
_META_KEY = "tinygrad_edu"            # safetensors metadata: the JSON description
_CHECKSUM_KEY = "tinygrad_edu.crc32"  # safetensors metadata: CRC-32s of description, tensors
_NPZ_META = "__tinygrad_edu__"        # the npz entry holding the JSON description
_FORMAT_VERSION = 1
_SAFETENSORS_DTYPES = frozenset("?bBhHiIlLqQefd")  # bool, ints, float16/32/64

MAX_NESTING = 100
"""The deepest JSON nesting ``load`` parses (and ``save`` writes): a safetensors header is 3
levels deep; a saved state takes about 3 levels per level of dict nesting."""

MAX_INFLATED_BYTES = 2**30
"""``load``'s default limit on what an ``.npz``'s compressed arrays may inflate to."""


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


def _non_numeric(dtype: np.dtype) -> str | None:
    """What an array of ``dtype`` holds if that is not numbers (bool, int, float, complex).

    >>> _non_numeric(np.dtype("f4")), _non_numeric(np.dtype("U3")), _non_numeric(np.dtype("O"))
    (None, 'strings', 'Python objects')
    """
    if dtype.kind in "biufc" and dtype.fields is None and dtype.subdtype is None:
        return None
    return {"O": "Python objects", "U": "strings", "S": "byte strings", "M": "dates",
            "m": "time spans"}.get(dtype.kind, "raw bytes" if dtype.fields is None
                                   else "structured records")


def _size(n: int) -> str:
    """A byte count for messages.

    >>> _size(3), _size(2_100_000_000), _size(8 * 10**15)
    ('3 bytes', '2.1 GB', '8 PB')
    """
    if n < 1000:
        return f"{n} bytes"
    exponent = min(int(math.log10(n)) // 3, 5)
    return f"{n / 1000**exponent:.3g} {'kMGTP'[exponent - 1]}B"


def _nesting_depth(text: bytes) -> int:
    """How deeply the JSON ``text`` nests (brackets inside strings do not count).

    >>> _nesting_depth(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    outside = re.sub(rb'"(?:[^"\\]|\\.)*"', b'""', text)
    codes = np.frombuffer(outside, np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) \
        - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _crc32(arr: np.ndarray) -> int:
    """CRC-32 of an array's dtype, shape and little-endian bytes (what safetensors stores)."""
    le = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    seed = zlib.crc32(f"{le.dtype.str}{le.shape}".encode())
    return zlib.crc32(le.reshape(-1).view(np.uint8), seed)


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
        what = _non_numeric(arr.dtype)
        if what is not None:
            raise SerializationError(
                f"cannot save {where}: an array of {what} (dtype {arr.dtype}); only numeric "
                "arrays (bool, integers, floats, complex) are stored, and loading refuses "
                "anything else (store text as Python str values)"
            )
        if self.ext == ".safetensors" and arr.dtype.char not in _SAFETENSORS_DTYPES:
            raise SerializationError(
                f"cannot save {where}: dtype {arr.dtype} is not supported by safetensors "
                "(bool, integers, float16/32/64); use .npz or convert it"
            )
        key = self.key_for(path)
        self.arrays[key] = arr if arr.flags.c_contiguous else np.array(arr, order="C")
        return key

    def node(self, obj: Any, path: list[str]) -> Any:
        if len(path) > MAX_NESTING:
            raise SerializationError(f"cannot save {'.'.join(path[:3])}...: nested more than "
                                     f"{MAX_NESTING} levels deep (does it contain itself?)")
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


def _description(tree: Any, checksums: bool) -> str:
    body = {"format": "tinygrad_edu", "version": _FORMAT_VERSION, "tree": tree}
    if checksums:
        body["checksums"] = "crc32"
    text = json.dumps(body, separators=(",", ":"))
    if _nesting_depth(text.encode()) > MAX_NESTING:
        raise SerializationError(
            f"cannot save: the state is nested too deeply (its description would be more than "
            f"{MAX_NESTING} JSON levels deep, which load() refuses); flatten it"
        )
    return text


# --------------------------------------------------------------------------- writing
def _file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _temporary_name(base: str) -> re.Pattern[str]:
    """The names of ``base``'s temporary files: ``.base.<pid>-<random>.tmp`` (and
    ``.base.<random>.tmp``, as saves before the writer's pid was recorded named them)."""
    return re.compile(rf"\.{re.escape(base)}\.(?:(\d+)-)?[a-z0-9_]{{8}}\.tmp")


def _writer_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would signal it; Windows refuses to delete an open file
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else
        return True
    return True


def _remove_stale_temporaries(target: str) -> None:
    """Delete temporary files of earlier saves to ``target`` whose process is gone (a save
    that was killed cannot clean up after itself)."""
    directory, base = os.path.split(target)
    pattern = _temporary_name(base)
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            if match[1] is not None and _writer_alive(int(match[1])):
                continue  # a save in progress (this process's other threads included)
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _write_atomic(path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` into a temporary file next to ``path`` (next to the file
    it links to, for a symbolic link), fsync it, and rename it over that file; on any error
    the temporary file is removed and the file is left as it was."""
    target = os.path.realpath(path)
    directory, base = os.path.split(target)
    _remove_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
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
    ``state_dict()``) to ``path``; ``.safetensors`` or ``.npz`` by extension. Atomic; through
    a symbolic link it writes the linked file.

    >>> import os, tempfile
    >>> import tinygrad_edu as tg
    >>> save({"w": tg.ones(2)}, os.path.join(tempfile.mkdtemp(), "w.pt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...w.pt: unsupported extension '.pt'; use one of .safetensors, .npz ...
    """
    path = os.fspath(path)
    ext = check_extension(path)
    if not isinstance(obj, Mapping | list | tuple | Tensor | np.ndarray):
        raise SerializationError(
            f"save() stores a state dict or a nested state, got {type(obj).__name__}"
            + ("; save its state instead: save(obj.state_dict(), path)"
               if hasattr(obj, "state_dict") else "")
        )
    flat = _Flattener(ext)
    tree = flat.node(obj, [])
    arrays = flat.arrays
    if ext == ".safetensors":
        from safetensors.numpy import save as st_save

        description = _description(tree, checksums=True)
        checksums = {"description": zlib.crc32(description.encode()),
                     "tensors": {k: _crc32(a) for k, a in arrays.items()}}
        payload = st_save(arrays, metadata={
            _META_KEY: description, _CHECKSUM_KEY: json.dumps(checksums, separators=(",", ":"))})

        def write(f: IO[bytes]) -> None:
            f.write(payload)
    else:
        description = _description(tree, checksums=False)

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
            kind = _zip_kind(z.namelist())
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


def _zip_kind(names: list[str]) -> str:
    if any(n.endswith("data.pkl") for n in names):
        return "a torch.save archive (a zip holding a pickle)"
    if names and all(n.endswith(".npy") for n in names):
        return "an .npz archive"
    return "a zip archive"


def _parse_json(path: str, text: str | bytes, what: str) -> Any:
    """``json.loads(text)``, refusing nesting deeper than :data:`MAX_NESTING` first."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = _nesting_depth(data)
    if depth > MAX_NESTING:
        raise SerializationError(f"{path}: {what} nests {depth} levels deep (at most "
                                 f"{MAX_NESTING} are read); the file is corrupt or hostile")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise SerializationError(f"{path}: {what} is not valid JSON ({e}); the file is "
                                 "corrupt") from None


def _read_safetensors(path: str, blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
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
    header = _parse_json(path, blob[8:8 + n], "its safetensors header")
    if not isinstance(header, dict):
        raise SerializationError(f"{path}: not a valid safetensors file: its header is not a "
                                 "JSON object")
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise SerializationError(f"{path}: not a valid safetensors file: its __metadata__ is "
                                 "not a map of strings")
    try:
        arrays = st_load(blob)
    except Exception as e:  # SafetensorError and numpy dtype errors
        text = str(e)
        hint = (" (bfloat16 has no numpy dtype: convert to float32 before saving)"
                if "bf16" in text.lower() or "bfloat16" in text.lower() else "")
        raise SerializationError(f"{path}: corrupt or truncated safetensors file: "
                                 f"{type(e).__name__}: {text}{hint}") from None
    order = [k for k in header if k != "__metadata__"]
    return {k: arrays[k] for k in order if k in arrays}, meta


def _verified_description(path: str, meta: dict[str, str],
                          arrays: dict[str, np.ndarray]) -> tuple[str | None, bool]:
    """The description in a safetensors file's metadata, after checking the description and
    every tensor against the stored CRC-32s (if there are any: foreign files have none)."""
    description = meta.get(_META_KEY)
    if _CHECKSUM_KEY not in meta:
        return description, False
    sums = _parse_json(path, meta[_CHECKSUM_KEY], "its checksum record")
    if not (isinstance(sums, dict) and isinstance(sums.get("description"), int)
            and isinstance(sums.get("tensors"), dict)
            and all(isinstance(v, int) for v in sums["tensors"].values())):
        raise SerializationError(f"{path}: its checksum record is malformed; the file is "
                                 "corrupt or was edited")
    changed = "was corrupted (on disk or in transfer) or edited after saving"
    if description is None:
        raise SerializationError(f"{path}: it has checksums but no tinygrad_edu description: "
                                 f"its metadata {changed}")
    if zlib.crc32(description.encode("utf-8", "surrogatepass")) != sums["description"]:
        raise SerializationError(f"{path}: its description does not match its CRC-32: the "
                                 f"file {changed}")
    listed = sums["tensors"]
    if set(listed) != set(arrays):
        odd = sorted(set(listed) ^ set(arrays))
        raise SerializationError(f"{path}: its tensors and checksums disagree about the names "
                                 f"{odd[:5]}: the file {changed}")
    bad = [k for k, a in arrays.items() if _crc32(a) != listed[k]]
    if bad:
        raise SerializationError(f"{path}: tensor{'s' * (len(bad) > 1)} {bad[:5]} do"
                                 f"{'es' * (len(bad) == 1)} not match the CRC-32 stored when "
                                 f"it was saved: the file {changed}")
    return description, True


def _zip_directory_count(path: str, size: int) -> int:
    """The member count in a zip's end record: zipfile reads members until the directory's
    byte size is used up, so a changed length field there can hide members (and the
    description with them) without an error."""
    with open(path, "rb") as f:  # the end record: 22 bytes and a comment of < 64 KiB
        f.seek(max(0, size - 22 - 0xFFFF))
        tail = f.read()
    at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
    return int.from_bytes(tail[at + 10:at + 12], "little")


def _check_members(path: str, z: zipfile.ZipFile, size: int, max_inflated_bytes: int) -> None:
    """Refuse a zip that is not an npz, or whose sizes do not fit the file (before reading)."""
    names = z.namelist()
    foreign = [n for n in names if not n.endswith(".npy")]
    if foreign:
        if _zip_kind(names).startswith("a torch.save"):
            raise SerializationError(
                f"{path}: this is a torch.save archive (a zip holding a pickle), not an .npz "
                "file. tinygrad_edu never unpickles (that can run code); re-save it in "
                "PyTorch: safetensors.torch.save_file(state_dict, 'model.safetensors')")
        raise SerializationError(f"{path}: not an .npz file: the zip holds {foreign[0]!r}, "
                                 "which is not a .npy array (an .npz holds only those)")
    listed = _zip_directory_count(path, size)
    if len(names) != listed and not len(names) >= listed == 0xFFFF:  # 0xFFFF: zip64, more
        raise SerializationError(
            f"{path}: its zip directory says it holds {listed} members, but {len(names)} can "
            "be read; the file is corrupt or was edited")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SerializationError(f"{path}: the zip lists {repeated[0]!r} more than once; "
                                 "the file is corrupt or was edited")
    inflated = 0
    for info in z.infolist():
        if info.flag_bits & 0x1:
            raise SerializationError(f"{path}: member {info.filename!r} is encrypted")
        if info.header_offset + info.compress_size > size or (
                info.compress_type == zipfile.ZIP_STORED
                and info.file_size != info.compress_size):
            raise SerializationError(
                f"{path}: member {info.filename!r} claims sizes that do not fit the "
                f"{size}-byte file; the file is truncated, corrupt or was edited")
        if info.compress_type != zipfile.ZIP_STORED:
            inflated += info.file_size
    if inflated > max_inflated_bytes:
        raise SerializationError(
            f"{path}: its compressed arrays would inflate to {_size(inflated)} from a "
            f"{_size(size)} file, more than max_inflated_bytes={max_inflated_bytes} (a 'zip "
            "bomb' fills memory this way); if you trust the file, raise the limit: "
            f"load(path, max_inflated_bytes={inflated})")


def _read_npy(path: str, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its declared size checked against the member before allocating."""
    key = info.filename[:-4]
    fmt = np.lib.format
    with z.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise SerializationError(f"{path}: entry {key!r} is a .npy of version {version}, "
                                     "which only holds structured records")
        what = _non_numeric(dtype)
        if what is not None and not (key == _NPZ_META and dtype.kind == "U"):
            detail = (" that only unpickling could read (that can run code); refusing to load "
                      "it" if dtype.hasobject else "")
            raise SerializationError(
                f"{path}: entry {key!r} is an array of {what} (dtype {dtype}){detail}; only "
                "numeric arrays (bool, integers, floats, complex) are loaded")
        count = math.prod(shape)
        declared = count * dtype.itemsize
        held = info.file_size - f.tell()
        if declared != held:
            raise SerializationError(
                f"{path}: entry {key!r} declares shape {shape} of {dtype} ({_size(declared)}) "
                f"but holds {_size(held)} of data; the file is corrupt or was edited")
        flat = np.empty(count, dtype)
        view, filled = memoryview(flat.view(np.uint8)), 0
        while filled < declared:  # in chunks: one large read() is two copies, and slow
            chunk = f.read(min(declared - filled, 1 << 20))
            if not chunk:
                raise SerializationError(f"{path}: entry {key!r} ends early; the file is "
                                         "corrupt")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
        if f.read(1):
            raise SerializationError(f"{path}: entry {key!r} is longer than its header says")
    arr = flat.reshape(shape[::-1]).T.copy() if fortran else flat.reshape(shape)
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _read_npz(path: str, size: int,
              max_inflated_bytes: int) -> tuple[dict[str, np.ndarray], str | None]:
    try:
        with zipfile.ZipFile(path) as z:
            _check_members(path, z, size, max_inflated_bytes)
            arrays = {info.filename[:-4]: _read_npy(path, z, info) for info in z.infolist()}
    except SerializationError:
        raise
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
            KeyError, NotImplementedError) as e:
        raise SerializationError(f"{path}: corrupt or truncated .npz file: "
                                 f"{type(e).__name__}: {e}") from None
    meta = arrays.pop(_NPZ_META, None)
    if meta is not None:
        if meta.dtype.kind != "U" or meta.ndim != 0:
            raise SerializationError(f"{path}: its {_NPZ_META} entry is not a JSON string")
        meta = str(meta[()])
    return arrays, meta


class _Rebuild:
    """Turn a parsed description back into the saved object, refusing anything ``save``
    never writes (a tampered description must not become a different object)."""

    def __init__(self, path: str, arrays: dict[str, np.ndarray]) -> None:
        self.path, self.arrays, self.used = path, arrays, set()

    def bad(self, what: str) -> SerializationError:
        return SerializationError(f"{self.path}: malformed tinygrad_edu description ({what}); "
                                  "the file is corrupt or was edited")

    def node(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | int | float | str):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise self.bad(f"{str(node)[:60]} is not a value")
        (tag, value), = node.items()
        if tag in ("$t", "$a"):
            return self.array(tag, value)
        if tag in ("$dict", "$list", "$tuple") and not isinstance(value, list):
            raise self.bad(f"{tag} holds {type(value).__name__}, not a list")
        if tag == "$dict":
            return self.mapping(value)
        if tag == "$list":
            return [self.node(v) for v in value]
        if tag == "$tuple":
            return tuple(self.node(v) for v in value)
        raise self.bad(f"unknown tag {tag!r}")

    def array(self, tag: str, key: Any) -> Any:
        if not isinstance(key, str):
            raise self.bad(f"array name {key!r} is not a string")
        if key not in self.arrays:
            raise SerializationError(
                f"{self.path}: the description refers to array {key!r}, which the file does "
                "not contain (the file is corrupt or was edited)")
        if key in self.used:
            raise self.bad(f"array {key!r} is used twice")
        self.used.add(key)
        arr = self.arrays[key]
        if not arr.flags.writeable:
            arr = arr.copy()
        return Tensor._wrap(arr) if tag == "$t" else arr

    def mapping(self, items: list[Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 2):
                raise self.bad(f"dict item {str(item)[:60]} is not a [key, value] pair")
            key, value = item
            if not (key is None or isinstance(key, bool | int | float | str)):
                raise self.bad(f"dict key {str(key)[:60]} is not a string, number or None")
            if key in out:
                raise self.bad(f"dict key {key!r} appears twice")
            out[key] = self.node(value)
        return out


def load(path: str | os.PathLike, *, max_inflated_bytes: int = MAX_INFLATED_BYTES) -> Any:
    """Load what ``save`` wrote (or a foreign ``.safetensors``/``.npz`` of plain arrays,
    returned as a dict name -> Tensor). Arrays saved as Tensors come back as Tensors, numpy
    arrays as numpy arrays; the rest of a nested state exactly as saved. Never runs code
    from the file; checks the checksums ``save`` stored; refuses an ``.npz`` whose
    compressed arrays would inflate to more than ``max_inflated_bytes``.

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
    checked = False
    if ext == ".safetensors":
        arrays, meta = _read_safetensors(path, blob)
        text, checked = _verified_description(path, meta, arrays)
    else:
        arrays, text = _read_npz(path, size, max_inflated_bytes)
    if text is None:  # a plain file of arrays (PyTorch's safetensors, np.savez)
        return {k: Tensor._wrap(a if a.flags.writeable else a.copy()) for k, a in arrays.items()}
    desc = _parse_json(path, text, "its tinygrad_edu description")
    if not isinstance(desc, dict) or desc.get("format") != "tinygrad_edu" or "tree" not in desc:
        raise SerializationError(f"{path}: unrecognised tinygrad_edu description")
    version = desc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SerializationError(f"{path}: its tinygrad_edu description has no valid version "
                                 f"({version!r}); the file is corrupt or was edited")
    if version > _FORMAT_VERSION:
        raise SerializationError(
            f"{path}: written by a newer tinygrad_edu (format version {version}, this "
            f"one reads up to {_FORMAT_VERSION}); upgrade tinygrad_edu"
        )
    if "checksums" in desc and not checked:
        raise SerializationError(f"{path}: its description says it carries checksums, but "
                                 "they are missing; the file is corrupt or was edited")
    rebuild = _Rebuild(path, arrays)
    obj = rebuild.node(desc["tree"])
    extra = sorted(set(arrays) - rebuild.used)
    if extra:
        raise SerializationError(f"{path}: arrays {extra[:5]} are not in the file's "
                                 "description (the file is corrupt or was edited)")
    return obj
