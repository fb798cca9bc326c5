"""Datasets, DataLoader, random_split and the scalers (tinygrad_edu.data)."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu.data import (
    DataLoader,
    Dataset,
    LogScaler,
    MinMaxScaler,
    NotFittedError,
    StandardScaler,
    Subset,
    TensorDataset,
    dataloader,
    dataset,
    default_collate,
    random_split,
    scalers,
)


@pytest.mark.parametrize("module", [dataset, dataloader, scalers, __import__("tinygrad_edu.data")
                                    .data])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- datasets
def test_tensor_dataset_items_and_batches():
    x = np.arange(12.0).reshape(6, 2)
    y = np.arange(6)
    ds = TensorDataset(x, tg.tensor(y))
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8.0, 9.0] and yi.item() == 4
    xb, yb = ds.__getitems__([5, 0])
    assert xb.tolist() == [[10.0, 11.0], [0.0, 1.0]] and yb.tolist() == [5, 0]
    xs, _ = ds.__getitems__(slice(1, 3))
    assert xs.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    assert [t.shape for t in ds.tensors] == [(6, 2), (6,)]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="same first dimension.*\\[3, 4\\]"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="first \\(sample\\) dimension"):
        TensorDataset(np.array(1.0))


def test_sequential_batches_are_read_only_views():
    """An in-place op on a batch must not silently change the dataset."""
    x = np.arange(6.0).reshape(3, 2)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=2)))
    with pytest.raises(ValueError, match="read-only"):
        xb.data[0, 0] = 100.0
    assert x[0, 0] == 0.0


class Squares(Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return np.array([float(i)]), i * i


def test_dataloader_collates_plain_datasets():
    batches = list(DataLoader(Squares(), batch_size=3))
    assert [b[0].shape for b in batches] == [(3, 1), (3, 1), (1, 1)]
    assert batches[1][1].tolist() == [9, 16, 25] and batches[1][1].dtype == np.int64
    assert [s[1] for s in DataLoader(Squares(), batch_size=None)] == [i * i for i in range(7)]


def test_default_collate_structures():
    out = default_collate([{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}])
    assert out["a"].dtype == np.float32 and out["a"].tolist() == [1.0, 2.0]
    assert out["b"] == ["x", "y"]
    assert default_collate([[tg.ones(2), True], [tg.zeros(2), False]])[1].dtype == np.bool_
    with pytest.raises(TypeError, match="cannot batch"):
        default_collate([object(), object()])


def test_dataset_base_and_loader_errors():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(ValueError, match="positive int"):
        DataLoader(Squares(), batch_size=0)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(5)


def _indices_per_epoch(loader: DataLoader) -> list[list[int]]:
    return [b[0].data.reshape(-1).astype(int).tolist() for b in loader]


@given(n=st.integers(0, 60), batch_size=st.integers(1, 13), shuffle=st.booleans(),
       drop_last=st.booleans(), seed=st.integers(0, 2**16), fast=st.booleans())
def test_dataloader_every_sample_once(n, batch_size, shuffle, drop_last, seed, fast):
    ids = np.arange(n, dtype=np.float64)
    ds = TensorDataset(ids) if fast else Subset(Squares2(n), np.arange(n))
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        generator=tg.Generator().manual_seed(seed))
    for _ in range(2):  # two epochs
        batches = _indices_per_epoch(loader)
        sizes = [len(b) for b in batches]
        assert len(batches) == len(loader)
        seen = [i for b in batches for i in b]
        assert len(seen) == len(set(seen))  # never twice
        if drop_last:
            assert all(s == batch_size for s in sizes)
            assert len(seen) == n - n % batch_size
        else:
            assert sorted(seen) == list(range(n))  # every sample exactly once
            assert all(s == batch_size for s in sizes[:-1])
            assert not sizes or 1 <= sizes[-1] <= batch_size
        if not shuffle:
            assert seen == sorted(seen)


class Squares2(Dataset):
    """Items are their own index (no __getitems__: the per-item path)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return (np.array(float(i)),)


def test_shuffling_is_seeded_and_differs_between_epochs():
    ds = TensorDataset(np.arange(50.0))

    def epochs(seed):
        loader = DataLoader(ds, batch_size=50, shuffle=True,
                            generator=tg.Generator().manual_seed(seed))
        return [_indices_per_epoch(loader)[0] for _ in range(2)]

    a, b = epochs(1), epochs(1)
    assert a == b                       # same seed, same orders
    assert a[0] != a[1]                 # a new permutation every epoch
    assert epochs(2)[0] != a[0]
    tg.manual_seed(3)
    g1 = _indices_per_epoch(DataLoader(ds, batch_size=50, shuffle=True))
    tg.manual_seed(3)
    assert _indices_per_epoch(DataLoader(ds, batch_size=50, shuffle=True)) == g1


def test_subset_fast_path_matches_items():
    ds = TensorDataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    sub = Subset(ds, [7, 2, 5])
    fast = sub.__getitems__([0, 2])
    assert fast[0].tolist() == [[14.0, 15.0], [10.0, 11.0]] and fast[1].tolist() == [7, 5]
    assert sub[1][1].item() == 2
    with pytest.raises(IndexError):
        Subset(ds, [10])
    assert not hasattr(Subset(Squares(), [1]), "__getitems__")


def test_random_split():
    ds = TensorDataset(np.arange(10.0))
    g = tg.Generator().manual_seed(0)
    parts = random_split(ds, [3, 7], generator=g)
    assert [len(p) for p in parts] == [3, 7]
    ids = np.concatenate([p.indices for p in parts])
    assert sorted(ids.tolist()) == list(range(10))
    again = random_split(ds, [3, 7], generator=tg.Generator().manual_seed(0))
    assert again[0].indices.tolist() == parts[0].indices.tolist()
    # fractions: floor, then the remainder round-robin (PyTorch's rule)
    assert [len(p) for p in random_split(TensorDataset(np.zeros(11)), [0.5, 0.3, 0.2])] == \
        [6, 3, 2]
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [4, 5])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.2])


# ----------------------------------------------------------------------------- scalers
finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=64)
matrices = hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 4)),
                      elements=finite)


@given(x=matrices)
def test_standard_scaler_round_trip(x):
    s = StandardScaler().fit(x)
    z = s.transform(x)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-9, atol=1e-7)
    varying = x.std(axis=0) > 1e-6 * np.maximum(np.abs(x).max(axis=0), 1)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=0)[varying], 1, rtol=1e-6)


@given(x=matrices, lo=st.floats(-5, 5), width=st.floats(0.5, 10))
def test_minmax_scaler_round_trip(x, lo, width):
    s = MinMaxScaler(feature_range=(lo, lo + width)).fit(x)
    z = s.transform(x)
    np.testing.assert_allclose(s.inverse_transform(z), x, rtol=1e-9, atol=1e-7)
    assert (z >= lo - 1e-9).all() and (z <= lo + width + 1e-9).all()


@given(x=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(0, 1e6)),
       offset=st.sampled_from([1.0, 0.5, 10.0]))
def test_log_scaler_round_trip(x, offset):
    s = LogScaler(offset=offset)
    np.testing.assert_allclose(s.inverse_transform(s.fit_transform(x)), x, rtol=1e-9,
                               atol=1e-9)


def test_scalers_on_seed001_integers():
    """Seed 001: inputs up to 500, products up to 250 000 come out at unit scale."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 500, size=(1000, 2))
    y = (x[:, 0] * x[:, 1]).reshape(-1, 1)
    xs = StandardScaler().fit_transform(x)
    assert xs.dtype == np.float64 and np.abs(xs).max() < 2.0
    ys = MinMaxScaler().fit_transform(y)
    assert ys.min() == 0.0 and ys.max() == 1.0
    logs = StandardScaler().fit_transform(LogScaler().fit_transform(y))
    assert np.abs(logs).max() < 8  # a product of 0 sits ~7 std below the mean of logs


def test_scaler_tensors_in_tensors_out_and_differentiable():
    x = tg.tensor([[1.0, 10.0], [3.0, 30.0]], requires_grad=True)
    s = StandardScaler().fit(x)
    z = s.transform(x)
    assert isinstance(z, tg.Tensor) and z.dtype == np.float32
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(1 / s.scale_, (2, 2)), rtol=1e-6)
    assert isinstance(MinMaxScaler().fit(x).inverse_transform(z.detach()), tg.Tensor)
    lt = LogScaler().transform(tg.tensor([0.0, 9.0]))
    assert isinstance(lt, tg.Tensor) and np.allclose(lt.numpy(), np.log1p([0.0, 9.0]))
    np.testing.assert_allclose(LogScaler(2.0).inverse_transform(LogScaler(2.0).transform(
        tg.tensor([3.0]))).numpy(), [3.0], rtol=1e-6)


def test_scaler_keeps_float32_arrays():
    x = (np.array([1.0, 2.0]) + np.arange(4.0)[:, None]).astype(np.float32)
    assert StandardScaler().fit_transform(x).dtype == np.float32
    assert MinMaxScaler().fit_transform(x).dtype == np.float32


def test_scaler_errors_are_clear():
    with pytest.raises(NotFittedError, match="StandardScaler is not fitted yet.*fit\\(x\\)"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(NotFittedError, match="before inverse_transform"):
        MinMaxScaler().inverse_transform(np.zeros((2, 2)))
    s = StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="fitted on 2 features.*got 3 features"):
        s.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="fitted on 2 features.*got 1-D data"):
        s.inverse_transform(np.zeros(3))
    with pytest.raises(ValueError, match="NaN/inf"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="min < max"):
        MinMaxScaler(feature_range=(1, 0))
    with pytest.raises(ValueError, match="needs x > -1.0.*down to -3.0"):
        LogScaler().fit(np.array([1.0, -3.0]))
    with pytest.raises(ValueError, match="no samples"):
        MinMaxScaler().fit(np.zeros((0, 2)))
    with pytest.raises(TypeError, match="expected numbers"):
        StandardScaler().fit(np.array(["a", "b"]))


def test_constant_feature_and_state_dict():
    x = np.array([[5.0, 1.0], [5.0, 3.0]])
    s = StandardScaler().fit(x)
    assert s.scale_[0] == 1.0 and s.transform(x)[:, 0].tolist() == [0.0, 0.0]
    m = MinMaxScaler().fit(x)
    assert m.transform(x)[:, 0].tolist() == [0.0, 0.0]
    s2 = StandardScaler()
    s2.load_state_dict(s.state_dict())
    np.testing.assert_array_equal(s2.transform(x), s.transform(x))
    assert s2.n_features_in_ == 2 and "not fitted" in repr(StandardScaler())
    log = LogScaler()
    log.load_state_dict(LogScaler(3.0).state_dict())
    assert log.offset == 3.0


def test_pytorchs_path_torch_utils_data_gives_the_same_objects_and_batches() -> None:
    """Code ported from PyTorch imports ``torch.utils.data``; ``tinygrad_edu.utils.data``
    must give the very same classes (isinstance checks, subclassing Dataset) and batches."""
    import tinygrad_edu.utils.data as ported
    from tinygrad_edu import data

    assert set(ported.__all__) == set(data.__all__)
    for name in data.__all__:
        assert getattr(ported, name) is getattr(data, name), name
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    loader = ported.DataLoader(ported.TensorDataset(x, y), batch_size=2)
    assert [yb.tolist() for _, yb in loader] == [[0, 1], [2, 3], [4]]
    assert tg.utils.data.Dataset is data.Dataset
