"""Training behaviour composed from callbacks: schedules, early stopping, checkpoints, progress."""

import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EpochScoring,
    GradientNormClipping,
    LRScheduler,
    TrainEndCheckpoint,
)
from torch.optim import lr_scheduler

from skmlp import MLPClassifier, MLPRegressor

ESTIMATORS = [MLPClassifier, MLPRegressor]

#: scikit-learn's default network, for tests of one mechanism that the
#: classifier's wider, dropout-regularised defaults would blur.
SKLEARN_NETWORK = dict(hidden_layer_sizes=(100,), dropout=0.0)


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


def test_the_epoch_that_stops_training_has_its_score_and_step_of_the_bar(data):
    # they were recorded after the stopping test, whose raising skipped them
    X, y = data
    clf = MLPClassifier(early_stopping=True, n_iter_no_change=2, max_iter=200, verbose=1,
                        random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert dict(clf.net_.callbacks_)["progress_bar"].bar_.n == clf.n_iter_


@pytest.mark.parametrize("early_stopping", [False, True])
def test_n_iter_no_change_inf_never_stops_before_max_iter(data, early_stopping):
    # scikit-learn's way to train max_iter epochs whatever the loss does
    X, y = data
    settings = dict(tol=1e9, n_iter_no_change=np.inf, early_stopping=early_stopping,
                    random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf = MLPClassifier(max_iter=15, **settings).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 15
    if early_stopping:  # only the first epoch improved by tol: its weights come back
        with pytest.warns(ConvergenceWarning):
            first = MLPClassifier(max_iter=1, **settings).fit(X, y)
        np.testing.assert_array_equal(clf.predict_proba(X), first.predict_proba(X))


def test_training_stops_when_the_training_loss_stalls(data):
    X, y = data
    clf = MLPClassifier(tol=1.0, n_iter_no_change=2, max_iter=100).fit(X, y)
    assert clf.n_iter_ == 3
    assert clf.best_loss_ == min(clf.loss_curve_)


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


@pytest.mark.parametrize("Scoring", [EpochScoring, BatchScoring])
def test_skorch_scoring_callbacks_are_refused_with_the_alternatives(data, Scoring):
    X, y = data
    clf = MLPClassifier(max_iter=2, callbacks=[("acc", Scoring("accuracy"))])
    with pytest.raises(ValueError, match=f"{Scoring.__name__} is not supported.*"
                                         "validation_scores_.*history.record"):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


@pytest.mark.parametrize("callback", [42, ("clip", "GradientNormClipping")])
def test_callbacks_that_are_not_skorch_callbacks_are_refused_by_name(data, callback):
    X, y = data
    clf = MLPClassifier(max_iter=2, callbacks=[callback])
    with pytest.raises(TypeError, match=re.escape(f"holds skorch callbacks (instances or "
                                                  f"classes, or (name, callback) pairs), but "
                                                  f"got {callback!r}")):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")
    classes_too = MLPClassifier(max_iter=2, callbacks=[("clip", GradientNormClipping)])
    assert classes_too.fit(X, y).n_iter_ == 2


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


def test_verbose_2_prints_scikit_learns_lines_instead_of_the_bar(data, capsys):
    X, y = data
    clf = MLPClassifier(verbose=2, early_stopping=True, max_iter=4, random_state=0).fit(X, y)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0::2] == [f"Iteration {epoch}, loss = {loss:.8f}"
                           for epoch, loss in enumerate(clf.loss_curve_, start=1)]
    assert lines[1::2] == [f"Validation score: {score:f}" for score in clf.validation_scores_]
    assert "epoch/s" not in err  # no bar
    MLPClassifier(verbose=1, max_iter=4).fit(X, y)
    assert capsys.readouterr().out == ""  # the bar writes to standard error


def test_the_progress_bar_shows_each_epochs_losses_beside_its_count(data, capsys):
    X, y = data
    fitted = MLPClassifier(verbose=1, max_iter=4, random_state=0).fit(X, y)
    # each redraw of the bar starts with a carriage return
    drawn = [re.search(r"(\d+)/4 .*train_loss=([\d.]+)", line)
             for line in capsys.readouterr().err.split("\r")]
    drawn = [match.groups() for match in drawn if match]
    assert drawn
    for count, loss in drawn:
        assert int(count) >= 1
        assert float(loss) == pytest.approx(fitted.loss_curve_[int(count) - 1], abs=1e-4)


def test_an_estimator_fitted_with_a_progress_bar_pickles_without_it(data, capsys):
    X, y = data
    fitted = MLPClassifier(verbose=1, max_iter=2, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))  # a tqdm bar holds a lock and a stream
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
    capsys.readouterr()
    restored.set_params(warm_start=True).fit(X, y)  # and shows a new bar when it trains again
    assert "2/2" in capsys.readouterr().err


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_diverging_training_stops_with_the_epoch_and_a_hint(Estimator, data):
    X, y = data
    # a ValueError, as scikit-learn's MLP raises for non-finite weights
    with pytest.raises(ValueError, match="diverged at epoch 1.*learning_rate_init") as error:
        Estimator(solver="sgd", learning_rate_init=1e30, max_iter=5).fit(X * 1e10, y)
    assert isinstance(error.value, FloatingPointError)


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
