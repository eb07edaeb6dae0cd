"""The defaults against noise: honest data with assay noise and real yields flags ≤ 1 %.

Assay noise is drawn Gaussian with σ = 2 % relative per element and measurement, wider than
the scenarios' ±1.5 %; recoveries are drawn over DOMAIN §2's typical ranges; origin patterns
over DOMAIN §3's ranges. Seeded, so the counts are reproducible.
"""

import random
from collections.abc import Mapping

import pytest

from ledger.lots.composition import FINGERPRINT_BINS, OXIDE_METAL_FRACTION
from ledger.lots.rules import check_event
from tests.unit.test_rules_builders import (
    NDFEB,
    TOL,
    assay,
    extract,
    lot,
    output,
    reader,
    rule_codes,
    transform,
)

SIGMA = 0.02
DRAWS = 400
ALLOWED = DRAWS // 100  # 1 %
TYPICAL = {
    "beneficiation": (0.75, 0.90),
    "cracking": (0.92, 0.97),
    "separation": (0.95, 0.99),
    "reduction": (0.95, 0.99),
    "alloying": (0.97, 0.995),
    "milling": (0.97, 0.995),
    "sintering": (0.97, 0.99),
    "machining": (0.60, 0.85),
    "split": (1.0, 1.0),
    "blend": (1.0, 1.0),
}
FEED = {
    "La": 150_000, "Ce": 240_000, "Pr": 22_000, "Nd": 75_000, "Sm": 5_000, "Gd": 2_000,
    "Dy": 300, "Y": 900, "Fe": 50_000, "Ca": 60_000,
}  # fmt: skip
# DOMAIN §3 ranges (% of TREO, oxide basis); "<x" read as (0, x).
RANGES = {
    "bastnaesite": [(23, 33), (47, 50), (4, 5), (12, 18), (0.8, 1.2), (0.1, 0.2), (0.2, 0.7),
                    (0, 0.1), (0, 0.1), (0.1, 0.3), (0, 0.3)],
    "monazite": [(20, 23), (45, 49), (5, 6), (17, 19), (2.5, 3), (0.05, 0.2), (1, 2),
                 (0.1, 0.2), (0.3, 0.8), (1, 2.5), (0, 1)],
    "ionic_clay_heavy": [(1.5, 3), (0.5, 2), (0.5, 1.5), (3, 4), (2, 3), (0, 0.2), (5, 7),
                         (1, 1.5), (6, 8), (60, 66), (10, 15)],
    "ionic_clay_light": [(28, 38), (2, 8), (6, 8), (25, 31), (4, 6), (0.5, 1), (3, 5),
                         (0.3, 0.6), (1, 3), (8, 12), (1, 3)],
}  # fmt: skip


def noisy(rng: random.Random, composition: Mapping[str, int]) -> dict[str, int]:
    """One measurement of `composition`; a reading over 100 % is closed to 100 %, as labs do."""
    read = {e: max(0.0, v * rng.gauss(1, SIGMA)) for e, v in composition.items()}
    scale = min(1.0, 999_999 / sum(read.values()))
    return {e: int(v * scale) for e, v in read.items()}


def honest_transform_flags(rng: random.Random, process: str) -> int:
    feed = noisy(rng, FEED)  # the record of the input is one measurement
    state = reader(lot("IN", 1_000_000, feed, "concentrate", deposit="bastnaesite"))
    recovery = rng.uniform(*TYPICAL[process])
    made = output("OUT", "concentrate", round(1_000_000 * recovery), noisy(rng, FEED))
    event = transform(process, {"IN": 1_000_000}, [made])
    return len(rule_codes(check_event(event, state, TOL)))


@pytest.mark.parametrize("process", sorted(TYPICAL))
def test_honest_transforms_rarely_flag(process: str) -> None:
    rng = random.Random(f"transform-{process}")
    flagged = sum(1 for _ in range(DRAWS) if honest_transform_flags(rng, process))
    assert flagged <= ALLOWED


def test_honest_assays_rarely_flag() -> None:
    rng = random.Random("assay")
    flagged = 0
    for _ in range(DRAWS):
        state = reader(lot("MAG", 1_000_000, noisy(rng, NDFEB), "magnet"))
        flagged += bool(check_event(assay("MAG", noisy(rng, NDFEB)), state, TOL))
    assert flagged <= ALLOWED


def drawn_ore(rng: random.Random, profile: str) -> dict[str, int]:
    oxide = [rng.uniform(lo, hi) for lo, hi in RANGES[profile]]
    fractions = [OXIDE_METAL_FRACTION.get(name, 0.875) for name in FINGERPRINT_BINS]
    grams = [pct * fraction for pct, fraction in zip(oxide, fractions, strict=True)]
    rey = 800 if profile.startswith("ionic_clay") else 60_000
    names = ["Er" if name == "HREE" else name for name in FINGERPRINT_BINS]
    return {e: round(g / sum(grams) * rey) for e, g in zip(names, grams, strict=True)}


@pytest.mark.parametrize("profile", sorted(RANGES))
def test_honest_ores_fit_their_deposit(profile: str) -> None:
    rng = random.Random(f"origin-{profile}")
    deposit = profile.removesuffix("_heavy").removesuffix("_light")
    flagged = 0
    for _ in range(DRAWS):
        ore = noisy(rng, drawn_ore(rng, profile))
        flagged += bool(check_event(extract("ORE", ore, deposit), reader(), TOL))
    assert flagged <= ALLOWED


def test_phantom_dy_of_ten_percent_is_caught_through_the_noise() -> None:
    rng = random.Random("phantom")
    caught = 0
    for _ in range(DRAWS):
        state = reader(lot("IN", 1_000_000, noisy(rng, NDFEB), "alloy"))
        laundered = noisy(rng, {**NDFEB, "Dy": round(NDFEB["Dy"] * 1.2)})
        made = output("OUT", "magnet_powder", 990_000, laundered)
        flags = check_event(transform("milling", {"IN": 1_000_000}, [made]), state, TOL)
        caught += any(flag.code == "OUTPUT_EXCEEDS_INPUT" for flag in flags)
    assert caught >= DRAWS * 0.95
