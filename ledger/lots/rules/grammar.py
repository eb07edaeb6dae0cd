"""PROCESS_INCONSISTENT: the products a process takes and makes, and each product's range.

DOMAIN §6 (DESIGN §9.2): every process takes and makes certain products; split and blend
keep the product of their inputs (a blend's inputs share one); a lot made of its own
product by a process other than split, blend or machining is suspect (metal "cracked" into
metal); and every lot, extracted or made, must hold what its product holds (an "ore" at
99 % Dy is not ore). Who may split: any custodian (DESIGN §5) — a trader or an exporter
repacks — but a split or blend never changes what the material is.
"""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import RARE_EARTHS, ElementMap, re_ppm, unlisted_ppm
from ledger.lots.events import LotExtract, LotTransform, NewLot
from ledger.lots.records import LotState
from ledger.lots.rules.flags import PROCESS_INCONSISTENT, Flag, make_flag, percent
from ledger.lots.tolerances import Tolerances

# Processes that keep the product of their inputs; machining makes magnets of magnets.
_KEEPING = frozenset({"split", "blend"})
_SAME_PRODUCT_ALLOWED = frozenset({"split", "blend", "machining"})


def check_extract(event: LotExtract, tolerances: Tolerances) -> list[Flag]:
    """An extracted lot is a product a mine makes, and holds what that product holds."""
    lot = event.lot
    if lot.product not in tolerances.extract_makes:
        allowed = ", ".join(sorted(tolerances.extract_makes))
        message = f"{lot.id} extracted as {lot.product}: a mine extracts {allowed}"
        makes = sorted(tolerances.extract_makes)
        evidence = {"process": "extract", "product": lot.product, "makes": makes}
        return [make_flag(PROCESS_INCONSISTENT, lot.id, message, evidence, tolerances)]
    flag = range_flag(lot.id, lot.product, lot.composition_ppm, tolerances)
    return [] if flag is None else [flag]


def check_transform(
    event: LotTransform, inputs: Sequence[tuple[LotState, int]], tolerances: Tolerances
) -> list[Flag]:
    """The process's grammar (one flag), then each output's composition against its product."""
    flags = []
    problem = _grammar_problem(event, [lot.product for lot, _ in inputs], tolerances)
    if problem is not None:
        lot, message, evidence = problem
        flags.append(make_flag(PROCESS_INCONSISTENT, lot, message, evidence, tolerances))
    for out in event.outputs:
        flag = range_flag(out.id, out.product, out.composition_ppm, tolerances)
        if flag is not None:
            flags.append(flag)
    return flags


def _grammar_problem(
    event: LotTransform, taken: list[str], tolerances: Tolerances
) -> tuple[str, str, dict[str, object]] | None:
    """(lot, message, evidence) of what the process may not take or make, or None."""
    process, outputs = event.process, event.outputs
    keeping = process in _KEEPING
    takes = tolerances.process_takes.get(process, frozenset())
    makes = tolerances.process_makes.get(process, frozenset())
    problem = (
        _keeping_problem(process, sorted(set(taken)), outputs)
        if keeping
        else _process_problem(process, takes, makes, taken, outputs)
    )
    if problem is None:
        return None
    lot, message = problem
    evidence: dict[str, object] = {
        "process": process,
        "input_products": sorted(set(taken)),
        "output_products": sorted({out.product for out in outputs}),
    }
    if not keeping:
        evidence |= {"takes": sorted(takes), "makes": sorted(makes)}
    return lot, message, evidence


def _process_problem(
    process: str,
    takes: frozenset[str],
    makes: frozenset[str],
    taken: list[str],
    outputs: Sequence[NewLot],
) -> tuple[str, str] | None:
    wrong_in = sorted(set(taken) - takes)
    wrong_out = [out for out in outputs if out.product not in makes]
    if wrong_in or wrong_out:
        parts = [f"takes {_names(takes)}, not {_names(wrong_in)}"] if wrong_in else []
        if wrong_out:
            parts.append(f"makes {_names(makes)}, not {wrong_out[0].product} ({wrong_out[0].id})")
        lot = (wrong_out or outputs)[0].id
        return lot, f"{process} {'; '.join(parts)}"
    if process in _SAME_PRODUCT_ALLOWED or len(set(taken)) != 1:
        return None
    if all(out.product == taken[0] for out in outputs):
        return outputs[
            0
        ].id, f"{process} made {taken[0]} of {taken[0]}: nothing changed what the lot is"
    return None


def _keeping_problem(
    process: str, products: list[str], outputs: Sequence[NewLot]
) -> tuple[str, str] | None:
    if len(products) > 1:
        return outputs[0].id, f"{process} of {_names(products)}: a blend's inputs share one product"
    changed = [out for out in outputs if out.product != products[0]]
    if not changed:
        return None
    first = changed[0]
    message = (
        f"{process} of {products[0]} made {first.product} ({first.id}): a {process} keeps "
        f"the product of its inputs"
    )
    return first.id, message


def range_flag(
    lot: str, product: str, composition: ElementMap, tolerances: Tolerances
) -> Flag | None:
    """A flag when `composition` is outside every range of `product`, else None."""
    bounds = tolerances.product_re_ppm.get(product)
    if bounds is not None:
        held = re_ppm(composition)
        # The listed total in range is a value the lot can hold: no need to read the rest.
        if bounds[0] <= held <= bounds[1] or _within(_held(composition, "RE"), bounds):
            return None
        message = (
            f"{lot} holds {percent(held / 1e6)} rare earths; {product} holds "
            f"{percent(bounds[0] / 1e6)}–{percent(bounds[1] / 1e6)}"
        )
        evidence = {"product": product, "re_ppm": held, "range_ppm": list(bounds)}
        return make_flag(PROCESS_INCONSISTENT, lot, message, evidence, tolerances)
    families = _families(product, tolerances)
    if not families or any(_fits(composition, ranges) for ranges in families.values()):
        return None
    shown = {name: composition.get(name) for name in ("Fe", "Co", "Sm")}
    message = (
        f"{lot} holds {percent(re_ppm(composition) / 1e6)} rare earths, "
        + ", ".join(
            f"{name} {'not listed' if value is None else percent(value / 1e6)}"
            for name, value in shown.items()
        )
        + f": no {product} family ({', '.join(families)}) fits"
    )
    evidence = {
        "product": product,
        "re_ppm": re_ppm(composition),
        **{f"{name.lower()}_ppm": value for name, value in shown.items()},
        "families": {name: {k: list(v) for k, v in r.items()} for name, r in families.items()},
    }
    return make_flag(PROCESS_INCONSISTENT, lot, message, evidence, tolerances)


def _families(product: str, tolerances: Tolerances) -> Mapping[str, Mapping[str, tuple[int, int]]]:
    """The families a product may be of: a RE-Fe master alloy is an alloy, not a magnet."""
    if product not in ("alloy", "magnet_powder", "magnet"):
        return {}
    families = tolerances.magnet_families
    return families if product == "alloy" else {k: v for k, v in families.items() if k != "RE-Fe"}


def _fits(composition: ElementMap, ranges: Mapping[str, tuple[int, int]]) -> bool:
    return all(_within(_held(composition, name), bounds) for name, bounds in ranges.items())


def _held(composition: ElementMap, name: str) -> tuple[float, float]:
    """The least and the most ppm of `name` ("RE": the seventeen) the lot can hold. What the
    composition does not list is not measured: 0 to the unlisted remainder."""
    if name == "RE":
        listed = re_ppm(composition)
        if composition.keys() >= RARE_EARTHS:
            return listed, listed
        return listed, listed + unlisted_ppm(composition)
    if name in composition:
        return composition[name], composition[name]
    return 0.0, unlisted_ppm(composition)


def _within(held: tuple[float, float], bounds: tuple[int, int]) -> bool:
    """Whether some value the lot can hold lies inside `bounds`."""
    return held[0] <= bounds[1] and held[1] >= bounds[0]


def _names(products: Sequence[str] | frozenset[str]) -> str:
    return " or ".join(sorted(products)) or "nothing"
