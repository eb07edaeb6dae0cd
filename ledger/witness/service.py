"""What the witness answers to add-checkpoint (c2sp.org/tlog-witness), in the spec's order.

Malformed request: 400. Origin of no configured log: 404. No valid signature by that log's
key, or a bad one: 403. Old size beyond the checkpoint's: 400. Old size other than the size
this witness last cosigned for the log (0 if never): 409 with that size. A size-0 checkpoint
whose root is not the empty tree's, a proof from size 0, the same size with another root, a
consistency proof that does not verify: 422 (and the checkpoint is kept as evidence, since the
log signed it). Otherwise the checkpoint is recorded, durably, and then cosigned: 200.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import merkle, merkle_verify
from ledger.tlog.cosignature import cosign
from ledger.tlog.encoding import b64encode, sha256
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import KEY_HASH_SIZE, Verifier
from ledger.tlog.note import SIGNATURE_PREFIX, Checkpoint, open_note, split_note
from ledger.tlog.witness_protocol import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    format_size_body,
    parse_add_checkpoint,
)
from ledger.witness.store import Cosigned, Refusal, Transaction, WitnessStore

LOGGER = logging.getLogger("ree_ledger.witness")
# Sizes are stored as signed 64-bit integers; no log comes near.
MAX_STORED_SIZE = 2**63 - 1


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, a problem code (errors), the body text and its media type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"
    code: str = ""


def _problem(status: int, code: str, detail: str) -> Answer:
    return Answer(status=status, body=detail, content_type="", code=code)


class Witness:
    """A witness for the logs whose keys it is given; the name and key it cosigns with."""

    def __init__(
        self,
        name: str,
        key: Ed25519PrivateKey,
        log_keys: Iterable[Verifier],
        store: WitnessStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.key = key
        self.logs: dict[str, Verifier] = {}
        for verifier in log_keys:
            if verifier.name in self.logs:
                raise ValueError(f"two log keys for origin {verifier.name!r}")
            self.logs[verifier.name] = verifier
        self.store = store
        self.clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            request = parse_add_checkpoint(body)
            text, signatures = split_note(request.note)
            checkpoint = Checkpoint.parse(text)
        except (EncodingError, VerificationError) as exc:
            return _problem(400, "malformed_request", str(exc))
        log = self.logs.get(checkpoint.origin)
        if log is None:
            return _problem(404, "unknown_log", f"no log with origin {checkpoint.origin!r} here")
        try:
            open_note(request.note, [log])
        except VerificationError as exc:
            return _problem(403, "bad_log_signature", f"{exc} (log key {log.name})")
        if request.old_size > checkpoint.size:
            return _problem(
                400,
                "old_size_too_large",
                f"old size {request.old_size} is larger than the checkpoint's {checkpoint.size}",
            )
        if checkpoint.size > MAX_STORED_SIZE:
            return _problem(400, "size_too_large", f"tree size {checkpoint.size} beyond 2**63-1")
        log_lines = "".join(
            f"{SIGNATURE_PREFIX}{s.name} {b64encode(s.stamp)}\n"
            for s in signatures
            if s.name == log.name and s.stamp[:KEY_HASH_SIZE] == log.key_hash
        )
        with self.store.transaction() as tx:
            return self._check_and_record(tx, request, checkpoint, text, log_lines)

    def _check_and_record(
        self,
        tx: Transaction,
        request: AddCheckpoint,
        checkpoint: Checkpoint,
        text: str,
        log_lines: str,
    ) -> Answer:
        previous = tx.latest(checkpoint.origin)
        held = 0 if previous is None else previous.size
        if request.old_size != held:
            return Answer(409, format_size_body(held), SIZE_CONTENT_TYPE, "size_conflict")
        reason = _inconsistency(request, checkpoint, previous)
        if reason is not None:
            LOGGER.warning("refused a checkpoint of %s: %s", checkpoint.origin, reason)
            tx.refuse(
                Refusal(
                    origin=checkpoint.origin,
                    received_at=int(self.clock()),
                    old_size=request.old_size,
                    size=checkpoint.size,
                    reason=reason,
                    note=request.note,
                )
            )
            return _problem(422, "inconsistent_checkpoint", reason)
        timestamp = max(int(self.clock()), 1 if previous is None else previous.timestamp)
        line = cosign(text.encode("utf-8"), self.name, self.key, timestamp)
        tx.record(
            previous,
            Cosigned(
                origin=checkpoint.origin,
                size=checkpoint.size,
                root=checkpoint.root,
                timestamp=timestamp,
                note=f"{text}\n{log_lines}{line}",
            ),
        )
        return Answer(200, line)

    def latest_note(self, origin_hash: str) -> Answer:
        """The monitoring endpoint: the latest cosigned checkpoint of the log whose origin
        hashes (SHA-256, lowercase hex) to `origin_hash`."""
        for origin in self.logs:
            if sha256(origin.encode("utf-8")).hex() == origin_hash:
                latest = self.store.latest(origin)
                if latest is not None:
                    return Answer(200, latest.note)
        return _problem(404, "not_cosigned", "this witness has cosigned no checkpoint of that log")


def _inconsistency(
    request: AddCheckpoint, checkpoint: Checkpoint, previous: Cosigned | None
) -> str | None:
    """Why the checkpoint is not consistent with the recorded one (the old size), or None."""
    if checkpoint.size == 0 and checkpoint.root != merkle.EMPTY_ROOT:
        return "a checkpoint of size 0 must carry the empty tree's root"
    if previous is None or previous.size == 0:
        return "a consistency proof from size 0 must be empty" if request.proof else None
    if checkpoint.size == previous.size:
        if checkpoint.root != previous.root:
            return (
                f"a checkpoint of size {checkpoint.size} with another root than the one "
                "this witness cosigned: the log forked"
            )
        return "a consistency proof between equal sizes must be empty" if request.proof else None
    try:
        merkle_verify.verify_consistency(
            previous.size, checkpoint.size, previous.root, checkpoint.root, request.proof
        )
    except VerificationError as exc:
        return f"consistency proof from {previous.size} to {checkpoint.size} fails: {exc}"
    return None
