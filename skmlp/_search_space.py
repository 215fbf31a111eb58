"""Search spaces: the default conditional space for a skmlp estimator, and how a
trial's parameters are drawn, stored in a study and rebuilt from it."""

import warnings

import optuna
from sklearn.base import is_classifier

from ._base import BaseMLP

#: The states of a trial that counts toward ``n_trials``: it ran all its suggestions.
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


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
    extra : dict of str to optuna distribution, default=None
        More parameters to search, by their full names, as in a dict space:
        those of a pipeline's other steps (``"smote__k_neighbors"``), say.

    Examples
    --------
    >>> import optuna
    >>> from skmlp.tuning import DefaultSearchSpace
    >>> space = DefaultSearchSpace(prefix="mlpclassifier__")
    >>> trial = optuna.trial.FixedTrial({
    ...     "n_layers": 2, "width_0": 64, "width_1": 32, "activation": "relu",
    ...     "dropout": 0.1, "batch_norm": False, "alpha": 1e-4, "l1": 0.0,
    ...     "learning_rate_init": 1e-3, "batch_size": "auto", "class_weight": None})
    >>> space(trial)["mlpclassifier__hidden_layer_sizes"]
    (64, 32)
    """

    def __init__(self, prefix="", classifier=True, max_layers=3, lbfgs=False, extra=None):
        self.prefix = prefix
        self.classifier = classifier
        self.max_layers = max_layers
        self.lbfgs = lbfgs
        self.extra = extra

    def __repr__(self):
        # what a search's repr, a log or an experiment tracker shows of its space
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in
                             ("prefix", "classifier", "max_layers", "lbfgs", "extra"))
        return f"{type(self).__name__}({settings})"

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
        params = {self.prefix + name: value for name, value in params.items()}
        return {**params, **suggest(trial, self.extra or {})}

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
        extra = {name: _stored_value(params[name], dist)
                 for name, dist in (self.extra or {}).items()}
        return {**own, "n_layers": len(layers), **widths, **extra}


def default_search_space(estimator, extra=None):
    """The default search space for a skmlp estimator, alone or last in a pipeline.

    Widths and depth (conditional: one width per layer), activation, dropout,
    batch norm, ``alpha`` and ``l1``, the learning rate (log scale), batch
    size and, for classifiers, class weighting; with ``solver="lbfgs"``,
    not dropout, the learning rate or the batch size, which it does not take.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor, MLPAutoencoder or Pipeline
        A pipeline's last step must be a skmlp estimator.
    extra : dict of str to optuna distribution, default=None
        More parameters to search with it, as in a dict space: those of a
        pipeline's other steps, say (``{"smote__k_neighbors":
        IntDistribution(1, 5)}``). Checked as a dict space is; they may not
        name a parameter the default space searches.

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
    prefix, final = last_step(estimator)
    if not isinstance(final, BaseMLP):
        raise TypeError(f"default_search_space needs a skmlp estimator (or a pipeline "
                        f"ending in one), got {type(final).__name__}.")
    settings = dict(classifier=is_classifier(final), lbfgs=final.solver == "lbfgs")
    if extra:
        check_space(estimator, extra, random_state=None)
        # every trial of the space sets the same parameters (only widths vary)
        searched = _names_from_callable(DefaultSearchSpace(prefix, **settings), None)
        overlap = sorted(set(extra) & set(searched))
        if overlap:
            raise ValueError(f"extra names parameters the default space already searches: "
                             f"{overlap}. Write a space of your own to search them "
                             "differently.")
    return DefaultSearchSpace(prefix, extra=extra, **settings)


def last_step(estimator):
    """``(prefix of its parameters, estimator)`` of a pipeline's last step, or of ``estimator``."""
    if hasattr(estimator, "steps"):
        name, final = estimator.steps[-1]
        return f"{name}__", final
    return "", estimator


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


def suggest(trial, space):
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


def estimator_params(trial, space):
    """A finished trial's estimator parameters, rebuilt from its suggestions.

    Rebuilt rather than stored with the trial: a storage keeps JSON only, so
    a tuple would come back as a list and an object (a callable space may
    choose between scalers) could not be stored at all.
    """
    if not trial.params:  # a surplus trial stopped before its suggestions
        return {}
    try:
        return suggest(optuna.trial.FixedTrial(trial.params, trial.number), space)
    except (KeyError, ValueError):
        if trial.state == optuna.trial.TrialState.FAIL:
            return {}  # it failed between its suggestions (a space that raised)
        raise


def check_study_space(study, space):
    """Fail before any trial when a resumed study's trials are of another space.

    A study holds the suggestions of its trials by name; the parameters of
    each are rebuilt from them with ``space`` (see :func:`estimator_params`),
    which a space that names other suggestions cannot do.
    """
    # not failed trials: one may have stopped between its suggestions
    for trial in study.get_trials(deepcopy=False, states=FINISHED):
        try:
            estimator_params(trial, space)
        except (KeyError, ValueError) as err:
            raise ValueError(
                f"The study {study.study_name!r} holds trials of another search space: "
                f"trial {trial.number} suggested {sorted(trial.params)}, and this space "
                f"cannot rebuild its parameters from them ({err}). Give the search "
                "another study_name, or the space the study was started with.") from err


def _same_value(value, other):
    """Whether two parameter values are the same: equal, or, for estimators
    (which compare by identity), of one class with the same parameters."""
    if value is other:
        return True
    if hasattr(value, "get_params") and type(value) is type(other):
        params, others = value.get_params(deep=False), other.get_params(deep=False)
        return params.keys() == others.keys() and all(
            _same_value(params[name], others[name]) for name in params)
    try:
        return bool(value == other)
    except (TypeError, ValueError):  # arrays: elementwise
        return False


def _stored_value(value, dist):
    """``value`` as a trial of ``dist`` stores it: its label (see :func:`_choice_labels`)."""
    labels = _choice_labels(dist)
    if labels is None:
        return value
    same = [label for label, choice in zip(labels, dist.choices, strict=True)
            if _same_value(choice, value)]
    if not same:
        raise ValueError(f"{value!r} is not among the choices {dist.choices}")
    return same[0]


def starting_suggestions(estimator, space):
    """Suggestions that make a trial of ``space`` the estimator as given, or None.

    A dict space takes the estimator's values by name; a callable space only
    if it offers ``suggestions_for(params)``. None when a value lies outside
    its distribution or the space does not give the estimator's values back.
    """
    params = estimator.get_params(deep=True)
    prefix, final = last_step(estimator)
    if isinstance(final, BaseMLP):
        # dropout="auto" as the rate it stands for, which a space draws as a number
        params[f"{prefix}dropout"] = final._dropout()
    if callable(space) and not hasattr(space, "suggestions_for"):
        return None
    try:
        candidate = (space.suggestions_for(params) if callable(space)
                     else {name: _stored_value(params[name], dist)
                           for name, dist in space.items()})
        trial = optuna.trial.FixedTrial(candidate)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # FixedTrial warns of out-of-range values
            chosen = suggest(trial, space)
        if not all(_same_value(params[name], value) for name, value in chosen.items()):
            return None
    except (KeyError, ValueError, TypeError, Warning):
        return None
    return trial.params


def check_space(estimator, space, random_state):
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
