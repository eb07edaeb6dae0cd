"""Migration 0004 gives the lots already stored their lineage budget and creation time, derived
from the log as ingest derives them (the audit then finds the same); its downgrade drops
both. On both backends."""

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
from ledger.tlog.encoding import canonical, sha256
from tests.support import Party, extract, receive, register, ship, transform

ORIGIN = "lineage.ree-ledger.local/log"
LOTS = "SELECT id, lineage, created_time FROM lots ORDER BY id"


def _rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _columns(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return [column["name"] for column in inspect(engine).get_columns("lots")]
    finally:
        engine.dispose()


def _head(event: dict[str, Any]) -> str:
    return sha256(canonical(event)).hex()


def _ledger(tmp_path: Path, url: str) -> TrustedKeys:
    """An ore partly beneficiated, its concentrate shipped and weighed on arrival."""
    identity = init_home(tmp_path / "home", url, ORIGIN)
    operator = Party("operator", Home(tmp_path / "home").operator_key())
    mine, trader = Party("mine-a"), Party("trader-b")
    mined = extract(mine, "ORE-1", 2_000_000)
    made = transform(mine, {"ORE-1": _head(mined)}, [("ORE-1", 600_000)], [("CON-1", "ore", 1)])
    made["outputs"][0]["composition_ppm"] = mined["lot"]["composition_ppm"]
    made["outputs"][0]["mass_g"] = 590_000
    made["process"] = "split"
    sent = ship(mine, {"CON-1": _head(made)}, trader.id, [("CON-1", 590_000)])
    weighed = receive(trader, {"CON-1": _head(sent)}, mine.id, [("CON-1", 588_000)])
    db = Database(url)
    try:
        registry = [
            register(operator, mine, ["mine", "processor"]),
            register(operator, trader, ["trader"]),
        ]
        ingest(db, identity, [operator.envelope(e) for e in registry], _now())
        for party, event in ((mine, mined), (mine, made), (mine, sent), (trader, weighed)):
            ingest(db, identity, [party.envelope(event)], _now())
    finally:
        db.dispose()
    return TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key)


def _now() -> datetime:
    return datetime.now(UTC)


def test_0004_derives_the_budgets_of_stored_lots_from_the_log(
    tmp_path: Path, database_url: str
) -> None:
    trusted = _ledger(tmp_path, database_url)
    config = alembic_config(database_url)
    before = _rows(database_url, LOTS)
    assert [row[0] for row in before] == ["CON-1", "ORE-1"]
    assert all(row[1] and row[2] == "2026-03-01T08:00:00Z" for row in before)

    command.downgrade(config, "0003")
    assert not {"lineage", "created_time"} & set(_columns(database_url))

    command.upgrade(config, "head")
    assert _rows(database_url, LOTS) == before
    command.check(config)
    db = Database(database_url)
    try:
        assert audit(db, trusted, jobs=0).lots == 2
    finally:
        db.dispose()
