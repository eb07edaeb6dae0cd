"""c2sp.org/tlog-proof: an entry's index, inclusion proof and signed checkpoint, as text."""

import re
from dataclasses import dataclass

from ledger.tlog import merkle, merkle_verify
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.note import MAX_TREE_SIZE, Checkpoint, open_checkpoint

HEADER = "c2sp.org/tlog-proof@v1"
EXTRA_PREFIX = "extra "
INDEX_PREFIX = "index "
# Go's sumdb/note bounds a note to 1 MB; a proof adds at most 64 hashes to one.
MAX_PROOF_SIZE = 1_100_000

# Indices are uint64, as in transparency-dev/formats; the bound also keeps int() cheap.
MAX_INDEX_DIGITS = 20
_INDEX = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TlogProof:
    """An offline proof that entry `index` is in the tree a signed checkpoint commits to.

    `checkpoint` is the signed note, verbatim; `extra` is opaque, unauthenticated data.
    """

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


def format_tlog_proof(proof: TlogProof) -> str:
    """Write `proof` in the c2sp.org/tlog-proof@v1 text form."""
    if proof.index < 0:
        raise EncodingError(f"tlog-proof index must not be negative, got {proof.index}")
    for position, value in enumerate(proof.hashes):
        if len(value) != merkle.HASH_SIZE:
            raise EncodingError(f"tlog-proof hash {position} must be 32 bytes, got {len(value)}")
    lines = [HEADER]
    if proof.extra is not None:
        lines.append(EXTRA_PREFIX + b64encode(proof.extra))
    lines.append(f"{INDEX_PREFIX}{proof.index}")
    lines.extend(b64encode(value) for value in proof.hashes)
    return "".join(line + "\n" for line in lines) + "\n" + proof.checkpoint


def parse_tlog_proof(text: str) -> TlogProof:
    """Read a c2sp.org/tlog-proof@v1 text strictly; raise EncodingError naming the bad line."""
    if len(text) > MAX_PROOF_SIZE:
        raise EncodingError(f"tlog-proof is larger than {MAX_PROOF_SIZE} characters")
    head, blank, checkpoint = text.partition("\n\n")
    if not blank:
        raise EncodingError("tlog-proof has no blank line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise EncodingError(f"tlog-proof must start with {HEADER!r}, not {lines[0][:40]!r}")
    extra = None
    rest = lines[1:]
    if rest and rest[0].startswith(EXTRA_PREFIX):
        extra = _decode(rest[0].removeprefix(EXTRA_PREFIX), "extra data")
        rest = rest[1:]
    if not rest or not rest[0].startswith(INDEX_PREFIX):
        raise EncodingError("tlog-proof needs an 'index N' line after its header")
    index_text = rest[0].removeprefix(INDEX_PREFIX)
    if not _INDEX.fullmatch(index_text) or len(index_text) > MAX_INDEX_DIGITS:
        raise EncodingError(
            f"tlog-proof index is not a decimal without leading zeros: {index_text[:40]!r}"
        )
    index = int(index_text)
    if index > MAX_TREE_SIZE:
        raise EncodingError(f"tlog-proof index {index} is beyond a uint64")
    hashes = tuple(_hash(line, position) for position, line in enumerate(rest[1:]))
    return TlogProof(index, hashes, checkpoint, extra)


def verify_tlog_proof(
    proof: TlogProof, leaf_hash: bytes, vkey: str, *, origin: str | None = None
) -> Checkpoint:
    """Check the checkpoint's signature by `vkey` and the leaf's inclusion in its tree.

    Returns the opened checkpoint; raises VerificationError if either fails (EncodingError for
    a malformed `vkey`).
    """
    checkpoint = open_checkpoint(proof.checkpoint, vkey, origin=origin)
    merkle_verify.verify_inclusion(
        proof.index, checkpoint.size, leaf_hash, proof.hashes, checkpoint.root
    )
    return checkpoint


def _hash(line: str, position: int) -> bytes:
    value = _decode(line, f"proof hash {position}")
    if len(value) != merkle.HASH_SIZE:
        raise EncodingError(f"tlog-proof hash {position} is {len(value)} bytes, want 32")
    return value


def _decode(text: str, what: str) -> bytes:
    try:
        return b64decode(text)
    except EncodingError as exc:
        raise EncodingError(f"tlog-proof {what}: {exc}") from exc


def check_tlog_proof(
    text: str, index: int, leaf_hash: bytes, vkey: str, *, origin: str | None = None
) -> Checkpoint:
    """Parse a tlog-proof text and check that it proves leaf `leaf_hash` at `index`."""
    proof = parse_tlog_proof(text)
    if proof.index != index:
        raise VerificationError(f"the tlog-proof is for entry {proof.index}, not {index}")
    return verify_tlog_proof(proof, leaf_hash, vkey, origin=origin)
