"""Rules of a transform: mass balance, recovery against the process floor, mixing."""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import (
    RARE_EARTHS,
    ElementBalance,
    ElementMap,
    balance,
    heavy_share,
    mix,
    treo_ppm,
)
from ledger.lots.events import LotTransform
from ledger.lots.records import LotState
from ledger.lots.rules.flags import (
    MIX_INCONSISTENT,
    OUTPUT_EXCEEDS_INPUT,
    YIELD_BELOW_FLOOR,
    Flag,
    exceeds,
    grams,
    make_flag,
    more,
    percent,
    ppm,
    tolerance_g,
    tolerance_ppm,
)
from ledger.lots.tolerances import Tolerances

# (lot state before the event, grams the transform consumed of it)
Inputs = Sequence[tuple[LotState, int]]
_MIXING = frozenset({"split", "blend"})
# The processes some rule reads the feed of: recovery floors, mixing, origin patterns.
FEED_PROCESSES = frozenset({"separation", "beneficiation", "cracking", *_MIXING})


def _parts(inputs: Inputs) -> list[tuple[float, dict[str, int]]]:
    return [(float(mass_g), lot.composition_ppm) for lot, mass_g in inputs]


def element_balance(event: LotTransform, inputs: Inputs) -> dict[str, ElementBalance]:
    """Per-element grams in and out of the transform, of the rare earths: the elements the
    mass and recovery rules read (compositions name dozens of trace elements besides)."""
    outputs = [(float(out.mass_g), out.composition_ppm) for out in event.outputs]
    return balance(_parts(inputs), outputs, RARE_EARTHS)


def check_mass(
    event: LotTransform,
    inputs: Inputs,
    found: Mapping[str, ElementBalance],
    tolerances: Tolerances,
) -> list[Flag]:
    """OUTPUT_EXCEEDS_INPUT: total mass (mass-conserving processes) and every rare earth."""
    flags = _check_total_mass(event, inputs, tolerances)
    for item in found.values():
        if item.element not in RARE_EARTHS:
            continue
        allowed = item.in_g * (1 + tolerances.element_tolerance) + tolerances.element_floor_g
        if item.out_g > allowed:
            flags.append(_element_flag(event, item.element, item.in_g, item.out_g, tolerances))
    return flags


def _check_total_mass(event: LotTransform, inputs: Inputs, tolerances: Tolerances) -> list[Flag]:
    mass_in = sum(mass_g for _, mass_g in inputs)
    mass_out = sum(out.mass_g for out in event.outputs)
    if event.process not in tolerances.mass_conserving:
        return []
    if mass_out <= mass_in * (1 + tolerances.mass_tolerance):
        return []
    message = (
        f"total mass out {grams(mass_out)} > in {grams(mass_in)}, tolerance "
        f"{percent(tolerances.mass_tolerance)} ({event.process} adds no mass)"
    )
    evidence = {
        "process": event.process,
        "mass_in_g": mass_in,
        "mass_out_g": mass_out,
        "tolerance": tolerances.mass_tolerance,
    }
    lot = event.outputs[0].id
    return [make_flag(OUTPUT_EXCEEDS_INPUT, lot, message, evidence, tolerances)]


def _element_flag(
    event: LotTransform, element: str, in_g: float, out_g: float, tolerances: Tolerances
) -> Flag:
    # The output carrying most of the element is where the phantom material went.
    richest = max(event.outputs, key=lambda out: out.mass_g * out.composition_ppm.get(element, 0))
    tolerance = tolerance_g(tolerances.element_tolerance, tolerances.element_floor_g)
    message = f"{element} out {grams(out_g)} > in {grams(in_g)}, {tolerance} ({event.process})"
    evidence = {
        "process": event.process,
        "element": element,
        "in_g": in_g,
        "out_g": out_g,
        "tolerance": tolerances.element_tolerance,
        "floor_g": tolerances.element_floor_g,
    }
    return make_flag(OUTPUT_EXCEEDS_INPUT, richest.id, message, evidence, tolerances)


def feed_of(inputs: Inputs) -> dict[str, float]:
    """The composition of the inputs' mass-weighted mixture, as the rules read the feed."""
    return mix(_parts(inputs))


def recovery_floor(
    process: str, inputs: Inputs, tolerances: Tolerances, feed: ElementMap | None = None
) -> tuple[float, str]:
    """The recovery floor of `process` for these inputs, and the name of the case. `feed` is
    feed_of(inputs), if the caller has it already."""
    if process == "separation":
        clay = any(lot.deposit == "ionic_clay" for lot, _ in inputs)
        if clay:
            return tolerances.ionic_clay_floor, "separation of ionic-clay (heavy) feed"
        if feed is None:
            feed = feed_of(inputs)
        if heavy_share(feed) >= tolerances.heavy_feed_share:
            return tolerances.ionic_clay_floor, "separation of ionic-clay (heavy) feed"
    if process == "beneficiation":
        if feed is None:
            feed = feed_of(inputs)
        if treo_ppm(feed) < tolerances.low_grade_treo_ppm:
            return tolerances.low_grade_floor, "beneficiation of low-grade ore"
    return tolerances.recovery_floors.get(process, 0.0), process


def check_recovery(
    event: LotTransform,
    inputs: Inputs,
    found: Mapping[str, ElementBalance],
    tolerances: Tolerances,
    feed: ElementMap | None = None,
) -> list[Flag]:
    """YIELD_BELOW_FLOOR: recovery < floor × (1 − margin).

    Rare-earth recovery (Σ RE out / Σ RE in) for processes, plain mass for split and
    blend, whose masses are exact where compositions carry assay noise.
    """
    floor, case = recovery_floor(event.process, inputs, tolerances, feed)
    basis, amount_in, amount_out = _recovered(event, inputs, found)
    if amount_in <= 0 or floor <= 0:
        return []
    recovery = amount_out / amount_in
    threshold = floor * (1 - tolerances.recovery_margin)
    if recovery >= threshold:
        return []
    message = (
        f"{basis} recovery {percent(recovery)} ({grams(amount_out)} out of {grams(amount_in)}) "
        f"< {percent(threshold)}: the {case} floor {percent(floor)} less a "
        f"{percent(tolerances.recovery_margin)} margin"
    )
    evidence = {
        "process": event.process,
        "basis": basis,
        "in_g": amount_in,
        "out_g": amount_out,
        "recovery": recovery,
        "floor": floor,
        "margin": tolerances.recovery_margin,
    }
    # The flag sits on the lot the material went missing from.
    return [make_flag(YIELD_BELOW_FLOOR, inputs[0][0].id, message, evidence, tolerances)]


def _recovered(
    event: LotTransform, inputs: Inputs, found: Mapping[str, ElementBalance]
) -> tuple[str, float, float]:
    """The basis of the recovery, and the grams in and out on that basis."""
    if event.process in _MIXING:
        mass_in = float(sum(mass_g for _, mass_g in inputs))
        return "mass", mass_in, float(sum(out.mass_g for out in event.outputs))
    rare_earth_in = sum(item.in_g for e, item in found.items() if e in RARE_EARTHS)
    rare_earth_out = sum(item.out_g for e, item in found.items() if e in RARE_EARTHS)
    return "rare-earth", rare_earth_in, rare_earth_out


def check_mixing(
    event: LotTransform, inputs: Inputs, tolerances: Tolerances, feed: ElementMap | None = None
) -> list[Flag]:
    """MIX_INCONSISTENT: each split/blend output vs the mass-weighted mean of the inputs
    (`feed`, feed_of(inputs), if the caller has it already)."""
    if event.process not in _MIXING:
        return []
    expected = feed_of(inputs) if feed is None else feed
    flags = []
    for out in event.outputs:
        off = [
            (element, out.composition_ppm.get(element, 0), expected.get(element, 0.0))
            for element in sorted(expected.keys() | out.composition_ppm.keys())
        ]
        off = [
            (element, got, want)
            for element, got, want in off
            if exceeds(got, want, tolerances.mix_tolerance, tolerances.mix_floor_ppm)
        ]
        if off:
            flags.append(_mix_flag(event.process, out.id, off, tolerances))
    return flags


def _mix_flag(
    process: str, lot: str, off: list[tuple[str, int, float]], tolerances: Tolerances
) -> Flag:
    element, got, want = max(off, key=lambda item: abs(item[1] - item[2]))
    tail = more(len(off), "element")
    message = (
        f"{element} {ppm(got)} in {process} output {lot} vs {ppm(want)} from the inputs' "
        f"mass-weighted mean, {tolerance_ppm(tolerances.mix_tolerance, tolerances.mix_floor_ppm)}"
        f"{tail}"
    )
    evidence = {
        "process": process,
        "elements": [{"element": e, "ppm": g, "expected_ppm": w} for e, g, w in off],
        "tolerance": tolerances.mix_tolerance,
        "floor_ppm": tolerances.mix_floor_ppm,
    }
    return make_flag(MIX_INCONSISTENT, lot, message, evidence, tolerances)
