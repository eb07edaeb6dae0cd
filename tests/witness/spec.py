"""A cosignature/v1 verifier written from c2sp.org/tlog-cosignature and c2sp.org/signed-note
with hashlib, base64 and pyca only: none of the project's code, so the witness's answers are
checked by something that could not share its mistakes."""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DASH = "\u2014"


def cosignature_time(checkpoint_body: str, line: str, witness_vkey: str) -> int:
    """Check one note signature line as a cosignature/v1 by the witness of `witness_vkey` on
    `checkpoint_body`; return its timestamp. AssertionError if anything is off."""
    name, key_id_hex, typed_b64 = witness_vkey.split("+", 2)
    typed = base64.b64decode(typed_b64, validate=True)
    assert typed[0] == 0x04 and len(typed) == 33, "not an Ed25519 cosignature/v1 key"
    key_id = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    assert key_id.hex() == key_id_hex, "vkey's key id is not SHA-256(name, 0x0A, 0x04, key)[:4]"
    assert line.endswith("\n") and line.count("\n") == 1, "one line, newline-terminated"
    dash, line_name, blob_b64 = line[:-1].split(" ")
    assert dash == DASH and line_name == name
    blob = base64.b64decode(blob_b64, validate=True)
    assert len(blob) == 4 + 8 + 64 and blob[:4] == key_id
    (timestamp,) = struct.unpack(">Q", blob[4:12])
    assert 0 < timestamp < 2**63
    message = f"cosignature/v1\ntime {timestamp}\n{checkpoint_body}".encode()
    try:
        Ed25519PublicKey.from_public_bytes(typed[1:]).verify(blob[12:], message)
    except InvalidSignature as exc:
        raise AssertionError("cosignature does not verify") from exc
    return int(timestamp)
