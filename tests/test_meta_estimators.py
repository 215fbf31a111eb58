"""skmlp's estimators inside scikit-learn's meta-estimators, as a drop-in must work.

The common checks (test_common.py) test the estimator API one estimator at a
time; these test the compositions users build on it: calibration, ensembles,
one-vs-rest and multi-output wrappers, self-training, transformed targets,
and the inspection tools, each on data the network can learn, so that a
wrapper fed wrong classes or probabilities fails its assertion.
"""

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict, train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier, RegressorChain
from sklearn.semi_supervised import SelfTrainingClassifier

from skmlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def three_classes():
    """400 rows of three well separated classes, labelled with text."""
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, class_sep=2.0, random_state=0)
    return X, np.array(["low", "mid", "high"])[y]


def _network(**params):
    return MLPClassifier(**{"hidden_layer_sizes": (32,), "max_iter": 200, "random_state": 0,
                            **params})


def test_a_fitted_network_is_calibrated_in_its_own_classes(three_classes):
    X, y = three_classes
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                    stratify=y)
    X_fit, X_calibrate, y_fit, y_calibrate = train_test_split(
        X_fit, y_fit, test_size=0.5, random_state=0, stratify=y_fit)
    network = _network().fit(X_fit, y_fit)
    calibrated = CalibratedClassifierCV(FrozenEstimator(network), method="sigmoid")
    calibrated.fit(X_calibrate, y_calibrate)

    proba = calibrated.predict_proba(X_test)
    np.testing.assert_array_equal(calibrated.classes_, network.classes_)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    # the calibration keeps the network's ranking of the classes on most rows
    assert np.mean(proba.argmax(axis=1) == network.predict_proba(X_test).argmax(axis=1)) > 0.9
    assert np.mean(calibrated.predict(X_test) == y_test) > 0.8


@pytest.mark.parametrize("ensemble", [
    VotingClassifier([("narrow", _network()),
                      ("deep", _network(hidden_layer_sizes=(64, 64), dropout=0.1))],
                     voting="soft"),
    StackingClassifier([("network", _network()), ("linear", LogisticRegression())], cv=3),
], ids=["soft_voting", "stacking"])
def test_ensembles_combine_the_networks_probabilities(three_classes, ensemble):
    X, y = three_classes
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, random_state=0, stratify=y)
    ensemble.fit(X_fit, y_fit)

    assert set(ensemble.predict(X_test)) <= set(y)
    np.testing.assert_allclose(ensemble.predict_proba(X_test).sum(axis=1), 1, rtol=1e-6)
    assert ensemble.score(X_test, y_test) > 0.8


def test_bagging_trains_each_network_on_its_own_sample(three_classes):
    X, y = three_classes
    bagging = BaggingClassifier(_network(), n_estimators=3, random_state=0).fit(X, y)

    first, *others = (network.coefs_[0] for network in bagging.estimators_)
    assert all(not np.allclose(first, other) for other in others)
    assert bagging.score(X, y) > 0.8


def test_one_vs_rest_and_multi_output_wrap_one_network_per_target(three_classes):
    X, y = three_classes
    one_vs_rest = OneVsRestClassifier(_network()).fit(X, y)
    assert [list(network.classes_) for network in one_vs_rest.estimators_] == [[0, 1]] * 3
    assert one_vs_rest.score(X, y) > 0.8

    Y = np.column_stack([y, y == "high"])
    multi_output = MultiOutputClassifier(_network()).fit(X, Y)
    assert multi_output.predict(X).shape == Y.shape
    assert np.mean(multi_output.predict(X) == Y) > 0.8


def test_self_training_labels_rows_the_network_is_sure_of(three_classes):
    X, y = three_classes
    # scikit-learn's marker of an unlabelled row is -1, among text labels too
    # (in an object array)
    partly_labelled = np.where(np.arange(len(y)) % 4 == 0, y.astype(object), -1)
    self_training = SelfTrainingClassifier(_network(), max_iter=3)
    self_training.fit(X, partly_labelled)

    newly_labelled = (partly_labelled == -1) & (self_training.labeled_iter_ > 0)
    assert newly_labelled.sum() > 100
    assert np.mean(self_training.transduction_[newly_labelled] == y[newly_labelled]) > 0.9


def test_permutation_importance_finds_the_feature_the_target_depends_on():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = 3 * X[:, 2] + 0.1 * rng.normal(size=400)
    regressor = MLPRegressor(hidden_layer_sizes=(16,), max_iter=100, random_state=0).fit(X, y)

    importances = permutation_importance(regressor, X, y, n_repeats=3,
                                         random_state=0).importances_mean
    assert importances.argmax() == 2
    assert importances[2] > 10 * np.delete(importances, 2).max()


def test_transformed_targets_and_regressor_chains_predict_in_the_targets_units():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(400, 3))
    first = np.exp(2 + X[:, 0])  # positive and skewed: modelled on a log scale
    second = first + 5 * X[:, 1]  # depends on the first target
    regressor = MLPRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)

    log_scale = TransformedTargetRegressor(regressor, func=np.log, inverse_func=np.exp)
    assert log_scale.fit(X, first).score(X, first) > 0.95
    chain = RegressorChain(regressor, order=[0, 1]).fit(X, np.column_stack([first, second]))
    assert chain.predict(X).shape == (400, 2)
    assert chain.score(X, np.column_stack([first, second])) > 0.95


def test_cross_validated_probabilities_place_a_class_missing_from_a_fold(three_classes):
    X, y = three_classes
    order = np.argsort(y == "high", kind="stable")  # "high" only in the last rows
    X, y = X[order], y[order]
    rare = np.flatnonzero(y == "high")
    X, y = np.delete(X, rare[:-10], axis=0), np.delete(y, rare[:-10])  # ten, all in one fold

    folds = KFold(4)
    with pytest.warns(RuntimeWarning, match="Number of classes in training fold"):
        proba = cross_val_predict(_network(), X, y, cv=folds, method="predict_proba")
    *_, (_, last_fold) = folds.split(X)
    # sorted classes: high, low, mid; the fold that held every "high" row
    # trained without it, and its column is zero there
    assert set(y[last_fold]) == {"high", "low", "mid"}
    np.testing.assert_array_equal(proba[last_fold, 0], 0)
    assert (proba[: last_fold[0], 0] > 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
