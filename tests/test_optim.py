"""skmlp's Adam: torch's fused update with less Python around it."""

import pytest
import torch

from skmlp._optim import Adam


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
