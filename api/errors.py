"""RFC 9457 problem+json for every error the API returns."""

import logging
import sqlite3
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.reads import BEHIND_RETRY_AFTER_S
from ledger.errors import Kind, LedgerError
from ledger.store.writable import cancelled_by_conflict, refuses_writes

PROBLEM_TYPE_BASE = "https://ree-ledger.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# How long a client should wait before it writes again to a database that refuses writes.
READ_ONLY_RETRY_AFTER_S = 60
LOGGER = logging.getLogger("ree_ledger.api")


# The one place a kind of LedgerError becomes an HTTP status.
STATUS: dict[Kind, int] = {
    Kind.MALFORMED: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.INVALID: 422,
    Kind.UNAVAILABLE: 503,
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({key: value for key, value in extra.items() if value is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _title(code: str) -> str:
    return code.replace("_", " ").capitalize()


def status_of(exc: LedgerError) -> int:
    """The HTTP status that answers `exc`."""
    return STATUS[exc.kind]


def error_response(exc: LedgerError) -> JSONResponse:
    """The problem+json answer to `exc`: its kind's status, its code, detail, field and value,
    its extra members (a batch's `position`), and Retry-After where it gives one."""
    answer = problem(
        status_of(exc),
        exc.code,
        _title(exc.code),
        exc.detail,
        field=exc.field,
        value=_json_safe(exc.value),
        position=getattr(exc, "position", None),
        **exc.extra,
    )
    if exc.retry_after is not None:
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


def _json_safe(value: object) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    return repr(value)[:200]


def database_read_only(exc: Exception) -> JSONResponse:
    """503: the database refuses writes (docs/operations.md). Nothing was written; the same
    request may be sent again once the operator has made the database writable."""
    LOGGER.warning("the database refused a write: %s", getattr(exc, "orig", None) or exc)
    answer = problem(
        503,
        "database_read_only",
        "Database read-only",
        "the ledger's database accepts no writes at the moment (it is read-only): nothing was "
        "written; send the same request again later",
    )
    answer.headers["Retry-After"] = str(READ_ONLY_RETRY_AFTER_S)
    return answer


def try_again(code: str, detail: str, retry_after: int, **extra: Any) -> JSONResponse:
    """503 with Retry-After: a state that passes, not the client's fault nor a bug."""
    answer = problem(503, code, _title(code), detail, **extra)
    answer.headers["Retry-After"] = str(retry_after)
    return answer


def install(app: FastAPI) -> None:
    """Route every error through problem+json."""

    @app.exception_handler(LedgerError)
    async def _ledger_error(_request: Request, exc: LedgerError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        field = ".".join(
            str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")
        )
        detail = f"{field or 'request'}: {first.get('msg', 'invalid request')}"
        return problem(422, "invalid_request", "Invalid request", detail, field=field or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, _title(code), str(exc.detail))

    async def _database(_request: Request, exc: Exception) -> JSONResponse:
        if cancelled_by_conflict(exc):
            LOGGER.info("the database cancelled a statement: %s", getattr(exc, "orig", exc))
            return try_again(
                "database_conflict",
                "the database cancelled the query (on a read replica: a conflict with the "
                "changes it replays); nothing was written: send the same request again",
                BEHIND_RETRY_AFTER_S,
            )
        if not refuses_writes(exc):
            raise exc  # on to the 500 below, with its traceback in the log
        return database_read_only(exc)

    for driver_error in (DBAPIError, sqlite3.Error, psycopg.Error):
        app.add_exception_handler(driver_error, _database)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # Never leak internals: the log has the traceback.
        return problem(
            500, "internal_error", "Internal error", "the server failed; nothing was written"
        )
