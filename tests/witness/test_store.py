"""The witness's database: made by its own migrations only, matching its tables, and its
compare-and-swap refusing a stale write."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from ledger.tlog import merkle
from ledger.witness.store import MIGRATIONS_DIR, Cosigned, WitnessStore, database_url, upgrade
from ledger.witness.tables import METADATA, VERSION_TABLE


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_migrations_make_exactly_the_tables(tmp_path: Path) -> None:
    url = database_url(tmp_path / "witness.db")
    upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, METADATA) == []
        assert context.get_current_revision() == "w0001"
        tables = set(sa.inspect(connection).get_table_names())
    assert tables == {"witness_logs", "witness_refusals", VERSION_TABLE}
    engine.dispose()


def test_downgrade_removes_everything_but_the_version_table(tmp_path: Path) -> None:
    url = database_url(tmp_path / "witness.db")
    upgrade(url)
    command.downgrade(_config(url), "base")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {VERSION_TABLE}
    engine.dispose()
    upgrade(url)  # and back up


def _state(size: int, root: bytes) -> Cosigned:
    return Cosigned(origin="o", size=size, root=root, timestamp=1, note="n")


def test_record_is_a_compare_and_swap(tmp_path: Path) -> None:
    url = database_url(tmp_path / "witness.db")
    upgrade(url)
    store = WitnessStore(url)
    first = _state(1, merkle.leaf_hash(b"a"))
    with store.transaction() as tx:
        tx.record(None, first)
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.record(None, _state(2, bytes(32)))  # a second "first" write for the origin
    stale = _state(1, merkle.leaf_hash(b"b"))  # what a request that read another root holds
    with pytest.raises(RuntimeError, match="changed under a write"), store.transaction() as tx:
        tx.record(stale, _state(3, bytes(32)))
    assert store.latest("o") == first  # both refused writes were rolled back
    store.dispose()
