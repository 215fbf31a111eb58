"""The numpydoc the estimators share: their training parameters (with each
estimator's own defaults), ``device`` and ``callbacks``, and the fitted
attributes, pasted into each estimator's docstring."""

from string import Template

_TRAINING_PARAMETERS = Template("""\
hidden_layer_sizes : array-like of shape (n_layers,), default=$hidden_layer_sizes
        Width of each hidden layer: ``(100,)`` is one layer of 100 units,
        ``(256, 128)`` two layers. An empty tuple gives a linear model.

    activation : {"relu", "leaky_relu", "prelu", "elu", "gelu", "selu", \
"tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.

    solver : {"adam", "adamw", "sgd", "rmsprop", "lbfgs"}, default="adam"
        Optimizer. ``adam``, ``adamw`` and ``sgd`` use torch's fused kernels.
        ``lbfgs`` is torch's L-BFGS on the whole training set, with a
        strong-Wolfe line search and a memory of 10 updates (scipy's, which
        scikit-learn uses); each epoch is one of its iterations, so
        ``max_iter`` counts iterations, as in scikit-learn. As there,
        ``batch_size``, ``shuffle``, ``learning_rate``,
        ``learning_rate_init`` and the other optimizers' options do not
        apply to it, and it trains without dropout (a rate above 0 is
        refused), as its line search compares the loss of several
        evaluations, which random masks would change.

    alpha : float, default=1e-4
        Strength of the L2 penalty on the connection weights (not on biases),
        with scikit-learn's meaning: ``0.5 * alpha * ||W||^2`` added to the
        mean loss of each batch, divided by the batch size. With
        ``solver="adamw"`` it is AdamW's decoupled weight decay instead.

    l1 : float, default=0.0
        Strength of the L1 penalty on the connection weights, scaled like
        ``alpha``: ``l1 * ||W||_1`` divided by the batch size.

    dropout : $dropout_types, default=$dropout
        Dropout rate after each hidden layer, one value for all layers or
        one per layer, each in [0, 1).$dropout_auto

    batch_norm : bool, default=False
        Normalise each hidden layer's pre-activations with batch norm.

    batch_size : int, "auto" or "full", default="auto"
        Rows per gradient step. ``"auto"`` is ``min(200, n_samples)`` as in
        scikit-learn, ``1`` is plain stochastic gradient descent, ``"full"``
        is full-batch gradient descent. A number larger than the training
        rows is clipped to them without a warning (scikit-learn warns), so
        that a search space's batch sizes fit small data sets quietly.

    learning_rate : {"constant", "step", "exponential", "cosine", \
"plateau", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule over epochs. ``step`` multiplies the rate by
        ``lr_decay`` every ``lr_step_size`` epochs; ``exponential`` decays
        it by the same amount smoothly; ``cosine`` anneals it towards zero
        over ``max_iter`` epochs, then starts again from
        ``learning_rate_init`` (each warm-started ``fit`` is one cycle;
        ``partial_fit`` cycles every ``max_iter`` calls; a fit can stop
        before the cycle ends on the ``tol`` / ``n_iter_no_change`` test,
        as the classifier did with this schedule after 107 and 91 of 200
        epochs on yeast and steel plates: set ``n_iter_no_change=max_iter``
        to run the whole cycle); ``plateau``
        multiplies it by ``lr_decay`` when the monitored loss (validation
        loss with early stopping, else training loss) has not improved by
        ``tol`` for ``lr_patience`` epochs. ``invscaling`` and ``adaptive``
        are scikit-learn's, and like there apply to ``solver="sgd"`` only
        (the other solvers keep a constant rate): ``invscaling`` sets the
        rate of epoch ``e`` (from 0) to ``learning_rate_init / (e * n + 1)
        ** power_t``, ``n`` training rows; ``adaptive`` divides the rate
        by 5 where the ``tol`` / ``n_iter_no_change`` test would stop
        training, and stops once the rate is at most 1e-6.

    learning_rate_init : float, default=1e-3
        Initial learning rate.

    power_t : float, default=0.5
        Exponent of the ``invscaling`` schedule.

    lr_decay : float, default=0.5
        Factor in (0, 1) applied by the ``step``, ``exponential`` and
        ``plateau`` schedules.

    lr_step_size : int, default=10
        Epochs per ``lr_decay`` for the ``step`` and ``exponential``
        schedules.

    lr_patience : int, default=5
        Epochs without improvement before the ``plateau`` schedule decays.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    shuffle : bool, default=True
        Visit the training rows in a new random order each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. With an int, two fits on the CPU give bit-identical weights,
        whatever the global numpy or torch random state (which is left
        untouched).

    tol : float, default=1e-4
$tol

    verbose : int, default=0
        0 is silent; 1 shows a progress bar over epochs with the training
        (and validation) loss; 2 or more prints each epoch's loss (and
        validation score) instead, in scikit-learn's lines (``Iteration 3,
        loss = 0.41234567``).

    warm_start : bool, default=False
        When True, ``fit`` continues training the existing network for
        ``max_iter`` more epochs instead of starting again. As in
        scikit-learn, each such ``fit`` takes the current training
        parameters (a changed ``learning_rate_init``, ``solver`` or
        ``alpha`` applies) with a new optimizer; the architecture must stay
        the same.

    momentum : float, default=0.9
        Momentum of the ``sgd`` and ``rmsprop`` solvers.

    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with ``sgd``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified
        for classifiers), stop when the validation loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch. Without it, training stops when the training loss
        stops improving in the same way.

    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping=True``.

    beta_1 : float, default=0.9
        Adam's decay rate of the first-moment estimate.

    beta_2 : float, default=0.999
        Adam's decay rate of the second-moment estimate.

    epsilon : float, default=1e-8
        Numerical-stability term of ``adam``, ``adamw`` and ``rmsprop``.

    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement of at least ``tol`` before stopping;
        ``np.inf`` never stops before ``max_iter``, as in scikit-learn.

    max_fun : int, default=15000
        Most evaluations of the loss by ``solver="lbfgs"``, its line
        searches included, in one call to ``fit``; training stops with a
        ``ConvergenceWarning`` when they are spent.
""")


#: How ``tol`` is read, by ``BaseMLP._tol_mode``.
_TOL_DOCS = {
    "abs": """\
        Smallest decrease of the monitored loss that counts as
        improvement, as in scikit-learn.""",
    "rel": """\
        Smallest relative decrease of the monitored loss that counts as
        improvement: an epoch improves on the best loss so far when its
        loss is below ``(1 - tol)`` times it. Relative, unlike
        scikit-learn's absolute ``tol``, as the loss is computed on
        standardised targets: a nearly noise-free target has a loss of
        ~1e-4, and an absolute test stopped it while its loss still fell
        (NYSE close: after ~20 epochs at an RMSE of 1.00; relative, 0.79
        after ~120 epochs).""",
}


_DROPOUT_AUTO = """ ``"auto"`` is 0.3 with the
        stochastic solvers and 0 with ``solver="lbfgs"``, which trains
        without dropout, so that scikit-learn's ``solver="lbfgs"`` code
        runs unchanged."""


def training_parameters(hidden_layer_sizes, dropout, tol_mode="abs"):
    """The shared numpydoc of the training parameters, with one estimator's
    defaults for those whose default differs between estimators."""
    auto = dropout == "auto"
    return _TRAINING_PARAMETERS.substitute(
        hidden_layer_sizes=repr(hidden_layer_sizes), dropout=f'"{dropout}"' if auto else dropout,
        dropout_types=('float, sequence of float or "auto"' if auto
                       else "float or sequence of float"),
        dropout_auto=_DROPOUT_AUTO if auto else "", tol=_TOL_DOCS[tol_mode])


STANDARDIZE_INPUTS_PARAMETER = """\
standardize_inputs : bool, default=True
        Standardise each input column inside the network, to mean 0 and
        standard deviation 1 over the rows ``fit`` is given (weighted by
        ``sample_weight``, as ``StandardScaler``), so that features in large
        units (prices, counts, sensor readings) train as well as scaled
        ones; scikit-learn's MLP needs a scaler in front for that. Columns
        of only 0 and 1 (one-hot codes, flags) are left as they are. The
        statistics are part of the network: a warm start keeps them, and
        ``coefs_[0]``, ``intercepts_[0]`` are the first layer's weights on
        the input as given. On input a ``StandardScaler`` has already
        standardised it changes nothing. Sparse input, and a network that
        ``partial_fit`` starts, are used as given (centring would make
        sparse data dense; one batch of a stream does not tell a column's
        spread).
"""

DEVICE_PARAMETERS = """\
device : str or torch.device, default="cpu"
        Where to train and predict: ``"cpu"``, ``"cuda"`` (or
        ``"cuda:N"``, or the ``torch.device`` of either), or ``"auto"``
        (CUDA when available). The default is skorch's: a model then
        trains the same way whether or not the machine has a GPU; ask for
        one with ``"auto"`` or ``"cuda"``. Another device torch has here
        (``"mps"``, ``"xpu"``) is used as it is, but skmlp's tests do not
        run there; one torch lacks is an error at ``fit``. The data is
        moved to the GPU once per call, not per batch, when it fits in half
        the GPU's free memory; larger data stays in host memory and is
        copied over batch by batch. A model trained on a GPU unpickles and
        predicts on a CPU-only machine.

    callbacks : list of (name, skorch.callbacks.Callback) or Callback, \
default=None
        Extra skorch callbacks for the underlying net. Callbacks that only
        implement epoch-level hooks keep training fast; a callback with
        batch-level hooks (or a ``Checkpoint``, whose file names read the
        last batch's record) switches on per-batch notifications. The
        history has skorch's ``train_loss_best`` and ``valid_loss_best``,
        which ``Checkpoint`` monitors. skorch's ``EpochScoring`` and
        ``BatchScoring`` are refused: they would score the raw outputs of
        the underlying net; a callback of your own can record a score with
        ``net.history.record(name, value)`` in ``on_epoch_end``.
"""

FITTED_ATTRIBUTES = """\
n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` had string
        column names.

    n_outputs_ : int
        Width of the output layer.

    n_iter_ : int
        Number of epochs the last ``fit`` or ``partial_fit`` call trained
        (1 after ``partial_fit``), as in scikit-learn; ``loss_curve_`` and
        ``t_`` go on over the calls of a warm-started model.

    t_ : int
        Number of training samples seen by the solver, as in scikit-learn
        (rows per epoch times epochs, over all calls).

    loss_ : float
        Mean training loss of the last epoch (without penalty terms).

    loss_curve_ : list of float
        Mean training loss of each epoch (without penalty terms).

    best_loss_ : float or None
        Lowest training loss; None when ``early_stopping=True``.

    validation_loss_curve_ : list of float or None
        Validation loss of each epoch when ``early_stopping=True``.

    best_validation_loss_ : float or None
        Lowest validation loss when ``early_stopping=True``; the weights
        of that epoch are the ones kept.

    validation_scores_ : list of float or None
        scikit-learn's validation score of each epoch when
        ``early_stopping=True`` (accuracy for the classifier, R² for the
        regressor; None for the autoencoder). Stopping watches the
        validation loss, not this score.

    best_validation_score_ : float or None
        Highest of ``validation_scores_``; its epoch need not be the one
        whose weights are kept.

    coefs_ : list of ndarray
        Weight matrix of each linear layer, ``coefs_[i]`` of shape
        ``(fan_in, fan_out)`` as in scikit-learn: float32 copies, read from
        the network (changing them does not change it). With
        ``batch_norm=True`` the normalisation between layers is not in them.

    intercepts_ : list of ndarray
        Bias vector of each linear layer, ``intercepts_[i]`` of shape
        ``(fan_out,)``; float32 copies like ``coefs_``.

    n_layers_ : int
        Number of layers, input and output included (``len(coefs_) + 1``).

    net_ : skmlp._net.TabularNet
        The fitted skorch net; ``net_.module_`` is the torch module.

    history_ : skorch.history.History
        Per-epoch record of losses, durations and learning-rate events.
"""
