"""The audit's checks of the stored tables: the nodes of step (7), the checkpoints of (8)–(9)
and step (10), compared with what the replay of the log (ledger.verify.log.LogAuditor) made
of them, a page at a time and at the end."""

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag
from ledger.store import log as logstore
from ledger.store.entry_log import EntryLog, NewFlag
from ledger.store.nodes import find_node_ranges
from ledger.store.rows import stored_records
from ledger.store.tables import (
    CheckpointRow,
    DeclarationRow,
    KeyRow,
    LicenceRow,
    LogHead,
    LotEdgeRow,
    LotRow,
    ParticipantRow,
    QuotaRow,
)
from ledger.tlog.encoding import b64encode
from ledger.tlog.note import Checkpoint
from ledger.verify.log import LogAuditor, check_node
from ledger.verify.stored import AuditFailure

# A flag the rules raised on the replay: (index, event_hash, flag).
Raised = tuple[int, str, Flag]


def check_nodes(session: Session, completed: list[tuple[int, int, int, bytes]]) -> None:
    """(7) for a page: every perfect-subtree hash the entries completed is stored as computed.

    The nodes a page of consecutive entries completes are consecutive on each level: they are
    read as one range per level (the stored rows of exactly those ids), else one by one."""
    ranges: dict[int, list[int]] = {}
    for _, level, idx, _ in completed:
        span = ranges.get(level)
        if span is None:
            ranges[level] = [idx, idx, 1]
        else:
            span[0], span[1], span[2] = min(span[0], idx), max(span[1], idx), span[2] + 1
    if all(last - first + 1 == count for first, last, count in ranges.values()) and len(
        {(level, idx) for _, level, idx, _ in completed}
    ) == len(completed):
        spans = [(level, first, last) for level, (first, last, _) in ranges.items()]
        found = find_node_ranges(session, spans)
    else:
        found = logstore.find_nodes(session, [(level, idx) for _, level, idx, _ in completed])
    for index, level, idx, digest in completed:
        check_node(level, idx, digest, found.get((level, idx)), index)


def check_flags(session: Session, flags: list[Raised], first: int, last: int) -> None:
    """(10) for a page: the flags table holds exactly the flags the rules raised on the replay
    of its entries, (index, event_hash, flag) each (LogAuditor.flags); `flags` is emptied.

    Flags are recomputed with the auditor's tolerances (the defaults, as the server uses).
    """
    expected = Counter(_flag_key(index, event_hash, flag) for index, event_hash, flag in flags)
    flags.clear()
    stored = Counter(
        _flag_key(row.idx, row.event_hash, row) for row in EntryLog(session).flags(first, last)
    )
    if stored != expected:
        differing = (stored - expected) + (expected - stored)
        index, lot, code = min(differing)[:3]
        state = (
            "is missing"
            if expected[min(differing)] > stored[min(differing)]
            else ("was never raised by the rules, or differs from them")
        )
        raise AuditFailure(10, f"flag {code} on lot {lot!r} at entry {index} {state}", index)


def _flag_key(
    index: int, event_hash: str, flag: Flag | NewFlag
) -> tuple[int, str, str, str, str, str, str]:
    evidence = json.dumps(flag.evidence, sort_keys=True)
    return (index, flag.lot, flag.code, event_hash, flag.severity, flag.message, evidence)


def check_history(session: Session, touched: list[tuple[str, int]], first: int, last: int) -> None:
    """(10) for a page: lot_events holds exactly the (lot, entry) pairs the replay of its
    entries touched (LogAuditor.touched); `touched` is emptied."""
    expected = set(touched)
    touched.clear()
    stored = EntryLog(session).history(first, last)
    if stored != expected:
        lot, index = min(stored ^ expected, key=lambda pair: pair[1])
        state = "is missing" if (lot, index) in expected else "was never made by it"
        raise AuditFailure(10, f"lot history row ({lot!r}, entry {index}) {state}", index)


def check_no_rows_beyond(session: Session, size: int) -> None:
    """(6), (7), (10): no entry, tree node, lot history row or flag lies outside the log (a
    planted row would collide with a future append, or be read by whoever asks for its index,
    or listed; the pages of the replay only compare the rows of their own entries)."""
    log = EntryLog(session)
    entries = logstore.entry_count(session)
    if entries != size:
        raise AuditFailure(
            6, f"{entries} entry rows stored, the log is entries 0..{size - 1}: one lies outside"
        )
    nodes = log.node_count()
    expected = sum(size >> level for level in range(size.bit_length()))
    if nodes != expected:
        raise AuditFailure(7, f"{nodes} tree nodes stored, a tree of {size} leaves has {expected}")
    stray = log.history_outside(size)
    if stray is not None:
        raise AuditFailure(
            10, f"lot history row ({stray[0]!r}, entry {stray[1]}) is outside the log", size
        )
    flag = log.flag_outside(size)
    if flag is not None:
        raise AuditFailure(
            10, f"flag {flag.code} on lot {flag.lot!r} at entry {flag.idx} is outside the log", size
        )


# The stored state tables, each by id (stored_records): lots, participants, keys,
# declarations, licences, quotas and lot edges.
StoredState = tuple[dict[str, Any], ...]


def stored_state(session: Session) -> StoredState:
    """The stored state tables, as check_state compares them."""
    rows = (LotRow, ParticipantRow, KeyRow, DeclarationRow, LicenceRow, QuotaRow, LotEdgeRow)
    return tuple(stored_records(session, row) for row in rows)


def check_state(session: Session, replay: MemoryState, read: StoredState | None = None) -> int:
    """(10): the stored state tables (`read` already, or read now) equal the state replayed
    from the entries."""
    lots, participants, keys, declarations, licences, quotas, edges = (
        stored_state(session) if read is None else read
    )
    tables: list[tuple[str, Mapping[str, object], Mapping[str, object]]] = [
        ("lot", lots, dict(replay.lots)),
        ("participant", participants, dict(replay.participants)),
        ("key", keys, dict(replay.keys)),
        ("declaration", declarations, dict(replay.declarations)),
        ("licence", licences, dict(replay.licences)),
        ("quota", quotas, dict(replay.quota_records)),
        ("lot edge", edges, {f"{e.parent}->{e.child}": e for e in replay.edges}),
    ]
    for name, stored, replayed in tables:
        if stored == replayed:
            continue
        for key in sorted(stored.keys() | replayed.keys()):
            if stored.get(key) != replayed.get(key):
                state = "is missing" if key not in stored else "differs from the replayed log"
                raise AuditFailure(10, f"stored {name} {key!r} {state}")
    return len(replay.lots)


def check_checkpoint(
    session: Session,
    auditor: LogAuditor,
    row: CheckpointRow,
    root: bytes,
    previous: Checkpoint | None,
) -> Checkpoint:
    checkpoint = auditor.check_checkpoint(row.size, row.note, root)
    if bytes(row.root) != checkpoint.root:
        raise AuditFailure(8, f"checkpoint row {row.size}: root column differs from its note")
    if previous is not None:
        proof = logstore.consistency_proof(session, previous.size, checkpoint.size)
        auditor.check_consistency(previous, checkpoint, proof)
    return checkpoint


def finish(
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
    head = session.get(LogHead, logstore.HEAD_ROW_ID)
    if head is None:
        raise AuditFailure(10, "the log_head row is missing", auditor.size)
    if head.size != auditor.size:
        raise AuditFailure(
            10, f"log head says size {head.size}, the entries give {auditor.size}", auditor.size
        )
    if bytes(head.root) != auditor.tree.root():
        raise AuditFailure(
            10,
            f"log head says root {b64encode(bytes(head.root))}, the entries give "
            f"{b64encode(auditor.tree.root())}",
            auditor.size,
        )
    if auditor.size > 0 and (previous is None or previous.size != auditor.size):
        last = previous.size if previous else 0
        raise AuditFailure(
            10, f"entries after index {last - 1} are not covered by any checkpoint", last
        )


def check_identity(session: Session, origin: str, log_vkey: str, operator_key: bytes) -> None:
    """(10): ledger_meta names the trusted keys: /v1/log serves it and servers bind to it."""
    meta = logstore.read_meta(session)
    expected = {"origin": origin, "log_key": log_vkey, "operator_key": b64encode(operator_key)}
    for name, value in expected.items():
        if meta.get(name) != value:
            raise AuditFailure(
                10, f"ledger_meta {name} is {meta.get(name)!r}, the trusted value is {value!r}"
            )
