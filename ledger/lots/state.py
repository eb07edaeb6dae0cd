"""The custody state machine (pure): which key may sign an entry and what an event changes."""

from datetime import UTC, datetime, timedelta

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots import custody, declarations, licences, registry
from ledger.lots.events import (
    CustomsDecide,
    Event,
    ExportDeclare,
    LicenceIssue,
    LicenceRevoke,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
    ParticipantKeyAdd,
    ParticipantKeyRevoke,
    ParticipantRegister,
    QuotaIssue,
    is_registry,
)
from ledger.lots.fields import OPERATOR
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.records import (
    DeclarationState,
    Edge,
    Effects,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
    Rejection,
    StateReader,
)

__all__ = [
    "FUTURE_TOLERANCE",
    "CustodyPolicy",
    "DeclarationState",
    "Edge",
    "Effects",
    "KeyState",
    "LicenceState",
    "LotState",
    "ParticipantState",
    "QuotaState",
    "Rejection",
    "StateReader",
    "apply_event",
    "authorise_key",
]

# Clocks drift; an event dated further ahead than this is refused (DESIGN §5).
FUTURE_TOLERANCE = timedelta(minutes=5)


def authorise_key(
    keyid: str, actor: str, index: int, reader: StateReader, operator_keyid: str
) -> bytes | None:
    """The raw public key that must have signed the entry at `index` for `actor`.

    Returns None for the operator, whose key the caller holds. Whether the event is one the
    operator may post (registry events only) is checked by `apply_event`, which sees its type.
    """
    if actor == OPERATOR or keyid == operator_keyid:
        if keyid != operator_keyid:
            detail = f"is not the operator key {operator_keyid!r}, the only key of 'operator'"
            raise _key_rejection("operator_key_required", keyid, detail)
        if actor != OPERATOR:
            detail = f"is the operator key; it signs only as 'operator', not as {actor!r}"
            raise _key_rejection("actor_not_key_owner", keyid, detail)
        return None
    key = reader.key(keyid)
    if key is None:
        detail = "is not registered; ask the operator to register it"
        raise _key_rejection("unknown_key", keyid, detail)
    if key.revoked_at is not None and index >= key.revoked_at:
        detail = f"was revoked at entry {key.revoked_at}; sign with a current key"
        raise _key_rejection("revoked_key", keyid, detail)
    if not key.valid_at(index):
        detail = f"is valid only after entry {key.valid_from}"
        raise _key_rejection("key_not_yet_valid", keyid, detail)
    if key.participant != actor:
        detail = f"belongs to {key.participant!r}, not to the actor {actor!r}"
        raise _key_rejection("actor_not_key_owner", keyid, detail)
    return key.public_key


def apply_event(
    event: Event,
    event_hash: str,
    index: int,
    reader: StateReader,
    now: datetime | None,
    policy: CustodyPolicy = DEFAULT_POLICY,
) -> Effects:
    """The state `event` produces as entry `index`, or a Rejection saying why it is refused.

    Checks run in this order: event id, time, who may post the type, then per type: the
    actor's role, the lots exist, `prev` carries their heads, custody, lot status, mass, new
    ids. `now` must be timezone-aware; None skips the check against the clock (replaying the
    log), never the checks of `policy`, which a replay must apply as the ledger did.
    """
    earlier = reader.event_index(event.id)
    if earlier is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_event_id",
            f"id: event id {event.id!r} was already used by entry {earlier}; if this is a retry "
            "the event is recorded there, otherwise choose a new id",
            field="id",
            value=event.id,
        )
    when = event.parsed_time
    if when < policy.earliest_time:
        raise Rejection(
            Kind.INVALID,
            "time_too_early",
            f"time: {event.time} is before {_instant(policy.earliest_time)}, the earliest time "
            "this ledger accepts; date the event when it happened",
            field="time",
            value=event.time,
        )
    if now is not None and when > now + FUTURE_TOLERANCE:
        raise Rejection(
            Kind.INVALID,
            "time_in_future",
            f"time: {event.time} is more than 5 minutes after the ledger's clock "
            f"({now.isoformat()}); date the event when it happened",
            field="time",
            value=event.time,
        )
    _check_operator(event)
    effects = _transition(event, event_hash, index, reader, policy)
    # Every lot the event touched or made now carries the event's time (rules compare to it).
    # The custody transitions date their lots themselves; the others are dated here. An assay
    # dates its lot itself: a certificate dated at its sampling does not set the clock back.
    if isinstance(event, LotAssay):
        return effects
    time = event.time
    for lot in effects.lots:
        if lot.time != time:
            dated = tuple(
                lot if lot.time == time else replace(lot, time=time) for lot in effects.lots
            )
            return replace(effects, lots=dated)
    return effects


def _transition(
    event: Event, event_hash: str, index: int, reader: StateReader, policy: CustodyPolicy
) -> Effects:
    match event:
        case ParticipantRegister():
            return registry.register(event, index, reader)
        case ParticipantKeyAdd():
            return registry.add_key(event, index, reader)
        case ParticipantKeyRevoke():
            return registry.revoke_key(event, index, reader)
        case LotExtract():
            return custody.extract(event, event_hash, index, reader)
        case LotTransform():
            return custody.transform(event, event_hash, index, reader)
        case LotAssay():
            return custody.assay(event, event_hash, index, reader)
        case LotShip():
            return custody.ship(event, event_hash, index, reader)
        case LotReceive():
            return custody.receive(event, event_hash, index, reader)
        case ExportDeclare():
            return declarations.declare(event, event_hash, index, reader)
        case CustomsDecide():
            return declarations.decide(event, event_hash, index, reader, policy)
        case LicenceIssue():
            return licences.issue_licence(event, index, reader)
        case LicenceRevoke():
            return licences.revoke_licence(event, index, reader)
        case QuotaIssue():
            return licences.issue_quota(event, index, reader)


def _check_operator(event: Event) -> None:
    """Registry events are the operator's, and the operator posts nothing else."""
    if is_registry(event) != (event.actor == OPERATOR):
        who = "only the operator" if is_registry(event) else "participants, not the operator"
        raise Rejection(
            Kind.FORBIDDEN,
            "role_not_allowed",
            f"actor: {event.type} is posted by {who}; actor is {event.actor!r}",
            field="actor",
            value=event.actor,
        )


def _instant(moment: datetime) -> str:
    """`moment` in the event time's own spelling, RFC 3339 UTC with Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _key_rejection(code: str, keyid: str, detail: str) -> Rejection:
    field = "signatures.0.keyid"
    return Rejection(
        Kind.FORBIDDEN, code, f"{field}: key {keyid!r} {detail}", field=field, value=keyid
    )
