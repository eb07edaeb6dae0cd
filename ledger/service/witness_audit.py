"""The audit's witness steps: (18) every stored cosignature, (19) every cosigned checkpoint
the auditor is shown, against the log the main audit has just verified."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.tables import CheckpointRow, CosignatureRow
from ledger.tlog import merkle
from ledger.tlog.cosignature import WitnessKey
from ledger.verify.cosigned import ShownCheckpoint, check_shown_checkpoint, check_stored_cosignature

PAGE = 2000


@dataclass(frozen=True)
class WitnessAudit:
    # Stored cosigned checkpoints per witness name (all witnesses, trusted or not).
    stored: Counter[str] = field(default_factory=Counter)
    shown: tuple[ShownCheckpoint, ...] = ()


def audit_witnessed(
    db: Database,
    log_vkey: str,
    origin: str,
    witnesses: Sequence[WitnessKey],
    shown: Sequence[tuple[str, str]],
) -> WitnessAudit:
    """Steps (18) and (19); raises AuditFailure. Run after the main audit passed: the stored
    tree nodes the roots are read from are then the ones the entries give."""
    stored: Counter[str] = Counter()
    with db.snapshot_session() as session:
        after = -1
        while rows := _cosignatures(session, after):
            full = len(rows) == PAGE
            if full:  # the last size may go on in the next page: it is read there whole
                rows = [row for row in rows if row.size != rows[-1].size] or rows
            notes = _notes(session, {row.size for row in rows})
            for row in rows:
                name = check_stored_cosignature(row.size, row.vkey, row.line, notes.get(row.size))
                stored[name] += 1
            after = rows[-1].size
            if not full:
                break
        size = logstore.current_size(session)

        def root_at(at: int) -> bytes:
            nodes = logstore.load_nodes(session, merkle.root_nodes(at))
            return merkle.root_at(at, logstore.node_reader(nodes))

        checked = tuple(
            check_shown_checkpoint(label, note, log_vkey, origin, witnesses, size, root_at)
            for label, note in shown
        )
    return WitnessAudit(stored, checked)


def _cosignatures(session: Session, after: int) -> list[CosignatureRow]:
    query = (
        select(CosignatureRow)
        .where(col(CosignatureRow.size) > after)
        .order_by(col(CosignatureRow.size), col(CosignatureRow.vkey))
        .limit(PAGE)
    )
    return list(session.execute(query).scalars())


def _notes(session: Session, sizes: set[int]) -> dict[int, str]:
    rows = session.execute(
        select(col(CheckpointRow.size), col(CheckpointRow.note)).where(
            col(CheckpointRow.size).in_(sorted(sizes))
        )
    ).all()
    return {int(size): str(note) for size, note in rows}
