"""ORIGIN_MISMATCH: a lot's REE pattern against its declared deposit and against its ore."""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from ledger.lots.composition import (
    DEPOSIT_PROFILE_NAMES,
    DEPOSIT_PROFILES,
    REY,
    ElementMap,
    ce_anomaly,
    closest_profile,
    distance,
    eu_anomaly,
    fingerprint,
    fingerprint_of,
    heavy_of,
    heavy_share,
    mix,
    ree_distribution,
    rey_ppm,
    unlisted_ppm,
)
from ledger.lots.events import LotExtract, LotTransform, NewLot
from ledger.lots.records import LotState
from ledger.lots.rules.flags import ORIGIN_MISMATCH, Flag, make_flag
from ledger.lots.tolerances import Tolerances

# Products that still carry their deposit's pattern; separation destroys it.
PATTERN_PRODUCTS = frozenset({"ore", "concentrate", "mixed_compound"})
# Transforms whose outputs are compared with their inputs' pattern. Split and blend are
# held to the stricter MIX_INCONSISTENT, element by element.
PATTERN_PROCESSES = frozenset({"beneficiation", "cracking"})
# (ratio, numerator) for the ratios of Tolerances.deposit_ratios over Nd.
_OVER_ND = (("Dy/Nd", "Dy"), ("Tb/Nd", "Tb"))
# A deposit's Dy/Nd and Tb/Nd stay within about twice its profile's (DOMAIN §3: light clay
# 0.03-0.12 around 0.073; the light-clay bounds of deposit_ratios are 2.07 and 1.86 times it).
BLEND_RATIO_SLACK = 2.0


class _Reading(NamedTuple):
    """A composition's REY as these rules read it, each part made once: its distribution
    (composition.ree_distribution) and the fingerprint binned from it."""

    shares: dict[str, float]
    pattern: dict[str, float]


def _read(composition: ElementMap) -> _Reading:
    shares = ree_distribution(composition)
    return _Reading(shares, fingerprint_of(shares))


def check_extract(event: LotExtract, tolerances: Tolerances) -> list[Flag]:
    """An extracted ore or concentrate must fit a reference profile of its declared deposit."""
    lot = event.lot
    if lot.product not in PATTERN_PRODUCTS:
        return []
    flag = _deposit_flag(lot.id, lot.composition_ppm, event.deposit, tolerances)
    return [] if flag is None else [flag]


def check_transform(
    event: LotTransform,
    inputs: Sequence[tuple[LotState, int]],
    tolerances: Tolerances,
    feed: ElementMap | None = None,
) -> list[Flag]:
    """Each concentrate or compound made by beneficiation or cracking must fit its inputs'
    pattern, and, when the inputs come from one deposit, that deposit's profile. `feed` is
    the inputs' mass-weighted mixture, if the caller has it already."""
    if event.process == "separation":
        return _separation_flags(event, inputs, tolerances)
    if event.process in ("split", "blend"):
        return _unmeasured_flags(event, inputs, tolerances)
    if event.process not in PATTERN_PROCESSES:
        return []
    if feed is None:
        feed = mix((float(mass_g), lot.composition_ppm) for lot, mass_g in inputs)
    deposits = {lot.deposit for lot, _ in inputs}
    deposit = deposits.pop() if len(deposits) == 1 else None
    flags = []
    # The feed's pattern, the same for every output: made once, when an output needs it.
    feed_pattern: dict[str, float] | None = None
    feed_has_pattern = _has_pattern(feed, tolerances)
    for out in event.outputs:
        if out.product not in PATTERN_PRODUCTS or not _has_pattern(out.composition_ppm, tolerances):
            continue
        reading = _read(out.composition_ppm)
        if feed_has_pattern:
            if feed_pattern is None:
                feed_pattern = fingerprint(feed)
            flag = _pattern_flag(out, reading.pattern, feed_pattern, tolerances)
            if flag is not None:
                flags.append(flag)
                continue
        if deposit is not None:
            flag = _deposit_flag(out.id, out.composition_ppm, deposit, tolerances, reading)
            if flag is not None:
                flags.append(flag)
    return flags


def _pattern_flag(
    out: NewLot, pattern: ElementMap, feed_pattern: ElementMap, tolerances: Tolerances
) -> Flag | None:
    """The output's pattern too far from its inputs' pattern."""
    gap = distance(pattern, feed_pattern)
    if gap <= tolerances.pattern_distance:
        return None
    message = (
        f"REE pattern of {out.id} is {gap:.3f} from its inputs' pattern, tolerance "
        f"{tolerances.pattern_distance:.3f} (total variation distance)"
    )
    evidence = {
        "distance": gap,
        "threshold": tolerances.pattern_distance,
        "pattern": _rounded(pattern),
        "input_pattern": _rounded(feed_pattern),
    }
    return make_flag(ORIGIN_MISMATCH, out.id, message, evidence, tolerances)


def _deposit_flag(
    lot: str,
    composition: ElementMap,
    deposit: str,
    tolerances: Tolerances,
    reading: _Reading | None = None,
) -> Flag | None:
    """The lot's pattern must lie within origin_distance of a profile of its deposit, and
    its ratios (Dy/Nd, Tb/Nd, Y and heavy shares) within that same profile's bounds.
    `reading` is _read(composition), if the caller has it already."""
    names = DEPOSIT_PROFILE_NAMES.get(deposit, ())
    if not names or not _has_pattern(composition, tolerances):
        return None
    shares, pattern = _read(composition) if reading is None else reading
    if not pattern:  # no REY (a pattern_min_rey_ppm of 0): no profile is nearest
        return None
    held = ratios(composition, shares)
    judged = []
    for name in names:
        gap = distance(pattern, DEPOSIT_PROFILES[name])
        off = ratio_off(held, tolerances.deposit_ratios.get(name, {}))
        if gap <= tolerances.origin_distance and off is None:
            return None
        judged.append((gap, name, off))
    if _fits_blend(held, pattern, names, tolerances):
        return None
    gap, profile, off = min(judged, key=lambda item: item[0])
    if gap <= tolerances.origin_distance and off is not None:
        return _ratio_flag(lot, composition, deposit, profile, off, tolerances)
    nearest = closest_profile(composition, DEPOSIT_PROFILES, pattern)
    near_text = "" if nearest is None else f"; nearest profile {nearest[0]} at {nearest[1]:.3f}"
    message = (
        f"REE pattern of {lot} is {gap:.3f} from the {profile} profile of its declared "
        f"deposit {deposit}, tolerance {tolerances.origin_distance:.3f} (total variation "
        f"distance){near_text}"
    )
    evidence = _evidence(composition, deposit, (profile, gap), tolerances)
    return make_flag(ORIGIN_MISMATCH, lot, message, evidence, tolerances)


def _fits_blend(
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


def _ratio_flag(
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
        "pattern": _rounded(fingerprint(composition)),
    }
    return make_flag(ORIGIN_MISMATCH, lot, message, evidence, tolerances)


def _ratio_words(name: str) -> str:
    return {"Y": "Y share of REY", "heavy": "heavy (Gd–Lu, Y) share of REY"}.get(name, name)


def _unmeasured_flags(
    event: LotTransform, inputs: Sequence[tuple[LotState, int]], tolerances: Tolerances
) -> list[Flag]:
    """A split or blend output that reports a rare earth some input did not list (not
    measured, which MIX_INCONSISTENT lets it have up to the inputs' remainder) must still
    fit the inputs' one deposit: a mixture adds nothing a deposit lacks."""
    deposits = {lot.deposit for lot, _ in inputs}
    deposit = deposits.pop() if len(deposits) == 1 else None
    if deposit is None:
        return []
    flags = []
    for out in event.outputs:
        if out.product not in PATTERN_PRODUCTS:
            continue
        new = {e for e in out.composition_ppm if e in REY}
        if all(new <= lot.composition_ppm.keys() for lot, _ in inputs):
            continue
        flag = _deposit_flag(out.id, out.composition_ppm, deposit, tolerances)
        if flag is not None:
            flags.append(flag)
    return flags


def _separation_flags(
    event: LotTransform, inputs: Sequence[tuple[LotState, int]], tolerances: Tolerances
) -> list[Flag]:
    """Separation cuts the pattern among its outputs, but all outputs together still carry
    it: their summed REY must keep the ratios of the feed's one deposit."""
    deposits = {lot.deposit for lot, _ in inputs}
    deposit = deposits.pop() if len(deposits) == 1 else None
    names = DEPOSIT_PROFILE_NAMES.get(deposit or "", ())
    if not names:
        return []
    whole = max(sum(out.mass_g for out in event.outputs), 1)
    total: dict[str, float] = {}
    for out in event.outputs:
        for element, value in out.composition_ppm.items():
            total[element] = total.get(element, 0.0) + out.mass_g * value / whole
    if not _has_pattern(total, tolerances):
        return []
    shares = ree_distribution(total)
    held = ratios(total, shares)
    offs = [ratio_off(held, tolerances.deposit_ratios.get(name, {})) for name in names]
    off = offs[0]
    if off is None or any(item is None for item in offs):
        return []
    if _fits_blend(held, fingerprint_of(shares), names, tolerances):
        return []
    element = {"Dy/Nd": "Dy", "Tb/Nd": "Tb"}.get(off[0], "Y")
    lot = max(event.outputs, key=lambda out: out.mass_g * out.composition_ppm.get(element, 0))
    subject = f"the separation's outputs together (most {element} in {lot.id})"
    return [_ratio_flag(lot.id, total, deposit or "", names[0], off, tolerances, subject)]


def _evidence(
    composition: ElementMap, deposit: str, best: tuple[str, float], tolerances: Tolerances
) -> dict[str, object]:
    nearest = closest_profile(composition, DEPOSIT_PROFILES)
    evidence: dict[str, object] = {
        "deposit": deposit,
        "profile": best[0],
        "distance": best[1],
        "threshold": tolerances.origin_distance,
        "pattern": _rounded(fingerprint(composition)),
        "heavy_share": heavy_share(composition),
    }
    if nearest is not None:
        evidence["nearest_profile"], evidence["nearest_distance"] = nearest
    for name, value in (
        ("ce_anomaly", ce_anomaly(composition)),
        ("eu_anomaly", eu_anomaly(composition)),
    ):
        if value is not None:
            evidence[name] = value
    return evidence


def _has_pattern(composition: ElementMap, tolerances: Tolerances) -> bool:
    return rey_ppm(composition) >= tolerances.pattern_min_rey_ppm


def _rounded(pattern: Mapping[str, float]) -> dict[str, float]:
    return {name: round(share, 5) for name, share in pattern.items()}
