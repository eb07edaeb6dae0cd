"""Lineage budgets (pure): per rare earth, the most and the least of it that a lot's ancestry
back to the mines can have supplied, carried forward event by event (LINEAGE_IMBALANCE).

A budget is a sorted tuple of (element, upper_mg, lower_mg): integers, upper rounded up and
lower rounded down, so that two databases store and compare the same thing. An element a
budget does not name has neither supply nor guarantee. `None` is a lot whose lineage is not
known (a stand-in of a bundle replay): nothing it supplies is judged.

Everything here is a fact of the record and of DOMAIN's physics, not a configured threshold:
the stored state must follow from the log alone. The tolerances of the check are
Tolerances.lineage_tolerance and lineage_floor_ppm (ledger/lots/rules/lineage.py).
"""

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ledger.lots.composition import PPM, RARE_EARTHS, REY
from ledger.lots.records import LotState
from ledger.lots.tolerances import RECOVERY_FLOORS

Budget = tuple[tuple[str, int, int], ...]
Shares = dict[str, tuple[int, int]]  # element -> (upper_mg, lower_mg)
Claim = tuple[int, Mapping[str, int]]  # mass_g, composition_ppm

MIXING = frozenset({"split", "blend"})
# The least of each element a process passes on (DOMAIN §2 floors; the lowest case of each:
# low-grade beneficiation, ionic-clay separation), so that a lower bound weakens through
# lossy processes and stays tight through mixing.
LOWER_RECOVERY: Mapping[str, float] = MappingProxyType(
    {**RECOVERY_FLOORS, "beneficiation": 0.65, "separation": 0.94}
)
# A claim is a measurement: once a step records less than its lineage supplied (a loss, an
# assay that reads low), the lot holds at most its claim plus two assays' noise, and at least
# its claim less that. Without it the material a loss took away would stay in the budget for
# a later step to "find" again.
CLAIM_NOISE = 0.10

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
_TRACKED = tuple(sorted(RARE_EARTHS))


def _ceil_mg(mass_ppm: int | float) -> int:
    """Milligrams of `mass_ppm` (grams × ppm), rounded up."""
    return -int(-mass_ppm // 1000)


def _floor_mg(mass_ppm: int | float) -> int:
    return int(mass_ppm // 1000)


def claimed_mg(mass_g: int, ppm: int) -> float:
    """Milligrams of an element `mass_g` grams at `ppm` claim."""
    return mass_g * ppm / 1000


def remainder_mg(mass_g: int, composition: Mapping[str, int]) -> int:
    """The most of any element a lot can hold that its composition does not list: the mass
    the listed elements leave over."""
    return _ceil_mg(max(0, PPM - sum(composition.values())) * mass_g)


def extracted(mass_g: int, composition: Mapping[str, int], deposit: str) -> Budget:
    """The budget of a lot from the ground: the mine's claim of every listed rare earth; an
    element not listed was not measured, and is bounded by the lot's unlisted remainder and,
    for the REY, by the deposit's top share of the REY the mine did measure."""
    rey = sum(mass_g * ppm for e, ppm in composition.items() if e in REY)
    rest = remainder_mg(mass_g, composition)
    shares = MAX_SHARE.get(deposit, _ANY)
    budget: list[tuple[str, int, int]] = []
    for element in _TRACKED:
        ppm = composition.get(element)
        if ppm is not None:
            if ppm > 0:
                amount = mass_g * ppm
                budget.append((element, _ceil_mg(amount), _floor_mg(amount)))
            continue
        cap = rest
        if element not in REY:
            cap = min(cap, _ceil_mg(UNMEASURED_SC_PPM * mass_g))
        elif rey > 0:
            cap = min(cap, _ceil_mg(rey * shares[element]))
        if cap > 0:
            budget.append((element, cap, 0))
    return tuple(budget)


def supply(process: str, inputs: Sequence[tuple[LotState, int]]) -> Shares | None:
    """What the inputs supply, pro rata of the mass consumed of each: the most, and the least
    after the process's recovery floor; None when an input's lineage is not known."""
    up: dict[str, int] = {}
    low: dict[str, int] = {}
    for lot, used in inputs:
        budget = lot.lineage
        if budget is None:
            return None
        held = lot.mass_g
        if held <= 0:
            continue
        for element, upper, lower in budget:
            up[element] = up.get(element, 0) - (-upper * used // held)
            low[element] = low.get(element, 0) + lower * used // held
    floor = LOWER_RECOVERY.get(process, 0.0)
    return {e: (upper, int(low[e] * floor)) for e, upper in up.items()}


def remaining(lot: LotState, used: int) -> Budget | None:
    """The budget of what a transform leaves of `lot` after taking `used` grams of it."""
    budget, held = lot.lineage, lot.mass_g
    if budget is None or used == 0:
        return budget
    left = held - used
    if left <= 0:
        return ()
    kept = (
        (element, upper - upper * used // held, lower + (-lower * used // held))
        for element, upper, lower in budget
    )
    return tuple(item for item in kept if item[1] > 0 or item[2] > 0)


def allocate(process: str, given: Shares, mass_in: int, outputs: Sequence[Claim]) -> list[Shares]:
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
        return [
            {e: (-(-up * mass // total), low * mass // total) for e, (up, low) in given.items()}
            for mass, _ in outputs
        ]
    shares: list[Shares] = [{} for _ in outputs]
    elements = set(given)
    for _, composition in outputs:
        elements.update(e for e in composition if e in RARE_EARTHS)
    for element in elements:
        _part(element, given.get(element, (0, 0)), outputs, shares)
    return shares


def _part(
    element: str, given: tuple[int, int], outputs: Sequence[Claim], shares: list[Shares]
) -> None:
    upper, lower = given
    claims = [
        (i, mass * composition[element])
        for i, (mass, composition) in enumerate(outputs)
        if element in composition
    ]
    total = sum(amount for _, amount in claims)
    if total > 0:
        for i, amount in claims:
            shares[i][element] = (-(-upper * amount // total), lower * amount // total)
        upper, lower = max(0, upper - _ceil_mg(total)), 0
    unlisted = [i for i, (_, composition) in enumerate(outputs) if element not in composition]
    mass = sum(outputs[i][0] for i in unlisted) or 1
    for i in unlisted:
        out_mass, composition = outputs[i]
        cap = remainder_mg(out_mass, composition)
        shares[i][element] = (min(cap, -(-upper * out_mass // mass)), lower * out_mass // mass)


def rebased(shares: Shares, mass_g: int, composition: Mapping[str, int]) -> Budget:
    """The budget a lot carries on: its shares, each listed element held to its claim ±
    CLAIM_NOISE (see there); elements with neither supply nor guarantee left out."""
    budget = []
    for element in sorted(shares):
        upper, lower = shares[element]
        ppm = composition.get(element)
        if ppm is not None:
            amount = mass_g * ppm
            upper = min(upper, _ceil_mg(amount * (1 + CLAIM_NOISE)))
            # Never lowered to the claim: a guarantee the record fell short of stays, and
            # every descendant is judged against it (no ratchet down by small steps).
            lower = max(lower, _floor_mg(amount * (1 - CLAIM_NOISE)))
        if upper > 0 or lower > 0:
            budget.append((element, upper, lower))
    return tuple(budget)


def as_shares(budget: Budget) -> Shares:
    return {element: (upper, lower) for element, upper, lower in budget}


def transform_shares(
    process: str, inputs: Sequence[tuple[LotState, int]], outputs: Sequence[Claim]
) -> list[Shares] | None:
    """Each output's share of what the consumed inputs supply; None when an input's lineage
    is not known. O(inputs × elements + outputs × elements)."""
    given = supply(process, inputs)
    if given is None:
        return None
    return allocate(process, given, sum(used for _, used in inputs), outputs)


def received(lot: LotState, mass_g: int) -> Budget | None:
    """The budget of `lot` weighed at `mass_g`: the same supply, held to the new claim."""
    if lot.lineage is None:
        return None
    return rebased(as_shares(lot.lineage), mass_g, lot.composition_ppm)
