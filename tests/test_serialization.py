"""save/load: round trips, PyTorch interop through safetensors, bad files, atomic writes."""

from __future__ import annotations

import doctest
import os
import pickle
import zipfile

import numpy as np
import pytest
import safetensors.numpy

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
