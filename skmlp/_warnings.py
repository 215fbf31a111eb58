"""Warnings that point at the user's call, not at the line inside skmlp that gave them."""

import os
import sys
import warnings

import skorch

#: Files whose frames stand between the user's call and a warning: skmlp's,
#: skorch's (the training loop calls the callbacks) and scikit-learn's
#: ``_fit_context`` wrapper around ``fit``.
_INTERNAL_DIRECTORIES = tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                              for module in (sys.modules[__package__], skorch))
_FIT_WRAPPER = os.path.join("sklearn", "base.py")


def _internal(filename):
    return filename.startswith(_INTERNAL_DIRECTORIES) or filename.endswith(_FIT_WRAPPER)


def warn_at_caller(message, category):
    """``warnings.warn`` at the first frame outside skmlp, skorch and scikit-learn's fit wrapper.

    That is the user's ``fit`` call, or the scikit-learn meta-estimator's
    (a ``Pipeline``, a search) that made it; warning filters by module then
    work, and the message shows the user's line. Python 3.12's
    ``skip_file_prefixes``, by hand.
    """
    frame, level = sys._getframe(1), 2  # level 2: warn_at_caller's caller
    while frame is not None and _internal(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
