"""The CUDA path: runs on a machine with a GPU, skipped elsewhere."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.datasets import make_classification

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=2000, n_features=12, n_informative=8, n_classes=3,
                               random_state=0)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor, MLPAutoencoder])
def test_training_and_prediction_run_on_the_gpu(Estimator, data):
    X, y = data
    est = Estimator(device="cuda", max_iter=20, random_state=0, batch_norm=True, dropout=0.1)
    est.fit(X, y)
    assert all(p.is_cuda for p in est.net_.module_.parameters())
    assert np.all(np.isfinite(est.predict(X).astype(float)))


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_lbfgs_trains_on_the_gpu(Estimator, data):
    X, y = data
    est = Estimator(solver="lbfgs", dropout=0.0, alpha=0.0, max_iter=30, random_state=0,
                    device="cuda").fit(X, y)
    assert all(p.is_cuda for p in est.net_.module_.parameters())
    assert np.all(np.diff(est.loss_curve_) <= 1e-5)  # a line search never goes uphill
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]


def test_a_gpu_the_machine_lacks_is_named(data):
    missing = f"cuda:{torch.cuda.device_count()}"
    with pytest.raises(ValueError, match=f"device='{missing}'.*has {torch.cuda.device_count()}"):
        MLPClassifier(device=missing).fit(*data)


def test_gpu_and_cpu_fits_learn_equally_well(data):
    X, y = data
    scores = [MLPClassifier(device=device, max_iter=50, random_state=0).fit(X, y).score(X, y)
              for device in ("cpu", "cuda")]
    assert abs(scores[0] - scores[1]) < 0.03


def test_a_gpu_model_unpickles_and_predicts_on_a_cpu_only_machine(data, tmp_path):
    X, y = data
    est = MLPClassifier(device="cuda", max_iter=5, random_state=0).fit(X, y)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X)
    code = ("import json, pickle, numpy as np, torch; assert not torch.cuda.is_available();"
            f"model = pickle.loads(open({str(path)!r}, 'rb').read());"
            f"X = np.load({str(tmp_path / 'X.npy')!r});"
            "print(json.dumps([model.net_.device, model.predict(X)[:20].tolist()]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"CUDA_VISIBLE_DEVICES": "", "PATH": ""}, check=True)
    device, predicted = json.loads(out.stdout.strip().splitlines()[-1])
    assert device == "cpu"
    assert predicted == est.predict(X)[:20].tolist()


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPAutoencoder])
def test_data_too_large_for_the_gpu_stays_in_host_memory_and_trains_the_same(
        Estimator, data, monkeypatch):
    X, y = data
    on_gpu = Estimator(device="cuda", max_iter=5, random_state=0).fit(X, y)
    from skmlp import _data
    monkeypatch.setattr(_data, "DATA_SHARE_OF_FREE_MEMORY", 0.0)  # nothing fits
    assert _data.storage_device(1, "cuda") == "cpu"
    in_host = Estimator(device="cuda", max_iter=5, random_state=0).fit(X, y)
    assert all(p.is_cuda for p in in_host.net_.module_.parameters())
    np.testing.assert_allclose(in_host.loss_curve_, on_gpu.loss_curve_, rtol=1e-5)
    method = "score_samples" if Estimator is MLPAutoencoder else "predict_proba"
    np.testing.assert_allclose(getattr(in_host, method)(X), getattr(on_gpu, method)(X),
                               rtol=1e-4, atol=1e-6)


def test_sparse_features_train_on_the_gpu_as_their_dense_copy(data):
    X, y = data
    X = np.where(np.abs(X) > 1, X, 0)  # about two thirds zeros
    fits = [MLPClassifier(device="cuda", max_iter=10, random_state=0).fit(features, y)
            for features in (sparse.csr_matrix(X), X)]
    np.testing.assert_allclose(fits[0].loss_curve_, fits[1].loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(fits[0].predict_proba(sparse.csr_matrix(X)),
                               fits[1].predict_proba(X), rtol=1e-4, atol=1e-6)


def test_fits_leave_the_gpus_generator_alone_and_are_reproducible_there(data):
    X, y = data
    torch.cuda.manual_seed(123)
    state = torch.cuda.get_rng_state()
    MLPClassifier(max_iter=2, random_state=0).fit(X, y)  # on the CPU
    fits = [MLPClassifier(device="cuda", max_iter=2, random_state=0).fit(X, y)
            for _ in range(2)]
    assert torch.equal(torch.cuda.get_rng_state(), state)
    for first, second in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        np.testing.assert_array_equal(first, second)
