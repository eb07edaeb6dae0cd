"""C2SP signed notes (c2sp.org/signed-note) and tlog checkpoints (c2sp.org/tlog-checkpoint)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import (
    KEY_HASH_SIZE,
    Verifier,
    is_valid_name,
    key_hash,
    parse_verifier_key,
    raw_public_key,
    verify,
)
from ledger.tlog.merkle import HASH_SIZE

SIGNATURE_PREFIX = "— "  # an em dash (U+2014) and a space
# Limits from Go's sumdb/note: parsing work stays bounded whatever a server sends.
MAX_NOTE_SIZE = 1_000_000
MAX_SIGNATURES = 100
MAX_TREE_SIZE = 2**64 - 1

_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
# Control characters other than newline are forbidden anywhere in a note.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Checkpoint:
    """A tlog checkpoint: the log's origin, its tree size and root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse fields that body() could not write as a parseable checkpoint."""
        if not self.origin or "\n" in self.origin:
            raise EncodingError(f"checkpoint origin must be one non-empty line: {self.origin!r}")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise EncodingError(f"checkpoint tree size out of range: {self.size}")
        if len(self.root) != HASH_SIZE:
            raise EncodingError(f"checkpoint root must be {HASH_SIZE} bytes, got {len(self.root)}")
        for line in self.extensions:
            if not line or "\n" in line:
                raise EncodingError(f"checkpoint extension must be one non-empty line: {line!r}")

    def body(self) -> str:
        """Return the note text: origin, size and base64 root lines, then extension lines."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> "Checkpoint":
        """Parse a checkpoint note text; raise EncodingError if it is malformed."""
        if not body.endswith("\n"):
            raise EncodingError("checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise EncodingError("checkpoint needs origin, tree size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _TREE_SIZE.fullmatch(size_text):
            raise EncodingError(f"checkpoint tree size is not a decimal number: {size_text!r}")
        return cls(origin, int(size_text), b64decode(root_text), tuple(extensions))


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """Sign note text `body` as key `name`; return the note with its signature line."""
    _check_text(body, error=EncodingError)
    if not is_valid_name(name):
        raise EncodingError(f"invalid key name {name!r}: must be non-empty, no spaces, no '+'")
    signature = key.sign(body.encode("utf-8"))
    stamp = key_hash(name, raw_public_key(key)) + signature
    return f"{body}\n{SIGNATURE_PREFIX}{name} {b64encode(stamp)}\n"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: the key name and the decoded key hash || signature."""

    name: str
    stamp: bytes


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (ending in its newline) and its signature lines.

    Checks the form only (size, characters, blank line, 1 to MAX_SIGNATURES well-formed lines),
    no signature; anything malformed raises VerificationError.
    """
    if len(note) > MAX_NOTE_SIZE:
        raise VerificationError(f"note is larger than {MAX_NOTE_SIZE} characters")
    _check_text(note, error=VerificationError)
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: no blank line before the signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    signature_lines = signatures[:-1].split("\n")  # _check_text made sure it ends in "\n"
    if not signatures or len(signature_lines) > MAX_SIGNATURES:
        raise VerificationError(f"note must carry 1 to {MAX_SIGNATURES} signature lines")
    return text, [NoteSignature(*_parse_signature_line(line)) for line in signature_lines]


def open_note(note: str, verifiers: Sequence[Verifier]) -> str:
    """Verify a signed note against known verifiers and return its text.

    As Go's note.Open: signatures by unknown keys are ignored; a malformed note, any bad
    signature by a known key, or no valid signature by a known key raises VerificationError.
    """
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    verified: set[NoteSignature] = set()
    for signature in signatures:
        name, stamp = signature.name, signature.stamp
        verifier = _find_verifier(verifiers, name, stamp[:KEY_HASH_SIZE])
        # Unlike Go, which keeps the first signature per key, every distinct line by a
        # known key is checked, so a bad one is caught wherever it stands.
        if verifier is None or signature in verified:
            continue
        try:
            verify(verifier.public_key, stamp[KEY_HASH_SIZE:], message)
        except VerificationError as exc:
            raise VerificationError(f"invalid signature by {name} on note") from exc
        verified.add(signature)
    if not verified:
        known = ", ".join(v.name for v in verifiers) or "none"
        raise VerificationError(f"note has no valid signature by a known key (known: {known})")
    return text


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: Ed25519PrivateKey) -> str:
    """Return `checkpoint` as a note signed by key `name`."""
    return sign_note(checkpoint.body(), name, key)


def open_checkpoint(note: str, vkey: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint note against verifier key `vkey` and parse it.

    A malformed `vkey` raises EncodingError (a configuration error); anything wrong with the
    note, including a signed body that is not a checkpoint or names another `origin`,
    raises VerificationError.
    """
    body = open_note(note, [parse_verifier_key(vkey)])
    try:
        checkpoint = Checkpoint.parse(body)
    except EncodingError as exc:
        raise VerificationError(f"signed note is not a valid checkpoint: {exc}") from exc
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(f"checkpoint origin {checkpoint.origin!r}, want {origin!r}")
    return checkpoint


def _check_text(text: str, *, error: type[Exception]) -> None:
    if not text.endswith("\n"):
        raise error("note text must be non-empty and end with a newline")
    if _CONTROL.search(text):
        raise error("note text must not contain control characters other than newline")


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise VerificationError(f"malformed note signature line: {line[:60]!r}")
    name, _, encoded = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    try:
        stamp = b64decode(encoded)
    except EncodingError as exc:
        raise VerificationError(f"malformed note signature by {name!r}: {exc}") from exc
    if not is_valid_name(name) or len(stamp) <= KEY_HASH_SIZE:
        raise VerificationError(f"malformed note signature line: {line[:60]!r}")
    return name, stamp


def _find_verifier(verifiers: Sequence[Verifier], name: str, hash_: bytes) -> Verifier | None:
    return next((v for v in verifiers if v.name == name and v.key_hash == hash_), None)
