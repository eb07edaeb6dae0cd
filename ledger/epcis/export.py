"""Ledger events as EPCIS 2.0 events and documents (the mapping table of docs/epcis.md)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import msgspec

from ledger.epcis import vocabulary as voc
from ledger.epcis.hashid import event_hash_id
from ledger.lots.events import (
    CustomsDecide,
    Event,
    ExportDeclare,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
)

EPCIS_TYPE = MappingProxyType(
    {
        "lot.extract": "ObjectEvent",
        "lot.transform": "TransformationEvent",
        "lot.assay": "ObjectEvent",
        "lot.ship": "ObjectEvent",
        "lot.receive": "ObjectEvent",
        "export.declare": "TransactionEvent",
        "customs.decide": "TransactionEvent",
    }
)
LOT_EVENT_TYPES = frozenset(EPCIS_TYPE)
BIZ_STEP = MappingProxyType(
    {
        "lot.extract": "commissioning",
        "lot.transform": "commissioning",
        "lot.assay": "inspecting",
        "lot.ship": "shipping",
        "lot.receive": "receiving",
        "export.declare": "holding",
        "customs.decide": "inspecting",
    }
)
DECISION_DISPOSITION = MappingProxyType(
    {"release": "conformant", "hold": "unavailable", "seize": "non_conformant"}
)
# Members an exported event may carry that the ledger event itself does not determine: ours
# carry eventID and ree:index; recordTime is another repository's (the ledger signs no time of
# its own, so it writes none: docs/epcis.md).
EXPORT_ONLY = frozenset({"eventID", "recordTime", "ree:index"})


@dataclass(frozen=True)
class LedgerEntry:
    """A lot event as the ledger holds it: the signed envelope and what it parses to."""

    event: Event
    envelope: dict[str, Any]  # the DSSE envelope object, as stored
    event_hash: str
    index: int | None = None  # None until the log has assigned one (a capture document)


def namespaces() -> dict[str, str]:
    """The CURIE prefixes our documents declare, for the event hash ID."""
    return {voc.REE_PREFIX: voc.REE_NAMESPACE}


def context() -> list[object]:
    return [voc.EPCIS_CONTEXT, dict(voc.REE_CONTEXT)]


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and `Z`; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epcis_event(entry: LedgerEntry, origin: str) -> dict[str, Any]:
    """The EPCIS event for a ledger lot event, with its CBV 2.0 event hash ID as eventID."""
    event = entry.event
    if event.type not in EPCIS_TYPE:
        raise ValueError(f"{event.type} is a registry event: it has no EPCIS form")
    body: dict[str, Any] = {
        "type": EPCIS_TYPE[event.type],
        "eventTime": event.time,
        "eventTimeZoneOffset": "+00:00",
    }
    body.update(_BUILDERS[event.type](event, origin))
    body.update(_ledger_fields(entry))
    eventid = event_hash_id(body, namespaces())
    return {"type": body.pop("type"), "eventID": eventid, **body}


def epcis_document(events: Sequence[dict[str, Any]], created: datetime) -> dict[str, Any]:
    """An EPCISDocument holding `events` in the order given."""
    return {
        "@context": context(),
        "type": "EPCISDocument",
        "schemaVersion": voc.SCHEMA_VERSION,
        "creationDate": rfc3339(created),
        "epcisBody": {"eventList": list(events)},
    }


def query_document(
    events: Sequence[dict[str, Any]], created: datetime, query_name: str = "SimpleEventQuery"
) -> dict[str, Any]:
    """An EPCISQueryDocument whose results are `events`."""
    return {
        "@context": context(),
        "type": "EPCISQueryDocument",
        "schemaVersion": voc.SCHEMA_VERSION,
        "creationDate": rfc3339(created),
        "epcisBody": {
            "queryResults": {"queryName": query_name, "resultsBody": {"eventList": list(events)}}
        },
    }


def _ledger_fields(entry: LedgerEntry) -> dict[str, Any]:
    """The ree: members every event carries: who signed what, the chain, the entry itself."""
    event = entry.event
    fields: dict[str, Any] = {
        "ree:type": event.type,
        "ree:id": event.id,
        "ree:actor": event.actor,
        "ree:keyid": entry.envelope["signatures"][0]["keyid"],
        "ree:prev": dict(event.prev),
        "ree:eventHash": entry.event_hash,
    }
    if entry.index is not None:
        fields["ree:index"] = entry.index
    fields["ree:envelope"] = entry.envelope
    return fields


def _json(part: msgspec.Struct) -> dict[str, Any]:
    # Optional fields are absent or set (null is refused), and the structs omit an absent one;
    # through JSON, as its arrays are lists (to_builtins would keep the structs' tuples).
    built: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(part))
    return built


def _quantity(origin: str, lot: str, mass_g: int | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": voc.lot_urn(origin, lot)}
    if mass_g is not None:
        whole, rest = divmod(mass_g, voc.GRAMS_PER_KILOGRAM)
        element["quantity"] = whole if rest == 0 else mass_g / voc.GRAMS_PER_KILOGRAM
        element["uom"] = voc.UOM_KILOGRAM
    return element


def _parties(origin: str, sender: str, receiver: str) -> dict[str, Any]:
    # The ledger records custody, not ownership: both ends are possessing parties.
    return {
        "sourceList": [{"type": "possessing_party", "source": voc.participant_urn(origin, sender)}],
        "destinationList": [
            {"type": "possessing_party", "destination": voc.participant_urn(origin, receiver)}
        ],
    }


def _declaration_ref(origin: str, declaration_id: str) -> list[dict[str, str]]:
    return [
        {
            "type": voc.DECLARATION_TYPE,
            "bizTransaction": voc.declaration_urn(origin, declaration_id),
        }
    ]


def _extract(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, LotExtract)
    return {
        "action": "ADD",
        "quantityList": [_quantity(origin, event.lot.id, event.lot.mass_g)],
        "bizStep": BIZ_STEP[event.type],
        "disposition": "active",
        "ilmd": {"ree:lots": [_json(event.lot)]},
        "ree:site": _json(event.site),
        "ree:deposit": event.deposit,
    }


def _transform(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, LotTransform)
    return {
        "inputQuantityList": [_quantity(origin, ref.lot, ref.mass_g) for ref in event.inputs],
        "outputQuantityList": [_quantity(origin, lot.id, lot.mass_g) for lot in event.outputs],
        "bizStep": BIZ_STEP[event.type],
        "disposition": "active",
        "ilmd": {"ree:lots": [_json(lot) for lot in event.outputs]},
        "ree:process": event.process,
    }


def _assay(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, LotAssay)
    body: dict[str, Any] = {
        "action": "OBSERVE",
        "quantityList": [_quantity(origin, event.lot)],
        "bizStep": BIZ_STEP[event.type],
    }
    reports = [
        {
            "type": voc.PPM_MEASUREMENT,
            "chemicalSubstance": voc.element_uri(symbol),
            "value": ppm,
            "uom": voc.UOM_PPM,
        }
        for symbol, ppm in sorted(event.composition_ppm.items())
    ]
    if reports:  # the schema wants at least one report in a sensor element
        body["sensorElementList"] = [{"sensorReport": reports}]
    body["ree:method"] = event.method
    body["ree:lab"] = event.lab
    if event.certificate is not None:
        body["ree:certificate"] = event.certificate
    return body


def _ship(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, LotShip)
    body: dict[str, Any] = {
        "action": "OBSERVE",
        "quantityList": [_quantity(origin, ref.lot, ref.mass_g) for ref in event.lots],
        "bizStep": BIZ_STEP[event.type],
        "disposition": "in_transit",
        **_parties(origin, event.actor, event.to),
    }
    if event.transport is not None:
        body["ree:transport"] = _json(event.transport)
    return body


def _receive(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, LotReceive)
    return {
        "action": "OBSERVE",
        "quantityList": [_quantity(origin, ref.lot, ref.mass_g) for ref in event.lots],
        "bizStep": BIZ_STEP[event.type],
        "disposition": "in_progress",
        **_parties(origin, event.from_, event.actor),
    }


def _declare(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, ExportDeclare)
    declaration = event.declaration
    return {
        "action": "ADD",
        "bizTransactionList": _declaration_ref(origin, declaration.id),
        "quantityList": [_quantity(origin, lot) for lot in declaration.lots],
        "bizStep": BIZ_STEP[event.type],
        "ree:declaration": _json(declaration),
    }


def _decide(event: Event, origin: str) -> dict[str, Any]:
    assert isinstance(event, CustomsDecide)
    body: dict[str, Any] = {
        "action": "OBSERVE",
        "bizTransactionList": _declaration_ref(origin, event.declaration),
        # `prev` names exactly the declaration's lots (DESIGN §5).
        "quantityList": [_quantity(origin, lot) for lot in sorted(event.prev)],
        "bizStep": BIZ_STEP[event.type],
        "disposition": DECISION_DISPOSITION[event.decision],
        "ree:decision": event.decision,
    }
    if event.note is not None:
        body["ree:note"] = event.note
    return body


_BUILDERS: MappingProxyType[str, Callable[[Event, str], dict[str, Any]]] = MappingProxyType(
    {
        "lot.extract": _extract,
        "lot.transform": _transform,
        "lot.assay": _assay,
        "lot.ship": _ship,
        "lot.receive": _receive,
        "export.declare": _declare,
        "customs.decide": _decide,
    }
)
