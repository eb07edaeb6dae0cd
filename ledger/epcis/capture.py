"""Capture: an EPCIS document whose events each carry their signed ledger entry (ree:envelope).

The document is signed as a whole by the submitting participant; each event's ree:envelope is
the ledger entry its actor signed. Capture checks that every event's EPCIS and ree: members are
exactly the rendering of its entry, so nothing is recorded that the signed payloads do not say.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ledger.epcis import vocabulary as voc
from ledger.epcis.export import EXPORT_ONLY, LOT_EVENT_TYPES, LedgerEntry, epcis_event
from ledger.epcis.hashid import HASH_ID_PATTERN, event_hash_id, namespaces_of
from ledger.epcis.shape import check_event, document_events, event_label, event_path
from ledger.errors import Kind
from ledger.lots.records import Rejection
from ledger.tlog.envelope import Envelope
from ledger.verify.entry import ParsedEntry, parse_entry, parse_envelope

# What the ledger needs in every event, besides the EPCIS members it checks against them.
LEDGER_FIELDS = (
    "ree:envelope", "ree:type", "ree:id", "ree:actor", "ree:keyid", "ree:prev", "ree:eventHash",
)  # fmt: skip
_LIST_TYPES = MappingProxyType(
    {"sourceList": "SDT", "destinationList": "SDT", "bizTransactionList": "BTT"}
)


@dataclass(frozen=True)
class CapturedEvent:
    """One event of a capture document, checked against the ledger entry it carries."""

    position: int
    event_id: str | None  # the document's eventID, if it gave one
    entry: ParsedEntry


def parse_capture_envelope(body: object) -> Envelope:
    """The DSSE envelope of a capture request: EPCIS document payload type, one signature."""
    return parse_envelope(body, voc.DOCUMENT_PAYLOAD_TYPE, "a capture request")


def read_events(document: Mapping[str, Any], origin: str, submitter: str) -> list[CapturedEvent]:
    """Every event of an EPCISDocument, each checked against its ledger entry.

    Raises Rejection naming the event (position and eventID) and the member at fault.
    """
    events = document_events(document)
    if not events:
        raise Rejection(
            Kind.INVALID, "empty_document", "the document has no events", field="eventList"
        )
    for position, given in enumerate(events):
        check_event(position, given)
        missing = [name for name in LEDGER_FIELDS if name not in given]
        if missing:
            raise _ledger_fields_missing(position, given, missing)
    ns = namespaces_of(document.get("@context"))
    if ns.get(voc.REE_PREFIX) != voc.REE_NAMESPACE:
        raise Rejection(
            Kind.INVALID,
            "ree_namespace_missing",
            f'@context must declare "{voc.REE_PREFIX}": "{voc.REE_NAMESPACE}" for the ree: fields',
            field="@context",
        )
    return [
        _read_event(position, given, origin, submitter, ns) for position, given in enumerate(events)
    ]


def relabel(exc: Rejection, position: int, event: Mapping[str, Any]) -> Rejection:
    """`exc` about the ledger entry of event `position`, said of that event."""
    field = f"{event_path(position)}.ree:envelope" + (f".{exc.field}" if exc.field else "")
    labelled = Rejection(
        exc.kind,
        exc.code,
        f"{event_label(position, event)}: {exc.detail}",
        field=field,
        value=exc.value,
    )
    labelled.position = position
    return labelled


def _read_event(
    position: int, given: Mapping[str, Any], origin: str, submitter: str, ns: dict[str, str]
) -> CapturedEvent:
    try:
        entry = parse_entry(given["ree:envelope"])
    except Rejection as exc:
        raise relabel(exc, position, given) from exc
    event = entry.event
    if event.type not in LOT_EVENT_TYPES:
        detail = f"{event.type} is a registry event: it has no EPCIS form"
        raise _mismatch(position, given, "ree:envelope", detail, Kind.INVALID, "not_a_lot_event")
    if event.actor != submitter:
        detail = f"the event's actor is {event.actor!r}, but {submitter!r} signed the document"
        raise _mismatch(
            position, given, "ree:envelope", detail, Kind.FORBIDDEN, "actor_not_submitter"
        )
    expected = epcis_event(LedgerEntry(event, entry.envelope.to_json(), entry.event_hash), origin)
    _compare(position, given, expected)
    event_id = given.get("eventID")
    if isinstance(event_id, str) and HASH_ID_PATTERN.fullmatch(event_id):
        computed = event_hash_id(given, ns)
        if computed != event_id:
            detail = f"eventID is not the CBV 2.0 event hash ID of the event ({computed})"
            raise _mismatch(position, given, "eventID", detail, Kind.INVALID, "event_id_mismatch")
    return CapturedEvent(position, event_id if isinstance(event_id, str) else None, entry)


def _compare(position: int, given: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Every member of the rendering is in the event with the same value, and nothing else."""
    for key, value in expected.items():
        if key in EXPORT_ONLY:
            continue
        if key not in given:
            detail = f"{key} is missing; the ledger entry says {_show(value)}"
            raise _mismatch(position, given, key, detail)
        if _normal(key, given[key]) != _normal(key, value):
            detail = f"{key} is {_show(given[key])} but the ledger entry says {_show(value)}"
            raise _mismatch(position, given, key, detail)
    for key in given:
        if key not in expected and key not in EXPORT_ONLY:
            detail = f"{key} is not part of the ledger entry; the ledger would drop it"
            raise _mismatch(position, given, key, detail)


def _normal(key: str, value: object) -> object:
    """A comparable form: CBV values as URIs, EPCIS lists as sets, booleans apart from 1/0."""
    if key in ("bizStep", "disposition"):
        return voc.cbv_uri("BizStep" if key == "bizStep" else "Disp", str(value))
    if key.startswith("ree:"):
        return _tagged(value)
    return _tagged(_vocab(key, value), unordered=True)


def _vocab(key: str, value: object) -> object:
    if key in _LIST_TYPES and isinstance(value, list):
        kind = _LIST_TYPES[key]
        return [
            {**item, "type": voc.cbv_uri(kind, str(item["type"]))}
            if isinstance(item, dict) and "type" in item
            else item
            for item in value
        ]
    if key == "sensorElementList" and isinstance(value, list):
        return [_sensor_types(element) for element in value]
    return value


def _sensor_types(element: object) -> object:
    if not isinstance(element, dict) or not isinstance(element.get("sensorReport"), list):
        return element
    reports = [
        {**r, "type": str(r["type"]).removeprefix(voc.GS1_VOC).removeprefix("gs1:")}
        if isinstance(r, dict) and "type" in r
        else r
        for r in element["sensorReport"]
    ]
    return {**element, "sensorReport": reports}


def _tagged(value: object, unordered: bool = False) -> object:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict):
        return {k: _tagged(v, unordered) for k, v in value.items()}
    if isinstance(value, list):
        items = [_tagged(v, unordered) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if unordered else items
    return value


def _ledger_fields_missing(
    position: int, given: Mapping[str, Any], missing: list[str]
) -> Rejection:
    detail = (
        f"{event_label(position, given)}: the ledger needs {', '.join(missing)} "
        f'(ree: = "{voc.REE_NAMESPACE}", declared in @context). ree:envelope is the ledger '
        "entry: the DSSE envelope of the ledger event, signed by its actor; the other ree: "
        "fields and the EPCIS fields must be its rendering (docs/epcis.md)"
    )
    exc = Rejection(
        Kind.INVALID, "ledger_fields_missing", detail, field=f"{event_path(position)}.{missing[0]}"
    )
    exc.position = position
    return exc


def _mismatch(
    position: int,
    given: Mapping[str, Any],
    key: str,
    detail: str,
    kind: Kind = Kind.INVALID,
    code: str = "epcis_mismatch",
) -> Rejection:
    exc = Rejection(
        kind,
        code,
        f"{event_label(position, given)}: {detail}",
        field=f"{event_path(position)}.{key}",
    )
    exc.position = position
    return exc


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."
