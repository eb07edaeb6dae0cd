"""Forgeries by someone who can write the database: re-signed entries, replaced checkpoints,
planted rows, an appended entry, and a rollback to an older tree.

Each is caught by `ree-ledger audit`, naming the entry or checkpoint, except the rollback: a
log that was valid at a smaller size is still valid, and only a client holding a later
checkpoint can tell (its consistency check fails, and it keeps two signed notes as proof).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, update

from api.app import create_app
from ledger.config import Settings
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from ledger.tlog import keys, merkle, merkle_verify
from ledger.tlog.encoding import b64decode, b64encode, canonical
from ledger.tlog.envelope import sign_envelope
from ledger.tlog.errors import VerificationError
from ledger.tlog.note import Checkpoint, open_checkpoint, sign_checkpoint
from tests.reliability.conftest import Audit
from tests.reliability.tampering import (
    ORIGIN,
    LedgerCopies,
    Populated,
    connect,
    pick_row,
    recompute_tree,
    table,
)
from tests.support import Party, extract


def _entry(connection: Connection, index: int) -> dict[str, Any]:
    return pick_row(connection, "entries", "idx", {"idx": index})


def _resign(connection: Connection, index: int, signer: Party) -> None:
    """Re-sign entry `index`'s payload with `signer`'s key; recompute every column of it."""
    stored = json.loads(bytes(_entry(connection, index)["envelope"]))
    payload = b64decode(stored["payload"])
    envelope = sign_envelope(payload, signer.key, signer.keyid).to_json()
    leaf = canonical(envelope)
    entries = table("entries")
    connection.execute(
        update(entries)
        .where(entries.c.idx == index)
        .values(envelope=leaf, leaf_hash=merkle.leaf_hash(leaf), keyid=signer.keyid)
    )


def test_an_entry_resigned_by_another_participants_key_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies]
) -> None:
    """Entry 10 (the mine's transform) signed again by the exporter's registered key: a valid
    Ed25519 signature, but by a key the actor does not own."""
    ledger, _ = populated
    with connect(damaged) as connection:
        _resign(connection, 10, ledger.cast.exporter)
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    assert "entry 10: step (4)" in result.output, result.output
    assert "belongs to 'exporter-c', not to the actor 'mine-a'" in result.output


def test_an_entry_resigned_by_the_actors_other_key_with_the_tree_rebuilt_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies]
) -> None:
    """Entry 9, signed again by the mine's second key (valid there): signature, custody, and
    every tree node and the head recomputed; only the signed checkpoints give it away."""
    ledger, _ = populated
    with connect(damaged) as connection:
        _resign(connection, 9, ledger.cast.mine_second_key)
        recompute_tree(connection)
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    assert "step (8): checkpoint at size 10 signs root" in result.output, result.output
    assert "entries 8..9 give" in result.output


def test_a_checkpoint_signed_by_another_key_is_named(audit: Audit, damaged: str) -> None:
    """Same origin, size and root, signed by a key the auditor does not trust."""
    with connect(damaged) as connection:
        row = pick_row(connection, "checkpoints", "size", {"size": 13})
        forged = sign_checkpoint(
            Checkpoint(ORIGIN, 13, bytes(row["root"])), ORIGIN, keys.generate_private_key()
        )
        _set_note(connection, 13, forged)
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    assert "step (8): checkpoint at size 13:" in result.output, result.output


def test_a_checkpoint_replaced_by_a_genuine_one_of_another_size_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies]
) -> None:
    ledger, _ = populated
    with connect(damaged) as connection:
        _set_note(connection, 13, ledger.checkpoints[12])
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    assert "checkpoint stored at size 13 says" in result.output and "size 12" in result.output


def test_a_checkpoint_resigned_with_the_log_key_over_another_root_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies]
) -> None:
    """Even the log key's holder cannot make a stored checkpoint disagree with the entries."""
    ledger, _ = populated
    root = bytes(32)
    note = sign_checkpoint(Checkpoint(ORIGIN, 13, root), ORIGIN, ledger.identity.log_key)
    with connect(damaged) as connection:
        _set_note(connection, 13, note, root)
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    assert "checkpoint at size 13 signs root" in result.output, result.output


def _set_note(connection: Connection, size: int, note: str, root: bytes | None = None) -> None:
    checkpoints = table("checkpoints")
    values: dict[str, object] = {"note": note}
    if root is not None:
        values["root"] = root
    connection.execute(update(checkpoints).where(checkpoints.c.size == size).values(values))


def test_an_entry_appended_without_the_log_key_is_named(
    audit: Audit, damaged: str, populated: tuple[Populated, LedgerCopies]
) -> None:
    """A validly signed extract appended with all its derived rows (by the ledger's own code),
    but no checkpoint can be signed for it without the log key."""
    ledger, _ = populated
    db = Database(damaged)
    try:
        envelope = ledger.cast.mine.envelope(extract(ledger.cast.mine, "ORE-FORGED"))
        ingest(db, ledger.identity, [envelope], datetime.now(UTC))
    finally:
        db.dispose()
    checkpoints = table("checkpoints")
    with connect(damaged) as connection:
        connection.execute(checkpoints.delete().where(checkpoints.c.size == ledger.size + 1))
    result = audit(damaged)
    assert result.exit_code == 1, result.output
    named = f"entry {ledger.size}: step (10): entries after index {ledger.size - 1} are not covered"
    assert named in result.output, result.output


@pytest.mark.parametrize(
    ("name", "row", "named"),
    [
        pytest.param(
            "tree_nodes", {"level": 0, "idx": 500, "hash": bytes(32)}, "tree nodes", id="node"
        ),
        pytest.param(
            "lot_events", {"lot": "ORE-1", "idx": 500}, "('ORE-1', entry 500)", id="lot-event"
        ),
    ],
)
def test_a_row_planted_beyond_the_log_is_named(
    audit: Audit, damaged: str, name: str, row: dict[str, Any], named: str
) -> None:
    """A planted future row would make the append that reaches it fail (a primary-key clash)."""
    with connect(damaged) as connection:
        connection.execute(table(name).insert().values(row))
    result = audit(damaged)
    assert result.exit_code == 1 and named in result.output, result.output


def _client_verifies_consistency(client: TestClient, held: Checkpoint, vkey: str) -> None:
    """What a client does with the checkpoint it holds when it sees the log again
    (verification.md §3): the newer checkpoint must extend it."""
    latest = open_checkpoint(client.get("/v1/checkpoint").text, vkey, origin=ORIGIN)
    if latest.size < held.size:
        raise VerificationError(f"the log shrank from {held.size} to {latest.size}: rollback")
    answer = client.get(
        "/v1/proofs/consistency", params={"first": held.size, "second": latest.size}
    )
    if answer.status_code != 200:
        raise VerificationError(f"no consistency proof: {answer.json()['detail']}")
    proof = [b64decode(h) for h in answer.json()["hashes"]]
    merkle_verify.verify_consistency(held.size, latest.size, held.root, latest.root, proof)


def test_a_rollback_passes_the_audit_but_not_a_client_holding_a_later_checkpoint(
    audit: Audit, populated: tuple[Populated, LedgerCopies]
) -> None:
    ledger, copies = populated
    held = open_checkpoint(ledger.checkpoints[ledger.size], ledger.log_vkey)
    assert held.size == ledger.size > ledger.rollback_size
    with copies.copy(ledger.rollback_url) as rolled_back:
        # The older tree is a valid log: the audit cannot know a later one was given out.
        result = audit(rolled_back)
        assert result.exit_code == 0, result.output
        assert f"audit ok: {ledger.rollback_size} entries" in result.output
        settings = Settings(home=ledger.home, database_url=rolled_back, origin=ORIGIN)
        app = create_app(settings)
        try:
            with TestClient(app) as client:
                # Straight after the restore, the log is smaller than the client's checkpoint.
                with pytest.raises(VerificationError, match="rollback"):
                    _client_verifies_consistency(client, held, ledger.log_vkey)
                # The log grows back to the client's size with other entries: a fork.
                mine = ledger.cast.mine
                envelopes = [
                    mine.envelope(extract(mine, f"ORE-AFTER-{n}"))
                    for n in range(held.size - ledger.rollback_size)
                ]
                answer = client.post("/v1/entries/batch", json={"envelopes": envelopes})
                assert answer.status_code == 201, answer.text
                with pytest.raises(VerificationError):
                    _client_verifies_consistency(client, held, ledger.log_vkey)
                # Two notes signed by the log key, one size, two roots: the proof of the fork.
                forked = open_checkpoint(client.get("/v1/checkpoint").text, ledger.log_vkey)
                assert (forked.size, forked.origin) == (held.size, held.origin)
                assert forked.root != held.root
        finally:
            app.state.db.dispose()


def test_the_audit_trusts_only_the_published_keys(audit: Audit, damaged: str) -> None:
    """A database whose ledger_meta names another operator key: with the published keys the
    audit refuses it; trusting the database, it checks the registry against the wrong key."""
    impostor = Party("operator")
    meta = table("ledger_meta")
    with connect(damaged) as connection:
        connection.execute(
            update(meta)
            .where(meta.c.name == "operator_key")
            .values(value=b64encode(impostor.public_key))
        )
    trusted = audit(damaged)
    assert trusted.exit_code == 1 and "ledger_meta operator_key" in trusted.output
    believing = audit(damaged, trusted=False)
    assert believing.exit_code == 1 and "entry 0: step (4)" in believing.output
