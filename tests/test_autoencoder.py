"""MLPAutoencoder as outlier detector and transformer."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
    np.testing.assert_allclose(reconstruction, detector.net_.forward(normal_data).numpy(),
                               rtol=1e-5, atol=1e-5)
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
