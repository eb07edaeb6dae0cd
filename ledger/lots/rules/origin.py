"""ORIGIN_MISMATCH: a lot's REE pattern against its declared deposit and against its ore."""

from collections.abc import Sequence
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
    heavy_share,
    mix,
    ree_distribution,
    rey_ppm,
)
from ledger.lots.events import LotExtract, LotTransform, NewLot
from ledger.lots.records import LotState
from ledger.lots.rules.flags import ORIGIN_MISMATCH, Flag, make_flag
from ledger.lots.rules.ratios import fits_blend, ratio_flag, ratio_off, ratios, rounded
from ledger.lots.tolerances import Tolerances

# Products that still carry their deposit's pattern; separation destroys it.
PATTERN_PRODUCTS = frozenset({"ore", "concentrate", "mixed_compound"})
# Transforms whose outputs are compared with their inputs' pattern. Split and blend are
# held to the stricter MIX_INCONSISTENT, element by element.
PATTERN_PROCESSES = frozenset({"beneficiation", "cracking"})


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
        "pattern": rounded(pattern),
        "input_pattern": rounded(feed_pattern),
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
    if fits_blend(held, pattern, names, tolerances):
        return None
    gap, profile, off = min(judged, key=lambda item: item[0])
    if gap <= tolerances.origin_distance and off is not None:
        return ratio_flag(lot, composition, deposit, profile, off, tolerances)
    nearest = closest_profile(composition, DEPOSIT_PROFILES, pattern)
    near_text = "" if nearest is None else f"; nearest profile {nearest[0]} at {nearest[1]:.3f}"
    message = (
        f"REE pattern of {lot} is {gap:.3f} from the {profile} profile of its declared "
        f"deposit {deposit}, tolerance {tolerances.origin_distance:.3f} (total variation "
        f"distance){near_text}"
    )
    evidence = _evidence(composition, deposit, (profile, gap), tolerances)
    return make_flag(ORIGIN_MISMATCH, lot, message, evidence, tolerances)


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
    if fits_blend(held, fingerprint_of(shares), names, tolerances):
        return []
    element = {"Dy/Nd": "Dy", "Tb/Nd": "Tb"}.get(off[0], "Y")
    lot = max(event.outputs, key=lambda out: out.mass_g * out.composition_ppm.get(element, 0))
    subject = f"the separation's outputs together (most {element} in {lot.id})"
    return [ratio_flag(lot.id, total, deposit or "", names[0], off, tolerances, subject)]


def _evidence(
    composition: ElementMap, deposit: str, best: tuple[str, float], tolerances: Tolerances
) -> dict[str, object]:
    nearest = closest_profile(composition, DEPOSIT_PROFILES)
    evidence: dict[str, object] = {
        "deposit": deposit,
        "profile": best[0],
        "distance": best[1],
        "threshold": tolerances.origin_distance,
        "pattern": rounded(fingerprint(composition)),
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
