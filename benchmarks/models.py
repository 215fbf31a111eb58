"""The models compared, each built fresh for one training fold.

Every model sits in the same pipeline: the task's preprocessing, then (for
``skmlp_smote``) SMOTE, then the estimator.
"""

import numpy as np
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline
from sklearn import ensemble, neural_network

import skmlp
from skmlp.tuning import OptunaSearchCV, default_search_space

#: name -> (kinds it applies to, in the quick run?, factory(kind, y_train, seed))
MODELS = {}


def _model(name, kinds=("classification", "regression"), quick=True):
    def register(factory):
        MODELS[name] = (kinds, quick, factory)
        return factory
    return register


def _sklearn_mlp(kind):
    return (neural_network.MLPClassifier if kind == "classification"
            else neural_network.MLPRegressor)


def _skmlp(kind):
    return skmlp.MLPClassifier if kind == "classification" else skmlp.MLPRegressor


@_model("sklearn")
def _sklearn_default(kind, y_train, seed):
    return _sklearn_mlp(kind)(random_state=seed)


@_model("sklearn_es")
def _sklearn_early_stopping(kind, y_train, seed):
    return _sklearn_mlp(kind)(early_stopping=True, random_state=seed)


@_model("skmlp")
def _skmlp_default(kind, y_train, seed):
    return _skmlp(kind)(random_state=seed)


@_model("skmlp_balanced", kinds=("classification",))
def _skmlp_balanced(kind, y_train, seed):
    return skmlp.MLPClassifier(class_weight="balanced", random_state=seed)


@_model("skmlp_smote", kinds=("classification",))
def _skmlp_smote(kind, y_train, seed):
    # SMOTE interpolates between a sample and its k nearest same-class
    # neighbours, so k must stay below the smallest class in the fold.
    smallest = np.unique(y_train, return_counts=True)[1].min()
    return (SMOTE(k_neighbors=int(min(5, smallest - 1)), random_state=seed),
            skmlp.MLPClassifier(random_state=seed))


@_model("skmlp_wide", kinds=("classification",))
def _skmlp_wide(kind, y_train, seed):
    # The default at twice the width: as high as the default on mean
    # macro-F1 in the defaults study (benchmarks/defaults.py, fifteen data
    # sets; higher on thirty classes), not the default because it costs 1.5x
    # to 3.2x the default's fit time.
    return skmlp.MLPClassifier(hidden_layer_sizes=(256, 256), random_state=seed)


@_model("skmlp_tuned", quick=False)
def _skmlp_tuned(kind, y_train, seed):
    estimator = _skmlp(kind)(random_state=seed)
    return OptunaSearchCV(estimator, default_search_space(estimator), n_trials=15, cv=3,
                          scoring="f1_macro" if kind == "classification" else None,
                          random_state=seed)


@_model("hgb", quick=False)
def _hist_gradient_boosting(kind, y_train, seed):
    return (ensemble.HistGradientBoostingClassifier if kind == "classification"
            else ensemble.HistGradientBoostingRegressor)(random_state=seed)


def build(name, task, y_train, seed):
    """The full pipeline for model ``name`` on ``task``'s training fold."""
    steps = MODELS[name][2](task.kind, y_train, seed)
    steps = steps if isinstance(steps, tuple) else (steps,)
    return make_pipeline(task.preprocessor(), *steps)
