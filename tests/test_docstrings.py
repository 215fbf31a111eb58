"""Every public estimator documents exactly the parameters its constructor takes."""

import inspect
import re

import pytest

from skmlp import (
    MLPAutoencoder,
    MLPClassifier,
    MLPRegressor,
    OptunaSearchCV,
    SlidingWindows,
)

PUBLIC = [MLPAutoencoder, MLPClassifier, MLPRegressor, OptunaSearchCV, SlidingWindows]


def _documented_parameters(cls):
    doc = inspect.getdoc(cls)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n(?:Attributes|Returns|See Also|Examples)\n-+\n", section)[0]
    names = []
    for line in section.splitlines():
        match = re.match(r"^([\w, ]+) :", line)
        if match:
            names += [name.strip() for name in match.group(1).split(",")]
    return names


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_docstring_parameters_match_the_signature(cls):
    signature = [name for name in inspect.signature(cls.__init__).parameters
                 if name != "self"]
    assert _documented_parameters(cls) == signature


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_docstring_has_an_example(cls):
    assert ">>> " in inspect.getdoc(cls)
