"""Training and prediction speed: skmlp vs scikit-learn, plain skorch and a minimal loop.

All four train the same network (20 features -> hidden layers -> 3 classes)
with Adam at learning rate 1e-3 and batch 200 for a fixed number of epochs
(no early stopping, no tolerance-based stop), on synthetic data, in one run.
They take turns, three rounds, and each implementation's fastest fit counts.
Ratios are against scikit-learn measured in the same run. A cold start
table shows what a new process pays before that: the library's import and
its first fit, against a second fit in the same process. A last table
fits each library's classifier with its own defaults (skmlp's larger
network with dropout, scikit-learn's ``(100,)``), each stopping when its
own test says so, and scores both on held-out rows: what a user who
changes only the import gets, in time and in quality.

    python -m benchmarks.speed                 # 1k, 10k, 100k, 1M rows (about 9 minutes)
    python -m benchmarks.speed --sizes 1000 10000
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnClassifier
from sklearn.neural_network import MLPRegressor as SklearnRegressor
from skorch import NeuralNetClassifier

from skmlp import MLPClassifier, MLPRegressor
from skmlp._runtime import thread_budget
from skmlp.modules import MLP

from . import _arguments
from ._results import publish, results_folder, stamped

N_FEATURES, N_CLASSES, BATCH, LR = 20, 3, 200, 1e-3
IMPLEMENTATIONS = ("sklearn", "skmlp", "skorch", "minimal")
#: The module each implementation imports before its first fit.
LIBRARIES = {"sklearn": "sklearn.neural_network", "skmlp": "skmlp", "skorch": "skorch",
             "minimal": "torch"}
#: The fits of a cold start: small, so that one-off costs show.
COLD_START_ROWS, COLD_START_EPOCHS = 1_000, 5


def make_data(n_rows, seed=0):
    X, y = make_classification(n_samples=n_rows, n_features=N_FEATURES, n_informative=10,
                               n_classes=N_CLASSES, random_state=seed)
    return X.astype(np.float32), y


def _epochs_for(n_rows):
    """Enough epochs for a stable per-epoch time, few enough for 2 cores."""
    return int(np.clip(2_000_000 // n_rows, 2, 50))


def _fixed_epochs(epochs):
    return dict(max_iter=epochs, n_iter_no_change=epochs + 1, tol=0.0)


def _fit_sklearn(X, y, hidden, epochs):
    model = SklearnClassifier(hidden_layer_sizes=hidden, batch_size=BATCH,
                              learning_rate_init=LR, random_state=0, **_fixed_epochs(epochs))
    return model.fit(X, y), model.predict


def _fit_skmlp(X, y, hidden, epochs):
    # scikit-learn's network: no dropout
    model = MLPClassifier(hidden_layer_sizes=hidden, dropout=0.0, batch_size=BATCH,
                          learning_rate_init=LR, random_state=0,
                          **_fixed_epochs(epochs))
    return model.fit(X, y), model.predict


def _mlp_module(hidden):
    return MLP(N_FEATURES, N_CLASSES, hidden, "relu", (0.0,) * len(hidden), False)


def _fit_skorch(X, y, hidden, epochs):
    torch.manual_seed(0)
    net = NeuralNetClassifier(_mlp_module(hidden), criterion=torch.nn.CrossEntropyLoss,
                              optimizer=torch.optim.Adam, lr=LR, batch_size=BATCH,
                              max_epochs=epochs, train_split=None,
                              iterator_train__shuffle=True, verbose=0)
    return net.fit(X, y), net.predict


def _fit_minimal(X, y, hidden, epochs):
    """The floor: whole data as one tensor, a permutation per epoch, slicing.

    It runs under skmlp's thread policy, so that its ratio to skmlp measures
    skmlp's overhead rather than a difference in threading.
    """
    torch.manual_seed(0)
    module = _mlp_module(hidden)
    optimizer = torch.optim.Adam(module.parameters(), lr=LR, fused=True)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    with thread_budget(BATCH, hidden):
        for _ in range(epochs):
            order = torch.randperm(len(X_t))
            X_e, y_e = X_t[order], y_t[order]
            for lo in range(0, len(X_t), BATCH):
                optimizer.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(module(X_e[lo:lo + BATCH]),
                                                         y_e[lo:lo + BATCH])
                loss.backward()
                optimizer.step()

    def predict(X_new):
        with torch.inference_mode():
            return torch.cat([module(chunk).argmax(1) for chunk in
                              torch.from_numpy(np.asarray(X_new, dtype=np.float32))
                              .split(8192)]).numpy()
    return module, predict


FITTERS = {"sklearn": _fit_sklearn, "skmlp": _fit_skmlp, "skorch": _fit_skorch,
           "minimal": _fit_minimal}


def train(name, X, y, hidden, epochs):
    """Fit implementation ``name``; return the seconds it took and its predict."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        _, predict = FITTERS[name](X, y, hidden, epochs)
        return time.perf_counter() - start, predict


def time_fit(name, X, y, hidden, epochs):
    """Seconds per epoch, training accuracy, and the fitted predict function."""
    seconds, predict = train(name, X, y, hidden, epochs)
    accuracy = float(np.mean(predict(X) == y))
    return seconds / epochs, accuracy, predict


def prediction_times(predicts, X, repeats=5, calls=300):
    """name -> (seconds to predict all of ``X``, median single-row milliseconds).

    The predict functions take turns, for the whole of ``X`` (the fastest of
    ``repeats`` rounds counts) and then row by row (its first ``calls``
    rows, as many as it has), so that a burst of load
    on a shared machine falls on all of them alike. Single rows need no
    pause between them: a product that small runs on one thread.
    """
    def predict_all(name):
        start = time.perf_counter()
        predicts[name](X)
        return time.perf_counter() - start

    whole = _fastest_in_turns(predicts, predict_all, repeats, seconds=lambda t: t)
    single = {name: [] for name in predicts}
    for i in range(min(calls, len(X))):
        for name, predict in predicts.items():
            start = time.perf_counter()
            predict(X[i:i + 1])
            single[name].append(time.perf_counter() - start)
    return {name: (whole[name], 1e3 * float(np.median(single[name]))) for name in predicts}


def _status_mb(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def measure_fit_memory(name, X, y, hidden, epochs):
    """Peak resident memory during one fit, above the memory held before it (Linux).

    The process's high-water mark is reset just before the fit (writing 5 to
    /proc/self/clear_refs), so earlier peaks such as loading the data do not
    hide the fit's own.
    """
    warm_up(name)
    before = _status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    train(name, X, y, hidden, epochs)
    return _status_mb("VmHWM") - before


def peak_memory_mb(name, X, y, hidden, epochs):
    """:func:`measure_fit_memory` in a fresh process, the data handed over as .npy."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/X.npy", X)
        np.save(f"{tmp}/y.npy", y)
        code = ("import json, numpy as np; from benchmarks.speed import measure_fit_memory;"
                f"X = np.load('{tmp}/X.npy'); y = np.load('{tmp}/y.npy');"
                f"print(json.dumps(measure_fit_memory({name!r}, X, y, {hidden!r}, {epochs})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_up(name):
    """One tiny fit, so that one-off costs (lazy kernels; for plain skorch and
    the minimal loop, torch's optimizers importing its compiler) are not
    billed to the first size."""
    X, y = make_data(400, seed=2)
    time_fit(name, X, y, (8,), 1)


#: Pause before each timed call: OpenBLAS's threads (numpy's, hence
#: scikit-learn's) spin for about 0.1 s after a large matrix product before
#: they sleep, and on two cores they took both from the next library. Right
#: after scikit-learn's prediction of 100k rows, skmlp's took 27 ms instead of
#: 7 ms; after a pause of 0.2 s, 7 ms again.
_SETTLE_SECONDS = 0.25


def _fastest_in_turns(names, fit_once, repeats, seconds):
    """name -> the fastest of ``repeats`` results of ``fit_once(name)``.

    The names take turns, ``repeats`` rounds, so that all of them meet the
    same load on a shared machine; each keeps its least disturbed fit (the
    convention of :mod:`timeit`). Each call starts after a pause in which the
    previous library's idle threads stop spinning. ``seconds`` reads the
    time off a result.
    """
    runs = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            time.sleep(_SETTLE_SECONDS)
            runs[name].append(fit_once(name))
    return {name: min(results, key=seconds) for name, results in runs.items()}


def best_fits(X, y, hidden, epochs, repeats):
    """name -> (epochs, seconds per epoch, accuracy, predict) of its fastest fit."""
    def fit_once(name):
        # plain skorch is about 4x slower; one epoch of 1M rows tells enough
        epochs_here = 1 if name == "skorch" and len(X) > 100_000 else epochs
        return (epochs_here, *time_fit(name, X, y, hidden, epochs_here))
    return _fastest_in_turns(IMPLEMENTATIONS, fit_once, repeats, seconds=lambda run: run[1])


def run(sizes, deep_rows, memory_rows, repeats):
    rows = []
    X_pred, _ = make_data(100_000, seed=1)
    for name in IMPLEMENTATIONS:
        warm_up(name)
    for n_rows, hidden in [(n, (100,)) for n in sizes] + [(deep_rows, (256, 128, 64))]:
        X, y = make_data(n_rows)
        epochs = _epochs_for(n_rows) if hidden == (100,) else 5
        fits = best_fits(X, y, hidden, epochs, repeats)
        if n_rows == 100_000 and hidden == (100,):
            predict_times = prediction_times(
                {name: predict for name, (*_, predict) in fits.items()}, X_pred)
        for name, (epochs_here, per_epoch, accuracy, _) in fits.items():
            row = {"rows": n_rows, "hidden": str(hidden), "model": name, "epochs": epochs_here,
                   "seconds_per_epoch": per_epoch, "train_accuracy": accuracy}
            if n_rows == 100_000 and hidden == (100,):
                row["predict_100k_s"], row["single_row_predict_ms"] = predict_times[name]
            if n_rows == memory_rows and hidden == (100,):
                row["peak_memory_mb"] = peak_memory_mb(name, X, y, hidden, 1)
            rows.append(row)
            print(row, flush=True)
    return pd.DataFrame(rows)


def cold_start(name, repeats):
    """Seconds a fresh process spends importing ``name``'s library and on its first two fits.

    Each of ``repeats`` new processes imports the library (timed), then the
    rest of this module (not timed), then fits ``COLD_START_ROWS`` rows for
    ``COLD_START_EPOCHS`` epochs twice; each column keeps its fastest
    process. The first fit minus the second is what a process pays once
    (lazy kernels, and torch's optimizers import torch's compiler on their
    first call, which skmlp's avoid).
    """
    code = (f"import time; start = time.perf_counter(); import {LIBRARIES[name]}; "
            "imported = time.perf_counter() - start; "
            "import json; from benchmarks.speed import COLD_START_EPOCHS, COLD_START_ROWS,"
            " make_data, train; X, y = make_data(COLD_START_ROWS); "
            f"fits = [train({name!r}, X, y, (100,), COLD_START_EPOCHS)[0] for _ in range(2)]; "
            "print(json.dumps([imported, *fits]))")
    runs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True).stdout.strip().splitlines()[-1])
            for _ in range(repeats)]
    import_s, first_fit_s, second_fit_s = np.min(runs, axis=0)
    return {"model": name, "import_s": import_s, "first_fit_s": first_fit_s,
            "second_fit_s": second_fit_s, "one_off_s": first_fit_s - second_fit_s}


def _timed_fit(model, X, y):
    """``(seconds, model)`` of ``model.fit(X, y)``, without convergence warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
    return time.perf_counter() - start, model


def run_regression(repeats, n_rows=100_000, epochs=10):
    warm_up("sklearn")
    warm_up("skmlp")
    X, y = make_regression(n_samples=n_rows, n_features=N_FEATURES, noise=5.0, random_state=0)
    X = X.astype(np.float32)
    X_pred = X[:100_000]
    classes = {"sklearn": SklearnRegressor, "skmlp": MLPRegressor}

    def fit_once(name):
        return _timed_fit(classes[name](batch_size=BATCH, learning_rate_init=LR,
                                        random_state=0, **_fixed_epochs(epochs)), X, y)

    rows = []
    fits = _fastest_in_turns(classes, fit_once, repeats, seconds=lambda run: run[0])
    predict_times = prediction_times({name: model.predict for name, (_, model) in fits.items()},
                                     X_pred)
    for name, (seconds, model) in fits.items():
        predict_s, single_row_ms = predict_times[name]
        rows.append({"rows": n_rows, "model": name,
                     "seconds_per_epoch": seconds / epochs,
                     "train_r2": model.score(X, y),
                     "predict_100k_s": predict_s,
                     "single_row_predict_ms": single_row_ms})
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def run_defaults(sizes, repeats):
    """Each library's ``MLPClassifier()`` as it comes, on held-out rows of each size.

    The two take turns (``repeats`` rounds, the fastest fit counts); each
    stops when its own test says so, so the epochs differ.
    """
    classes = {"sklearn": SklearnClassifier, "skmlp": MLPClassifier}
    rows = []
    for n_rows in sizes:
        X, y = make_data(n_rows)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                            stratify=y, random_state=0)

        def fit_once(name, X_train=X_train, y_train=y_train):
            return _timed_fit(classes[name](random_state=0), X_train, y_train)

        for name, (seconds, model) in _fastest_in_turns(classes, fit_once, repeats,
                                                        seconds=lambda run: run[0]).items():
            predicted = model.predict(X_test)
            rows.append({"rows": n_rows, "model": name, "fit_seconds": seconds,
                         "epochs": model.n_iter_,
                         "test_accuracy": float(np.mean(predicted == y_test)),
                         "test_f1_macro": f1_score(y_test, predicted, average="macro")})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def with_ratios(table, keys):
    """Add ``*_vs_sklearn`` (and ``vs_minimal`` for fit time) ratio columns."""
    table = table.copy()
    metrics = [c for c in ("seconds_per_epoch", "fit_seconds", "predict_100k_s",
                           "single_row_predict_ms", "peak_memory_mb") if c in table]
    for metric in metrics:
        base = table[table["model"] == "sklearn"].set_index(keys)[metric]
        table[f"{metric}_vs_sklearn"] = table[metric].to_numpy() / \
            base.reindex(pd.MultiIndex.from_frame(table[keys]) if len(keys) > 1
                         else table[keys[0]]).to_numpy()
    if "minimal" in set(table["model"]):
        base = table[table["model"] == "minimal"].set_index(keys)["seconds_per_epoch"]
        table["epoch_vs_minimal"] = table["seconds_per_epoch"].to_numpy() / base.reindex(
            pd.MultiIndex.from_frame(table[keys])).to_numpy()
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", action=_arguments.Distinct,
                        type=_arguments.at_least(1), metavar="ROWS",
                        default=[1_000, 10_000, 100_000, 1_000_000],
                        help="rows of the data the (100,) network is timed on (default: "
                             "1000 10000 100000 1000000)")
    parser.add_argument("--deep-rows", type=_arguments.at_least(1), default=100_000,
                        metavar="ROWS",
                        help="rows for the (256, 128, 64) network (default: 100000)")
    parser.add_argument("--memory-rows", type=_arguments.at_least(1), default=1_000_000,
                        metavar="ROWS",
                        help="the size in --sizes whose fits also measure their peak memory, "
                             "each in a fresh process (default: 1000000)")
    parser.add_argument("--repeats", type=_arguments.at_least(1), default=3,
                        help="fits of each implementation per size; the fastest counts "
                             "(default: 3)")
    parser.add_argument("--regression-rows", type=_arguments.at_least(1), default=100_000,
                        metavar="ROWS",
                        help="rows of the regressor's data; up to 100k of them are predicted "
                             "at once and up to 300 one at a time (default: 100000)")
    # a stratified quarter of them held out: at least a row of each class
    parser.add_argument("--defaults-sizes", nargs="+", action=_arguments.Distinct,
                        type=_arguments.at_least(4 * N_CLASSES),
                        default=[10_000, 100_000], metavar="ROWS",
                        help="rows for the fits with each library's defaults (one fit each: "
                             "at 100k rows they take about a minute; default: 10000 100000)")
    _arguments.add_out_option(parser)
    args = parser.parse_args(argv)
    folder = results_folder(args.out, stamped("speed"))
    classification = with_ratios(run(args.sizes, args.deep_rows, args.memory_rows,
                                     args.repeats), ["rows", "hidden"])
    regression = with_ratios(run_regression(args.repeats, args.regression_rows), ["rows"])
    cold = pd.DataFrame([cold_start(name, args.repeats) for name in IMPLEMENTATIONS])
    as_they_come = with_ratios(run_defaults(args.defaults_sizes, repeats=1), ["rows"])
    classification.to_csv(folder / "classification.csv", index=False)
    regression.to_csv(folder / "regression.csv", index=False)
    cold.to_csv(folder / "cold_start.csv", index=False)
    as_they_come.to_csv(folder / "defaults.csv", index=False)
    report = (f"torch {torch.__version__}, {torch.get_num_threads()} threads available\n\n"
              "### Classifier\n\n" + classification.round(4).to_markdown(index=False) +
              f"\n\n### Regressor ({args.regression_rows:,} rows)\n\n"
              + regression.round(4).to_markdown(index=False)
              + f"\n\n### Cold start (a new process; {COLD_START_ROWS:,} rows, (100,), "
              f"{COLD_START_EPOCHS} epochs a fit)\n\n" + cold.round(3).to_markdown(index=False)
              + "\n\n### Each library's defaults (a quarter of the rows held out)\n\n"
              + as_they_come.round(4).to_markdown(index=False) + "\n")
    publish(folder, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
