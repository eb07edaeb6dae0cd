"""The tampering matrix: every column of every table edited, a row deleted, rows swapped, a
table emptied. `ree-ledger audit` (with the published keys) exits 1 and its output names the
entry index, or the table and row, that was touched.

What the audit cannot see is pinned down here too: columns it does not read (acceptance
times, read tokens, a checkpoint missing in the middle) pass; the flags table, which it does
not recompute, is an expected failure (see docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, delete, update

from tests.reliability.conftest import Audit
from tests.reliability.tampering import (
    connect,
    delete_row,
    pick_row,
    primary_key,
    rows_of,
    set_column,
    table,
)

# Which row each table's edits hit; other tables: the first row whose column is not null.
TARGET: dict[str, dict[str, Any]] = {
    "entries": {"idx": 12},
    "tree_nodes": {"level": 1, "idx": 2},
    "checkpoints": {"size": 13},
}
AUDITED_TABLES = [
    "entries",
    "tree_nodes",
    "checkpoints",
    "log_head",
    "lots",
    "participants",
    "participant_keys",
    "declarations",
    "lot_edges",
    "lot_events",
]
NOT_READ = {
    ("entries", "integrated_at"): "the acceptance time is not signed and not checked",
    ("checkpoints", "signed_at"): "the signing time is not signed and not checked",
    ("flags", "id"): "a flag's row id is only its order in listings",
    ("read_tokens", "token_hash"): "read tokens are access control, not part of the log",
    ("read_tokens", "participant"): "read tokens are access control, not part of the log",
    ("read_tokens", "created_at"): "read tokens are access control, not part of the log",
}
Names = Callable[[dict[str, Any], object], list[str]]


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
    "lot_edges": lambda row, new: [f"stored lot edge '{row['parent']}->"],
    "lot_events": lambda row, new: [
        f"lot history row ({row['lot']!r}, entry {row['idx']})",
        f"lot history row ({new!r}, entry {row['idx']})",
        f"lot history row ({row['lot']!r}",
    ],
    "ledger_meta": lambda row, new: [
        f"ledger_meta {row['name']}",
        "ledger_meta has no",
        "says 'tamper.ree-ledger.local/log'",
    ],
}


def _assert_named(result: Any, names: list[str]) -> None:
    assert result.exit_code == 1, result.output
    assert "AUDIT FAILED" in result.output, result.output
    assert any(name in result.output for name in names), (names, result.output)


def _column_cases() -> list[Any]:
    cases = []
    for name in AUDITED_TABLES:
        for column in table(name).columns:
            if (name, column.name) not in NOT_READ:
                cases.append(
                    pytest.param(
                        name, column.name, TARGET.get(name, {}), id=f"{name}.{column.name}"
                    )
                )
    for meta_row in ("origin", "log_key", "operator_key"):
        for column in ("name", "value"):
            where = {"name": meta_row}
            cases.append(
                pytest.param("ledger_meta", column, where, id=f"ledger_meta[{meta_row}].{column}")
            )
    return cases


@pytest.mark.parametrize(("name", "column", "where"), _column_cases())
def test_an_edited_column_is_named(
    audit: Audit, damaged: str, name: str, column: str, where: dict[str, Any]
) -> None:
    with connect(damaged) as connection:
        row = pick_row(connection, name, column, where)
        new = set_column(connection, name, row, column)
    _assert_named(audit(damaged), NAMES[name](row, new))


@pytest.mark.parametrize(
    ("name", "column"), [pytest.param(*key, id=".".join(key)) for key in NOT_READ]
)
def test_columns_the_audit_does_not_read_pass(
    audit: Audit, damaged: str, name: str, column: str
) -> None:
    """A known limit, pinned down: these edits leave the log and its replay untouched."""
    with connect(damaged) as connection:
        set_column(connection, name, pick_row(connection, name, column, {}), column)
    result = audit(damaged)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("column", [c.name for c in table("flags").columns if c.name != "id"])
def test_an_edited_flag_is_named(audit: Audit, damaged: str, column: str) -> None:
    with connect(damaged) as connection:
        set_column(connection, "flags", pick_row(connection, "flags", column, {}), column)
    _assert_named(audit(damaged), ["flag"])


def test_a_deleted_flag_is_named(audit: Audit, damaged: str) -> None:
    with connect(damaged) as connection:
        delete_row(connection, "flags", rows_of(connection, "flags")[0])
    _assert_named(audit(damaged), ["flag"])


@pytest.mark.parametrize("name", [*AUDITED_TABLES, "ledger_meta"])
def test_a_deleted_row_is_named(audit: Audit, damaged: str, name: str) -> None:
    with connect(damaged) as connection:
        rows = rows_of(connection, name)
        # The last checkpoint: one in the middle is not missed (see below).
        row = rows[-1] if name == "checkpoints" else rows[len(rows) // 2]
        delete_row(connection, name, row)
    _assert_named(audit(damaged), NAMES[name](row, None))


@pytest.mark.parametrize("name", [*AUDITED_TABLES, "ledger_meta"])
def test_a_truncated_table_is_named(audit: Audit, damaged: str, name: str) -> None:
    with connect(damaged) as connection:
        row = rows_of(connection, name)[0]
        connection.execute(delete(table(name)))
    names = NAMES[name](row, None)
    if name == "checkpoints":
        names = ["not covered by any checkpoint"]
    elif name == "entries":
        names = ["entries from index 0 are missing"]
    elif name in ("lot_events", "tree_nodes"):
        names = ["entry 0:", "lot history row", "(level 0, index 0)"]
    _assert_named(audit(damaged), names)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        pytest.param("checkpoints", {"size": 13}, id="checkpoints.middle"),
        pytest.param("read_tokens", {}, id="read_tokens"),
    ],
)
def test_deleted_rows_the_audit_cannot_see_pass(
    audit: Audit, damaged: str, name: str, where: dict[str, Any]
) -> None:
    """A checkpoint in the middle: the log does not record batch boundaries, so the audit
    cannot know it existed (the others still chain by (9)). A read token: not in the log."""
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
