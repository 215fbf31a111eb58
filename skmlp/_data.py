"""Batch-level data path: whole tensors in, index-sliced batches out.

skorch's default ``DataLoader`` fetches one row at a time through
``Dataset.__getitem__`` and collates rows back into a batch, which costs
more than the forward and backward pass of a small tabular network. Here the
data is converted to tensors (and moved to the device, when it fits there)
once per ``fit``, and every batch is a single indexing operation.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch

_NUMPY_DTYPES = {torch.float32: np.float32, torch.int64: np.int64}

#: Share of a GPU's free memory that data may take there; the rest is left to
#: the weights, the optimizer state and the activations of a batch.
DATA_SHARE_OF_FREE_MEMORY = 0.5


def storage_device(n_bytes, device):
    """Where to keep ``n_bytes`` of data for a model on ``device``.

    On a GPU the data is kept on the GPU when it fits in
    :data:`DATA_SHARE_OF_FREE_MEMORY` of the free memory, so that it moves
    there once; otherwise it stays in host memory and each batch is copied
    over (:class:`TensorBatches`). Any other device keeps it where the model is.
    """
    if not str(device).startswith("cuda"):
        return device
    free, _ = torch.cuda.mem_get_info(device)
    return device if n_bytes <= DATA_SHARE_OF_FREE_MEMORY * free else "cpu"


def as_stored_tensor(array, device):
    """Features as a tensor where a model on ``device`` keeps its data.

    See :func:`storage_device`: on the device when it fits there, else in
    host memory, from where each batch is copied over. A sparse matrix stays
    sparse in host memory (:func:`as_tensor`).
    """
    return as_tensor(array, storage_device(array.size * 4, device))


def features_to(X, device):
    """A batch of features on ``device``.

    Sparse batches stay sparse on the CPU only: elsewhere they are made
    dense first, as the sparse products of training are tested on the CPU.
    """
    if X.layout == torch.sparse_csr and torch.device(device).type != "cpu":
        X = X.to_dense()
    return X.to(device)


#: Density (share of non-zeros) up to which batches of sparse rows stay
#: sparse; denser ones are made dense, as a dense product is then faster
#: (a ``(100,)`` network, 5 epochs on 5,000 rows: sparse batches took 0.5x
#: the time of dense data at 1% density, 1.3x-1.7x at 5%, 2.3x-3.1x at 20%).
SPARSE_BATCHES_UP_TO_DENSITY = 0.03

#: Most values a dense batch of sparse rows may hold (64 MiB of float32), so
#: that prediction batches of wide data stay small.
DENSE_BATCH_VALUES = 2 ** 24


class SparseRows:
    """The rows of a sparse matrix, handed out as batches for the network.

    Stands in for the feature tensor of sparse input (text counts, one-hot
    codes) wherever batches are cut: the matrix stays sparse in host memory.
    Up to :data:`SPARSE_BATCHES_UP_TO_DENSITY` each batch reaches the first
    linear layer as a torch sparse CSR tensor, which multiplies only its
    non-zeros (as scikit-learn's perceptrons do); denser matrices give dense
    batches.

    Parameters
    ----------
    matrix : scipy sparse matrix or array of shape (n_samples, n_features)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from skmlp._data import SparseRows
    >>> rows = SparseRows(sp.eye(40, format="csr"))
    >>> rows[1:3].layout, rows[1:3].to_dense()[:, :4]
    (torch.sparse_csr, tensor([[0., 1., 0., 0.],
            [0., 0., 1., 0.]]))
    """

    device = torch.device("cpu")

    def __init__(self, matrix):
        # CSR: row slices and row selections are cheap
        self.matrix = sp.csr_matrix(matrix, dtype=np.float32)
        n_rows, n_columns = self.matrix.shape
        self.sparse_batches = (self.matrix.nnz
                               <= SPARSE_BATCHES_UP_TO_DENSITY * n_rows * n_columns)

    def __len__(self):
        return self.matrix.shape[0]

    @property
    def shape(self):
        return self.matrix.shape

    def __getitem__(self, rows):
        part = self.matrix[rows]
        if not self.sparse_batches:
            return torch.from_numpy(part.toarray())
        with warnings.catch_warnings():
            # torch calls its sparse CSR layout beta; the products used here
            # (a batch times the first layer's weights, and the weight
            # gradient) are tested against the dense ones
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            return torch.sparse_csr_tensor(
                torch.from_numpy(part.indptr.astype(np.int64)),
                torch.from_numpy(part.indices.astype(np.int64)),
                torch.from_numpy(part.data), size=part.shape, check_invariants=False)

    def index_select(self, dim, index):
        """Rows ``index`` (``dim`` must be 0), as :meth:`torch.Tensor.index_select`."""
        if dim != 0:
            raise ValueError("SparseRows selects rows only (dim=0).")
        return self[index.cpu().numpy()]

    def split(self, size):
        """Consecutive batches of ``size`` rows, as :meth:`torch.Tensor.split`.

        Dense batches hold at most :data:`DENSE_BATCH_VALUES` values, so
        fewer rows when ``size`` of them would be more.
        """
        if not self.sparse_batches:
            size = max(1, min(size, DENSE_BATCH_VALUES // max(1, self.shape[1])))
        return (self[lo:lo + size] for lo in range(0, len(self), size))


def as_tensor(array, device, dtype=torch.float32):
    """Convert a numpy array to a tensor on ``device`` without needless copies.

    Read-only arrays (memory maps, for example) are copied, because torch
    cannot share memory it may not write to. A sparse matrix of features
    becomes :class:`SparseRows` instead, which stays in host memory.
    """
    if sp.issparse(array):
        return SparseRows(array)
    array = np.require(array, dtype=_NUMPY_DTYPES[dtype], requirements=["C", "W"])
    return torch.from_numpy(array).to(device)


class TensorData:
    """Features, targets and sample weights of one data set, as tensors.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
    y : torch.Tensor or None
        Targets in the form the loss expects; ``X`` itself when the model
        reconstructs its input (batches then share one tensor).
    sample_weight : torch.Tensor of shape (n_samples,) or None
    """

    def __init__(self, X, y=None, sample_weight=None):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.X)


class TensorBatches:
    """Iterate over a :class:`TensorData` in batches by tensor indexing.

    Each batch is a tuple ``(X, y, sample_weight)``; ``y`` and
    ``sample_weight`` are None when the data has none.

    Parameters
    ----------
    data : TensorData
    batch_size : int
    shuffle : bool
        Draw a new permutation of the rows at every pass.
    generator : torch.Generator or None
        Source of the permutations, so that shuffling follows the
        estimator's ``random_state`` and nothing else.
    device : str or None
        Where the batches are needed. Data kept elsewhere (in host memory,
        for a GPU model whose data does not fit on the GPU) is copied there
        batch by batch; None keeps the batches where the data is.
    no_single_rows : bool
        When the rows leave one over after the full batches, add it to the
        last full batch instead of making it a batch of its own: batch norm
        has no statistics for one row.
    """

    def __init__(self, data, batch_size, shuffle=False, generator=None, device=None,
                 no_single_rows=False):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.device = device
        self.no_single_rows = no_single_rows

    def _bounds(self):
        """``(start, stop)`` of each batch."""
        starts = list(range(0, len(self.data), self.batch_size))
        stops = starts[1:] + [len(self.data)]
        if self.no_single_rows and len(starts) > 1 and stops[-1] - starts[-1] == 1:
            del starts[-1], stops[-2]
        return zip(starts, stops, strict=True)

    def __iter__(self):
        batches = self._batches()
        if self.device is None or self.data.X.device == torch.device(self.device):
            yield from batches
            return
        reconstructs = self.data.y is self.data.X
        for X_batch, y_batch, weight in batches:
            X_batch = features_to(X_batch, self.device)
            yield (X_batch,
                   X_batch if reconstructs else None if y_batch is None
                   else y_batch.to(self.device),
                   None if weight is None else weight.to(self.device))

    def _batches(self):
        data = self.data
        tensors = (data.X, data.y, data.sample_weight)
        if not self.shuffle:
            for lo, hi in self._bounds():
                yield tuple(None if t is None else t[lo:hi] for t in tensors)
            return
        # index_select per batch: cheaper than fancy indexing, and than
        # permuting the whole data once per epoch, which misses the cache on
        # large data (measured at 1M x 20: 74 ms vs 169 ms vs 183 ms per epoch)
        order = torch.randperm(len(data), generator=self.generator).to(data.X.device)
        X, y, weight = tensors
        for lo, hi in self._bounds():
            index = order[lo:hi]
            X_batch = X.index_select(0, index)
            yield (X_batch,
                   X_batch if y is X else None if y is None else y.index_select(0, index),
                   None if weight is None else weight.index_select(0, index))
