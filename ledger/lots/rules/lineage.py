"""LINEAGE_IMBALANCE: a lot claims more of a rare earth than its ancestry back to the mines
supplied, or far less of a controlled or high-value one than that ancestry guarantees."""

from collections.abc import Mapping, Sequence

from ledger.lots import lineage
from ledger.lots.events import LotReceive, LotTransform
from ledger.lots.records import LotState, StateReader
from ledger.lots.rules.flags import LINEAGE_IMBALANCE, Flag, grams, make_flag, percent, ppm
from ledger.lots.tolerances import Tolerances


def check_transform(
    event: LotTransform,
    inputs: list[tuple[LotState, int]],
    tolerances: Tolerances,
    shares: Sequence[lineage.Vector] | None = None,
) -> list[Flag]:
    """Each output's claim against its share of what the consumed inputs supply; `shares`,
    if given, are those (lineage.transform_shares), as the transition derived them."""
    if shares is None:
        claims = [(out.mass_g, out.composition_ppm) for out in event.outputs]
        shares = lineage.transform_shares(event.process, inputs, claims)
    if shares is None:
        return []
    flags: list[Flag] = []
    for out, share in zip(event.outputs, shares, strict=True):
        flags += _judge(out.id, out.mass_g, out.composition_ppm, share, event.process, tolerances)
    return flags


def check_receive(event: LotReceive, reader: StateReader, tolerances: Tolerances) -> list[Flag]:
    """Each lot's claim at its weighed mass against the budget it carried before."""
    flags: list[Flag] = []
    for ref in event.lots:
        lot = reader.lot(ref.lot)
        if lot is None or lot.lineage is None:
            continue
        flags += _judge(lot.id, ref.mass_g, lot.composition_ppm, lot.lineage, "receipt", tolerances)
    return flags


def _judge(
    lot: str,
    mass_g: int,
    composition: Mapping[str, int],
    shares: lineage.Vector,
    step: str,
    tolerances: Tolerances,
) -> list[Flag]:
    """The elements whose claim is outside the lineage's bounds, worst first, in one flag.

    Only a listed element can claim more than its upper bound (bounds are never negative);
    a controlled or high-value one may claim less than its lower bound listed or not."""
    above, below = 1 + tolerances.lineage_tolerance, 1 - tolerances.lineage_tolerance
    floor_mg, scale, n = tolerances.lineage_floor_ppm * mass_g / 1000, mass_g / 1000, lineage.N
    index = lineage.INDEX
    out = {
        i
        for element, claim_ppm in composition.items()
        if (i := index.get(element, -1)) >= 0 and claim_ppm * scale > shares[i] * above + floor_mg
    }
    for element in tolerances.lineage_held:
        i = index[element]
        if composition.get(element, 0) * scale < shares[n + i] * below - floor_mg:
            out.add(i)
    if not out:
        return []
    off = [
        (element, composition.get(element, 0) * scale, shares[i], shares[n + i])
        for i in sorted(out)
        for element in (lineage.ELEMENTS[i],)
    ]
    return [_flag(lot, mass_g, step, off, tolerances)]


def _flag(
    lot: str, mass_g: int, step: str, off: list[tuple[str, float, int, int]], tol: Tolerances
) -> Flag:
    def gap(item: tuple[str, float, int, int]) -> float:
        _, claim, upper, lower = item
        return claim - upper if claim > upper else lower - claim

    element, claim, upper, lower = max(off, key=gap)
    tolerance = f"tolerance {percent(tol.lineage_tolerance)} + {ppm(tol.lineage_floor_ppm)}"
    if claim > upper:
        said = f"more than the {grams(upper / 1000)} its lineage back to the mines supplied"
    else:
        said = f"less than the {grams(lower / 1000)} its lineage back to the mines guarantees"
    tail = (
        f" (and {len(off) - 1} more element{'s' if len(off) > 2 else ''})" if len(off) > 1 else ""
    )
    message = (
        f"{lot} claims {grams(claim / 1000)} of {element} after {step}, {said}, {tolerance}{tail}"
    )
    evidence = {
        "step": step,
        "mass_g": mass_g,
        "elements": [
            {"element": e, "claim_mg": round(c), "upper_mg": u, "lower_mg": lo}
            for e, c, u, lo in off
        ],
        "tolerance": tol.lineage_tolerance,
        "floor_ppm": tol.lineage_floor_ppm,
    }
    severity = None
    if claim <= upper:
        # Hidden on paper below the licence threshold what the lineage guarantees above it.
        hides = lower * 1000 / mass_g >= tol.controlled_threshold_ppm > claim * 1000 / mass_g
        severity = "high" if hides and element in tol.controlled else "medium"
    return make_flag(LINEAGE_IMBALANCE, lot, message, evidence, tol, severity)
