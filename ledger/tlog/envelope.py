"""DSSE envelopes: pre-authentication encoding, signing and verification."""

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import b64decode, b64encode, canonical
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import verify

EVENT_PAYLOAD_TYPE = "application/vnd.ree-ledger.event.v1+json"

_ENVELOPE_KEYS = frozenset({"payloadType", "payload", "signatures"})
_SIGNATURE_KEYS = frozenset({"keyid", "sig"})


@dataclass(frozen=True)
class Signature:
    """One DSSE signature: the signer's key id and the raw Ed25519 signature."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A DSSE envelope: typed payload bytes and their signatures."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the envelope's JSON object, binary fields in padded standard base64."""
        return {
            "payloadType": self.payload_type,
            "payload": b64encode(self.payload),
            "signatures": [{"keyid": s.keyid, "sig": b64encode(s.sig)} for s in self.signatures],
        }

    @classmethod
    def from_json(cls, obj: object) -> "Envelope":
        """Read an envelope object strictly: exact keys, right types, strict base64."""
        fields = _object_with_keys(obj, _ENVELOPE_KEYS, "envelope")
        payload_type = fields["payloadType"]
        if not isinstance(payload_type, str):
            raise EncodingError("envelope payloadType must be a string")
        signatures = fields["signatures"]
        if not isinstance(signatures, list) or not signatures:
            raise EncodingError("envelope signatures must be a non-empty list")
        return cls(
            payload_type=payload_type,
            payload=_base64_field(fields["payload"], "envelope payload"),
            signatures=tuple(_signature_from_json(s) for s in signatures),
        )

    def leaf_bytes(self) -> bytes:
        """Return the bytes the log hashes as this envelope's leaf: its RFC 8785 encoding."""
        return canonical(self.to_json())


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


def _signature_from_json(obj: object) -> Signature:
    fields = _object_with_keys(obj, _SIGNATURE_KEYS, "signature")
    keyid = fields["keyid"]
    if not isinstance(keyid, str):
        raise EncodingError("signature keyid must be a string")
    return Signature(keyid=keyid, sig=_base64_field(fields["sig"], "signature sig"))


def _object_with_keys(obj: object, keys: frozenset[str], what: str) -> dict[str, Any]:
    if type(obj) is dict and obj.keys() == keys:
        return obj
    if not isinstance(obj, dict):
        raise EncodingError(f"{what} must be a JSON object, got {type(obj).__name__}")
    unknown = sorted(str(k) for k in obj if k not in keys)
    if unknown:
        raise EncodingError(f"{what} has unknown key {unknown[0]!r}")
    missing = sorted(keys - set(obj))
    if missing:
        raise EncodingError(f"{what} is missing key {missing[0]!r}")
    return obj


def _base64_field(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise EncodingError(f"{what} must be a base64 string")
    try:
        return b64decode(value)
    except EncodingError as exc:
        raise EncodingError(f"{what}: {exc}") from exc
