"""Hyperparameter search with Optuna, as a scikit-learn estimator.

``OptunaSearchCV`` is written here rather than taken from optuna-integration,
whose ``OptunaSearchCV`` runs ``n_jobs`` as threads, does not split sample
weights per fold when pruning, cannot refit a predefined study, and calls
``cv.split`` again at every pruning step (shuffled splitters then hand a
model fold k's test rows at the next step). Here:

- the CV splits are drawn once and are the same for every trial;
- pruning uses the validation score of the *first* fold, reported every
  ``max_iter // 20`` epochs (every epoch for ``max_iter < 40``), then the
  mean score of the folds done so far after each later fold but the last
  (at step ``k * max_iter`` after ``k`` folds: epochs trained), so trials
  are always compared on the same folds at the same step and no fold
  ever sees another's data; the trial's score is the mean over all folds of
  models trained exactly as a plain ``fit`` would train them (the epoch
  callback only reads), so refitting ``best_params_`` reproduces it;
  Optuna's ``WilcoxonPruner``, which tests a trial against the best one
  fold by fold, gets each fold's score at the fold's number instead;
- ``n_jobs`` starts worker processes that share one study through its storage
  (a temporary journal file when no storage is given);
- ``n_trials`` counts finished trials of the study (complete or pruned, not
  failed), so a study resumed after a crash, or shared by several workers on
  several machines, ends with exactly that many;
- storages with a heartbeat mark the trial of a killed worker as failed when
  a worker next starts a trial (the trial's first heartbeat is recorded
  before its work begins, as Optuna never fails a trial that has none).

What it takes from Optuna as is: samplers, pruners, storages (including the
stale-trial heartbeat) and the study itself.
"""

import copy
import math
import os
import tempfile
import time
from collections import Counter
from numbers import Integral, Real

import numpy as np
import optuna
from joblib import Parallel, delayed, effective_n_jobs
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import _yield_masked_array_for_each_param
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, indexable

from ._objective import (
    FINISHED,
    SURPLUS,
    Objective,
    default_pruner,
    optimize,
    optuna_logging,
    refit_scores,
    worker,
)
from ._search_space import (
    DefaultSearchSpace,
    check_space,
    check_study_space,
    default_search_space,
    estimator_params,
    starting_suggestions,
)
from ._storage import open_storage
from ._warnings import warn_at_caller

__all__ = ["DefaultSearchSpace", "OptunaSearchCV", "default_search_space"]


def _refit_index(index, n_rows):
    """The row a ``refit`` callable chose, checked as ``GridSearchCV`` checks it."""
    if not isinstance(index, Integral):
        raise TypeError(f"refit returned {index!r}, not the integer index of a row of "
                        "cv_results_.")
    if not 0 <= index < n_rows:
        raise IndexError(f"refit returned {index}, but cv_results_ has {n_rows} rows.")
    return int(index)


# -- the search estimator ----------------------------------------------------------------

def _best_estimator_has(attr):
    def check(self):
        if hasattr(self, "study_"):
            # fitted: the refit estimator's, or the reason there is none
            return hasattr(self._refit_estimator(attr), attr)
        return hasattr(self.estimator, attr)
    return check


def _delegated(name, doc):
    """Method ``name(X)`` of the refit best estimator, there only if the estimator has it."""

    def method(self, X):
        return getattr(self._refit_estimator(name), name)(X)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return available_if(_best_estimator_has(name))(method)


class OptunaSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated hyperparameter search driven by an Optuna study.

    Used like :class:`~sklearn.model_selection.GridSearchCV`, with a search
    space instead of a grid. See the module docstring for how it differs
    from optuna-integration's ``OptunaSearchCV``.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Cloned for every fold of every trial.
    param_distributions : dict of str -> optuna distribution, or callable
        Either ``{"mlpclassifier__alpha": FloatDistribution(1e-5, 1, log=True),
        ...}`` (a ``CategoricalDistribution`` may choose among tuples, such as
        ``hidden_layer_sizes``, or estimators, such as scalers: a storage
        keeps those by their ``repr``, and each fold gets a clone) or a
        callable ``trial -> dict of parameters`` for conditional
        spaces (see :func:`default_search_space`). A callable must be
        picklable (a module-level function or class) when ``n_jobs > 1``.
    n_trials : int or None, default=20
        Finished trials (complete or pruned) the study should hold. A resumed
        study runs only the missing ones. A failed trial does not count:
        another runs in its place, and a worker gives up after ``n_trials``
        failures in a row. None: as many as ``timeout`` allows, which must
        then be set.
    timeout : float or None, default=None
        Seconds after which a worker starts no new trial (Optuna's
        ``timeout``); the trial it is running finishes.
    cv : int, cross-validation generator or iterable, default=5
        As in ``GridSearchCV``; stratified for classifiers. The splits are
        drawn once and shared by every trial.
    scoring : str, callable, list or dict, default=None
        As in ``GridSearchCV``; several metrics (a list, a dict, or a
        callable that returns a dict) need ``refit`` to name the one to
        optimise.
    refit : bool, str or callable, default=True
        Refit the best parameters on the whole data; with several metrics,
        the metric to optimise and refit on. As in ``GridSearchCV``, a
        callable takes ``cv_results_`` and returns the index of the trial
        to refit (e.g. the smallest network within a standard deviation of
        the best score); there is then no ``best_score_``. The study still
        maximises the (single) metric.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit raises, as in ``GridSearchCV``: the trial
        goes on with its other folds and its score is the mean, and the
        first error is its ``fail_reason`` user attribute. With NaN (the
        default), which Optuna cannot take as a score, the trial stops at
        that fold and is recorded as failed, every fold at NaN. Either way
        the search goes on; ``"raise"`` stops it instead.
    return_train_score : bool, default=False
        Also score each fold's model on its training rows, as
        ``GridSearchCV`` does (``split<k>_train_<metric>``,
        ``mean_train_<metric>``, ``std_train_<metric>`` in ``cv_results_``),
        to see over-fitting; it costs a prediction of the training rows.
    random_state : int or None, default=None
        Seeds the default TPE sampler (worker ``i`` uses ``random_state +
        i``).
    n_jobs : int or None, default=None
        Worker processes sharing the study, counted as joblib counts them:
        None is 1 (unless inside a :func:`joblib.parallel_config` context),
        -1 is one per CPU.
    storage : str, optuna storage or None, default=None
        Where the study lives: None (in memory, or a temporary journal file
        for ``n_jobs > 1``), ``"sqlite:///study.db"`` (which worker processes
        on one machine may share: a URL is opened so that its transactions
        lock), or ``"postgresql://user@host/db"`` for workers on several
        machines. A storage object is used as it is.
    study_name : str or None, default=None
        Name of the study in ``storage``; None: a new name for each fit.
    load_if_exists : bool, default=False
        Resume the study ``study_name`` if ``storage`` holds it already (as
        Optuna's ``create_study``): the search runs only the trials the
        study lacks. False refuses an existing study before any trial, so
        that a search run again (on other data, other folds) does not mix
        its trials with the old ones. Searches that share a study (the same
        script started on several machines) set it to True; the search's
        own ``n_jobs`` workers need not.
    sampler, pruner : optuna sampler and pruner, default=None
        TPE (seeded with ``random_state``, plus the worker's number for
        ``n_jobs > 1``) and the median pruner by default, which for a skmlp
        network prunes from half of the first fold's epochs on (earlier
        scores favour the settings that learn fastest, not those that end
        best), and for other estimators from the second fold on. A sampler
        given here runs as it is in the first worker and as a reseeded copy
        in each other one: with one random state, every worker would
        propose the same trials.
    start_from_estimator : bool, default=True
        Make the first trial of a new study the estimator as given (its
        defaults, or the values set on it), where the space can draw its
        values: a dict space when every value lies in its distribution, a
        callable when it offers ``suggestions_for(params)``, as the
        default space (:class:`DefaultSearchSpace`) does. The search then
        never reports a best below the starting point's score on the same
        folds.
    enable_pruning : bool, default=True
        Report the first fold's validation score every ``max_iter // 20``
        epochs (at least every epoch), and after each later fold but the
        last the mean score of the folds done, so that the pruner can stop
        bad trials (epoch reports: skmlp final estimators only). With
        :class:`optuna.pruners.WilcoxonPruner`, which compares a trial with
        the best one on the same folds, each fold's score is reported at
        step ``k`` for fold ``k`` instead, and nothing per epoch.
    heartbeat_interval : int, default=10
        Seconds between a running trial's heartbeats in an RDB storage; a
        trial silent for ``2 * heartbeat_interval`` seconds (its worker
        died) is marked failed.
    callbacks : list of callable or None, default=None
        Optuna callbacks, each called as ``callback(study, trial)`` after
        every trial a worker finishes (as in ``study.optimize``), e.g. to
        log trials to MLflow (optuna-integration's ``MLflowCallback``); one
        may call ``study.stop()`` to end the worker's search early. Each
        worker process of ``n_jobs > 1`` gets a copy, so they must then be
        picklable.
    verbose : int, default=0
        0 is quiet; 1 or more lets Optuna log every trial (its value and
        parameters, or why it was pruned or failed) to stderr.

    Attributes
    ----------
    study_ : optuna.Study
    best_params_ : dict
        Estimator parameters of the best trial.
    best_score_ : float
        Its mean cross-validated score (of the refit metric); not set when
        ``refit`` is a callable.
    best_index_ : int
        Its row in ``cv_results_``.
    best_estimator_ : estimator
        Refit on the whole data (when ``refit``).
    cv_results_ : dict of arrays
        One row per finished or failed trial, in ``GridSearchCV``'s format
        (``params``, ``param_<name>``, ``split<k>_test_<metric>``,
        ``mean_test_<metric>``, ``std_test_<metric>``,
        ``rank_test_<metric>``, fit and score times), plus ``state`` and
        ``trial_number``.
    n_trials_ : int
        Finished trials in the study.
    n_splits_ : int
        Number of cross-validation folds.
    scorer_ : callable or dict
        The scorer of the held-out folds; with several metrics, as in
        ``GridSearchCV``, a dict of scorers by metric name.
    multimetric_ : bool
        Whether ``scoring`` gives several metrics.
    refit_time_ : float
    feature_names_in_ : ndarray of shape (n_features,)
        Column names the refit best estimator saw, when ``X`` had string
        column names (as ``GridSearchCV``).

    See Also
    --------
    sklearn.model_selection.GridSearchCV : exhaustive search over a grid.
    skmlp.tuning.default_search_space : a space for each skmlp estimator.
    skmlp.reporting.plot_search : optimisation history and importances.

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.datasets import load_iris
    >>> from skmlp import MLPClassifier
    >>> from skmlp.tuning import OptunaSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(
    ...     MLPClassifier(max_iter=20, random_state=0),
    ...     {"alpha": FloatDistribution(1e-4, 1.0, log=True)},
    ...     n_trials=3, cv=3, random_state=0).fit(X, y)
    >>> sorted(search.best_params_), search.n_trials_
    (['alpha'], 3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict, callable],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, list, tuple, dict, None],
        "refit": ["boolean", str, callable],
        "error_score": [StrOptions({"raise"}), Real],
        "return_train_score": ["boolean"],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "storage": [str, object, None],
        "study_name": [str, None],
        "load_if_exists": ["boolean"],
        "sampler": [object, None],
        "pruner": [object, None],
        "start_from_estimator": ["boolean"],
        "enable_pruning": ["boolean"],
        "heartbeat_interval": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator, param_distributions, *, n_trials=20, timeout=None, cv=5,
                 scoring=None, refit=True, error_score=np.nan, return_train_score=False,
                 random_state=None, n_jobs=None, storage=None, study_name=None,
                 load_if_exists=False, sampler=None, pruner=None,
                 start_from_estimator=True, enable_pruning=True, heartbeat_interval=10,
                 callbacks=None, verbose=0):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.storage = storage
        self.study_name = study_name
        self.load_if_exists = load_if_exists
        self.sampler = sampler
        self.pruner = pruner
        self.start_from_estimator = start_from_estimator
        self.enable_pruning = enable_pruning
        self.heartbeat_interval = heartbeat_interval
        self.callbacks = callbacks
        self.verbose = verbose

    def _sampler(self, worker=0):
        if self.sampler is None:
            seed = None if self.random_state is None else self.random_state + worker
            return optuna.samplers.TPESampler(seed=seed)
        if worker == 0:
            return self.sampler
        sampler = copy.deepcopy(self.sampler)
        sampler.reseed_rng()
        return sampler

    def _pruner(self):
        return self.pruner if self.pruner is not None else default_pruner(self.estimator)

    def _refit_metric(self, scorers):
        if callable(self.scoring):
            # known once it has scored: a dict of metrics, or one number
            return self.refit if isinstance(self.refit, str) else "score"
        if not isinstance(self.scoring, (list, tuple, dict)):
            return "score"
        if not isinstance(self.refit, str):
            # unlike GridSearchCV, refit=False is refused here too: the study
            # needs the one metric it optimises
            raise ValueError(f"With several metrics in scoring, refit must name the one the "
                             f"study optimises, one of {sorted(self.scoring)}; got "
                             f"refit={self.refit!r}.")
        if self.refit not in self.scoring:
            raise ValueError(f"refit={self.refit!r} is not one of the metrics in scoring: "
                             f"{sorted(self.scoring)}.")
        return self.refit

    # the searched estimators validate their own parameters, as in GridSearchCV
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, *, groups=None, **fit_params):
        """Run the study, then refit the best parameters on all of ``X, y``.

        A fit replaces every result of the previous one once its study
        opens (unlike ``GridSearchCV``, whose ``best_estimator_`` outlives a
        later fit with ``refit=False``); one that fails before, on its
        input, space or storage, leaves them as they were.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter in ``cv`` (e.g.
            :class:`~sklearn.model_selection.GroupKFold`), as in
            ``GridSearchCV.fit``.
        **fit_params : dict
            Passed to the estimator's ``fit``; sample-aligned arrays (such as
            ``sample_weight``) are split with the folds. With scikit-learn's
            metadata routing enabled, each goes where it was requested (the
            estimator's ``fit``, the scorer, the splitter), as in
            ``GridSearchCV``.

        Returns
        -------
        self : object
        """
        if self.n_trials is None and self.timeout is None:
            raise ValueError("n_trials=None runs trials until the timeout, so it needs "
                             "timeout to be set.")
        # math.inf: no count stops the study, only the timeout
        n_trials = math.inf if self.n_trials is None else self.n_trials
        check_space(self.estimator, self.param_distributions, self.random_state)
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        routed = self._routed_fit_params(groups, fit_params)
        splits = list(cv.split(X, y, **routed.splitter.split))
        scorers = check_scoring(self.estimator, self.scoring)
        refit_metric = self._refit_metric(scorers)
        objective = Objective(self.estimator, self.param_distributions, X, y, splits,
                              scorers, refit_metric, routed.estimator.fit,
                              routed.scorer.score, self.error_score, n_trials,
                              self.enable_pruning, self.return_train_score)
        grace = 2 * self.heartbeat_interval
        callbacks = list(self.callbacks or [])
        n_jobs = effective_n_jobs(self.n_jobs)
        if n_jobs > 1 and isinstance(self.storage, optuna.storages.InMemoryStorage):
            raise ValueError(
                f"An InMemoryStorage lives in this process: the n_jobs={self.n_jobs} worker "
                "processes would each fill a copy of their own. Leave storage=None (the "
                "workers then share a temporary journal file), or give a file or database "
                "storage such as 'sqlite:///study.db'.")
        with tempfile.TemporaryDirectory() as tmp, optuna_logging(self.verbose):
            storage = self.storage
            if storage is None and n_jobs > 1:
                storage = optuna.storages.JournalStorage(
                    optuna.storages.journal.JournalFileBackend(os.path.join(tmp, "journal")))
            opened = open_storage(storage, self.heartbeat_interval, grace)
            study_name = self.study_name or f"skmlp-{time.time_ns()}"
            study = self._open_study(opened, study_name)
            # from here on the search holds this fit's results only: with
            # refit=False (or a callable refit) it sets no best_estimator_
            # (best_score_), which an earlier fit's must not stand in for
            for name in [name for name in vars(self) if name.endswith("_")
                         and not name.startswith("_")]:
                delattr(self, name)
            self.study_ = study
            if n_jobs == 1:
                optimize(self.study_, objective, n_trials, self.timeout, callbacks)
            else:
                worker_storage = storage if isinstance(storage, str) else opened
                Parallel(n_jobs=n_jobs, backend="loky")(
                    delayed(worker)(worker_storage, study_name, self._sampler(i),
                                    self._pruner(), objective, n_trials, self.timeout,
                                    callbacks, self.heartbeat_interval, grace, self.verbose)
                    for i in range(n_jobs))
            if self.storage is None and n_jobs > 1:
                # keep the study readable once the temporary journal is gone
                memory = optuna.storages.InMemoryStorage()
                optuna.copy_study(from_study_name=study_name, from_storage=opened,
                                  to_storage=memory)
                self.study_ = optuna.load_study(study_name=study_name, storage=memory)
            self.n_splits_ = len(splits)
            # as GridSearchCV's: several metrics as a dict of their scorers
            self.scorer_ = (scorers._scorers if isinstance(scorers, _MultimetricScorer)
                            else scorers)
            self._set_results(refit_metric, self.n_splits_)
        if self.refit is not False:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False))
            self.best_estimator_.fit(X, y, **routed.estimator.fit)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _open_study(self, storage, study_name):
        """The study ``study_name`` in ``storage``, new or resumed, checked that
        this search can continue it; a new one starts from the estimator."""
        try:
            study = optuna.create_study(
                storage=storage, study_name=study_name, direction="maximize",
                sampler=self._sampler(), pruner=self._pruner(),
                load_if_exists=self.load_if_exists)
        except optuna.exceptions.DuplicatedStudyError as err:
            raise optuna.exceptions.DuplicatedStudyError(
                f"The storage already holds a study named {study_name!r}. Pass "
                "load_if_exists=True to resume it, or give the search another "
                "study_name.") from err
        if study.directions != [optuna.study.StudyDirection.MAXIMIZE]:
            # Optuna loads an existing study whatever direction it was created with
            raise ValueError(
                f"The study {study_name!r} in this storage does not maximise one value "
                f"(its directions: {[d.name for d in study.directions]}), and "
                "OptunaSearchCV maximises its score (greater is better, as scikit-learn's "
                "scorers: for a loss use e.g. scoring='neg_log_loss'). Give the search "
                "another study_name.")
        check_study_space(study, self.param_distributions)
        if self.start_from_estimator and not study.get_trials(deepcopy=False):
            start = starting_suggestions(self.estimator, self.param_distributions)
            if start is not None:
                # skip_if_exists: workers on other machines may find the
                # shared study empty at the same moment
                study.enqueue_trial(start, skip_if_exists=True)
        return study

    def _set_results(self, refit_metric, n_splits):
        trials = [t for t in self.study_.get_trials(deepcopy=False)
                  if t.state.is_finished() and SURPLUS not in t.user_attrs]
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        reasons = Counter(t.user_attrs["fail_reason"] for t in trials
                          if "fail_reason" in t.user_attrs)
        if not complete:
            raise ValueError(f"No trial completed ({len(trials)} failed or pruned). "
                             f"Failures: {sorted(reasons) or 'none'}.")
        self.n_trials_ = sum(t.state in FINISHED for t in trials)
        if reasons:
            short = ""
            if self.n_trials is not None and self.n_trials_ < self.n_trials:
                short = (f" The study holds {self.n_trials_} of the n_trials={self.n_trials} "
                         "finished trials asked for: failed trials do not count, and a "
                         "worker stops after n_trials failed trials in a row (or at its "
                         "timeout).")
            # once, in this process, as GridSearchCV sums up its failed fits
            warn_at_caller(
                f"{reasons.total()} of the {len(trials)} trials of the study had a "
                f"fit that raised; cv_results_ scores such folds error_score="
                f"{self.error_score!r} (with NaN, every fold of the trial).{short} Failures: "
                + "; ".join(f"{count} x {reason}" for reason, count in reasons.most_common()),
                FitFailedWarning)
        metrics = sorted({m for t in complete for m in t.user_attrs["split_scores"]})
        results = self._cv_results(trials, metrics, n_splits)
        self.cv_results_ = results
        # from the same snapshot as the table: in a shared study another worker's
        # trial may finish (and become the study's best) after it was taken
        if callable(self.refit):
            self.best_index_ = _refit_index(self.refit(results), len(trials))
        else:
            best = max(complete, key=lambda trial: trial.value)
            self.best_index_ = int(np.flatnonzero(results["trial_number"] == best.number)[0])
            self.best_score_ = float(np.mean(refit_scores(best.user_attrs["split_scores"],
                                                          refit_metric)))
        self.best_params_ = results["params"][self.best_index_]
        self.multimetric_ = metrics != ["score"]

    def _cv_results(self, trials, metrics, n_splits):
        """``cv_results_`` in ``GridSearchCV``'s format, one row per trial."""
        results = {"trial_number": np.array([t.number for t in trials]),
                   "state": np.array([t.state.name for t in trials]),
                   "params": [estimator_params(t, self.param_distributions)
                              for t in trials]}
        # GridSearchCV's param_<name> columns: masked where a trial has no
        # such parameter (conditional spaces), typed as the values allow
        results.update(_yield_masked_array_for_each_param(results["params"]))
        for kind in ("fit", "score"):
            times = [t.user_attrs.get(f"{kind}_times", [np.nan]) for t in trials]
            results[f"mean_{kind}_time"] = np.array([np.mean(v) for v in times])
            results[f"std_{kind}_time"] = np.array([np.std(v) for v in times])
        fallback = {"FAIL": self.error_score, "PRUNED": np.nan}

        def per_split(attr, metric):
            # NaN for a complete trial without them: a resumed study's earlier
            # trials may have run without return_train_score
            return np.array([
                t.user_attrs[attr][metric]
                if t.state.name == "COMPLETE" and attr in t.user_attrs
                else [fallback.get(t.state.name, np.nan)] * n_splits for t in trials],
                dtype=float)

        kinds = {"test": "split_scores"}
        if self.return_train_score:
            kinds["train"] = "split_train_scores"
        for metric in metrics:
            for kind, attr in kinds.items():
                splits = per_split(attr, metric)
                for k in range(n_splits):
                    results[f"split{k}_{kind}_{metric}"] = splits[:, k]
                results[f"mean_{kind}_{metric}"] = splits.mean(axis=1)
                results[f"std_{kind}_{metric}"] = splits.std(axis=1)
            # ranked as GridSearchCV ranks: equal scores share the better
            # rank, and NaN (failed or pruned trials) ranks below every score
            mean = results[f"mean_test_{metric}"]
            below = np.nanmin(mean) - 1 if not np.isnan(mean).all() else 0.0
            results[f"rank_test_{metric}"] = rankdata(
                -np.nan_to_num(mean, nan=below), method="min").astype(np.int32)
        return results

    # -- delegation to the refit estimator ---------------------------------------------

    predict = _delegated("predict", "Predict with the refit best estimator.")
    predict_proba = _delegated("predict_proba",
                               "Class probabilities from the refit best estimator.")
    predict_log_proba = _delegated("predict_log_proba",
                                   "Log class probabilities from the refit best estimator.")
    score_samples = _delegated("score_samples", "Sample scores of the refit best estimator "
                               "(an outlier detector's normality).")
    decision_function = _delegated("decision_function",
                                   "Decision function of the refit best estimator.")
    transform = _delegated("transform", "Transform with the refit best estimator.")
    inverse_transform = _delegated("inverse_transform",
                                   "Inverse transform with the refit best estimator.")

    def _refit_estimator(self, attr):
        """The refit best estimator, or an error that says why there is none."""
        check_is_fitted(self, "study_")
        if not hasattr(self, "best_estimator_"):
            # AttributeError, as GridSearchCV: hasattr(search, "predict") is False
            raise AttributeError(
                f"This {type(self).__name__} was fitted with refit=False, so {attr} is not "
                "available: it needs the best parameters refit on the whole data. Fit "
                "the estimator with best_params_, or search with refit=True.")
        return self.best_estimator_

    def _routed_fit_params(self, groups, fit_params):
        """``fit``'s parameters by destination, as ``GridSearchCV`` routes them."""
        if _routing_enabled():
            given = fit_params if groups is None else {**fit_params, "groups": groups}
            return process_routing(self, "fit", **given)
        return Bunch(estimator=Bunch(fit=fit_params), splitter=Bunch(split={"groups": groups}),
                     scorer=Bunch(score={}))

    def get_metadata_routing(self):
        """Where ``fit`` and ``score`` send metadata, as in ``GridSearchCV``.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (MetadataRouter(owner=type(self).__name__)
                .add(estimator=self.estimator,
                     method_mapping=MethodMapping().add(caller="fit", callee="fit"))
                .add(scorer=check_scoring(self.estimator, self.scoring),
                     method_mapping=MethodMapping().add(caller="score", callee="score")
                     .add(caller="fit", callee="score"))
                .add(splitter=check_cv(self.cv),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))

    def score(self, X, y=None, **params):
        """Score of the refit best estimator, with ``scoring`` (its refit metric).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), default=None
        **params : dict
            With metadata routing enabled, passed to the scorer where it
            requested them (``sample_weight``, say).

        Returns
        -------
        score : float
        """
        estimator = self._refit_estimator("score")
        _raise_for_params(params, self, "score")
        score_params = (process_routing(self, "score", **params).scorer.score
                        if _routing_enabled() else {})
        scorer = self.scorer_[self.refit] if isinstance(self.scorer_, dict) else self.scorer_
        result = scorer(estimator, X, y, **score_params)
        # a scoring callable may return several metrics
        return result[self.refit] if isinstance(result, dict) else result

    @property
    def classes_(self):
        """Classes of the refit best estimator."""
        return self._refit_estimator("classes_").classes_

    @property
    def n_features_in_(self):
        """Number of features the refit best estimator saw."""
        return self._refit_estimator("n_features_in_").n_features_in_

    def __sklearn_tags__(self):
        # the estimator's kind, as GridSearchCV's tags give it: a search over
        # a classifier is a classifier to cross_val_score (stratified folds),
        # one over a precomputed kernel is pairwise (its folds cut columns
        # too); and, beyond GridSearchCV's, the targets it takes (a search
        # over a multi-output regressor is one)
        tags = super().__sklearn_tags__()
        searched = get_tags(self.estimator)
        tags.estimator_type = searched.estimator_type
        for kind in ("classifier_tags", "regressor_tags", "target_tags"):
            setattr(tags, kind, copy.deepcopy(getattr(searched, kind)))
        tags.input_tags.sparse = searched.input_tags.sparse
        tags.input_tags.pairwise = searched.input_tags.pairwise
        return tags
