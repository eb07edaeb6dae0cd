"""The configuration object, the flag codes and how messages spell numbers."""

import pytest

from ledger.lots.rules import FLAG_CODES, Flag
from ledger.lots.rules.flags import duration, grams, percent, ppm
from ledger.lots.tolerances import Tolerances
from tests.unit.test_rules_builders import TOL

DESIGN_CODES = (
    "OUTPUT_EXCEEDS_INPUT",
    "YIELD_BELOW_FLOOR",
    "MIX_INCONSISTENT",
    "COMPOSITION_MISMATCH",
    "ORIGIN_MISMATCH",
    "RECEIPT_MISMATCH",
    "SHIP_MASS_MISMATCH",
    "HS_CODE_MISMATCH",
    "CONTROLLED_WITHOUT_LICENCE",
    "DECLARED_MASS_MISMATCH",
    "TIME_INCONSISTENT",
)


# DESIGN §9.4's additions, in its order: those built so far follow the eleven.
V2_CODES = ("LICENCE_INVALID", "QUOTA_EXCEEDED", "LINEAGE_IMBALANCE", "PROCESS_INCONSISTENT")


def test_flag_codes_are_designs_eleven_in_order_then_its_additions() -> None:
    assert FLAG_CODES[: len(DESIGN_CODES)] == DESIGN_CODES
    added = FLAG_CODES[len(DESIGN_CODES) :]
    assert added == tuple(code for code in V2_CODES if code in added)


def test_every_code_has_a_severity() -> None:
    assert set(TOL.severity) == set(FLAG_CODES)
    assert set(TOL.severity.values()) <= {"low", "medium", "high"}


def test_recovery_floors_are_the_china_2016_rules() -> None:
    assert dict(TOL.recovery_floors) == {
        "beneficiation": 0.75,
        "cracking": 0.92,
        "separation": 0.96,
        "reduction": 0.95,
        "alloying": 0.97,
        "milling": 0.97,
        "sintering": 0.97,
        "machining": 0.60,
        "split": 0.995,
        "blend": 0.995,
    }
    assert (TOL.low_grade_floor, TOL.ionic_clay_floor) == (0.65, 0.94)


def test_mass_conserving_processes_leave_out_cracking_alloying_and_reduction() -> None:
    assert not TOL.mass_conserving & {"cracking", "alloying", "reduction"}
    assert {"split", "blend", "separation", "machining"} <= TOL.mass_conserving


def test_controlled_elements_follow_the_announcements_in_force() -> None:
    assert TOL.controlled == {"Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"}
    assert Tolerances(include_ann57=True).controlled >= {"Ho", "Er", "Tm", "Eu", "Yb"}


def test_hs_codes_follow_domain() -> None:
    assert TOL.hs_by_product["magnet"] == {"850511"}
    assert TOL.hs_by_product["magnet_powder"] == {"280530", "720299", "382499"}
    assert TOL.re_bearing_hs == ("2530", "2612", "2805", "2846", "720299", "382499", "850511")


@pytest.mark.parametrize(
    "bad",
    [
        {"element_tolerance": -0.1},
        {"recovery_margin": 1.0},
        {"severity": {"X": "urgent"}},
        {"element_recovery_margin": 1.0},
        {"element_floor_ppm": -1},
        {"product_re_ppm": {"ore": (130_000, 250)}},
    ],
)
def test_a_broken_configuration_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="Tolerances"):
        Tolerances(**bad)  # type: ignore[arg-type]


def test_flag_is_plain_data() -> None:
    flag = Flag("TIME_INCONSISTENT", "low", "L-1", "m", {"gap_s": 301.0})
    assert flag.evidence == {"gap_s": 301.0}


@pytest.mark.parametrize(
    ("value", "text"),
    [(850, "850 g"), (5_200, "5.2 kg"), (4_000, "4 kg"), (12_500_000, "12.5 t"), (0, "0 g")],
)
def test_masses_read_in_sensible_units(value: float, text: str) -> None:
    assert grams(value) == text


def test_ratios_and_concentrations() -> None:
    assert percent(0.05) == "5 %" and percent(0.7125) == "71.25 %" and percent(0.005) == "0.5 %"
    assert ppm(12_000) == "12,000 ppm"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (301, "5 min"), (12_000, "3 h 20 min"), (187_200, "2 d 4 h")],
)
def test_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text
