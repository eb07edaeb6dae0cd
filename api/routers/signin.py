"""Sign-in and sign-out pages: the session cookie, kept under a form token (docs/customs.md)."""

import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from api.deps import DbDep, SettingsDep
from api.routers.pages import SESSION_COOKIE, Visitor, form_ok, form_token, message, render
from ledger.config import Settings
from ledger.service.tokens import resolve_token

SIGNIN_COOKIE = "ree_signin"
SESSION_MAX_AGE_S = 12 * 3600  # one shift

router = APIRouter(tags=["pages"], include_in_schema=False)


def _set_cookie(response: Response, settings: Settings, name: str, value: str, age: int) -> None:
    secure = settings.public_url.startswith("https://")
    response.set_cookie(
        name, value, max_age=age, path="/", httponly=True, samesite="strict", secure=secure
    )


def _safe_next(target: str) -> str:
    """A local path to return to after a form; anything else (another site) goes to /signin."""
    return target if re.fullmatch(r"/(?![/\\])[A-Za-z0-9._:/?=&%-]{0,200}", target) else "/signin"


class SigninForm(BaseModel):
    csrf: str = ""
    token: str = ""
    next: str = "/signin"


class SignoutForm(BaseModel):
    csrf: str = ""
    next: str = "/signin"


def _signin_form(
    settings: Settings, nonce: str | None, target: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    nonce = nonce or secrets.token_urlsafe(32)
    page: dict[str, Any] = {"csrf": form_token(nonce), "next": _safe_next(target), "error": error}
    response = render("signin.html", status, visitor=Visitor(), **page)
    _set_cookie(response, settings, SIGNIN_COOKIE, nonce, 3600)
    return response


@router.get("/signin")
def signin_page(request: Request, settings: SettingsDep, next: str = "/signin") -> HTMLResponse:
    return _signin_form(settings, request.cookies.get(SIGNIN_COOKIE), next)


@router.post("/signin")
def signin(
    request: Request, db: DbDep, settings: SettingsDep, form: Annotated[SigninForm, Form()]
) -> Response:
    """Check the read token and keep it in the session cookie."""
    nonce = request.cookies.get(SIGNIN_COOKIE)
    if not form_ok(nonce, form.csrf):
        error = "The sign-in form expired or came from another site: try again."
        return _signin_form(settings, None, form.next, error, 403)
    reader = (
        resolve_token(db, form.token.strip(), datetime.now(UTC)) if form.token.strip() else None
    )
    if reader is None:
        error = (
            "That read token is unknown, expired or revoked. Check it, or ask the operator for one."
        )
        return _signin_form(settings, nonce, form.next, error, 401)
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    _set_cookie(response, settings, SESSION_COOKIE, form.token.strip(), SESSION_MAX_AGE_S)
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, form: Annotated[SignoutForm, Form()]) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    if session and not form_ok(session, form.csrf):
        return message("The form has expired", "Go back, reload the page, try again.", 403)
    response = RedirectResponse(_safe_next(form.next), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
