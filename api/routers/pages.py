"""The HTML pages for people (Jinja2, no JavaScript): a lot's page, the declaration check;
sign-in is in signin.py. Who sees what, the cookie and the form tokens: docs/customs.md.

Every form carries an HMAC of a cookie the attacker's page cannot read (the session token,
or before sign-in a random nonce cookie), so a form posted from another site fails.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.declaration_form import CheckForm, declaration_body, shown_again
from api.deps import DbDep, TolerancesDep
from api.errors import status_of
from api.reads import BEHIND_RETRY_AFTER_S, ReadDbDep, ReplicaBehind, require_lot
from ledger.errors import LedgerError
from ledger.lots.records import ParticipantState
from ledger.lots.rules.flags import grams, percent
from ledger.qr import is_lot_id
from ledger.service import declarations, labels, queries
from ledger.service.provenance import Provenance, provenance
from ledger.service.tokens import resolve_token
from ledger.store.engine import Database

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SESSION_COOKIE = "ree_token"
FORM_KEY_CONTEXT = b"ree-ledger html form v1"

router = APIRouter(tags=["pages"], include_in_schema=False)


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["grams"] = grams
    env.filters["percent"] = percent
    env.filters["when"] = _when
    env.globals["flag_words"] = labels.flag_words
    env.globals["step_words"] = labels.STEP_WORDS
    return env


def _when(time: str) -> str:
    """2026-03-01T08:00:00Z -> 2026-03-01 08:00 UTC: the record's time, to the minute."""
    return f"{time[:10]} {time[11:16]} UTC" if len(time) >= 16 else time


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page; never cached, since what it shows depends on who asks."""
    html = _environment().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/static/page.css")
def stylesheet() -> Response:
    css = (TEMPLATES / "page.css").read_text()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


# --- who is asking, and the form tokens ----------------------------------------------------


def form_token(secret: str) -> str:
    """The token a form must carry: an HMAC keyed by a cookie the attacker cannot read."""
    return hmac.new(secret.encode(), FORM_KEY_CONTEXT, hashlib.sha256).hexdigest()


def form_ok(secret: str | None, sent: str) -> bool:
    return bool(secret) and hmac.compare_digest(form_token(secret or "").encode(), sent.encode())


@dataclass(frozen=True)
class Visitor:
    reader: ParticipantState | None = None
    session: str | None = None  # the cookie's token, when signed in by cookie
    notice: str | None = None

    @property
    def csrf(self) -> str:
        return form_token(self.session) if self.session else ""

    @property
    def oversight(self) -> bool:
        return self.reader is not None and bool(self.reader.roles & queries.OVERSIGHT_ROLES)


def get_visitor(request: Request, db: DbDep) -> Visitor:
    """The reader behind `Authorization: Bearer` or else the sign-in cookie; never refuses."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        reader = resolve_token(db, token.strip(), datetime.now(UTC))
        return Visitor(
            reader, None, None if reader else "The read token sent is unknown, expired or revoked."
        )
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return Visitor()
    reader = resolve_token(db, cookie, datetime.now(UTC))
    if reader is None:
        return Visitor(notice="Your sign-in is no longer valid: sign in again.")
    return Visitor(reader, cookie)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]


def message(title: str, text: str, status: int, visitor: Visitor | None = None) -> HTMLResponse:
    return render("message.html", status, title=title, text=text, visitor=visitor or Visitor())


def unknown_lot(lot: str, visitor: Visitor) -> HTMLResponse:
    """The 404 page; it names the code only when it is a lot id, so a link cannot put
    someone else's words in the heading of a page on the ledger's own address."""
    title = f"No lot {lot} in this ledger" if is_lot_id(lot) else "That is not a lot code"
    return message(
        f"{title} — check the code on the label",
        "The code may be mistyped or the label damaged; try scanning it again. A label whose "
        "lot this ledger does not know is itself a finding: report it.",
        404,
        visitor,
    )


def _when_posix(seconds: int) -> str:
    """A witness's cosignature time, to the minute, as the record's times are shown."""
    return _when(datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


# --- the lot page --------------------------------------------------------------------------


@router.get("/lots")
def find_lot(visitor: VisitorDep, lot: str = "") -> Response:
    """The sign-in page's "type the code" form: on to the lot's page."""
    lot = lot.strip()
    if not is_lot_id(lot):
        return unknown_lot(lot, visitor)
    return RedirectResponse(f"/lots/{lot}", status_code=303)


@router.get("/lots/{lot}")
def lot_page(lot: str, db: ReadDbDep, request: Request, visitor: VisitorDep) -> HTMLResponse:
    """The lot's verification page: the verdict first, detail for those allowed to see it."""
    found = _provenance(db, lot)
    if found is None:
        return not_yet(request, lot, visitor) or unknown_lot(lot, visitor)
    return render("lot.html", **lot_context(found, visitor))


def not_yet(request: Request, lot: str, visitor: Visitor) -> HTMLResponse | None:
    """The page for a lot recorded after the newest state of the read replica this server
    answers from (the primary holds it): 503, try again in a moment; else None."""
    if not is_lot_id(lot):
        return None
    try:
        require_lot(request, lot)
    except ReplicaBehind:
        page = message(
            f"Lot {lot} was recorded moments ago",
            "This server has not received it yet. Reload the page in a few seconds.",
            503,
            visitor,
        )
        page.headers["Retry-After"] = str(BEHIND_RETRY_AFTER_S)
        return page
    return None


def _provenance(db: Database, lot: str) -> Provenance | None:
    if not is_lot_id(lot):
        return None
    try:
        return provenance(db, lot)
    except queries.NotFound:
        return None


def lot_context(found: Provenance, visitor: Visitor) -> dict[str, Any]:
    """What the page shows; the public half never receives the commercial detail at all."""
    note = found.checkpoint.split("\n")
    context: dict[str, Any] = {
        "visitor": visitor,
        "lot_id": found.lot.id,
        "product": found.lot.product,
        "banner": labels.banner(found.verdict, len(found.flags)),
        "checkpoint": {"origin": note[0], "size": int(note[1]), "root": note[2]},
        "cosigners": [(name, _when_posix(time)) for name, time in found.cosigners],
        "cosignature_problem": found.cosignature_problem,
        "categories": labels.finding_categories(found.flags),
        "detail": queries.may_read_detail(visitor.reader, found.lot),
    }
    if not context["detail"]:
        return context | {"countries": labels.country_shares(found.origins)}
    return context | {
        "lot": found.lot,
        "origins": found.origins,
        "flags": found.flags,
        "from_history": found.from_history,
        "picture": labels.custody_picture(found),
        "steps": found.steps,
        "checkpoint_problem": found.checkpoint_problem,
        "composition": sorted(found.lot.composition_ppm.items(), key=lambda item: -item[1]),
        "form": CheckForm(lots=found.lot.id) if visitor.oversight else None,
    }


# --- the declaration check -----------------------------------------------------------------


@router.post("/lots/{lot}/check")
def check_page(
    lot: str,
    db: ReadDbDep,
    visitor: VisitorDep,
    tolerances: TolerancesDep,
    form: Annotated[CheckForm, Form()],
) -> HTMLResponse:
    """The flags the declaration in the form would raise against the record; writes nothing."""
    if not is_lot_id(lot) or labels.missing_lots(db, [lot]):
        return unknown_lot(lot, visitor)
    if not visitor.oversight:
        return message("Sign in as customs", "The check is for customs and auditors.", 403)
    if visitor.session and not form_ok(visitor.session, form.csrf):
        return message("The form has expired", "Go back, reload the page, try again.", 403)
    context: dict[str, Any] = {"visitor": visitor, "lot_id": lot, "form": shown_again(form)}
    try:
        declaration = declarations.parse_declaration(declaration_body(form))
        flags = declarations.check(db, declaration, tolerances)
    except LedgerError as exc:
        return render("check.html", status_of(exc), **context, error=str(exc), findings=None)
    return render("check.html", **context, error=None, findings=flags)
