"""Training losses, with per-sample weights that mean what users expect."""

import numpy as np
import torch
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight
from torch import nn
from torch.nn import functional as F

from ._validation import fits_float32


def half_poisson_deviance(raw, y_true, reduction="mean"):
    """Half the Poisson deviance of the mean ``exp(raw)`` (a log link), as scikit-learn's.

    ``y log(y / mu) - y + mu`` per element: zero where ``mu == y``, so the
    loss is never negative (which the relative ``tol`` test needs).
    """
    loss = torch.exp(raw) - y_true * raw + torch.xlogy(y_true, y_true) - y_true
    return loss.mean() if reduction == "mean" else loss


def binary_log_loss(raw, y_true, reduction="mean"):
    """Binary cross-entropy on logits, summed over the labels of a multilabel problem.

    scikit-learn's MLP minimises the mean over samples of the sum over labels,
    so that each label weighs as much as in a binary problem (a mean over
    every element would shrink the gradient by the number of labels: plain
    SGD at scikit-learn's rates then barely moved). With
    ``reduction="none"`` each element is scaled by the number of labels, so
    that the mean over elements is that loss.
    """
    loss = F.binary_cross_entropy_with_logits(raw, y_true, reduction=reduction)
    n_labels = raw.shape[1]
    return loss if n_labels == 1 else loss * n_labels


_LOSSES = {
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy": binary_log_loss,
    "squared_error": F.mse_loss,
    "absolute_error": F.l1_loss,
    "huber": F.huber_loss,
    "poisson": half_poisson_deviance,
}


class WeightedLoss(nn.Module):
    """Mean of a per-element loss, each sample scaled by its weight.

    The binary cross-entropy is summed over the labels of a multilabel
    problem before the mean over samples, as scikit-learn's (see
    :func:`binary_log_loss`).

    The weighted loss is ``sum_i w_i * loss_i / n`` (not divided by the sum
    of the weights), so that for a binary problem with weight ``p`` on the
    positive class it equals ``BCEWithLogitsLoss(pos_weight=p)``, and a
    weight of 2 counts a sample twice.

    Parameters
    ----------
    kind : str
        One of ``cross_entropy``, ``binary_cross_entropy``,
        ``squared_error``, ``absolute_error``, ``huber``, ``poisson`` (on
        raw outputs: the log of the mean).

    Examples
    --------
    >>> import torch
    >>> from skmlp._losses import WeightedLoss
    >>> loss = WeightedLoss("squared_error")
    >>> float(loss(torch.zeros(2, 1), torch.ones(2, 1), torch.tensor([1., 3.])))
    2.0
    """

    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, y_pred, y_true, sample_weight=None):
        loss = _LOSSES[self.kind]
        if sample_weight is None:
            return loss(y_pred, y_true)
        return weighted_mean(loss(y_pred, y_true, reduction="none"), sample_weight)


def per_sample(sample_weight, like):
    """``sample_weight`` shaped to scale the rows of ``like``."""
    return sample_weight.view((-1,) + (1,) * (like.ndim - 1))


def weighted_mean(per_element, sample_weight):
    """Mean of a per-element loss, each sample's terms multiplied by its weight."""
    return (per_element * per_sample(sample_weight, per_element)).mean()


def l1_penalty(weights, strength, n_rows):
    """``strength * sum(|W|) / n_rows`` over the weight matrices ``weights``."""
    return strength * sum(weight.abs().sum() for weight in weights) / n_rows


def combined_sample_weight(X, y, sample_weight=None, class_weight=None):
    """Per-sample weights from ``sample_weight`` and ``class_weight``, or None.

    Returns None when every weight would be 1, so that training takes the
    unweighted fast path. Weights must be finite, non-negative and not all
    0; otherwise the loss has no minimum (or is 0 whatever the network).
    """
    if sample_weight is None and class_weight is None:
        return None
    weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                  ensure_non_negative=True)
    source = "sample_weight"
    if class_weight is not None:
        per_class = compute_sample_weight(class_weight, y)
        if not np.all(np.isfinite(per_class) & (per_class >= 0)):
            # as negative sample weights: the loss would have no minimum
            raise ValueError(f"class_weight must give every class a finite, non-negative "
                             f"weight; got {class_weight!r}.")
        weight = weight * per_class
        source = "sample_weight times class_weight"
    if not weight.any():
        # scikit-learn's own check of this is newer than the oldest version skmlp supports
        raise ValueError(f"{source} is 0 for every sample, so the loss would be 0 and "
                         "nothing would train.")
    if not fits_float32(weight):
        raise ValueError(
            f"{source} reaches {weight.max():.3g}, beyond float32, which the loss is "
            "computed in. Divide the weights by a constant first, for example by their mean.")
    return weight
