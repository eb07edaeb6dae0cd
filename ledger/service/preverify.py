"""Before the write lock: steps (1)–(3) for a batch, with its signatures checked meanwhile.

Envelopes are parsed in order, a chunk at a time; as soon as a chunk is parsed its signatures
go to a thread pool (libsodium releases the GIL), so that verifying a chunk on the other core
overlaps parsing the next ones. The batch takes the write lock only once every signature is
checked: that lock serialises the writers, and a batch that held it while waiting for its
last signatures would keep the next batch from the database meanwhile.
The keys are looked up optimistically, without the lock: the stored key of each key id, or
one registered earlier in the batch. Nothing is decided here: ingest's admission re-checks
every entry against the key the locked state names.
"""

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from threading import Lock

from sqlalchemy import select
from sqlmodel import col

from ledger.lots.events import Event, ParticipantKeyAdd, ParticipantRegister
from ledger.lots.state import Rejection
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.tables import KeyRow
from ledger.tlog.envelope import Envelope, pae
from ledger.tlog.errors import EncodingError
from ledger.verify.entry import ParsedEntry, parse_entry
from ledger.verify.signatures import failed_signatures

# Envelopes per chunk: parsed, then handed to the pool as one task.
CHUNK = 64

Item = tuple[int, bytes, bytes, bytes]  # position, public key, signature, signed bytes


class Preverified:
    """The parsed batch, and per entry the key its signature verified with (None: not
    verified here)."""

    def __init__(
        self, parsed: list[ParsedEntry], candidates: list[bytes | None], refused: set[int]
    ) -> None:
        self.parsed = parsed
        self._candidates = candidates  # the key each signature was checked with
        self._refused = refused  # the positions whose signature did not verify with it

    def verified_key(self, position: int) -> bytes | None:
        """The key entry `position`'s signature verified with, or None."""
        return None if position in self._refused else self._candidates[position]


def preverify(db: Database, identity: LogIdentity, envelopes: Sequence[object]) -> Preverified:
    """Steps (1)–(3) for every envelope, in order, and (4) with the keys as they look now;
    returns once every signature is checked. An envelope is a parsed JSON value, a
    WireEnvelope or an Envelope (ledger.verify.entry.parse_envelope).

    Raises Rejection with `position` for the first envelope that does not parse.
    """
    read = [_read(envelope) for envelope in envelopes]
    stored = _stored_keys(db, identity, read)
    in_batch: dict[str, bytes] = {}
    parsed: list[ParsedEntry] = []
    candidates: list[bytes | None] = []
    chunks: list[Future[list[int]] | list[int]] = []
    pool = _pool() if len(read) > CHUNK else None
    operator_keyid = identity.operator_keyid  # a property that hashes: read once a batch
    for start in range(0, len(read), CHUNK):
        items: list[Item] = []
        for position in range(start, min(start + CHUNK, len(read))):
            entry = _parse(read[position], position)
            keyid = entry.keyid
            if keyid == operator_keyid:
                key: bytes | None = identity.operator_public_key
            else:
                key = stored.get(keyid, in_batch.get(keyid))
            in_batch.update(_registered_keys(entry.event))
            parsed.append(entry)
            candidates.append(key)
            if key is not None:
                envelope = entry.envelope
                signed = pae(envelope.payload_type, envelope.payload)
                items.append((position, key, envelope.signatures[0].sig, signed))
        chunks.append(
            failed_signatures(items) if pool is None else pool.submit(failed_signatures, items)
        )
    refused: set[int] = set()
    for chunk in chunks:
        refused.update(chunk if isinstance(chunk, list) else chunk.result())
    return Preverified(parsed, candidates, refused)


def _read(envelope: object) -> object:
    """The Envelope `envelope` reads as, or `envelope` itself where it does not read: parsing
    it in its turn refuses it then, at its position (an earlier entry may be refused first)."""
    try:
        return envelope if type(envelope) is Envelope else Envelope.from_json(envelope)
    except EncodingError:
        return envelope


def _parse(envelope: object, position: int) -> ParsedEntry:
    try:
        return parse_entry(envelope)
    except Rejection as exc:
        exc.position = position
        raise


def _stored_keys(db: Database, identity: LogIdentity, read: Sequence[object]) -> dict[str, bytes]:
    """The stored keys of the key ids the envelopes name, read before they are parsed (a
    malformed envelope names none here and is refused when parsed)."""
    wanted = {
        envelope.signatures[0].keyid
        for envelope in read
        if type(envelope) is Envelope and envelope.signatures
    } - {identity.operator_keyid}
    if not wanted:
        return {}
    with db.read_session() as session:
        rows = session.execute(
            select(col(KeyRow.keyid), col(KeyRow.public_key)).where(
                col(KeyRow.keyid).in_(sorted(wanted))
            )
        )
        return {str(keyid): bytes(public_key) for keyid, public_key in rows}


def _registered_keys(event: Event) -> dict[str, bytes]:
    match event:
        case ParticipantRegister():
            return {ref.keyid: ref.raw_public_key for ref in event.participant.keys}
        case ParticipantKeyAdd():
            return {event.key.keyid: event.key.raw_public_key}
        case _:
            return {}


_shared_pool: ThreadPoolExecutor | None = None
_pool_lock = Lock()


def _pool() -> ThreadPoolExecutor | None:
    """One verification thread per core, shared by every request; None on one core."""
    workers = os.cpu_count() or 1
    if workers == 1:
        return None
    global _shared_pool
    with _pool_lock:
        if _shared_pool is None:
            _shared_pool = ThreadPoolExecutor(workers, thread_name_prefix="ree-verify")
        return _shared_pool
