"""Findings: the flags recorded with entries, and the declaration check."""

from typing import Literal

from fastapi import APIRouter, Query

from api import views
from api.deps import JsonBody, ReaderDep, TolerancesDep
from api.reads import ReadDbDep
from api.schemas import DeclarationCheck, FlagPage, request_body
from ledger.errors import Kind, LedgerError
from ledger.lots.events import Declaration
from ledger.lots.records import ParticipantState
from ledger.lots.rules import FLAG_CODES
from ledger.service import declarations, queries

router = APIRouter(prefix="/v1", tags=["flags"])

MAX_PAGE = 500


def _oversight(reader: ParticipantState | None, what: str) -> ParticipantState:
    if reader is None:
        raise LedgerError(
            Kind.UNAUTHENTICATED, "token_required", f"{what} needs a customs or auditor read token"
        )
    if not reader.roles & queries.OVERSIGHT_ROLES:
        raise LedgerError(Kind.FORBIDDEN, "oversight_only", f"{what} is for customs and auditors")
    return reader


@router.get("/flags")
def get_flags(
    db: ReadDbDep,
    reader: ReaderDep,
    code: str | None = Query(None, description=f"one of {', '.join(FLAG_CODES)}"),
    lot: str | None = Query(None, max_length=64),
    severity: Literal["low", "medium", "high"] | None = None,
    before: int | None = Query(None, ge=1, le=2**63 - 1, description="`next` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> FlagPage:
    """Flags, newest first (customs and auditors)."""
    _oversight(reader, "the flag list")
    if code is not None and code not in FLAG_CODES:
        raise LedgerError(
            Kind.INVALID, "unknown_flag_code", f"code {code!r} is not one of {FLAG_CODES}"
        )
    found = queries.list_flags(
        db, code=code, lot=lot, severity=severity, before=before, limit=limit
    )
    following = found[-1].id if len(found) == limit else None
    return FlagPage(flags=[views.flag_out(flag) for flag in found], next=following)


@router.post(
    "/declarations/check",
    openapi_extra=request_body(
        Declaration, "a declaration as in export.declare; its id may be left out"
    ),
)
def check_declaration(
    body: JsonBody, db: ReadDbDep, reader: ReaderDep, tolerances: TolerancesDep
) -> DeclarationCheck:
    """The flags a declaration would raise against the record; nothing is written."""
    _oversight(reader, "the declaration check")
    declaration = declarations.parse_declaration(body)
    flags = declarations.check(db, declaration, tolerances)
    return DeclarationCheck(flags=[views.finding(flag) for flag in flags])
