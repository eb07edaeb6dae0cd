"""PROCESS_INCONSISTENT: what each process takes and makes, and what each product holds."""

import pytest

from ledger.lots.rules import check_event
from tests.unit.test_rules_builders import (
    NDFEB,
    SMCO,
    TOL,
    codes,
    extract,
    lot,
    only,
    output,
    reader,
    transform,
)

DY_METAL = {"Dy": 993_000, "Fe": 4_000, "O": 3_000}
TB_METAL = {"Tb": 994_000, "O": 6_000}
CONC = {"La": 140_000, "Ce": 250_000, "Pr": 21_000, "Nd": 72_000, "Sm": 5_000, "Ca": 40_000}
MREC = {"La": 110_000, "Ce": 190_000, "Pr": 17_000, "Nd": 58_000, "O": 150_000, "C": 40_000}


def _one(process: str, taken: tuple[str, str, dict[str, int]], made: dict[str, object]) -> list:
    product, lot_id, composition = taken[0], taken[1], taken[2]
    mass = 37_000
    state = reader(lot(lot_id, mass, composition, product))
    return check_event(transform(process, {lot_id: mass}, [made]), state, TOL)


@pytest.mark.parametrize("relabel", ["ore", "concentrate"])
def test_dy_metal_split_into_one_ore_or_concentrate_is_caught(relabel: str) -> None:
    made = output("ORE-X", relabel, 37_000, DY_METAL)
    flags = _one("split", ("metal", "DY-M", DY_METAL), made)
    assert set(codes(flags)) == {"PROCESS_INCONSISTENT"}
    first = flags[0]
    assert first.lot == "ORE-X" and first.severity == "high"
    assert (
        first.message
        == f"split of metal made {relabel} (ORE-X): a split keeps the product of its inputs"
    )
    # The "ore" at 99 % Dy is no ore by its composition either: a second finding.
    assert len(flags) == 2 and "rare earths; " + relabel in flags[1].message


def test_metal_cracked_into_metal_is_caught_at_the_first_step() -> None:
    made = output("DY-M2", "metal", 36_500, {"Dy": 995_000, "O": 5_000})
    flag = only(_one("cracking", ("metal", "DY-M", DY_METAL), made), "PROCESS_INCONSISTENT")
    assert flag.message == (
        "cracking takes alloy or concentrate or magnet or magnet_powder, not metal; makes "
        "mixed_compound, not metal (DY-M2)"
    )


def test_one_gram_cracked_into_a_hundred_and_twenty_grams_of_tb_and_dy() -> None:
    state = reader(lot("C-1", 2, CONC, "concentrate"))
    made = output("MX", "mixed_compound", 120, {"Tb": 300_000, "Dy": 250_000, "O": 200_000})
    flags = check_event(transform("cracking", {"C-1": 2}, [made]), state, TOL)
    # The grammar holds (concentrate -> mixed compound); the masses do not: at most the 2 g
    # lot's unlisted 47 % of each, 0.94 g, against 36 g of Tb and 30 g of Dy.
    excess = [flag for flag in flags if flag.code == "OUTPUT_EXCEEDS_INPUT"]
    assert {flag.evidence["element"] for flag in excess} == {"Tb", "Dy"}
    assert all(flag.severity == "high" for flag in excess)


def test_an_ore_at_99_percent_dy_is_not_ore() -> None:
    flag = only(
        check_event(extract("ORE", DY_METAL, "other"), reader(), TOL), "PROCESS_INCONSISTENT"
    )
    assert flag.message == "ORE holds 99.3 % rare earths; ore holds 0.025 %–13 %"


def test_a_metal_does_not_come_out_of_the_ground() -> None:
    flags = check_event(extract("M", TB_METAL, "other", product="metal"), reader(), TOL)
    assert codes(flags) == ["PROCESS_INCONSISTENT"]


def test_a_blend_of_two_products_is_caught() -> None:
    state = reader(lot("A", 1_000, CONC, "concentrate"), lot("B", 1_000, MREC, "mixed_compound"))
    made = output("AB", "concentrate", 2_000, CONC)
    flags = check_event(transform("blend", {"A": 1_000, "B": 1_000}, [made]), state, TOL)
    assert "PROCESS_INCONSISTENT" in codes(flags)


@pytest.mark.parametrize(
    ("product", "composition"),
    [
        ("magnet", NDFEB),  # a trader or exporter repacks: any custodian may split
        ("magnet", SMCO),
        ("metal", DY_METAL),
        ("concentrate", CONC),
        ("mixed_compound", MREC),
    ],
)
def test_an_honest_split_keeps_its_product(product: str, composition: dict[str, int]) -> None:
    state = reader(lot("A", 10_000, composition, product))
    outputs = [output("B", product, 4_000, composition), output("C", product, 6_000, composition)]
    assert check_event(transform("split", {"A": 10_000}, outputs), state, TOL) == []


def test_machining_makes_magnets_of_magnets() -> None:
    state = reader(lot("MAG", 10_000, NDFEB, "magnet"))
    made = [output("FIN", "magnet", 8_000, NDFEB), output("SCRAP", "magnet", 2_000, NDFEB)]
    assert check_event(transform("machining", {"MAG": 10_000}, made), state, TOL) == []


@pytest.mark.parametrize(
    ("alloy", "family"),
    [
        (SMCO, "Sm2Co17"),
        ({"Sm": 348_000, "Co": 645_000, "Fe": 6_000}, "SmCo5"),
        ({"Dy": 800_000, "Fe": 198_000, "O": 2_000}, "DyFe"),
    ],
)
def test_alloys_of_every_family_fit(alloy: dict[str, int], family: str) -> None:
    metal = {"Sm": 999_000, "O": 1_000} if "Sm" in alloy else DY_METAL
    state = reader(lot("M", 1_000_000, metal, "metal"))
    rare_earth = alloy.get("Sm", alloy.get("Dy", 0))
    mass = round(0.98 * max(metal.values()) * 1_000_000 / rare_earth)  # 98 % recovered
    event = transform("alloying", {"M": 1_000_000}, [output("AL", "alloy", mass, alloy)])
    assert "PROCESS_INCONSISTENT" not in codes(check_event(event, state, TOL)), family


def test_a_dy_fe_alloy_is_no_magnet_powder() -> None:
    dyfe = {"Dy": 800_000, "Fe": 198_000, "O": 2_000}
    state = reader(lot("AL", 10_000, dyfe, "alloy"))
    made = output("POW", "magnet_powder", 9_900, dyfe)
    flag = only(
        check_event(transform("milling", {"AL": 10_000}, [made]), state, TOL),
        "PROCESS_INCONSISTENT",
    )
    assert "no magnet_powder family (NdFeB, SmCo) fits" in flag.message


def test_an_element_not_listed_may_fill_the_range() -> None:
    # A metal certificate that lists 60 % Nd and nothing else: the rest is not measured.
    state = reader(lot("OX", 1_000, {"Nd": 850_000}, "oxide"))
    made = output("M", "metal", 800, {"Nd": 600_000})
    flags = check_event(transform("reduction", {"OX": 1_000}, [made]), state, TOL)
    assert "PROCESS_INCONSISTENT" not in codes(flags)


def test_magnet_scrap_is_recycled_by_alloying_or_by_leaching() -> None:
    state = reader(lot("SCRAP", 10_000, NDFEB, "magnet"), lot("M", 100, DY_METAL, "metal"))
    # 10 kg of scrap remelted with 100 g of Dy metal into 10.1 kg of a higher-Dy alloy.
    alloy = {"Nd": 227_700, "Pr": 74_250, "Dy": 18_700, "Fe": 658_400, "B": 9_900, "Co": 9_900}
    made = output("AL", "alloy", 10_100, alloy)
    event = transform("alloying", {"SCRAP": 10_000, "M": 100}, [made])
    assert check_event(event, state, TOL) == []
    leached = {"Nd": 225_000, "Pr": 73_000, "Dy": 8_800, "O": 300_000, "C": 60_000}
    made = output("MX", "mixed_compound", 10_000, leached)
    event = transform("cracking", {"SCRAP": 10_000}, [made])
    assert check_event(event, state, TOL) == []


def test_a_plant_that_records_milling_with_sintering_makes_magnets_of_alloy() -> None:
    state = reader(lot("AL", 10_000, NDFEB, "alloy"))
    made = output("MAG", "magnet", 9_800, NDFEB)
    assert check_event(transform("sintering", {"AL": 10_000}, [made]), state, TOL) == []
