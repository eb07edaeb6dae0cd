"""What people read about a lot: verdict words, flag codes and steps in plain language, the
custody picture's layout, and which lots of a label sheet exist (the customs page's words)."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlmodel import col

from ledger.lots.provenance import FLAGGED, INTEGRITY_FAILURE, OK, OriginShare
from ledger.lots.records import Edge, LotState
from ledger.lots.rules import flags as codes
from ledger.service.provenance import Provenance
from ledger.store.engine import Database
from ledger.store.findings import StoredFlag
from ledger.store.tables import LotRow


@dataclass(frozen=True)
class Banner:
    tone: str  # ok | flagged | broken: the banner's colour
    headline: str
    explanation: str


@dataclass(frozen=True)
class FlagWords:
    title: str  # the plain category; shown to everyone
    meaning: str  # what the finding says about the goods
    action: str  # what an officer should do about it


def banner(verdict: str, findings: int) -> Banner:
    """The verdict in words: colour alone must never carry the meaning."""
    if verdict == OK:
        return Banner(
            "ok",
            "Record intact — no findings",
            "Every entry behind this lot is signed and in the signed log, and no rule found "
            "anything that does not fit.",
        )
    if verdict == FLAGGED:
        noun = "finding" if findings == 1 else "findings"
        return Banner(
            "flagged",
            f"Record intact — {findings} {noun}",
            "The record is signed and complete, but it holds claims that do not fit physics "
            "or the rest of the record: read the findings.",
        )
    if verdict != INTEGRITY_FAILURE:
        raise ValueError(f"unknown verdict {verdict!r}")
    return Banner(
        "broken",
        "Record broken — do not rely on it",
        "An entry behind this lot fails verification: it was altered, or is missing from the "
        "signed log. Trust nothing on this page; report it to the ledger operator.",
    )


FLAG_WORDS: dict[str, FlagWords] = {
    codes.OUTPUT_EXCEEDS_INPUT: FlagWords(
        "More came out of a processing step than went in",
        "A processing step recorded more material, or more of one element, leaving it than "
        "entering it: material was added from outside the record, or invented on paper.",
        "Hold the goods; ask the processor for the batch records of that step; assay the lot.",
    ),
    codes.YIELD_BELOW_FLOOR: FlagWords(
        "A processing step recovered far too little",
        "Far less material, or far less of one valuable element (such as Dy or Tb), left a "
        "step than the process can lose: material may have left the record (diversion).",
        "Ask where the missing material went; check the plant's other lots.",
    ),
    codes.MIX_INCONSISTENT: FlagWords(
        "A split or blend changed the composition",
        "A split or blend only mixes its inputs, but its output's composition differs from "
        "the mix: something was added or swapped.",
        "Take a sample for assay and compare it with the record.",
    ),
    codes.COMPOSITION_MISMATCH: FlagWords(
        "A measurement or the declaration contradicts the recorded composition",
        "An assay, or the composition or magnet type on the declaration, does not match what "
        "the record says the lot contains (swapped goods, a hidden element).",
        "Take a sample for an independent assay; look for export-controlled elements.",
    ),
    codes.ORIGIN_MISMATCH: FlagWords(
        "The rare-earth fingerprint does not fit the stated mine",
        "The mix of rare earths in an ore or concentrate (or the share of heavy ones such as "
        "Dy, Tb and Y) does not look like the deposit it is said to come from: it may come "
        "from another mine or country.",
        "Treat the stated origin as unproven; ask for the mine's documents.",
    ),
    codes.RECEIPT_MISMATCH: FlagWords(
        "Weight on arrival differed from weight shipped",
        "The lot was weighed on receipt at a different mass than was shipped: material was "
        "lost, taken out or substituted on the way.",
        "Check the transport documents; weigh the goods.",
    ),
    codes.SHIP_MASS_MISMATCH: FlagWords(
        "Shipped weight differed from the recorded weight",
        "A shipment named a different mass than the record holds for the lot.",
        "Weigh the goods; ask the shipper to explain the difference.",
    ),
    codes.HS_CODE_MISMATCH: FlagWords(
        "The customs code or description does not fit the goods",
        "The declared HS code or description does not fit what the record says the lot is "
        "(mislabelling, such as magnets declared as other goods).",
        "Reclassify the goods; check whether the true goods need an export licence.",
    ),
    codes.CONTROLLED_WITHOUT_LICENCE: FlagWords(
        "An export-controlled element and no licence",
        "The lot holds an element under export control (such as Dy, Tb or Sm) above the "
        "threshold, and the declaration names no licence, or the lot was shipped to another "
        "country with no export declaration at all.",
        "Hold the goods until a valid licence is shown.",
    ),
    codes.LICENCE_INVALID: FlagWords(
        "The licence named does not cover these goods",
        "The export licence on the declaration was never issued, is revoked or out of date, "
        "belongs to another exporter, is for another destination, HS code or element, or is "
        "used up.",
        "Hold the goods; ask the issuing authority to confirm the licence.",
    ),
    codes.QUOTA_EXCEEDED: FlagWords(
        "Mined without a quota, or beyond it",
        "The mine extracted rare earths in a quota-controlled country with no mining quota "
        "for the year, or more than its quota allows: the material may be illegally mined.",
        "Treat the material as of unproven origin; ask the mining authority.",
    ),
    codes.DECLARED_MASS_MISMATCH: FlagWords(
        "Declared weight differs from the record",
        "The mass on the declaration differs from the recorded mass of its lots.",
        "Weigh the consignment; have the declaration corrected, or hold it.",
    ),
    codes.TIME_INCONSISTENT: FlagWords(
        "Events are dated out of order",
        "An event is dated before an event it depends on (an output before its input): the "
        "dates in the record cannot all be true.",
        "Ask for the dated documents of the steps concerned.",
    ),
    codes.LINEAGE_IMBALANCE: FlagWords(
        "The lot's history does not add up to it",
        "The lot claims more of an element than the mines it came from supplied over all its "
        "steps together, or far less of a controlled or valuable element than they "
        "guarantee: material was added on paper, or taken out or hidden along the way.",
        "Hold the goods; assay the lot; ask for the records of the steps since the mine.",
    ),
    codes.PROCESS_INCONSISTENT: FlagWords(
        "The record says the goods became something they cannot be",
        "A step turned the goods into a product that step cannot make (metal cracked into "
        "metal, metal split off as ore), or the lot's composition does not fit the product "
        "it is called: the goods may be relabelled to pass as something else.",
        "Treat the product name as unproven; assay the lot; classify it by what it is.",
    ),
}

STEP_WORDS = {
    "participant.register": "Participant registered",
    "participant.key_add": "Key added",
    "participant.key_revoke": "Key revoked",
    "lot.extract": "Extracted at the mine",
    "lot.transform": "Processed",
    "lot.assay": "Assayed",
    "lot.ship": "Shipped",
    "lot.receive": "Received",
    "export.declare": "Declared for export",
    "customs.decide": "Customs decision",
}


def flag_words(code: str) -> FlagWords:
    """The plain words for a flag code; an unknown code is named as it is, never hidden."""
    return FLAG_WORDS.get(code, FlagWords(code, "A finding of a kind this page does not know.", ""))


def finding_categories(flags: Iterable[StoredFlag]) -> list[tuple[FlagWords, int, str]]:
    """Findings by code, in plain words, with their count and highest severity: what the
    public sees of them."""
    grouped: dict[str, tuple[int, str]] = {}
    for flag in flags:
        count, worst = grouped.get(flag.code, (0, "low"))
        grouped[flag.code] = (count + 1, max(worst, flag.severity, key=codes.SEVERITIES.index))
    return [(flag_words(code), n, worst) for code, (n, worst) in grouped.items()]


def country_shares(origins: Iterable[OriginShare]) -> list[tuple[str, float]]:
    """Each origin country's share of the lot's rare earths, largest first (mines merged)."""
    countries: dict[str, float] = {}
    for origin in origins:
        countries[origin.origin.country] = countries.get(origin.origin.country, 0.0) + origin.share
    return sorted(countries.items(), key=lambda item: (-item[1], item[0]))


def missing_lots(db: Database, lots: list[str]) -> list[str]:
    """The lots of `lots` that are not in the ledger, in the order given."""
    with db.read_session() as session:
        found = set(
            session.execute(
                select(col(LotRow.id)).where(col(LotRow.id).in_(bindparam("ids", expanding=True))),
                {"ids": list(lots)},
            ).scalars()
        )
    return [lot for lot in lots if lot not in found]


# --- the custody picture: lots in layers by depth, mines on top, this lot at the bottom ---

BOX_W, BOX_H, GAP_X, GAP_Y = 172, 58, 14, 34


@dataclass(frozen=True)
class Box:
    lot: LotState
    x: int
    y: int
    here: bool  # the lot the page is about
    flagged: bool


@dataclass(frozen=True)
class Link:
    edge: Edge
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class Picture:
    width: int
    height: int
    boxes: tuple[Box, ...]
    links: tuple[Link, ...]
    box_w: int = BOX_W
    box_h: int = BOX_H


def custody_picture(found: Provenance) -> Picture:
    """Boxes and lines for `found`'s ancestry. Layers run top to bottom, so a long chain
    grows down the phone's screen rather than off its side."""
    parents: dict[str, list[str]] = {}
    for edge in found.edges:
        parents.setdefault(edge.child, []).append(edge.parent)
    layers = _layers(found.lots, parents)
    width = max(len(layer) for layer in layers) * (BOX_W + GAP_X) - GAP_X
    flagged = {flag.lot for flag in found.flags}
    boxes: dict[str, Box] = {}
    for level, layer in enumerate(layers):
        # Each lot under the mean of its parents (already placed): fewer crossing lines.
        layer.sort(key=lambda lot: _mean_x(parents.get(lot.id, []), boxes))
        left = (width - (len(layer) * (BOX_W + GAP_X) - GAP_X)) // 2
        for n, lot in enumerate(layer):
            x, y = left + n * (BOX_W + GAP_X), level * (BOX_H + GAP_Y)
            boxes[lot.id] = Box(lot, x, y, lot.id == found.lot.id, lot.id in flagged)
    links = tuple(
        Link(edge, up.x + BOX_W // 2, up.y + BOX_H, down.x + BOX_W // 2, down.y)
        for edge in found.edges
        if (up := boxes.get(edge.parent)) and (down := boxes.get(edge.child))
    )
    height = len(layers) * (BOX_H + GAP_Y) - GAP_Y
    return Picture(width, height, tuple(boxes.values()), links)


def _layers(lots: Iterable[LotState], parents: dict[str, list[str]]) -> list[list[LotState]]:
    """Lots by depth: a mine lot is 0, any other lot one more than its deepest parent."""
    # A transform's outputs are created after its inputs: creation order is parents first.
    ordered = sorted(lots, key=lambda lot: (lot.created_index, lot.id))
    depth: dict[str, int] = {}
    for lot in ordered:
        depth[lot.id] = 1 + max((depth.get(p, 0) for p in parents.get(lot.id, [])), default=-1)
    layers: list[list[LotState]] = [[] for _ in range(max(depth.values()) + 1)]
    for lot in ordered:
        layers[depth[lot.id]].append(lot)
    return layers


def _mean_x(parents: list[str], boxes: dict[str, Box]) -> float:
    placed = [boxes[parent].x for parent in parents if parent in boxes]
    return sum(placed) / len(placed) if placed else 0.0
