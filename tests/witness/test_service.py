"""The witness's answers (c2sp.org/tlog-witness), in process, on its real SQLite state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog import keys, merkle
from ledger.tlog.cosignature import cosign, parse_witness_vkey, verify_cosignatures, witness_vkey
from ledger.tlog.encoding import b64encode, sha256
from ledger.tlog.note import Checkpoint, sign_checkpoint
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint, parse_size_body
from ledger.witness.home import WitnessHome, init_witness
from ledger.witness.service import Answer, Witness
from ledger.witness.store import WitnessStore
from tests.witness.logs import ORIGIN, Log
from tests.witness.spec import cosignature_time

NAME = "witness.test/w1"


class Clock:
    def __init__(self, now: float = 1_800_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def home(tmp_path: Path) -> WitnessHome:
    init_witness(tmp_path / "w", NAME)
    return WitnessHome(tmp_path / "w")


@pytest.fixture
def log() -> Log:
    return Log.make(size=5)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _witness(home: WitnessHome, clock: Clock, *logs: Log) -> Witness:
    name, key = home.identity()
    store = WitnessStore(home.database_url)
    return Witness(name, key, [keys.parse_verifier_key(log.vkey) for log in logs], store, clock)


@pytest.fixture
def witness(home: WitnessHome, clock: Clock, log: Log) -> Iterator[Witness]:
    w = _witness(home, clock, log)
    yield w
    w.store.dispose()


def _ok(answer: Answer, log: Log, home: WitnessHome, size: int | None = None) -> int:
    """A 200 whose body is one cosignature line on the log's checkpoint; its timestamp."""
    assert answer.status == 200, answer
    body = log.note(size).split("\n\n")[0] + "\n"
    return cosignature_time(body, answer.body, home.vkey())


def _size(answer: Answer) -> int:
    assert (answer.status, answer.content_type) == (409, "text/x.tlog.size"), answer
    return parse_size_body(answer.body)


def test_first_checkpoint_from_zero_is_cosigned_and_recorded(
    witness: Witness, log: Log, home: WitnessHome, clock: Clock
) -> None:
    assert _ok(witness.add_checkpoint(log.request(0)), log, home) == int(clock.now)
    latest = witness.store.latest(ORIGIN)
    assert latest is not None
    assert (latest.size, latest.root) == (5, log.root())


def test_growth_with_consistency_proofs(witness: Witness, log: Log, home: WitnessHome) -> None:
    _ok(witness.add_checkpoint(log.request(0)), log, home)
    for grow in (1, 2, 7, 16, 33):
        old = len(log.leaves)
        log.grow(grow)
        _ok(witness.add_checkpoint(log.request(old)), log, home)
    assert witness.store.latest(ORIGIN) is not None
    assert witness.store.latest(ORIGIN).size == len(log.leaves)  # type: ignore[union-attr]


def test_the_answer_appended_to_the_note_verifies_with_the_project_verifier(
    witness: Witness, log: Log, home: WitnessHome
) -> None:
    answer = witness.add_checkpoint(log.request(0))
    note = log.note() + answer.body
    assert verify_cosignatures(note, [parse_witness_vkey(home.vkey())]) == {NAME: 1_800_000_000}


def test_same_checkpoint_again_is_cosigned_again(
    witness: Witness, log: Log, home: WitnessHome
) -> None:
    _ok(witness.add_checkpoint(log.request(0)), log, home)
    _ok(witness.add_checkpoint(log.request(5)), log, home)


def test_wrong_old_size_is_409_with_the_witness_size(witness: Witness, log: Log) -> None:
    assert _size(witness.add_checkpoint(log.request(3))) == 0
    witness.add_checkpoint(log.request(0))
    log.grow(4)
    assert _size(witness.add_checkpoint(log.request(0))) == 5
    assert _size(witness.add_checkpoint(log.request(7))) == 5


def test_smaller_tree_after_larger_is_refused(witness: Witness, log: Log) -> None:
    log.grow(5)
    assert witness.add_checkpoint(log.request(0)).status == 200  # size 10
    # Claiming the witness is at 5 or 3: 409, it holds 10.
    assert _size(witness.add_checkpoint(log.request(0, size=5))) == 10
    assert _size(witness.add_checkpoint(log.request(3, size=5))) == 10
    # Telling the truth (old 10) about a smaller checkpoint: old size beyond it, 400.
    body = format_add_checkpoint(AddCheckpoint(10, (), log.note(5)))
    assert witness.add_checkpoint(body).status == 400
    assert witness.store.latest(ORIGIN).size == 10  # type: ignore[union-attr]


def test_fork_at_the_same_size_is_refused_and_kept(witness: Witness, log: Log) -> None:
    branch = log.fork()
    log.grow(3, tag="a")
    branch.grow(3, tag="b")
    assert witness.add_checkpoint(log.request(0)).status == 200
    answer = witness.add_checkpoint(branch.request(8, size=8))
    assert (answer.status, answer.code) == (422, "inconsistent_checkpoint")
    assert "forked" in answer.body
    refusals = witness.store.refusals(ORIGIN)
    assert [(r.old_size, r.size, r.note) for r in refusals] == [(8, 8, branch.note())]
    assert witness.store.latest(ORIGIN).root == log.root()  # type: ignore[union-attr]


def test_fork_grown_past_the_witness_is_refused(witness: Witness, log: Log) -> None:
    branch = log.fork()
    log.grow(3, tag="a")
    assert witness.add_checkpoint(log.request(5)).status == 409  # it holds 0
    assert witness.add_checkpoint(log.request(0)).status == 200  # now 8, branch a
    branch.grow(9, tag="b")
    # A proof from the branch's own size 8 does not lead from the root the witness holds.
    answer = witness.add_checkpoint(branch.request(8))
    assert answer.status == 422
    assert "consistency proof from 8 to 14" in answer.body
    assert witness.add_checkpoint(log.grow(2).request(8)).status == 200  # branch a goes on


def test_bad_proof_is_422(witness: Witness, log: Log) -> None:
    witness.add_checkpoint(log.request(0))
    log.grow(6)
    proof = log.proof(5)
    for bad in (proof[:-1], [*proof, proof[0]], [bytes(32), *proof[1:]], []):
        body = format_add_checkpoint(AddCheckpoint(5, tuple(bad), log.note()))
        assert witness.add_checkpoint(body).status == 422


def test_proof_from_zero_must_be_empty(witness: Witness, log: Log) -> None:
    body = format_add_checkpoint(AddCheckpoint(0, (bytes(32),), log.note()))
    assert witness.add_checkpoint(body).status == 422


def test_size_zero_checkpoint_needs_the_empty_root(
    witness: Witness, log: Log, home: WitnessHome
) -> None:
    good = sign_checkpoint(Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT), ORIGIN, log.key)
    bad = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), ORIGIN, log.key)
    assert witness.add_checkpoint(format_add_checkpoint(AddCheckpoint(0, (), bad))).status == 422
    answer = witness.add_checkpoint(format_add_checkpoint(AddCheckpoint(0, (), good)))
    assert answer.status == 200
    cosignature_time(good.split("\n\n")[0] + "\n", answer.body, home.vkey())


def test_equal_sizes_with_a_proof_is_422(witness: Witness, log: Log) -> None:
    witness.add_checkpoint(log.request(0))
    body = format_add_checkpoint(AddCheckpoint(5, (bytes(32),), log.note()))
    assert witness.add_checkpoint(body).status == 422


def test_unknown_origin_is_404(witness: Witness) -> None:
    other = Log.make(seed=2, origin="elsewhere.test/log", size=3)
    answer = witness.add_checkpoint(other.request(0))
    assert (answer.status, answer.code) == (404, "unknown_log")


def test_checkpoint_signed_by_another_key_is_403(witness: Witness, log: Log) -> None:
    impostor = Log(Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32), ORIGIN, log.leaves)
    answer = witness.add_checkpoint(impostor.request(0))
    assert (answer.status, answer.code) == (403, "bad_log_signature")
    assert witness.store.latest(ORIGIN) is None


def test_bad_signature_by_the_log_key_is_403_even_beside_a_good_one(
    witness: Witness, log: Log
) -> None:
    note = log.note()
    line = note.split("\n\n")[1]
    name, stamp = line[2:-1].split(" ")
    forged = bytearray(__import__("base64").b64decode(stamp))
    forged[-1] ^= 1
    note += f"— {name} {b64encode(bytes(forged))}\n"
    answer = witness.add_checkpoint(format_add_checkpoint(AddCheckpoint(0, (), note)))
    assert answer.status == 403


def test_other_cosignatures_on_the_note_are_ignored(
    witness: Witness, log: Log, home: WitnessHome
) -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32)
    body = log.note().split("\n\n")[0] + "\n"
    note = log.note() + cosign(body.encode(), "other.test/w", other, 5)
    answer = witness.add_checkpoint(format_add_checkpoint(AddCheckpoint(0, (), note)))
    _ok(answer, log, home)
    # The recorded note keeps the log's signature and this witness's, not the stranger's.
    latest = witness.store.latest(ORIGIN)
    assert latest is not None
    assert latest.note == log.note() + answer.body


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"old 0\n",
        b"old 00\n\nx",
        b"old -1\n\nx",
        b"new 0\n\nx",
        b"old 0\nnot base64\n\nx",
        b"old 0\n" + b64encode(bytes(31)).encode() + b"\n\nx",
        b"old 0\n\n",
        b"\xff\xfe",
    ],
)
def test_malformed_requests_are_400(witness: Witness, body: bytes) -> None:
    assert witness.add_checkpoint(body).status == 400


def test_malformed_notes_are_400(witness: Witness, log: Log) -> None:
    good = log.note()
    for note in (
        good.split("\n\n")[0] + "\n",
        "a\nb\n\n— x AAAA\n",
        good.replace("\n5\n", "\n05\n"),
    ):
        body = format_add_checkpoint(AddCheckpoint(0, (), note))
        assert witness.add_checkpoint(body).status == 400, note


def test_too_many_proof_lines_is_400(witness: Witness, log: Log) -> None:
    body = b"old 1\n" + (b64encode(bytes(32)).encode() + b"\n") * 64 + b"\n" + log.note().encode()
    assert witness.add_checkpoint(body).status == 400


def test_old_size_beyond_the_checkpoint_is_400(witness: Witness, log: Log) -> None:
    body = format_add_checkpoint(AddCheckpoint(6, (), log.note()))
    assert witness.add_checkpoint(body).status == 400


def test_state_survives_a_new_witness_on_the_same_home(
    home: WitnessHome, clock: Clock, log: Log
) -> None:
    first = _witness(home, clock, log)
    assert first.add_checkpoint(log.request(0)).status == 200
    first.store.dispose()
    second = _witness(home, clock, log)
    assert _size(second.add_checkpoint(log.request(0))) == 5
    branch = log.fork()
    branch.leaves[-1] = merkle.leaf_hash(b"rewritten")
    assert second.add_checkpoint(branch.request(5)).status == 422
    second.store.dispose()


def test_timestamps_never_go_back(
    witness: Witness, log: Log, home: WitnessHome, clock: Clock
) -> None:
    assert _ok(witness.add_checkpoint(log.request(0)), log, home) == 1_800_000_000
    clock.now -= 3600  # the clock is set back an hour
    log.grow(1)
    assert _ok(witness.add_checkpoint(log.request(5)), log, home) == 1_800_000_000
    clock.now += 7200
    log.grow(1)
    assert _ok(witness.add_checkpoint(log.request(6)), log, home) == 1_800_003_600


def test_logs_are_witnessed_separately(home: WitnessHome, clock: Clock, log: Log) -> None:
    other = Log.make(seed=2, origin="second.test/log", size=2)
    witness = _witness(home, clock, log, other)
    assert witness.add_checkpoint(log.request(0)).status == 200
    assert _size(witness.add_checkpoint(other.request(1))) == 0
    assert witness.add_checkpoint(other.request(0)).status == 200
    assert [(c.origin, c.size) for c in witness.store.logs()] == [(ORIGIN, 5), (other.origin, 2)]
    witness.store.dispose()


def test_two_keys_for_one_origin_are_refused(home: WitnessHome, clock: Clock, log: Log) -> None:
    twin = Log(Ed25519PrivateKey.from_private_bytes(bytes([8]) * 32), ORIGIN)
    with pytest.raises(ValueError, match="two log keys"):
        _witness(home, clock, log, twin)


def test_monitoring_endpoint_serves_the_latest_cosigned_note(
    witness: Witness, log: Log, home: WitnessHome
) -> None:
    origin_hash = sha256(ORIGIN.encode()).hex()
    assert witness.latest_note(origin_hash).status == 404
    answer = witness.add_checkpoint(log.request(0))
    served = witness.latest_note(origin_hash)
    assert (served.status, served.body) == (200, log.note() + answer.body)
    assert witness.latest_note("00" * 32).status == 404


def test_witness_vkey_is_the_home_vkey(home: WitnessHome) -> None:
    name, key = home.identity()
    assert witness_vkey(name, keys.raw_public_key(key)) == home.vkey()
