"""Posting entries: acknowledged only when committed and covered by a verifiable checkpoint."""

from typing import Any

from ledger.tlog import merkle, merkle_verify
from ledger.tlog.encoding import b64decode, canonical, sha256
from ledger.tlog.note import open_checkpoint
from tests.api.conftest import Ledger
from tests.support import Party, decide, declare, extract, receive, ship, transform


def _verify_acknowledgement(ledger: Ledger, body: dict[str, Any], envelope: dict[str, Any]) -> None:
    log_key = ledger.client.get("/v1/log").json()["log_key"]
    checkpoint = open_checkpoint(body["checkpoint"], log_key)
    leaf_hash = merkle.leaf_hash(canonical(envelope))
    assert b64decode(body["leaf_hash"]) == leaf_hash
    proof = body["inclusion_proof"]
    assert proof["index"] == body["index"] and proof["size"] == checkpoint.size
    merkle_verify.verify_inclusion(
        body["index"],
        checkpoint.size,
        leaf_hash,
        [b64decode(h) for h in proof["hashes"]],
        checkpoint.root,
    )


def test_mine_to_export_chain_is_acknowledged_with_verifiable_proofs(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, plant, exporter, customs = cast["mine"], cast["plant"], cast["exporter"], cast["customs"]
    heads = ledger.heads
    steps = [
        (mine, lambda: extract(mine, "ORE-1")),
        (
            mine,
            lambda: transform(
                mine, heads, [("ORE-1", 1_000_000)], [("CON-1", "concentrate", 120_000)]
            ),
        ),
        (mine, lambda: ship(mine, heads, plant.id, [("CON-1", 120_000)])),
        (plant, lambda: receive(plant, heads, mine.id, [("CON-1", 119_900)])),
        (plant, lambda: ship(plant, heads, exporter.id, [("CON-1", 119_900)])),
        (exporter, lambda: receive(exporter, heads, plant.id, [("CON-1", 119_900)])),
        (exporter, lambda: declare(exporter, heads, "DEC-1", ["CON-1"], 119_900)),
        (customs, lambda: decide(customs, heads, "DEC-1", ["CON-1"], "release")),
    ]
    for party, make in steps:
        event = make()
        envelope = party.envelope(event)
        response = ledger.client.post("/v1/entries", json=envelope)
        assert response.status_code == 201, response.text
        body = response.json()
        ledger.remember(event, body["event_hash"])
        _verify_acknowledgement(ledger, body, envelope)
    token = ledger.token(customs)
    lot = ledger.client.get("/v1/lots/CON-1", headers={"Authorization": f"Bearer {token}"}).json()
    assert lot["status"] == "exported"
    assert lot["custodian"] == exporter.id
    assert lot["mass_g"] == 119_900
    assert lot["head"] == ledger.heads["CON-1"]
    assert lot["origins"] == ["ORE-1"]


def test_batch_is_appended_in_order_and_later_envelopes_see_earlier_ones(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    first = extract(mine, "ORE-B")
    size_before = ledger.size()
    # The second envelope's prev needs the first's event hash, known before posting.
    head = sha256(canonical(first)).hex()
    second = transform(
        mine, {"ORE-B": head}, [("ORE-B", 400_000)], [("CON-B", "concentrate", 50_000)]
    )
    response = ledger.client.post(
        "/v1/entries/batch", json={"envelopes": [mine.envelope(first), mine.envelope(second)]}
    )
    assert response.status_code == 201, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == [size_before, size_before + 1]
    assert results[0]["event_hash"] == head
    assert results[0]["checkpoint"] == results[1]["checkpoint"]
    for result, envelope in zip(
        results, [mine.envelope(first), mine.envelope(second)], strict=True
    ):
        _verify_acknowledgement(ledger, result, envelope)


def test_batch_with_one_bad_envelope_writes_nothing(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine = cast["mine"]
    size_before = ledger.size()
    good = mine.envelope(extract(mine, "ORE-C"))
    bad = mine.envelope(
        transform(mine, {"ORE-X": "0" * 64}, [("ORE-X", 1)], [("C", "concentrate", 1)])
    )
    response = ledger.client.post("/v1/entries/batch", json={"envelopes": [good, bad]})
    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "unknown_lot" and problem["position"] == 1
    assert ledger.size() == size_before
    assert ledger.client.get("/v1/lots/ORE-C").status_code == 404


def test_consistency_proof_links_two_checkpoints(ledger: Ledger, cast: dict[str, Party]) -> None:
    mine = cast["mine"]
    log_key = ledger.client.get("/v1/log").json()["log_key"]
    old = open_checkpoint(ledger.client.get("/v1/checkpoint").text, log_key)
    ledger.post(mine, extract(mine, "ORE-D"))
    ledger.post(mine, extract(mine, "ORE-E"))
    new = open_checkpoint(ledger.client.get("/v1/checkpoint").text, log_key)
    response = ledger.client.get(
        "/v1/proofs/consistency", params={"first": old.size, "second": new.size}
    )
    assert response.status_code == 200
    proof = [b64decode(h) for h in response.json()["hashes"]]
    merkle_verify.verify_consistency(old.size, new.size, old.root, new.root, proof)


def test_inclusion_proof_endpoint_verifies_for_every_entry(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    log_key = ledger.client.get("/v1/log").json()["log_key"]
    checkpoint = open_checkpoint(ledger.client.get("/v1/checkpoint").text, log_key)
    token = ledger.token(cast["auditor"])
    for index in range(checkpoint.size):
        entry = ledger.client.get(
            f"/v1/entries/{index}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        proof = ledger.client.get(
            "/v1/proofs/inclusion", params={"index": index, "size": checkpoint.size}
        ).json()
        merkle_verify.verify_inclusion(
            index,
            checkpoint.size,
            merkle.leaf_hash(canonical(entry["envelope"])),
            [b64decode(h) for h in proof["hashes"]],
            checkpoint.root,
        )
