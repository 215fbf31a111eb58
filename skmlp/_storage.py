"""Optuna storages opened from a URL: clear errors, the installed PostgreSQL driver,
and a first creation of the schema that several workers can race to."""

import importlib.util
import warnings

import optuna


def open_storage(storage, heartbeat_interval, grace_period):
    """An Optuna storage from a URL, with clear errors and a race-free first creation.

    Several PostgreSQL workers creating Optuna's schema at the same moment
    collide inside ``CREATE TYPE`` (``duplicate key ... studydirection``);
    the creation is serialised with a PostgreSQL advisory lock.
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
        if not storage.startswith("postgresql"):
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
    except ModuleNotFoundError as err:
        raise ValueError(f"Could not open the Optuna storage {storage!r}: its database "
                         f"driver is missing ({err}); for PostgreSQL install "
                         "skmlp[postgresql].") from err
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError,
            sqlalchemy.exc.NoSuchModuleError, ValueError) as err:
        raise ValueError(f"Could not open the Optuna storage {storage!r}: "
                         f"{str(err).splitlines()[0]}") from err


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
