"""MLPRegressor: a PyTorch multi-layer perceptron for regression."""

from functools import partial

import numpy as np
import torch
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array

from ._base import (
    BaseMLP,
    _has_stochastic_solver,
    _store_init_params,
)
from ._parameter_docs import (
    DEVICE_PARAMETERS,
    FITTED_ATTRIBUTES,
    STANDARDIZE_INPUTS_PARAMETER,
    training_parameters,
)


def _validation_r2(outputs, data, exp_link):
    """scikit-learn's R² of raw outputs on the targets as trained.

    The training targets are ``y`` shifted and scaled per column, which
    leaves R² as it is on ``y``.
    """
    predicted = torch.exp(outputs) if exp_link else outputs
    weight = None if data.sample_weight is None else data.sample_weight.cpu().numpy()
    return r2_score(data.y.cpu().numpy(), predicted.numpy(), sample_weight=weight)


_POISSON_TARGETS = ("loss='poisson' requires non-negative y and a positive (weighted) sum "
                    "in every column.")


class MLPRegressor(RegressorMixin, BaseMLP):
    _tol_mode = "rel"  # the loss is on standardised targets (see ``tol``)

    __doc__ = f"""Multi-layer perceptron regressor trained with PyTorch via skorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`
    with the same parameter names, plus dropout, batch norm, an L1 penalty,
    robust losses, more activations, optimizers and learning-rate
    schedules, and GPU training. Inputs (``standardize_inputs``) and
    targets are standardised internally (targets, for the Poisson loss,
    divided by their mean) and predictions come back in the original units;
    ``y`` may have several columns. The network is scikit-learn's: the
    classifier's wider, dropout-regularised one did not fit regression
    better on ten data sets (``python -m benchmarks.defaults --kind
    regression``; ``benchmarks/README.md``).

    Parameters
    ----------
    {training_parameters(hidden_layer_sizes=(100,), dropout=0.0, tol_mode=_tol_mode)}
    loss : {{"squared_error", "absolute_error", "huber", "poisson"}}, \
default="squared_error"
        Training loss, computed on the targets standardised with their
        (sample-weighted) mean and standard deviation (so ``huber``
        switches from squared to absolute error one standard deviation
        from the target). ``poisson`` is scikit-learn's: half the Poisson
        deviance, with a log link (the output layer predicts the log of the
        mean, ``out_activation_ = "exp"``), for counts and other
        non-negative targets; it needs ``y >= 0`` with a positive sum per
        column, and divides the targets by their (sample-weighted) mean
        instead of standardising them, so the network starts near the mean.

    {STANDARDIZE_INPUTS_PARAMETER}
    {DEVICE_PARAMETERS}
    Attributes
    ----------
    out_activation_ : {{"identity", "exp"}}
        ``"exp"`` for the Poisson loss.

    {FITTED_ATTRIBUTES}
    See Also
    --------
    sklearn.neural_network.MLPRegressor : scikit-learn's own perceptron.
    MLPClassifier : the same network for classification.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPRegressor
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> y = 3 * X.ravel() + 10
    >>> reg = MLPRegressor(max_iter=100, random_state=0).fit(X, y)
    >>> round(reg.score(X, y), 2)
    1.0
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "standardize_inputs": ["boolean"],
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "poisson"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, l1=0.0, dropout=0.0, batch_norm=False, batch_size="auto",
                 learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, lr_decay=0.5,
                 lr_step_size=10, lr_patience=5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=0, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="squared_error", standardize_inputs=True,
                 device="cpu", callbacks=None):
        _store_init_params(self, locals())

    def _encode_targets(self, y, *, reset, classes=None, sample_weight=None):
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        y = y.reshape(len(y), -1)
        poisson = self.loss == "poisson"
        if poisson and np.any(y < 0):
            raise ValueError(_POISSON_TARGETS)
        if reset:
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                if poisson:
                    shift = np.zeros(y.shape[1])
                    scale = np.average(y, axis=0, weights=sample_weight)
                else:
                    scaler = StandardScaler().fit(y, sample_weight=sample_weight)
                    shift, scale = scaler.mean_, scaler.scale_
            if poisson and np.any(scale <= 0):
                raise ValueError(_POISSON_TARGETS)
            if not np.all(np.isfinite(shift) & np.isfinite(scale)):
                raise ValueError(
                    f"y is too large to {'average' if poisson else 'standardise'}: its "
                    f"{'mean' if poisson else 'variance'} overflows float64 (largest |y|: "
                    f"{np.abs(y).max():.3g}). Divide y by a constant first, e.g. with "
                    "sklearn.compose.TransformedTargetRegressor.")
            self._target_shift, self._target_scale = shift, scale
            self.n_outputs_ = y.shape[1]
            self.out_activation_ = "exp" if poisson else "identity"
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} columns, but {type(self).__name__} "
                             f"was fitted with {self.n_outputs_}.")
        elif poisson != (self.out_activation_ == "exp"):
            raise ValueError(f"loss={self.loss!r} cannot go on training a model fitted "
                             f"with out_activation_={self.out_activation_!r}; fit it "
                             "anew (warm_start=False).")
        return (y - self._target_shift) / self._target_scale

    def _training_loss(self):
        return self.loss

    def _validation_score(self):
        return partial(_validation_r2, exp_link=self.out_activation_ == "exp")

    @available_if(_has_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one pass over ``X`` and ``y``.

        The first call fixes the target standardisation, so it should see
        representative targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=hasattr(self, "net_"),
                         one_pass=True)

    def predict(self, X):
        """Predicted targets, in the units of ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            1-D when the model has a single target.
        """
        scores = self._forward(X)
        if self.out_activation_ == "exp":
            scores = np.exp(scores)
        y_pred = scores * self._target_scale + self._target_shift
        return y_pred.ravel() if self.n_outputs_ == 1 else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
