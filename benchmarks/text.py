"""Sparse text features: skmlp against scikit-learn's MLP on AG News.

The bundled AG News test split (7600 short news texts, 4 balanced topics),
title and description joined, turned into TF-IDF features inside each
training fold (a sparse matrix of ``--max-features`` columns, which both
libraries take as it is). Models: scikit-learn's ``MLPClassifier()``, skmlp's
``MLPClassifier()`` and skmlp with scikit-learn's network (``(100,)``, no
dropout). Same folds (stratified) for all; reported per model:
accuracy and macro-F1 (mean ± std over folds), epochs, fit and predict
seconds (mean), and the ratio of each time to scikit-learn's in the same run.

    python -m benchmarks.text                 # 3 folds, about 5 minutes on 2 cores
    python -m benchmarks.text --rows 1000     # a quick look at a subset
"""

import argparse
import time
import warnings

import pandas as pd
from sklearn import neural_network
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline

from skmlp import MLPClassifier
from skmlp.datasets import load_ag_news

from . import _arguments
from ._results import publish, results_folder, stamped

#: AG News's topics (its classes)
N_TOPICS = 4

MODELS = {
    "sklearn": lambda seed: neural_network.MLPClassifier(random_state=seed),
    "skmlp": lambda seed: MLPClassifier(random_state=seed),
    "skmlp_sklearn_network": lambda seed: MLPClassifier(
        hidden_layer_sizes=(100,), dropout=0.0, random_state=seed),
}


def _texts(rows):
    X, y = load_ag_news(return_X_y=True)
    texts = X["title"] + " " + X["description"]
    if rows is not None and rows < len(texts):
        # stratified: every topic keeps its share, so that every fold holds each one
        texts, _, y, _ = train_test_split(texts, y, train_size=rows, stratify=y,
                                          random_state=0)
    return texts.reset_index(drop=True), y.reset_index(drop=True)


def run(n_folds=3, max_features=20000, rows=None, seed=0):
    """One row per model and fold."""
    texts, y = _texts(rows)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(texts, y)
    results = []
    for fold, (train, test) in enumerate(folds):
        for name, make in MODELS.items():
            model = make_pipeline(TfidfVectorizer(max_features=max_features), make(seed + fold))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                model.fit(texts[train], y[train])
                fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            predicted = model.predict(texts[test])
            results.append({
                "model": name, "fold": fold,
                "accuracy": accuracy_score(y[test], predicted),
                "f1_macro": f1_score(y[test], predicted, average="macro"),
                "epochs": model[-1].n_iter_, "fit_seconds": fit_seconds,
                "predict_seconds": time.perf_counter() - start})
    return pd.DataFrame(results)


def summarise(folds):
    """Mean ± std of the scores, mean epochs and times, and times relative to scikit-learn."""
    grouped = folds.drop(columns="fold").groupby("model", sort=False)
    mean, std = grouped.mean(), grouped.std()
    summary = pd.DataFrame(index=mean.index)
    for score in ("accuracy", "f1_macro"):
        summary[score] = mean[score].map("{:.3f}".format) + " ± " + std[score].map("{:.3f}".format)
    summary["epochs"] = mean["epochs"].round(1)
    for kind in ("fit", "predict"):
        seconds = mean[f"{kind}_seconds"]
        summary[f"{kind} s"] = seconds.round(3)
        summary[f"{kind} vs sklearn"] = (seconds / seconds["sklearn"]).round(2)
    return summary.reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.text", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=_arguments.at_least(2), default=3,
                        help="stratified folds (default: 3)")
    parser.add_argument("--max-features", type=_arguments.at_least(1), default=20000,
                        help="TF-IDF columns at most: the most frequent terms (default: "
                             "20000)")
    parser.add_argument("--rows", type=_arguments.at_least(1),
                        help="a random subset of this many texts, each topic in its share "
                             "(all of them when there are fewer)")
    parser.add_argument("--seed", type=_arguments.seed, default=0,
                        help="seed of the folds and the models (default: 0)")
    _arguments.add_out_option(parser)
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < N_TOPICS * args.folds:
        parser.error(f"--rows {args.rows} is too few for {args.folds} stratified folds of "
                     f"{N_TOPICS} topics: give at least {N_TOPICS * args.folds}")
    folder = results_folder(args.out, stamped("text"))
    folds = run(args.folds, args.max_features, args.rows, args.seed)
    folds.to_csv(folder / "folds.csv", index=False)
    publish(folder, f"### AG News, TF-IDF ({args.max_features} columns at most), "
                    f"{args.folds} stratified folds\n\n"
                    + summarise(folds).to_markdown(index=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
