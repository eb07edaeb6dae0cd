"""Declaration rules: mass, HS code, description, controlled elements, composition, family."""

from typing import Any

import msgspec
import pytest

from ledger.lots.records import LotState
from ledger.lots.rules import check_declaration, check_event
from ledger.lots.rules.labels import hs_problem
from ledger.lots.tolerances import Tolerances
from tests.unit.test_rules_builders import (
    NDFEB,
    SMCO,
    TOL,
    build,
    codes,
    declaration,
    lot,
    only,
    reader,
)

MAGNET = lot("MAG", 1_000_000, NDFEB, "magnet")
LICENCE = {"licence": "MOFCOM-2026-0042"}
HONEST = {**LICENCE, "declared_composition_ppm": NDFEB}


def _check(lots: list[LotState], mass_g: int | None = None, **fields: Any) -> list[str]:
    total = sum(held.mass_g for held in lots) if mass_g is None else mass_g
    claim = declaration([held.id for held in lots], total, **{**HONEST, **fields})
    return codes(check_declaration(claim, lots, TOL))


def test_honest_declaration_raises_nothing() -> None:
    assert _check([MAGNET]) == []


@pytest.mark.parametrize(
    ("declared_g", "flagged"),
    [(1_005_090, False), (1_005_110, True), (994_910, False), (994_890, True)],
)
def test_declared_mass_vs_record(declared_g: int, flagged: bool) -> None:
    # Allowed: 0.5 % of 1 t + 100 g = 5.1 kg either way.
    assert _check([MAGNET], declared_g) == (["DECLARED_MASS_MISMATCH"] if flagged else [])


def test_declared_mass_flag_sums_the_lots_and_names_the_first() -> None:
    second = lot("MAG-2", 500_000, NDFEB, "magnet")
    claim = declaration(["MAG", "MAG-2"], 1_200_000, **HONEST)
    flag = only(check_declaration(claim, [MAGNET, second], TOL), "DECLARED_MASS_MISMATCH")
    assert flag.lot == "MAG"
    assert flag.message == (
        "declaration D-1 declares 1.2 t vs 1.5 t recorded over 2 lots, tolerance 0.5 % + 100 g"
    )


@pytest.mark.parametrize(
    ("hs_code", "flagged"),
    [("850511", False), ("85051100", False), ("850519", True), ("284690", True)],
)
def test_hs_code_must_fit_the_product(hs_code: str, flagged: bool) -> None:
    assert ("HS_CODE_MISMATCH" in _check([MAGNET], hs_code=hs_code)) is flagged


def test_dy_ndfeb_declared_as_other_magnets_names_the_rare_earth_share() -> None:
    claim = declaration(["MAG"], 1_000_000, hs_code="850519", **HONEST)
    flag = only(check_declaration(claim, [MAGNET], TOL), "HS_CODE_MISMATCH")
    assert flag.message == (
        "HS 8505.19 is outside the rare-earth-bearing headings (2530, 2612, 2805, 2846, 720299, "
        "382499, 850511) but MAG holds 31.4 % rare earths (≥ 1 %)"
    )


@pytest.mark.parametrize(("nd_ppm", "outside"), [(9_999, False), (10_000, True)])
def test_rare_earth_bearing_starts_at_one_percent(nd_ppm: int, outside: bool) -> None:
    ferrite = lot("F", 1_000, {"Nd": nd_ppm, "Fe": 600_000}, "magnet")
    why = hs_problem("850519", ferrite, TOL) or ""
    assert ("outside the rare-earth-bearing headings" in why) is outside
    assert outside or "does not fit F, a magnet (fits 8505.11)" in why


@pytest.mark.parametrize(("dy_ppm", "flagged"), [(400_000, False), (400_001, True)])
def test_ferroalloy_code_on_high_rare_earth_alloy(dy_ppm: int, flagged: bool) -> None:
    dyfe = lot("DYFE", 1_000, {"Dy": dy_ppm, "Fe": 1_000_000 - dy_ppm}, "alloy")
    assert (hs_problem("720299", dyfe, TOL) is not None) is flagged


def test_cerium_code_on_an_oxide_whose_cerium_was_not_measured() -> None:
    # Nd 40 % listed, Ce not: the 60 % unlisted may be Ce, so the code is not contradicted.
    assert hs_problem("284610", lot("OX", 1_000, {"Nd": 400_000}, "oxide"), TOL) is None


def test_cerium_code_on_a_neodymium_oxide() -> None:
    oxide = lot("OX", 1_000, {"Nd": 857_000}, "oxide")
    assert "cerium compounds" in (hs_problem("284610", oxide, TOL) or "")
    assert hs_problem("284610", lot("OX", 1_000, {"Ce": 814_000}, "oxide"), TOL) is None


@pytest.mark.parametrize(
    ("description", "flagged"),
    [
        ("nickel powder", True),
        ("ceramic tiles", True),
        ("ferroalloy", True),
        ("rare earth ferroalloy", False),
        ("NdFeB alloy powder", False),
        ("textile machinery", False),  # "tile" only as a whole word
    ],
)
def test_description_naming_non_rare_earth_goods(description: str, flagged: bool) -> None:
    found = _check([MAGNET], description=description)
    assert ("HS_CODE_MISMATCH" in found) is flagged


@pytest.mark.parametrize(("nd_ppm", "flagged"), [(9_999, False), (10_000, True)])
def test_description_check_needs_rare_earth_bearing_lots(nd_ppm: int, flagged: bool) -> None:
    powder = lot("P", 1_000, {"Nd": nd_ppm, "Ni": 900_000}, "metal")
    assert (
        "HS_CODE_MISMATCH"
        in _check(
            [powder],
            hs_code="280530",
            description="nickel powder",
            declared_composition_ppm={"Nd": nd_ppm, "Ni": 900_000},
        )
    ) is flagged


@pytest.mark.parametrize(("dy_ppm", "flagged"), [(999, False), (1_000, True)])
def test_controlled_element_without_licence(dy_ppm: int, flagged: bool) -> None:
    magnet = lot("MAG", 1_000_000, {**NDFEB, "Dy": dy_ppm}, "magnet")
    claim = declaration(["MAG"], 1_000_000)
    found = codes(check_declaration(claim, [magnet], TOL))
    assert found == (["CONTROLLED_WITHOUT_LICENCE"] if flagged else [])


def test_licence_flag_names_the_elements_and_threshold() -> None:
    claim = declaration(["MAG"], 1_000_000)
    flag = only(check_declaration(claim, [MAGNET], TOL), "CONTROLLED_WITHOUT_LICENCE")
    assert flag.message == (
        "MAG holds Dy 9,000 ppm, controlled at ≥ 1,000 ppm, and declaration D-1 names no licence"
    )
    assert flag.severity == "high"


def test_announcement_57_elements_are_controlled_only_when_configured() -> None:
    holmium = lot("HO", 1_000, {"Ho": 5_000, "Nd": 300_000, "Fe": 690_000}, "alloy")
    claim = declaration(["HO"], 1_000, hs_code="280530")
    assert "CONTROLLED_WITHOUT_LICENCE" not in codes(check_declaration(claim, [holmium], TOL))
    strict = Tolerances(include_ann57=True)
    assert "CONTROLLED_WITHOUT_LICENCE" in codes(check_declaration(claim, [holmium], strict))


def test_controlled_element_absent_from_declared_composition_is_flagged_despite_a_licence() -> None:
    without_dy = {e: v for e, v in NDFEB.items() if e != "Dy"}
    claim = declaration(["MAG"], 1_000_000, **LICENCE, declared_composition_ppm=without_dy)
    flag = only(check_declaration(claim, [MAGNET], TOL), "CONTROLLED_WITHOUT_LICENCE")
    assert flag.message == (
        "MAG holds Dy 9,000 ppm, controlled at ≥ 1,000 ppm, absent from the declared "
        "composition of D-1"
    )
    assert flag.evidence["licence"] == "MOFCOM-2026-0042"


@pytest.mark.parametrize(("nd_ppm", "flagged"), [(253_490, False), (253_510, True)])
def test_declared_composition_vs_record(nd_ppm: int, flagged: bool) -> None:
    # Recorded Nd 230,000 ppm: allowed 10 % + 500 ppm = 23,500 ppm.
    declared = {**NDFEB, "Nd": nd_ppm, "Fe": 640_000}
    found = _check([MAGNET], declared_composition_ppm=declared)
    assert found == (["COMPOSITION_MISMATCH"] if flagged else [])


@pytest.mark.parametrize(("cu_ppm", "flagged"), [(4_999, False), (5_000, True)])
def test_declared_composition_compares_only_major_elements(cu_ppm: int, flagged: bool) -> None:
    declared = {**NDFEB, "Fe": 660_000, "Cu": cu_ppm}
    found = _check([MAGNET], declared_composition_ppm=declared)
    assert found == (["COMPOSITION_MISMATCH"] if flagged else [])


def test_declared_composition_is_compared_with_the_mass_weighted_record() -> None:
    rich = lot("A", 1_000_000, {"Nd": 300_000, "Fe": 700_000}, "alloy")
    lean = lot("B", 3_000_000, {"Nd": 100_000, "Fe": 900_000}, "alloy")
    mean = {"Nd": 150_000, "Fe": 850_000}
    assert _check([rich, lean], hs_code="720299", declared_composition_ppm=mean) == []
    assert _check(
        [rich, lean], hs_code="720299", declared_composition_ppm={"Nd": 300_000, "Fe": 700_000}
    ) == ["COMPOSITION_MISMATCH"]


def test_smco_declared_with_an_ndfeb_composition() -> None:
    smco = lot("SMCO", 1_000_000, SMCO, "magnet")
    found = _check([smco], declared_composition_ppm=NDFEB)
    assert "COMPOSITION_MISMATCH" in found
    # Sm, controlled, is hidden from the declared composition as well.
    assert "CONTROLLED_WITHOUT_LICENCE" in found


@pytest.mark.parametrize(
    ("description", "record", "flagged"),
    [
        ("sintered NdFeB magnets", SMCO, True),
        ("neodymium magnets", SMCO, True),
        ("samarium cobalt magnets", NDFEB, True),
        ("SmCo magnets", SMCO, False),
        ("NdFeB magnets", NDFEB, False),
        ("permanent magnets", SMCO, False),
    ],
)
def test_description_naming_the_other_magnet_family(
    description: str, record: dict[str, int], flagged: bool
) -> None:
    held = lot("M", 1_000_000, record, "magnet")
    claim = declaration(["M"], 1_000_000, licence="L-1", description=description)
    assert ("COMPOSITION_MISMATCH" in codes(check_declaration(claim, [held], TOL))) is flagged


@pytest.mark.parametrize(("sm_ppm", "flagged"), [(99_999, False), (100_000, True)])
def test_a_magnet_family_needs_enough_of_its_rare_earth(sm_ppm: int, flagged: bool) -> None:
    held = lot("M", 1_000, {"Sm": sm_ppm, "Co": 600_000, "Fe": 200_000}, "magnet")
    claim = declaration(["M"], 1_000, licence="L-1", description="NdFeB magnets")
    flags = check_declaration(claim, [held], TOL)
    assert ("COMPOSITION_MISMATCH" in codes(flags)) is flagged
    if flagged:
        assert only(flags, "COMPOSITION_MISMATCH").message == (
            "description 'NdFeB magnets' names NdFeB but M is SmCo by its record (Nd+Pr 0 %, "
            "Sm 10 %, Fe 20 %, Co 60 %; a family needs ≥ 10 % of its rare earth)"
        )


def test_export_declare_event_runs_the_declaration_rules() -> None:
    claim = {
        "id": "D-9",
        "lots": ["MAG"],
        "hs_code": "750400",
        "description": "nickel powder",
        "declared_mass_g": 1_000_000,
        "destination": "US",
    }
    event = build("export.declare", actor="mag-c", declaration=claim)
    found = codes(check_event(event, reader(MAGNET), TOL))
    assert found == ["HS_CODE_MISMATCH", "HS_CODE_MISMATCH", "CONTROLLED_WITHOUT_LICENCE"]


def test_a_declaration_without_lot_states_is_broken_input() -> None:
    with pytest.raises(ValueError, match="no lot states"):
        check_declaration(declaration(["MAG"], 1), [], TOL)


@pytest.mark.parametrize(("declared_g", "flagged"), [(1_105, False), (1_106, True)])
def test_declared_mass_floor_for_a_small_lot(declared_g: int, flagged: bool) -> None:
    small = lot("S", 1_000, NDFEB, "magnet")
    assert _check([small], declared_g) == (["DECLARED_MASS_MISMATCH"] if flagged else [])


@pytest.mark.parametrize(("co_ppm", "flagged"), [(11_500, False), (11_501, True)])
def test_declared_composition_floor(co_ppm: int, flagged: bool) -> None:
    # Recorded Co 10,000 ppm: allowed 10 % + 500 ppm = 1,500 ppm.
    declared = {**NDFEB, "Co": co_ppm, "Fe": 660_000}
    assert _check([MAGNET], declared_composition_ppm=declared) == (
        ["COMPOSITION_MISMATCH"] if flagged else []
    )


# --- issue 14: declarations that walk around the rules ----------------------------------


def _dy_alloy(tb_ppm: int) -> LotState:
    return lot("TB-AL", 200_000, {"Nd": 290_000, "Tb": tb_ppm, "Fe": 690_000, "B": 10_000}, "alloy")


@pytest.mark.parametrize(("stated", "flagged"), [(2, True), (900, True), (3_300, False)])
def test_a_controlled_element_declared_far_below_the_record_whatever_its_size(
    stated: int, flagged: bool
) -> None:
    # Tb 3,700 ppm is under declared_min_ppm; controlled, it is judged all the same:
    # allowed 10 % + 500 ppm = 870 ppm.
    held = _dy_alloy(3_700)
    declared = {**held.composition_ppm, "Tb": stated}
    found = _check([held], hs_code="280530", declared_composition_ppm=declared)
    assert ("COMPOSITION_MISMATCH" in found) is flagged


def test_a_controlled_element_under_the_threshold_is_not_judged_below_the_minimum() -> None:
    held = _dy_alloy(800)
    declared = {**held.composition_ppm, "Tb": 1}
    assert _check([held], hs_code="280530", declared_composition_ppm=declared) == []


def test_a_stated_composition_that_omits_a_controlled_element_names_it() -> None:
    held = _dy_alloy(4_200)
    declared = {e: v for e, v in held.composition_ppm.items() if e != "Tb"}
    claim = declaration(["TB-AL"], 200_000, **LICENCE, hs_code="280530")
    claim = msgspec.structs.replace(claim, declared_composition_ppm=declared)
    flag = only(check_declaration(claim, [held], TOL), "COMPOSITION_MISMATCH")
    assert flag.message == (
        "declared composition of D-1 omits Tb, which the record puts at 4,200 ppm (mass-weighted "
        "over 1 lot), controlled at ≥ 1,000 ppm in a lot"
    )


@pytest.mark.parametrize(("stated", "flagged"), [(3, True), (70, False)])
def test_other_lots_do_not_dilute_a_controlled_element_out_of_the_check(
    stated: int, flagged: bool
) -> None:
    # 10 kg at Tb 4,000 ppm among 390 kg without Tb: 100 ppm over the declaration, under the
    # threshold, still judged (a lot holds it above): allowed 10 % + 50 ppm.
    rich = lot("TB-AL", 10_000, {"Nd": 290_000, "Tb": 4_000, "Fe": 696_000, "B": 10_000}, "alloy")
    lean = lot("ND-AL", 390_000, {"Nd": 290_000, "Tb": 0, "Fe": 700_000, "B": 10_000}, "alloy")
    declared = {"Nd": 290_000, "Tb": stated, "Fe": 699_900, "B": 10_000}
    found = _check([rich, lean], hs_code="280530", declared_composition_ppm=declared)
    assert ("COMPOSITION_MISMATCH" in found) is flagged


def test_an_omitted_element_that_is_not_controlled_is_not_stated_not_zero() -> None:
    # The lead's meaning of absence: not stated. Fe left out is no claim that there is none.
    declared = {e: v for e, v in NDFEB.items() if e not in ("Fe", "B", "Co")}
    assert _check([MAGNET], declared_composition_ppm=declared) == []


@pytest.mark.parametrize(("sm_ppm", "flagged"), [(1_400, False), (40_000, True)])
def test_an_element_the_record_does_not_list_is_at_most_the_unlisted_remainder(
    sm_ppm: int, flagged: bool
) -> None:
    # The lot lists 99.9 %: Sm, not measured, is at most 1,000 ppm (+ 10 % + 500 ppm).
    declared = {**NDFEB, "Fe": NDFEB["Fe"] - sm_ppm, "Sm": sm_ppm}
    found = _check([MAGNET], declared_composition_ppm=declared)
    assert ("COMPOSITION_MISMATCH" in found) is flagged


@pytest.mark.parametrize(
    "description",
    [
        "REE-free nickel powder",
        "nickel powder, free of rare earths",
        "nickel powder, no rare earth",
        "non-rare-earth nickel alloy",
        "nickel alloy without REE",
        "nickel powder, 0 % rare earths",
        "nickel powder (rare earth content: none)",
        "Nickel powder, rare-earth-free",
        "nickel powder not containing rare earths",
        "nickel powder without any REE",
        "nickel powder, rare earths not present",
    ],
)
def test_a_negated_rare_earth_word_does_not_clear_the_description(description: str) -> None:
    metal = lot("DY-M", 50_000, {"Dy": 995_000}, "metal")
    claim = declaration(["DY-M"], 50_000, **LICENCE, hs_code="280530", description=description)
    found = codes(check_declaration(claim, [metal], TOL))
    assert "HS_CODE_MISMATCH" in found


@pytest.mark.parametrize(
    "description",
    ["nickel-free NdFeB magnets", "NdFeB magnets with no coating", "rare earth ferroalloy"],
)
def test_honest_words_next_to_a_negation_still_clear(description: str) -> None:
    assert "HS_CODE_MISMATCH" not in _check([MAGNET], description=description)


def test_smco_described_as_ndfeb_but_not_smco_is_judged() -> None:
    held = lot("M", 1_000_000, SMCO, "magnet")
    claim = declaration(["M"], 1_000_000, licence="L-1", description="NdFeB magnets, no SmCo")
    assert "COMPOSITION_MISMATCH" in codes(check_declaration(claim, [held], TOL))


SMCO_MAGNET = lot("SC", 400_000, SMCO, "magnet")


@pytest.mark.parametrize(
    ("description", "flagged"),
    [
        ("permanent magnets", True),
        ("magnets for motors", True),
        ("motor components, rings and segments", True),
        ("permanent magnets, rare-earth-free", True),
        ("SmCo permanent magnets", False),
        ("rare earth permanent magnets", False),
        ("samarium cobalt magnets", False),
        ("permanent magnets, Sm 25 %", False),
    ],
)
def test_a_generic_description_for_a_controlled_element_is_judged(
    description: str, flagged: bool
) -> None:
    claim = declaration(["SC"], 400_000, licence="L-1", description=description)
    found = codes(check_declaration(claim, [SMCO_MAGNET], TOL))
    assert ("HS_CODE_MISMATCH" in found) is flagged


def test_a_generic_description_of_goods_without_a_controlled_element_passes() -> None:
    plain = lot("N52", 400_000, {"Nd": 240_000, "Pr": 75_000, "Fe": 675_000, "B": 10_000}, "magnet")
    claim = declaration(["N52"], 400_000, description="permanent magnets")
    assert codes(check_declaration(claim, [plain], TOL)) == []


def test_honest_dy_magnet_words_stay_clean() -> None:
    for words in ("sintered NdFeB permanent magnets, Dy 0.9 %", "Sintered NdFeB magnets N45SH"):
        assert _check([MAGNET], description=words) == []


@pytest.mark.parametrize(
    ("composition", "flagged"),
    [
        ({"Dy": 780_000, "Fe": 215_000}, True),  # DyFe alloy declared as NdFeB
        ({"Dy": 950_000}, True),  # Nd+Pr not measured: at most the 5 % left
        ({"Dy": 780_000}, False),  # Nd+Pr not measured: the 22 % left could hold them
        ({"Nd": 780_000, "Fe": 215_000}, False),  # an NdFe master alloy: NdFeB's rare earth
    ],
)
def test_a_description_naming_a_family_the_alloy_is_not(
    composition: dict[str, int], flagged: bool
) -> None:
    alloy = lot("AL", 10_000, composition, "alloy")
    claim = declaration(
        ["AL"], 10_000, licence="L-1", hs_code="280530", description="NdFeB alloy flakes"
    )
    found = codes(check_declaration(claim, [alloy], TOL))
    assert ("COMPOSITION_MISMATCH" in found) is flagged
