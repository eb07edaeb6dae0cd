"""The open half of the log: its identity, checkpoint and proofs."""

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from api.reads import ReadDbDep, require_size
from api.schemas import ConsistencyProof, InclusionProof, LogOut
from ledger.service import queries, witnesses
from ledger.tlog.encoding import b64encode

router = APIRouter(prefix="/v1", tags=["log"])


@router.get("/log")
def get_log(db: ReadDbDep) -> LogOut:
    info = queries.log_info(db)
    return LogOut(
        origin=info.origin, size=info.size, log_key=info.log_key, operator_key=info.operator_key
    )


@router.get("/checkpoint", response_class=PlainTextResponse)
def get_checkpoint(
    db: ReadDbDep,
    unwitnessed: bool = Query(
        False, description="the newest checkpoint, whether or not a quorum of witnesses cosigned it"
    ),
) -> PlainTextResponse:
    """The newest checkpoint a quorum of the log's witnesses cosigned, as one note with every
    signature line (the log's, then the witnesses'); with no witnesses, the newest one."""
    served = witnesses.served_checkpoint(db, unwitnessed=unwitnessed)
    return PlainTextResponse(served.note, media_type="text/plain; charset=utf-8")


@router.get("/proofs/inclusion")
def get_inclusion_proof(
    db: ReadDbDep, request: Request, index: int = Query(ge=0), size: int = Query(ge=1)
) -> InclusionProof:
    try:
        hashes = queries.inclusion_proof(db, index, size)
    except queries.BadRange:
        require_size(request, size)  # 503 where a lagging replica lacks it, else the 422
        raise
    return InclusionProof(index=index, size=size, hashes=[b64encode(h) for h in hashes])


@router.get("/proofs/consistency")
def get_consistency_proof(
    db: ReadDbDep, request: Request, first: int = Query(ge=1), second: int = Query(ge=1)
) -> ConsistencyProof:
    try:
        hashes = queries.consistency_proof(db, first, second)
    except queries.BadRange:
        require_size(request, second)  # 503 where a lagging replica lacks it, else the 422
        raise
    return ConsistencyProof(first=first, second=second, hashes=[b64encode(h) for h in hashes])
