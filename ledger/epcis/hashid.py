"""The CBV 2.0 EPCIS event hash ID: the canonical pre-hash string of an event, and its ni: URI.

CBV 2.0 §8.9 (the algorithm of github.com/RalphTro/epcis-event-hash-generator): the event's
members in the canonical property order, each `key=value`, no separators; list members sorted;
timestamps in UTC with milliseconds; CBV values as Web URIs; user extensions as
`{namespace}local=value`, sorted, last. docs/epcis.md lists what this implementation simplifies.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from ledger.epcis.vocabulary import CBV, GS1_VOC, cbv_uri

HASH_ID_PATTERN = re.compile(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0")
# The CURIE prefixes the GS1 EPCIS context defines (CBV 2.0 §8.9, rule 15).
STANDARD_PREFIXES = MappingProxyType(
    {"gs1": GS1_VOC, "cbv": CBV, "epcis": "https://ref.gs1.org/epcis/"}
)
# Not part of the hash: the ID itself, when the event was recorded, corrections, comments.
EXCLUDED = frozenset(
    {"type", "eventID", "recordTime", "errorDeclaration", "certificationInfo", "@context"}
    | {"rdfs:comment", "comment"}
)
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?(.+)")
_METADATA_ORDER = (
    "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
    "dataProcessingMethod", "bizRules",
)  # fmt: skip
_REPORT_ORDER = (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod",
    "time", "microorganism", "chemicalSubstance", "value", "component", "stringValue",
    "booleanValue", "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev",
    "percRank", "percValue", "uom", "coordinateReferenceSystem",
)  # fmt: skip
_TIME_KEYS = frozenset({"eventTime", "time", "startTime", "endTime"})

Namespaces = Mapping[str, str]


def event_hash_id(event: Mapping[str, Any], namespaces: Namespaces) -> str:
    """`ni:///sha-256;<hex>?ver=CBV2.0` of the event's pre-hash string."""
    digest = hashlib.sha256(pre_hash_string(event, namespaces).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash_string(event: Mapping[str, Any], namespaces: Namespaces) -> str:
    """The canonical pre-hash string; `namespaces` maps the document's CURIE prefixes."""
    ns = {**STANDARD_PREFIXES, **namespaces}
    parts = [f"eventType={event['type']}"]
    for name, render in _ORDER:
        if name in event:
            parts.append(render(name, event[name], ns))
    extensions = (
        text
        for key, value in event.items()
        if key not in EXCLUDED and key not in _STANDARD
        for text in _extension(key, value, ns)
    )
    parts.extend(sorted(extensions))
    return "".join(parts)


def namespaces_of(context: object) -> dict[str, str]:
    """The `prefix: IRI` entries of a JSON-LD @context (string, object or array)."""
    found: dict[str, str] = {}
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, dict):
            found.update({k: v for k, v in item.items() if isinstance(v, str)})
    return found


def _value(value: object, ns: Namespaces) -> str:
    """A leaf value: trimmed; numbers without trailing zeros; CBV URNs and CURIEs expanded."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(str(value) if isinstance(value, int) else repr(value))
    text = str(value).strip()
    if _NUMBER.fullmatch(text):
        return _number(text)
    text = cbv_uri("", text) if text.startswith("urn:epcglobal:cbv:") else text
    prefix, sep, local = text.partition(":")
    if sep and prefix in ns and not local.startswith("//"):
        return ns[prefix] + local
    return text


def _number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def _time(value: object) -> str:
    """UTC with exactly three fraction digits, the third rounded half up (CBV rules 8–9)."""
    match = _TIME.fullmatch(str(value).strip())
    if match is None:
        return str(value).strip()
    whole, fraction, zone = match.group(1), match.group(2) or "", match.group(3)
    try:
        moment = datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return str(value).strip()
    millis = int(fraction[:3].ljust(3, "0")) + (1 if fraction[3:4] >= "5" else 0)
    moment = (moment + timedelta(milliseconds=millis)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _key(key: str, ns: Namespaces) -> str:
    prefix, sep, local = key.partition(":")
    return "{" + ns[prefix] + "}" + local if sep and prefix in ns else key


def _extension(key: str, value: object, ns: Namespaces) -> list[str]:
    """User extension members: `{namespace}local=value`; nested members sorted inside."""
    name = _key(key, ns)
    if isinstance(value, list):
        return [text for item in value for text in _extension(key, item, ns)]
    if isinstance(value, dict):
        inner = sorted(text for k, v in value.items() for text in _extension(k, v, ns))
        return [name + "".join(inner)]
    if value is None:
        return [name]
    text = _value(value, ns)
    return [f"{name}={text}" if text else name]


def _plain(name: str, value: object, ns: Namespaces) -> str:
    return f"{name}={_time(value) if name in _TIME_KEYS else _value(value, ns)}"


def _vocabulary(kind: str) -> Callable[[str, object, Namespaces], str]:
    def render(name: str, value: object, ns: Namespaces) -> str:
        return f"{name}={_value(cbv_uri(kind, str(value).strip()), ns)}"

    return render


def _epcs(name: str, value: object, ns: Namespaces) -> str:
    items = value if isinstance(value, list) else []
    return name + "".join(sorted(f"epc={_value(epc, ns)}" for epc in items))


def _quantities(name: str, value: object, ns: Namespaces) -> str:
    def element(item: Mapping[str, Any]) -> str:
        fields = "".join(
            f"{k}={_value(item[k], ns)}" for k in ("epcClass", "quantity", "uom") if k in item
        )
        return "quantityElement" + fields

    items = value if isinstance(value, list) else []
    return name + "".join(sorted(element(item) for item in items if isinstance(item, dict)))


def _persistent(name: str, value: object, ns: Namespaces) -> str:
    fields = value if isinstance(value, dict) else {}
    parts = [
        f"{key}={_value(cbv_uri('Disp', str(item)), ns)}"
        for key in ("set", "unset")
        for item in sorted(fields.get(key, []))
    ]
    return name + "".join(parts)


def _location(name: str, value: object, ns: Namespaces) -> str:
    fields = value if isinstance(value, dict) else {}
    return name + _ordered(fields, ("id",), ns)


def _typed(member: str, kind: str) -> Callable[[str, object, Namespaces], str]:
    """bizTransaction, source, destination lists: `type=` first, then the identifier."""

    def element(item: Mapping[str, Any], ns: Namespaces) -> str:
        kind_part = f"type={_value(cbv_uri(kind, item['type']), ns)}" if "type" in item else ""
        return kind_part + f"{member}={_value(item.get(member, ''), ns)}"

    def render(name: str, value: object, ns: Namespaces) -> str:
        items = value if isinstance(value, list) else []
        return name + "".join(sorted(element(i, ns) for i in items if isinstance(i, dict)))

    return render


def _ordered(fields: Mapping[str, Any], order: tuple[str, ...], ns: Namespaces) -> str:
    """Standard members in `order`, then the element's own extensions, sorted."""
    parts = [_report_field(key, fields[key], ns) for key in order if key in fields]
    extras = (t for k, v in fields.items() if k not in order for t in _extension(k, v, ns))
    return "".join(parts) + "".join(sorted(extras))


def _report_field(key: str, value: object, ns: Namespaces) -> str:
    if key in _TIME_KEYS:
        return f"{key}={_time(value)}"
    text = str(value).strip()
    if key in ("type", "exception") and ":" not in text:
        return f"{key}={GS1_VOC}{text}"
    if key == "component" and ":" not in text:
        return f"{key}={CBV}Comp-{text}"
    return f"{key}={_value(value, ns)}"


def _sensors(name: str, value: object, ns: Namespaces) -> str:
    def element(fields: Mapping[str, Any]) -> str:
        meta = fields.get("sensorMetadata")
        text = "sensorElement"
        if isinstance(meta, dict):
            text += "sensorMetadata" + _ordered(meta, _METADATA_ORDER, ns)
        reports = fields.get("sensorReport", [])
        text += "".join(
            sorted(
                "sensorReport" + _ordered(r, _REPORT_ORDER, ns)
                for r in reports
                if isinstance(r, dict)
            )
        )
        extras = (
            t for k, v in fields.items() if k not in ("sensorMetadata", "sensorReport")
            for t in _extension(k, v, ns)
        )  # fmt: skip
        return text + "".join(sorted(extras))

    items = value if isinstance(value, list) else []
    return name + "".join(sorted(element(item) for item in items if isinstance(item, dict)))


def _ilmd(name: str, value: object, ns: Namespaces) -> str:
    fields = value if isinstance(value, dict) else {}
    return name + "".join(sorted(t for k, v in fields.items() for t in _extension(k, v, ns)))


# CBV 2.0 §8.9.2, the canonical property order (eventType comes first, extensions last).
_ORDER: tuple[tuple[str, Callable[[str, object, Namespaces], str]], ...] = (
    ("eventTime", _plain),
    ("eventTimeZoneOffset", _plain),
    ("epcList", _epcs),
    ("parentID", _plain),
    ("inputEPCList", _epcs),
    ("childEPCs", _epcs),
    ("quantityList", _quantities),
    ("childQuantityList", _quantities),
    ("inputQuantityList", _quantities),
    ("outputEPCList", _epcs),
    ("outputQuantityList", _quantities),
    ("action", _plain),
    ("transformationID", _plain),
    ("bizStep", _vocabulary("BizStep")),
    ("disposition", _vocabulary("Disp")),
    ("persistentDisposition", _persistent),
    ("readPoint", _location),
    ("bizLocation", _location),
    ("bizTransactionList", _typed("bizTransaction", "BTT")),
    ("sourceList", _typed("source", "SDT")),
    ("destinationList", _typed("destination", "SDT")),
    ("sensorElementList", _sensors),
    ("ilmd", _ilmd),
)
_STANDARD = frozenset(name for name, _ in _ORDER)
