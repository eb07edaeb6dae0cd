"""ORIGIN_MISMATCH: extracted lots against their deposit, concentrates against their ore."""

import json

import pytest

from ledger.lots.composition import DEPOSIT_PROFILES, closest_profile, distance, fingerprint
from ledger.lots.rules import check_event
from ledger.lots.rules.ratios import ratios
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


def _la_to_ce(gap: float) -> dict[str, float]:
    """Bastnaesite shares with `gap` of REY moved from La to Ce: a distance of `gap` that no
    ratio of the light-deposit bounds sees."""
    return {**BAST, "La": BAST["La"] - gap, "Ce": BAST["Ce"] + gap}


@pytest.mark.parametrize(("gap", "flagged"), [(0.149, False), (0.151, True)])
def test_extract_pattern_vs_declared_deposit(gap: float, flagged: bool) -> None:
    ore = pattern(_la_to_ce(gap), 60_000)
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
    # Not for their pattern; an oxide out of the ground is PROCESS_INCONSISTENT instead.
    oxide = pattern(HEAVY_CLAY, 850_000, rest="O")
    found = codes(check_event(extract("X", oxide, "bastnaesite", product="oxide"), reader(), TOL))
    assert found == ["PROCESS_INCONSISTENT"]


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


# Origin by ratios (DESIGN §9.2): a small heavy spike in a light deposit.


def _spiked(element: str, share: float, base: dict[str, float] = BAST) -> dict[str, float]:
    """`base` with `element` making `share` of the REY (the rest scaled down)."""
    name = "HREE" if element == "Er" else element
    shares = {k: v * (1 - share) for k, v in base.items()}
    shares[name] += share
    return shares


@pytest.mark.parametrize(
    ("element", "share"), [("Dy", 0.11), ("Dy", 0.025), ("Dy", 0.009), ("Tb", 0.004), ("Y", 0.05)]
)
def test_a_heavy_spike_in_bastnaesite_is_caught(element: str, share: float) -> None:
    ore = pattern(_spiked(element, share), 70_000, rest="Ca")
    assert distance(fingerprint(ore), BAST) < TOL.origin_distance  # the distance is blind
    flag = only(check_event(extract("ORE", ore, "bastnaesite"), reader(), TOL), "ORIGIN_MISMATCH")
    assert flag.severity == "high" and "of its declared deposit bastnaesite" in flag.message


def test_the_ratio_flag_states_the_ratio_and_its_bounds() -> None:
    ore = pattern(_spiked("Dy", 0.03), 70_000, rest="Ca")
    flag = only(check_event(extract("ORE", ore, "monazite"), reader(), TOL), "ORIGIN_MISMATCH")
    assert flag.message.startswith("Dy/Nd of ORE is 0.19")
    assert flag.message.endswith(
        "outside 0–0.055 for the monazite profile of its declared deposit monazite"
    )
    assert flag.evidence["ratio"] == "Dy/Nd" and flag.evidence["bounds"] == [0.0, 0.055]


@pytest.mark.parametrize("weight", [0.2, 0.5, 0.8])
def test_bayan_obo_bastnaesite_with_monazite_passes(weight: float) -> None:
    ore = pattern(blend_shares(BAST, DEPOSIT_PROFILES["monazite"], weight), 60_000, rest="Ca")
    assert check_event(extract("ORE", ore, "bastnaesite"), reader(), TOL) == []
    assert check_event(extract("ORE", ore, "monazite"), reader(), TOL) == []


def test_a_concentrate_blend_across_deposits_is_not_judged_by_one_deposit() -> None:
    # Bastnaesite and light clay concentrate blended (deposit None): Dy/Nd 0.06.
    mixed = pattern(blend_shares(BAST, LIGHT_CLAY, 0.5), 480_000, rest="Ca")
    state = reader(lot("C", 1_000_000, mixed, "concentrate", deposit=None))
    made = output(
        "MX",
        "mixed_compound",
        1_100_000,
        pattern(blend_shares(BAST, LIGHT_CLAY, 0.5), 420_000, rest="O"),
    )
    assert check_event(transform("cracking", {"C": 1_000_000}, [made]), state, TOL) == []


def test_dy_from_a_bastnaesite_feed_it_never_listed_is_caught_at_separation() -> None:
    # The carbonate lists its light rare earths only (40 %, the rest unlisted): its Dy is
    # "not measured", and a Dy oxide cut out of it fits the element balance. The outputs
    # together carry Dy/Nd 0.5: no bastnaesite did.
    feed = {"La": 120_000, "Ce": 200_000, "Pr": 18_000, "Nd": 62_000}
    state = reader(lot("MREC", 10_000_000, feed, "mixed_compound", deposit="bastnaesite"))
    cuts = {"La": 1_140_000, "Ce": 1_900_000, "Pr": 171_000, "Nd": 589_000, "Dy": 300_000}
    outputs = [
        output(f"OX-{e}", "oxide", round(g / 0.86), {e: 860_000, "O": 140_000})
        for e, g in cuts.items()
    ]
    flags = check_event(transform("separation", {"MREC": 10_000_000}, outputs), state, TOL)
    flag = only(flags, "ORIGIN_MISMATCH")
    assert flag.lot == "OX-Dy" and flag.message.startswith(
        "Dy/Nd of the separation's outputs together"
    )


def test_an_honest_bastnaesite_separation_raises_nothing() -> None:
    feed = pattern(BAST, 400_000, rest="O")
    state = reader(lot("MREC", 10_000_000, feed, "mixed_compound", deposit="bastnaesite"))
    outputs = [
        output(
            f"OX-{e}",
            "oxide",
            round(10_000_000 * ppm / 1e6 * 0.98 / 0.86),
            {e: 860_000, "O": 140_000},
        )
        for e, ppm in feed.items()
        if e != "O"
    ]
    assert check_event(transform("separation", {"MREC": 10_000_000}, outputs), state, TOL) == []


def _split_of_unmeasured(extra: dict[str, int]) -> list[str]:
    # The concentrate lists its light rare earths only: Dy and Tb are not measured.
    conc = {"La": 150_000, "Ce": 250_000, "Pr": 23_000, "Nd": 80_000, "Ca": 40_000}
    state = reader(lot("C", 500_000, conc, "concentrate", deposit="bastnaesite"))
    made = output("C-2", "concentrate", 500_000, {**conc, **extra})
    return codes(check_event(transform("split", {"C": 500_000}, [made]), state, TOL))


def test_a_split_writing_dy_its_input_did_not_measure_must_fit_the_deposit() -> None:
    # MIX_INCONSISTENT allows it (the input's unlisted 46 % could hold it); the deposit not.
    assert _split_of_unmeasured({"Dy": 25_000}) == ["ORIGIN_MISMATCH"]


def test_a_split_reporting_the_natural_tb_its_input_did_not_measure_raises_nothing() -> None:
    assert _split_of_unmeasured({"Tb": 240, "Dy": 260}) == []


def test_a_ratio_over_an_nd_with_no_room_stays_finite() -> None:
    # Nothing is left unlisted: Nd is 0 for sure, and Dy/Nd reads over 1 ppm, not infinity.
    found = ratios({"La": 20_000, "Ce": 35_000, "Dy": 3_000, "Ca": 942_000})
    assert found["Dy/Nd"] == 3_000 and "Tb/Nd" not in found
    json.dumps(found, allow_nan=False)  # evidence is stored as canonical JSON
    ore = {"La": 20_000, "Ce": 35_000, "Dy": 3_000, "Ca": 942_000}
    flag = only(check_event(extract("ORE", ore, "bastnaesite"), reader(), TOL), "ORIGIN_MISMATCH")
    json.dumps(flag.evidence, allow_nan=False)
