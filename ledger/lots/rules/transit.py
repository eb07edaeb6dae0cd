"""Rules of custody: an assay against the record, shipped and received masses, dates."""

from collections.abc import Iterable

from ledger.lots.composition import unlisted_ppm
from ledger.lots.events import LotAssay, LotReceive, LotShip
from ledger.lots.records import LotState, StateReader
from ledger.lots.rules.flags import (
    COMPOSITION_MISMATCH,
    RECEIPT_MISMATCH,
    SHIP_MASS_MISMATCH,
    TIME_INCONSISTENT,
    Flag,
    duration,
    exceeds,
    grams,
    make_flag,
    more,
    parse_time,
    ppm,
    require_lot,
    tolerance_g,
    tolerance_ppm,
)
from ledger.lots.tolerances import Tolerances


def check_assay(event: LotAssay, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    """COMPOSITION_MISMATCH: the assay vs the lot's recorded composition, per element at or
    above `assay_min_ppm` in either.

    Only the elements the assay reports are compared: a lab measures a suite of elements,
    and one it leaves out was not measured. An element the record does not list was not
    measured either (composition.most_of): the assay is judged against at most the record's
    unlisted remainder, except a controlled element found at or above the licence threshold,
    which a record may not leave out.
    """
    lot = require_lot(reader, event.lot)
    recorded, measured = lot.composition_ppm, event.composition_ppm
    rest = round(unlisted_ppm(recorded))
    off: list[tuple[str, int, int | None]] = []
    for element, got in sorted(measured.items()):
        want = recorded.get(element)
        if want is None:
            hidden = element in tolerances.controlled and got >= tolerances.controlled_threshold_ppm
            if hidden or (got >= tolerances.assay_min_ppm and _above(got, rest, tolerances)):
                off.append((element, got, None))
        elif max(got, want) >= tolerances.assay_min_ppm and exceeds(
            got, want, tolerances.assay_tolerance, tolerances.assay_floor_ppm
        ):
            off.append((element, got, want))
    if not off:
        return []
    element, got, want = max(off, key=lambda item: abs(item[1] - (item[2] or 0)))
    tail = more(len(off), "element")
    said = ppm(want) if want is not None else f"not measured (unlisted {ppm(rest)})"
    message = (
        f"{element} assayed {ppm(got)} by {event.lab} vs {said} recorded for {lot.id}, "
        f"{tolerance_ppm(tolerances.assay_tolerance, tolerances.assay_floor_ppm)}{tail}"
    )
    evidence = {
        "lab": event.lab,
        "method": event.method,
        "elements": [{"element": e, "assay_ppm": g, "recorded_ppm": w} for e, g, w in off],
        "unlisted_ppm": rest,
        "tolerance": tolerances.assay_tolerance,
        "floor_ppm": tolerances.assay_floor_ppm,
        "min_ppm": tolerances.assay_min_ppm,
    }
    return [make_flag(COMPOSITION_MISMATCH, lot.id, message, evidence, tolerances)]


def _above(got: int, most: int, tolerances: Tolerances) -> bool:
    """`got` ppm is more than `most` beyond the assay tolerance."""
    return got > most and exceeds(got, most, tolerances.assay_tolerance, tolerances.assay_floor_ppm)


def check_ship(event: LotShip, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    """SHIP_MASS_MISMATCH: whole lots ship, so the shipped mass is the recorded mass."""
    flags = []
    for ref in event.lots:
        lot = require_lot(reader, ref.lot)
        if not exceeds(ref.mass_g, lot.mass_g, tolerances.ship_tolerance, tolerances.ship_floor_g):
            continue
        message = (
            f"shipped {grams(ref.mass_g)} of {lot.id} vs {grams(lot.mass_g)} recorded, "
            f"{tolerance_g(tolerances.ship_tolerance, tolerances.ship_floor_g)}"
        )
        evidence = {
            "shipped_g": ref.mass_g,
            "recorded_g": lot.mass_g,
            "tolerance": tolerances.ship_tolerance,
            "floor_g": tolerances.ship_floor_g,
        }
        flags.append(make_flag(SHIP_MASS_MISMATCH, lot.id, message, evidence, tolerances))
    return flags


def check_receive(event: LotReceive, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    """RECEIPT_MISMATCH: the mass weighed at receipt vs the mass the shipment declared."""
    flags = []
    for ref in event.lots:
        lot = require_lot(reader, ref.lot)
        shipped = lot.shipped_mass_g
        if shipped is None:
            continue
        if not exceeds(
            ref.mass_g, shipped, tolerances.receipt_tolerance, tolerances.receipt_floor_g
        ):
            continue
        message = (
            f"received {grams(ref.mass_g)} of {lot.id} vs {grams(shipped)} shipped, "
            f"{tolerance_g(tolerances.receipt_tolerance, tolerances.receipt_floor_g)}"
        )
        evidence = {
            "received_g": ref.mass_g,
            "shipped_g": shipped,
            "tolerance": tolerances.receipt_tolerance,
            "floor_g": tolerances.receipt_floor_g,
        }
        flags.append(make_flag(RECEIPT_MISMATCH, lot.id, message, evidence, tolerances))
    return flags


def check_assay_time(time: str, lot: LotState, tolerances: Tolerances) -> list[Flag]:
    """TIME_INCONSISTENT for an assay: dated before the lot was created. A certificate is
    dated at its sampling and often posted after the lot moved on: it is judged by the lot's
    creation, not by its last event (a lot without a creation time: by its last event)."""
    return check_time("lot.assay", time, [lot], tolerances, created=bool(lot.created_time))


def check_time(
    event_type: str,
    time: str,
    lots: Iterable[LotState],
    tolerances: Tolerances,
    *,
    created: bool = False,
) -> list[Flag]:
    """TIME_INCONSISTENT: the event is dated before the last event of a lot it depends on
    (`created`: before the event that created the lot)."""
    flags = []
    when = parse_time(time)
    for lot in lots:
        then = lot.created_time if created else lot.time
        if not then:
            continue
        gap = (parse_time(then) - when).total_seconds()
        if gap <= tolerances.time_slack_s:
            continue
        # A gap of days is not clock drift: the lower severity is for small gaps only.
        major = (
            gap > tolerances.time_major_s and tolerances.severity.get(TIME_INCONSISTENT) == "low"
        )
        severity = "medium" if major else None
        which = "the event that created" if created else "the last event of"
        message = (
            f"{event_type} dated {time}, {duration(gap)} before {which} {lot.id} "
            f"({then}), tolerance {duration(tolerances.time_slack_s)}"
        )
        evidence = {
            "event_time": time,
            "lot_time": then,
            "gap_s": gap,
            "tolerance_s": tolerances.time_slack_s,
        }
        flags.append(make_flag(TIME_INCONSISTENT, lot.id, message, evidence, tolerances, severity))
    return flags
