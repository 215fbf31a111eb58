"""The batch-level data path: where data is kept, and how batches reach the model."""

import pytest
import scipy.sparse as sp
import torch

from skmlp import _data
from skmlp._data import SparseRows, TensorBatches, TensorData, storage_device


@pytest.fixture
def gpu_with_free_bytes(monkeypatch):
    def set_free(free):
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 2 * free))
    return set_free


def test_data_stays_on_the_gpu_when_it_fits_in_half_its_free_memory(gpu_with_free_bytes):
    gpu_with_free_bytes(1000)
    assert storage_device(500, "cuda") == "cuda"
    assert storage_device(501, "cuda:1") == "cpu"
    assert _data.DATA_SHARE_OF_FREE_MEMORY == 0.5


def test_cpu_models_keep_their_data_on_the_cpu():
    assert storage_device(10**15, "cpu") == "cpu"


def _data_set(n=10):
    X = torch.arange(3.0 * n).reshape(n, 3)
    return TensorData(X, torch.arange(n), torch.ones(n))


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_of_data_kept_elsewhere_are_copied_to_the_model_device(shuffle):
    data = _data_set()
    # "meta" stands in for a GPU: a device other than the one the data is on
    batches = list(TensorBatches(data, 4, shuffle=shuffle, generator=torch.Generator(),
                                 device="meta"))
    assert [len(X) for X, _, _ in batches] == [4, 4, 2]
    for batch in batches:
        assert all(t.device.type == "meta" for t in batch)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_on_the_model_device_are_the_data_itself(shuffle):
    data = _data_set()
    moved = TensorBatches(data, 4, shuffle=shuffle, generator=torch.Generator().manual_seed(0),
                          device="cpu")
    kept = TensorBatches(data, 4, shuffle=shuffle, generator=torch.Generator().manual_seed(0))
    for a, b in zip(moved, kept, strict=True):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("n, sizes", [(9, [4, 5]), (10, [4, 4, 2]), (5, [5]), (1, [1])])
def test_a_row_left_over_joins_the_last_batch_when_single_rows_are_barred(shuffle, n, sizes):
    data = _data_set(n)
    batches = list(TensorBatches(data, 4, shuffle=shuffle, generator=torch.Generator(),
                                 no_single_rows=True))
    assert [len(X) for X, _, _ in batches] == sizes
    rows = torch.cat([y for _, y, _ in batches])
    assert sorted(rows.tolist()) == list(range(n))  # every row once
    plain = TensorBatches(data, 4)
    assert [len(X) for X, _, _ in plain] == [min(4, n - lo) for lo in range(0, n, 4)]


def test_an_autoencoders_batches_share_one_tensor_after_the_copy():
    X = torch.arange(12.0).reshape(4, 3)
    (X_batch, y_batch, weight), = TensorBatches(TensorData(X, X), 4, shuffle=True,
                                                generator=torch.Generator(), device="meta")
    assert y_batch is X_batch and weight is None


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("up_to_density, layout", [(1.0, torch.sparse_csr),
                                                   (0.1, torch.strided)])
def test_sparse_features_give_the_dense_batches(shuffle, up_to_density, layout, monkeypatch):
    # a density of 0.3: sparse batches up to a density of 1, dense ones up to 0.1
    monkeypatch.setattr(_data, "SPARSE_BATCHES_UP_TO_DENSITY", up_to_density)
    dense = torch.arange(30.0).reshape(10, 3) % 4 * (torch.arange(30).reshape(10, 3) % 3 == 0)
    sparse = TensorData(SparseRows(sp.csc_matrix(dense.numpy())), torch.arange(10))
    batches = [TensorBatches(data, 4, shuffle=shuffle,
                             generator=torch.Generator().manual_seed(0))
               for data in (sparse, TensorData(dense, torch.arange(10)))]
    for (X_sparse, y_a, _), (X_dense, y_b, _) in zip(*batches, strict=True):
        assert X_sparse.layout == layout and X_sparse.dtype == torch.float32
        assert torch.equal(X_sparse.to_dense(), X_dense) and torch.equal(y_a, y_b)
    rows = sparse.X
    assert [part.shape[0] for part in rows.split(4)] == [4, 4, 2]
    assert torch.equal(torch.cat([part.to_dense() for part in rows.split(3)]), dense)
    with pytest.raises(ValueError, match="rows only"):
        rows.index_select(1, torch.tensor([0]))


def test_sparse_batches_are_made_dense_for_other_devices_than_the_cpu(monkeypatch):
    monkeypatch.setattr(_data, "SPARSE_BATCHES_UP_TO_DENSITY", 1.0)
    rows = SparseRows(sp.eye(6, 3, format="csr"))
    to_meta = list(TensorBatches(TensorData(rows, torch.arange(6)), 4, device="meta"))
    assert [(X.layout, X.device.type, X.shape[0]) for X, _, _ in to_meta] == [
        (torch.strided, "meta", 4), (torch.strided, "meta", 2)]
    (X, _, _), = TensorBatches(TensorData(rows, torch.arange(6)), 6, device="cpu")
    assert X.layout == torch.sparse_csr


def test_dense_batches_of_sparse_rows_stay_within_their_budget(monkeypatch):
    monkeypatch.setattr(_data, "DENSE_BATCH_VALUES", 12)
    dense_rows = SparseRows(sp.csr_matrix(torch.ones(10, 5).numpy()))
    assert [tuple(part.shape) for part in dense_rows.split(8192)] == [(2, 5)] * 5
    sparse_rows = SparseRows(sp.eye(100, 50, format="csr"))  # sparse batches: no budget
    assert [part.shape[0] for part in sparse_rows.split(64)] == [64, 36]
