"""Anomaly detection: MLPAutoencoder against classical detectors on the bundled data.

Time series (the three NAB series, window 30): every detector is trained on
the first 15% of the series (NAB's probationary period, assumed normal). A
window's score goes to the time stamp that ends it (an online alarm). Two
threshold rules, each Tukey's fence (Q3 + 1.5 IQR) on the probation period:

- on the detector's training scores (a fixed threshold);
- on the rolling z-score of the detector's score against its own previous
  30 values (the rule the rolling z-score baseline applies to the raw
  values): an alarm means "much more anomalous than just before", which
  follows drift in the series after the probation period.

Reported on the rest of the series: labelled windows hit, false alarms per
1,000 points (flagged points outside every labelled window), point precision
(share of flagged points inside a window), alarm precision (share of alarms,
runs of consecutive flagged points, that start inside a window) and window
recall. A labelled window that ends inside the probation period is not
evaluated (the first of AAPL's four).

The autoencoder runs with each of its two losses. The absolute error grows
linearly in a spike's size, so anomalies left in the training data (AAPL's
probation period holds its first labelled window) pull the fit less than
under the squared error.

Tabular (predictive maintenance, the five sensor readings): train on 'No
Failure' rows of a 70% split, score the other 30%; ROC-AUC and average
precision for failure vs not.

Every part runs once per seed (model seeds; for the tabular part also the
split); the summary gives windows hit summed over the seeds and the mean of
the other measures (tabular: mean and standard deviation).

    python -m benchmarks.anomaly                 # seeds 0, 1, 2: about 20 s
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler

from skmlp import MLPAutoencoder, SlidingWindows
from skmlp.datasets import NAB_SERIES, load_nab, load_predictive_maintenance

from . import _arguments
from ._results import publish, results_folder, stamped

WINDOW = 30
PROBATION = 0.15


def _tukey_threshold(training_anomaly):
    q1, q3 = np.percentile(training_anomaly, [25, 75])
    return q3 + 1.5 * (q3 - q1)


def _autoencoder(seed, loss="squared_error"):
    return MLPAutoencoder(hidden_layer_sizes=(64,), latent_dim=8, loss=loss, max_iter=100,
                          random_state=seed)


def _window_scores(train_windows, all_windows, seed):
    """Anomaly score per window (higher = more anomalous), for training and all windows."""
    detectors = {f"MLPAutoencoder ({loss.replace('_', ' ')})": _autoencoder(seed, loss)
                 for loss in ("squared_error", "absolute_error")}
    detectors["IsolationForest"] = IsolationForest(random_state=seed)
    scores = {}
    for name, model in detectors.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(train_windows)
        scores[name] = (-model.score_samples(train_windows), -model.score_samples(all_windows))
    return scores


def _rolling_z(values):
    """(x_t - mean) / std over the previous WINDOW points, per time stamp (NaN before)."""
    series = pd.Series(values)
    past = series.shift(1).rolling(WINDOW)
    return ((series - past.mean()) / past.std()).to_numpy()


def _flags_over_rolling_z(z, n_train):
    """Flags where ``z`` exceeds Tukey's fence of its probation-period values."""
    probation = z[:n_train]
    return np.nan_to_num(z) > _tukey_threshold(probation[np.isfinite(probation)])


def _evaluate(flags, index, windows, start):
    """NAB-style counts on the evaluated part (from ``start`` on)."""
    flags, index = flags[start:], index[start:]
    inside = np.zeros(len(index), dtype=bool)
    hit = 0
    for begin, end in windows:
        in_window = (index >= begin) & (index <= end)
        inside |= in_window
        hit += bool((flags & in_window).any())
    evaluated_windows = sum(end >= index[0] for _, end in windows)
    flagged = flags.sum()
    # an alarm is a run of consecutive flagged points, counted once where it
    # starts, as an alerting system raises it; NAB's scorer instead counts
    # every flagged point outside a window (false alarms, point precision)
    alarm_starts = flags & ~np.concatenate([[False], flags[:-1]])
    n_alarms = alarm_starts.sum()
    return {"windows hit": hit, "windows": evaluated_windows, "alarms": n_alarms,
            "false alarms per 1k points": 1000 * (flags & ~inside).sum() / len(flags),
            "point precision": (flags & inside).sum() / flagged if flagged else np.nan,
            "alarm precision": (alarm_starts & inside).sum() / n_alarms if n_alarms else np.nan,
            "window recall": hit / evaluated_windows if evaluated_windows else np.nan}


def run_series(name, seed=0):
    nab = load_nab(name)
    values = nab.data["value"].to_numpy(dtype=float).reshape(-1, 1)
    n_train = int(PROBATION * len(values))
    scaled = StandardScaler().fit(values[:n_train]).transform(values)
    windowing = SlidingWindows(window=WINDOW).fit(scaled)
    all_windows = windowing.transform(scaled)
    train_windows = windowing.transform(scaled[:n_train])
    rows = []
    fixed, rolling = "Tukey on training scores", f"Tukey on rolling z ({WINDOW}) of the score"
    for detector, (train_score, score) in _window_scores(train_windows, all_windows,
                                                         seed).items():
        per_sample = windowing.window_scores_to_samples(score, n_samples=len(values),
                                                        reduce="last")
        for rule, flags in ((fixed, per_sample > _tukey_threshold(train_score)),
                            (rolling, _flags_over_rolling_z(_rolling_z(per_sample), n_train))):
            rows.append({"series": name, "detector": detector, "threshold": rule,
                         **_evaluate(flags, nab.data.index, nab.windows, n_train)})
    z = np.abs(_rolling_z(values.ravel()))
    rows.append({"series": name, "detector": f"rolling z-score ({WINDOW}) of the values",
                 "threshold": f"Tukey on |z| ({WINDOW})",
                 **_evaluate(_flags_over_rolling_z(z, n_train), nab.data.index, nab.windows,
                             n_train)})
    return rows


def run_maintenance(seed=0):
    X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    # The five sensor readings only: a reconstruction cannot predict the
    # one-hot product type from them, so with it the reconstruction error
    # measures the type's entropy, not failures (ROC-AUC 0.50 when tried).
    X = X.drop(columns="Type")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                        random_state=seed)
    scaler = StandardScaler().fit(X_train[y_train == 0])
    normal_encoded, test_encoded = scaler.transform(X_train[y_train == 0]), scaler.transform(
        X_test)
    detectors = {
        # a bottleneck of half the inputs (2 of 5); 3 of 5 nearly copies them (ROC-AUC 0.65)
        "MLPAutoencoder": _autoencoder(seed).set_params(latent_dim=2, hidden_layer_sizes=(32,)),
        "IsolationForest": IsolationForest(random_state=seed),
        "LocalOutlierFactor(novelty=True)": LocalOutlierFactor(novelty=True),
    }
    rows = []
    for name, detector in detectors.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            detector.fit(normal_encoded)
        anomaly = -detector.score_samples(test_encoded)
        rows.append({"detector": name, "ROC-AUC": roc_auc_score(y_test, anomaly),
                     "average precision": average_precision_score(y_test, anomaly),
                     "failure rate in test": y_test.mean()})
    return rows


def _summarise_series(rows):
    """Windows hit summed over the seeds, the mean of every other measure."""
    keys = ["series", "detector", "threshold"]
    summary = rows.drop(columns="seed").groupby(keys, sort=False).mean()
    totals = rows.groupby(keys, sort=False)[["windows hit", "windows"]].sum()
    summary["windows hit"] = [f"{hit}/{total}" for hit, total in totals.to_numpy()]
    return summary.drop(columns="windows").reset_index()


def _summarise_tabular(rows):
    """Mean ± standard deviation over the seeds, per detector."""
    grouped = rows.drop(columns="seed").groupby("detector", sort=False)
    mean, std = grouped.mean(), grouped.std()
    cells = mean.map("{:.3f}".format) + " ± " + std.map("{:.3f}".format)
    return cells.reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.anomaly", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments.add_out_option(parser)
    parser.add_argument("--seeds", type=_arguments.seed, nargs="+", action=_arguments.Distinct,
                        default=[0, 1, 2], metavar="SEED",
                        help="seeds of the detectors; every detector runs once with each "
                             "(default: 0 1 2)")
    args = parser.parse_args(argv)
    folder = results_folder(args.out, stamped("anomaly"))
    series = pd.DataFrame([{**row, "seed": seed} for seed in args.seeds
                           for name in NAB_SERIES for row in run_series(name, seed)])
    tabular = pd.DataFrame([{**row, "seed": seed} for seed in args.seeds
                            for row in run_maintenance(seed)])
    series.to_csv(folder / "nab.csv", index=False)
    tabular.to_csv(folder / "maintenance.csv", index=False)
    seeds = f"seeds {', '.join(map(str, args.seeds))}"
    report = (f"### NAB series, window 30 ({seeds})\n\n" +
              _summarise_series(series).round(3).to_markdown(index=False) +
              f"\n\n### Predictive maintenance, trained on 'No Failure' rows ({seeds})\n\n" +
              _summarise_tabular(tabular).to_markdown(index=False) + "\n")
    publish(folder, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
