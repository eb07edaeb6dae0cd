"""The write side of a batch: the state records it produced, as rows, one statement a table."""

from typing import Any

from sqlmodel import Session, SQLModel

from ledger.lots.state import (
    DeclarationState,
    Effects,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
)
from ledger.store.bulk import insert_tuples, table, update_tuples
from ledger.store.rows import (
    DECLARATION_FIELDS,
    EDGE_FIELDS,
    KEY_FIELDS,
    LICENCE_FIELDS,
    LOT_FIELDS,
    PARTICIPANT_FIELDS,
    QUOTA_FIELDS,
    lot_values,
)
from ledger.store.state import PrefetchedState
from ledger.store.tables import (
    DeclarationRow,
    KeyRow,
    LicenceRow,
    LotEdgeRow,
    LotEventRow,
    LotRow,
    ParticipantRow,
    QuotaRow,
)

# The columns of each table's rows, in the order of the tuples below (the key first): the
# state tables' are those of ledger.store.rows, their records' fields.
LOT_EVENT_COLUMNS = ("lot", "idx")


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
        self.licences: dict[str, LicenceState] = {}
        self.quotas: dict[str, QuotaState] = {}
        self.lot_events: list[tuple[str, int]] = []
        self.edges: list[tuple[str, str, int, int]] = []

    def add(self, effects: Effects) -> None:
        lots, lot_events = self.lots, self.lot_events
        for lot in effects.lots:
            lot_events.append((lot.id, lot.updated_index))
            lots[lot.id] = lot
        if effects.participants:
            self.participants.update((p.id, p) for p in effects.participants)
        if effects.keys:
            self.keys.update((key.keyid, key) for key in effects.keys)
        if effects.declarations:
            self.declarations.update((d.id, d) for d in effects.declarations)
        if effects.edges:
            self.edges.extend((e.parent, e.child, e.mass_g, e.index) for e in effects.edges)
        if effects.licences:
            self.licences.update((lic.id, lic) for lic in effects.licences)
        if effects.quotas:
            self.quotas.update((quota.id, quota) for quota in effects.quotas)

    def write(self, session: Session, stored: PrefetchedState) -> None:
        """Write everything; `stored` tells which records already have a row (updated)."""
        lots = [lot_values(lot) for lot in self.lots.values()]
        _upsert(session, stored, LotRow, LOT_FIELDS, lots)
        _upsert(
            session,
            stored,
            ParticipantRow,
            PARTICIPANT_FIELDS,
            [_participant_row(p) for p in self.participants.values()],
        )
        _upsert(session, stored, KeyRow, KEY_FIELDS, [_key_row(k) for k in self.keys.values()])
        _upsert(
            session,
            stored,
            DeclarationRow,
            DECLARATION_FIELDS,
            [_declaration_row(d) for d in self.declarations.values()],
        )
        licences = [_licence_row(lic) for lic in self.licences.values()]
        _upsert(session, stored, LicenceRow, LICENCE_FIELDS, licences)
        quotas = [tuple(getattr(q, name) for name in QUOTA_FIELDS) for q in self.quotas.values()]
        _upsert(session, stored, QuotaRow, QUOTA_FIELDS, quotas)
        insert_tuples(session, table(LotEventRow), LOT_EVENT_COLUMNS, self.lot_events)
        insert_tuples(session, table(LotEdgeRow), EDGE_FIELDS, self.edges)


def _upsert(
    session: Session,
    stored: PrefetchedState,
    model: type[SQLModel],
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """Insert the rows that are new and update those already stored, by primary key (the
    first of `columns`)."""
    if not rows:
        return
    existing = stored.stored(model, [row[0] for row in rows])
    new = [row for row in rows if row[0] not in existing]
    insert_tuples(session, table(model), columns, new)
    if len(new) < len(rows):
        # UPDATE … SET the other columns … WHERE key = the row's last value.
        changed = [(*row[1:], row[0]) for row in rows if row[0] in existing]
        update_tuples(session, table(model), columns[0], columns[1:], changed)


def _participant_row(participant: ParticipantState) -> tuple[Any, ...]:
    """The values of PARTICIPANT_FIELDS."""
    return (
        participant.id,
        participant.name,
        participant.country,
        sorted(participant.roles),
        participant.registered_index,
    )


def _key_row(key: KeyState) -> tuple[Any, ...]:
    """The values of KEY_FIELDS."""
    return (key.keyid, key.participant, key.public_key, key.valid_from, key.revoked_at)


def _declaration_row(declaration: DeclarationState) -> tuple[Any, ...]:
    """The values of DECLARATION_FIELDS."""
    return (
        declaration.id,
        declaration.exporter,
        list(declaration.lots),
        declaration.status,
        declaration.declared_index,
        declaration.hs_code,
        declaration.declared_mass_g,
        declaration.destination,
        declaration.licence,
        declaration.licence_g,
    )


def _licence_row(licence: LicenceState) -> tuple[Any, ...]:
    """The values of LICENCE_FIELDS (JSON lists for the tuples)."""
    listed = {"elements", "destination", "hs_codes"}
    return tuple(
        list(value) if name in listed and value is not None else value
        for name in LICENCE_FIELDS
        for value in (getattr(licence, name),)
    )
