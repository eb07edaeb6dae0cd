"""One witness, one checkpoint: the log's request of c2sp.org/tlog-witness (add-checkpoint
with a consistency proof) and what its answer says (cosignatures, or the size it stands at)."""

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ledger.service.witnesses import Witness
from ledger.tlog.cosignature import verify_cosignatures
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.witness_protocol import (
    ADD_CHECKPOINT_PATH,
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    format_add_checkpoint,
    parse_size_body,
)

REQUEST_TIMEOUT_S = 5.0
# A 409 names the witness's size; after this many in one round the witness waits.
MAX_CONFLICTS = 3


@dataclass(frozen=True)
class Outcome:
    """What one witness answered to the checkpoint of `checkpoint` size: its cosignature
    lines (empty on failure) and the size it now stands at (None when unknown)."""

    witness: Witness
    checkpoint: int
    lines: tuple[str, ...]
    size: int | None
    problem: str | None = None


def submit(
    client: httpx.Client,
    witness: Witness,
    note: str,
    size: int,
    old: int,
    proof_from: Callable[[int], list[bytes]],
) -> Outcome:
    """Send the checkpoint of `size` to `witness`, from `old`, the size it stands at, with
    the consistency proof `proof_from(old)`; after a 409, again from the size it names
    (c2sp.org/tlog-witness)."""

    def failed(stands_at: int | None, problem: str) -> Outcome:
        return Outcome(witness, size, (), stands_at, f"witness {witness.name} {problem}")

    for _ in range(MAX_CONFLICTS):
        if old > size:
            return failed(
                old,
                f"has cosigned size {old}, beyond the log's {size}: it was shown another "
                "history of this log, or this database was rolled back",
            )
        proof = proof_from(old)
        body = format_add_checkpoint(AddCheckpoint(old, tuple(proof), note))
        try:
            answer = client.post(
                f"{witness.url}{ADD_CHECKPOINT_PATH}",
                content=body,
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            return failed(None, f"unreachable: {exc}")
        if answer.status_code == 409:
            reported = _reported_size(answer)
            if reported is None:
                return failed(None, "answered 409 without a size")
            old = reported
            continue
        if answer.status_code != 200:
            reason = f"{answer.status_code} {answer.text[:200].strip()}"
            return failed(old, f"refused checkpoint {size} (from {old}): {reason}")
        lines = _cosignature_lines(answer.text, note, witness)
        if not lines:
            return failed(old, "answered no valid cosignature")
        return Outcome(witness, size, lines, size)
    return failed(old, f"answered 409 {MAX_CONFLICTS} times in a row")


def _reported_size(answer: httpx.Response) -> int | None:
    """The witness's size from a 409 (c2sp.org/tlog-witness: `<size>\\n`, text/x.tlog.size)."""
    if not answer.headers.get("content-type", "").startswith(SIZE_CONTENT_TYPE):
        return None
    try:
        return parse_size_body(answer.text)
    except EncodingError:
        return None


def _cosignature_lines(answer: str, note: str, witness: Witness) -> tuple[str, ...]:
    """The lines of a 200 answer that are valid cosignatures of `note` by `witness`."""
    found = []
    for line in answer.split("\n"):
        if not line:
            continue
        try:
            if witness.key.name in verify_cosignatures(f"{note}{line}\n", [witness.key]):
                found.append(line)
        except (EncodingError, VerificationError):
            continue
    return tuple(found)
