"""scikit-learn's common estimator checks, run on every skmlp estimator and transformer,
and on OptunaSearchCV over a classifier and a regressor (as scikit-learn runs them on
GridSearchCV)."""

from optuna.distributions import FloatDistribution
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor, OptunaSearchCV, SlidingWindows

#: Checks that cannot hold for a network trained by minibatch gradient
#: descent, each with the reason.
_MINIBATCHES = (
    "minibatch training: a weight of 2 and a repeated row give the same loss, "
    "but not the same batches and shuffles, so the fitted weights differ")
_SAMPLE_WEIGHT = {
    "check_sample_weight_equivalence_on_dense_data": _MINIBATCHES,
    "check_sample_weight_equivalence_on_sparse_data": _MINIBATCHES,
}
_FLOAT32_BATCHES = {
    "check_methods_subset_invariance": (
        "float32 matrix products of one row (gemv) and of many rows (gemm) sum "
        "in different orders, which also depend on the CPU's kernels; outputs differ "
        "by ~1e-7, above the check's float64 tolerance (test_modules tests the same "
        "invariance to float32 precision)"),
}
_WINDOWS = (
    "a row of the output is a window of neighbouring input rows, and there are "
    "(n_samples - window) // step + 1 of them: the output neither has n_samples rows nor "
    "follows a reordering or a subset of the input rows")
_SERIES = "a one-dimensional array is one series, not an error"
EXPECTED_FAILED_CHECKS = {
    "MLPClassifier": {**_SAMPLE_WEIGHT, **_FLOAT32_BATCHES},
    "MLPRegressor": {**_SAMPLE_WEIGHT, **_FLOAT32_BATCHES},
    "MLPAutoencoder": {**_SAMPLE_WEIGHT, **_FLOAT32_BATCHES},
    "OptunaSearchCV": {
        **_FLOAT32_BATCHES,
        "check_dtype_object": (
            "with the default error_score=NaN, which Optuna cannot take as a score, a fit "
            "that raises fails its whole trial (GridSearchCV goes on with the candidate's "
            "other folds and raises in its refit): when every trial fails, the search "
            "raises a ValueError that quotes the TypeError the check expects"),
    },
    "SlidingWindows": {
        "check_transformer_general": _WINDOWS,
        "check_transformer_data_not_an_array": _WINDOWS,
        "check_methods_sample_order_invariance": _WINDOWS,
        "check_methods_subset_invariance": _WINDOWS,
        "check_fit1d": _SERIES,
        "check_fit2d_predict1d": _SERIES,
    },
}
_POISSON = {
    "check_regressor_multioutput": (
        "the check's targets are negative (it does not honour the positive_only "
        "tag), which the Poisson loss rejects"),
}


def _expected_failed_checks(estimator):
    checks = dict(EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {}))
    if getattr(estimator, "loss", None) == "poisson":
        checks.update(_POISSON)
    return checks


@parametrize_with_checks(
    # the classifier keeps its dropout and schedule; a narrower network keeps
    # the checks quick
    [MLPClassifier(hidden_layer_sizes=(64, 64), random_state=0), MLPRegressor(random_state=0),
     MLPRegressor(loss="poisson", random_state=0), MLPRegressor(solver="lbfgs", random_state=0),
     MLPAutoencoder(random_state=0), SlidingWindows(window=3, step=2),
     *(OptunaSearchCV(estimator, {"alpha": FloatDistribution(1e-4, 1e-2, log=True)},
                      n_trials=2, cv=2, random_state=0)
       for estimator in (MLPClassifier(hidden_layer_sizes=(64, 64), random_state=0),
                         MLPRegressor(random_state=0)))],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
