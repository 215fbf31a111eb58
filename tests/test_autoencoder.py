"""MLPAutoencoder as outlier detector and transformer."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skmlp import MLPAutoencoder
from skmlp.modules import count_parameters


@pytest.fixture(scope="module")
def normal_data():
    rng = np.random.RandomState(0)
    latent = rng.normal(size=(600, 2))
    mixing = rng.normal(size=(2, 6))
    return latent @ mixing + 0.05 * rng.normal(size=(600, 6))


@pytest.fixture(scope="module")
def detector(normal_data):
    return MLPAutoencoder(hidden_layer_sizes=(16,), latent_dim=2, max_iter=150,
                          random_state=0).fit(normal_data)


def test_source_material_architecture_has_1_058_824_parameters():
    X = np.random.RandomState(0).uniform(size=(4, 1000))
    ae = MLPAutoencoder(hidden_layer_sizes=(512,), latent_dim=32, output_activation="sigmoid",
                        max_iter=1).fit(X)
    assert count_parameters(ae.net_.module_) == 1_058_824
    assert 0 <= ae.net_.forward(X).min() and ae.net_.forward(X).max() <= 1


def test_score_ranks_reconstruction_so_cross_validation_needs_no_scorer(normal_data):
    detector = MLPAutoencoder(latent_dim=2, max_iter=10, random_state=0).fit(normal_data)
    assert detector.score(normal_data) == pytest.approx(
        detector.score_samples(normal_data).mean())
    assert detector.score(normal_data) > detector.score(normal_data + 5.0)
    assert cross_val_score(MLPAutoencoder(latent_dim=2, max_iter=5), normal_data,
                           cv=3).shape == (3,)


def test_outlier_api_follows_scikit_learn(detector, normal_data):
    rng = np.random.RandomState(1)
    outliers = 4 * rng.normal(size=(20, 6))
    X = np.vstack([normal_data[:100], outliers])
    scores = detector.score_samples(X)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    np.testing.assert_array_equal(detector.predict(X),
                                  np.where(detector.decision_function(X) < 0, -1, 1))
    assert set(np.unique(detector.predict(X))) <= {-1, 1}
    # the planted outliers score lower than the normal rows, and most are flagged
    assert np.median(scores[100:]) < np.min(np.median(scores[:100]))
    assert np.mean(detector.predict(outliers) == -1) > 0.9
    assert np.mean(detector.predict(normal_data) == 1) > 0.9


def test_fit_returns_self_and_fit_predict_matches(normal_data):
    ae = MLPAutoencoder(latent_dim=2, max_iter=5, random_state=0)
    assert ae.fit(normal_data) is ae
    labels = MLPAutoencoder(latent_dim=2, max_iter=5, random_state=0).fit_predict(normal_data)
    np.testing.assert_array_equal(labels, ae.predict(normal_data))


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.2])
def test_float_contamination_flags_that_share_of_the_training_data(contamination,
                                                                   normal_data):
    ae = MLPAutoencoder(latent_dim=2, max_iter=20, contamination=contamination,
                        random_state=0).fit(normal_data)
    share = np.mean(ae.predict(normal_data) == -1)
    assert share == pytest.approx(contamination, abs=1 / len(normal_data))


def test_contamination_with_early_stopping_uses_the_validation_split(normal_data):
    ae = MLPAutoencoder(latent_dim=2, max_iter=30, contamination=0.1, early_stopping=True,
                        validation_fraction=0.2, random_state=0).fit(normal_data)
    # the held-out rows are those of train_test_split with the fit's own seed
    _, valid = train_test_split(normal_data, test_size=0.2, random_state=ae._seed)
    assert ae.validation_loss_curve_ is not None
    assert np.mean(ae.predict(valid) == -1) == pytest.approx(0.1, abs=1 / len(valid))
    assert ae.offset_ == pytest.approx(np.percentile(ae.score_samples(valid), 10), rel=1e-5)


def test_partial_fit_sets_the_threshold_from_the_rows_of_that_call(normal_data):
    ae = MLPAutoencoder(latent_dim=2, contamination=0.1, random_state=0)
    ae.partial_fit(normal_data[:100]).partial_fit(normal_data[100:200])
    latest = ae.score_samples(normal_data[100:200])
    assert ae.offset_ == pytest.approx(np.percentile(latest, 10), rel=1e-5)


def test_per_feature_errors_point_to_the_broken_sensor(detector, normal_data):
    broken = normal_data[:50].copy()
    broken[:, 4] += 5.0
    per_feature = detector.reconstruction_error(broken, per_feature=True)
    assert per_feature.shape == (50, 6)
    assert np.all(per_feature.argmax(axis=1) == 4)
    np.testing.assert_allclose(detector.reconstruction_error(broken), per_feature.mean(axis=1))


def test_transformer_api(detector, normal_data):
    codes = detector.transform(normal_data)
    assert codes.shape == (600, 2) and codes.dtype == np.float64
    reconstruction = detector.inverse_transform(codes)
    # in the units of the input; the errors are those of the standardised features
    scale = normal_data.std(axis=0)
    np.testing.assert_allclose(((reconstruction - normal_data) / scale) ** 2,
                               detector.reconstruction_error(normal_data, per_feature=True),
                               rtol=1e-3, atol=1e-6)
    assert list(detector.get_feature_names_out()) == ["mlpautoencoder0", "mlpautoencoder1"]
    with pytest.raises(ValueError, match="latent codes of width 2"):
        detector.inverse_transform(np.zeros((3, 5)))


def test_set_output_pandas_in_a_pipeline(normal_data):
    frame = pd.DataFrame(normal_data, columns=[f"sensor{i}" for i in range(6)])
    pipe = make_pipeline(StandardScaler(), MLPAutoencoder(latent_dim=3, max_iter=3,
                                                          random_state=0))
    pipe.set_output(transform="pandas")
    codes = pipe.fit_transform(frame)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["mlpautoencoder0", "mlpautoencoder1", "mlpautoencoder2"]
    names = [f"sensor{i}" for i in range(6)]
    assert len(pipe[-1].get_feature_names_out(names)) == 3
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        pipe[-1].get_feature_names_out(names[::-1])


def test_latent_dim_not_smaller_than_input_warns(normal_data):
    with pytest.warns(UserWarning, match="identity map"):
        MLPAutoencoder(latent_dim=6, max_iter=1).fit(normal_data)


@pytest.mark.parametrize("n_features, width", [(2, 1), (5, 2), (6, 3), (15, 7), (16, 8),
                                               (64, 8)])
def test_auto_latent_dim_is_half_the_features_at_most_8(n_features, width, recwarn):
    X = np.random.RandomState(0).normal(size=(40, n_features))
    detector = MLPAutoencoder(max_iter=1, random_state=0).fit(X)
    assert detector.latent_dim == "auto" and detector.latent_dim_ == width
    assert detector.transform(X).shape == (40, width)
    assert detector.inverse_transform(detector.transform(X)).shape == X.shape
    assert len(detector.get_feature_names_out()) == width
    assert not [w for w in recwarn if "identity map" in str(w.message)]


def test_auto_latent_dim_of_a_single_feature_warns():
    with pytest.warns(UserWarning, match="latent_dim='auto' gives a bottleneck of 1"):
        MLPAutoencoder(max_iter=1).fit(np.arange(20.0).reshape(-1, 1))


@pytest.mark.parametrize("contamination", [0.0, 0.6, "high"])
def test_contamination_out_of_range_is_rejected(contamination, normal_data):
    with pytest.raises(InvalidParameterError, match="contamination"):
        MLPAutoencoder(contamination=contamination).fit(normal_data)


def test_bad_input_is_rejected(detector, normal_data):
    X = normal_data.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPAutoencoder().fit(X)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MLPAutoencoder().fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but MLPAutoencoder is expecting 6"):
        detector.predict(normal_data[:, :4])


def test_same_seed_same_scores(normal_data):
    scores = [MLPAutoencoder(latent_dim=2, dropout=0.1, max_iter=10, random_state=3)
              .fit(normal_data).score_samples(normal_data) for _ in range(2)]
    np.testing.assert_array_equal(*scores)


# -- standardisation ----------------------------------------------------------------

def test_scores_do_not_depend_on_the_units_of_the_features(normal_data):
    units = np.array([1e-3, 1, 50, 1e4, 3e5, 1e6])
    params = dict(hidden_layer_sizes=(16,), latent_dim=2, max_iter=20, random_state=0)
    as_is = MLPAutoencoder(**params).fit(normal_data)
    in_units = MLPAutoencoder(**params).fit(normal_data * units + 7 * units)
    np.testing.assert_allclose(in_units.score_samples(normal_data * units + 7 * units),
                               as_is.score_samples(normal_data), rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(in_units.transform(normal_data * units + 7 * units),
                               as_is.transform(normal_data), rtol=1e-3, atol=1e-4)
    # on the features as given, the largest units make up the error
    raw = MLPAutoencoder(standardize_inputs=False, **params).fit(normal_data * units)
    per_feature = raw.reconstruction_error(normal_data * units, per_feature=True)
    assert per_feature[:, 5].sum() > 0.9 * per_feature.sum()


def test_standardised_features_train_exactly_as_without_the_standardisation(normal_data):
    X = StandardScaler().fit_transform(normal_data)
    fits = [MLPAutoencoder(latent_dim=2, max_iter=5, random_state=0, standardize_inputs=flag)
            .fit(X) for flag in (True, False)]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].score_samples(X), fits[1].score_samples(X))
    np.testing.assert_array_equal(fits[0].inverse_transform(fits[0].transform(X)),
                                  fits[1].inverse_transform(fits[1].transform(X)))


def test_statistics_are_sample_weighted_and_fold_into_the_first_layer(normal_data):
    X = normal_data * 100 + 3
    weight = np.where(np.arange(len(X)) % 4 == 0, 0.0, 2.0)
    ae = MLPAutoencoder(latent_dim=2, max_iter=2, random_state=0).fit(X, sample_weight=weight)
    kept = X[weight > 0]
    np.testing.assert_allclose(ae.inverse_transform(ae.transform(kept)),
                               ae._standardizer.inverse(ae.net_.forward(
                                   (kept - kept.mean(axis=0)) / kept.std(axis=0))).numpy(),
                               rtol=1e-4, atol=1e-3)
    # coefs_[0], intercepts_[0] act on the features as given
    hidden = np.maximum(X @ ae.coefs_[0] + ae.intercepts_[0], 0)
    np.testing.assert_allclose(hidden @ ae.coefs_[1] + ae.intercepts_[1], ae.transform(X),
                               rtol=1e-4, atol=1e-3)


def test_sigmoid_output_takes_the_features_as_given():
    X = np.random.RandomState(0).uniform(size=(100, 4))
    ae = MLPAutoencoder(latent_dim=2, output_activation="sigmoid", max_iter=2).fit(X)
    assert ae._standardizer is None  # "auto"
    with pytest.raises(ValueError, match="cannot reconstruct.*standardize_inputs=False"):
        ae.set_params(standardize_inputs=True).fit(X)


@pytest.mark.parametrize("fit", ["fit", "partial_fit"])
def test_sigmoid_output_warns_of_training_features_outside_the_unit_range(normal_data, fit):
    ae = MLPAutoencoder(latent_dim=2, output_activation="sigmoid", max_iter=2)
    with pytest.warns(UserWarning, match=r"range from -\S+ to \S+: .*MinMaxScaler"):
        getattr(ae, fit)(normal_data)

    scaled = MinMaxScaler().fit_transform(normal_data)
    scaled[0, 0] = np.nextafter(1.0, 2.0)  # as min-max scaling may round
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        getattr(ae, fit)(scaled)
        ae.score_samples(normal_data)  # held-out data may leave the range: that is an anomaly


@pytest.mark.parametrize("warm_start", [True, False], ids=["fit", "partial_fit"])
def test_going_on_training_keeps_the_statistics_and_refuses_a_change(normal_data, warm_start):
    X = normal_data * 100 + 3
    ae = MLPAutoencoder(latent_dim=2, max_iter=2, warm_start=warm_start, random_state=0)
    go_on = ae.fit if warm_start else ae.partial_fit
    go_on(X)  # the first call sets the statistics (partial_fit's too)
    standardized = (X - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(ae._standardizer(torch.as_tensor(X, dtype=torch.float32)),
                               standardized, atol=1e-4)
    go_on(X * 10)  # goes on training the same network, on the same scale
    np.testing.assert_allclose(ae._standardizer(torch.as_tensor(X, dtype=torch.float32)),
                               standardized, atol=1e-4)
    ae.set_params(standardize_inputs=False)
    with pytest.raises(ValueError, match="takes its features standardised, but "
                                         "standardize_inputs=False asks"):
        go_on(X)
    ae.set_params(standardize_inputs="auto", output_activation="sigmoid")
    with pytest.raises(ValueError, match="standardize_inputs='auto' with "
                                         "output_activation='sigmoid' asks"):
        go_on(X)
