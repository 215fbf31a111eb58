"""skmlp: PyTorch multi-layer perceptrons that behave like scikit-learn estimators."""

from .autoencoder import MLPAutoencoder
from .classifier import MLPClassifier
from .regressor import MLPRegressor
from .tuning import OptunaSearchCV
from .windows import SlidingWindows

__version__ = "0.1.0"

__all__ = ["MLPAutoencoder", "MLPClassifier", "MLPRegressor", "OptunaSearchCV",
           "SlidingWindows", "__version__"]
