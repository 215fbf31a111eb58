"""MLPRegressor: target scaling, multi-output, losses (Poisson too) and partial_fit."""

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.metrics import d2_tweedie_score, mean_poisson_deviance
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


@pytest.mark.parametrize("loss, statistic", [("squared_error", "standardise: its variance"),
                                             ("poisson", "average: its mean")])
def test_targets_whose_scale_overflows_float64_are_rejected(loss, statistic, data):
    X, y = data
    fitted = MLPRegressor(loss=loss, max_iter=2, random_state=0).fit(X, np.abs(y))
    before = fitted.predict(X)
    huge = np.abs(y) / np.abs(y).max() * 1.5e308  # finite; its square and sum are not
    with pytest.raises(ValueError, match=f"too large to {statistic} overflows float64"):
        fitted.fit(X, huge)
    np.testing.assert_array_equal(fitted.predict(X), before)


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
    # as scikit-learn's: n_iter_ is this call's one epoch, loss_curve_ and t_ all calls'
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 3 and reg.t_ == 3 * len(X)
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


@pytest.fixture(scope="module")
def counts():
    """Poisson counts around a known mean ``mu`` (log-linear in X, with an interaction)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    mu = 20 * np.exp(0.5 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3])
    return X, rng.poisson(mu), mu


def test_poisson_loss_fits_counts_nearly_as_well_as_their_true_mean(counts):
    X, y, mu = counts
    train, test = slice(0, 2000), slice(2000, None)
    reg = MLPRegressor(loss="poisson", random_state=0).fit(X[train], y[train])
    predicted = reg.predict(X[test])
    assert reg.out_activation_ == "exp" and np.all(predicted > 0)
    assert abs(predicted.mean() / y[test].mean() - 1) < 0.05  # in the units of y
    best = d2_tweedie_score(y[test], mu[test], power=1)
    assert d2_tweedie_score(y[test], predicted, power=1) > 0.9 * best
    squared = MLPRegressor(random_state=0).fit(X[train], y[train]).predict(X[test])
    assert (mean_poisson_deviance(y[test], predicted)
            < mean_poisson_deviance(y[test], np.clip(squared, 1e-3, None)))


def test_poisson_loss_rejects_negative_targets_and_columns_of_zeros(counts):
    X, y, _ = counts
    message = "loss='poisson' requires non-negative y"
    with pytest.raises(ValueError, match=message):
        MLPRegressor(loss="poisson").fit(X, np.r_[-1, y[1:]])
    with pytest.raises(ValueError, match=message):
        MLPRegressor(loss="poisson").fit(X, np.c_[y, np.zeros_like(y)])
    reg = MLPRegressor(loss="poisson", random_state=0).partial_fit(X, y)
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(X, y - 1)


def test_switching_to_or_from_the_poisson_loss_needs_a_new_fit(counts):
    X, y, _ = counts
    reg = MLPRegressor(max_iter=2, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="fit it anew"):
        reg.set_params(loss="poisson").fit(X, y)
    assert reg.set_params(warm_start=False).fit(X, y).out_activation_ == "exp"


def test_lbfgs_fits_a_smooth_curve_closer_than_adam_in_as_many_iterations():
    X = np.linspace(-2, 2, 300).reshape(-1, 1)
    y = np.sin(2 * X.ravel())
    scores = {solver: MLPRegressor(solver=solver, activation="tanh", max_iter=200,
                                   random_state=0).fit(X, y).score(X, y)
              for solver in ("lbfgs", "adam")}
    assert scores["lbfgs"] > 0.999 and scores["adam"] < scores["lbfgs"], scores
