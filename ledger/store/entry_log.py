"""The log's own tables as the services write and read them: the entries, the flags they
raised, the tree nodes they completed, the lot history (their layouts are spelt here only)."""

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from ledger.lots.rules import Flag
from ledger.store.bulk import driver_rows, insert_tuples, table
from ledger.store.tables import EntryRow, FlagRow, LotEventRow, TreeNodeRow
from ledger.verify.stored import Row

Node = tuple[int, int, bytes]
"""(level, index, hash): a perfect subtree an entry completed (merkle.CompactRange.append)."""


class NewEntry(NamedTuple):
    """An accepted entry's row (the columns of `entries`, in this order)."""

    idx: int
    envelope: bytes
    leaf_hash: bytes
    event_hash: str
    event_id: str
    type: str
    actor: str
    keyid: str


class NewFlag(NamedTuple):
    """A flag's row (the columns of `flags` but its serial id, in this order)."""

    idx: int
    event_hash: str
    lot: str
    code: str
    severity: str
    message: str
    evidence: dict[str, Any]

    @classmethod
    def of(cls, flag: Flag, index: int, event_hash: str) -> "NewFlag":
        evidence = dict(flag.evidence)
        return cls(index, event_hash, flag.lot, flag.code, flag.severity, flag.message, evidence)


_NODE_COLUMNS = ("level", "idx", "hash")
_PAGE_SQL = (
    f"SELECT {', '.join(NewEntry._fields)} "
    f"FROM {EntryRow.__tablename__} WHERE idx >= ? ORDER BY idx LIMIT ?"
)
_HISTORY_SQL = f"SELECT lot, idx FROM {LotEventRow.__tablename__} WHERE idx >= ? AND idx <= ?"


class EntryLog:
    """The entries, flags, tree nodes and lot history of the database `session` works in."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(
        self, entries: Sequence[NewEntry], flags: Sequence[NewFlag], nodes: Sequence[Node]
    ) -> None:
        """Write a batch's entries, flags and completed nodes: one executemany a table."""
        insert_tuples(self.session, table(EntryRow), NewEntry._fields, entries)
        insert_tuples(self.session, table(FlagRow), NewFlag._fields, flags)
        insert_tuples(self.session, table(TreeNodeRow), _NODE_COLUMNS, nodes)

    def pages(self, page: int) -> Iterator[list[Row]]:
        """Every entry in index order as plain tuples (Row), `page` at a time: the driver's
        rows, with no ORM or Core processing per row."""
        start = 0
        while rows := driver_rows(self.session, _PAGE_SQL, (start, page)):
            yield [
                row
                if type(row) is tuple and type(row[1]) is bytes and type(row[2]) is bytes
                else (row[0], bytes(row[1]), bytes(row[2]), *row[3:])
                for row in rows
            ]
            start = rows[-1][0] + 1

    def flags(self, first: int, last: int) -> list[NewFlag]:
        """The stored flags of entries first..last."""
        rows = self.session.execute(
            select(*(col(getattr(FlagRow, name)) for name in NewFlag._fields)).where(
                col(FlagRow.idx) >= first, col(FlagRow.idx) <= last
            )
        ).all()
        return [NewFlag(*row) for row in rows]

    def history(self, first: int, last: int) -> set[tuple[str, int]]:
        """The stored (lot, entry) pairs of lot_events of entries first..last."""
        rows = driver_rows(self.session, _HISTORY_SQL, (first, last))
        return {(str(lot), int(idx)) for lot, idx in rows}

    def node_count(self) -> int:
        return int(self.session.execute(select(func.count()).select_from(TreeNodeRow)).scalar_one())

    def history_outside(self, size: int) -> tuple[str, int] | None:
        """A lot_events row (lot, entry) of an entry outside the log of `size`, if any."""
        row = self.session.execute(
            select(col(LotEventRow.lot), col(LotEventRow.idx)).where(
                or_(col(LotEventRow.idx) < 0, col(LotEventRow.idx) >= size)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    def flag_outside(self, size: int) -> NewFlag | None:
        """A flag of an entry outside the log of `size`, if any."""
        row = self.session.execute(
            select(*(col(getattr(FlagRow, name)) for name in NewFlag._fields)).where(
                or_(col(FlagRow.idx) < 0, col(FlagRow.idx) >= size)
            )
        ).first()
        return None if row is None else NewFlag(*row)
