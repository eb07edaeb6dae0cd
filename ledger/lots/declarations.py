"""Export declarations and customs decisions: the last steps of a lot's custody."""

from msgspec.structs import replace

from ledger.errors import Kind
from ledger.lots.events import CustomsDecide, ExportDeclare
from ledger.lots.guards import (
    check_prev,
    require_custodian,
    require_lots,
    require_participant,
    require_role,
    require_status,
    touch,
)
from ledger.lots.licences import elemental_g
from ledger.lots.policy import CustodyPolicy
from ledger.lots.records import (
    ACTIVE,
    DECLARED,
    EXPORTED,
    HELD,
    PENDING,
    RELEASED,
    SEIZED,
    DeclarationState,
    Effects,
    LicenceState,
    LotState,
    ParticipantState,
    Rejection,
    StateReader,
)

_OPEN = frozenset({PENDING, HELD})
# decision -> (new declaration status, new status of its lots)
_OUTCOME = {"release": (RELEASED, EXPORTED), "hold": (HELD, DECLARED), "seize": (SEIZED, SEIZED)}


def declare(event: ExportDeclare, event_hash: str, index: int, reader: StateReader) -> Effects:
    require_role(reader, event.actor, {"exporter"}, event.type)
    claim = event.declaration
    if reader.declaration(claim.id) is not None:
        raise Rejection(
            Kind.CONFLICT,
            "duplicate_declaration_id",
            f"declaration.id: declaration {claim.id!r} already exists; declaration ids are "
            "unique forever, choose another",
            field="declaration.id",
            value=claim.id,
        )
    refs = [(f"declaration.lots.{i}", lot_id) for i, lot_id in enumerate(claim.lots)]
    lots = require_lots(reader, refs)
    check_prev(event.prev, lots)
    require_custodian(lots, refs, event.actor)
    require_status(lots, refs, {ACTIVE}, "lot_not_active")
    declaration = DeclarationState(
        id=claim.id,
        exporter=event.actor,
        lots=claim.lots,
        status=PENDING,
        declared_index=index,
        hs_code=claim.hs_code,
        declared_mass_g=claim.declared_mass_g,
        destination=claim.destination,
    )
    declared = tuple(touch(lot, event_hash, index, status=DECLARED) for lot in lots)
    licence = _own_licence(reader, claim.licence, event.actor)
    if licence is None:
        return Effects(lots=declared, declarations=(declaration,))
    # The holder's own licence counts this declaration from now on (ledger/lots/licences.py).
    grams = elemental_g(licence.elements, lots)
    declaration = replace(declaration, licence=licence.id, licence_g=grams)
    drawn = replace(licence, used_g=licence.used_g + grams)
    return Effects(lots=declared, declarations=(declaration,), licences=(drawn,))


def _own_licence(reader: StateReader, licence_id: str | None, actor: str) -> LicenceState | None:
    """The licence a declaration names, if it exists and `actor` holds it: the one it draws."""
    if licence_id is None:
        return None
    licence = reader.licence(licence_id)
    return licence if licence is not None and licence.holder == actor else None


def decide(
    event: CustomsDecide, event_hash: str, index: int, reader: StateReader, policy: CustodyPolicy
) -> Effects:
    customs = require_role(reader, event.actor, {"customs"}, event.type)
    declaration = require_open_declaration(reader, event.declaration)
    require_jurisdiction(reader, customs, declaration, policy)
    # The event names only the declaration; its lots are the ones prev must carry.
    refs = [(f"prev.{lot_id}", lot_id) for lot_id in declaration.lots]
    lots = require_lots(reader, refs)
    check_prev(event.prev, lots)
    require_status(lots, refs, {DECLARED}, "lot_not_declared")
    declaration_status, lot_status = _OUTCOME[event.decision]
    decided = tuple(touch(lot, event_hash, index, status=lot_status) for lot in lots)
    after = replace(declaration, status=declaration_status)
    if declaration_status != SEIZED or not declaration.licence_g:
        return Effects(lots=decided, declarations=(after,))
    return _give_back(reader, decided, replace(after, licence_g=0), declaration)


def _give_back(
    reader: StateReader,
    decided: tuple[LotState, ...],
    after: DeclarationState,
    declaration: DeclarationState,
) -> Effects:
    """A seized declaration's grams go back to its licence: the goods never left."""
    licence = reader.licence(declaration.licence or "")
    if licence is None:
        raise LookupError(f"licence {declaration.licence!r} of {declaration.id!r} is not stored")
    back = replace(licence, used_g=licence.used_g - declaration.licence_g)
    return Effects(lots=decided, declarations=(after,), licences=(back,))


def require_open_declaration(reader: StateReader, declaration_id: str) -> DeclarationState:
    declaration = reader.declaration(declaration_id)
    if declaration is None:
        raise Rejection(
            Kind.NOT_FOUND,
            "unknown_declaration",
            f"declaration: declaration {declaration_id!r} does not exist; check the id",
            field="declaration",
            value=declaration_id,
        )
    if declaration.status not in _OPEN:
        raise Rejection(
            Kind.CONFLICT,
            "declaration_final",
            f"declaration: declaration {declaration_id!r} is already {declaration.status}; "
            "a release or seizure is final",
            field="declaration",
            value=declaration_id,
        )
    return declaration


def require_jurisdiction(
    reader: StateReader,
    customs: ParticipantState,
    declaration: DeclarationState,
    policy: CustodyPolicy,
) -> None:
    """Customs decides the declarations of exporters in its own country, or in the countries
    `policy` adds to it (a customs union); those of any other are not its to decide."""
    exporter = require_participant(reader, declaration.exporter, "declaration")
    served = policy.served_by(customs)
    if exporter.country not in served:
        raise Rejection(
            Kind.FORBIDDEN,
            "outside_jurisdiction",
            f"declaration: declaration {declaration.id!r} was filed by an exporter in "
            f"{exporter.country}; customs of {customs.country} decides declarations of exporters "
            f"in {', '.join(sorted(served))} only; the customs of {exporter.country} decides it",
            field="declaration",
            value=declaration.id,
        )
