"""Flags and lot ancestry in the database: what was found, and where a lot came from."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlmodel import Session, col

from ledger.lots.records import Edge
from ledger.store.tables import FlagRow, LotEdgeRow, LotEventRow

# Every ancestor of a lot through the transforms that made it; UNION stops at shared ancestors.
ANCESTRY = text(
    """
    WITH RECURSIVE ancestry(lot) AS (
        SELECT CAST(:lot AS VARCHAR(64))
        UNION
        SELECT e.parent FROM lot_edges e JOIN ancestry a ON e.child = a.lot
    )
    SELECT lot FROM ancestry
    """
)


@dataclass(frozen=True)
class StoredFlag:
    """A flag as recorded: the finding and the entry that raised it."""

    id: int
    code: str
    severity: str
    lot: str
    event_hash: str
    index: int
    message: str
    evidence: dict[str, Any]


def _stored(row: FlagRow) -> StoredFlag:
    assert row.id is not None
    return StoredFlag(
        id=row.id,
        code=row.code,
        severity=row.severity,
        lot=row.lot,
        event_hash=row.event_hash,
        index=row.idx,
        message=row.message,
        evidence=dict(row.evidence),
    )


def ancestry(session: Session, lot: str) -> list[str]:
    """The lot and every lot it was made from, however far back (cost: the ancestry's size)."""
    return [str(row[0]) for row in session.execute(ANCESTRY, {"lot": lot})]


def flags_on(session: Session, lots: Sequence[str]) -> list[StoredFlag]:
    """Flags raised on any of `lots`, newest first."""
    if not lots:
        return []
    rows = session.execute(
        select(FlagRow)
        .where(col(FlagRow.lot).in_(bindparam("lots", expanding=True)))
        .order_by(col(FlagRow.idx).desc(), col(FlagRow.id).desc()),
        {"lots": list(lots)},
    ).scalars()
    return [_stored(row) for row in rows]


def flags_at(
    session: Session, indexes: Sequence[int], severities: Sequence[str]
) -> list[StoredFlag]:
    """Flags of `severities` raised by the entries at `indexes`, whatever lot they name,
    newest first: one query by entry index."""
    if not indexes:
        return []
    rows = session.execute(
        select(FlagRow)
        .where(col(FlagRow.idx).in_(bindparam("ids", expanding=True)))
        .where(col(FlagRow.severity).in_(bindparam("levels", expanding=True)))
        .order_by(col(FlagRow.idx).desc(), col(FlagRow.id).desc()),
        {"ids": list(indexes), "levels": list(severities)},
    ).scalars()
    return [_stored(row) for row in rows]


def list_flags(
    session: Session,
    *,
    code: str | None,
    lot: str | None,
    severity: str | None,
    before: int | None,
    limit: int,
) -> list[StoredFlag]:
    """Flags newest first, filtered; `before` is the id of the last flag of the previous page."""
    query = select(FlagRow).order_by(col(FlagRow.id).desc()).limit(limit)
    if code is not None:
        query = query.where(col(FlagRow.code) == code)
    if lot is not None:
        query = query.where(col(FlagRow.lot) == lot)
    if severity is not None:
        query = query.where(col(FlagRow.severity) == severity)
    if before is not None:
        query = query.where(col(FlagRow.id) < before)
    return [_stored(row) for row in session.execute(query).scalars()]


def edges_into(session: Session, lots: Sequence[str]) -> list[Edge]:
    """The transform edges whose child is one of `lots`."""
    if not lots:
        return []
    rows = session.execute(
        select(LotEdgeRow).where(col(LotEdgeRow.child).in_(bindparam("lots", expanding=True))),
        {"lots": list(lots)},
    ).scalars()
    return [Edge(row.parent, row.child, row.mass_g, row.idx) for row in rows]


def event_indexes(session: Session, lots: Sequence[str]) -> dict[str, list[int]]:
    """For each lot, the indices of the entries that touched or created it, in order."""
    history: dict[str, list[int]] = {lot: [] for lot in lots}
    if not lots:
        return history
    rows = session.execute(
        select(col(LotEventRow.lot), col(LotEventRow.idx))
        .where(col(LotEventRow.lot).in_(bindparam("lots", expanding=True)))
        .order_by(col(LotEventRow.idx)),
        {"lots": list(lots)},
    ).all()
    for lot, idx in rows:
        history[str(lot)].append(int(idx))
    return history
