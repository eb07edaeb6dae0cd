"""Witness cosignatures: c2sp.org/tlog-cosignature, the Ed25519 `cosignature/v1` type.

A witness signs `"cosignature/v1\\ntime <t>\\n" || checkpoint body` with its Ed25519 key; the
note signature line carries `key id || 8-byte big-endian t || 64-byte signature`, the key id
being SHA-256(name || 0x0A || 0x04 || public key)[:4] (signature type 0x04 of
c2sp.org/signed-note). A witness's verifier key is `<name>+<hex key id>+<base64(0x04 || key)>`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import b64decode, b64encode, sha256
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import (
    KEY_HASH_SIZE,
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    is_valid_name,
    public_key_from_raw,
    raw_public_key,
    verify,
)
from ledger.tlog.note import SIGNATURE_PREFIX, split_note

# c2sp.org/signed-note: the signature type of timestamped Ed25519 checkpoint cosignatures.
ALG_COSIGNATURE_V1 = 0x04
HEADER = "cosignature/v1"
TIMESTAMP_SIZE = 8
STAMP_SIZE = KEY_HASH_SIZE + TIMESTAMP_SIZE + SIGNATURE_SIZE
MAX_TIMESTAMP = 2**63 - 1

_KEY_ID_HEX = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class WitnessKey:
    """A witness's cosignature/v1 verifier key: its name, 4-byte key id and raw Ed25519 key."""

    name: str
    key_id: bytes
    public_key_raw: bytes


def witness_key_id(name: str, public_key_raw: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || 32-byte Ed25519 public key)[:4]."""
    _check_name(name)
    _check_key(public_key_raw)
    data = name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key_raw
    return sha256(data)[:KEY_HASH_SIZE]


def witness_vkey(name: str, public_key_raw: bytes) -> str:
    """The witness's verifier key `<name>+<hex key id>+<base64(0x04 || public key)>`."""
    key_id = witness_key_id(name, public_key_raw)
    return f"{name}+{key_id.hex()}+{b64encode(bytes([ALG_COSIGNATURE_V1]) + public_key_raw)}"


def parse_witness_vkey(text: str) -> WitnessKey:
    """Parse a cosignature/v1 verifier key; EncodingError (a ValueError) says what is wrong."""
    name, _, rest = text.strip().partition("+")
    key_id_hex, sep, key_b64 = rest.partition("+")
    if not sep or not _KEY_ID_HEX.fullmatch(key_id_hex):
        raise EncodingError(f"malformed witness key {text!r}: want <name>+<8 hex>+<base64>")
    _check_name(name)
    try:
        typed = b64decode(key_b64)
    except EncodingError as exc:
        raise EncodingError(f"witness key {text!r}: {exc}") from exc
    if not typed or typed[0] != ALG_COSIGNATURE_V1:
        alg = f"0x{typed[0]:02x}" if typed else "none"
        hint = " (0x01 is a plain Ed25519 signer, such as a log key)" if alg == "0x01" else ""
        raise EncodingError(
            f"witness key {text!r}: signature type {alg}{hint}, want 0x04 cosignature/v1"
        )
    public_key_raw = typed[1:]
    _check_key(public_key_raw)
    public_key_from_raw(public_key_raw)  # a point that does not decode is refused here
    key_id = bytes.fromhex(key_id_hex)
    if witness_key_id(name, public_key_raw) != key_id:
        raise EncodingError(f"witness key {text!r}: key id does not match name and key")
    return WitnessKey(name=name, key_id=key_id, public_key_raw=public_key_raw)


def cosigned_message(checkpoint_body: bytes, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs: header line, time line, then the checkpoint body."""
    _check_timestamp(timestamp)
    if not checkpoint_body.endswith(b"\n"):
        raise EncodingError("checkpoint body must end with a newline")
    return f"{HEADER}\ntime {timestamp}\n".encode("ascii") + checkpoint_body


def cosign(
    checkpoint_body: bytes, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> str:
    """One note signature line `— <name> <base64(key id || timestamp || signature)>\\n`.

    `checkpoint_body` is the note text without its signatures (ending in its newline);
    `timestamp` is POSIX seconds, 1 … 2**63-1 (a witness never cosigns with time 0).
    """
    if timestamp == 0:
        raise EncodingError("a witness cosignature must carry a timestamp, not 0")
    message = cosigned_message(checkpoint_body, timestamp)
    key_id = witness_key_id(name, raw_public_key(private_key))
    stamp = key_id + timestamp.to_bytes(TIMESTAMP_SIZE, "big") + private_key.sign(message)
    return f"{SIGNATURE_PREFIX}{name} {b64encode(stamp)}\n"


def verify_cosignatures(note: str, witnesses: Sequence[WitnessKey]) -> dict[str, int]:
    """Witness name -> cosignature timestamp, for each given witness that cosigned `note`.

    As c2sp.org/signed-note asks: lines by other keys (the log's, unknown witnesses') are
    ignored; a line whose name and key id match a given witness must verify, or the note is
    refused with VerificationError, as is a malformed note. Where one witness cosigned twice,
    the later time is returned.
    """
    text, signatures = split_note(note)
    body = text.encode("utf-8")
    found: dict[str, int] = {}
    for signature in signatures:
        witness = next(
            (
                w
                for w in witnesses
                if w.name == signature.name and w.key_id == signature.stamp[:KEY_HASH_SIZE]
            ),
            None,
        )
        if witness is None:
            continue
        if len(signature.stamp) != STAMP_SIZE:
            raise VerificationError(
                f"cosignature by {witness.name} is {len(signature.stamp)} bytes, want {STAMP_SIZE}"
            )
        timestamp = int.from_bytes(signature.stamp[KEY_HASH_SIZE:-SIGNATURE_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"cosignature by {witness.name}: timestamp beyond 2**63-1")
        try:
            verify(
                witness.public_key_raw,
                signature.stamp[-SIGNATURE_SIZE:],
                cosigned_message(body, timestamp),
            )
        except VerificationError as exc:
            raise VerificationError(f"invalid cosignature by {witness.name} on note") from exc
        found[witness.name] = max(timestamp, found.get(witness.name, 0))
    return found


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise EncodingError(f"invalid witness name {name!r}: must be non-empty, no spaces, no '+'")


def _check_key(public_key_raw: bytes) -> None:
    if len(public_key_raw) != PUBLIC_KEY_SIZE:
        raise EncodingError(
            f"witness Ed25519 public key must be 32 bytes, got {len(public_key_raw)}"
        )


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise EncodingError(f"cosignature timestamp out of range 0 … 2**63-1: {timestamp}")
