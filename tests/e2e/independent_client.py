"""A ree-ledger client written only from DESIGN.md, sharing no code with the ledger.

It imports nothing from `ledger` or `api`: Ed25519 is PyNaCl (libsodium), SHA-256 is hashlib,
HTTP is httpx, and RFC 8785, DSSE, key ids, C2SP verifier keys and signed notes, and the
RFC 9162 proof verifiers are its own few lines each. Verify functions return None (or the
parsed value) and raise `VerificationError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import nacl.exceptions
import nacl.signing

PAYLOAD_TYPE = "application/vnd.ree-ledger.event.v1+json"
LEAF_PREFIX = b"\x00"  # RFC 9162 §2.1.1
NODE_PREFIX = b"\x01"
ED25519_ALGORITHM = b"\x01"  # C2SP signed-note signature type
SIGNATURE_DASH = "\u2014 "  # "— ", the start of a signed-note signature line
MAX_SAFE_INTEGER = 2**53 - 1  # JCS numbers are IEEE doubles: integers beyond are not exact
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n"}
_SHORT_ESCAPES |= {"\f": "\\f", "\r": "\\r"}


class VerificationError(Exception):
    """An answer of the ledger failed a check."""


# --- RFC 8785 (JCS) for the JSON subset of events ---------------------------------------


def _jcs_string(text: str) -> str:
    out = []
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError(f"lone surrogate U+{ord(char):04X} is not valid I-JSON")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _jcs_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is not exactly representable in JCS")
        return str(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_jcs_text(item) for item in value) + "]"
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ValueError("object keys must be strings")
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))  # UTF-16 code units
        members = (_jcs_string(key) + ":" + _jcs_text(value[key]) for key in keys)
        return "{" + ",".join(members) + "}"
    raise ValueError(f"{type(value).__name__} is outside the event subset (no floats)")


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical form of `value` (objects, arrays, strings, integers, bools, null)."""
    return _jcs_text(value).encode("utf-8")


# --- base64, hashes, key ids ----------------------------------------------------------


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Standard alphabet with padding, canonical only (DESIGN §2)."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise VerificationError(f"not standard base64: {text!r}") from exc
    if b64encode(data) != text:
        raise VerificationError(f"not canonical base64: {text!r}")
    return data


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def key_id(participant: str, public_key: bytes) -> str:
    return f"{participant}/{hashlib.sha256(public_key).hexdigest()[:16]}"


def event_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def leaf_hash(leaf: bytes) -> bytes:
    return sha256(LEAF_PREFIX + leaf)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(NODE_PREFIX + left + right)


def envelope_leaf_hash(envelope: dict[str, Any]) -> bytes:
    """Leaf bytes are the RFC 8785 form of the envelope object (DESIGN §4)."""
    return leaf_hash(jcs(envelope))


# --- DSSE -----------------------------------------------------------------------------


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass
class Signer:
    """A participant (or the operator) holding its own Ed25519 key."""

    participant: str
    key: nacl.signing.SigningKey = field(default_factory=nacl.signing.SigningKey.generate)

    @property
    def public_key(self) -> bytes:
        return bytes(self.key.verify_key)

    @property
    def keyid(self) -> str:
        return key_id(self.participant, self.public_key)

    def envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        payload = jcs(event)
        signature = self.key.sign(pae(PAYLOAD_TYPE, payload)).signature
        return {
            "payloadType": PAYLOAD_TYPE,
            "payload": b64encode(payload),
            "signatures": [{"keyid": self.keyid, "sig": b64encode(signature)}],
        }


def verify_envelope(envelope: dict[str, Any], participant: str, public_key: bytes) -> bytes:
    """Check one signature by `public_key` under its key id; return the canonical payload."""
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise VerificationError(f"payloadType {envelope.get('payloadType')!r}")
    payload = b64decode(envelope["payload"])
    try:
        canonical = jcs(json.loads(payload))
    except ValueError as exc:  # bad JSON, UTF-8, floats, huge integers
        raise VerificationError(f"payload outside the event JSON subset: {exc}") from exc
    if canonical != payload:
        raise VerificationError("payload is not RFC 8785 canonical")
    keyid = key_id(participant, public_key)
    signatures = [s for s in envelope["signatures"] if s["keyid"] == keyid]
    if not signatures:
        raise VerificationError(f"no signature with keyid {keyid}")
    verify_key = nacl.signing.VerifyKey(public_key)
    try:
        verify_key.verify(pae(PAYLOAD_TYPE, payload), b64decode(signatures[0]["sig"]))
    except nacl.exceptions.BadSignatureError as exc:
        raise VerificationError(f"bad envelope signature by {keyid}") from exc
    return payload


# --- C2SP verifier keys, signed notes, checkpoints ---------------------------------------


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_hash: bytes
    public_key: bytes


def parse_verifier_key(vkey: str) -> VerifierKey:
    """`<name>+<hex key hash>+<base64(0x01 || public key)>`; the name holds no '+'."""
    parts = vkey.split("+", 2)  # the base64 part may itself hold '+'
    if len(parts) != 3 or not parts[0] or len(parts[1]) != 8:
        raise VerificationError(f"malformed verifier key {vkey!r}")
    name, hash_hex, key_b64 = parts
    key = b64decode(key_b64)
    if len(key) != 33 or key[:1] != ED25519_ALGORITHM:
        raise VerificationError(f"verifier key {name!r} is not an Ed25519 key")
    key_hash = sha256(name.encode("utf-8") + b"\n" + key)[:4]
    if key_hash.hex() != hash_hex:
        raise VerificationError(f"key hash {hash_hex} != computed {key_hash.hex()}")
    return VerifierKey(name, key_hash, key[1:])


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def verify_note(note: str, vkey: VerifierKey) -> str:
    """Return the note's text once a signature line by `vkey` verifies over it."""
    text, sep, signature_block = note.rpartition("\n\n")
    if not sep or not signature_block.endswith("\n"):
        raise VerificationError("note has no blank line before its signatures")
    text += "\n"  # signed text = body up to and including its final newline
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_DASH):
            raise VerificationError(f"malformed signature line {line!r}")
        name, _, blob_b64 = line[len(SIGNATURE_DASH) :].rpartition(" ")
        if name != vkey.name:
            continue
        blob = b64decode(blob_b64)
        if len(blob) != 4 + 64 or blob[:4] != vkey.key_hash:
            continue
        try:
            nacl.signing.VerifyKey(vkey.public_key).verify(text.encode("utf-8"), blob[4:])
        except nacl.exceptions.BadSignatureError as exc:
            raise VerificationError(f"bad signature by {vkey.name}") from exc
        return text
    raise VerificationError(f"no signature by {vkey.name} ({vkey.key_hash.hex()})")


def verify_checkpoint(note: str, vkey: VerifierKey, origin: str) -> Checkpoint:
    """A C2SP tlog-checkpoint: origin, decimal size, base64 root, optional extension lines."""
    lines = verify_note(note, vkey).split("\n")[:-1]
    if len(lines) < 3 or lines[0] != origin:
        raise VerificationError(f"checkpoint origin {lines[0]!r} != {origin!r}")
    size_text, root = lines[1], b64decode(lines[2])
    leading_zero = len(size_text) > 1 and size_text.startswith("0")
    if not (size_text.isascii() and size_text.isdigit()) or leading_zero:
        raise VerificationError(f"checkpoint size {size_text!r}")
    if len(root) != 32:
        raise VerificationError(f"checkpoint root of {len(root)} bytes")
    return Checkpoint(origin, int(size_text), root)


# --- RFC 9162 proofs ------------------------------------------------------------------


def _mismatch(what: str, expected: bytes, calculated: bytes) -> VerificationError:
    return VerificationError(f"{what}: expected {expected.hex()}, calculated {calculated.hex()}")


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 §2.1.3.2, step by step."""
    if index >= size:  # (1)
        raise VerificationError(f"leaf index {index} >= tree size {size}")
    fn, sn = index, size - 1  # (2)
    r = leaf  # (3)
    for p in path:  # (4)
        if sn == 0:
            raise VerificationError("inclusion path longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:  # (5)
        raise VerificationError("inclusion path shorter than the tree is deep")
    if r != root:
        raise _mismatch("inclusion root", root, r)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> None:
    """RFC 9162 §2.1.4.2, step by step; first == second needs an empty proof, equal roots."""
    if not 0 < first <= second:
        raise VerificationError(f"consistency between sizes {first} and {second}")
    if first == second:
        if path or first_root != second_root:
            raise VerificationError("same size: proof must be empty and roots equal")
        return
    if not path:  # (1)
        raise VerificationError("empty consistency proof")
    if first & (first - 1) == 0:  # (2) first is an exact power of 2
        path = [first_root, *path]
    fn, sn = first - 1, second - 1  # (3)
    while fn & 1:  # (4)
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # (5)
    for c in path[1:]:  # (6)
        if sn == 0:
            raise VerificationError("consistency path longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if fr != first_root:  # (7)
        raise _mismatch("consistency first root", first_root, fr)
    if sr != second_root:
        raise _mismatch("consistency second root", second_root, sr)
    if sn != 0:
        raise VerificationError("consistency path shorter than the tree is deep")


# --- HTTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    """A verified 201 answer to POST /v1/entries."""

    index: int
    event_hash: str
    checkpoint: Checkpoint
    flags: list[dict[str, Any]]


class LedgerError(Exception):
    """The ledger answered with an unexpected status (its problem+json in the message)."""


class IndependentClient:
    """Posts signed events, keeps the lot heads, and verifies every answer it gets."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10.0)
        info = self.get_json("/v1/log")
        self.origin: str = info["origin"]
        self.log_key = parse_verifier_key(info["log_key"])
        self.operator_key = b64decode(info["operator_key"])
        self.heads: dict[str, str] = {}
        self.declarations: dict[str, list[str]] = {}

    def close(self) -> None:
        self.http.close()

    def get_json(self, path: str, token: str | None = None, **params: int) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.http.get(path, params=params, headers=headers)
        if response.status_code != 200:
            raise LedgerError(f"GET {path} {params}: {response.status_code} {response.text}")
        return response.json()

    def checkpoint(self) -> Checkpoint:
        response = self.http.get("/v1/checkpoint")
        if response.status_code != 200 or not response.headers["content-type"].startswith(
            "text/plain"
        ):
            raise LedgerError(f"GET /v1/checkpoint: {response.status_code} {response.text}")
        return verify_checkpoint(response.text, self.log_key, self.origin)

    def verify_consistency(self, first: Checkpoint, second: Checkpoint) -> None:
        proof = self.get_json("/v1/proofs/consistency", first=first.size, second=second.size)
        if (proof["first"], proof["second"]) != (first.size, second.size):
            raise VerificationError(f"consistency proof for the wrong sizes: {proof}")
        hashes = [b64decode(h) for h in proof["hashes"]]
        verify_consistency(first.size, second.size, first.root, second.root, hashes)

    def touched_lots(self, event: dict[str, Any]) -> list[str]:
        """The existing lots an event touches (DESIGN §5), whose heads go in `prev`."""
        kind = event["type"]
        if kind == "lot.transform":
            return [item["lot"] for item in event["inputs"]]
        if kind in ("lot.ship", "lot.receive"):
            return [item["lot"] for item in event["lots"]]
        if kind == "lot.assay":
            return [event["lot"]]
        if kind == "export.declare":
            return list(event["declaration"]["lots"])
        if kind == "customs.decide":
            return self.declarations[event["declaration"]]
        return []

    def post(self, signer: Signer, event: dict[str, Any]) -> Receipt:
        """Fill `prev` from the heads, sign, POST, verify the answer, move the heads."""
        touched = self.touched_lots(event)
        event = {**event, "prev": {lot: self.heads[lot] for lot in touched}}
        envelope = signer.envelope(event)
        response = self.http.post("/v1/entries", json=envelope)
        if response.status_code != 201:
            raise LedgerError(f"{event['type']} {event['id']}: {response.text}")
        receipt = self.verify_receipt(envelope, response.json())
        created = [event["lot"]["id"]] if event["type"] == "lot.extract" else []
        created += [output["id"] for output in event.get("outputs", [])]
        for lot in touched + created:
            self.heads[lot] = receipt.event_hash
        if event["type"] == "export.declare":
            declaration = event["declaration"]
            self.declarations[declaration["id"]] = list(declaration["lots"])
        return receipt

    def verify_receipt(self, envelope: dict[str, Any], answer: dict[str, Any]) -> Receipt:
        """(1) event hash, (2) checkpoint signature, (3) leaf hash, (4) inclusion proof."""
        own_event_hash = event_hash(b64decode(envelope["payload"]))
        if answer["event_hash"] != own_event_hash:  # (1)
            raise VerificationError(f"event_hash {answer['event_hash']} != {own_event_hash}")
        checkpoint = verify_checkpoint(answer["checkpoint"], self.log_key, self.origin)  # (2)
        own_leaf_hash = envelope_leaf_hash(envelope)
        if b64decode(answer["leaf_hash"]) != own_leaf_hash:  # (3)
            raise VerificationError(f"leaf_hash {answer['leaf_hash']} != own computation")
        proof = answer["inclusion_proof"]  # (4)
        if proof["index"] != answer["index"] or proof["size"] != checkpoint.size:
            raise VerificationError(f"inclusion proof {proof} does not fit {answer['index']}")
        hashes = [b64decode(h) for h in proof["hashes"]]
        verify_inclusion(own_leaf_hash, proof["index"], proof["size"], hashes, checkpoint.root)
        return Receipt(answer["index"], own_event_hash, checkpoint, list(answer["flags"]))

    def verify_entry(self, index: int, checkpoint: Checkpoint, token: str) -> dict[str, Any]:
        """GET an entry (a read token), check its leaf hash and inclusion; return its envelope."""
        entry = self.get_json(f"/v1/entries/{index}", token)
        own_leaf_hash = envelope_leaf_hash(entry["envelope"])
        if entry["index"] != index or b64decode(entry["leaf_hash"]) != own_leaf_hash:
            raise VerificationError(f"entry {index}: leaf hash or index does not fit")
        proof = self.get_json("/v1/proofs/inclusion", index=index, size=checkpoint.size)
        hashes = [b64decode(h) for h in proof["hashes"]]
        verify_inclusion(own_leaf_hash, index, checkpoint.size, hashes, checkpoint.root)
        envelope: dict[str, Any] = entry["envelope"]
        return envelope
