"""Training steps of plain MLPs with explicit backpropagation instead of autograd.

For the small networks of tabular data, the arithmetic of a step is cheap
and torch's bookkeeping is not: autograd records a graph node for every
operation of the forward pass and walks the graph back, which for a
``(100,)`` network at batch 200 costs about a quarter of the whole step
(measured on one thread: 318 µs per step with autograd, 243 µs with the
gradients written out). scikit-learn writes its gradients out for the same
reason. Here they are written out for every network skmlp builds (linear
layers, batch norm, dropout and any of its activations; plain MLPs and
autoencoders, whose sigmoid output is one more activation) under every loss
skmlp offers; a module of another kind trains through autograd.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ._losses import binary_log_loss, half_poisson_deviance, l1_penalty, per_sample, weighted_mean
from .modules import MLP, Autoencoder, Dropout, weight_parameters

#: SELU is ``scale * ELU(alpha)`` with these constants (torch's)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

#: activation -> (layer, gradient at its output, its output) -> gradient at its
#: input; the kernels autograd itself runs for these activations, all of which
#: differentiate from their output (so they may run in place)
_BACKWARD = {
    nn.ReLU: lambda layer, grad, out: torch.ops.aten.threshold_backward(grad, out, 0),
    nn.LeakyReLU: lambda layer, grad, out: torch.ops.aten.leaky_relu_backward(
        grad, out, layer.negative_slope, True),
    nn.ELU: lambda layer, grad, out: torch.ops.aten.elu_backward(grad, layer.alpha, 1, 1,
                                                                 True, out),
    nn.SELU: lambda layer, grad, out: torch.ops.aten.elu_backward(grad, _SELU_ALPHA,
                                                                  _SELU_SCALE, 1, True, out),
    nn.Tanh: lambda layer, grad, out: torch.ops.aten.tanh_backward(grad, out),
    nn.Sigmoid: lambda layer, grad, out: torch.ops.aten.sigmoid_backward(grad, out),
}


def _prelu_backward(layer, grad, inputs):
    """PReLU's gradient at its input; sets the gradient of its learnt slope."""
    grad_inputs, grad_slope = torch.ops.aten._prelu_kernel_backward(grad, inputs, layer.weight)
    slope = layer.weight
    grad_slope = grad_slope.sum() if slope.numel() == 1 else grad_slope.sum(0)
    slope.grad = grad_slope.reshape(slope.shape)
    return grad_inputs


def _batch_norm_forward(layer, X):
    """A training pass of ``BatchNorm1d`` (running statistics updated as its own
    forward does); returns the output and what the backward pass needs."""
    layer.num_batches_tracked.add_(1)
    factor = (1.0 / float(layer.num_batches_tracked) if layer.momentum is None
              else layer.momentum)
    out, mean, invstd = torch.ops.aten.native_batch_norm(
        X, layer.weight, layer.bias, layer.running_mean, layer.running_var, True, factor,
        layer.eps)
    return out, (X, mean, invstd)


def _batch_norm_backward(layer, grad, saved):
    """``BatchNorm1d``'s gradient at its input; sets those of its scale and shift."""
    inputs, mean, invstd = saved
    grad, layer.weight.grad, layer.bias.grad = torch.ops.aten.native_batch_norm_backward(
        grad, inputs, layer.weight, layer.running_mean, layer.running_var, mean, invstd,
        True, layer.eps, [True, True, True])
    return grad


#: activation -> (layer, gradient at its output, its input) -> gradient at its
#: input, for the activations that differentiate from their input (never run
#: in place)
_BACKWARD_FROM_INPUT = {
    nn.GELU: lambda layer, grad, inputs: torch.ops.aten.gelu_backward(
        grad, inputs, approximate=layer.approximate),
    nn.PReLU: _prelu_backward,
}


#: the losses :func:`_output_gradient` differentiates
_OUTPUT_GRADIENTS = ("cross_entropy", "binary_cross_entropy", "squared_error",
                     "absolute_error", "huber", "poisson")


def _output_gradient(kind, y_pred, y_true, sample_weight):
    """The loss and its gradient with respect to the network's output.

    The loss is :class:`skmlp._losses.WeightedLoss`'s: the mean over every
    element (for the binary cross-entropy, over every sample of the sum over
    its labels), each sample's terms multiplied by its weight.
    """
    reduction = "mean" if sample_weight is None else "none"
    if kind == "cross_entropy":
        log_proba = F.log_softmax(y_pred, dim=1)
        loss = F.nll_loss(log_proba, y_true, reduction=reduction)
        grad = log_proba.exp_()  # softmax, minus one at each row's class:
        grad.scatter_add_(1, y_true.unsqueeze(1), grad.new_full((len(grad), 1), -1.0))
        n_terms = len(grad)
    elif kind == "binary_cross_entropy":  # summed over labels: one term per sample
        loss = binary_log_loss(y_pred, y_true, reduction=reduction)
        grad = torch.sigmoid(y_pred).sub_(y_true)
        n_terms = len(grad)
    elif kind == "absolute_error":
        loss = F.l1_loss(y_pred, y_true, reduction=reduction)
        grad = torch.sign(y_pred - y_true)
        n_terms = grad.numel()
    elif kind == "huber":  # torch's, with delta=1
        loss = F.huber_loss(y_pred, y_true, reduction=reduction)
        grad = (y_pred - y_true).clamp_(-1.0, 1.0)
        n_terms = grad.numel()
    elif kind == "poisson":
        loss = half_poisson_deviance(y_pred, y_true, reduction=reduction)
        grad = torch.exp(y_pred).sub_(y_true)
        n_terms = grad.numel()
    else:  # squared_error
        loss = F.mse_loss(y_pred, y_true, reduction=reduction)
        grad = (y_pred - y_true).mul_(2)
        n_terms = grad.numel()
    if sample_weight is None:
        return loss, grad.mul_(1 / n_terms)
    return (weighted_mean(loss, sample_weight),
            grad.mul_(per_sample(sample_weight, grad) / n_terms))


class ExplicitBackprop:
    """Loss and gradients of an MLP or autoencoder, without autograd.

    Parameters
    ----------
    module : MLP or Autoencoder
        A network whose layers :meth:`supports` accepts.
    kind : {"cross_entropy", "binary_cross_entropy", "squared_error", \
"absolute_error", "huber", "poisson"}
        The training loss, as in :class:`skmlp._losses.WeightedLoss`.
    l1 : float
        L1 penalty on the linear layers' weights, divided by the batch size.
    weight_decay : float
        ``weight_decay * W`` added to the gradient of each linear layer's
        weights (in the same matrix product that computes the gradient).

    Examples
    --------
    >>> import torch
    >>> from skmlp._backprop import ExplicitBackprop
    >>> from skmlp.modules import MLP
    >>> net = MLP(4, 3, (8,), "relu", (0.0,), False)
    >>> step = ExplicitBackprop(net, "cross_entropy")
    >>> y_pred, loss = step(torch.ones(5, 4), torch.zeros(5, dtype=torch.long), None)
    >>> net.layers[0].weight.grad.shape
    torch.Size([8, 4])
    """

    def __init__(self, module, kind, l1=0.0, weight_decay=0.0):
        self.layers = list(module.layers)
        # an MLP's input standardisation: no parameters, so no gradient. Its
        # buffers (set in place) are read here once: looking a buffer up on a
        # module costs about as much as the multiply-add itself (~3 µs a batch)
        self.standardizer = getattr(module, "standardizer", None)
        if self.standardizer is not None:
            self.input_offset = self.standardizer.offset
            self.input_factor = self.standardizer.factor
        self.kind = kind
        self.l1 = l1
        self.weight_decay = weight_decay
        self.weights = weight_parameters(module)[0]

    @staticmethod
    def supports(module, kind):
        """Whether the gradients of ``module`` under loss ``kind`` are written out here."""
        # both apply their ``layers`` one after the other
        return (type(module) in (MLP, Autoencoder)
                and kind in _OUTPUT_GRADIENTS
                and all(isinstance(layer, (nn.Linear, nn.Identity, Dropout))
                        or type(layer) in _BACKWARD or type(layer) in _BACKWARD_FROM_INPUT
                        or (type(layer) is nn.BatchNorm1d and layer.affine
                            and layer.track_running_stats)
                        for layer in module.layers))

    def __call__(self, X, y, sample_weight):
        """Set each parameter's ``.grad``; return the output and the loss.

        The module must be in training mode; gradients are overwritten, not
        accumulated.
        """
        with torch.no_grad():
            if self.standardizer is not None:
                X = (torch.addcmul(self.input_offset, X, self.input_factor)
                     if X.layout == torch.strided else self.standardizer(X))
            saved = []
            for layer in self.layers:
                if isinstance(layer, nn.Linear):
                    saved.append(X)
                    X = torch.addmm(layer.bias, X, layer.weight.t())
                elif isinstance(layer, Dropout):
                    mask = layer.mask_like(X)
                    saved.append(mask)
                    X = X * mask
                elif type(layer) in _BACKWARD_FROM_INPUT:
                    saved.append(X)
                    X = layer(X)
                elif type(layer) is nn.BatchNorm1d:
                    X, for_backward = _batch_norm_forward(layer, X)
                    saved.append(for_backward)
                else:
                    X = layer(X)
                    saved.append(X)
            loss, grad = _output_gradient(self.kind, X, y, sample_weight)
            for position in range(len(self.layers) - 1, -1, -1):
                layer, tensor = self.layers[position], saved[position]
                if isinstance(layer, nn.Linear):
                    layer.weight.grad = torch.addmm(layer.weight, grad.t(), tensor,
                                                    beta=self.weight_decay)
                    layer.bias.grad = grad.sum(0)
                    if position:
                        grad = grad @ layer.weight
                elif isinstance(layer, Dropout):
                    grad = grad.mul_(tensor)  # grad is this step's own tensor
                elif type(layer) in _BACKWARD:
                    grad = _BACKWARD[type(layer)](layer, grad, tensor)
                elif type(layer) in _BACKWARD_FROM_INPUT:
                    grad = _BACKWARD_FROM_INPUT[type(layer)](layer, grad, tensor)
                elif type(layer) is nn.BatchNorm1d:
                    grad = _batch_norm_backward(layer, grad, tensor)
            if self.l1 > 0:
                loss = loss + l1_penalty(self.weights, self.l1, len(X))
                torch._foreach_add_([weight.grad for weight in self.weights],
                                    torch._foreach_sign(self.weights), alpha=self.l1 / len(X))
        return X, loss
