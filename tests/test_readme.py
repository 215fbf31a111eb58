"""The README's examples run as written, so that it stays true.

Each test runs the first Python block under one README heading; the search
example runs with a smaller trial budget than the README's.
"""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).parents[1] / "README.md"


def _example(heading):
    """The source of the first Python block after the README heading ``heading``."""
    text = README.read_text()
    start = text.index(f"\n{heading}\n")
    return re.search(r"```python\n(.*?)```", text[start:], re.S).group(1)


def test_quick_start_prints_a_cross_validated_macro_f1(capsys):
    exec(_example("## Quick start"), {})
    assert 0.3 < float(capsys.readouterr().out) < 1


def test_anomaly_example_flags_a_few_time_stamps_of_the_series():
    names = {}
    exec(_example("### Anomaly detection"), names)
    assert set(np.unique(names["labels"])) == {-1, 1}
    alarms = names["alarms"]
    assert len(alarms) == len(names["series"])
    assert 0 < alarms.sum() < 0.1 * len(alarms)


def test_search_example_fits_and_stores_its_study_in_sqlite(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = _example("### Hyperparameter search")
    assert "n_trials=50" in code
    names = {}
    exec(code.replace("n_trials=50", "n_trials=1"), names)
    search = names["search"]
    assert (tmp_path / "study.db").stat().st_size > 0
    assert len(search.cv_results_["params"]) == 1
    assert search.best_score_ == search.cv_results_["mean_test_score"][0]
    assert search.predict(names["X"][:5]).shape == (5,)
