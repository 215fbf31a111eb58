"""A search worker process for the storage tests: ``python tests/search_worker.py URL NAME N``.

Every worker of a study runs this same script, which is also the documented
recipe for distributing a search over machines.
"""

import sys

from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.datasets import make_classification

from skmlp import MLPClassifier, OptunaSearchCV

SPACE = {
    "alpha": FloatDistribution(1e-5, 1.0, log=True),
    "batch_size": CategoricalDistribution([32, 64, 128]),
}


def data():
    return make_classification(n_samples=600, n_features=10, n_informative=6, n_classes=3,
                               random_state=0)


def search(storage, study_name, n_trials, max_iter=40, **kwargs):
    return OptunaSearchCV(MLPClassifier(max_iter=max_iter, random_state=0), SPACE,
                          n_trials=n_trials, cv=3, scoring="f1_macro", storage=storage,
                          study_name=study_name, load_if_exists=True, refit=False,
                          enable_pruning=False,
                          **kwargs)


if __name__ == "__main__":
    url, name, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    max_iter = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    search(url, name, n_trials, max_iter=max_iter, heartbeat_interval=1).fit(*data())
