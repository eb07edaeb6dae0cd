"""Constrained field types of the event vocabulary: identifiers, masses, compositions, lists.

Each type is msgspec's: its constraints (patterns, lengths, bounds) are checked in C while the
payload is decoded, and its `description` is what an error says of a value that fails them.
What a type cannot say (a real calendar date, a sum, distinct items) the struct holding the
field checks in `__post_init__`, raising FieldError.
"""

import re
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Literal, get_args

from msgspec import Meta

OPERATOR = "operator"
MASS_MAX_G = 10**15
PPM_TOTAL = 1_000_000
# One event may name this many lots; larger consignments are split over several events.
MAX_LOTS = 1000
MAX_KEYS = 16

_SYMBOLS = (
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se"
    " Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb"
    " Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm"
    " Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og"
)
ELEMENTS = frozenset(_SYMBOLS.split())
ELEMENT_MESSAGE = "is not a chemical element symbol"

Role = Literal["mine", "processor", "trader", "exporter", "lab", "customs", "auditor", "authority"]
Product = Literal[
    "ore", "concentrate", "mixed_compound", "oxide", "metal", "alloy", "magnet_powder", "magnet"
]
Process = Literal[
    "beneficiation", "cracking", "separation", "reduction", "alloying",
    "milling", "sintering", "machining", "split", "blend",
]  # fmt: skip
Deposit = Literal["bastnaesite", "monazite", "ionic_clay", "other"]
Decision = Literal["release", "hold", "seize"]
ROLES: tuple[str, ...] = get_args(Role)


class FieldError(ValueError):
    """A check of `__post_init__` failed for the field `field` (dotted, from the struct)."""

    def __init__(self, field: str, message: str, given: object = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.given = given  # what to show; None: the field's value


def _text(
    regex: str, description: str, min_length: int | None = None, max_length: int | None = None
) -> Meta:
    # \A and \Z: msgspec searches, and "$" would also match before a final newline.
    pattern = rf"\A(?:{regex})\Z"
    return Meta(
        pattern=pattern, description=description, min_length=min_length, max_length=max_length
    )


# Unicode's categories Cc (controls) and Cs (surrogates), both closed sets, and Cf (format
# characters: bidirectional overrides and isolates, zero-width spaces and joiners, the BOM,
# interlinear annotation, tags) as of Unicode 15.1, written out rather than read from the
# running Python's unicodedata: what the ledger accepted must replay alike under any Python.
# Such code points would let a record render differently from its bytes: a right-to-left
# override beside a number on the customs page reverses what the officer reads.
# tests/unit/test_events.py holds it to unicodedata.
UNPRINTABLE = (
    r"\x00-\x1f\x7f-\x9f\ud800-\udfff"  # Cc, Cs
    r"\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    r"\U000e0020-\U000e007f"  # Cf
)
# Printable ASCII tried first: a tenth of the time of the search through the whole class.
PRINTABLE = f"[ -~]*|[^{UNPRINTABLE}]*"
UNPRINTABLE_CHARACTER = re.compile(f"[{UNPRINTABLE}]")
PRINTABLE_MESSAGE = "must not contain control or format characters"


def _free_text(max_length: int) -> Meta:
    return _text(PRINTABLE, PRINTABLE_MESSAGE, min_length=1, max_length=max_length)


_PARTICIPANT = r"[a-z0-9][a-z0-9.-]{1,62}"
_PARTICIPANT_SAID = "must be 2 to 63 of a-z 0-9 . - starting with a-z or 0-9"
ParticipantId = Annotated[str, _text(_PARTICIPANT, _PARTICIPANT_SAID)]
LotId = Annotated[
    str,
    _text(
        r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}",
        "must be 1 to 64 of A-Z a-z 0-9 . _ : - starting with a letter or digit",
    ),
]
# Declarations follow the lot-id alphabet; customs declaration numbers run longer, with '/'.
DeclarationId = Annotated[
    str,
    _text(
        r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}",
        "must be 1 to 128 of A-Z a-z 0-9 . _ : / - starting with a letter or digit",
    ),
]
SiteId = LotId
EventId = Annotated[str, _free_text(128)]
Name = Annotated[str, _free_text(256)]
ShortText = Annotated[str, _free_text(64)]
Instant = Annotated[
    str,
    _text(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{3})?Z",
        "must be RFC 3339 UTC like 2026-03-01T08:00:00Z or 2026-03-01T08:00:00.250Z",
    ),
]
EventHash = Annotated[str, _text("[0-9a-f]{64}", "must be 64 lowercase hex digits")]
Mass = Annotated[int, Meta(ge=1, le=MASS_MAX_G)]
Country = Annotated[str, _text("[A-Z]{2}", "must be an ISO 3166 alpha-2 code like AU")]
HsCode = Annotated[str, _text("[0-9]{6,10}", "must be 6 to 10 digits, without dots")]
KeyId = Annotated[
    str, _text(f"{_PARTICIPANT}/[0-9a-f]{{16}}", "must be <participant id>/<16 hex digits>")
]
# 32 bytes in padded standard base64, the one spelling: 43 symbols, the last with its two
# unused low bits clear, and "=" (tests/unit/test_events.py holds it to b64decode).
PublicKey = Annotated[
    str,
    _text(
        "[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=",
        "must be 32 bytes in padded standard base64 (44 characters)",
    ),
]
# Element symbols are checked by the struct (check_composition): a set is 20 times faster
# than a pattern of 118 alternatives.
Ppm = Annotated[int, Meta(ge=0, le=PPM_TOTAL)]
Composition = dict[str, Ppm]
_DEGREES = r"-?[0-9]{1,3}(?:\.[0-9]{1,7})?"
GEO_SAID = "must be an RFC 5870 URI 'geo:<lat>,<lon>'"
GeoUri = Annotated[str, _text(f"geo:{_DEGREES},{_DEGREES}", GEO_SAID)]
Prev = Annotated[dict[LotId, EventHash], Meta(max_length=MAX_LOTS)]

RegisteredId = Annotated[
    str, _text(f"(?!{OPERATOR}\\Z){_PARTICIPANT}", f"{_PARTICIPANT_SAID}, not '{OPERATOR}'")
]
Roles = Annotated[tuple[Role, ...], Meta(min_length=1, max_length=len(ROLES))]
LotIds = Annotated[tuple[LotId, ...], Meta(min_length=1, max_length=MAX_LOTS)]

# Authority records (DESIGN §9.1): a licence id takes the declaration-id alphabet, the number
# a ministry prints on it; lists of elements, destinations and HS codes name each item once.
LicenceId = DeclarationId
QuotaId = DeclarationId
Year = Annotated[int, Meta(ge=2000, le=2200)]
Elements = Annotated[tuple[str, ...], Meta(min_length=1, max_length=32)]
Countries = Annotated[tuple[Country, ...], Meta(min_length=1, max_length=256)]
# A licence may name a heading (4 digits) or a subheading: it covers the codes it begins.
_HsPrefix = Annotated[str, _text("[0-9]{4,10}", "must be 4 to 10 digits, without dots")]
HsCodes = Annotated[tuple[_HsPrefix, ...], Meta(min_length=1, max_length=64)]


# The checks of __post_init__, for what the types above cannot say.


def check_instant(field: str, text: str) -> None:
    """`text`, an Instant, is a real date and time (not February 30th)."""
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(field, "is not a real date and time") from None


def check_composition(field: str, composition: Mapping[str, int] | None) -> None:
    """`composition` names chemical elements, whose shares sum to at most a million ppm."""
    if composition is not None:
        check_elements(field, composition)
        total = sum(composition.values())
        if total > PPM_TOTAL:
            message = f"element shares sum to {total} ppm, more than {PPM_TOTAL}"
            raise FieldError(field, message)


def check_elements(field: str, symbols: Iterable[str] | None) -> None:
    """`symbols` are chemical element symbols."""
    if symbols is not None and not ELEMENTS.issuperset(symbols):
        for index, symbol in enumerate(symbols):
            if symbol not in ELEMENTS:
                # A composition's key is named by itself, an item of a list by its index.
                where = symbol if isinstance(symbols, Mapping) else index
                raise FieldError(f"{field}.{where}", ELEMENT_MESSAGE, symbol)


def check_distinct(field: str, items: Collection[str] | None) -> None:
    """`items` name each item once."""
    if items is not None and len(set(items)) != len(items):
        raise FieldError(field, "must not repeat an item")


def check_geo(field: str, text: str | None) -> None:
    """A GeoUri's latitude and longitude lie within ±90 and ±180."""
    if text is not None:
        latitude, longitude = text.removeprefix("geo:").split(",")
        if abs(float(latitude)) > 90 or abs(float(longitude)) > 180:
            raise FieldError(field, GEO_SAID)
