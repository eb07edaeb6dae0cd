"""A lot's offline bundle, for customs and auditors to verify without the ledger."""

from typing import Literal

import msgspec
from fastapi import APIRouter, Query, Request, Response

from api.deps import ReaderDep
from api.reads import ReadDbDep, require_lot
from api.routers.lots import LotPath
from api.schemas import response_body
from ledger.errors import Kind, LedgerError
from ledger.service import queries
from ledger.service.bundle import lot_bundle
from ledger.verify.bundle import Bundle

router = APIRouter(prefix="/v1/lots", tags=["lots"])

ProofFormat = Literal["tlog-proof"]


@router.get("/{lot}/bundle", response_class=Response, responses=response_body(Bundle, "the bundle"))
def get_bundle(
    db: ReadDbDep,
    reader: ReaderDep,
    request: Request,
    lot: str = LotPath,
    proof_format: ProofFormat | None = Query(
        None, description="`tlog-proof`: also give each entry's proof as c2sp.org/tlog-proof text"
    ),
) -> Response:
    """Every entry behind the lot, the registry entries for their keys, inclusion proofs to
    the latest checkpoint, and the keys as the server states them: check it with
    `ree-ledger verify-bundle` (docs/audit.md). It holds commercial detail: customs, auditors
    and the lot's holder may read it."""
    if reader is None:
        raise LedgerError(
            Kind.UNAUTHENTICATED,
            "token_required",
            "a bundle holds commercial detail: send the read token of customs, an auditor or "
            "the lot's holder",
        )
    try:
        bundle = lot_bundle(db, lot, reader, tlog_proofs=proof_format == "tlog-proof")
    except queries.NotFound:
        require_lot(request, lot)  # 503 where a lagging replica lacks it, else the 404
        raise
    disposition = f'attachment; filename="{lot}.bundle.json"'
    return Response(
        msgspec.json.encode(bundle),
        media_type="application/json",
        headers={"Content-Disposition": disposition},
    )
