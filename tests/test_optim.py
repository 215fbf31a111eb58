"""skmlp's optimizers: torch's updates, without the compiler import, and a leaner fused Adam."""

import subprocess
import sys

import pytest
import torch

from skmlp._optim import LBFGS, SGD, Adam, AdamW, RMSprop


def _parameters(seed=0):
    generator = torch.Generator().manual_seed(seed)
    shapes = [(16, 5), (16,), (3, 16), (3,)]
    return [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in shapes]


def _train(optimizer_class, steps=12, step_kwargs=None, **options):
    params = _parameters()
    optimizer = optimizer_class(params, **options)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        for param in params:
            param.grad = torch.randn(param.shape, generator=generator)
        optimizer.step(**(step_kwargs or {}))
        scheduler.step()
    return [param.detach() for param in params], optimizer


@pytest.mark.parametrize("options", [
    dict(lr=1e-2, fused=True),
    dict(lr=3e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, fused=True),
    dict(lr=1e-2, fused=True, amsgrad=True),  # torch's own step
    dict(lr=1e-2, foreach=True),  # torch's own step
])
def test_updates_are_bit_identical_to_torch_adam(options):
    ours, _ = _train(Adam, **options)
    theirs, _ = _train(torch.optim.Adam, **options)
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)


def test_parameter_groups_of_their_own_rates_update_as_torch_adam_does():
    def train(optimizer_class):
        weights, biases = _parameters()[0::2], _parameters()[1::2]
        optimizer = optimizer_class([{"params": weights}, {"params": biases, "lr": 1e-1}],
                                    lr=1e-2, fused=True)
        generator = torch.Generator().manual_seed(1)
        for _ in range(5):
            for param in weights + biases:
                param.grad = torch.randn(param.shape, generator=generator)
            optimizer.step()
        return optimizer, weights + biases

    ours, mine = train(Adam)
    assert ours._kernel_tensors() is None  # the lean step takes one group only
    for param, reference in zip(mine, train(torch.optim.Adam)[1], strict=True):
        torch.testing.assert_close(param, reference, rtol=0, atol=0)


@pytest.mark.parametrize("ours, theirs, options", [
    (AdamW, torch.optim.AdamW, dict(lr=1e-2, weight_decay=0.1, fused=True)),
    (SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9, nesterov=True, fused=True)),
    (RMSprop, torch.optim.RMSprop, dict(lr=1e-3, momentum=0.9)),
])
def test_other_solvers_update_bit_identically_to_torchs(ours, theirs, options):
    for mine, reference in zip(_train(ours, **options)[0], _train(theirs, **options)[0],
                               strict=True):
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)


def test_lbfgs_steps_bit_identically_to_torchs():
    # its in-place updates of leaf parameters would fail if the step ran with autograd on
    def run(optimizer_class):
        params = _parameters()
        optimizer = optimizer_class(params, lr=1.0, max_iter=3, line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = sum((param ** 2 * torch.arange(param.numel()).view(param.shape)).sum()
                       for param in params)
            loss.backward()
            return loss

        for _ in range(3):
            optimizer.step(closure)
        return [param.detach() for param in params], optimizer.state_dict()

    ours, our_state = run(LBFGS)
    theirs, their_state = run(torch.optim.LBFGS)
    for mine, reference in zip(ours, theirs, strict=True):
        torch.testing.assert_close(mine, reference, rtol=0, atol=0)
    assert our_state["state"][0]["n_iter"] == their_state["state"][0]["n_iter"] > 1


def test_training_never_imports_torchs_compiler():
    # torch._dynamo takes over a second to import; the first fit of a process
    # (each search or joblib worker's) used to pay it
    code = """
import pickle, sys, warnings
import numpy as np
from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
warnings.simplefilter("ignore")
X = np.random.default_rng(0).normal(size=(60, 4))
y = (X[:, 0] > 0).astype(int)
for solver in ("adam", "adamw", "sgd", "rmsprop", "lbfgs"):
    for schedule in ("constant", "cosine", "plateau"):
        params = dict(solver=solver, learning_rate=schedule, max_iter=2, dropout=0.0)
        for estimator in (MLPClassifier(batch_norm=True, early_stopping=True, **params),
                          MLPRegressor(activation="gelu", loss="huber", **params),
                          MLPAutoencoder(latent_dim=2, **params)):
            restored = pickle.loads(pickle.dumps(estimator.fit(X, y)))
            if solver != "lbfgs" and not restored.early_stopping:
                restored.partial_fit(X, y)
print(sorted(name for name in sys.modules if name.startswith("torch._dynamo")))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[]"


def test_lean_step_is_taken_once_the_state_exists():
    params = _parameters()
    optimizer = Adam(params, lr=1e-2, fused=True)
    for param in params:
        param.grad = torch.ones_like(param)
    assert optimizer._kernel_tensors() is None  # no state yet: torch's step creates it
    optimizer.step()
    assert optimizer._kernel_tensors() is not None
    assert Adam(params, lr=1e-2, fused=True, amsgrad=True)._kernel_tensors() is None


def test_step_hooks_and_closures_still_run():
    params = _parameters()
    optimizer = Adam(params, lr=1e-2, fused=True)
    calls = []
    optimizer.register_step_pre_hook(lambda *args: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *args: calls.append("post"))

    def closure():
        calls.append("closure")
        for param in params:
            param.grad = torch.ones_like(param)
        return torch.tensor(0.0)

    optimizer.step(closure)  # creates the state
    optimizer.step()  # the lean step
    assert calls == ["pre", "closure", "post", "pre", "post"]


def test_state_moves_between_torch_adam_and_ours():
    _, theirs = _train(torch.optim.Adam, steps=5, lr=1e-2, fused=True)
    params = _parameters()
    ours = Adam(params, lr=1e-2, fused=True)
    ours.load_state_dict(theirs.state_dict())
    assert ours._kernel_tensors() is None  # no gradients yet
    for param in params:
        param.grad = torch.ones_like(param)
    assert ours._kernel_tensors() is not None
