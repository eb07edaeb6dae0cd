"""The shortcuts of the admission and write paths give exactly what the plain code gives."""

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest
from msgspec.structs import asdict
from sqlalchemy import Column, MetaData, Table, create_engine
from sqlmodel import Session

from ledger.lots.composition import (
    DEPOSIT_PROFILES,
    RARE_EARTHS,
    ElementBalance,
    balance,
    closest_profile,
    distance,
    fingerprint,
)
from ledger.lots.domain import NON_RE_TERMS, RE_TERMS
from ledger.lots.records import LotState
from ledger.lots.rules.wording import terms_in
from ledger.lots.words import read
from ledger.lots.words import terms as ready
from ledger.store import bulk
from ledger.store.rows import LOT_FIELDS, lot_from_row, lot_from_values
from ledger.store.tables import FlagRow, LotRow

LOT = LotState(
    id="ORE-1",
    product="ore",
    spec=None,
    mass_g=1_000,
    composition_ppm={"La": 30_000, "Ce": 50_000, "Fe": 10_000},
    custodian="mine",
    status="active",
    head="ab" * 32,
    created_index=3,
    updated_index=4,
    pending_to=None,
    origins=("ORE-1",),
    deposit="bastnaesite",
    time="2026-01-01T00:00:00Z",
    shipped_mass_g=None,
)


def test_a_lot_read_as_values_equals_one_read_as_a_row() -> None:
    values = tuple(getattr(LOT, name) for name in LOT_FIELDS)
    listed = (*values[:11], list(LOT.origins), *values[12:])
    row: Any = SimpleNamespace(**dict(zip(LOT_FIELDS, listed, strict=True)))
    assert lot_from_values(listed) == lot_from_row(row) == LOT
    assert asdict(lot_from_values(listed)) == asdict(LOT)


@pytest.mark.parametrize(
    "value",
    [
        {"La": 1, "Ce": 250_000, "Nd": 0},
        {},
        [],
        ["ORE-1", "ORE-2"],
        ("a", "b"),
        {"x": [1.5, float("nan"), float("inf"), {"é": None, 'q"\\\n': True}]},
        {"lots": [{"lot": "A", "controlled_ppm": {"Dy": 2_000}}], "tolerance": 0.1},
        None,
        "text",
    ],
)
def test_json_columns_hold_json_dumps_text_on_sqlite(value: object) -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        for model, column in ((LotRow, "composition_ppm"), (FlagRow, "evidence")):
            assert _stored_text(session, bulk.table(model).c[column], value) == json.dumps(value)


def test_a_json_cycle_is_refused_as_json_dumps_refuses_it() -> None:
    engine = create_engine("sqlite://")
    cycle: dict[str, object] = {}
    cycle["self"] = cycle
    with Session(engine) as session, pytest.raises(ValueError, match="Circular reference"):
        _stored_text(session, bulk.table(LotRow).c.composition_ppm, cycle)


def _stored_text(session: Session, column: Column[Any], value: object) -> object:
    """What insert_tuples stores for `value` in a column of `column`'s type, as SQLite holds it
    (a scratch table with that one column, in an in-memory database)."""
    scratch = Table(f"scratch_{column.name}", MetaData(), Column("value", column.type))
    scratch.create(session.connection())
    bulk.insert_tuples(session, scratch, ["value"], [(value,)])
    return session.connection().exec_driver_sql(f"SELECT value FROM {scratch.name}").scalar_one()


def test_a_balance_of_some_elements_is_the_full_balance_of_those() -> None:
    inputs = [(1_000.0, {"La": 30_000, "Fe": 5, "Nd": 7}), (333.0, {"Nd": 11_111, "Si": 3})]
    outputs = [(1_200.0, {"La": 25_000, "Nd": 3_000, "Ca": 9})]
    full = balance(inputs, outputs)
    some = balance(inputs, outputs, RARE_EARTHS)
    assert some == {e: item for e, item in full.items() if e in RARE_EARTHS}
    assert list(some) == sorted(some)
    assert all(type(item) is ElementBalance for item in some.values())


def test_distance_between_fingerprints_sums_in_sorted_order() -> None:
    pattern = fingerprint({"La": 300, "Ce": 500, "Nd": 150, "Y": 40, "Dy": 7, "Ho": 3})
    for profile in DEPOSIT_PROFILES.values():
        keys = sorted(pattern.keys() | profile.keys())
        expected = 0.5 * sum(abs(pattern.get(k, 0.0) - profile.get(k, 0.0)) for k in keys)
        assert distance(pattern, profile) == expected
    composition = {"La": 300, "Ce": 500}
    assert closest_profile(composition, DEPOSIT_PROFILES, fingerprint(composition)) == (
        closest_profile(composition, DEPOSIT_PROFILES)
    )


@pytest.mark.parametrize(
    "text",
    [
        "Nickel alloy tiles",
        "NdFeB magnets (sintered)",
        "ceramic-tiles, ferro-alloy; steel",
        "steelworks ferroalloys",
        "Rare-earth oxide, REO 99%",
        "",
    ],
)
def test_terms_are_found_as_the_plain_regex_finds_them(text: str) -> None:
    for terms in (NON_RE_TERMS, RE_TERMS):
        lowered = text.lower()
        expected = [
            term
            for term in terms
            if re.search(rf"(?<![a-z0-9]){re.escape(term.lower())}(?![a-z0-9])", lowered)
        ]
        assert terms_in(read(text), ready(terms)) == expected
