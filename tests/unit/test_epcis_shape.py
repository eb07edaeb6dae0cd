"""Capture's own checks of a document (ledger/epcis/shape.py), without GS1's schema."""

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from api.errors import status_of
from ledger.epcis.export import LedgerEntry, epcis_document, epcis_event
from ledger.epcis.shape import MAX_CONTEXT, check_event, document_events
from ledger.lots.records import Rejection
from ledger.verify.entry import parse_entry
from tests.support import Party, extract

ORIGIN = "ree-ledger.local/log"
MINE = Party("baotou-mine")


def _document() -> dict[str, Any]:
    envelope = MINE.envelope(extract(MINE, "ORE-1"))
    entry = parse_entry(envelope)
    event = epcis_event(LedgerEntry(entry.event, envelope, entry.event_hash, 7), ORIGIN)
    return epcis_document([event], datetime(2026, 3, 1, tzinfo=UTC))


def _refused(document: dict[str, Any]) -> Rejection:
    with pytest.raises(Rejection) as caught:
        for position, event in enumerate(document_events(document)):
            check_event(position, event)
    return caught.value


def test_an_export_passes_and_its_events_are_given() -> None:
    document = _document()
    events = document_events(document)
    assert events is document["epcisBody"]["eventList"]
    assert check_event(0, events[0]) is events[0]


@pytest.mark.parametrize(
    "changes",
    [{"id": "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"},
     {"instanceIdentifier": "1234", "sender": "urn:x:a", "receiver": "urn:x:b"},
     {"@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"},
     {"creationDate": "2026-03-01T08:00:00.123+01:00", "schemaVersion": "2.0.1"}],
    ids=["id", "transit-names", "context-string", "offset-date"],
)  # fmt: skip
def test_document_members_of_epcis_2_are_taken(changes: dict[str, Any]) -> None:
    document = {**_document(), **changes}
    assert document_events(document) is document["epcisBody"]["eventList"]


@pytest.mark.parametrize(
    ("changes", "field", "said"),
    [({"id": "no uri"}, "id", "absolute URI"),
     ({"sender": 5}, "sender", "string"),
     ({"receiver": "x" * 2049}, "receiver", "at most 2048"),
     ({"@context": []}, "@context", f"1 to {MAX_CONTEXT}"),
     ({"@context": [{}] * (MAX_CONTEXT + 1)}, "@context", f"1 to {MAX_CONTEXT}"),
     ({"@context": 5}, "@context", "URIs or objects"),
     ({"creationDate": "2026-03-01T08:00:00"}, "creationDate", "with a zone"),
     ({"schemaVersion": "v2"}, "schemaVersion", "version string"),
     ({"epcisBody": []}, "epcisBody", "an object"),
     ({"epcisBody": {}}, "epcisBody.eventList", "must have an eventList"),
     ({"ree:note": "x"}, "ree:note", "would drop it")],
    ids=["id", "sender", "long-receiver", "empty-context", "long-context", "numeric-context",
         "naive-creationDate", "schemaVersion", "body-array", "no-eventList", "extension"],
)  # fmt: skip
def test_bad_document_member_is_named(changes: dict[str, Any], field: str, said: str) -> None:
    refused = _refused({**_document(), **changes})
    assert (status_of(refused), refused.code, refused.field) == (
        422,
        "epcis_document_invalid",
        field,
    )
    assert said in refused.detail and refused.position is None


def test_missing_required_member_is_named_without_a_value() -> None:
    document = _document()
    del document["schemaVersion"]
    refused = _refused(document)
    assert refused.field == "schemaVersion" and "is required" in refused.detail
    assert refused.value is None and "got" not in refused.detail


@pytest.mark.parametrize(
    ("event_type", "shown"),
    [("AggregationEvent", '"AggregationEvent"'), ("AssociationEvent", '"AssociationEvent"'),
     (None, "null"), (["ObjectEvent"], '"[\\"ObjectEvent\\"]"'), ("x" * 500, "...")],
    ids=["aggregation", "association", "null", "array", "long"],
)  # fmt: skip
def test_event_type_the_ledger_does_not_map_is_refused(event_type: object, shown: str) -> None:
    document = _document()
    document["epcisBody"]["eventList"][0]["type"] = event_type
    refused = _refused(document)
    assert (status_of(refused), refused.code, refused.position) == (422, "unmapped_event_type", 0)
    assert refused.field == "epcisBody.eventList.0.type"
    assert shown in refused.detail and "ObjectEvent, TransactionEvent, TransformationEvent" in (
        refused.detail
    )


@pytest.mark.parametrize(
    ("member", "value"),
    [("eventID", "not a uri"), ("eventID", 5), ("eventID", "urn:x:" + "a" * 2048),
     ("recordTime", "2026-03-01"), ("recordTime", None),
     ("ree:index", -1), ("ree:index", True), ("ree:index", 1.5), ("ree:index", 2**63)],
)  # fmt: skip
def test_export_member_of_the_wrong_form_is_refused(member: str, value: object) -> None:
    document = _document()
    document["epcisBody"]["eventList"][0][member] = value
    refused = _refused(document)
    assert refused.field == f"epcisBody.eventList.0.{member}" and refused.position == 0
    assert refused.code == "epcis_document_invalid" and refused.detail.startswith("event 0")


def test_event_that_is_not_an_object_is_refused() -> None:
    document = copy.deepcopy(_document())
    document["epcisBody"]["eventList"].append([1])
    refused = _refused(document)
    assert refused.field == "epcisBody.eventList.1" and refused.position == 1
