"""torch's optimizers for eager training: no compiler import, and a leaner fused Adam."""

import inspect

import torch

_OPTIONS_OFF = ("amsgrad", "maximize", "capturable", "differentiable")


class _Eager:
    """Mixin: a torch optimizer's methods without their ``torch._dynamo`` wrappers.

    torch wraps ``add_param_group``, ``zero_grad``, ``state_dict`` and
    ``load_state_dict`` so that ``torch.compile`` leaves them alone, and every
    optimizer's ``step`` so that compiled graphs break around it. Each
    wrapper imports ``torch._dynamo`` on its first call, which takes about
    1.3 s: the first fit of every process (every joblib or search worker
    too) paid it, more than a whole fit of a small data set. skmlp trains
    eagerly and never compiles its optimizers, so these classes call the
    wrapped functions directly; ``step`` keeps the one thing its wrapper
    does outside a compiler, running without autograd unless the optimizer
    is ``differentiable``.
    """

    add_param_group = inspect.unwrap(torch.optim.Optimizer.add_param_group)
    zero_grad = inspect.unwrap(torch.optim.Optimizer.zero_grad)
    state_dict = inspect.unwrap(torch.optim.Optimizer.state_dict)
    load_state_dict = inspect.unwrap(torch.optim.Optimizer.load_state_dict)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the torch optimizer's own step, unwrapped once per class, not per
        # batch (unwrap also goes through the hook dispatcher torch may have
        # put around it)
        cls._torch_step = inspect.unwrap(super(_Eager, cls).step)

    def step(self, closure=None):
        """One update of the torch optimizer this class extends."""
        with torch.set_grad_enabled(self.defaults.get("differentiable", False)):
            return self._torch_step(closure)


class AdamW(_Eager, torch.optim.AdamW):
    """:class:`torch.optim.AdamW` without the compiler import (see ``_Eager``)."""


class SGD(_Eager, torch.optim.SGD):
    """:class:`torch.optim.SGD` without the compiler import (see ``_Eager``)."""


class RMSprop(_Eager, torch.optim.RMSprop):
    """:class:`torch.optim.RMSprop` without the compiler import (see ``_Eager``)."""


class LBFGS(_Eager, torch.optim.LBFGS):
    """:class:`torch.optim.LBFGS` without the compiler import (see ``_Eager``)."""


class Adam(_Eager, torch.optim.Adam):
    """:class:`torch.optim.Adam` whose fused steps skip the per-call bookkeeping.

    With ``fused=True``, torch's ``Adam.step`` takes about 42 µs for a
    ``(100,)`` network on one thread, of which the update kernel takes 5 µs
    and the step counters 7 µs; the rest is Python that re-reads the
    options and groups the tensors by device and dtype at every call. Once
    every parameter has its state, this class calls the same kernel,
    ``torch._fused_adam_``, directly with the same arguments (27 µs in all),
    so the update is bit for bit torch's. Step hooks still run: torch wraps
    every optimizer's ``step`` with them.

    Every other case goes through torch's own ``step``: the first step
    (which creates the state), a closure, several parameter groups, tensor
    hyperparameters, gradient scaling, and any of ``amsgrad``,
    ``maximize``, ``capturable``, ``differentiable`` or decoupled weight
    decay.

    Examples
    --------
    >>> import torch
    >>> from skmlp._optim import Adam
    >>> weight = torch.nn.Parameter(torch.ones(3))
    >>> optimizer = Adam([weight], lr=0.1, fused=True)
    >>> for _ in range(2):
    ...     weight.grad = torch.ones(3)
    ...     optimizer.step()
    >>> weight.detach()
    tensor([0.8000, 0.8000, 0.8000])
    """

    def step(self, closure=None):
        """One update; see :meth:`torch.optim.Adam.step`."""
        tensors = None if closure is not None else self._kernel_tensors()
        if tensors is None:
            return super().step(closure)
        params, grads, exp_avgs, exp_avg_sqs, steps = tensors
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False,
                           lr=group["lr"], beta1=beta1, beta2=beta2,
                           weight_decay=group["weight_decay"], eps=group["eps"],
                           maximize=False, grad_scale=None, found_inf=None)
        return None

    def _kernel_tensors(self):
        """The kernel's tensor lists when the lean step applies, else None."""
        if len(self.param_groups) != 1:
            return None
        group = self.param_groups[0]
        if (not group["fused"] or any(group[option] for option in _OPTIONS_OFF)
                or group.get("decoupled_weight_decay", False)
                or not all(isinstance(group[key], float) for key in ("lr", "eps"))
                or not all(isinstance(beta, float) for beta in group["betas"])
                or getattr(self, "grad_scale", None) is not None
                or getattr(self, "found_inf", None) is not None):
            return None
        params = [p for p in group["params"] if p.grad is not None]
        states = [self.state.get(p) for p in params]
        if not params or not all(states):
            return None
        return (params, [p.grad for p in params], [s["exp_avg"] for s in states],
                [s["exp_avg_sq"] for s in states], [s["step"] for s in states])
