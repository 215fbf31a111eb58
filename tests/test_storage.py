"""Studies in storage: resumed, shared by worker processes, SQLite after SIGKILL, PostgreSQL."""

import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skmlp import MLPClassifier, OptunaSearchCV
from skmlp._objective import first_heartbeat
from skmlp._storage import open_storage, with_installed_driver

sys.path.insert(0, str(Path(__file__).parent))
from search_worker import search  # noqa: E402

WORKER = Path(__file__).parent / "search_worker.py"
POSTGRES_URL = os.environ.get("SKMLP_TEST_POSTGRES_URL")


def test_a_resumed_study_is_not_started_again(tmp_path, Xy):
    X, y = Xy
    search = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                            {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                            cv=2, refit=False, random_state=0,
                            storage=f"sqlite:///{tmp_path / 'study.db'}", study_name="resumed",
                            load_if_exists=True)
    search.fit(X, y)
    search.set_params(n_trials=4).fit(X, y)
    fixed = [t.number for t in search.study_.trials if "fixed_params" in t.system_attrs]
    assert fixed == [0]
    assert search.n_trials_ == 4
    search.fit(X, y)  # a study that holds n_trials already runs none
    assert len(search.study_.trials) == 4 and search.n_trials_ == 4


def _open_at_once(url, barrier, results):
    barrier.wait()
    try:
        open_storage(url, None, None)
        results.put("opened")
    except Exception as err:  # noqa: BLE001 - reported to the test
        results.put(f"{type(err).__name__}: {err}")


def test_sqlite_workers_started_together_all_open_a_new_study_file(tmp_path):
    # Optuna creates a new file's schema table by table: of four processes
    # opening one file at the same moment, some failed with "table studies
    # already exists" or a UNIQUE constraint of its version table (in 6 of 10
    # tries of one file)
    context = multiprocessing.get_context("fork")  # spawned ones import for seconds
    for attempt in range(3):
        url = f"sqlite:///{tmp_path / f'study{attempt}.db'}"
        barrier, results = context.Barrier(4), context.Queue()
        workers = [context.Process(target=_open_at_once, args=(url, barrier, results))
                   for _ in range(4)]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        assert outcomes == ["opened"] * 4


def test_two_sqlite_workers_never_claim_the_same_queued_trial(tmp_path):
    # Optuna claims a queued trial by reading it as waiting, then setting it
    # running. Worker "a" holds such a claim half-done (read, not yet
    # written) while worker "b" asks for a trial: b must wait, then find
    # the trial taken. With sqlite3's own transactions, which take no lock
    # for a read, b claimed it too, and both workers ran trial 0.
    url = f"sqlite:///{tmp_path / 'study.db'}"
    a, b = open_storage(url, None, None), open_storage(url, None, None)
    optuna.create_study(study_name="queue", storage=a).enqueue_trial({"x": 0.5})
    other = optuna.load_study(study_name="queue", storage=b)
    asked = []
    with a.engine.begin() as claim:
        state = claim.exec_driver_sql("SELECT state FROM trials WHERE number = 0").scalar()
        assert state == "WAITING"
        thread = threading.Thread(target=lambda: asked.append(other.ask().number))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # b waits for a's claim to end
        claim.exec_driver_sql("UPDATE trials SET state = 'RUNNING' WHERE number = 0")
    thread.join()
    assert asked == [1]


def test_an_existing_study_is_resumed_only_when_asked(tmp_path, Xy):
    # a search run again on other data must not mix its trials with the old ones
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = OptunaSearchCV(MLPClassifier(max_iter=2, random_state=0),
                            {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                            cv=2, random_state=0, storage=storage, study_name="kept").fit(X, y)
    best = search.best_params_
    with pytest.raises(optuna.exceptions.DuplicatedStudyError,
                       match="already holds a study named 'kept'. Pass load_if_exists=True"):
        search.set_params(n_trials=3).fit(X[::-1], y[::-1])
    assert search.best_params_ == best  # the earlier fit's results stand
    assert len(optuna.load_study(study_name="kept", storage=storage).trials) == 2
    search.set_params(load_if_exists=True).fit(X, y)
    assert search.n_trials_ == 3 and len(search.study_.trials) == 3


def test_a_trial_started_after_the_study_is_full_is_tagged_and_left_out(tmp_path, Xy):
    # another worker's running trial fills the study: this worker's next
    # trial is not run, stays failed in the study and is not in cv_results_
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = OptunaSearchCV(MLPClassifier(max_iter=5, random_state=0),
                            {"alpha": FloatDistribution(1e-5, 1.0, log=True)}, n_trials=2,
                            cv=2, random_state=0, storage=storage, study_name="full",
                            load_if_exists=True)
    search.fit(X, y)
    optuna.load_study(study_name="full", storage=storage).ask()  # the other worker's
    search.set_params(n_trials=3).fit(X, y)
    surplus = [t for t in search.study_.trials if "surplus" in t.user_attrs]
    assert [t.state for t in surplus] == [optuna.trial.TrialState.FAIL]
    assert list(search.cv_results_["trial_number"]) == [0, 1]
    assert search.n_trials_ == 2


def test_a_stored_study_of_another_direction_or_space_is_refused(tmp_path, Xy):
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="losses", storage=storage, direction="minimize")
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True)}
    with pytest.raises(ValueError, match="'losses' in this storage does not maximise"):
        OptunaSearchCV(MLPClassifier(max_iter=2), space, n_trials=2, cv=2, storage=storage,
                       study_name="losses", load_if_exists=True).fit(X, y)
    search = OptunaSearchCV(MLPClassifier(max_iter=2), {"dropout": FloatDistribution(0, 0.5)},
                            n_trials=2, cv=2, storage=storage, study_name="dropout",
                            load_if_exists=True).fit(X, y)
    best = search.best_params_
    with pytest.raises(ValueError, match=r"holds trials of another search space: trial 0 "
                                         r"suggested \['dropout'\]"):
        search.set_params(param_distributions=space).fit(X, y)
    assert search.best_params_ == best and search.study_.study_name == "dropout"


def test_a_trial_that_failed_between_its_suggestions_does_not_block_a_resume(tmp_path, Xy):
    # a space that raised after its first suggestion leaves a failed trial
    # with part of the space's suggestions
    X, y = Xy
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="partial", storage=storage, direction="maximize")
    broken = study.ask()
    broken.suggest_float("alpha", 1e-5, 1.0, log=True)
    study.tell(broken, state=optuna.trial.TrialState.FAIL)
    space = {"alpha": FloatDistribution(1e-5, 1.0, log=True),
             "dropout": FloatDistribution(0.0, 0.5)}
    found = OptunaSearchCV(MLPClassifier(max_iter=2), space, n_trials=2, cv=2,
                           storage=storage, study_name="partial", load_if_exists=True).fit(X, y)
    assert list(found.cv_results_["state"]) == ["FAIL", "COMPLETE", "COMPLETE"]
    assert found.cv_results_["params"][0] == {}


@pytest.mark.parametrize("url, reason", [
    ("notadialect://x", "Can't load plugin"),
    ("postgresql://nobody:secret@127.0.0.1:1/none", "connection"),
    ("postgres://nobody@127.0.0.1:1/none", "reads postgresql://, not postgres://"),
    ("study.db", "A file database is written 'sqlite:///study.db'"),
    ("sqlite://", "in-memory SQLite database belongs to one connection"),
    ("sqlite:///:memory:", "in-memory SQLite database belongs to one connection"),
])
def test_bad_storage_urls_fail_clearly(Xy, url, reason):
    with pytest.raises(ValueError, match="Could not open the Optuna storage") as error:
        search(url, "s", 2).fit(*Xy)
    assert reason in str(error.value)
    assert "secret" not in str(error.value)  # a password in the URL is masked


def test_two_worker_processes_share_one_study_exactly(Xy):
    # trials long enough (~0.5 s) that a worker process starting a second
    # later than the other still finds trials left to run
    found = search(None, None, 6, max_iter=60, n_jobs=2, random_state=0).fit(*Xy)
    trials = found.study_.get_trials()
    assert found.n_trials_ == 6
    assert sum(t.state.name == "COMPLETE" for t in trials) == 6
    assert len({t.user_attrs["worker"] for t in trials}) == 2


def test_worker_processes_reseed_a_given_sampler_so_their_trials_differ(Xy):
    # each worker gets the sampler by pickle: with one random state, the
    # workers' first trials were the same
    found = search(None, None, 4, max_iter=60, n_jobs=2, start_from_estimator=False,
                   sampler=optuna.samplers.RandomSampler(seed=0)).fit(*Xy)
    trials = [t for t in found.study_.get_trials() if "surplus" not in t.user_attrs]
    assert len({t.user_attrs["worker"] for t in trials}) == 2
    suggested = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(suggested)) == len(suggested) == 4


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning",
                            "ignore:Heartbeat of storage:UserWarning")
def test_a_trial_killed_before_its_heartbeat_thread_ran_is_still_failed(tmp_path):
    # Optuna leaves a running trial without any heartbeat running for ever;
    # the search's objective records the first heartbeat itself.
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}",
                                         heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=storage)
    study.ask()  # a trial whose worker died before any heartbeat
    first_heartbeat(study.ask())
    time.sleep(2.2)  # SQLite's clock counts whole seconds: over 1 s on it, whatever the phase
    optuna.storages.fail_stale_trials(study)
    states = [t.state.name for t in study.get_trials()]
    assert states == ["RUNNING", "FAIL"]


def test_sqlite_study_resumes_after_sigkill(tmp_path, Xy):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    worker = subprocess.Popen([sys.executable, str(WORKER), url, "resume", "8", "150"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    study = None
    while time.time() < deadline:
        time.sleep(0.3)
        try:
            study = optuna.load_study(study_name="resume", storage=url)
        except KeyError:
            continue
        trials = study.get_trials()
        states = [t.state.name for t in trials]
        # a trial's worker attribute is written after its first heartbeat
        if (states.count("COMPLETE") >= 2 and states[-1] == "RUNNING"
                and "worker" in trials[-1].user_attrs):
            break
    else:
        worker.kill()
        pytest.fail("the worker never reached a running third trial")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    completed_before = [t.number for t in study.get_trials() if t.state.name == "COMPLETE"]
    interrupted = [t.number for t in study.get_trials() if t.state.name == "RUNNING"]
    assert len(interrupted) == 1
    time.sleep(2.5)  # longer than the grace period of 2 heartbeats of 1 s

    found = search(url, "resume", 8, max_iter=150, heartbeat_interval=1).fit(*Xy)
    trials = {t.number: t for t in found.study_.get_trials()}
    assert sum(t.state.name == "COMPLETE" for t in trials.values()) == 8
    assert trials[interrupted[0]].state.name == "FAIL"
    assert all(trials[n].state.name == "COMPLETE" for n in completed_before)
    assert not any(t.state.name == "RUNNING" for t in trials.values())


@pytest.mark.parametrize("url, psycopg2_installed, expected", [
    ("postgresql://me:pw@db:5432/optuna", False, "postgresql+psycopg://me:pw@db:5432/optuna"),
    ("postgresql://me:pw@db:5432/optuna", True, "postgresql://me:pw@db:5432/optuna"),
    ("postgresql+psycopg2://db/optuna", False, "postgresql+psycopg2://db/optuna"),
    ("sqlite:///study.db", False, "sqlite:///study.db"),
])
def test_a_bare_postgresql_url_means_psycopg_3_where_psycopg2_is_missing(
        monkeypatch, url, psycopg2_installed, expected):
    # SQLAlchemy 2.0 reads a bare postgresql:// as psycopg2; skmlp[postgresql] installs psycopg 3
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: (
        psycopg2_installed or None if name == "psycopg2" else find_spec(name)))
    assert with_installed_driver(url) == expected


def _fresh_postgres_database():
    import sqlalchemy

    name = f"skmlp_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(with_installed_driver(POSTGRES_URL),
                                      isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_URL is None and os.environ.get("CI") != "true",
                    reason="set SKMLP_TEST_POSTGRES_URL to a PostgreSQL server "
                           "(.ci/run starts one)")
def test_postgresql_study_shared_by_two_workers_started_together(Xy):
    assert POSTGRES_URL, "CI must export SKMLP_TEST_POSTGRES_URL (see .ci/run)"
    url = _fresh_postgres_database()  # both workers create the schema at once
    workers = [subprocess.Popen([sys.executable, str(WORKER), url, "shared", "8"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err.decode()[-2000:]
    # the workers got the URL as a user writes it; Optuna itself needs the driver named
    study = optuna.load_study(study_name="shared", storage=with_installed_driver(url))
    trials = study.get_trials()
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 8
    assert len({t.number for t in trials}) == len(trials)
    assert len({t.user_attrs["worker"] for t in complete}) == 2

    found = search(url, "shared", 8).fit(*Xy)  # no trial left to run: collects results
    assert len(found.study_.get_trials()) == len(trials)
    cv = StratifiedKFold(3)
    model = MLPClassifier(max_iter=40, random_state=0).set_params(**found.best_params_)
    again = cross_val_score(model, *Xy, cv=cv, scoring="f1_macro").mean()
    assert again == pytest.approx(found.best_score_, abs=1e-12)
