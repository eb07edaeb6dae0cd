"""Steps (1)–(3) of the audit on one stored entry row: they depend on the row alone, so the
audit's worker processes run them (`precheck`) ahead of the replay (ledger/verify/log.py)."""

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ledger.lots.coupling import coupling_keys
from ledger.lots.events import Event, InvalidEvent, parse_event
from ledger.lots.state import Rejection
from ledger.tlog.encoding import b64encode
from ledger.tlog.envelope import envelope_json, pae
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.verify.entry import ParsedEntry, parse_envelope, parse_payload
from ledger.verify.signatures import signature_verifies

# A stored entry row as a plain tuple, in the order of StoredEntry's fields: (index, envelope,
# leaf_hash, event_hash, event_id, type, actor, keyid). Cheap to send to a worker process.
Row = tuple[int, bytes, bytes, str, str, str, str, str]

# What `precheck` (in a worker process) found about one row:
VERIFIED = 0  # steps (1)–(3) pass; the signature verifies (libsodium) with the key tried
REFUSED = 1  # steps (1)–(3) pass; libsodium refuses the signature with the key tried
UNTRIED = 2  # steps (1)–(3) pass; no key was given to try
FAILED = 3  # steps (1)–(3) fail: the AuditFailure is reported with it
REDO = 4  # something else went wrong: the replay runs the entry itself


class Prechecked(NamedTuple):
    """What `precheck` found about consecutive rows, by offset."""

    verdicts: bytes  # VERIFIED, REFUSED, UNTRIED, FAILED or REDO
    # The event where steps (1)–(3) pass: sent pickled, it reads back in a third of the time
    # parse_event takes on its payload (docs/performance.md §5, lever 34).
    events: list[Event | None]
    failures: dict[int, "AuditFailure"]  # where they fail


class Coupled(NamedTuple):
    """What `precheck_coupled` found about consecutive rows, by offset."""

    verdicts: bytes  # as Prechecked's
    keys: list[tuple[str, ...] | None]  # coupling_keys of the event (None: GLOBAL or failed)
    failures: dict[int, "AuditFailure"]


_SIGNATURE_START = b'"sig":"'
_PAYLOAD_START = b'{"payload":"'


class AuditFailure(VerificationError):
    """The first thing found wrong: the entry index (or checkpoint size) and the step."""

    def __init__(self, step: int, message: str, index: int | None = None) -> None:
        where = f"entry {index}: " if index is not None else ""
        super().__init__(f"{where}step ({step}): {message}")
        self.step = step
        self.reason = message
        self.index = index

    def __reduce__(self) -> tuple[type["AuditFailure"], tuple[int, str, int | None]]:
        # Pickled by its parts (a worker process reports it), not by the composed message.
        return (AuditFailure, (self.step, self.reason, self.index))


@dataclass(frozen=True)
class StoredEntry:
    """An entry row as the database holds it; every field is checked, none trusted."""

    index: int
    envelope: bytes
    leaf_hash: bytes
    event_hash: str
    event_id: str
    type: str
    actor: str
    keyid: str


def precheck(rows: Sequence[Row], keys: Mapping[str, bytes]) -> Prechecked:
    """Steps (1)–(3) for each row, and (4)'s arithmetic with the public key `keys` gives its
    keyid, if any: everything about an entry that does not depend on the entries before it.
    Which key is the right one is the replay's call.

    A top-level function, for a process pool; what it returns is small: a verdict byte per
    row, the events of the rows that passed (1)–(3), the failures of those that did not.
    """
    verdicts = bytearray(len(rows))
    events: list[Event | None] = [None] * len(rows)
    failures: dict[int, AuditFailure] = {}
    for offset, row in enumerate(rows):
        verdicts[offset], parsed = _precheck_row(row, keys, failures, offset)
        if parsed is not None:
            events[offset] = parsed.event
    return Prechecked(bytes(verdicts), events, failures)


def precheck_coupled(rows: Sequence[Row], keys: Mapping[str, bytes]) -> Coupled:
    """`precheck`, giving each row's coupling keys (ledger/lots/coupling.py) instead of its
    payload: the first pass of the audit's partitioned replay."""
    verdicts = bytearray(len(rows))
    coupled: list[tuple[str, ...] | None] = [None] * len(rows)
    failures: dict[int, AuditFailure] = {}
    for offset, row in enumerate(rows):
        verdicts[offset], parsed = _precheck_row(row, keys, failures, offset)
        if parsed is not None:
            coupled[offset] = coupling_keys(parsed.event)
    return Coupled(bytes(verdicts), coupled, failures)


def _precheck_row(
    row: Row, keys: Mapping[str, bytes], failures: dict[int, "AuditFailure"], offset: int
) -> tuple[int, ParsedEntry | None]:
    """`precheck` of one row: its verdict, and the parsed entry where (1)–(3) pass."""
    try:
        parsed = check_stored(StoredEntry(*row))
    except AuditFailure as exc:
        failures[offset] = exc
        return FAILED, None
    except Exception:  # the replay meets it again, in its order
        return REDO, None
    envelope = parsed.envelope
    key = keys.get(parsed.keyid)
    if key is None:
        return UNTRIED, parsed
    message = pae(envelope.payload_type, envelope.payload)
    good = signature_verifies(key, envelope.signatures[0].sig, message)
    return (VERIFIED if good else REFUSED), parsed


def signature_of(envelope: bytes) -> bytes:
    """The signature of canonical one-signature envelope bytes: its last member."""
    start = envelope.rindex(_SIGNATURE_START) + len(_SIGNATURE_START)
    return base64.b64decode(envelope[start : envelope.index(b'"', start)])


def payload_of(envelope: bytes) -> bytes:
    """The payload of canonical envelope bytes: its first member."""
    if not envelope.startswith(_PAYLOAD_START):
        raise AuditFailure(1, "stored envelope bytes are not in canonical form")
    start = len(_PAYLOAD_START)
    return base64.b64decode(envelope[start : envelope.index(b'"', start)])


def read_event(payload: bytes) -> Event | None:
    """The event of a payload that passed parse_event (in a worker), None if it does not
    read: the audit reads events as the ledger does, with parse_event."""
    try:
        return parse_event(payload)
    except InvalidEvent:
        return None


def check_stored(stored: StoredEntry) -> ParsedEntry:
    """Steps (1)–(3) for one stored entry: they depend on its row alone (workers run them)."""
    index = stored.index
    # (1): the stored bytes are the canonical form of a well-formed envelope.
    try:
        envelope = parse_envelope(envelope_json(stored.envelope))
    except (EncodingError, Rejection) as exc:
        raise audit_failure(1, exc, index) from exc
    # (2): the payload is a canonical, valid event. parse_payload encodes the envelope
    # canonically anyway: (1)'s comparison uses its bytes, and is made first either way.
    try:
        parsed = parse_payload(envelope)
    except (Rejection, EncodingError) as exc:
        try:
            leaf_bytes = envelope.leaf_bytes()
        except (EncodingError, Rejection) as inner:
            raise audit_failure(1, inner, index) from inner
        _check_canonical(stored, leaf_bytes)
        raise audit_failure(2, exc, index) from exc
    _check_canonical(stored, parsed.leaf_bytes)
    _check_columns(stored, parsed)
    return parsed


def _check_canonical(stored: StoredEntry, leaf_bytes: bytes) -> None:
    if leaf_bytes != stored.envelope:
        raise AuditFailure(1, "stored envelope bytes are not in canonical form", stored.index)


def _check_columns(stored: StoredEntry, parsed: ParsedEntry) -> None:
    # (3): hashes and derived columns are recomputed from the envelope, never trusted.
    event = parsed.event
    expected: dict[str, tuple[object, object]] = {
        "leaf_hash": (stored.leaf_hash, parsed.leaf_hash),
        "event_hash": (stored.event_hash, parsed.event_hash),
        "event_id": (stored.event_id, event.id),
        "type": (stored.type, event.type),
        "actor": (stored.actor, event.actor),
        "keyid": (stored.keyid, parsed.keyid),
    }
    for column, (found, computed) in expected.items():
        if found != computed:
            raise AuditFailure(
                3,
                f"stored {column} {_show(found)} differs from the envelope's {_show(computed)}",
                stored.index,
            )


def _show(value: object) -> str:
    return b64encode(value) if isinstance(value, bytes) else repr(value)


def audit_failure(step: int, exc: EncodingError | Rejection, index: int) -> AuditFailure:
    """A refusal reported as an AuditFailure of `step` at entry `index`."""
    return AuditFailure(step, getattr(exc, "detail", None) or str(exc), index)
