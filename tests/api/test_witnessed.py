"""Cosigned checkpoints over HTTP: GET /v1/checkpoint with and without a quorum, the bundle's
checkpoint and the lot page's witnesses.

The cosignatures here are made by the witness's own signing code (cosign) and stored as the
submitter stores them; tests/e2e/test_witnessed_log.py has the real witness processes.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.config import Settings
from ledger.home import Home
from ledger.lots.tolerances import Tolerances
from ledger.service import witnesses
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database
from ledger.store.tables import CheckpointRow, CosignatureRow
from ledger.tlog.cosignature import (
    WitnessKey,
    cosign,
    parse_witness_vkey,
    verify_cosignatures,
    witness_vkey,
)
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.keys import raw_public_key
from ledger.tlog.note import open_checkpoint, split_note
from ledger.verify.bundle import parse_bundle, verify_bundle
from tests.api.conftest import ORIGIN, Ledger
from tests.api.test_bundle import fetch, trusted
from tests.support import Party, extract


@dataclass(frozen=True)
class SigningWitness:
    name: str
    key: Ed25519PrivateKey

    @property
    def vkey(self) -> str:
        return witness_vkey(self.name, raw_public_key(self.key))

    @property
    def verifier(self) -> WitnessKey:
        return parse_witness_vkey(self.vkey)

    def cosign_stored(self, db: Database, size: int, when: int = 1_765_000_000) -> None:
        """Cosign the stored checkpoint of `size` and store the line, as the submitter does."""
        with db.write_session() as session:
            row = session.get(CheckpointRow, size)
            assert row is not None, f"no checkpoint of size {size}"
            text, _ = split_note(row.note)
            line = cosign(text.encode(), self.name, self.key, when).rstrip("\n")
            witnessstore.add_cosignatures(session, size, [(self.vkey, line)])
            session.commit()


W1 = SigningWitness("w1.witness.example", Ed25519PrivateKey.generate())
W2 = SigningWitness("w2.witness.example", Ed25519PrivateKey.generate())


@pytest.fixture
def settings(home: Home, database_url: str) -> Settings:
    # No submitter thread: the witnesses configured here are not running.
    return Settings(home=home.path, database_url=database_url, origin=ORIGIN, witness_interval=0)


def _db(ledger: Ledger) -> Database:
    db: Database = ledger.client.app.state.db  # type: ignore[attr-defined]
    return db


def _checkpoint(ledger: Ledger, **params: str) -> tuple[int, str]:
    response = ledger.client.get("/v1/checkpoint", params=params)
    assert response.status_code == 200, response.text
    note = response.text
    log_key = ledger.client.get("/v1/log").json()["log_key"]
    return open_checkpoint(note, log_key, origin=ORIGIN).size, note


def _mine(ledger: Ledger) -> Party:
    return ledger.enrol(Party("witnessed-mine"), ["mine"])


def test_with_no_witness_both_serve_the_newest_checkpoint_as_in_v1(ledger: Ledger) -> None:
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-1"))
    size, note = _checkpoint(ledger)
    assert size == ledger.size() and note.count("\n— ") == 1
    assert _checkpoint(ledger, unwitnessed="1") == (size, note)


def test_quorum_one_serves_the_newest_cosigned_checkpoint_with_every_line(
    ledger: Ledger,
) -> None:
    db = _db(ledger)
    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey, quorum=1)
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-1"))
    response = ledger.client.get("/v1/checkpoint")
    assert response.status_code == 404
    assert "unwitnessed=1" in response.json()["detail"]

    cosigned = ledger.size()
    W1.cosign_stored(db, cosigned)
    ledger.post(mine, extract(mine, "ORE-2"))
    size, note = _checkpoint(ledger)
    assert size == cosigned
    assert verify_cosignatures(note, [W1.verifier]) == {W1.name: 1_765_000_000}
    newest, plain = _checkpoint(ledger, unwitnessed="1")
    assert newest == cosigned + 1 and plain.count("\n— ") == 1


def test_quorum_two_needs_both_witnesses_on_one_checkpoint(ledger: Ledger) -> None:
    db = _db(ledger)
    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey)
    witnesses.add_witness(db, "http://127.0.0.1:10", W2.vkey, quorum=2)
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-1"))
    first = ledger.size()
    W1.cosign_stored(db, first)
    W2.cosign_stored(db, first)
    ledger.post(mine, extract(mine, "ORE-2"))
    W1.cosign_stored(db, ledger.size())  # one of two: not a quorum
    size, note = _checkpoint(ledger)
    assert size == first
    assert set(verify_cosignatures(note, [W1.verifier, W2.verifier])) == {W1.name, W2.name}
    witnesses.set_quorum(db, 1)
    assert _checkpoint(ledger)[0] == ledger.size()


def test_a_removed_witness_no_longer_counts_nor_is_served(ledger: Ledger) -> None:
    db = _db(ledger)
    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey, quorum=1)
    mine = _mine(ledger)
    ledger.post(mine, extract(mine, "ORE-1"))
    W1.cosign_stored(db, ledger.size())
    witnesses.set_quorum(db, 0)
    witnesses.remove_witness(db, W1.name)
    _, note = _checkpoint(ledger)
    assert verify_cosignatures(note, [W1.verifier]) == {}


def test_the_bundle_carries_the_cosigned_checkpoint_and_verifies_with_the_quorum(
    ledger: Ledger, cast: dict[str, Party], tmp_path: Path
) -> None:
    db = _db(ledger)
    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey)
    witnesses.add_witness(db, "http://127.0.0.1:10", W2.vkey, quorum=2)
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1"))
    covered = ledger.size()
    W1.cosign_stored(db, covered)
    W2.cosign_stored(db, covered)
    ledger.post(mine, extract(mine, "ORE-2"))  # a newer checkpoint nobody cosigned
    log_key, operator_key = trusted(ledger)
    bundle = parse_bundle(fetch(ledger, "ORE-1", cast["auditor"]))
    report = verify_bundle(
        bundle, log_key, operator_key, Tolerances(), witnesses=[W1.verifier, W2.verifier], quorum=2
    )
    assert report.ok, report.failures
    assert report.checkpoint is not None and report.checkpoint.size == covered
    assert dict(report.cosigners) == {W1.name: 1_765_000_000, W2.name: 1_765_000_000}

    # ORE-2 is newer than every cosigned checkpoint: its bundle has the newest, uncosigned.
    newer = parse_bundle(fetch(ledger, "ORE-2", cast["auditor"]))
    assert verify_bundle(newer, log_key, operator_key, Tolerances()).ok
    refused = verify_bundle(
        newer, log_key, operator_key, Tolerances(), witnesses=[W1.verifier], quorum=1
    )
    assert refused.failures[0] == (
        "checkpoint: (14) cosigned by 0 of the 1 trusted witnesses (none), fewer than the "
        "quorum of 1"
    )


def test_the_page_names_the_witnesses_or_says_there_are_none(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    db = _db(ledger)
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1"))
    page = ledger.client.get("/lots/ORE-1").text
    assert "No witness has cosigned this checkpoint" in page
    assert ledger.client.get("/v1/lots/ORE-1/provenance").json()["witnesses"] == []

    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey, quorum=1)
    W1.cosign_stored(db, ledger.size(), when=1_765_000_000)  # 2025-12-06 05:46:40 UTC
    page = ledger.client.get("/lots/ORE-1").text
    assert "No witness has cosigned" not in page
    assert "Cosigned by 1 independent witness" in page
    assert f"<strong>{W1.name}</strong>, 2025-12-06 05:46 UTC" in page
    answer = ledger.client.get("/v1/lots/ORE-1/provenance").json()
    assert answer["witnesses"] == [{"name": W1.name, "time": 1_765_000_000}]


def test_an_altered_stored_cosignature_is_said_on_the_page(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    db = _db(ledger)
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1"))
    witnesses.add_witness(db, "http://127.0.0.1:9", W1.vkey, quorum=1)
    W1.cosign_stored(db, ledger.size())
    with db.write_session() as session:
        row = session.get(CosignatureRow, (ledger.size(), W1.vkey))
        assert row is not None
        # The same witness's line over another time: its key id, a signature that fails.
        name, stamp = row.line.removeprefix("— ").split(" ")
        raw = bytearray(b64decode(stamp))
        raw[-1] ^= 1
        row.line = f"— {name} {b64encode(bytes(raw))}"
        session.commit()
    page = ledger.client.get("/lots/ORE-1").text
    assert "A witness cosignature stored with this checkpoint does not verify" in page
    assert "invalid cosignature by w1.witness.example" in page
    assert "Cosigned by" not in page
