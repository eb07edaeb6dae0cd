"""Dependencies: the database, the log identity, the reader behind a token, strict JSON bodies
(envelopes read typed)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from ledger.config import Settings
from ledger.errors import Kind, LedgerError
from ledger.lots.policy import CustodyPolicy
from ledger.lots.state import ParticipantState
from ledger.lots.tolerances import Tolerances
from ledger.service.epcis_schema import InstalledSchema
from ledger.service.tokens import resolve_token
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.tlog.encoding import parse_json
from ledger.tlog.envelope import batch_envelopes, envelope_json
from ledger.tlog.errors import EncodingError


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_identity(request: Request) -> LogIdentity:
    identity: LogIdentity = request.app.state.identity
    return identity


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_tolerances(request: Request) -> Tolerances:
    tolerances: Tolerances = request.app.state.tolerances
    return tolerances


def get_epcis_schema(request: Request) -> InstalledSchema:
    schema: InstalledSchema = request.app.state.epcis_schema
    return schema


DbDep = Annotated[Database, Depends(get_db)]
TolerancesDep = Annotated[Tolerances, Depends(get_tolerances)]


def get_policy(request: Request) -> CustodyPolicy:
    policy: CustodyPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[CustodyPolicy, Depends(get_policy)]
IdentityDep = Annotated[LogIdentity, Depends(get_identity)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EpcisSchemaDep = Annotated[InstalledSchema, Depends(get_epcis_schema)]


def get_reader(request: Request, db: DbDep) -> ParticipantState | None:
    """The participant behind `Authorization: Bearer <token>`, or None when there is no header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LedgerError(
            Kind.UNAUTHENTICATED, "bad_authorization", "use `Authorization: Bearer <read token>`"
        )
    reader = resolve_token(db, token.strip(), datetime.now(UTC))
    if reader is None:
        raise LedgerError(
            Kind.UNAUTHENTICATED,
            "unknown_token",
            "the read token is unknown, expired or revoked: ask for a new one",
        )
    return reader


ReaderDep = Annotated[ParticipantState | None, Depends(get_reader)]


async def strict_json_body(request: Request) -> Any:
    """The body parsed strictly: no duplicate keys, floats, NaN or deep nesting."""
    raw = await request.body()
    try:
        return parse_json(raw)
    except EncodingError as exc:
        raise LedgerError(Kind.MALFORMED, "malformed_json", f"request body: {exc}") from exc


JsonBody = Annotated[Any, Depends(strict_json_body)]


async def envelope_body(request: Request) -> object:
    """The body as one envelope's JSON, as strictly as JsonBody (ledger.tlog.envelope reads
    it typed where it can)."""
    raw = await request.body()
    try:
        return envelope_json(raw)
    except EncodingError as exc:
        raise LedgerError(Kind.MALFORMED, "malformed_json", f"request body: {exc}") from exc


async def batch_body(request: Request) -> list[object]:
    """The envelopes of a batch body `{"envelopes": [...]}`, each as EnvelopeBody gives one."""
    raw = await request.body()
    try:
        envelopes = batch_envelopes(raw)
    except EncodingError as exc:
        raise LedgerError(Kind.MALFORMED, "malformed_json", f"request body: {exc}") from exc
    if envelopes is None:
        raise LedgerError(
            Kind.MALFORMED, "malformed_batch", 'a batch is {"envelopes": [envelope, ...]}'
        )
    return envelopes


EnvelopeBody = Annotated[object, Depends(envelope_body)]
BatchBody = Annotated[list[object], Depends(batch_body)]
