"""The audit's final state comparison (step (10)): the state tables read as driver tuples
(`stored_records`) give exactly the records the ORM rows' converters give, and every change
to a state table is named by the audit; on both backends."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from ledger.service.audit import TrustedKeys, audit
from ledger.store.engine import Database
from ledger.store.rows import (
    LOT_FIELDS,
    declaration_from_row,
    key_from_row,
    lot_from_row,
    participant_from_row,
    stored_records,
)
from ledger.store.tables import DeclarationRow, KeyRow, LotRow, ParticipantRow
from ledger.verify.stored import AuditFailure
from tests.store.test_audit_pipeline import Ledger, ingested

FIRST_LOT = "(SELECT min(id) FROM lots)"
EDGE = "(SELECT min(child) FROM lot_edges)"
KEY = "(SELECT max(keyid) FROM participant_keys)"
PARTICIPANT = "(SELECT max(id) FROM participants)"

# Each damage: statements, and whether the stored state still equals the replayed one.
DAMAGE: dict[str, tuple[list[str], bool]] = {
    "clean": ([], True),
    "a lot's mass": ([f"UPDATE lots SET mass_g = mass_g + 1 WHERE id = {FIRST_LOT}"], False),
    "a lot's custodian": ([f"UPDATE lots SET custodian = 'x' WHERE id = {FIRST_LOT}"], False),
    "a lot's spec": ([f"UPDATE lots SET spec = 'other' WHERE id = {FIRST_LOT}"], False),
    "a lot's shipped mass": ([f"UPDATE lots SET shipped_mass_g = 1 WHERE id = {FIRST_LOT}"], False),
    "a lot's composition": (
        [f"UPDATE lots SET composition_ppm = :json WHERE id = {FIRST_LOT}"],
        False,
    ),
    "a lot's origins": ([f"UPDATE lots SET origins = :list WHERE id = {FIRST_LOT}"], False),
    "a lot's lineage budget": (
        [f"UPDATE lots SET lineage = :budget WHERE id = {FIRST_LOT}"],
        False,
    ),
    # stored_records parses each lineage text once: a text two lots hold is one budget read
    # for both, and a text that is no budget's is refused for each lot that holds it.
    "a lot's lineage, another lot's budget": (
        [
            "UPDATE lots SET lineage = (SELECT min(other.lineage) FROM lots other WHERE "
            "other.lineage <> (SELECT first.lineage FROM lots first WHERE "
            f"first.id = {FIRST_LOT})) WHERE id = {FIRST_LOT}"
        ],
        False,
    ),
    "two lots' lineage, the same text that is no budget's": (
        ["UPDATE lots SET lineage = :budget WHERE id IN (SELECT id FROM lots ORDER BY id LIMIT 2)"],
        False,
    ),
    "a lot's lineage forgotten": (
        [f"UPDATE lots SET lineage = NULL WHERE id = {FIRST_LOT}"],
        False,
    ),
    "a lot's creation time": (
        [f"UPDATE lots SET created_time = '2001-01-01T00:00:00Z' WHERE id = {FIRST_LOT}"],
        False,
    ),
    "a lot deleted": ([f"DELETE FROM lots WHERE id = {FIRST_LOT}"], False),
    "a lot added": (
        [
            "INSERT INTO lots (id, product, spec, mass_g, composition_ppm, custodian, status, "
            "head, created_index, updated_index, pending_to, origins, deposit, time, "
            "shipped_mass_g, lineage, created_time) SELECT 'ZZZ-extra', product, spec, "
            "mass_g, composition_ppm, custodian, status, head, created_index, updated_index, "
            "pending_to, origins, deposit, time, shipped_mass_g, lineage, created_time "
            f"FROM lots WHERE id = {FIRST_LOT}"
        ],
        False,
    ),
    "a participant's roles": (
        [f"UPDATE participants SET roles = :list WHERE id = {PARTICIPANT}"],
        False,
    ),
    "a participant's name": (
        [f"UPDATE participants SET name = 'x' WHERE id = {PARTICIPANT}"],
        False,
    ),
    "a key's public key": (
        [f"UPDATE participant_keys SET public_key = :blob WHERE keyid = {KEY}"],
        False,
    ),
    "a key revoked": ([f"UPDATE participant_keys SET revoked_at = 5 WHERE keyid = {KEY}"], False),
    "an edge's mass": ([f"UPDATE lot_edges SET mass_g = mass_g + 1 WHERE child = {EDGE}"], False),
    "an edge deleted": ([f"DELETE FROM lot_edges WHERE child = {EDGE}"], False),
    "the origins spelled otherwise, the same list": (
        [f"UPDATE lots SET origins = :respelled WHERE id = {FIRST_LOT}"],
        True,
    ),
}


@pytest.fixture
def ledger(tmp_path: Path, database_url: str) -> Iterator[Ledger]:
    yield from ingested(tmp_path, database_url, extracts=20, pairs=10)


def _damage(url: str, statements: list[str]) -> None:
    engine = create_engine(url)
    # A JSON column's value: the text itself on SQLite, cast to json on PostgreSQL.
    as_json = "{}" if url.startswith("sqlite") else "CAST({} AS json)"
    try:
        with engine.begin() as connection:
            [(origins,)] = connection.execute(
                text(f"SELECT origins FROM lots WHERE id = {FIRST_LOT}")
            )
            spelled = origins if isinstance(origins, list) else json.loads(origins)
            params: dict[str, Any] = {
                "json": '{"Nd": 1}',
                "list": '["nobody"]',
                "budget": "Dy:999999999999:0",
                "respelled": "[ " + ", ".join(f'"{item}"' for item in spelled) + " ]",
                "blob": bytes(32),
            }
            for statement in statements:
                for name in ("json", "list", "respelled"):
                    statement = statement.replace(f":{name}", as_json.format(f":{name}"))
                used = {name: value for name, value in params.items() if f":{name}" in statement}
                connection.execute(text(statement), used)
    finally:
        engine.dispose()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_audit_names_every_change_to_the_state_tables(
    ledger: tuple[Database, TrustedKeys, str], damage: str
) -> None:
    db, trusted, url = ledger
    statements, equal = DAMAGE[damage]
    _damage(url, statements)
    with db.read_session() as session:
        for model, convert in CONVERTERS.items():
            rows = session.exec(select(model)).all()
            assert stored_records(session, model) == {
                row_id(row): record(convert, row) for row in rows
            }
    if equal:
        audit(db, trusted, jobs=0)
        return
    with pytest.raises(AuditFailure, match=r"step \(10\): stored"):
        audit(db, trusted, jobs=0)


def record(convert: Any, row: Any) -> Any:
    """The row's record, or, for a row that is none (a lineage that is not a budget's text),
    the row's values, as stored_records keeps them."""
    try:
        return convert(row)
    except ValueError:
        return tuple(getattr(row, name) for name in LOT_FIELDS)


def row_id(row: Any) -> str:
    return str(row.keyid if isinstance(row, KeyRow) else row.id)


CONVERTERS: dict[Any, Any] = {
    LotRow: lot_from_row,
    ParticipantRow: participant_from_row,
    KeyRow: key_from_row,
    DeclarationRow: declaration_from_row,
}
