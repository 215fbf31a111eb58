"""Optuna storages opened from a URL: clear errors, the installed PostgreSQL driver,
a first creation of the schema that several workers can race to, and SQLite
transactions that lock as Optuna expects."""

import importlib.util
import time
import warnings

import optuna

#: Attempts at opening a SQLite storage while other processes create its schema.
_SQLITE_ATTEMPTS = 5


def open_storage(storage, heartbeat_interval, grace_period):
    """An Optuna storage from a URL, with clear errors and a race-free first creation.

    Several PostgreSQL workers creating Optuna's schema at the same moment
    collide inside ``CREATE TYPE`` (``duplicate key ... studydirection``);
    the creation is serialised with a PostgreSQL advisory lock. SQLite's
    collisions are retried (see :func:`_open_sqlite`), and its transactions
    take the database's write lock as they begin (see
    :func:`_lock_sqlite_transactions`).
    """
    if storage is None or not isinstance(storage, str):
        return storage
    import sqlalchemy

    def rdb_storage():
        with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(storage, heartbeat_interval=heartbeat_interval,
                                              grace_period=grace_period)

    try:
        storage = with_installed_driver(storage)
        parsed = sqlalchemy.engine.make_url(storage)
        _check_shareable(parsed)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            return _open_sqlite(rdb_storage)
        if backend != "postgresql":
            return rdb_storage()
        engine = sqlalchemy.create_engine(storage)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(7355608)"))
                try:
                    return rdb_storage()
                finally:
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(7355608)"))
        finally:
            engine.dispose()
    except ImportError as err:  # a missing driver (Optuna re-raises some as ImportError)
        raise ValueError(f"Could not open the Optuna storage {_shown(storage)!r}: its "
                         f"database driver is missing ({err}); for PostgreSQL install "
                         "skmlp[postgresql].") from err
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.NoSuchModuleError, ValueError) as err:
        hint = (" SQLAlchemy reads postgresql://, not postgres://."
                if storage.startswith("postgres://")
                else f" A file database is written 'sqlite:///{storage}'."
                if "://" not in storage else "")
        reason = str(err).splitlines()[0].rstrip(".")
        raise ValueError(f"Could not open the Optuna storage {_shown(storage)!r}: "
                         f"{reason}.{hint}") from err


def _open_sqlite(rdb_storage):
    """``rdb_storage()`` of a SQLite URL, tried again while another process
    creates the same file's schema, with transactions that lock.

    Optuna checks for each table, then creates it, and stamps the schema's
    version, each in a transaction of its own: processes that open a new
    file at the same moment fail with ``table studies already exists`` or
    a UNIQUE constraint of the version tables (one or more of four processes
    started together, in 7 of 10 tries). The creation is idempotent, so a
    later attempt finds the schema the other process made.
    """
    import sqlalchemy

    for attempt in range(1, _SQLITE_ATTEMPTS + 1):
        try:
            opened = rdb_storage()
            break
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as err:
            collided = (isinstance(err, sqlalchemy.exc.IntegrityError)
                        or "already exists" in str(err) or "database is locked" in str(err))
            if not collided or attempt == _SQLITE_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
    _lock_sqlite_transactions(opened.engine)
    return opened


def _lock_sqlite_transactions(engine):
    """Make every transaction of ``engine`` begin with ``BEGIN IMMEDIATE``.

    Optuna claims a queued (enqueued) trial by reading it with ``SELECT ...
    FOR UPDATE`` and setting it running if it is still waiting. SQLite has
    no row locks, and Python's sqlite3 begins a transaction only at the
    first write, so two worker processes could both read the trial as
    waiting and both run it; the second to finish then failed with
    ``UpdateFinishedTrialError``, and the search with it. A transaction
    that takes the write lock as it begins (SQLAlchemy's recipe for
    pysqlite) makes each read-then-write of Optuna's atomic; the others
    wait for it (up to sqlite3's timeout).
    """
    import sqlalchemy

    def no_implicit_begin(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # sqlite3 then emits no BEGIN of its own

    def begin_immediate(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    sqlalchemy.event.listen(engine, "connect", no_implicit_begin)
    sqlalchemy.event.listen(engine, "begin", begin_immediate)
    engine.dispose()  # the pooled connections were opened without the listeners


def _shown(url):
    """``url`` as error messages show it: with its password masked."""
    import sqlalchemy

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        return url
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


def _check_shareable(parsed):
    """Refuse an in-memory SQLite database (``parsed``, a SQLAlchemy URL): each
    connection gets its own, empty one."""
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError(
            "an in-memory SQLite database belongs to one connection, and Optuna's heartbeat "
            "thread and worker processes open others, which find it empty. Use storage=None "
            "for a study in memory, or a file: storage='sqlite:///study.db'.")


def with_installed_driver(url):
    """``url`` with psycopg 3 named as its driver where a bare ``postgresql://`` would
    otherwise look for psycopg2 and fail.

    SQLAlchemy 2.0 reads ``postgresql://`` as psycopg2, 2.1 as psycopg 3 (the
    driver ``skmlp[postgresql]`` installs); explicit drivers are kept.
    """
    import sqlalchemy

    parsed = sqlalchemy.engine.make_url(url)
    if (parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None
            and importlib.util.find_spec("psycopg") is not None):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url
