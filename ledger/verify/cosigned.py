"""Cosigned checkpoints against the log: steps (18) stored cosignatures and (19) cosigned
checkpoints shown to the auditor (DESIGN §9.3; docs/verification.md)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ledger.tlog.cosignature import WitnessKey, parse_witness_vkey, verify_cosignatures
from ledger.tlog.encoding import b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.note import open_checkpoint
from ledger.verify.stored import AuditFailure

RootAt = Callable[[int], bytes]
"""The audited log's root at a size no larger than the log."""


def check_stored_cosignature(size: int, vkey: str, line: str, checkpoint_note: str | None) -> str:
    """(18): a stored cosignature verifies, by the witness its `vkey` names, over the stored
    checkpoint of its `size`; returns the witness's name."""
    where = f"stored cosignature of checkpoint {size}"
    if checkpoint_note is None:
        raise AuditFailure(18, f"{where}: no checkpoint of that size is stored")
    try:
        key = parse_witness_vkey(vkey)
    except EncodingError as exc:
        raise AuditFailure(18, f"{where}: its witness key: {exc}") from exc
    try:
        cosigned = verify_cosignatures(f"{checkpoint_note}{line}\n", [key])
    except VerificationError as exc:
        raise AuditFailure(18, f"{where} by {key.name}: {exc}") from exc
    if key.name not in cosigned:
        raise AuditFailure(18, f"{where}: the line is not a cosignature by {key.name}")
    return key.name


@dataclass(frozen=True)
class ShownCheckpoint:
    """A cosigned checkpoint found consistent with the log."""

    label: str
    size: int
    cosigners: dict[str, int]


def check_shown_checkpoint(
    label: str,
    note: str,
    log_vkey: str,
    origin: str,
    witnesses: Sequence[WitnessKey],
    log_size: int,
    root_at: RootAt,
) -> ShownCheckpoint:
    """(19): a checkpoint note shown to the auditor (`label` says where from), signed by the
    log key and cosigned by any of `witnesses`, is one the log has: its size is within the
    log and its root is the log's root at that size. A signed checkpoint the log does not
    have is a forked view: someone was shown another history."""
    try:
        checkpoint = open_checkpoint(note, log_vkey, origin=origin)
    except (EncodingError, VerificationError) as exc:
        raise AuditFailure(19, f"{label}: not a checkpoint signed by the log key: {exc}") from exc
    try:
        cosigners = verify_cosignatures(note, witnesses)
    except VerificationError as exc:
        raise AuditFailure(19, f"{label}: {exc}") from exc
    by = ", ".join(sorted(cosigners)) or "no given witness"
    if checkpoint.size > log_size:
        raise AuditFailure(
            19,
            f"{label}: checkpoint of size {checkpoint.size} cosigned by {by} is beyond the "
            f"log's {log_size} entries: the log signed a larger tree it does not hold (a forked "
            "view, or entries removed)",
        )
    root = root_at(checkpoint.size)
    if checkpoint.root != root:
        raise AuditFailure(
            19,
            f"{label}: checkpoint of size {checkpoint.size} cosigned by {by} has root "
            f"{b64encode(checkpoint.root)}, the log's root at that size is {b64encode(root)}: "
            "a forked view (another history signed by the log key)",
        )
    return ShownCheckpoint(label, checkpoint.size, cosigners)
