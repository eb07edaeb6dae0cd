"""ORIGIN_MISMATCH: extracted lots against their deposit, concentrates against their ore."""

import pytest

from ledger.lots.composition import DEPOSIT_PROFILES, closest_profile, distance, fingerprint
from ledger.lots.rules import check_event
from tests.unit.test_rules_builders import (
    TOL,
    blend_shares,
    codes,
    extract,
    lot,
    only,
    output,
    pattern,
    reader,
    transform,
)

BAST = DEPOSIT_PROFILES["bastnaesite"]
HEAVY_CLAY = DEPOSIT_PROFILES["ionic_clay_heavy"]
LIGHT_CLAY = DEPOSIT_PROFILES["ionic_clay_light"]


def _toward_heavy_clay(gap: float) -> dict[str, float]:
    """Bastnaesite shares moved `gap` (total variation) toward the heavy clay profile."""
    return blend_shares(BAST, HEAVY_CLAY, gap / distance(BAST, HEAVY_CLAY))


@pytest.mark.parametrize(("gap", "flagged"), [(0.149, False), (0.151, True)])
def test_extract_pattern_vs_declared_deposit(gap: float, flagged: bool) -> None:
    ore = pattern(_toward_heavy_clay(gap), 60_000)
    found = closest_profile(ore, ["bastnaesite"])
    assert found is not None and (found[1] > TOL.origin_distance) is flagged
    assert codes(check_event(extract("ORE", ore, "bastnaesite"), reader(), TOL)) == (
        ["ORIGIN_MISMATCH"] if flagged else []
    )


def test_heavy_clay_sold_as_bastnaesite_names_the_distance_and_the_nearest_profile() -> None:
    ore = pattern(HEAVY_CLAY, 800, rest="Si")
    flag = only(check_event(extract("CLAY", ore, "bastnaesite"), reader(), TOL), "ORIGIN_MISMATCH")
    assert flag.message.startswith("REE pattern of CLAY is 0.89")
    assert "from the bastnaesite profile of its declared deposit bastnaesite, tolerance 0.150" in (
        flag.message
    )
    assert "; nearest profile ionic_clay_heavy at 0.00" in flag.message
    assert flag.evidence["nearest_profile"] == "ionic_clay_heavy" and flag.severity == "high"


@pytest.mark.parametrize("profile", [HEAVY_CLAY, LIGHT_CLAY])
def test_ionic_clay_matches_either_clay_type(profile: dict[str, float]) -> None:
    ore = pattern(profile, 800, rest="Si")
    assert check_event(extract("CLAY", ore, "ionic_clay"), reader(), TOL) == []
    assert codes(check_event(extract("CLAY", ore, "monazite"), reader(), TOL)) == [
        "ORIGIN_MISMATCH"
    ]


def test_other_deposit_is_not_checked() -> None:
    ore = pattern(HEAVY_CLAY, 5_000, rest="Si")
    assert check_event(extract("X", ore, "other"), reader(), TOL) == []


@pytest.mark.parametrize(("rey_ppm", "flagged"), [(99, False), (100, True)])
def test_too_little_rey_has_no_pattern(rey_ppm: int, flagged: bool) -> None:
    ore = {"Dy": 8, "Gd": 6, "Er": 13, "Nd": 4, "La": 2, "Sm": 3, "Tb": 1, "Ce": 1, "Pr": 1}
    ore["Y"] = rey_ppm - sum(ore.values())  # a heavy clay pattern, Y 60 %
    assert bool(check_event(extract("X", ore, "bastnaesite"), reader(), TOL)) is flagged


def test_separated_products_are_not_checked_at_extraction() -> None:
    oxide = pattern(HEAVY_CLAY, 850_000, rest="O")
    assert check_event(extract("X", oxide, "bastnaesite", product="oxide"), reader(), TOL) == []


def _beneficiate(concentrate: dict[str, int], deposit: str | None = "bastnaesite") -> list[str]:
    ore = pattern(BAST, 60_000, rest="Ca")
    state = reader(lot("ORE", 1_000_000, ore, deposit=deposit))
    made = [output("CONC", "concentrate", 100_000, concentrate)]
    return codes(check_event(transform("beneficiation", {"ORE": 1_000_000}, made), state, TOL))


@pytest.mark.parametrize(("gap", "flagged"), [(0.099, False), (0.101, True)])
def test_concentrate_pattern_vs_its_ore(gap: float, flagged: bool) -> None:
    shares = blend_shares(BAST, LIGHT_CLAY, gap / distance(BAST, LIGHT_CLAY))
    concentrate = pattern(shares, 480_000)
    assert (distance(fingerprint(concentrate), BAST) > TOL.pattern_distance) is flagged
    assert ("ORIGIN_MISMATCH" in _beneficiate(concentrate)) is flagged


def test_concentrate_of_one_deposit_must_fit_that_deposit() -> None:
    # Off the ore's own pattern by < 0.10 but off the deposit profile by > 0.15.
    ore = pattern(_toward_heavy_clay(0.09), 60_000, rest="Ca")
    state = reader(lot("ORE", 1_000_000, ore, deposit="bastnaesite"))
    concentrate = pattern(_toward_heavy_clay(0.17), 480_000)
    made = [output("CONC", "concentrate", 100_000, concentrate)]
    event = transform("beneficiation", {"ORE": 1_000_000}, made)
    flag = only(check_event(event, state, TOL), "ORIGIN_MISMATCH")
    assert "bastnaesite profile" in flag.message and flag.lot == "CONC"
    # Inputs of mixed or unknown deposits: only the ore comparison applies.
    state = reader(lot("ORE", 1_000_000, ore, deposit=None))
    assert "ORIGIN_MISMATCH" not in codes(check_event(event, state, TOL))


def test_honest_concentrate_raises_nothing() -> None:
    assert _beneficiate(pattern(BAST, 480_000)) == []
