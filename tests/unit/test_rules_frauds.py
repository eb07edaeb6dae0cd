"""Each fraud pattern of DOMAIN §5 (1–5, 7–10) raises its flag, with DOMAIN's numbers."""

from msgspec.structs import replace

from ledger.lots.composition import DEPOSIT_PROFILES
from ledger.lots.rules import check_declaration, check_event
from tests.unit.test_rules_builders import (
    NDFEB,
    SMCO,
    TOL,
    assay,
    codes,
    declaration,
    extract,
    lot,
    only,
    output,
    pattern,
    reader,
    receive,
    ship,
    transform,
)

MAGNET = lot("MAG", 25_000_000, NDFEB, "magnet")
TB_MAGNET = lot("TB-MAG", 1_000_000, {**NDFEB, "Tb": 5_000, "Fe": 660_000}, "magnet")
LICENSED = {"licence": "MOFCOM-2026-0042"}


def _declared(lots: list, hs_code: str, description: str, **fields: object) -> list[str]:
    mass = sum(held.mass_g for held in lots)
    claim = declaration(
        [held.id for held in lots], mass, hs_code=hs_code, description=description, **fields
    )
    return codes(check_declaration(claim, lots, TOL))


# 1. Mislabel


def test_dy_ndfeb_declared_as_other_magnets() -> None:
    assert _declared([MAGNET], "850519", "other magnets", **LICENSED) == ["HS_CODE_MISMATCH"]


def test_ndfeb_powder_declared_as_tile_adhesive() -> None:
    powder = lot("POW", 25_000_000, NDFEB, "magnet_powder")
    found = _declared([powder], "321490", "tile adhesive", **LICENSED)
    assert found == ["HS_CODE_MISMATCH", "HS_CODE_MISMATCH"]  # the code, and the words


def test_dy_and_tb_metal_declared_as_nickel_powder() -> None:
    dy = lot("DY", 500_000, {"Dy": 995_000, "Fe": 3_000}, "metal")
    tb = lot("TB", 200_000, {"Tb": 995_000, "Fe": 3_000}, "metal")
    found = _declared([dy, tb], "750400", "nickel powder", **LICENSED)
    assert found == ["HS_CODE_MISMATCH", "HS_CODE_MISMATCH"]


def test_rare_earths_hidden_in_mannequins() -> None:
    found = _declared([MAGNET], "961800", "mannequins", **LICENSED)
    assert found == ["HS_CODE_MISMATCH", "HS_CODE_MISMATCH"]


def test_high_rare_earth_alloy_declared_as_ferroalloy() -> None:
    dyfe = lot("DYFE", 1_000_000, {"Dy": 800_000, "Fe": 200_000}, "alloy")
    assert _declared([dyfe], "720299", "ferroalloy, other", **LICENSED) == [
        "HS_CODE_MISMATCH",
        "HS_CODE_MISMATCH",
    ]


# 2. Hidden controlled element


def test_tb_magnet_without_licence() -> None:
    found = _declared([TB_MAGNET], "850511", "NdFeB magnets")
    assert found == ["CONTROLLED_WITHOUT_LICENCE"]


def test_licensed_but_tb_left_out_of_the_declared_composition() -> None:
    without_tb = {e: v for e, v in TB_MAGNET.composition_ppm.items() if e != "Tb"}
    found = _declared(
        [TB_MAGNET], "850511", "NdFeB magnets", **LICENSED, declared_composition_ppm=without_tb
    )
    # Tb at 0.5 % is also a major element the declared composition misstates.
    assert found == ["CONTROLLED_WITHOUT_LICENCE", "COMPOSITION_MISMATCH"]


# 3. Magnet swap


def test_smco_declared_as_ndfeb() -> None:
    smco = lot("SMCO", 1_000_000, SMCO, "magnet")
    found = _declared([smco], "850511", "NdFeB magnets", **LICENSED, declared_composition_ppm=NDFEB)
    assert found.count("COMPOSITION_MISMATCH") == 2  # the numbers, and the words
    assert "CONTROLLED_WITHOUT_LICENCE" in found  # Sm is hidden from the declaration


def test_ndfeb_declared_as_smco() -> None:
    found = _declared(
        [MAGNET], "850511", "samarium cobalt magnets", **LICENSED, declared_composition_ppm=SMCO
    )
    assert found.count("COMPOSITION_MISMATCH") == 2


# 4. Phantom production


def test_more_dy_out_of_alloying_than_went_in() -> None:
    # Metal certificates list their impurities: nothing is left unmeasured.
    ndpr = lot("NDPR", 7_600_000, {"Nd": 745_000, "Pr": 250_000, "Fe": 5_000}, "metal")
    dy = lot("DY", 4_020, {"Dy": 995_000, "Fe": 5_000}, "metal")
    alloy = {"Nd": 220_000, "Pr": 74_000, "Dy": 205, "Fe": 695_795, "B": 10_000}
    made = output("ALLOY", "alloy", 25_365_000, alloy)
    event = transform("alloying", {"NDPR": 7_600_000, "DY": 4_020}, [made])
    state = reader(ndpr, dy)
    flag = only(check_event(event, state, TOL), "OUTPUT_EXCEEDS_INPUT")
    # The floor is 50 ppm of the smaller mass, the 7.604 t in: 380.2 g.
    assert flag.message == "Dy out 5.2 kg > in 4 kg, tolerance 10 % + 380.2 g (alloying)"


def test_heavy_rare_earths_laundered_into_a_light_separation() -> None:
    feed = pattern(DEPOSIT_PROFILES["bastnaesite"], 400_000, rest="Cl")
    state = reader(lot("MREC", 10_000_000, feed, "mixed_compound", deposit="bastnaesite"))
    dy_oxide = output("DY-OX", "oxide", 100_000, {"Dy": 870_000})
    flags = check_event(transform("separation", {"MREC": 10_000_000}, [dy_oxide]), state, TOL)
    assert "OUTPUT_EXCEEDS_INPUT" in codes(flags)


# 5. Diversion


def test_separation_recovering_80_percent() -> None:
    feed = pattern(DEPOSIT_PROFILES["bastnaesite"], 400_000, rest="Cl")
    state = reader(lot("MREC", 10_000_000, feed, "mixed_compound", deposit="bastnaesite"))
    # 3.2 t of rare earths out of 4 t: an oxide of 85 % rare earths (the rest oxygen).
    made = pattern(DEPOSIT_PROFILES["bastnaesite"], 850_000, rest="O")
    oxide = output("OX", "oxide", 3_764_706, made)
    flags = check_event(transform("separation", {"MREC": 10_000_000}, [oxide]), state, TOL)
    assert codes(flags) == ["YIELD_BELOW_FLOOR"]


def test_machining_keeping_40_percent() -> None:
    state = reader(MAGNET)
    made = output("FIN", "magnet", 10_000_000, NDFEB)
    assert codes(check_event(transform("machining", {"MAG": 25_000_000}, [made]), state, TOL)) == [
        "YIELD_BELOW_FLOOR"
    ]


# 7. Wrong origin


def test_heavy_clay_ore_declared_as_bastnaesite() -> None:
    ore = pattern(DEPOSIT_PROFILES["ionic_clay_heavy"], 800, rest="Si")
    assert codes(check_event(extract("ORE", ore, "bastnaesite"), reader(), TOL)) == [
        "ORIGIN_MISMATCH"
    ]


def test_clay_concentrate_passed_off_as_made_from_bastnaesite_ore() -> None:
    ore = pattern(DEPOSIT_PROFILES["bastnaesite"], 60_000, rest="Ca")
    state = reader(lot("ORE", 1_000_000_000, ore, deposit="bastnaesite"))
    clay = pattern(DEPOSIT_PROFILES["ionic_clay_heavy"], 450_000, rest="C")
    made = output("CONC", "mixed_compound", 100_000_000, clay)
    flags = check_event(transform("cracking", {"ORE": 1_000_000_000}, [made]), state, TOL)
    assert "ORIGIN_MISMATCH" in codes(flags)


# 8. Substitution in transit


def test_weighed_mass_at_receipt_differs_from_shipped() -> None:
    shipped = replace(MAGNET, shipped_mass_g=25_000_000, status="in_transit")
    assert codes(check_event(receive({"MAG": 20_000_000}), reader(shipped), TOL)) == [
        "RECEIPT_MISMATCH"
    ]


def test_assay_on_arrival_differs_from_the_record() -> None:
    measured = {**NDFEB, "Dy": 2_500, "Fe": 671_500}
    assert codes(check_event(assay("MAG", measured), reader(MAGNET), TOL)) == [
        "COMPOSITION_MISMATCH"
    ]


def test_shipped_mass_differs_from_the_record() -> None:
    assert codes(check_event(ship({"MAG": 20_000_000}), reader(MAGNET), TOL)) == [
        "SHIP_MASS_MISMATCH"
    ]


# 9. Declared mass ≠ record


def test_declared_mass_below_the_record() -> None:
    claim = declaration(["MAG"], 20_000_000, **LICENSED)
    flag = only(check_declaration(claim, [MAGNET], TOL), "DECLARED_MASS_MISMATCH")
    assert flag.message == (
        "declaration D-1 declares 20 t vs 25 t recorded over 1 lot, tolerance 0.5 % + 100 g"
    )


# 10. Time travel


def test_output_dated_before_its_input() -> None:
    state = reader(replace(MAGNET, time="2026-03-10T08:00:00Z"))
    made = output("FIN", "magnet", 20_000_000, NDFEB)
    event = transform("machining", {"MAG": 25_000_000}, [made], time="2026-03-07T08:00:00Z")
    flag = only(check_event(event, state, TOL), "TIME_INCONSISTENT")
    assert flag.severity == "medium" and "3 d 0 h before the last event of MAG" in flag.message
