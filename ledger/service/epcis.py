"""EPCIS 2.0 over the ledger: export a lot's ancestry or a query, capture a signed document."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session, col

from ledger.epcis.capture import (
    CapturedEvent,
    parse_capture_envelope,
    read_events,
    relabel,
)
from ledger.epcis.export import (
    BIZ_STEP,
    EPCIS_TYPE,
    LOT_EVENT_TYPES,
    LedgerEntry,
    epcis_document,
    epcis_event,
    query_document,
)
from ledger.epcis.schema import EpcisValidator, parse_document, read_schema
from ledger.epcis.shape import document_events
from ledger.epcis.vocabulary import cbv_uri
from ledger.errors import Kind
from ledger.lots.events import parse_event
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.lots.records import KeyState, LotState, Rejection
from ledger.lots.state import authorise_key
from ledger.lots.tolerances import Tolerances
from ledger.service.ingest import DEFAULT_TOLERANCES, Accepted, ingest
from ledger.service.queries import NotFound
from ledger.store import findings
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.state import DbState
from ledger.store.tables import EntryRow, LotEventRow
from ledger.tlog.encoding import parse_json
from ledger.tlog.envelope import Envelope, verify_envelope
from ledger.tlog.errors import VerificationError

MAX_PAGE = 1000
_SCAN_CHUNK = 500


@dataclass(frozen=True)
class EventQuery:
    """Filters of GET /v1/epcis/events; `after` is the last index of the previous page."""

    lot: str | None = None
    event_type: str | None = None
    biz_step: str | None = None
    start: datetime | None = None  # eventTime >= start
    end: datetime | None = None  # eventTime < end
    after: int = -1
    limit: int = 100


@dataclass(frozen=True)
class QueryPage:
    document: dict[str, Any]
    next_after: int | None  # pass as `after` for the next page; None on the last page


@dataclass(frozen=True)
class CaptureResult:
    captured: CapturedEvent
    accepted: Accepted
    event_id: str  # the eventID the ledger's export of this entry carries


def load_validator(path: Path) -> EpcisValidator:
    """The validator for the EPCIS JSON Schema file at `path`, if it is one capture can apply
    (ledger.epcis.schema.read_schema); raises SchemaUnavailable or OSError."""
    return read_schema(path.read_bytes())


def find_lot(db: Database, lot_id: str) -> LotState:
    with db.read_session() as session:
        lot = DbState(session).lot(lot_id)
    if lot is None:
        raise NotFound(f"lot {lot_id!r} is not in the ledger")
    return lot


def export_lot(db: Database, lot_id: str, origin: str, now: datetime) -> dict[str, Any]:
    """An EPCISDocument of every entry in the lot's ancestry, in log order."""
    with db.read_session() as session:
        if DbState(session).lot(lot_id) is None:
            raise NotFound(f"lot {lot_id!r} is not in the ledger")
        history = findings.event_indexes(session, findings.ancestry(session, lot_id))
        indices = sorted({index for found in history.values() for index in found})
        rows = session.execute(
            select(EntryRow)
            .where(col(EntryRow.idx).in_(bindparam("ids", expanding=True)))
            .order_by(col(EntryRow.idx)),
            {"ids": indices},
        ).scalars()
        events = [epcis_event(_ledger_entry(row), origin) for row in rows]
    return epcis_document(events, now)


def query_events(db: Database, query: EventQuery, origin: str, now: datetime) -> QueryPage:
    """Lot events matching `query`, oldest first (log order), at most `query.limit` of them."""
    types = ledger_types(query.event_type, query.biz_step)
    found: list[dict[str, Any]] = []
    last = query.after
    with db.read_session() as session:
        if query.lot is not None and DbState(session).lot(query.lot) is None:
            raise NotFound(f"lot {query.lot!r} is not in the ledger")
        for row in _scan(session, types, query.lot, query.after):
            entry = _ledger_entry(row)
            last = row.idx
            moment = entry.event.parsed_time
            if (query.start is None or moment >= query.start) and (
                query.end is None or moment < query.end
            ):
                found.append(epcis_event(entry, origin))
                if len(found) == query.limit:
                    break
    next_after = last if len(found) == query.limit else None
    return QueryPage(query_document(found, now), next_after)


def ledger_types(event_type: str | None, biz_step: str | None) -> frozenset[str]:
    """The ledger event types an EPCIS event type and business step select."""
    types = set(LOT_EVENT_TYPES)
    if event_type is not None:
        types &= {t for t, epcis in EPCIS_TYPE.items() if epcis == event_type}
    if biz_step is not None:
        wanted = cbv_uri("BizStep", biz_step)
        types &= {t for t, step in BIZ_STEP.items() if cbv_uri("BizStep", step) == wanted}
    return frozenset(types)


def capture(
    db: Database,
    identity: LogIdentity,
    validator: EpcisValidator | None,
    body: object,
    now: datetime,
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    max_events: int | None = None,
    policy: CustodyPolicy = DEFAULT_POLICY,
) -> list[CaptureResult]:
    """Record every event of a signed EPCIS document as one batch, all or nothing.

    `validator` is GS1's schema when the ledger has it; capture's own checks apply either way.
    """
    envelope = parse_capture_envelope(body)
    submitter = _authenticate(db, identity, envelope)
    document = parse_document(envelope.payload)
    if validator is not None:
        validator.check(document)
    events = document_events(document)
    if max_events is not None and len(events) > max_events:
        raise Rejection(
            Kind.TOO_LARGE,
            "batch_too_large",
            f"{len(events)} events > limit {max_events}: split the document",
            field="epcisBody.eventList",
        )
    captured = read_events(document, identity.origin, submitter)
    try:
        accepted = ingest(
            db, identity, [c.entry.envelope for c in captured], now, tolerances, policy
        )
    except Rejection as exc:
        position = exc.position if exc.position is not None else 0
        raise relabel(exc, position, events[position]) from exc
    return [
        CaptureResult(c, result, _export_id(c, result, identity.origin))
        for c, result in zip(captured, accepted, strict=True)
    ]


def _authenticate(db: Database, identity: LogIdentity, envelope: Envelope) -> str:
    """The participant whose key, valid for the next entry, signed the document."""
    keyid = envelope.signatures[0].keyid
    with db.read_session() as session:
        index = logstore.current_size(session)
        key = DbState(session).key(keyid)
        owner = key.participant if key is not None else keyid.partition("/")[0]
        public_key = authorise_key(keyid, owner, index, DbState(session), identity.operator_keyid)
    if public_key is None or not isinstance(key, KeyState):
        raise Rejection(
            Kind.FORBIDDEN,
            "operator_cannot_capture",
            "the operator key signs registry events only; sign the document with a participant key",
            field="signatures.0.keyid",
            value=keyid,
        )
    try:
        verify_envelope(envelope, public_key)
    except VerificationError as exc:
        raise Rejection(
            Kind.FORBIDDEN,
            "bad_signature",
            f"the signature by {keyid} does not verify over the EPCIS document",
            field="signatures.0.sig",
        ) from exc
    return key.participant


def _export_id(captured: CapturedEvent, result: Accepted, origin: str) -> str:
    entry = LedgerEntry(
        captured.entry.event, captured.entry.envelope.to_json(), result.event_hash, result.index
    )
    return str(epcis_event(entry, origin)["eventID"])


def _scan(
    session: Session, types: frozenset[str], lot: str | None, after: int
) -> Iterator[EntryRow]:
    """Entries of `types` (touching `lot`, if given) after index `after`, in chunks."""
    if not types:
        return
    while True:
        query = (
            select(EntryRow)
            .where(col(EntryRow.type).in_(bindparam("types", expanding=True)))
            .where(col(EntryRow.idx) > after)
            .order_by(col(EntryRow.idx))
            .limit(_SCAN_CHUNK)
        )
        if lot is not None:
            touched = select(col(LotEventRow.idx)).where(col(LotEventRow.lot) == lot)
            query = query.where(col(EntryRow.idx).in_(touched))
        rows = list(session.execute(query, {"types": sorted(types)}).scalars())
        yield from rows
        if len(rows) < _SCAN_CHUNK:
            return
        after = rows[-1].idx


def _ledger_entry(row: EntryRow) -> LedgerEntry:
    envelope = parse_json(bytes(row.envelope))
    event = parse_event(Envelope.from_json(envelope).payload)
    return LedgerEntry(event, envelope, row.event_hash, row.idx)
