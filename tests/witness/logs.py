"""A small log for witness tests: leaves in memory, checkpoints signed with a real log key,
consistency proofs, and add-checkpoint request bodies; forks made by diverging leaves."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import keys, merkle
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint

ORIGIN = "ree-ledger.test/log"


@dataclass
class Log:
    key: Ed25519PrivateKey
    origin: str = ORIGIN
    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def make(cls, seed: int = 1, origin: str = ORIGIN, size: int = 0) -> Log:
        log = cls(Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32), origin)
        log.grow(size)
        return log

    @property
    def vkey(self) -> str:
        return keys.verifier_key(self.origin, keys.raw_public_key(self.key))

    def grow(self, count: int, tag: str = "") -> Log:
        start = len(self.leaves)
        self.leaves += [
            merkle.leaf_hash(f"{tag}entry {i}".encode()) for i in range(start, start + count)
        ]
        return self

    def fork(self) -> Log:
        """A copy of this log, same key, whose later leaves will differ (grow with a tag)."""
        return Log(self.key, self.origin, list(self.leaves))

    def root(self, size: int | None = None) -> bytes:
        return merkle.root_from_leaves(self.leaves[: len(self.leaves) if size is None else size])

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return sign_checkpoint(
            Checkpoint(self.origin, size, self.root(size)), self.origin, self.key
        )

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.leaves) if new is None else new
        if not 0 < old <= new:  # nothing to prove (or a request meant to be refused)
            return []

        def node(level: int, index: int) -> bytes:
            return merkle.root_from_leaves(self.leaves[index << level : (index + 1) << level])

        return merkle.consistency_proof(old, new, node)

    def request(self, old: int, size: int | None = None) -> bytes:
        """The add-checkpoint body: old size, proof from it, the checkpoint of `size`."""
        size = len(self.leaves) if size is None else size
        return format_add_checkpoint(
            AddCheckpoint(old_size=old, proof=tuple(self.proof(old, size)), note=self.note(size))
        )
