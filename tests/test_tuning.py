"""OptunaSearchCV: search semantics, pruning, persistence and shared studies."""

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import joblib
import numpy as np
import optuna
import pandas as pd
import pytest
import sklearn
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as imblearn_pipeline
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.metrics import accuracy_score, f1_score, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor, OptunaSearchCV
from skmlp._objective import first_heartbeat
from skmlp._storage import with_installed_driver
from skmlp.tuning import default_search_space

sys.path.insert(0, str(Path(__file__).parent))
from search_worker import data, search  # noqa: E402

WORKER = Path(__file__).parent / "search_worker.py"
POSTGRES_URL = os.environ.get("SKMLP_TEST_POSTGRES_URL")


@pytest.fixture(scope="module")
def Xy():
    return data()


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


def test_seeded_search_is_reproducible(Xy):
    X, y = Xy
    space = default_search_space(MLPClassifier())
    results = [OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0), space, n_trials=4,
                              cv=2, random_state=3, refit=False).fit(X, y)
               for _ in range(2)]
    assert results[0].best_params_ == results[1].best_params_
    assert results[0].best_score_ == results[1].best_score_


def test_nested_pipeline_parameters_and_default_space(Xy):
    X, y = Xy
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=0))
    found = OptunaSearchCV(pipe, default_search_space(pipe), n_trials=3, cv=2,
                           random_state=0).fit(X, y)
    assert all(name.startswith("mlpclassifier__") for name in found.best_params_)
    assert isinstance(found.best_params_["mlpclassifier__hidden_layer_sizes"], (tuple, list))


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


def _started_from_estimator(search):
    return "fixed_params" in search.study_.trials[0].system_attrs


@pytest.mark.parametrize("estimator", [
    MLPClassifier(max_iter=5, random_state=0),
    MLPClassifier(hidden_layer_sizes=(32, 16, 16), dropout=0.1, batch_size=64,
                  class_weight="balanced", activation="tanh", max_iter=5, random_state=0)])
def test_first_trial_of_the_default_space_is_the_estimator_as_given(tmp_path, Xy, estimator):
    X, y = Xy
    pipe = make_pipeline(StandardScaler(), estimator)
    found = OptunaSearchCV(pipe, default_search_space(pipe), n_trials=2, cv=2,
                           refit=False, random_state=0,
                           storage=f"sqlite:///{tmp_path / 'study.db'}").fit(X, y)
    first = found.cv_results_["params"][0]
    assert _started_from_estimator(found)
    assert first == {name: pipe.get_params()[name] for name in first}
    assert len(first) == 9  # widths and depth, eight more parameters, class_weight


def test_default_space_searches_other_pipeline_steps_given_as_extra(Xy):
    X, y = Xy
    pipe = imblearn_pipeline(StandardScaler(), SMOTE(k_neighbors=3, random_state=0),
                             MLPClassifier(max_iter=3, random_state=0))
    space = default_search_space(pipe, extra={"smote__k_neighbors": IntDistribution(1, 5)})
    found = OptunaSearchCV(pipe, space, n_trials=3, cv=2, random_state=0).fit(X, y)
    chosen = list(found.cv_results_["param_smote__k_neighbors"])
    assert chosen[0] == 3 and all(1 <= k <= 5 for k in chosen)  # first: the pipeline as given
    assert "mlpclassifier__hidden_layer_sizes" in found.best_params_
    with pytest.raises(ValueError, match="does not have: \\['smote__k'\\]"):
        default_search_space(pipe, extra={"smote__k": IntDistribution(1, 5)})
    with pytest.raises(ValueError, match="already searches: \\['mlpclassifier__alpha'\\]"):
        default_search_space(pipe, extra={"mlpclassifier__alpha": FloatDistribution(1e-4, 1)})


def test_default_space_of_an_lbfgs_estimator_leaves_out_what_lbfgs_does_not_take(Xy):
    X, y = Xy
    estimator = MLPClassifier(solver="lbfgs", dropout=0.0, max_iter=5, random_state=0)
    found = OptunaSearchCV(estimator, default_search_space(estimator), n_trials=4, cv=2,
                           refit=False, random_state=0).fit(X, y)
    assert _started_from_estimator(found)
    assert set(found.cv_results_["state"]) == {"COMPLETE"}
    for params in found.cv_results_["params"]:
        assert not {"dropout", "learning_rate_init", "batch_size"} & set(params)


def test_first_trial_of_a_dict_space_takes_the_values_set(Xy):
    X, y = Xy
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True),
             "dropout": FloatDistribution(0.0, 0.5)}
    found = OptunaSearchCV(MLPClassifier(alpha=0.02, max_iter=5, random_state=0), space,
                           n_trials=2, cv=2, refit=False, random_state=0).fit(X, y)
    assert found.cv_results_["params"][0] == {"alpha": 0.02, "dropout": 0.3}
    unstarted = OptunaSearchCV(MLPClassifier(alpha=0.02, max_iter=5, random_state=0), space,
                               n_trials=2, cv=2, refit=False, random_state=0,
                               start_from_estimator=False).fit(X, y)
    assert not _started_from_estimator(unstarted)
    assert unstarted.cv_results_["params"][0]["alpha"] != 0.02


def _plain_space(trial):
    return {"alpha": trial.suggest_float("alpha", 1e-5, 1.0, log=True)}


@pytest.mark.parametrize("estimator, space", [
    (MLPClassifier(alpha=2.0), {"alpha": FloatDistribution(1e-5, 1.0, log=True)}),
    (MLPClassifier(dropout=[0.1, 0.2]), default_search_space(MLPClassifier())),
    (MLPClassifier(batch_size=100), default_search_space(MLPClassifier())),
    (MLPClassifier(hidden_layer_sizes=64), default_search_space(MLPClassifier())),
    (MLPClassifier(), _plain_space)])
def test_no_first_trial_where_the_space_cannot_draw_the_estimator(Xy, estimator, space):
    X, y = Xy
    found = OptunaSearchCV(estimator.set_params(max_iter=5, random_state=0), space,
                           n_trials=2, cv=2, refit=False, random_state=0).fit(X, y)
    assert not _started_from_estimator(found)
    assert found.n_trials_ == 2


def test_worker_processes_run_the_first_trial_once(Xy):
    X, y = Xy
    found = OptunaSearchCV(MLPClassifier(max_iter=20, random_state=0),
                           {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=4,
                           cv=2, refit=False, random_state=0, n_jobs=2).fit(X, y)
    fixed = [t.params for t in found.study_.trials if "fixed_params" in t.system_attrs]
    assert fixed == [{"alpha": 1e-4}]
    assert found.n_trials_ == 4


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


def test_a_resumed_study_is_not_started_again(tmp_path, Xy):
    X, y = Xy
    search = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                            {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                            cv=2, refit=False, random_state=0,
                            storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="resumed")
    search.fit(X, y)
    search.set_params(n_trials=4).fit(X, y)
    fixed = [t.number for t in search.study_.trials if "fixed_params" in t.system_attrs]
    assert fixed == [0]
    assert search.n_trials_ == 4


def test_a_trial_started_after_the_study_is_full_is_tagged_and_left_out(tmp_path, Xy):
    # another worker's running trial fills the study: this worker's next
    # trial is not run, stays failed in the study and is not in cv_results_
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                            {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                            cv=2, random_state=0, storage=storage, study_name="full")
    search.fit(X, y)
    optuna.load_study(study_name="full", storage=storage).ask()  # the other worker's
    search.set_params(n_trials=3).fit(X, y)
    surplus = [t for t in search.study_.trials if "surplus" in t.user_attrs]
    assert [t.state for t in surplus] == [optuna.trial.TrialState.FAIL]
    assert list(search.cv_results_["trial_number"]) == [0, 1]
    assert search.n_trials_ == 2


def test_a_stored_study_of_another_direction_or_space_is_refused(tmp_path, Xy):
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="losses", storage=storage, direction="minimize")
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True)}
    with pytest.raises(ValueError, match="'losses' in this storage does not maximise"):
        OptunaSearchCV(MLPClassifier(max_iter=2), space, n_trials=2, cv=2, storage=storage,
                       study_name="losses").fit(X, y)
    search = OptunaSearchCV(MLPClassifier(max_iter=2), {"dropout": FloatDistribution(0, 0.5)},
                            n_trials=2, cv=2, storage=storage, study_name="dropout").fit(X, y)
    best = search.best_params_
    with pytest.raises(ValueError, match=r"holds trials of another search space: trial 0 "
                                         r"suggested \['dropout'\]"):
        search.set_params(param_distributions=space).fit(X, y)
    assert search.best_params_ == best and search.study_.study_name == "dropout"


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


def test_a_trial_that_failed_between_its_suggestions_does_not_block_a_resume(tmp_path, Xy):
    # a space that raised after its first suggestion leaves a failed trial
    # with part of the space's suggestions
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="partial", storage=storage, direction="maximize")
    broken = study.ask()
    broken.suggest_float("alpha", 1e-5, 1.0, log=True)
    study.tell(broken, state=optuna.trial.TrialState.FAIL)
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True),
             "dropout": FloatDistribution(0.0, 0.5)}
    found = OptunaSearchCV(MLPClassifier(max_iter=2), space, n_trials=2, cv=2,
                           storage=storage, study_name="partial").fit(X, y)
    assert list(found.cv_results_["state"]) == ["FAIL", "COMPLETE", "COMPLETE"]
    assert found.cv_results_["params"][0] == {}


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
        f"{len(failed)} of the {finished} finished trials of the study had a fit that raised")
    assert found.n_trials_ == 2
    assert np.isnan(found.cv_results_["mean_test_score"][found.cv_results_["state"] == "FAIL"]
                    ).all()


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
    with pytest.warns(FitFailedWarning, match="2 of the 2 finished trials .* raised"):
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


def test_unknown_parameters_fail_before_any_trial(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match=r"\['alhpa'\].*Valid parameters: .*'alpha'"):
        OptunaSearchCV(MLPClassifier(), {"alhpa": FloatDistribution(0.1, 1.0)}).fit(X, y)

    def space(trial):
        return {"mlp__dropout": trial.suggest_float("dropout", 0, 0.5)}

    with pytest.raises(ValueError, match=r"\['mlp__dropout'\]"):
        OptunaSearchCV(make_pipeline(StandardScaler(), MLPClassifier()), space).fit(X, y)


@pytest.mark.parametrize("value", [[1e-4, 1e-2], 0.1])
def test_a_dict_space_of_plain_values_fails_before_any_trial(Xy, value):
    search = OptunaSearchCV(MLPClassifier(), {"alpha": value, "tol": FloatDistribution(0, 1)})
    with pytest.raises(ValueError, match=r"not: \{'alpha': .*CategoricalDistribution"):
        search.fit(*Xy)
    assert not hasattr(search, "study_")


@pytest.mark.parametrize("params", [{"n_trials": 0}, {"timeout": -1.0}])
def test_invalid_budgets_are_rejected(Xy, params):
    with pytest.raises(InvalidParameterError):
        OptunaSearchCV(MLPClassifier(), {}, **params).fit(*Xy)


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


@pytest.mark.parametrize("url, reason", [
    ("notadialect://x", "Can't load plugin"),
    ("postgresql://nobody:secret@127.0.0.1:1/none", "connection"),
    ("postgres://nobody@127.0.0.1:1/none", "reads postgresql://, not postgres://"),
    ("study.db", "A file database is written 'sqlite:///study.db'"),
    ("sqlite://", "in-memory SQLite database belongs to one connection"),
    ("sqlite:///:memory:", "in-memory SQLite database belongs to one connection"),
])
def test_bad_storage_urls_fail_clearly(Xy, url, reason):
    with pytest.raises(ValueError, match="Could not open the Optuna storage") as error:
        search(url, "s", 2).fit(*Xy)
    assert reason in str(error.value)
    assert "secret" not in str(error.value)  # a password in the URL is masked


def test_two_worker_processes_share_one_study_exactly(Xy):
    # trials long enough (~0.5 s) that a worker process starting a second
    # later than the other still finds trials left to run
    found = search(None, None, 6, max_iter=60, n_jobs=2, random_state=0).fit(*Xy)
    trials = found.study_.get_trials()
    assert found.n_trials_ == 6
    assert sum(t.state.name == "COMPLETE" for t in trials) == 6
    assert len({t.user_attrs["worker"] for t in trials}) == 2


def test_worker_processes_reseed_a_given_sampler_so_their_trials_differ(Xy):
    # each worker gets the sampler by pickle: with one random state, the
    # workers' first trials were the same
    found = search(None, None, 4, max_iter=60, n_jobs=2, start_from_estimator=False,
                   sampler=optuna.samplers.RandomSampler(seed=0)).fit(*Xy)
    trials = [t for t in found.study_.get_trials() if "surplus" not in t.user_attrs]
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    suggested = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(suggested)) == len(suggested) == 4


def _scaler_and_width(trial):
    scalers = {"standard": StandardScaler(), "robust": RobustScaler()}
    return {"standardscaler": scalers[trial.suggest_categorical("scaler", list(scalers))],
            "mlpclassifier__hidden_layer_sizes": (trial.suggest_int("width", 4, 16),)}


def test_stored_study_gives_the_parameters_the_space_built(tmp_path, Xy):
    # a storage keeps JSON: a tuple would come back as a list, a scaler not at all
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=0))
    found = OptunaSearchCV(pipe, _scaler_and_width, n_trials=4, cv=2, random_state=0,
                           storage=f"sqlite:///{tmp_path / 'study.db'}").fit(*Xy)
    for params, trial in zip(found.cv_results_["params"], found.study_.get_trials(),
                             strict=True):
        assert params["mlpclassifier__hidden_layer_sizes"] == (trial.params["width"],)
        assert type(params["standardscaler"]).__name__.lower().startswith(
            trial.params["scaler"])
    assert found.best_params_ == found.cv_results_["params"][found.best_index_]
    widths = pd.DataFrame(found.cv_results_)["param_mlpclassifier__hidden_layer_sizes"]
    assert list(widths) == [p["mlpclassifier__hidden_layer_sizes"]
                            for p in found.cv_results_["params"]]
    assert type(found.best_estimator_.steps[0][1]) is type(found.best_params_["standardscaler"])


@pytest.mark.filterwarnings("ignore:Choices for a categorical distribution:UserWarning")
def test_a_stored_dict_space_of_tuples_and_estimators_starts_and_refits(tmp_path, Xy):
    # as GridSearchCV's lists: widths as tuples, scalers as estimators; a
    # storage's JSON keeps neither, so they are stored by their repr
    scalers = [StandardScaler(), RobustScaler()]
    pipe = make_pipeline(scalers[0], MLPClassifier(max_iter=3, hidden_layer_sizes=(8,),
                                                   random_state=0))
    space = {"mlpclassifier__hidden_layer_sizes": CategoricalDistribution([(8,), (16, 8)]),
             "standardscaler": CategoricalDistribution(scalers)}
    found = OptunaSearchCV(pipe, space, n_trials=4, cv=2, random_state=0,
                           storage=f"sqlite:///{tmp_path / 'study.db'}").fit(*Xy)
    first = found.cv_results_["params"][0]
    assert first["mlpclassifier__hidden_layer_sizes"] == (8,)  # the estimator as given
    assert type(first["standardscaler"]) is StandardScaler
    assert found.study_.trials[0].params["mlpclassifier__hidden_layer_sizes"] == "(8,)"
    for params in found.cv_results_["params"]:
        assert params["mlpclassifier__hidden_layer_sizes"] in [(8,), (16, 8)]
        assert any(params["standardscaler"] is scaler for scaler in scalers)
    # the choices themselves are never fitted: each fold and the refit get clones
    assert not any(hasattr(scaler, "mean_") or hasattr(scaler, "center_")
                   for scaler in scalers)
    refit = found.best_estimator_
    assert refit.steps[1][1].hidden_layer_sizes == found.best_params_[
        "mlpclassifier__hidden_layer_sizes"]
    assert refit.steps[0][1] is not found.best_params_["standardscaler"]


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning",
                            "ignore:Heartbeat of storage:UserWarning")
def test_a_trial_killed_before_its_heartbeat_thread_ran_is_still_failed(tmp_path):
    # Optuna leaves a running trial without any heartbeat running for ever;
    # the search's objective records the first heartbeat itself.
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}",
                                         heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage)
    study.ask()  # a trial whose worker died before any heartbeat
    first_heartbeat(study.ask())
    time.sleep(2.2)  # SQLite's clock counts whole seconds: over 1 s on it, whatever the phase
    optuna.storages.fail_stale_trials(study)
    states = [t.state.name for t in study.get_trials()]
    assert states == ["RUNNING", "FAIL"]


def test_sqlite_study_resumes_after_sigkill(tmp_path, Xy):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    worker = subprocess.Popen([sys.executable, str(WORKER), url, "resume", "8", "150"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    study = None
    while time.time() < deadline:
        time.sleep(0.3)
        try:
            study = optuna.load_study(study_name="resume", storage=url)
        except KeyError:
            continue
        trials = study.get_trials()
        states = [t.state.name for t in trials]
        # a trial's worker attribute is written after its first heartbeat
        if (states.count("COMPLETE") >= 2 and states[-1] == "RUNNING"
                and "worker" in trials[-1].user_attrs):
            break
    else:
        worker.kill()
        pytest.fail("the worker never reached a running third trial")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    completed_before = [t.number for t in study.get_trials() if t.state.name == "COMPLETE"]
    interrupted = [t.number for t in study.get_trials() if t.state.name == "RUNNING"]
    assert len(interrupted) == 1
    time.sleep(2.5)  # longer than the grace period of 2 heartbeats of 1 s

    found = search(url, "resume", 8, max_iter=150, heartbeat_interval=1).fit(*Xy)
    trials = {t.number: t for t in found.study_.get_trials()}
    assert sum(t.state.name == "COMPLETE" for t in trials.values()) == 8
    assert trials[interrupted[0]].state.name == "FAIL"
    assert all(trials[n].state.name == "COMPLETE" for n in completed_before)
    assert not any(t.state.name == "RUNNING" for t in trials.values())


@pytest.mark.parametrize("url, psycopg2_installed, expected", [
    ("postgresql://me:pw@db:5432/optuna", False, "postgresql+psycopg://me:pw@db:5432/optuna"),
    ("postgresql://me:pw@db:5432/optuna", True, "postgresql://me:pw@db:5432/optuna"),
    ("postgresql+psycopg2://db/optuna", False, "postgresql+psycopg2://db/optuna"),
    ("sqlite:///study.db", False, "sqlite:///study.db"),
])
def test_a_bare_postgresql_url_means_psycopg_3_where_psycopg2_is_missing(
        monkeypatch, url, psycopg2_installed, expected):
    # SQLAlchemy 2.0 reads a bare postgresql:// as psycopg2; skmlp[postgresql] installs psycopg 3
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: (
        psycopg2_installed or None if name == "psycopg2" else find_spec(name)))
    assert with_installed_driver(url) == expected


def _fresh_postgres_database():
    import sqlalchemy

    name = f"skmlp_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(with_installed_driver(POSTGRES_URL),
                                      isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_URL is None and os.environ.get("CI") != "true",
                    reason="set SKMLP_TEST_POSTGRES_URL to a PostgreSQL server "
                           "(.ci/run starts one)")
def test_postgresql_study_shared_by_two_workers_started_together(Xy):
    assert POSTGRES_URL, "CI must export SKMLP_TEST_POSTGRES_URL (see .ci/run)"
    url = _fresh_postgres_database()  # both workers create the schema at once
    workers = [subprocess.Popen([sys.executable, str(WORKER), url, "shared", "8"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()[-2000:]
    # the workers got the URL as a user writes it; Optuna itself needs the driver named
    study = optuna.load_study(study_name="shared", storage=with_installed_driver(url))
    trials = study.get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 8
    assert len({t.number for t in trials}) == len(trials)
    assert len({t.user_attrs["worker"] for t in complete}) == 2

    found = search(url, "shared", 8).fit(*Xy)  # no trial left to run: collects results
    assert len(found.study_.get_trials()) == len(trials)
    cv = StratifiedKFold(3)
    model = MLPClassifier(max_iter=40, random_state=0).set_params(**found.best_params_)
    again = cross_val_score(model, *Xy, cv=cv, scoring="f1_macro").mean()
    assert again == pytest.approx(found.best_score_, abs=1e-12)
