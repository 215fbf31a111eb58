"""skmlp against scikit-learn's MLP on the bundled datasets: the main job.

Every model gets the same preprocessing and the same folds; each finished
fold is appended to ``folds.csv`` at once, so an interrupted run keeps every
fold that completed. At the end ``summary.md`` and PNG plots are written
beside it.

    python -m benchmarks                      # quick run, a few minutes on 2 cores
    python -m benchmarks --full               # more folds and repeats, + HistGradientBoosting
    python -m benchmarks --scenario regularisation optimiser
"""

import argparse
import csv
import sys
import time
import warnings
from functools import cache

import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from tqdm.auto import tqdm

from skmlp.reporting import classification_scores, regression_scores

from . import _arguments
from ._results import publish, results_folder, stamped
from .models import MODELS, build
from .tasks import TASKS

PRIMARY = {"classification": ("f1_macro", True), "regression": ("rmse", False)}
BASELINE = "sklearn"
SKMLP_VARIANTS = ("skmlp", "skmlp_balanced", "skmlp_smote", "skmlp_wide", "skmlp_tuned")


def parse_args(argv):
    from .scenarios import SCENARIOS

    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true",
                        help="5 folds x 3 repeats and every model (default: 3 folds, "
                             "quick models)")
    parser.add_argument("--datasets", nargs="+", action=_arguments.Distinct,
                        choices=sorted(TASKS), metavar="NAME",
                        help=f"tasks to run (default: all): {', '.join(sorted(TASKS))}")
    parser.add_argument("--models", nargs="+", action=_arguments.Distinct,
                        choices=sorted(MODELS), metavar="NAME",
                        help=f"models to run (default: all of the mode): "
                             f"{', '.join(sorted(MODELS))}")
    parser.add_argument("--scenario", nargs="+", action=_arguments.Distinct,
                        choices=sorted(SCENARIOS), metavar="NAME",
                        help="run named studies instead of the comparison: "
                             f"{', '.join(sorted(SCENARIOS))}")
    parser.add_argument("--run", type=_arguments.folder_name,
                        help="results folder name under --out (default: mode and time stamp)")
    _arguments.add_out_option(parser)
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing results folder of the same name")
    parser.add_argument("--seed", type=_arguments.seed, default=0,
                        help="seed of the folds and of every model (default: 0)")
    parser.add_argument("--n-jobs", type=_arguments.n_jobs, default=2,
                        help="fits run at once, in processes of one thread each (default "
                             "2; -1: one per CPU); 1 runs one fit at a time, whose fit "
                             "times compare best")
    args = parser.parse_args(argv)
    # options that would do nothing are refused, as unknown names are
    if args.scenario:
        ignored = [option for option, value in (("--full", args.full),
                                                ("--datasets", args.datasets),
                                                ("--models", args.models)) if value]
        if ignored:
            parser.error(f"--scenario runs each study on its own tasks and models, so "
                         f"{' and '.join(ignored)} would be ignored; leave them out")
    tasks = args.datasets or sorted(TASKS)
    kinds = {TASKS[name].kind for name in tasks}
    idle = [name for name in args.models or () if not kinds & set(MODELS[name][0])]
    if idle:
        parser.error("argument --models: " + ", ".join(
            f"{name} ({' or '.join(MODELS[name][0])} only)" for name in idle)
            + f" fits none of the tasks run: {', '.join(tasks)}")
    return args


def run_comparison(args, folder):
    n_splits, n_repeats = (5, 3) if args.full else (3, 1)
    fits = []  # (task, X, y, fold, train, test, model name), in the order of the tables
    for task_name in args.datasets or TASKS:
        task = TASKS[task_name]
        X, y = task.load()
        if task.kind == "classification":
            y = _label_codes(y)
        models = [name for name in (args.models or MODELS)
                  if task.kind in MODELS[name][0] and (args.full or MODELS[name][1]
                                                       or args.models)]
        for fold, (train, test) in enumerate(task.splits(X, y, n_splits, n_repeats,
                                                         args.seed)):
            fits += [(task, X, y, fold, train, test, model) for model in models]
    # joblib's processes (loky) run one BLAS and torch thread each when they
    # fill the CPUs; finished fits come back, and are written, as they finish
    finished = Parallel(n_jobs=args.n_jobs, return_as="generator_unordered")(
        delayed(_fit_and_score)(order, *fit, args.seed) for order, fit in enumerate(fits))
    rows = []
    with open(folder / "folds.csv", "w", newline="") as handle, \
            tqdm(total=len(fits), unit="fit", desc="benchmark") as bar:
        writer = None
        for order, row in finished:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=_all_columns(row))
                writer.writeheader()
            writer.writerow(row)
            handle.flush()
            rows.append((order, row))
            bar.set_postfix_str(f"{row['task']} {row['model']} fold {row['fold']}", refresh=False)
            bar.update()
    return pd.DataFrame([row for _, row in sorted(rows, key=lambda pair: pair[0])])


def _label_codes(y):
    """The class labels as integer codes, in the sorted order both libraries give them.

    Every model sees the same codes and scores the same as on the names;
    scikit-learn 1.6 to 1.8's ``MLPClassifier(early_stopping=True)``, the
    ``sklearn_es`` baseline, fails on text labels (scikit-learn issue 33760,
    fixed in 1.9).
    """
    return pd.Series(LabelEncoder().fit_transform(y), index=y.index, name=y.name)


def _fit_and_score(order, task, X, y, fold, train, test, name, seed):
    """One row of ``folds.csv``: model ``name`` fitted and scored on one fold."""
    _warm_up_torch()
    return order, {"task": task.name, "kind": task.kind, "model": name, "fold": fold,
                   **evaluate(name, task, X, y, train, test, seed + fold)}


@cache
def _warm_up_torch():
    """Pay torch's one-off costs (its first kernels and allocations, about
    0.05 s) before timing, once per process, so that they are not billed to
    its first fit."""
    from sklearn.datasets import make_classification

    import skmlp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        skmlp.MLPClassifier(max_iter=1).fit(*make_classification(n_samples=50, random_state=0))


def _all_columns(first_row):
    metrics = ["accuracy", "balanced_accuracy", "f1_macro", "mcc", "roc_auc", "log_loss",
               "rmse", "mae", "r2"]
    return list(first_row)[:4] + metrics + ["fit_seconds", "predict_seconds"]


def evaluate(name, task, X, y, train, test, seed):
    """Fit model ``name`` on one fold and score it on the held-out part."""
    X_train, X_test = X.iloc[train], X.iloc[test]
    y_train, y_test = y.iloc[train], y.iloc[test]
    model = build(name, task, y_train, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    y_pred = model.predict(X_test)
    if task.kind == "classification":
        proba = model.predict_proba(X_test)
        predict_seconds = time.perf_counter() - start
        scores = classification_scores(y_test, y_pred, proba, labels=model.classes_)
    else:
        predict_seconds = time.perf_counter() - start
        scores = regression_scores(y_test, y_pred)
    return {**scores.to_dict(), "fit_seconds": fit_seconds,
            "predict_seconds": predict_seconds}


def overview(folds):
    """One line per task: the primary metric (mean ± std over folds) and fit seconds."""
    rows = []
    for task_name, rows_of_task in folds.groupby("task", sort=False):
        kind = rows_of_task["kind"].iloc[0]
        primary, _ = PRIMARY[kind]
        stats = rows_of_task.groupby("model", sort=False).agg(
            mean=(primary, "mean"), std=(primary, lambda s: s.std(ddof=0)),
            fit=("fit_seconds", "mean"))
        rows.append({"task": f"{task_name} ({primary})",
                     **{model: f"{r['mean']:.3f} ± {r['std']:.3f} ({r['fit']:.1f} s)"
                        for model, r in stats.iterrows()}})
    return pd.DataFrame(rows).set_index("task").fillna("").to_markdown()


def summarise(folds):
    """Mean ± std per task and model, and per-fold wins/losses against sklearn."""
    lines = []
    for task_name, task_rows in folds.groupby("task", sort=False):
        kind = task_rows["kind"].iloc[0]
        primary, higher_is_better = PRIMARY[kind]
        metrics = (["f1_macro", "balanced_accuracy", "accuracy", "mcc", "roc_auc", "log_loss"]
                   if kind == "classification" else ["rmse", "mae", "r2"])
        lines += [f"### {task_name}", "", TASKS[task_name].description, ""]
        header = ["model", *metrics, "fit s", "predict s", f"{primary} wins/losses vs sklearn"]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        baseline = task_rows[task_rows["model"] == BASELINE].set_index("fold")[primary]
        for model, rows in task_rows.groupby("model", sort=False):
            cells = [model] + [f"{rows[m].mean():.3f} ± {rows[m].std(ddof=0):.3f}"
                               for m in metrics]
            cells += [f"{rows['fit_seconds'].mean():.2f}", f"{rows['predict_seconds'].mean():.3f}"]
            if model == BASELINE or baseline.empty:
                cells.append("")
            else:
                diff = rows.set_index("fold")[primary] - baseline
                diff = diff if higher_is_better else -diff
                cells.append(f"{int((diff > 0).sum())}/{int((diff < 0).sum())}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def quality_verdict(folds):
    """The quality bar of the README, checked on the classification tasks."""
    lines = []
    for task_name, rows in folds[folds["kind"] == "classification"].groupby("task", sort=False):
        by_model = rows.groupby("model")["f1_macro"]
        mean, std = by_model.mean(), by_model.std(ddof=0)
        if BASELINE not in mean or "skmlp" not in mean:
            continue
        variants = [m for m in SKMLP_VARIANTS if m in mean]
        best = max(variants, key=mean.get)
        margin = mean[best] - mean[BASELINE]
        lines.append(
            f"- {task_name}: skmlp default {mean['skmlp']:.3f} vs sklearn {mean[BASELINE]:.3f} "
            f"({'≥' if mean['skmlp'] >= mean[BASELINE] else '<'}); best variant {best} "
            f"{mean[best]:.3f}, margin {margin:+.3f} vs fold std {std[best]:.3f} "
            f"({'beats' if margin > std[best] else 'does not beat'} it)")
    return "\n".join(lines)


def plot_comparison(folds, folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for task_name, rows in folds.groupby("task", sort=False):
        primary, _ = PRIMARY[rows["kind"].iloc[0]]
        stats = rows.groupby("model", sort=False)[primary].agg(["mean", "std"])
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.barh(stats.index, stats["mean"], xerr=stats["std"], color="tab:blue", alpha=0.8)
        ax.set(xlabel=f"{primary} (mean ± std over folds)", title=task_name)
        fig.tight_layout()
        fig.savefig(folder / f"{task_name}.png", dpi=100)
        plt.close(fig)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mode = "full" if args.full else ("scenarios" if args.scenario else "quick")
    folder = results_folder(args.out, args.run or stamped(mode), args.overwrite)
    if args.scenario:
        from .scenarios import run_scenarios

        report = run_scenarios(args.scenario, folder, args.seed)
    else:
        folds = run_comparison(args, folder)
        plot_comparison(folds, folder)
        verdict = quality_verdict(folds)
        report = ("### Overview: mean ± std over folds (mean fit seconds)\n\n"
                  + overview(folds) + "\n\n" + summarise(folds)
                  + ("\n### Quality bar\n\n" + verdict + "\n" if verdict else ""))
    publish(folder, report)
    return 0
