"""Rules of a transform: mass balance, recovery against the process floor, mixing."""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import (
    RARE_EARTHS,
    ElementBalance,
    ElementMap,
    balance,
    heavy_share,
    mix,
    most_of,
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
    """OUTPUT_EXCEEDS_INPUT: total mass (mass-conserving processes) and every rare earth.

    An input that does not list an element supplies at most its unlisted remainder of it
    (composition.most_of): the element was not measured, not absent."""
    flags = _check_total_mass(event, inputs, tolerances)
    floor_g = element_floor_g(event, inputs, tolerances)
    for item in found.values():
        if item.element not in RARE_EARTHS:
            continue
        if item.out_g <= item.in_g * (1 + tolerances.element_tolerance) + floor_g:
            continue
        # Listed inputs fall short: read what the inputs that do not list it could hold.
        most = sum([most_of(item.element, float(m), lot.composition_ppm) for lot, m in inputs])
        if item.out_g > most * (1 + tolerances.element_tolerance) + floor_g:
            flags.append(_element_flag(event, item, most, floor_g, tolerances))
    return flags


def element_floor_g(event: LotTransform, inputs: Inputs, tolerances: Tolerances) -> float:
    """The absolute part of the element allowance: element_floor_ppm of the smaller of the
    mass in and the mass out, so that it stays small next to a small lot."""
    mass_in = sum(mass_g for _, mass_g in inputs)
    mass_out = sum(out.mass_g for out in event.outputs)
    return tolerances.element_floor_ppm * min(mass_in, mass_out) / 1_000_000


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
    event: LotTransform,
    item: ElementBalance,
    most_g: float,
    floor_g: float,
    tolerances: Tolerances,
) -> Flag:
    element = item.element
    # The output carrying most of the element is where the phantom material went.
    richest = max(event.outputs, key=lambda out: out.mass_g * out.composition_ppm.get(element, 0))
    tolerance = tolerance_g(tolerances.element_tolerance, floor_g)
    unlisted = f" (at most {grams(most_g)} with what the inputs do not list)"
    message = (
        f"{element} out {grams(item.out_g)} > in {grams(item.in_g)}"
        f"{unlisted if most_g > item.in_g else ''}, {tolerance} ({event.process})"
    )
    evidence = {
        "process": event.process,
        "element": element,
        "in_g": item.in_g,
        "in_most_g": most_g,
        "out_g": item.out_g,
        "tolerance": tolerances.element_tolerance,
        "floor_g": floor_g,
        "floor_ppm": tolerances.element_floor_ppm,
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
    floor_case: tuple[float, str],
) -> list[Flag]:
    """YIELD_BELOW_FLOOR: recovery < floor × (1 − margin); `floor_case` is the process's
    floor and the name of its case, recovery_floor's.

    Rare-earth recovery (Σ RE out / Σ RE in) for processes, plain mass for split and
    blend, whose masses are exact where compositions carry assay noise.
    """
    floor, case = floor_case
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
    (`feed`, feed_of(inputs), if the caller has it already).

    An input that does not list an element supplies at most its unlisted remainder
    (composition.most_of), so an output may report an element its inputs did not measure up
    to that mean. An output that leaves out an element its inputs measured is read as having
    dropped it: a mixture's composition follows from its inputs, there is nothing left to
    measure, and an omission would hide the element from every later rule."""
    if event.process not in _MIXING:
        return []
    expected = feed_of(inputs) if feed is None else feed
    flags = []
    for out in event.outputs:
        off = [
            (element, out.composition_ppm.get(element), want)
            for element, want in sorted(expected.items())
            if element not in out.composition_ppm
            and want - tolerances.mix_tolerance * want > tolerances.mix_floor_ppm
        ]
        off += [
            (element, got, want)
            for element, got, want in _listed_off(out.composition_ppm, expected, inputs, tolerances)
        ]
        if off:
            flags.append(_mix_flag(event.process, out.id, sorted(off), tolerances))
    return flags


def _listed_off(
    composition: Mapping[str, int], expected: ElementMap, inputs: Inputs, tolerances: Tolerances
) -> list[tuple[str, int, float]]:
    """The elements an output lists outside the tolerance of the inputs' mean: below the
    listed mean, or above the most the inputs can hold with what they do not list."""
    off = []
    for element, got in composition.items():
        want = expected.get(element, 0.0)
        if not exceeds(got, want, tolerances.mix_tolerance, tolerances.mix_floor_ppm):
            continue
        if got > want and any(element not in lot.composition_ppm for lot, _ in inputs):
            want = _most_ppm(element, inputs)
            if not got - want > tolerances.mix_tolerance * want + tolerances.mix_floor_ppm:
                continue
        off.append((element, got, want))
    return off


def _most_ppm(element: str, inputs: Inputs) -> float:
    """The most ppm of `element` the inputs' mixture can hold (most_of, over the inputs)."""
    total = sum(mass_g for _, mass_g in inputs)
    most = sum([most_of(element, float(m), lot.composition_ppm) for lot, m in inputs])
    return most * 1_000_000 / total if total > 0 else 0.0


def _mix_flag(
    process: str, lot: str, off: list[tuple[str, int | None, float]], tolerances: Tolerances
) -> Flag:
    element, got, want = max(off, key=lambda item: abs((item[1] or 0) - item[2]))
    tail = more(len(off), "element")
    stated = "not listed" if got is None else ppm(got)
    message = (
        f"{element} {stated} in {process} output {lot} vs {ppm(want)} from the inputs' "
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
