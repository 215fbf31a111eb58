"""The source material's experiments as named scenarios.

``regularisation``: no regularisation vs dropout vs L2 vs both vs batch norm
vs early stopping, on yeast and predictive maintenance (failure type).
``optimiser``: full-batch gradient descent vs plain SGD (batch 1) vs
mini-batch SGD with momentum vs Adam, on yeast; and L-BFGS (full batch,
scikit-learn's solver for small data), whose epochs are its iterations.

Each configuration is scored by macro-F1 over 5 stratified folds with the
same splits, trained for a fixed number of epochs (no tol-based stop) so that
only the studied factor differs; loss curves of the first fold are plotted.
"""

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from tqdm.auto import tqdm

from skmlp import MLPClassifier

from .tasks import TASKS

_FIXED_EPOCHS = dict(max_iter=60, n_iter_no_change=60)
# no penalty and no dropout (not the classifier's defaults) and a constant
# rate, as in the source material
_NO_PENALTY = dict(alpha=0.0, dropout=0.0, learning_rate="constant",
                   hidden_layer_sizes=(128, 64), **_FIXED_EPOCHS)

SCENARIOS = {
    "regularisation": {
        "tasks": ["yeast", "maintenance_type"],
        "configs": {
            "baseline": _NO_PENALTY,
            "dropout": {**_NO_PENALTY, "dropout": 0.3},
            "l2": {**_NO_PENALTY, "alpha": 1.0},
            "dropout+l2": {**_NO_PENALTY, "dropout": 0.3, "alpha": 1.0},
            "batch_norm": {**_NO_PENALTY, "batch_norm": True},
            "early_stopping": {**_NO_PENALTY, "early_stopping": True,
                               "n_iter_no_change": 10},
        },
    },
    "optimiser": {
        "tasks": ["yeast"],
        "configs": {
            "full-batch GD": dict(solver="sgd", momentum=0.0, batch_size="full",
                                  learning_rate_init=0.1, **_NO_PENALTY),
            "SGD (batch 1)": dict(solver="sgd", momentum=0.0, batch_size=1,
                                  learning_rate_init=0.01, **_NO_PENALTY),
            "mini-batch SGD": dict(solver="sgd", momentum=0.9, batch_size=32,
                                   learning_rate_init=0.01, **_NO_PENALTY),
            "Adam": dict(solver="adam", batch_size=32, learning_rate_init=1e-3,
                         **_NO_PENALTY),
            "L-BFGS": dict(solver="lbfgs", **_NO_PENALTY),
        },
    },
}


def run_scenarios(names, folder, seed):
    """Run each named scenario; write its CSV and plots; return Markdown."""
    sections = []
    for name in names:
        scenario = SCENARIOS[name]
        for task_name in scenario["tasks"]:
            table, curves = _run(TASKS[task_name], scenario["configs"], seed)
            table.to_csv(folder / f"{name}_{task_name}.csv")
            _plot_curves(curves, f"{name}: {task_name}", folder / f"{name}_{task_name}.png")
            sections += [f"### {name}: {task_name}", "", table.to_markdown(), ""]
    return "\n".join(sections)


def _run(task, configs, seed):
    X, y = task.load()
    folds = task.splits(X, y, n_splits=5, n_repeats=1, seed=seed)
    rows, curves = [], {}
    with tqdm(total=len(configs) * len(folds), unit="fit", desc=task.name) as bar:
        for label, params in configs.items():
            scores, seconds = [], []
            for fold, (train, test) in enumerate(folds):
                model = make_pipeline(clone(task.preprocessor()),
                                      MLPClassifier(random_state=seed + fold, **params))
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(X.iloc[train], y.iloc[train])
                seconds.append(time.perf_counter() - start)
                scores.append(f1_score(y.iloc[test], model.predict(X.iloc[test]),
                                       average="macro", zero_division=0))
                if fold == 0:
                    net = model[-1]
                    curves[label] = (net.loss_curve_, net.validation_loss_curve_)
                bar.update()
            rows.append({"config": label, "f1_macro": np.mean(scores),
                         "f1_macro_std": np.std(scores), "fit_seconds": np.mean(seconds),
                         "epochs (fold 0)": len(curves[label][0])})
    return pd.DataFrame(rows).set_index("config").round(4), curves


def _plot_curves(curves, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, (train, valid) in curves.items():
        (line,) = ax.plot(train, label=f"{label} (train)")
        if valid is not None:
            ax.plot(valid, linestyle="--", color=line.get_color(), label=f"{label} (valid)")
    ax.set(xlabel="epoch", ylabel="training loss", title=title, yscale="log")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
