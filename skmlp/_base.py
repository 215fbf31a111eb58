"""What every skmlp estimator shares: parameters -> skorch net -> fitted state."""

import copy
import inspect
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from skorch.callbacks import BatchScoring, Callback, EarlyStopping, EpochScoring
from torch.optim import lr_scheduler
from tqdm.auto import tqdm

from ._data import TensorData, as_tensor, storage_device
from ._losses import WeightedLoss, combined_sample_weight
from ._net import TabularNet
from ._optim import LBFGS, SGD, Adam, AdamW, RMSprop
from ._runtime import resolve_device, seeded, thread_budget
from ._validation import check_features
from ._warnings import warn_at_caller
from .callbacks import (
    AdaptiveEarlyStopping,
    BestLoss,
    DivergenceCheck,
    EpochLog,
    EpochLRScheduler,
    EpochProgressBar,
    EvaluationBudget,
    ValidationScore,
)
from .modules import ACTIVATIONS, MLP

_SOLVERS = {"adam": Adam, "adamw": AdamW, "sgd": SGD, "rmsprop": RMSprop, "lbfgs": LBFGS}
#: L-BFGS's memory of past updates: scipy's default (scikit-learn's solver)
_LBFGS_HISTORY = 10
#: Objective evaluations an L-BFGS line search may make (torch's default)
_LBFGS_LINE_SEARCH = 25
_FUSED = {"adam", "adamw", "sgd"}
#: Values per block of rows when the input's column statistics are computed:
#: 2 ** 20 added 17 MB to the peak memory of a fit on 1M x 20 float32 rows
#: (16 MB without statistics), 2 ** 16 less than 1 MB, at 0.5 s for the whole
_STATISTICS_BLOCK_VALUES = 2 ** 16

#: Sparse formats taken as they are (others are converted to the first), as
#: scikit-learn's perceptrons take them.
_SPARSE_FORMATS = ("csr", "csc")


def _inverse_scaling(epoch, rows_per_epoch, power_t):
    """scikit-learn's ``invscaling`` factor after ``epoch`` passes over the data."""
    return 1 / (epoch * rows_per_epoch + 1) ** power_t


def _has_stochastic_solver(estimator):
    """``available_if`` test of ``partial_fit``: as in scikit-learn, L-BFGS
    trains on a whole data set, so its estimators have no ``partial_fit``."""
    if estimator.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic optimizers; "
                             "solver='lbfgs' is not stochastic.")
    return True


def _layer_sizes(hidden_layer_sizes):
    sizes = tuple(np.atleast_1d(hidden_layer_sizes).tolist())
    # integers only: int() would quietly truncate a width of 5.5 to 5
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
               for s in sizes):
        raise ValueError(f"hidden_layer_sizes must hold positive integers, got "
                         f"{hidden_layer_sizes!r}.")
    return sizes


def _dropout_per_layer(dropout, n_layers):
    rates = np.atleast_1d(np.asarray(dropout, dtype=float))
    if rates.size == 1:
        rates = np.repeat(rates, n_layers)
    if rates.size != n_layers:
        raise ValueError(f"dropout has {rates.size} rates but there are {n_layers} "
                         "hidden layers; give one float or one rate per layer.")
    if np.any((rates < 0) | (rates >= 1)):
        raise ValueError(f"dropout rates must lie in [0, 1), got {dropout!r}.")
    return tuple(float(r) for r in rates)


def _state_dict_copy(optimizer):
    """A copy of ``optimizer.state_dict()``: tensors cloned, anything else deep-copied.

    A quarter of the time of ``copy.deepcopy`` for Adam's state, which
    ``partial_fit`` pays at every call.
    """
    state = optimizer.state_dict()
    return {
        "state": {key: {name: value.clone() if torch.is_tensor(value) else copy.deepcopy(value)
                        for name, value in entry.items()}
                  for key, entry in state["state"].items()},
        "param_groups": copy.deepcopy(state["param_groups"]),
    }


@contextmanager
def _unchanged_on_error(estimator, in_place):
    """Run a fit; if it raises, put the estimator back as it was before it.

    scikit-learn's validation sets ``n_features_in_`` and
    ``feature_names_in_`` before it checks the values, so a refit on bad
    input would otherwise leave a fitted model that rejects the data it was
    fitted on; a refit that diverges would leave NaN weights. The fitted
    attributes are restored, and when the fit trains the existing network
    ``in_place`` (``partial_fit``) the network's weights, optimizer state,
    history and the generator of its shuffles as well, so that the next
    call trains as if the failed one had not been made.
    """
    attributes = dict(vars(estimator))
    net = estimator.net_ if in_place else None
    if net is not None:
        weights = {name: tensor.clone() for name, tensor in net.module_.state_dict().items()}
        optimizer_state = _state_dict_copy(net.optimizer_)
        n_epochs = len(net.history)
        shuffles = net.shuffle_generator_.get_state()
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(attributes)
        if net is not None:
            net.module_.load_state_dict(weights)
            net.optimizer_.load_state_dict(optimizer_state)
            del net.history[n_epochs:]
            net.shuffle_generator_.set_state(shuffles)
        raise


def _supported_callback(callback):
    """``callback`` if skmlp's training loop can run it, else an error that says why."""
    kind = callback[1] if isinstance(callback, tuple) else callback
    kind = kind if isinstance(kind, type) else type(kind)
    if not issubclass(kind, Callback):
        raise TypeError(f"callbacks holds skorch callbacks (instances or classes, or "
                        f"(name, callback) pairs), but got {callback!r}.")
    if issubclass(kind, (EpochScoring, BatchScoring)):
        raise ValueError(
            f"skorch's {kind.__name__} is not supported: it scores the underlying skorch "
            "net, whose outputs are raw network outputs rather than labels, on batches "
            "skmlp cuts itself. The validation accuracy or R² of each epoch is recorded "
            "as validation_scores_ (early_stopping=True); for another metric, write a "
            "callback whose on_epoch_end records it with net.history.record(name, value).")
    return callback


def _store_init_params(estimator, arguments):
    """Store an ``__init__``'s arguments as attributes, unchanged.

    scikit-learn's contract: ``__init__`` only records its parameters; every
    skmlp estimator lists all of them explicitly in its signature.
    """
    for name in inspect.signature(type(estimator).__init__).parameters:
        if name != "self":
            setattr(estimator, name, arguments[name])


class BaseMLP(BaseEstimator, metaclass=ABCMeta):
    """Base class of the skmlp networks; not for direct use.

    Subclasses say how targets become tensors (:meth:`_encode_targets`),
    which loss to train, and how raw network outputs become predictions.
    """

    #: ``tol`` as scikit-learn reads it (absolute); see ``skmlp._parameter_docs``
    _tol_mode = "abs"

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(_SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_norm": ["boolean"],
        "batch_size": [StrOptions({"auto", "full"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "step", "exponential", "cosine", "plateau",
                                      "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "lr_decay": [Interval(Real, 0, 1, closed="neither")],
        "lr_step_size": [Interval(Integral, 1, None, closed="left")],
        "lr_patience": [Interval(Integral, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "callbacks": [list, None],
    }

    # -- what subclasses define ------------------------------------------------

    @abstractmethod
    def _encode_targets(self, y, *, reset, classes=None, sample_weight=None):
        """Validate ``y`` and return it as the loss expects it (numpy).

        With ``reset``, also set ``n_outputs_`` (the width of the output
        layer) and any target encoding state.
        """

    @abstractmethod
    def _training_loss(self):
        """Name of the :class:`~skmlp._losses.WeightedLoss` to train with."""

    def _stratify(self, y_encoded):
        """Labels to stratify the validation split on, or None."""
        return None

    def _dropout(self):
        """The dropout rates a fit uses: ``dropout``, where it is not ``"auto"``."""
        return self.dropout

    def _sample_weight(self, X, y, sample_weight):
        """Per-sample weights (numpy) or None."""
        return combined_sample_weight(X, y, sample_weight)

    # -- fitting ---------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (numpy array, pandas DataFrame, float32 or
            float64).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; a weight of 2 counts a sample twice in the
            loss. Finite, non-negative and not all 0.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        incremental = self.warm_start and hasattr(self, "net_")
        return self._fit(X, y, sample_weight, incremental=incremental, one_pass=False)

    def _fit(self, X, y, sample_weight, *, incremental, one_pass, classes=None):
        """Fit from scratch, or go on training the existing net if ``incremental``.

        ``one_pass`` trains a single epoch without a validation split, as
        ``partial_fit`` does; otherwise ``max_iter`` epochs. A call that
        raises leaves the estimator as it was (see ``_unchanged_on_error``).
        """
        with _unchanged_on_error(self, in_place=incremental and one_pass):
            return self._fit_unguarded(X, y, sample_weight, incremental=incremental,
                                       one_pass=one_pass, classes=classes)

    def _fit_unguarded(self, X, y, sample_weight, *, incremental, one_pass, classes):
        """The body of :meth:`_fit`, which undoes what it changed when it raises."""
        if one_pass and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True (as in "
                             "scikit-learn): each call trains one pass over the data it is "
                             "given, with nothing held out. Use fit, or early_stopping=False.")
        if self.solver == "lbfgs" and np.any(np.asarray(self._dropout(), dtype=float) > 0):
            raise ValueError(
                f"solver='lbfgs' needs dropout=0 (got {self.dropout!r}): its line search "
                "compares the loss of several evaluations, which random dropout masks "
                "would change.")
        X, y = self._check_fit_data(X, y, reset=not incremental)
        weight = self._sample_weight(X, y, sample_weight)
        targets = self._encode_targets(y, reset=not incremental, classes=classes,
                                       sample_weight=weight)
        if not incremental:
            self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        device = self.net_.device if one_pass and incremental else resolve_device(self.device)
        train, valid = self._datasets(X, targets, weight, device,
                                      split=self.early_stopping and not one_pass)
        sizes = _layer_sizes(self.hidden_layer_sizes)
        batch_size = self._batch_size(len(train))
        if self.batch_norm and batch_size < 2:
            raise ValueError(
                f"batch_norm=True normalises each batch by its own mean and variance, "
                f"which one row does not have, but the batches here hold {batch_size} "
                "row. Use a batch_size of at least 2 (and at least 2 rows), or "
                "batch_norm=False.")
        if not incremental:
            self.net_ = self._build_net(X.shape[1], sizes, len(train), batch_size, device)
            with seeded(self._seed, device):
                self.net_.initialize()
            if not one_pass:
                self._fit_input_statistics(X, sample_weight)
            self.t_ = 0
        elif not one_pass:
            self.net_ = self._warm_started_net(X.shape[1], sizes, len(train), batch_size,
                                               device)

        epochs = 1 if one_pass else self.max_iter
        progress_bar = dict(self.net_.callbacks_).get("progress_bar")
        if progress_bar is not None:
            progress_bar.total = epochs
        done = len(self.net_.history)  # the epochs of earlier calls
        with thread_budget(batch_size, sizes), seeded(self._seed + done, device):
            self.net_.partial_fit(train, epochs=epochs, valid=valid)
        self._record_history(done, len(train), converged_check=not one_pass)
        self._after_training(train, valid)
        return self

    def _fit_input_statistics(self, X, sample_weight):
        """Set the network's input standardisation layer from ``X`` (dense ``X`` only)."""
        standardizer = getattr(self.net_.module_, "standardizer", None)
        if standardizer is None or sp.issparse(X):
            return
        standardizer.fit_statistics(*_input_statistics(X, sample_weight))

    def _warm_started_net(self, n_features, sizes, n_rows, batch_size, device):
        """The fitted network and its history, in a net built from the current parameters.

        As scikit-learn's, a warm-started ``fit`` trains with the current
        training parameters (solver, rate and schedule, penalties, batch
        size, stopping test, dropout, device) and a new optimizer, whose state
        starts again; ``partial_fit`` keeps the optimizer it has. The
        architecture must be the fitted one: scikit-learn ignores a changed one.
        """
        fitted = self.net_
        net = self._build_net(n_features, sizes, n_rows, batch_size, device)
        before, now = fitted.get_params_for("module"), net.get_params_for("module")
        # dropout has no weights: a new rate (solver="lbfgs" after adam, under
        # dropout="auto", among them) trains the same ones
        changed = [f"{name} {before[name]!r} -> {now[name]!r}" for name in now
                   if now[name] != before[name] and name != "dropout"]
        if changed:
            raise ValueError(
                "warm_start=True goes on training the fitted network, but the parameters "
                f"now ask for another architecture ({'; '.join(changed)}). Restore them, "
                "or set warm_start=False to fit a new network.")
        with seeded(self._seed, device):
            net.initialize()
        # by position: a layer of dropout more or fewer (rate 0 has none) moves
        # the names of the layers after it, not their order or shapes
        net.module_.load_state_dict(dict(zip(net.module_.state_dict(),
                                             fitted.module_.state_dict().values(), strict=True)))
        net.history = copy.copy(fitted.history)  # the fitted net's stays as it is
        # the shuffles go on from where they were, not again from the first epoch's
        net.shuffle_generator_.set_state(fitted.shuffle_generator_.get_state())
        # skorch resumes a schedule at the history's last epoch, from each
        # group's initial rate: here the current learning_rate_init
        for group in net.optimizer_.param_groups:
            group["initial_lr"] = group["lr"]
        return net

    def _check_fit_data(self, X, y, *, reset):
        """Validated ``(X, y)`` for training."""
        return check_features(self, X, y, reset=reset, multi_output=True,
                              accept_sparse=_SPARSE_FORMATS)

    def _after_training(self, train, valid):
        """Set fitted state that depends on the trained net (a hook)."""

    def _datasets(self, X, targets, weight, device, *, split):
        """Training and (with ``split``) validation data as :class:`TensorData`.

        When the targets are the features themselves (an autoencoder), both
        share one tensor.
        """
        if split:
            advice = (f"early_stopping=True holds out validation_fraction="
                      f"{self.validation_fraction} of the data for validation, and ")
            stratify = self._stratify(targets)
            enough = "a sample of each class" if stratify is not None else "two samples"
            remedy = (f" Use more data, a validation_fraction that leaves {enough} on both"
                      f" sides, or early_stopping=False.")
            try:
                parts = train_test_split(np.arange(X.shape[0]),
                                         test_size=self.validation_fraction,
                                         random_state=self._seed, stratify=stratify)
            except ValueError as err:
                raise ValueError(f"{advice}that split failed: {str(err).rstrip('.')}.{remedy}"
                                 ) from err
            if len(parts[1]) < 2:
                # as scikit-learn's MLP: a score of one sample (R² above all) means nothing
                raise ValueError(f"{advice}that is {len(parts[1])} of {X.shape[0]} "
                                 f"samples, too few to score.{remedy}")
        else:
            parts = [slice(None), None]

        # float32 features and weights; targets counted at 8 bytes (int64 labels)
        n_bytes = 4 * (X.size + (0 if targets is X else targets.size * 2)
                       + (0 if weight is None else weight.size))
        store = storage_device(n_bytes, device)

        def to_data(rows):
            X_t = as_tensor(X[rows], store)
            y_dtype = torch.int64 if targets.dtype.kind in "iu" else torch.float32
            y_t = X_t if targets is X else as_tensor(targets[rows], store, y_dtype)
            return TensorData(X_t, y_t, None if weight is None else as_tensor(weight[rows],
                                                                              store))

        return tuple(None if rows is None else to_data(rows) for rows in parts)

    def _batch_size(self, n_samples):
        if self.batch_size == "full" or self.solver == "lbfgs":
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _module_params(self, n_features, sizes):
        """The torch module class and its ``module__`` arguments for skorch."""
        return dict(
            module=MLP,
            module__n_features=n_features,
            module__n_outputs=self.n_outputs_,
            module__hidden_layer_sizes=sizes,
            module__activation=self.activation,
            module__dropout=_dropout_per_layer(self._dropout(), len(sizes)),
            module__batch_norm=self.batch_norm,
            module__standardize_inputs=self.standardize_inputs,
        )

    def _build_net(self, n_features, sizes, n_rows, batch_size, device):
        return TabularNet(
            **self._module_params(n_features, sizes),
            criterion=WeightedLoss,
            criterion__kind=self._training_loss(),
            optimizer=_SOLVERS[self.solver],
            **self._optimizer_params(device),
            max_epochs=self.max_iter,
            batch_size=batch_size,
            train_split=None,
            device=device,
            callbacks=self._net_callbacks(n_rows),
            # scikit-learn's alpha is a penalty 0.5 * alpha * ||W||^2 on the mean
            # batch loss divided by the batch size; as a gradient that is
            # weight decay of alpha / batch_size. AdamW decouples it instead.
            weight_decay=self.alpha if self.solver == "adamw" else self.alpha / batch_size,
            decoupled_weight_decay=self.solver == "adamw",
            l1=self.l1,
            shuffle=self.shuffle,
            shuffle_seed=self._seed,
        )

    def _optimizer_params(self, device):
        if self.solver == "lbfgs":
            # one iteration per epoch; its line search evaluates up to 25 more times
            return {"optimizer__lr": 1.0, "optimizer__max_iter": 1,
                    "optimizer__max_eval": 1 + _LBFGS_LINE_SEARCH,
                    "optimizer__history_size": _LBFGS_HISTORY,
                    "optimizer__line_search_fn": "strong_wolfe"}
        params = {"optimizer__lr": self.learning_rate_init}
        if self.solver in ("adam", "adamw"):
            params.update(optimizer__betas=(self.beta_1, self.beta_2),
                          optimizer__eps=self.epsilon)
        elif self.solver == "sgd":
            params.update(optimizer__momentum=self.momentum,
                          optimizer__nesterov=self.nesterovs_momentum and self.momentum > 0)
        else:
            params.update(optimizer__momentum=self.momentum, optimizer__eps=self.epsilon)
        if self.solver in _FUSED and torch.device(device).type in ("cpu", "cuda"):
            params["optimizer__fused"] = True
        return params

    def _net_callbacks(self, n_rows):
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        # scikit-learn's adaptive rate: where the stopping test fails, divide the rate first
        stopping = (AdaptiveEarlyStopping if self._sgd_schedule("adaptive") else EarlyStopping)
        callbacks = [("divergence_check", DivergenceCheck()), ("best_loss", BestLoss())]
        # what records or shows an epoch comes before what may stop training at
        # its end (by raising, which skips the callbacks after it): the last
        # epoch has its validation score and its step of the bar
        score = self._validation_score()
        if self.early_stopping and score is not None:
            callbacks.append(("validation_score", ValidationScore(score)))
        if self.verbose >= 2:
            callbacks.append(("epoch_log", EpochLog()))
        elif self.verbose:
            callbacks.append(("progress_bar", EpochProgressBar(self.max_iter)))
        callbacks.append(("early_stopping", stopping(
            monitor=monitor, patience=self.n_iter_no_change, threshold=self.tol,
            threshold_mode=self._tol_mode, load_best=self.early_stopping,
            # tqdm.write: a message printed under a running bar would cut it
            sink=tqdm.write if self.verbose else _silent)))
        if self.solver == "lbfgs":
            callbacks.append(("evaluation_budget", EvaluationBudget(self.max_fun)))
        schedule = self._lr_schedule(monitor, n_rows)
        if schedule is not None:
            callbacks.append(("lr_scheduler", schedule))
        return callbacks + [_supported_callback(callback) for callback in self.callbacks or []]

    def _sgd_schedule(self, name):
        """Whether scikit-learn's SGD-only schedule ``name`` applies, as in scikit-learn."""
        return self.learning_rate == name and self.solver == "sgd"

    def _lr_schedule(self, monitor, n_rows):
        if self.solver == "lbfgs":  # its step length comes from the line search
            return None
        if self._sgd_schedule("invscaling"):
            return EpochLRScheduler(lr_scheduler.LambdaLR, lr_lambda=partial(
                _inverse_scaling, rows_per_epoch=n_rows, power_t=self.power_t))
        if self.learning_rate == "step":
            return EpochLRScheduler(lr_scheduler.StepLR, step_size=self.lr_step_size,
                                    gamma=self.lr_decay)
        if self.learning_rate == "exponential":
            # the same decay as "step" per lr_step_size epochs, spread smoothly
            return EpochLRScheduler(lr_scheduler.ExponentialLR,
                                    gamma=self.lr_decay ** (1 / self.lr_step_size))
        if self.learning_rate == "cosine":
            # restarts after max_iter epochs, so that a warm-started fit anneals
            # again from learning_rate_init instead of climbing back up the curve
            return EpochLRScheduler(lr_scheduler.CosineAnnealingWarmRestarts, T_0=self.max_iter)
        if self.learning_rate == "plateau":
            return EpochLRScheduler(lr_scheduler.ReduceLROnPlateau, monitor=monitor,
                                    factor=self.lr_decay, patience=self.lr_patience,
                                    threshold=self.tol, threshold_mode=self._tol_mode)
        return None

    def _validation_score(self):
        """``score(outputs, data)`` behind ``validation_scores_``, or None (a hook)."""
        return None

    def _record_history(self, done, rows_per_epoch, *, converged_check):
        """Fitted attributes from the history, whose first ``done`` epochs are earlier calls'."""
        history = list(self.net_.history)
        epochs = history[done:]
        # as scikit-learn: n_iter_ counts this call's epochs, t_ and loss_curve_ all calls'
        self.n_iter_ = len(epochs)
        self.t_ += len(epochs) * rows_per_epoch
        # extended by this call's epochs: partial_fit adds one a call, and
        # reading the whole history at every call made a long run quadratic
        self.loss_curve_ = ((self.loss_curve_ if done else [])
                            + [epoch["train_loss"] for epoch in epochs])
        self.loss_ = self.loss_curve_[-1]
        if self.early_stopping and "valid_loss" in epochs[-1]:
            # a fit (partial_fit holds nothing out): read from the whole history
            self.validation_loss_curve_ = [epoch["valid_loss"] for epoch in history
                                           if "valid_loss" in epoch]
            self.best_validation_loss_ = min(self.validation_loss_curve_)
            self.best_loss_ = None
            scores = [epoch["valid_score"] for epoch in history if "valid_score" in epoch]
            self.validation_scores_ = scores or None
            self.best_validation_score_ = max(scores) if scores else None
        else:
            self.validation_loss_curve_ = None
            self.best_validation_loss_ = None
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        if converged_check and len(epochs) == self.max_iter:
            warn_at_caller(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.", ConvergenceWarning)

    def _linear_layers(self):
        check_is_fitted(self, "net_")
        return [layer for layer in self.net_.module_.modules()
                if isinstance(layer, torch.nn.Linear)]

    def _input_standardizer(self):
        """The :class:`~skmlp.modules.Standardize` that the input passes before the
        network's first linear layer, or None."""
        return getattr(self.net_.module_, "standardizer", None)

    def _weights_and_biases(self):
        """``(weight, bias)`` of each linear layer as numpy copies, the first
        one's on the input as given (its standardisation folded in)."""
        pairs = [(layer.weight.detach().cpu(), layer.bias.detach().cpu())
                 for layer in self._linear_layers()]
        standardizer = self._input_standardizer()
        if standardizer is not None:
            # W (x * factor + offset) + b == (W * factor) x + (W offset + b)
            weight, bias = pairs[0]
            pairs[0] = (weight * standardizer.factor.cpu(),
                        torch.addmv(bias, weight, standardizer.offset.cpu()))
        return [(weight.numpy().T.copy(), bias.numpy().copy()) for weight, bias in pairs]

    @property
    def coefs_(self):
        """Weight matrices of the linear layers, ``(fan_in, fan_out)`` each (copies)."""
        return [weight for weight, _ in self._weights_and_biases()]

    @property
    def intercepts_(self):
        """Bias vectors of the linear layers (copies)."""
        return [bias for _, bias in self._weights_and_biases()]

    @property
    def n_layers_(self):
        """Number of layers, input and output included."""
        return len(self._linear_layers()) + 1

    @property
    def history_(self):
        """The skorch :class:`~skorch.history.History` of every epoch trained."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # -- predicting ------------------------------------------------------------

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 numpy array."""
        check_is_fitted(self, "net_")
        X = check_features(self, X, reset=False, accept_sparse=_SPARSE_FORMATS)
        # torch's own thread setting: prediction batches are large, and tiny
        # inputs are not split across threads anyway, while changing the
        # setting per call would cost more than predicting one row.
        return self.net_.forward(X).double().numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.sparse = True
        return tags


def _input_statistics(X, sample_weight=None):
    """Column means and scales that standardise dense ``X`` (``sample_weight``-weighted).

    ``StandardScaler`` computes them, a block of rows at a time: at once, its
    float64 temporaries would take twice the memory of float32 data (more
    than training itself needs). Columns of only 0 and 1 (one-hot codes,
    flags) get mean 0 and scale 1: they are on the unit scale already, and
    standardised, a rare category's 1 would grow to 1 / sqrt(its share) (30
    for one row in a thousand).
    """
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X)
    scaler = StandardScaler()
    indicator = np.ones(X.shape[1], dtype=bool)
    rows = max(1, _STATISTICS_BLOCK_VALUES // max(1, X.shape[1]))
    for start in range(0, X.shape[0], rows):
        block = X[start:start + rows]
        weight = None if sample_weight is None else sample_weight[start:start + rows]
        # a block of zero weights adds nothing (and StandardScaler refuses it)
        if weight is None or weight.any():
            scaler.partial_fit(block, sample_weight=weight)
        indicator &= ((block == 0) | (block == 1)).all(axis=0)
    return np.where(indicator, 0.0, scaler.mean_), np.where(indicator, 1.0, scaler.scale_)


def _silent(*args, **kwargs):
    """A sink that drops skorch's messages when ``verbose=0``."""
