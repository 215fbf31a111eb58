"""Real public datasets bundled with skmlp, loaded like ``sklearn.datasets``.

Every loader reads a file shipped inside the package (nothing is
downloaded) and returns a :class:`sklearn.utils.Bunch`, or ``(X, y)`` with
``return_X_y=True``. Provenance, licenses and checksums are in
``skmlp/datasets/data/README.md``; a Bunch's ``DESCR`` is its file's section
there.
"""

import json
from importlib.resources import files

import pandas as pd
from sklearn.utils import Bunch

_DATA = files(__package__) / "data"

NAB_SERIES = (
    "twitter_volume_aapl",
    "machine_temperature_system_failure",
    "ambient_temperature_system_failure",
)


def _read_csv(name, **kwargs):
    with (_DATA / name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip" if name.endswith(".gz") else None,
                           **kwargs)


def _description(name):
    """The data folder README's section on file ``name``: what it is, source, license."""
    sections = (_DATA / "README.md").read_text(encoding="utf-8").split("\n## ")[1:]
    section = next(section for section in sections if f"`{name}`" in section)
    return "## " + section.strip().removesuffix("---").rstrip()


def _bunch(X, y, frame, name, return_X_y, as_frame):
    """``(X, y)`` or a Bunch, of pandas objects or (``as_frame=False``) numpy arrays."""
    feature_names, target = list(X.columns), y.name
    if not as_frame:
        X, y, frame = X.to_numpy(), y.to_numpy(), None
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, frame=frame, feature_names=feature_names,
                 target_names=[target], DESCR=_description(name), filename=name)


def _tabular(frame, target, name, return_X_y, as_frame):
    return _bunch(frame.drop(columns=[target]), frame[target], frame, name, return_X_y,
                  as_frame)


def load_yeast(*, return_X_y=False, as_frame=True):
    """Load the UCI Yeast protein localisation data (1484 x 8, 10 classes).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with False, numpy arrays.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (8 float features), ``target`` (``localization_site``,
        strings such as ``'CYT'``), ``frame``, ``feature_names``, ``DESCR``.

    Examples
    --------
    >>> from skmlp.datasets import load_yeast
    >>> X, y = load_yeast(return_X_y=True)
    >>> X.shape, y.nunique()
    ((1484, 8), 10)
    """
    frame = _read_csv("yeast.csv")
    return _tabular(frame, "localization_site", "yeast.csv", return_X_y, as_frame)


def load_steel_plates_faults(*, return_X_y=False, as_frame=True):
    """Load the UCI Steel Plates Faults data (1941 x 27, 7 classes).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with False, numpy arrays.

    Returns
    -------
    data : Bunch or tuple
        ``data`` (27 numeric features), ``target`` (``fault``), ``frame``,
        ``feature_names``, ``DESCR``.

    Examples
    --------
    >>> from skmlp.datasets import load_steel_plates_faults
    >>> X, y = load_steel_plates_faults(return_X_y=True)
    >>> X.shape, y.nunique()
    ((1941, 27), 7)
    """
    frame = _read_csv("steel_plates_faults.csv")
    return _tabular(frame, "fault", "steel_plates_faults.csv", return_X_y, as_frame)


def load_predictive_maintenance(*, target="Failure Type", return_X_y=False, as_frame=True):
    """Load the AI4I 2020 predictive maintenance data (10000 rows).

    The identifier columns ``UDI`` and ``Product ID`` are dropped, and so
    is the target not asked for (each one leaks the other).

    Parameters
    ----------
    target : {"Failure Type", "Target"}, default="Failure Type"
        ``"Failure Type"``: 6 classes (``'No Failure'`` and five failure
        modes); ``"Target"``: binary, 1 = failure.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with False, numpy arrays (``Type`` is then
        an object column).

    Returns
    -------
    data : Bunch or tuple
        ``data`` has the categorical column ``Type`` (L/M/H) and five
        numeric sensor columns; encode ``Type`` before an estimator, e.g.
        with ``OneHotEncoder`` in a ``ColumnTransformer``.

    Examples
    --------
    >>> from skmlp.datasets import load_predictive_maintenance
    >>> X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    >>> X.shape, int(y.sum())
    ((10000, 6), 339)
    """
    targets = ("Failure Type", "Target")
    if target not in targets:
        raise ValueError(f"target must be one of {targets}, got {target!r}.")
    other = targets[1 - targets.index(target)]
    frame = _read_csv("predictive_maintenance.csv").drop(columns=["UDI", "Product ID", other])
    return _tabular(frame, target, "predictive_maintenance.csv", return_X_y, as_frame)


def load_nyse_prices(*, return_X_y=False, as_frame=True):
    """Load daily NYSE prices of 7 symbols, 2010-2016 (12334 rows).

    ``data`` holds ``open, low, high, volume`` and ``target`` the same
    day's ``close``, the source material's regression set-up (which leaks
    the answer: ``close`` lies between ``low`` and ``high`` of the same
    day). ``frame`` holds every column including ``date`` and ``symbol``,
    sorted by symbol then date, for leak-free forecasting set-ups.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with False, numpy arrays (and no ``frame``).

    Returns
    -------
    data : Bunch or tuple

    Examples
    --------
    >>> from skmlp.datasets import load_nyse_prices
    >>> prices = load_nyse_prices()
    >>> prices.frame["symbol"].nunique(), list(prices.data.columns)
    (7, ['open', 'low', 'high', 'volume'])
    """
    frame = _read_csv("nyse_prices.csv.gz", parse_dates=["date"])
    return _bunch(frame[["open", "low", "high", "volume"]], frame["close"], frame,
                  "nyse_prices.csv.gz", return_X_y, as_frame)


AG_NEWS_TOPICS = ("World", "Sports", "Business", "Sci/Tech")


def load_ag_news(*, return_X_y=False, as_frame=True):
    """Load the test split of the AG News topic classification data (7600 rows).

    Short news texts (a title and a description) in 4 balanced topics. Turn
    the text into features first, e.g. ``TfidfVectorizer`` (sparse output,
    which ``MLPClassifier`` takes as it is).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)``, the two text columns and the topics, instead of
        a Bunch.
    as_frame : bool, default=True
        Return pandas objects; with False, numpy arrays of strings (and no
        ``frame``).

    Returns
    -------
    data : Bunch, or (X, y) with ``return_X_y=True``
        ``data``: DataFrame of the string columns ``title`` and
        ``description``; ``target``: the topic, one of
        :data:`AG_NEWS_TOPICS`; ``frame``, ``DESCR``. For research and
        other non-commercial use only (see the data folder's README).

    Examples
    --------
    >>> from skmlp.datasets import load_ag_news
    >>> X, y = load_ag_news(return_X_y=True)
    >>> X.shape, sorted(y.unique())
    ((7600, 2), ['Business', 'Sci/Tech', 'Sports', 'World'])
    """
    frame = _read_csv("ag_news_test.csv.gz", keep_default_na=False)
    frame.insert(0, "topic", frame.pop("class_index").map(
        dict(enumerate(AG_NEWS_TOPICS, start=1))))
    return _bunch(frame[["title", "description"]], frame["topic"], frame,
                  "ag_news_test.csv.gz", return_X_y, as_frame)


def load_nab(name, *, return_X_y=False, as_frame=True):
    """Load one Numenta Anomaly Benchmark series with its labelled windows.

    Parameters
    ----------
    name : str
        One of :data:`NAB_SERIES`.
    return_X_y : bool, default=False
        Return ``(X, y)``, the values and whether each lies in a labelled
        window, instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects on the series' DatetimeIndex; with False,
        numpy arrays (and no ``frame``).

    Returns
    -------
    data : Bunch or tuple
        ``data``: DataFrame with a ``value`` column and a DatetimeIndex;
        ``target``: ``in_anomaly_window``, 1 for the time stamps inside a
        labelled window (ends included) and 0 elsewhere; ``frame``, both
        columns; ``windows``: list of ``(start, end)`` Timestamps of the
        labelled anomaly windows; ``labels``: Timestamps of the anomaly
        points; ``DESCR``.

    Examples
    --------
    >>> from skmlp.datasets import load_nab
    >>> aapl = load_nab("twitter_volume_aapl")
    >>> len(aapl.data), len(aapl.windows), int(aapl.target.sum())
    (15902, 4, 1588)
    """
    if name not in NAB_SERIES:
        raise ValueError(f"Unknown NAB series {name!r}; choose one of {list(NAB_SERIES)}.")
    filename = f"nab_{name}.csv"
    data = _read_csv(filename, parse_dates=["timestamp"], index_col="timestamp")
    labels = json.loads((_DATA / f"nab_{name}_labels.json").read_text(encoding="utf-8"))
    windows = [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in labels["combined_windows"]]
    inside = pd.Series(0, index=data.index, name="in_anomaly_window")
    for start, end in windows:
        inside[(data.index >= start) & (data.index <= end)] = 1
    # by position: the machine temperature series repeats 12 time stamps, which
    # an alignment on the index would pair up
    frame = data.assign(in_anomaly_window=inside.to_numpy())
    bunch = _bunch(data, inside, frame, filename, return_X_y, as_frame)
    if return_X_y:
        return bunch
    bunch.update(windows=windows, labels=[pd.Timestamp(t) for t in labels["combined_labels"]])
    return bunch


__all__ = [
    "AG_NEWS_TOPICS",
    "NAB_SERIES",
    "load_ag_news",
    "load_nab",
    "load_nyse_prices",
    "load_predictive_maintenance",
    "load_steel_plates_faults",
    "load_yeast",
]
