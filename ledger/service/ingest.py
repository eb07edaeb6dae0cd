"""Ingest: parse, authorise, apply and append a batch of envelopes under the sequencer lock."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import Effects, Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.service.identity import LogIdentity
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.findings import add_flags
from ledger.store.state import DbState, write_effects
from ledger.store.tables import EntryRow
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.verify.entry import ParsedEntry, check_signature, parse_entry

DEFAULT_TOLERANCES = Tolerances()


@dataclass(frozen=True)
class Accepted:
    """An acknowledged entry: committed, and covered by `checkpoint`."""

    index: int
    event_hash: str
    leaf_hash: bytes
    checkpoint: str
    inclusion_proof: list[bytes]
    flags: tuple[Flag, ...] = ()


def parse_batch(envelopes: Sequence[object]) -> list[ParsedEntry]:
    """Steps (1)–(3) for every envelope, before any lock is taken."""
    parsed = []
    for position, envelope in enumerate(envelopes):
        try:
            parsed.append(parse_entry(envelope))
        except Rejection as exc:
            exc.position = position
            raise
    return parsed


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
    parsed = parse_batch(envelopes)
    with db.write_session() as session:
        head = logstore.lock_head(session)
        start = head.size
        tree = logstore.compact_range(session, start)
        state = MemoryState(base=DbState(session))
        new_nodes: list[tuple[int, int, bytes]] = []
        found: list[tuple[Flag, ...]] = []
        for position, entry in enumerate(parsed):
            index = start + position
            try:
                effects, flags = _admit(entry, index, state, identity, now, tolerances)
            except Rejection as exc:
                exc.position = position
                raise
            state.apply(effects, entry.event.id, index)
            write_effects(session, effects)
            session.add(_entry_row(entry, index, now))
            add_flags(session, flags, index, entry.event_hash)
            found.append(flags)
            new_nodes.extend(tree.append(entry.leaf_hash))
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
        Accepted(start + i, entry.event_hash, entry.leaf_hash, note, proofs[i], found[i])
        for i, entry in enumerate(parsed)
    ]


def _admit(
    entry: ParsedEntry,
    index: int,
    state: MemoryState,
    identity: LogIdentity,
    now: datetime,
    tolerances: Tolerances,
) -> tuple[Effects, tuple[Flag, ...]]:
    """Admission: the key was valid here, the signature verifies, the event applies; then
    the rules read the state as it was before the event."""
    event = entry.event
    public_key = authorise_key(entry.keyid, event.actor, index, state, identity.operator_keyid)
    check_signature(entry, identity.operator_public_key if public_key is None else public_key)
    effects = apply_event(event, entry.event_hash, index, state, now)
    return effects, tuple(check_event(event, state, tolerances))


def _entry_row(entry: ParsedEntry, index: int, now: datetime) -> EntryRow:
    return EntryRow(
        idx=index,
        envelope=entry.leaf_bytes,
        leaf_hash=entry.leaf_hash,
        event_hash=entry.event_hash,
        event_id=entry.event.id,
        type=entry.event.type,
        actor=entry.event.actor,
        keyid=entry.keyid,
        integrated_at=now,
    )


def _inclusion_proofs(
    session: Session, new_nodes: list[tuple[int, int, bytes]], start: int, size: int
) -> list[list[bytes]]:
    """Proofs for the new entries, from the nodes just made plus O(log n) stored ones."""
    known = {(level, idx): digest for level, idx, digest in new_nodes}
    wanted = {node for i in range(start, size) for node in merkle.inclusion_nodes(i, size)}
    known.update(logstore.load_nodes(session, wanted - known.keys()))
    get_node = logstore.node_reader(known)
    return [merkle.inclusion_proof(i, size, get_node) for i in range(start, size)]
