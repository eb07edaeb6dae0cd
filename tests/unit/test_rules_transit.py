"""Custody rules: assays, shipped and received masses, dates; and the dispatch of check_event."""

import msgspec
import pytest

from ledger.lots.records import DeclarationState
from ledger.lots.rules import check_event
from ledger.lots.tolerances import Tolerances
from tests.unit.test_rules_builders import (
    NDFEB,
    TIME,
    TOL,
    assay,
    build,
    codes,
    lot,
    only,
    reader,
    receive,
    ship,
)

MAGNET = lot("MAG", 1_000_000, NDFEB, "magnet")


@pytest.mark.parametrize(("dy_ppm", "flagged"), [(10_090, False), (10_110, True)])
def test_assay_vs_record_beyond_tolerance(dy_ppm: int, flagged: bool) -> None:
    # Recorded Dy 9,000 ppm: allowed 10 % + 200 ppm = 1,100 ppm.
    measured = {**NDFEB, "Dy": dy_ppm, "Fe": 655_000}
    flags = check_event(assay("MAG", measured), reader(MAGNET), TOL)
    assert codes(flags) == (["COMPOSITION_MISMATCH"] if flagged else [])


@pytest.mark.parametrize(("tb_ppm", "flagged"), [(999, False), (1_000, True)])
def test_assay_compares_only_elements_above_the_minimum(tb_ppm: int, flagged: bool) -> None:
    flags = check_event(assay("MAG", {**NDFEB, "Tb": tb_ppm}), reader(MAGNET), TOL)
    assert codes(flags) == (["COMPOSITION_MISMATCH"] if flagged else [])


def test_assay_flag_names_element_values_and_tolerance() -> None:
    substituted = {"Nd": 231_000, "Pr": 74_000, "Dy": 2_500, "Co": 0, "Fe": 672_000}
    flag = only(check_event(assay("MAG", substituted), reader(MAGNET), TOL), "COMPOSITION_MISMATCH")
    assert flag.message == (
        "Co assayed 0 ppm by Lab E vs 10,000 ppm recorded for MAG, tolerance 10 % + 200 ppm "
        "(and 1 more element)"
    )
    assert flag.evidence["elements"] == [
        {"element": "Co", "assay_ppm": 0, "recorded_ppm": 10_000},
        {"element": "Dy", "assay_ppm": 2_500, "recorded_ppm": 9_000},
    ]


def test_elements_the_assay_leaves_out_were_not_measured() -> None:
    # No B and no Co in this lab's suite: nothing to compare them with.
    partial = {"Nd": 231_000, "Pr": 74_000, "Dy": 9_100, "Fe": 660_000}
    assert check_event(assay("MAG", partial), reader(MAGNET), TOL) == []


@pytest.mark.parametrize(
    ("shipped_g", "flagged"),
    [(1_005_090, False), (1_005_110, True), (994_910, False), (994_890, True)],
)
def test_shipped_mass_vs_recorded_mass(shipped_g: int, flagged: bool) -> None:
    # Allowed: 0.5 % of 1 t + 100 g = 5.1 kg either way.
    flags = check_event(ship({"MAG": shipped_g}), reader(MAGNET), TOL)
    assert codes(flags) == (["SHIP_MASS_MISMATCH"] if flagged else [])


def test_ship_flag_states_masses_and_tolerance() -> None:
    flag = only(check_event(ship({"MAG": 900_000}), reader(MAGNET), TOL), "SHIP_MASS_MISMATCH")
    assert flag.message == "shipped 900 kg of MAG vs 1 t recorded, tolerance 0.5 % + 100 g"


@pytest.mark.parametrize(
    ("received_g", "flagged"),
    [(1_010_090, False), (1_010_110, True), (989_910, False), (989_890, True)],
)
def test_received_mass_vs_shipped_mass(received_g: int, flagged: bool) -> None:
    # Allowed: 1 % of 1 t + 100 g = 10.1 kg either way.
    shipped = msgspec.structs.replace(MAGNET, shipped_mass_g=1_000_000)
    flags = check_event(receive({"MAG": received_g}), reader(shipped), TOL)
    assert codes(flags) == (["RECEIPT_MISMATCH"] if flagged else [])


def test_receipt_flag_states_masses_and_tolerance() -> None:
    shipped = msgspec.structs.replace(MAGNET, shipped_mass_g=25_000_000)
    flags = check_event(receive({"MAG": 20_000_000}), reader(shipped), TOL)
    flag = only(flags, "RECEIPT_MISMATCH")
    assert flag.message == "received 20 t of MAG vs 25 t shipped, tolerance 1 % + 100 g"
    assert flag.severity == "medium"


def test_receipt_without_a_recorded_shipment_mass_is_not_checked() -> None:
    assert check_event(receive({"MAG": 1}), reader(MAGNET), TOL) == []


@pytest.mark.parametrize(
    ("event_time", "severity"),
    [
        ("2026-03-01T07:55:00Z", None),  # 300 s before: clock drift
        ("2026-03-01T07:54:59Z", "low"),
        ("2026-02-28T08:00:00Z", "low"),  # exactly a day
        ("2026-02-28T07:59:59Z", "medium"),
    ],
)
def test_event_dated_before_its_input(event_time: str, severity: str | None) -> None:
    flags = check_event(ship({"MAG": 1_000_000}, time=event_time), reader(MAGNET), TOL)
    assert [flag.severity for flag in flags] == ([] if severity is None else [severity])
    assert codes(flags) == ([] if severity is None else ["TIME_INCONSISTENT"])


def test_time_flag_states_the_gap_and_tolerance() -> None:
    flags = check_event(assay("MAG", NDFEB, time="2026-02-27T06:00:00Z"), reader(MAGNET), TOL)
    flag = only(flags, "TIME_INCONSISTENT")
    assert flag.message == (
        f"lot.assay dated 2026-02-27T06:00:00Z, 2 d 2 h before the last event of MAG ({TIME}), "
        "tolerance 5 min"
    )
    assert flag.evidence["gap_s"] == 180_000


def test_a_lot_without_a_time_is_not_checked() -> None:
    undated = msgspec.structs.replace(MAGNET, time="")
    assert (
        check_event(ship({"MAG": 1_000_000}, time="2020-01-01T00:00:00Z"), reader(undated), TOL)
        == []
    )


def test_customs_decision_dated_before_the_declaration() -> None:
    state = reader(MAGNET)
    state.declarations["D-1"] = DeclarationState(
        id="D-1",
        exporter="mag-c",
        lots=("MAG",),
        status="pending",
        declared_index=2,
        hs_code="850511",
        declared_mass_g=1_000_000,
        destination="JP",
    )
    decide = build(
        "customs.decide",
        actor="cus-d",
        time="2026-02-01T08:00:00Z",
        declaration="D-1",
        decision="hold",
    )
    assert codes(check_event(decide, state, TOL)) == ["TIME_INCONSISTENT"]
    with pytest.raises(LookupError, match="D-2"):
        check_event(msgspec.structs.replace(decide, declaration="D-2"), state, TOL)


def test_registry_events_raise_nothing() -> None:
    event = build(
        "participant.key_revoke", actor="operator", participant="mine-a", keyid="mine-a/" + "0" * 16
    )
    assert check_event(event, reader(), TOL) == []


def test_an_unknown_lot_is_broken_input() -> None:
    with pytest.raises(LookupError, match="NOPE"):
        check_event(ship({"NOPE": 1}), reader(), TOL)


def test_severities_are_configurable() -> None:
    quiet = Tolerances(severity={**TOL.severity, "SHIP_MASS_MISMATCH": "low"})
    assert check_event(ship({"MAG": 1}), reader(MAGNET), quiet)[0].severity == "low"


@pytest.mark.parametrize(("shipped_g", "flagged"), [(1_105, False), (1_106, True)])
def test_ship_floor_for_a_small_lot(shipped_g: int, flagged: bool) -> None:
    # 0.5 % of 1 kg is 5 g; the 100 g floor dominates.
    small = lot("S", 1_000, NDFEB, "magnet")
    assert bool(check_event(ship({"S": shipped_g}), reader(small), TOL)) is flagged


@pytest.mark.parametrize(("received_g", "flagged"), [(1_110, False), (1_111, True)])
def test_receipt_floor_for_a_small_lot(received_g: int, flagged: bool) -> None:
    small = lot("S", 1_000, NDFEB, "magnet", shipped_mass_g=1_000)
    assert bool(check_event(receive({"S": received_g}), reader(small), TOL)) is flagged


@pytest.mark.parametrize(("cu_ppm", "flagged"), [(1_300, False), (1_301, True)])
def test_assay_floor_for_a_minor_element(cu_ppm: int, flagged: bool) -> None:
    # Recorded Cu 1,000 ppm: allowed 10 % + 200 ppm = 300 ppm.
    magnet = lot("M", 1_000, {**NDFEB, "Cu": 1_000, "Fe": 664_000}, "magnet")
    measured = {**magnet.composition_ppm, "Cu": cu_ppm}
    assert bool(check_event(assay("M", measured), reader(magnet), TOL)) is flagged


PARTIAL_ORE = {"La": 30_000, "Ce": 45_000, "Nd": 12_000, "Fe": 150_000}  # 763,000 ppm unlisted


@pytest.mark.parametrize(
    ("measured", "flagged"),
    [
        ({"Ca": 120_000}, False),  # not in the record: within what it leaves unlisted
        ({"Si": 850_000}, True),  # beyond what the record leaves unlisted (763,000 + 10 % + 200)
        ({"Tb": 204}, False),  # a natural trace of an element the mine did not measure
        ({"Dy": 1_500}, True),  # a controlled element above the threshold, left out
        ({"Dy": 900}, False),  # below the licence threshold and the comparison minimum
    ],
)
def test_an_element_the_record_does_not_list_was_not_measured(
    measured: dict[str, int], flagged: bool
) -> None:
    ore = lot("ORE", 1_000_000, PARTIAL_ORE, "ore")
    flags = check_event(assay("ORE", measured), reader(ore), TOL)
    assert codes(flags) == (["COMPOSITION_MISMATCH"] if flagged else [])
