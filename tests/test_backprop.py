"""Explicit backpropagation gives autograd's loss and gradients."""

import copy

import pytest
import torch

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp._backprop import ExplicitBackprop
from skmlp._losses import WeightedLoss
from skmlp.modules import ACTIVATIONS, MLP, Autoencoder


def _targets(kind, n, n_outputs, generator):
    if kind == "cross_entropy":
        return torch.randint(0, n_outputs, (n,), generator=generator)
    if kind == "binary_cross_entropy":
        return torch.randint(0, 2, (n, n_outputs), generator=generator).float()
    if kind == "poisson":
        return torch.poisson(torch.full((n, n_outputs), 2.0), generator=generator)
    return torch.randn(n, n_outputs, generator=generator)


def _autograd(module, kind, l1, weight_decay, X, y, weight):
    module.zero_grad(set_to_none=True)
    y_pred = module(X)
    loss = WeightedLoss(kind)(y_pred, y, weight)
    weights = [m.weight for m in module.modules() if isinstance(m, torch.nn.Linear)]
    loss = loss + l1 * sum(w.abs().sum() for w in weights) / len(X)
    loss = loss + 0.5 * weight_decay * sum((w * w).sum() for w in weights)
    loss.backward()
    return y_pred.detach(), loss.detach(), [p.grad.clone() for p in module.parameters()]


def _check_one_step(module, kind, l1, weight_decay, X, y, weight, *, reference=None):
    """One explicit step on ``module`` gives autograd's output, loss and gradients.

    Autograd runs on ``reference`` (default: ``module`` itself), with the
    same dropout masks.
    """
    torch.manual_seed(1)
    expected = _autograd(module if reference is None else reference, kind, l1, weight_decay,
                         X, y, weight)
    torch.manual_seed(1)
    module.zero_grad(set_to_none=True)
    y_pred, loss = ExplicitBackprop(module, kind, l1, weight_decay)(X, y, weight)
    torch.testing.assert_close(y_pred, expected[0])
    if not weight_decay:  # the L2 penalty is a gradient only, like scikit-learn's
        torch.testing.assert_close(loss, expected[1])
    for grad, wanted in zip([p.grad for p in module.parameters()], expected[2], strict=True):
        torch.testing.assert_close(grad, wanted, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["cross_entropy", "binary_cross_entropy", "squared_error",
                                  "absolute_error", "huber", "poisson"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dropout, weighted, l1, weight_decay", [
    (0.0, False, 0.0, 0.0), (0.3, False, 0.0, 0.0), (0.0, True, 0.0, 0.01),
    (0.2, True, 0.05, 0.1),
])
def test_loss_and_gradients_match_autograd(kind, activation, dropout, weighted, l1,
                                           weight_decay):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    module = MLP(6, 3, (16, 8), activation, (dropout, dropout), False).train()
    X = torch.randn(40, 6, generator=generator)
    y = _targets(kind, 40, 3, generator)
    weight = torch.rand(40, generator=generator) * 3 if weighted else None
    _check_one_step(module, kind, l1, weight_decay, X, y, weight)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("kind", ["cross_entropy", "squared_error"])
def test_gradients_through_the_input_standardisation_match_autograd(kind, batch_norm):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    module = MLP(6, 3, (16, 8), "relu", (0.2, 0.2), batch_norm, standardize_inputs=True).train()
    X = torch.randn(40, 6, generator=generator) * 100 + 30
    module.standardizer.fit_statistics(mean=X.mean(0), scale=X.std(0))
    reference = copy.deepcopy(module)
    _check_one_step(module, kind, 0.0, 0.01, X, _targets(kind, 40, 3, generator), None,
                    reference=reference)


@pytest.mark.parametrize("momentum", [0.1, None])  # None: a cumulative average
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("kind", ["cross_entropy", "squared_error"])
def test_batch_norm_gradients_and_running_statistics_match_autograd(kind, activation,
                                                                    momentum):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    reference = MLP(6, 3, (16, 8), activation, (0.2, 0.2), True).train()
    for layer in reference.layers:
        if isinstance(layer, torch.nn.BatchNorm1d):
            layer.momentum = momentum
    module = copy.deepcopy(reference)
    for _ in range(3):  # the running statistics over several steps
        X = torch.randn(40, 6, generator=generator) * 3 + 1
        y = _targets(kind, 40, 3, generator)
        _check_one_step(module, kind, 0.01, 0.1, X, y, None, reference=reference)
    for (name, buffer), wanted in zip(module.named_buffers(), reference.buffers(),
                                      strict=True):
        torch.testing.assert_close(buffer, wanted, msg=name)


@pytest.mark.parametrize("kind", ["squared_error", "absolute_error"])
@pytest.mark.parametrize("output_activation", [None, "sigmoid"])
@pytest.mark.parametrize("dropout, weighted, l1, weight_decay", [
    (0.0, False, 0.0, 0.0), (0.25, True, 0.05, 0.1)])
def test_autoencoder_loss_and_gradients_match_autograd(kind, output_activation, dropout,
                                                       weighted, l1, weight_decay):
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    module = Autoencoder(6, (16, 8), (8,), 3, "relu", output_activation,
                         (dropout,) * 3, False).train()
    X = torch.rand(40, 6, generator=generator)
    weight = torch.rand(40, generator=generator) * 3 if weighted else None
    _check_one_step(module, kind, l1, weight_decay, X, X, weight)


@pytest.mark.parametrize("module, kind, supported", [
    (MLP(4, 2, (8,), "relu", (0.5,), False), "cross_entropy", True),
    (MLP(4, 2, (), "relu", (), False), "squared_error", True),
    (MLP(4, 2, (8,), "relu", (0.0,), True), "cross_entropy", True),  # batch norm
    (MLP(4, 2, (8,), "gelu", (0.0,), False), "cross_entropy", True),
    (MLP(4, 2, (8,), "prelu", (0.0,), False), "cross_entropy", True),
    (MLP(4, 2, (8,), "relu", (0.0,), False), "absolute_error", True),
    (MLP(4, 2, (8,), "relu", (0.0,), False), "huber", True),
    (Autoencoder(4, (8,), (8,), 2, "relu", None, (0.0, 0.0), False), "squared_error", True),
    (Autoencoder(4, (8,), (8,), 2, "relu", "sigmoid", (0.2, 0.2), False), "squared_error",
     True),
    (Autoencoder(4, (8,), (8,), 2, "relu", None, (0.0, 0.0), True), "squared_error", True),
    (torch.nn.Sequential(torch.nn.Linear(4, 2)), "squared_error", False),
    (Autoencoder(4, (8,), (8,), 2, "relu", None, (0.0, 0.0), False), "absolute_error", True),
])
def test_supported_networks_and_losses(module, kind, supported):
    assert ExplicitBackprop.supports(module, kind) is supported


@pytest.mark.parametrize("Estimator, params, explicit", [
    (MLPClassifier, {}, True),
    (MLPRegressor, {"activation": "tanh"}, True),
    (MLPClassifier, {"activation": "selu"}, True),
    (MLPClassifier, {"activation": "gelu"}, True),
    (MLPClassifier, {"activation": "prelu", "batch_norm": True}, True),
    (MLPClassifier, {"batch_norm": True}, True),
    (MLPRegressor, {"loss": "huber"}, True),
    (MLPRegressor, {"loss": "absolute_error", "activation": "prelu"}, True),
    (MLPRegressor, {"loss": "poisson"}, True),
    (MLPAutoencoder, {}, True),
    (MLPAutoencoder, {"output_activation": "sigmoid", "dropout": 0.1}, True),
    (MLPAutoencoder, {"loss": "absolute_error"}, True),
    (MLPAutoencoder, {"batch_norm": True}, True),
])
def test_estimators_train_through_the_explicit_path_when_supported(Estimator, params,
                                                                   explicit):
    X = torch.randn(60, 4, generator=torch.Generator().manual_seed(0)).numpy()
    y = (X[:, 0] > 0).astype(int)
    if params.get("output_activation") == "sigmoid":
        X = torch.sigmoid(torch.as_tensor(X)).numpy()  # features it can reconstruct
    est = Estimator(max_iter=3, random_state=0, **params).fit(X, y)
    assert (est.net_.explicit_backprop_ is not None) is explicit
    assert est.loss_curve_[-1] < est.loss_curve_[0]
