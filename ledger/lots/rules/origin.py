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
    event: LotTransform, inputs: Sequence[tuple[LotState, int]], tolerances: Tolerances
) -> list[Flag]:
    """Each concentrate or compound made by beneficiation or cracking must fit its inputs'
    pattern, and, when the inputs come from one deposit, that deposit's profile."""
    if event.process not in PATTERN_PROCESSES:
        return []
    feed = mix((float(mass_g), lot.composition_ppm) for lot, mass_g in inputs)
    deposits = {lot.deposit for lot, _ in inputs}
    deposit = deposits.pop() if len(deposits) == 1 else None
    flags = []
    for out in event.outputs:
        flag = _output_flag(out, feed, deposit, tolerances)
        if flag is not None:
            flags.append(flag)
    return flags


def _output_flag(
    out: NewLot, feed: ElementMap, deposit: str | None, tolerances: Tolerances
) -> Flag | None:
    if out.product not in PATTERN_PRODUCTS or not _has_pattern(out.composition_ppm, tolerances):
        return None
    if _has_pattern(feed, tolerances):
        gap = distance(fingerprint(out.composition_ppm), fingerprint(feed))
        if gap > tolerances.pattern_distance:
            message = (
                f"REE pattern of {out.id} is {gap:.3f} from its inputs' pattern, tolerance "
                f"{tolerances.pattern_distance:.3f} (total variation distance)"
            )
            evidence = {
                "distance": gap,
                "threshold": tolerances.pattern_distance,
                "pattern": _rounded(fingerprint(out.composition_ppm)),
                "input_pattern": _rounded(fingerprint(feed)),
            }
            return make_flag(ORIGIN_MISMATCH, out.id, message, evidence, tolerances)
    if deposit is None:
        return None
    return _deposit_flag(out.id, out.composition_ppm, deposit, tolerances)


def _deposit_flag(
    lot: str, composition: ElementMap, deposit: str, tolerances: Tolerances
) -> Flag | None:
    names = DEPOSIT_PROFILE_NAMES.get(deposit, ())
    if not _has_pattern(composition, tolerances):
        return None
    best = closest_profile(composition, names)
    # `other` has no reference profile: nothing to compare, nothing to flag.
    if best is None or best[1] <= tolerances.origin_distance:
        return None
    profile, gap = best
    nearest = closest_profile(composition, DEPOSIT_PROFILES)
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
