"""Ingest: parse and verify a batch, then authorise, apply and append it under the lock."""

from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlmodel import Session

from ledger.errors import Kind
from ledger.lots.access import as_answered
from ledger.lots.events import (
    CustomsDecide,
    ExportDeclare,
    LicenceIssue,
    LicenceRevoke,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
    ParticipantKeyAdd,
    ParticipantKeyRevoke,
    ParticipantRegister,
    QuotaIssue,
)
from ledger.lots.memory import MemoryState
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.service.preverify import preverify
from ledger.store import log as logstore
from ledger.store.batch import BatchWriter
from ledger.store.engine import Database
from ledger.store.entry_log import EntryLog, NewEntry, NewFlag
from ledger.store.identity import LogIdentity
from ledger.store.state import PrefetchedState
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.verify.entry import ParsedEntry, check_signature

DEFAULT_TOLERANCES = Tolerances()


class Accepted(msgspec.Struct, frozen=True):
    """An acknowledged entry: committed, and covered by `checkpoint`, of tree size `size`.
    `flags` are as its sender may read them (ledger.lots.access.as_answered)."""

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
    policy: CustodyPolicy = DEFAULT_POLICY,
) -> list[Accepted]:
    """Append `envelopes` in order, all or nothing; later ones may depend on earlier ones.

    Each accepted entry's flags are recorded in the same transaction. Raises Rejection (with
    `position`, the envelope's place in the batch) and writes nothing if any is refused.
    """
    if not envelopes:
        raise Rejection(
            Kind.INVALID, "empty_batch", "a batch needs at least one envelope", field="envelopes"
        )
    # Outside the lock: the signatures, with the keys as they look now (checked again below).
    batch = preverify(db, identity, envelopes)
    parsed = batch.parsed
    operator_keyid = identity.operator_keyid  # a property that hashes: read once a batch
    operator_key = identity.operator_public_key
    with db.write_session() as session:
        head = logstore.lock_head(session)
        start = head.size
        # The tree's right edge, as logstore.compact_range reads it; its nodes are also the
        # only stored ones the new entries' proofs read (every other node a proof of a new
        # leaf reads was completed by this batch).
        edge_nodes = logstore.load_nodes(session, merkle.root_nodes(start))
        tree = merkle.CompactRange.from_nodes(start, logstore.node_reader(edge_nodes))
        base = PrefetchedState(session)
        _prefetch(base, parsed)
        state = MemoryState(base=base)
        writer = BatchWriter()
        entries: list[NewEntry] = []
        flag_rows: list[NewFlag] = []
        new_nodes: list[tuple[int, int, bytes]] = []
        found: list[tuple[Flag, ...]] = []
        for position, entry in enumerate(parsed):
            index = start + position
            event = entry.event
            keyid = entry.keyid
            event_hash = entry.event_hash
            try:
                # Admission: the key was valid here, the signature verifies, the event
                # applies; then the rules read the state as it was before the event.
                verified_with = batch.verified_key(position)
                public_key = authorise_key(keyid, event.actor, index, state, operator_keyid)
                key = operator_key if public_key is None else public_key
                # The key verified before the lock is a guess: when the key valid here is
                # another one, or there was none, the signature is verified again now.
                if verified_with is None or verified_with != key:
                    check_signature(entry, key)
                effects = apply_event(event, event_hash, index, state, now, policy)
                flags = tuple(check_event(event, state, tolerances, derived=effects))
            except Rejection as exc:
                exc.position = position
                raise
            state.apply(effects, event.id, index)
            writer.add(effects)
            entries.append(
                NewEntry(
                    index,
                    entry.leaf_bytes,
                    entry.leaf_hash,
                    event_hash,
                    event.id,
                    event.type,
                    event.actor,
                    keyid,
                )
            )
            if flags:
                flag_rows.extend(NewFlag.of(flag, index, event_hash) for flag in flags)
                # The answer carries each flag's numbers only where the sender may read its lot.
                flags = as_answered(flags, state.participant(event.actor), state)
            found.append(flags)
            new_nodes.extend(tree.append(entry.leaf_hash))
        EntryLog(session).append(entries, flag_rows, new_nodes)
        writer.write(session, base)
        size, root = tree.size, tree.root()
        note = sign_checkpoint(
            Checkpoint(identity.origin, size, root), identity.origin, identity.log_key
        )
        logstore.add_checkpoint(session, size, root, note)
        head.size, head.root = size, root
        session.add(head)
        proofs = _inclusion_proofs(session, edge_nodes, new_nodes, start, size)
        session.commit()
    return [
        Accepted(start + i, entry.event_hash, entry.leaf_hash, note, size, proofs[i], found[i])
        for i, entry in enumerate(parsed)
    ]


def _prefetch(state: PrefetchedState, parsed: Sequence[ParsedEntry]) -> None:
    """Everything the batch will look up, read in a few queries instead of several per entry."""
    lots: set[str] = set()
    participants: set[str] = set()
    keys: set[str] = set()
    declarations: set[str] = set()
    licences: set[str] = set()
    quotas: set[str] = set()
    quotas_of: set[tuple[str, int]] = set()
    for entry in parsed:
        event = entry.event
        keys.add(entry.keyid)
        lots.update(event.prev)
        participants.add(event.actor)
        match event:
            case LotTransform():
                lots.update([ref.lot for ref in event.inputs])
                lots.update([output.id for output in event.outputs])
            case LotShip():
                lots.update([ref.lot for ref in event.lots])
                participants.add(event.to)
            case LotReceive():
                lots.update([ref.lot for ref in event.lots])
                participants.add(event.from_)
            case LotAssay():
                lots.add(event.lot)
            case LotExtract():
                lots.add(event.lot.id)
                quotas_of.add((event.actor, int(event.time[:4])))
            case ExportDeclare():
                lots.update(event.declaration.lots)
                declarations.add(event.declaration.id)
                if event.declaration.licence is not None:
                    licences.add(event.declaration.licence)
            case CustomsDecide():
                declarations.add(event.declaration)
            case ParticipantRegister():
                participants.add(event.participant.id)
                keys.update([key.keyid for key in event.participant.keys])
            case ParticipantKeyAdd():
                participants.add(event.participant)
                keys.add(event.key.keyid)
            case ParticipantKeyRevoke():
                participants.add(event.participant)
                keys.add(event.keyid)
            case LicenceIssue():
                licences.add(event.licence.id)
                participants.add(event.licence.holder)
            case LicenceRevoke():
                licences.add(event.licence)
            case QuotaIssue():
                quotas.add(event.quota.id)
                participants.add(event.quota.holder)
    state.prefetch(
        lots=lots,
        participants=participants,
        keys=keys,
        declarations=declarations,
        licences=licences,
        quotas=quotas,
        quotas_of=quotas_of,
        event_ids={entry.event.id for entry in parsed},
    )


def _inclusion_proofs(
    session: Session,
    stored: dict[merkle.NodeId, bytes],
    new_nodes: list[tuple[int, int, bytes]],
    start: int,
    size: int,
) -> list[list[bytes]]:
    """Proofs for the new entries, from the nodes just made and the right edge as it was
    (`stored`): every other node a proof of a new leaf reads was completed by this batch.
    Should one be missing all the same, it is read from the database."""
    known = dict(stored)
    known.update(((level, idx), digest) for level, idx, digest in new_nodes)

    def get_node(level: int, idx: int) -> bytes:
        found = known.get((level, idx))
        if found is None:
            found = logstore.load_nodes(session, [(level, idx)])[(level, idx)]
        return found

    return merkle.range_inclusion_proofs(start, size, get_node)
