"""The wire form of c2sp.org/tlog-witness: the add-checkpoint request and the 409 size body.

Request body: `old <size>\\n`, zero to 63 base64 consistency-proof hashes one per line, an
empty line, then the signed checkpoint note. A 409 answer's body (`text/x.tlog.size`) is the
witness's latest cosigned size in decimal and a newline.
"""

import re
from dataclasses import dataclass

from ledger.tlog import merkle
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError
from ledger.tlog.note import MAX_NOTE_SIZE, MAX_TREE_SIZE

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
OLD_PREFIX = "old "
# The old size line, 63 proof lines of 45 bytes and the note: nothing valid is larger.
MAX_REQUEST_SIZE = 32 + MAX_PROOF_LINES * 45 + 1 + MAX_NOTE_SIZE * 4  # a note is ≤ 4 B per char

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request: the size the client believes the witness holds, the
    consistency proof from it, and the signed checkpoint note (verbatim)."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def format_add_checkpoint(request: AddCheckpoint) -> bytes:
    """The request body for POST <prefix>/add-checkpoint."""
    _check_size(request.old_size, "old size")
    if len(request.proof) > MAX_PROOF_LINES:
        raise EncodingError(f"{len(request.proof)} proof hashes, at most {MAX_PROOF_LINES}")
    for position, value in enumerate(request.proof):
        if len(value) != merkle.HASH_SIZE:
            raise EncodingError(f"proof hash {position} is {len(value)} bytes, want 32")
    lines = [f"{OLD_PREFIX}{request.old_size}", *(b64encode(value) for value in request.proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + request.note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Read a request body strictly; EncodingError names what is malformed (a 400)."""
    if len(body) > MAX_REQUEST_SIZE:
        raise EncodingError(f"request body larger than {MAX_REQUEST_SIZE} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"request body is not UTF-8: {exc.reason}") from exc
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise EncodingError("no empty line between the proof and the checkpoint")
    lines = head.split("\n")
    old_line, proof_lines = lines[0], lines[1:]
    old_text = old_line.removeprefix(OLD_PREFIX)
    if not old_line.startswith(OLD_PREFIX) or not _DECIMAL.fullmatch(old_text):
        raise EncodingError(
            f"first line must be 'old <size>' in decimal without leading zeros: {old_line[:40]!r}"
        )
    old_size = int(old_text)
    _check_size(old_size, "old size")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise EncodingError(f"{len(proof_lines)} proof lines, at most {MAX_PROOF_LINES}")
    proof = tuple(_proof_hash(line, position) for position, line in enumerate(proof_lines))
    if not note:
        raise EncodingError("no checkpoint after the empty line")
    return AddCheckpoint(old_size=old_size, proof=proof, note=note)


def format_size_body(size: int) -> str:
    """The body of a 409 answer: the witness's latest cosigned size."""
    _check_size(size, "size")
    return f"{size}\n"


def parse_size_body(text: str) -> int:
    """The size in a 409 answer's body; EncodingError if it is not `<decimal>\\n`."""
    digits = text.removesuffix("\n")
    if not text.endswith("\n") or not _DECIMAL.fullmatch(digits):
        raise EncodingError(f"a tlog size body is '<decimal>\\n', not {text[:40]!r}")
    size = int(digits)
    _check_size(size, "size")
    return size


def _proof_hash(line: str, position: int) -> bytes:
    try:
        value = b64decode(line)
    except EncodingError as exc:
        raise EncodingError(f"proof line {position + 1}: {exc}") from exc
    if len(value) != merkle.HASH_SIZE:
        raise EncodingError(f"proof line {position + 1} is {len(value)} bytes, want 32")
    return value


def _check_size(size: int, what: str) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise EncodingError(f"{what} out of range 0 … 2**64-1: {size}")
