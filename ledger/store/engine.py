"""Engines and sessions for SQLite and PostgreSQL, with the write lock each engine needs."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 30_000
_SNAPSHOT_READ_ONLY = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url`; SQLite gets WAL, durable commits and explicit BEGINs."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN; we issue it ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns, so an acknowledged entry survives a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes SQLite's write lock at BEGIN: two writers never interleave a
        # read-modify-write, which is what makes the log head a sequencer.
        immediate = connection.get_execution_options().get("ree_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and the two kinds of session the ledger uses."""

    # Set on the views `pinned()` makes: the one read transaction they answer from.
    _pinned: Session | None = None

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self.is_sqlite = database_url.startswith("sqlite")

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        if self._pinned is not None:
            yield self._pinned
            return
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def snapshot_session(self) -> Iterator[Session]:
        """A read session that sees one consistent state of the database throughout.

        SQLite's read transaction is already a snapshot (WAL); PostgreSQL needs REPEATABLE READ,
        or a long reader (the audit) would see rows committed while it reads.
        """
        if self._pinned is not None:
            yield self._pinned
            return
        with Session(self.engine) as session:
            if not self.is_sqlite:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    @contextmanager
    def pinned(self) -> Iterator["Database"]:
        """A view of this database at one state: every read and snapshot session opened on it
        is the same read-only transaction (REPEATABLE READ on PostgreSQL, primary or hot
        standby; one WAL read transaction on SQLite), so an answer built from several queries
        is of one tree size. The view opens no write session.

        A read replica is read only through such views: a connection given back to the pool
        after one is reset to read-write, which a hot standby refuses to begin."""
        with Session(self.engine) as session:
            options = {} if self.is_sqlite else _SNAPSHOT_READ_ONLY
            session.connection(execution_options=options)
            view = copy.copy(self)
            view._pinned = session
            yield view

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session whose transaction holds the database's write lock from its first statement.

        The caller commits; leaving the block without a commit rolls everything back.
        """
        if self._pinned is not None:
            raise RuntimeError("a pinned read view of the database does not write")
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection(execution_options={"ree_write": True})
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
