"""Ed25519 keys, key ids, PEM files and C2SP verifier and signer keys."""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import sha256
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import (
    Verifier,
    generate_private_key,
    key_hash,
    key_id,
    parse_signer_key,
    parse_verifier_key,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_raw,
    raw_public_key,
    signer_key,
    verifier_key,
    verify,
)

# RFC 8032 §7.1, TEST 1.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)


def test_raw_public_key_of_private_and_public_key() -> None:
    assert raw_public_key(RFC8032_KEY) == RFC8032_PUBLIC
    assert raw_public_key(RFC8032_KEY.public_key()) == RFC8032_PUBLIC


def test_key_id_is_owner_and_16_hex_of_public_key_hash() -> None:
    got = key_id("mine-a.cd", RFC8032_PUBLIC)
    assert got == "mine-a.cd/" + sha256(RFC8032_PUBLIC).hex()[:16]
    assert re.fullmatch(r"mine-a\.cd/[0-9a-f]{16}", got)


def test_key_id_rejects_public_key_of_wrong_length() -> None:
    with pytest.raises(EncodingError, match="32 bytes"):
        key_id("operator", RFC8032_PUBLIC[:31])


def test_public_key_from_raw_round_trip() -> None:
    assert raw_public_key(public_key_from_raw(RFC8032_PUBLIC)) == RFC8032_PUBLIC


@pytest.mark.parametrize("length", [0, 31, 33])
def test_public_key_from_raw_rejects_wrong_length(length: int) -> None:
    with pytest.raises(EncodingError, match="32 bytes"):
        public_key_from_raw(bytes(length))


def test_pem_round_trip() -> None:
    key = generate_private_key()
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert raw_public_key(private_key_from_pem(pem)) == raw_public_key(key)


def test_private_key_from_pem_rejects_other_key_type() -> None:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(EncodingError, match="not an Ed25519 private key"):
        private_key_from_pem(pem)


def test_private_key_from_pem_rejects_encrypted_key() -> None:
    pem = RFC8032_KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(EncodingError, match="unencrypted"):
        private_key_from_pem(pem)


def test_private_key_from_pem_rejects_garbage() -> None:
    with pytest.raises(EncodingError):
        private_key_from_pem(b"not a key")


def test_key_hash_matches_go_note_vector() -> None:
    # From Go's sumdb/note tests: PeterNeumann+c74f20a3+<key>.
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    verifier = parse_verifier_key(vkey)
    assert key_hash("PeterNeumann", verifier.public_key) == bytes.fromhex("c74f20a3")


def test_verifier_key_round_trip() -> None:
    vkey = verifier_key("ree-ledger.local/log", RFC8032_PUBLIC)
    name, hash_hex, key_b64 = vkey.split("+", 2)
    assert (name, len(hash_hex), key_b64[:2]) == ("ree-ledger.local/log", 8, "Ad")
    assert parse_verifier_key(vkey) == Verifier(
        name="ree-ledger.local/log",
        key_hash=key_hash("ree-ledger.local/log", RFC8032_PUBLIC),
        public_key=RFC8032_PUBLIC,
    )


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there", "nbsp\u00a0"])
def test_verifier_key_rejects_invalid_name(name: str) -> None:
    with pytest.raises(EncodingError, match="invalid key name"):
        verifier_key(name, RFC8032_PUBLIC)


@pytest.mark.parametrize(
    "vkey",
    ["PeterNeumann", "PeterNeumann+c74f20a3", "PeterNeumann+c74f20a+ARpc", "+c74f20a3+AA=="],
)
def test_parse_verifier_key_rejects_missing_parts(vkey: str) -> None:
    with pytest.raises(EncodingError):
        parse_verifier_key(vkey)


def test_signer_key_round_trip() -> None:
    skey = signer_key("log", RFC8032_KEY)
    assert skey.startswith("PRIVATE+KEY+log+")
    name, key = parse_signer_key(skey)
    assert (name, key.private_bytes_raw()) == ("log", RFC8032_SEED)


def test_parse_signer_key_rejects_wrong_key_hash() -> None:
    skey = signer_key("log", RFC8032_KEY)
    wrong = skey.replace("PRIVATE+KEY+log+", "PRIVATE+KEY+other+")
    with pytest.raises(EncodingError, match="key hash"):
        parse_signer_key(wrong)


def test_verify_accepts_good_signature() -> None:
    verify(RFC8032_PUBLIC, RFC8032_KEY.sign(b"message"), b"message")


def test_verify_rejects_signature_over_other_message() -> None:
    with pytest.raises(VerificationError, match="does not verify"):
        verify(RFC8032_PUBLIC, RFC8032_KEY.sign(b"message"), b"massage")


def test_verify_rejects_truncated_signature() -> None:
    with pytest.raises(VerificationError):
        verify(RFC8032_PUBLIC, RFC8032_KEY.sign(b"message")[:63], b"message")


def test_verify_rejects_public_key_of_wrong_length() -> None:
    with pytest.raises(VerificationError, match="32 bytes"):
        verify(RFC8032_PUBLIC[:16], RFC8032_KEY.sign(b"message"), b"message")
