"""MLPRegressor: target scaling, multi-output, losses and partial_fit."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from skmlp import MLPRegressor


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=300, n_features=5, n_targets=2, noise=1.0,
                           random_state=0)
    return StandardScaler().fit_transform(X), y


def test_targets_far_from_zero_are_learned_in_their_own_units(data):
    X, y = data
    y = 1e6 + 1e3 * y[:, 0]
    reg = MLPRegressor(max_iter=200, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300,)
    assert abs(reg.predict(X).mean() - 1e6) < 1e3
    assert reg.score(X, y) > 0.95


def test_multi_output_predictions_keep_their_columns(data):
    X, y = data
    reg = MLPRegressor(max_iter=200, random_state=0).fit(X, y)
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (300, 2)
    assert reg.score(X, y) > 0.95
    column = MLPRegressor(max_iter=2, random_state=0).fit(X, y[:, :1])
    assert column.predict(X).shape == (300,)


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_every_loss_trains(loss, data):
    X, y = data
    reg = MLPRegressor(loss=loss, max_iter=100, random_state=0).fit(X, y[:, 0])
    assert reg.net_.criterion_.kind == loss
    assert reg.score(X, y[:, 0]) > 0.9


def test_robust_losses_resist_outliers(data):
    X, y = data
    y = y[:, 0].copy()
    y_dirty = y.copy()
    y_dirty[:15] += 50 * y.std()
    clean = slice(15, None)
    errors = {}
    for loss in ("squared_error", "absolute_error"):
        reg = MLPRegressor(loss=loss, max_iter=200, random_state=0).fit(X, y_dirty)
        errors[loss] = np.mean(np.abs(reg.predict(X[clean]) - y[clean]))
    assert errors["absolute_error"] < 0.5 * errors["squared_error"], errors


def test_partial_fit_is_one_epoch_per_call(data):
    X, y = data
    reg = MLPRegressor(random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 3 and len(reg.loss_curve_) == 3
    with pytest.raises(ValueError, match="y has 1 columns, but MLPRegressor was fitted with 2"):
        reg.partial_fit(X, y[:, 0])


def test_sample_weight_of_zero_ignores_samples(data):
    X, y = data
    y = y[:, 0].copy()
    y[:100] = 1e4  # garbage, weighted out
    weight = np.r_[np.zeros(100), np.ones(200)]
    reg = MLPRegressor(max_iter=200, random_state=0).fit(X, y, sample_weight=weight)
    assert reg.score(X[100:], y[100:]) > 0.9


def _first_stop_by_absolute_tol(curve, tol, patience):
    """The epoch scikit-learn's absolute test would have stopped at, or None."""
    best = np.minimum.accumulate(curve)
    for epoch in range(patience, len(curve)):
        if np.all(curve[epoch - patience + 1:epoch + 1] >= best[epoch - patience] - tol):
            return epoch + 1
    return None


def test_the_stopping_test_is_relative_to_the_best_loss():
    # A noise-free target: the standardised training loss falls to ~1e-4,
    # and keeps falling by far more than tol of itself each epoch.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    patient = MLPRegressor(max_iter=200, random_state=0).fit(X, y)
    curve = np.array(patient.loss_curve_)
    assert patient.n_iter_ == 200
    assert _first_stop_by_absolute_tol(curve, patient.tol, patient.n_iter_no_change) < 200

    strict = MLPRegressor(tol=0.2, max_iter=200, random_state=0).fit(X, y)
    curve = np.array(strict.loss_curve_)
    assert strict.n_iter_ < 200
    best_before = curve[:-strict.n_iter_no_change].min()
    assert np.all(curve[-strict.n_iter_no_change:] >= (1 - strict.tol) * best_before)
    assert curve[-strict.n_iter_no_change:].min() < best_before  # still falling, too slowly
