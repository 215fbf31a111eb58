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
- ``n_jobs`` starts worker processes that share one study through its storage
  (a temporary journal file when no storage is given);
- ``n_trials`` counts finished trials of the study (complete or pruned), so a
  study resumed after a crash, or shared by several workers on several
  machines, ends with exactly that many;
- storages with a heartbeat mark the trial of a killed worker as failed when
  a worker next starts a trial (the trial's first heartbeat is recorded
  before its work begins, as Optuna never fails a trial that has none).

What it takes from Optuna as is: samplers, pruners, storages (including the
stale-trial heartbeat) and the study itself.
"""

import importlib.util
import math
import os
import socket
import tempfile
import time
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import optuna
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import _safe_split, available_if
from sklearn.utils.validation import _check_method_params, check_is_fitted, indexable
from skorch.callbacks import Callback

from ._base import BaseMLP

_FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


# -- search spaces -------------------------------------------------------------------

class DefaultSearchSpace:
    """A conditional search space for one skmlp estimator (see :func:`default_search_space`).

    Parameters
    ----------
    prefix : str
        Prefix of the estimator's parameters, e.g. ``"mlpclassifier__"`` in
        a pipeline, or ``""``.
    classifier : bool
        Also search ``class_weight``.
    max_layers : int
        Deepest network tried.
    lbfgs : bool
        The estimator trains with ``solver="lbfgs"``, which takes no
        dropout, learning rate or batch size: those are not searched.
    """

    def __init__(self, prefix="", classifier=True, max_layers=3, lbfgs=False):
        self.prefix = prefix
        self.classifier = classifier
        self.max_layers = max_layers
        self.lbfgs = lbfgs

    def __call__(self, trial):
        n_layers = trial.suggest_int("n_layers", 1, self.max_layers)
        widths = tuple(trial.suggest_int(f"width_{i}", 16, 512, log=True)
                       for i in range(n_layers))
        params = {
            "hidden_layer_sizes": widths,
            "activation": trial.suggest_categorical("activation", ["relu", "gelu", "selu",
                                                                   "tanh"]),
        }
        if not self.lbfgs:
            params["dropout"] = trial.suggest_float("dropout", 0.0, 0.5)
        params["batch_norm"] = trial.suggest_categorical("batch_norm", [False, True])
        params["alpha"] = trial.suggest_float("alpha", 1e-6, 10.0, log=True)
        params["l1"] = trial.suggest_categorical("l1", [0.0, 1e-4, 1e-3, 1e-2])
        if not self.lbfgs:
            params["learning_rate_init"] = trial.suggest_float("learning_rate_init", 1e-4,
                                                               3e-2, log=True)
            params["batch_size"] = trial.suggest_categorical("batch_size",
                                                             ["auto", 32, 64, 128, 256, 512])
        if self.classifier:
            params["class_weight"] = trial.suggest_categorical("class_weight",
                                                               [None, "balanced"])
        return {self.prefix + name: value for name, value in params.items()}

    def suggestions_for(self, params):
        """Suggestions from which this space gives back ``params`` (estimator parameters).

        Used to make the estimator as given the first trial of a search:
        every parameter under :attr:`prefix` by its own name, plus the depth
        and one width per layer. Values the space cannot draw are left for
        the search to reject.
        """
        own = {name[len(self.prefix):]: value for name, value in params.items()
               if name.startswith(self.prefix)}
        layers = own["hidden_layer_sizes"]
        widths = {f"width_{i}": width for i, width in enumerate(layers)}
        return {**own, "n_layers": len(layers), **widths}


def default_search_space(estimator):
    """The default search space for a skmlp estimator, alone or last in a pipeline.

    Widths and depth (conditional: one width per layer), activation, dropout,
    batch norm, ``alpha`` and ``l1``, the learning rate (log scale), batch
    size and, for classifiers, class weighting; with ``solver="lbfgs"``,
    not dropout, the learning rate or the batch size, which it does not take.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor, MLPAutoencoder or Pipeline
        A pipeline's last step must be a skmlp estimator.

    Returns
    -------
    space : DefaultSearchSpace
        A callable ``trial -> params`` (picklable, for worker processes).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skmlp import MLPClassifier
    >>> from skmlp.tuning import default_search_space
    >>> space = default_search_space(make_pipeline(StandardScaler(), MLPClassifier()))
    >>> space.prefix
    'mlpclassifier__'
    """
    prefix, final = "", estimator
    if hasattr(estimator, "steps"):
        name, final = estimator.steps[-1]
        prefix = f"{name}__"
    if not isinstance(final, BaseMLP):
        raise TypeError(f"default_search_space needs a skmlp estimator (or a pipeline "
                        f"ending in one), got {type(final).__name__}.")
    return DefaultSearchSpace(prefix, classifier=is_classifier(final),
                              lbfgs=final.solver == "lbfgs")


_PLAIN = (type(None), bool, int, float, str)


def _choice_labels(dist):
    """The labels a trial stores for the choices of ``dist``, or None to store them as they are.

    Storages keep a trial's values as JSON, where a tuple (a
    ``hidden_layer_sizes``) comes back as a list that is not a choice, and
    an object (a scaler) cannot go at all; such choices are stored by
    their ``repr`` instead.
    """
    if not isinstance(dist, optuna.distributions.CategoricalDistribution) or all(
            isinstance(choice, _PLAIN) for choice in dist.choices):
        return None
    labels = [repr(choice) for choice in dist.choices]
    if len(set(labels)) < len(labels):
        labels = [f"{i}: {label}" for i, label in enumerate(labels)]
    return labels


def _suggest(trial, space):
    """Estimator parameters for ``trial`` from a dict of distributions or a callable."""
    if callable(space):
        return space(trial)
    params = {}
    for name, dist in space.items():
        labels = _choice_labels(dist)
        if labels is not None:
            params[name] = dist.choices[labels.index(trial.suggest_categorical(name, labels))]
        elif isinstance(dist, optuna.distributions.CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, optuna.distributions.IntDistribution):
            params[name] = trial.suggest_int(name, dist.low, dist.high, step=dist.step,
                                             log=dist.log)
        else:
            params[name] = trial.suggest_float(name, dist.low, dist.high, step=dist.step,
                                               log=dist.log)
    return params


def _estimator_params(trial, space):
    """A finished trial's estimator parameters, rebuilt from its suggestions.

    Rebuilt rather than stored with the trial: a storage keeps JSON only, so
    a tuple would come back as a list and an object (a callable space may
    choose between scalers) could not be stored at all.
    """
    if not trial.params:  # a surplus trial stopped before its suggestions
        return {}
    return _suggest(optuna.trial.FixedTrial(trial.params, trial.number), space)


def _stored_value(value, dist):
    """``value`` as a trial of ``dist`` stores it: its label (see :func:`_choice_labels`)."""
    labels = _choice_labels(dist)
    return value if labels is None else labels[dist.choices.index(value)]


def _starting_suggestions(estimator, space):
    """Suggestions that make a trial of ``space`` the estimator as given, or None.

    A dict space takes the estimator's values by name; a callable space only
    if it offers ``suggestions_for(params)``. None when a value lies outside
    its distribution or the space does not give the estimator's values back.
    """
    params = estimator.get_params(deep=True)
    if callable(space) and not hasattr(space, "suggestions_for"):
        return None
    try:
        candidate = (space.suggestions_for(params) if callable(space)
                     else {name: _stored_value(params[name], dist)
                           for name, dist in space.items()})
        trial = optuna.trial.FixedTrial(candidate)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FixedTrial warns of out-of-range values
            chosen = _suggest(trial, space)
        if not all(params[name] == value for name, value in chosen.items()):
            return None
    except (KeyError, ValueError, TypeError, Warning):
        return None
    return trial.params


def _check_space(estimator, space, random_state):
    """Fail before any trial when the space names parameters the estimator lacks,
    or a dict space holds something other than Optuna distributions."""
    if not callable(space):
        plain = {name: value for name, value in space.items()
                 if not isinstance(value, optuna.distributions.BaseDistribution)}
        if plain:
            raise ValueError(
                f"The values of a dict search space must be Optuna distributions, but "
                f"these are not: {plain}. For a list of values to choose from, as in "
                "GridSearchCV, use optuna.distributions.CategoricalDistribution(values).")
    names = _names_from_callable(space, random_state) if callable(space) else list(space)
    valid = estimator.get_params(deep=True)
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise ValueError(f"The search space names parameters that "
                         f"{type(estimator).__name__} does not have: {unknown}. "
                         f"Valid parameters: {sorted(valid)}.")


def _names_from_callable(space, random_state):
    """Parameter names a callable space produces, found with a throw-away study."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line for it
    try:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=random_state))
        return list(space(study.ask()))
    finally:
        optuna.logging.set_verbosity(verbosity)


# -- storage ---------------------------------------------------------------------------

def _open_storage(storage, heartbeat_interval, grace_period):
    """An Optuna storage from a URL, with clear errors and a race-free first creation.

    Several PostgreSQL workers creating Optuna's schema at the same moment
    collide inside ``CREATE TYPE`` (``duplicate key ... studydirection``);
    the creation is serialised with a PostgreSQL advisory lock.
    """
    if storage is None or not isinstance(storage, str):
        return storage
    import sqlalchemy

    def rdb_storage():
        with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(storage, heartbeat_interval=heartbeat_interval,
                                              grace_period=grace_period)

    try:
        storage = _with_installed_driver(storage)
        if not storage.startswith("postgresql"):
            return rdb_storage()
        engine = sqlalchemy.create_engine(storage)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(7355608)"))
                try:
                    return rdb_storage()
                finally:
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(7355608)"))
        finally:
            engine.dispose()
    except ModuleNotFoundError as err:
        raise ValueError(f"Could not open the Optuna storage {storage!r}: its database "
                         f"driver is missing ({err}); for PostgreSQL install "
                         "skmlp[postgresql].") from err
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.NoSuchModuleError, ValueError) as err:
        raise ValueError(f"Could not open the Optuna storage {storage!r}: "
                         f"{str(err).splitlines()[0]}") from err


def _with_installed_driver(url):
    """``url`` with psycopg 3 named as its driver where a bare ``postgresql://`` would
    otherwise look for psycopg2 and fail.

    SQLAlchemy 2.0 reads ``postgresql://`` as psycopg2, 2.1 as psycopg 3 (the
    driver ``skmlp[postgresql]`` installs); explicit drivers are kept.
    """
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    if (parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None
            and importlib.util.find_spec("psycopg") is not None):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


# -- one trial ----------------------------------------------------------------------------

class _TrialFailed(Exception):
    """A trial's fit raised; Optuna records the trial as failed and goes on."""


class _RefitNotAMetric(ValueError):
    """``refit`` names none of the metrics a scoring callable returned: the
    search stops, as no trial could be scored."""


class _SurplusTrial(Exception):
    """The study already holds n_trials finished or running trials."""


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


def _first_heartbeat(trial):
    """Record a trial's first heartbeat before its work begins.

    Optuna never fails a running trial that has no heartbeat yet, and its
    heartbeat thread may first run some time after the trial starts: a worker
    killed in between would leave the trial running for ever, and the study
    one trial short (running trials count toward ``n_trials``).
    """
    storage = trial.storage
    if getattr(storage, "get_heartbeat_interval", lambda: None)():
        storage.record_heartbeat(trial._trial_id)


def _final_step(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _set_final_callbacks(model, callbacks):
    final = _final_step(model)
    final.set_params(callbacks=list(final.callbacks or []) + callbacks)


class _Objective:
    """Cross-validated score of one trial's parameters (picklable for workers)."""

    def __init__(self, estimator, space, X, y, splits, scorers, refit_metric, fit_params,
                 error_score, n_trials, prune, train_scores):
        self.estimator = estimator
        self.space = space
        self.X, self.y = X, y
        self.splits = splits
        self.scorers = scorers
        self.refit_metric = refit_metric
        self.fit_params = fit_params
        self.error_score = error_score
        self.n_trials = n_trials
        self.prune = prune
        self.train_scores = train_scores

    def __call__(self, trial):
        _first_heartbeat(trial)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        ahead = [t for t in trial.study.get_trials(deepcopy=False,
                                                    states=_FINISHED + (
                                                        optuna.trial.TrialState.RUNNING,))
                 if t.number < trial.number]
        if len(ahead) >= self.n_trials:
            trial.study.stop()
            raise _SurplusTrial("the study already holds n_trials trials")
        params = _suggest(trial, self.space)
        scores, train_scores, fit_times, score_times = {}, {}, [], []
        for fold, (train, test) in enumerate(self.splits):
            # cloned, as GridSearchCV does: an estimator among the choices (a
            # scaler) would otherwise be fitted by every fold, and stay fitted
            model = clone(self.estimator).set_params(**clone(params, safe=False))
            # scikit-learn's own split for CV: y may be None (unsupervised)
            X_train, y_train = _safe_split(model, self.X, self.y, train)
            X_test, y_test = _safe_split(model, self.X, self.y, test, train)
            if self.prune and fold == 0 and isinstance(_final_step(model), BaseMLP):
                every = max(1, _final_step(model).max_iter // _MAX_REPORTS)
                _set_final_callbacks(model, [("optuna_report", _ReportEpochScore(
                    trial, model, X_test, y_test, self._refit_scorer, every))])
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
                reason = f"{type(err).__name__}: {err}"
                trial.set_user_attr("fail_reason", reason)
                warnings.warn(f"Trial {trial.number} failed on fold {fold}: {reason}",
                              FitFailedWarning, stacklevel=2)
                raise _TrialFailed(reason) from err
            fit_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            for name, value in self._score(model, X_test, y_test).items():
                scores.setdefault(name, []).append(float(value))
            score_times.append(time.perf_counter() - start)
            if self.train_scores:
                for name, value in self._score(model, X_train, y_train).items():
                    train_scores.setdefault(name, []).append(float(value))
            if self.prune and 0 < fold < len(self.splits) - 1:
                self._report_folds(trial, model, _refit_scores(scores, self.refit_metric))
        trial.set_user_attr("split_scores", scores)
        if self.train_scores:
            trial.set_user_attr("split_train_scores", train_scores)
        trial.set_user_attr("fit_times", fit_times)
        trial.set_user_attr("score_times", score_times)
        return float(np.mean(_refit_scores(scores, self.refit_metric)))

    @staticmethod
    def _report_folds(trial, model, fold_scores):
        """Report the mean score of the folds done so far, and prune a bad trial.

        The step is the number of epochs trained (``max_iter`` per fold for
        skmlp estimators), so these reports continue the first fold's epoch
        reports on one scale, and every trial is compared on the same folds.
        """
        final = _final_step(model)
        epochs_per_fold = final.max_iter if isinstance(final, BaseMLP) else 1
        n_folds = len(fold_scores)
        trial.report(float(np.mean(fold_scores)), n_folds * epochs_per_fold)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after {n_folds} folds")

    def _score(self, model, X, y):
        result = self.scorers(model, X, y)
        if not isinstance(result, dict):
            return {"score": result}
        if self.refit_metric not in result:
            # a scoring callable that returns several metrics, as GridSearchCV allows
            raise _RefitNotAMetric(
                f"The scoring callable returns the metrics {sorted(result)}; refit must "
                f"name the one to optimise, e.g. refit={sorted(result)[0]!r}.")
        return result

    def _refit_scorer(self, model, X, y):
        return _refit_scores(self._score(model, X, y), self.refit_metric)


def _refit_scores(scores, refit_metric):
    """The scores of the metric the study maximises, from ``{metric: scores}``.

    A scoring callable that returns one number, with ``refit`` a string,
    gives only ``"score"``: the string then just means refit, as in
    GridSearchCV.
    """
    return scores[refit_metric] if refit_metric in scores else scores["score"]


def _refit_index(index, n_rows):
    """The row a ``refit`` callable chose, checked as ``GridSearchCV`` checks it."""
    if not isinstance(index, Integral):
        raise TypeError(f"refit returned {index!r}, not the integer index of a row of "
                        "cv_results_.")
    if not 0 <= index < n_rows:
        raise IndexError(f"refit returned {index}, but cv_results_ has {n_rows} rows.")
    return int(index)


def _finished_count(study):
    return len(study.get_trials(deepcopy=False, states=_FINISHED))


def _optimize(study, objective, n_trials, timeout):
    """Run trials until the study holds ``n_trials`` finished ones (or time runs out).

    Failed trials do not count; after ``n_trials`` failures in a row this
    worker gives up rather than loop for ever.
    """
    failures = 0

    def stop_when_done(study, trial):
        nonlocal failures
        failures = failures + 1 if "fail_reason" in trial.user_attrs else 0
        if _finished_count(study) >= n_trials or failures >= n_trials:
            study.stop()

    if _finished_count(study) >= n_trials:
        return
    study.optimize(objective, timeout=timeout, callbacks=[stop_when_done],
                   catch=(_TrialFailed, _SurplusTrial))


@contextmanager
def _optuna_logging(verbose):
    """Optuna's INFO logs with ``verbose``, its errors only without.

    Quiet, a search logs nothing, as GridSearchCV: Optuna would log each
    study it creates and each caught exception as a warning, while failed
    fits already raise FitFailedWarning and surplus trials are bookkeeping.
    """
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose else optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def _worker(storage, study_name, sampler, pruner, objective, n_trials, timeout,
            heartbeat_interval, grace_period, verbose):
    """One worker process: open the shared study and work on it."""
    with _optuna_logging(verbose):
        storage = _open_storage(storage, heartbeat_interval, grace_period)
        study = optuna.load_study(study_name=study_name, storage=storage, sampler=sampler,
                                  pruner=pruner)
        _optimize(study, objective, n_trials, timeout)


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
        study runs only the missing ones. None: as many as ``timeout``
        allows, which must then be set.
    timeout : float or None, default=None
        Stop each worker after this many seconds.
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
        Score of a trial whose fit raises; the trial is recorded as failed,
        with the reason in its ``fail_reason`` user attribute, and the search
        goes on. ``"raise"`` stops the search instead.
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
        for ``n_jobs > 1``), ``"sqlite:///study.db"``, or
        ``"postgresql://user@host/db"`` for workers on several machines.
    study_name : str or None, default=None
        Name of the study in ``storage``; an existing study of that name is
        resumed.
    sampler, pruner : optuna sampler and pruner, default=None
        TPE and the median pruner by default.
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
        bad trials (epoch reports: skmlp final estimators only).
    heartbeat_interval : int, default=10
        Seconds between a running trial's heartbeats in an RDB storage; a
        trial silent for ``2 * heartbeat_interval`` seconds (its worker
        died) is marked failed.
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
    refit_time_ : float
    feature_names_in_ : ndarray of shape (n_features,)
        Column names the refit best estimator saw, when ``X`` had string
        column names (as ``GridSearchCV``).

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
        "estimator": [object],
        "param_distributions": [dict, callable],
        "n_trials": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [str, callable, list, tuple, dict, None],
        "refit": ["boolean", str, callable],
        "error_score": [StrOptions({"raise"}), Real],
        "return_train_score": ["boolean"],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "storage": [str, object, None],
        "study_name": [str, None],
        "sampler": [object, None],
        "pruner": [object, None],
        "start_from_estimator": ["boolean"],
        "enable_pruning": ["boolean"],
        "heartbeat_interval": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(self, estimator, param_distributions, *, n_trials=20, timeout=None, cv=5,
                 scoring=None, refit=True, error_score=np.nan, return_train_score=False,
                 random_state=None, n_jobs=None,
                 storage=None, study_name=None, sampler=None, pruner=None,
                 start_from_estimator=True, enable_pruning=True, heartbeat_interval=10,
                 verbose=0):
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
        self.sampler = sampler
        self.pruner = pruner
        self.start_from_estimator = start_from_estimator
        self.enable_pruning = enable_pruning
        self.heartbeat_interval = heartbeat_interval
        self.verbose = verbose

    def _sampler(self, worker=0):
        if self.sampler is not None:
            return self.sampler
        seed = None if self.random_state is None else self.random_state + worker
        return optuna.samplers.TPESampler(seed=seed)

    def _pruner(self):
        return self.pruner if self.pruner is not None else optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=5)

    def _refit_metric(self, scorers):
        if callable(self.scoring):
            # known once it has scored: a dict of metrics, or one number
            return self.refit if isinstance(self.refit, str) else "score"
        if not isinstance(self.scoring, (list, tuple, dict)):
            return "score"
        if not isinstance(self.refit, str):
            raise ValueError("With several metrics in scoring, refit must name the one to "
                             "optimise, e.g. refit='f1_macro'.")
        if self.refit not in self.scoring:
            raise ValueError(f"refit={self.refit!r} is not one of the metrics in scoring: "
                             f"{sorted(self.scoring)}.")
        return self.refit

    def fit(self, X, y=None, *, groups=None, **fit_params):
        """Run the study, then refit the best parameters on all of ``X, y``.

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
            ``sample_weight``) are split with the folds.

        Returns
        -------
        self : object
        """
        self._validate_params()
        if self.n_trials is None and self.timeout is None:
            raise ValueError("n_trials=None runs trials until the timeout, so it needs "
                             "timeout to be set.")
        # math.inf: no count stops the study, only the timeout
        n_trials = math.inf if self.n_trials is None else self.n_trials
        _check_space(self.estimator, self.param_distributions, self.random_state)
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, groups))
        scorers = check_scoring(self.estimator, self.scoring)
        refit_metric = self._refit_metric(scorers)
        objective = _Objective(self.estimator, self.param_distributions, X, y, splits,
                               scorers, refit_metric, fit_params, self.error_score,
                               n_trials, self.enable_pruning, self.return_train_score)
        grace = 2 * self.heartbeat_interval
        n_jobs = effective_n_jobs(self.n_jobs)
        with tempfile.TemporaryDirectory() as tmp, _optuna_logging(self.verbose):
            storage = self.storage
            if storage is None and n_jobs > 1:
                storage = optuna.storages.JournalStorage(
                    optuna.storages.journal.JournalFileBackend(os.path.join(tmp, "journal")))
            opened = _open_storage(storage, self.heartbeat_interval, grace)
            study_name = self.study_name or f"skmlp-{time.time_ns()}"
            self.study_ = optuna.create_study(
                storage=opened, study_name=study_name, direction="maximize",
                sampler=self._sampler(), pruner=self._pruner(), load_if_exists=True)
            if self.start_from_estimator and not self.study_.get_trials(deepcopy=False):
                start = _starting_suggestions(self.estimator, self.param_distributions)
                if start is not None:
                    # skip_if_exists: workers on other machines may find the
                    # shared study empty at the same moment
                    self.study_.enqueue_trial(start, skip_if_exists=True)
            if n_jobs == 1:
                _optimize(self.study_, objective, n_trials, self.timeout)
            else:
                worker_storage = storage if isinstance(storage, str) else opened
                Parallel(n_jobs=n_jobs, backend="loky")(
                    delayed(_worker)(worker_storage, study_name, self._sampler(i),
                                     self._pruner(), objective, n_trials, self.timeout,
                                     self.heartbeat_interval, grace, self.verbose)
                    for i in range(n_jobs))
            if self.storage is None and n_jobs > 1:
                # keep the study readable once the temporary journal is gone
                memory = optuna.storages.InMemoryStorage()
                optuna.copy_study(from_study_name=study_name, from_storage=opened,
                                  to_storage=memory)
                self.study_ = optuna.load_study(study_name=study_name, storage=memory)
            self.n_splits_ = len(splits)
            self._set_results(refit_metric, self.n_splits_)
        if self.refit is not False:
            start = time.perf_counter()
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False))
            self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        return self

    def _set_results(self, refit_metric, n_splits):
        trials = [t for t in self.study_.get_trials(deepcopy=False)
                  if t.state.is_finished()]
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            reasons = {t.user_attrs.get("fail_reason") for t in trials} - {None}
            raise ValueError(f"No trial completed ({len(trials)} failed or pruned). "
                             f"Failures: {sorted(reasons) or 'none'}.")
        self.n_trials_ = sum(t.state in _FINISHED for t in trials)
        metrics = sorted({m for t in complete for m in t.user_attrs["split_scores"]})
        results = {"trial_number": np.array([t.number for t in trials]),
                   "state": np.array([t.state.name for t in trials]),
                   "params": [_estimator_params(t, self.param_distributions)
                              for t in trials]}
        for name in sorted({n for p in results["params"] for n in p}):
            # filled one by one, as GridSearchCV does: np.array would turn
            # equal-length tuples (hidden_layer_sizes) into a 2-D array
            column = np.ma.MaskedArray(np.empty(len(trials), dtype=object), mask=True)
            for i, params in enumerate(results["params"]):
                if name in params:
                    column[i] = params[name]
            results[f"param_{name}"] = column
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
            mean = results[f"mean_test_{metric}"]
            order = np.argsort(-np.nan_to_num(mean, nan=-np.inf), kind="stable")
            rank = np.empty(len(mean), dtype=np.int32)
            rank[order] = np.arange(1, len(mean) + 1)
            results[f"rank_test_{metric}"] = rank
        self.cv_results_ = results
        # from the same snapshot as the table: in a shared study another worker's
        # trial may finish (and become the study's best) after it was taken
        if callable(self.refit):
            self.best_index_ = _refit_index(self.refit(results), len(trials))
        else:
            best = max(complete, key=lambda trial: trial.value)
            self.best_index_ = int(np.flatnonzero(results["trial_number"] == best.number)[0])
            self.best_score_ = float(np.mean(_refit_scores(best.user_attrs["split_scores"],
                                                           refit_metric)))
        self.best_params_ = results["params"][self.best_index_]
        self.scorer_ = check_scoring(self.estimator, self.scoring)
        self.multimetric_ = metrics != ["score"]

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

    def score(self, X, y=None):
        """Score of the refit best estimator, with ``scoring`` (its refit metric)."""
        result = self.scorer_(self._refit_estimator("score"), X, y)
        return result[self.refit] if isinstance(result, dict) else result

    @property
    def classes_(self):
        """Classes of the refit best estimator."""
        return self._refit_estimator("classes_").classes_

    @property
    def n_features_in_(self):
        """Number of features the refit best estimator saw."""
        return self._refit_estimator("n_features_in_").n_features_in_

