"""Every public estimator documents exactly the parameters its constructor takes,
with the defaults it really has; every public function of the reports and
data sets, its parameters, what it returns and an example."""

import ast
import inspect
import re

import pytest

from skmlp import (
    MLPAutoencoder,
    MLPClassifier,
    MLPRegressor,
    OptunaSearchCV,
    SlidingWindows,
    datasets,
    reporting,
)

PUBLIC = [MLPAutoencoder, MLPClassifier, MLPRegressor, OptunaSearchCV, SlidingWindows]


def _parameter_lines(cls):
    doc = inspect.getdoc(cls)
    section = doc.split("Parameters\n----------\n", 1)[1]
    section = re.split(r"\n(?:Attributes|Returns|See Also|Examples)\n-+\n", section)[0]
    # "name : type" at the section's indentation; descriptions are indented
    return [line for line in section.splitlines() if re.match(r"^\w[\w, ]* :", line)]


def _documented_parameters(cls):
    names = []
    for line in _parameter_lines(cls):
        names += [name.strip() for name in line.split(" :")[0].split(",")]
    return names


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_docstring_parameters_match_the_signature(cls):
    signature = [name for name in inspect.signature(cls.__init__).parameters
                 if name != "self"]
    assert _documented_parameters(cls) == signature


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_docstring_has_numpydocs_sections_and_an_example(cls):
    doc = inspect.getdoc(cls)
    for section in ("Parameters", "Attributes", "See Also", "Examples"):
        assert f"\n{section}\n---" in doc, section
    assert ">>> " in doc


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_documented_defaults_are_the_signature_defaults(cls):
    signature = inspect.signature(cls.__init__).parameters
    checked = 0
    for line in _parameter_lines(cls):
        names = [name.strip() for name in line.split(" :")[0].split(",")]
        default = re.search(r"default=(.+)$", line)
        try:
            documented = ast.literal_eval(default.group(1))
        except (AttributeError, ValueError):  # no default, or one described in words
            continue
        for name in names:
            assert documented == signature[name].default, name
            checked += 1
    assert checked >= len(signature) // 2


def _public_functions(module):
    return [getattr(module, name) for name in module.__all__
            if inspect.isfunction(getattr(module, name))]


@pytest.mark.parametrize("function", _public_functions(reporting) + _public_functions(datasets),
                         ids=lambda function: function.__name__)
def test_public_functions_document_parameters_returns_and_an_example(function):
    doc = inspect.getdoc(function)
    for section in ("Parameters", "Returns", "Examples"):
        assert f"\n{section}\n---" in doc, section
    documented = set()
    for line in doc.split("Parameters\n----------\n", 1)[1].split("\nReturns\n")[0].splitlines():
        if re.match(r"^\w[\w, ]* : ", line):
            documented |= {name.strip() for name in line.split(" :")[0].split(",")}
    assert documented == set(inspect.signature(function).parameters)


@pytest.mark.parametrize("module", [reporting, datasets], ids=lambda module: module.__name__)
def test_every_public_function_is_in_all(module):
    defined = {name for name, function in inspect.getmembers(module, inspect.isfunction)
               if not name.startswith("_") and function.__module__ == module.__name__}
    assert defined <= set(module.__all__)
