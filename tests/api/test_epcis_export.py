"""EPCIS export: a lot's ancestry and event queries, schema-valid, readable only by the allowed."""

from typing import Any

from ledger.epcis.hashid import event_hash_id
from ledger.epcis.vocabulary import REE_NAMESPACE, lot_urn
from tests.api.conftest import ORIGIN, Ledger
from tests.api.test_epcis_chain import LEDGER_TYPES, build_chain, gs1_validator
from tests.support import Party

EXPECTED = [
    ("ObjectEvent", "ADD", "commissioning"),
    ("ObjectEvent", "OBSERVE", "shipping"),
    ("ObjectEvent", "OBSERVE", "receiving"),
    ("TransformationEvent", None, "commissioning"),
    ("ObjectEvent", "OBSERVE", "inspecting"),
    ("ObjectEvent", "OBSERVE", "shipping"),
    ("ObjectEvent", "OBSERVE", "receiving"),
    ("TransactionEvent", "ADD", "holding"),
    ("TransactionEvent", "OBSERVE", "inspecting"),
]


def _events(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["epcisBody"]
    events: list[dict[str, Any]] = (
        body["eventList"]
        if "eventList" in body
        else body["queryResults"]["resultsBody"]["eventList"]
    )
    return events


def test_lot_export_is_its_whole_ancestry_and_schema_valid(
    ledger: Ledger, cast: dict[str, Party]
) -> None:
    answers = build_chain(ledger, cast)
    response = ledger.client.get("/v1/lots/CON-1/epcis", headers=ledger.auth(cast["auditor"]))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["type"] == "EPCISDocument"
    assert gs1_validator().problems(document) == []
    events = _events(document)
    assert [(e["type"], e.get("action"), e["bizStep"]) for e in events] == EXPECTED
    assert [e["ree:type"] for e in events] == list(LEDGER_TYPES)
    assert [e["ree:eventHash"] for e in events] == [a["event_hash"] for a in answers]
    assert [e["ree:index"] for e in events] == [a["index"] for a in answers]
    for e in events:
        assert e["eventID"] == event_hash_id(e, {"ree": REE_NAMESPACE})
        assert e["eventTimeZoneOffset"] == "+00:00"
        # The ledger signs no time of its own: it states none (docs/epcis.md).
        assert "recordTime" not in e


def test_export_carries_the_ledger_facts(ledger: Ledger, cast: dict[str, Party]) -> None:
    build_chain(ledger, cast)
    events = _events(
        ledger.client.get("/v1/lots/CON-1/epcis", headers=ledger.auth(cast["customs"])).json()
    )
    extract, _, _, transform, assay, ship, _, declare, decide = events
    assert extract["quantityList"] == [
        {"epcClass": lot_urn(ORIGIN, "ORE-1"), "quantity": 1000, "uom": "KGM"}
    ]
    assert extract["ilmd"]["ree:lots"][0]["composition_ppm"]["Nd"] == 9500
    assert extract["ree:site"]["country"] == "CN" and extract["ree:deposit"] == "bastnaesite"
    assert transform["outputQuantityList"][0]["quantity"] == 123.457
    assert transform["ree:process"] == "beneficiation"
    reports = assay["sensorElementList"][0]["sensorReport"]
    assert {r["chemicalSubstance"]: r["value"] for r in reports} == {
        "urn:ree-ledger:element:Dy": 900,
        "urn:ree-ledger:element:Nd": 68000,
        "urn:ree-ledger:element:Pr": 20000,
    }
    assert ship["destinationList"][0]["destination"].endswith(":ningbo-export")
    assert ship["disposition"] == "in_transit"
    assert declare["ree:declaration"]["hs_code"] == "850511"
    assert decide["disposition"] == "conformant" and decide["ree:decision"] == "release"
    assert decide["bizTransactionList"] == declare["bizTransactionList"]


def test_query_filters_and_pages_oldest_first(ledger: Ledger, cast: dict[str, Party]) -> None:
    build_chain(ledger, cast)
    auth = ledger.auth(cast["auditor"])
    get = ledger.client.get
    body = get("/v1/epcis/events", params={"type": "ObjectEvent"}, headers=auth).json()
    assert body["type"] == "EPCISQueryDocument" and gs1_validator().problems(body) == []
    assert [e["ree:index"] for e in _events(body)] == [8, 9, 10, 12, 13, 14]
    steps = get("/v1/epcis/events", params={"bizStep": "shipping"}, headers=auth).json()
    assert [e["ree:type"] for e in _events(steps)] == ["lot.ship", "lot.ship"]
    uri = get(
        "/v1/epcis/events",
        params={"bizStep": "https://ref.gs1.org/cbv/BizStep-inspecting", "lot": "CON-1"},
        headers=auth,
    ).json()
    assert [e["ree:type"] for e in _events(uri)] == ["lot.assay", "customs.decide"]
    none = get("/v1/epcis/events", params={"from": "2026-03-02T00:00:00Z"}, headers=auth).json()
    assert _events(none) == []
    first = get("/v1/epcis/events", params={"limit": 4}, headers=auth)
    assert [e["ree:index"] for e in _events(first.json())] == [8, 9, 10, 11]
    assert "after=11" in first.headers["link"] and 'rel="next"' in first.headers["link"]
    rest = get("/v1/epcis/events", params={"limit": 100, "after": 11}, headers=auth)
    assert [e["ree:index"] for e in _events(rest.json())] == list(range(12, 17))
    assert "link" not in rest.headers


def test_export_needs_a_token_and_the_right_reader(ledger: Ledger, cast: dict[str, Party]) -> None:
    build_chain(ledger, cast)
    get = ledger.client.get
    assert get("/v1/lots/CON-1/epcis").json()["code"] == "token_required"
    # The exporter holds CON-1 (declared) and may read its ancestry; the mine may not.
    assert get("/v1/lots/CON-1/epcis", headers=ledger.auth(cast["exporter"])).status_code == 200
    refused = get("/v1/lots/CON-1/epcis", headers=ledger.auth(cast["mine"]))
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_lot"
    everything = get("/v1/epcis/events", headers=ledger.auth(cast["exporter"]))
    assert everything.status_code == 403 and everything.json()["code"] == "lot_required"
    own = get("/v1/epcis/events", params={"lot": "CON-1"}, headers=ledger.auth(cast["exporter"]))
    assert [e["ree:index"] for e in _events(own.json())] == list(range(11, 17))


def test_unknown_lot_is_404_problem(ledger: Ledger, cast: dict[str, Party]) -> None:
    auth = ledger.auth(cast["customs"])
    for path, params in (("/v1/lots/NOPE/epcis", {}), ("/v1/epcis/events", {"lot": "NOPE"})):
        response = ledger.client.get(path, params=params, headers=auth)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unknown_lot" and "NOPE" in response.json()["detail"]
    bad = ledger.client.get("/v1/epcis/events", params={"type": "Event"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_event_type"
