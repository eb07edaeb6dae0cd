"""EPCIS 2.0: lot ancestry and event queries as JSON-LD documents, and signed capture."""

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import views
from api.deps import (
    DbDep,
    EnvelopeBody,
    EpcisSchemaDep,
    IdentityDep,
    PolicyDep,
    ReaderDep,
    SettingsDep,
    TolerancesDep,
)
from api.reads import ReadDbDep, require_lot
from api.schemas import EntryAccepted, EnvelopeIn, request_body
from ledger.epcis.schema import EpcisValidator, SchemaUnavailable
from ledger.epcis.vocabulary import DOCUMENT_PAYLOAD_TYPE, EPCIS_EVENT_TYPES
from ledger.errors import Kind, LedgerError
from ledger.lots.records import LotState, ParticipantState
from ledger.service import epcis, queries
from ledger.store.engine import Database

router = APIRouter(tags=["epcis"])

LD_JSON = "application/ld+json"
LotPath = PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", description="lot id")


class CapturedOut(EntryAccepted):
    position: int
    eventID: str  # the EPCIS name, as in the documents


class CaptureAccepted(BaseModel):
    results: list[CapturedOut]


def get_validator(schema: EpcisSchemaDep) -> EpcisValidator | None:
    """GS1's schema when the ledger has it (capture applies its own checks either way)."""
    try:
        return schema.validator()
    except SchemaUnavailable as exc:
        # A schema the operator installed but that cannot be applied stops captures rather than
        # being skipped. Why and where go to the server's log (epcis_schema.py), not to clients:
        # the same kind and code, the operator's reason replaced by a sentence for the client.
        raise LedgerError(
            exc.kind,
            exc.code,
            "the EPCIS JSON Schema installed on this ledger cannot be applied, so captures are "
            "stopped until the operator replaces it (`ree-ledger epcis install-schema FILE`) or "
            "removes it; the server's log says why",
        ) from exc


ValidatorDep = Annotated[EpcisValidator | None, Depends(get_validator)]


def _reader(reader: ParticipantState | None) -> ParticipantState:
    if reader is None:
        raise LedgerError(
            Kind.UNAUTHENTICATED,
            "token_required",
            "EPCIS events hold commercial detail: send a read token",
        )
    return reader


def _may_read(reader: ParticipantState, lot: LotState) -> None:
    if not queries.may_read_detail(reader, lot):
        raise LedgerError(
            Kind.FORBIDDEN,
            "not_your_lot",
            f"{reader.id} may not read lot {lot.id!r}: only its holder, customs and auditors may",
        )


def _lot(db: Database, request: Request, lot_id: str) -> LotState:
    try:
        return epcis.find_lot(db, lot_id)
    except queries.NotFound:
        require_lot(request, lot_id)  # 503 where a lagging replica lacks it, else the 404
        raise


@router.get("/v1/lots/{lot}/epcis", response_class=JSONResponse)
def get_lot_epcis(
    db: ReadDbDep, request: Request, reader: ReaderDep, identity: IdentityDep, lot: str = LotPath
) -> JSONResponse:
    """The lot's whole ancestry as an EPCISDocument (JSON-LD), events in log order."""
    _may_read(_reader(reader), _lot(db, request, lot))
    document = epcis.export_lot(db, lot, identity.origin, datetime.now(UTC))
    return JSONResponse(document, media_type=LD_JSON)


def _check_query(
    db: Database, request: Request, reader: ParticipantState, query: epcis.EventQuery
) -> None:
    """The reader may see what the query asks for, and the query makes sense."""
    if query.lot is not None:
        _may_read(reader, _lot(db, request, query.lot))
    elif not reader.roles & queries.OVERSIGHT_ROLES:
        raise LedgerError(
            Kind.FORBIDDEN, "lot_required", "only customs and auditors query every lot: pass lot="
        )
    if query.event_type is not None and query.event_type not in EPCIS_EVENT_TYPES:
        raise LedgerError(
            Kind.INVALID,
            "unknown_event_type",
            f"type {query.event_type!r} is not one of {sorted(EPCIS_EVENT_TYPES)}",
        )
    for name, moment in (("from", query.start), ("to", query.end)):
        if moment is not None and moment.tzinfo is None:
            raise LedgerError(
                Kind.INVALID, "naive_time", f"{name} needs a time zone, e.g. 2026-03-01T08:00:00Z"
            )


@router.get("/v1/epcis/events", response_class=JSONResponse)
def get_events(
    request: Request,
    db: ReadDbDep,
    reader: ReaderDep,
    identity: IdentityDep,
    lot: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")] = None,
    event_type: Annotated[str | None, Query(alias="type")] = None,
    biz_step: Annotated[str | None, Query(alias="bizStep")] = None,
    start: Annotated[datetime | None, Query(alias="from", description="eventTime >= from")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="eventTime < to")] = None,
    after: Annotated[
        int, Query(ge=-1, le=2**63 - 1, description="last index of the previous page")
    ] = -1,
    limit: Annotated[int, Query(ge=1, le=epcis.MAX_PAGE)] = 100,
) -> JSONResponse:
    """Lot events as an EPCISQueryDocument, oldest first (log order), `limit` per page.

    A full page carries `Link: <...&after=N>; rel="next"`. Customs and auditors may query every
    lot; any other reader must name a lot it holds.
    """
    query = epcis.EventQuery(lot, event_type, biz_step, start, end, after, limit)
    _check_query(db, request, _reader(reader), query)
    page = epcis.query_events(db, query, identity.origin, datetime.now(UTC))
    headers = {}
    if page.next_after is not None:
        params = {**request.query_params, "after": str(page.next_after)}
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return JSONResponse(page.document, media_type=LD_JSON, headers=headers)


@router.post(
    "/v1/epcis/capture",
    status_code=201,
    openapi_extra=request_body(EnvelopeIn, f"DSSE envelope; payloadType {DOCUMENT_PAYLOAD_TYPE}"),
)
def post_capture(
    body: EnvelopeBody,
    db: DbDep,
    identity: IdentityDep,
    settings: SettingsDep,
    tolerances: TolerancesDep,
    validator: ValidatorDep,
    policy: PolicyDep,
) -> CaptureAccepted:
    """Record a signed EPCISDocument whose events carry their ledger entries, all or nothing."""
    results = epcis.capture(
        db,
        identity,
        validator,
        body,
        datetime.now(UTC),
        tolerances,
        max_events=settings.max_batch_envelopes,
        policy=policy,
    )
    return CaptureAccepted(
        results=[
            CapturedOut(
                **views.accepted(result.accepted).model_dump(),
                position=result.captured.position,
                eventID=result.event_id,
            )
            for result in results
        ]
    )
