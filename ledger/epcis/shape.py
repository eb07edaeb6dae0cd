"""Capture's own checks of an EPCIS document: every member it reads, typed and bounded.

They stand without GS1's JSON Schema (which is applied as well when the operator installs it,
ledger/epcis/schema.py). Each event's EPCIS and ree: members are then checked against the
rendering of its ledger entry (capture.py); here: the document's members, the event list, each
event's type, and the members an export carries that no entry determines (eventID, recordTime,
ree:index). A member capture would not read is refused: the ledger would drop it.
"""

import json
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]
from rfc3986_validator import validate_rfc3986  # type: ignore[import-untyped]

from ledger.epcis.export import EPCIS_TYPE
from ledger.errors import Kind
from ledger.lots.records import Rejection

MAPPED_EVENT_TYPES = frozenset(EPCIS_TYPE.values())
MAX_TEXT = 2048  # characters in a document-level string or an eventID
MAX_CONTEXT = 16  # entries in @context
MAX_INDEX = 2**63 - 1
REQUIRED_MEMBERS = ("@context", "type", "schemaVersion", "creationDate", "epcisBody")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")
_PREVIEW = 80
_MISSING = object()


def document_events(document: Mapping[str, Any]) -> list[Any]:
    """The event list of an EPCISDocument whose members are all ones capture reads."""
    if document.get("type") != "EPCISDocument":
        raise Rejection(
            Kind.INVALID,
            "not_an_epcis_document",
            f"capture takes an EPCISDocument, not {_show(document.get('type'))}",
            field="type",
            value=_value(document.get("type")),
        )
    for name in REQUIRED_MEMBERS:
        if name not in document:
            raise _invalid(name, _MISSING, f"{name} is required in an EPCISDocument")
    for name, value in document.items():
        check = _DOCUMENT_MEMBERS.get(name)
        if check is None:
            raise _invalid(name, value, _dropped(name))
        check(name, value)
    body = document["epcisBody"]
    if not isinstance(body, dict):
        raise _invalid("epcisBody", body, "epcisBody must be an object with an eventList")
    if "eventList" not in body:
        raise _invalid("epcisBody.eventList", _MISSING, "epcisBody must have an eventList")
    for name in body:
        if name != "eventList":
            raise _invalid(f"epcisBody.{name}", body[name], _dropped(name))
    events = body["eventList"]
    if not isinstance(events, list):
        raise _invalid("epcisBody.eventList", events, "eventList must be an array of events")
    return events


def check_event(position: int, event: object) -> Mapping[str, Any]:
    """Event `position` is an object of a type the ledger maps, with well-formed export members."""
    where = event_path(position)
    if not isinstance(event, dict):
        raise _invalid(where, event, f"event {position} must be a JSON object", position)
    kind = event.get("type")
    if not (isinstance(kind, str) and kind in MAPPED_EVENT_TYPES):
        exc = Rejection(
            Kind.INVALID,
            "unmapped_event_type",
            f"{event_label(position, event)}: type {_show(kind)} is not an event type the ledger "
            f"maps ({', '.join(sorted(MAPPED_EVENT_TYPES))}; docs/epcis.md)",
            field=f"{where}.type",
            value=_value(kind),
        )
        exc.position = position
        raise exc
    for name, valid, wanted in _EXPORT_MEMBERS:
        if name in event and not valid(event[name]):
            detail = f"{event_label(position, event)}: {name} must be {wanted}"
            raise _invalid(f"{where}.{name}", event[name], detail, position)
    return event


def event_label(position: int, event: Mapping[str, Any]) -> str:
    """How messages name an event: its position, and its eventID when it gave a valid one."""
    event_id = event.get("eventID")
    return f"event {position}" + (f" (eventID {event_id})" if _is_uri(event_id) else "")


def event_path(position: int) -> str:
    return f"epcisBody.eventList.{position}"


def _context(name: str, value: object) -> None:
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > MAX_CONTEXT:
        raise _invalid(name, value, f"@context must have 1 to {MAX_CONTEXT} entries")
    for i, item in enumerate(items):
        if not (isinstance(item, dict) or _is_uri(item)):
            where = f"{name}.{i}" if isinstance(value, list) else name
            raise _invalid(where, item, "@context entries are context URIs or objects")
    if len({json.dumps(item, sort_keys=True) for item in items}) != len(items):
        raise _invalid(name, value, "@context lists an entry twice")


def _version(name: str, value: object) -> None:
    if not (isinstance(value, str) and _is_text(value) and _VERSION.fullmatch(value)):
        raise _invalid(name, value, f'{name} must be a version string such as "2.0"')


def _time(name: str, value: object) -> None:
    if not _is_time(value):
        raise _invalid(name, value, f"{name} must be an RFC 3339 date-time with a zone")


def _uri(name: str, value: object) -> None:
    if not _is_uri(value):
        raise _invalid(name, value, f"{name} must be an absolute URI")


def _text(name: str, value: object) -> None:
    if not _is_text(value):
        raise _invalid(name, value, f"{name} must be a string of at most {MAX_TEXT} characters")


def _checked_elsewhere(name: str, value: object) -> None:
    """`type` is checked first; epcisBody after the members."""


def _is_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _is_uri(value: object) -> bool:
    return _is_text(value) and bool(validate_rfc3986(value, rule="URI"))


def _is_time(value: object) -> bool:
    return _is_text(value) and bool(validate_rfc3339(value))


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INDEX


# Document members: what each must be. instanceIdentifier, sender and receiver name the
# document in transit (as creationDate dates it); they describe no event.
_DOCUMENT_MEMBERS: MappingProxyType[str, Callable[[str, object], None]] = MappingProxyType(
    {
        "@context": _context,
        "type": _checked_elsewhere,
        "schemaVersion": _version,
        "creationDate": _time,
        "epcisBody": _checked_elsewhere,
        "id": _uri,
        "instanceIdentifier": _text,
        "sender": _text,
        "receiver": _text,
    }
)
# The members an exported event carries that the ledger entry does not determine (EXPORT_ONLY).
_EXPORT_MEMBERS: tuple[tuple[str, Callable[[object], bool], str], ...] = (
    ("eventID", _is_uri, f"an absolute URI of at most {MAX_TEXT} characters"),
    ("recordTime", _is_time, "an RFC 3339 date-time with a zone"),
    ("ree:index", _is_index, "the entry's index in the exporting log, an integer >= 0"),
)


def _dropped(name: str) -> str:
    if name == "epcisHeader":
        return (
            "epcisHeader (master data) is not read by capture, so the ledger would drop it: "
            "leave it out (participants, sites and lots are described in the ree: members)"
        )
    return f"{name} is not a member capture reads, so the ledger would drop it: leave it out"


def _invalid(field: str, value: object, detail: str, position: int | None = None) -> Rejection:
    """422 `epcis_document_invalid` at `field`; the detail ends with the value, if one was given."""
    if value is _MISSING:
        exc = Rejection(Kind.INVALID, "epcis_document_invalid", detail, field=field)
    else:
        shown = f"{detail}; got {_show(value)}"
        exc = Rejection(
            Kind.INVALID, "epcis_document_invalid", shown, field=field, value=_value(value)
        )
    exc.position = position
    return exc


def _value(value: object) -> str | int | bool | None:
    """The value as a problem shows it: short strings and integers as they are, others as JSON."""
    if value is None or (isinstance(value, int) and abs(value) <= MAX_INDEX):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=True)
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 3] + "..."


def _show(value: object) -> str:
    return json.dumps(_value(value), ensure_ascii=True)
