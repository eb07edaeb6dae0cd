"""State rows read into the pure core's records: one converter per state table, the columns
in the order of its record's fields."""

import functools
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from msgspec.structs import fields
from sqlmodel import Session, SQLModel

from ledger.lots import lineage
from ledger.lots.records import Edge
from ledger.lots.state import (
    DeclarationState,
    KeyState,
    LicenceState,
    LotState,
    ParticipantState,
    QuotaState,
)
from ledger.store.bulk import select_all_tuples, table
from ledger.store.tables import (
    DeclarationRow,
    KeyRow,
    LicenceRow,
    LotEdgeRow,
    LotRow,
    ParticipantRow,
    QuotaRow,
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
        licence=row.licence,
        licence_g=row.licence_g,
    )


def licence_from_row(row: Any) -> LicenceState:
    return LicenceState(
        id=row.id,
        authority=row.authority,
        holder=row.holder,
        elements=tuple(row.elements),
        destination=None if row.destination is None else tuple(row.destination),
        hs_codes=None if row.hs_codes is None else tuple(row.hs_codes),
        max_mass_g=row.max_mass_g,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        issued_index=row.issued_index,
        revoked_index=row.revoked_index,
        used_g=row.used_g,
    )


def quota_from_row(row: Any) -> QuotaState:
    return QuotaState(
        id=row.id,
        authority=row.authority,
        holder=row.holder,
        year=row.year,
        reo_mass_g=row.reo_mass_g,
        deposit=row.deposit,
        issued_index=row.issued_index,
        used_g=row.used_g,
    )


# The columns of each table, in the order of its record's fields (they have the same names):
# the one mapping of the state records to their tables, read and written.
LOT_FIELDS = tuple(item.name for item in fields(LotState))
_COMPOSITION = LOT_FIELDS.index("composition_ppm")  # JSON, held as a dict
_ORIGINS = LOT_FIELDS.index("origins")  # a JSON list, held as a tuple
_LINEAGE = LOT_FIELDS.index("lineage")  # stored as text (lineage.text), held as a tuple
PARTICIPANT_FIELDS = tuple(item.name for item in fields(ParticipantState))
KEY_FIELDS = tuple(item.name for item in fields(KeyState))
DECLARATION_FIELDS = tuple(item.name for item in fields(DeclarationState))
LICENCE_FIELDS = tuple(item.name for item in fields(LicenceState))
QUOTA_FIELDS = tuple(item.name for item in fields(QuotaState))
EDGE_FIELDS = ("parent", "child", "mass_g", "idx")  # Edge's fields, as lot_edges names them


def lot_from_values(
    values: tuple[Any, ...], budgets: dict[str, lineage.Budget] | None = None
) -> LotState:
    """lot_from_row of the values of LOT_FIELDS: the composition as read is already a fresh
    dict; origins become a tuple, the lineage's text a budget. `budgets`: the budgets of the
    texts read so far, to parse each text once (lots often share a budget)."""
    composition, origins = values[_COMPOSITION], values[_ORIGINS]
    budget = values[_LINEAGE]
    if type(composition) is not dict:
        composition = dict(composition)
    if budget is not None:
        if budgets is None:
            budget = lineage.parse(budget)
        elif (parsed := budgets.get(budget)) is not None:
            budget = parsed
        else:
            budget = budgets[budget] = lineage.parse(budget)
    changed = list(values)
    changed[_COMPOSITION], changed[_ORIGINS], changed[_LINEAGE] = (
        composition,
        tuple(origins),
        budget,
    )
    return LotState(*changed)


def lot_from_row(row: Any) -> LotState:
    """A lots row (ORM or Core) as its record: lot_from_values of its LOT_FIELDS."""
    values = [getattr(row, name) for name in LOT_FIELDS]
    values[_COMPOSITION] = dict(values[_COMPOSITION])  # the record's own, not the row's
    return lot_from_values(tuple(values))


def lot_values(lot: LotState) -> tuple[Any, ...]:
    """The values of LOT_FIELDS to store (the JSON columns hold what dict() and list() of
    them would): lot_from_values undone."""
    values = [getattr(lot, name) for name in LOT_FIELDS]
    composition = values[_COMPOSITION]
    if type(composition) is not dict:
        values[_COMPOSITION] = dict(composition)
    values[_ORIGINS] = list(values[_ORIGINS])
    budget = values[_LINEAGE]
    values[_LINEAGE] = None if budget is None else lineage.text(budget)
    return tuple(values)


def _participant_from_values(values: tuple[Any, ...]) -> ParticipantState:
    return participant_from_row(_attributes(PARTICIPANT_FIELDS, values))


def _key_from_values(values: tuple[Any, ...]) -> KeyState:
    return key_from_row(_attributes(KEY_FIELDS, values))


def _declaration_from_values(values: tuple[Any, ...]) -> DeclarationState:
    return declaration_from_row(_attributes(DECLARATION_FIELDS, values))


def _licence_from_values(values: tuple[Any, ...]) -> LicenceState:
    return licence_from_row(_attributes(LICENCE_FIELDS, values))


def quota_from_values(values: tuple[Any, ...]) -> QuotaState:
    return QuotaState(*values)


def _attributes(names: Sequence[str], values: Sequence[Any]) -> Any:
    """A row's values as attributes, as the *_from_row converters read an ORM row."""
    return SimpleNamespace(**dict(zip(names, values, strict=True)))


# Per state table: its columns in the order of its record's fields (the key first), and what
# makes the record of a row of them.
CONVERTERS: dict[type[SQLModel], tuple[tuple[str, ...], Callable[[tuple[Any, ...]], Any]]] = {
    LotRow: (LOT_FIELDS, lot_from_values),
    ParticipantRow: (PARTICIPANT_FIELDS, _participant_from_values),
    KeyRow: (KEY_FIELDS, _key_from_values),
    DeclarationRow: (DECLARATION_FIELDS, _declaration_from_values),
    LicenceRow: (LICENCE_FIELDS, _licence_from_values),
    QuotaRow: (QUOTA_FIELDS, quota_from_values),
}


def stored_records(session: Session, model: type[SQLModel]) -> dict[str, Any]:
    """Every row of a state table (lots, participants, keys, declarations, licences, quotas)
    as its record, by id, and every lot edge by "parent->child": the audit compares them with
    the replayed state. A row that is no record's (a lots row whose lineage is not a budget's
    text) stays its values, which no record equals."""
    records: dict[str, Any] = {}
    if model is LotEdgeRow:
        for parent, child, mass_g, idx in select_all_tuples(session, table(model), EDGE_FIELDS):
            records[f"{parent}->{child}"] = Edge(parent, child, mass_g, idx)
        return records
    names, convert = CONVERTERS[model]
    if model is LotRow:
        # Each distinct lineage text is parsed once (at 20,000 entries 12,099 lots hold 4,811).
        budgets: dict[str, lineage.Budget] = {}
        convert = functools.partial(lot_from_values, budgets=budgets)
    for values in select_all_tuples(session, table(model), names):
        try:
            records[str(values[0])] = convert(values)
        except ValueError:
            records[str(values[0])] = values
    return records
