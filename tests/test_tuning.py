"""OptunaSearchCV: results as GridSearchCV's, pruning, failed trials, workers, budgets.

Its search spaces are specified in test_search_space.py, its studies in
storage (resumed, shared, crashed) in test_storage.py.
"""

import logging
import os
import time
import warnings

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
import sklearn
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor, OptunaSearchCV
from skmlp.tuning import default_search_space


def _states(study):
    return [t.state for t in study.get_trials(deepcopy=False)]


def test_best_params_refit_reproduces_the_best_score(Xy):
    X, y = Xy
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    found = OptunaSearchCV(MLPClassifier(max_iter=30, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)},
                           n_trials=4, cv=cv, scoring="f1_macro", random_state=0).fit(X, y)
    model = clone(MLPClassifier(max_iter=30, random_state=0)).set_params(**found.best_params_)
    again = cross_val_score(model, X, y, cv=cv, scoring="f1_macro").mean()
    assert again == pytest.approx(found.best_score_, abs=1e-12)
    assert found.predict(X).shape == (len(X),)
    assert found.predict_proba(X).shape == (len(X), 3)
    assert found.score(X, y) > 0.5
    np.testing.assert_array_equal(found.classes_, [0, 1, 2])


def test_cv_results_have_grid_search_format_with_several_metrics(Xy):
    X, y = Xy
    found = OptunaSearchCV(MLPClassifier(max_iter=10, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)},
                           n_trials=3, cv=2, scoring=["accuracy", "f1_macro"],
                           refit="f1_macro", random_state=0).fit(X, y)
    table = pd.DataFrame(found.cv_results_)
    assert len(table) == 3
    assert found.n_splits_ == 2
    for column in ["params", "param_alpha", "mean_fit_time", "split0_test_accuracy",
                   "split1_test_f1_macro", "mean_test_f1_macro", "std_test_accuracy",
                   "rank_test_f1_macro", "state", "trial_number"]:
        assert column in table, column
    assert table.loc[found.best_index_, "rank_test_f1_macro"] == 1
    assert found.best_score_ == table["mean_test_f1_macro"].max()
    with pytest.raises(ValueError,
                       match=r"refit must name .* one of \['accuracy', 'f1_macro'\]; got refit=T"):
        OptunaSearchCV(MLPClassifier(), {}, scoring=["accuracy", "f1_macro"]).fit(X, y)
    with pytest.raises(ValueError, match=r"refit='f1' is not one of .*\['accuracy', 'f1_macro'\]"):
        OptunaSearchCV(MLPClassifier(), {}, scoring={"f1_macro": "f1_macro",
                                                     "accuracy": "accuracy"},
                       refit="f1").fit(X, y)


def _accuracy_and_f1(estimator, X, y):
    predicted = estimator.predict(X)
    return {"accuracy": accuracy_score(y, predicted),
            "f1_macro": f1_score(y, predicted, average="macro")}


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_scoring_callable_may_return_several_metrics_as_in_grid_search(Xy):
    X, y = Xy
    alphas = [1e-4, 1e-1]
    grid = GridSearchCV(MLPClassifier(max_iter=5, random_state=0), {"alpha": alphas}, cv=2,
                        scoring=_accuracy_and_f1, refit="f1_macro").fit(X, y)
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": CategoricalDistribution(alphas)}, n_trials=2, cv=2,
                           scoring=_accuracy_and_f1, refit="f1_macro",
                           sampler=optuna.samplers.BruteForceSampler(seed=0)).fit(X, y)
    assert found.multimetric_ and grid.multimetric_
    assert {k for k in found.cv_results_ if "_test_" in k} == \
        {k for k in grid.cv_results_ if "_test_" in k}
    assert found.best_score_ == pytest.approx(grid.best_score_)
    assert found.score(X, y) == pytest.approx(grid.score(X, y))
    for refit in (True, "precision"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # stops at once, not as failed trials
            with pytest.raises(ValueError, match="returns the metrics .*refit must name"):
                OptunaSearchCV(MLPClassifier(max_iter=5),
                               {"alpha": FloatDistribution(1e-4, 1.0)}, n_trials=2, cv=2,
                               scoring=_accuracy_and_f1, refit=refit).fit(X, y)


@pytest.mark.parametrize("scoring", [None, ["accuracy", "f1_macro"]])
def test_train_scores_are_grid_searchs_on_the_same_folds(Xy, scoring):
    X, y = Xy
    refit = "f1_macro" if scoring else True
    estimator, cv = MLPClassifier(max_iter=5, random_state=0), StratifiedKFold(2)
    found = OptunaSearchCV(estimator, {"alpha": CategoricalDistribution([1e-3])}, n_trials=1,
                           cv=cv, scoring=scoring, refit=refit, return_train_score=True,
                           ).fit(X, y)
    grid = GridSearchCV(estimator, {"alpha": [1e-3]}, cv=cv, scoring=scoring, refit=refit,
                        return_train_score=True).fit(X, y)
    train_columns = [key for key in grid.cv_results_ if "_train_" in key]
    assert len(train_columns) == (4 if scoring is None else 8)
    for key in train_columns:
        np.testing.assert_allclose(found.cv_results_[key], grid.cv_results_[key], err_msg=key)
    without = OptunaSearchCV(estimator, {"alpha": CategoricalDistribution([1e-3])},
                             n_trials=1, cv=cv).fit(X, y)
    assert not [key for key in without.cv_results_ if "_train_" in key]
    # scorer_: one scorer, or as GridSearchCV's, a dict of them by metric
    assert type(found.scorer_) is type(grid.scorer_)
    if scoring:
        assert sorted(found.scorer_) == sorted(grid.scorer_) == sorted(scoring)
    assert found.score(X, y) == grid.score(X, y)


@pytest.mark.filterwarnings("ignore:One or more of the test scores are non-finite")
def test_ranks_and_parameter_columns_are_grid_search_cvs(Xy):
    X, y = Xy
    estimator = MLPClassifier(max_iter=3, random_state=0)
    # a value that fails to fit (error_score=NaN; a failed trial does not count
    # toward n_trials), then the same parameters twice
    alphas = [-1.0, 1e-3, 1e-3]
    grid = GridSearchCV(estimator, {"alpha": alphas}, cv=2)
    with pytest.warns(FitFailedWarning):
        grid.fit(X, y)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="ties", direction="maximize")
    for alpha in alphas:
        study.enqueue_trial({"alpha": alpha})
    found = OptunaSearchCV(estimator, {"alpha": CategoricalDistribution([1e-3, -1.0])},
                           n_trials=2, cv=2, storage=storage, study_name="ties",
                           load_if_exists=True)
    with pytest.warns(FitFailedWarning):
        found.fit(X, y)
    assert list(found.cv_results_["params"]) == list(grid.cv_results_["params"])
    np.testing.assert_array_equal(found.cv_results_["rank_test_score"],
                                  grid.cv_results_["rank_test_score"])
    np.testing.assert_array_equal(found.cv_results_["rank_test_score"], [3, 1, 1])
    # numbers typed as numbers, as GridSearchCV types them
    assert found.cv_results_["param_alpha"].dtype == grid.cv_results_["param_alpha"].dtype
    assert found.cv_results_["param_alpha"].dtype == np.float64


def _depth_then_dropout(trial):
    depth = trial.suggest_int("depth", 1, 2)
    params = {"hidden_layer_sizes": (4,) * depth}
    if depth == 2:
        params["dropout"] = trial.suggest_float("dropout", 0.0, 0.5)
    return params


def test_a_parameter_of_a_conditional_space_is_masked_where_a_trial_lacks_it(Xy):
    estimator = MLPClassifier(max_iter=3, random_state=0)
    grid = GridSearchCV(estimator, [{"hidden_layer_sizes": [(4,)]},
                                    {"hidden_layer_sizes": [(4, 4)], "dropout": [0.1]}],
                        cv=2).fit(*Xy)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="depth", direction="maximize")
    study.enqueue_trial({"depth": 1})
    study.enqueue_trial({"depth": 2, "dropout": 0.1})
    found = OptunaSearchCV(estimator, _depth_then_dropout, n_trials=2, cv=2,
                           storage=storage, study_name="depth", load_if_exists=True).fit(*Xy)
    assert list(found.cv_results_["params"]) == list(grid.cv_results_["params"])
    for name in ("param_hidden_layer_sizes", "param_dropout"):
        ours, theirs = found.cv_results_[name], grid.cv_results_[name]
        np.testing.assert_array_equal(np.ma.getmaskarray(ours), np.ma.getmaskarray(theirs))
        assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(np.ma.getmaskarray(found.cv_results_["param_dropout"]),
                                  [True, False])


def test_results_come_from_one_snapshot_of_a_shared_study(Xy, monkeypatch):
    # a worker of a shared study collects its results while another worker's
    # trial may still finish, and become the study's best, in the meantime
    X, y = Xy
    found = OptunaSearchCV(MLPClassifier(max_iter=3, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=3,
                           cv=2, random_state=0).fit(X, y)
    late = found.study_.best_trial
    snapshot = [t for t in found.study_.get_trials() if t.number != late.number]
    monkeypatch.setattr(found.study_, "get_trials", lambda **kwargs: snapshot)
    found._set_results("score", found.n_splits_)
    assert late.number not in found.cv_results_["trial_number"]
    assert found.best_score_ == max(t.value for t in snapshot)
    assert found.cv_results_["rank_test_score"][found.best_index_] == 1


@pytest.mark.parametrize("verbose", [0, 1])
def test_verbose_search_logs_every_trial_and_a_quiet_one_nothing(Xy, verbose):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("optuna").addHandler(handler)
    try:
        OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-5, 1.0)},
                       n_trials=2, cv=2, verbose=verbose).fit(*Xy)
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    finished = [r for r in records if "finished with value" in r.getMessage()]
    assert len(finished) == (2 if verbose else 0)
    created = [r for r in records if "A new study created" in r.getMessage()]
    assert len(created) == (1 if verbose else 0)
    if not verbose:
        assert records == []


def test_without_refit_prediction_is_unavailable_and_says_why(Xy):
    X, y = Xy
    search = OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-4, 1.0)},
                            n_trials=2, cv=2, refit=False)
    with pytest.raises(NotFittedError):
        search.predict(X)
    search.fit(X, y)
    grid = GridSearchCV(MLPClassifier(max_iter=2), {"alpha": [1e-4, 1.0]}, cv=2,
                        refit=False).fit(X, y)
    for attr in ("predict", "predict_proba", "classes_", "n_features_in_"):
        assert not hasattr(search, attr) and not hasattr(grid, attr)
    with pytest.raises(AttributeError) as raised:
        search.predict(X)
    assert "refit=False" in str(raised.value.__cause__)
    # score scores with `scoring`, so it is there even for estimators without
    # a score method, as in GridSearchCV; called, it says why it cannot
    with pytest.raises(AttributeError, match="fitted with refit=False, so score"):
        search.score(X, y)
    assert len(search.best_params_) == 1


def test_a_refit_holds_only_its_own_results_and_a_failed_one_keeps_the_last(Xy):
    X, y = Xy
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    search = OptunaSearchCV(MLPClassifier(max_iter=2, random_state=0),
                            {"alpha": FloatDistribution(1e-4, 1.0)}, n_trials=2, cv=2,
                            random_state=0).fit(frame, y)
    assert hasattr(search, "feature_names_in_") and hasattr(search, "refit_time_")
    search.set_params(refit=False).fit(X, y)  # scikit-learn's searches keep the last model
    for attr in ("best_estimator_", "refit_time_", "feature_names_in_", "predict"):
        assert not hasattr(search, attr), attr
    search.set_params(refit=lambda results: 0).fit(X, y)
    assert search.best_index_ == 0 and not hasattr(search, "best_score_")
    best = search.best_estimator_
    with pytest.raises(ValueError, match="does not have: \\['nope'\\]"):
        search.set_params(param_distributions={"nope": FloatDistribution(0, 1)}).fit(X, y)
    assert search.best_estimator_ is best and search.best_index_ == 0
    np.testing.assert_array_equal(search.predict(X), best.predict(X))


def test_seeded_search_is_reproducible(Xy):
    X, y = Xy
    space = default_search_space(MLPClassifier())
    results = [OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_trials=4,
                              cv=2, random_state=3, refit=False).fit(X, y)
               for _ in range(2)]
    assert results[0].best_params_ == results[1].best_params_
    assert results[0].best_score_ == results[1].best_score_


def _mean_normality(detector, X, y=None):
    return detector.score_samples(X).mean()


def test_unsupervised_search_of_an_autoencoder_delegates_to_the_refit_detector():
    X = np.random.default_rng(0).normal(size=(240, 6))
    detector = MLPAutoencoder(latent_dim=3, max_iter=5, random_state=0)
    found = OptunaSearchCV(detector, default_search_space(detector), n_trials=3, cv=3,
                           random_state=0).fit(X)  # scored by the detector's score
    scored = OptunaSearchCV(detector, default_search_space(detector), n_trials=3, cv=3,
                            scoring=_mean_normality, random_state=0).fit(X)
    np.testing.assert_allclose(found.cv_results_["mean_test_score"],
                               scored.cv_results_["mean_test_score"], rtol=1e-6)
    assert found.n_trials_ == 3
    assert found.cv_results_["params"][0]["hidden_layer_sizes"] == detector.hidden_layer_sizes
    best = found.best_estimator_
    np.testing.assert_array_equal(found.score_samples(X), best.score_samples(X))
    np.testing.assert_array_equal(found.predict(X), best.predict(X))
    np.testing.assert_array_equal(found.inverse_transform(found.transform(X)),
                                  best.inverse_transform(best.transform(X)))
    assert found.score(X) == pytest.approx(_mean_normality(best, X))
    assert found.n_features_in_ == 6
    assert not hasattr(found, "predict_proba")


def test_classifier_search_delegates_log_probabilities(Xy):
    X, y = Xy
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                           cv=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(found.predict_log_proba(X),
                                  found.best_estimator_.predict_log_proba(X))
    assert not hasattr(found, "score_samples")
    assert not hasattr(OptunaSearchCV(MLPClassifier(), {}), "n_features_in_")
    assert not hasattr(found, "feature_names_in_")  # fitted on an array


def test_search_on_a_data_frame_keeps_its_column_names_as_grid_search_does(Xy):
    X, y = Xy
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True)}
    found = OptunaSearchCV(MLPClassifier(max_iter=2), space, n_trials=1, cv=2).fit(X, y)
    grid = GridSearchCV(MLPClassifier(max_iter=2), {"alpha": [1e-4]}, cv=2).fit(X, y)
    np.testing.assert_array_equal(found.feature_names_in_, grid.feature_names_in_)


def test_worker_processes_run_the_first_trial_once(Xy):
    X, y = Xy
    found = OptunaSearchCV(MLPClassifier(max_iter=20, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=4,
                           cv=2, refit=False, random_state=0, n_jobs=2).fit(X, y)
    fixed = [t.params for t in found.study_.trials if "fixed_params" in t.system_attrs]
    assert fixed == [{"alpha": 1e-4}]
    assert found.n_trials_ == 4


class _LogTrials:
    """An Optuna callback that appends ``pid trial-number state`` to a file."""

    def __init__(self, path):
        self.path = path

    def __call__(self, study, trial):
        with open(self.path, "a") as log:
            log.write(f"{os.getpid()} {trial.number} {trial.state.name}\n")


def _stop_after_one(study, trial):
    study.stop()


def test_callbacks_run_after_every_trial_and_may_stop_the_search(Xy, tmp_path):
    log = tmp_path / "trials.log"
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True)}
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_trials=3,
                           cv=2, refit=False, random_state=0,
                           callbacks=[_LogTrials(log)]).fit(*Xy)
    assert log.read_text().split("\n")[:-1] == [
        f"{os.getpid()} {t.number} COMPLETE" for t in found.study_.trials]
    stopped = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_trials=3,
                             cv=2, refit=False, callbacks=[_stop_after_one]).fit(*Xy)
    assert stopped.n_trials_ == 1


def test_worker_processes_call_copies_of_the_callbacks(Xy, tmp_path):
    log = tmp_path / "trials.log"
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=4,
                           cv=2, refit=False, random_state=0, n_jobs=2,
                           callbacks=[_LogTrials(log)]).fit(*Xy)
    lines = [line.split() for line in log.read_text().splitlines()]
    # every trial, surplus ones too (failed without running), once, in a worker
    assert sorted(int(number) for _, number, _ in lines) == [
        t.number for t in found.study_.trials]
    assert str(os.getpid()) not in {pid for pid, _, _ in lines}


@pytest.mark.parametrize("n_jobs, workers", [(None, 1), (1, 1), (-1, joblib.cpu_count())])
def test_n_jobs_counts_worker_processes_as_joblib_does(Xy, n_jobs, workers):
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                           cv=2, refit=False, n_jobs=n_jobs).fit(*Xy)
    pids = {t.user_attrs["worker"].rsplit(":", 1)[1] for t in found.study_.trials}
    assert (pids == {str(os.getpid())}) == (workers == 1)


def test_zero_jobs_are_rejected(Xy):
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        OptunaSearchCV(MLPClassifier(), {}, n_jobs=0).fit(*Xy)


def test_an_in_memory_storage_object_is_refused_for_worker_processes(Xy):
    # each worker would fill its own copy and the search would find no trial
    storage = optuna.storages.InMemoryStorage()
    search = OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-4, 1.0)},
                            n_trials=2, cv=2, n_jobs=2, storage=storage)
    with pytest.raises(ValueError, match="InMemoryStorage lives in this process: the n_jobs=2"):
        search.fit(*Xy)
    assert storage.get_all_studies() == []  # refused before any study or trial
    assert search.set_params(n_jobs=1).fit(*Xy).n_trials_ == 2


@pytest.mark.parametrize("estimator, kind", [
    (MLPClassifier(), "classifier"),
    (make_pipeline(StandardScaler(), MLPRegressor()), "regressor"),
    (MLPAutoencoder(), "outlier_detector"),
])
def test_a_search_is_of_the_kind_it_searches_as_grid_search_is(estimator, kind):
    # what cross_val_score reads to stratify its folds around a search
    for searcher in (OptunaSearchCV(estimator, {}), GridSearchCV(estimator, {})):
        assert get_tags(searcher).estimator_type == kind
    assert is_classifier(OptunaSearchCV(estimator, {})) == (kind == "classifier")


def test_a_search_over_a_precomputed_kernel_is_cross_validated_as_grid_search_is(Xy):
    # pairwise: the outer folds cut the kernel's columns too ("X should be a
    # square kernel matrix" before)
    X, y = Xy
    kernel = X @ X.T
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    svc = SVC(kernel="precomputed")
    grid = cross_val_score(GridSearchCV(svc, {"C": [0.5]}, cv=2), kernel, y, cv=cv,
                           error_score="raise")
    found = cross_val_score(OptunaSearchCV(svc, {"C": FloatDistribution(0.5, 0.5)}, n_trials=1,
                                           cv=2), kernel, y, cv=cv, error_score="raise")
    np.testing.assert_array_equal(found, grid)


def test_metadata_routing_sends_weights_where_requested_as_grid_search_does(Xy):
    X, y = Xy
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    alphas = [1e-4, 1e-1]
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = MLPClassifier(max_iter=5, random_state=0).set_fit_request(sample_weight=True)
        settings = dict(scoring=make_scorer(accuracy_score).set_score_request(sample_weight=True),
                        cv=StratifiedKFold(3, shuffle=True, random_state=0))
        found = OptunaSearchCV(estimator, {"alpha": CategoricalDistribution(alphas)},
                               n_trials=2, start_from_estimator=False,
                               sampler=optuna.samplers.GridSampler({"alpha": alphas}),
                               **settings).fit(X, y, sample_weight=weights)
        grid = GridSearchCV(estimator, {"alpha": alphas}, **settings).fit(
            X, y, sample_weight=weights)
        weighted = found.score(X, y, sample_weight=weights)
        assert weighted == pytest.approx(grid.score(X, y, sample_weight=weights))
        assert weighted != pytest.approx(found.score(X, y))
        nested = cross_validate(found, X, y, cv=2, params={"sample_weight": weights})
    # the same candidates, folds and weights (for training and scoring): the same scores
    by_alpha = dict(zip(found.cv_results_["param_alpha"], found.cv_results_["mean_test_score"],
                        strict=True))
    for alpha, score in zip(grid.cv_results_["param_alpha"],
                            grid.cv_results_["mean_test_score"], strict=True):
        assert by_alpha[alpha] == pytest.approx(score)
    assert len(nested["test_score"]) == 2


def test_pruning_stops_bad_trials_and_counts_them(Xy):
    X, y = Xy
    space = {"learning_rate_init": CategoricalDistribution([1e-7, 3e-3])}
    found = OptunaSearchCV(
        MLPClassifier(max_iter=30, n_iter_no_change=100, random_state=0), space,
        n_trials=10, cv=3, random_state=0,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=3)).fit(X, y)
    states = _states(found.study_)
    assert optuna.trial.TrialState.PRUNED in states
    assert found.n_trials_ == 10
    assert found.best_params_ == {"learning_rate_init": 3e-3}


def test_the_default_pruner_waits_for_half_of_the_first_folds_epochs(Xy):
    X, y = Xy
    # a pipeline, as the pruner reads the network's max_iter from its last step
    found = OptunaSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, n_iter_no_change=100,
                                                      random_state=0)),
        {"mlpclassifier__learning_rate_init": CategoricalDistribution([1e-7, 3e-3])},
        n_trials=12, cv=3, random_state=0).fit(X, y)
    pruned = [t for t in found.study_.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned
    # reports every epoch (30 // 20 = 1): the first at or after epoch 15 prunes
    assert {t.last_step for t in pruned} == {15}
    assert all(t.params["mlpclassifier__learning_rate_init"] == 1e-7 for t in pruned)


def test_the_default_pruner_prunes_other_estimators_from_the_second_fold(Xy):
    X, y = Xy
    # no epoch reports: the mean of the folds done after folds 2, 3 and 4
    found = OptunaSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": CategoricalDistribution([1e-6, 10.0])},
        n_trials=14, cv=5, random_state=0).fit(X, y)
    pruned = [t for t in found.study_.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned
    assert {t.last_step for t in pruned} == {2}
    assert all(t.params["logisticregression__C"] == 1e-6 for t in pruned)


@pytest.mark.parametrize("max_iter, steps", [(6, [0, 1, 2, 3, 4, 5]),
                                             (60, list(range(2, 60, 3)))])
def test_first_fold_reports_at_most_twenty_scores(Xy, max_iter, steps):
    X, y = Xy
    found = OptunaSearchCV(
        MLPClassifier(max_iter=max_iter, n_iter_no_change=100, random_state=0),
        {"alpha": FloatDistribution(1e-4, 1.0, log=True)}, n_trials=1, cv=2,
        random_state=0, pruner=optuna.pruners.NopPruner()).fit(X, y)
    assert sorted(found.study_.trials[0].intermediate_values) == steps


def test_later_folds_report_the_running_mean_at_epochs_trained(Xy):
    X, y = Xy
    found = OptunaSearchCV(
        MLPClassifier(max_iter=6, n_iter_no_change=100, random_state=0),
        {"alpha": FloatDistribution(1e-4, 1.0, log=True)}, n_trials=1, cv=4,
        random_state=0, pruner=optuna.pruners.NopPruner()).fit(X, y)
    trial = found.study_.trials[0]
    folds = trial.user_attrs["split_scores"]["score"]
    # after folds 2 and 3 (not after the last: the trial's value follows)
    assert trial.intermediate_values[12] == pytest.approx(np.mean(folds[:2]))
    assert trial.intermediate_values[18] == pytest.approx(np.mean(folds[:3]))
    assert max(trial.intermediate_values) == 18


@pytest.mark.filterwarnings("ignore:WilcoxonPruner is experimental")
def test_wilcoxon_pruner_compares_trials_fold_by_fold(Xy):
    X, y = Xy
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name="folds", direction="maximize")
    # a network that learns, then one whose rate is too small to learn
    for rate in (3e-3, 1e-7):
        study.enqueue_trial({"learning_rate_init": rate})
    found = OptunaSearchCV(
        MLPClassifier(max_iter=30, n_iter_no_change=100, random_state=0),
        {"learning_rate_init": CategoricalDistribution([1e-7, 3e-3])}, n_trials=2, cv=6,
        storage=storage, study_name="folds", load_if_exists=True,
        pruner=optuna.pruners.WilcoxonPruner()).fit(X, y)
    good, bad = found.study_.trials
    folds = good.user_attrs["split_scores"]["score"]
    # each fold's score at its fold number, no epoch reports
    assert good.state == optuna.trial.TrialState.COMPLETE
    assert good.intermediate_values == pytest.approx(dict(enumerate(folds)))
    # worse on every fold: one-sided p = 1/16 < 0.1 after four folds
    assert bad.state == optuna.trial.TrialState.PRUNED
    assert sorted(bad.intermediate_values) == [0, 1, 2, 3]
    assert all(bad.intermediate_values[k] < folds[k] for k in range(4))


def test_a_trial_can_be_pruned_at_a_fold_boundary(Xy):
    X, y = Xy
    # ignores the first fold's epoch reports (steps < 6); no score reaches 2
    pruner = optuna.pruners.ThresholdPruner(lower=2.0, n_warmup_steps=6)
    found = OptunaSearchCV(
        MLPClassifier(max_iter=6, n_iter_no_change=100, random_state=0),
        {"alpha": FloatDistribution(1e-4, 1.0, log=True)}, n_trials=2, cv=3,
        random_state=0, pruner=pruner, refit=False)
    with pytest.raises(ValueError, match="No trial completed"):
        found.fit(X, y)
    for trial in found.study_.trials:
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert trial.last_step == 12  # after the second of three folds


def test_group_folds_keep_each_group_on_one_side(Xy):
    X, y = Xy
    groups = np.arange(len(y)) % 6
    model = MLPClassifier(max_iter=10, random_state=0)
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True)}
    found = OptunaSearchCV(model, space, n_trials=2, cv=GroupKFold(3), refit=False,
                           random_state=0).fit(X, y, groups=groups)
    again = cross_val_score(clone(model).set_params(**found.best_params_), X, y,
                            groups=groups, cv=GroupKFold(3)).mean()
    assert again == pytest.approx(found.best_score_, abs=1e-12)
    with pytest.raises(ValueError, match="groups"):
        OptunaSearchCV(model, space, n_trials=1, cv=GroupKFold(3)).fit(X, y)


def test_sample_weight_is_split_with_the_folds(Xy):
    X, y = Xy
    weight = np.where(y == 2, 5.0, 1.0)
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": FloatDistribution(1e-4, 1.0, log=True)}, n_trials=2,
                           cv=3, random_state=0).fit(X, y, sample_weight=weight)
    assert found.n_trials_ == 2


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(Xy, n_jobs):
    X, y = Xy
    space = {"learning_rate_init": CategoricalDistribution([1e30, 1e-3])}
    # the first trial is the estimator as given, whose rate diverges
    search = OptunaSearchCV(
        MLPClassifier(solver="sgd", learning_rate_init=1e30, max_iter=5, random_state=0),
        space, n_trials=2, cv=2, random_state=0, enable_pruning=False, n_jobs=n_jobs)
    # one warning that sums the failures up, at the user's call, from worker
    # processes too (their own warnings never reach the user)
    with pytest.warns(FitFailedWarning, match="Training diverged") as record:
        found = search.fit(X, y)
    [warning] = [w for w in record if w.category is FitFailedWarning]
    assert warning.filename == __file__
    # (a worker may also leave a surplus trial, failed without running)
    failed = [t for t in found.study_.get_trials() if "fail_reason" in t.user_attrs]
    assert failed[0].number == 0 and "diverged" in failed[0].user_attrs["fail_reason"]
    finished = found.n_trials_ + len(failed)
    assert str(warning.message).startswith(
        f"{len(failed)} of the {finished} trials of the study had a fit that raised")
    assert found.n_trials_ == 2 and "The study holds" not in str(warning.message)
    assert np.isnan(found.cv_results_["mean_test_score"][found.cv_results_["state"] == "FAIL"]
                    ).all()


def _diverging_after_the_first_trial(trial):
    rate = trial.suggest_float("learning_rate_init", 1e-4, 1e-2, log=True)
    return {"learning_rate_init": rate if trial.number == 0 else 1e30}


def test_a_search_that_gives_up_on_failures_says_it_holds_fewer_trials(Xy):
    # failed trials do not count, and n_trials failures in a row end the
    # search: the warning says that it holds fewer trials than asked for
    search = OptunaSearchCV(MLPClassifier(solver="sgd", max_iter=5, random_state=0),
                            _diverging_after_the_first_trial, n_trials=2, cv=2,
                            random_state=0, enable_pruning=False)
    with pytest.warns(FitFailedWarning, match=r"The study holds 1 of the n_trials=2 finished "
                                              r"trials asked for: failed trials do not count"):
        found = search.fit(*Xy)
    assert found.n_trials_ == 1
    assert list(found.cv_results_["state"]) == ["COMPLETE", "FAIL", "FAIL"]


class _FailsOnMarkedRow(TransformerMixin, BaseEstimator):
    """Passes X through; its fit raises where the training rows hold the marked row."""

    def fit(self, X, y=None):
        if np.any(np.asarray(X)[:, 0] == 1e6):
            raise ValueError("the marked row is in the training fold")
        return self

    def transform(self, X):
        return X


def test_a_numeric_error_score_scores_the_failed_folds_as_grid_search_does(Xy):
    X, y = Xy
    X = X.copy()
    X[0, 0] = 1e6  # in the training rows of two folds of three
    pipe = make_pipeline(_FailsOnMarkedRow(), MLPClassifier(max_iter=5, random_state=0))
    alphas = [1e-4, 1e-1]
    settings = dict(cv=StratifiedKFold(3, shuffle=True, random_state=0), error_score=0.0,
                    refit=False)
    with pytest.warns(FitFailedWarning, match="2 of the 2 trials .* raised"):
        found = OptunaSearchCV(pipe, {"mlpclassifier__alpha": CategoricalDistribution(alphas)},
                               n_trials=2, start_from_estimator=False,
                               sampler=optuna.samplers.GridSampler(
                                   {"mlpclassifier__alpha": alphas}),
                               **settings).fit(X, y)
    with pytest.warns(FitFailedWarning):
        grid = GridSearchCV(pipe, {"mlpclassifier__alpha": alphas}, **settings).fit(X, y)
    assert list(found.cv_results_["state"]) == ["COMPLETE", "COMPLETE"]
    by_alpha = {alpha: i for i, alpha in enumerate(found.cv_results_["param_mlpclassifier__alpha"])}
    for j, alpha in enumerate(grid.cv_results_["param_mlpclassifier__alpha"]):
        for split in range(3):
            key = f"split{split}_test_score"
            assert found.cv_results_[key][by_alpha[alpha]] == pytest.approx(
                grid.cv_results_[key][j])
    assert sorted(found.cv_results_["split0_test_score"].tolist()
                  + found.cv_results_["split1_test_score"].tolist()
                  + found.cv_results_["split2_test_score"].tolist()).count(0.0) == 4


def test_error_score_raise_stops_the_search_with_the_fit_error_as_grid_search_does(Xy):
    X, y = Xy
    X = X.copy()
    X[0, 0] = 1e6
    pipe = make_pipeline(_FailsOnMarkedRow(), MLPClassifier(max_iter=5, random_state=0))
    space = {"mlpclassifier__alpha": CategoricalDistribution([1e-4])}
    with pytest.raises(ValueError, match="the marked row is in the training fold"):
        GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4]}, cv=3, error_score="raise").fit(X, y)
    storage = optuna.storages.InMemoryStorage()
    with pytest.raises(ValueError, match="the marked row is in the training fold"):
        OptunaSearchCV(pipe, space, n_trials=3, cv=3, error_score="raise", storage=storage,
                       study_name="raises").fit(X, y)
    trials = optuna.load_study(study_name="raises", storage=storage).get_trials()
    assert [trial.state.name for trial in trials] == ["FAIL"]  # no trial after it


@pytest.mark.parametrize("params", [{"n_trials": 0}, {"timeout": -1.0}])
def test_invalid_budgets_are_rejected(Xy, params):
    with pytest.raises(InvalidParameterError):
        OptunaSearchCV(MLPClassifier(), {}, **params).fit(*Xy)


def test_an_unknown_scoring_name_is_rejected_by_the_search_as_grid_search_rejects_it(Xy):
    # scikit-learn's check_scoring named itself, not the search, as the refuser
    with pytest.raises(InvalidParameterError, match="'scoring' parameter of OptunaSearchCV"):
        OptunaSearchCV(MLPClassifier(), {}, scoring="f1_macroo").fit(*Xy)


def test_an_estimator_without_fit_is_rejected_as_grid_search_rejects_it(Xy):
    # before: AttributeError: 'str' object has no attribute 'get_params'
    with pytest.raises(InvalidParameterError, match="'estimator' .* implementing 'fit'"):
        OptunaSearchCV("MLPClassifier", {}).fit(*Xy)


def test_no_trial_count_needs_a_timeout_and_runs_until_it(Xy):
    with pytest.raises(ValueError, match="n_trials=None .* needs timeout"):
        OptunaSearchCV(MLPClassifier(), {}, n_trials=None).fit(*Xy)
    start = time.perf_counter()
    found = OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-5, 1.0)},
                           n_trials=None, timeout=1.0, cv=2, random_state=0).fit(*Xy)
    # trials of ~0.02 s: no count stops the search, only the second it had
    assert found.n_trials_ >= 2
    assert time.perf_counter() - start >= 1.0
    last_start = max(t.datetime_start for t in found.study_.trials)
    first_start = min(t.datetime_start for t in found.study_.trials)
    assert (last_start - first_start).total_seconds() >= 0.5


def _simplest_within_a_std(results):
    # the pick from scikit-learn's example of a refit callable: the lowest
    # alpha within one standard deviation of the best mean score
    mean, std = results["mean_test_score"], results["std_test_score"]
    best = np.nanargmax(mean)
    near = np.flatnonzero(mean >= mean[best] - std[best])
    return near[np.argmin(np.array(results["param_alpha"])[near])]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_a_refit_callable_picks_the_trial_as_in_grid_search(Xy):
    X, y = Xy
    alphas = [1e-5, 1e-3, 1e-1, 10.0]
    grid = GridSearchCV(MLPClassifier(max_iter=5, random_state=0), {"alpha": alphas}, cv=2,
                        refit=_simplest_within_a_std).fit(X, y)
    found = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                           {"alpha": CategoricalDistribution(alphas)}, n_trials=4, cv=2,
                           sampler=optuna.samplers.BruteForceSampler(seed=0),
                           enable_pruning=False, refit=_simplest_within_a_std).fit(X, y)
    assert found.best_params_ == grid.best_params_
    assert found.best_index_ == _simplest_within_a_std(found.cv_results_)
    assert not hasattr(found, "best_score_") and not hasattr(grid, "best_score_")
    assert found.best_estimator_.alpha == grid.best_params_["alpha"]
    with pytest.raises(IndexError, match="cv_results_ has 2 rows"):
        OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-5, 1.0)},
                       n_trials=2, cv=2, refit=lambda results: 2).fit(X, y)
    with pytest.raises(TypeError, match="not the integer index"):
        OptunaSearchCV(MLPClassifier(max_iter=2), {"alpha": FloatDistribution(1e-5, 1.0)},
                       n_trials=2, cv=2, refit=lambda results: "best").fit(X, y)
