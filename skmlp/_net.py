"""A skorch ``NeuralNet`` with a lean, batch-level training loop.

What is kept from skorch: module/criterion/optimizer initialisation, the
callback protocol (``on_train_*``, ``on_epoch_*``), the ``History`` object,
``set_params`` re-initialisation and pickling (including GPU -> CPU).

What is replaced, for speed: the data path (:mod:`skmlp._data` instead of a
row-wise ``DataLoader``), and the per-batch bookkeeping. skorch records each
batch's loss with ``.item()`` (a host sync) and notifies every callback
per batch; here batch losses stay on the device until the epoch ends, and
batch-level hooks are called only when a callback actually implements one.
Networks that :class:`skmlp._backprop.ExplicitBackprop` supports get their
gradients written out instead of recorded by autograd.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, Checkpoint, EpochTimer, LRScheduler, TrainEndCheckpoint
from skorch.history import History
from torch import nn

from ._backprop import ExplicitBackprop
from ._data import SparseRows, TensorBatches, as_stored_tensor, features_to
from ._losses import l1_penalty
from .modules import weight_parameters

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_grad_computed")

#: Attributes set by ``_prepare_training``
_TRAINING_VIEWS = ("weights_", "trained_params_", "explicit_backprop_")

#: Rows per forward pass at prediction and validation time.
PREDICT_BATCH_SIZE = 8192


def _implements_batch_hooks(callback):
    if isinstance(callback, LRScheduler) and callback.step_every == "epoch":
        return False  # its on_batch_end returns at once unless it steps per batch
    if isinstance(callback, (Checkpoint, TrainEndCheckpoint)):
        return True  # file names are formatted with the epoch's last batch record
    return any(getattr(type(callback), hook) is not getattr(Callback, hook)
               for hook in _BATCH_HOOKS)


class EpochHistory(History):
    """skorch's :class:`~skorch.history.History`, with the last epoch read and written in place.

    skorch's ``record`` and ``history[-1, key]`` go through its general
    indexing, which first copies the whole list of epochs: in a long run of
    ``partial_fit`` calls, one epoch each, every record cost more than the
    one before. Other indexing is skorch's.
    """

    def record(self, attr, value):
        if not self:
            super().record(attr, value)  # raises skorch's error: no epoch yet
        else:
            list.__getitem__(self, -1)[attr] = value

    def __getitem__(self, i):
        if isinstance(i, int):
            return list.__getitem__(self, i)
        if (isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], int)
                and isinstance(i[1], str) and i[1] != "batches"):
            epoch = list.__getitem__(self, i[0])
            if i[1] not in epoch:
                raise KeyError(f"Key {i[1]!r} was not found in history.")
            return epoch[i[1]]
        return super().__getitem__(i)


class TabularNet(NeuralNet):
    """skorch net for :class:`skmlp.modules.MLP` and its kin.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    weight_decay : float
        L2 penalty on linear-layer weights only (not biases or batch-norm
        parameters): ``weight_decay * W`` is added to their gradients.
    decoupled_weight_decay : bool
        Let the optimizer apply ``weight_decay`` itself, in a parameter
        group of the weights (AdamW's decoupled decay).
    l1 : float
        L1 penalty on linear-layer weights, added to the training loss as
        ``l1 * sum(|W|) / batch_size``.
    shuffle : bool
        Whether to visit the training rows in a new random order each epoch.
    shuffle_seed : int
        Seed of the generator that orders the training rows.
    """

    def __init__(self, *args, weight_decay=0.0, decoupled_weight_decay=False, l1=0.0,
                 shuffle=True, shuffle_seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_decay = weight_decay
        self.decoupled_weight_decay = decoupled_weight_decay
        self.l1 = l1
        self.shuffle = shuffle
        self.shuffle_seed = shuffle_seed

    @property
    def _default_callbacks(self):
        return [("epoch_timer", EpochTimer())]

    def initialize_history(self):
        if not isinstance(self.history_, EpochHistory):
            self.history_ = EpochHistory()
        return super().initialize_history()

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self.batch_hooks_ = any(_implements_batch_hooks(cb)
                                for _, cb in self.callbacks_)
        return self

    def initialize_module(self):
        super().initialize_module()
        self.shuffle_generator_ = torch.Generator().manual_seed(self.shuffle_seed)
        return self

    def initialize_optimizer(self, triggered_directly=None):
        weights, others = weight_parameters(self.module_)
        kwargs = self.get_params_for("optimizer")
        if self.decoupled_weight_decay:
            groups = [{"params": weights, "weight_decay": self.weight_decay},
                      {"params": others, "weight_decay": 0.0}]
        else:
            # One group: a fused optimizer then runs one kernel per step, not
            # one per group; the L2 gradient is added with the others (train_step
            # or ExplicitBackprop).
            groups = [{"params": weights + others, "weight_decay": 0.0}]
        self.optimizer_ = self.optimizer(groups, **kwargs)
        return self

    def _prepare_training(self):
        """Set the module's views that the training step uses.

        They are rebuilt for every fit and never pickled: skorch pickles the
        module and optimizer in a stream of their own, so an unpickled view
        would point at copies of the parameters rather than at them.
        """
        self.weights_ = weight_parameters(self.module_)[0]
        self.trained_params_ = [p for group in self.optimizer_.param_groups
                                for p in group["params"]]
        kind = self.criterion_.kind
        self.explicit_backprop_ = (
            ExplicitBackprop(self.module_, kind, self.l1, self._coupled_weight_decay)
            if ExplicitBackprop.supports(self.module_, kind) else None)

    @property
    def _coupled_weight_decay(self):
        """The L2 gradient's factor added here (zero when the optimizer decays)."""
        return 0.0 if self.decoupled_weight_decay else self.weight_decay

    def __getstate__(self):
        state = super().__getstate__()
        for view in _TRAINING_VIEWS:
            state.pop(view, None)
        return state

    def get_iterator(self, dataset, training=False):
        if training:
            return TensorBatches(dataset, min(self.batch_size, len(dataset)),
                                 shuffle=self.shuffle, generator=self.shuffle_generator_,
                                 device=self.device, no_single_rows=any(
                                     isinstance(m, nn.BatchNorm1d)
                                     for m in self.module_.modules()))
        return TensorBatches(dataset, PREDICT_BATCH_SIZE, device=self.device)

    def fit_loop(self, X, y=None, epochs=None, *, valid=None, **fit_params):
        """Train for ``epochs`` passes over the :class:`TensorData` ``X``.

        ``valid`` is an optional :class:`TensorData` whose loss is recorded
        as ``valid_loss`` after each epoch.
        """
        self.check_training_readiness()
        self._prepare_training()
        epochs = self.max_epochs if epochs is None else epochs
        train_batches = self.get_iterator(X, training=True)
        valid_batches = None if valid is None else self.get_iterator(valid)
        datasets = {"dataset_train": X, "dataset_valid": valid}
        # L-BFGS evaluates the loss as often as its line search needs: chosen once, not per batch
        train_step = (self._line_search_step if isinstance(self.optimizer_, torch.optim.LBFGS)
                      else self.train_step)
        for _ in range(epochs):
            self.notify("on_epoch_begin", **datasets)
            self.run_single_epoch(train_batches, training=True, prefix="train",
                                  step_fn=train_step)
            valid_outputs = self.run_single_epoch(valid_batches, training=False,
                                                  prefix="valid", step_fn=self.validation_step)
            self.notify("on_epoch_end", **datasets, valid_outputs=valid_outputs)
        return self

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``; without ``training``, return the outputs (else None).

        Callbacks get the validation outputs as ``valid_outputs`` at
        ``on_epoch_end``, so scoring them needs no second forward pass.
        """
        if iterator is None:
            return None
        if self.module_.training != training:
            self._set_training(training)
        # summed on the device, read once per epoch: no host sync per batch, and
        # no tensor per training batch kept alive (thousands of them fragmented the heap)
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        n_rows = n_batches = 0
        outputs = None if training else []
        for batch in iterator:
            if self.batch_hooks_:
                self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch)
            if outputs is not None:
                outputs.append(step["y_pred"])
            size = len(batch[0])
            loss_sum.add_(step["loss"], alpha=size)
            n_rows += size
            n_batches += 1
            if self.batch_hooks_:
                self.history.record_batch(prefix + "_loss", step["loss"].item())
                self.history.record_batch(prefix + "_batch_size", size)
                self.notify("on_batch_end", batch=batch, training=training, **step)
        self.history.record(prefix + "_loss", loss_sum.item() / n_rows)
        self.history.record(prefix + "_batch_count", n_batches)
        if training:
            return None
        return outputs[0] if len(outputs) == 1 else torch.cat(outputs)  # no copy of one batch

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        loss = self.criterion_(y_pred, y_true, sample_weight)
        if training and self.l1 > 0:
            loss = loss + l1_penalty(self.weights_, self.l1, len(y_pred))
        return loss

    def train_step(self, batch, **fit_params):
        y_pred, loss = self._set_gradients(batch)
        self.optimizer_.step()
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}

    def _set_gradients(self, batch):
        """Set every trained parameter's ``.grad`` for ``batch``; return the output and loss.

        The loss is the training loss with its L1 term; the L2 penalty
        enters the gradients only (see ``weight_decay``).
        """
        Xb, yb, wb = batch
        if self.explicit_backprop_ is not None:  # it overwrites every gradient
            y_pred, loss = self.explicit_backprop_(Xb, yb, wb)
        else:
            for param in self.trained_params_:
                param.grad = None
            with torch.enable_grad():
                y_pred = self.module_(Xb)
                loss = self.get_loss(y_pred, yb, X=Xb, training=True, sample_weight=wb)
                loss.backward()
            if self._coupled_weight_decay:
                torch._foreach_add_([w.grad for w in self.weights_], self.weights_,
                                    alpha=self._coupled_weight_decay)
        if self.batch_hooks_:
            self.notify("on_grad_computed",
                        named_parameters=list(self.get_all_learnable_params()),
                        batch=batch, training=True)
        return y_pred, loss

    def _line_search_step(self, batch):
        """One L-BFGS iteration, which evaluates the objective as often as its line search needs.

        The objective adds the L2 penalty ``0.5 * weight_decay * ||W||^2`` to
        the loss, so that the values the line search compares match the
        gradients. Recorded: the loss and output at the iteration's start.
        """
        evaluations = []

        def objective():
            y_pred, loss = self._set_gradients(batch)
            evaluations.append((y_pred, loss))
            if self._coupled_weight_decay:
                loss = loss + 0.5 * self._coupled_weight_decay * sum(
                    weight.square().sum() for weight in self.weights_)
            return loss

        self.optimizer_.step(objective)
        y_pred, loss = evaluations[0]
        return {"loss": loss.detach(), "y_pred": y_pred.detach()}

    def validation_step(self, batch, **fit_params):
        Xb, yb, wb = batch
        with torch.inference_mode():
            y_pred = self.module_(Xb)
            loss = self.get_loss(y_pred, yb, X=Xb, training=False, sample_weight=wb)
        return {"loss": loss, "y_pred": y_pred}

    def forward_iter(self, X, training=False, device="cpu"):
        yield from self.apply_iter(self.module_, X, training=training, device=device)

    def apply_iter(self, function, X, training=False, device="cpu"):
        """Yield ``function(batch)`` over large batches of ``X``, without gradients.

        ``function`` is the module or a part of it (an autoencoder's
        encoder, say).
        """
        X = self._inference_input(X, training)
        with torch.inference_mode():
            for Xb in X.split(PREDICT_BATCH_SIZE):
                yield function(features_to(Xb, self.device)).to(device)

    def forward(self, X, training=False, device="cpu"):
        return self.apply(self.module_, X, training=training, device=device)

    def apply(self, function, X, training=False, device="cpu"):
        """``function`` applied to all of ``X`` (see :meth:`apply_iter`), concatenated."""
        X = self._inference_input(X, training)
        if len(X) > PREDICT_BATCH_SIZE or isinstance(X, SparseRows):
            return torch.cat(list(self.apply_iter(function, X, training=training, device=device)))
        # one pass without the generator: ~4 µs less for a single row
        with torch.inference_mode():
            return function(X.to(self.device)).to(device)

    def _inference_input(self, X, training):
        """``X`` as a tensor on the net's device, with the module in the right mode."""
        if self.module_.training != training:  # switching modes is slow; skip no-ops
            self._set_training(training)
        if isinstance(X, (torch.Tensor, SparseRows)):
            return X
        return as_stored_tensor(X, self.device)
