"""Input checks: what each estimator accepts, and the errors that name what it refuses."""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn import neural_network
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp.datasets import load_predictive_maintenance

ESTIMATORS = [MLPClassifier, MLPRegressor]


def test_dataframes_and_column_transformer_output_work():
    X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    X, y = X.iloc[:500], y.iloc[:500]
    pipe = make_pipeline(
        ColumnTransformer([("type", OneHotEncoder(), ["Type"])], remainder=StandardScaler()),
        MLPClassifier(max_iter=3, random_state=0))
    assert pipe.fit(X, y).predict(X).shape == (500,)
    numeric = X.drop(columns="Type")
    clf = MLPClassifier(max_iter=3, random_state=0).fit(numeric, y)
    np.testing.assert_array_equal(clf.feature_names_in_, numeric.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_numpy = clf.predict(numeric.to_numpy())
    np.testing.assert_array_equal(clf.predict(numeric), from_numpy)
    clf32 = MLPClassifier(max_iter=3, random_state=0).fit(numeric.astype(np.float32), y)
    assert clf32.predict(numeric).shape == (500,)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad, message", [
    (np.nan, "Input X contains NaN"),
    (np.inf, "Input X contains infinity"),
])
def test_non_finite_features_are_rejected(Estimator, data, bad, message):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=message):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("as_input", [np.asarray, sparse.csr_matrix])
def test_features_beyond_float32_are_rejected_at_fit_and_predict(Estimator, data, as_input):
    # finite in float64, infinite in the float32 the network computes in
    X, y = data
    huge = X.copy()
    huge[3, 2] = -1e39
    message = "too large for float32.*StandardScaler"
    with pytest.raises(ValueError, match=message):
        Estimator(max_iter=1).fit(as_input(huge), y)
    est = Estimator(max_iter=1).fit(X, y)
    for rows in (huge, huge[3:4]):  # a single row takes the unchecked fast path
        with pytest.raises(ValueError, match=message):
            est.predict(as_input(rows))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weights_beyond_float32_are_rejected(Estimator, data):
    # the fit reported a diverged training and blamed the learning rate
    X, y = data
    weight = np.ones(len(X))
    weight[5] = 1e39
    with pytest.raises(ValueError, match="sample_weight reaches 1e\\+39, beyond float32"):
        Estimator(max_iter=1).fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("Estimator", [*ESTIMATORS, MLPAutoencoder])
def test_sample_weights_of_zero_everywhere_are_rejected(Estimator, data):
    # scikit-learn 1.6's validation let them through: the input statistics
    # then failed with an AttributeError, the regressor's blamed y's size
    X, y = data
    with pytest.raises(ValueError, match="0 for every sample|at least one non-zero"):
        Estimator(max_iter=1).fit(X, y, sample_weight=np.zeros(len(X)))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_targets_are_rejected(Estimator, data):
    X, y = data
    y = y.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("shape, message", [((0, 3), "0 sample"), ((5, 0), "0 feature")])
def test_empty_inputs_are_rejected(Estimator, shape, message):
    with pytest.raises(ValueError, match=message):
        Estimator().fit(np.zeros(shape), np.arange(shape[0]) % 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_feature_count_mismatch_at_predict(Estimator, data):
    X, y = data
    est = Estimator(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6"):
        est.predict(X[:, :5])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad, error, message", [
    (np.nan, ValueError, "Input X contains NaN"),
    (np.inf, ValueError, "Input X contains infinity"),
    (np.float32(3e38), None, None),  # finite, though its sum overflows: predicted
])
def test_prediction_checks_every_row_as_scikit_learn_does(Estimator, data, bad, error,
                                                          message):
    X, y = data
    est = Estimator(max_iter=1).fit(X, y)
    X_new = X[:4].astype(np.float32)
    X_new[[1, 2], 0] = bad
    if error is None:
        assert est.predict(X_new).shape == (4,)
    else:
        with pytest.raises(error, match=message):
            est.predict(X_new)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("as_input", [
    lambda X: X.astype(np.float32), lambda X: np.asfortranarray(X), lambda X: X.tolist(),
    lambda X: X.astype(np.int64), lambda X: pd.DataFrame(X),
])
def test_prediction_is_the_same_with_or_without_the_fast_input_path(Estimator, data,
                                                                    as_input):
    X, y = data
    est = Estimator(max_iter=2).fit(X, y)
    X_new = np.round(X[:50])  # integers, so that every input form holds the same values
    expected = est.predict(np.array(X_new, dtype=np.float64))
    np.testing.assert_array_equal(est.predict(as_input(X_new)), expected)


def test_fitted_with_feature_names_warns_for_an_unnamed_array(data):
    X, y = data
    est = MLPRegressor(max_iter=1).fit(pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X[:3])


@pytest.mark.parametrize("dtype", [object, "category", "string"])
def test_text_columns_point_to_column_transformer(dtype):
    # object text fails inside scikit-learn's validation; categories and
    # pandas strings pass it as an object array and fail in the float cast
    colour = pd.Series(["red", "blue", "red", "b"], dtype=dtype)
    X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "colour": colour})
    with pytest.raises(ValueError, match=r"\['colour'\].*ColumnTransformer"):
        MLPClassifier().fit(X, [0, 1, 0, 1])
    clf = MLPClassifier(max_iter=1).fit(X[["size"]].assign(colour=1.0), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"\['colour'\].*ColumnTransformer"):
        clf.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("column", [pd.date_range("2024-01-01", periods=4, tz="UTC"),
                                    pd.to_timedelta([1, 2, 3, 4], unit="s")])
def test_date_and_duration_columns_are_named_with_advice(Estimator, column):
    # numpy fails to promote them to float with a TypeError of its own
    X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "when": column})
    with pytest.raises(ValueError, match=r"\{'when': .*Turn the dates or durations \['when'\]"):
        Estimator().fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_strings_are_rejected_at_fit_and_predict(Estimator, data):
    # scikit-learn's MLP refuses an array of strings at predict even when
    # they spell numbers (its fit parses them, so that a model fitted on
    # strings cannot predict on them); skmlp refuses them at both.
    X, y = data
    message = "not compatible with arrays of bytes/strings"
    with pytest.raises(ValueError, match=message):
        Estimator(max_iter=1).fit(X.astype(str), y)
    est = Estimator(max_iter=1).fit(X, y)
    theirs = getattr(neural_network, Estimator.__name__)(max_iter=1).fit(X, y)
    for model in (est, theirs):
        with pytest.raises(ValueError, match=message):
            model.predict(X[:3].astype(str))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_boolean_and_object_features_train_as_their_float_values(Estimator, data):
    X, y = data
    est = Estimator(max_iter=1, random_state=0)
    for as_input in (lambda X: X > 0, lambda X: (X > 0).astype(np.int8),
                     lambda X: (X > 0).astype(object)):
        expected = est.fit((X > 0).astype(np.float64), y).predict(X[:20] > 0)
        np.testing.assert_array_equal(est.fit(as_input(X), y).predict(X[:20] > 0), expected)
