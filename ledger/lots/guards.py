"""Checks shared by the transitions: each one passes or raises the Rejection that says why not."""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots.records import (
    ACTIVE,
    CONSUMED,
    DECLARED,
    EXPORTED,
    IN_TRANSIT,
    SEIZED,
    LotState,
    ParticipantState,
    Rejection,
    StateReader,
)

# Each status names what the holder should wait for, or that the lot is final.
_STATUS_HINT = {
    ACTIVE: "it is neither shipped nor declared",
    IN_TRANSIT: "it is in transit: it can be received, nothing else",
    DECLARED: "it awaits a customs decision",
    EXPORTED: "it was exported and is final",
    SEIZED: "it was seized and is final",
    CONSUMED: "it was consumed whole and is final",
}

# (field path, lot id): where an event names a lot, so that a rejection can point at it.
LotRef = tuple[str, str]


def require_participant(reader: StateReader, participant_id: str, field: str) -> ParticipantState:
    found = reader.participant(participant_id)
    if found is None:
        raise Rejection(
            Kind.NOT_FOUND,
            "unknown_participant",
            f"{field}: participant {participant_id!r} is not registered; ask the operator to "
            "register it first",
            field=field,
            value=participant_id,
        )
    return found


def require_role(
    reader: StateReader, actor: str, roles: Collection[str], event_type: str
) -> ParticipantState:
    participant = require_participant(reader, actor, "actor")
    if participant.roles.isdisjoint(roles):
        raise Rejection(
            Kind.FORBIDDEN,
            "role_not_allowed",
            f"actor: {actor!r} has roles {sorted(participant.roles)}; {event_type} needs one of "
            f"{sorted(roles)}",
            field="actor",
            value=actor,
        )
    return participant


def require_lots(reader: StateReader, refs: Sequence[LotRef]) -> list[LotState]:
    """The lots the event names, each once, all existing."""
    seen: set[str] = set()
    lots = []
    for field, lot_id in refs:
        if lot_id in seen:
            raise Rejection(
                Kind.INVALID,
                "repeated_lot",
                f"{field}: lot {lot_id!r} is named twice in this event; name each lot once",
                field=field,
                value=lot_id,
            )
        seen.add(lot_id)
        lot = reader.lot(lot_id)
        if lot is None:
            raise Rejection(
                Kind.NOT_FOUND,
                "unknown_lot",
                f"{field}: lot {lot_id!r} does not exist; check the id or record its origin first",
                field=field,
                value=lot_id,
            )
        lots.append(lot)
    return lots


def check_prev(prev: Mapping[str, str], lots: Sequence[LotState]) -> None:
    """`prev` names exactly `lots`, each with its current head.

    A missing head is stale (409, like a wrong one): the client built the event on a state
    it did not fully read. A lot the event does not touch is a malformed claim (422).
    """
    heads = {lot.id: lot.head for lot in lots}
    for lot_id in prev:
        if lot_id not in heads:
            touched = ", ".join(sorted(heads)[:5]) + (", ..." if len(heads) > 5 else "")
            raise Rejection(
                Kind.INVALID,
                "prev_mismatch",
                f"prev.{lot_id}: this event does not touch lot {lot_id!r}; prev must name "
                f"exactly the lots it touches: {{{touched}}}",
                field=f"prev.{lot_id}",
                value=lot_id,
            )
    for lot in lots:
        given = prev.get(lot.id)
        if given != lot.head:
            said = "is missing" if given is None else f"is {given}"
            # The head is public (the lot's open page shows it); the entry that made it is not.
            raise Rejection(
                Kind.CONFLICT,
                "stale_prev",
                f"prev.{lot.id} {said} but the head of lot {lot.id!r} is {lot.head}; read the "
                "lot again and rebuild the event",
                field=f"prev.{lot.id}",
                value=given,
            )


def require_custodian(lots: Sequence[LotState], refs: Sequence[LotRef], actor: str) -> None:
    # A refusal tells the sender what it may read (DESIGN §6), so never who does hold the lot.
    for lot, (field, _) in zip(lots, refs, strict=True):
        if lot.custodian != actor:
            raise Rejection(
                Kind.FORBIDDEN,
                "not_custodian",
                f"{field}: lot {lot.id!r} is not in the custody of {actor!r}; only the lot's "
                "custodian may post this event",
                field=field,
                value=lot.id,
            )


def require_status(
    lots: Sequence[LotState], refs: Sequence[LotRef], allowed: Collection[str], code: str
) -> None:
    for lot, (field, _) in zip(lots, refs, strict=True):
        if lot.status not in allowed:
            hint = _STATUS_HINT.get(lot.status, lot.status)
            raise Rejection(
                Kind.CONFLICT,
                code,
                f"{field}: lot {lot.id!r} is {lot.status} ({hint}); this event needs it "
                f"{' or '.join(sorted(allowed))}",
                field=field,
                value=lot.id,
            )


def require_new_lot(reader: StateReader, lot_id: str, field: str, taken: Collection[str]) -> None:
    if lot_id in taken or reader.lot(lot_id) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_lot_id",
            f"{field}: lot id {lot_id!r} is already taken; lot ids are unique forever, choose "
            "another",
            field=field,
            value=lot_id,
        )


def touch(lot: LotState, event_hash: str, index: int, **changes: Any) -> LotState:
    """`lot` after the event at `index`: the event is its new head."""
    return replace(lot, head=event_hash, updated_index=index, **changes)
