"""Builders shared by the rules tests (lot states, a reader, events), and checks on them."""

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from ledger.lots.composition import FINGERPRINT_BINS, fingerprint
from ledger.lots.events import (
    Declaration,
    Event,
    LotAssay,
    LotExtract,
    LotReceive,
    LotShip,
    LotTransform,
    parse_event,
)
from ledger.lots.memory import MemoryState
from ledger.lots.records import ACTIVE, LotState
from ledger.lots.rules import Flag
from ledger.lots.tolerances import Tolerances
from ledger.tlog.encoding import canonical

TIME = "2026-03-01T08:00:00Z"
TOL = Tolerances()
HEAD = "ab" * 32
NDFEB = {"Nd": 230_000, "Pr": 75_000, "Dy": 9_000, "Fe": 665_000, "B": 10_000, "Co": 10_000}
SMCO = {"Sm": 250_000, "Co": 520_000, "Fe": 150_000, "Cu": 60_000, "Zr": 20_000}


def lot(
    lot_id: str,
    mass_g: int,
    composition: Mapping[str, int],
    product: str = "ore",
    *,
    deposit: str | None = None,
    time: str = TIME,
    shipped_mass_g: int | None = None,
) -> LotState:
    return LotState(
        id=lot_id,
        product=product,
        spec=None,
        mass_g=mass_g,
        composition_ppm=dict(composition),
        custodian="proc-b",
        status=ACTIVE,
        head=HEAD,
        created_index=1,
        updated_index=1,
        pending_to=None,
        origins=(lot_id,),
        deposit=deposit,
        time=time,
        shipped_mass_g=shipped_mass_g,
    )


def reader(*lots: LotState) -> MemoryState:
    state = MemoryState()
    state.lots.update((held.id, held) for held in lots)
    return state


def build(type_: str, actor: str = "proc-b", time: str = TIME, **fields: Any) -> Event:
    """An event parsed from canonical bytes, as the ledger reads it (prev is left empty)."""
    body = {"type": type_, "id": "ev-1", "actor": actor, "time": time, "prev": {}, **fields}
    return parse_event(canonical(body))


def output(
    lot_id: str, product: str, mass_g: int, composition: Mapping[str, int]
) -> dict[str, Any]:
    return {
        "id": lot_id,
        "product": product,
        "mass_g": mass_g,
        "composition_ppm": dict(composition),
    }


def transform(
    process: str, inputs: Mapping[str, int], outputs: Iterable[dict[str, Any]], time: str = TIME
) -> LotTransform:
    refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in inputs.items()]
    event = build("lot.transform", time=time, process=process, inputs=refs, outputs=list(outputs))
    assert isinstance(event, LotTransform)
    return event


def extract(
    lot_id: str, composition: Mapping[str, int], deposit: str, product: str = "ore"
) -> LotExtract:
    site = {"id": "S-1", "name": "Site", "country": "AU"}
    new = output(lot_id, product, 1_000_000_000, composition)
    event = build("lot.extract", actor="mine-a", lot=new, site=site, deposit=deposit)
    assert isinstance(event, LotExtract)
    return event


def assay(lot_id: str, composition: Mapping[str, int], time: str = TIME) -> LotAssay:
    event = build(
        "lot.assay",
        actor="lab-e",
        time=time,
        lot=lot_id,
        composition_ppm=dict(composition),
        method="ICP-OES",
        lab="Lab E",
    )
    assert isinstance(event, LotAssay)
    return event


def ship(lots: Mapping[str, int], time: str = TIME) -> LotShip:
    refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in lots.items()]
    event = build("lot.ship", time=time, to="trader-f", lots=refs)
    assert isinstance(event, LotShip)
    return event


def receive(lots: Mapping[str, int], time: str = TIME) -> LotReceive:
    refs = [{"lot": lot_id, "mass_g": mass} for lot_id, mass in lots.items()]
    sender: dict[str, Any] = {"from": "proc-b"}
    event = build("lot.receive", actor="trader-f", time=time, lots=refs, **sender)
    assert isinstance(event, LotReceive)
    return event


def declaration(lots: list[str], declared_mass_g: int, **fields: Any) -> Declaration:
    body = {
        "id": "D-1",
        "lots": lots,
        "hs_code": "850511",
        "description": "sintered NdFeB magnets",
        "declared_mass_g": declared_mass_g,
        "destination": "JP",
        **fields,
    }
    return msgspec.convert(body, Declaration)


def pattern(shares: Mapping[str, float], rey_ppm: int, rest: str = "Fe") -> dict[str, int]:
    """A composition whose REY (`rey_ppm` in all) follows `shares` over the fingerprint bins;
    the HREE bin goes to Er. `rest` fills the mass up to 1,000,000 ppm."""
    composition = {
        ("Er" if name == "HREE" else name): round(share * rey_ppm)
        for name, share in shares.items()
        if round(share * rey_ppm) > 0
    }
    composition[rest] = 1_000_000 - sum(composition.values())
    return composition


def blend_shares(p: Mapping[str, float], q: Mapping[str, float], w: float) -> dict[str, float]:
    """(1 − w)·p + w·q: its total variation distance from p is w times that of q from p."""
    return {name: (1 - w) * p.get(name, 0.0) + w * q.get(name, 0.0) for name in FINGERPRINT_BINS}


def codes(flags: Iterable[Flag]) -> list[str]:
    return [flag.code for flag in flags]


def rule_codes(flags: Iterable[Flag]) -> list[str]:
    """codes() without PROCESS_INCONSISTENT, for the cases that run one composition through
    every process: their product labels are not what they test (test_rules_grammar.py is)."""
    return [flag.code for flag in flags if flag.code != "PROCESS_INCONSISTENT"]


def only(flags: list[Flag], code: str) -> Flag:
    """The one flag of `code` among `flags`."""
    found = [flag for flag in flags if flag.code == code]
    assert len(found) == 1, flags
    return found[0]


def test_pattern_builder_reproduces_the_shares() -> None:
    shares = dict.fromkeys(FINGERPRINT_BINS, 1 / len(FINGERPRINT_BINS))
    built = fingerprint(pattern(shares, 110_000))
    assert all(abs(built[name] - shares[name]) < 1e-5 for name in FINGERPRINT_BINS)


def test_builders_make_events_the_ledger_parses() -> None:
    event = transform("split", {"A": 10}, [output("B", "ore", 10, {"La": 1})])
    assert event.inputs[0].lot == "A" and event.outputs[0].id == "B"
    assert receive({"A": 5}).from_ == "proc-b"
