"""Lineage budgets (pure): per rare earth, the most and the least of it that a lot's ancestry
back to the mines can have supplied, carried forward event by event (LINEAGE_IMBALANCE).

A budget is 34 integers: the upper_mg of each rare earth in ELEMENTS order, then the lower_mg
of each (upper rounded up, lower rounded down). A lot holds it as a tuple (Budget); the work
per event is a few passes over 17 elements, whatever the lot lists. The store keeps it as
canonical text, the integers joined by "," (`text`, `parse`), so that two databases store and
compare the same thing; only the store converts. `None` is a lot whose lineage is not known
(a stand-in of a bundle replay): nothing it supplies is judged.

Everything here is a fact of the record and of DOMAIN's physics, not a configured threshold:
the stored state must follow from the log alone. The tolerances of the check are
Tolerances.lineage_tolerance and lineage_floor_ppm (ledger/lots/rules/lineage.py).
"""

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ledger.lots.composition import PPM, RARE_EARTHS, REY
from ledger.lots.domain import RECOVERY_FLOORS
from ledger.lots.records import LotState

Budget = tuple[int, ...]  # what a lot holds: upper_mg of each of ELEMENTS, then lower_mg
Vector = Sequence[int]  # the same, as computed along the way; never mutated
Claim = tuple[int, Mapping[str, int]]  # mass_g, composition_ppm
ELEMENTS = tuple(sorted(RARE_EARTHS))
N = len(ELEMENTS)
INDEX = {element: i for i, element in enumerate(ELEMENTS)}
_ALL = frozenset(ELEMENTS)
_INTEGER = "(?:0|-?[1-9][0-9]*)"
_CANONICAL = re.compile(f"{_INTEGER}(?:,{_INTEGER}){{{2 * N - 1}}}")  # what `text` writes
_TEXT = ",".join(["%d"] * (2 * N))  # the integers in decimal, joined by ","

MIXING = frozenset({"split", "blend"})
# The least of each element a process passes on (DOMAIN §2 floors; the lowest case of each:
# low-grade beneficiation, ionic-clay separation), so that a lower bound weakens through
# lossy processes and stays tight through mixing.
LOWER_RECOVERY: Mapping[str, float] = MappingProxyType(
    {**RECOVERY_FLOORS, "beneficiation": 0.65, "separation": 0.94}
)
# A claim is a measurement: once a step records less than its lineage supplied (a loss, an
# assay that reads low), the lot holds at most its claim, and at least its claim. Without it
# the material a loss took away would stay in the budget for a later step to "find" again.
# Two assays' noise is the lineage tolerance's to allow, once: a margin here as well would
# compound with it (1.1 × 1.1: Dy raised 19 % by splits after machining, 19 % shaved off at
# receipts, unseen; the adversary's ratchet_after_loss and shaved_receipts).
CLAIM_NOISE = 0.0
_UP, _DOWN = 10, 10  # (1 ± CLAIM_NOISE) in tenths: integer arithmetic, exact on every platform

# DOMAIN §3: the top of each element's range, % of TREO, per deposit type; Ho..Lu share the
# "other HREE" column. An element the mine did not measure is held to twice that share of the
# rare earths it did measure (deposits at the edge of their type, oxide vs element basis).
_TOP_OXIDE_PCT: Mapping[str, Mapping[str, float]] = {
    "bastnaesite": {"La": 33, "Ce": 50, "Pr": 5, "Nd": 18, "Sm": 1.2, "Eu": 0.2, "Gd": 0.7,
                    "Tb": 0.1, "Dy": 0.1, "Y": 0.3, "HREE": 0.3},
    "monazite": {"La": 23, "Ce": 49, "Pr": 6, "Nd": 19, "Sm": 3, "Eu": 0.2, "Gd": 2,
                 "Tb": 0.2, "Dy": 0.8, "Y": 2.5, "HREE": 1},
    "ionic_clay": {"La": 38, "Ce": 8, "Pr": 8, "Nd": 31, "Sm": 6, "Eu": 1, "Gd": 7,
                   "Tb": 1.5, "Dy": 8, "Y": 66, "HREE": 15},
}  # fmt: skip
UNMEASURED_MARGIN = 2.0
_OTHER_HREE = ("Ho", "Er", "Tm", "Yb", "Lu")
# Sc follows other minerals than the REY and no profile has it: an unmeasured Sc is held to
# this many ppm of the lot (rare-earth ores carry tens of ppm; laterites a few hundred).
UNMEASURED_SC_PPM = 500


def _max_shares(top: Mapping[str, float]) -> dict[str, float]:
    shares = {e: pct for e, pct in top.items() if e != "HREE"}
    shares |= dict.fromkeys(_OTHER_HREE, top["HREE"])
    shares["Pm"] = 0.0  # no natural promethium
    return {e: min(1.0, pct * UNMEASURED_MARGIN / 100) for e, pct in shares.items()}


MAX_SHARE: Mapping[str, Mapping[str, float]] = {
    name: _max_shares(top) for name, top in _TOP_OXIDE_PCT.items()
}
# A deposit of another type may be anything a known type is.
_ANY = {e: max(shares[e] for shares in MAX_SHARE.values()) for e in MAX_SHARE["monazite"]}


def claimed_mg(mass_g: int, ppm: int) -> float:
    """Milligrams of an element `mass_g` grams at `ppm` claim."""
    return mass_g * ppm / 1000


def remainder_mg(mass_g: int, composition: Mapping[str, int]) -> int:
    """The most of any element a lot can hold that its composition does not list: the mass
    the listed elements leave over."""
    return -(-max(0, PPM - sum(composition.values())) * mass_g // 1000)


def parse(stored: str) -> Budget:
    """The budget of its stored text; ValueError for text that is not a budget's canonical
    text (so that two texts read as the same budget only if they are the same text)."""
    if _CANONICAL.fullmatch(stored) is None:
        raise ValueError(f"not a lineage budget: {stored[:80]!r}")
    return tuple(map(int, stored.split(",")))


def text(budget: Budget) -> str:
    """The stored text of a budget."""
    return _TEXT % budget


_EMPTY: Budget = (0,) * (2 * N)


def as_dict(budget: Budget) -> dict[str, tuple[int, int]]:
    """element -> (upper_mg, lower_mg), for the elements with either: for people and tests."""
    v = budget
    return {e: (v[i], v[N + i]) for i, e in enumerate(ELEMENTS) if v[i] or v[N + i]}


def extracted(mass_g: int, composition: Mapping[str, int], deposit: str) -> Budget:
    """The budget of a lot from the ground: the mine's claim of every listed rare earth; an
    element not listed was not measured, and is bounded by the lot's unlisted remainder and,
    for the REY, by the deposit's top share of the REY the mine did measure."""
    rey = sum(mass_g * ppm for e, ppm in composition.items() if e in REY)
    rest = remainder_mg(mass_g, composition)
    tops = MAX_SHARE.get(deposit, _ANY)
    up, low = [0] * N, [0] * N
    for i, element in enumerate(ELEMENTS):
        ppm = composition.get(element)
        if ppm is not None:
            amount = mass_g * ppm
            up[i], low[i] = -(-amount // 1000), amount // 1000
        elif element not in REY:
            up[i] = min(rest, -(-UNMEASURED_SC_PPM * mass_g // 1000))
        else:
            up[i] = min(rest, -int(-rey * tops[element] // 1000)) if rey > 0 else rest
    return (*up, *low)


def supply(process: str, inputs: Sequence[tuple[LotState, int]]) -> Vector | None:
    """What the inputs supply, pro rata of the mass consumed of each: the most, and the least
    after the process's recovery floor; None when an input's lineage is not known."""
    parts: list[Vector] = []
    for lot, used in inputs:
        v, mass = lot.lineage, lot.mass_g
        if v is None:
            return None
        if used >= mass:  # the whole lot: its budget, as it is
            parts.append(v)
        elif mass > 0:
            parts.append([-(-x * used // mass) for x in v[:N]] + [x * used // mass for x in v[N:]])
    total = parts[0] if len(parts) == 1 else [sum(x) for x in zip(_EMPTY, *parts, strict=True)]
    floor = LOWER_RECOVERY.get(process, 0.0)
    return [*total[:N], *[int(x * floor) for x in total[N:]]]


def remaining(lot: LotState, used: int) -> Budget | None:
    """The budget of what a transform leaves of `lot` after taking `used` grams of it."""
    budget, mass = lot.lineage, lot.mass_g
    if budget is None or used == 0:
        return budget
    if used >= mass:
        return _EMPTY
    return (
        *[x - x * used // mass for x in budget[:N]],
        *[x + (-x * used // mass) for x in budget[N:]],
    )


def allocate(process: str, given: Vector, mass_in: int, outputs: Sequence[Claim]) -> list[Vector]:
    """Each output's share of the supply `given` (what `mass_in` grams consumed supply).

    Mixing (split, blend) changes no material: every element goes with the mass, over the
    larger of mass in and out (a split cannot concentrate an element on paper, nor a lost
    gram leave its element behind). Any other process parts elements among its outputs: an
    output listing an element gets a share in proportion to its claim of it; outputs that do
    not list it (not measured) share by mass what the listing ones left unclaimed, up to
    their unlisted remainder, and are guaranteed none of it unless no output lists it.
    """
    if process in MIXING:
        total = max(mass_in, sum(mass for mass, _ in outputs), 1)
        return [_scaled(given, mass, total) for mass, _ in outputs]
    if len(outputs) == 1:
        return [_whole(given, *outputs[0])]
    return _parted(given, outputs)


def _scaled(given: Vector, mass: int, total: int) -> Vector:
    if mass == total:
        return given
    return [-(-x * mass // total) for x in given[:N]] + [x * mass // total for x in given[N:]]


def _whole(given: Vector, mass: int, composition: Mapping[str, int]) -> Vector:
    """One output takes all; an element it does not list, up to its unlisted remainder."""
    unlisted = _ALL - composition.keys()
    if not unlisted:
        return given
    rest = remainder_mg(mass, composition)
    capped = list(given)
    for element in unlisted:
        i = INDEX[element]
        if capped[i] > rest:
            capped[i] = rest
    return capped


def _parted(given: Vector, outputs: Sequence[Claim]) -> list[Vector]:
    """Each element to the outputs listing it, by claim; what they leave unclaimed to the
    outputs that do not list it, each its mass's share of all the outputs' mass (up to its
    unlisted remainder); when no output claims an element, all of it by mass to all.

    Worked from what each output lists (a separation's outputs list a few rare earths each),
    not element by element: tests/unit/test_lineage_parted.py holds it to the literal rule."""
    ups, lows, index = given[:N], given[N:], INDEX
    # Each output's listed rare earths: (position in ELEMENTS, claim in g·ppm).
    listed = [[(index[e], mass * p) for e, p in c.items() if e in index] for mass, c in outputs]
    totals = [0] * N
    for claims in listed:
        for i, amount in claims:
            totals[i] += amount
    left_up = [max(0, u - -(-t // 1000)) if t else u for u, t in zip(ups, totals, strict=True)]
    left_low = [0 if t else low for low, t in zip(lows, totals, strict=True)]
    any_low = any(left_low)
    whole = sum(mass for mass, _ in outputs) or 1
    shares: list[Vector] = []
    for (mass, composition), claims in zip(outputs, listed, strict=True):
        rest = remainder_mg(mass, composition)
        # Upper bounds, then lower ones, in one list (min() written out: it is called 17
        # times per output).
        share = [v if (v := -(-left * mass // whole)) < rest else rest for left in left_up]
        share += [left * mass // whole for left in left_low] if any_low else [0] * N
        for i, amount in claims:
            total = totals[i]
            if total:
                share[i] = -(-ups[i] * amount // total)
                share[N + i] = lows[i] * amount // total
            else:  # listed, but no output claims any of it: by mass, up to what is left
                left = left_up[i]
                share[i] = min(left, -(-left * mass // whole))
        shares.append(share)
    return shares


def rebased(shares: Vector, mass_g: int, composition: Mapping[str, int]) -> Budget:
    """The budget a lot carries on: its shares, each listed element held to its claim ±
    CLAIM_NOISE (see there)."""
    held = list(shares)
    index = INDEX
    for element in composition.keys() & _ALL:
        i, amount = index[element], mass_g * composition[element]
        most = -(-amount * _UP // 10_000)
        if most < held[i]:
            held[i] = most
        # Never lowered to the claim: a guarantee the record fell short of stays, and every
        # descendant is judged against it (no ratchet down by small steps).
        least = amount * _DOWN // 10_000
        if least > held[N + i]:
            held[N + i] = least
    return tuple(held)


def transform_shares(
    process: str, inputs: Sequence[tuple[LotState, int]], outputs: Sequence[Claim]
) -> Sequence[Vector] | None:
    """Each output's share of what the consumed inputs supply; None when an input's lineage
    is not known. O(inputs × elements + outputs × elements)."""
    given = supply(process, inputs)
    if given is None:
        return None
    return allocate(process, given, sum(used for _, used in inputs), outputs)


def received(lot: LotState, mass_g: int) -> Budget | None:
    """The budget of `lot` weighed at `mass_g`: the same supply, held to the new claim. A lot
    weighed no lighter keeps its budget as it is: its upper bounds were held to its claim
    when it was made, and a heavier claim cannot hold them lower."""
    if lot.lineage is None or mass_g >= lot.mass_g:
        return lot.lineage
    return rebased(lot.lineage, mass_g, lot.composition_ppm)
