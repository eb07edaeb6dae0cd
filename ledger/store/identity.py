"""The log's identity, as its database records it: its origin, the key that signs checkpoints, and
the operator's key."""

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import keys
from ledger.tlog.encoding import b64encode

OPERATOR = "operator"


@dataclass(frozen=True)
class LogIdentity:
    """What a server needs to sign checkpoints and recognise registry entries.

    The checkpoint key's note name is the origin, as C2SP logs conventionally do.
    """

    origin: str
    log_key: Ed25519PrivateKey
    operator_public_key: bytes

    @property
    def log_vkey(self) -> str:
        return keys.verifier_key(self.origin, keys.raw_public_key(self.log_key))

    @property
    def operator_keyid(self) -> str:
        return keys.key_id(OPERATOR, self.operator_public_key)

    @property
    def operator_key_b64(self) -> str:
        return b64encode(self.operator_public_key)

    def meta(self) -> dict[str, str]:
        """The public identity, as stored in the database and served at /v1/log."""
        return {
            "origin": self.origin,
            "log_key": self.log_vkey,
            "operator_key": self.operator_key_b64,
        }
