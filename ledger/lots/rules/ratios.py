"""Deposit ratios (DOMAIN §3): Dy/Nd, Tb/Nd, the Y share and the heavy share of REY, which
separate deposits where the pattern's distance, dominated by La and Ce, does not; the bounds
of a profile, the blends of a two-profile deposit, and the ORIGIN_MISMATCH flag they raise."""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import (
    DEPOSIT_PROFILES,
    ElementMap,
    distance,
    fingerprint,
    heavy_of,
    ree_distribution,
    unlisted_ppm,
)
from ledger.lots.rules.flags import ORIGIN_MISMATCH, Flag, make_flag
from ledger.lots.tolerances import Tolerances

# (ratio, numerator) for the ratios of Tolerances.deposit_ratios over Nd.
_OVER_ND = (("Dy/Nd", "Dy"), ("Tb/Nd", "Tb"))
# A deposit's Dy/Nd and Tb/Nd stay within about twice its profile's (DOMAIN §3: light clay
# 0.03-0.12 around 0.073; the light-clay bounds of deposit_ratios are 2.07 and 1.86 times it).
BLEND_RATIO_SLACK = 2.0


def fits_blend(
    found: Mapping[str, float], pattern: ElementMap, names: Sequence[str], tolerances: Tolerances
) -> bool:
    """A deposit of two profiles (ionic clay: heavy and light) also yields blends of them
    (a Ganzhou plant separates Longnan and Xunwu feed together). The blend's share of the
    second profile is read from the lot's Y share; the lot fits when its pattern lies within
    origin_distance of that blend's and its Dy/Nd and Tb/Nd are at most BLEND_RATIO_SLACK
    times the blend's. A Dy spike moves no Y: it is judged against the profile it is in."""
    if len(names) != 2 or not pattern:
        return False
    first, second = (DEPOSIT_PROFILES[name] for name in names)
    y_share = found.get("Y", 0.0)  # of the REY listed
    t = min(max((y_share - first["Y"]) / (second["Y"] - first["Y"]), 0.0), 1.0)
    blend = {k: (1 - t) * first[k] + t * second[k] for k in first}
    if distance(pattern, blend) > tolerances.origin_distance:
        return False
    return all(
        found.get(name, 0.0) <= BLEND_RATIO_SLACK * blend[element] / blend["Nd"]
        for name, element in _OVER_ND
    )


def ratios(composition: ElementMap, shares: ElementMap | None = None) -> dict[str, float]:
    """Dy/Nd and Tb/Nd, the Y share and the heavy (Gd..Lu, Y) share of REY.

    An element the composition does not list is not measured: a ratio over an unlisted Nd
    is read at its least, over the most Nd the lot can hold (its unlisted remainder); a
    ratio whose numerator is unlisted is left out. Shares are of the REY listed. `shares`
    is ree_distribution(composition), if the caller has it already."""
    found: dict[str, float] = {}
    nd = composition.get("Nd")
    most_nd = unlisted_ppm(composition) if nd is None else nd
    for name, element in _OVER_ND:
        if element in composition:
            held = composition[element]
            # At least 1 ppm of Nd below the ratio: evidence stays finite (JSON), and a lot
            # with Dy and no room for Nd reads as off any bound.
            found[name] = held / max(most_nd, 1.0)
    if shares is None:
        shares = ree_distribution(composition)
    # No shares: no REY (ppm are never negative). An unlisted Y, or Y at 0, is a 0 share.
    if shares:
        found["Y"] = shares.get("Y", 0.0)
        found["heavy"] = heavy_of(shares)
    return found


def ratio_off(
    found: Mapping[str, float], bounds: Mapping[str, tuple[float, float]]
) -> tuple[str, float, tuple[float, float]] | None:
    """The first of the ratios `found` (ratios() of a composition) outside `bounds`:
    (name, value, bounds), or None."""
    for name, (low, high) in sorted(bounds.items()):
        value = found.get(name)
        if value is not None and not low <= value <= high:
            return name, value, (low, high)
    return None


def ratio_flag(
    lot: str,
    composition: ElementMap,
    deposit: str,
    profile: str,
    off: tuple[str, float, tuple[float, float]],
    tolerances: Tolerances,
    subject: str | None = None,
) -> Flag:
    name, value, (low, high) = off
    message = (
        f"{_ratio_words(name)} of {subject or lot} is {value:.4g}, outside "
        f"{low:.4g}–{high:.4g} for the {profile} profile of its declared deposit {deposit}"
    )
    evidence = {
        "deposit": deposit,
        "profile": profile,
        "ratio": name,
        "value": value,
        "bounds": [low, high],
        "ratios": ratios(composition),
        "pattern": rounded(fingerprint(composition)),
    }
    return make_flag(ORIGIN_MISMATCH, lot, message, evidence, tolerances)


def _ratio_words(name: str) -> str:
    return {"Y": "Y share of REY", "heavy": "heavy (Gd–Lu, Y) share of REY"}.get(name, name)


def rounded(pattern: Mapping[str, float]) -> dict[str, float]:
    return {name: round(share, 5) for name, share in pattern.items()}
