"""PyTorch modules built from an estimator's architecture parameters."""

import inspect

import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


def _activation_layer(name):
    """The activation module ``name``, computed in place where torch can.

    In place, the activation reuses the buffer of the layer before it instead
    of allocating one as large: prediction in batches of 8192 rows ran about
    a third faster. Every activation torch offers in place keeps its backward
    pass correct when its input is the output of a linear or batch-norm layer.
    """
    layer = ACTIVATIONS[name]
    return layer(inplace=True) if "inplace" in inspect.signature(layer).parameters else layer()


def _glorot_uniform_(linear, activation):
    """Initialise a linear layer as scikit-learn's MLP does.

    Weights and biases are drawn from ``U(-b, b)`` with
    ``b = sqrt(f / (fan_in + fan_out))``, ``f = 2`` for the logistic
    activation and 6 otherwise (Glorot & Bengio, 2010). torch's default,
    ``U(±1/sqrt(fan_in))``, starts narrow-input layers several times wider and
    wide-input output layers narrower.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    bound = (factor / (linear.in_features + linear.out_features)) ** 0.5
    nn.init.uniform_(linear.weight, -bound, bound)
    nn.init.uniform_(linear.bias, -bound, bound)


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` with a faster path on the CPU.

    torch draws CPU dropout masks with ``bernoulli_``, about three times
    slower than drawing uniform numbers and comparing them with ``p``
    (measured on one thread for a 200 x 128 batch: 265 vs 92 µs); at that
    cost dropout doubled the training step of a ``(128, 128)`` network.
    The distribution is the same: a unit is kept when its uniform draw is at
    least ``p``, and kept units are scaled by ``1 / (1 - p)``. On other
    devices, torch's fused kernel is used as it is.

    Examples
    --------
    >>> import torch
    >>> from skmlp.modules import Dropout
    >>> _ = torch.manual_seed(0)
    >>> out = Dropout(0.25)(torch.ones(100_000))
    >>> sorted(out.unique().tolist()), round(float((out == 0).float().mean()), 2)
    ([0.0, 1.3333333730697632], 0.25)
    """

    def forward(self, X):
        if not self.training or self.p == 0 or X.device.type != "cpu":
            return super().forward(X)
        return X * self.mask_like(X)

    def mask_like(self, X):
        """The factor of one training pass: 0 where a unit drops, ``1 / (1 - p)`` elsewhere."""
        # in place: the comparison writes 1.0 or 0.0 into the uniform draws
        return torch.rand_like(X).ge_(self.p).mul_(1 / (1 - self.p))


class Standardize(nn.Module):
    """``(X - mean) / scale`` per column, computed as ``X * factor + offset``.

    ``factor = 1 / scale`` and ``offset = -mean / scale`` are buffers that
    start as the identity (1 and 0) and are set once, from the training data,
    by the estimator that owns the network (:meth:`fit_statistics`); a warm
    start or a pickle keeps them with the weights. One fused multiply-add:
    it runs on every training batch.

    Sparse batches (text counts, one-hot codes) pass through unchanged while
    the statistics are the identity, which they stay for sparse training
    data: centring would make them dense. A network whose statistics were
    set makes them dense first.

    Parameters
    ----------
    n_features : int
        Width of the input.

    Examples
    --------
    >>> import torch
    >>> from skmlp.modules import Standardize
    >>> layer = Standardize(2).fit_statistics(mean=[1.0, 10.0], scale=[2.0, 5.0])
    >>> layer(torch.tensor([[3.0, 0.0]]))
    tensor([[ 1., -2.]])
    >>> layer.inverse(torch.tensor([[1.0, -2.0]]))
    tensor([[3., 0.]])
    """

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("factor", torch.ones(n_features))
        self.register_buffer("offset", torch.zeros(n_features))

    def fit_statistics(self, mean, scale):
        """Standardise with these column means and scales (in float64, then
        stored as the buffers' float32); returns self.

        A column whose factor or offset float32 cannot hold (a spread below
        ~3e-39, which float32 data cannot resolve anyway) is left as it is.
        """
        mean, scale = (torch.as_tensor(v, dtype=torch.float64) for v in (mean, scale))
        factor, offset = 1 / scale, -mean / scale
        largest = torch.finfo(self.factor.dtype).max
        held = (factor.abs() <= largest) & (offset.abs() <= largest)
        with torch.no_grad():
            self.factor.copy_(torch.where(held, factor, 1.0))
            self.offset.copy_(torch.where(held, offset, 0.0))
        return self

    def forward(self, X):
        if X.layout != torch.strided:
            if not (self.offset.any() or self.factor.ne(1).any()):
                return X
            X = X.to_dense()
        # a new tensor: X may share memory with the caller's array
        return torch.addcmul(self.offset, X, self.factor)

    def inverse(self, X):
        """Standardised rows back in the units of the input (dense ``X``)."""
        return (X - self.offset) / self.factor


class MLP(nn.Module):
    """A stack of hidden blocks followed by a linear output layer.

    Each hidden block is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``;
    with ``standardize_inputs``, the input is standardised first (:class:`Standardize`).

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_outputs : int
        Width of the output layer (raw scores: logits or standardised targets).
    hidden_layer_sizes : tuple of int
        Width of each hidden layer; empty for a linear model.
    activation : str
        Key of :data:`ACTIVATIONS`.
    dropout : tuple of float
        Dropout probability after each hidden layer (same length as
        ``hidden_layer_sizes``).
    batch_norm : bool
        Whether to normalise each hidden layer's pre-activations.
    init : {"torch", "glorot"}, default="torch"
        How the linear layers start: torch's default, or scikit-learn's
        Glorot uniform initialisation (biases included).
    standardize_inputs : bool, default=False
        Standardise the input with a :class:`Standardize` layer
        (:attr:`standardizer`; None without), before :attr:`layers`.

    Examples
    --------
    >>> import torch
    >>> from skmlp.modules import MLP
    >>> net = MLP(4, 3, hidden_layer_sizes=(8,), activation="relu",
    ...           dropout=(0.0,), batch_norm=False)
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_outputs, hidden_layer_sizes, activation,
                 dropout, batch_norm, init="torch", standardize_inputs=False):
        super().__init__()
        # apart from ``layers``: the layers a gradient flows back through
        self.standardizer = Standardize(n_features) if standardize_inputs else None
        layers = []
        width = n_features
        for size, p in zip(hidden_layer_sizes, dropout, strict=True):
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(_activation_layer(activation))
            if p > 0:
                layers.append(Dropout(p))
            width = size
        layers.append(nn.Linear(width, n_outputs))
        if init == "glorot":
            for layer in layers:
                if isinstance(layer, nn.Linear):
                    _glorot_uniform_(layer, activation)
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        if self.standardizer is not None:
            X = self.standardizer(X)
        return self.layers(X)


def weight_parameters(module):
    """Split a module's parameters into (linear weights, everything else).

    scikit-learn's ``alpha`` penalises the connection weights only, never
    biases; batch-norm scales and PReLU slopes are left alone as well.
    """
    weights, others = [], []
    for sub in module.modules():
        for name, param in sub.named_parameters(recurse=False):
            is_weight = isinstance(sub, nn.Linear) and name == "weight"
            (weights if is_weight else others).append(param)
    return weights, others


def count_parameters(module):
    """Number of trainable scalars in ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class Autoencoder(nn.Module):
    """An MLP encoder to a linear bottleneck and an MLP decoder back.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    encoder_sizes, decoder_sizes : tuple of int
        Hidden widths of the encoder and of the decoder.
    latent_dim : int
        Width of the bottleneck (the codes).
    activation : str
        Key of :data:`ACTIVATIONS`, for every hidden layer.
    output_activation : {None, "sigmoid"}
        Applied to the reconstruction; ``"sigmoid"`` suits inputs in [0, 1].
    dropout : tuple of float
        Dropout after each hidden layer, encoder then decoder.
    batch_norm : bool
        Batch norm in every hidden block.

    Examples
    --------
    >>> from skmlp.modules import Autoencoder, count_parameters
    >>> net = Autoencoder(1000, (512,), (512,), 32, "relu", "sigmoid",
    ...                   (0.0, 0.0), False)
    >>> count_parameters(net)
    1058824
    """

    def __init__(self, n_features, encoder_sizes, decoder_sizes, latent_dim, activation,
                 output_activation, dropout, batch_norm):
        super().__init__()
        n_encoder = len(encoder_sizes)
        self.encoder = MLP(n_features, latent_dim, encoder_sizes, activation,
                           dropout[:n_encoder], batch_norm)
        decoder = MLP(latent_dim, n_features, decoder_sizes, activation,
                      dropout[n_encoder:], batch_norm)
        self.decoder = (nn.Sequential(decoder, nn.Sigmoid()) if output_activation == "sigmoid"
                        else decoder)

    def forward(self, X):
        return self.decoder(self.encoder(X))

    @property
    def layers(self):
        """Every layer in the order ``forward`` applies them: encoder, decoder, output."""
        decoder, output = self.decoder, []
        if isinstance(decoder, nn.Sequential):  # the decoder MLP, then the sigmoid
            decoder, output = decoder[0], [decoder[1]]
        return [*self.encoder.layers, *decoder.layers, *output]
