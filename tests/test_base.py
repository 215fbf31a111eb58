"""Behaviour every skmlp estimator shares: seeding, parameters, solvers, state, failed fits.

Input checks are specified in test_validation.py, the torch modules in
test_modules.py and the training callbacks in test_callbacks.py.
"""

import copy
import pickle
import warnings
from operator import attrgetter

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from scipy.special import softmax
from sklearn import neural_network
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import (
    Callback,
)
from skorch.history import History

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp._net import EpochHistory
from skmlp.modules import MLP

ESTIMATORS = [MLPClassifier, MLPRegressor]

#: scikit-learn's default network, for tests of one mechanism that the
#: classifier's wider, dropout-regularised defaults would blur.
SKLEARN_NETWORK = dict(hidden_layer_sizes=(100,), dropout=0.0)


def _weights(estimator):
    return {k: v.clone() for k, v in estimator.net_.module_.state_dict().items()}


# -- reproducibility ---------------------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_seed_gives_bit_identical_fits_whatever_the_global_state(Estimator, data):
    X, y = data
    params = dict(hidden_layer_sizes=(16, 8), dropout=0.2, batch_norm=True,
                  early_stopping=True, max_iter=15, random_state=7)
    torch.manual_seed(1)
    np.random.seed(1)
    first = Estimator(**params).fit(X, y)
    torch.manual_seed(2)
    np.random.seed(2)
    torch.rand(5)
    second = Estimator(**params).fit(X, y)
    for (name, a), b in zip(_weights(first).items(), _weights(second).values(), strict=True):
        assert torch.equal(a, b), name
    np.testing.assert_array_equal(first.predict(X), second.predict(X))
    assert first.loss_curve_ == second.loss_curve_


def test_fit_leaves_global_random_state_untouched(data):
    X, y = data
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    MLPClassifier(dropout=0.3, max_iter=3, random_state=0).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_different_seeds_give_different_weights(data):
    X, y = data
    a = MLPClassifier(max_iter=2, random_state=0).fit(X, y)
    b = MLPClassifier(max_iter=2, random_state=1).fit(X, y)
    assert not torch.equal(_weights(a)["layers.0.weight"], _weights(b)["layers.0.weight"])


# -- parameters and persistence ----------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_and_set_params_keep_nested_tuples(Estimator):
    est = Estimator(hidden_layer_sizes=(64, 32), dropout=(0.1, 0.2))
    est.set_params(hidden_layer_sizes=(8, 4, 2), dropout=[0.0, 0.1, 0.2])
    copy = clone(est)
    assert copy.get_params()["hidden_layer_sizes"] == (8, 4, 2)
    assert copy.get_params()["dropout"] == [0.0, 0.1, 0.2]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("via", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trips_predict_identically(Estimator, data, via, tmp_path):
    X, y = data
    est = Estimator(hidden_layer_sizes=(8,), batch_norm=True, max_iter=3,
                    random_state=0).fit(X, y)
    if via == "pickle":
        restored = pickle.loads(pickle.dumps(est))
    else:
        joblib.dump(est, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("params", [{}, {"batch_norm": True, "l1": 0.01}])
def test_unpickled_model_trains_on_exactly_as_the_original(Estimator, params, data):
    X, y = data
    est = Estimator(max_iter=3, random_state=0, **params).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    for model in (est, restored):
        model.partial_fit(X, y)
    for name, value in _weights(est).items():
        torch.testing.assert_close(_weights(restored)[name], value, rtol=0, atol=0)


# -- solvers, penalties, warm starts and devices -----------------------------------


# Each solver at its customary step size: RMSprop at 0.01 oscillates on this
# small problem (its loss jumps between 0.25 and 1.6 from one seed to another).
@pytest.mark.parametrize("solver, optimizer, learning_rate", [
    ("adam", torch.optim.Adam, 0.01), ("adamw", torch.optim.AdamW, 0.01),
    ("sgd", torch.optim.SGD, 0.01), ("rmsprop", torch.optim.RMSprop, 0.001),
    ("lbfgs", torch.optim.LBFGS, 0.001),  # the rate does not apply to L-BFGS
])
def test_every_solver_trains(solver, optimizer, learning_rate, data):
    X, y = data
    clf = MLPClassifier(**SKLEARN_NETWORK, solver=solver, learning_rate_init=learning_rate,
                        max_iter=20, random_state=0).fit(X, y)
    assert isinstance(clf.net_.optimizer_, optimizer)  # torch's, without its compiler hooks
    assert clf.loss_curve_[-1] < 0.8 * clf.loss_curve_[0]


@pytest.mark.parametrize("solver, strong", [("adam", 200.0), ("adamw", 20.0)])
def test_alpha_penalises_weights_but_not_biases(solver, strong, data):
    X, y = data
    fits = {alpha: MLPClassifier(solver=solver, alpha=alpha, learning_rate_init=0.01,
                                 max_iter=60, random_state=0).fit(X, y)
            for alpha in (0.0, strong)}
    weight_norm, bias_norm = (
        {alpha: float(getattr(fit.net_.module_.layers[0], name).detach().norm())
         for alpha, fit in fits.items()} for name in ("weight", "bias"))
    assert weight_norm[strong] < 0.3 * weight_norm[0.0]
    assert bias_norm[strong] > 0.3 * bias_norm[0.0]


def test_lbfgs_runs_one_iteration_per_epoch_on_the_whole_training_set(data):
    X, y = data
    with pytest.warns(ConvergenceWarning):
        clf = MLPClassifier(hidden_layer_sizes=(100,), dropout=0.0, solver="lbfgs", alpha=0.0,
                            batch_size=16, learning_rate="cosine", max_iter=15,
                            random_state=0).fit(X, y)
    optimizer = clf.net_.optimizer_
    assert clf.n_iter_ == 15 and optimizer.state_dict()["state"][0]["n_iter"] == 15
    assert clf.net_.batch_size == len(X)
    assert "lr_scheduler" not in dict(clf.net_.callbacks_)
    # a line search on a deterministic full-batch loss never goes uphill
    assert np.all(np.diff(clf.loss_curve_) <= 1e-6)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


def test_lbfgs_minimises_the_loss_plus_scikit_learns_l2_penalty(data):
    X, y = data
    alpha = 1.0
    # a smooth network (ReLU's kinks stall any quasi-Newton method), run all 300 iterations
    clf = MLPClassifier(hidden_layer_sizes=(10,), activation="tanh", dropout=0.0,
                        solver="lbfgs", alpha=alpha, max_iter=300, n_iter_no_change=300,
                        random_state=0).fit(X, y)
    net = clf.net_
    targets = torch.as_tensor(clf._encode_targets(y, reset=False), dtype=torch.float32)
    loss = net.get_loss(net.module_(torch.as_tensor(X, dtype=torch.float32)), targets,
                        training=True)
    penalty = 0.5 * alpha / len(X) * sum(w.square().sum() for w in net.weights_)
    params = list(net.module_.parameters())
    at_optimum = torch.autograd.grad(loss + penalty, params, retain_graph=True)
    of_the_loss_alone = torch.autograd.grad(loss, params)
    largest = [max(float(g.abs().max()) for g in grads)
               for grads in (at_optimum, of_the_loss_alone)]
    assert largest[0] < 1e-4 < largest[1]


class _CustomMLP(MLP):
    """A module class that explicit backpropagation does not know."""


class _CustomModuleClassifier(MLPClassifier):
    """An extension with its own module, which therefore trains through autograd."""

    def _module_params(self, n_features, sizes):
        return {**super()._module_params(n_features, sizes), "module": _CustomMLP}


# (SGD, not Adam, with batch norm: the gradient of a bias before batch norm is
# zero up to rounding, which Adam would scale up to steps of the learning rate)
@pytest.mark.parametrize("params", [{"solver": "sgd", "learning_rate_init": 0.05,
                                     "dropout": 0.2, "batch_norm": True, "l1": 1e-3},
                                    {"solver": "adam", "dropout": 0.2, "l1": 1e-3},
                                    {"solver": "lbfgs", "dropout": 0.0}])
def test_a_module_of_another_class_trains_through_autograd_to_the_same_weights(params,
                                                                               data):
    X, y = data
    settings = dict(hidden_layer_sizes=(16, 8), max_iter=5, random_state=0, **params)
    custom = _CustomModuleClassifier(**settings).fit(X, y)
    ours = MLPClassifier(**settings).fit(X, y)
    assert custom.net_.explicit_backprop_ is None and ours.net_.explicit_backprop_ is not None
    for (name, a), b in zip(_weights(custom).items(), _weights(ours).values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
    assert custom.loss_curve_ == pytest.approx(ours.loss_curve_, rel=1e-5)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPAutoencoder])
def test_lbfgs_rejects_dropout_before_training(Estimator, data):
    X, y = data
    est = Estimator(solver="lbfgs", dropout=[0.0, 0.2] if Estimator is MLPClassifier else 0.1)
    with pytest.raises(ValueError, match=r"solver='lbfgs' needs dropout=0"):
        est.fit(X, y)
    assert not hasattr(est, "net_")


def _dropout_rates(estimator):
    return [layer.p for layer in estimator.net_.module_.modules()
            if isinstance(layer, torch.nn.Dropout)]


def test_the_classifiers_auto_dropout_is_none_with_lbfgs_and_0_3_otherwise(data):
    X, y = data
    # scikit-learn's user guide example, unchanged (it failed on the default dropout)
    lbfgs = MLPClassifier(solver="lbfgs", alpha=1e-5, hidden_layer_sizes=(5, 2), max_iter=20,
                          random_state=1).fit(X, y)
    assert lbfgs.get_params()["dropout"] == "auto" and _dropout_rates(lbfgs) == []
    auto = MLPClassifier(max_iter=3, random_state=0).fit(X, y)
    explicit = MLPClassifier(dropout=0.3, max_iter=3, random_state=0).fit(X, y)
    assert _dropout_rates(auto) == [0.3, 0.3]
    np.testing.assert_array_equal(auto.predict_proba(X), explicit.predict_proba(X))
    # the regressor and the autoencoder default to no dropout and take no "auto"
    with pytest.raises(InvalidParameterError, match="'dropout' parameter of MLPRegressor"):
        MLPRegressor(dropout="auto").fit(X, y)


@pytest.mark.parametrize("Estimator, Theirs", [
    (MLPClassifier, neural_network.MLPClassifier), (MLPRegressor, neural_network.MLPRegressor)])
def test_a_scikit_learn_parameter_dict_carries_over(Estimator, Theirs, data):
    X, y = data
    theirs = Theirs(solver="sgd", learning_rate="adaptive", max_iter=5).get_params()
    est = Estimator(**theirs).fit(X, y)
    assert est.get_params().items() >= theirs.items()
    assert est.n_iter_ == 5
    # the samples seen, as scikit-learn counts them (rows of the training split)
    reference = Theirs(**{**theirs, "early_stopping": True}).fit(X, y)
    assert est.set_params(early_stopping=True, warm_start=False).fit(X, y).t_ == reference.t_


def test_alpha_is_scikit_learns_penalty_gradient(data):
    """One full-batch SGD step moves W by lr * (grad + alpha / n * W)."""
    X, y = data
    steps = {}
    for alpha in (0.0, 3.0):
        clf = MLPClassifier(solver="sgd", momentum=0.0, batch_size="full", alpha=alpha,
                            learning_rate_init=0.1, shuffle=False, max_iter=1,
                            random_state=0)
        clf.fit(X, y)
        steps[alpha] = clf.net_.module_.layers[0].weight.detach().clone()
    # the two runs share their initial weights W0 and data gradient, so
    # step[3] - step[0] = -lr * 3 / n * W0, i.e. W0 = (step[0] - step[3]) * n / (lr * 3)
    w0 = (steps[0.0] - steps[3.0]) * len(X) / (0.1 * 3.0)
    first = MLPClassifier(solver="sgd", momentum=0.0, batch_size="full",
                          learning_rate_init=1e-12, shuffle=False, max_iter=1,
                          random_state=0).fit(X, y)
    torch.testing.assert_close(w0, first.net_.module_.layers[0].weight.detach(),
                               rtol=1e-3, atol=1e-4)


def test_l1_makes_weights_sparser(data):
    X, y = data
    small = [np.mean(np.abs(MLPClassifier(**SKLEARN_NETWORK, l1=l1, max_iter=60,
                                          random_state=0).fit(X, y)
                            .net_.module_.layers[0].weight.detach().numpy()) < 1e-2)
             for l1 in (0.0, 20.0)]
    assert small[1] > small[0] + 0.2


@pytest.mark.parametrize("batch_size, batches_per_epoch", [
    ("auto", 2), ("full", 1), (1, 240), (100, 3), (1000, 1)])
def test_batch_size_options(batch_size, batches_per_epoch, data):
    X, y = data
    with warnings.catch_warnings():
        # more than the 240 rows is clipped to them quietly
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(batch_size=batch_size, max_iter=2, random_state=0).fit(X, y)
    assert clf.history_[-1, "train_batch_count"] == batches_per_epoch


@pytest.mark.parametrize("Estimator", [MLPRegressor, MLPAutoencoder])
def test_early_stopping_needs_two_validation_samples(Estimator, data):
    # as scikit-learn's MLP: ten rows leave one for validation, which cannot be scored
    X, y = data
    X, y = X[:10], y[:10]  # (the autoencoder ignores y)
    small = {"latent_dim": 2} if Estimator is MLPAutoencoder else {}
    with pytest.raises(ValueError, match="that is 1 of 10 samples, too few to score. Use more "
                                         "data, a validation_fraction that leaves two samples"):
        Estimator(early_stopping=True, **small).fit(X, y)
    est = Estimator(early_stopping=True, validation_fraction=0.2, max_iter=2,
                    **small).fit(X, y)
    assert len(est.validation_loss_curve_) == 2


def test_a_split_that_fails_says_why():
    X, y = np.zeros((12, 2)), np.r_[np.zeros(11), 1]  # one sample of class 1 cannot be split
    with pytest.raises(ValueError, match="that split failed: The least populated class.*"
                                         r"\. Use more data"):
        MLPClassifier(early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match=r"test_size = 1 should be greater or equal to the "
                                         r"number of classes = 2\. Use more data"):
        MLPClassifier(early_stopping=True).fit(X[:10], np.arange(10) % 2)
    # too large a fraction starves the training side: the advice names no direction
    with pytest.raises(ValueError, match=r"train_size = 1 should be greater.*Use more data, "
                                         r"a validation_fraction that leaves a sample of each"):
        MLPClassifier(early_stopping=True, validation_fraction=0.9).fit(X[:10], np.arange(10) % 2)


@pytest.mark.parametrize("Estimator", [*ESTIMATORS, MLPAutoencoder])
def test_partial_fit_refuses_early_stopping_before_and_after_fit(Estimator, data):
    X, y = data
    small = {"latent_dim": 2} if Estimator is MLPAutoencoder else {}
    est = Estimator(early_stopping=True, max_iter=2, **small)
    classes = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, y, **classes)
    assert not hasattr(est, "net_")
    est.fit(X, y)
    weights = [w.copy() for w in est.coefs_]
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, y)
    assert all(np.array_equal(a, b) for a, b in zip(weights, est.coefs_, strict=True))


@pytest.mark.parametrize("Estimator", [*ESTIMATORS, MLPAutoencoder])
def test_lbfgs_estimators_have_no_partial_fit(Estimator, data):
    X, y = data
    est = Estimator(solver="lbfgs", dropout=0.0)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as error:
        est.partial_fit(X, y)
    assert "solver='lbfgs' is not stochastic" in str(error.value.__cause__)
    assert hasattr(Estimator(), "partial_fit")


def test_warm_start_continues_training(data):
    X, y = data
    clf = MLPClassifier(warm_start=True, max_iter=10, random_state=0).fit(X, y)
    first_curve = list(clf.loss_curve_)
    clf.fit(X, y)
    # as scikit-learn's: n_iter_ counts this call's epochs, loss_curve_ all of them
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 20
    assert clf.loss_curve_[:10] == first_curve
    assert clf.loss_curve_[10] < first_curve[0]


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_a_warm_started_fit_runs_max_iter_epochs_and_n_iter_counts_them(Estimator, data):
    # as scikit-learn's tests of the same (its issues 16812 and 24764)
    X, y = data
    est = Estimator(warm_start=True, max_iter=10, n_iter_no_change=np.inf, random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert est.n_iter_ == 10
    with pytest.warns(ConvergenceWarning):
        est.set_params(max_iter=20).fit(X, y)
    assert est.n_iter_ == 20 and len(est.loss_curve_) == 30


def test_curves_follow_the_history_over_partial_fits_and_warm_starts(data):
    # the curves grow by the epochs of each call; they must still be the history's
    X, y = data
    clf = MLPClassifier(max_iter=3, random_state=0)
    for _ in range(4):
        clf.partial_fit(X, y, classes=[0, 1])
    clf.set_params(warm_start=True, early_stopping=True).fit(X, y)
    clf.set_params(early_stopping=False).fit(X, y)
    clf.set_params(early_stopping=True).fit(X, y)
    history = clf.history_
    assert len(clf.loss_curve_) == len(history) == 4 + 3 * 3 and clf.n_iter_ == 3
    assert clf.loss_curve_ == list(history[:, "train_loss"])
    assert clf.validation_loss_curve_ == list(history[:, "valid_loss"])
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == 6
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)
    assert clf.t_ == 4 * len(X) + 3 * 3 * len(X) - 2 * 3 * round(0.1 * len(X))


def test_warm_started_fit_takes_the_current_training_parameters_and_the_fitted_weights(
        data):
    X, y = data
    clf = MLPClassifier(warm_start=True, max_iter=3, learning_rate="constant",
                        random_state=0).fit(X, y)
    first_curve, weights = list(clf.loss_curve_), _weights(clf)
    shuffles = clf.net_.shuffle_generator_.get_state()
    # as scikit-learn's: a new optimizer from the current solver, rate and alpha
    clf.set_params(solver="sgd", learning_rate_init=1e-30, alpha=0.1, max_iter=1).fit(X, y)
    optimizer = clf.net_.optimizer_
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["lr"] == 1e-30
    assert clf.net_.weight_decay == pytest.approx(0.1 / 200)
    assert clf.n_iter_ == 1 and clf.loss_curve_[:3] == first_curve
    # the step was negligible: the network is the one the first fit left
    for (name, a), b in zip(_weights(clf).items(), weights.values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)
    # the shuffles went on from the first fit's: one more permutation of the rows
    generator = torch.Generator()
    generator.set_state(shuffles)
    torch.randperm(len(X), generator=generator)
    assert torch.equal(clf.net_.shuffle_generator_.get_state(), generator.get_state())
    # partial_fit keeps its optimizer, as scikit-learn's does
    clf.set_params(learning_rate_init=0.5).partial_fit(X, y)
    assert clf.net_.optimizer_ is optimizer and optimizer.param_groups[0]["lr"] == 1e-30


@pytest.mark.parametrize("Estimator, change, message", [
    (MLPClassifier, {"hidden_layer_sizes": (7,)}, r"hidden_layer_sizes \(16,\) -> \(7,\)"),
    (MLPRegressor, {"activation": "tanh"}, "activation 'relu' -> 'tanh'"),
    (MLPAutoencoder, {"latent_dim": 2}, "latent_dim 3 -> 2"),  # "auto": 3 of 6 features
    (MLPClassifier, {"standardize_inputs": False}, "standardize_inputs True -> False"),
])
def test_warm_started_fit_of_another_architecture_is_refused(Estimator, change, message,
                                                             data):
    X, y = data
    estimator = Estimator(hidden_layer_sizes=(16,), warm_start=True, max_iter=2,
                          random_state=0).fit(X, y)
    before = _outputs(estimator, X)
    with pytest.raises(ValueError, match=f"{message}.*warm_start=False"):
        estimator.set_params(**change).fit(X, y)
    np.testing.assert_array_equal(_outputs(estimator, X), before)
    assert estimator.set_params(warm_start=False).fit(X, y).n_iter_ == 2


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPAutoencoder])
def test_a_warm_started_fit_takes_a_new_dropout_rate_on_the_same_weights(Estimator, data):
    # dropout has no weights; a rate of 0 has no layer, which moves the names of the others
    X, y = data
    est = Estimator(hidden_layer_sizes=(16,), dropout=0.2, warm_start=True, max_iter=2,
                    random_state=0).fit(X, y)
    before = est.coefs_
    est.set_params(dropout=0.0, learning_rate_init=1e-30, max_iter=1).fit(X, y)
    assert _dropout_rates(est) == [] and len(est.loss_curve_) == 3
    for fitted, now in zip(before, est.coefs_, strict=True):
        np.testing.assert_array_equal(fitted, now)


def test_a_warm_started_lbfgs_fit_goes_on_from_adam_under_auto_dropout(data):
    X, y = data
    clf = MLPClassifier(warm_start=True, max_iter=2, random_state=0).fit(X, y)
    assert _dropout_rates(clf) == [0.3, 0.3]
    clf.set_params(solver="lbfgs", max_iter=5).fit(X, y)
    assert _dropout_rates(clf) == [] and len(clf.loss_curve_) == 7


@pytest.mark.parametrize("fit", [
    lambda X, y: MLPClassifier(max_iter=1).fit(X, y),
    lambda X, y: MLPRegressor(solver="lbfgs", max_fun=2).fit(X, y),
    lambda X, y: MLPAutoencoder(latent_dim=8, max_iter=200).fit(X),
], ids=["max_iter", "max_fun", "latent_dim"])
def test_warnings_point_at_the_users_call(data, fit):
    X, y = data
    with pytest.warns(UserWarning) as caught:  # ConvergenceWarning is one
        fit(X, y)
    assert {warning.filename for warning in caught} == {__file__}


def test_the_nets_history_reads_and_records_as_skorchs():
    ours, theirs = EpochHistory(), History()
    for history in (ours, theirs):
        with pytest.raises(ValueError, match="new_epoch"):
            history.record("train_loss", 1.0)
        for epoch in range(3):
            history.new_epoch()
            history.record("train_loss", 1.0 / (epoch + 1))
            history.new_batch()
            history.record_batch("train_batch_size", 10)
        history.record("valid_loss", 0.5)
    assert list(ours) == list(theirs)
    for index in (-1, 0, (-1, "train_loss"), (0, "train_loss"), (-1, "batches"),
                  (slice(None), "train_loss"), (-1, "batches", 0, "train_batch_size")):
        assert ours[index] == theirs[index]
    for history in (ours, theirs):
        with pytest.raises(KeyError, match="Key 'valid_loss' was not found in history"):
            history[0, "valid_loss"]


def test_fits_in_threads_are_reproducible_and_restore_torchs_setting(data):
    # torch's generators and thread setting are process-wide: fits in threads
    # of one process take turns with them (they used to draw each other's numbers)
    X, y = data
    threads = torch.get_num_threads()

    def weights(seed):
        return MLPClassifier(max_iter=5, random_state=seed).fit(X, y).coefs_

    alone = [weights(seed) for seed in range(4)]
    together = joblib.Parallel(n_jobs=4, backend="threading")(
        joblib.delayed(weights)(seed) for seed in range(4))
    for ours, theirs in zip(together, alone, strict=True):
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a, b)
    assert torch.get_num_threads() == threads


def test_an_undone_partial_fit_leaves_no_trace_in_later_calls(data):
    X, y = data

    class FailOnce(Callback):
        calls = 0

        def on_epoch_end(self, net, **kwargs):
            FailOnce.calls += 1
            if FailOnce.calls == 3:
                raise RuntimeError("a callback failed")

    clf = MLPClassifier(learning_rate_init=0.05, random_state=0,
                        callbacks=[("fail_once", FailOnce())])
    for _ in range(5):
        try:
            clf.partial_fit(X, y, classes=[0, 1])
        except RuntimeError:
            pass  # the third call is undone: its epoch leaves the history
    losses = clf.history_[:, "train_loss"]
    assert len(losses) == 4
    assert clf.history_[:, "train_loss_best"] == [
        loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]
    # and the calls after the undone one trained as if it had not been made
    unbroken = MLPClassifier(learning_rate_init=0.05, random_state=0)
    for _ in range(4):
        unbroken.partial_fit(X, y, classes=[0, 1])
    for ours, theirs in zip(clf.coefs_, unbroken.coefs_, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_device_auto_and_unavailable_cuda():
    X, y = make_classification(n_samples=40, random_state=0)
    clf = MLPClassifier(device="auto", max_iter=1).fit(X, y)
    assert clf.net_.device == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            MLPClassifier(device="cuda").fit(X, y)
    with pytest.raises(ValueError, match="device='gpu' is not a torch device"):
        MLPClassifier(device="gpu").fit(X, y)
    clf = MLPClassifier(device=torch.device("cpu"), max_iter=1).fit(X, y)
    assert clf.net_.device == "cpu"
    assert clf.predict(X).shape == (40,)
    with pytest.raises(ValueError, match="device='meta' holds no data"):
        MLPClassifier(device="meta").fit(X, y)


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")
def test_unavailable_accelerator_is_named():
    X, y = make_classification(n_samples=40, random_state=0)
    with pytest.raises(ValueError, match="device='mps' is not available in this torch build"):
        MLPClassifier(device="mps").fit(X, y)


# -- refused parameters and failed fits --------------------------------------------


@pytest.mark.parametrize("params, message", [
    ({"activation": "swish"}, "activation"),
    ({"solver": "newton"}, "solver"),
    ({"alpha": -1.0}, "alpha"),
    ({"dropout": 1.0}, "dropout"),
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate": "linear"}, "learning_rate"),
    ({"power_t": -1.0}, "power_t"),
    ({"max_fun": 0}, "max_fun"),
])
def test_invalid_parameters_are_named(data, params, message):
    X, y = data
    with pytest.raises(InvalidParameterError, match=message):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize("params, message", [
    ({"dropout": [0.1, 1.2]}, r"dropout rates must lie in \[0, 1\)"),
    ({"dropout": [0.1, 0.2, 0.3]}, "dropout has 3 rates but there are 2"),
    ({"hidden_layer_sizes": (8, 0)}, "positive integers"),
    ({"hidden_layer_sizes": (8, 5.5)}, "positive integers"),
    ({"hidden_layer_sizes": ("8", 4)}, "positive integers"),
])
def test_invalid_architectures_are_explained(data, params, message):
    X, y = data
    params.setdefault("hidden_layer_sizes", (8, 8))
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_batch_norm_trains_when_one_row_is_left_over_and_explains_single_row_batches(
        Estimator, data):
    X, y = data
    X, y = X[:201], y[:201]  # batches of 200 and 1: the row joins the first batch
    estimator = Estimator(batch_norm=True, max_iter=2, random_state=0).fit(X, y)
    assert estimator.history_[-1, "train_batch_count"] == 1
    with pytest.raises(ValueError, match="batch_norm=True .* hold 1 row"):
        Estimator(batch_norm=True, batch_size=1).fit(X, y)
    classes = {"classes": [0, 1]} if Estimator is MLPClassifier else {}
    with pytest.raises(ValueError, match="batch_norm=True .* hold 1 row"):
        Estimator(batch_norm=True).partial_fit(X[:1], y[:1], **classes)


def _outputs(estimator, X):
    return (estimator.score_samples(X) if isinstance(estimator, MLPAutoencoder)
            else estimator.predict(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_refit_that_fails_leaves_the_fitted_model_as_it_was(Estimator, data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"sensor{i}" for i in range(X.shape[1])])
    estimator = Estimator(max_iter=5, random_state=0).fit(frame, y)
    before, attributes = _outputs(estimator, frame), dict(vars(estimator))
    # scikit-learn's validation resets the feature names before it finds the NaN
    bad = frame.rename(columns=str.upper)
    bad.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimator.fit(bad, y)
    estimator.set_params(solver="sgd", learning_rate_init=1e30)
    with pytest.raises(FloatingPointError, match="diverged"):
        estimator.fit(frame * 1e10, y)
    assert vars(estimator).keys() == attributes.keys()
    assert all(vars(estimator)[name] is value for name, value in attributes.items()
               if name not in ("solver", "learning_rate_init"))
    np.testing.assert_array_equal(_outputs(estimator, frame), before)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_first_fit_that_fails_leaves_the_estimator_unfitted(Estimator, data):
    X, y = data
    X = X.copy()
    X[0, 0] = np.inf
    estimator = Estimator()
    with pytest.raises(ValueError, match="infinity"):
        estimator.fit(X, y)
    assert not hasattr(estimator, "n_features_in_")
    with pytest.raises(NotFittedError):
        _outputs(estimator, X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_warm_started_fit_that_diverges_keeps_the_weights_before_it(Estimator, method,
                                                                      data):
    X, y = data
    estimator = Estimator(solver="sgd", learning_rate_init=0.01, max_iter=5,
                          warm_start=True, random_state=0).fit(X, y)
    before, weights = _outputs(estimator, X), _weights(estimator)
    optimizer_state = copy.deepcopy(estimator.net_.optimizer_.state_dict())
    curve = list(estimator.loss_curve_)
    with pytest.raises(FloatingPointError, match="diverged"):
        getattr(estimator, method)(X * 1e20, y)
    for (name, a), b in zip(_weights(estimator).items(), weights.values(), strict=True):
        assert torch.equal(a, b), name
    assert (str(estimator.net_.optimizer_.state_dict()) == str(optimizer_state))
    assert estimator.n_iter_ == len(estimator.net_.history) == 5
    assert estimator.loss_curve_ == curve
    np.testing.assert_array_equal(_outputs(estimator, X), before)
    estimator.fit(X, y)  # and training goes on from there
    assert len(estimator.loss_curve_) == 10 and np.isfinite(estimator.loss_curve_).all()


# -- fitted weights and sparse features -------------------------------------------

def test_weights_are_exposed_like_scikit_learns(data):
    X, _ = data
    # columns in other units: coefs_[0] and intercepts_[0] take the input as
    # given, the network's standardisation folded into them
    X = X * np.array([1, 10, 100, 0.01, 0.1, 1]) + 5
    y = np.arange(len(X)) % 3
    clf = MLPClassifier(hidden_layer_sizes=(5, 4), max_iter=3, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(6, 5), (5, 4), (4, 3)]
    assert [b.shape for b in clf.intercepts_] == [(5,), (4,), (3,)]
    assert clf.n_layers_ == 4
    assert clf.loss_ == clf.loss_curve_[-1]
    # scikit-learn's forward pass over coefs_ and intercepts_ gives the model's
    hidden = X.astype(np.float32)
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
        hidden = np.maximum(hidden @ W + b, 0)
    logits = hidden @ clf.coefs_[-1] + clf.intercepts_[-1]
    # (to float32 rounding of the folded weights)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(logits, axis=1), atol=5e-5)
    clf.coefs_[0][:] = 0  # copies: the network keeps its weights
    assert np.abs(clf.coefs_[0]).sum() > 0


# -- input standardisation ---------------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_predictions_do_not_depend_on_the_units_of_the_features(Estimator, data):
    X, y = data
    units = np.array([1e-3, 1, 50, 1e4, 3e5, 1e6])
    params = dict(max_iter=5, random_state=0)
    as_is = Estimator(**params).fit(X, y)
    in_units = Estimator(**params).fit(X * units + 7 * units, y)
    np.testing.assert_allclose(in_units.predict(X * units + 7 * units), as_is.predict(X),
                               atol=1e-3)
    # without it, the large columns swamp the others (scikit-learn's behaviour)
    raw = Estimator(standardize_inputs=False, **params).fit(X * units + 7 * units, y)
    assert not np.allclose(raw.predict(X * units + 7 * units), as_is.predict(X), atol=1e-3)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_standardised_input_trains_exactly_as_without_the_standardisation(Estimator, data):
    # the statistics of a StandardScaler's output are 0 and 1 to float32: the
    # network's step then changes no value, and the fit is the same to the bit
    X, y = data
    fits = [Estimator(max_iter=5, random_state=0, standardize_inputs=flag).fit(X, y)
            for flag in (True, False)]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("block_values", [2 ** 20, 7], ids=["one_block", "blocks_of_a_row"])
def test_indicator_columns_are_not_standardised(Estimator, data, block_values, monkeypatch):
    monkeypatch.setattr("skmlp._base._STATISTICS_BLOCK_VALUES", block_values)
    X, y = data
    flags = (np.arange(len(X)) % 50 == 0).astype(float)  # a rare category
    X = np.column_stack([X * 10 + 1, flags])
    model = Estimator(max_iter=1, random_state=0).fit(X, y)
    standardized = model.net_.module_.standardizer(torch.as_tensor(X, dtype=torch.float32))
    np.testing.assert_array_equal(standardized[:, -1], flags)
    numbers = X[:, :-1]
    np.testing.assert_allclose(standardized[:, :-1],
                               (numbers - numbers.mean(axis=0)) / numbers.std(axis=0),
                               atol=1e-4)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("block_values", [2 ** 20, 7], ids=["one_block", "blocks_of_a_row"])
def test_input_statistics_are_sample_weighted_and_kept_by_a_warm_start(Estimator, data,
                                                                        block_values,
                                                                        monkeypatch):
    monkeypatch.setattr("skmlp._base._STATISTICS_BLOCK_VALUES", block_values)
    X, y = data
    X = X * 100 + 3
    weight = np.where(np.arange(len(X)) % 4 == 0, 0.0, 2.0)
    model = Estimator(max_iter=2, warm_start=True, random_state=0).fit(X, y, weight)
    kept = X[weight > 0]
    standardized = (kept - kept.mean(axis=0)) / kept.std(axis=0)
    standardizer = model.net_.module_.standardizer
    np.testing.assert_allclose(standardizer(torch.as_tensor(kept, dtype=torch.float32)),
                               standardized, atol=1e-4)
    model.fit(X * 10, y)  # goes on training the same network, on the same scale
    np.testing.assert_allclose(
        model.net_.module_.standardizer(torch.as_tensor(kept, dtype=torch.float32)),
        standardized, atol=1e-4)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_network_partial_fit_starts_takes_the_input_as_given(Estimator, data):
    X, y = data
    model = Estimator(random_state=0).partial_fit(X * 100 + 3, y, **(
        {"classes": np.unique(y)} if Estimator is MLPClassifier else {}))
    standardizer = model.net_.module_.standardizer
    assert not standardizer.offset.any() and standardizer.factor.eq(1).all()


@pytest.mark.parametrize("name", ["coefs_", "intercepts_", "n_layers_"])
def test_weights_of_an_unfitted_model_raise_not_fitted(name):
    with pytest.raises(NotFittedError):
        attrgetter(name)(MLPClassifier())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("network", [
    dict(), dict(batch_norm=True, activation="gelu", l1=1e-3)],
    ids=["plain", "batch_norm_gelu_l1"])
@pytest.mark.parametrize("density", [0.02, 0.2], ids=["sparse_batches", "dense_batches"])
def test_sparse_features_train_and_predict_as_their_dense_copy(Estimator, fmt, network,
                                                               density):
    X = sparse.random(120, 100, density=density, format=fmt, random_state=0)
    y = (X @ np.linspace(-1, 1, 100) > 0).astype(int)
    # sparse input is used as given (not standardised): so is its dense copy here
    params = dict(hidden_layer_sizes=(8,), max_iter=4, early_stopping=True,
                  n_iter_no_change=4, random_state=0, standardize_inputs=False, **network)
    from_sparse = Estimator(**params).fit(X, y)
    from_dense = Estimator(**params).fit(X.toarray(), y)
    np.testing.assert_allclose(from_sparse.loss_curve_, from_dense.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(from_sparse.coefs_[0], from_dense.coefs_[0], atol=1e-5)
    predict = getattr(from_sparse, "predict_proba", from_sparse.predict)
    np.testing.assert_allclose(predict(X), predict(X.toarray()), atol=1e-5)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("density", [0.02, 0.2], ids=["sparse_batches", "dense_batches"])
def test_a_network_standardised_on_dense_features_predicts_sparse_ones_as_dense(Estimator,
                                                                               density):
    X = sparse.random(120, 100, density=density, format="csr", random_state=0)
    y = (X @ np.linspace(-1, 1, 100) > 0).astype(int)
    model = Estimator(hidden_layer_sizes=(8,), max_iter=4, random_state=0).fit(X.toarray(), y)
    predict = getattr(model, "predict_proba", model.predict)
    np.testing.assert_allclose(predict(X), predict(X.toarray()), atol=1e-5)


def test_the_autoencoder_says_it_needs_dense_features():
    with pytest.raises(TypeError, match="dense data is required"):
        MLPAutoencoder(max_iter=1).fit(sparse.random(20, 4, density=0.5, format="csr"))
