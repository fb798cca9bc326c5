"""save/load: round trips, PyTorch interop through safetensors, bad files, atomic writes."""

from __future__ import annotations

import doctest
import json
import os
import pickle
import zipfile
import zlib

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.serialization as ser
from tinygrad_edu import nn, optim
from tinygrad_edu.serialization import SerializationError, load, save

FORMATS = [".safetensors", ".npz"]


def test_doctests():
    result = doctest.testmod(ser, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def _mlp() -> nn.Module:
    tg.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _torch():
    """PyTorch, imported only by the tests that need it (it takes seconds to import)."""
    import safetensors.torch
    import torch

    return torch, safetensors.torch


def _torch_mlp():
    torch, _ = _torch()
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("ext", FORMATS)
def test_state_dict_round_trip(tmp_path, ext):
    state = {
        "layer.weight": tg.randn(4, 3),
        "layer.bias": tg.zeros(4, dtype=tg.float64),
        "bn.num_batches_tracked": tg.tensor(7),
        "mask": np.array([True, False]),
        "scalar": tg.tensor(2.5),
        "empty": tg.zeros(0, 3),
    }
    path = tmp_path / f"model{ext}"
    save(state, path)
    back = load(path)
    assert list(back) == list(state)  # order kept
    for k, v in state.items():
        want = v.data if isinstance(v, tg.Tensor) else v
        got = back[k]
        assert type(got) is type(v), k  # Tensors come back as Tensors, arrays as arrays
        got = got.data if isinstance(got, tg.Tensor) else got
        assert got.dtype == want.dtype and got.shape == want.shape, k
        np.testing.assert_array_equal(got, want)
        assert got.flags.writeable


@pytest.mark.parametrize("ext", FORMATS)
def test_model_state_dict_loads_back_into_a_model(tmp_path, ext):
    net = _mlp()
    path = tmp_path / f"mlp{ext}"
    save(net.state_dict(), path)
    tg.manual_seed(1)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = tg.randn(5, 3)
    assert not np.allclose(other(x).numpy(), net(x).numpy())
    other.load_state_dict(load(path))
    np.testing.assert_array_equal(other(x).numpy(), net(x).numpy())


@pytest.mark.parametrize("ext", FORMATS)
def test_optimizer_state_round_trip_resumes_training(tmp_path, ext):
    """Adam's state (int keys, step counters, tuples, arrays) survives a save/load, and
    training resumed from it matches training that never stopped."""
    x, y = tg.randn(8, 3), tg.randn(8, 2)

    def steps(net, opt, n):
        for _ in range(n):
            opt.zero_grad()
            nn.MSELoss()(net(x), y).backward()
            opt.step()

    net = _mlp()
    opt = optim.Adam(net.parameters(), lr=0.01, betas=(0.8, 0.99))
    steps(net, opt, 3)
    save(net.state_dict(), tmp_path / f"net{ext}")
    save(opt.state_dict(), tmp_path / f"opt{ext}")
    steps(net, opt, 2)

    loaded_opt_state = load(tmp_path / f"opt{ext}")
    assert loaded_opt_state["param_groups"][0]["betas"] == (0.8, 0.99)
    assert loaded_opt_state["state"][0]["step"] == 3 and 0 in loaded_opt_state["state"]
    net2 = _mlp()
    net2.load_state_dict(load(tmp_path / f"net{ext}"))
    opt2 = optim.Adam(net2.parameters(), lr=0.5)
    opt2.load_state_dict(loaded_opt_state)
    assert opt2.param_groups[0]["lr"] == 0.01
    steps(net2, opt2, 2)
    for (k, a), (_, b) in zip(net.state_dict().items(), net2.state_dict().items()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, err_msg=k)


@pytest.mark.parametrize("ext", FORMATS)
def test_nested_values_round_trip_exactly(tmp_path, ext):
    state = {
        "ints": {0: 1, 1: -2**40, "2": 3},
        "floats": [0.1, float("inf"), -0.0, 1e-300],
        "misc": (None, True, "text", "κ"),
        "deep": {"a": [{"b": np.arange(3)}, tg.ones(2)]},
        "a.b": np.ones(1),
        "a": {"b": np.zeros(1)},  # the same dotted path as "a.b": keys are disambiguated
        "np_scalar": np.float32(1.5),
    }
    save(state, tmp_path / f"s{ext}")
    back = load(tmp_path / f"s{ext}")
    assert back["ints"] == {0: 1, 1: -2**40, "2": 3}
    assert back["floats"][:3] == [0.1, float("inf"), -0.0] and back["floats"][3] == 1e-300
    assert back["misc"] == (None, True, "text", "κ")
    assert back["deep"]["a"][0]["b"].tolist() == [0, 1, 2]
    assert isinstance(back["deep"]["a"][1], tg.Tensor)
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]
    assert back["np_scalar"] == 1.5


def test_scaler_state_round_trip(tmp_path):
    from tinygrad_edu.data import StandardScaler

    s = StandardScaler().fit(np.array([[1.0, 100.0], [3.0, 300.0]]))
    save(s.state_dict(), tmp_path / "scaler.npz")
    s2 = StandardScaler()
    s2.load_state_dict(load(tmp_path / "scaler.npz"))
    np.testing.assert_array_equal(s2.mean_, s.mean_)


# ----------------------------------------------------------------------------- PyTorch
def test_saved_state_dict_loads_into_pytorch(tmp_path):
    torch, st_torch = _torch()
    net = _mlp()
    path = tmp_path / "mlp.safetensors"
    save(net.state_dict(), path)
    tnet = _torch_mlp()
    result = tnet.load_state_dict(st_torch.load_file(str(path)), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        want = tnet(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(tg.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_pytorch_state_dict_loads_here(tmp_path):
    torch, st_torch = _torch()
    torch.manual_seed(0)
    tnet = _torch_mlp()
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(tnet.state_dict(), str(path))
    state = load(path)  # a foreign file: no description, a flat dict of Tensors
    assert set(state) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    net = _mlp()
    net.load_state_dict(state)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    with torch.no_grad():
        want = tnet(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(net(tg.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_plain_npz_loads_as_tensors(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.ones((2, 2)), b=np.zeros(2))
    state = load(tmp_path / "plain.npz")
    assert set(state) == {"w", "b"} and isinstance(state["w"], tg.Tensor)


# ----------------------------------------------------------------------------- bad files
def _expect(path, *patterns):
    with pytest.raises(SerializationError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for p in patterns:
        assert p in msg, msg
    return msg


@pytest.mark.parametrize("ext", FORMATS)
def test_random_bytes(tmp_path, ext):
    path = tmp_path / f"noise{ext}"
    path.write_bytes(np.random.default_rng(0).bytes(1000))
    _expect(path)


@pytest.mark.parametrize("ext", FORMATS)
def test_truncated(tmp_path, ext):
    path = tmp_path / f"model{ext}"
    save(_mlp().state_dict(), path)
    blob = path.read_bytes()
    for cut in (len(blob) // 2, len(blob) - 3, 12):
        path.write_bytes(blob[:cut])
        _expect(path)
    path.write_bytes(b"")
    _expect(path, "empty")


@pytest.mark.parametrize("ext", FORMATS)
def test_pickles_are_refused_and_never_run(tmp_path, ext):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / f"evil{ext}"
    path.write_bytes(pickle.dumps({"w": Evil()}, protocol=4))
    _expect(path, "pickle", "never unpickles")
    assert not marker.exists()


def test_torch_save_archive_is_named(tmp_path):
    torch, _ = _torch()
    path = tmp_path / "model.safetensors"
    torch.save(_torch_mlp().state_dict(), str(path))
    _expect(path, "torch.save", "safetensors.torch.save_file")


def test_npz_with_object_arrays_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, ok=np.ones(2), bad=np.array([{"a": 1}, None], dtype=object))
    _expect(path, "'bad'", "objects")


def test_other_foreign_files(tmp_path):
    npy = tmp_path / "single.npz"
    with open(npy, "wb") as f:
        np.save(f, np.ones(3))
    _expect(npy, ".npy")
    npz_named_st = tmp_path / "arrays.safetensors"
    with open(npz_named_st, "wb") as f:
        np.savez(f, a=np.ones(2))
    _expect(npz_named_st, ".npz archive")
    not_zip = tmp_path / "text.npz"
    not_zip.write_text("hello")
    _expect(not_zip, "not an .npz")


def test_description_and_arrays_must_agree(tmp_path):
    path = tmp_path / "edited.safetensors"
    save({"w": np.ones(2)}, path)
    arrays = safetensors.numpy.load_file(str(path))
    desc = '{"format":"tinygrad_edu","version":1,"tree":{"$dict":[["w",{"$t":"missing"}]]}}'
    safetensors.numpy.save_file(arrays, str(path), metadata={"tinygrad_edu": desc})
    _expect(path, "'missing'")
    safetensors.numpy.save_file(arrays, str(path), metadata={"tinygrad_edu": "{broken"})
    _expect(path, "not valid JSON")
    newer = '{"format":"tinygrad_edu","version":99,"tree":null}'
    safetensors.numpy.save_file(arrays, str(path), metadata={"tinygrad_edu": newer})
    _expect(path, "newer tinygrad_edu")


def test_unknown_extension_lists_supported(tmp_path):
    for fn in (lambda p: save({"w": np.ones(1)}, p), load):
        with pytest.raises(ValueError, match=r"unsupported extension '\.pt'.*\.safetensors, \.npz"):
            fn(tmp_path / "model.pt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load(tmp_path / "absent.npz")


def test_unsavable_objects(tmp_path):
    with pytest.raises(SerializationError, match=r"state_dict\(\)"):
        save(_mlp(), tmp_path / "m.safetensors")
    with pytest.raises(SerializationError, match="Python objects"):
        save({"o": np.array([object()])}, tmp_path / "m.npz")
    with pytest.raises(SerializationError, match="complex64 is not supported by safetensors"):
        save({"c": np.ones(2, np.complex64)}, tmp_path / "m.safetensors")
    with pytest.raises(SerializationError, match="cannot save set at f"):
        save({"f": {1, 2}}, tmp_path / "m.npz")
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------------------- atomicity
def _leftovers(directory):
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("ext", FORMATS)
def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch, ext):
    path = tmp_path / f"model{ext}"
    save({"w": tg.ones(3)}, path)
    before = path.read_bytes()

    # 1. the writer dies midway, after part of the new data is written
    if ext == ".npz":
        def broken_savez(f, **arrays):
            f.write(b"PK\x03\x04 half of a zip")
            raise RuntimeError("disk full")
        monkeypatch.setattr(np, "savez", broken_savez)
    else:
        def broken_save(arrays, metadata=None):
            raise RuntimeError("disk full")
        monkeypatch.setattr(safetensors.numpy, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        save({"w": tg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()

    # 2. the crash comes after the data is written but before the rename
    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save({"w": tg.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before and _leftovers(tmp_path) == []
    assert load(path)["w"].tolist() == [1.0, 1.0, 1.0]

    # 3. and a save that completes replaces it
    save({"w": tg.zeros(3)}, path)
    assert load(path)["w"].tolist() == [0.0, 0.0, 0.0]


def test_save_fsyncs_before_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync")
        real_fsync(fd)

    def replace(a, b):
        events.append("replace")
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save({"w": np.ones(2)}, tmp_path / "w.safetensors")
    assert events[:2] == ["fsync", "replace"]


def test_new_file_permissions_follow_umask(tmp_path):
    path = tmp_path / "w.npz"
    save({"w": np.ones(2)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert zipfile.is_zipfile(path)


# ----------------------------------------------------------------------------- hostile files
def _npy_bytes(header: dict, data: bytes) -> bytes:
    """A .npy member with any header numpy would write (shape, dtype) and raw data."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def test_deeply_nested_header_is_refused_before_parsing(tmp_path):
    path = tmp_path / "deep.safetensors"
    header = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    _expect(path, "header nests 100000 levels deep", f"at most {ser.MAX_NESTING}")


def test_deeply_nested_description_is_refused(tmp_path):
    path = tmp_path / "deep.safetensors"
    tree = '{"$list":[' * 5000 + "]}" * 5000
    desc = '{"format":"tinygrad_edu","version":1,"tree":' + tree + "}"
    safetensors.numpy.save_file({}, str(path), metadata={"tinygrad_edu": desc})
    _expect(path, "description nests 10001 levels deep")


def test_save_refuses_what_load_would_refuse(tmp_path):
    nested: dict = {}
    inner = nested
    for _ in range(40):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(SerializationError, match="nested too deeply"):
        save(nested, tmp_path / "n.npz")
    loop: list = []
    loop.append(loop)
    with pytest.raises(SerializationError, match="does it contain itself"):
        save({"loop": loop}, tmp_path / "n.npz")
    for arr, what in [(np.array(["a", "b"]), "strings"),
                      (np.array(["2020-01-01"], dtype="datetime64[D]"), "dates"),
                      (np.zeros(2, dtype=[("x", "f4")]), "structured records")]:
        with pytest.raises(SerializationError, match=f"an array of {what}"):
            save({"x": arr}, tmp_path / "n.npz")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("tree, problem", [
    ('{"$dict":5}', "$dict holds int, not a list"),
    ('{"$dict":[[1]]}', "not a [key, value] pair"),
    ('{"$dict":[[[1],2]]}', "dict key [1] is not a string"),
    ('{"$dict":[["a",1],["a",2]]}', "dict key 'a' appears twice"),
    ('{"$dict":[["w",{"$t":["w"]}]]}', "array name ['w'] is not a string"),
    ('{"$list":[{"$t":"w"},{"$a":"w"}]}', "array 'w' is used twice"),
    ('{"$set":[]}', "unknown tag '$set'"),
    ('{"a":1,"b":2}', "is not a value"),
    ("[1,2]", "is not a value"),
])
def test_edited_description_names_the_problem(tmp_path, tree, problem):
    path = tmp_path / "edited.safetensors"
    desc = '{"format":"tinygrad_edu","version":1,"tree":' + tree + "}"
    safetensors.numpy.save_file({"w": np.ones(2)}, str(path), metadata={"tinygrad_edu": desc})
    _expect(path, "malformed tinygrad_edu description", problem)


def test_a_lone_surrogate_in_a_description_is_an_error(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, __tinygrad_edu__=np.array('{"format": "\ud800"}'))
    _expect(path, "unrecognised tinygrad_edu description")  # not a UnicodeEncodeError


@pytest.mark.parametrize("version", ['"1"', "true", "0", "null", "1.5"])
def test_edited_version_is_refused(tmp_path, version):
    path = tmp_path / "edited.safetensors"
    desc = '{"format":"tinygrad_edu","version":' + version + ',"tree":null}'
    safetensors.numpy.save_file({}, str(path), metadata={"tinygrad_edu": desc})
    _expect(path, "no valid version")


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["w", "v"]))
_json_tree = st.recursive(_json_leaf, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(st.sampled_from(["$t", "$a", "$dict", "$list", "$tuple", "x"]), children,
                    max_size=2)), max_leaves=12)


@given(tree=_json_tree, version=st.sampled_from([1, "1", None, 2.0]))
def test_any_edited_description_loads_or_says_what_is_wrong(tmp_path_factory, tree, version):
    """Whatever JSON a description holds, load() returns or raises SerializationError."""
    path = tmp_path_factory.mktemp("fuzz") / "edited.safetensors"
    desc = json.dumps({"format": "tinygrad_edu", "version": version, "tree": tree})
    safetensors.numpy.save_file({"w": np.ones(2)}, str(path), metadata={"tinygrad_edu": desc})
    try:
        load(path)
    except SerializationError as e:
        assert str(path) in str(e)


def test_torch_checkpoint_named_npz(tmp_path):
    torch, _ = _torch()
    path = tmp_path / "model.npz"
    torch.save(_torch_mlp().state_dict(), str(path))
    _expect(path, "torch.save archive", "not an .npz file")


def test_zip_with_a_member_that_is_not_npy(tmp_path):
    path = tmp_path / "bundle.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", _npy_bytes({"descr": "<f8", "fortran_order": False,
                                        "shape": (1,)}, bytes(8)))
        z.writestr("notes.txt", b"hello")
    _expect(path, "not an .npz file: the zip holds 'notes.txt', which is not a .npy array")


def test_npz_declaring_more_elements_than_it_holds(tmp_path):
    """The size is checked against the member before allocating (this was a MemoryError)."""
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", _npy_bytes({"descr": "<f8", "fortran_order": False,
                                        "shape": (10**15,)}, bytes(24)))
    _expect(path, "entry 'w' declares shape (1000000000000000,) of float64 (8 PB)",
            "holds 24 bytes")


def _zip_bomb(path, inflated_mb: int) -> None:
    """An .npz of float64 zeros whose ``inflated_mb`` MB deflate to ~1 kB per MB (a valid
    zip, CRC included; built from one compressed MB repeated, in a fraction of a second)."""
    mb = 1 << 20
    header = _npy_bytes({"descr": "<f8", "fortran_order": False,
                         "shape": (inflated_mb * mb // 8,)}, b"")
    chunk = bytes(mb)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(header) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    body = first + repeated * inflated_mb + deflate.flush()
    crc = zlib.crc32(header)
    for _ in range(inflated_mb):
        crc = zlib.crc32(chunk, crc)
    size = len(header) + inflated_mb * mb
    name = b"w.npy"
    local = (b"PK\x03\x04" + (20).to_bytes(2, "little") + bytes(2) + (8).to_bytes(2, "little")
             + bytes(4) + crc.to_bytes(4, "little") + len(body).to_bytes(4, "little")
             + size.to_bytes(4, "little") + len(name).to_bytes(2, "little") + bytes(2) + name)
    central = (b"PK\x01\x02" + (20).to_bytes(2, "little") * 2 + bytes(2)
               + (8).to_bytes(2, "little") + bytes(4) + crc.to_bytes(4, "little")
               + len(body).to_bytes(4, "little") + size.to_bytes(4, "little")
               + len(name).to_bytes(2, "little") + bytes(16) + name)
    end = (b"PK\x05\x06" + bytes(4) + (1).to_bytes(2, "little") * 2
           + len(central).to_bytes(4, "little")
           + (len(local) + len(body)).to_bytes(4, "little") + bytes(2))
    path.write_bytes(local + body + central + end)


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    bomb = tmp_path / "bomb.npz"
    _zip_bomb(bomb, 2048)  # 2.1 GB of zeros in a 2.1 MB file
    assert bomb.stat().st_size < 2_300_000
    assert zipfile.ZipFile(bomb).infolist()[0].file_size > 2_100_000_000
    _expect(bomb, "would inflate to 2.15 GB from a 2.12 MB file",
            "load(path, max_inflated_bytes=")
    small = tmp_path / "small.npz"
    _zip_bomb(small, 4)
    with pytest.raises(SerializationError,
                       match=r"inflate to 4.19 MB .* max_inflated_bytes=1000000"):
        load(small, max_inflated_bytes=10**6)
    w = load(small, max_inflated_bytes=5 * 2**20)["w"]  # the limit raised: it loads
    assert w.shape == (2**19,) and not w.numpy().any()


@pytest.mark.parametrize("arr, what", [
    (np.array(["a", "bc"]), "strings"),
    (np.array([b"a"]), "byte strings"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "dates"),
    (np.array([1], dtype="timedelta64[s]"), "time spans"),
    (np.zeros(2, dtype=[("x", "f4"), ("y", "i4")]), "structured records"),
    (np.zeros(2, dtype="V3"), "raw bytes"),
])
def test_npz_entries_must_be_numeric(tmp_path, arr, what):
    path = tmp_path / "odd.npz"
    np.savez(path, ok=np.ones(2), odd=arr)
    _expect(path, f"entry 'odd' is an array of {what}", "only numeric arrays")


def test_npz_numeric_dtypes_load_in_native_order(tmp_path):
    path = tmp_path / "kinds.npz"
    arrays = {"b": np.array([True]), "u": np.arange(3, dtype=np.uint16),
              "big": np.arange(4, dtype=">f8").reshape(2, 2), "c": np.array([1 + 2j]),
              "f": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    np.savez(path, **arrays)
    back = load(path)
    for k, a in arrays.items():
        np.testing.assert_array_equal(back[k].numpy(), a)
        assert back[k].numpy().dtype.isnative and back[k].numpy().flags.c_contiguous


# ----------------------------------------------------------------------------- integrity
def _flips(blob: bytes):
    for i in range(len(blob) * 8):
        flipped = bytearray(blob)
        flipped[i // 8] ^= 1 << (i % 8)
        yield i, bytes(flipped)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tg.Tensor | np.ndarray):
        a_, b_ = (x.numpy() if isinstance(x, tg.Tensor) else x for x in (a, b))
        return type(a) is type(b) and a_.dtype == b_.dtype and a_.shape == b_.shape \
            and a_.tobytes() == b_.tobytes()
    return type(a) is type(b) and a == b


_SMALL_STATE = {"w": tg.tensor([1.5, -2.0]), "opt": {"lr": 0.01, "step": 3}}


def test_every_single_bit_flip_in_a_safetensors_file_is_caught(tmp_path):
    """Checksums of the description and each tensor: no flipped bit anywhere in the file
    (header length, header, metadata, data) loads. Without them 61 of 300 loaded."""
    path = tmp_path / "s.safetensors"
    save(_SMALL_STATE, path)
    blob = path.read_bytes()
    assert _same(load(path), _SMALL_STATE)
    loaded = []
    for i, flipped in _flips(blob):
        path.write_bytes(flipped)
        try:
            load(path)
            loaded.append(i)
        except SerializationError:
            pass
    assert loaded == [], f"{len(loaded)} flips loaded, e.g. at byte {loaded[0] // 8}"


def test_no_single_bit_flip_changes_what_an_npz_loads(tmp_path):
    """The zip's CRC-32 of each member and its member count: a flip is an error or hits a
    field that does not matter (a timestamp). Every bit of the zip's own records; inside the
    members, which CRC-32 covers, one bit per byte (a different bit in consecutive bytes)."""
    path = tmp_path / "s.npz"
    save(_SMALL_STATE, path)
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        members = [(i.header_offset + 30 + len(i.filename), i.compress_size)
                   for i in z.infolist()]
    inside = {b for start, n in members for b in range(start, start + n)}
    changed, tried = [], 0
    for i, flipped in _flips(blob):
        if i // 8 in inside and i % 8 != i // 8 % 8:
            continue
        tried += 1
        path.write_bytes(flipped)
        try:
            if not _same(load(path), _SMALL_STATE):
                changed.append(i)
        except SerializationError:
            pass
    assert changed == [], f"{len(changed)} flips changed the result, e.g. byte {changed[0] // 8}"
    assert tried > 8 * (len(blob) - len(inside))


def test_changed_tensor_bytes_name_the_tensor(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"a": np.ones(3), "b": np.zeros(2)}, path)
    blob = path.read_bytes()
    one = np.float64(1).tobytes()
    path.write_bytes(blob.replace(one, np.float64(2).tobytes(), 1))
    _expect(path, "tensor ['a'] does not match the CRC-32 stored when it was saved")


def test_files_without_checksums_load_as_before(tmp_path):
    """tinygrad_edu's files from before checksums, and anyone else's, load unchecked."""
    path = tmp_path / "old.safetensors"
    desc = '{"format":"tinygrad_edu","version":1,"tree":{"$dict":[["w",{"$t":"w"}]]}}'
    safetensors.numpy.save_file({"w": np.ones(2)}, str(path), metadata={"tinygrad_edu": desc})
    assert load(path)["w"].tolist() == [1.0, 1.0]
    safetensors.numpy.save_file({"w": np.ones(2)}, str(path), metadata={"format": "pt"})
    assert load(path)["w"].tolist() == [1.0, 1.0]
    # but a description that says it has checksums needs them
    desc = desc[:-1] + ',"checksums":"crc32"}'
    safetensors.numpy.save_file({"w": np.ones(2)}, str(path), metadata={"tinygrad_edu": desc})
    _expect(path, "says it carries checksums, but they are missing")


# ----------------------------------------------------------------------------- links, leftovers
def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    store, links = tmp_path / "store", tmp_path / "links"
    store.mkdir()
    links.mkdir()
    target, link = store / "model-v1.safetensors", links / "latest.safetensors"
    save({"w": tg.ones(2)}, target)
    link.symlink_to(target)
    save({"w": tg.zeros(2)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load(target)["w"].tolist() == [0.0, 0.0]
    assert sorted(p.name for p in store.iterdir()) == ["model-v1.safetensors"]
    assert [p.name for p in links.iterdir()] == ["latest.safetensors"]


_KILLED_SAVE = """
import os, signal, sys
import tinygrad_edu as tg
os.replace = lambda *args: os.kill(os.getpid(), signal.SIGKILL)  # die just before the rename
tg.save({"w": tg.ones(1000)}, sys.argv[1])
"""


def test_the_next_save_removes_what_a_killed_save_left(tmp_path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "model.npz"
    save({"w": tg.zeros(2)}, path)
    proc = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)],
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == -signal.SIGKILL
    left = _leftovers(tmp_path)
    assert len(left) == 1 and left[0].startswith(".model.npz.")  # hidden, complete, orphaned
    assert load(path)["w"].tolist() == [0.0, 0.0]  # the old file is intact
    older = tmp_path / ".model.npz.k3x_9q0a.tmp"  # how saves named it before pids were in it
    live = tmp_path / f".model.npz.{os.getpid()}-abcd1234.tmp"  # a save still running
    other = tmp_path / ".model.npz.bak.1-abcd1234.tmp"  # a temporary file of another name
    for p in (older, live, other):
        p.write_bytes(b"partial")
    save({"w": tg.ones(2)}, path)
    assert sorted(_leftovers(tmp_path)) == sorted([live.name, other.name])
    assert load(path)["w"].tolist() == [1.0, 1.0]
