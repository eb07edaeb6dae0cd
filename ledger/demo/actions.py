"""The events of DESIGN §5 written into a chain's book, and what each does to its lots."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ledger.demo.book import Book, Lot, rfc3339
from ledger.demo.cast import COUNTRY, EXPORT_AUTHORITY, NAME, QUOTA_AUTHORITY, Mine
from ledger.demo.chemistry import Composition
from ledger.demo.model import ACCEPT

Part = tuple[Lot, int]  # a lot and the grams an event names for it


def extract(book: Book, mine: Mine, lot: Lot, deposit: str) -> str:
    site = {
        "id": mine.site_id,
        "name": mine.site_name,
        "country": COUNTRY[mine.id],
        "geo": mine.geo,
    }
    fields = {"lot": lot.wire, "site": site, "deposit": deposit}
    return book.post(mine.id, "lot.extract", [], fields, made=[lot])


def quota(book: Book, mine: Mine, number: int, reo_mass_g: int) -> str:
    """The authority's quota for `mine` in the year of the book's clock (DESIGN §9.1)."""
    issued = {
        "id": f"CN-RQ-{book.clock.year}-{book.chain:05d}-{number}",
        "holder": mine.id,
        "year": book.clock.year,
        "reo_mass_g": reo_mass_g,
        "deposit": mine.deposit,
    }
    return book.post(QUOTA_AUTHORITY, "quota.issue", [], {"quota": issued}, seal=False)


def licence(
    book: Book, declaration: dict[str, Any], lots: Sequence[Lot], elements: list[str]
) -> str:
    """The export licence the declaration names, issued to its exporter for exactly its goods:
    the elemental grams of `elements` they carry, its destination and HS code, one year."""
    held = sum(lot.mass_g * lot.composition.get(e, 0) for lot in lots for e in elements)
    issued = {
        "id": declaration["licence"],
        "holder": lots[0].custodian,
        "elements": elements,
        "destination": [declaration["destination"]],
        "hs_codes": [declaration["hs_code"]],
        "max_mass_g": max(held // 1_000_000, 1),
        "valid_from": rfc3339(book.clock - timedelta(days=1)),
        "valid_until": rfc3339(book.clock + timedelta(days=365)),
    }
    return book.post(EXPORT_AUTHORITY, "licence.issue", [], {"licence": issued}, seal=False)


def transform(
    book: Book,
    actor: str,
    process: str,
    inputs: Sequence[Part],
    outputs: Sequence[Lot],
    *,
    when: datetime | None = None,
    expect: str = ACCEPT,
) -> str:
    fields = {
        "process": process,
        "inputs": _masses(inputs),
        "outputs": [lot.wire for lot in outputs],
    }
    touched = [lot.id for lot, _ in inputs]
    accepted = expect == ACCEPT
    made = outputs if accepted else ()
    event_id = book.post(
        actor, "lot.transform", touched, fields, expect=expect, made=made, when=when
    )
    if accepted:
        for lot, mass in inputs:
            lot.mass_g -= mass
    return event_id


def ship(book: Book, actor: str, to: str, parts: Sequence[Part], *, expect: str = ACCEPT) -> str:
    overseas = COUNTRY[actor] != COUNTRY[to]
    transport = {
        "mode": "sea" if overseas else "rail",
        "document": f"{'BL' if overseas else 'WB'}-{book.chain:05d}-{len(book.steps) + 1}",
    }
    fields = {"to": to, "lots": _masses(parts), "transport": transport}
    touched = [lot.id for lot, _ in parts]
    return book.post(actor, "lot.ship", touched, fields, expect=expect)


def receive(book: Book, actor: str, sender: str, parts: Sequence[Part]) -> str:
    fields = {"from": sender, "lots": _masses(parts)}
    event_id = book.post(actor, "lot.receive", [lot.id for lot, _ in parts], fields)
    for lot, weighed in parts:
        lot.mass_g = weighed
        lot.custodian = actor
    return event_id


def assay(book: Book, lab: str, lot: Lot, reading: Composition, method: str) -> str:
    fields = {
        "lot": lot.id,
        "composition_ppm": reading,
        "method": method,
        "lab": NAME[lab],
        "certificate": f"{lab.split('-')[0].upper()}-{book.chain:05d}-{len(book.steps) + 1}",
    }
    return book.post(lab, "lot.assay", [lot.id], fields)


def declare(book: Book, exporter: str, declaration: dict[str, Any], lots: Sequence[Lot]) -> str:
    fields = {"declaration": declaration}
    return book.post(exporter, "export.declare", [lot.id for lot in lots], fields)


def decide(book: Book, customs: str, declaration_id: str, lots: Sequence[Lot]) -> str:
    fields = {"declaration": declaration_id, "decision": "release"}
    return book.post(customs, "customs.decide", [lot.id for lot in lots], fields)


def _masses(parts: Sequence[Part]) -> list[dict[str, Any]]:
    return [{"lot": lot.id, "mass_g": mass} for lot, mass in parts]
