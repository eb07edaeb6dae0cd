"""Steps (1)–(4) for one entry: the envelope, its payload, its hashes and its signature."""

import msgspec

from ledger.errors import Kind
from ledger.lots.events import Event, InvalidEvent, parse_event
from ledger.lots.state import Rejection
from ledger.tlog import merkle
from ledger.tlog.encoding import sha256
from ledger.tlog.envelope import EVENT_PAYLOAD_TYPE, Envelope, verify_envelope
from ledger.tlog.errors import EncodingError, VerificationError


class ParsedEntry(msgspec.Struct, frozen=True):
    """An envelope that passed steps (1)–(2), with the hashes of step (3). (A Struct: made
    once an entry, it costs a fifth of a frozen dataclass's __init__.)"""

    envelope: Envelope
    event: Event
    event_hash: str
    leaf_bytes: bytes
    leaf_hash: bytes

    @property
    def keyid(self) -> str:
        return self.envelope.signatures[0].keyid


def parse_entry(envelope_json: object) -> ParsedEntry:
    """Steps (1)–(3); raises Rejection (400/422) naming the field and value."""
    return parse_payload(parse_envelope(envelope_json))


def parse_envelope(
    envelope_json: object, payload_type: str = EVENT_PAYLOAD_TYPE, carrier: str = "an entry"
) -> Envelope:
    """Step (1): a DSSE envelope of `payload_type` (an event's, unless told) with exactly one
    signature; `carrier` names what the envelope is in the messages. `envelope_json` is a
    parsed JSON value, a WireEnvelope, or an Envelope read already."""
    try:
        envelope = (
            envelope_json if type(envelope_json) is Envelope else Envelope.from_json(envelope_json)
        )
    except EncodingError as exc:
        raise Rejection(
            Kind.MALFORMED, "malformed_envelope", f"envelope: {exc}", field="envelope"
        ) from exc
    if envelope.payload_type != payload_type:
        raise Rejection(
            Kind.MALFORMED,
            "wrong_payload_type",
            f"payloadType {envelope.payload_type!r} is not {payload_type!r}",
            field="payloadType",
            value=envelope.payload_type,
        )
    if len(envelope.signatures) != 1:
        raise Rejection(
            Kind.MALFORMED,
            "wrong_signature_count",
            f"{carrier} carries exactly one signature, this one has {len(envelope.signatures)}",
            field="signatures",
            value=len(envelope.signatures),
        )
    return envelope


def parse_payload(envelope: Envelope) -> ParsedEntry:
    """Steps (2)–(3): the payload is the RFC 8785 encoding of a valid event; hashes computed."""
    try:
        event = parse_event(envelope.payload)
    except InvalidEvent as exc:
        raise Rejection(exc.kind, exc.code, exc.detail, field=exc.field, value=exc.value) from exc
    # The hashes are computed, never taken from the client.
    leaf_bytes = envelope.leaf_bytes()
    return ParsedEntry(
        envelope=envelope,
        event=event,
        event_hash=sha256(envelope.payload).hex(),
        leaf_bytes=leaf_bytes,
        leaf_hash=merkle.leaf_hash(leaf_bytes),
    )


def check_signature(entry: ParsedEntry, public_key: bytes) -> None:
    """Step (4): the signature over PAE(payloadType, payload) verifies with the key."""
    try:
        verify_envelope(entry.envelope, public_key)
    except VerificationError as exc:
        raise Rejection(
            Kind.FORBIDDEN,
            "bad_signature",
            f"the signature by {entry.keyid} does not verify over the payload",
            field="signatures.0.sig",
        ) from exc
