"""MLPAutoencoder: anomaly detector and encoder with scikit-learn's conventions."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    OutlierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import (
    BaseMLP,
    _dropout_per_layer,
    _has_stochastic_solver,
    _input_statistics,
    _layer_sizes,
    _store_init_params,
)
from ._data import TensorData, as_stored_tensor
from ._parameter_docs import DEVICE_PARAMETERS, FITTED_ATTRIBUTES, training_parameters
from ._validation import check_features
from ._warnings import warn_at_caller
from .modules import Autoencoder, Standardize

#: the widest bottleneck ``latent_dim="auto"`` chooses
_AUTO_LATENT_DIM = 8
# how far min-max scaled features may stray from [0, 1] by rounding alone
_UNIT_RANGE_ROUNDING = 1e-6


def _warn_outside_the_unit_range(targets):
    """Warn that a sigmoid output cannot reconstruct training features outside [0, 1]."""
    low, high = float(targets.min()), float(targets.max())
    if low < -_UNIT_RANGE_ROUNDING or high > 1 + _UNIT_RANGE_ROUNDING:
        warn_at_caller(
            f"output_activation='sigmoid' reconstructs values in [0, 1], but the features "
            f"range from {low:.4g} to {high:.4g}: the reconstruction errors then measure "
            "how far a value lies outside [0, 1], not how normal its sample is. Scale the "
            "features to [0, 1] (e.g. with MinMaxScaler), or leave "
            "output_activation=None.", UserWarning)


class MLPAutoencoder(ClassNamePrefixFeaturesOutMixin, OutlierMixin, TransformerMixin, BaseMLP):
    __doc__ = f"""Autoencoder for anomaly detection and encoding, trained with PyTorch.

    Train it on normal data; samples it cannot reconstruct are flagged. It
    follows scikit-learn's outlier-detector conventions (as
    :class:`~sklearn.ensemble.IsolationForest`): ``score_samples`` is higher
    for more normal samples, ``decision_function = score_samples - offset_``
    is negative for outliers, and ``predict`` returns -1 (outlier) or +1.
    It is also a transformer: ``transform`` gives the latent codes and
    ``inverse_transform`` decodes them. It standardises the features first
    (``standardize_inputs``), so that each counts alike whatever its units.

    Parameters
    ----------
    {training_parameters(hidden_layer_sizes=(64,), dropout=0.0)
      .replace("of each hidden layer", "of each hidden encoder layer")}
    decoder_layer_sizes : array-like of shape (n_layers,), default=None
        Hidden widths of the decoder; by default the encoder's, reversed.

    latent_dim : int or "auto", default="auto"
        Width of the bottleneck. It should be smaller than the number of
        features, or the network can learn the identity map. ``"auto"``
        takes half the features, at least 1 and at most 8: the bottleneck
        stays narrower than the input however few features there are. On
        nine anomaly data sets of 4 to 64 features it ranked anomalies as
        well as a fixed width of 8 on average, better on some and worse on
        others (``python -m benchmarks.defaults --kind anomaly``).

    output_activation : {{None, "sigmoid"}}, default=None
        Applied to the reconstruction; ``"sigmoid"`` for inputs scaled to
        [0, 1] (e.g. with ``MinMaxScaler``): training features outside
        [0, 1] give a warning, as the reconstruction cannot reach them.

    loss : {{"squared_error", "absolute_error"}}, default="squared_error"
        Reconstruction loss; also the per-feature error that scores samples
        (of the standardised features, with ``standardize_inputs``).
        ``"absolute_error"`` grows linearly in a deviation's size, so
        outliers left in the training data pull the fit less: on the NAB
        AAPL series, whose training period holds a labelled anomaly, it
        cut the false alarms from 25 to 11 per 1,000 points (mean of three
        seeds, ``python -m benchmarks.anomaly``).

    contamination : "auto" or float in (0, 0.5], default="auto"
        Sets ``offset_``. A float is the expected share of outliers: the
        threshold is that quantile of the scores. ``"auto"`` uses Tukey's
        fence: a sample is an outlier when its reconstruction error exceeds
        Q3 + 1.5 IQR of the errors. The scores are those of the training
        data, or of the held-out validation split when
        ``early_stopping=True``.

    standardize_inputs : bool or "auto", default="auto"
        Standardise each feature (mean 0, standard deviation 1 over the
        rows ``fit`` is given, weighted by ``sample_weight``, as
        ``StandardScaler``) before the network encodes it and compares its
        reconstruction with it, so that every feature counts alike in the
        loss and in the scores, whatever its units; on raw features, those
        in the largest units would make up the reconstruction error. Columns
        of only 0 and 1 (one-hot codes, flags) are left as they are.
        ``"auto"`` standardises unless ``output_activation="sigmoid"``,
        whose reconstruction lies in [0, 1] as min-max scaled input does.
        The statistics come from the first ``fit`` (or ``partial_fit``) and a
        warm start keeps them; ``transform`` and the scores standardise
        their input with them, ``inverse_transform`` returns the input's
        units. On input a ``StandardScaler`` has already standardised it
        changes no value. Scores with and without it are in other units:
        a search over it needs a scorer of the detection itself, not
        :meth:`score`.

    {DEVICE_PARAMETERS}
    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples``: samples scoring below are outliers.
        Set from ``contamination`` and the scores of the training rows (of
        the validation split with ``early_stopping=True``) after each
        ``fit``, and after each ``partial_fit`` from the rows that call was
        given.

    latent_dim_ : int
        Width of the bottleneck, resolved from ``latent_dim``.

    {FITTED_ATTRIBUTES}
    See Also
    --------
    sklearn.ensemble.IsolationForest : tree-based outlier detector.
    skmlp.windows.SlidingWindows : turns a time series into windows.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp import MLPAutoencoder
    >>> rng = np.random.RandomState(0)
    >>> normal = rng.normal(size=(500, 2)) @ [[1.0, 1.0, 0.5, 2.0], [0.0, 1.0, -1.0, 1.0]]
    >>> detector = MLPAutoencoder(latent_dim=2, random_state=0).fit(normal)
    >>> detector.predict([[1.0, 1.0, 0.5, 2.0], [3.0, -3.0, 3.0, -3.0]])
    array([ 1, -1])
    >>> detector.transform(normal[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "decoder_layer_sizes": ["array-like", None],
        "latent_dim": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "output_activation": [StrOptions({"sigmoid"}), None],
        "loss": [StrOptions({"squared_error", "absolute_error"})],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "standardize_inputs": ["boolean", StrOptions({"auto"})],
    }

    def __init__(self, hidden_layer_sizes=(64,), activation="relu", *, solver="adam",
                 alpha=1e-4, l1=0.0, dropout=0.0, batch_norm=False, batch_size="auto",
                 learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, lr_decay=0.5,
                 lr_step_size=10, lr_patience=5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=0, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 decoder_layer_sizes=None, latent_dim="auto", output_activation=None,
                 loss="squared_error", contamination="auto", standardize_inputs="auto",
                 device="cpu", callbacks=None):
        _store_init_params(self, locals())

    # -- training ------------------------------------------------------------------

    def _check_fit_data(self, X, y, *, reset):
        X = check_features(self, X, reset=reset)
        if reset:
            n_features = X.shape[1]
            self.latent_dim_ = self._latent_width(n_features)
            if self.latent_dim_ >= n_features:
                warn_at_caller(
                    f"latent_dim={self.latent_dim!r} gives a bottleneck of {self.latent_dim_}, "
                    f"not smaller than the {n_features} input features: the autoencoder "
                    "can learn the identity map and then flags nothing. Use a smaller "
                    "latent_dim.", UserWarning)
        return X, X

    def _latent_width(self, n_features):
        """The width of the bottleneck that ``latent_dim`` asks for."""
        if self.latent_dim == "auto":
            return min(_AUTO_LATENT_DIM, max(1, n_features // 2))
        return self.latent_dim

    def _standardizes(self):
        """Whether ``standardize_inputs`` asks for standardised features."""
        if self.standardize_inputs == "auto":
            return self.output_activation is None
        if self.standardize_inputs and self.output_activation == "sigmoid":
            raise ValueError(
                "standardize_inputs=True gives features of mean 0, which "
                "output_activation='sigmoid' cannot reconstruct: its output lies in [0, 1]. "
                "Scale the features to [0, 1] (e.g. with MinMaxScaler) and set "
                "standardize_inputs=False, or leave output_activation=None.")
        return self.standardize_inputs

    def _encode_targets(self, y, *, reset, classes=None, sample_weight=None):
        # the targets are the features: their statistics standardise both
        # sides of the network (see _datasets)
        standardizes = self._standardizes()
        if reset:
            self.n_outputs_ = y.shape[1]
            self.out_activation_ = self.output_activation or "identity"
            self._standardizer = (Standardize(y.shape[1]).fit_statistics(
                *_input_statistics(y, sample_weight)) if standardizes else None)
        elif standardizes != (self._standardizer is not None):
            fitted = "standardised" if self._standardizer is not None else "as given"
            asked = f"standardize_inputs={self.standardize_inputs!r}"
            if self.standardize_inputs == "auto":
                asked += f" with output_activation={self.output_activation!r}"
            raise ValueError(
                f"The fitted network takes its features {fitted}, but {asked} asks for "
                "them otherwise. Restore the parameters, or fit a new network "
                "(warm_start=False).")
        if self.output_activation == "sigmoid":
            _warn_outside_the_unit_range(y)
        return y

    def _datasets(self, X, targets, weight, device, *, split):
        parts = super()._datasets(X, targets, weight, device, split=split)
        if self._standardizer is None:
            return parts
        standardized = []
        for part in parts:
            if part is not None:
                rows = self._standardized(part.X)  # both the input and the target
                part = TensorData(rows, rows, part.sample_weight)
            standardized.append(part)
        return tuple(standardized)

    def _standardized(self, X):
        """Feature rows (a tensor) as the network takes them."""
        standardizer = self._standardizer
        if standardizer is None:
            return X
        if standardizer.factor.device != X.device:  # kept on the CPU, for pickling
            standardizer = copy.deepcopy(standardizer).to(X.device)
        return standardizer(X)

    def _input_standardizer(self):
        return self._standardizer

    def _training_loss(self):
        return self.loss

    def _module_params(self, n_features, sizes):
        decoder_sizes = (sizes[::-1] if self.decoder_layer_sizes is None
                         else _layer_sizes(self.decoder_layer_sizes))
        return dict(
            module=Autoencoder,
            module__n_features=n_features,
            module__encoder_sizes=sizes,
            module__decoder_sizes=decoder_sizes,
            module__latent_dim=self._latent_width(n_features),
            module__activation=self.activation,
            module__output_activation=self.output_activation,
            module__dropout=_dropout_per_layer(self.dropout, len(sizes) + len(decoder_sizes)),
            module__batch_norm=self.batch_norm,
        )

    def _after_training(self, train, valid):
        scores = -self._errors((train if valid is None else valid).X).mean(axis=1)
        if self.contamination == "auto":
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = -(q3 + 1.5 * (q3 - q1))
        else:
            self.offset_ = np.percentile(scores, 100 * self.contamination)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, ideally normal samples only.
        y : Ignored
            Present for API consistency.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights in the reconstruction loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        incremental = self.warm_start and hasattr(self, "net_")
        return self._fit(X, None, sample_weight, incremental=incremental, one_pass=False)

    @available_if(_has_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one pass over ``X``, and set ``offset_`` from its scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, None, sample_weight, incremental=hasattr(self, "net_"),
                         one_pass=True)

    # -- scoring -------------------------------------------------------------------

    def _errors(self, X):
        """Per-feature reconstruction errors of validated data (an array), or
        of rows as the network takes them (a tensor)."""
        if not isinstance(X, torch.Tensor):
            X = self._standardized(as_stored_tensor(X, self.net_.device))
        difference = self.net_.forward(X, device=X.device).double() - X.double()
        errors = difference ** 2 if self.loss == "squared_error" else difference.abs()
        return errors.cpu().numpy()

    def reconstruction_error(self, X, per_feature=False):
        """Reconstruction error of each sample, or of each feature of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        per_feature : bool, default=False
            Return the error of every feature, to see which one drove an
            alarm.

        Returns
        -------
        errors : ndarray of shape (n_samples,) or (n_samples, n_features)
            Squared (or absolute, with ``loss="absolute_error"``) errors, of
            the standardised features with ``standardize_inputs``; per
            sample, their mean over features.
        """
        check_is_fitted(self, "net_")
        errors = self._errors(check_features(self, X, reset=False))
        return errors if per_feature else errors.mean(axis=1)

    def score_samples(self, X):
        """Normality of each sample: the negative reconstruction error.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is more normal.
        """
        return -self.reconstruction_error(X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples`: the negative mean reconstruction error.

        Higher is better, as for scikit-learn's scorers, so that
        ``GridSearchCV``, :class:`~skmlp.OptunaSearchCV` and
        ``cross_val_score`` without a ``scoring`` rank autoencoders by how
        well they reconstruct held-out data (as ``PCA.score`` ranks PCAs by
        likelihood). A wider bottleneck reconstructs better and detects no
        better: search ``latent_dim`` with a scorer of the detection itself
        where labelled outliers exist.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """-1 for outliers, +1 for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    # -- encoding ------------------------------------------------------------------

    def transform(self, X):
        """Latent codes of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, latent_dim_)
        """
        check_is_fitted(self, "net_")
        X = self._standardized(as_stored_tensor(check_features(self, X, reset=False),
                                                self.net_.device))
        return self.net_.apply(self.net_.module_.encoder, X).double().numpy()

    def inverse_transform(self, X):
        """Reconstructions decoded from latent codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, latent_dim_)
            Latent codes, e.g. from :meth:`transform`.

        Returns
        -------
        reconstructions : ndarray of shape (n_samples, n_features_in_)
        """
        check_is_fitted(self, "net_")
        codes = check_array(X, dtype=(np.float32, np.float64), input_name="X")
        if codes.shape[1] != self.latent_dim_:
            raise ValueError(f"inverse_transform takes latent codes of width "
                             f"{self.latent_dim_}, got {codes.shape[1]} columns.")
        reconstructions = self.net_.apply(self.net_.module_.decoder, codes)
        if self._standardizer is not None:
            reconstructions = self._standardizer.inverse(reconstructions)
        return reconstructions.double().numpy()

    @property
    def _n_features_out(self):
        """Width of ``transform``'s output, for ``get_feature_names_out``."""
        return self.latent_dim_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # reconstruction errors are computed on dense inputs
        tags.input_tags.sparse = False
        return tags
