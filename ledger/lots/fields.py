"""Constrained field types of the event vocabulary: identifiers, masses, compositions, lists."""

import re
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from ledger.tlog.encoding import b64decode
from ledger.tlog.errors import EncodingError

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


_DEGREES = r"(-?[0-9]{1,3}(?:\.[0-9]{1,7})?)"
_GEO_URI = re.compile(f"geo:{_DEGREES},{_DEGREES}")


def _pattern(regex: str, message: str) -> AfterValidator:
    """A validator that `regex` matches the whole string, failing with `message`."""
    compiled = re.compile(regex)

    def check(text: str) -> str:
        if compiled.fullmatch(text) is None:
            raise PydanticCustomError("string_pattern_mismatch", message)
        return text

    return AfterValidator(check)


# Unicode's categories Cc (controls) and Cs (surrogates), both closed sets, and Cf (format
# characters: bidirectional overrides and isolates, zero-width spaces and joiners, the BOM,
# interlinear annotation, tags) as of Unicode 15.1, written out rather than read from the
# running Python's unicodedata: what the ledger accepted must replay alike under any Python.
# tests/unit/test_events.py holds it to unicodedata.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff"  # Cc, Cs
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"  # Cf
)


def _printable(text: str) -> str:
    # Such code points would let a record render differently from its bytes: a right-to-left
    # override beside a number on the customs page reverses what the officer reads.
    # Most text is printable ASCII, where isprintable() refuses exactly the Cc code points
    # (U+0000-001F, U+007F) and costs a tenth of the search below.
    if text.isascii() and text.isprintable():
        return text
    found = _UNPRINTABLE.search(text)
    if found:
        raise PydanticCustomError(
            "control_character",
            "must not contain control or format characters (found U+{code})",
            {"code": f"{ord(found.group()):04X}"},
        )
    return text


def _valid_instant(text: str) -> str:
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise PydanticCustomError("invalid_time", "is not a real date and time") from exc
    return text


def _public_key(text: str) -> str:
    try:
        raw = b64decode(text)
    except EncodingError as exc:
        raise PydanticCustomError("invalid_base64", "must be padded standard base64") from exc
    if len(raw) != 32:
        raise PydanticCustomError("invalid_public_key", "must encode exactly 32 bytes")
    return text


def _ppm_total(composition: dict[str, int]) -> dict[str, int]:
    total = sum(composition.values())
    if total > PPM_TOTAL:
        raise PydanticCustomError(
            "composition_over_total",
            "element shares sum to {total} ppm, more than 1000000",
            {"total": total},
        )
    return composition


def _element(symbol: str) -> str:
    if symbol not in ELEMENTS:
        raise PydanticCustomError("unknown_element", "is not a chemical element symbol")
    return symbol


def _geo_uri(text: str) -> str:
    match = re.fullmatch(
        r"geo:(-?[0-9]{1,3}(?:\.[0-9]{1,7})?),(-?[0-9]{1,3}(?:\.[0-9]{1,7})?)", text
    )
    if match is None or abs(float(match[1])) > 90 or abs(float(match[2])) > 180:
        raise PydanticCustomError("invalid_geo", "must be an RFC 5870 URI 'geo:<lat>,<lon>'")
    return text


def absent_not_null(value: object) -> object:
    """Refuse an explicit null for an optional field."""
    if value is None:
        raise PydanticCustomError("null_not_allowed", "must not be null: omit the field instead")
    return value


def as_tuple(value: object) -> object:
    """Turn a JSON array into the tuple a frozen model holds."""
    # Strict mode takes only tuples for tuple fields; JSON arrays arrive as lists.
    if isinstance(value, list):
        return tuple(value)
    if not isinstance(value, tuple):
        raise PydanticCustomError("array_type", "must be an array")
    return value


def _distinct(items: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(items)) != len(items):
        raise PydanticCustomError("duplicate_item", "must not repeat an item")
    return items


def _not_operator(participant_id: str) -> str:
    if participant_id == OPERATOR:
        raise PydanticCustomError("reserved_id", "'operator' is reserved for the ledger operator")
    return participant_id


ParticipantId = Annotated[
    str,
    _pattern(
        r"[a-z0-9][a-z0-9.-]{1,62}", "must be 2 to 63 of a-z 0-9 . - starting with a-z or 0-9"
    ),
]
LotId = Annotated[
    str,
    _pattern(
        r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}",
        "must be 1 to 64 of A-Z a-z 0-9 . _ : - starting with a letter or digit",
    ),
]
# Declarations follow the lot-id alphabet; customs declaration numbers run longer, with '/'.
DeclarationId = Annotated[
    str,
    _pattern(
        r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}",
        "must be 1 to 128 of A-Z a-z 0-9 . _ : / - starting with a letter or digit",
    ),
]
SiteId = LotId
EventId = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_printable)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_printable)]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_printable)
]
Instant = Annotated[
    str,
    _pattern(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z",
        "must be RFC 3339 UTC like 2026-03-01T08:00:00Z or 2026-03-01T08:00:00.250Z",
    ),
    AfterValidator(_valid_instant),
]
EventHash = Annotated[str, _pattern(r"[0-9a-f]{64}", "must be 64 lowercase hex digits")]
Mass = Annotated[int, Field(ge=1, le=MASS_MAX_G)]
Country = Annotated[str, _pattern(r"[A-Z]{2}", "must be an ISO 3166 alpha-2 code like AU")]
HsCode = Annotated[str, _pattern(r"[0-9]{6,10}", "must be 6 to 10 digits, without dots")]
KeyId = Annotated[
    str,
    _pattern(r"[a-z0-9][a-z0-9.-]{1,62}/[0-9a-f]{16}", "must be <participant id>/<16 hex digits>"),
]
PublicKey = Annotated[str, StringConstraints(max_length=64), AfterValidator(_public_key)]
Element = Annotated[str, StringConstraints(max_length=3), AfterValidator(_element)]
Composition = Annotated[
    dict[Element, Annotated[int, Field(ge=0, le=PPM_TOTAL)]], AfterValidator(_ppm_total)
]
GeoUri = Annotated[str, StringConstraints(max_length=64), AfterValidator(_geo_uri)]
Prev = Annotated[dict[LotId, EventHash], Field(max_length=MAX_LOTS)]

# Optional fields may be absent; an explicit null is refused so that one event has one spelling.
OptionalSpec = Annotated[ShortText | None, BeforeValidator(absent_not_null)]
OptionalName = Annotated[Name | None, BeforeValidator(absent_not_null)]
OptionalGeo = Annotated[GeoUri | None, BeforeValidator(absent_not_null)]
OptionalComposition = Annotated[Composition | None, BeforeValidator(absent_not_null)]

RegisteredId = Annotated[ParticipantId, AfterValidator(_not_operator)]
Roles = Annotated[
    tuple[Role, ...],
    BeforeValidator(as_tuple),
    Field(min_length=1, max_length=len(ROLES)),
    AfterValidator(_distinct),
]
LotIds = Annotated[
    tuple[LotId, ...], BeforeValidator(as_tuple), Field(min_length=1, max_length=MAX_LOTS)
]

# Authority records (DESIGN §9.1): a licence id takes the declaration-id alphabet, the number
# a ministry prints on it; lists of elements, destinations and HS codes name each item once.
LicenceId = DeclarationId
QuotaId = DeclarationId
Year = Annotated[int, Field(ge=2000, le=2200)]
Elements = Annotated[
    tuple[Element, ...],
    BeforeValidator(as_tuple),
    Field(min_length=1, max_length=32),
    AfterValidator(_distinct),
]
_Countries = Annotated[
    tuple[Country, ...],
    BeforeValidator(as_tuple),
    Field(min_length=1, max_length=256),
    AfterValidator(_distinct),
]
# A licence may name a heading (4 digits) or a subheading: it covers the codes it begins.
_HsPrefix = Annotated[str, _pattern(r"[0-9]{4,10}", "must be 4 to 10 digits, without dots")]
_HsCodes = Annotated[
    tuple[_HsPrefix, ...],
    BeforeValidator(as_tuple),
    Field(min_length=1, max_length=64),
    AfterValidator(_distinct),
]
OptionalCountries = Annotated[_Countries | None, BeforeValidator(absent_not_null)]
OptionalHsCodes = Annotated[_HsCodes | None, BeforeValidator(absent_not_null)]
OptionalDeposit = Annotated[Deposit | None, BeforeValidator(absent_not_null)]
