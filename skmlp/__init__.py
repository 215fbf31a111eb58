"""skmlp: PyTorch multi-layer perceptrons that behave like scikit-learn estimators."""

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__version__ = "0.1.0"

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
