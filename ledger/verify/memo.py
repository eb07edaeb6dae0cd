"""Memos of the pure, costly parts of verifying an ancestry (ledger.verify.lot); the process's
own are the service's (ledger.service.provenance.MEMOS).

Keyed by exact inputs: the stored envelope bytes (their parse, and the public keys their
signature verified with) and a digest of everything an inclusion check reads. A hit is a
byte-for-byte match, so a changed row is never served from here.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import sha256

from ledger.tlog import merkle
from ledger.verify.entry import ParsedEntry

# The memo's bounds: entries (the deep lot of the benchmark has 100 of ancestry) and their
# stored envelope bytes. A parsed entry costs about nine times its envelope in Python objects
# (measured with tracemalloc: ~7.5 KB for the bench workload's ~860-byte envelopes), so the
# memo holds at most ~15 MB at the entry bound and ~18 MB at the byte bound.
MEMO_ENTRIES = 2048
MEMO_ENVELOPE_BYTES = 2 * 1024 * 1024
# The inclusion memo: 32-byte digests of checks that passed (~150 bytes each with the dict).
INCLUSION_MEMO_ENTRIES = 8192


@dataclass
class _Known:
    """A canonical envelope parsed once, and the public keys its signature verified with."""

    parsed: ParsedEntry
    verified_with: set[bytes] = field(default_factory=set)


class VerifiedEntries:
    """A bounded, thread-safe, per-process LRU memo of the pure work of steps (1)–(4).

    Keyed by the stored envelope bytes themselves (the dict compares them byte for byte on
    a hit), it holds for each envelope that parsed and was canonical its `ParsedEntry`, and
    the public keys with which the signature in those bytes verified.

    Why it is sound: parsing (steps 1–3: `envelope_json`, `parse_entry`, the canonical form and
    the hashes) is a deterministic function of the bytes alone, and the signature's verdict
    is a deterministic function of the bytes (payload type, payload, signature) and the
    public key. A hit therefore returns exactly what recomputing would. Nothing is keyed by
    an index, a lot or a key id: a stored envelope changed by even one byte is another key
    and is parsed and verified afresh, and a key row whose public key changed is another
    public key, so its signature is verified afresh. What depends on the database and the
    request is never memoised: which key is valid for the actor at the index, the inclusion
    proof (read from the stored nodes each time), the checkpoint, and the prev links. Only
    successes are kept (a failure is recomputed and reported every time), and the
    `ParsedEntry` objects handed out are immutable (frozen dataclasses, frozen events).

    Bounded by entries and by envelope bytes, least recently used first out.
    """

    def __init__(
        self, max_entries: int = MEMO_ENTRIES, max_bytes: int = MEMO_ENVELOPE_BYTES
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._known: OrderedDict[bytes, _Known] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    @property
    def nbytes(self) -> int:
        """Envelope bytes held."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._bytes = 0

    def parsed(self, envelope: bytes) -> ParsedEntry | None:
        """The parse of exactly these bytes, if they were seen, parsed and canonical."""
        with self._lock:
            known = self._known.get(envelope)
            if known is None:
                return None
            self._known.move_to_end(envelope)
            return known.parsed

    def verified(self, parsed: ParsedEntry, public_key: bytes) -> bool:
        """Whether the signature of these (canonical) bytes verified with `public_key`."""
        with self._lock:
            known = self._known.get(parsed.leaf_bytes)
            return (
                known is not None and known.parsed is parsed and public_key in known.verified_with
            )

    def remember(self, parsed: ParsedEntry, verified_with: bytes | None = None) -> None:
        """Keep a canonical parse (its leaf bytes are the stored bytes), and a key it verified
        with."""
        envelope = parsed.leaf_bytes
        if len(envelope) > self.max_bytes:
            return
        with self._lock:
            known = self._known.get(envelope)
            if known is None or known.parsed is not parsed:
                if known is None:
                    self._bytes += len(envelope)
                known = self._known[envelope] = _Known(parsed)
            self._known.move_to_end(envelope)
            if verified_with is not None:
                known.verified_with.add(verified_with)
            while len(self._known) > self.max_entries or self._bytes > self.max_bytes:
                dropped, _ = self._known.popitem(last=False)
                self._bytes -= len(dropped)


class VerifiedInclusions:
    """A bounded, thread-safe LRU set of inclusion checks that passed (step 11).

    A member is the SHA-256 of every input of `merkle_verify.verify_inclusion`: index, tree size,
    leaf hash, root and the proof's hashes, in an unambiguous encoding (decimal numbers, then
    hashes of exactly 32 bytes; inputs of any other length are not memoised). The check is
    a pure function of those inputs, so a member passed with exactly these inputs. The proof
    is still read from the stored nodes on every request and the leaf hash recomputed from
    the stored envelope: a changed node, envelope or checkpoint is another digest.
    """

    def __init__(self, max_entries: int = INCLUSION_MEMO_ENTRIES) -> None:
        self.max_entries = max_entries
        self._known: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._known)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()

    @staticmethod
    def digest(
        index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
    ) -> bytes | None:
        """The memo's key for these inputs; None when a hash is not 32 bytes long."""
        if len(leaf) != merkle.HASH_SIZE or len(root) != merkle.HASH_SIZE:
            return None
        if any(len(node) != merkle.HASH_SIZE for node in proof):
            return None
        head = b"%d %d %d " % (index, size, len(proof))
        return sha256(head + leaf + root + b"".join(proof)).digest()

    def passed(self, digest: bytes) -> bool:
        """Whether the check with the inputs of `digest` passed before."""
        with self._lock:
            if digest not in self._known:
                return False
            self._known.move_to_end(digest)
            return True

    def add(self, digest: bytes) -> None:
        with self._lock:
            self._known[digest] = None
            self._known.move_to_end(digest)
            while len(self._known) > self.max_entries:
                self._known.popitem(last=False)


@dataclass(frozen=True)
class Memos:
    """What `verify_entries` may reuse: the entries' parses and signatures, and inclusions."""

    entries: VerifiedEntries = field(default_factory=VerifiedEntries)
    inclusions: VerifiedInclusions = field(default_factory=VerifiedInclusions)

    def clear(self) -> None:
        self.entries.clear()
        self.inclusions.clear()
