"""Registry transitions: participants and their keys, posted by the operator."""

from collections.abc import Collection

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots.events import (
    KeyRef,
    ParticipantKeyAdd,
    ParticipantKeyRevoke,
    ParticipantRegister,
)
from ledger.lots.guards import check_prev, require_participant
from ledger.lots.records import Effects, KeyState, ParticipantState, Rejection, StateReader
from ledger.tlog.keys import key_id


def register(event: ParticipantRegister, index: int, reader: StateReader) -> Effects:
    check_prev(event.prev, [])
    record = event.participant
    if reader.participant(record.id) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_participant_id",
            f"participant.id: {record.id!r} is already registered; add keys with "
            "participant.key_add instead",
            field="participant.id",
            value=record.id,
        )
    keys: list[KeyState] = []
    for i, key in enumerate(record.keys):
        taken = {known.keyid for known in keys}
        keys.append(_new_key(record.id, key, f"participant.keys.{i}.keyid", index, reader, taken))
    participant = ParticipantState(
        id=record.id,
        name=record.name,
        country=record.country,
        roles=frozenset(record.roles),
        registered_index=index,
    )
    return Effects(participants=(participant,), keys=tuple(keys))


def add_key(event: ParticipantKeyAdd, index: int, reader: StateReader) -> Effects:
    check_prev(event.prev, [])
    require_participant(reader, event.participant, "participant")
    return Effects(keys=(_new_key(event.participant, event.key, "key.keyid", index, reader, ()),))


def revoke_key(event: ParticipantKeyRevoke, index: int, reader: StateReader) -> Effects:
    check_prev(event.prev, [])
    require_participant(reader, event.participant, "participant")
    key = reader.key(event.keyid)
    if key is None:
        raise Rejection(
            Kind.NOT_FOUND,
            "key_not_found",
            f"keyid: key {event.keyid!r} is not registered; check the key id",
            field="keyid",
            value=event.keyid,
        )
    if key.participant != event.participant:
        raise Rejection(
            Kind.INVALID,
            "key_owner_mismatch",
            f"keyid: key {event.keyid!r} belongs to {key.participant!r}, not "
            f"{event.participant!r}; name its owner in participant",
            field="keyid",
            value=event.keyid,
        )
    if key.revoked_at is not None:
        raise Rejection(
            Kind.CONFLICT,
            "key_already_revoked",
            f"keyid: key {event.keyid!r} was already revoked at entry {key.revoked_at}",
            field="keyid",
            value=event.keyid,
        )
    return Effects(keys=(replace(key, revoked_at=index),))


def _new_key(
    participant: str,
    key: KeyRef,
    field: str,
    index: int,
    reader: StateReader,
    taken: Collection[str],
) -> KeyState:
    raw = key.raw_public_key
    expected = key_id(participant, raw)
    if key.keyid != expected:
        raise Rejection(
            Kind.INVALID,
            "keyid_mismatch",
            f"{field}: {key.keyid!r} is not the key id of this public key for {participant!r}; "
            f"it is {expected!r}",
            field=field,
            value=key.keyid,
        )
    # A key id names one key forever: a revoked key cannot come back.
    if key.keyid in taken or reader.key(key.keyid) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_keyid",
            f"{field}: key {key.keyid!r} is already registered; a key is added once, "
            "generate a new key instead",
            field=field,
            value=key.keyid,
        )
    return KeyState(
        keyid=key.keyid, participant=participant, public_key=raw, valid_from=index, revoked_at=None
    )
