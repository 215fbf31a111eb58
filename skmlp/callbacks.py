"""skorch callbacks that skmlp adds to every net.

They work at epoch level only, so the training loop can skip batch-level
notifications (see :mod:`skmlp._net`).
"""

import math

from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from tqdm.auto import tqdm

from ._warnings import warn_at_caller


class TrainingDivergedError(ValueError, FloatingPointError):
    """Training reached a loss that is not finite (raised by :class:`DivergenceCheck`).

    A ``ValueError``, as scikit-learn's MLP raises for non-finite weights
    (so code that catches that catches this), and a ``FloatingPointError``.
    """


class DivergenceCheck(Callback):
    """Stop training with an error as soon as the training loss is not finite.

    Continuing would return a model whose weights are NaN and whose
    predictions are garbage; the error (:class:`TrainingDivergedError`)
    names the epoch and what to try.

    Examples
    --------
    >>> from skmlp import MLPRegressor
    >>> import numpy as np
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> MLPRegressor(solver="sgd", learning_rate_init=1e30, max_iter=2).fit(X, [1., 2., 3.])
    Traceback (most recent call last):
    ...
    skmlp.callbacks.TrainingDivergedError: Training diverged at epoch ...: ...
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            lr = net.optimizer_.param_groups[0]["lr"]
            raise TrainingDivergedError(
                f"Training diverged at epoch {len(net.history)}: the training loss "
                f"is {loss}. Try a lower learning_rate_init (now {lr:g}), scaling "
                "the inputs (e.g. StandardScaler), or a stronger alpha.")


class BestLoss(Callback):
    """Record ``train_loss_best`` and ``valid_loss_best`` after each epoch.

    Each is True when the epoch's loss is the lowest of the history so far,
    as skorch's default callbacks record it; skorch's ``Checkpoint``
    (``monitor="valid_loss_best"`` by default) saves on it. skorch derives
    them from per-batch records, which skmlp's training loop skips.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> clf = MLPClassifier(early_stopping=True, max_iter=3, random_state=0)
    >>> clf.fit(X, X[:, 0] > 0).net_.history[0, "valid_loss_best"]
    True
    """

    _LOSSES = ("train_loss", "valid_loss")

    def initialize(self):
        self.epochs_seen_ = None
        return self

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        if self.epochs_seen_ != len(history) - 1:
            # a new net, which may go on from a fitted one's history, or a history
            # cut back (a partial_fit that raised is undone): read it once
            self.lowest_ = {key: min((row[key] for row in list(history)[:-1] if key in row),
                                     default=math.inf)
                            for key in self._LOSSES}
        for key in self._LOSSES:
            if key in history[-1]:
                loss = history[-1, key]
                history.record(f"{key}_best", bool(loss < self.lowest_[key]))
                self.lowest_[key] = min(loss, self.lowest_[key])
        self.epochs_seen_ = len(history)


class ValidationScore(Callback):
    """Record ``valid_score``, a score of the network on the validation data, after each epoch.

    It scores the outputs of the epoch's validation pass, which the
    training loop hands to ``on_epoch_end`` as ``valid_outputs``.

    Parameters
    ----------
    score : callable
        ``score(outputs, data)``: the score of the network's raw outputs
        (a CPU tensor) on a validation :class:`~skmlp._data.TensorData`,
        whose targets are in the form the loss takes.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> clf = MLPClassifier(early_stopping=True, max_iter=5, random_state=0)
    >>> clf = clf.fit(X, X[:, 0] > 0)
    >>> len(clf.net_.history[:, "valid_score"]) == len(clf.validation_scores_) == 5
    True
    """

    def __init__(self, score):
        self.score = score

    def on_epoch_end(self, net, dataset_valid=None, valid_outputs=None, **kwargs):
        if valid_outputs is not None:
            net.history.record("valid_score", self.score(valid_outputs.cpu(), dataset_valid))


class EpochLog(Callback):
    """Print each epoch's training loss (and validation score) as scikit-learn's MLP does.

    One line an epoch on standard output, in scikit-learn's words, for
    ``verbose >= 2``; log files and code that read scikit-learn's lines
    get them as they were.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> _ = MLPClassifier(max_iter=2, verbose=2, random_state=0).fit(X, X[:, 0] > 0)
    ... # doctest: +ELLIPSIS
    Iteration 1, loss = 0.6...
    Iteration 2, loss = 0.6...
    """

    def on_epoch_end(self, net, **kwargs):
        last = net.history[-1]
        print(f"Iteration {len(net.history)}, loss = {last['train_loss']:.8f}")
        if "valid_score" in last:
            print(f"Validation score: {last['valid_score']:f}")


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
        # drawn once, by update: a refresh here would show the epoch's
        # losses beside the count of the epochs before it
        self.bar_.set_postfix({key: f"{last[key]:.4f}"
                               for key in ("train_loss", "valid_loss") if key in last},
                              refresh=False)
        self.bar_.update()

    def on_train_end(self, net, **kwargs):
        self.bar_.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state


class AdaptiveEarlyStopping(EarlyStopping):
    """Early stopping that first divides the learning rate, as scikit-learn's ``adaptive``.

    Where :class:`skorch.callbacks.EarlyStopping` would stop (the monitored
    loss has not improved for ``patience`` epochs), the learning rate is
    divided by 5 and the count starts again; training stops once the rate
    is at most 1e-6.

    Parameters
    ----------
    **kwargs
        As for :class:`skorch.callbacks.EarlyStopping`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> clf = MLPClassifier(solver="sgd", learning_rate="adaptive", max_iter=500,
    ...                     random_state=0).fit(X, X[:, 0] > 0)
    >>> type(dict(clf.net_.callbacks_)["early_stopping"]).__name__
    'AdaptiveEarlyStopping'
    """

    #: scikit-learn's divisor and floor
    factor = 5.0
    min_lr = 1e-6

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            groups = net.optimizer_.param_groups
            if all(group["lr"] <= self.min_lr for group in groups):
                raise
            for group in groups:
                group["lr"] /= self.factor
            self.misses_ = 0


class EpochLRScheduler(LRScheduler):
    """:class:`skorch.callbacks.LRScheduler` for the schedules skmlp steps once an epoch.

    skorch's starts each call to ``fit`` by summing the batch counts of the
    whole history, which only schedules stepped per batch need; with
    ``partial_fit`` (one epoch a call) that made every call slower than the
    one before. The schedule itself goes on from the history's length, as
    in skorch.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> clf = MLPClassifier(learning_rate="cosine", max_iter=4, random_state=0)
    >>> for _ in range(3):
    ...     clf = clf.partial_fit(X, X[:, 0] > 0, classes=[False, True])
    >>> [round(lr, 6) for lr in clf.history_[:, "event_lr"]]
    [0.001, 0.000854, 0.0005]
    """

    def on_train_begin(self, net, **kwargs):
        self.lr_scheduler_ = self._get_scheduler(net, self.policy_, **self.kwargs)


class EvaluationBudget(Callback):
    """Stop L-BFGS once a fit has evaluated the loss ``max_fun`` times (scikit-learn's ``max_fun``).

    Parameters
    ----------
    max_fun : int
        Most loss evaluations per call to ``fit``, line searches included.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skmlp import MLPClassifier
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> clf = MLPClassifier(solver="lbfgs", max_fun=30, random_state=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = clf.fit(X, X[:, 0] * X[:, 1] > 0)
    >>> print(caught[-1].message)  # doctest: +ELLIPSIS
    L-BFGS used its max_fun=30 loss evaluations after ... iterations and ...
    """

    def __init__(self, max_fun):
        self.max_fun = max_fun

    def on_train_begin(self, net, **kwargs):
        self.evaluations_before_ = self._evaluations(net)

    def on_epoch_end(self, net, **kwargs):
        if self._evaluations(net) - self.evaluations_before_ >= self.max_fun:
            warn_at_caller(
                f"L-BFGS used its max_fun={self.max_fun} loss evaluations after "
                f"{len(net.history)} iterations and the optimization hasn't converged yet.",
                ConvergenceWarning)
            raise KeyboardInterrupt

    @staticmethod
    def _evaluations(net):
        first_param = net.optimizer_.param_groups[0]["params"][0]
        return net.optimizer_.state[first_param].get("func_evals", 0)
