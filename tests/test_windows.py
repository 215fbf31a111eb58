"""SlidingWindows and the mapping of window scores back to time stamps."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import MLPAutoencoder, SlidingWindows


def test_windows_are_time_major_rows():
    series = np.column_stack([np.arange(6), 10 * np.arange(6)])
    windows = SlidingWindows(window=2, step=2).fit(series)
    np.testing.assert_array_equal(windows.transform(series),
                                  [[0, 0, 1, 10], [2, 20, 3, 30], [4, 40, 5, 50]])
    assert list(windows.get_feature_names_out()) == ["x0_t0", "x1_t0", "x0_t1", "x1_t1"]


def test_feature_names_given_must_be_the_series_seen_in_fit():
    frame = pd.DataFrame({"temp": np.arange(5.0), "load": np.arange(5.0)})
    windows = SlidingWindows(window=2).fit(frame)
    assert list(windows.get_feature_names_out(["temp", "load"])) == [
        "temp_t0", "load_t0", "temp_t1", "load_t1"]
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        windows.get_feature_names_out(["load", "temp"])
    unnamed = SlidingWindows(window=2).fit(frame.to_numpy())
    assert list(unnamed.get_feature_names_out(["a", "b"]))[:2] == ["a_t0", "b_t0"]
    with pytest.raises(ValueError, match="input_features should have length equal"):
        unnamed.get_feature_names_out(["a"])


def test_one_dimensional_lists_arrays_and_pandas_series_are_accepted():
    index = pd.date_range("2024-01-01", periods=10, freq="h")
    series = pd.Series(np.arange(10.0), index=index, name="value")
    windows = SlidingWindows(window=4)
    out = windows.fit_transform(series)
    assert out.shape == (7, 4)
    np.testing.assert_array_equal(SlidingWindows(window=4).fit_transform(np.arange(10.0)), out)
    np.testing.assert_array_equal(SlidingWindows(window=4).fit_transform(list(range(10))), out)
    per_sample = windows.window_scores_to_samples(np.arange(7.0), X=series)
    assert isinstance(per_sample, pd.Series) and per_sample.index.equals(index)


def test_pandas_output_labels_each_window_with_its_last_sample():
    index = pd.date_range("2024-01-01", periods=7, freq="h")
    series = pd.Series(np.arange(7.0), index=index, name="value")
    windows = SlidingWindows(window=3, step=2).set_output(transform="pandas")
    out = windows.fit_transform(series)
    assert list(out.columns) == ["value_t0", "value_t1", "value_t2"]
    assert out.index.equals(index[[2, 4, 6]])
    np.testing.assert_array_equal(out, SlidingWindows(window=3, step=2).fit_transform(series))
    positions = windows.fit_transform(np.arange(7.0)).index
    assert list(positions) == [2, 4, 6]


def test_scores_map_back_onto_a_list_series_as_an_array():
    windows = SlidingWindows(window=3, step=2).fit([[float(i)] for i in range(7)])
    got = windows.window_scores_to_samples([1.0, 2.0, 3.0], X=list(range(7)))
    np.testing.assert_array_equal(got, [1, 1, 1, 2, 2, 3, 3])


def test_time_stamp_columns_are_named_with_advice():
    frame = pd.DataFrame({"time": pd.date_range("2024-01-01", periods=5, freq="h"),
                          "value": np.arange(5.0)})
    with pytest.raises(ValueError, match=r"\{'time': 'datetime64.*time stamps in the index"):
        SlidingWindows(window=2).fit(frame)


@pytest.mark.parametrize("reduce, expected", [
    ("min", [5, 1, 1, 1, 3, np.nan]),
    ("max", [5, 5, 5, 3, 3, np.nan]),
    ("mean", [5, 3, 3, 2, 3, np.nan]),
])
def test_window_scores_map_back_to_the_samples_they_cover(reduce, expected):
    windows = SlidingWindows(window=3, step=2).fit(np.zeros((6, 1)))
    # windows cover samples [0, 1, 2] and [2, 3, 4]; sample 5 is not covered
    scores = np.array([5.0, 1.0])
    windows_with_two = windows.window_scores_to_samples(scores, n_samples=6, reduce=reduce)
    expected_two = {"min": [5, 5, 1, 1, 1, np.nan], "max": [5, 5, 5, 1, 1, np.nan],
                    "mean": [5, 5, 3, 1, 1, np.nan]}[reduce]
    np.testing.assert_array_equal(windows_with_two, expected_two)
    three = SlidingWindows(window=2, step=1).fit(np.zeros((6, 1)))
    got = three.window_scores_to_samples([5.0, 1.0, 1.0, 3.0, 3.0], n_samples=6,
                                         reduce=reduce)
    assert got[0] == expected[0] and got[1] == expected[1]


def test_last_gives_each_window_value_to_the_sample_that_ends_it():
    windows = SlidingWindows(window=3, step=2).fit(np.zeros(7))
    got = windows.window_scores_to_samples([1.0, 2.0, 3.0], n_samples=7, reduce="last")
    np.testing.assert_array_equal(got, [np.nan, np.nan, 1.0, np.nan, 2.0, np.nan, 3.0])


def test_window_longer_than_the_series_is_rejected():
    with pytest.raises(ValueError, match="window=30 is longer than the series"):
        SlidingWindows(window=30).fit(np.arange(20.0))


def test_wrong_number_of_window_scores_is_rejected():
    windows = SlidingWindows(window=3).fit(np.zeros(10))
    with pytest.raises(ValueError, match="Expected 8 window scores"):
        windows.window_scores_to_samples(np.zeros(5), n_samples=10)
    # a length shorter than the window: it expected "-1 window scores"
    with pytest.raises(ValueError, match="A series of 2 samples holds no window of 3"):
        windows.window_scores_to_samples(np.zeros(1), X=np.zeros(2))


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs the length of the series: give n_samples or the series as X"),
    ({"n_samples": 10, "reduce": "median"}, "reduce must be 'min', 'max', 'mean' or 'last', "
                                            "got 'median'"),
])
def test_mapping_window_scores_needs_a_length_and_a_known_reduction(kwargs, message):
    windows = SlidingWindows(window=3).fit(np.zeros(10))
    with pytest.raises(ValueError, match=message):
        windows.window_scores_to_samples(np.zeros(8), **kwargs)


def test_nan_in_the_series_is_rejected():
    with pytest.raises(ValueError, match="NaN"):
        SlidingWindows(window=3).fit(np.array([1.0, np.nan, 2.0, 3.0]))


def test_pipeline_flags_a_spike_in_a_series():
    rng = np.random.RandomState(0)
    t = np.arange(3000)
    series = np.sin(2 * np.pi * t / 50) + 0.05 * rng.normal(size=t.size)
    test = series.copy()
    test[2000:2010] += 3.0
    pipe = make_pipeline(StandardScaler(), SlidingWindows(window=25),
                         MLPAutoencoder(hidden_layer_sizes=(32,), latent_dim=4, max_iter=40,
                                        random_state=0))
    pipe.fit(series[:1500].reshape(-1, 1))
    window_labels = pipe.predict(test.reshape(-1, 1))
    assert np.mean(window_labels[:1900] == -1) < 0.03
    flags = pipe[1].window_scores_to_samples(window_labels, n_samples=len(test)) == -1
    assert flags[2000:2010].all()
    # a flagged window flags every sample it covers, so one false window
    # alarm flags up to 25 samples; still, most clean samples stay clean
    assert flags[2040:].mean() < 0.1
