"""Transform rules: mass balance, recovery floors and mixing, each threshold from both sides."""

import math

import pytest

from ledger.lots.rules import check_event
from ledger.lots.rules.transform import recovery_floor
from ledger.lots.tolerances import Tolerances
from tests.unit.test_rules_builders import (
    TOL,
    codes,
    lot,
    only,
    output,
    reader,
    rule_codes,
    transform,
)

CONC = {"La": 150_000, "Ce": 240_000, "Pr": 22_000, "Nd": 75_000, "Sm": 5_000, "Fe": 50_000}
ALLOY = {"Dy": 100_000, "Fe": 900_000}


def _milling(dy_ppm: int, fe_ppm: int = 880_000, tb_ppm: int = 0) -> list[str]:
    """Mill 100 kg of alloy holding 10 kg Dy into one powder lot of the given composition."""
    state = reader(lot("ALLOY", 100_000, ALLOY, "alloy"))
    made = {"Dy": dy_ppm, "Fe": fe_ppm, **({"Tb": tb_ppm} if tb_ppm else {})}
    event = transform(
        "milling", {"ALLOY": 100_000}, [output("POW", "magnet_powder", 100_000, made)]
    )
    return codes(check_event(event, state, TOL))


@pytest.mark.parametrize(("dy_ppm", "flagged"), [(110_040, False), (110_060, True)])
def test_element_out_over_in_beyond_tolerance_is_flagged(dy_ppm: int, flagged: bool) -> None:
    # Allowed: 10 kg × 1.10 + 50 ppm of 100 kg (5 g) = 11.005 kg, 110,050 ppm of 100 kg.
    floor_g = TOL.element_floor_ppm * 100_000 / 1_000_000
    allowed_ppm = (10_000 * (1 + TOL.element_tolerance) + floor_g) * 10
    assert (dy_ppm > allowed_ppm) == flagged
    assert ("OUTPUT_EXCEEDS_INPUT" in _milling(dy_ppm)) is flagged


@pytest.mark.parametrize(("tb_ppm", "flagged"), [(50, False), (51, True)])
def test_element_from_nowhere_is_flagged_past_the_floor(tb_ppm: int, flagged: bool) -> None:
    # The alloy lists its whole mass (Dy, Fe): no Tb can hide in it. 50 ppm of 100 kg is
    # 5 g of Tb, exactly the floor (element_floor_ppm of the smaller mass).
    assert ("OUTPUT_EXCEEDS_INPUT" in _milling(100_000, tb_ppm=tb_ppm)) is flagged


def test_element_flag_states_the_masses_and_the_tolerance() -> None:
    state = reader(lot("ALLOY", 100_000, ALLOY, "alloy"))
    event = transform(
        "milling", {"ALLOY": 100_000}, [output("POW", "magnet_powder", 100_000, {"Dy": 130_000})]
    )
    flag = only(check_event(event, state, TOL), "OUTPUT_EXCEEDS_INPUT")
    assert flag.message == "Dy out 13 kg > in 10 kg, tolerance 10 % + 5 g (milling)"
    assert flag.lot == "POW" and flag.severity == "high"
    assert flag.evidence["in_g"] == 10_000 and flag.evidence["out_g"] == 13_000


@pytest.mark.parametrize(("out_g", "flagged"), [(101_000, False), (101_002, True)])
def test_split_creating_mass_is_flagged(out_g: int, flagged: bool) -> None:
    state = reader(lot("A", 100_000, CONC, "concentrate"))
    outputs = [
        output("B", "concentrate", 50_000, CONC),
        output("C", "concentrate", out_g - 50_000, CONC),
    ]
    flags = check_event(transform("split", {"A": 100_000}, outputs), state, TOL)
    assert codes(flags) == (["OUTPUT_EXCEEDS_INPUT"] if flagged else [])
    if flagged:
        assert (
            flags[0].message
            == "total mass out 101 kg > in 100 kg, tolerance 1 % (split adds no mass)"
        )


@pytest.mark.parametrize("process", ["alloying", "cracking", "reduction"])
def test_processes_that_take_in_untracked_mass_may_grow(process: str) -> None:
    # Fe and B join in alloying; carbonate and water in cracking; an iron cathode in reduction.
    state = reader(lot("M", 100_000, {"Nd": 995_000}, "metal"))
    made = {"Nd": 320_000, "Fe": 670_000, "B": 10_000}
    event = transform(process, {"M": 100_000}, [output("X", "alloy", 300_000, made)])
    assert rule_codes(check_event(event, state, TOL)) == []


@pytest.mark.parametrize("process", sorted(TOL.recovery_floors))
def test_recovery_just_above_and_below_the_floor(process: str) -> None:
    floor = TOL.recovery_floors[process]
    threshold_g = floor * (1 - TOL.recovery_margin) * 1_000_000
    for out_g, flagged in [
        (math.ceil(threshold_g) + 10, False),
        (math.floor(threshold_g) - 10, True),
    ]:
        state = reader(lot("IN", 1_000_000, CONC, "concentrate", deposit="bastnaesite"))
        event = transform(process, {"IN": 1_000_000}, [output("OUT", "concentrate", out_g, CONC)])
        assert rule_codes(check_event(event, state, TOL)) == (
            ["YIELD_BELOW_FLOOR"] if flagged else []
        )


def test_yield_flag_states_recovery_floor_and_margin() -> None:
    state = reader(lot("IN", 1_000_000, CONC, "mixed_compound"))
    event = transform("separation", {"IN": 1_000_000}, [output("OX", "oxide", 800_000, CONC)])
    flag = only(check_event(event, state, TOL), "YIELD_BELOW_FLOOR")
    assert flag.message == (
        "rare-earth recovery 80 % (393.6 kg out of 492 kg) < 91.2 %: the separation floor 96 % "
        "less a 5 % margin"
    )
    assert flag.lot == "IN" and flag.severity == "medium"


@pytest.mark.parametrize(("heavy_ppm", "floor"), [(9_900, 0.96), (10_100, 0.94)])
def test_a_heavy_feed_lowers_the_separation_floor(heavy_ppm: int, floor: float) -> None:
    feed = {"Nd": 100_000 - heavy_ppm, "Dy": heavy_ppm}  # heavy share 9.9 % vs 10.1 %
    assert recovery_floor("separation", [(lot("F", 1, feed), 1)], TOL)[0] == floor


def test_an_ionic_clay_feed_takes_the_clay_floor() -> None:
    feed = lot("F", 1, {"Nd": 100_000}, deposit="ionic_clay")
    assert recovery_floor("separation", [(feed, 1)], TOL) == (
        0.94,
        "separation of ionic-clay (heavy) feed",
    )


@pytest.mark.parametrize(("nd_ppm", "floor"), [(17_140, 0.65), (17_160, 0.75)])
def test_low_grade_ore_has_the_lower_beneficiation_floor(nd_ppm: int, floor: float) -> None:
    # 17,148 ppm Nd is 20,000 ppm Nd2O3: the 2 % TREO line.
    assert recovery_floor("beneficiation", [(lot("O", 1, {"Nd": nd_ppm}), 1)], TOL)[0] == floor


def test_low_grade_beneficiation_at_70_percent_is_not_flagged_but_normal_grade_is() -> None:
    for grade, flagged in [(10_000, False), (60_000, True)]:
        ore = {"La": grade // 2, "Ce": grade // 2}
        state = reader(lot("ORE", 1_000_000, ore))
        conc = {"La": grade * 5, "Ce": grade * 5}
        event = transform(
            "beneficiation", {"ORE": 1_000_000}, [output("C", "concentrate", 70_000, conc)]
        )
        assert ("YIELD_BELOW_FLOOR" in codes(check_event(event, state, TOL))) is flagged


def test_recovery_margin_is_configurable() -> None:
    state = reader(lot("IN", 1_000_000, CONC, "metal"))
    event = transform("reduction", {"IN": 1_000_000}, [output("M", "metal", 930_000, CONC)])
    assert rule_codes(check_event(event, state, TOL)) == []
    assert rule_codes(check_event(event, state, Tolerances(recovery_margin=0.0))) == [
        "YIELD_BELOW_FLOOR"
    ]


@pytest.mark.parametrize(("nd_ppm", "flagged"), [(82_690, False), (82_710, True)])
def test_split_output_composition_vs_its_input(nd_ppm: int, flagged: bool) -> None:
    # Expected Nd 75,000 ppm: allowed 10 % + 200 ppm = 7,700 ppm.
    state = reader(lot("A", 100_000, CONC, "concentrate"))
    skewed = {**CONC, "Nd": nd_ppm}
    outputs = [output("B", "concentrate", 50_000, skewed), output("C", "concentrate", 50_000, CONC)]
    flags = check_event(transform("split", {"A": 100_000}, outputs), state, TOL)
    assert codes(flags) == (["MIX_INCONSISTENT"] if flagged else [])
    if flagged:
        assert flags[0].lot == "B"
        assert flags[0].message == (
            "Nd 82,710 ppm in split output B vs 75,000 ppm from the inputs' mass-weighted mean, "
            "tolerance 10 % + 200 ppm"
        )


@pytest.mark.parametrize(("co_ppm", "flagged"), [(200, False), (201, True)])
def test_mix_floor_for_an_element_the_inputs_lack(co_ppm: int, flagged: bool) -> None:
    # The input lists its whole mass: an element it does not list has no room in it.
    whole = {**CONC, "Si": 1_000_000 - sum(CONC.values())}
    state = reader(lot("A", 100_000, whole, "concentrate"))
    made = {**whole, "Si": whole["Si"] - co_ppm, "Co": co_ppm}
    outputs = [output("B", "concentrate", 100_000, made)]
    flags = check_event(transform("split", {"A": 100_000}, outputs), state, TOL)
    assert codes(flags) == (["MIX_INCONSISTENT"] if flagged else [])


def test_blend_output_is_the_mass_weighted_mean() -> None:
    state = reader(
        lot("A", 300_000, {"Nd": 300_000}, "oxide"), lot("B", 100_000, {"Nd": 100_000}, "oxide")
    )
    inputs = {"A": 300_000, "B": 100_000}
    honest = transform("blend", inputs, [output("C", "oxide", 400_000, {"Nd": 250_000})])
    assert check_event(honest, state, TOL) == []
    upgraded = transform("blend", inputs, [output("C", "oxide", 400_000, {"Nd": 290_000})])
    assert "MIX_INCONSISTENT" in codes(check_event(upgraded, state, TOL))


# Per element (DESIGN §9.2): a total over the floor does not hide one element lost.

NDPR_METAL = {"Nd": 752_000, "Pr": 243_000, "Fe": 3_000, "O": 2_000}
DY_METAL = {"Dy": 994_000, "Fe": 4_000, "O": 2_000}


def _alloying(dy_ppm: int) -> list:
    state = reader(
        lot("NDPR", 3_100_000, NDPR_METAL, "metal"), lot("DY", 95_000, DY_METAL, "metal")
    )
    # 98.6 % of the Nd and Pr, into 10.1 t of alloy; Dy as given.
    alloy = {"Nd": 227_000, "Pr": 73_400, "Fe": 662_000, "B": 10_500, "Co": 9_000, "Dy": dy_ppm}
    made = output("ALLOY", "alloy", 10_100_000, {k: v for k, v in alloy.items() if v})
    event = transform("alloying", {"NDPR": 3_100_000, "DY": 95_000}, [made])
    return check_event(event, state, TOL)


def test_alloying_that_drops_all_the_dy_is_caught_though_the_total_is_over_the_floor() -> None:
    flag = only(_alloying(0), "YIELD_BELOW_FLOOR")
    assert flag.evidence["element"] == "Dy" and flag.lot == "DY"
    assert flag.message.startswith("Dy recovery 0 % (0 g out of 94.43 kg) < 87.3 %")
    # Two thirds of it is no better; the honest alloy (9,200 ppm: 98.4 %) raises nothing.
    assert "YIELD_BELOW_FLOOR" in codes(_alloying(6_200))
    assert _alloying(9_200) == []


HEAVY_MREC = {
    "Y": 180_000, "Dy": 21_000, "Tb": 3_600, "Gd": 18_000, "Nd": 11_000, "Sm": 7_000,
    "La": 7_000, "Ce": 3_500, "Pr": 3_000, "Er": 14_000, "Yb": 13_000, "Ho": 5_500,
    "O": 150_000, "C": 45_000,
}  # fmt: skip


def _separation(tb_out: float, dy_out: float) -> list:
    """Separate 20 t of heavy-clay carbonate: each element 97 % recovered into its own oxide,
    Tb and Dy as given (fractions of what went in)."""
    mass = 20_000_000
    state = reader(lot("MREC", mass, HEAVY_MREC, "mixed_compound", deposit="ionic_clay"))
    outputs = []
    for element, ppm in HEAVY_MREC.items():
        if element in ("O", "C"):
            continue
        share = {"Tb": tb_out, "Dy": dy_out}.get(element, 0.97)
        metal_g = mass * ppm / 1e6 * share
        if metal_g > 0:
            oxide_g = round(metal_g / 0.86)
            outputs.append(
                output(f"OX-{element}", "oxide", oxide_g, {element: 860_000, "O": 140_000})
            )
    event = transform("separation", {"MREC": mass}, outputs)
    return check_event(event, state, TOL)


def test_a_separation_losing_all_the_tb_and_60_percent_of_the_dy_is_caught() -> None:
    flags = _separation(0.0, 0.4)
    lost = {flag.evidence.get("element") for flag in flags if flag.code == "YIELD_BELOW_FLOOR"}
    assert lost == {"Tb", "Dy"}
    # The rare-earth total stayed over the floor: no total flag.
    assert all(flag.evidence.get("basis") == "element" for flag in flags)


def test_an_honest_heavy_separation_raises_nothing() -> None:
    assert _separation(0.97, 0.975) == []


# Not measured (one meaning): an element a composition does not list is unknown, at most
# the unlisted remainder of the lot.


def test_a_concentrate_reporting_tb_its_ore_assay_did_not_list_raises_nothing() -> None:
    ore = {"La": 15_400, "Ce": 24_800, "Pr": 2_300, "Nd": 7_900, "Sm": 560, "Fe": 90_000}
    state = reader(lot("ORE", 28_000_000, ore, deposit="bastnaesite"))
    conc = {k: v * 9 for k, v in ore.items() if k != "Fe"} | {"Tb": 186, "Fe": 20_000}
    made = output("CONC", "concentrate", 2_600_000, conc)
    assert check_event(transform("beneficiation", {"ORE": 28_000_000}, [made]), state, TOL) == []


def test_an_element_supplied_at_most_by_the_unlisted_remainder() -> None:
    # A 2 g concentrate listing 97 % of itself holds at most 60 mg of anything it does not
    # list: 45 mg of Tb out passes, 90 mg does not (the 1 g cracked into 100 g of Tb).
    conc = {"La": 400_000, "Ce": 470_000, "Nd": 100_000}
    state = reader(lot("C", 2, conc, "concentrate"))
    for tb_ppm, flagged in [(15_000, False), (30_000, True)]:
        made = {"La": 260_000, "Ce": 300_000, "Nd": 60_000, "Tb": tb_ppm, "O": 200_000}
        event = transform("cracking", {"C": 2}, [output("MX", "mixed_compound", 3, made)])
        flags = check_event(event, state, TOL)
        assert ("OUTPUT_EXCEEDS_INPUT" in codes(flags)) is flagged
        if flagged:
            flag = only(flags, "OUTPUT_EXCEEDS_INPUT")
            assert flag.evidence["element"] == "Tb"
            assert flag.evidence["in_most_g"] == pytest.approx(0.06)
