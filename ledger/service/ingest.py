"""Ingest: parse and verify a batch, then authorise, apply and append it under the lock."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from ledger.lots.events import (
    CustomsDecide,
    ExportDeclare,
    LotExtract,
    LotTransform,
    touched_lots,
)
from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import Effects, Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.service.identity import LogIdentity
from ledger.service.preverify import preverify
from ledger.store import log as logstore
from ledger.store.batch import BatchWriter
from ledger.store.bulk import insert_rows, table
from ledger.store.engine import Database
from ledger.store.state import PrefetchedState
from ledger.store.tables import EntryRow, FlagRow
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.verify.entry import ParsedEntry, check_signature

DEFAULT_TOLERANCES = Tolerances()


@dataclass(frozen=True)
class Accepted:
    """An acknowledged entry: committed, and covered by `checkpoint`, of tree size `size`."""

    index: int
    event_hash: str
    leaf_hash: bytes
    checkpoint: str
    size: int
    inclusion_proof: list[bytes]
    flags: tuple[Flag, ...] = ()


def ingest(
    db: Database,
    identity: LogIdentity,
    envelopes: Sequence[object],
    now: datetime,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
) -> list[Accepted]:
    """Append `envelopes` in order, all or nothing; later ones may depend on earlier ones.

    Each accepted entry's flags are recorded in the same transaction. Raises Rejection (with
    `position`, the envelope's place in the batch) and writes nothing if any is refused.
    """
    if not envelopes:
        raise Rejection(
            422, "empty_batch", "a batch needs at least one envelope", field="envelopes"
        )
    # Outside the lock: the signatures, with the keys as they look now (checked again below).
    batch = preverify(db, identity, envelopes)
    parsed = batch.parsed
    with db.write_session() as session:
        head = logstore.lock_head(session)
        start = head.size
        tree = logstore.compact_range(session, start)
        base = PrefetchedState(session)
        _prefetch(base, parsed)
        state = MemoryState(base=base)
        writer = BatchWriter()
        entries: list[dict[str, Any]] = []
        flag_rows: list[dict[str, Any]] = []
        new_nodes: list[tuple[int, int, bytes]] = []
        found: list[tuple[Flag, ...]] = []
        for position, entry in enumerate(parsed):
            index = start + position
            try:
                effects, flags = _admit(
                    entry, index, state, identity, now, tolerances, batch.verified_key(position)
                )
            except Rejection as exc:
                exc.position = position
                raise
            state.apply(effects, entry.event.id, index)
            writer.add(effects)
            entries.append(_entry_values(entry, index, now))
            flag_rows.extend(_flag_values(flag, index, entry.event_hash) for flag in flags)
            found.append(flags)
            new_nodes.extend(tree.append(entry.leaf_hash))
        insert_rows(session, table(EntryRow), entries)
        writer.write(session, base)
        insert_rows(session, table(FlagRow), flag_rows)
        logstore.add_nodes(session, new_nodes)
        size, root = tree.size, tree.root()
        note = sign_checkpoint(
            Checkpoint(identity.origin, size, root), identity.origin, identity.log_key
        )
        logstore.add_checkpoint(session, size, root, note, now)
        head.size, head.root = size, root
        session.add(head)
        proofs = _inclusion_proofs(session, new_nodes, start, size)
        session.commit()
    return [
        Accepted(start + i, entry.event_hash, entry.leaf_hash, note, size, proofs[i], found[i])
        for i, entry in enumerate(parsed)
    ]


def _admit(
    entry: ParsedEntry,
    index: int,
    state: MemoryState,
    identity: LogIdentity,
    now: datetime,
    tolerances: Tolerances,
    verified_with: bytes | None,
) -> tuple[Effects, tuple[Flag, ...]]:
    """Admission: the key was valid here, the signature verifies, the event applies; then
    the rules read the state as it was before the event.

    `verified_with` is the key the signature was found good with before the lock; when the
    key valid here (read under the lock) is another one, or there was none, it is verified
    again now, so the answer is always that of the key the locked state names.
    """
    event = entry.event
    public_key = authorise_key(entry.keyid, event.actor, index, state, identity.operator_keyid)
    key = identity.operator_public_key if public_key is None else public_key
    if verified_with is None or verified_with != key:
        check_signature(entry, key)
    effects = apply_event(event, entry.event_hash, index, state, now)
    return effects, tuple(check_event(event, state, tolerances))


def _prefetch(state: PrefetchedState, parsed: Sequence[ParsedEntry]) -> None:
    """Everything the batch will look up, read in a few queries instead of several per entry."""
    lots: set[str] = set()
    participants: set[str] = set()
    declarations: set[str] = set()
    for entry in parsed:
        event = entry.event
        lots.update(event.prev)
        lots.update(touched_lots(event))
        participants.add(event.actor)
        match event:
            case LotExtract():
                lots.add(event.lot.id)
            case LotTransform():
                lots.update(output.id for output in event.outputs)
            case ExportDeclare():
                declarations.add(event.declaration.id)
            case CustomsDecide():
                declarations.add(event.declaration)
        for name in ("to", "from_", "participant"):
            value = getattr(event, name, None)
            if isinstance(value, str):
                participants.add(value)
    state.prefetch(
        lots=lots,
        participants=participants,
        keys={entry.keyid for entry in parsed},
        declarations=declarations,
        event_ids={entry.event.id for entry in parsed},
    )


def _entry_values(entry: ParsedEntry, index: int, now: datetime) -> dict[str, Any]:
    return {
        "idx": index,
        "envelope": entry.leaf_bytes,
        "leaf_hash": entry.leaf_hash,
        "event_hash": entry.event_hash,
        "event_id": entry.event.id,
        "type": entry.event.type,
        "actor": entry.event.actor,
        "keyid": entry.keyid,
        "integrated_at": now,
    }


def _flag_values(flag: Flag, index: int, event_hash: str) -> dict[str, Any]:
    return {
        "idx": index,
        "event_hash": event_hash,
        "lot": flag.lot,
        "code": flag.code,
        "severity": flag.severity,
        "message": flag.message,
        "evidence": dict(flag.evidence),
    }


def _inclusion_proofs(
    session: Session, new_nodes: list[tuple[int, int, bytes]], start: int, size: int
) -> list[list[bytes]]:
    """Proofs for the new entries, from the nodes just made plus O(log n) stored ones."""
    known = {(level, idx): digest for level, idx, digest in new_nodes}
    wanted = {node for i in range(start, size) for node in merkle.inclusion_nodes(i, size)}
    known.update(logstore.load_nodes(session, wanted - known.keys()))
    get_node = logstore.node_reader(known)
    return [merkle.inclusion_proof(i, size, get_node) for i in range(start, size)]
