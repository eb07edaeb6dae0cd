"""Rules of an export declaration: mass, composition and controlled elements vs the record.

A declaration-level flag names the first lot concerned, in the declaration's order; its
evidence lists every lot concerned.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence

from ledger.lots.composition import PPM, most_of
from ledger.lots.events import Declaration
from ledger.lots.records import LotState
from ledger.lots.rules.flags import (
    COMPOSITION_MISMATCH,
    CONTROLLED_WITHOUT_LICENCE,
    DECLARED_MASS_MISMATCH,
    Flag,
    count,
    exceeds,
    grams,
    make_flag,
    more,
    ppm,
    tolerance_g,
    tolerance_ppm,
)
from ledger.lots.rules.labels import check_description, check_hs_code, check_magnet_family
from ledger.lots.tolerances import Tolerances
from ledger.lots.words import read

Bounds = tuple[float, float]  # an element's least and most ppm in the declared lots


def check_declaration(
    declaration: Declaration,
    lots: Sequence[LotState],
    tolerances: Tolerances,
    country: str | None = None,
) -> list[Flag]:
    """The flags a declaration raises against the recorded `lots` it names.

    Runs for export.declare and for a check that writes nothing, so the caller supplies the
    lots' states. `country` is the declaring exporter's: its control list judges the
    controlled elements (DESIGN §9.1); None: China's. Raises ValueError when no lot is given.
    """
    controlled = tolerances.controlled_for(country)
    if not lots:
        raise ValueError(f"declaration {declaration.id!r}: no lot states given to check it on")
    # Each lot's controlled elements, which three rules read: found once.
    held = [(lot, _controlled_in(lot, tolerances, controlled)) for lot in lots]
    words = read(declaration.description)  # the description, which two rules read
    return [
        *_check_mass(declaration, lots, tolerances),
        *check_hs_code(declaration, lots, tolerances),
        *check_description(declaration, words, lots, tolerances, controlled),
        *_check_licence(declaration, held, tolerances),
        *_check_hidden(declaration, held, tolerances, controlled),
        *_check_composition(declaration, lots, held, tolerances),
        *check_magnet_family(declaration, words, lots, tolerances),
    ]


def _check_mass(
    declaration: Declaration, lots: Sequence[LotState], tolerances: Tolerances
) -> list[Flag]:
    """DECLARED_MASS_MISMATCH: declared mass vs the sum of the lots' recorded masses. The
    floor is at most a share of the record: 100 g is not an allowance on a 100 g lot."""
    recorded = sum(lot.mass_g for lot in lots)
    declared = declaration.declared_mass_g
    rel = tolerances.declared_mass_tolerance
    floor = min(tolerances.declared_mass_floor_g, tolerances.declared_mass_floor_share * recorded)
    if not exceeds(declared, recorded, rel, floor):
        return []
    message = (
        f"declaration {declaration.id} declares {grams(declared)} vs {grams(recorded)} recorded "
        f"over {count(len(lots), 'lot')}, {tolerance_g(rel, floor)}"
    )
    evidence = {
        "declaration": declaration.id,
        "declared_g": declared,
        "recorded_g": recorded,
        "lots": [lot.id for lot in lots],
        "tolerance": rel,
        "floor_g": floor,
    }
    return [make_flag(DECLARED_MASS_MISMATCH, lots[0].id, message, evidence, tolerances)]


def _controlled_in(
    lot: LotState, tolerances: Tolerances, controlled: frozenset[str]
) -> dict[str, int]:
    """The `controlled` elements a lot holds at or above the threshold, and their ppm."""
    return {
        element: value
        for element, value in sorted(lot.composition_ppm.items())
        if element in controlled and value >= tolerances.controlled_threshold_ppm
    }


def _list(found: Mapping[str, int]) -> str:
    return ", ".join(f"{element} {ppm(value)}" for element, value in found.items())


# Each declared lot and the controlled elements it holds at or above the threshold.
_Held = Sequence[tuple[LotState, dict[str, int]]]


def _check_licence(declaration: Declaration, held: _Held, tolerances: Tolerances) -> list[Flag]:
    """CONTROLLED_WITHOUT_LICENCE: a lot holds a controlled element, no licence is declared."""
    if declaration.licence is not None:
        return []
    holders = [(lot, found) for lot, found in held if found]
    if not holders:
        return []
    lot, found = holders[0]
    tail = more(len(holders), "lot")
    message = (
        f"{lot.id} holds {_list(found)}, controlled at ≥ {ppm(tolerances.controlled_threshold_ppm)}"
        f", and declaration {declaration.id} names no licence{tail}"
    )
    evidence = {
        "declaration": declaration.id,
        "lots": [{"lot": held.id, "controlled_ppm": elements} for held, elements in holders],
        "threshold_ppm": tolerances.controlled_threshold_ppm,
    }
    return [make_flag(CONTROLLED_WITHOUT_LICENCE, lot.id, message, evidence, tolerances)]


def _check_hidden(
    declaration: Declaration, held: _Held, tolerances: Tolerances, controlled: frozenset[str]
) -> list[Flag]:
    """CONTROLLED_WITHOUT_LICENCE: a controlled element of the record is absent from (or zero
    in) the declared composition; a licence does not excuse hiding what it licenses."""
    declared = declaration.declared_composition_ppm
    if declared is None:
        return []
    absent = controlled - {e for e, value in declared.items() if value > 0}
    hidden = [
        (lot, missing)
        for lot, found in held
        if (missing := {e: v for e, v in found.items() if e in absent})
    ]
    if not hidden:
        return []
    lot, missing = hidden[0]
    message = (
        f"{lot.id} holds {_list(missing)}, controlled at ≥ "
        f"{ppm(tolerances.controlled_threshold_ppm)}, absent from the declared composition of "
        f"{declaration.id}"
    )
    evidence = {
        "declaration": declaration.id,
        "lots": [{"lot": held.id, "hidden_ppm": elements} for held, elements in hidden],
        "threshold_ppm": tolerances.controlled_threshold_ppm,
        "licence": declaration.licence or "",
    }
    return [make_flag(CONTROLLED_WITHOUT_LICENCE, lot.id, message, evidence, tolerances)]


def _check_composition(
    declaration: Declaration, lots: Sequence[LotState], held: _Held, tolerances: Tolerances
) -> list[Flag]:
    """COMPOSITION_MISMATCH: declared composition vs the lots' mass-weighted record.

    An element judged: one at or above `declared_min_ppm` either side, or a controlled one
    that some lot lists at or above the threshold, whatever its size (with the smaller
    floor `declared_controlled_floor_ppm`); the declared value must lie within the
    tolerance of the record's least to most (a lot that does not list an element did not
    measure it). Such a controlled element left out of a stated composition is hidden,
    which is a finding too; any other element left out is not stated, not 0.
    """
    declared = declaration.declared_composition_ppm
    if declared is None:
        return []
    # Per lot, as the licence rule: other lots cannot dilute a lot's Dy out of the check.
    carried = frozenset(e for _, found in held for e in found)
    off = _off_elements(declared, _record_bounds(lots, declared.keys()), carried, tolerances)
    if not off:
        return []
    first = max(off, key=_gap)
    over = f"mass-weighted over {count(len(lots), 'lot')}"
    message = f"{_describe(first, declaration.id, over, carried, tolerances)}"
    evidence = {
        "declaration": declaration.id,
        "elements": [
            {"element": e, "declared_ppm": s, "recorded_ppm": low, "recorded_most_ppm": high}
            for e, s, low, high in off
        ],
        "tolerance": tolerances.declared_tolerance,
        "floor_ppm": tolerances.declared_floor_ppm,
        "controlled_floor_ppm": tolerances.declared_controlled_floor_ppm,
        "min_ppm": tolerances.declared_min_ppm,
        "controlled_threshold_ppm": tolerances.controlled_threshold_ppm,
    }
    message += more(len(off), "element")
    return [make_flag(COMPOSITION_MISMATCH, lots[0].id, message, evidence, tolerances)]


# (element, declared ppm or None where the declaration leaves it out, record least, most)
_Off = tuple[str, int | None, float, float]


def _record_bounds(lots: Sequence[LotState], declared: Iterable[str]) -> dict[str, Bounds]:
    """Each element's mass-weighted ppm over `lots`, least and most: a lot that does not list
    it did not measure it, so it holds between 0 and its unlisted remainder."""
    total = float(sum(lot.mass_g for lot in lots))
    if total <= 0:
        raise ValueError("declaration: the declared lots hold no mass")
    elements = set(declared).union(*(lot.composition_ppm.keys() for lot in lots))
    return {
        element: (
            sum(lot.mass_g * lot.composition_ppm.get(element, 0) for lot in lots) / total,
            sum(most_of(element, lot.mass_g, lot.composition_ppm) for lot in lots) * PPM / total,
        )
        for element in sorted(elements)
    }


def _off_elements(
    declared: Mapping[str, int],
    record: Mapping[str, Bounds],
    held: Collection[str],
    tolerances: Tolerances,
) -> list[_Off]:
    rel = tolerances.declared_tolerance
    off: list[_Off] = []
    for element, (low, high) in record.items():
        said, controlled = declared.get(element), element in held
        if said is None:
            # Not stated is not 0; but a stated composition that leaves out a controlled
            # element the record carries hides it.
            if controlled:
                off.append((element, None, low, high))
            continue
        if not controlled and max(said, low) < tolerances.declared_min_ppm:
            continue
        floor = _floor(controlled, tolerances)
        below = said < low and exceeds(said, low, rel, floor)
        if below or (said > high and exceeds(said, high, rel, floor)):
            off.append((element, said, low, high))
    return off


def _floor(controlled: bool, tolerances: Tolerances) -> int:
    """The allowance's absolute part: small for a controlled element, whose few thousand ppm
    must not be declared away inside the floor of the major elements."""
    if controlled:
        return tolerances.declared_controlled_floor_ppm
    return tolerances.declared_floor_ppm


def _gap(item: _Off) -> float:
    _, said, low, high = item
    if said is None:
        return low
    return low - said if said < low else said - high


def _describe(
    item: _Off, declaration_id: str, over: str, held: Collection[str], tolerances: Tolerances
) -> str:
    element, said, low, high = item
    if said is None:
        return (
            f"declared composition of {declaration_id} omits {element}, which the record puts "
            f"at {ppm(low)} ({over}), controlled at ≥ {ppm(tolerances.controlled_threshold_ppm)} "
            "in a lot"
        )
    floor = _floor(element in held, tolerances)
    record = ppm(low) if low == high else f"{ppm(low)} to {ppm(high)} (not listed by every lot)"
    return (
        f"{element} declared {ppm(said)} vs {record} recorded ({over}) in {declaration_id}, "
        f"{tolerance_ppm(tolerances.declared_tolerance, floor)}"
    )
