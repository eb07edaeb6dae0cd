"""The capture validator: GS1's JSON Schema, format checks on, over the conformance vectors."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from api.errors import status_of
from ledger.epcis.schema import EpcisValidator, parse_document
from ledger.lots.records import Rejection
from ledger.service.epcis import load_validator
from tests.vectors import vector_files, vector_path

GS1_SCHEMA = ("epcis", "EPCIS-JSON-Schema.json")
OPENEPCIS = ("epcis-openepcis", "Capture")
# OpenEPCIS documents (not GS1's) that break GS1's schema as published, and why.
OPENEPCIS_AGAINST_GS1_SCHEMA = {
    # GS1's AggregationEvent has no persistentDisposition (propertyNames lists the members).
    "AggregationEvent_with_persistentDisposition.json": "'persistentDisposition' is not valid",
    # Event 8's second sensorReport has no `type`, which the schema requires.
    "SensorData_with_combined_events.json": "'type' is a required property",
    # EffectiveDoseRate is not in the schema's MeasurementType list, nor a URI.
    "TransactionEvent_with_userExtensions.json": "'EffectiveDoseRate' is not valid",
}
MINIMAL: dict[str, Any] = {
    "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-03-01T08:00:00Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2026-03-01T08:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "quantityList": [
                    {"epcClass": "urn:ree-ledger:lot:o:L-1", "quantity": 1, "uom": "KGM"}
                ],
            }
        ]
    },
}


@pytest.fixture(scope="module")
def validator() -> EpcisValidator:
    return load_validator(vector_path(*GS1_SCHEMA))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _broken(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    document["epcisBody"]["eventList"][0].update(changes)
    return document


def test_all_47_gs1_examples_are_found() -> None:
    assert len(list(vector_path("epcis", "JSON").rglob("*.jsonld"))) == 47


@pytest.mark.parametrize("path", vector_files("epcis", "JSON", pattern="*.jsonld", recursive=True))
def test_gs1_example_passes_the_capture_validator(validator: EpcisValidator, path: Path) -> None:
    assert validator.problems(_load(path)) == []


@pytest.mark.parametrize(
    "path", vector_files(*OPENEPCIS, "Documents") + vector_files(*OPENEPCIS, "Events")
)
def test_openepcis_capture_document(validator: EpcisValidator, path: Path) -> None:
    problems = validator.problems(_load(path))
    if path.name in OPENEPCIS_AGAINST_GS1_SCHEMA:
        assert problems and OPENEPCIS_AGAINST_GS1_SCHEMA[path.name] in problems[0].message
    else:
        assert problems == []


@pytest.mark.parametrize("path", vector_files(*OPENEPCIS, "Invalid"))
def test_openepcis_invalid_document_is_rejected(validator: EpcisValidator, path: Path) -> None:
    with pytest.raises(Rejection) as caught:
        validator.check(_load(path))
    assert status_of(caught.value) == 422 and caught.value.code == "epcis_schema_violation"


def test_minimal_document_is_valid(validator: EpcisValidator) -> None:
    assert validator.problems(MINIMAL) == []


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"quantityList": [{"epcClass": "urn:x:l", "quantity": 1, "uom": "kg"}]},
         "quantityList.0.uom", "does not match"),
        ({"type": "ObjectEvnt"}, "type", "is not a 'uri'"),
        ({"eventTimeZoneOffset": "+25:00"}, "eventTimeZoneOffset", "does not match"),
        ({"bizStep": "ship it"}, "bizStep", "is not valid under any of the given schemas"),
        ({"eventTime": "2026-03-01 08:00"}, "eventTime", "is not a 'date-time'"),
    ],
    ids=["wrong-uom", "unknown-type", "bad-time-zone-offset", "non-uri-bizstep", "bad-time"],
)  # fmt: skip
def test_broken_document_is_rejected_with_the_schema_reason(
    validator: EpcisValidator, changes: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(Rejection) as caught:
        validator.check(_broken(**changes))
    assert caught.value.field == f"epcisBody.eventList.0.{field}"
    assert reason in caught.value.detail and caught.value.detail.startswith("event 0, ")
    assert caught.value.position == 0


def test_uri_format_is_enforced_not_just_the_type(validator: EpcisValidator) -> None:
    document = _broken(epcList=["not a uri"], quantityList=[])
    problems = validator.problems(document)
    assert problems[0].message == "'not a uri' is not a 'uri'"
    # The same document passes GS1's schema when formats are not checked: the format check is
    # what refuses it.
    schema = _load(vector_path(*GS1_SCHEMA))
    assert Draft7Validator(schema).is_valid(document)


@pytest.mark.parametrize(
    "raw",
    [b'{"a": 1, "a": 2}', b'{"a": NaN}', b"[1, 2]", b"\xff", b"[" * 100 + b"]" * 100],
    ids=["duplicate-key", "nan", "not-an-object", "not-utf8", "too-deep"],
)
def test_unreadable_document_is_refused(raw: bytes) -> None:
    with pytest.raises(Rejection) as caught:
        parse_document(b'{"x": ' + raw + b"}" if raw.startswith(b"[" * 100) else raw)
    assert caught.value.code == "malformed_document"
