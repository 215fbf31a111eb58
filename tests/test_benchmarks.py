"""The benchmark command line: results folders, bad names, interrupted runs; scoring rules."""

import argparse
import importlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest

from benchmarks import anomaly, compare
from benchmarks._results import results_folder


def test_small_run_writes_fold_csv_summary_and_plots(tmp_path, capsys):
    compare.main(["--datasets", "yeast", "--models", "sklearn", "skmlp", "--run", "small",
                  "--out", str(tmp_path)])
    # a progress bar, each redraw naming a finished fit beside a count that includes it
    redraws = [line for line in capsys.readouterr().err.split("\r") if " fold " in line]
    assert redraws and "6/6" in redraws[-1]
    assert not any(re.search(r"\b0/6\b", line) for line in redraws)
    folder = tmp_path / "small"
    folds = pd.read_csv(folder / "folds.csv")
    assert len(folds) == 6 and set(folds["model"]) == {"sklearn", "skmlp"}
    assert folds["f1_macro"].between(0, 1).all() and (folds["fit_seconds"] > 0).all()
    summary = (folder / "summary.md").read_text()
    assert "### yeast" in summary and "wins/losses vs sklearn" in summary
    assert "### Quality bar" in summary
    assert (folder / "yeast.png").stat().st_size > 0


def test_parallel_run_gives_the_serial_results_in_the_same_order(tmp_path):
    # the slower model first: in a parallel run its first fit finishes second
    # (and skmlp's, on one thread either way, round the same in both runs)
    models = ["skmlp_smote", "skmlp"]
    runs = {}
    for n_jobs in ("1", "2"):
        compare.main(["--datasets", "yeast", "--models", *models, "--run", n_jobs,
                      "--out", str(tmp_path), "--n-jobs", n_jobs])
        runs[n_jobs] = tmp_path / n_jobs
    folds = {n: pd.read_csv(folder / "folds.csv") for n, folder in runs.items()}
    assert list(folds["1"]["model"]) == models * 3
    # fits are seeded: the same scores, whichever process ran them
    key = ["task", "model", "fold"]
    timings = ["fit_seconds", "predict_seconds"]
    pd.testing.assert_frame_equal(
        *(f.drop(columns=timings).sort_values(key).reset_index(drop=True)
          for f in folds.values()))

    def model_rows(summary):
        return [line.split("|")[1].strip() for line in summary.splitlines()
                if line.startswith(("| skmlp", "| sklearn"))]

    for folder in runs.values():
        assert model_rows((folder / "summary.md").read_text()) == models


@pytest.mark.parametrize("option, name", [("--datasets", "iris"), ("--models", "xgboost"),
                                          ("--scenario", "dropout")])
def test_unknown_names_list_the_valid_ones(option, name, capsys):
    with pytest.raises(SystemExit):
        compare.main([option, name])
    err = capsys.readouterr().err
    assert f"invalid choice: '{name}'" in err and "choose from" in err


def _usage_error(module, argv, capsys):
    """The stderr of ``python -m benchmarks.<module> <argv>``, which must exit with 2."""
    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(f"benchmarks.{module}").main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("module, argv, message", [
    ("compare", ["--n-jobs", "0"], "--n-jobs: must not be 0"),
    ("compare", ["--seed", "-1"], "--seed: must be at least 0, got -1"),
    ("defaults", ["--n-jobs", "0"], "--n-jobs: must not be 0"),
    ("anomaly", ["--seeds", "0", "-2"], "--seeds: must be at least 0, got -2"),
    ("tuning", ["--max-iter", "0"], "--max-iter: must be at least 1, got 0"),
    ("speed", ["--repeats", "0"], "--repeats: must be at least 1, got 0"),
    ("speed", ["--defaults-sizes", "11"], "--defaults-sizes: must be at least 12, got 11"),
    ("text", ["--folds", "1"], "--folds: must be at least 2, got 1"),
    ("text", ["--rows", "many"], "--rows: invalid integer value: 'many'"),
    ("text", ["--rows", "7", "--folds", "2"], "--rows 7 is too few for 2 stratified folds"),
])
def test_bad_numbers_are_usage_errors_before_any_work(module, argv, message, tmp_path, capsys):
    assert message in _usage_error(module, argv + ["--out", str(tmp_path)], capsys)
    assert not any(tmp_path.iterdir())  # no results folder started


@pytest.mark.parametrize("module", ["compare", "defaults", "anomaly", "tuning", "speed",
                                    "text"])
@pytest.mark.parametrize("below", ["", "runs"])
def test_out_that_is_a_file_is_a_usage_error_before_any_work(module, below, tmp_path, capsys):
    # it failed with NotADirectoryError once the run came to make its folder
    taken = tmp_path / "notes.txt"
    taken.write_text("not results")
    error = _usage_error(module, ["--out", str(taken / below)], capsys)
    assert f"--out: {str(taken)!r} is a file, not a folder" in error
    assert taken.read_text() == "not results"


@pytest.mark.parametrize("module", ["compare", "defaults", "anomaly", "tuning", "speed",
                                    "text"])
def test_every_option_of_every_command_says_what_it_does(module, monkeypatch):
    def capture(parser, argv=None):
        raise _Parsed(parser)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    with pytest.raises(_Parsed) as parsed:
        importlib.import_module(f"benchmarks.{module}").main([])
    options = parsed.value.parser._actions
    assert [action.dest for action in options if not action.help] == []
    # and what it does when not given, where it takes a value
    assert [action.dest for action in options
            if action.default not in (None, False, argparse.SUPPRESS)
            and "default" not in action.help] == []


class _Parsed(Exception):
    def __init__(self, parser):
        self.parser = parser


@pytest.mark.parametrize("argv, message", [
    # it crashed with a KeyError after making the results folder
    (["--datasets", "nyse_close", "--models", "skmlp_smote", "sklearn_es"],
     "--models: skmlp_smote (classification only) fits none of the tasks run: nyse_close"),
    # it ran the studies' own tasks and said nothing
    (["--scenario", "optimiser", "--datasets", "yeast"],
     "--scenario runs each study on its own tasks and models, so --datasets would be"),
    (["--scenario", "optimiser", "--full", "--models", "skmlp"], "--full and --models"),
])
def test_options_that_would_do_nothing_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_model_of_one_kind_runs_on_the_tasks_of_that_kind_among_those_named():
    args = compare.parse_args(["--datasets", "nyse_close", "yeast", "--models", "skmlp_smote"])
    assert args.models == ["skmlp_smote"]


@pytest.mark.parametrize("module, option, values", [
    ("compare", "--datasets", ["yeast", "yeast"]),
    ("compare", "--models", ["sklearn", "skmlp", "sklearn"]),
    ("compare", "--scenario", ["optimiser", "optimiser"]),
    ("anomaly", "--seeds", ["1", "0", "1"]),  # its summary adds windows hit over the seeds
    ("defaults", "--candidates", ["sklearn", "sklearn"]),
    ("speed", "--sizes", ["1000", "1000"]),
    ("speed", "--defaults-sizes", ["1000", "1000"]),
    ("tuning", "--datasets", ["yeast", "yeast"]),
])
def test_a_value_given_twice_is_a_usage_error_before_any_work(module, option, values,
                                                              tmp_path, capsys):
    # it ran twice, and counted twice where a summary adds over the runs
    error = _usage_error(module, [option, *values, "--out", str(tmp_path)], capsys)
    assert f"argument {option}: {values[0]} given more than once" in error
    assert not any(tmp_path.iterdir())


def test_text_subset_keeps_each_topics_share():
    from benchmarks import text

    texts, y = text._texts(40)
    assert len(texts) == 40 and y.value_counts().tolist() == [10] * text.N_TOPICS
    assert len(text._texts(10**6)[0]) == len(text._texts(None)[0])


def test_existing_results_folder_needs_overwrite(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("old results")
    with pytest.raises(SystemExit, match="exists; pass --overwrite"):
        compare.main(["--run", "taken", "--out", str(tmp_path)])
    assert (tmp_path / "taken" / "keep.txt").read_text() == "old results"
    assert compare.parse_args(["--run", "taken", "--overwrite"]).overwrite
    folder = results_folder(tmp_path, "taken", overwrite=True)
    assert folder == tmp_path / "taken" and list(folder.iterdir()) == []


@pytest.mark.parametrize("run", [".", "..", "../elsewhere", "a/b"])
def test_run_name_is_one_folder_under_out_so_overwrite_deletes_nothing_else(run, tmp_path,
                                                                             capsys):
    out = tmp_path / "results"
    (out / "earlier-run").mkdir(parents=True)
    with pytest.raises(SystemExit):
        compare.main(["--run", run, "--overwrite", "--out", str(out), "--datasets", "yeast",
                      "--models", "sklearn"])
    assert f"{run!r} is not a folder name" in capsys.readouterr().err
    assert (out / "earlier-run").is_dir()


def test_interrupted_run_keeps_every_finished_fold(tmp_path, monkeypatch):
    evaluate = compare.evaluate
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(compare, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        compare.main(["--datasets", "yeast", "--models", "sklearn", "--run", "cut",
                      "--out", str(tmp_path), "--n-jobs", "1"])  # evaluate patched here
    folds = pd.read_csv(tmp_path / "cut" / "folds.csv")
    assert len(folds) == 2 and folds.notna()["accuracy"].all()


def test_ctrl_c_on_a_parallel_run_keeps_every_finished_fold(tmp_path):
    # the default run: fits in worker processes, interrupted as a user would.
    # A suite a non-interactive shell starts in the background (`make test &`
    # in a script, nohup) ignores SIGINT, and a child inherits an ignored
    # signal: the run gets Python's handler here.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run = subprocess.Popen([sys.executable, "-m", "benchmarks", "--datasets", "yeast",
                                "steel_plates", "--run", "cut", "--out", str(tmp_path)],
                               cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, previous)
    csv = tmp_path / "cut" / "folds.csv"
    deadline = time.monotonic() + 120
    while not (csv.exists() and len(csv.read_text().splitlines()) >= 3):
        assert run.poll() is None and time.monotonic() < deadline, "no fold finished"
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode != 0 and b"KeyboardInterrupt" in stderr, stderr.decode()[-2000:]
    folds = pd.read_csv(csv)
    # 36 fits in all: the run stopped early, and every row it wrote is whole
    assert 2 <= len(folds) < 36 and folds.notna()[["accuracy", "f1_macro"]].all().all()


@pytest.mark.parametrize("kind, metric, reference, baseline", [
    ("classification", "f1_macro", "sklearn", "MLPClassifier"),
    ("regression", "r2", "sklearn", "MLPRegressor"),
    ("anomaly", "roc_auc", "isolation_forest", "IsolationForest")])
def test_defaults_study_reports_differences_from_scikit_learn_with_wins_and_losses(
        kind, metric, reference, baseline):
    from benchmarks import defaults

    folds = pd.DataFrame({
        "data": ["a", "a", "b", "b"] * 2,
        "candidate": [reference] * 4 + ["skmlp"] * 4,
        "fold": [0, 1, 0, 1] * 2,
        metric: [0.5, 0.7, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7],
        "fit_seconds": [1.0] * 4 + [2.0] * 4,
    })
    report = defaults.report(folds, kind)
    difference = report.split(f"Difference from scikit-learn's {baseline}():")[1]
    difference = difference.split("Mean fit seconds")[0]
    rows = {line.split("|")[1].strip(): float(line.split("|")[2])
            for line in difference.splitlines() if line.startswith("| ") and "---" not in line
            and "skmlp" not in line}
    assert rows == pytest.approx({"a": 0.1, "b": -0.1, "mean": 0.0, "wins": 1, "losses": 1})


@pytest.mark.parametrize("kind, name", [("classification", "xgboost"),
                                        ("regression", "dropout_0.2")])
def test_defaults_study_rejects_candidates_not_of_its_kind(kind, name, capsys):
    from benchmarks import defaults

    with pytest.raises(SystemExit):
        defaults.main(["--kind", kind, "--candidates", name])
    assert f"invalid choice: {name!r}" in capsys.readouterr().err


def test_unscaled_defaults_study_leaves_the_numbers_as_they_come():
    from sklearn.preprocessing import StandardScaler

    from benchmarks import defaults
    from benchmarks.tasks import TASKS
    task = TASKS["maintenance_type"]
    X, _ = task.load()
    unscaled = defaults._without_scaling(task.preprocessor).fit_transform(X)
    numbers = X.drop(columns=task.categorical).to_numpy()
    # the one-hot codes first, then the numbers untouched
    np.testing.assert_array_equal(unscaled[:, -numbers.shape[1]:], numbers)
    np.testing.assert_array_equal(defaults._without_scaling(StandardScaler).fit_transform(
        numbers), numbers)


def test_anomaly_defaults_study_trains_on_normal_rows_and_ranks_the_test_fold():
    from benchmarks import defaults

    study = defaults.STUDIES["anomaly"]
    sets = study.data_sets()
    assert len(sets) == 9
    for name, (_, X, y) in sets.items():
        assert len(X) == len(y) and set(y.unique()) == {0, 1}, name
        assert 0 < y.mean() < 0.4, name  # anomalies are the minority
    _, X, y = sets["iris"]
    seen = []

    class Recorder(IsolationForest):
        def fit(self, X, y=None):
            seen.append(len(X))
            return super().fit(X, y)

    study.fit(Recorder(random_state=0), X, y)
    assert seen == [100]  # the 50 virginica rows are held out of training
    # scikit-learn's convention: score_samples is lower for the more abnormal
    oracle = SimpleNamespace(score_samples=lambda X: -y.loc[X.index].to_numpy())
    assert study.score(oracle, X, y) == 1.0


def test_regression_defaults_study_has_aligned_finite_data_sets():
    from benchmarks import defaults

    sets = defaults.STUDIES["regression"].data_sets()
    assert len(sets) == 10
    for name, (preprocessor, X, y) in sets.items():
        assert len(X) == len(y) > 400, name
        assert np.isfinite(preprocessor().fit_transform(X)).all(), name
        targets = y.to_numpy()
        assert np.isfinite(targets).all() and (targets.std(axis=0) > 0).all(), name


def test_speed_benchmark_interleaves_fits_and_keeps_each_ones_fastest(monkeypatch):
    from benchmarks import speed

    calls = []
    seconds = iter([3.0, 2.0, 5.0, 1.0, 1.0, 4.0, 2.0, 2.0])  # two rounds of four

    def fake_time_fit(name, X, y, hidden, epochs):
        calls.append(name)
        return next(seconds), 0.5, f"predict of {name} #{calls.count(name)}"

    monkeypatch.setattr(speed, "time_fit", fake_time_fit)
    pauses = []
    monkeypatch.setattr(speed.time, "sleep", pauses.append)
    best = speed.best_fits([[0.0]] * 10, [0] * 10, (4,), epochs=3, repeats=2)
    assert calls == list(speed.IMPLEMENTATIONS) * 2
    assert pauses == [speed._SETTLE_SECONDS] * 8  # one before every fit
    assert {name: fit[1] for name, fit in best.items()} == {
        "sklearn": 1.0, "skmlp": 2.0, "skorch": 2.0, "minimal": 1.0}
    assert best["sklearn"][3] == "predict of sklearn #2"


def test_speed_benchmark_cold_start_times_a_fresh_process_and_keeps_each_columns_fastest(
        monkeypatch):
    from benchmarks import speed

    real = speed.cold_start("skmlp", repeats=1)  # a real new process
    assert real["model"] == "skmlp"
    assert min(real["import_s"], real["first_fit_s"], real["second_fit_s"]) > 0
    outputs = iter(["[3.0, 0.5, 0.2]", "[2.0, 0.9, 0.1]"])
    monkeypatch.setattr(speed.subprocess, "run", lambda *args, **kwargs: SimpleNamespace(
        stdout="a warning\n" + next(outputs)))
    assert speed.cold_start("sklearn", repeats=2) == pytest.approx({
        "model": "sklearn", "import_s": 2.0, "first_fit_s": 0.5, "second_fit_s": 0.1,
        "one_off_s": 0.4})


# 300 rows may not raise a library's peak memory at all: a ratio to 0 MB
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value encountered in divide:RuntimeWarning")
def test_speed_benchmark_writes_its_tables_with_ratios_against_scikit_learn(monkeypatch,
                                                                            tmp_path):
    from benchmarks import speed

    # tested on their own above and below: fresh processes take seconds each
    monkeypatch.setattr(speed, "cold_start", lambda name, repeats: {
        "model": name, "import_s": 1.0, "first_fit_s": 0.2, "second_fit_s": 0.1,
        "one_off_s": 0.1})
    monkeypatch.setattr(speed, "peak_memory_mb", speed.measure_fit_memory)  # in this process
    monkeypatch.setattr(speed, "_SETTLE_SECONDS", 0.0)
    assert speed.main(["--sizes", "300", "--deep-rows", "200", "--memory-rows", "300",
                       "--regression-rows", "250", "--repeats", "1", "--defaults-sizes", "400",
                       "--out", str(tmp_path)]) == 0
    [folder] = tmp_path.iterdir()
    classification = pd.read_csv(folder / "classification.csv")
    assert list(classification["model"]) == list(speed.IMPLEMENTATIONS) * 2
    assert list(classification["rows"]) == [300] * 4 + [200] * 4
    sklearn = classification["model"] == "sklearn"
    assert (classification.loc[sklearn, "seconds_per_epoch_vs_sklearn"] == 1.0).all()
    assert (classification["seconds_per_epoch"] > 0).all()
    assert classification["train_accuracy"].between(0, 1).all()
    memory = classification.loc[classification["rows"] == 300, "peak_memory_mb"]
    assert memory.notna().all() and (memory >= 0).all()
    regression = pd.read_csv(folder / "regression.csv")
    assert list(regression["model"]) == ["sklearn", "skmlp"]
    assert (regression["rows"] == 250).all() and (regression["single_row_predict_ms"] > 0).all()
    assert list(pd.read_csv(folder / "cold_start.csv")["model"]) == list(speed.IMPLEMENTATIONS)
    defaults = pd.read_csv(folder / "defaults.csv")
    assert list(defaults["model"]) == ["sklearn", "skmlp"]
    assert (defaults["rows"] == 400).all()
    summary = (folder / "summary.md").read_text()
    assert "### Regressor (250 rows)" in summary and "### Cold start" in summary


def test_speed_benchmark_fits_each_librarys_defaults_and_scores_held_out_rows(monkeypatch):
    from benchmarks import speed

    made = []
    real = {"sklearn": speed.SklearnClassifier, "skmlp": speed.MLPClassifier}

    def recording(name):
        def make(**params):
            made.append((name, params))
            return real[name](**params)
        return make

    monkeypatch.setattr(speed, "SklearnClassifier", recording("sklearn"))
    monkeypatch.setattr(speed, "MLPClassifier", recording("skmlp"))
    monkeypatch.setattr(speed.time, "sleep", lambda seconds: None)
    table = speed.with_ratios(speed.run_defaults([400], repeats=1), ["rows"])
    assert made == [("sklearn", {"random_state": 0}), ("skmlp", {"random_state": 0})]
    assert list(table["model"]) == ["sklearn", "skmlp"]
    assert (table["rows"] == 400).all() and table["epochs"].between(1, 200).all()
    assert table["test_accuracy"].gt(1 / speed.N_CLASSES).all()  # better than chance
    assert table["fit_seconds_vs_sklearn"].iloc[0] == 1.0


def test_speed_benchmark_times_predictions_in_turns(monkeypatch):
    from benchmarks import speed

    clock = iter(range(1000))
    monkeypatch.setattr(speed.time, "perf_counter", lambda: next(clock))
    pauses = []
    monkeypatch.setattr(speed.time, "sleep", pauses.append)
    calls = []
    predicts = {"a": lambda X: calls.append(("a", len(X))),
                "b": lambda X: calls.append(("b", len(X)))}
    times = speed.prediction_times(predicts, [[0.0]] * 10, repeats=2, calls=3)
    # whole-data rounds alternate, then single rows alternate
    assert calls == [("a", 10), ("b", 10)] * 2 + [("a", 1), ("b", 1)] * 3
    assert len(pauses) == 4  # before each whole-data prediction only
    # each call reads the fake clock twice: every call takes one tick
    assert times == {"a": (1, 1e3), "b": (1, 1e3)}


def test_anomaly_counts_each_alarm_once_and_skips_windows_of_the_probation_period():
    index = pd.date_range("2024-01-01", periods=10, freq="h")
    windows = [(index[0], index[1]), (index[5], index[6])]  # the first ends before start
    flags = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1, 1], dtype=bool)
    scores = anomaly._evaluate(flags, index, windows, start=2)
    # evaluated: points 2-9; flagged 3, 5, 6, 8, 9; alarms start at 3, 5 and 8
    assert scores == {"windows hit": 1, "windows": 1, "alarms": 3,
                      "false alarms per 1k points": 1000 * 3 / 8, "point precision": 2 / 5,
                      "alarm precision": 1 / 3, "window recall": 1.0}


def test_anomaly_summary_sums_windows_hit_over_seeds_and_averages_the_rest():
    rows = pd.DataFrame({"series": ["s", "s"], "detector": ["d", "d"], "threshold": ["t", "t"],
                         "windows hit": [1, 2], "windows": [2, 2], "alarms": [4, 6],
                         "seed": [0, 1]})
    assert anomaly._summarise_series(rows).to_dict("records") == [
        {"series": "s", "detector": "d", "threshold": "t", "windows hit": "3/4", "alarms": 5.0}]
    tabular = pd.DataFrame({"detector": ["d", "d"], "ROC-AUC": [0.8, 0.6], "seed": [0, 1]})
    assert anomaly._summarise_tabular(tabular).to_dict("records") == [
        {"detector": "d", "ROC-AUC": "0.700 ± 0.141"}]


def test_anomaly_run_writes_every_seed_and_a_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(anomaly, "NAB_SERIES", ("ambient_temperature_system_failure",))
    anomaly.main(["--seeds", "0", "1", "--out", str(tmp_path)])
    (folder,) = tmp_path.iterdir()
    series = pd.read_csv(folder / "nab.csv")
    assert sorted(series["seed"].unique()) == [0, 1]
    assert set(series["detector"]) == {
        "MLPAutoencoder (squared error)", "MLPAutoencoder (absolute error)", "IsolationForest",
        "rolling z-score (30) of the values"}
    assert len(pd.read_csv(folder / "maintenance.csv")) == 2 * 3
    summary = (folder / "summary.md").read_text()
    assert "(seeds 0, 1)" in summary
    assert re.search(r"\| [0-4]/4 +\|", summary)  # windows hit of 2 windows x 2 seeds


def test_text_benchmark_times_every_model_against_scikit_learn(tmp_path, monkeypatch):
    from benchmarks import text

    # two models at 3 epochs keep the run short; the measures are the point here
    models = {name: text.MODELS[name] for name in ("sklearn", "skmlp")}
    monkeypatch.setattr(text, "MODELS", {
        name: lambda seed, make=make: make(seed).set_params(max_iter=3)
        for name, make in models.items()})
    text.main(["--rows", "400", "--folds", "2", "--max-features", "500", "--out", str(tmp_path)])
    (folder,) = tmp_path.iterdir()
    folds = pd.read_csv(folder / "folds.csv")
    assert list(folds["model"]) == ["sklearn", "skmlp"] * 2
    assert folds["accuracy"].between(0, 1).all() and (folds["epochs"] == 3).all()
    summary = text.summarise(folds).set_index("model")
    assert summary.loc["sklearn", "fit vs sklearn"] == 1.0
    assert summary.loc["skmlp", "fit vs sklearn"] == pytest.approx(
        folds.query("model == 'skmlp'")["fit_seconds"].mean()
        / folds.query("model == 'sklearn'")["fit_seconds"].mean(), abs=0.005)
    assert "AG News" in (folder / "summary.md").read_text()


def test_next_day_task_predicts_tomorrows_return_from_past_days_only():
    from benchmarks.tasks import TASKS
    from skmlp.datasets import load_nyse_prices

    X, y = TASKS["nyse_next_return"].load()
    prices = load_nyse_prices().frame.set_index(["symbol", "date"]).sort_index()
    for date, symbol in [X.index[0], X.index[len(X) // 2], X.index[-1]]:
        days = prices.loc[symbol]
        at = days.index.get_loc(date)
        close, volume = days["close"].to_numpy(), days["volume"].to_numpy()
        row = X.loc[(date, symbol)]
        for lag in range(5):  # the returns of this day and the four before
            assert row[f"return_lag{lag}"] == pytest.approx(
                np.log(close[at - lag] / close[at - lag - 1]))
        assert row["range"] == pytest.approx(np.log(days["high"].iloc[at] / days["low"].iloc[at]))
        assert row["volume_change"] == pytest.approx(np.log(volume[at] / volume[at - 1]))
        assert y.loc[(date, symbol)] == pytest.approx(np.log(close[at + 1] / close[at]))


def test_time_ordered_splits_train_on_earlier_whole_days():
    from benchmarks.tasks import TASKS

    task = TASKS["nyse_next_return"]
    X, y = task.load()
    dates = X.index.get_level_values("date")
    splits = task.splits(X, y, n_splits=4, n_repeats=3, seed=0)
    assert len(splits) == 4  # repeats of a time order would be the same folds
    for train, test in splits:
        assert dates[train].max() < dates[test].min()
        # every row of a test day is tested: no day is split between the two
        assert len(test) == dates.isin(dates[test].unique()).sum()
    sizes = [len(train) for train, _ in splits]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # expanding windows


def test_regression_splits_repeat_with_new_shuffles():
    from benchmarks.tasks import TASKS

    task = TASKS["nyse_close"]
    X, y = task.load()
    splits = task.splits(X, y, n_splits=3, n_repeats=2, seed=0)
    assert len(splits) == 6
    for repeat in (splits[:3], splits[3:]):
        tested = np.sort(np.concatenate([test for _, test in repeat]))
        np.testing.assert_array_equal(tested, np.arange(len(X)))  # each row tested once
    assert not np.array_equal(splits[0][1], splits[3][1])


def test_a_scenario_run_writes_a_table_a_plot_and_a_section_per_task(tmp_path, monkeypatch):
    from benchmarks import scenarios

    # two of the optimiser study's configurations, at 2 epochs
    configs = {label: {**scenarios.SCENARIOS["optimiser"]["configs"][label],
                       "max_iter": 2, "n_iter_no_change": 2}
               for label in ("mini-batch SGD", "L-BFGS")}
    monkeypatch.setitem(scenarios.SCENARIOS, "small", {"tasks": ["yeast"], "configs": configs})
    report = scenarios.run_scenarios(["small"], tmp_path, seed=0)
    table = pd.read_csv(tmp_path / "small_yeast.csv", index_col="config")
    assert list(table.index) == list(configs)
    assert table["f1_macro"].between(0, 1).all() and (table["epochs (fold 0)"] == 2).all()
    assert (tmp_path / "small_yeast.png").stat().st_size > 0
    assert report.startswith("### small: yeast")


@pytest.mark.parametrize("name", ["regularisation", "optimiser"])
def test_every_scenario_configuration_is_a_valid_classifier(name):
    from benchmarks import scenarios
    from skmlp import MLPClassifier

    X, y = np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 2
    for label, params in scenarios.SCENARIOS[name]["configs"].items():
        clf = MLPClassifier(**{**params, "max_iter": 1, "n_iter_no_change": 1}).fit(X, y)
        assert clf.n_iter_ == 1, label


def test_tuning_benchmark_compares_both_searches_in_one_run(tmp_path, monkeypatch):
    from benchmarks import tuning

    grid = {name: values[:1] for name, values in tuning.GRID.items()}
    grid["mlpclassifier__alpha"] = [1e-4, 1e-2]
    monkeypatch.setattr(tuning, "GRID", grid)
    tuning.main(["--datasets", "yeast", "--max-iter", "2", "--out", str(tmp_path)])
    (folder,) = tmp_path.iterdir()
    grid_row, optuna_row = pd.read_csv(folder / "tuning.csv").to_dict("records")
    assert grid_row["search"] == "GridSearchCV (2 candidates)"
    assert optuna_row["search"].startswith("OptunaSearchCV (")
    assert 0 <= optuna_row["best macro-F1"] <= 1 and 0 <= grid_row["best macro-F1"] <= 1
    assert optuna_row["score vs grid"] == pytest.approx(
        optuna_row["best macro-F1"] - grid_row["best macro-F1"])
    assert optuna_row["time vs grid"] == pytest.approx(
        optuna_row["seconds"] / grid_row["seconds"])
    assert "OptunaSearchCV" in (folder / "summary.md").read_text()


def test_tuning_benchmark_offers_the_classification_tasks_only(capsys):
    from benchmarks import tuning

    with pytest.raises(SystemExit):
        tuning.main(["--datasets", "nyse_close"])  # the searches score macro-F1
    err = capsys.readouterr().err
    assert "invalid choice: 'nyse_close'" in err
    assert "'maintenance_failure', 'maintenance_type', 'steel_plates', 'yeast')" in err


@pytest.mark.parametrize("task_name", ["maintenance_failure", "nyse_close"])
def test_every_model_is_scored_on_each_kind_of_task(task_name, monkeypatch):
    from functools import partial

    from benchmarks import models
    from benchmarks.tasks import TASKS

    # the tuned model's search at 2 trials keeps the run short
    monkeypatch.setattr(models, "OptunaSearchCV", partial(models.OptunaSearchCV, n_trials=2))
    task = TASKS[task_name]
    X, y = task.load()
    X, y = X.iloc[:400], y.iloc[:400]
    (train, test), _ = task.splits(X, y, n_splits=2, n_repeats=1, seed=0)
    primary = "roc_auc" if task.kind == "classification" else "r2"
    for name, (kinds, _, _) in models.MODELS.items():
        if task.kind in kinds:
            row = compare.evaluate(name, task, X, y, train, test, seed=0)
            assert np.isfinite(row[primary]) and row["fit_seconds"] > 0, name


def test_classification_defaults_study_has_fifteen_aligned_data_sets():
    from benchmarks import defaults

    sets = defaults.STUDIES["classification"].data_sets()
    assert len(sets) == 15
    for name, (preprocessor, X, y) in sets.items():
        assert len(X) == len(y) >= 150 and y.nunique() >= 2, name
        assert np.isfinite(preprocessor().fit_transform(X)).all(), name


def test_defaults_study_run_writes_every_fold_of_every_candidate(tmp_path, monkeypatch):
    from dataclasses import replace

    from benchmarks import defaults

    study = defaults.STUDIES["classification"]
    iris = defaults.datasets.load_iris(return_X_y=True, as_frame=True)
    small = replace(study, data_sets=lambda: {"iris": (defaults.StandardScaler, *iris)},
                    candidates={name: lambda seed, make=make: make(seed).set_params(max_iter=3)
                                for name, make in study.candidates.items()
                                if name in ("sklearn", "skmlp")})
    monkeypatch.setitem(defaults.STUDIES, "classification", small)
    defaults.main(["--n-jobs", "1", "--out", str(tmp_path)])
    (folder,) = tmp_path.iterdir()
    folds = pd.read_csv(folder / "folds.csv")
    assert sorted(zip(folds["candidate"], folds["fold"], strict=True)) == sorted(
        (candidate, fold) for candidate in ("sklearn", "skmlp") for fold in range(5))
    assert folds["f1_macro"].between(0, 1).all()
    assert "Difference from scikit-learn's MLPClassifier()" in (folder / "summary.md").read_text()
