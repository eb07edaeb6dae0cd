"""ORIGIN_MISMATCH: a lot's REE pattern against its declared deposit and against its ore."""

from collections.abc import Mapping, Sequence

from ledger.lots.composition import (
    DEPOSIT_PROFILE_NAMES,
    DEPOSIT_PROFILES,
    ElementMap,
    ce_anomaly,
    closest_profile,
    distance,
    eu_anomaly,
    fingerprint,
    heavy_share,
    mix,
    rey_ppm,
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
        pattern = fingerprint(out.composition_ppm)
        if feed_has_pattern:
            if feed_pattern is None:
                feed_pattern = fingerprint(feed)
            flag = _pattern_flag(out, pattern, feed_pattern, tolerances)
            if flag is not None:
                flags.append(flag)
                continue
        if deposit is not None:
            flag = _deposit_flag(out.id, out.composition_ppm, deposit, tolerances, pattern)
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
    pattern: ElementMap | None = None,
) -> Flag | None:
    names = DEPOSIT_PROFILE_NAMES.get(deposit, ())
    if not _has_pattern(composition, tolerances):
        return None
    best = closest_profile(composition, names, pattern)
    # `other` has no reference profile: nothing to compare, nothing to flag.
    if best is None or best[1] <= tolerances.origin_distance:
        return None
    profile, gap = best
    nearest = closest_profile(composition, DEPOSIT_PROFILES, pattern)
    near_text = "" if nearest is None else f"; nearest profile {nearest[0]} at {nearest[1]:.3f}"
    message = (
        f"REE pattern of {lot} is {gap:.3f} from the {profile} profile of its declared "
        f"deposit {deposit}, tolerance {tolerances.origin_distance:.3f} (total variation "
        f"distance){near_text}"
    )
    return make_flag(
        ORIGIN_MISMATCH, lot, message, _evidence(composition, deposit, best, tolerances), tolerances
    )


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
