"""Database fixtures: every test that asks for a database runs once per backend.

- `database_url`: a fresh, fully migrated database for this test alone;
- `empty_database_url`: a fresh database with no schema at all (for migration tests);
- `backend`: "sqlite" or "postgresql", the backend of the current run of the test.

Tests that request one of these are parametrized with the ids `sqlite` and `postgresql`
(and carry the `db` mark); every other test runs once. The backends are chosen with
`--backends=sqlite,postgresql` or $REE_LEDGER_TEST_BACKENDS (default: both).

Speed: the migrations run once per session and backend, into a template; each test gets
a copy of it (SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE template_ree,
dropped after the test). PostgreSQL is a private throw-away server (tests/pgserver.py),
started on the first test that needs it and stopped at the end of the session.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from tests import vectors
from tests.pgserver import TemporaryPostgres

BACKENDS = ("sqlite", "postgresql")
BACKENDS_ENV = "REE_LEDGER_TEST_BACKENDS"
DATABASE_FIXTURES = ("database_url", "empty_database_url", "backend")
PG_TEMPLATE = "template_ree"

_db_numbers = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=os.environ.get(BACKENDS_ENV, ",".join(BACKENDS)),
        help=(
            "comma-separated database backends for the database tests "
            f"(sqlite, postgresql); default ${BACKENDS_ENV} or both"
        ),
    )


def _selected_backends(config: pytest.Config) -> list[str]:
    raw = str(config.getoption("--backends"))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BACKENDS]
    if unknown or not chosen:
        raise pytest.UsageError(
            f"--backends / ${BACKENDS_ENV}: {raw!r}; choose from {', '.join(BACKENDS)}"
        )
    return list(dict.fromkeys(chosen))


@pytest.hookimpl(trylast=True)  # after pytest's terminal reporter: see tests/vectors.py
def pytest_configure(config: pytest.Config) -> None:
    _selected_backends(config)  # fail early on a typo
    vectors.register(config)


def _parametrizes_backend(metafunc: pytest.Metafunc) -> bool:
    """True if the test chooses its backends itself:
    @pytest.mark.parametrize("backend", ["sqlite"], indirect=True)."""
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "backend" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if any(name in metafunc.fixturenames for name in DATABASE_FIXTURES) and not (
        _parametrizes_backend(metafunc)
    ):
        metafunc.parametrize(
            "backend",
            [
                pytest.param(name, id=name, marks=pytest.mark.db)
                for name in _selected_backends(metafunc.config)
            ],
            indirect=True,
        )


@pytest.fixture
def fresh_memos() -> Iterator[None]:
    """Empty the process's verification memos (ledger.service.provenance.MEMOS) before and
    after."""
    from ledger.service.provenance import MEMOS

    MEMOS.clear()
    yield
    MEMOS.clear()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The backend of this run of the test: "sqlite" or "postgresql"."""
    name: str = request.param
    return name


# --- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    """One private PostgreSQL server for the whole session (started on first use)."""
    with TemporaryPostgres() as server:
        yield server


@pytest.fixture(scope="session")
def _postgres_template(postgres: TemporaryPostgres) -> str:
    """Name of a database migrated to head, to be copied by CREATE DATABASE ... TEMPLATE."""
    from ledger.store.migrate import upgrade  # here: a broken store must not break every test

    upgrade(postgres.create_database(PG_TEMPLATE))
    # Nobody may connect to the template any more: a connection would make the copies fail.
    postgres.execute(
        sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
            sql.Identifier(PG_TEMPLATE)
        )
    )
    return PG_TEMPLATE


# --- SQLite ---------------------------------------------------------------------------


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, to be copied for each test."""
    from ledger.store.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(_sqlite_url(path))
    return path


def _copy_sqlite(template: Path, target: Path) -> None:
    shutil.copyfile(template, target)
    # Only if the template was left in WAL mode with un-checkpointed pages.
    for suffix in ("-wal",):
        side = template.with_name(template.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))


# --- the database fixtures -------------------------------------------------------------


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database, migrated to head, for this test alone."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "ledger.db"
        _copy_sqlite(template, path)
        yield _sqlite_url(path)
        return
    server: TemporaryPostgres = request.getfixturevalue("postgres")
    pg_template: str = request.getfixturevalue("_postgres_template")
    name = f"t_{next(_db_numbers)}"
    url = server.create_database(name, template=pg_template)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture
def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """SQLAlchemy URL of a fresh database with no tables at all (not migrated)."""
    if backend == "sqlite":
        yield _sqlite_url(tmp_path / "empty.db")
        return
    server: TemporaryPostgres = request.getfixturevalue("postgres")
    name = f"e_{next(_db_numbers)}"
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.drop_database(name)
