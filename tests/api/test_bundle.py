"""GET /v1/lots/{lot}/bundle: what it holds, who may read it, and that it verifies offline."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli.main import app as cli
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import b64decode, b64encode
from ledger.tlog.keys import generate_private_key, raw_public_key, verifier_key
from ledger.tlog.proof import format_tlog_proof, parse_tlog_proof, verify_tlog_proof
from ledger.verify.bundle import BundleReport, parse_bundle, verify_bundle
from tests.api.conftest import ORIGIN, Ledger
from tests.support import Party, decide, declare, event, extract, receive, ship, transform
from tests.unit.test_bundle_tampering import (
    checkpoint_mutations,
    entry_mutations,
    proof_mutations,
)

OXIDE = {"Nd": 600000, "Pr": 180000, "O": 200000}


def chain(ledger: Ledger, cast: dict[str, Party]) -> None:
    """Mine → concentrate → ship/receive → separation → ship/receive → declare → release."""
    mine, plant, exporter = cast["mine"], cast["plant"], cast["exporter"]
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    ledger.post(
        mine,
        transform(
            mine, ledger.heads, [("ORE-1", 10_000_000)], [("CON-1", "concentrate", 1_000_000)]
        ),
    )
    ledger.post(mine, ship(mine, ledger.heads, plant.id, [("CON-1", 1_000_000)]))
    ledger.post(plant, receive(plant, ledger.heads, mine.id, [("CON-1", 1_000_000)]))
    separation = transform(
        plant, ledger.heads, [("CON-1", 1_000_000)], [("OX-1", "oxide", 300_000)], "separation"
    )
    separation["outputs"][0]["composition_ppm"] = OXIDE
    ledger.post(plant, separation)
    ledger.post(plant, ship(plant, ledger.heads, exporter.id, [("OX-1", 300_000)]))
    ledger.post(exporter, receive(exporter, ledger.heads, plant.id, [("OX-1", 300_000)]))
    ledger.post(exporter, declare(exporter, ledger.heads, "DEC-1", ["OX-1"], 300_000))
    customs = cast["customs"]
    ledger.post(customs, decide(customs, ledger.heads, "DEC-1", ["OX-1"], "release"))


def fetch(ledger: Ledger, lot: str, reader: Party, **params: str) -> dict[str, Any]:
    response = ledger.client.get(
        f"/v1/lots/{lot}/bundle", params=params, headers=ledger.auth(reader)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def trusted(ledger: Ledger) -> tuple[str, bytes]:
    """The keys as the auditor holds them: from the ledger's own identity, not the bundle."""
    identity = ledger.client.app.state.identity
    return identity.log_vkey, identity.operator_public_key


def check(ledger: Ledger, bundle: dict[str, Any]) -> BundleReport:
    vkey, operator_key = trusted(ledger)
    return verify_bundle(parse_bundle(bundle), vkey, operator_key, Tolerances())


@pytest.fixture
def bundle(ledger: Ledger, cast: dict[str, Party]) -> dict[str, Any]:
    chain(ledger, cast)
    return fetch(ledger, "OX-1", cast["auditor"])


def test_bundle_of_a_real_chain_verifies_offline(
    ledger: Ledger, cast: dict[str, Party], bundle: dict[str, Any]
) -> None:
    report = check(ledger, bundle)
    assert report.ok, report.failures
    assert bundle["format"] == "ree-ledger.bundle.v1" and bundle["lot"] == "OX-1"
    assert bundle["origin"] == ORIGIN
    assert (bundle["log_key"], b64decode(bundle["operator_key"])) == trusted(ledger)
    types = [check.event.type for check in report.entries if check.event]
    # All but the auditor act here; the authority issued the licence the declaration names.
    assert types.count("participant.register") == 5
    assert types.count("licence.issue") == 1  # LIC-1, with its inclusion proof, replayed
    lot_types = [t for t in types if not t.startswith(("participant.", "licence."))]
    custody = ["lot.transform", "lot.ship", "lot.receive"]
    assert lot_types == ["lot.extract", *custody, *custody, "export.declare", "customs.decide"]
    provenance = ledger.client.get("/v1/lots/OX-1/provenance", headers=ledger.auth(cast["auditor"]))
    steps = {step["index"] for step in provenance.json()["steps"]}
    assert steps <= {entry["index"] for entry in bundle["entries"]}
    assert report.state is not None and report.state.status == "exported"
    assert report.head == ledger.heads["OX-1"]
    assert [mine.lot for mine in report.mines] == ["ORE-1"]
    assert [round(share.share, 6) for share in report.shares] == [1.0]


def test_recomputed_flags_are_the_recorded_ones(
    ledger: Ledger, cast: dict[str, Party], bundle: dict[str, Any]
) -> None:
    report = check(ledger, bundle)
    lot = ledger.client.get("/v1/lots/OX-1", headers=ledger.auth(cast["auditor"])).json()
    recorded = sorted((flag["index"], flag["code"], flag["lot"]) for flag in lot["flags"])
    recomputed = sorted((found.index, found.flag.code, found.flag.lot) for found in report.flags)
    assert recomputed == recorded and recorded  # the oxide declared as magnets is flagged


def test_tlog_proofs_on_request(ledger: Ledger, cast: dict[str, Party]) -> None:
    chain(ledger, cast)
    plain = fetch(ledger, "OX-1", cast["customs"])
    assert all("tlog_proof" not in entry for entry in plain["entries"])
    bundle = fetch(ledger, "OX-1", cast["customs"], proof_format="tlog-proof")
    vkey, _ = trusted(ledger)
    for entry in bundle["entries"]:
        proof = parse_tlog_proof(entry["tlog_proof"])
        assert format_tlog_proof(proof) == entry["tlog_proof"]
        assert proof.index == entry["index"] and proof.checkpoint == bundle["checkpoint"]
        assert [b64decode(h) for h in entry["inclusion_proof"]["hashes"]] == list(proof.hashes)
        verify_tlog_proof(proof, b64decode(entry["leaf_hash"]), vkey, origin=ORIGIN)
    assert check(ledger, bundle).ok
    bad = ledger.client.get(
        "/v1/lots/OX-1/bundle",
        params={"proof_format": "json"},
        headers=ledger.auth(cast["customs"]),
    )
    assert bad.status_code == 422


def test_bundle_access(ledger: Ledger, cast: dict[str, Party]) -> None:
    chain(ledger, cast)
    anonymous = ledger.client.get("/v1/lots/OX-1/bundle")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    refused = ledger.client.get("/v1/lots/OX-1/bundle", headers=ledger.auth(cast["mine"]))
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_lot"
    assert fetch(ledger, "OX-1", cast["exporter"])["lot"] == "OX-1"  # its holder
    assert fetch(ledger, "OX-1", cast["customs"])["lot"] == "OX-1"
    missing = ledger.client.get("/v1/lots/NOPE-1/bundle", headers=ledger.auth(cast["auditor"]))
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_lot"
    assert missing.headers["content-type"] == "application/problem+json"


def test_any_one_byte_changed_fails_naming_the_entry_or_checkpoint(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    changes = [
        *entry_mutations(bundle, thorough=False),
        *proof_mutations(bundle, thorough=False),
        *checkpoint_mutations(bundle),
    ]
    assert len(changes) > 3 * len(bundle["entries"])
    for what, where, changed in changes:
        failures = check(ledger, changed).failures
        assert failures and failures[0].startswith(f"{where}:"), (what, failures)


def test_an_entry_removed_from_the_history_breaks_the_chain(
    ledger: Ledger, bundle: dict[str, Any]
) -> None:
    ship_to_exporter = [e for e in bundle["entries"] if e["event_hash"] == _prev_of_receive(bundle)]
    [removed] = ship_to_exporter
    trimmed = {**bundle, "entries": [e for e in bundle["entries"] if e is not removed]}
    failures = check(ledger, trimmed).failures
    assert failures[0].startswith(f"entry {removed['index'] + 1}: (12) prev.OX-1 is")


def test_bundle_verifies_through_the_cli(
    ledger: Ledger, bundle: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "OX-1.bundle.json"
    path.write_text(json.dumps(bundle))
    vkey, operator_key = trusted(ledger)
    keys = ["--log-key", vkey, "--operator-key", b64encode(operator_key)]
    result = CliRunner().invoke(cli, ["verify-bundle", str(path), *keys])
    assert result.exit_code == 0, result.output
    for entry in bundle["entries"]:
        assert f" {entry['index']:>6}  " in result.output
    assert result.output.splitlines()[-1].startswith("bundle ok: lot OX-1")
    other = verifier_key(ORIGIN, raw_public_key(generate_private_key()))
    keys[1] = other
    wrong = CliRunner().invoke(cli, ["verify-bundle", str(path), *keys])
    assert wrong.exit_code == 1 and "BUNDLE FAILED: bundle: (13)" in wrong.output
    assert "checkpoint: (14)" in wrong.output


def test_a_lot_shipped_with_another_verifies_with_a_note(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine, plant = cast["mine"], cast["plant"]
    other = ledger.enrol(Party("weld-mine"), ["mine"], "AU")
    for party, ore, con in ((mine, "ORE-A", "CON-A"), (other, "ORE-B", "CON-B")):
        ledger.post(party, extract(party, ore, 10_000_000))
        ledger.post(
            party,
            transform(party, ledger.heads, [(ore, 10_000_000)], [(con, "concentrate", 1_000_000)]),
        )
    ledger.post(other, ship(other, ledger.heads, mine.id, [("CON-B", 1_000_000)]))
    ledger.post(mine, receive(mine, ledger.heads, other.id, [("CON-B", 1_000_000)]))
    both = [("CON-A", 1_000_000), ("CON-B", 1_000_000)]
    ledger.post(mine, ship(mine, ledger.heads, plant.id, both))
    short = [("CON-A", 900_000), ("CON-B", 900_000)]
    receipt = ledger.post(plant, receive(plant, ledger.heads, mine.id, short))
    bundle = fetch(ledger, "CON-A", cast["auditor"])
    report = check(ledger, bundle)
    assert report.ok, report.failures
    noted = [check.index for check in report.entries if check.notes]
    assert len(noted) == 2 and "CON-B" in report.entries[-1].notes[0]
    assert "ORE-B" not in {lot for check in report.entries for lot in check.lots}
    # The receipt's rules judge each lot alone: CON-A's flag is recomputed, CON-B's left out.
    found = [(found.index, found.flag.code, found.flag.lot) for found in report.flags]
    assert found == [(receipt["index"], "RECEIPT_MISMATCH", "CON-A")]


def test_an_entry_the_lot_did_not_touch_is_not_in_its_bundle(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    mine = cast["mine"]
    ledger.post(mine, extract(mine, "ORE-1", 10_000_000))
    ledger.post(mine, extract(mine, "ORE-2", 10_000_000))
    assay = event(
        mine.id,
        "lot.assay",
        prev={"ORE-2": ledger.heads["ORE-2"]},
        lot="ORE-2",
        composition_ppm={"Nd": 9000},
        method="ICP-MS",
        lab="Lab",
    )
    ledger.post(mine, assay)
    bundle = fetch(ledger, "ORE-1", cast["auditor"])
    assert len(bundle["entries"]) == 2  # the mine's registration and its one extract
    assert check(ledger, bundle).ok


def _prev_of_receive(bundle: dict[str, Any]) -> str:
    """The event_hash the exporter's receipt of OX-1 names: the shipment to it."""
    for entry in bundle["entries"]:
        payload = json.loads(b64decode(entry["envelope"]["payload"]))
        if payload["type"] == "lot.receive" and "OX-1" in payload["prev"]:
            head: str = payload["prev"]["OX-1"]
            return head
    raise AssertionError("no receipt of OX-1 in the bundle")
