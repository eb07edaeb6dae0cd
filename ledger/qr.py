"""QR payloads (pure): the page URL a lot's label encodes; rendering lives in api/qr_render.py."""

import re
from urllib.parse import quote

LOT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def is_lot_id(text: str) -> bool:
    """Whether `text` has the form of a lot id (DESIGN §2); says nothing of whether it exists."""
    return LOT_ID.fullmatch(text) is not None


def lot_page_url(public_url: str, lot: str) -> str:
    """`<public_url>/lots/<lot>`: the page a customs officer's phone opens from the label.

    A trailing slash on `public_url` is not doubled. Lot ids hold only URL-safe characters,
    so quoting changes nothing for a valid id; it keeps a bad one from escaping the path.
    """
    return f"{public_url.rstrip('/')}/lots/{quote(lot, safe='._:-')}"
