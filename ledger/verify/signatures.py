"""Ed25519 with libsodium (PyNaCl): step (4)'s arithmetic where many signatures are checked.

Ingest, the audit and the ancestry checks verify here first, then re-check every refusal
with pyca/cryptography (`ledger.tlog.keys.verify`), whose verdict is the one reported.
"""

from collections.abc import Sequence

# libsodium's verify-and-strip: (signature || message, public key) -> message, or raises.
from nacl.bindings import crypto_sign_open as sodium_verify
from nacl.exceptions import BadSignatureError, CryptoError

from ledger.tlog.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE


def signature_verifies(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Step (4)'s arithmetic with libsodium (PyNaCl), about twice as fast as OpenSSL here.

    libsodium accepts a subset of what OpenSSL accepts (it also refuses small-order keys and
    points), so a True here is a True from `ledger.tlog.keys.verify`; callers re-check a False
    with that function, so the verdict is always pyca/cryptography's. The call releases the
    GIL: threads verify on every core.
    """
    if len(signature) != SIGNATURE_SIZE or len(public_key) != PUBLIC_KEY_SIZE:
        return False
    try:
        sodium_verify(signature + message, public_key)
    except (BadSignatureError, ValueError, TypeError, CryptoError):
        return False
    return True


def failed_signatures(items: Sequence[tuple[int, bytes, bytes, bytes]]) -> list[int]:
    """The tags of the (tag, public key, signature, message) items that do not verify with
    libsodium; a top-level function, so that a process pool can run it on a chunk."""
    return [tag for tag, key, sig, message in items if not signature_verifies(key, sig, message)]
