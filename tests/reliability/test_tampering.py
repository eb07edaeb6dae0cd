"""The tampering matrix: every column of every table the migrations make edited, a row
deleted, rows swapped, a table emptied. `ree-ledger audit` (with the published keys) exits 1
and its output names the entry index, or the table and row, that was touched.

The columns come from the schema itself (the models' tables and Alembic's own), checked
against the migrated database's catalogue, so a new table or column joins the matrix by
itself: its edit must be caught, or it must be listed in NOT_COVERED, which is the list of
docs/verification.md ("Columns the audit does not cover"), reason for reason. What the audit
cannot see is pinned down too: those edits, and a checkpoint missing in the middle, pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, update

from tests.reliability.conftest import Audit
from tests.reliability.tampering import (
    LedgerCopies,
    Populated,
    connect,
    database_columns,
    delete_row,
    pick_row,
    primary_key,
    rows_of,
    schema_columns,
    set_column,
    table,
)

VERIFICATION_MD = Path(__file__).resolve().parents[2] / "docs" / "verification.md"
# Which row each table's edits hit; other tables: the first row whose column is not null.
TARGET: dict[str, dict[str, Any]] = {
    "entries": {"idx": 12},
    "tree_nodes": {"level": 1, "idx": 2},
    "checkpoints": {"size": 13},
}
# `table.column` (or `table.*`, every column of it) -> why an edit of it is not caught.
NOT_COVERED = {
    "flags.id": (
        "a row number: the order of `GET /v1/flags` and its `next` cursor, never shown as a "
        "fact; what a flag says (its entry, lot, code, message, evidence) is covered"
    ),
    "read_tokens.*": (
        "access control, not part of the log: whoever can write this table can give "
        "themselves read access (security.md §5); restrict access to the database"
    ),
    "witnesses.*": (
        "configuration, not part of the log: which witnesses the log asks and counts toward "
        "its quorum; a verifier trusts its own witness keys (`--witness`), never this table"
    ),
    "witness_quorum.*": (
        "configuration, not part of the log: how many cosignatures the served checkpoint "
        "needs; a verifier sets its own quorum (`verify-bundle --quorum`)"
    ),
    "witness_lease.*": (
        "which serving process submits checkpoints to the witnesses, and until when; "
        "coordination, not part of the log"
    ),
    "alembic_version.version_num": (
        "Alembic's stamp of the schema revision, read only when migrating, never shown; "
        "the audit reads the tables themselves"
    ),
}
META_ROWS = ("origin", "log_key", "operator_key")
Names = Callable[[dict[str, Any], object], list[str]]


def not_covered(name: str, column: str) -> str | None:
    return NOT_COVERED.get(f"{name}.{column}", NOT_COVERED.get(f"{name}.*"))


COVERED = [(name, column) for name, column in schema_columns() if not not_covered(name, column)]
UNCOVERED = [(name, column) for name, column in schema_columns() if not_covered(name, column)]
# Nullable in the schema, never NULL in a ledger: a lot's lineage is unknown (None) only for
# a bundle replay's stand-ins, in memory. That ingest leaves none NULL is asserted below, and
# a lineage emptied is named like any other edit.
NEVER_NULL = [("lots", "lineage")]
# Tables whose rows can go unseen: a cosignature deleted is a checkpoint served with fewer
# cosignatures (the witness keeps its own record); what is stored is checked, not what is not.
UNSEEN_DELETIONS = ("cosignatures",)
# The tables an edit of which the audit catches: their rows are deleted, swapped, emptied.
ROW_TABLES = sorted({name for name, _ in COVERED} - set(UNSEEN_DELETIONS))


def _named(key: str, label: str) -> Names:
    def names(row: dict[str, Any], new: object) -> list[str]:
        return [f"stored {label} {row[key]!r}", f"stored {label} {new!r}"]

    return names


# What a failure about each table must mention: any one of these strings.
NAMES: dict[str, Names] = {
    "entries": lambda row, new: [f"entry {row['idx']}:"],
    "tree_nodes": lambda row, new: [f"(level {row['level']}, index {row['idx']})"],
    "checkpoints": lambda row, new: [
        f"size {row['size']}",
        f"checkpoint row {row['size']}",
        f"size {new}",
        "not covered by any checkpoint",
    ],
    "log_head": lambda row, new: ["log head says", "log_head row is missing"],
    "lots": _named("id", "lot"),
    "participants": _named("id", "participant"),
    "participant_keys": _named("keyid", "key"),
    "declarations": _named("id", "declaration"),
    "licences": _named("id", "licence"),
    "quotas": _named("id", "quota"),
    "lot_edges": lambda row, new: [f"stored lot edge '{row['parent']}->"],
    "lot_events": lambda row, new: [
        f"lot history row ({row['lot']!r}, entry {row['idx']})",
        f"lot history row ({new!r}, entry {row['idx']})",
        f"lot history row ({row['lot']!r}",
    ],
    "flags": lambda row, new: [
        f"on lot {row['lot']!r} at entry {row['idx']} ",
        f"on lot {new!r} at entry {row['idx']} ",
    ],
    "cosignatures": lambda row, new: [
        f"stored cosignature of checkpoint {row['size']}",
        f"stored cosignature of checkpoint {new}",
    ],
    "ledger_meta": lambda row, new: [
        f"ledger_meta {row['name']}",
        "ledger_meta has no",
        "says 'tamper.ree-ledger.local/log'",
    ],
}


def _names(name: str, row: dict[str, Any], new: object) -> list[str]:
    assert name in NAMES, f"a new table {name!r}: say in NAMES what its audit failure names"
    return NAMES[name](row, new)


def _assert_named(result: Any, names: list[str]) -> None:
    assert result.exit_code == 1, result.output
    assert "AUDIT FAILED" in result.output, result.output
    assert any(name in result.output for name in names), (names, result.output)


def _column_cases() -> list[Any]:
    cases = []
    for name, column in COVERED:
        if name == "ledger_meta":
            # Every row: each names one thing the audit is given (origin and the two keys).
            for meta_row in META_ROWS:
                where = {"name": meta_row}
                cases.append(pytest.param(name, column, where, id=f"{name}[{meta_row}].{column}"))
        else:
            cases.append(pytest.param(name, column, TARGET.get(name, {}), id=f"{name}.{column}"))
    return cases


def _verification_md_not_covered() -> dict[str, str]:
    """The table of docs/verification.md's "Columns the audit does not cover" section."""
    text = VERIFICATION_MD.read_text(encoding="utf-8")
    section = text.split("### Columns the audit does not cover", 1)[1].split("\n#", 1)[0]
    return {
        match["column"]: match["why"].strip()
        for match in re.finditer(
            r"^\| `(?P<column>[a-z_]+\.[a-z_*]+)` \| (?P<why>.+) \|$", section, re.M
        )
    }


def test_every_column_of_the_migrated_database_is_in_the_matrix(
    populated: tuple[Populated, LedgerCopies],
) -> None:
    ledger, _ = populated
    assert database_columns(ledger.database_url) == schema_columns()
    for key in NOT_COVERED:
        name, column = key.split(".")
        assert any(n == name and column in ("*", c) for n, c in UNCOVERED), f"{key}: no such column"


def test_the_columns_not_covered_are_those_verification_md_lists() -> None:
    assert _verification_md_not_covered() == NOT_COVERED


def test_ledger_meta_holds_the_rows_the_matrix_edits(
    populated: tuple[Populated, LedgerCopies],
) -> None:
    ledger, _ = populated
    with connect(ledger.database_url) as connection:
        assert sorted(row["name"] for row in rows_of(connection, "ledger_meta")) == sorted(
            META_ROWS
        )


@pytest.mark.parametrize(("name", "column", "where"), _column_cases())
def test_an_edited_column_is_named(
    audit: Audit, damaged: str, name: str, column: str, where: dict[str, Any]
) -> None:
    with connect(damaged) as connection:
        row = pick_row(connection, name, column, where)
        new = set_column(connection, name, row, column)
    _assert_named(audit(damaged), _names(name, row, new))


@pytest.mark.parametrize(
    ("name", "column"), [pytest.param(*key, id=".".join(key)) for key in UNCOVERED]
)
def test_an_edited_column_the_audit_does_not_cover_passes(
    audit: Audit, damaged: str, name: str, column: str
) -> None:
    """A known limit, pinned down: these edits leave the log and its replay untouched."""
    with connect(damaged) as connection:
        set_column(connection, name, pick_row(connection, name, column, {}), column)
    result = audit(damaged)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "column", "emptied"),
    [
        pytest.param(name, column, emptied, id=f"{name}.{column}-{'emptied' if emptied else 'set'}")
        for name, column in COVERED
        if table(name).c[column].nullable
        for emptied in ((True,) if (name, column) in NEVER_NULL else (True, False))
    ],
)
def test_a_nullable_column_emptied_or_set_is_named(
    audit: Audit, damaged: str, name: str, column: str, emptied: bool
) -> None:
    """A value made NULL (a revocation undone, a shipment's receiver gone) or a NULL given a
    value: an edit of its own, beside a changed value."""
    tbl = table(name)
    with connect(damaged) as connection:
        rows = [r for r in rows_of(connection, name) if (r[column] is None) != emptied]
        state = "set" if emptied else "NULL"
        assert rows, f"the populated ledger has no {name} row with {column} {state}"
        row = rows[0]
        if emptied:
            new = None
            keys = [tbl.c[key] == row[key] for key in primary_key(name)]
            connection.execute(update(tbl).where(*keys).values({column: None}))
        else:
            new = set_column(connection, name, row, column)
    _assert_named(audit(damaged), _names(name, row, new))


@pytest.mark.parametrize(("name", "column"), NEVER_NULL)
def test_ingest_leaves_no_never_null_column_null(
    populated: tuple[Populated, LedgerCopies], name: str, column: str
) -> None:
    ledger, _ = populated
    with connect(ledger.database_url) as connection:
        rows = rows_of(connection, name)
    assert rows, f"populate (tests/reliability/tampering.py) writes no {name} row"
    assert [row for row in rows if row[column] is None] == []


@pytest.mark.parametrize("name", ROW_TABLES)
def test_a_deleted_row_is_named(audit: Audit, damaged: str, name: str) -> None:
    with connect(damaged) as connection:
        rows = rows_of(connection, name)
        assert rows, f"populate (tests/reliability/tampering.py) writes no {name} row"
        # The last checkpoint: one in the middle is not missed (see below).
        row = rows[-1] if name == "checkpoints" else rows[len(rows) // 2]
        delete_row(connection, name, row)
    _assert_named(audit(damaged), _names(name, row, None))


@pytest.mark.parametrize("name", ROW_TABLES)
def test_a_truncated_table_is_named(audit: Audit, damaged: str, name: str) -> None:
    with connect(damaged) as connection:
        row = rows_of(connection, name)[0]
        connection.execute(delete(table(name)))
    names = _names(name, row, None)
    if name == "checkpoints":
        names = ["not covered by any checkpoint"]
    elif name == "entries":
        names = ["entries from index 0 are missing"]
    elif name in ("lot_events", "tree_nodes"):
        names = ["entry 0:", "lot history row", "(level 0, index 0)"]
    _assert_named(audit(damaged), names)


@pytest.mark.parametrize("where", ["before", "beyond"])
def test_a_flag_planted_outside_the_log_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies], where: str
) -> None:
    """A page of the audit compares the flags of its entries; a flag of no entry is listed by
    `GET /v1/flags` all the same, so it must be caught on its own."""
    index = -1 if where == "before" else populated[0].size + 5
    with connect(damaged) as connection:
        row = rows_of(connection, "flags")[0]
        planted = {**row, "id": row["id"] + 1000, "idx": index}
        connection.execute(table("flags").insert().values(planted))
    _assert_named(audit(damaged), [f"at entry {index} is outside the log"])


@pytest.mark.parametrize(
    ("name", "where"),
    [
        pytest.param("checkpoints", {"size": 13}, id="checkpoints.middle"),
        pytest.param("read_tokens", {}, id="read_tokens"),
        pytest.param("cosignatures", {}, id="cosignatures"),
    ],
)
def test_deleted_rows_the_audit_cannot_see_pass(
    audit: Audit, damaged: str, name: str, where: dict[str, Any]
) -> None:
    """A checkpoint in the middle: the log does not record batch boundaries, so the audit
    cannot know it existed (the others still chain by (9)). A read token: not in the log. A
    cosignature: the checkpoint is served with fewer; the witness keeps its own record."""
    with connect(damaged) as connection:
        delete_row(connection, name, pick_row(connection, name, primary_key(name)[0], where))
    result = audit(damaged)
    assert result.exit_code == 0, result.output


def _swap(connection: Connection, name: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    """Swap two rows' places: exchange the primary-key column in which they differ, through a
    temporary value (unique columns such as entries.event_id stay unique all along)."""
    tbl = table(name)
    keys = primary_key(name)
    pivot = next(key for key in keys if first[key] != second[key])
    temporary = -999_999 if isinstance(first[pivot], int) else "TMP-SWAP"

    def move(row: dict[str, Any], old: object, new: object) -> None:
        where = [tbl.c[k] == (old if k == pivot else row[k]) for k in keys]
        connection.execute(update(tbl).where(*where).values({pivot: new}))

    move(first, first[pivot], temporary)
    move(second, second[pivot], first[pivot])
    move(first, temporary, second[pivot])


SWAPS: dict[str, tuple[dict[str, Any], dict[str, Any], list[str]]] = {
    "entries": ({"idx": 8}, {"idx": 9}, ["entry 8:"]),  # the two independent extracts
    "tree_nodes": ({"level": 0, "idx": 8}, {"level": 0, "idx": 9}, ["entry 8:"]),
    "checkpoints": ({"size": 10}, {"size": 11}, ["checkpoint stored at size 10"]),
    "lots": ({"id": "CON-1"}, {"id": "ORE-1"}, ["stored lot 'CON-1'"]),
    "participants": ({"id": "mine-a"}, {"id": "plant-b"}, ["stored participant 'mine-a'"]),
    "declarations": ({"id": "DEC-1"}, {"id": "DEC-2"}, ["stored declaration 'DEC-1'"]),
    "ledger_meta": ({"name": "log_key"}, {"name": "operator_key"}, ["ledger_meta log_key"]),
}


@pytest.mark.parametrize("name", sorted(SWAPS))
def test_swapped_rows_are_named(audit: Audit, damaged: str, name: str) -> None:
    first, second, names = SWAPS[name]
    with connect(damaged) as connection:
        rows = [
            pick_row(connection, name, primary_key(name)[0], where) for where in (first, second)
        ]
        _swap(connection, name, *rows)
    _assert_named(audit(damaged), names)


def test_swapped_keys_of_two_participants_are_named(audit: Audit, damaged: str) -> None:
    with connect(damaged) as connection:
        keys = {row["participant"]: row for row in rows_of(connection, "participant_keys")}
        _swap(connection, "participant_keys", keys["mine-a"], keys["exporter-c"])
    _assert_named(audit(damaged), ["stored key 'exporter-c/", "stored key 'mine-a/"])


def test_swapped_lot_history_rows_are_named(audit: Audit, damaged: str) -> None:
    tbl = table("lot_events")
    with connect(damaged) as connection:
        for lot, idx, new in (("ORE-1", 8, "TMP"), ("ORE-2", 9, "ORE-1"), ("TMP", 8, "ORE-2")):
            connection.execute(
                update(tbl).where(tbl.c.lot == lot, tbl.c.idx == idx).values(lot=new)
            )
    _assert_named(audit(damaged), ["lot history row ('ORE-1', entry 8)", "entry 8:"])
