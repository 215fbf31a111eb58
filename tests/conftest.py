"""Test-session settings shared by every test module."""

import pytest
import search_worker
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

# pytest-xdist runs one worker per core; a second torch thread per worker
# would oversubscribe the cores, and on a busy machine torch's threads can
# stall each other many times over. One thread per worker keeps the suite's
# time predictable; skmlp's own thread policy is tested in test_runtime.py.
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    """A small standardised binary problem: 240 rows, 6 features."""
    X, y = make_classification(n_samples=240, n_features=6, n_informative=4,
                               n_classes=2, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def Xy():
    """The searches' data: the worker script's, so that its studies and these agree."""
    return search_worker.data()
