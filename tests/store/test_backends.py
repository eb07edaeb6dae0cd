"""The schema on both backends: migrations match the models, go down and up again, and the
PostgreSQL runs really are PostgreSQL."""

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from ledger.store.migrate import alembic_config, upgrade


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    finally:
        engine.dispose()
    return None if row is None else str(row[0])


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def test_migrated_database_is_at_head(database_url: str) -> None:
    assert _current_revision(database_url) == _head(database_url)


def test_no_drift_between_models_and_migrations(database_url: str) -> None:
    # `alembic check`: autogenerate against the migrated schema must find nothing to do.
    command.check(alembic_config(database_url))


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    tables_at_head = _tables(database_url)
    assert tables_at_head - {"alembic_version"}, "the migrations create no table"

    command.downgrade(config, "base")
    assert _tables(database_url) <= {"alembic_version"}
    assert _current_revision(database_url) is None

    command.upgrade(config, "head")
    assert _tables(database_url) == tables_at_head
    assert _current_revision(database_url) == _head(database_url)
    command.check(config)


def test_upgrade_from_an_empty_database(empty_database_url: str) -> None:
    assert _tables(empty_database_url) == set()
    upgrade(empty_database_url)
    assert _current_revision(empty_database_url) == _head(empty_database_url)
    command.check(alembic_config(empty_database_url))


def test_the_backend_is_what_it_claims(backend: str, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            assert conn.dialect.name == backend
            if backend == "postgresql":
                version = conn.execute(text("SELECT version()")).scalar_one()
                assert "PostgreSQL" in version
            else:
                assert conn.execute(text("SELECT sqlite_version()")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.parametrize("step", [1, 2])
def test_each_test_gets_a_fresh_database(database_url: str, step: int) -> None:
    # Both runs write the same row: the second would fail if it saw the first one's database.
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE scratch (n INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO scratch (n) VALUES (:n)"), {"n": 1})
    finally:
        engine.dispose()
