"""Rules of an export declaration: mass, composition and controlled elements vs the record.

A declaration-level flag names the first lot concerned, in the declaration's order; its
evidence lists every lot concerned.
"""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import mix
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
    return [
        *_check_mass(declaration, lots, tolerances),
        *check_hs_code(declaration, lots, tolerances),
        *check_description(declaration, lots, tolerances),
        *_check_licence(declaration, lots, tolerances, controlled),
        *_check_hidden(declaration, lots, tolerances, controlled),
        *_check_composition(declaration, lots, tolerances),
        *check_magnet_family(declaration, lots, tolerances),
    ]


def _check_mass(
    declaration: Declaration, lots: Sequence[LotState], tolerances: Tolerances
) -> list[Flag]:
    """DECLARED_MASS_MISMATCH: declared mass vs the sum of the lots' recorded masses."""
    recorded = sum(lot.mass_g for lot in lots)
    declared = declaration.declared_mass_g
    rel, floor = tolerances.declared_mass_tolerance, tolerances.declared_mass_floor_g
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


def _check_licence(
    declaration: Declaration,
    lots: Sequence[LotState],
    tolerances: Tolerances,
    controlled: frozenset[str],
) -> list[Flag]:
    """CONTROLLED_WITHOUT_LICENCE: a lot holds a controlled element, no licence is declared."""
    holders = [
        (lot, found) for lot in lots if (found := _controlled_in(lot, tolerances, controlled))
    ]
    if declaration.licence is not None or not holders:
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
    declaration: Declaration,
    lots: Sequence[LotState],
    tolerances: Tolerances,
    controlled: frozenset[str],
) -> list[Flag]:
    """CONTROLLED_WITHOUT_LICENCE: a controlled element of the record is absent from (or zero
    in) the declared composition; a licence does not excuse hiding what it licenses."""
    declared = declaration.declared_composition_ppm
    if declared is None:
        return []
    absent = controlled - {e for e, value in declared.items() if value > 0}
    hidden = [
        (lot, missing)
        for lot in lots
        if (
            missing := {
                e: v for e, v in _controlled_in(lot, tolerances, controlled).items() if e in absent
            }
        )
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
    declaration: Declaration, lots: Sequence[LotState], tolerances: Tolerances
) -> list[Flag]:
    """COMPOSITION_MISMATCH: declared composition vs the lots' mass-weighted record."""
    declared = declaration.declared_composition_ppm
    if declared is None:
        return []
    record = mix((float(lot.mass_g), lot.composition_ppm) for lot in lots)
    rel, floor = tolerances.declared_tolerance, tolerances.declared_floor_ppm
    off = [
        (element, declared.get(element, 0), record.get(element, 0.0))
        for element in sorted(declared.keys() | record.keys())
    ]
    off = [
        (element, said, held)
        for element, said, held in off
        if max(said, held) >= tolerances.declared_min_ppm and exceeds(said, held, rel, floor)
    ]
    if not off:
        return []
    element, said, held = max(off, key=lambda item: abs(item[1] - item[2]))
    tail = more(len(off), "element")
    message = (
        f"{element} declared {ppm(said)} vs {ppm(held)} recorded (mass-weighted over "
        f"{count(len(lots), 'lot')}) in {declaration.id}, {tolerance_ppm(rel, floor)}{tail}"
    )
    evidence = {
        "declaration": declaration.id,
        "elements": [{"element": e, "declared_ppm": s, "recorded_ppm": h} for e, s, h in off],
        "tolerance": rel,
        "floor_ppm": floor,
        "min_ppm": tolerances.declared_min_ppm,
    }
    return [make_flag(COMPOSITION_MISMATCH, lots[0].id, message, evidence, tolerances)]
