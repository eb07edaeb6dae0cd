"""The custody state in the database: rows converted to and from the pure core's models."""

from sqlalchemy import select
from sqlmodel import Session, col

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
