"""YIELD_BELOW_FLOOR per element: a total over the floor must not hide one element lost.

DESIGN §9.2: the recovery floor of a process applies to each controlled or high-value
element on its own (Tolerances.controlled, Tolerances.recovery_elements: Nd, Pr, Tb, Dy),
and at `alloying` to every rare earth (DOMAIN §6: every rare earth that goes in comes out).
A separation shares its elements among its outputs; the recovery is over all of them
together. Recovery reads what the record accounts for: an output that does not list an
element accounts for none of it.
"""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import RARE_EARTHS, ElementBalance
from ledger.lots.events import LotTransform
from ledger.lots.records import LotState
from ledger.lots.rules.flags import YIELD_BELOW_FLOOR, Flag, grams, make_flag, percent
from ledger.lots.tolerances import Tolerances

# Split and blend are judged on plain mass and, element by element, by MIX_INCONSISTENT.
_MIXING = frozenset({"split", "blend"})


def judged_elements(process: str, tolerances: Tolerances) -> frozenset[str]:
    """The elements whose recovery `process` is judged on one by one."""
    return RARE_EARTHS if process == "alloying" else tolerances.recovery_judged


def check_elements(
    event: LotTransform,
    inputs: Sequence[tuple[LotState, int]],
    found: Mapping[str, ElementBalance],
    floor: tuple[float, str],
    tolerances: Tolerances,
    total_flagged: bool = False,
) -> list[Flag]:
    """YIELD_BELOW_FLOOR, one flag per element whose out/in < floor × (1 − margin).

    `found` is the transform's element balance, `floor` the process floor and its case
    (transform.recovery_floor). Elements under element_recovery_min_ppm of the input mass
    are assay noise and not judged. When the rare-earth total is flagged already
    (`total_flagged`), every element went missing with it: no flag per element."""
    if event.process in _MIXING or floor[0] <= 0 or total_flagged:
        return []
    mass_in = sum(mass_g for _, mass_g in inputs)
    least_g = tolerances.element_recovery_min_ppm * mass_in / 1_000_000
    threshold = floor[0] * (1 - tolerances.element_recovery_margin)
    elements = judged_elements(event.process, tolerances)
    flags = []
    for element, item in found.items():
        if element not in elements or item.in_g < least_g or item.in_g <= 0:
            continue
        if item.out_g / item.in_g < threshold:
            flags.append(_flag(event, inputs, item, floor, threshold, tolerances))
    return flags


def _flag(
    event: LotTransform,
    inputs: Sequence[tuple[LotState, int]],
    item: ElementBalance,
    floor: tuple[float, str],
    threshold: float,
    tolerances: Tolerances,
) -> Flag:
    recovery = item.out_g / item.in_g
    message = (
        f"{item.element} recovery {percent(recovery)} ({grams(item.out_g)} out of "
        f"{grams(item.in_g)}) < {percent(threshold)}: the {floor[1]} floor {percent(floor[0])} "
        f"less a {percent(tolerances.element_recovery_margin)} margin, for {item.element} alone"
    )
    evidence = {
        "process": event.process,
        "basis": "element",
        "element": item.element,
        "in_g": item.in_g,
        "out_g": item.out_g,
        "recovery": recovery,
        "floor": floor[0],
        "margin": tolerances.element_recovery_margin,
    }
    # On the lot the material went missing from: the input that brought most of it.
    source = max(inputs, key=lambda pair: pair[1] * pair[0].composition_ppm.get(item.element, 0))
    return make_flag(YIELD_BELOW_FLOOR, source[0].id, message, evidence, tolerances)
