"""The CUDA path: runs on a machine with a GPU, skipped elsewhere."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
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
