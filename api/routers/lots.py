"""Lot state and provenance: the open verdict for anyone, commercial detail for those allowed."""

from fastapi import APIRouter, Path, Request

from api import views
from api.deps import ReaderDep
from api.reads import ReadDbDep, require_lot
from api.schemas import LotDetail, LotPublic, ProvenanceDetail, ProvenancePublic
from ledger.errors import Kind, LedgerError
from ledger.lots.records import LotState, ParticipantState
from ledger.service import queries
from ledger.service.provenance import provenance

router = APIRouter(prefix="/v1/lots", tags=["lots"])

LOT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
LotPath = Path(pattern=LOT_ID_PATTERN, description="lot id")


def _may_read(reader: ParticipantState | None, lot: LotState) -> bool:
    """None: public view; True: detail; a reader without access is refused (403)."""
    if reader is None:
        return False
    if not queries.may_read_detail(reader, lot):
        raise LedgerError(
            Kind.FORBIDDEN,
            "not_your_lot",
            f"{reader.id} may not read lot {lot.id!r}: only its holder, customs and auditors may",
        )
    return True


@router.get("/{lot}")
def get_lot(
    db: ReadDbDep, reader: ReaderDep, request: Request, lot: str = LotPath
) -> LotDetail | LotPublic:
    """Public view without a token; detail for customs, auditors and the lot's holder.

    `flags` are those on the lot and on every lot upstream of it.
    """
    try:
        state, flags = queries.get_lot(db, lot)
    except queries.NotFound:
        require_lot(request, lot)  # 503 where a lagging replica lacks it, else the 404
        raise
    if _may_read(reader, state):
        return views.lot_detail(state, flags)
    return views.lot_public(state, flags)


@router.get("/{lot}/provenance")
def get_provenance(
    db: ReadDbDep, reader: ReaderDep, request: Request, lot: str = LotPath
) -> ProvenanceDetail | ProvenancePublic:
    """The ancestry back to the mines, every step verified, each mine's share, a verdict."""
    try:
        found = provenance(db, lot)
    except queries.NotFound:
        require_lot(request, lot)  # 503 where a lagging replica lacks it, else the 404
        raise
    if _may_read(reader, found.lot):
        return views.provenance_detail(found)
    return views.provenance_public(found)
