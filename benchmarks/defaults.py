"""The study behind MLPClassifier's defaults: candidates on ten data sets.

Defaults must be right in general, not for the bundled data alone, so the
candidates run on the four bundled classification tasks, four small data sets
that ship with scikit-learn (digits, breast cancer, wine, iris) and two
synthetic ones (five noisy classes; three imbalanced classes). Each candidate
gets the same preprocessing (the task's, else ``StandardScaler``) and the same
5 stratified folds; the two worker processes run one fit each at a time.
Reported: macro-F1 per data set (mean over folds) and its difference from
scikit-learn's ``MLPClassifier()``, and the mean fit seconds.

    python -m benchmarks.defaults                 # every candidate, about 6 minutes
    python -m benchmarks.defaults --candidates sklearn skmlp
"""

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from sklearn import datasets, neural_network
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPClassifier

from ._results import publish, results_folder, stamped
from .tasks import TASKS

#: name -> factory(seed). ``skmlp`` is the shipped default; the others are
#: the alternatives it was chosen from.
CANDIDATES = {
    "sklearn": lambda seed: neural_network.MLPClassifier(random_state=seed),
    "skmlp_sklearn_network": lambda seed: MLPClassifier(
        hidden_layer_sizes=(100,), dropout=0.0, learning_rate="constant", random_state=seed),
    "skmlp": lambda seed: MLPClassifier(random_state=seed),
    "cosine_100": lambda seed: MLPClassifier(
        hidden_layer_sizes=(100,), dropout=0.0, random_state=seed),
    "dropout_0.2": lambda seed: MLPClassifier(dropout=0.2, random_state=seed),
    # the default's whole cosine cycle: not stopped by the training-loss test
    "full_cycle": lambda seed: MLPClassifier(n_iter_no_change=200, random_state=seed),
    "wide_256": lambda seed: MLPClassifier(hidden_layer_sizes=(256, 256), random_state=seed),
    "wide_early_stopping": lambda seed: MLPClassifier(
        hidden_layer_sizes=(256, 256), dropout=0.1, learning_rate="constant",
        early_stopping=True, n_iter_no_change=30, random_state=seed),
}

BUNDLED = ("yeast", "steel_plates", "maintenance_type", "maintenance_failure")


def _data_sets():
    """name -> (preprocessor factory, X, y)."""
    sets = {name: (TASKS[name].preprocessor, *TASKS[name].load()) for name in BUNDLED}
    for name, load in [("digits", datasets.load_digits),
                       ("breast_cancer", datasets.load_breast_cancer),
                       ("wine", datasets.load_wine), ("iris", datasets.load_iris)]:
        X, y = load(return_X_y=True, as_frame=True)
        sets[name] = (StandardScaler, X, y)
    for name, params in [
            ("synthetic_5_classes", dict(n_features=20, n_informative=10, n_classes=5,
                                         flip_y=0.05, class_sep=0.8, random_state=1)),
            ("synthetic_imbalanced", dict(n_features=30, n_informative=8, n_classes=3,
                                          weights=[0.8, 0.15, 0.05], random_state=2))]:
        X, y = datasets.make_classification(4000, **params)
        sets[name] = (StandardScaler, pd.DataFrame(X), pd.Series(y))
    return sets


def _evaluate(data_name, candidate, preprocessor, X, y, train, test, fold):
    warnings.simplefilter("ignore")  # ConvergenceWarning of the fixed epoch budgets
    model = make_pipeline(preprocessor(), CANDIDATES[candidate](fold))
    start = time.perf_counter()
    model.fit(X.iloc[train], y.iloc[train])
    seconds = time.perf_counter() - start
    score = f1_score(y.iloc[test], model.predict(X.iloc[test]), average="macro")
    return {"data": data_name, "candidate": candidate, "fold": fold, "f1_macro": score,
            "fit_seconds": seconds}


def run(candidates, n_jobs=2):
    jobs = []
    for name, (preprocessor, X, y) in _data_sets().items():
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
        for fold, (train, test) in enumerate(folds):
            jobs += [delayed(_evaluate)(name, candidate, preprocessor, X, y, train, test, fold)
                     for candidate in candidates]
    return pd.DataFrame(Parallel(n_jobs=n_jobs)(jobs))


def report(folds):
    scores = folds.pivot_table(index="data", columns="candidate", values="f1_macro",
                               sort=False)
    columns = [c for c in CANDIDATES if c in scores]
    scores = scores[columns]
    lines = ["Macro-F1, mean over 5 stratified folds:", "", scores.round(3).to_markdown(), ""]
    if "sklearn" in scores:
        difference = scores.sub(scores["sklearn"], axis=0).drop(columns="sklearn")
        summary = pd.DataFrame({"mean": difference.mean(), "wins": (difference > 0).sum(),
                                "losses": (difference < 0).sum()}).T
        lines += ["Difference from scikit-learn's MLPClassifier():", "",
                  pd.concat([difference, summary]).round(3).to_markdown(), ""]
    seconds = folds.pivot_table(index="data", columns="candidate", values="fit_seconds",
                                sort=False)[columns]
    lines += ["Mean fit seconds:", "", seconds.round(2).to_markdown(), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.defaults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", nargs="+", choices=list(CANDIDATES),
                        default=list(CANDIDATES), metavar="NAME",
                        help=f"candidates to run (default: all): {', '.join(CANDIDATES)}")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    folder = results_folder(args.out, stamped("defaults"))
    folds = run(args.candidates, args.n_jobs)
    folds.to_csv(folder / "folds.csv", index=False)
    publish(folder, report(folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
