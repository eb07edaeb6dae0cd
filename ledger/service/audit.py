"""The full audit: stream the stored log through the pure auditor, page by page."""

import os
from concurrent.futures import Executor
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.service import audit_tables
from ledger.service.audit_parallel import Progress, audit_partitioned
from ledger.service.audit_pool import (
    SIGNATURE_CHUNK,
    PageSignatures,
    inline_pages,
    prechecked_pages,
    worker_pool,
)
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.entry_log import EntryLog
from ledger.store.tables import (
    CheckpointRow,
    KeyRow,
)
from ledger.tlog.note import Checkpoint
from ledger.verify.log import LogAuditor
from ledger.verify.stored import AuditFailure, Prechecked, StoredEntry

PAGE = 2000
# Workers from which the replay runs in parts (ledger/service/audit_parallel.py). Not two:
# on two cores the pipelined audit keeps both busy already, and the parts, which spend ~12 %
# more CPU in all, were slower (docs/performance.md §5, lever 30).
PARTS = 3


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


def audit(
    db: Database,
    trusted: TrustedKeys,
    progress: Progress | None = None,
    jobs: int | None = None,
    policy: CustodyPolicy = DEFAULT_POLICY,
) -> AuditReport:
    """Steps (1)–(10) over the whole log; raises AuditFailure naming the first bad index.

    The replay is sequential. With `jobs` worker processes (default: one per core), each
    page of entries is handed to them ahead of the replay for steps (1)–(3) and the
    signatures (`ledger.service.audit_pool`); the replay takes their verdicts entry by entry
    and judges a page only once every signature of it is in, so the first failure named is
    the one the sequential audit (`jobs=0`: everything in this process) names.

    With PARTS or more workers, the replay itself is first run in parallel, in as many
    parts as workers (`ledger.service.audit_parallel`); if that finds anything wrong, or
    cannot split the log, the audit above decides, and names the failure.
    """
    workers = (os.cpu_count() or 1) if jobs is None else jobs
    if workers >= PARTS:
        auditor = _auditor(trusted, policy)
        try:
            with db.snapshot_session() as session:
                _hint_keys(session, auditor)
                count, lots = audit_partitioned(session, auditor, workers, PAGE, progress)
            return AuditReport(auditor.size, count, lots, auditor.tree.root())
        except Exception:  # the sequential audit names what is wrong, exactly as it does
            pass
    return _audit(db, trusted, progress, workers, policy)


def _auditor(trusted: TrustedKeys, policy: CustodyPolicy) -> LogAuditor:
    return LogAuditor(trusted.origin, trusted.log_vkey, trusted.operator_public_key, policy=policy)


def _audit(
    db: Database,
    trusted: TrustedKeys,
    progress: Progress | None,
    workers: int,
    policy: CustodyPolicy,
) -> AuditReport:
    """The audit with a sequential replay."""
    auditor = _auditor(trusted, policy)
    with db.snapshot_session() as session, _workers(session, auditor, workers) as pool:
        total = logstore.entry_count(session)
        checkpoints = logstore.checkpoint_stream(session, PAGE)
        pending = next(checkpoints, None)
        previous: Checkpoint | None = None
        count = 0
        pages = EntryLog(session).pages(PAGE)
        chunked = inline_pages(pages) if pool is None else prechecked_pages(pool, pages)
        for chunks in chunked:
            completed: list[tuple[int, int, int, bytes]] = []
            reached: list[tuple[CheckpointRow, bytes]] = []
            signatures = PageSignatures(auditor, pool)
            for rows, future in chunks:
                found = None if future is None else future.result()
                # Unchecked rows (the first page, while the workers start; or no workers):
                # their signatures are verified here, as the replay reaches them.
                auditor.defer_signatures = found is not None
                verdicts, events, failures = found or Prechecked(b"", [], {})
                for offset, row in enumerate(rows):
                    index = row[0]
                    try:
                        if found is None:
                            nodes = auditor.entry(StoredEntry(*row))
                        else:
                            nodes = auditor.entry_prechecked(
                                row, verdicts[offset], events[offset], failures.get(offset)
                            )
                    except AuditFailure:
                        # An earlier entry's bad signature is the first failure, and so is
                        # this entry's own when its replay failed after step (4).
                        signatures.settle(through=index)
                        raise
                    if len(auditor.deferred) >= SIGNATURE_CHUNK:
                        signatures.submit()
                    for node in nodes:
                        completed.append((index, *node))
                    while pending is not None and pending.size == auditor.size:
                        reached.append((pending, auditor.tree.root()))
                        pending = next(checkpoints, None)
            signatures.settle()
            first, last = chunks[0].rows[0][0], chunks[-1].rows[-1][0]
            audit_tables.check_nodes(session, completed)
            audit_tables.check_history(session, auditor.touched, first, last)
            audit_tables.check_flags(session, auditor.flags, first, last)
            for checkpoint_row, root in reached:
                previous = audit_tables.check_checkpoint(
                    session, auditor, checkpoint_row, root, previous
                )
                count += 1
            if progress:
                progress(auditor.size, total)
        audit_tables.finish(session, auditor, pending, previous)
        audit_tables.check_no_rows_beyond(session, auditor.size)
        lots = audit_tables.check_state(session, auditor.state)
        audit_tables.check_identity(
            session, trusted.origin, trusted.log_vkey, trusted.operator_public_key
        )
    return AuditReport(auditor.size, count, lots, auditor.tree.root())


def _workers(
    session: Session, auditor: LogAuditor, workers: int
) -> ContextManager[Executor | None]:
    """The worker pool, given the keys to try on the signatures (`_hint_keys`)."""
    if workers > 0:
        _hint_keys(session, auditor)
    return worker_pool(workers, auditor.key_hints)


def _hint_keys(session: Session, auditor: LogAuditor) -> None:
    """The stored participant keys as the keys the workers try on the signatures. Only a
    guess: a verdict counts only for the key the replay names (step (4))."""
    rows = session.execute(select(col(KeyRow.keyid), col(KeyRow.public_key))).all()
    for keyid, public_key in rows:
        auditor.key_hints.setdefault(str(keyid), bytes(public_key))
