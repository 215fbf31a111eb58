"""One trial of a search: the cross-validated score of one set of parameters,
reported as it trains so that a pruner can stop it, and the loop that runs
trials on a study in this process or in a worker process."""

import math
import os
import socket
import time
import warnings
from contextlib import contextmanager
from functools import partial

import numpy as np
import optuna
from sklearn.base import clone
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params
from skorch.callbacks import Callback

from ._base import BaseMLP
from ._search_space import FINISHED, last_step, suggest
from ._storage import open_storage

#: User attribute of a trial a worker started after the study was complete.
SURPLUS = "surplus"


class _TrialFailed(Exception):
    """A trial's fit raised; Optuna records the trial as failed and goes on."""


class _RefitNotAMetric(ValueError):
    """``refit`` names none of the metrics a scoring callable returned: the
    search stops, as no trial could be scored."""


class _SurplusTrial(Exception):
    """The study already holds n_trials finished or running trials."""


#: Pruners that compare a trial with the best one fold by fold, on the scores
#: reported at the same steps (Optuna's Wilcoxon signed-rank test).
_FOLD_PRUNERS = (optuna.pruners.WilcoxonPruner,)

#: Score reports per fold at most. Scoring a pipeline on the validation fold
#: (about 6 ms for steel plates faults, mostly the metric) costs more than an
#: epoch of training on small data: every epoch, it made the first fold 2.5x
#: slower. Pruners act at the first report at or after their own steps.
_MAX_REPORTS = 20


class _ReportEpochScore(Callback):
    """Report the validation score every ``every`` epochs, and prune bad trials."""

    def __init__(self, trial, model, X_valid, y_valid, scorer, every):
        self.trial = trial
        self.model = model
        self.X_valid = X_valid
        self.y_valid = y_valid
        self.scorer = scorer
        self.every = every

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history) - 1
        if (epoch + 1) % self.every:
            return
        self.trial.report(self.scorer(self.model, self.X_valid, self.y_valid), epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch} of the first fold")


def first_heartbeat(trial):
    """Record a trial's first heartbeat before its work begins.

    Optuna never fails a running trial that has no heartbeat yet, and its
    heartbeat thread may first run some time after the trial starts: a worker
    killed in between would leave the trial running for ever, and the study
    one trial short (running trials count toward ``n_trials``).
    """
    storage = trial.storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)():
        storage.record_heartbeat(trial._trial_id)


def default_pruner(estimator):
    """The median pruner, acting from the middle of the first fold's training on.

    Early in training the validation score favours the settings that learn
    fastest (a high learning rate, little regularisation) over those that end
    best, the short-horizon bias of hyperparameter search. Over 40 random
    trials of the search benchmark's space (``benchmarks/tuning.py``, yeast
    and steel plates faults, ``max_iter=100``), the first fold's score after
    5 to 25 epochs ranked the trials' final cross-validated scores at a
    Spearman correlation of -0.42 to +0.35, after 50 to 100 epochs at 0.19
    to 0.79; a median pruner acting from epoch 15 pruned trials of which a
    quarter (5 of 20 rerun in full) would have beaten the best one the search
    found. So, for a skmlp estimator (or a pipeline ending in one), the median
    rule waits for half of the first fold's epochs (its ``max_iter`` as
    given). Other estimators report only the mean score of the folds done,
    from the second fold on (at the number of folds done), and the rule acts
    at each report, as it does at a network's fold boundaries: the mean of
    the first two folds ranked the same 40 trials' final scores at 0.60 and
    0.65.
    """
    final = last_step(estimator)[1]
    warmup = final.max_iter // 2 if isinstance(final, BaseMLP) else 0
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup)


def _set_final_callbacks(model, callbacks):
    final = last_step(model)[1]
    final.set_params(callbacks=list(final.callbacks or []) + callbacks)


class Objective:
    """Cross-validated score of one trial's parameters (picklable for workers)."""

    def __init__(self, estimator, space, X, y, splits, scorers, refit_metric, fit_params,
                 score_params, error_score, n_trials, prune, train_scores):
        self.estimator = estimator
        self.space = space
        self.X, self.y = X, y
        self.splits = splits
        self.scorers = scorers
        self.refit_metric = refit_metric
        self.fit_params = fit_params
        self.score_params = score_params
        self.error_score = error_score
        self.n_trials = n_trials
        self.prune = prune
        self.train_scores = train_scores

    def __call__(self, trial):
        first_heartbeat(trial)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        self._refuse_surplus(trial)
        params = suggest(trial, self.space)
        # a pruner that compares trials fold by fold gets each fold's score
        # at the fold's number, and no epoch reports
        fold_by_fold = self.prune and isinstance(trial.study.pruner, _FOLD_PRUNERS)
        tests, trains, fit_times, score_times = [], [], [], []
        for fold, (train, test) in enumerate(self.splits):
            model, test_scores, train_scores, fit_time, score_time = self._fit_fold(
                trial, params, fold, train, test, report_epochs=self.prune and not fold_by_fold)
            tests.append(test_scores)
            trains.append(train_scores)
            fit_times.append(fit_time)
            score_times.append(score_time)
            if not self.prune:
                continue
            fold_scores = refit_scores(self._columns(tests), self.refit_metric)
            last = fold == len(self.splits) - 1
            if fold_by_fold:
                trial.report(fold_scores[-1], fold)
                if not last and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after {fold + 1} folds")
            elif 0 < fold and not last:
                self._report_folds(trial, model, fold_scores)
        scores = self._columns(tests)
        trial.set_user_attr("split_scores", scores)
        if self.train_scores:
            trial.set_user_attr("split_train_scores", self._columns(trains))
        trial.set_user_attr("fit_times", fit_times)
        trial.set_user_attr("score_times", score_times)
        return float(np.mean(refit_scores(scores, self.refit_metric)))

    def _refuse_surplus(self, trial):
        """Stop a trial that starts when the study already holds ``n_trials``
        finished or running ones (other workers' running trials fill it)."""
        running = (optuna.trial.TrialState.RUNNING,)
        ahead = [t for t in trial.study.get_trials(deepcopy=False, states=FINISHED + running)
                 if t.number < trial.number]
        if len(ahead) >= self.n_trials:
            # Optuna cannot delete a trial: it stays, failed, and tagged so
            # that cv_results_ leaves it out
            trial.set_user_attr(SURPLUS, "not run: when it started, the study already held "
                                         "n_trials finished or running trials")
            trial.study.stop()
            raise _SurplusTrial("the study already holds n_trials trials")

    def _fit_fold(self, trial, params, fold, train, test, report_epochs):
        """Fit ``params`` on one fold and score it (the first fold reporting
        its validation score as it trains, with ``report_epochs``).

        Returns the fitted model, its test and (with ``train_scores``)
        training scores as ``{metric: score}`` (None where the fit raised and
        ``error_score`` is a number), and the fit and score seconds.
        """
        # cloned, as GridSearchCV does: an estimator among the choices (a
        # scaler) would otherwise be fitted by every fold, and stay fitted
        model = clone(self.estimator).set_params(**clone(params, safe=False))
        # scikit-learn's own split for CV: y may be None (unsupervised)
        X_train, y_train = _safe_split(model, self.X, self.y, train)
        X_test, y_test = _safe_split(model, self.X, self.y, test, train)
        # metadata for the scorer (routed sample weights), split as the rows are
        test_params = _check_method_params(self.X, self.score_params, test)
        final = last_step(model)[1]
        if report_epochs and fold == 0 and isinstance(final, BaseMLP):
            every = max(1, final.max_iter // _MAX_REPORTS)
            _set_final_callbacks(model, [("optuna_report", _ReportEpochScore(
                trial, model, X_test, y_test,
                partial(self._refit_scorer, params=test_params), every))])
        fold_params = _check_method_params(self.X, self.fit_params, train)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(X_train, y_train, **fold_params)
        except (optuna.TrialPruned, _RefitNotAMetric):
            raise
        except Exception as err:  # noqa: BLE001 - error_score semantics
            if self.error_score == "raise":
                raise
            # the search warns of failed fits once, at its end (as
            # GridSearchCV does): a worker process's warnings never reach the user
            reason = f"{type(err).__name__}: {err}"
            if "fail_reason" not in trial.user_attrs:
                trial.set_user_attr("fail_reason", reason)
            if math.isnan(self.error_score):  # Optuna takes no NaN score
                raise _TrialFailed(f"fold {fold}: {reason}") from err
            # as GridSearchCV: the fold scores error_score, the others go on
            return model, None, None, time.perf_counter() - start, 0.0
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        test_scores = self._score(model, X_test, y_test, test_params)
        score_time = time.perf_counter() - start
        train_scores = None
        if self.train_scores:
            train_params = _check_method_params(self.X, self.score_params, train)
            train_scores = self._score(model, X_train, y_train, train_params)
        return model, test_scores, train_scores, fit_time, score_time

    def _columns(self, folds):
        """``{metric: [score of each fold]}``; a fold whose fit raised scores ``error_score``."""
        names = sorted({name for result in folds if result is not None for name in result})
        return {name: [float(self.error_score) if result is None else float(result[name])
                       for result in folds]
                for name in names or [self.refit_metric]}

    @staticmethod
    def _report_folds(trial, model, fold_scores):
        """Report the mean score of the folds done so far, and prune a bad trial.

        The step is the number of epochs trained (``max_iter`` per fold for
        skmlp estimators), so these reports continue the first fold's epoch
        reports on one scale, and every trial is compared on the same folds.
        """
        final = last_step(model)[1]
        epochs_per_fold = final.max_iter if isinstance(final, BaseMLP) else 1
        n_folds = len(fold_scores)
        trial.report(float(np.mean(fold_scores)), n_folds * epochs_per_fold)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after {n_folds} folds")

    def _score(self, model, X, y, params):
        result = self.scorers(model, X, y, **params)
        if not isinstance(result, dict):
            return {"score": result}
        if self.refit_metric not in result:
            # a scoring callable that returns several metrics, as GridSearchCV allows
            raise _RefitNotAMetric(
                f"The scoring callable returns the metrics {sorted(result)}; refit must "
                f"name the one to optimise, e.g. refit={sorted(result)[0]!r}.")
        return result

    def _refit_scorer(self, model, X, y, params):
        return refit_scores(self._score(model, X, y, params), self.refit_metric)


def refit_scores(scores, refit_metric):
    """The scores of the metric the study maximises, from ``{metric: scores}``.

    A scoring callable that returns one number, with ``refit`` a string,
    gives only ``"score"``: the string then just means refit, as in
    GridSearchCV.
    """
    return scores[refit_metric] if refit_metric in scores else scores["score"]


def _finished_count(study):
    return len(study.get_trials(deepcopy=False, states=FINISHED))


def optimize(study, objective, n_trials, timeout, callbacks=()):
    """Run trials until the study holds ``n_trials`` finished ones (or time runs out).

    Failed trials do not count; after ``n_trials`` failures in a row this
    worker gives up rather than loop for ever. ``callbacks`` are the user's
    Optuna callbacks, called after each trial before the count is checked.
    """
    failures = 0

    def stop_when_done(study, trial):
        nonlocal failures
        failures = failures + 1 if trial.state == optuna.trial.TrialState.FAIL else 0
        if _finished_count(study) >= n_trials or failures >= n_trials:
            study.stop()

    if _finished_count(study) >= n_trials:
        return
    study.optimize(objective, timeout=timeout, callbacks=[*callbacks, stop_when_done],
                   catch=(_TrialFailed, _SurplusTrial))


@contextmanager
def optuna_logging(verbose):
    """Optuna's INFO logs with ``verbose``, its errors only without.

    Quiet, a search logs nothing, as GridSearchCV: Optuna would log each
    study it creates and each caught exception as a warning, while the
    search sums failed fits up in one FitFailedWarning and surplus trials
    are bookkeeping.
    """
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def worker(storage, study_name, sampler, pruner, objective, n_trials, timeout, callbacks,
           heartbeat_interval, grace_period, verbose):
    """One worker process: open the shared study and work on it."""
    with optuna_logging(verbose):
        storage = open_storage(storage, heartbeat_interval, grace_period)
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        optimize(study, objective, n_trials, timeout, callbacks)
