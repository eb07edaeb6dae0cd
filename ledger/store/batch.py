"""The write side of a batch: the state records it produced, as rows, one statement a table."""

from typing import Any

from sqlmodel import Session, SQLModel

from ledger.lots.state import DeclarationState, Effects, KeyState, LotState, ParticipantState
from ledger.store.bulk import insert_rows, table, update_rows
from ledger.store.state import PrefetchedState
from ledger.store.tables import (
    DeclarationRow,
    KeyRow,
    LotEdgeRow,
    LotEventRow,
    LotRow,
    ParticipantRow,
)


class BatchWriter:
    """Collects the effects of a batch and writes them with one statement per table.

    The rows are the ones the row-by-row ORM writes would leave after the same effects, in
    the same order (tests/store/test_batch_ingest.py compares the two): each record in its
    final state (inserted if new, updated if it was stored before), every lot_events and
    lot_edges row.
    """

    def __init__(self) -> None:
        self.lots: dict[str, LotState] = {}
        self.participants: dict[str, ParticipantState] = {}
        self.keys: dict[str, KeyState] = {}
        self.declarations: dict[str, DeclarationState] = {}
        self.lot_events: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []

    def add(self, effects: Effects) -> None:
        for lot in effects.lots:
            self.lot_events.append({"lot": lot.id, "idx": lot.updated_index})
            self.lots[lot.id] = lot
        self.participants.update((p.id, p) for p in effects.participants)
        self.keys.update((key.keyid, key) for key in effects.keys)
        self.declarations.update((d.id, d) for d in effects.declarations)
        self.edges.extend(
            {"child": e.child, "parent": e.parent, "mass_g": e.mass_g, "idx": e.index}
            for e in effects.edges
        )

    def write(self, session: Session, stored: PrefetchedState) -> None:
        """Write everything; `stored` tells which records already have a row (updated)."""
        _upsert(session, stored, LotRow, "id", [lot_values(lot) for lot in self.lots.values()])
        _upsert(
            session,
            stored,
            ParticipantRow,
            "id",
            [participant_values(p) for p in self.participants.values()],
        )
        _upsert(session, stored, KeyRow, "keyid", [key_values(k) for k in self.keys.values()])
        _upsert(
            session,
            stored,
            DeclarationRow,
            "id",
            [declaration_values(d) for d in self.declarations.values()],
        )
        insert_rows(session, table(LotEventRow), self.lot_events)
        insert_rows(session, table(LotEdgeRow), self.edges)


def _upsert(
    session: Session,
    stored: PrefetchedState,
    model: type[SQLModel],
    key: str,
    rows: list[dict[str, Any]],
) -> None:
    """Insert the rows that are new and update those already stored, by primary key."""
    if not rows:
        return
    existing = stored.stored(model, [row[key] for row in rows])
    insert_rows(session, table(model), [row for row in rows if row[key] not in existing])
    update_rows(session, table(model), key, [row for row in rows if row[key] in existing])


def lot_values(lot: LotState) -> dict[str, Any]:
    return {
        "id": lot.id,
        "product": lot.product,
        "spec": lot.spec,
        "mass_g": lot.mass_g,
        "composition_ppm": dict(lot.composition_ppm),
        "custodian": lot.custodian,
        "status": lot.status,
        "head": lot.head,
        "created_index": lot.created_index,
        "updated_index": lot.updated_index,
        "pending_to": lot.pending_to,
        "origins": list(lot.origins),
        "deposit": lot.deposit,
        "time": lot.time,
        "shipped_mass_g": lot.shipped_mass_g,
    }


def participant_values(participant: ParticipantState) -> dict[str, Any]:
    return {
        "id": participant.id,
        "name": participant.name,
        "country": participant.country,
        "roles": sorted(participant.roles),
        "registered_index": participant.registered_index,
    }


def key_values(key: KeyState) -> dict[str, Any]:
    return {
        "keyid": key.keyid,
        "participant": key.participant,
        "public_key": key.public_key,
        "valid_from": key.valid_from,
        "revoked_at": key.revoked_at,
    }


def declaration_values(declaration: DeclarationState) -> dict[str, Any]:
    return {
        "id": declaration.id,
        "exporter": declaration.exporter,
        "lots": list(declaration.lots),
        "status": declaration.status,
        "declared_index": declaration.declared_index,
        "hs_code": declaration.hs_code,
        "declared_mass_g": declaration.declared_mass_g,
        "destination": declaration.destination,
    }
