"""Reading a capture document: every event must be the rendering of the ledger entry it carries."""

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

from api.errors import status_of
from ledger.epcis.capture import read_events
from ledger.epcis.export import LedgerEntry, epcis_document, epcis_event
from ledger.epcis.hashid import event_hash_id
from ledger.epcis.vocabulary import REE_NAMESPACE, lot_urn, parse_urn, participant_urn
from ledger.lots.records import Rejection
from ledger.verify.entry import parse_entry
from tests.support import Party, extract, register, ship
from tests.vectors import vectors_dir

ORIGIN = "ree-ledger.local/log"
MINE, PLANT = Party("baotou-mine"), Party("gansu-plant")


def _document(*signed: tuple[Party, dict[str, Any]]) -> dict[str, Any]:
    events = []
    for party, event in signed:
        envelope = party.envelope(event)
        entry = parse_entry(envelope)
        events.append(epcis_event(LedgerEntry(entry.event, envelope, entry.event_hash), ORIGIN))
    return epcis_document(events, datetime(2026, 3, 1, tzinfo=UTC))


def _two_events() -> dict[str, Any]:
    heads = {"ORE-1": "c" * 64}
    return _document(
        (MINE, extract(MINE, "ORE-1")), (MINE, ship(MINE, heads, PLANT.id, [("ORE-1", 1_000)]))
    )


def _refused(document: dict[str, Any], submitter: str = MINE.id) -> Rejection:
    with pytest.raises(Rejection) as caught:
        read_events(document, ORIGIN, submitter)
    return caught.value


def test_document_of_the_participants_own_entries_is_read() -> None:
    captured = read_events(_two_events(), ORIGIN, MINE.id)
    assert [c.entry.event.type for c in captured] == ["lot.extract", "lot.ship"]
    assert all(c.event_id and c.event_id.startswith("ni:///sha-256;") for c in captured)


def test_short_and_uri_cbv_values_are_the_same_value() -> None:
    document = _two_events()
    event = document["epcisBody"]["eventList"][1]
    event["bizStep"] = "https://ref.gs1.org/cbv/BizStep-shipping"
    event["sourceList"][0]["type"] = "urn:epcglobal:cbv:sdt:possessing_party"
    del event["eventID"]
    assert len(read_events(document, ORIGIN, MINE.id)) == 2


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        (lambda e: e.update(bizStep="receiving"), "bizStep", 'bizStep is "receiving"'),
        (
            lambda e: e["quantityList"][0].update(quantity=2),
            "quantityList",
            "the ledger entry says",
        ),
        (lambda e: e.update(readPoint={"id": "urn:x:y"}), "readPoint", "would drop it"),
        (lambda e: e.pop("disposition"), "disposition", "disposition is missing"),
        (
            lambda e: e.update(**{"ree:eventHash": "0" * 64}),
            "ree:eventHash",
            "the ledger entry says",
        ),
    ],
    ids=["other-bizstep", "other-mass", "extra-member", "missing-member", "other-event-hash"],
)
def test_event_that_differs_from_its_entry_is_refused_naming_it(
    change: Any, field: str, said: str
) -> None:
    document = _two_events()
    event = document["epcisBody"]["eventList"][1]
    change(event)
    refused = _refused(document)
    assert status_of(refused) == 422 and refused.position == 1
    assert refused.field == f"epcisBody.eventList.1.{field}"
    assert (
        refused.detail.startswith(f"event 1 (eventID {event['eventID']}): ")
        and said in refused.detail
    )


def test_forged_event_id_is_refused() -> None:
    document = _two_events()
    document["epcisBody"]["eventList"][0]["eventID"] = "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"
    assert _refused(document).code == "event_id_mismatch"


def test_event_of_another_actor_is_refused() -> None:
    refused = _refused(_two_events(), submitter=PLANT.id)
    assert status_of(refused) == 403 and refused.code == "actor_not_submitter"


def test_gs1_example_without_ledger_fields_names_them() -> None:
    path = vectors_dir() / "epcis" / "JSON" / "Example_9.6.1-ObjectEvent.jsonld"
    refused = _refused(json.loads(path.read_text(encoding="utf-8")))
    assert status_of(refused) == 422 and refused.code == "ledger_fields_missing"
    for name in ("ree:envelope", "ree:type", "ree:id", "ree:actor", "ree:prev", "ree:eventHash"):
        assert name in refused.detail
    assert REE_NAMESPACE in refused.detail and refused.detail.startswith("event 0 (eventID ni:")


def test_undeclared_ree_namespace_is_refused() -> None:
    document = _two_events()
    document["@context"] = document["@context"][:1]
    assert _refused(document).code == "ree_namespace_missing"


def test_tampered_envelope_is_refused_as_the_entry_would_be() -> None:
    document = _two_events()
    envelope = copy.deepcopy(document["epcisBody"]["eventList"][0]["ree:envelope"])
    envelope["payloadType"] = "text/plain"
    document["epcisBody"]["eventList"][0]["ree:envelope"] = envelope
    refused = _refused(document)
    assert refused.code == "wrong_payload_type"
    assert refused.field == "epcisBody.eventList.0.ree:envelope.payloadType"


def test_export_id_is_the_hash_of_the_rendering() -> None:
    event = _two_events()["epcisBody"]["eventList"][0]
    assert event["eventID"] == event_hash_id(event, {"ree": REE_NAMESPACE})


@pytest.mark.parametrize("origin", ["ree-ledger.local/log", "odd:origin/with spaces%", "é/x"])
def test_urns_round_trip_and_are_uris(origin: str) -> None:
    for local in ("ORE-1", "a:b.c_d-e", "DECL/2026/1"):
        assert parse_urn("lot", lot_urn(origin, local)) == (origin, local)
        assert validate_rfc3986(lot_urn(origin, local), rule="URI")
    assert parse_urn("lot", participant_urn(origin, "x")) is None


def test_registry_entry_in_an_event_is_refused() -> None:
    document = _two_events()
    operator = Party("operator")
    registration = operator.envelope(register(operator, PLANT, ["processor"]))
    document["epcisBody"]["eventList"][0]["ree:envelope"] = registration
    refused = _refused(document)
    assert refused.code == "not_a_lot_event" and "participant.register" in refused.detail
