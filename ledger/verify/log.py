"""The whole-log audit, steps (1)–(10), fed entry by entry so memory stays O(state + log n)."""

from collections.abc import Iterable, Sequence

from ledger.lots.events import Event
from ledger.lots.memory import MemoryState
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.rules import Flag, check_event
from ledger.lots.state import Rejection, apply_event, authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.tlog import merkle, merkle_verify
from ledger.tlog.encoding import b64encode
from ledger.tlog.envelope import EVENT_PAYLOAD_TYPE, pae
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import key_id, parse_verifier_key
from ledger.tlog.note import Checkpoint, open_checkpoint
from ledger.verify.entry import ParsedEntry, check_signature
from ledger.verify.signatures import signature_verifies
from ledger.verify.stored import (
    FAILED,
    REFUSED,
    UNTRIED,
    AuditFailure,
    Row,
    StoredEntry,
    audit_failure,
    check_stored,
    payload_of,
    read_event,
    signature_of,
)

DEFAULT_TOLERANCES = Tolerances()


class LogAuditor:
    """Replays the log from index 0, recomputing everything a checkpoint commits to."""

    def __init__(
        self,
        origin: str,
        log_vkey: str,
        operator_public_key: bytes,
        tolerances: Tolerances = DEFAULT_TOLERANCES,
        policy: CustodyPolicy = DEFAULT_POLICY,
    ) -> None:
        self.origin = origin
        self.tolerances = tolerances
        self.policy = policy
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
        self._unsettled: dict[int, tuple[ParsedEntry | StoredEntry, bytes]] = {}
        # The public key `precheck` tries for each keyid (the caller may add to it before it
        # hands out work): a guess, which the replay takes only where (4) names that key.
        self.key_hints: dict[str, bytes] = {self.operator_keyid: operator_public_key}

    @property
    def size(self) -> int:
        return self.tree.size

    def entry(self, stored: StoredEntry) -> list[tuple[int, int, bytes]]:
        """Check one entry; returns the tree nodes it completes, for comparison with storage."""
        index = stored.index
        self._check_next(index)
        parsed = check_stored(stored)
        event = parsed.event
        # (4): the signature verifies with the key valid at this index.
        public_key = self._authorised_key(parsed.keyid, event.actor, index)
        envelope = parsed.envelope
        message = pae(envelope.payload_type, envelope.payload)
        self._signature(index, parsed, public_key, envelope.signatures[0].sig, message)
        return self._replay(index, event, parsed.event_hash, parsed.leaf_hash)

    def entry_prechecked(
        self,
        row: Row,
        verdict: int,
        event: Event | None,
        failure: AuditFailure | None,
    ) -> list[tuple[int, int, bytes]]:
        """`entry` for a row on which `precheck` (in a worker) already ran steps (1)–(3), and
        (4)'s arithmetic with the key `key_hints` gives its keyid: `verdict`, `event` (the
        payload's, as parse_event read it there) and `failure` are what it found.

        Every check is made, in the order `entry` makes them, so the failure raised is the
        one `entry` raises: (6) here; (1)–(3) as the worker found; (4) the key, here, and the
        signature is taken as verified only if the worker verified it with that very key.
        """
        index = row[0]
        self._check_next(index)
        if verdict == FAILED and failure is not None:
            raise failure
        if event is None or verdict >= FAILED:
            # Not vouched for by the worker (it could not tell): the whole entry here.
            return self.entry(StoredEntry(*row))
        # (4): step (3) found the keyid column equal to the envelope's.
        keyid = row[7]
        public_key = self._authorised_key(keyid, event.actor, index)
        if verdict == UNTRIED or self.key_hints.get(keyid) != public_key:
            message = pae(EVENT_PAYLOAD_TYPE, payload_of(row[1]))
            self._signature(index, StoredEntry(*row), public_key, signature_of(row[1]), message)
        elif verdict == REFUSED:
            # libsodium refused it with this key: pyca/cryptography's verdict decides.
            _verify_signature(index, check_stored(StoredEntry(*row)), public_key)
        # The event_hash and leaf_hash columns are the recomputed ones: step (3) compared them.
        return self._replay(index, event, row[3], row[2])

    def _check_next(self, index: int) -> None:
        # (6): entries are contiguous from 0: no gap, no reordering of indices.
        if index != self.tree.size:
            size = self.tree.size
            raise AuditFailure(6, f"expected entry {size} next, found entry {index}", size)

    def _authorised_key(self, keyid: str, actor: str, index: int) -> bytes:
        # (4): the key valid at this index for this actor.
        try:
            key = authorise_key(keyid, actor, index, self.state, self.operator_keyid)
        except (EncodingError, Rejection) as exc:
            raise audit_failure(4, exc, index) from exc
        return self.operator_public_key if key is None else key

    def replay_part(self, row: Row, verdict: int) -> None:
        """(4), (5) and the rules for a row of one part of the log (the audit's partitioned
        replay, ledger/service/audit_parallel.py): a first pass found (1)–(3) good
        (`verdict`, as `precheck` gave it, not FAILED or REDO) and built the tree. The key
        is taken, and the signature trusted, exactly as in `entry_prechecked`."""
        index, envelope = row[0], row[1]
        payload = payload_of(envelope)
        event = read_event(payload)
        if event is None:
            raise AuditFailure(2, "the payload no longer reads as the first pass read it", index)
        keyid = row[7]
        public_key = self._authorised_key(keyid, event.actor, index)
        if verdict == UNTRIED or self.key_hints.get(keyid) != public_key:
            message = pae(EVENT_PAYLOAD_TYPE, payload)
            self._signature(index, StoredEntry(*row), public_key, signature_of(envelope), message)
        elif verdict == REFUSED:
            _verify_signature(index, check_stored(StoredEntry(*row)), public_key)
        self._apply(index, event, row[3])

    def _replay(
        self, index: int, event: Event, event_hash: str, leaf_hash: bytes
    ) -> list[tuple[int, int, bytes]]:
        self._apply(index, event, event_hash)
        return self.tree.append(leaf_hash)

    def _apply(self, index: int, event: Event, event_hash: str) -> None:
        # (5): the event applies to the replayed state: custody rules and per-lot prev links.
        state = self.state
        try:
            effects = apply_event(event, event_hash, index, state, None, self.policy)
        except (EncodingError, Rejection) as exc:
            raise audit_failure(5, exc, index) from exc
        # The rules read the state before the event, as at ingest.
        raised = check_event(event, state, self.tolerances, derived=effects)
        if raised:
            self.flags.extend((index, event_hash, flag) for flag in raised)
        state.apply(effects, event.id, index)
        self.touched.extend((lot.id, index) for lot in effects.lots)

    def _signature(
        self,
        index: int,
        entry: ParsedEntry | StoredEntry,
        public_key: bytes,
        signature: bytes,
        message: bytes,
    ) -> None:
        """(4)'s arithmetic: deferred for the caller, or else here, with libsodium and, if it
        refuses, with pyca/cryptography, whose verdict it is."""
        if self.defer_signatures:
            self.deferred.append((index, public_key, signature, message))
            self._unsettled[index] = (entry, public_key)
        elif not signature_verifies(public_key, signature, message):
            _verify_signature(index, _parsed(entry), public_key)

    def settle_signatures(self, failed: Iterable[int], through: int | None = None) -> None:
        """(4) for the deferred signatures up to entry `through` (all if None), given the
        indices whose signature libsodium refused; raises for the first that pyca/cryptography
        refuses too, exactly as the entry would have failed when replayed alone."""
        for index in sorted(i for i in failed if through is None or i <= through):
            entry, public_key = self._unsettled[index]
            _verify_signature(index, _parsed(entry), public_key)
        if through is None:
            self._unsettled.clear()
        else:
            for index in [i for i in self._unsettled if i <= through]:
                del self._unsettled[index]

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
            merkle_verify.verify_consistency(old.size, new.size, old.root, new.root, proof)
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


def _parsed(entry: ParsedEntry | StoredEntry) -> ParsedEntry:
    # A row deferred unparsed (its worker vouched for steps 1-3) is parsed when it is needed.
    return check_stored(entry) if isinstance(entry, StoredEntry) else entry


def _verify_signature(index: int, parsed: ParsedEntry, public_key: bytes) -> None:
    """(4)'s arithmetic with pyca/cryptography, whose verdict is the audit's."""
    try:
        check_signature(parsed, public_key)
    except (EncodingError, Rejection) as exc:
        raise audit_failure(4, exc, index) from exc


def _no_nodes(level: int, index: int) -> bytes:
    raise LookupError((level, index))
