"""The studies behind the estimators' defaults: candidates on many data sets.

Defaults must be right in general, not for the bundled data alone.

``classification`` (``MLPClassifier``): the four bundled classification
tasks, four small data sets that ship with scikit-learn (digits, breast
cancer, wine, iris) and seven synthetic ones (five noisy classes; three
imbalanced classes; thirty classes; 500 columns of which 30 are
informative; and three smooth low-dimensional boundaries: two moons,
Hastie's sphere in ten dimensions, nested Gaussian quantiles); macro-F1
over 5 stratified folds.

``regression`` (``MLPRegressor``): diabetes (scikit-learn), digits' value as
a target, Friedman's three problems, a noisy linear one, three linear
targets at once and scikit-learn's sparse uncorrelated problem
(synthetic), the bundled NYSE close and the torque of the bundled
maintenance data from its temperatures, speed and tool wear; R² over 5
shuffled folds.

``anomaly`` (``MLPAutoencoder``): classes of data sets held out as the
anomalies (malignant breast cancer, the digit 9, the third wine and iris
class, failures of the bundled maintenance data from its five sensors, the
classes of under 5% of the rows of the bundled yeast and steel plates
data, the rare class of a synthetic set, uniform noise around three
Gaussian clusters), from 4 to 64 features; each candidate is
trained on the normal rows of the training folds and ranks the test fold's
rows; ROC-AUC over 5 stratified folds, against IsolationForest.

Each candidate gets the same preprocessing (the task's, else
``StandardScaler``) and the same folds; the two worker processes run one fit
each at a time. Reported: the score per data set (mean over folds), its
difference from scikit-learn's estimator with its defaults, and the mean fit
seconds.

    python -m benchmarks.defaults                     # classification, about 12 minutes
    python -m benchmarks.defaults --kind regression   # about 2 minutes
    python -m benchmarks.defaults --kind anomaly      # about 8 minutes
    python -m benchmarks.defaults --candidates sklearn skmlp
    python -m benchmarks.defaults --candidates sklearn skmlp --unscaled

``--unscaled`` leaves the numbers as they come (categories are still one-hot
encoded): how each estimator fares without a scaler in front, as when a
user swaps scikit-learn's MLP for skmlp's in code that has none.
"""

import argparse
import time
import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn import datasets, neural_network
from sklearn.ensemble import IsolationForest
from sklearn.metrics import f1_score, r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp.datasets import load_predictive_maintenance

from . import _arguments
from ._results import publish, results_folder, stamped
from .tasks import TASKS


def _fit(model, X, y):
    return model.fit(X, y)


def _fit_on_normal_rows(model, X, y):
    return model.fit(X[y.to_numpy() == 0])


@dataclass(frozen=True)
class _Study:
    """Candidates (name -> factory(seed)), data sets, score and folds of one study."""

    baseline: str  # what the candidate ``reference`` is, for the report
    candidates: dict
    data_sets: callable  # () -> {name: (preprocessor factory, X, y)}
    metric: str
    score: callable  # (fitted model, X_test, y_test) -> float
    folds: callable  # (X, y) -> [(train, test)]
    decimals: int  # shown in the report
    reference: str = "sklearn"  # the candidate the others are compared with
    fit: callable = _fit  # (model, X_train, y_train) -> fitted model


def _classification_data_sets():
    bundled = ("yeast", "steel_plates", "maintenance_type", "maintenance_failure")
    sets = {name: (TASKS[name].preprocessor, *TASKS[name].load()) for name in bundled}
    for name, load in [("digits", datasets.load_digits),
                       ("breast_cancer", datasets.load_breast_cancer),
                       ("wine", datasets.load_wine), ("iris", datasets.load_iris)]:
        X, y = load(return_X_y=True, as_frame=True)
        sets[name] = (StandardScaler, X, y)
    for name, params in [
            ("synthetic_5_classes", dict(n_features=20, n_informative=10, n_classes=5,
                                         flip_y=0.05, class_sep=0.8, random_state=1)),
            ("synthetic_imbalanced", dict(n_features=30, n_informative=8, n_classes=3,
                                          weights=[0.8, 0.15, 0.05], random_state=2)),
            ("synthetic_30_classes", dict(n_features=40, n_informative=20, n_classes=30,
                                          n_clusters_per_class=1, random_state=3)),
            ("synthetic_wide", dict(n_samples=1000, n_features=500, n_informative=30,
                                    n_classes=4, random_state=4))]:
        X, y = datasets.make_classification(**{"n_samples": 4000, **params})
        sets[name] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    # smooth low-dimensional boundaries, where a small network is enough
    for name, (X, y) in [
            ("moons", datasets.make_moons(3000, noise=0.3, random_state=5)),
            ("hastie_10_2", datasets.make_hastie_10_2(4000, random_state=6)),
            ("gaussian_quantiles", datasets.make_gaussian_quantiles(
                n_samples=3000, n_features=6, n_classes=4, random_state=7))]:
        sets[name] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    return sets


def _regression_data_sets():
    X, y = datasets.load_diabetes(return_X_y=True, as_frame=True)
    sets = {"diabetes": (StandardScaler, X, y)}
    X, y = datasets.load_digits(return_X_y=True, as_frame=True)
    sets["digits_value"] = (StandardScaler, X, y.astype(float))
    for name, make, noise in [("friedman_1", datasets.make_friedman1, 1.0),
                              ("friedman_2", datasets.make_friedman2, 50.0),
                              ("friedman_3", datasets.make_friedman3, 0.05)]:
        X, y = make(2000, noise=noise, random_state=0)
        sets[name] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    X, y = datasets.make_regression(2000, 20, n_informative=10, noise=10, random_state=0)
    sets["linear"] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    X, y = datasets.make_regression(2000, 10, n_targets=3, noise=5, random_state=1)
    sets["linear_3_targets"] = (StandardScaler, pd.DataFrame(X), pd.DataFrame(y))
    X, y = datasets.make_sparse_uncorrelated(3000, 10, random_state=2)
    sets["sparse_uncorrelated"] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    task = TASKS["nyse_close"]
    X, y = task.load()
    sets["nyse_close"] = (task.preprocessor, X, y)
    frame = load_predictive_maintenance(as_frame=True).frame
    features = ["Air temperature [K]", "Process temperature [K]", "Rotational speed [rpm]",
                "Tool wear [min]"]
    sets["maintenance_torque"] = (StandardScaler, frame[features], frame["Torque [Nm]"])
    return sets


def _anomaly_data_sets():
    """Data sets whose label is 1 for the held-out anomalies, 0 for normal rows."""
    sets = {}
    for name, load, anomaly in [("breast_cancer", datasets.load_breast_cancer, 0),
                                ("digits_9", datasets.load_digits, 9),
                                ("wine", datasets.load_wine, 2),
                                ("iris", datasets.load_iris, 2)]:
        X, y = load(return_X_y=True, as_frame=True)
        sets[name] = (StandardScaler, X, (y == anomaly).astype(int))
    X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    # the sensors only: the one-hot product type cannot be reconstructed from them
    sets["maintenance_failure"] = (StandardScaler, X.drop(columns="Type"), y)
    for name in ("yeast", "steel_plates"):
        X, y = TASKS[name].load()  # the classes of under 5% of the rows are the anomalies
        share = y.map(y.value_counts(normalize=True))
        sets[f"{name}_rare_classes"] = (TASKS[name].preprocessor, X, (share < 0.05).astype(int))
    X, y = datasets.make_classification(4000, 10, n_informative=6, weights=[0.95],
                                        random_state=0)
    sets["synthetic_rare_class"] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    # the textbook case: normal rows in three clusters, uniform noise around them
    rng = np.random.default_rng(0)
    normal, _ = datasets.make_blobs(2850, 10, centers=3, random_state=0)
    noise = rng.uniform(normal.min(axis=0), normal.max(axis=0), size=(150, 10))
    sets["blobs_uniform_noise"] = (StandardScaler, pd.DataFrame(np.vstack([normal, noise])),
                                   pd.Series(np.repeat([0, 1], [2850, 150])))
    return sets


STUDIES = {
    "classification": _Study(
        baseline="MLPClassifier",
        # ``skmlp`` is the shipped default; the others are the alternatives
        # it was chosen from.
        candidates={
            "sklearn": lambda seed: neural_network.MLPClassifier(random_state=seed),
            "skmlp_sklearn_network": lambda seed: MLPClassifier(
                hidden_layer_sizes=(100,), dropout=0.0, random_state=seed),
            "skmlp": lambda seed: MLPClassifier(random_state=seed),
            # the previous default: the cosine schedule, stopped by the
            # training-loss test, and run through its whole cycle
            "cosine": lambda seed: MLPClassifier(learning_rate="cosine", random_state=seed),
            "cosine_full_cycle": lambda seed: MLPClassifier(
                learning_rate="cosine", n_iter_no_change=200, random_state=seed),
            "dropout_0.2": lambda seed: MLPClassifier(dropout=0.2, random_state=seed),
            # ways to train longer than the default: a longer patience, and
            # halving the rate on a plateau (scikit-learn's "adaptive")
            "patience_20": lambda seed: MLPClassifier(n_iter_no_change=20, random_state=seed),
            "plateau": lambda seed: MLPClassifier(learning_rate="plateau", random_state=seed),
            "wide_256": lambda seed: MLPClassifier(hidden_layer_sizes=(256, 256),
                                                   random_state=seed),
            "wide_early_stopping": lambda seed: MLPClassifier(
                hidden_layer_sizes=(256, 256), dropout=0.1, early_stopping=True,
                n_iter_no_change=30, random_state=seed),
        },
        data_sets=_classification_data_sets,
        metric="f1_macro",
        score=lambda model, X, y: f1_score(y, model.predict(X), average="macro"),
        folds=lambda X, y: StratifiedKFold(5, shuffle=True, random_state=0).split(X, y),
        decimals=3),
    "regression": _Study(
        baseline="MLPRegressor",
        # ``skmlp`` is the shipped default (scikit-learn's network on
        # standardised targets); the others try the classifier's choices.
        candidates={
            "sklearn": lambda seed: neural_network.MLPRegressor(random_state=seed),
            "skmlp": lambda seed: MLPRegressor(random_state=seed),
            "cosine": lambda seed: MLPRegressor(learning_rate="cosine", random_state=seed),
            "wide_128x2": lambda seed: MLPRegressor(hidden_layer_sizes=(128, 128),
                                                    random_state=seed),
            "wide_128x2_cosine": lambda seed: MLPRegressor(
                hidden_layer_sizes=(128, 128), learning_rate="cosine", random_state=seed),
            "wide_128x2_cosine_dropout_0.1": lambda seed: MLPRegressor(
                hidden_layer_sizes=(128, 128), learning_rate="cosine", dropout=0.1,
                random_state=seed),
            # the classifier's network
            "wide_128x2_dropout_0.3": lambda seed: MLPRegressor(
                hidden_layer_sizes=(128, 128), dropout=0.3, random_state=seed),
        },
        data_sets=_regression_data_sets,
        metric="r2",
        score=lambda model, X, y: r2_score(y, model.predict(X)),
        folds=lambda X, y: KFold(5, shuffle=True, random_state=0).split(X),
        # R² of the nearly noise-free NYSE close differs in the fourth decimal
        decimals=4),
    "anomaly": _Study(
        baseline="IsolationForest",
        reference="isolation_forest",
        # ``skmlp`` is the shipped default (``latent_dim="auto"``: half the
        # features, at most 8); the others fix the bottleneck's width.
        candidates={
            "isolation_forest": lambda seed: IsolationForest(random_state=seed),
            "skmlp": lambda seed: MLPAutoencoder(random_state=seed),
            **{f"latent_{width}": lambda seed, width=width: MLPAutoencoder(
                latent_dim=width, random_state=seed) for width in (1, 2, 4, 8)},
            "tanh": lambda seed: MLPAutoencoder(activation="tanh", random_state=seed),
            "logistic": lambda seed: MLPAutoencoder(activation="logistic", random_state=seed),
        },
        data_sets=_anomaly_data_sets,
        metric="roc_auc",
        score=lambda model, X, y: roc_auc_score(y, -model.score_samples(X)),
        folds=lambda X, y: StratifiedKFold(5, shuffle=True, random_state=0).split(X, y),
        decimals=3,
        fit=_fit_on_normal_rows),
}


def _without_scaling(preprocessor):
    """``preprocessor()`` with its ``StandardScaler`` left out: a bare scaler
    becomes the identity, a column transformer passes the numbers through."""
    built = preprocessor()
    if isinstance(built, StandardScaler):
        return FunctionTransformer()
    return built.set_params(remainder="passthrough")


def _evaluate(kind, data_name, candidate, preprocessor, X, y, train, test, fold):
    study = STUDIES[kind]
    model = make_pipeline(preprocessor(), study.candidates[candidate](fold))
    with warnings.catch_warnings():
        # ConvergenceWarning of the fixed epoch budgets; bottlenecks as wide as the input
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        study.fit(model, X.iloc[train], y.iloc[train])
        seconds = time.perf_counter() - start
        score = study.score(model, X.iloc[test], y.iloc[test])
    return {"data": data_name, "candidate": candidate, "fold": fold, study.metric: score,
            "fit_seconds": seconds}


def run(candidates, n_jobs=2, kind="classification", unscaled=False):
    study = STUDIES[kind]
    jobs = []
    for name, (preprocessor, X, y) in study.data_sets().items():
        if unscaled:
            preprocessor = partial(_without_scaling, preprocessor)
        for fold, (train, test) in enumerate(study.folds(X, y)):
            jobs += [delayed(_evaluate)(kind, name, candidate, preprocessor, X, y, train,
                                        test, fold)
                     for candidate in candidates]
    return pd.DataFrame(Parallel(n_jobs=n_jobs)(jobs))


def report(folds, kind="classification"):
    study = STUDIES[kind]
    scores = folds.pivot_table(index="data", columns="candidate", values=study.metric,
                               sort=False)
    columns = [c for c in study.candidates if c in scores]
    scores = scores[columns]
    lines = [f"{study.metric}, mean over 5 folds:", "",
             scores.round(study.decimals).to_markdown(), ""]
    if study.reference in scores:
        difference = scores.sub(scores[study.reference], axis=0).drop(columns=study.reference)
        summary = pd.DataFrame({"mean": difference.mean(), "wins": (difference > 0).sum(),
                                "losses": (difference < 0).sum()}).T
        lines += [f"Difference from scikit-learn's {study.baseline}():", "",
                  pd.concat([difference, summary]).round(study.decimals).to_markdown(), ""]
    seconds = folds.pivot_table(index="data", columns="candidate", values="fit_seconds",
                                sort=False)[columns]
    lines += ["Mean fit seconds:", "", seconds.round(2).to_markdown(), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.defaults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=sorted(STUDIES), default="classification",
                        help="whose defaults: MLPClassifier's, MLPRegressor's or "
                             "MLPAutoencoder's (default: classification)")
    parser.add_argument("--candidates", nargs="+", action=_arguments.Distinct, metavar="NAME",
                        help="candidates to run (default: all of the kind): " + "; ".join(
                            f"{kind}: {', '.join(study.candidates)}"
                            for kind, study in STUDIES.items()))
    parser.add_argument("--unscaled", action="store_true",
                        help="no StandardScaler in front of the candidates")
    parser.add_argument("--n-jobs", type=_arguments.n_jobs, default=2,
                        help="fits run at once, in processes of one thread each (default "
                             "2; -1: one per CPU)")
    _arguments.add_out_option(parser)
    args = parser.parse_args(argv)
    valid = list(STUDIES[args.kind].candidates)
    for name in args.candidates or []:
        if name not in valid:
            parser.error(f"argument --candidates: invalid choice: {name!r} for --kind "
                         f"{args.kind} (choose from {', '.join(valid)})")
    name = f"defaults-{args.kind}" + ("-unscaled" if args.unscaled else "")
    folder = results_folder(args.out, stamped(name))
    folds = run(args.candidates or valid, args.n_jobs, args.kind, args.unscaled)
    folds.to_csv(folder / "folds.csv", index=False)
    publish(folder, report(folds, args.kind))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
