"""Element-mass arithmetic of the processes: ore draws, recovery, separation, alloys.

Masses are grams (floats while computing); a composition on the wire is integer ppm,
floored from the element masses so that no element gains mass by rounding.
"""

import math
import random
from collections.abc import Mapping, Sequence

from ledger.demo import reference as ref

Masses = dict[str, float]
Composition = dict[str, int]
PPM = 1_000_000
REY = frozenset(ref.REY)

# Gangue of each ore type, ppm (not in DOMAIN: typical of the rock). Th, P and F that sit in
# the rare-earth minerals themselves follow them instead (reference: *_PER_RE).
ORE_GANGUE: Mapping[str, Mapping[str, ref.Range]] = {
    "bastnaesite": {
        "Fe": (30_000, 150_000), "Ca": (60_000, 120_000), "Ba": (20_000, 60_000),
        "Si": (30_000, 80_000), "Sr": (3_000, 10_000), "P": (2_000, 6_000), "Th": (100, 400),
    },
    "monazite": {
        "Si": (150_000, 250_000), "Fe": (20_000, 60_000), "Ti": (10_000, 30_000),
        "Zr": (5_000, 20_000), "Al": (10_000, 30_000), "U": (50, 200),
    },
    "ionic_clay": {
        "Si": (250_000, 320_000), "Al": (80_000, 120_000), "Fe": (20_000, 40_000),
        "K": (10_000, 25_000),
    },
}  # fmt: skip
# What gangue is left in the concentrate (ppm of it), never more than was in the ore.
CONCENTRATE_GANGUE: Mapping[str, ref.Range] = {
    "Fe": (5_000, 30_000), "Ca": (10_000, 50_000), "Ba": (5_000, 25_000),
    "Si": (3_000, 15_000), "Sr": (1_000, 4_000), "Ti": (2_000, 8_000), "Zr": (2_000, 8_000),
    "Al": (2_000, 10_000), "K": (500, 2_000), "U": (300, 1_000), "Th": (500, 1_500),
}  # fmt: skip
# Gangue left in the mixed compound after cracking and leaching (ppm of it).
COMPOUND_GANGUE: Mapping[str, ref.Range] = {
    "Fe": (500, 2_000), "Ca": (1_000, 4_000), "Si": (200, 800), "Al": (200, 800),
    "Ba": (200, 800), "Sr": (50, 200),
}  # fmt: skip
# Th, P, F and U leave with the cracking residue; this share of them stays in the compound.
CRACKING_CARRYOVER: ref.Range = (0.002, 0.01)


def uniform(rng: random.Random, bounds: ref.Range) -> float:
    return rng.uniform(*bounds)


def distribution(rng: random.Random, profile: str) -> dict[str, float]:
    """A REY distribution (% of TREO, oxide basis, summing to 100) within DOMAIN §3's ranges.

    Each share is drawn from the middle half of its range, then all are normalised; a draw
    that normalising pushes out of any range is drawn again.
    """
    ranges = ref.DISTRIBUTIONS[profile]
    for _ in range(200):
        drawn = {
            name: lo + (hi - lo) * rng.uniform(0.25, 0.75) for name, (lo, hi) in ranges.items()
        }
        total = sum(drawn.values())
        shares = {name: 100 * value / total for name, value in drawn.items()}
        if all(lo <= shares[name] <= hi for name, (lo, hi) in ranges.items()):
            return _spread_hree(shares)
    raise RuntimeError(f"no REE distribution for {profile!r} fits DOMAIN §3")


def _spread_hree(shares: Mapping[str, float]) -> dict[str, float]:
    out = {name: share for name, share in shares.items() if name != "HREE"}
    for element, part in ref.OTHER_HREE.items():
        out[element] = shares["HREE"] * part
    return out


def ore(rng: random.Random, profile: str, deposit: str, treo: float) -> Composition:
    """An ore's composition: TREO `treo` (fraction) spread as `profile`, plus gangue."""
    shares = distribution(rng, profile)
    grams = {e: treo * PPM * share / 100 * ref.METAL_FRACTION[e] for e, share in shares.items()}
    re_total = sum(grams.values())
    for element, bounds in ORE_GANGUE[deposit].items():
        grams[element] = uniform(rng, bounds)
    if deposit == "monazite":
        grams["Th"] = re_total * uniform(rng, ref.MONAZITE_TH_PER_RE)
        grams["P"] = re_total * uniform(rng, ref.MONAZITE_P_PER_RE)
    elif deposit == "bastnaesite":
        grams["F"] = re_total * uniform(rng, ref.BASTNAESITE_F_PER_RE)
    return {e: math.floor(ppm) for e, ppm in grams.items() if ppm >= 1}


def masses(mass_g: int, composition: Mapping[str, int]) -> Masses:
    return {e: mass_g * ppm / PPM for e, ppm in composition.items()}


def ppm(grams: Mapping[str, float], mass_g: int) -> Composition:
    """Integer ppm of `grams` in `mass_g`, floored; elements below 1 ppm are dropped."""
    out = {e: math.floor(g * PPM / mass_g) for e, g in grams.items()}
    return {e: value for e, value in sorted(out.items()) if value > 0}


def rare_earths(grams: Mapping[str, float]) -> Masses:
    return {e: g for e, g in grams.items() if e in REY}


def reo(grams: Mapping[str, float]) -> float:
    """Grams of rare-earth oxide that hold the rare earths of `grams`."""
    return sum(g / ref.METAL_FRACTION[e] for e, g in grams.items() if e in REY)


def recover(rng: random.Random, grams: Mapping[str, float], recovery: float) -> Masses:
    """Each rare earth's mass times `recovery`, varied per element by a hair, never above 1."""
    spread = ref.ELEMENT_SPREAD
    return {
        e: g * min(1.0, recovery * (1 + rng.uniform(-spread, spread)))
        for e, g in grams.items()
        if e in REY
    }


def gangue(
    rng: random.Random, grams_in: Mapping[str, float], targets: Mapping[str, ref.Range], mass: int
) -> Masses:
    """Gangue grams in an output of `mass`: a drawn ppm of each, at most 90 % of what came in."""
    out: Masses = {}
    for element, bounds in targets.items():
        if grams_in.get(element, 0.0) > 0:
            out[element] = min(uniform(rng, bounds) * mass / PPM, 0.9 * grams_in[element])
    return out


def following(
    rng: random.Random, grams_in: Mapping[str, float], elements: Sequence[str], share: float
) -> Masses:
    """The elements that travel with the rare-earth minerals, `share` of each kept."""
    spread = ref.ELEMENT_SPREAD
    return {
        e: grams_in[e] * min(1.0, share * (1 + rng.uniform(-spread, spread)))
        for e in elements
        if e in grams_in
    }


def oxide_mass(grams: Mapping[str, float], purity: float) -> tuple[int, Masses]:
    """The mass of a separated oxide holding `grams` of rare earths, and its elements with O."""
    oxide = reo(grams)
    mass = max(1, round(oxide / purity))
    return mass, {**grams, "O": oxide - sum(grams.values())}


def metal_mass(grams: Mapping[str, float], purity: float, oxygen_ppm: float) -> tuple[int, Masses]:
    """The mass of a metal holding `grams` of rare earths at `purity`, with trace oxygen."""
    mass = max(1, round(sum(grams.values()) / purity))
    return mass, {**grams, "O": oxygen_ppm * mass / PPM}


def assay(rng: random.Random, composition: Mapping[str, int], noise: float) -> Composition:
    """A laboratory's reading of `composition`: every element off by at most `noise`."""
    read = {e: round(v * (1 + rng.uniform(-noise, noise))) for e, v in composition.items()}
    return cap({e: v for e, v in read.items() if v > 0})


def cap(composition: Composition) -> Composition:
    """`composition` with its largest element trimmed so that the total is at most 10^6."""
    excess = sum(composition.values()) - PPM
    if excess <= 0:
        return composition
    largest = max(composition, key=lambda e: composition[e])
    return {**composition, largest: composition[largest] - excess}


def mean(parts: Sequence[tuple[int, Mapping[str, int]]]) -> Composition:
    """The exact mass-weighted mean composition of `parts`, rounded to integer ppm."""
    total = sum(mass for mass, _ in parts)
    grams: Masses = {}
    for mass, composition in parts:
        for element, value in composition.items():
            grams[element] = grams.get(element, 0.0) + mass * value
    return cap({e: round(g / total) for e, g in sorted(grams.items()) if round(g / total) > 0})


def three_figures(composition: Mapping[str, int]) -> Composition:
    """`composition` as a declaration states it: each value floored to 3 significant figures."""
    out: Composition = {}
    for element, value in composition.items():
        step = 10 ** max(0, len(str(value)) - 3)
        if value // step * step > 0:
            out[element] = value // step * step
    return out
