"""SlidingWindows: a time series in, one row per window out, and scores back."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._validation import non_numeric_columns_named

__all__ = ["SlidingWindows"]


def _is_pandas(X):
    # not hasattr(X, "index"): a list has an index method
    return isinstance(X, (pd.Series, pd.DataFrame))


class SlidingWindows(TransformerMixin, BaseEstimator):
    """Cut a series into overlapping windows, one flattened window per row.

    Row ``i`` of the output holds samples ``i * step`` to
    ``i * step + window - 1`` of the input, time-major (all features of the
    first time step, then of the second, ...). Put it in a pipeline before
    :class:`~skmlp.MLPAutoencoder` to score windows, and map the window
    scores back to time stamps with :meth:`window_scores_to_samples`.

    Parameters
    ----------
    window : int, default=30
        Samples per window.
    step : int, default=1
        Samples between the starts of consecutive windows.

    Attributes
    ----------
    n_features_in_ : int
        Number of series (columns) seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names seen during ``fit``, when they were strings.

    See Also
    --------
    skmlp.MLPAutoencoder : scores the windows as normal or anomalous.

    Examples
    --------
    >>> import numpy as np
    >>> from skmlp.windows import SlidingWindows
    >>> windows = SlidingWindows(window=3, step=2)
    >>> windows.fit_transform(np.arange(7).reshape(-1, 1))
    array([[0., 1., 2.],
           [2., 3., 4.],
           [4., 5., 6.]])
    >>> windows.window_scores_to_samples(np.array([0.9, -0.5, 0.7]), n_samples=7)
    array([ 0.9,  0.9, -0.5, -0.5, -0.5,  0.7,  0.7])
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "step": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, window=30, step=1):
        self.window = window
        self.step = step

    def _check_series(self, X, reset):
        series = X.to_frame() if isinstance(X, pd.Series) else X
        if not _is_pandas(series) and np.ndim(series) == 1:  # an array or a list
            series = np.asarray(series).reshape(-1, 1)
        with non_numeric_columns_named(self, series):
            series = validate_data(self, series, reset=reset, dtype=(np.float64, np.float32))
        if len(series) < self.window:
            raise ValueError(f"window={self.window} is longer than the series "
                             f"({len(series)} samples); use a shorter window.")
        return series

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the series and remember its width.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_series)
            A series (numpy or pandas; a datetime index is kept by
            :meth:`window_scores_to_samples`).
        y : Ignored

        Returns
        -------
        self : object
        """
        self._check_series(X, reset=True)
        return self

    def transform(self, X):
        """Windows of ``X`` as rows.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, n_series)

        Returns
        -------
        windows : ndarray of shape (n_windows, window * n_series)
            ``n_windows = (n_samples - window) // step + 1``. With
            ``set_output(transform="pandas")``, a DataFrame whose rows carry
            the index label of each window's last sample (a pandas ``X``'s,
            else its position).
        """
        check_is_fitted(self)
        series = self._check_series(X, reset=False)
        view = np.lib.stride_tricks.sliding_window_view(series, self.window, axis=0)
        # view is (n_windows, n_series, window); make each row time-major
        windows = np.ascontiguousarray(view[::self.step].transpose(0, 2, 1)).reshape(
            -1, self.window * series.shape[1])
        if _get_output_config("transform", self)["dense"] != "pandas":
            return windows
        # scikit-learn would label the rows with X's index, which has one
        # label per sample, not per window
        index = X.index if _is_pandas(X) else pd.RangeIndex(len(series))
        return pd.DataFrame(windows, index=index[self.window - 1::self.step],
                            columns=self.get_feature_names_out())

    def get_feature_names_out(self, input_features=None):
        """``<series>_t<k>`` for each step ``k`` of the window and each series.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of the series; by default those seen in ``fit`` or
            ``x0, x1, ...``. Given names must be those seen in ``fit``, if
            any, and as many as the series.

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self)
        # checked against, or defaulting to, the names seen in fit, as
        # scikit-learn's one-to-one transformers do
        input_features = _check_feature_names_in(self, input_features)
        return np.asarray([f"{name}_t{k}" for k in range(self.window)
                           for name in input_features], dtype=object)

    def window_scores_to_samples(self, scores, n_samples=None, X=None, reduce="min"):
        """Map one value per window back to one value per sample.

        Each sample takes the ``reduce`` of the values of the windows that
        cover it. With outlier scores (higher = more normal, as
        ``score_samples``/``decision_function``/``predict`` give), the
        default ``"min"`` flags a sample when any window over it is flagged.

        Parameters
        ----------
        scores : array-like of shape (n_windows,)
            One value per row of :meth:`transform`'s output.
        n_samples : int, default=None
            Length of the series; or give ``X``.
        X : array-like or pandas object, default=None
            The series itself; with a pandas index the result is a Series
            on that index.
        reduce : {"min", "max", "mean", "last"}, default="min"
            ``"last"`` gives each window's value to the sample that ends it
            (the moment an online detector would raise the alarm) and NaN
            to the first ``window - 1`` samples.

        Returns
        -------
        per_sample : ndarray or pandas.Series of shape (n_samples,)
            NaN for samples no window covers (at the end, when ``step`` does
            not divide the remainder).
        """
        check_is_fitted(self)
        if reduce not in ("min", "max", "mean", "last"):
            raise ValueError(f"reduce must be 'min', 'max', 'mean' or 'last', got {reduce!r}.")
        if n_samples is None:
            if X is None:
                raise ValueError("window_scores_to_samples needs the length of the series: "
                                 "give n_samples or the series as X.")
            n_samples = len(X)
        if n_samples < self.window:
            raise ValueError(f"A series of {n_samples} samples holds no window of {self.window}; "
                             "give the length of the series the window scores came from.")
        scores = np.asarray(scores, dtype=float)
        n_windows = (n_samples - self.window) // self.step + 1
        if scores.shape != (n_windows,):
            raise ValueError(f"Expected {n_windows} window scores for {n_samples} samples "
                             f"(window={self.window}, step={self.step}), got "
                             f"{scores.shape}.")
        starts = np.arange(n_windows) * self.step
        covered = (starts[:, None] + np.arange(self.window)).ravel()
        values = np.repeat(scores, self.window)
        if reduce == "last":
            per_sample = np.full(n_samples, np.nan)
            per_sample[starts + self.window - 1] = scores
        else:
            count = np.bincount(covered, minlength=n_samples)
            if reduce == "mean":
                per_sample = np.bincount(covered, weights=values, minlength=n_samples)
                per_sample = per_sample / np.maximum(count, 1)
            else:
                ufunc = np.minimum if reduce == "min" else np.maximum
                per_sample = np.full(n_samples, np.inf if reduce == "min" else -np.inf)
                ufunc.at(per_sample, covered, values)
            per_sample[count == 0] = np.nan
        if _is_pandas(X):
            return pd.Series(per_sample, index=X.index)
        return per_sample
