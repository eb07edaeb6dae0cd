"""Element maps (pure): element masses, mixing, conservation, REE patterns and distances.

A composition is a map element symbol -> ppm by mass (mg/kg), elemental basis, as on the
wire; derived maps (mixtures, shares) hold floats. Masses are grams.

Rare earths: IUPAC's seventeen, the lanthanides La..Lu, Y and Sc, count as rare earths for
mass balance, recovery and the 1 % "rare-earth-bearing" test (`RARE_EARTHS`). The deposit
fingerprint uses REY, the lanthanides and Y (`REY`): Sc follows other minerals than the
REY (it is not part of any deposit profile of DOMAIN §3), so it has no share in a pattern.
"""

import math
from collections.abc import Collection, Iterable, Mapping
from typing import NamedTuple

ElementMap = Mapping[str, float]
PPM = 1_000_000

LANTHANIDES = (
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Pm",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
)
REY = frozenset((*LANTHANIDES, "Y"))
RARE_EARTHS = frozenset((*REY, "Sc"))
# Heavy rare earths in the conventional sense (Gd..Lu and Y); the rest of REY is light.
HEAVY = frozenset(("Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y"))

# Mass fraction of the metal in its usual oxide: DOMAIN §1; Ho, Er, Tm, Yb and Pm computed
# from IUPAC atomic weights for the sesquioxide M2O3.
OXIDE_METAL_FRACTION: Mapping[str, float] = {
    "La": 0.8527, "Ce": 0.8141, "Pr": 0.8277, "Nd": 0.8574, "Pm": 0.8580, "Sm": 0.8624,
    "Eu": 0.8636, "Gd": 0.8676, "Tb": 0.8502, "Dy": 0.8713, "Ho": 0.8730, "Er": 0.8745,
    "Tm": 0.8756, "Yb": 0.8782, "Lu": 0.8794, "Y": 0.7874, "Sc": 0.6520,
}  # fmt: skip

# CI chondrite, ppm: McDonough W.F. & Sun S.-s. (1995), "The composition of the Earth",
# Chemical Geology 120, 223-253, table 1. Pm has no stable isotope and no value.
CHONDRITE_PPM: Mapping[str, float] = {
    "La": 0.237, "Ce": 0.613, "Pr": 0.0928, "Nd": 0.457, "Sm": 0.148, "Eu": 0.0563,
    "Gd": 0.199, "Tb": 0.0361, "Dy": 0.246, "Ho": 0.0546, "Er": 0.160, "Tm": 0.0247,
    "Yb": 0.161, "Lu": 0.0246, "Y": 1.57,
}  # fmt: skip

# The bins of DOMAIN §3's fingerprint table; "HREE" is its "other HREE" column (Ho..Lu).
FINGERPRINT_BINS = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Y", "HREE")
_OTHER_HREE = frozenset(("Ho", "Er", "Tm", "Yb", "Lu"))
_OTHER_HREE_SORTED = tuple(sorted(_OTHER_HREE))
_ONE_ELEMENT_BINS = FINGERPRINT_BINS[:-1]  # all but HREE
_BIN_SET = frozenset(FINGERPRINT_BINS)
_SORTED_BINS = tuple(sorted(FINGERPRINT_BINS))
_OTHER_HREE_FRACTION = 0.875  # mean metal fraction of Ho2O3..Lu2O3

# DOMAIN §3, % of TREO (oxide basis): the middle of each range, half the bound for "<x".
_PROFILES_OXIDE_PCT: Mapping[str, tuple[float, ...]] = {
    #                   La     Ce    Pr   Nd    Sm    Eu     Gd    Tb    Dy    Y     HREE
    "bastnaesite": (28.0, 48.5, 4.5, 15.0, 1.0, 0.15, 0.45, 0.05, 0.05, 0.2, 0.15),
    "monazite": (21.5, 47.0, 5.5, 18.0, 2.75, 0.125, 1.5, 0.15, 0.55, 1.75, 0.5),
    "ionic_clay_heavy": (2.25, 1.25, 1.0, 3.5, 2.5, 0.1, 6.0, 1.25, 7.0, 63.0, 12.5),
    "ionic_clay_light": (33.0, 5.0, 7.0, 28.0, 5.0, 0.75, 4.0, 0.45, 2.0, 10.0, 2.0),
}
# Which reference profiles a declared deposit may match; `other` has none and is not checked.
DEPOSIT_PROFILE_NAMES: Mapping[str, tuple[str, ...]] = {
    "bastnaesite": ("bastnaesite",),
    "monazite": ("monazite",),
    "ionic_clay": ("ionic_clay_heavy", "ionic_clay_light"),
    "other": (),
}


class ElementBalance(NamedTuple):
    """One element's grams into and out of a transform."""

    element: str
    in_g: float
    out_g: float


def element_masses(mass_g: float, composition: ElementMap) -> dict[str, float]:
    """Grams of each element in `mass_g` grams of material of `composition` (ppm)."""
    return {element: mass_g * ppm / PPM for element, ppm in composition.items()}


def mix(parts: Iterable[tuple[float, ElementMap]]) -> dict[str, float]:
    """The composition (ppm, floats) of the mass-weighted mixture of (mass_g, composition) parts.

    Raises ValueError when the parts hold no mass.
    """
    grams: dict[str, float] = {}
    total = 0.0
    for mass_g, composition in parts:
        total += mass_g
        # As element_masses computes each amount, without the intermediate dict.
        for element, ppm in composition.items():
            grams[element] = grams.get(element, 0.0) + mass_g * ppm / PPM
    if total <= 0:
        raise ValueError("mix: the parts hold no mass")
    return {element: amount * PPM / total for element, amount in grams.items()}


def balance(
    inputs: Iterable[tuple[float, ElementMap]],
    outputs: Iterable[tuple[float, ElementMap]],
    only: Collection[str] | None = None,
) -> dict[str, ElementBalance]:
    """Per-element grams in and out of a transform, over every element either side names
    (of those in `only`, if given: each element's figures are the same either way)."""
    grams_in = _sum_masses(inputs, only)
    grams_out = _sum_masses(outputs, only)
    make = tuple.__new__  # ElementBalance(...) without its Python-level __new__
    return {
        element: make(
            ElementBalance, (element, grams_in.get(element, 0.0), grams_out.get(element, 0.0))
        )
        for element in sorted(grams_in.keys() | grams_out.keys())
    }


def _sum_masses(
    parts: Iterable[tuple[float, ElementMap]], only: Collection[str] | None = None
) -> dict[str, float]:
    grams: dict[str, float] = {}
    for mass_g, composition in parts:
        # As element_masses computes it, without the intermediate dict. Each element's sum
        # runs over the parts in order, whatever the order of the elements within a part.
        for element, ppm in composition.items():
            if only is None or element in only:
                grams[element] = grams.get(element, 0.0) + mass_g * ppm / PPM
    return grams


def re_ppm(composition: ElementMap) -> float:
    """Total rare earths (the seventeen, elemental) in ppm."""
    return sum([ppm for element, ppm in composition.items() if element in RARE_EARTHS])


def rey_ppm(composition: ElementMap) -> float:
    """Total REY (lanthanides and Y, no Sc) in ppm: the mass a pattern is computed over."""
    return sum([ppm for element, ppm in composition.items() if element in REY])


def treo_ppm(composition: ElementMap) -> float:
    """Total rare-earth oxides (TREO) in ppm: each rare earth over its oxide's metal fraction."""
    return sum(
        [
            ppm / OXIDE_METAL_FRACTION[element]
            for element, ppm in composition.items()
            if element in RARE_EARTHS
        ]
    )


def ree_distribution(composition: ElementMap) -> dict[str, float]:
    """Each REY element's share of total REY (sums to 1), by element; empty without REY."""
    held = [(e, ppm) for e, ppm in composition.items() if e in REY]
    total = sum([ppm for _, ppm in held])  # rey_ppm(composition): the same sum, same order
    if total <= 0:
        return {}
    held.sort()  # by element: the keys are distinct
    return {e: ppm / total for e, ppm in held if ppm > 0}


def heavy_share(composition: ElementMap) -> float:
    """The heavy rare earths' (Gd..Lu, Y) share of total REY; 0 when there is no REY."""
    return heavy_of(ree_distribution(composition))


def heavy_of(shares: ElementMap) -> float:
    """The heavy share of a REY distribution (ree_distribution's), as heavy_share reads it."""
    return sum([share for e, share in shares.items() if e in HEAVY])


def fingerprint(composition: ElementMap) -> dict[str, float]:
    """The REY distribution over DOMAIN §3's bins (Ho..Lu pooled as HREE); empty without REY."""
    return fingerprint_of(ree_distribution(composition))


def fingerprint_of(shares: ElementMap) -> dict[str, float]:
    """The fingerprint of a REY distribution (ree_distribution's), as fingerprint reads it."""
    if not shares:
        return {}
    # Each bin of one element holds its share (Pm has no bin); HREE the sum of Ho..Lu's,
    # added by element.
    binned = {name: shares.get(name, 0.0) for name in _ONE_ELEMENT_BINS}
    binned["HREE"] = sum(
        [shares[element] for element in _OTHER_HREE_SORTED if element in shares], 0.0
    )
    return binned


def distance(p: ElementMap, q: ElementMap) -> float:
    """Total variation distance ½·Σ|p_i − q_i| between two distributions (0 same … 1 disjoint).

    It is the largest share of REY one would have to move to turn one pattern into the
    other: 0.15 means 15 % of the rare earths sit in different elements.
    """
    # Sorted keys: float sums must not depend on set order, which changes with the hash seed.
    # Two fingerprints have the same keys, the bins, whose sorted order is known already.
    keys = _SORTED_BINS if p.keys() == _BIN_SET == q.keys() else sorted(p.keys() | q.keys())
    return 0.5 * sum([abs(p.get(key, 0.0) - q.get(key, 0.0)) for key in keys])


def _profile(oxide_pct: tuple[float, ...]) -> dict[str, float]:
    """An oxide-basis % of TREO row as elemental shares normalised to 1."""
    fractions = [
        _OTHER_HREE_FRACTION if name == "HREE" else OXIDE_METAL_FRACTION[name]
        for name in FINGERPRINT_BINS
    ]
    grams = [pct * fraction for pct, fraction in zip(oxide_pct, fractions, strict=True)]
    total = sum(grams)
    return {name: g / total for name, g in zip(FINGERPRINT_BINS, grams, strict=True)}


# Reference fingerprints, elemental basis, each summing to 1.
DEPOSIT_PROFILES: Mapping[str, Mapping[str, float]] = {
    name: _profile(row) for name, row in _PROFILES_OXIDE_PCT.items()
}


def closest_profile(
    composition: ElementMap, names: Iterable[str], pattern: ElementMap | None = None
) -> tuple[str, float] | None:
    """The reference profile among `names` nearest to the composition's fingerprint, and its
    distance; None when there are no names or the composition holds no REY. `pattern` is the
    composition's fingerprint, if the caller has it already."""
    if pattern is None:
        pattern = fingerprint(composition)
    scored = [(distance(pattern, DEPOSIT_PROFILES[name]), name) for name in names]
    if not pattern or not scored:
        return None
    best_distance, best = min(scored)
    return best, best_distance


def chondrite_normalised(composition: ElementMap) -> dict[str, float]:
    """The chondrite-normalised pattern: each lanthanide and Y divided by its CI value."""
    return {e: composition.get(e, 0.0) / ci for e, ci in CHONDRITE_PPM.items()}


def ce_anomaly(composition: ElementMap) -> float | None:
    """Ce/Ce* = Ce_N / √(La_N·Pr_N); None when La or Pr is absent (the anomaly is undefined)."""
    return _anomaly(composition, "Ce", "La", "Pr")


def eu_anomaly(composition: ElementMap) -> float | None:
    """Eu/Eu* = Eu_N / √(Sm_N·Gd_N); None when Sm or Gd is absent (the anomaly is undefined)."""
    return _anomaly(composition, "Eu", "Sm", "Gd")


def _anomaly(composition: ElementMap, centre: str, left: str, right: str) -> float | None:
    pattern = chondrite_normalised(composition)
    neighbours = pattern[left] * pattern[right]
    if neighbours <= 0:
        return None
    return pattern[centre] / math.sqrt(neighbours)


def unlisted_ppm(composition: ElementMap) -> float:
    """The part of a lot its composition does not list: 10⁶ − Σ listed ppm, never below 0."""
    return max(0.0, PPM - sum(composition.values()))


def most_of(element: str, mass_g: float, composition: ElementMap) -> float:
    """The most grams of `element` that `mass_g` grams of material of `composition` can hold.

    An element a composition does not list is NOT MEASURED, never 0: it is unknown, and at
    most the unlisted remainder of the lot, mass × (10⁶ − Σ listed ppm) / 10⁶. A listed
    element holds what it lists. Every rule that asks how much of an element a lot could
    supply (mass balance, mixing, lineage) reads an absent element through this function;
    a rule that asks how much a record accounts for (recovery) reads the listed value.
    """
    listed = composition.get(element)
    if listed is not None:
        return mass_g * listed / PPM
    return mass_g * unlisted_ppm(composition) / PPM
