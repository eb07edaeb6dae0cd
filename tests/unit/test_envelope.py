"""DSSE envelopes: PAE, signing, verification and strict JSON reading."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import canonical
from ledger.tlog.envelope import (
    EVENT_PAYLOAD_TYPE,
    Envelope,
    Signature,
    pae,
    sign_envelope,
    verify_envelope,
)
from ledger.tlog.errors import EncodingError, VerificationError
from tests.vectors import vector_cases, vector_path

DSSE = ("dsse", "dsse-vectors.json")
# Not the vector's key: the tests below that need no vector sign with their own.
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = KEY.public_key().public_bytes_raw()


def _dsse(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def ed25519() -> Any:
    """The DSSE vector's Ed25519 envelope, its key and the bytes signed."""
    return _dsse(vector_path(*DSSE))["ed25519_envelope"]


def _vector_envelope(ed25519: Any) -> dict[str, Any]:
    return copy.deepcopy(ed25519["envelope"])


def _envelope() -> dict[str, Any]:
    """An envelope signed here (the malformation tests need no vector)."""
    return sign_envelope(b'{"hello":"world"}', KEY, "", "application/vnd.example+json").to_json()


@pytest.mark.parametrize(
    "example",
    vector_cases(lambda path: _dsse(path)["pae_examples"], *DSSE),
    ids=lambda e: e["payload_type"] if e else "no-vectors",
)
def test_pae_matches_dsse_example(example: dict[str, str]) -> None:
    got = pae(example["payload_type"], example["payload_utf8"].encode())
    assert got == example["pae_utf8"].encode()


def test_pae_matches_ed25519_vector_bytes(ed25519: Any) -> None:
    payload = ed25519["payload_utf8"].encode()
    assert pae(ed25519["payload_type"], payload).hex() == ed25519["pae_hex"]


def test_pae_counts_bytes_not_characters() -> None:
    assert pae("t\u00ffpe", "\u00e9".encode()) == "DSSEv1 5 t\u00ffpe 2 \u00e9".encode()


def test_sign_envelope_reproduces_ed25519_vector_byte_for_byte(ed25519: Any) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(ed25519["private_key_hex"]))
    payload = ed25519["payload_utf8"].encode()
    envelope = sign_envelope(payload, key, "", ed25519["payload_type"])
    assert envelope.to_json() == ed25519["envelope"]
    assert envelope.leaf_bytes() == canonical(ed25519["envelope"])


def test_vector_envelope_verifies(ed25519: Any) -> None:
    public = bytes.fromhex(ed25519["public_key_hex"])
    verify_envelope(Envelope.from_json(_vector_envelope(ed25519)), public)


def test_sign_envelope_uses_event_payload_type_by_default() -> None:
    envelope = sign_envelope(b"{}", KEY, "mine-a/0123456789abcdef")
    assert envelope.payload_type == EVENT_PAYLOAD_TYPE
    assert envelope.signatures[0].keyid == "mine-a/0123456789abcdef"
    verify_envelope(envelope, PUBLIC)


def test_from_json_round_trips_to_json(ed25519: Any) -> None:
    envelope = Envelope.from_json(_vector_envelope(ed25519))
    payload = ed25519["payload_utf8"].encode()
    assert envelope == Envelope(
        ed25519["payload_type"], payload, (Signature("", envelope.signatures[0].sig),)
    )
    assert Envelope.from_json(envelope.to_json()) == envelope


def test_leaf_bytes_are_canonical_json() -> None:
    leaf = sign_envelope(b'{"a":1}', KEY, "k").leaf_bytes()
    assert leaf.startswith(b'{"payload":"eyJhIjoxfQ==","payloadType":')


def test_verify_rejects_tampered_payload() -> None:
    obj = _envelope()
    obj["payload"] = "eyJoZWxsbyI6IndvcmxkISJ9"  # {"hello":"world!"}
    with pytest.raises(VerificationError, match="does not verify"):
        verify_envelope(Envelope.from_json(obj), PUBLIC)


def test_verify_rejects_tampered_payload_type() -> None:
    obj = _envelope()
    obj["payloadType"] = EVENT_PAYLOAD_TYPE
    with pytest.raises(VerificationError):
        verify_envelope(Envelope.from_json(obj), PUBLIC)


def test_verify_rejects_tampered_signature() -> None:
    envelope = Envelope.from_json(_envelope())
    sig = bytearray(envelope.signatures[0].sig)
    sig[0] ^= 1
    tampered = Envelope(envelope.payload_type, envelope.payload, (Signature("", bytes(sig)),))
    with pytest.raises(VerificationError):
        verify_envelope(tampered, PUBLIC)


def test_verify_rejects_other_public_key() -> None:
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(VerificationError):
        verify_envelope(Envelope.from_json(_envelope()), other)


def test_verify_rejects_envelope_without_signature() -> None:
    with pytest.raises(VerificationError, match="no signature"):
        verify_envelope(Envelope(EVENT_PAYLOAD_TYPE, b"{}", ()), PUBLIC)


def test_from_json_names_unknown_key() -> None:
    obj = _envelope()
    obj["extra"] = 1
    with pytest.raises(EncodingError, match="unknown key 'extra'"):
        Envelope.from_json(obj)


def test_from_json_names_missing_key() -> None:
    obj = _envelope()
    del obj["payloadType"]
    with pytest.raises(EncodingError, match="missing key 'payloadType'"):
        Envelope.from_json(obj)


def test_from_json_names_unknown_signature_key() -> None:
    obj = _envelope()
    obj["signatures"][0]["cert"] = ""
    with pytest.raises(EncodingError, match="unknown key 'cert'"):
        Envelope.from_json(obj)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payloadType", 7),
        ("payload", "eyJoZWxsbyI6IndvcmxkIn0"),
        ("payload", None),
        ("signatures", []),
        ("signatures", {}),
        ("signatures", ["sig"]),
        ("signatures", [{"keyid": 1, "sig": ""}]),
        ("signatures", [{"keyid": "", "sig": "yfw7S_sq"}]),
        ("signatures", [{"sig": ""}]),
    ],
    ids=[
        "type-not-string",
        "payload-unpadded",
        "payload-null",
        "no-signatures",
        "signatures-object",
        "signature-not-object",
        "keyid-not-string",
        "sig-url-safe",
        "keyid-missing",
    ],
)
def test_from_json_rejects_malformed_field(field: str, value: object) -> None:
    obj = _envelope()
    obj[field] = value
    with pytest.raises(EncodingError):
        Envelope.from_json(obj)


@pytest.mark.parametrize("obj", [None, [], "envelope"])
def test_from_json_rejects_non_object(obj: object) -> None:
    with pytest.raises(EncodingError, match="must be a JSON object"):
        Envelope.from_json(obj)
