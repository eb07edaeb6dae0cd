"""Read-side answers: entries, checkpoints, proofs and lot state."""

from dataclasses import dataclass

# The read rule (DESIGN §6), which the routers reach through here.
from ledger.errors import Kind, LedgerError
from ledger.lots.access import OVERSIGHT_ROLES as OVERSIGHT_ROLES
from ledger.lots.access import may_read_detail as may_read_detail
from ledger.lots.state import LotState
from ledger.store import findings
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.findings import StoredFlag
from ledger.store.state import DbState
from ledger.store.tables import EntryRow


class NotFound(LedgerError):
    """The thing asked for does not exist; the detail says which (`code`: unknown_lot unless
    another thing is named)."""

    def __init__(self, detail: str, code: str = "unknown_lot") -> None:
        super().__init__(Kind.NOT_FOUND, code, detail)


class Forbidden(LedgerError):
    """The reader may not see this lot; the detail says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(Kind.FORBIDDEN, "not_your_lot", detail)


class BadRange(LedgerError):
    """A proof or page was asked for outside the tree."""

    def __init__(self, detail: str) -> None:
        super().__init__(Kind.INVALID, "bad_range", detail)


@dataclass(frozen=True)
class LogInfo:
    origin: str
    size: int
    log_key: str
    operator_key: str


def log_info(db: Database) -> LogInfo:
    with db.read_session() as session:
        meta = logstore.read_meta(session)
        size = logstore.current_size(session)
    return LogInfo(meta["origin"], size, meta["log_key"], meta["operator_key"])


def log_size(db: Database) -> int:
    """The log's size: the tree size of its newest checkpoint (each commit signs one)."""
    with db.read_session() as session:
        return logstore.current_size(session)


def get_entry(db: Database, index: int) -> EntryRow:
    with db.read_session() as session:
        row = logstore.entry(session, index)
        if row is None:
            size = logstore.current_size(session)
            raise NotFound(
                f"entry {index} does not exist: the log has {size} entries (0…{size - 1})",
                "unknown_entry",
            )
        session.expunge(row)
        return row


def inclusion_proof(db: Database, index: int, size: int) -> list[bytes]:
    with db.read_session() as session:
        current = logstore.current_size(session)
        if not 0 <= index < size <= current:
            raise BadRange(
                f"inclusion proof needs 0 <= index < size <= {current} (tree size); "
                f"got index={index}, size={size}"
            )
        return logstore.inclusion_proof(session, index, size)


def consistency_proof(db: Database, first: int, second: int) -> list[bytes]:
    with db.read_session() as session:
        current = logstore.current_size(session)
        if not 0 < first <= second <= current:
            raise BadRange(
                f"consistency proof needs 0 < first <= second <= {current} (tree size); "
                f"got first={first}, second={second}"
            )
        return logstore.consistency_proof(session, first, second)


def get_lot(db: Database, lot_id: str) -> tuple[LotState, list[StoredFlag]]:
    """The lot's state and the flags on it and on every lot upstream of it."""
    with db.read_session() as session:
        lot = DbState(session).lot(lot_id)
        if lot is None:
            raise NotFound(f"lot {lot_id!r} is not in the ledger")
        flags = findings.flags_on(session, findings.ancestry(session, lot_id))
    return lot, flags


def list_flags(
    db: Database,
    *,
    code: str | None = None,
    lot: str | None = None,
    severity: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[StoredFlag]:
    with db.read_session() as session:
        return findings.list_flags(
            session, code=code, lot=lot, severity=severity, before=before, limit=limit
        )
