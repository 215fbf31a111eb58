"""Behaviour every skmlp estimator shares: parameters, training, state, bad input."""

import copy
import pickle
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
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EpochScoring,
    LRScheduler,
    TrainEndCheckpoint,
)
from skorch.history import History
from torch.optim import lr_scheduler

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp._net import EpochHistory
from skmlp._runtime import seeded
from skmlp.datasets import load_predictive_maintenance
from skmlp.modules import ACTIVATIONS, MLP, Dropout

ESTIMATORS = [MLPClassifier, MLPRegressor]

#: scikit-learn's default network, for tests of one mechanism that the
#: classifier's regularised defaults (dropout, cosine schedule) would blur.
SKLEARN_NETWORK = dict(hidden_layer_sizes=(100,), dropout=0.0, learning_rate="constant")


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=240, n_features=6, n_informative=4,
                               n_classes=2, random_state=0)
    return StandardScaler().fit_transform(X), y


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


@pytest.mark.parametrize("Estimator, method", [
    (MLPClassifier, "predict_proba"), (MLPClassifier, "decision_function"),
    (MLPRegressor, "predict"), (MLPAutoencoder, "score_samples"), (MLPAutoencoder, "transform"),
])
def test_a_row_gets_the_same_output_alone_as_in_a_batch_to_float32_precision(
        Estimator, method, data):
    # scikit-learn's check_methods_subset_invariance asks for float64's 1e-7
    # (waived in test_common): a float32 product of one row and of many sums in
    # different orders
    X, y = data
    params = {"latent_dim": 2} if Estimator is MLPAutoencoder else {}
    est = Estimator(hidden_layer_sizes=(64, 64), batch_norm=True, max_iter=5,
                    random_state=0, **params).fit(X, y)
    whole = getattr(est, method)(X)
    rows = np.concatenate([getattr(est, method)(X[[i]]) for i in range(len(X))])
    subset = getattr(est, method)(X[::3])
    np.testing.assert_allclose(rows, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(subset, whole[::3], rtol=1e-5, atol=1e-6)


# -- architecture and training options ------------------------------------------

@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_trains(activation, data):
    X, y = data
    clf = MLPClassifier(activation=activation, max_iter=30, random_state=0).fit(X, y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    expected = ACTIVATIONS[activation]
    assert any(isinstance(m, expected) for m in clf.net_.module_.modules())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_in_place_activations_give_the_gradients_of_out_of_place_ones(activation,
                                                                      batch_norm):
    torch.manual_seed(0)
    net = MLP(5, 3, (8, 8), activation, (0.0, 0.0), batch_norm)
    reference = copy.deepcopy(net)
    for layer in reference.modules():
        if hasattr(layer, "inplace"):
            layer.inplace = False
    X = torch.randn(16, 5)
    for module in (net, reference):
        module(X).square().sum().backward()
    for param, expected in zip(net.parameters(), reference.parameters(), strict=True):
        # ELU and SELU differentiate from their output in place: rounding apart
        torch.testing.assert_close(param.grad, expected.grad)


def test_dropout_and_batch_norm_build_the_blocks_asked_for(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8, 8, 8), dropout=[0.1, 0.0, 0.3],
                        batch_norm=True, max_iter=1).fit(X, y)
    kinds = [type(m).__name__ for m in clf.net_.module_.layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout",
                     "Linear", "BatchNorm1d", "ReLU",
                     "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    rates = [m.p for m in clf.net_.module_.layers if isinstance(m, torch.nn.Dropout)]
    assert rates == [0.1, 0.3]


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_classifier_starts_from_scikit_learns_initialisation(activation, factor, data):
    X, y = data
    # one epoch at a negligible step size leaves the initial weights in place
    clf = MLPClassifier(hidden_layer_sizes=(300,), activation=activation,
                        learning_rate_init=1e-12, max_iter=1, random_state=0).fit(X, y)
    first, output = [m for m in clf.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
    for layer in (first, output):
        bound = np.sqrt(factor / (layer.in_features + layer.out_features))
        assert layer.bias.abs().max() <= bound
        # at least 300 uniform draws: the largest comes within 5% of the bound
        assert 0.95 * bound < layer.weight.abs().max() <= bound


def test_regressor_and_modules_keep_torchs_initialisation():
    torch.manual_seed(0)
    layer = MLP(6, 1, (300,), "relu", (0.0,), False).layers[0]
    bound = 1 / np.sqrt(layer.in_features)  # torch's U(+-1/sqrt(fan_in))
    assert 0.95 * bound < layer.weight.abs().max() <= bound


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_cpu_dropout_drops_a_share_p_keeps_the_mean_and_is_identity_in_eval(p):
    layer = Dropout(p)
    x = torch.full((400, 500), 2.0, requires_grad=True)
    with seeded(0, "cpu"):
        out = layer(x)
    dropped = (out == 0).float().mean().item()
    assert dropped == pytest.approx(p, abs=0.005)
    assert out.mean().item() == pytest.approx(2.0, rel=0.02)
    assert torch.unique(out).tolist() == pytest.approx([0.0, 2.0 / (1 - p)])
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() / (1 - p))
    layer.eval()
    assert layer(x) is x


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


def test_lbfgs_stops_when_its_loss_evaluations_are_spent(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="max_fun=20 loss evaluations"):
        clf = MLPClassifier(**SKLEARN_NETWORK, solver="lbfgs", max_fun=20,
                            random_state=0).fit(X, y)
    evaluations = clf.net_.optimizer_.state_dict()["state"][0]["func_evals"]
    assert 20 <= evaluations < 20 + 27 and clf.n_iter_ < 20


def test_invscaling_is_scikit_learns_rate_after_each_epoch_with_sgd(data):
    X, y = data
    clf = MLPClassifier(**{**SKLEARN_NETWORK, "learning_rate": "invscaling"}, solver="sgd",
                        learning_rate_init=0.1, power_t=0.25, max_iter=7,
                        n_iter_no_change=100, random_state=0).fit(X, y)
    # scikit-learn: learning_rate_init / (t + 1) ** power_t, t the rows seen so far
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(
        0.1 / (7 * len(X) + 1) ** 0.25)


def test_adaptive_divides_the_rate_by_5_where_it_would_stop_until_it_is_tiny(data):
    X, y = data
    # tol=10: no epoch after the first improves, so the test fails every patience epochs
    clf = MLPClassifier(**{**SKLEARN_NETWORK, "learning_rate": "adaptive"}, solver="sgd",
                        learning_rate_init=0.1, tol=10.0, n_iter_no_change=2, max_iter=100,
                        random_state=0).fit(X, y)
    divisions = 8  # 0.1 / 5**8 = 2.6e-7 is the first rate at most 1e-6
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.1 / 5**divisions)
    assert clf.n_iter_ == 1 + 2 * (divisions + 1)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_scikit_learns_sgd_schedules_leave_other_solvers_at_a_constant_rate(learning_rate,
                                                                           data):
    X, y = data
    clf = MLPClassifier(**{**SKLEARN_NETWORK, "learning_rate": learning_rate},
                        learning_rate_init=0.01, tol=10.0, n_iter_no_change=2, max_iter=10,
                        random_state=0).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.01
    assert clf.n_iter_ == 3  # the plain stopping test


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
    ("auto", 2), ("full", 1), (1, 240), (100, 3)])
def test_batch_size_options(batch_size, batches_per_epoch, data):
    X, y = data
    clf = MLPClassifier(batch_size=batch_size, max_iter=2, random_state=0).fit(X, y)
    assert clf.history_[-1, "train_batch_count"] == batches_per_epoch


@pytest.mark.parametrize("schedule, epoch_10_factor", [
    ("step", 0.5), ("exponential", 0.5), ("cosine", None), ("plateau", None)])
def test_learning_rate_schedules_change_the_rate(schedule, epoch_10_factor, data):
    X, y = data
    clf = MLPClassifier(learning_rate=schedule, learning_rate_init=0.01, lr_patience=0,
                        tol=10.0, n_iter_no_change=100, max_iter=12,
                        random_state=0).fit(X, y)
    rates = clf.history_[:, "event_lr"]
    assert rates[0] == pytest.approx(0.01)
    assert rates[-1] < 0.01
    if epoch_10_factor is not None:
        assert rates[10] == pytest.approx(0.01 * epoch_10_factor)


@pytest.mark.parametrize("Estimator", [MLPRegressor, MLPAutoencoder])
def test_early_stopping_needs_two_validation_samples(Estimator, data):
    # as scikit-learn's MLP: ten rows leave one for validation, which cannot be scored
    X, y = data
    X, y = X[:10], y[:10]  # (the autoencoder ignores y)
    small = {"latent_dim": 2} if Estimator is MLPAutoencoder else {}
    with pytest.raises(ValueError, match="that is 1 of 10 samples, too few to score"):
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


def test_early_stopping_restores_the_best_epoch(data):
    X, y = data

    class Snapshots(Callback):
        def initialize(self):
            self.weights = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.weights.append({k: v.clone() for k, v in net.module_.state_dict().items()})

    snapshots = Snapshots()
    clf = MLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, n_iter_no_change=3,
                        learning_rate_init=0.05, max_iter=200, random_state=0,
                        callbacks=[("snapshots", snapshots)]).fit(X, y)
    assert clf.n_iter_ < 200
    best = int(np.argmin(clf.validation_loss_curve_))
    assert best < clf.n_iter_ - 1
    assert clf.best_validation_loss_ == min(clf.validation_loss_curve_)
    assert clf.best_loss_ is None
    for name, tensor in clf.net_.module_.state_dict().items():
        assert torch.equal(tensor, snapshots.weights[best][name]), name


def test_training_stops_when_the_training_loss_stalls(data):
    X, y = data
    clf = MLPClassifier(tol=1.0, n_iter_no_change=2, max_iter=100).fit(X, y)
    assert clf.n_iter_ == 3
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_warm_start_continues_training(data):
    X, y = data
    clf = MLPClassifier(warm_start=True, max_iter=10, random_state=0).fit(X, y)
    first_curve = list(clf.loss_curve_)
    clf.fit(X, y)
    assert clf.n_iter_ == 20
    assert clf.loss_curve_[:10] == first_curve
    assert clf.loss_curve_[10] < first_curve[0]


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
    assert clf.n_iter_ == len(history) == 4 + 3 * 3
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
    assert clf.n_iter_ == 4 and clf.loss_curve_[:3] == first_curve
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


def test_epoch_level_callbacks_keep_batch_hooks_off_and_batch_callbacks_get_them(data):
    X, y = data

    class CountBatches(Callback):
        def initialize(self):
            self.count = 0
            return self

        def on_batch_end(self, net, **kwargs):
            self.count += 1

    counter = CountBatches()
    clf = MLPClassifier(max_iter=3, callbacks=[("count", counter)]).fit(X, y)
    assert clf.net_.batch_hooks_ and counter.count == 3 * 2
    batches = clf.history_[-1, "batches"]
    assert len(batches) == 2
    # the epoch's loss is the mean over rows: batch losses weighted by batch size
    sizes = [batch["train_batch_size"] for batch in batches]
    losses = [batch["train_loss"] for batch in batches]
    assert sizes == [200, 40]
    assert clf.history_[-1, "train_loss"] == pytest.approx(np.average(losses, weights=sizes))
    plain = MLPClassifier(max_iter=3).fit(X, y)
    assert not plain.net_.batch_hooks_


def test_skorch_checkpoints_save_the_best_epoch_as_in_skorch(data, tmp_path):
    X, y = data
    best = Checkpoint(dirname=tmp_path / "best")  # monitors valid_loss_best
    end = TrainEndCheckpoint(dirname=tmp_path / "end")
    clf = MLPClassifier(max_iter=6, early_stopping=True, random_state=0,
                        callbacks=[("best", best), ("end", end)]).fit(X, y)
    valid = clf.history_[:, "valid_loss"]
    flags = clf.history_[:, "valid_loss_best"]
    assert flags == [loss < min(valid[:i], default=np.inf) for i, loss in enumerate(valid)]
    assert clf.history_[:, "event_cp"] == flags
    assert (tmp_path / "best" / "params.pt").exists()
    assert (tmp_path / "end" / "train_end_params.pt").exists()
    saved = torch.load(tmp_path / "best" / "params.pt")
    # restored best epoch (early_stopping) == the last one the checkpoint saved
    for name, tensor in clf.net_.module_.state_dict().items():
        torch.testing.assert_close(saved[name], tensor)
    assert clf.history_[:, "train_loss_best"][0] is True


def test_train_loss_best_carries_on_over_warm_started_fits(data):
    X, y = data
    clf = MLPClassifier(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    clf.fit(X, y)
    losses = clf.history_[:, "train_loss"]
    assert clf.history_[:, "train_loss_best"] == [
        loss < min(losses[:i], default=np.inf) for i, loss in enumerate(losses)]


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


@pytest.mark.parametrize("Scoring", [EpochScoring, BatchScoring])
def test_skorch_scoring_callbacks_are_refused_with_the_alternatives(data, Scoring):
    X, y = data
    clf = MLPClassifier(max_iter=2, callbacks=[("acc", Scoring("accuracy"))])
    with pytest.raises(ValueError, match=f"{Scoring.__name__} is not supported.*"
                                         "validation_scores_.*history.record"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize("every, batch_hooks", [("epoch", False), ("batch", True)])
def test_learning_rate_scheduler_needs_batch_hooks_only_when_stepping_per_batch(
        every, batch_hooks, data):
    X, y = data
    scheduler = LRScheduler(lr_scheduler.StepLR, step_size=1, step_every=every)
    clf = MLPClassifier(learning_rate="constant", max_iter=2,
                        callbacks=[("lr_scheduler", scheduler)]).fit(X, y)
    assert clf.net_.batch_hooks_ is batch_hooks
    # StepLR (gamma=0.1) divides the rate by 10 at every step: once per epoch,
    # or once per batch (two batches an epoch here)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(
        1e-3 * 0.1 ** (2 if every == "epoch" else 4))


def test_cosine_schedule_restarts_for_each_warm_started_fit(data):
    X, y = data
    clf = MLPClassifier(learning_rate="cosine", max_iter=4, tol=0.0, warm_start=True,
                        random_state=0)
    first = list(clf.fit(X, y).history_[:, "event_lr"])
    rates = list(clf.fit(X, y).history_[:, "event_lr"])
    assert first == pytest.approx([1e-3, 1e-3 * (1 + np.cos(np.pi / 4)) / 2, 5e-4,
                                   1e-3 * (1 + np.cos(3 * np.pi / 4)) / 2])
    assert rates == pytest.approx(first + first)


def test_verbose_shows_a_progress_bar_with_losses(data, capsys):
    X, y = data
    MLPClassifier(verbose=1, early_stopping=True, max_iter=4).fit(X, y)
    err = capsys.readouterr().err
    assert "4/4" in err and "train_loss" in err and "valid_loss" in err
    MLPClassifier(verbose=0, max_iter=4).fit(X, y)
    assert capsys.readouterr().err == ""
    MLPClassifier(verbose=1, max_iter=50).partial_fit(X, y, classes=[0, 1])
    assert "1/1" in capsys.readouterr().err


def test_dataframes_and_column_transformer_output_work():
    X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    X, y = X.iloc[:500], y.iloc[:500]
    pipe = make_pipeline(
        ColumnTransformer([("type", OneHotEncoder(), ["Type"])], remainder=StandardScaler()),
        MLPClassifier(max_iter=3, random_state=0))
    assert pipe.fit(X, y).predict(X).shape == (500,)
    numeric = X.drop(columns="Type")
    clf = MLPClassifier(max_iter=3, random_state=0).fit(numeric, y)
    np.testing.assert_array_equal(clf.feature_names_in_, numeric.columns)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_numpy = clf.predict(numeric.to_numpy())
    np.testing.assert_array_equal(clf.predict(numeric), from_numpy)
    clf32 = MLPClassifier(max_iter=3, random_state=0).fit(numeric.astype(np.float32), y)
    assert clf32.predict(numeric).shape == (500,)


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


# -- bad input ---------------------------------------------------------------------

@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad, message", [
    (np.nan, "Input X contains NaN"),
    (np.inf, "Input X contains infinity"),
])
def test_non_finite_features_are_rejected(Estimator, data, bad, message):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match=message):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("as_input", [np.asarray, sparse.csr_matrix])
def test_features_beyond_float32_are_rejected_at_fit_and_predict(Estimator, data, as_input):
    # finite in float64, infinite in the float32 the network computes in
    X, y = data
    huge = X.copy()
    huge[3, 2] = -1e39
    message = "too large for float32.*StandardScaler"
    with pytest.raises(ValueError, match=message):
        Estimator(max_iter=1).fit(as_input(huge), y)
    est = Estimator(max_iter=1).fit(X, y)
    for rows in (huge, huge[3:4]):  # a single row takes the unchecked fast path
        with pytest.raises(ValueError, match=message):
            est.predict(as_input(rows))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_sample_weights_beyond_float32_are_rejected(Estimator, data):
    # the fit reported a diverged training and blamed the learning rate
    X, y = data
    weight = np.ones(len(X))
    weight[5] = 1e39
    with pytest.raises(ValueError, match="sample_weight reaches 1e\\+39, beyond float32"):
        Estimator(max_iter=1).fit(X, y, sample_weight=weight)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_non_finite_targets_are_rejected(Estimator, data):
    X, y = data
    y = y.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        Estimator().fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("shape, message", [((0, 3), "0 sample"), ((5, 0), "0 feature")])
def test_empty_inputs_are_rejected(Estimator, shape, message):
    with pytest.raises(ValueError, match=message):
        Estimator().fit(np.zeros(shape), np.arange(shape[0]) % 2)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_feature_count_mismatch_at_predict(Estimator, data):
    X, y = data
    est = Estimator(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but .* is expecting 6"):
        est.predict(X[:, :5])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("bad, error, message", [
    (np.nan, ValueError, "Input X contains NaN"),
    (np.inf, ValueError, "Input X contains infinity"),
    (np.float32(3e38), None, None),  # finite, though its sum overflows: predicted
])
def test_prediction_checks_every_row_as_scikit_learn_does(Estimator, data, bad, error,
                                                          message):
    X, y = data
    est = Estimator(max_iter=1).fit(X, y)
    X_new = X[:4].astype(np.float32)
    X_new[[1, 2], 0] = bad
    if error is None:
        assert est.predict(X_new).shape == (4,)
    else:
        with pytest.raises(error, match=message):
            est.predict(X_new)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("as_input", [
    lambda X: X.astype(np.float32), lambda X: np.asfortranarray(X), lambda X: X.tolist(),
    lambda X: X.astype(np.int64), lambda X: pd.DataFrame(X),
])
def test_prediction_is_the_same_with_or_without_the_fast_input_path(Estimator, data,
                                                                    as_input):
    X, y = data
    est = Estimator(max_iter=2).fit(X, y)
    X_new = np.round(X[:50])  # integers, so that every input form holds the same values
    expected = est.predict(np.array(X_new, dtype=np.float64))
    np.testing.assert_array_equal(est.predict(as_input(X_new)), expected)


def test_fitted_with_feature_names_warns_for_an_unnamed_array(data):
    X, y = data
    est = MLPRegressor(max_iter=1).fit(pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X[:3])


@pytest.mark.parametrize("dtype", [object, "category", "string"])
def test_text_columns_point_to_column_transformer(dtype):
    # object text fails inside scikit-learn's validation; categories and
    # pandas strings pass it as an object array and fail in the float cast
    colour = pd.Series(["red", "blue", "red", "b"], dtype=dtype)
    X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "colour": colour})
    with pytest.raises(ValueError, match=r"\['colour'\].*ColumnTransformer"):
        MLPClassifier().fit(X, [0, 1, 0, 1])
    clf = MLPClassifier(max_iter=1).fit(X[["size"]].assign(colour=1.0), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"\['colour'\].*ColumnTransformer"):
        clf.predict(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("column", [pd.date_range("2024-01-01", periods=4, tz="UTC"),
                                    pd.to_timedelta([1, 2, 3, 4], unit="s")])
def test_date_and_duration_columns_are_named_with_advice(Estimator, column):
    # numpy fails to promote them to float with a TypeError of its own
    X = pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0], "when": column})
    with pytest.raises(ValueError, match=r"\{'when': .*Turn the dates or durations \['when'\]"):
        Estimator().fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_strings_are_rejected_as_scikit_learn_rejects_them(Estimator, data):
    # scikit-learn's MLP refuses an array of strings even when they spell
    # numbers, rather than parsing them; so does skmlp, at fit and predict.
    X, y = data
    with pytest.raises(ValueError, match="not compatible with arrays of bytes/strings"):
        Estimator(max_iter=1).fit(X.astype(str), y)
    est = Estimator(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="not compatible with arrays of bytes/strings"):
        est.predict(X[:3].astype(str))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_integer_boolean_and_object_features_train_as_their_float_values(Estimator, data):
    X, y = data
    est = Estimator(max_iter=1, random_state=0)
    for as_input in (lambda X: X > 0, lambda X: (X > 0).astype(np.int8),
                     lambda X: (X > 0).astype(object)):
        expected = est.fit((X > 0).astype(np.float64), y).predict(X[:20] > 0)
        np.testing.assert_array_equal(est.fit(as_input(X), y).predict(X[:20] > 0), expected)


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


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_diverging_training_stops_with_the_epoch_and_a_hint(Estimator, data):
    X, y = data
    with pytest.raises(FloatingPointError, match="diverged at epoch 1.*learning_rate_init"):
        Estimator(solver="sgd", learning_rate_init=1e30, max_iter=5).fit(X * 1e10, y)


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
    assert estimator.n_iter_ == 10 and np.isfinite(estimator.loss_curve_).all()


def test_weights_are_exposed_like_scikit_learns(data):
    X, _ = data
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
    np.testing.assert_allclose(clf.predict_proba(X), softmax(logits, axis=1), atol=1e-5)
    clf.coefs_[0][:] = 0  # copies: the network keeps its weights
    assert np.abs(clf.coefs_[0]).sum() > 0


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
    params = dict(hidden_layer_sizes=(8,), max_iter=4, early_stopping=True,
                  n_iter_no_change=4, random_state=0, **network)
    from_sparse = Estimator(**params).fit(X, y)
    from_dense = Estimator(**params).fit(X.toarray(), y)
    np.testing.assert_allclose(from_sparse.loss_curve_, from_dense.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(from_sparse.coefs_[0], from_dense.coefs_[0], atol=1e-5)
    predict = getattr(from_sparse, "predict_proba", from_sparse.predict)
    np.testing.assert_allclose(predict(X), predict(X.toarray()), atol=1e-5)


def test_the_autoencoder_says_it_needs_dense_features():
    with pytest.raises(TypeError, match="dense data is required"):
        MLPAutoencoder(max_iter=1).fit(sparse.random(20, 4, density=0.5, format="csr"))


@pytest.mark.parametrize("Estimator, score", [(MLPClassifier, "accuracy"),
                                              (MLPRegressor, "r2")])
def test_validation_scores_are_scikit_learns_on_the_held_out_rows(Estimator, score, data):
    X, y = data
    est = Estimator(early_stopping=True, max_iter=8, random_state=0).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    # the held-out rows, drawn as the estimator draws them
    stratify = y if Estimator is MLPClassifier else None
    _, held_out = train_test_split(np.arange(len(X)), test_size=est.validation_fraction,
                                   random_state=est._seed, stratify=stratify)
    assert est.validation_loss_curve_[-1] == est.best_validation_loss_  # last weights kept
    expected = get_scorer(score)(est, X[held_out], y[held_out])
    assert est.validation_scores_[-1] == pytest.approx(expected, rel=1e-5)
    assert Estimator(max_iter=2).fit(X, y).validation_scores_ is None
