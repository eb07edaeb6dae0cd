"""ledger/verify/cosigned.py: audit steps (18) and (19), case by case (pure, no database)."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import merkle
from ledger.tlog.cosignature import cosign, parse_witness_vkey, witness_vkey
from ledger.tlog.keys import raw_public_key, verifier_key
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.verify.cosigned import (
    ShownCheckpoint,
    check_shown_checkpoint,
    check_stored_cosignature,
)
from ledger.verify.stored import AuditFailure

ORIGIN = "cosigned.example/log"
LOG_KEY = Ed25519PrivateKey.generate()
LOG_VKEY = verifier_key(ORIGIN, raw_public_key(LOG_KEY))
WITNESS = "w.example/one"
WITNESS_KEY = Ed25519PrivateKey.generate()
WITNESS_VKEY = witness_vkey(WITNESS, raw_public_key(WITNESS_KEY))
LEAVES = [merkle.leaf_hash(bytes([n])) for n in range(8)]


def _root(size: int, leaves: list[bytes] = LEAVES) -> bytes:
    return merkle.root_from_leaves(leaves[:size])


def _note(size: int, root: bytes | None = None, key: Ed25519PrivateKey = LOG_KEY) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, root or _root(size)), ORIGIN, key)


def _cosigned(note: str, key: Ed25519PrivateKey = WITNESS_KEY) -> str:
    body = note.partition("\n\n")[0] + "\n"
    return note + cosign(body.encode(), WITNESS, key, 1_765_000_000)


def _shown(note: str, log_size: int = 8) -> ShownCheckpoint:
    witnesses = [parse_witness_vkey(WITNESS_VKEY)]
    return check_shown_checkpoint("shown.note", note, LOG_VKEY, ORIGIN, witnesses, log_size, _root)


def test_a_cosigned_checkpoint_the_log_has_passes_and_names_its_cosigner() -> None:
    assert _shown(_cosigned(_note(5))) == ShownCheckpoint("shown.note", 5, {WITNESS: 1_765_000_000})


def test_a_checkpoint_of_another_history_is_a_forked_view() -> None:
    other = [merkle.leaf_hash(b"other %d" % n) for n in range(8)]
    with pytest.raises(AuditFailure, match=r"step \(19\): shown.note: checkpoint of size 5 "):
        _shown(_cosigned(_note(5, _root(5, other))))
    with pytest.raises(AuditFailure, match="a forked view"):
        _shown(_cosigned(_note(5, _root(5, other))))


def test_a_checkpoint_beyond_the_log_is_refused() -> None:
    with pytest.raises(AuditFailure, match="beyond the log's 4 entries"):
        _shown(_cosigned(_note(5)), log_size=4)


def test_a_checkpoint_not_signed_by_the_log_key_is_refused() -> None:
    with pytest.raises(AuditFailure, match="not a checkpoint signed by the log key"):
        _shown(_cosigned(_note(5, key=Ed25519PrivateKey.generate())))


def test_a_bad_line_by_a_trusted_witness_is_refused() -> None:
    forged = _cosigned(_note(5), key=Ed25519PrivateKey.generate())  # its name, another key:
    # the key id differs, so the line is not the trusted witness's and is ignored...
    assert _shown(forged).cosigners == {}
    line = _cosigned(_note(5)).rsplit("\n", 2)[1]
    name, stamp = line.removeprefix("— ").split(" ")
    flipped = stamp[:-6] + ("A" if stamp[-6] != "A" else "B") + stamp[-5:]
    with pytest.raises(AuditFailure, match=r"invalid cosignature by w\.example/one"):
        _shown(f"{_note(5)}— {name} {flipped}\n")  # ...but its own key id with a bad signature


def test_a_stored_cosignature_is_checked_against_the_stored_checkpoint() -> None:
    note = _note(5)
    line = _cosigned(note).rsplit("\n", 2)[1]
    assert check_stored_cosignature(5, WITNESS_VKEY, line, note) == WITNESS
    with pytest.raises(AuditFailure, match="no checkpoint of that size is stored"):
        check_stored_cosignature(5, WITNESS_VKEY, line, None)
    with pytest.raises(AuditFailure, match="invalid cosignature"):
        check_stored_cosignature(6, WITNESS_VKEY, line, _note(6))
    with pytest.raises(AuditFailure, match="its witness key"):
        check_stored_cosignature(5, WITNESS_VKEY[:-2], line, note)
    other = witness_vkey("w.example/two", raw_public_key(Ed25519PrivateKey.generate()))
    with pytest.raises(AuditFailure, match=r"not a cosignature by w\.example/two"):
        check_stored_cosignature(5, other, line, note)
