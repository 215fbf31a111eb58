"""Input checks shared by every estimator, built on scikit-learn's helpers."""

import math
from contextlib import contextmanager

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

_FLOAT_DTYPES = (np.float32, np.float64)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _non_numeric_columns_error(estimator, X):
    """A ValueError that names the columns of a frame ``X`` that are not numbers, or None.

    Columns of text or categories get a ``ColumnTransformer`` example that
    encodes them; dates and durations the advice to turn them into numbers.
    """
    if not isinstance(X, pd.DataFrame):
        return None
    types = pd.api.types
    dtypes = {col: dtype for col, dtype in X.dtypes.items()
              if not (types.is_numeric_dtype(dtype) or types.is_bool_dtype(dtype))}
    if not dtypes:
        return None
    times = [col for col, dtype in dtypes.items()
             if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype)]
    labels = [col for col in dtypes if col not in times]
    advice = []
    if labels:
        advice.append(f"Encode {labels} first, for example with sklearn.compose."
                      f"ColumnTransformer([('categories', OneHotEncoder(), {labels})], "
                      "remainder='passthrough') in a Pipeline.")
    if times:
        advice.append(f"Turn the dates or durations {times} into numbers (their parts, or "
                      "seconds since a reference), or drop them (a time series keeps its "
                      "time stamps in the index).")
    columns = {col: str(dtype) for col, dtype in dtypes.items()}
    return ValueError(f"{type(estimator).__name__} needs numeric features, but these "
                      f"columns are not numeric: {columns}. " + " ".join(advice))


@contextmanager
def non_numeric_columns_named(estimator, X):
    """Re-raise a failed numeric conversion of a frame ``X`` as an error that names
    the columns that are not numbers and how to encode them.

    Text fails inside scikit-learn's validation (ValueError), dates and
    durations in numpy's dtype promotion (``DTypePromotionError``, a
    TypeError), categories and pandas strings in the cast to float.
    """
    try:
        yield
    except (ValueError, TypeError) as err:
        explained = _non_numeric_columns_error(estimator, X)
        if explained is None:
            raise
        raise explained from err


def _passes_unchanged(estimator, X):
    """Whether ``validate_data(estimator, X, reset=False)`` would return ``X`` as it is.

    True for a finite float32/float64 numpy array of shape
    ``(n >= 1, n_features_in_)`` given to an estimator fitted without
    feature names. Anything else (and finite arrays whose sum overflows)
    goes through scikit-learn's validation, which raises the errors.
    scikit-learn's checks cost about 60 µs, as much as predicting a row.
    """
    if not (type(X) is np.ndarray and X.dtype in _FLOAT_DTYPES and X.ndim == 2
            and X.shape[0] > 0 and X.shape[1] == getattr(estimator, "n_features_in_", None)
            and not hasattr(estimator, "feature_names_in_")):
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(X.sum()) and fits_float32(X)


def fits_float32(X):
    """Whether the values of ``X`` (finite) stay finite as float32, what the network computes in."""
    values = X.data if sp.issparse(X) else X
    return (values.dtype != np.float64 or values.size == 0
            or (values.max() <= _FLOAT32_MAX and values.min() >= -_FLOAT32_MAX))


def check_features(estimator, X, y="no_validation", *, reset, **check_params):
    """``sklearn.utils.validation.validate_data`` for float features.

    Keeps float32 and float64 input as it is (float32 needs no copy on the
    way to torch), converts other numeric input to float32, what the network
    computes in, and rejects NaN/inf and arrays of strings, even of numbers
    (scikit-learn's ``dtype="numeric"``, with which its MLP's ``predict``
    checks them; its ``fit`` parses them, so that a model fitted on strings
    cannot predict on them). When conversion fails because columns hold
    text or categories, the error names those columns and says how to
    encode them. At prediction time, a float array that validation would
    hand back unchanged skips it.
    """
    features_only = (isinstance(y, str) and y == "no_validation"
                     and set(check_params) <= {"accept_sparse"})
    if features_only and not reset and _passes_unchanged(estimator, X):
        return X
    with non_numeric_columns_named(estimator, X):
        validated = validate_data(estimator, X, y, reset=reset, dtype="numeric",
                                  **check_params)
        # scikit-learn hands back a frame of mixed columns as an object
        # array; its text only fails in the conversion to float
        validated = ((_as_float(validated[0]), validated[1]) if isinstance(validated, tuple)
                     else _as_float(validated))
    features = validated[0] if isinstance(validated, tuple) else validated
    if not fits_float32(features):
        raise ValueError(
            f"Input X contains a value too large for float32 (beyond ±{_FLOAT32_MAX:.4g}), "
            f"which {type(estimator).__name__} computes in. Scale the features first, for "
            "example with sklearn.preprocessing.StandardScaler.")
    return validated


def _as_float(X):
    return X if X.dtype in _FLOAT_DTYPES else X.astype(np.float32)
