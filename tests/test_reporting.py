"""Metric tables and plots."""

import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from optuna.distributions import FloatDistribution  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification, make_multilabel_classification  # noqa: E402
from sklearn.metrics import confusion_matrix, f1_score, log_loss, roc_auc_score, roc_curve  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skmlp import MLPClassifier, MLPRegressor, OptunaSearchCV  # noqa: E402
from skmlp.reporting import (  # noqa: E402
    classification_scores,
    classification_summary,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_roc_pr_curves,
    plot_search,
    plot_series_anomalies,
    regression_scores,
)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    labels = np.array(["a", "b", "c"])[y]
    return MLPClassifier(max_iter=30, early_stopping=True, random_state=0).fit(X, labels), X, \
        labels


def test_summary_table_has_per_class_specificity_and_averages():
    y_true = np.array(["x", "x", "y", "y", "z", "z"])
    y_pred = np.array(["x", "y", "y", "y", "z", "x"])
    table = classification_summary(y_true, y_pred)
    assert list(table.index) == ["x", "y", "z", "macro avg", "weighted avg"]
    # class x: TP=1, FP=1 (a z predicted x), TN=3 -> specificity 3/4
    assert table.loc["x", "specificity"] == pytest.approx(0.75)
    assert table.loc["y", "recall"] == 1.0 and table.loc["y", "precision"] == pytest.approx(2 / 3)
    assert table.loc["macro avg", "f1"] == pytest.approx(f1_score(y_true, y_pred,
                                                                  average="macro"))
    assert table.loc["macro avg", "support"] == 6


def test_summary_of_labels_absent_from_y_true_scores_them_zero():
    # a class chosen for a look that this fold lacks: zero, as classification_report
    table = classification_summary(["x", "x", "y"], ["x", "x", "y"], labels=["z"])
    assert list(table.index) == ["z", "macro avg", "weighted avg"]
    assert table.loc["weighted avg"].tolist() == [0.0, 0.0, 0.0, 0.0, 0]
    assert table.loc["z", "specificity"] == 1.0
    with pytest.raises(ValueError, match="labels is empty"):
        classification_summary(["x", "y"], ["x", "y"], labels=[])


def test_summary_of_a_multilabel_indicator_matrix_has_a_row_per_label():
    Y_true = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]])
    Y_pred = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]])
    table = classification_summary(Y_true, Y_pred)
    assert list(table.index) == [0, 1, 2, "macro avg", "weighted avg"]
    # label 0: TP=1, FN=1, TN=2 -> recall 1/2, specificity 1
    assert table.loc[0, "recall"] == 0.5 and table.loc[0, "specificity"] == 1.0
    assert table.loc["macro avg", "f1"] == pytest.approx(f1_score(Y_true, Y_pred,
                                                                  average="macro"))
    with pytest.raises(ValueError, match="one label per sample.*classification_summary"):
        classification_scores(Y_true, Y_pred)
    clf = MLPClassifier(max_iter=2, random_state=0).fit(Y_true, Y_true)
    with pytest.raises(ValueError, match="one label per sample.*multilabel_confusion_matrix"):
        plot_confusion_matrix(clf, Y_true, Y_true)


def test_scores_include_probability_metrics(fitted):
    clf, X, y = fitted
    scores = classification_scores(y, clf.predict(X), clf.predict_proba(X), labels=clf.classes_)
    assert set(scores.index) == {"accuracy", "balanced_accuracy", "f1_macro", "mcc", "roc_auc",
                                 "log_loss"}
    assert scores["roc_auc"] == pytest.approx(
        roc_auc_score(y, clf.predict_proba(X), multi_class="ovr"))
    assert regression_scores([1.0, 2.0], [1.0, 4.0])["rmse"] == pytest.approx(np.sqrt(2))


def test_probability_scores_follow_the_column_order_that_labels_give():
    y_true = np.array(["a", "b", "c", "a"])
    y_pred = np.array(["a", "b", "b", "a"])
    proba = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.6, 0.3], [0.7, 0.2, 0.1]])
    sorted_columns = classification_scores(y_true, y_pred, proba)
    shuffled = classification_scores(y_true, y_pred, proba[:, [2, 0, 1]], labels=["c", "a", "b"])
    pd.testing.assert_series_equal(shuffled, sorted_columns, check_exact=False, rtol=1e-12)


def test_binary_roc_auc_scores_the_positive_class():
    y = np.array([0, 0, 1, 1, 0, 1])
    proba_pos = np.array([0.1, 0.6, 0.7, 0.4, 0.2, 0.9])
    scores = classification_scores(y, proba_pos > 0.5, np.c_[1 - proba_pos, proba_pos])
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, proba_pos))


def test_binary_scores_take_the_positive_class_probability_alone():
    y = np.array(["no", "no", "yes", "yes", "no", "yes"])
    proba_yes = np.array([0.1, 0.6, 0.7, 0.4, 0.2, 0.9])
    y_pred = np.where(proba_yes > 0.5, "yes", "no")
    alone = classification_scores(y, y_pred, proba_yes)
    pd.testing.assert_series_equal(
        alone, classification_scores(y, y_pred, np.c_[1 - proba_yes, proba_yes]))
    assert alone["log_loss"] == pytest.approx(log_loss(y, proba_yes))
    with pytest.raises(ValueError, match=r"y_proba has shape \(3,\), but there are 3 labels"):
        classification_scores(["a", "b", "c"], ["a", "b", "c"], [0.2, 0.5, 0.9])


def test_roc_auc_averages_the_classes_of_the_fold_and_needs_two():
    labels = np.array(["a", "b", "c"])
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.6, 0.3]])
    y = np.array(["a", "b", "a", "b"])  # no "c" in this fold
    expected = np.mean([roc_auc_score(y == "a", proba[:, 0]), roc_auc_score(y == "b", proba[:, 1])])
    scores = classification_scores(y, labels[proba.argmax(axis=1)], proba, labels=labels)
    assert scores["roc_auc"] == pytest.approx(expected)
    only_a = classification_scores(y[[0, 2]], ["a", "a"], proba[[0, 2]], labels=labels)
    assert np.isnan(only_a["roc_auc"])


def test_plots_draw_what_they_say(fitted):
    clf, X, y = fitted
    ax = plot_learning_curves(clf)
    assert [line.get_label() for line in ax.get_lines()] == ["train loss", "validation loss"]
    assert len(ax.get_lines()[0].get_xdata()) == clf.n_iter_
    (score,) = [line for other in ax.figure.axes if other is not ax for line in other.get_lines()]
    assert score.get_label() == "validation score"  # as for scikit-learn's MLP
    np.testing.assert_array_equal(score.get_ydata(), clf.validation_scores_)
    assert plot_confusion_matrix(clf, X, y).get_title() == ""
    matrix = confusion_matrix(y, clf.predict(X))
    shown = plot_confusion_matrix(clf, X, y, normalize=None).texts  # counts, as integers
    assert [text.get_text() for text in shown] == [str(count) for count in matrix.ravel()]
    rates = matrix / matrix.sum(axis=1, keepdims=True)
    shown = plot_confusion_matrix(clf, X, y).texts
    assert [text.get_text() for text in shown] == [f"{rate:.2f}" for rate in rates.ravel()]
    roc_ax, pr_ax = plot_roc_pr_curves(clf, X, y)
    assert len(roc_ax.get_lines()) >= 3 and len(pr_ax.get_lines()) >= 3
    assert roc_ax.get_title() == "ROC (one vs rest)"
    assert roc_ax.get_xlabel() == "False positive rate" and pr_ax.get_ylabel() == "Precision"


def test_roc_and_pr_curves_of_a_multilabel_classifier_have_a_line_per_label():
    X, Y = make_multilabel_classification(n_samples=200, n_features=6, n_classes=2,
                                          random_state=0)
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, Y)
    roc_ax, pr_ax = plot_roc_pr_curves(clf, X, Y)
    for ax in (roc_ax, pr_ax):
        assert [line.get_label().split()[0] for line in ax.get_lines()] == ["0", "1"]
        assert ax.get_title().endswith("(per label)")
    proba = clf.predict_proba(X)
    for column, line in enumerate(roc_ax.get_lines()):
        fpr, tpr, _ = roc_curve(Y[:, column], proba[:, column])
        np.testing.assert_allclose(line.get_xdata(), fpr)
        np.testing.assert_allclose(line.get_ydata(), tpr)


def test_learning_curves_of_scikit_learns_mlp_share_the_axes(fitted):
    clf, X, y = fitted
    # integer labels: scikit-learn 1.6's early stopping fails on strings
    codes = np.unique(y, return_inverse=True)[1]
    sk = SklearnMLPClassifier(max_iter=30, early_stopping=True, random_state=0).fit(X, codes)
    ax = plot_learning_curves(sk, ax=plot_learning_curves(clf))
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["train loss", "validation loss", "train loss"]
    np.testing.assert_array_equal(ax.get_lines()[2].get_ydata(), sk.loss_curve_)
    twin = [other for other in ax.figure.axes if other is not ax][-1]
    np.testing.assert_array_equal(twin.get_lines()[0].get_ydata(), sk.validation_scores_)
    lbfgs = SklearnMLPClassifier(solver="lbfgs", max_iter=5).fit(X, codes)
    with pytest.raises(ValueError, match="keeps no loss per epoch"):
        plot_learning_curves(lbfgs)


def test_learning_curves_of_a_pipeline_or_search_are_its_final_models(fitted):
    _, X, y = fitted
    pipeline = make_pipeline(StandardScaler(), MLPClassifier(max_iter=4, random_state=0))
    ax = plot_learning_curves(pipeline.fit(X, y))
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), pipeline[-1].loss_curve_)
    assert ax.get_title() == "MLPClassifier"
    search = GridSearchCV(pipeline, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    ax = plot_learning_curves(search)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(),
                                  search.best_estimator_[-1].loss_curve_)
    with pytest.raises(ValueError, match="fitted with refit=False, so it has no best_estimator_"):
        plot_learning_curves(clone(search).set_params(refit=False).fit(X, y))


def test_learning_curves_place_each_curve_at_its_own_epochs(fitted):
    # a warm-started fit with early stopping adds validation losses from epoch 4 on
    _, X, y = fitted
    clf = MLPClassifier(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(early_stopping=True).fit(X, y)
    train, valid = plot_learning_curves(clf).get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(valid.get_xdata()) == [4, 5, 6]
    np.testing.assert_array_equal(valid.get_ydata(), clf.validation_loss_curve_)


def test_reports_reject_inputs_that_do_not_fit_together(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match=r"y_proba has shape \(300, 2\), but there are 3 labels "
                       r"\(\['a', 'b', 'c'\]\)"):
        classification_scores(y, clf.predict(X), clf.predict_proba(X)[:, :2])
    with pytest.raises(ValueError, match="has no predict_proba"):
        plot_roc_pr_curves(MLPRegressor(max_iter=2).fit(X, X[:, 0]), X, X[:, 0])
    series = pd.Series(np.arange(10.0))
    with pytest.raises(ValueError, match="flags has 9 values, but the series has 10"):
        plot_series_anomalies(series, np.zeros(9, dtype=bool))
    with pytest.raises(ValueError, match="scores has 11 values"):
        plot_series_anomalies(series, np.zeros(10, dtype=bool), scores=np.zeros(11))
    # an outlier detector's labels: as booleans, -1 and +1 would both flag the point
    with pytest.raises(ValueError, match=r"got the values \[-1, 1\]; .* labels == -1"):
        plot_series_anomalies(series, np.r_[-np.ones(3), np.ones(7)].astype(int))


def test_series_anomaly_plot_marks_flags_and_threshold():
    index = pd.date_range("2024-01-01", periods=50, freq="h")
    series = pd.Series(np.sin(np.arange(50)), index=index)
    flags = np.zeros(50, dtype=bool)
    flags[[10, 20]] = True
    axes = plot_series_anomalies(series, flags, scores=np.arange(50.0), threshold=25.0,
                                 windows=[(index[5], index[12])])
    assert len(axes) == 2
    assert axes[0].collections[0].get_offsets().shape == (2, 2)
    assert axes[1].get_lines()[-1].get_ydata()[0] == 25.0


def test_series_anomaly_plot_takes_an_array_against_positions():
    values = np.sin(np.arange(30.0))
    flags = np.zeros(30, dtype=bool)
    flags[7] = True
    (ax,) = plot_series_anomalies(values, flags)
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[7, values[7]]])
    (ax,) = plot_series_anomalies(values, flags.astype(int))  # 0 and 1
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[7, values[7]]])
    (ax,) = plot_series_anomalies(values[:, None], flags)  # one column
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[7, values[7]]])
    frame = pd.DataFrame({"value": values}, index=pd.RangeIndex(100, 130))
    (ax,) = plot_series_anomalies(frame, flags)  # one column, on its index
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), [[107, values[7]]])
    with pytest.raises(ValueError, match=r"draws one series, but got values of shape \(30, 2\)"):
        plot_series_anomalies(np.c_[values, values], flags)


def test_search_plots_use_optunas_functions():
    X, y = make_classification(n_samples=120, random_state=0)
    search = OptunaSearchCV(MLPClassifier(max_iter=3, random_state=0),
                            {"alpha": FloatDistribution(1e-4, 1.0, log=True),
                             "learning_rate_init": FloatDistribution(1e-4, 1e-2, log=True)},
                            n_trials=4, cv=2, random_state=0).fit(X, y)
    history, importances = plot_search(search)
    assert "Optimization History" in history.get_title()
    assert "Importance" in importances.get_title(loc="left")
    grid = GridSearchCV(MLPClassifier(max_iter=3), {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    with pytest.raises(TypeError, match="draws an Optuna study, which GridSearchCV does not"):
        plot_search(grid)


def test_plots_without_matplotlib_say_what_to_install(fitted, monkeypatch):
    clf, X, y = fitted
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    plots = {"plot_learning_curves": lambda: plot_learning_curves(clf),
             "plot_confusion_matrix": lambda: plot_confusion_matrix(clf, X, y),
             "plot_roc_pr_curves": lambda: plot_roc_pr_curves(clf, X, y),
             "plot_series_anomalies": lambda: plot_series_anomalies(pd.Series([1.0, 2.0]),
                                                                    [False, True]),
             "plot_search": lambda: plot_search(object())}
    for name, plot in plots.items():
        with pytest.raises(ImportError,
                           match=rf"skmlp\.reporting\.{name} requires matplotlib\. .*pip install"):
            plot()
