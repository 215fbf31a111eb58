"""The prediction tasks benchmarked: data, preprocessing and CV splits."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import make_column_transformer
from sklearn.model_selection import KFold, RepeatedStratifiedKFold, TimeSeriesSplit
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmlp.datasets import (
    load_nyse_prices,
    load_predictive_maintenance,
    load_steel_plates_faults,
    load_yeast,
)


@dataclass
class Task:
    """One benchmark task.

    ``load`` returns ``(X, y)``; ``splits(n_splits, n_repeats, seed)``
    yields ``(train, test)`` index arrays, the same for every model.
    """

    name: str
    kind: str  # "classification" or "regression"
    load: callable
    description: str
    categorical: list = field(default_factory=list)
    time_ordered: bool = False

    def preprocessor(self):
        """Same preprocessing for every model: one-hot categories, scaled numbers."""
        if not self.categorical:
            return StandardScaler()
        return make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), self.categorical),
            remainder=StandardScaler())

    def splits(self, X, y, n_splits, n_repeats, seed):
        if self.time_ordered:
            return list(_date_ordered_splits(X, n_splits))
        if self.kind == "classification":
            cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats,
                                         random_state=seed)
            return list(cv.split(X, y))
        folds = []
        for repeat in range(n_repeats):
            folds += KFold(n_splits, shuffle=True, random_state=seed + repeat).split(X)
        return folds


def _date_ordered_splits(X, n_splits):
    """Expanding-window splits on whole trading days: train on the past only."""
    dates = np.sort(X.index.get_level_values("date").unique())
    row_dates = X.index.get_level_values("date")
    for train_days, test_days in TimeSeriesSplit(n_splits).split(dates):
        yield (np.flatnonzero(row_dates.isin(dates[train_days])),
               np.flatnonzero(row_dates.isin(dates[test_days])))


def _next_day_returns(n_lags=5):
    """Leak-free NYSE task: tomorrow's log return from the past days only.

    Features per symbol and day: the last ``n_lags`` daily log returns, the
    day's high-low range and the log change of volume, all known at the close.
    """
    frame = load_nyse_prices().frame.sort_values(["symbol", "date"])
    by_symbol = frame.groupby("symbol", group_keys=False)
    log_close = np.log(frame["close"])
    returns = log_close - by_symbol["close"].shift(1).pipe(np.log)
    features = {f"return_lag{lag}": returns.groupby(frame["symbol"]).shift(lag)
                for lag in range(n_lags)}
    features["range"] = np.log(frame["high"] / frame["low"])
    features["volume_change"] = np.log(frame["volume"]).groupby(frame["symbol"]).diff()
    X = pd.DataFrame(features)
    y = returns.groupby(frame["symbol"]).shift(-1).rename("next_return")
    keep = X.notna().all(axis=1) & y.notna()
    index = pd.MultiIndex.from_frame(frame.loc[keep, ["date", "symbol"]])
    X, y = X[keep].set_axis(index), y[keep].set_axis(index)
    order = np.lexsort([index.get_level_values("symbol"), index.get_level_values("date")])
    return X.iloc[order], y.iloc[order]


TASKS = {
    task.name: task for task in [
        Task("yeast", "classification", lambda: load_yeast(return_X_y=True),
             "UCI Yeast, 10 classes, 1484 rows"),
        Task("steel_plates", "classification",
             lambda: load_steel_plates_faults(return_X_y=True),
             "UCI Steel Plates Faults, 7 classes, 1941 rows"),
        Task("maintenance_type", "classification",
             lambda: load_predictive_maintenance(target="Failure Type", return_X_y=True),
             "AI4I 2020 failure type, 6 classes, 10000 rows", categorical=["Type"]),
        Task("maintenance_failure", "classification",
             lambda: load_predictive_maintenance(target="Target", return_X_y=True),
             "AI4I 2020 failure yes/no, 3.4% positive, 10000 rows", categorical=["Type"]),
        Task("nyse_close", "regression", lambda: load_nyse_prices(return_X_y=True),
             "NYSE same-day close from open/low/high/volume (source set-up; leaks)"),
        Task("nyse_next_return", "regression", _next_day_returns,
             "NYSE next-day log return from past days only, time-ordered splits",
             time_ordered=True),
    ]
}
