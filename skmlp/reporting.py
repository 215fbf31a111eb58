"""Metric tables and plots for fitted models.

Plots build on scikit-learn's ``*Display`` classes and Optuna's matplotlib
functions rather than redrawing them; matplotlib is imported only when a plot
is asked for (install ``skmlp[plot]``).
"""

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    matthews_corrcoef,
    mean_absolute_error,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted

__all__ = ["classification_scores", "classification_summary", "plot_confusion_matrix",
           "plot_learning_curves", "plot_roc_pr_curves", "plot_search",
           "plot_series_anomalies", "regression_scores"]


def classification_scores(y_true, y_pred, y_proba=None, labels=None):
    """Overall classification metrics as a Series.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,), default=None
        Predicted probabilities, columns in the order of ``labels``; adds
        ROC-AUC (one-vs-rest, macro) and log loss. With two classes a 1-D
        array is the probability of the second (``predict_proba(X)[:, 1]``),
        as scikit-learn's ``roc_auc_score`` and ``log_loss`` read it.
    labels : array-like, default=None
        Every class label, in the column order of ``y_proba`` (e.g. an
        estimator's ``classes_``). Needed when a test fold lacks a class.

    Returns
    -------
    scores : pandas.Series
        ``accuracy``, ``balanced_accuracy``, ``f1_macro``, ``mcc`` and,
        with ``y_proba``, ``roc_auc`` and ``log_loss``.

    Examples
    --------
    >>> from skmlp.reporting import classification_scores
    >>> float(classification_scores([0, 1, 1, 0], [0, 1, 0, 0])["accuracy"])
    0.75
    """
    if type_of_target(y_true) == "multilabel-indicator":
        raise ValueError(
            "classification_scores takes one label per sample: balanced accuracy and MCC "
            "are not defined for a multilabel indicator matrix. classification_summary "
            "gives its precision, recall, specificity and F1 per label.")
    scores = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "mcc": matthews_corrcoef(y_true, y_pred),
    }
    if y_proba is not None:
        y_proba = np.asarray(y_proba)
        labels = np.unique(y_true) if labels is None else np.asarray(labels)
        if y_proba.ndim == 1 and len(labels) == 2:
            y_proba = np.column_stack([1 - y_proba, y_proba])
        if y_proba.ndim != 2 or y_proba.shape[1] != len(labels):
            raise ValueError(
                f"y_proba has shape {y_proba.shape}, but there are {len(labels)} labels "
                f"({labels.tolist()}): it needs one column per label, in their order. Pass "
                "labels=estimator.classes_ when y_true lacks a class.")
        scores["roc_auc"] = _roc_auc(y_true, y_proba, labels)
        # log_loss reads the columns in sorted label order, whatever the order of labels
        order = np.argsort(labels)
        scores["log_loss"] = log_loss(y_true, y_proba[:, order], labels=labels[order])
    return pd.Series(scores)


def _roc_auc(y_true, y_proba, labels):
    """Macro one-vs-rest ROC-AUC over the classes present in ``y_true``."""
    present = np.isin(labels, np.unique(y_true))
    if present.sum() < 2:
        return np.nan
    if len(labels) == 2:
        return roc_auc_score(np.asarray(y_true) == labels[1], y_proba[:, 1])
    return np.mean([roc_auc_score(np.asarray(y_true) == label, y_proba[:, i])
                    for i, label in enumerate(labels) if present[i]])


def regression_scores(y_true, y_pred):
    """RMSE, MAE and R² as a Series.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True and predicted targets; several outputs are averaged.

    Returns
    -------
    scores : pandas.Series
        ``rmse``, ``mae`` and ``r2``.

    Examples
    --------
    >>> from skmlp.reporting import regression_scores
    >>> round(float(regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])["mae"]), 3)
    0.333
    """
    return pd.Series({
        "rmse": root_mean_squared_error(y_true, y_pred),
        "mae": mean_absolute_error(y_true, y_pred),
        "r2": r2_score(y_true, y_pred),
    })


def classification_summary(y_true, y_pred, labels=None):
    """Per-class table of precision, recall, specificity, F1 and support.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_labels)
        True and predicted labels, or multilabel indicator matrices (a row
        per label, named by its column number).
    labels : array-like, default=None
        Classes to report, in order; by default every label seen (every
        column of an indicator matrix). A class absent from ``y_true`` has
        recall and F1 0 (``zero_division=0``, as ``classification_report``).

    Returns
    -------
    table : pandas.DataFrame
        One row per class, then ``macro avg`` and ``weighted avg``;
        columns ``precision``, ``recall`` (sensitivity), ``specificity``,
        ``f1``, ``support``.

    Examples
    --------
    >>> from skmlp.reporting import classification_summary
    >>> table = classification_summary(["a", "b", "b", "a"], ["a", "b", "a", "a"])
    >>> table.loc["b", ["recall", "specificity"]].tolist()
    [0.5, 1.0]
    """
    labels = unique_labels(y_true, y_pred) if labels is None else np.asarray(labels)
    if not len(labels):
        raise ValueError("labels is empty: name at least one class to report.")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    (tn, fp), _ = multilabel_confusion_matrix(y_true, y_pred, labels=labels).transpose(1, 2, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        specificity = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
    table = pd.DataFrame({"precision": precision, "recall": recall,
                          "specificity": specificity, "f1": f1, "support": support},
                         index=pd.Index(labels, name="class"))
    per_class = table.drop(columns="support")
    table.loc["macro avg"] = [*per_class.mean(), support.sum()]
    # none of the labels in y_true: 0, as classification_report's zero_division=0
    weighted = (np.average(per_class, axis=0, weights=support) if support.sum()
                else np.zeros(per_class.shape[1]))
    table.loc["weighted avg"] = [*weighted, support.sum()]
    table["support"] = table["support"].astype(int)
    return table


def _epoch_curves(estimator):
    """Loss and score curves: ``({label: (epochs, values)}, {label: (epochs, values)})``."""
    if hasattr(estimator, "history_"):
        # a warm-started fit may record a key for some epochs only
        def curve(key):
            epochs = [row for row in estimator.history_ if key in row]
            return [row["epoch"] for row in epochs], [row[key] for row in epochs]

        last = estimator.history_[-1]
        losses = {"train loss": curve("train_loss")}
        if "valid_loss" in last:
            losses["validation loss"] = curve("valid_loss")
        # the validation score under scikit-learn's label, other scores under their keys
        return losses, {("validation score" if key == "valid_score" else key): curve(key)
                        for key in last if str(key).endswith("_score")}
    # scikit-learn's MLP: the training loss (with its L2 term) and, with
    # early stopping, the validation accuracy or R² of each epoch
    epochs = list(range(1, len(estimator.loss_curve_) + 1))
    scores = getattr(estimator, "validation_scores_", None)
    return ({"train loss": (epochs, estimator.loss_curve_)},
            {} if scores is None else {"validation score": (epochs, scores)})


def plot_learning_curves(estimator, ax=None):
    """Training (and validation) loss per epoch of a fitted MLP.

    The validation score of early stopping (``validation_scores_``), and
    any per-epoch score recorded in the history under a key ending in
    ``_score`` (by a callback of your own, say), are drawn on a second axis.
    scikit-learn's ``MLPClassifier`` and ``MLPRegressor`` work too, for a
    comparison on the same axes: their ``loss_curve_``, and
    ``validation_scores_`` on the second axis.

    Parameters
    ----------
    estimator : fitted skmlp or scikit-learn MLP estimator, Pipeline or search
        A pipeline's curves are those of its last step; a search's
        (``GridSearchCV``, :class:`~skmlp.OptunaSearchCV`), those of its
        refit ``best_estimator_``.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.reporting import plot_learning_curves
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    >>> [line.get_label() for line in plot_learning_curves(clf).get_lines()]
    ['train loss']
    """
    check_matplotlib_support("skmlp.reporting.plot_learning_curves")
    import matplotlib.pyplot as plt

    if hasattr(estimator, "best_estimator_"):  # a fitted search, refit
        estimator = estimator.best_estimator_
    elif hasattr(estimator, "cv_results_"):
        raise ValueError(f"{type(estimator).__name__} was fitted with refit=False, so it has "
                         "no best_estimator_ whose curves to draw; fit it with refit=True, or "
                         "fit the estimator with its best_params_ and draw that.")
    if hasattr(estimator, "steps"):  # scikit-learn's or imblearn's Pipeline
        estimator = estimator.steps[-1][1]
    check_is_fitted(estimator)
    if not hasattr(estimator, "history_") and not hasattr(estimator, "loss_curve_"):
        raise ValueError(f"{type(estimator).__name__} keeps no loss per epoch: learning "
                         "curves need a stochastic-solver MLP of skmlp or scikit-learn.")
    ax = ax if ax is not None else plt.subplots()[1]
    losses, scores = _epoch_curves(estimator)
    for label, (epochs, values) in losses.items():
        ax.plot(epochs, values, label=label)
    ax.set(xlabel="epoch", ylabel="loss", title=type(estimator).__name__)
    if scores:
        twin = ax.twinx()
        for label, (epochs, values) in scores.items():
            twin.plot(epochs, values, linestyle="--", label=label)
        twin.set_ylabel("score")
        twin.legend(loc="center right")
    ax.legend(loc="upper right")
    return ax


def plot_confusion_matrix(estimator, X, y, *, normalize="true", ax=None):
    """Confusion matrix of ``estimator`` on ``X, y``, drawn by ``ConfusionMatrixDisplay``.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        True labels.
    normalize : {"true", "pred", "all"} or None, default="true"
        As in ``confusion_matrix``: ``"true"`` shows each class's recall on
        the diagonal; ``None`` shows counts.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_wine
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmlp import MLPClassifier
    >>> from skmlp.reporting import plot_confusion_matrix
    >>> X, y = load_wine(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=0))
    >>> ax = plot_confusion_matrix(model.fit(X, y), X, y, normalize=None)  # counts
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Predicted label', 'True label')
    """
    check_matplotlib_support("skmlp.reporting.plot_confusion_matrix")
    from sklearn.metrics import ConfusionMatrixDisplay

    if type_of_target(y) == "multilabel-indicator":
        raise ValueError("plot_confusion_matrix takes one label per sample; for a multilabel "
                         "indicator matrix, sklearn.metrics.multilabel_confusion_matrix gives "
                         "a 2 x 2 matrix per label, and classification_summary their rates.")
    display = ConfusionMatrixDisplay.from_estimator(
        estimator, X, y, normalize=normalize, ax=ax, xticks_rotation="vertical",
        values_format="d" if normalize is None else ".2f")
    return display.ax_


def plot_roc_pr_curves(estimator, X, y, axes=None):
    """One-vs-rest ROC and precision-recall curves, one line per class.

    Built on ``RocCurveDisplay.from_predictions`` and
    ``PrecisionRecallDisplay.from_predictions``. A binary classifier gets
    one line, for its positive class (``classes_[1]``); a multilabel one, a
    line per label; a class absent from ``y``, or the only one there, gets
    none.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline with ``predict_proba``
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels, or the 0/1 indicator matrix of a multilabel classifier.
    axes : sequence of two matplotlib Axes, default=None

    Returns
    -------
    axes : tuple of two matplotlib Axes
        ``(roc_ax, pr_ax)``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skmlp import MLPClassifier
    >>> from skmlp.reporting import plot_roc_pr_curves
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y)
    >>> roc_ax, pr_ax = plot_roc_pr_curves(clf, X, y)  # binary: the positive class only
    >>> [line.get_label().split()[0] for line in roc_ax.get_lines() + pr_ax.get_lines()]
    ['1', '1']
    >>> roc_ax.get_title()
    'ROC (positive class 1)'
    """
    check_matplotlib_support("skmlp.reporting.plot_roc_pr_curves")
    import matplotlib.pyplot as plt
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    if not hasattr(estimator, "predict_proba"):
        raise ValueError(f"{type(estimator).__name__} has no predict_proba: ROC and "
                         "precision-recall curves need a classifier's probabilities.")
    roc_ax, pr_ax = axes if axes is not None else plt.subplots(1, 2, figsize=(11, 4.5))[1]
    proba = estimator.predict_proba(X)
    y = np.asarray(y)
    classes = estimator.classes_
    # a column of y and of proba per label, as classification_scores tells them
    multilabel = type_of_target(y) == "multilabel-indicator"
    shown = classes[1:] if len(classes) == 2 and not multilabel else classes
    for label in shown:
        column = list(classes).index(label)
        positive = y[:, column] == 1 if multilabel else y == label
        if positive.any() and not positive.all():
            RocCurveDisplay.from_predictions(positive, proba[:, column], name=str(label),
                                             ax=roc_ax)
            PrecisionRecallDisplay.from_predictions(positive, proba[:, column],
                                                    name=str(label), ax=pr_ax)
    # the displays name the positive label of a single curve ("True" here)
    lines = ("per label" if multilabel else "one vs rest" if len(shown) > 1
             else f"positive class {shown[0]}")
    roc_ax.set(title=f"ROC ({lines})", xlabel="False positive rate",
               ylabel="True positive rate")
    pr_ax.set(title=f"Precision-recall ({lines})", xlabel="Recall", ylabel="Precision")
    return roc_ax, pr_ax


def plot_series_anomalies(series, flags, *, scores=None, threshold=None, windows=None,
                          axes=None):
    """A series with its flagged points, and optionally its anomaly score.

    Parameters
    ----------
    series : pandas.Series or array-like of shape (n_samples,)
        The values, indexed by time (an array is drawn against positions).
    flags : array-like of bool, shape (n_samples,)
        Points flagged as anomalous (e.g. ``window_scores_to_samples(...) == -1``);
        0 and 1 stand for False and True.
    scores : array-like of shape (n_samples,), default=None
        An anomaly score per point (higher = more anomalous); drawn on a
        second panel with ``threshold``.
    threshold : float, default=None
    windows : list of (start, end), default=None
        Labelled anomaly windows to shade (e.g. ``load_nab(...).windows``).
    axes : sequence of matplotlib Axes, default=None

    Returns
    -------
    axes : list of matplotlib Axes
        The series panel, then the score panel when ``scores`` is given.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmlp.reporting import plot_series_anomalies
    >>> values = np.sin(np.arange(100) / 5.0)
    >>> values[60] = 4.0
    >>> axes = plot_series_anomalies(values, np.abs(values) > 2, scores=np.abs(values),
    ...                              threshold=2.0)
    >>> len(axes)
    2
    """
    check_matplotlib_support("skmlp.reporting.plot_series_anomalies")
    import matplotlib.pyplot as plt

    if isinstance(series, pd.DataFrame) and series.shape[1] == 1:
        series = series.iloc[:, 0]
    if not isinstance(series, pd.Series):
        points = np.asarray(series, dtype=float)
        if points.ndim == 2 and points.shape[1] == 1:
            points = points[:, 0]
        if points.ndim != 1:
            raise ValueError(f"plot_series_anomalies draws one series, but got values of "
                             f"shape {points.shape}; pass one column of them.")
        series = pd.Series(points)

    for name, values in (("flags", flags), ("scores", scores)):
        if values is not None and len(values) != len(series):
            raise ValueError(f"{name} has {len(values)} values, but the series has "
                             f"{len(series)}: one per point is needed.")
    flags = np.asarray(flags)
    if not np.isin(flags, (0, 1)).all():
        # as booleans, an outlier detector's -1/+1 labels would flag every point
        raise ValueError(f"flags holds True (or 1) for a flagged point and False (or 0) "
                         f"elsewhere, but got the values {np.unique(flags)[:5].tolist()}; "
                         "for an outlier detector's labels pass labels == -1.")
    flags = flags.astype(bool)
    n_panels = 1 if scores is None else 2
    if axes is None:
        axes = plt.subplots(n_panels, 1, figsize=(11, 3 * n_panels), sharex=True,
                            squeeze=False)[1][:, 0]
    axes[0].plot(series.index, series.to_numpy(), linewidth=0.7, label="value")
    axes[0].scatter(series.index[flags], series.to_numpy()[flags], color="tab:red", s=6,
                    label="flagged", zorder=3)
    if scores is not None:
        axes[1].plot(series.index, scores, linewidth=0.7, color="tab:gray",
                     label="anomaly score")
        if threshold is not None:
            axes[1].axhline(threshold, color="tab:red", linestyle="--", label="threshold")
        axes[1].legend(loc="upper right")
    for start, end in windows or []:
        for ax in axes:
            ax.axvspan(start, end, color="tab:orange", alpha=0.2)
    axes[0].legend(loc="upper right")
    return list(axes)


def plot_search(search, params=None):
    """Optimisation history and parameter importances of a fitted ``OptunaSearchCV``.

    Uses Optuna's own matplotlib functions
    (``plot_optimization_history``, ``plot_param_importances``).

    Parameters
    ----------
    search : fitted skmlp.OptunaSearchCV
    params : list of str, default=None
        Parameters to rank; all by default.

    Returns
    -------
    axes : tuple of two matplotlib Axes
        ``(history_ax, importances_ax)``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier, OptunaSearchCV
    >>> from skmlp.reporting import plot_search
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(
    ...     MLPClassifier(max_iter=5), {"alpha": FloatDistribution(1e-4, 1.0, log=True),
    ...                                 "dropout": FloatDistribution(0.0, 0.5)},
    ...     n_trials=3, cv=2, random_state=0).fit(X, y)
    >>> history_ax, importances_ax = plot_search(search)
    >>> history_ax.get_title()
    'Optimization History Plot'
    """
    check_matplotlib_support("skmlp.reporting.plot_search")
    import warnings

    from optuna.exceptions import ExperimentalWarning
    from optuna.visualization import matplotlib as optuna_plots

    if hasattr(search, "cv_results_") and not hasattr(search, "study_"):
        raise TypeError(f"plot_search draws an Optuna study, which {type(search).__name__} "
                        "does not have: it takes a fitted skmlp.OptunaSearchCV. A grid "
                        "search's results are in pandas.DataFrame(search.cv_results_).")
    check_is_fitted(search, "study_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        history = optuna_plots.plot_optimization_history(search.study_)
        importances = optuna_plots.plot_param_importances(search.study_, params=params)
    return history, importances
