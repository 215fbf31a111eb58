"""Search spaces: default_search_space, dict and callable spaces, first trials, refusals."""

import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as imblearn_pipeline
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from skmlp import MLPClassifier, OptunaSearchCV
from skmlp.tuning import default_search_space


def test_nested_pipeline_parameters_and_default_space(Xy):
    X, y = Xy
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=5, random_state=0))
    found = OptunaSearchCV(pipe, default_search_space(pipe), n_trials=3, cv=2,
                           random_state=0).fit(X, y)
    assert all(name.startswith("mlpclassifier__") for name in found.best_params_)
    assert isinstance(found.best_params_["mlpclassifier__hidden_layer_sizes"], (tuple, list))


@pytest.mark.parametrize("estimator", [LogisticRegression(),
                                       make_pipeline(StandardScaler(), LogisticRegression())])
def test_default_space_needs_a_skmlp_estimator_at_the_end(estimator):
    with pytest.raises(TypeError, match="needs a skmlp estimator .* got LogisticRegression"):
        default_search_space(estimator)


def test_default_space_shows_its_settings_in_the_search_repr():
    pipe = make_pipeline(StandardScaler(), MLPClassifier(solver="lbfgs"))
    space = default_search_space(pipe, extra={"standardscaler__with_mean":
                                              CategoricalDistribution([True, False])})
    shown = repr(OptunaSearchCV(pipe, space))
    assert ("DefaultSearchSpace(prefix='mlpclassifier__', classifier=True, max_layers=3, "
            "lbfgs=True, extra={'standardscaler__with_mean': "
            "CategoricalDistribution(choices=(True, False))})") in " ".join(shown.split())
    assert " at 0x" not in shown


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
    given = {name: pipe.get_params()[name] for name in first}
    if given["mlpclassifier__dropout"] == "auto":  # as the rate it stands for
        given["mlpclassifier__dropout"] = 0.3
    assert first == given
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


@pytest.mark.filterwarnings("ignore:Choices for a categorical distribution:UserWarning")
def test_first_trial_takes_an_estimator_choice_of_the_same_class_and_parameters(Xy):
    # estimators compare by identity: the pipeline's scaler is not the
    # space's, yet it is the same choice
    X, y = Xy
    pipe = make_pipeline(StandardScaler(with_mean=False), MLPClassifier(max_iter=5, random_state=0))
    space = {"standardscaler": CategoricalDistribution(
        [MinMaxScaler(), StandardScaler(), StandardScaler(with_mean=False), "passthrough"])}
    found = OptunaSearchCV(pipe, space, n_trials=2, cv=2, refit=False, random_state=0).fit(X, y)
    assert _started_from_estimator(found)
    first = found.cv_results_["params"][0]["standardscaler"]
    assert first is space["standardscaler"].choices[2]
    other = make_pipeline(StandardScaler(copy=False), MLPClassifier(max_iter=5, random_state=0))
    unmatched = OptunaSearchCV(other, space, n_trials=2, cv=2, refit=False,
                               random_state=0).fit(X, y)
    assert not _started_from_estimator(unmatched)


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
def test_stored_choices_of_the_same_repr_are_told_apart_by_their_position(tmp_path, Xy):
    # scikit-learn prints parameters left at their default, so both read "RobustScaler()"
    scalers = [RobustScaler(), RobustScaler(quantile_range=(25.0, 75.0)), StandardScaler()]
    pipe = make_pipeline(RobustScaler(), MLPClassifier(max_iter=2, random_state=0))
    found = OptunaSearchCV(pipe, {"robustscaler": CategoricalDistribution(scalers)},
                           n_trials=6, cv=2, random_state=0, start_from_estimator=False,
                           storage=f"sqlite:///{tmp_path / 'study.db'}").fit(*Xy)
    labels = [trial.params["robustscaler"] for trial in found.study_.get_trials()]
    assert set(labels) <= {"0: RobustScaler()", "1: RobustScaler()", "2: StandardScaler()"}
    for label, params in zip(labels, found.cv_results_["params"], strict=True):
        assert params["robustscaler"] is scalers[int(label.split(":")[0])]


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
