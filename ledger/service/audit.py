"""The full audit: stream the stored log through the pure auditor, page by page."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.state import lot_from_row
from ledger.store.tables import CheckpointRow, EntryRow, LotRow
from ledger.tlog.note import Checkpoint
from ledger.verify.log import AuditFailure, LogAuditor, StoredEntry, check_node

PAGE = 2000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class AuditReport:
    entries: int
    checkpoints: int
    lots: int
    root: bytes


@dataclass(frozen=True)
class TrustedKeys:
    """The two keys an auditor trusts; by default those recorded at `init`."""

    origin: str
    log_vkey: str
    operator_public_key: bytes


def audit(db: Database, trusted: TrustedKeys, progress: Progress | None = None) -> AuditReport:
    """Steps (1)–(10) over the whole log; raises AuditFailure naming the first bad index."""
    auditor = LogAuditor(trusted.origin, trusted.log_vkey, trusted.operator_public_key)
    with db.read_session() as session:
        total = logstore.entry_count(session)
        checkpoints = logstore.checkpoint_stream(session, PAGE)
        pending = next(checkpoints, None)
        previous: Checkpoint | None = None
        count = 0
        for page in logstore.entry_pages(session, PAGE):
            for row in page:
                _check_entry(session, auditor, _stored(row))
                while pending is not None and pending.size == auditor.size:
                    previous = _check_checkpoint(session, auditor, pending, previous)
                    count += 1
                    pending = next(checkpoints, None)
            if progress:
                progress(auditor.size, total)
        _finish(session, auditor, pending, previous)
        lots = _check_lots(session, auditor)
    return AuditReport(auditor.size, count, lots, auditor.tree.root())


def _stored(row: EntryRow) -> StoredEntry:
    return StoredEntry(
        index=row.idx,
        envelope=bytes(row.envelope),
        leaf_hash=bytes(row.leaf_hash),
        event_hash=row.event_hash,
        event_id=row.event_id,
        type=row.type,
        actor=row.actor,
        keyid=row.keyid,
    )


def _check_entry(session: Session, auditor: LogAuditor, stored: StoredEntry) -> None:
    """(1)–(6) for the entry, then (7) for the tree nodes it completes."""
    completed = auditor.entry(stored)
    found = logstore.find_nodes(session, [(level, idx) for level, idx, _ in completed])
    for level, idx, digest in completed:
        check_node(level, idx, digest, found.get((level, idx)))


def _check_checkpoint(
    session: Session, auditor: LogAuditor, row: CheckpointRow, previous: Checkpoint | None
) -> Checkpoint:
    checkpoint = auditor.check_checkpoint(row.size, row.note)
    if bytes(row.root) != checkpoint.root:
        raise AuditFailure(8, f"checkpoint row {row.size}: root column differs from its note")
    if previous is not None:
        proof = logstore.consistency_proof(session, previous.size, checkpoint.size)
        auditor.check_consistency(previous, checkpoint, proof)
    return checkpoint


def _finish(
    session: Session,
    auditor: LogAuditor,
    pending: CheckpointRow | None,
    previous: Checkpoint | None,
) -> None:
    # (10): the log head, the last checkpoint and the entries all agree on the size and root.
    if pending is not None:
        raise AuditFailure(
            10,
            f"checkpoint at size {pending.size} but the log has only {auditor.size} entries: "
            f"entries from index {auditor.size} are missing",
            auditor.size,
        )
    head = logstore.head(session)
    if head.size != auditor.size or bytes(head.root) != auditor.tree.root():
        raise AuditFailure(
            10, f"log head says size {head.size}, the entries give {auditor.size}", auditor.size
        )
    if auditor.size > 0 and (previous is None or previous.size != auditor.size):
        last = previous.size if previous else 0
        raise AuditFailure(
            10, f"entries after index {last - 1} are not covered by any checkpoint", last
        )


def _check_lots(session: Session, auditor: LogAuditor) -> int:
    """(10): the stored lot table equals the state replayed from the entries."""
    count = 0
    for row in session.execute(select(LotRow)).scalars():
        stored = lot_from_row(row)
        replayed = auditor.state.lot(stored.id)
        if replayed != stored:
            raise AuditFailure(
                10,
                f"stored state of lot {stored.id!r} differs from the replayed log",
                stored.updated_index,
            )
        count += 1
    if count != auditor.state.lot_count():
        raise AuditFailure(10, f"{count} lots stored, the log creates {auditor.state.lot_count()}")
    return count
