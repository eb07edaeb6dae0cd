"""Migration 0003 drops the times the log does not sign (entries.integrated_at,
checkpoints.signed_at) and keeps every entry and checkpoint as it was; its downgrade gives the
columns back, empty. On both backends."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect, text

from ledger.home import Home, init_home
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from ledger.store.migrate import alembic_config
from tests.support import Party, extract, register

ORIGIN = "times.ree-ledger.local/log"
DROPPED = {"entries": "integrated_at", "checkpoints": "signed_at"}


def _columns(url: str, name: str) -> list[str]:
    engine = create_engine(url)
    try:
        return [column["name"] for column in inspect(engine).get_columns(name)]
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _ledger(tmp_path: Path, url: str) -> TrustedKeys:
    identity = init_home(tmp_path / "home", url, ORIGIN)
    operator = Party("operator", Home(tmp_path / "home").operator_key())
    mine = Party("mine-a")
    db = Database(url)
    try:
        ingest(db, identity, [operator.envelope(register(operator, mine, ["mine"]))], _now())
        ingest(db, identity, [mine.envelope(extract(mine, "ORE-1"))], _now())
    finally:
        db.dispose()
    return TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key)


def _now() -> datetime:
    return datetime.now(UTC)


def test_0003_drops_the_unsigned_times_and_keeps_the_log(tmp_path: Path, database_url: str) -> None:
    trusted = _ledger(tmp_path, database_url)
    config = alembic_config(database_url)
    log = "SELECT * FROM entries ORDER BY idx"
    checkpoints = "SELECT * FROM checkpoints ORDER BY size"
    before = _rows(database_url, log), _rows(database_url, checkpoints)

    command.downgrade(config, "0002")
    for name, column in DROPPED.items():
        assert column in _columns(database_url, name)
        # Back, and empty: the times dropped are not made up again.
        assert _rows(database_url, f"SELECT {column} FROM {name}") == [(None,)] * 2
        _rows(database_url, f"UPDATE {name} SET {column} = CURRENT_TIMESTAMP")

    command.upgrade(config, "head")
    for name, column in DROPPED.items():
        assert column not in _columns(database_url, name)
    assert (_rows(database_url, log), _rows(database_url, checkpoints)) == before
    command.check(config)
    db = Database(database_url)
    try:
        assert audit(db, trusted, jobs=0).entries == 2
    finally:
        db.dispose()
