"""The honest outcome of each process of DOMAIN §2: output masses and compositions."""

import math
import random
from collections.abc import Mapping, Sequence

from ledger.demo import reference as ref
from ledger.demo.chemistry import (
    COMPOUND_GANGUE,
    CONCENTRATE_GANGUE,
    CRACKING_CARRYOVER,
    PPM,
    Composition,
    Masses,
    following,
    gangue,
    masses,
    metal_mass,
    oxide_mass,
    ppm,
    rare_earths,
    recover,
    reo,
    uniform,
)

Lot = tuple[int, Mapping[str, int]]  # mass_g, composition_ppm
Group = tuple[str, tuple[str, ...]]  # lot kind, the rare earths it gathers

# Separation outputs (DOMAIN §1: one lot per oxide, NdPr together): what a light feed and a
# heavy (ionic-clay) feed are cut into. "seg" gathers the rest (SEG and heavy concentrate).
LIGHT_GROUPS: tuple[Group, ...] = (("la", ("La",)), ("ce", ("Ce",)), ("ndpr", ("Pr", "Nd")))
HEAVY_GROUPS: tuple[Group, ...] = (
    ("y", ("Y",)), ("dy", ("Dy",)), ("tb", ("Tb",)), ("ndpr", ("Pr", "Nd")),
    ("lace", ("La", "Ce")),
)  # fmt: skip
SEG = "seg"
_FOLLOWERS = {"monazite": ("Th", "P", "U"), "bastnaesite": ("F",)}


def beneficiate(
    rng: random.Random, lot: Lot, deposit: str, recovery: float
) -> tuple[int, Composition]:
    """Concentrate from ore: rare earths times `recovery`, mass set by the concentrate grade."""
    grams_in = masses(*lot)
    out = recover(rng, grams_in, recovery)
    mass = max(1, round(reo(out) / uniform(rng, ref.CONCENTRATE_GRADE[deposit])))
    out |= following(rng, grams_in, _FOLLOWERS.get(deposit, ()), recovery)
    out |= gangue(rng, grams_in, _without(CONCENTRATE_GANGUE, out), mass)
    return mass, ppm(out, mass)


def crack(rng: random.Random, lot: Lot, recovery: float) -> tuple[int, Composition]:
    """Mixed rare-earth carbonate from concentrate; the mass grows with carbonate oxygen."""
    grams_in = masses(*lot)
    out = recover(rng, grams_in, recovery)
    mass = max(1, round(reo(out) / uniform(rng, ref.MIXED_COMPOUND_GRADE)))
    oxygen = sum(out.values()) * uniform(rng, ref.CARBONATE_O_PER_RE)
    carried = following(rng, grams_in, ("Th", "P", "F", "U"), uniform(rng, CRACKING_CARRYOVER))
    out |= carried | gangue(rng, grams_in, COMPOUND_GANGUE, mass) | {"O": oxygen}
    return mass, ppm(out, mass)


def groups(profile: str, extra: Sequence[str]) -> tuple[Group, ...]:
    """The separation outputs for a feed of `profile`, with `extra` single-oxide cuts."""
    base = HEAVY_GROUPS if profile == "clay_heavy" else LIGHT_GROUPS
    taken = {e for _, members in base for e in members}
    more = tuple((e.lower(), (e,)) for e in extra if e not in taken)
    used = taken | {e for _, members in more for e in members}
    rest = tuple(e for e in ref.REY if e not in used)
    return (*base, *more, (SEG, rest))


def separate(rng: random.Random, lot: Lot, cuts: Sequence[Group], recovery: float) -> list[Masses]:
    """The rare-earth grams each cut receives: all of its elements times `recovery`."""
    out = recover(rng, rare_earths(masses(*lot)), recovery)
    return [{e: out[e] for e in members if out.get(e, 0.0) > 0} for _, members in cuts]


def oxide(rng: random.Random, grams: Masses) -> tuple[int, Composition]:
    mass, with_oxygen = oxide_mass(grams, uniform(rng, ref.OXIDE_PURITY))
    return mass, ppm(with_oxygen, mass)


def reduce(rng: random.Random, lot: Lot, recovery: float) -> Masses:
    """Metal from oxide: each rare earth times `recovery` (the oxygen leaves)."""
    return recover(rng, rare_earths(masses(*lot)), recovery)


def metal(rng: random.Random, grams: Masses) -> tuple[int, Composition]:
    purity, oxygen = uniform(rng, ref.METAL_PURITY), uniform(rng, ref.METAL_OXYGEN_PPM)
    mass, with_oxygen = metal_mass(grams, purity, oxygen)
    return mass, ppm(with_oxygen, mass)


def ndfeb(
    rng: random.Random, ndpr: Lot, dy: Lot | None, recovery: float
) -> tuple[int, int, Composition]:
    """NdFeB alloy from PrNd metal (and part of a Dy metal): grams of Dy metal used, mass, ppm.

    Fe, B, Co, Cu and Al come from stock the ledger does not track: the mass grows.
    """
    out = recover(rng, rare_earths(masses(*ndpr)), recovery)
    mass = max(1, round(sum(out.values()) / uniform(rng, ref.NDFEB_NDPR)))
    used = 0
    if dy is not None:
        dy_mass, dy_ppm = dy
        wanted = uniform(rng, ref.NDFEB_DY) * mass / (dy_ppm.get("Dy", 0) / PPM * recovery)
        used = min(dy_mass, math.ceil(wanted))
        for e, g in recover(rng, rare_earths(masses(used, dy_ppm)), recovery).items():
            out[e] = out.get(e, 0.0) + g
    fractions = {
        "B": uniform(rng, ref.NDFEB_B),
        "Cu": uniform(rng, ref.NDFEB_CU),
        "Al": uniform(rng, ref.NDFEB_AL),
    }
    free = 1 - sum(out.values()) / mass - sum(fractions.values()) - uniform(rng, ref.UNLISTED)
    iron = rng.uniform(max(ref.NDFEB_FE[0], free - ref.NDFEB_CO_MAX), min(ref.NDFEB_FE[1], free))
    fractions |= {"Fe": iron, "Co": free - iron}
    out |= {e: f * mass for e, f in fractions.items() if f > 0}
    return used, mass, ppm(out, mass)


def smco(rng: random.Random, sm: Lot, recovery: float) -> tuple[int, Composition, str]:
    """SmCo alloy from Sm metal, Sm2Co17 or SmCo5; Co, Fe, Cu, Zr come from stock."""
    grade, spec = (ref.SMCO5, "SmCo5") if rng.random() < 0.3 else (ref.SM2CO17, "Sm2Co17")
    out = recover(rng, rare_earths(masses(*sm)), recovery)
    mass = max(1, round(out["Sm"] / uniform(rng, grade["Sm"])))
    fractions = {e: uniform(rng, bounds) for e, bounds in grade.items() if e != "Sm"}
    fractions["Co"] = 1 - out["Sm"] / mass - sum(fractions.values()) - uniform(rng, ref.UNLISTED)
    out |= {e: f * mass for e, f in fractions.items()}
    return mass, ppm(out, mass), spec


def scaled(lot: Lot, recovery: float) -> tuple[int, Composition]:
    """Milling, sintering, machining: the same material, less of it."""
    mass, composition = lot
    return max(1, math.floor(mass * recovery)), dict(composition)


def _without(targets: Mapping[str, ref.Range], present: Masses) -> dict[str, ref.Range]:
    return {e: bounds for e, bounds in targets.items() if e not in present}
