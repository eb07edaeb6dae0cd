"""The event vocabulary of DESIGN §5: msgspec structs decoded from canonical payload bytes."""

from datetime import datetime
from typing import Annotated, ClassVar, get_args

import msgspec
from msgspec import Meta

from ledger.lots.event_errors import (
    NULL_MESSAGE,
    InvalidEvent,
    first_null,
    refused_event,
    strict_object,
)
from ledger.lots.event_parts import (
    Declaration,
    KeyRef,
    Licence,
    LotMasses,
    NewLot,
    ParticipantRecord,
    Quota,
    Site,
    Strict,
    Transport,
)
from ledger.lots.fields import (
    MAX_LOTS,
    Composition,
    Decision,
    DeclarationId,
    Deposit,
    EventId,
    Instant,
    KeyId,
    LicenceId,
    LotId,
    Name,
    ParticipantId,
    Prev,
    Process,
    ShortText,
    check_composition,
    check_instant,
)
from ledger.tlog.encoding import canonical
from ledger.tlog.errors import EncodingError

# InvalidEvent is raised by parse_event, defined with the wording of its details; the
# records are parts of events.
__all__ = [
    "Declaration", "InvalidEvent", "KeyRef", "Licence", "LotMasses", "NewLot",
    "ParticipantRecord", "Quota", "Site", "Transport",
]  # fmt: skip

REGISTRY_TYPES = frozenset(
    {"participant.register", "participant.key_add", "participant.key_revoke"}
)
# Posted by an `authority` participant (DESIGN §9.1); like registry events they touch no lot.
AUTHORITY_TYPES = frozenset({"licence.issue", "licence.revoke", "quota.issue"})


class EventBase(Strict, tag_field="type", frozen=True):
    """The fields every event carries; `type`, its tag, is the class's."""

    type: ClassVar[str]
    id: EventId
    actor: ParticipantId
    time: Instant
    prev: Prev

    def __post_init__(self) -> None:
        check_instant("time", self.time)

    @property
    def parsed_time(self) -> datetime:
        """`time` as an aware UTC datetime; the string itself is what was signed."""
        return datetime.fromisoformat(self.time)


class ParticipantRegister(EventBase, tag="participant.register", frozen=True):
    participant: ParticipantRecord


class ParticipantKeyAdd(EventBase, tag="participant.key_add", frozen=True):
    participant: ParticipantId
    key: KeyRef


class ParticipantKeyRevoke(EventBase, tag="participant.key_revoke", frozen=True):
    participant: ParticipantId
    keyid: KeyId


class LotExtract(EventBase, tag="lot.extract", frozen=True):
    lot: NewLot
    site: Site
    deposit: Deposit


class LotTransform(EventBase, tag="lot.transform", frozen=True):
    process: Process
    inputs: LotMasses
    outputs: Annotated[tuple[NewLot, ...], Meta(min_length=1, max_length=MAX_LOTS)]


class LotAssay(EventBase, tag="lot.assay", frozen=True):
    lot: LotId
    composition_ppm: Composition
    method: ShortText
    lab: Name
    certificate: Name | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_composition("composition_ppm", self.composition_ppm)


class LotShip(EventBase, tag="lot.ship", frozen=True):
    to: ParticipantId
    lots: LotMasses
    transport: Transport | None = None


class LotReceive(EventBase, tag="lot.receive", frozen=True):
    from_: ParticipantId = msgspec.field(name="from")
    lots: LotMasses


class ExportDeclare(EventBase, tag="export.declare", frozen=True):
    declaration: Declaration


class CustomsDecide(EventBase, tag="customs.decide", frozen=True):
    declaration: DeclarationId
    decision: Decision
    note: Name | None = None


class LicenceIssue(EventBase, tag="licence.issue", frozen=True):
    licence: Licence


class LicenceRevoke(EventBase, tag="licence.revoke", frozen=True):
    licence: LicenceId
    reason: Name


class QuotaIssue(EventBase, tag="quota.issue", frozen=True):
    quota: Quota


Event = (
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
    | QuotaIssue
)
# Each event's `type` is its class's tag, written once, in the class statement.
for _member in get_args(Event):
    _member.type = str(_member.__struct_config__.tag)
EVENT_TYPES = frozenset(member.type for member in get_args(Event))

_DECODE = msgspec.json.Decoder(Event).decode


def parse_event(payload: bytes) -> Event:
    """Parse canonical payload bytes into an event; raise InvalidEvent naming the bad field."""
    try:
        event: Event = _DECODE(payload)
    # msgspec reads invalid UTF-8 in a key as a UnicodeDecodeError, not a DecodeError.
    except (msgspec.MsgspecError, RecursionError, UnicodeDecodeError) as exc:
        raise refused_event(payload, exc, Event) from exc
    # The bytes are canonical if they are the event's own encoding; otherwise the strict
    # reading decides (non-ASCII text, or bytes that are not canonical, or a null).
    if payload.isascii() and _canonical_or_none(event) == payload:
        return event
    null = first_null(strict_object(payload))
    if null is not None:
        raise InvalidEvent("invalid_field", null, None, f"{null}: {NULL_MESSAGE} (got null)")
    return event


def _canonical_or_none(event: Event) -> bytes | None:
    # Plain by type: strings, booleans and integers within ±10**15 under ASCII field names
    # (tests/property/test_event_fast.py holds every struct to that).
    try:
        return canonical(event, plain=True)
    except EncodingError:  # an integer beyond ±(2**53-1): the strict reading words it
        return None


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
