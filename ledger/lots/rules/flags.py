"""The Flag a rule returns, the stable flag codes, and how messages spell numbers."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.lots.records import LotState, StateReader
from ledger.lots.tolerances import Tolerances

# DESIGN §5, in its order: a stable API.
OUTPUT_EXCEEDS_INPUT = "OUTPUT_EXCEEDS_INPUT"
YIELD_BELOW_FLOOR = "YIELD_BELOW_FLOOR"
MIX_INCONSISTENT = "MIX_INCONSISTENT"
COMPOSITION_MISMATCH = "COMPOSITION_MISMATCH"
ORIGIN_MISMATCH = "ORIGIN_MISMATCH"
RECEIPT_MISMATCH = "RECEIPT_MISMATCH"
SHIP_MASS_MISMATCH = "SHIP_MASS_MISMATCH"
HS_CODE_MISMATCH = "HS_CODE_MISMATCH"
CONTROLLED_WITHOUT_LICENCE = "CONTROLLED_WITHOUT_LICENCE"
DECLARED_MASS_MISMATCH = "DECLARED_MASS_MISMATCH"
TIME_INCONSISTENT = "TIME_INCONSISTENT"
# DESIGN §9.4's additions.
LINEAGE_IMBALANCE = "LINEAGE_IMBALANCE"
PROCESS_INCONSISTENT = "PROCESS_INCONSISTENT"
LICENCE_INVALID = "LICENCE_INVALID"
QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
FLAG_CODES = (
    OUTPUT_EXCEEDS_INPUT,
    YIELD_BELOW_FLOOR,
    MIX_INCONSISTENT,
    COMPOSITION_MISMATCH,
    ORIGIN_MISMATCH,
    RECEIPT_MISMATCH,
    SHIP_MASS_MISMATCH,
    HS_CODE_MISMATCH,
    CONTROLLED_WITHOUT_LICENCE,
    DECLARED_MASS_MISMATCH,
    TIME_INCONSISTENT,
    LICENCE_INVALID,
    QUOTA_EXCEEDED,
    LINEAGE_IMBALANCE,
    PROCESS_INCONSISTENT,
)
SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Flag:
    """A finding: a recorded claim that does not fit physics or the record.

    `lot` is the lot the finding is about (for a declaration, the first lot concerned);
    `evidence` holds the raw numbers, JSON-safe (str, int, float, bool, lists, dicts).
    """

    code: str
    severity: str  # low | medium | high
    lot: str
    message: str
    evidence: dict[str, object]


def make_flag(
    code: str,
    lot: str,
    message: str,
    evidence: Mapping[str, object],
    tolerances: Tolerances,
    severity: str | None = None,
) -> Flag:
    """A Flag of `code` at the configured severity, unless `severity` overrides it."""
    chosen = severity or tolerances.severity.get(code, "medium")
    return Flag(code=code, severity=chosen, lot=lot, message=message, evidence=dict(evidence))


def require_lot(reader: StateReader, lot_id: str) -> LotState:
    """The lot as the state holds it; an accepted event names only lots that exist."""
    lot = reader.lot(lot_id)
    if lot is None:
        raise LookupError(
            f"lot {lot_id!r} is not in the state: rules run on events the state machine accepted"
        )
    return lot


def exceeds(value: float, reference: float, relative: float, floor: float) -> bool:
    """Whether `value` differs from `reference` by more than relative × |reference| + floor."""
    return abs(value - reference) > relative * abs(reference) + floor


def count(number: int, noun: str) -> str:
    """1 lot, 2 lots."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def more(number: int, noun: str) -> str:
    """The tail of a message naming the first of `number` findings: " (and 2 more lots)"."""
    return f" (and {count(number - 1, 'more ' + noun)})" if number > 1 else ""


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def grams(value: float) -> str:
    """A mass for people: 850 g, 5.2 kg, 12.5 t."""
    if abs(value) < 1_000:
        return f"{_number(value)} g"
    if abs(value) < 1_000_000:
        return f"{_number(value / 1_000)} kg"
    return f"{_number(value / 1_000_000)} t"


def ppm(value: float) -> str:
    """A concentration for people: 12,000 ppm."""
    return f"{value:,.0f} ppm"


def percent(ratio: float) -> str:
    """A ratio for people: 0.05 -> 5 %, 0.7125 -> 71.25 %."""
    return f"{_number(ratio * 100)} %"


def tolerance_g(relative: float, floor_g: float) -> str:
    return f"tolerance {percent(relative)} + {grams(floor_g)}"


def tolerance_ppm(relative: float, floor_ppm: float) -> str:
    return f"tolerance {percent(relative)} + {ppm(floor_ppm)}"


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def duration(seconds: float) -> str:
    """A time gap for people: 45 s, 12 min, 3 h 20 min, 2 d 4 h."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86_400
    if whole < 3600:
        return f"{minutes} min"
    if whole < 86_400:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"
