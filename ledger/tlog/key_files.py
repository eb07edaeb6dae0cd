"""A participant's public key as people have it: base64 of the raw 32 bytes (what `keygen`
writes), a SubjectPublicKeyInfo PEM (what `openssl pkey -pubout` writes) or an OpenSSH
`ssh-ed25519` line. Private keys and keys of other algorithms are refused, with the reason.

A private key is refused rather than reduced to its public half: the operator registering a
key should never be handed the secret that signs for the participant.
"""

import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

from ledger.tlog.encoding import b64decode
from ledger.tlog.errors import EncodingError
from ledger.tlog.keys import PUBLIC_KEY_SIZE, raw_public_key

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_PUBLIC_LABELS = {b"PUBLIC KEY"}
_TO_PUBLIC = "its public key (`openssl pkey -in FILE -pubout`, or the .pub `keygen` wrote)"
_WANT = "want an Ed25519 public key (keygen's .pub, `openssl pkey -pubout`, or ssh-ed25519)"


def _algorithm(key: object) -> str:
    """What a non-Ed25519 key is, in words."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"an RSA-{key.key_size} key"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC key on {key.curve.name}"
    if isinstance(key, x25519.X25519PublicKey):
        return "an X25519 key (key agreement, it cannot sign)"
    if isinstance(key, x448.X448PublicKey):
        return "an X448 key (key agreement, it cannot sign)"
    if isinstance(key, ed448.Ed448PublicKey):
        return "an Ed448 key"
    if isinstance(key, dsa.DSAPublicKey):
        return "a DSA key"
    return f"a {type(key).__name__}"


def _ed25519(key: object) -> bytes:
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise EncodingError(f"{_algorithm(key)}, not Ed25519: {_WANT}")
    return raw_public_key(key)


def _from_pem(data: bytes) -> bytes:
    labels = _PEM_LABEL.findall(data)
    if len(labels) != 1:
        raise EncodingError(f"{len(labels)} PEM blocks, want exactly one public key")
    label = labels[0]
    if b"PRIVATE" in label:
        how = "`ssh-keygen -y -f FILE`" if label.startswith(b"OPENSSH") else _TO_PUBLIC
        raise EncodingError(f"a private key ({label.decode()}), not a public one: give {how}")
    if label == b"RSA PUBLIC KEY":
        raise EncodingError(f"an RSA key (PKCS#1), not Ed25519: {_WANT}")
    if label not in _PUBLIC_LABELS:
        raise EncodingError(f"a PEM {label.decode()!r} block, not a public key: {_WANT}")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"a PUBLIC KEY block that does not parse ({exc}): {_WANT}") from exc
    return _ed25519(key)


def _from_openssh(data: bytes) -> bytes:
    try:
        key = serialization.load_ssh_public_key(data.strip())
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"an OpenSSH public key line that does not parse: {exc}") from exc
    return _ed25519(key)


def _from_base64(text: str) -> bytes:
    try:
        raw = b64decode(text)
    except EncodingError as exc:
        raise EncodingError(f"neither PEM, OpenSSH nor base64 ({exc}): {_WANT}") from exc
    if len(raw) == 2 * PUBLIC_KEY_SIZE:
        raise EncodingError(
            f"64 bytes, the size of an Ed25519 private key (seed and public key): give {_TO_PUBLIC}"
        )
    if len(raw) != PUBLIC_KEY_SIZE:
        raise EncodingError(f"an Ed25519 public key is 32 bytes, this is {len(raw)}: {_WANT}")
    return raw


def public_key_from_file(data: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key in a key file's bytes; EncodingError says why not.

    Raw binary is refused: 32 bytes could as well be a private seed, 64 a private key.
    """
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN "):
        return _from_pem(stripped)
    if any(byte > 0x7E or (byte < 0x20 and byte not in b"\t\r\n") for byte in stripped):
        raise EncodingError(
            f"{len(data)} bytes of binary, which may as well be a private key: give the public "
            "key as text (PEM from `openssl pkey -pubout`, or base64 as `keygen` writes)"
        )
    text = stripped.decode("ascii")
    if text.startswith(("ssh-", "ecdsa-sha2-", "sk-")):
        return _from_openssh(stripped)
    if not text:
        raise EncodingError(f"the file is empty: {_WANT}")
    return _from_base64(text)
