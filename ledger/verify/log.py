"""The whole-log audit, steps (1)–(10), fed entry by entry so memory stays O(state + log n)."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

# libsodium's verify-and-strip: (signature || message, public key) -> message, or raises.
from nacl.bindings import crypto_sign_open as sodium_verify
from nacl.exceptions import BadSignatureError, CryptoError

from ledger.lots.memory import MemoryState
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.tlog import merkle
from ledger.tlog.encoding import b64encode, parse_json
from ledger.tlog.envelope import pae
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, key_id, parse_verifier_key
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.verify.entry import ParsedEntry, check_signature, parse_envelope, parse_payload

DEFAULT_TOLERANCES = Tolerances()


class AuditFailure(VerificationError):
    """The first thing found wrong: the entry index (or checkpoint size) and the step."""

    def __init__(self, step: int, message: str, index: int | None = None) -> None:
        where = f"entry {index}: " if index is not None else ""
        super().__init__(f"{where}step ({step}): {message}")
        self.step = step
        self.index = index


@dataclass(frozen=True)
class StoredEntry:
    """An entry row as the database holds it; every field is checked, none trusted."""

    index: int
    envelope: bytes
    leaf_hash: bytes
    event_hash: str
    event_id: str
    type: str
    actor: str
    keyid: str


class LogAuditor:
    """Replays the log from index 0, recomputing everything a checkpoint commits to."""

    def __init__(
        self,
        origin: str,
        log_vkey: str,
        operator_public_key: bytes,
        tolerances: Tolerances = DEFAULT_TOLERANCES,
    ) -> None:
        self.origin = origin
        self.tolerances = tolerances
        self.log_vkey = log_vkey
        parse_verifier_key(log_vkey)
        self.operator_public_key = operator_public_key
        self.operator_keyid = key_id("operator", operator_public_key)
        self.state = MemoryState()
        self.tree = merkle.CompactRange.from_nodes(0, _no_nodes)
        self.verified_size = 0  # the size of the last checkpoint found good
        # (lot, index) of every lot each entry touched, since the caller last took them.
        self.touched: list[tuple[str, int]] = []
        # (index, event_hash, flag) of every flag the rules raise on the replay, likewise.
        self.flags: list[tuple[int, str, Flag]] = []
        # With deferred signatures, step (4)'s arithmetic waits here for the caller (who
        # verifies in parallel and hands back the failures to `settle_signatures`).
        self.defer_signatures = False
        self.deferred: list[tuple[int, bytes, bytes, bytes]] = []
        self._unsettled: dict[int, tuple[ParsedEntry, bytes]] = {}

    @property
    def size(self) -> int:
        return self.tree.size

    def entry(self, stored: StoredEntry) -> list[tuple[int, int, bytes]]:
        """Check one entry; returns the tree nodes it completes, for comparison with storage."""
        index = stored.index
        # (6): entries are contiguous from 0: no gap, no reordering of indices.
        if index != self.size:
            raise AuditFailure(
                6, f"expected entry {self.size} next, found entry {index}", self.size
            )
        parsed = self._parse(stored)
        _check_columns(stored, parsed)
        event = parsed.event
        # (4): the signature verifies with the key valid at this index.
        with _step(4, index):
            key = authorise_key(parsed.keyid, event.actor, index, self.state, self.operator_keyid)
            public_key = self.operator_public_key if key is None else key
            if self.defer_signatures:
                self._defer(index, parsed, public_key)
            else:
                check_signature(parsed, public_key)
        # (5): the event applies to the replayed state: custody rules and per-lot prev links.
        with _step(5, index):
            effects = apply_event(event, parsed.event_hash, index, self.state, None)
        # The rules read the state before the event, as at ingest.
        raised = check_event(event, self.state, self.tolerances)
        self.flags.extend((index, parsed.event_hash, flag) for flag in raised)
        self.state.apply(effects, event.id, index)
        self.touched.extend((lot.id, index) for lot in effects.lots)
        return self.tree.append(parsed.leaf_hash)

    def _defer(self, index: int, parsed: ParsedEntry, public_key: bytes) -> None:
        message = pae(parsed.envelope.payload_type, parsed.envelope.payload)
        self.deferred.append((index, public_key, parsed.envelope.signatures[0].sig, message))
        self._unsettled[index] = (parsed, public_key)

    def settle_signatures(self, failed: Iterable[int], through: int | None = None) -> None:
        """(4) for the deferred signatures up to entry `through` (all if None), given the
        indices whose signature libsodium refused; raises for the first that pyca/cryptography
        refuses too, exactly as the entry would have failed when replayed alone."""
        for index in sorted(i for i in failed if through is None or i <= through):
            parsed, public_key = self._unsettled[index]
            with _step(4, index):
                check_signature(parsed, public_key)
        if through is None:
            self._unsettled.clear()
        else:
            for index in [i for i in self._unsettled if i <= through]:
                del self._unsettled[index]

    @staticmethod
    def _parse(stored: StoredEntry) -> ParsedEntry:
        # (1): the stored bytes are the canonical form of a well-formed envelope.
        with _step(1, stored.index):
            envelope = parse_envelope(parse_json(stored.envelope))
        # (2): the payload is a canonical, valid event. parse_payload encodes the envelope
        # canonically anyway: (1)'s comparison uses its bytes, and is made first either way.
        try:
            parsed = parse_payload(envelope)
        except (Rejection, EncodingError):
            with _step(1, stored.index):
                leaf_bytes = envelope.leaf_bytes()
            _check_canonical(stored, leaf_bytes)
            with _step(2, stored.index):
                raise
        _check_canonical(stored, parsed.leaf_bytes)
        return parsed

    def check_checkpoint(self, size: int, note: str, root: bytes) -> Checkpoint:
        """(8): a stored checkpoint is signed by the log key and commits to `root`, the root
        the replayed entries gave at `size`."""
        try:
            checkpoint = open_checkpoint(note, self.log_vkey)
        except (EncodingError, VerificationError) as exc:
            raise AuditFailure(8, f"checkpoint at size {size}: {exc}") from exc
        if checkpoint.origin != self.origin or checkpoint.size != size:
            raise AuditFailure(
                8,
                f"checkpoint stored at size {size} says {checkpoint.origin!r} "
                f"size {checkpoint.size}",
            )
        if checkpoint.root != root:
            first = self.verified_size
            raise AuditFailure(
                8,
                f"checkpoint at size {size} signs root {checkpoint.root.hex()}, entries "
                f"{first}..{size - 1} give {root.hex()}: one of them was changed or reordered",
                first,
            )
        self.verified_size = size
        return checkpoint

    def check_consistency(self, old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
        """(9): the stored tree proves the newer checkpoint extends the older one."""
        try:
            merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
        except VerificationError as exc:
            raise AuditFailure(
                9, f"consistency proof {old.size} -> {new.size} from stored nodes fails: {exc}"
            ) from exc


def check_node(level: int, idx: int, expected: bytes, stored: bytes | None, entry: int) -> None:
    """(7): a stored perfect-subtree hash equals the one recomputed from the entries;
    `entry` is the entry whose leaf completed the node."""
    if stored != expected:
        found = "missing" if stored is None else b64encode(stored)
        raise AuditFailure(
            7,
            f"stored tree node (level {level}, index {idx}) is {found}, "
            f"recomputed {b64encode(expected)}",
            entry,
        )


def _check_canonical(stored: StoredEntry, leaf_bytes: bytes) -> None:
    with _step(1, stored.index):
        if leaf_bytes != stored.envelope:
            raise EncodingError("stored envelope bytes are not in canonical form")


def _check_columns(stored: StoredEntry, parsed: ParsedEntry) -> None:
    # (3): hashes and derived columns are recomputed from the envelope, never trusted.
    event = parsed.event
    expected: dict[str, tuple[object, object]] = {
        "leaf_hash": (stored.leaf_hash, parsed.leaf_hash),
        "event_hash": (stored.event_hash, parsed.event_hash),
        "event_id": (stored.event_id, event.id),
        "type": (stored.type, event.type),
        "actor": (stored.actor, event.actor),
        "keyid": (stored.keyid, parsed.keyid),
    }
    for column, (found, computed) in expected.items():
        if found != computed:
            raise AuditFailure(
                3,
                f"stored {column} {_show(found)} differs from the envelope's {_show(computed)}",
                stored.index,
            )


def _show(value: object) -> str:
    return b64encode(value) if isinstance(value, bytes) else repr(value)


@contextmanager
def _step(step: int, index: int) -> Iterator[None]:
    """Report a refusal inside the block as an AuditFailure of `step` at entry `index`."""
    try:
        yield
    except (EncodingError, Rejection) as exc:
        raise AuditFailure(step, getattr(exc, "detail", None) or str(exc), index) from exc


def _no_nodes(level: int, index: int) -> bytes:
    raise LookupError((level, index))


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
