"""skorch callbacks that skmlp adds to every net.

They work at epoch level only, so the training loop can skip batch-level
notifications (see :mod:`skmlp._net`).
"""

import math

from skorch.callbacks import Callback
from tqdm.auto import tqdm


class DivergenceCheck(Callback):
    """Stop training with an error as soon as the training loss is not finite.

    Continuing would return a model whose weights are NaN and whose
    predictions are garbage; the error names the epoch and what to try.

    Examples
    --------
    >>> from skmlp import MLPRegressor
    >>> import numpy as np
    >>> X = np.array([[1e30], [2e30], [3e30]])
    >>> MLPRegressor(max_iter=2).fit(X, [1., 2., 3.])
    Traceback (most recent call last):
    ...
    FloatingPointError: Training diverged at epoch 1: ...
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            lr = net.optimizer_.param_groups[0]["lr"]
            raise FloatingPointError(
                f"Training diverged at epoch {len(net.history)}: the training loss "
                f"is {loss}. Try a lower learning_rate_init (now {lr:g}), scaling "
                "the inputs (e.g. StandardScaler), or a stronger alpha.")


class EpochProgressBar(Callback):
    """A tqdm progress bar over epochs, showing the latest losses.

    Parameters
    ----------
    total : int
        Number of epochs the bar expects (training may stop earlier).
    """

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=self.total, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        last = net.history[-1]
        self.bar_.set_postfix({key: f"{last[key]:.4f}"
                               for key in ("train_loss", "valid_loss") if key in last})
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state
