"""The bundled data sets: the loaders' forms, their targets and their provenance."""

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from skmlp.datasets import (
    AG_NEWS_TOPICS,
    NAB_SERIES,
    load_ag_news,
    load_nab,
    load_nyse_prices,
    load_predictive_maintenance,
    load_steel_plates_faults,
    load_yeast,
)

TABLES = [load_yeast, load_steel_plates_faults, load_predictive_maintenance, load_nyse_prices,
          load_ag_news]


@pytest.mark.parametrize("load", TABLES, ids=lambda load: load.__name__)
def test_every_loader_gives_a_bunch_or_x_y_as_pandas_or_numpy(load):
    bunch = load()
    assert isinstance(bunch.data, pd.DataFrame) and isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == bunch.feature_names
    assert bunch.target_names == [bunch.target.name]
    assert bunch.target.name not in bunch.data.columns
    X, y = load(return_X_y=True)
    pd.testing.assert_frame_equal(X, bunch.data)
    pd.testing.assert_series_equal(y, bunch.target)
    arrays = load(as_frame=False)
    assert arrays.frame is None and arrays.feature_names == bunch.feature_names
    np.testing.assert_array_equal(arrays.data, bunch.data.to_numpy())
    np.testing.assert_array_equal(load(return_X_y=True, as_frame=False)[1],
                                  bunch.target.to_numpy())


def test_predictive_maintenance_has_no_identifiers_and_not_the_other_target():
    for target, other in [("Failure Type", "Target"), ("Target", "Failure Type")]:
        X, y = load_predictive_maintenance(target=target, return_X_y=True)
        assert not {"UDI", "Product ID", other} & set(X.columns)
        assert y.name == target
    with pytest.raises(ValueError, match="target must be one of"):
        load_predictive_maintenance(target="UDI")


def test_ag_news_loads_four_balanced_topics_of_text():
    news = load_ag_news()
    assert news.data.shape == (7600, 2) and list(news.data.columns) == ["title", "description"]
    assert news.target.value_counts().to_dict() == dict.fromkeys(AG_NEWS_TOPICS, 1900)
    assert news.data.map(lambda text: isinstance(text, str) and text != "").all().all()


@pytest.mark.parametrize("name", NAB_SERIES)
def test_nab_series_come_with_windows_inside_the_series(name):
    series = load_nab(name)
    assert isinstance(series.data.index, pd.DatetimeIndex) and list(series.data) == ["value"]
    assert series.windows and all(series.data.index[0] <= start < end <= series.data.index[-1]
                                  for start, end in series.windows)
    assert all(any(start <= label <= end for start, end in series.windows)
               for label in series.labels)


@pytest.mark.parametrize("name", NAB_SERIES)
def test_nab_target_marks_the_time_stamps_inside_a_labelled_window(name):
    series = load_nab(name)
    index = series.data.index
    inside = np.any([(index >= start) & (index <= end) for start, end in series.windows],
                    axis=0)
    assert series.target.index.equals(index) and series.target.name == "in_anomaly_window"
    np.testing.assert_array_equal(series.target.to_numpy(), inside.astype(int))
    assert list(series.frame) == ["value", "in_anomaly_window"] and len(series.frame) == len(index)
    X, y = load_nab(name, return_X_y=True)
    pd.testing.assert_frame_equal(X, series.data)
    pd.testing.assert_series_equal(y, series.target)
    X, y = load_nab(name, return_X_y=True, as_frame=False)
    assert X.shape == (len(index), 1) and y.shape == (len(index),)
    assert load_nab(name, as_frame=False).frame is None


def test_unknown_nab_series_lists_the_bundled_ones():
    with pytest.raises(ValueError, match="choose one of .*twitter_volume_aapl"):
        load_nab("nyc_taxi")


def test_every_data_file_has_its_provenance_beside_it():
    folder = resources.files("skmlp.datasets") / "data"
    readme = (folder / "README.md").read_text()
    names = {entry.name for entry in folder.iterdir()} - {"README.md"}
    stems = {name.split(".")[0].removesuffix("_labels") for name in names}
    missing = [stem for stem in stems
               if stem.removeprefix("nab_") not in readme and stem not in readme]
    assert not missing, missing


@pytest.mark.parametrize("bunch", [load() for load in TABLES] + [load_nab(NAB_SERIES[0])],
                         ids=lambda bunch: bunch.filename)
def test_descr_is_the_provenance_of_the_file_loaded_with_its_license_and_checksum(bunch):
    data = (resources.files("skmlp.datasets") / "data" / bunch.filename).read_bytes()
    assert f"`{bunch.filename}`" in bunch.DESCR and "**License" in bunch.DESCR
    assert hashlib.sha256(data).hexdigest() in bunch.DESCR
