"""Writes and reads of log entries."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from api import views
from api.deps import (
    BatchBody,
    DbDep,
    EnvelopeBody,
    IdentityDep,
    PolicyDep,
    ReaderDep,
    SettingsDep,
    TolerancesDep,
)
from api.reads import ReadDbDep, require_size
from api.schemas import (
    BatchAccepted,
    BatchIn,
    EntryAccepted,
    EntryOut,
    EnvelopeIn,
    request_body,
)
from ledger.errors import Kind, LedgerError
from ledger.service import queries
from ledger.service.ingest import ingest
from ledger.tlog.encoding import b64encode, parse_json

router = APIRouter(prefix="/v1/entries", tags=["entries"])
# The databases store indices as signed 64-bit integers; a larger one cannot even be looked up.
EntryIndex = Annotated[int, Path(ge=0, le=2**63 - 1)]


@router.post("", status_code=201, openapi_extra=request_body(EnvelopeIn))
def post_entry(
    body: EnvelopeBody,
    db: DbDep,
    identity: IdentityDep,
    tolerances: TolerancesDep,
    policy: PolicyDep,
) -> EntryAccepted:
    """Append one signed envelope; answered once committed and covered by a checkpoint."""
    [result] = ingest(db, identity, [body], datetime.now(UTC), tolerances, policy)
    return views.accepted(result)


@router.post(
    "/batch",
    status_code=201,
    response_model=BatchAccepted,
    openapi_extra=request_body(BatchIn),
)
def post_batch(
    envelopes: BatchBody,
    db: DbDep,
    identity: IdentityDep,
    settings: SettingsDep,
    tolerances: TolerancesDep,
    policy: PolicyDep,
) -> Response:
    """Append envelopes in order, all or nothing; later ones may depend on earlier ones."""
    if len(envelopes) > settings.max_batch_envelopes:
        raise LedgerError(
            Kind.TOO_LARGE,
            "batch_too_large",
            f"{len(envelopes)} envelopes > limit {settings.max_batch_envelopes}: split the batch",
        )
    results = ingest(db, identity, envelopes, datetime.now(UTC), tolerances, policy)
    # The answer is BatchAccepted, written directly (views.accepted_batch_json).
    return Response(views.accepted_batch_json(results), 201, media_type="application/json")


@router.get("/{index}")
def get_entry(index: EntryIndex, db: ReadDbDep, reader: ReaderDep, request: Request) -> EntryOut:
    """One entry; its payload holds commercial detail, so a read token is needed."""
    if reader is None:
        raise LedgerError(
            Kind.UNAUTHENTICATED,
            "token_required",
            "entries hold commercial detail: send a read token",
        )
    try:
        row = queries.get_entry(db, index)
    except queries.NotFound:
        require_size(request, index + 1)  # 503 where a lagging replica lacks it, else the 404
        raise
    if not (reader.roles & queries.OVERSIGHT_ROLES) and reader.id != row.actor:
        raise LedgerError(
            Kind.FORBIDDEN, "not_your_entry", f"entry {index} was posted by another participant"
        )
    return EntryOut(
        index=row.idx,
        envelope=parse_json(row.envelope),
        event_hash=row.event_hash,
        leaf_hash=b64encode(row.leaf_hash),
    )
