# Two commands do all set-up: `make bench` (the main job) and `make test`.
# Each creates or updates the virtual environment in .venv first, from the
# pinned, known-good set in requirements/constraints.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: bench test test-oldest

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check \
		-c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

bench: $(STAMP)
	$(PY) -m benchmarks $(ARGS)

test: $(STAMP)
	$(VENV)/bin/ruff check skmlp benchmarks tests
	$(PY) -m pytest -n 2 $(ARGS)

# The suite on the oldest versions pyproject.toml allows (requirements/oldest.txt),
# in a separate environment; not part of CI (its torch is a 5 GB CUDA build).
OLDEST := .venv-oldest

test-oldest:
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c requirements/oldest.txt -e '.[dev]'
	$(OLDEST)/bin/python -m pytest -n 2 $(ARGS)
