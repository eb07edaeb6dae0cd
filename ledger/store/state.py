"""The custody state in the database: rows converted to and from the pure core's models."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlmodel import Session, SQLModel, col

from ledger.lots.state import (
    DeclarationState,
    Effects,
    KeyState,
    LotState,
    ParticipantState,
    StateReader,
)
from ledger.store.tables import (
    DeclarationRow,
    EntryRow,
    KeyRow,
    LotEdgeRow,
    LotEventRow,
    LotRow,
    ParticipantRow,
)

T = TypeVar("T")
# Ids per IN (...) list: far below every backend's limit on bound parameters.
IN_CHUNK = 500


def lot_from_row(row: LotRow) -> LotState:
    return LotState(
        id=row.id,
        product=row.product,
        spec=row.spec,
        mass_g=row.mass_g,
        composition_ppm=dict(row.composition_ppm),
        custodian=row.custodian,
        status=row.status,
        head=row.head,
        created_index=row.created_index,
        updated_index=row.updated_index,
        pending_to=row.pending_to,
        origins=tuple(row.origins),
        deposit=row.deposit,
        time=row.time,
        shipped_mass_g=row.shipped_mass_g,
    )


def participant_from_row(row: ParticipantRow) -> ParticipantState:
    return ParticipantState(
        id=row.id,
        name=row.name,
        country=row.country,
        roles=frozenset(row.roles),
        registered_index=row.registered_index,
    )


def key_from_row(row: KeyRow) -> KeyState:
    return KeyState(
        keyid=row.keyid,
        participant=row.participant,
        public_key=bytes(row.public_key),
        valid_from=row.valid_from,
        revoked_at=row.revoked_at,
    )


def declaration_from_row(row: DeclarationRow) -> DeclarationState:
    return DeclarationState(
        id=row.id,
        exporter=row.exporter,
        lots=tuple(row.lots),
        status=row.status,
        declared_index=row.declared_index,
        hs_code=row.hs_code,
        declared_mass_g=row.declared_mass_g,
        destination=row.destination,
    )


class DbState(StateReader):
    """The StateReader over a session: every lookup is one primary-key read."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lot(self, lot_id: str) -> LotState | None:
        row = self.session.get(LotRow, lot_id)
        return lot_from_row(row) if row else None

    def participant(self, participant_id: str) -> ParticipantState | None:
        row = self.session.get(ParticipantRow, participant_id)
        return participant_from_row(row) if row else None

    def key(self, keyid: str) -> KeyState | None:
        row = self.session.get(KeyRow, keyid)
        return key_from_row(row) if row else None

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        row = self.session.get(DeclarationRow, declaration_id)
        return declaration_from_row(row) if row else None

    def event_index(self, event_id: str) -> int | None:
        found = self.session.execute(
            select(col(EntryRow.idx)).where(col(EntryRow.event_id) == event_id)
        ).scalar_one_or_none()
        return int(found) if found is not None else None


def write_effects(session: Session, effects: Effects) -> None:
    """Store the new state an accepted event produced (insert or replace by primary key)."""
    for lot in effects.lots:
        session.add(LotEventRow(lot=lot.id, idx=lot.updated_index))
        session.merge(
            LotRow(
                id=lot.id,
                product=lot.product,
                spec=lot.spec,
                mass_g=lot.mass_g,
                composition_ppm=dict(lot.composition_ppm),
                custodian=lot.custodian,
                status=lot.status,
                head=lot.head,
                created_index=lot.created_index,
                updated_index=lot.updated_index,
                pending_to=lot.pending_to,
                origins=list(lot.origins),
                deposit=lot.deposit,
                time=lot.time,
                shipped_mass_g=lot.shipped_mass_g,
            )
        )
    for participant in effects.participants:
        session.merge(
            ParticipantRow(
                id=participant.id,
                name=participant.name,
                country=participant.country,
                roles=sorted(participant.roles),
                registered_index=participant.registered_index,
            )
        )
    for key in effects.keys:
        session.merge(
            KeyRow(
                keyid=key.keyid,
                participant=key.participant,
                public_key=key.public_key,
                valid_from=key.valid_from,
                revoked_at=key.revoked_at,
            )
        )
    for declaration in effects.declarations:
        session.merge(
            DeclarationRow(
                id=declaration.id,
                exporter=declaration.exporter,
                lots=list(declaration.lots),
                status=declaration.status,
                declared_index=declaration.declared_index,
                hs_code=declaration.hs_code,
                declared_mass_g=declaration.declared_mass_g,
                destination=declaration.destination,
            )
        )
    for edge in effects.edges:
        session.add(
            LotEdgeRow(child=edge.child, parent=edge.parent, mass_g=edge.mass_g, idx=edge.index)
        )


def _table(model: type[SQLModel]) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


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


class PrefetchedState(DbState):
    """A DbState for one write transaction: rows read in bulk up front, every answer cached.

    Only valid while the caller holds the sequencer lock and layers its own changes on top
    (MemoryState): then the stored state cannot change under it. Reads bypass the ORM (no
    autoflush, no identity map), so a batch costs a handful of queries, not several per entry.
    """

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._lots: dict[str, LotState | None] = {}
        self._participants: dict[str, ParticipantState | None] = {}
        self._keys: dict[str, KeyState | None] = {}
        self._declarations: dict[str, DeclarationState | None] = {}
        self._events: dict[str, int | None] = {}

    def prefetch(
        self,
        *,
        lots: Iterable[str] = (),
        participants: Iterable[str] = (),
        keys: Iterable[str] = (),
        declarations: Iterable[str] = (),
        event_ids: Iterable[str] = (),
    ) -> None:
        """Read the named rows in a few IN (...) queries; absent ones are remembered as absent."""
        self._fetch(self._lots, LotRow, "id", lots, _lot)
        self._fetch(self._participants, ParticipantRow, "id", participants, _participant)
        self._fetch(self._keys, KeyRow, "keyid", keys, _key)
        self._fetch(self._declarations, DeclarationRow, "id", declarations, _declaration)
        wanted = sorted(set(event_ids) - self._events.keys())
        for chunk in _chunks(wanted):
            self._events.update(dict.fromkeys(chunk))
            rows = self.session.execute(
                select(col(EntryRow.event_id), col(EntryRow.idx)).where(
                    col(EntryRow.event_id).in_(chunk)
                )
            )
            self._events.update((str(event_id), int(idx)) for event_id, idx in rows)

    def _fetch(
        self,
        cache: dict[str, T | None],
        model: type[SQLModel],
        key: str,
        ids: Iterable[str],
        convert: Callable[[Any], T],
    ) -> None:
        table = _table(model)
        wanted = sorted(set(ids) - cache.keys())
        for chunk in _chunks(wanted):
            cache.update(dict.fromkeys(chunk))
            rows = self.session.execute(select(table).where(table.c[key].in_(chunk)))
            cache.update((str(row._mapping[key]), convert(row)) for row in rows)

    def lot(self, lot_id: str) -> LotState | None:
        if lot_id not in self._lots:
            self.prefetch(lots=[lot_id])
        return self._lots[lot_id]

    def participant(self, participant_id: str) -> ParticipantState | None:
        if participant_id not in self._participants:
            self.prefetch(participants=[participant_id])
        return self._participants[participant_id]

    def key(self, keyid: str) -> KeyState | None:
        if keyid not in self._keys:
            self.prefetch(keys=[keyid])
        return self._keys[keyid]

    def declaration(self, declaration_id: str) -> DeclarationState | None:
        if declaration_id not in self._declarations:
            self.prefetch(declarations=[declaration_id])
        return self._declarations[declaration_id]

    def event_index(self, event_id: str) -> int | None:
        if event_id not in self._events:
            self.prefetch(event_ids=[event_id])
        return self._events[event_id]


# A Core row has the attributes of its table model; the converters read nothing else.
def _lot(row: Any) -> LotState:
    return lot_from_row(cast(LotRow, row))


def _participant(row: Any) -> ParticipantState:
    return participant_from_row(cast(ParticipantRow, row))


def _key(row: Any) -> KeyState:
    return key_from_row(cast(KeyRow, row))


def _declaration(row: Any) -> DeclarationState:
    return declaration_from_row(cast(DeclarationRow, row))


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


class BatchWriter:
    """Collects the effects of a batch and writes them with one statement per table.

    The rows are the ones `write_effects` would leave after the same effects, in the same
    order: each record in its final state (inserted if new, updated if it was stored
    before), every lot_events and lot_edges row.
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

    def write(self, session: Session) -> None:
        _upsert(session, LotRow, "id", [lot_values(lot) for lot in self.lots.values()])
        _upsert(
            session,
            ParticipantRow,
            "id",
            [participant_values(p) for p in self.participants.values()],
        )
        _upsert(session, KeyRow, "keyid", [key_values(key) for key in self.keys.values()])
        _upsert(
            session,
            DeclarationRow,
            "id",
            [declaration_values(d) for d in self.declarations.values()],
        )
        insert_rows(session, LotEventRow, self.lot_events)
        insert_rows(session, LotEdgeRow, self.edges)


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT (executemany) of `rows` into the table of `model`."""
    if rows:
        session.execute(insert(_table(model)), rows)


def _upsert(session: Session, model: type[SQLModel], key: str, rows: list[dict[str, Any]]) -> None:
    """Insert the rows that are new and update those already stored, by primary key."""
    if not rows:
        return
    table = _table(model)
    ids = [row[key] for row in rows]
    stored: set[str] = set()
    for chunk in _chunks(ids):
        found = session.execute(select(table.c[key]).where(table.c[key].in_(chunk)))
        stored.update(str(value) for (value,) in found)
    insert_rows(session, model, [row for row in rows if row[key] not in stored])
    updates = [{f"old_{key}": row[key], **row} for row in rows if row[key] in stored]
    if updates:
        statement = table.update().where(table.c[key] == bindparam(f"old_{key}"))
        session.execute(statement, updates)
