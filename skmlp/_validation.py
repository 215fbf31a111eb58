"""Input checks shared by every estimator, built on scikit-learn's helpers."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data


def _non_numeric_columns(X):
    if not isinstance(X, pd.DataFrame):
        return []
    return [str(col) for col, dtype in X.dtypes.items()
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))]


def check_features(estimator, X, y="no_validation", *, reset, **check_params):
    """``sklearn.utils.validation.validate_data`` for float features.

    Keeps float32 input as float32 (no copy on the way to torch), converts
    everything else to float64, and rejects NaN/inf. When conversion fails
    because columns hold text or categories, the error names those columns
    and says how to encode them.
    """
    try:
        return validate_data(estimator, X, y, reset=reset,
                             dtype=(np.float32, np.float64), **check_params)
    except ValueError as err:
        columns = _non_numeric_columns(X)
        if not columns:
            raise
        raise ValueError(
            f"{type(estimator).__name__} needs numeric features, but these columns "
            f"are not numeric: {columns}. Encode them first, for example with "
            "sklearn.compose.ColumnTransformer([('categories', OneHotEncoder(), "
            f"{columns})], remainder='passthrough') in a Pipeline.") from err
