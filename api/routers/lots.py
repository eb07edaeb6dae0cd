"""Lot state: the open verdict for anyone, commercial detail for those allowed."""

from fastapi import APIRouter, Path

from api.deps import DbDep, ReaderDep
from api.errors import ApiError
from api.schemas import LotDetail, LotPublic
from ledger.lots.state import LotState
from ledger.service import queries

router = APIRouter(prefix="/v1/lots", tags=["lots"])

LOT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


def _public(lot: LotState) -> LotPublic:
    return LotPublic(
        id=lot.id,
        product=lot.product,
        status=lot.status,
        head=lot.head,
        origins=list(lot.origins),
        flags=[],
    )


def _detail(lot: LotState) -> LotDetail:
    return LotDetail(
        **_public(lot).model_dump(),
        spec=lot.spec,
        mass_g=lot.mass_g,
        composition_ppm=lot.composition_ppm,
        custodian=lot.custodian,
        pending_to=lot.pending_to,
        created_index=lot.created_index,
        updated_index=lot.updated_index,
    )


@router.get("/{lot}")
def get_lot(
    db: DbDep, reader: ReaderDep, lot: str = Path(pattern=LOT_ID_PATTERN)
) -> LotDetail | LotPublic:
    """Public view without a token; detail for customs, auditors and the lot's holder."""
    try:
        state = queries.get_lot(db, lot)
    except queries.NotFound as exc:
        raise ApiError(404, "unknown_lot", str(exc)) from exc
    if reader is None:
        return _public(state)
    if not queries.may_read_detail(reader, state):
        raise ApiError(
            403,
            "not_your_lot",
            f"{reader.id} may not read lot {lot!r}: only its holder, customs and auditors may",
        )
    return _detail(state)
