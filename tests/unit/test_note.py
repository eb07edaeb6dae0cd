"""C2SP signed notes and tlog checkpoints, against Go's sumdb/note vectors."""

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.encoding import b64encode
from ledger.tlog.errors import EncodingError, VerificationError
from ledger.tlog.keys import (
    parse_signer_key,
    parse_verifier_key,
    raw_public_key,
    verifier_key,
)
from ledger.tlog.merkle import EMPTY_ROOT
from ledger.tlog.note import (
    Checkpoint,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
)
from tests.vectors import vector_cases, vector_path

GO_NOTE = ("signed-note", "go-note-vectors.json")
ORIGIN = "ree-ledger.local/log"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LOG_VKEY = verifier_key("log", raw_public_key(LOG_KEY))
ROOT = bytes(range(32))


def _go_vectors(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def go() -> Any:
    """Go's sumdb/note vectors: {"sign": ..., "open": ..., "bad_verifier_keys": ...}."""
    return _go_vectors(vector_path(*GO_NOTE))


@pytest.fixture(scope="module")
def peter(go: Any) -> Any:
    return parse_verifier_key(go["open"]["verifier_keys"][0])


def test_sign_note_reproduces_go_vector(go: Any) -> None:
    name, key = parse_signer_key(go["sign"]["signer_key"])
    assert sign_note(go["sign"]["text"], name, key) == go["sign"]["want_note"]


def test_open_note_ignores_signature_by_unknown_second_signer(go: Any, peter: Any) -> None:
    assert open_note(go["open"]["note"], [peter]) == go["open"]["want_text"]


def test_open_note_accepts_go_signed_note(go: Any, peter: Any) -> None:
    assert open_note(go["sign"]["want_note"], [peter]) == go["sign"]["text"]


def test_open_note_rejects_note_signed_only_by_unknown_keys(go: Any) -> None:
    other = parse_verifier_key(LOG_VKEY)
    with pytest.raises(VerificationError, match="no valid signature by a known key"):
        open_note(go["open"]["note"], [other])


def test_open_note_rejects_tampered_text(go: Any, peter: Any) -> None:
    note = go["open"]["note"].replace("cryptography", "cryptoqraphy")
    with pytest.raises(VerificationError, match="invalid signature by PeterNeumann"):
        open_note(note, [peter])


def test_open_note_rejects_bad_signature_by_known_key_even_beside_a_good_one(
    go: Any, peter: Any
) -> None:
    name, key = parse_signer_key(go["sign"]["signer_key"])
    forged = sign_note("other text\n", name, key).split("\n\n")[1]
    with pytest.raises(VerificationError, match="invalid signature"):
        open_note(go["sign"]["want_note"] + forged, [peter])


def test_open_note_accepts_repeated_signature_line(go: Any, peter: Any) -> None:
    line = go["sign"]["want_note"].split("\n\n")[1]
    assert open_note(go["sign"]["want_note"] + line, [peter]) == go["sign"]["text"]


@pytest.mark.parametrize(
    "vkey", vector_cases(lambda path: _go_vectors(path)["bad_verifier_keys"], *GO_NOTE)
)
def test_parse_verifier_key_rejects_malformed_go_vector(vkey: str) -> None:
    with pytest.raises(EncodingError):
        parse_verifier_key(vkey)


@pytest.mark.parametrize(
    "note",
    [
        "text\n— PeterNeumann AAAA\n",
        "text\n\n- PeterNeumann x08go/ZJ\n",
        "text\n\n— PeterNeumann\n",
        "text\n\n— PeterNeumann x08g\n",
        "text\n\n— PeterNeumann x08go/ZJ",
        "text\n\n",
        "te\x00xt\n\n— PeterNeumann x08go/ZJ\n",
        "text\n\n— PeterNeumann x08go/ZJ\n\n",
    ],
    ids=[
        "no-blank-line",
        "hyphen-not-em-dash",
        "no-signature",
        "signature-too-short",
        "no-final-newline",
        "no-signature-lines",
        "control-character",
        "empty-signature-line",
    ],
)
def test_open_note_rejects_malformed_note(note: str, peter: Any) -> None:
    with pytest.raises(VerificationError):
        open_note(note, [peter])


def test_sign_note_rejects_text_without_final_newline() -> None:
    with pytest.raises(EncodingError, match="end with a newline"):
        sign_note("text", "log", LOG_KEY)


def test_sign_note_rejects_invalid_key_name() -> None:
    with pytest.raises(EncodingError, match="invalid key name"):
        sign_note("text\n", "log key", LOG_KEY)


def test_checkpoint_body_is_origin_size_root_then_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 5, ROOT, ("ext one",))
    assert checkpoint.body() == f"{ORIGIN}\n5\n{b64encode(ROOT)}\next one\n"


def test_checkpoint_parse_round_trip() -> None:
    checkpoint = Checkpoint(ORIGIN, 2**64 - 1, ROOT, ("a", "b"))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_checkpoint_of_empty_tree() -> None:
    checkpoint = Checkpoint.parse(f"{ORIGIN}\n0\n{b64encode(EMPTY_ROOT)}\n")
    assert (checkpoint.size, checkpoint.root) == (0, EMPTY_ROOT)


@pytest.mark.parametrize(
    "body",
    [
        f"{ORIGIN}\n5\n{b64encode(ROOT)}",
        f"{ORIGIN}\n5\n",
        f"\n5\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n05\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n+5\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n-1\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n\u0665\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n{2**64}\n{b64encode(ROOT)}\n",
        f"{ORIGIN}\n5\n{b64encode(ROOT)[:-1]}\n",
        f"{ORIGIN}\n5\n{b64encode(ROOT[:31])}\n",
        f"{ORIGIN}\n5\n{b64encode(ROOT)}\n\n",
    ],
    ids=[
        "no-final-newline",
        "no-root-line",
        "empty-origin",
        "leading-zero",
        "plus-sign",
        "negative-size",
        "non-ascii-digit",
        "size-beyond-uint64",
        "bad-base64-root",
        "short-root",
        "empty-extension-line",
    ],
)
def test_checkpoint_parse_rejects_malformed_body(body: str) -> None:
    with pytest.raises(EncodingError):
        Checkpoint.parse(body)


def test_signed_checkpoint_opens_with_log_verifier_key() -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    note = sign_checkpoint(checkpoint, "log", LOG_KEY)
    assert note.startswith(checkpoint.body() + "\n— log ")
    assert open_checkpoint(note, LOG_VKEY) == checkpoint
    assert open_checkpoint(note, LOG_VKEY, origin=ORIGIN) == checkpoint


def test_open_checkpoint_rejects_other_origin() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), "log", LOG_KEY)
    with pytest.raises(VerificationError, match="origin"):
        open_checkpoint(note, LOG_VKEY, origin="elsewhere.example/log")


def test_open_checkpoint_rejects_other_log_key() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), "log", LOG_KEY)
    other = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(VerificationError):
        open_checkpoint(note, verifier_key("log", raw_public_key(other)))


def test_open_checkpoint_rejects_signed_note_that_is_not_a_checkpoint() -> None:
    note = sign_note("just text\n", "log", LOG_KEY)
    with pytest.raises(VerificationError, match="not a valid checkpoint"):
        open_checkpoint(note, LOG_VKEY)


def test_open_checkpoint_rejects_malformed_verifier_key_as_encoding_error() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 7, ROOT), "log", LOG_KEY)
    with pytest.raises(EncodingError):
        open_checkpoint(note, "log+00000000+AA==")


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        (ORIGIN, -1, ROOT, ()),
        (ORIGIN, 1, b"", ()),
        (ORIGIN, 1, ROOT, ("",)),
        (ORIGIN, 1, ROOT, ("a\nb",)),
    ],
    ids=[
        "empty-origin",
        "multi-line-origin",
        "negative-size",
        "short-root",
        "empty-extension",
        "multi-line-extension",
    ],
)
def test_checkpoint_refuses_fields_it_could_not_write(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(EncodingError):
        Checkpoint(origin, size, root, extensions)
