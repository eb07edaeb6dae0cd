"""DSSE envelopes: the one reader of their JSON, pre-authentication encoding, signing and
verification.

An envelope's JSON is described once, by `WireEnvelope` (a msgspec Struct, also what the API's
OpenAPI page shows); every envelope read, from a request body, a stored entry, a bundle or a
parsed value, goes through it into an `Envelope` (`Envelope.from_json`, `envelope_json`,
`batch_envelopes`).
"""

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import b64decode, canonical, parse_json
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import verify

EVENT_PAYLOAD_TYPE = "application/vnd.ree-ledger.event.v1+json"

_BASE64 = "standard base64, padded"
W = TypeVar("W")


class WireSignature(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One DSSE signature as JSON carries it."""

    keyid: str
    sig: Annotated[str, msgspec.Meta(description=f"{_BASE64}, of the Ed25519 signature over PAE")]


class WireEnvelope(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename={"payload_type": "payloadType"}
):
    """A DSSE envelope; its payload is base64 of the RFC 8785 bytes of one event."""

    payload_type: str
    payload: Annotated[str, msgspec.Meta(description=f"{_BASE64}, of the payload bytes")]
    signatures: Annotated[list[WireSignature], msgspec.Meta(min_length=1)]


class WireBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Envelopes to append in order, all or nothing."""

    envelopes: list[WireEnvelope]


class Signature(msgspec.Struct, frozen=True):
    """One DSSE signature: the signer's key id and the raw Ed25519 signature."""

    keyid: str
    sig: bytes


class Envelope(msgspec.Struct, frozen=True, rename={"payload_type": "payloadType"}):
    """A DSSE envelope: typed payload bytes and their signatures. Encoded by msgspec, it is
    the envelope's JSON (binary fields in padded standard base64)."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the envelope's JSON object, binary fields in padded standard base64."""
        obj: dict[str, Any] = msgspec.to_builtins(self)
        obj["signatures"] = list(obj["signatures"])  # a JSON array, as parse_json gives it
        return obj

    @classmethod
    def from_json(cls, obj: object) -> "Envelope":
        """Read an envelope strictly (exact keys, right types, strict base64) from a parsed
        JSON value or a WireEnvelope; raises EncodingError naming what is wrong."""
        if type(obj) is not WireEnvelope:
            try:
                obj = msgspec.convert(obj, WireEnvelope)
            except msgspec.ValidationError as exc:
                raise EncodingError(_worded(str(exc))) from exc
        return cls(
            obj.payload_type,
            _base64_field(obj.payload, "envelope payload"),
            tuple(
                Signature(s.keyid, _base64_field(s.sig, "signature sig")) for s in obj.signatures
            ),
        )

    def leaf_bytes(self) -> bytes:
        """Return the bytes the log hashes as this envelope's leaf: its RFC 8785 encoding."""
        return canonical(self, plain=True)  # strings, and bytes written as base64: plain


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 pre-authentication encoding of a typed payload."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign_envelope(
    payload: bytes,
    key: Ed25519PrivateKey,
    keyid: str,
    payload_type: str = EVENT_PAYLOAD_TYPE,
) -> Envelope:
    """Sign `payload` under `payload_type` and wrap it in a single-signature envelope."""
    sig = key.sign(pae(payload_type, payload))
    return Envelope(payload_type, payload, (Signature(keyid=keyid, sig=sig),))


def verify_envelope(envelope: Envelope, public_key: bytes) -> None:
    """Check the envelope's first signature over its PAE; raise VerificationError if bad."""
    if not envelope.signatures:
        raise VerificationError("envelope has no signature")
    message = pae(envelope.payload_type, envelope.payload)
    try:
        verify(public_key, envelope.signatures[0].sig, message)
    except VerificationError as exc:
        keyid = envelope.signatures[0].keyid
        raise VerificationError(f"envelope signature by {keyid!r} does not verify") from exc


def envelope_json(data: bytes) -> object:
    """The JSON value of one envelope's bytes as `parse_json` reads it, for
    `Envelope.from_json`: a WireEnvelope where the typed decoder is sure of it, else the
    parsed value (raises EncodingError where `data` is not strict JSON)."""
    wire = _typed(_DECODE_ENVELOPE, data, _members)
    return wire if wire is not None else parse_json(data)


def batch_envelopes(data: bytes) -> list[object] | None:
    """The envelopes of a batch body `{"envelopes": [...]}`, each as `envelope_json` gives it;
    None when `data` is not a batch (raises EncodingError where it is not strict JSON)."""
    batch = _typed(_DECODE_BATCH, data, lambda b: 1 + sum(map(_members, b.envelopes)))
    if batch is not None:
        return list(batch.envelopes)
    body = parse_json(data)
    if type(body) is not dict or body.keys() != {"envelopes"}:
        return None
    envelopes = body["envelopes"]
    return envelopes if type(envelopes) is list else None


# The typed decoders read what parse_json's own fast path reads (ASCII, no \u escape) and
# refuse anything the wire types do not admit: numbers, other nesting, unknown or missing
# keys. A repeated key is the one thing they let through (the last one wins): each ":" of the
# text is a member written or sits in a string, so the count of ":" equals the members
# decoded exactly when no key repeats (and no string holds a ":"). Anything else takes
# parse_json; tests/property/test_envelope_reader.py holds the two to each other.
_DECODE_ENVELOPE = msgspec.json.Decoder(WireEnvelope).decode
_DECODE_BATCH = msgspec.json.Decoder(WireBatch).decode


def _typed(decode: Callable[[bytes], W], data: bytes, members: Callable[[W], int]) -> W | None:
    """`data` decoded by `decode` where that is sure to be what parse_json reads, else None."""
    if not data.isascii() or (b"\\" in data and b"\\u" in data):  # as parse_json's fast path
        return None
    try:
        wire = decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None
    return wire if data.count(b":") == members(wire) else None


def _members(wire: WireEnvelope) -> int:
    return 3 + 2 * len(wire.signatures)


# msgspec's words for what the wire types refuse, in the ledger's words.
_UNKNOWN = re.compile(r"Object contains unknown field `(.*)`")
_MISSING = re.compile(r"Object missing required field `(.*)`")
_EXPECTED = re.compile(r"Expected `(.*?)`(?: of length >= 1)?, got `(.*)`|Expected `(.*?)`")
_NAMES = {"object": "a JSON object", "str": "a string", "array": "a list"}


def _worded(message: str) -> str:
    problem, at, path = message.rpartition(" - at `")
    if not at:
        problem, path = message, "$`"
    what = "envelope" + (path[1:-1] if path[:1] == "$" else " key")
    if found := _UNKNOWN.fullmatch(problem):
        return f"{what} has unknown key {found[1]!r}"
    if found := _MISSING.fullmatch(problem):
        return f"{what} is missing key {found[1]!r}"
    if problem == "Expected `array` of length >= 1":
        return f"{what} must be a non-empty list"
    if found := _EXPECTED.fullmatch(problem):
        expected = found[1] or found[3]
        got = f", got {found[2]}" if found[2] else ""
        return f"{what} must be {_NAMES.get(expected, expected)}{got}"
    return f"{what}: {problem}"


def _base64_field(value: str, what: str) -> bytes:
    try:
        return b64decode(value)
    except EncodingError as exc:
        raise EncodingError(f"{what}: {exc}") from exc
