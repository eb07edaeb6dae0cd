"""The event vocabulary of DESIGN §5: strict pydantic models parsed from canonical payload bytes."""

import json
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from ledger.lots.fields import (
    MAX_KEYS,
    MAX_LOTS,
    Composition,
    Country,
    Decision,
    DeclarationId,
    Deposit,
    Elements,
    EventId,
    HsCode,
    Instant,
    KeyId,
    LicenceId,
    LotId,
    LotIds,
    Mass,
    Name,
    OptionalComposition,
    OptionalCountries,
    OptionalDeposit,
    OptionalGeo,
    OptionalHsCodes,
    OptionalName,
    OptionalSpec,
    ParticipantId,
    Prev,
    Process,
    Product,
    PublicKey,
    QuotaId,
    RegisteredId,
    Roles,
    ShortText,
    SiteId,
    Year,
    absent_not_null,
    as_tuple,
)
from ledger.tlog.encoding import b64decode, encodes_to, is_plain, parse_canonical, scan_object
from ledger.tlog.errors import EncodingError

REGISTRY_TYPES = frozenset(
    {"participant.register", "participant.key_add", "participant.key_revoke"}
)
# Posted by an `authority` participant (DESIGN §9.1); like registry events they touch no lot.
AUTHORITY_TYPES = frozenset({"licence.issue", "licence.revoke", "quota.issue"})
VALUE_PREVIEW = 80


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class KeyRef(_Strict):
    keyid: KeyId
    public_key: PublicKey

    @property
    def raw_public_key(self) -> bytes:
        return b64decode(self.public_key)


class ParticipantRecord(_Strict):
    id: RegisteredId
    name: Name
    country: Country
    roles: Roles
    keys: Annotated[
        tuple[KeyRef, ...], BeforeValidator(as_tuple), Field(min_length=1, max_length=MAX_KEYS)
    ]


class NewLot(_Strict):
    id: LotId
    product: Product
    mass_g: Mass
    composition_ppm: Composition
    spec: OptionalSpec = None


class Site(_Strict):
    id: SiteId
    name: Name
    country: Country
    geo: OptionalGeo = None


class LotMass(_Strict):
    lot: LotId
    mass_g: Mass


LotMasses = Annotated[
    tuple[LotMass, ...], BeforeValidator(as_tuple), Field(min_length=1, max_length=MAX_LOTS)
]


class Transport(_Strict):
    mode: ShortText
    document: Name


class Declaration(_Strict):
    id: DeclarationId
    lots: LotIds
    hs_code: HsCode
    description: Name
    declared_mass_g: Mass
    declared_composition_ppm: OptionalComposition = None
    destination: Country
    licence: OptionalName = None


class Licence(_Strict):
    id: LicenceId
    holder: RegisteredId
    elements: Elements
    destination: OptionalCountries = None
    hs_codes: OptionalHsCodes = None
    max_mass_g: Mass
    valid_from: Instant
    valid_until: Instant


class Quota(_Strict):
    id: QuotaId
    holder: RegisteredId
    year: Year
    reo_mass_g: Mass
    deposit: OptionalDeposit = None


class EventBase(_Strict):
    """The fields every event carries."""

    id: EventId
    actor: ParticipantId
    time: Instant
    prev: Prev

    @property
    def parsed_time(self) -> datetime:
        """`time` as an aware UTC datetime; the string itself is what was signed."""
        return datetime.fromisoformat(self.time)


class ParticipantRegister(EventBase):
    type: Literal["participant.register"]
    participant: ParticipantRecord


class ParticipantKeyAdd(EventBase):
    type: Literal["participant.key_add"]
    participant: ParticipantId
    key: KeyRef


class ParticipantKeyRevoke(EventBase):
    type: Literal["participant.key_revoke"]
    participant: ParticipantId
    keyid: KeyId


class LotExtract(EventBase):
    type: Literal["lot.extract"]
    lot: NewLot
    site: Site
    deposit: Deposit


class LotTransform(EventBase):
    type: Literal["lot.transform"]
    process: Process
    inputs: LotMasses
    outputs: Annotated[
        tuple[NewLot, ...], BeforeValidator(as_tuple), Field(min_length=1, max_length=MAX_LOTS)
    ]


class LotAssay(EventBase):
    type: Literal["lot.assay"]
    lot: LotId
    composition_ppm: Composition
    method: ShortText
    lab: Name
    certificate: OptionalName = None


class LotShip(EventBase):
    type: Literal["lot.ship"]
    to: ParticipantId
    lots: LotMasses
    transport: Annotated[Transport | None, BeforeValidator(absent_not_null)] = None


class LotReceive(EventBase):
    type: Literal["lot.receive"]
    from_: ParticipantId = Field(alias="from")
    lots: LotMasses


class ExportDeclare(EventBase):
    type: Literal["export.declare"]
    declaration: Declaration


class CustomsDecide(EventBase):
    type: Literal["customs.decide"]
    declaration: DeclarationId
    decision: Decision
    note: OptionalName = None


class LicenceIssue(EventBase):
    type: Literal["licence.issue"]
    licence: Licence


class LicenceRevoke(EventBase):
    type: Literal["licence.revoke"]
    licence: LicenceId
    reason: Name


class QuotaIssue(EventBase):
    type: Literal["quota.issue"]
    quota: Quota


Event = Annotated[
    ParticipantRegister
    | ParticipantKeyAdd
    | ParticipantKeyRevoke
    | LotExtract
    | LotTransform
    | LotAssay
    | LotShip
    | LotReceive
    | ExportDeclare
    | CustomsDecide
    | LicenceIssue
    | LicenceRevoke
    | QuotaIssue,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
# The `type` tag of each member of the union, read from its Literal annotation.
EVENT_TYPES = frozenset(
    get_args(model.model_fields["type"].annotation)[0] for model in get_args(get_args(Event)[0])
)


class InvalidEvent(Exception):
    """The payload is not a well-formed event (HTTP 400); nothing about it is trusted."""

    status = 400

    def __init__(self, code: str, field: str, value: object, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.field = field
        self.value = value
        self.detail = detail


def parse_event(payload: bytes) -> Event:
    """Parse canonical payload bytes into an event; raise InvalidEvent naming the bad field."""
    # Read without a hook per number: an event takes no number but an integer within ±10**15
    # (tests/property/test_event_fast.py), so a valid event from canonical bytes, or a plain
    # invalid one, is what the path below would read and give or refuse.
    obj = scan_object(payload)
    if obj is not None:
        try:
            event = _EVENT.validate_python(obj)
        except ValidationError as exc:
            if is_plain(obj) and encodes_to(obj, payload):
                raise _invalid(exc.errors(include_url=False)[0]) from exc
        else:
            if encodes_to(obj, payload):
                return event
    try:
        obj = parse_canonical(payload)
    except EncodingError as exc:
        value, _ = _preview(payload.decode("utf-8", "replace"))
        raise InvalidEvent("malformed_payload", "payload", value, f"payload: {exc}") from exc
    try:
        return _EVENT.validate_python(obj)
    except ValidationError as exc:
        raise _invalid(exc.errors(include_url=False)[0]) from exc


def is_registry(event: Event) -> bool:
    """Tell whether `event` is a registry event, which only the operator may post."""
    return event.type in REGISTRY_TYPES


def touched_lots(event: Event) -> frozenset[str]:
    """The existing lots `event` names, whose heads `prev` must carry.

    A `customs.decide` touches the lots of its declaration, which only the state knows:
    it gives the empty set here.
    """
    match event:
        case LotTransform():
            return frozenset(ref.lot for ref in event.inputs)
        case LotShip() | LotReceive():
            return frozenset(ref.lot for ref in event.lots)
        case LotAssay():
            return frozenset({event.lot})
        case ExportDeclare():
            return frozenset(event.declaration.lots)
        case _:
            return frozenset()


def _invalid(error: ErrorDetails) -> InvalidEvent:
    kind, loc, given = error["type"], error["loc"], error["input"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = given.get("type") if isinstance(given, dict) else None
        value, shown = _preview(tag)
        said = "is absent" if tag is None else f"{shown} is not an event type"
        detail = f"type: {said}; use one of {', '.join(sorted(EVENT_TYPES))}"
        return InvalidEvent("unknown_event_type", "type", value, detail)
    # loc[0] is the union tag; "[key]" marks an error in a dict key rather than its value.
    field = ".".join(str(part) for part in loc[1:] if part != "[key]")
    if kind == "missing":
        return InvalidEvent("missing_field", field, None, f"{field}: required field is absent")
    value, shown = _preview(given)
    if kind == "extra_forbidden":
        detail = f"{field}: unknown field (value {shown}); remove it, DESIGN §5 lists the fields"
        return InvalidEvent("unknown_field", field, value, detail)
    message = error["msg"][0].lower() + error["msg"][1:]
    return InvalidEvent("invalid_field", field, value, f"{field}: {message} (got {shown})")


def _preview(given: object) -> tuple[object, str]:
    """The value to carry in the error, and its JSON spelling for the detail, both shortened."""
    # ASCII-only JSON escapes every control character, so the detail is safe to print anywhere.
    if isinstance(given, str):
        short = _shorten(given)
        return short, json.dumps(short, ensure_ascii=True)
    shown = _shorten(json.dumps(given, ensure_ascii=True, default=repr))
    if given is None or isinstance(given, bool | int):
        return given, shown
    return shown, shown


def _shorten(text: str) -> str:
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 3] + "..."
