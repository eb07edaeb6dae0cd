"""QR codes of a lot's page URL (PNG, SVG) and a printable sheet of labels; open to all.

A code encodes only `<public_url>/lots/<lot>`: it reveals nothing beyond the lot id.
"""

from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api import qr_render
from api.deps import SettingsDep
from api.reads import ReadDbDep, require_lot
from api.routers.lots import LotPath
from api.routers.pages import Visitor, VisitorDep, message, render
from ledger.config import Settings
from ledger.errors import Kind, LedgerError
from ledger.qr import is_lot_id, lot_page_url
from ledger.service.labels import missing_lots
from ledger.store.engine import Database

router = APIRouter(tags=["qr"])

MAX_LABELS = 200  # lots on one sheet for a signed-in reader
MAX_LABELS_ANONYMOUS = 24  # and for anyone else: each label is a QR code to compute
CACHE = {"Cache-Control": "public, max-age=3600"}


def _page_url(db: Database, request: Request, settings: Settings, lot: str) -> str:
    if missing_lots(db, [lot]):
        require_lot(request, lot)
        raise LedgerError(
            Kind.NOT_FOUND,
            "unknown_lot",
            f"lot {lot!r} is not in the ledger: check the code on the label",
        )
    return lot_page_url(settings.public_url, lot)


@router.get("/v1/lots/{lot}/qr.png", response_class=Response)
def qr_png(db: ReadDbDep, request: Request, settings: SettingsDep, lot: str = LotPath) -> Response:
    """A PNG label: the QR code of the lot's page URL with the lot id printed below."""
    url = _page_url(db, request, settings, lot)
    return Response(qr_render.png(url, lot), media_type="image/png", headers=CACHE)


@router.get("/v1/lots/{lot}/qr.svg", response_class=Response)
def qr_svg(db: ReadDbDep, request: Request, settings: SettingsDep, lot: str = LotPath) -> Response:
    """The same label as SVG, for printing at any size."""
    url = _page_url(db, request, settings, lot)
    return Response(qr_render.svg(url, lot), media_type="image/svg+xml", headers=CACHE)


@dataclass(frozen=True)
class Label:
    lot: str
    url: str
    svg: Markup


@router.get("/labels", response_class=HTMLResponse, include_in_schema=False)
def label_sheet(
    db: ReadDbDep,
    settings: SettingsDep,
    visitor: VisitorDep,
    lot: list[str] | None = Query(None),
) -> HTMLResponse:
    """A print page: one QR label per `lot` query parameter (`/labels?lot=A&lot=B`)."""
    lots = list(dict.fromkeys(lot or []))  # once each, in the order given
    most = MAX_LABELS if visitor.reader else MAX_LABELS_ANONYMOUS
    if not lots or len(lots) > most:
        text = f"Name 1 to {most} lots, as /labels?lot=A&lot=B; got {len(lots)}."
        if not visitor.reader:
            text += f" Sign in with a read token for up to {MAX_LABELS} on one sheet."
        return message("Which lots?", text, 422, visitor)
    # Only lot ids are named back: a link must not put its own words on the ledger's page.
    malformed = [name for name in lots if not is_lot_id(name)]
    unknown = missing_lots(db, [name for name in lots if is_lot_id(name)])
    if malformed or unknown:
        text = "Check the lot codes; no label was made."
        if unknown:
            text += " Unknown: " + ", ".join(unknown[:20]) + "."
        if malformed:
            text += f" {len(malformed)} not lot codes at all."
        count = len(malformed) + len(unknown)
        return message(f"{count} of these lots are not in this ledger", text, 404, visitor)
    labels = []
    for name in lots:
        url = lot_page_url(settings.public_url, name)
        # The SVG is built by qr_render from escaped text only.
        labels.append(Label(name, url, Markup(qr_render.svg_element(url, name))))
    return render("labels.html", labels=labels, public_url=settings.public_url, visitor=Visitor())
