"""Ed25519 keys, participant key ids and C2SP signed-note key strings."""

import re
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.tlog.encoding import b64decode, b64encode, sha256
from ledger.tlog.errors import EncodingError, VerificationError

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
KEY_HASH_SIZE = 4
# c2sp.org/signed-note: the signature-type byte that prefixes an Ed25519 key.
ALG_ED25519 = 0x01
SIGNER_KEY_PREFIX = "PRIVATE+KEY+"

_KEY_HASH_HEX = re.compile(r"[0-9a-fA-F]{8}")


@dataclass(frozen=True)
class Verifier:
    """A parsed C2SP verifier key: who signs, the 4-byte key hash, the raw public key."""

    name: str
    key_hash: bytes
    public_key: bytes


def generate_private_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of the public half of `key`."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes_raw()


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Load a raw 32-byte Ed25519 public key."""
    if len(raw) != PUBLIC_KEY_SIZE:
        raise EncodingError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise EncodingError(f"invalid Ed25519 public key: {exc}") from exc


def key_id(owner: str, public_key: bytes) -> str:
    """Return `<owner>/<first 16 hex of SHA-256(raw public key)>`."""
    _check_public_key(public_key)
    return f"{owner}/{sha256(public_key).hex()[:16]}"


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    """Serialise `key` as an unencrypted PKCS#8 PEM file."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise EncodingError(f"not an unencrypted PKCS#8 PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise EncodingError(f"PEM holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def key_hash(name: str, public_key: bytes) -> bytes:
    """Return the C2SP key hash: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key)[:KEY_HASH_SIZE]


def verifier_key(name: str, public_key: bytes) -> str:
    """Return the C2SP verifier key `<name>+<hex key hash>+<base64(0x01 || public key)>`."""
    _check_name(name)
    _check_public_key(public_key)
    encoded = b64encode(bytes([ALG_ED25519]) + public_key)
    return f"{name}+{key_hash(name, public_key).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse a C2SP verifier key, checking its name, key hash, algorithm and key length."""
    name, _, rest = vkey.partition("+")
    hash_hex, sep, key_b64 = rest.partition("+")
    if not sep or not _KEY_HASH_HEX.fullmatch(hash_hex):
        raise EncodingError(f"malformed verifier key {vkey!r}: want <name>+<8 hex>+<base64>")
    _check_name(name)
    try:
        key = b64decode(key_b64)
    except EncodingError as exc:
        raise EncodingError(f"verifier key {vkey!r}: {exc}") from exc
    public_key = _ed25519_key_from_typed(key, what="verifier key")
    want = bytes.fromhex(hash_hex)
    if key_hash(name, public_key) != want:
        raise EncodingError(f"verifier key {vkey!r}: key hash does not match name and key")
    return Verifier(name=name, key_hash=want, public_key=public_key)


def signer_key(name: str, key: Ed25519PrivateKey) -> str:
    """Return the C2SP signer key `PRIVATE+KEY+<name>+<hex key hash>+<base64(0x01 || seed)>`."""
    _check_name(name)
    seed = key.private_bytes_raw()
    hash_hex = key_hash(name, raw_public_key(key)).hex()
    return f"{SIGNER_KEY_PREFIX}{name}+{hash_hex}+{b64encode(bytes([ALG_ED25519]) + seed)}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a C2SP signer key into its name and private key, checking its key hash."""
    if not skey.startswith(SIGNER_KEY_PREFIX):
        raise EncodingError(f"signer key must start with {SIGNER_KEY_PREFIX!r}")
    name, _, rest = skey.removeprefix(SIGNER_KEY_PREFIX).partition("+")
    hash_hex, sep, key_b64 = rest.partition("+")
    if not sep or not _KEY_HASH_HEX.fullmatch(hash_hex):
        raise EncodingError("malformed signer key: want PRIVATE+KEY+<name>+<8 hex>+<base64>")
    _check_name(name)
    seed = _ed25519_key_from_typed(b64decode(key_b64), what="signer key")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    if key_hash(name, raw_public_key(key)) != bytes.fromhex(hash_hex):
        raise EncodingError("signer key: key hash does not match name and key")
    return name, key


def verify(public_key: bytes, signature: bytes, message: bytes) -> None:
    """Check an Ed25519 signature; raise VerificationError if it does not verify."""
    try:
        public_key_from_raw(public_key).verify(signature, message)
    except EncodingError as exc:
        raise VerificationError(f"cannot verify with this public key: {exc}") from exc
    except InvalidSignature as exc:
        raise VerificationError("Ed25519 signature does not verify") from exc


def is_valid_name(name: str) -> bool:
    """Tell whether `name` is a C2SP key name: non-empty, no whitespace, no '+'."""
    # Go's unicode.IsSpace covers the Zs category as well as the ASCII spaces.
    return (
        bool(name)
        and "+" not in name
        and not any(ch.isspace() or unicodedata.category(ch) == "Zs" for ch in name)
    )


def _check_name(name: str) -> None:
    if not is_valid_name(name):
        raise EncodingError(f"invalid key name {name!r}: must be non-empty, no spaces, no '+'")


def _check_public_key(public_key: bytes) -> None:
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise EncodingError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")


def _ed25519_key_from_typed(key: bytes, *, what: str) -> bytes:
    if not key or key[0] != ALG_ED25519:
        alg = f"0x{key[0]:02x}" if key else "none"
        raise EncodingError(f"{what}: unsupported signature algorithm {alg}, want 0x01 Ed25519")
    if len(key) != 1 + PUBLIC_KEY_SIZE:
        raise EncodingError(f"{what}: Ed25519 key must be 32 bytes, got {len(key) - 1}")
    return key[1:]
