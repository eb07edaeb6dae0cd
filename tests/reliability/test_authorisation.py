"""The authorisation matrix: every event type × role × holder or not × key, on the pure state
machine (`authorise_key`, then `apply_event`, over a MemoryState).

The expected outcome is written from DESIGN §5 ("who may post") and protocol.md §11 (the
refusal codes), not from the code: `expected()` below is the table of docs/security.md §4.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from api.errors import status_of
from ledger.lots.events import parse_event
from ledger.lots.memory import MemoryState
from ledger.lots.state import (
    DeclarationState,
    KeyState,
    LotState,
    ParticipantState,
    Rejection,
    apply_event,
    authorise_key,
)
from ledger.tlog.encoding import b64encode, canonical, sha256
from ledger.tlog.keys import generate_private_key, key_id, raw_public_key

INDEX = 100  # the entry being admitted
NOW = datetime(2026, 3, 2, tzinfo=UTC)
TIME = "2026-03-01T08:00:00Z"
ROLES = ("mine", "processor", "trader", "exporter", "lab", "customs", "auditor", "operator")
REGISTRY = ("participant.register", "participant.key_add", "participant.key_revoke")
EVENT_TYPES = (
    *REGISTRY,
    "lot.extract",
    "lot.transform",
    "lot.transform(split)",
    "lot.assay",
    "lot.ship",
    "lot.receive",
    "export.declare",
    "customs.decide",
)
KEYS = ("valid", "revoked", "unknown", "someone else's", "operator's")
OTHER = "other-party"  # holds the lots the actor does not hold, owns "someone else's" key
BYSTANDER = "bystander"  # registered, receives shipments
COMPOSITION = {"La": 120000, "Ce": 210000}


def _public_key() -> bytes:
    return raw_public_key(generate_private_key())


OPERATOR_PUBLIC = _public_key()
OPERATOR_KEYID = key_id("operator", OPERATOR_PUBLIC)
Outcome = tuple[int, str] | None  # None: accepted


def expected(event_type: str, role: str, holder: bool, key: str) -> Outcome:
    """DESIGN §5, "who may post": what must happen to `event_type` signed by `key` for an
    actor with `role`; `holder`: the actor holds the lot (for lot.receive: is its receiver)."""
    if role == "operator":
        # The operator signs with its own key only; it has no other key to be revoked.
        if key not in ("valid", "operator's"):
            return 403, "operator_key_required"
        return None if event_type in REGISTRY else (403, "role_not_allowed")
    refused_key = {
        "unknown": "unknown_key",
        "revoked": "revoked_key",
        "someone else's": "actor_not_key_owner",
        "operator's": "actor_not_key_owner",
    }
    if key in refused_key:
        return 403, refused_key[key]
    if event_type in REGISTRY:
        return 403, "role_not_allowed"
    needs_role = {
        "lot.extract": {"mine"},
        "lot.transform": {"mine", "processor"},
        "export.declare": {"exporter"},
        "customs.decide": {"customs"},
    }
    if event_type in needs_role and role not in needs_role[event_type]:
        return 403, "role_not_allowed"
    if event_type in ("lot.extract", "customs.decide"):
        return None
    if event_type == "lot.receive":
        return None if holder else (403, "not_receiver")
    if event_type == "lot.assay" and role in ("lab", "customs"):
        return None
    return None if holder else (403, "not_custodian")


class World:
    """A registry, three lots and a declaration around one actor of `role`."""

    def __init__(self, role: str, holder: bool) -> None:
        self.actor = "operator" if role == "operator" else f"actor-{role}"
        self.state = MemoryState()
        self.keys: dict[str, str] = {"operator's": OPERATOR_KEYID}
        for participant, roles in (
            (self.actor, {role}),
            (OTHER, {"processor", "exporter"}),
            (BYSTANDER, {"trader"}),
        ):
            if participant != "operator":
                self.state.participants[participant] = ParticipantState(
                    participant, participant.title(), "CN", frozenset(roles), 1
                )
        self.keys["valid"] = self._key(self.actor, revoked_at=None)
        # The operator key cannot be revoked: "revoked" is then a revoked participant key.
        self.keys["revoked"] = self._key(OTHER if role == "operator" else self.actor, 50)
        self.keys["someone else's"] = self._key(OTHER, revoked_at=None)
        self.keys["unknown"] = key_id(self.actor, _public_key())
        held_by = self.actor if holder else OTHER
        self._lot("LOT-A", custodian=held_by, status="active")
        receiver = self.actor if holder else BYSTANDER
        self._lot("LOT-T", custodian=OTHER, status="in_transit", pending_to=receiver)
        self._lot("LOT-D", custodian=OTHER, status="declared")
        self.state.declarations["DEC-1"] = DeclarationState(
            "DEC-1", OTHER, ("LOT-D",), "pending", 3, "850511", 1_000_000, "DE"
        )

    def _key(self, owner: str, revoked_at: int | None) -> str:
        if owner == "operator":
            return OPERATOR_KEYID
        public = _public_key()
        keyid = key_id(owner, public)
        self.state.keys[keyid] = KeyState(keyid, owner, public, 1, revoked_at)
        return keyid

    def _lot(self, lot_id: str, **fields: Any) -> None:
        self.state.lots[lot_id] = LotState(
            id=lot_id,
            product="concentrate",
            spec=None,
            mass_g=1_000_000,
            composition_ppm=dict(COMPOSITION),
            custodian=fields.pop("custodian"),
            status=fields.pop("status"),
            head=sha256(lot_id.encode()).hex(),
            created_index=2,
            updated_index=2,
            pending_to=fields.pop("pending_to", None),
            origins=("ORE-0",),
        )

    def head(self, lot_id: str) -> dict[str, str]:
        return {lot_id: self.state.lots[lot_id].head}

    def event(self, event_type: str) -> dict[str, Any]:
        fields, prev = self._fields(event_type)
        kind = event_type.split("(")[0]
        common = {"type": kind, "id": f"ev-{event_type}", "actor": self.actor, "time": TIME}
        return {**common, "prev": prev, **fields}

    def _fields(self, event_type: str) -> tuple[dict[str, Any], dict[str, str]]:
        new_key = {"keyid": "", "public_key": ""}
        public = _public_key()
        if event_type == "participant.register":
            new_key = {"keyid": key_id("newcomer", public), "public_key": b64encode(public)}
            record = {"id": "newcomer", "name": "Newcomer", "country": "AU", "roles": ["mine"]}
            return {"participant": {**record, "keys": [new_key]}}, {}
        if event_type == "participant.key_add":
            new_key = {"keyid": key_id(OTHER, public), "public_key": b64encode(public)}
            return {"participant": OTHER, "key": new_key}, {}
        if event_type == "participant.key_revoke":
            return {"participant": OTHER, "keyid": self.keys["someone else's"]}, {}
        lot = {"id": "LOT-NEW", "product": "ore", "mass_g": 1000, "composition_ppm": COMPOSITION}
        if event_type == "lot.extract":
            site = {"id": "pit", "name": "Pit", "country": "CN"}
            return {"lot": lot, "site": site, "deposit": "bastnaesite"}, {}
        if event_type.startswith("lot.transform"):
            process = "split" if "split" in event_type else "beneficiation"
            inputs = [{"lot": "LOT-A", "mass_g": 1000}]
            return {"process": process, "inputs": inputs, "outputs": [lot]}, self.head("LOT-A")
        if event_type == "lot.assay":
            found = {"composition_ppm": COMPOSITION, "method": "XRF", "lab": "Lab"}
            return {"lot": "LOT-A", **found}, self.head("LOT-A")
        if event_type == "lot.ship":
            lots = [{"lot": "LOT-A", "mass_g": 1_000_000}]
            return {"to": BYSTANDER, "lots": lots}, self.head("LOT-A")
        if event_type == "lot.receive":
            lots = [{"lot": "LOT-T", "mass_g": 1_000_000}]
            return {"from": OTHER, "lots": lots}, self.head("LOT-T")
        if event_type == "export.declare":
            declaration = {
                "id": "DEC-NEW",
                "lots": ["LOT-A"],
                "hs_code": "280530",
                "description": "Rare-earth concentrate",
                "declared_mass_g": 1_000_000,
                "destination": "DE",
            }
            return {"declaration": declaration}, self.head("LOT-A")
        assert event_type == "customs.decide", event_type
        return {"declaration": "DEC-1", "decision": "release"}, self.head("LOT-D")


def refusal(event_type: str, role: str, holder: bool, key: str) -> tuple[Rejection, str] | None:
    """Run the state machine: the key authorised at INDEX, then the event applied; the
    refusal, if any, with everything the sender itself wrote (its event and its keyid)."""
    world = World(role, holder)
    payload = canonical(world.event(event_type))
    event = parse_event(payload)
    try:
        authorise_key(world.keys[key], event.actor, INDEX, world.state, OPERATOR_KEYID)
        apply_event(event, sha256(payload).hex(), INDEX, world.state, NOW)
    except Rejection as exc:
        return exc, payload.decode() + world.keys[key]
    return None


def admit(event_type: str, role: str, holder: bool, key: str) -> Outcome:
    refused = refusal(event_type, role, holder, key)
    return None if refused is None else (status_of(refused[0]), refused[0].code)


MATRIX = list(itertools.product(EVENT_TYPES, ROLES, (True, False), KEYS))


@pytest.mark.parametrize(
    ("event_type", "role", "holder", "key"),
    [
        pytest.param(*case, id=f"{case[0]}-{case[1]}-{'holder' if case[2] else 'other'}-{case[3]}")
        for case in MATRIX
    ],
)
def test_who_may_post_what(event_type: str, role: str, holder: bool, key: str) -> None:
    assert admit(event_type, role, holder, key) == expected(event_type, role, holder, key)


REFUSED = [case for case in MATRIX if expected(*case) is not None]


@pytest.mark.parametrize(
    ("event_type", "role", "holder", "key"),
    [
        pytest.param(*case, id=f"{case[0]}-{case[1]}-{'holder' if case[2] else 'other'}-{case[3]}")
        for case in REFUSED
    ],
)
def test_a_refusal_names_no_participant_the_sender_did_not_name(
    event_type: str, role: str, holder: bool, key: str
) -> None:
    """Refusals tell the sender what it may know (docs/security.md §4): not who holds a lot
    or whom a shipment is for. A participant id in the detail is one the sender wrote."""
    refused = refusal(event_type, role, holder, key)
    assert refused is not None
    exc, written = refused
    for party in (OTHER, BYSTANDER):
        assert party not in exc.detail or party in written, exc.detail


def test_the_matrix_accepts_something_for_every_event_type() -> None:
    """The matrix is not vacuous: every type has an accepted case and a refused one."""
    for event_type in EVENT_TYPES:
        outcomes = {
            expected(event_type, *rest) for rest in itertools.product(ROLES, (True, False), KEYS)
        }
        assert None in outcomes and len(outcomes) > 1, event_type
