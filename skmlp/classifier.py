"""MLPClassifier: a PyTorch multi-layer perceptron for classification."""

import numpy as np
import pandas as pd
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import (
    BaseMLP,
    _has_stochastic_solver,
    _store_init_params,
)
from ._losses import combined_sample_weight
from ._parameter_docs import (
    DEVICE_PARAMETERS,
    FITTED_ATTRIBUTES,
    STANDARDIZE_INPUTS_PARAMETER,
    training_parameters,
)

#: The rate of ``dropout="auto"`` with a stochastic solver: the defaults study
#: (``python -m benchmarks.defaults``, benchmarks/README.md) chose it.
_AUTO_DROPOUT = 0.3


def _validation_accuracy(outputs, data):
    """scikit-learn's accuracy of raw outputs on targets in training form.

    The targets are class indices (softmax) or 0/1 indicators, one column
    per label (logistic; a row counts when every label is right, as in
    scikit-learn's subset accuracy). Computed here rather than with
    ``accuracy_score``, whose input checks cost 0.4 ms, a tenth of a small
    data set's epoch.
    """
    y = data.y.cpu()
    correct = (outputs.argmax(dim=1) == y if y.ndim == 1
               else ((outputs > 0) == (y > 0.5)).all(dim=1)).double()
    if data.sample_weight is None:
        return float(correct.mean())
    weight = data.sample_weight.cpu().double()
    return float((correct * weight).sum() / weight.sum())


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained with PyTorch via skorch.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`
    with the same parameter names, plus dropout, batch norm, an L1 penalty,
    more activations, optimizers and learning-rate schedules, class
    weights and GPU training. Binary, multiclass and multilabel (2-D
    indicator ``y``) problems; labels of any type come back from
    ``predict`` as given.

    Two defaults differ from scikit-learn's, chosen on a study of fifteen
    data sets (``python -m benchmarks.defaults``; ``benchmarks/README.md``):
    two hidden layers of 128 units instead of one of 100, and dropout
    (``dropout="auto"``: 0.3, or 0 with ``solver="lbfgs"``).
    ``MLPClassifier(hidden_layer_sizes=(100,), dropout=0.0)`` trains
    scikit-learn's default network. The layers start, as scikit-learn's
    do, from Glorot uniform weights and biases. Unlike scikit-learn's, the
    network standardises its input itself (``standardize_inputs``).

    Parameters
    ----------
    {training_parameters(hidden_layer_sizes=(128, 128), dropout="auto")}
    class_weight : dict, list of dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn's linear
        models: ``"balanced"`` uses ``n_samples / (n_classes *
        np.bincount(y))`` (in ``fit`` only; ``partial_fit`` needs a dict).
        Multiplied with ``sample_weight``; finite and non-negative. For a
        binary problem, ``{{0: 1, 1: p}}`` gives the same loss as torch's
        ``BCEWithLogitsLoss(pos_weight=p)``. For a multilabel ``y``, a list
        of one dict per label (``[{{0: 1, 1: 5}}, {{0: 1, 1: 2}}]``), as in
        scikit-learn's ``RandomForestClassifier``: a sample's weight is the
        product of its weights under every label (so is ``"balanced"``'s).

    {STANDARDIZE_INPUTS_PARAMETER}
    {DEVICE_PARAMETERS}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (column indices for multilabel ``y``).

    out_activation_ : {{"logistic", "softmax"}}
        Output function: ``logistic`` for binary and multilabel problems,
        ``softmax`` for multiclass.

    {FITTED_ATTRIBUTES}
    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's own perceptron.
    MLPRegressor : the same network for regression.

    Examples
    --------
    >>> from skmlp import MLPClassifier
    >>> from skmlp.datasets import load_yeast
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_yeast(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     MLPClassifier(max_iter=20, random_state=0)).fit(X, y)
    >>> clf.classes_[:4].tolist()
    ['CYT', 'ERL', 'EXC', 'ME1']
    >>> clf.predict_proba(X.iloc[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "dropout": [*BaseMLP._parameter_constraints["dropout"], StrOptions({"auto"})],
        "standardize_inputs": ["boolean"],
        "class_weight": [dict, list, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(128, 128), activation="relu", *, solver="adam",
                 alpha=1e-4, l1=0.0, dropout="auto", batch_norm=False, batch_size="auto",
                 learning_rate="constant", learning_rate_init=1e-3, power_t=0.5, lr_decay=0.5,
                 lr_step_size=10, lr_patience=5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=0, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 class_weight=None, standardize_inputs=True,
                 device="cpu", callbacks=None):
        _store_init_params(self, locals())

    # -- targets -----------------------------------------------------------------

    def _check_fit_data(self, X, y, *, reset):
        # before scikit-learn's checks: None fails its sort of the labels, and
        # pandas' NA its NaN test, each with a TypeError; text mixed with
        # numbers is its "Unknown label type: unknown"
        dtype = getattr(y, "dtype", None)
        if y is not None and (dtype is None or not pd.api.types.is_numeric_dtype(dtype)):
            labels = np.asarray(y, dtype=object)
            missing = int(pd.isna(labels).sum())
            if missing:
                raise ValueError(
                    f"y has {missing} missing labels (None, NaN or NA); every sample needs "
                    "a label. Drop those rows, or give them a label of their own.")
            is_text = np.vectorize(lambda label: isinstance(label, str), otypes=[bool])(labels)
            if is_text.any() and not is_text.all():
                raise ValueError(
                    f"y mixes text labels ({labels[is_text][0]!r}) with labels of another "
                    f"type ({labels[~is_text][0]!r}); give every label one type, for "
                    "example with y.astype(str).")
        return super()._check_fit_data(X, y, reset=reset)

    def _encode_targets(self, y, *, reset, classes=None, sample_weight=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if y.ndim == 2 and type_of_target(y) == "multiclass-multioutput":
            raise ValueError(
                f"y has {y.shape[1]} columns of classes, not all binary: "
                f"{type(self).__name__} takes one column of classes, or a 0/1 indicator "
                "matrix (multilabel). For several multiclass targets, wrap it in "
                "sklearn.multioutput.MultiOutputClassifier.")
        if not reset and classes is not None and not np.array_equal(unique_labels(classes),
                                                                    self.classes_):
            raise ValueError(f"classes={np.asarray(classes).tolist()} is not the same as on the "
                             "first call to partial_fit, which set "
                             f"classes_={self.classes_.tolist()}.")
        if reset:
            if classes is not None and type_of_target(y) == "multilabel-indicator":
                # as scikit-learn: the labels of an indicator matrix are its columns
                columns = np.arange(y.shape[1])
                if not np.array_equal(unique_labels(classes), columns):
                    raise ValueError(
                        f"y is a multilabel indicator matrix of {y.shape[1]} columns, whose "
                        f"classes are the column indices {columns.tolist()}; got classes="
                        f"{np.asarray(classes).tolist()}.")
                classes = None
            self._label_binarizer = LabelBinarizer().fit(y if classes is None else classes)
            self.classes_ = self._label_binarizer.classes_
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes, but "
                    f"y holds only one class: {self.classes_.tolist()[0]!r}.")
            self.out_activation_ = ("softmax" if self._label_binarizer.y_type_ == "multiclass"
                                    else "logistic")
        if self._label_binarizer.y_type_ != "multilabel-indicator" and (
                not reset or classes is not None):
            labels = np.unique(y)
            if classes is None and not np.array_equal(labels, self.classes_):
                # a warm-started fit, which scikit-learn allows on the same classes only
                raise ValueError(
                    f"warm_start=True goes on fitting the same classes, but y has "
                    f"{labels.tolist()} where the previous fit had {self.classes_.tolist()}. "
                    "Use partial_fit to train on some of the classes, or warm_start=False to "
                    "fit a new network on these.")
            unseen = np.setdiff1d(labels, self.classes_)
            if unseen.size:
                raise ValueError(f"y has labels {unseen.tolist()} that are not in "
                                 f"classes_ {self.classes_.tolist()}.")
        # every label of y is one of classes_ by now (multilabel aside): class
        # positions directly, rather than LabelBinarizer's indicator matrix
        # (n_samples x n_classes integers, and half of a partial_fit call's time)
        if self.out_activation_ == "softmax":
            self.n_outputs_ = len(self.classes_)
            return np.searchsorted(self.classes_, y)
        if self._label_binarizer.y_type_ == "binary":
            self.n_outputs_ = 1
            return (y == self.classes_[1]).astype(np.float32).reshape(-1, 1)
        indicator = self._label_binarizer.transform(y)
        self.n_outputs_ = indicator.shape[1]
        return indicator.astype(np.float32)

    def _module_params(self, n_features, sizes):
        # scikit-learn's initialisation: on the ten data sets
        # benchmarks/defaults.py had then, it scored a higher macro-F1 than torch's on
        # every one (by 0.0003 to 0.012, one seed). The regressor and the
        # autoencoder keep torch's, which fitted them better (R² on digits as
        # regression 0.89 vs 0.83, mean of three seeds; see CHANGELOG).
        return {**super()._module_params(n_features, sizes), "module__init": "glorot"}

    def _stratify(self, y_encoded):
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        return y_encoded

    def _training_loss(self):
        return "cross_entropy" if self.out_activation_ == "softmax" else "binary_cross_entropy"

    def _validation_score(self):
        return _validation_accuracy

    def _dropout(self):
        if isinstance(self.dropout, str):  # "auto"
            return 0.0 if self.solver == "lbfgs" else _AUTO_DROPOUT
        return self.dropout

    def _sample_weight(self, X, y, sample_weight):
        # the type of y only where the weights' form depends on it: reading it
        # costs every partial_fit call ~0.2 ms a batch
        if isinstance(self.class_weight, (dict, list)):
            multilabel = type_of_target(y) == "multilabel-indicator"
            if multilabel and isinstance(self.class_weight, dict):
                raise ValueError(
                    f"For a multilabel y, class_weight takes one dict per label ({y.shape[1]} "
                    "dicts, each mapping 0 and 1 to a weight, as in scikit-learn's "
                    "RandomForestClassifier) or 'balanced'; got one dict.")
            if not multilabel and isinstance(self.class_weight, list):
                raise ValueError(
                    "class_weight is a list, which is for a multilabel y (one dict per "
                    "label); for one column of classes, give one dict mapping each class "
                    "to its weight.")
        return combined_sample_weight(X, y, sample_weight, self.class_weight)

    # -- fitting -----------------------------------------------------------------

    @available_if(_has_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one pass over ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Labels, or a label indicator matrix for multilabel problems.
        classes : array-like of shape (n_classes,), default=None
            Every label the model will ever see. Required on the first
            call; later calls may pass the same classes again, or None.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit (as in scikit-learn's "
                "SGDClassifier): each call sees one batch, whose class frequencies are not "
                "those of the data. Compute the weights once, from every class and a large "
                "enough sample of the targets, and pass them as a dict: class_weight=dict("
                "zip(classes, compute_class_weight('balanced', classes=classes, y=y_sample))).")
        first_call = not hasattr(self, "net_")
        if first_call and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("classes must be passed on the first call to partial_fit.")
        # later calls always name the classes, which tells them from a warm-started fit
        return self._fit(X, y, sample_weight, incremental=not first_call, one_pass=True,
                         classes=self.classes_ if classes is None and not first_call
                         else classes)

    # -- predicting ----------------------------------------------------------------

    def decision_function(self, X):
        """Raw scores (logits) of the output layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            One score per sample for binary problems (positive means
            ``classes_[1]``), else one per class or label.
        """
        scores = self._forward(X)
        return scores.ravel() if self.n_outputs_ == 1 else scores

    def predict_proba(self, X):
        """Probability of each class (or of each label, for multilabel ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            For binary and multiclass problems each row sums to 1.
        """
        scores = self._forward(X)
        if self.out_activation_ == "softmax":
            return softmax(scores, axis=1)
        proba = expit(scores)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([1 - proba, proba])
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self._forward(X)
        if self.out_activation_ == "softmax":
            return log_softmax(scores, axis=1)
        if self._label_binarizer.y_type_ == "binary":
            return np.hstack([log_expit(-scores), log_expit(scores)])
        return log_expit(scores)

    def predict(self, X):
        """Predicted labels, of the type and values given in ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        scores = self._forward(X)
        if self.out_activation_ == "softmax":
            return self.classes_[scores.argmax(axis=1)]
        return self._label_binarizer.inverse_transform((scores > 0).astype(int), threshold=0.5)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
