"""The declaration check: the flags a customs declaration would raise, with nothing written."""

from datetime import UTC, datetime
from typing import Any

import msgspec

from ledger.errors import Kind
from ledger.lots.event_errors import NULL_MESSAGE, Problem, first_null, problem
from ledger.lots.events import Declaration
from ledger.lots.rules import Flag, check_declaration
from ledger.lots.rules.authority import Filing, check_licence
from ledger.lots.state import Rejection
from ledger.lots.tolerances import Tolerances
from ledger.service.queries import NotFound
from ledger.store.engine import Database
from ledger.store.state import DbState

# A declaration checked before it is filed may not have an id yet.
UNFILED_ID = "unfiled"


def parse_declaration(body: object) -> Declaration:
    """The declaration object of DESIGN §5 (id optional), or a 422 Rejection naming the field."""
    if not isinstance(body, dict):
        raise Rejection(
            Kind.INVALID, "invalid_declaration", "the body must be a declaration object"
        )
    candidate: dict[str, Any] = {"id": UNFILED_ID, **body}
    try:
        declaration = msgspec.convert(candidate, Declaration)
    except msgspec.ValidationError as exc:
        raise _refusal(problem(exc, Declaration, candidate)) from exc
    null = first_null(candidate)
    if null is not None:
        raise _refusal(Problem("invalid_field", null, None, NULL_MESSAGE))
    return declaration


def _refusal(found: Problem) -> Rejection:
    return Rejection(
        Kind.INVALID,
        "invalid_declaration",
        f"{found.field}: {found.message}",
        field=found.field,
        value=str(found.value)[:80],
    )


def check(db: Database, declaration: Declaration, tolerances: Tolerances) -> list[Flag]:
    """Run the declaration rules against the recorded lots as the first lot's holder would
    file it now: its country's control list, its licence against the authority's record
    (DESIGN §9.1)."""
    with db.read_session() as session:
        state = DbState(session)
        lots = []
        for lot_id in declaration.lots:
            lot = state.lot(lot_id)
            if lot is None:
                raise NotFound(f"lot {lot_id!r} is not in the ledger")
            lots.append(lot)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        filing = Filing(declaration, lots[0].custodian, now)
        holder = state.participant(filing.actor)
        country = holder.country if holder is not None else None
        controlled = tolerances.controlled_for(country)
        licence = check_licence(filing, lots, state, controlled, tolerances)
    return [*check_declaration(declaration, lots, tolerances, country), *licence]
