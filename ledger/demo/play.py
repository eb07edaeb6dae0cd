"""A campaign's script: a Tamper that marks where its evasion begins, and the moves colluding
key holders make with the lots they hold (split, ship to each other, declare)."""

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ledger.demo import actions
from ledger.demo.book import Book, Lot, rfc3339
from ledger.demo.cast import CUSTOMS_OF, EXPORT_AUTHORITY
from ledger.demo.chains import GAPS, Chain
from ledger.demo.chemistry import Composition, cap
from ledger.demo.plan import Plan
from ledger.demo.tamper import Tamper


class Play(Tamper):
    """An evasion strategy (or an honest edge case) played on one generated chain.

    `arm` says that the next event written carries the evasion: the campaign is judged on
    the events from that one on. `expected` are the codes any of which catches the strategy
    (DESIGN §5 and §9); an honest case expects none and must raise no medium or high flag.
    """

    name = ""
    honest = False
    expected: tuple[str, ...] = ()
    # A strategy the record cannot show (why), played to measure it and keep it in view.
    unseen = ""

    def __init__(self, rng: random.Random, variant: int) -> None:
        super().__init__(rng, variant)
        self.began: str | None = None  # the first event of the evasion
        self.targets: list[str] = []  # the lots the evasion passes off
        self.notes: list[str] = []
        self._armed = False
        self.plan: Plan  # set by build

    def build(self, book: Book, plan: Plan) -> None:
        """Write the campaign into `book`: by default the chain of `plan`, hooks offered."""
        self.plan = plan
        Chain(plan, book, self, self.rng).build()

    def arm(self, lot: str, note: str) -> None:
        if self.began is None:
            self._armed = True
        if lot not in self.targets:
            self.targets.append(lot)
        if note not in self.notes:
            self.notes.append(note)

    def passes(self, lot: Lot) -> Lot:
        """`lot` is what the evasion passes off (in place of the lots armed so far)."""
        self.targets = [lot.id]
        return lot

    def seal(self, event_id: str) -> None:
        if self._armed:
            self.began, self._armed = event_id, False

    @property
    def note(self) -> str:
        return "; ".join(self.notes)


def single_split(
    book: Book, lot: Lot, composition: Composition, product: str = "", mass_g: int = 0
) -> Lot:
    """`lot` split whole into one new lot written with `composition` and `mass_g` (its own
    mass if 0): a repack on paper."""
    book.wait((2, 12))
    made = Lot(
        book.lot_id(lot.id.split("-")[0]),
        product or lot.product,
        mass_g or lot.mass_g,
        cap(composition),
        lot.custodian,
        lot.spec,
    )
    actions.transform(book, lot.custodian, "split", [(lot, lot.mass_g)], [made])
    return made


def split(book: Book, lot: Lot, masses: Sequence[int], product: str = "") -> list[Lot]:
    """`lot` split into lots of `masses` grams (the first written as `product`, if given)."""
    book.wait((2, 12))
    kind = lot.id.split("-")[0]
    parts = [
        Lot(
            book.lot_id(kind),
            (product or lot.product) if i == 0 else lot.product,
            mass,
            dict(lot.composition),
            lot.custodian,
            lot.spec,
        )
        for i, mass in enumerate(masses)
    ]
    actions.transform(book, lot.custodian, "split", [(lot, sum(masses))], parts)
    return parts


def blend(book: Book, lots: Sequence[Lot]) -> Lot:
    """`lots` (one product, one custodian) blended whole into one lot."""
    book.wait((2, 12))
    total = sum(lot.mass_g for lot in lots)
    grams: dict[str, float] = {}
    for lot in lots:
        for element, value in lot.composition.items():
            grams[element] = grams.get(element, 0.0) + lot.mass_g * value
    composition = {e: int(g // total) for e, g in sorted(grams.items()) if g // total > 0}
    first = lots[0]
    made = Lot(
        book.lot_id(first.id.split("-")[0]),
        first.product,
        total,
        composition,
        first.custodian,
        first.spec,
    )
    actions.transform(book, first.custodian, "blend", [(lot, lot.mass_g) for lot in lots], [made])
    return made


def move(
    book: Book,
    lots: Sequence[Lot],
    to: str,
    *,
    stated: Sequence[int] | None = None,
    weighed: Sequence[int] | None = None,
) -> None:
    """Ship `lots` to `to` (stating `stated` grams) and receive them there (weighed)."""
    sender = lots[0].custodian
    book.wait(GAPS["dispatch"])
    said = list(stated) if stated is not None else [lot.mass_g for lot in lots]
    actions.ship(book, sender, to, list(zip(lots, said, strict=True)))
    book.wait(GAPS["domestic"])
    read = list(weighed) if weighed is not None else said
    actions.receive(book, to, sender, list(zip(lots, read, strict=True)))


def declare(
    book: Book,
    exporter: str,
    lots: Sequence[Lot],
    declaration: dict[str, Any],
    *,
    decide: bool = True,
) -> str:
    """File `declaration` for `lots` (the id, lots and mass filled in) and have it released."""
    book.wait(GAPS["declare"])
    filed = {
        "lots": [lot.id for lot in lots],
        "declared_mass_g": sum(lot.mass_g for lot in lots),
        **declaration,
    }
    event_id = actions.declare(book, exporter, filed, lots)
    if decide:
        book.wait(GAPS["decide"])
        actions.decide(book, CUSTOMS_OF[exporter], filed["id"], lots)
    return event_id


def scaled(composition: Composition, element: str, factor: float) -> Composition:
    """`composition` with `element` times `factor` (capped so the total stays 10^6 ppm)."""
    return cap({**composition, element: round(composition.get(element, 0) * factor)})


def issue_licence(
    book: Book,
    number: str,
    declaration: dict[str, Any],
    holder: str,
    elements: Sequence[str],
    max_mass_g: int,
    *,
    valid_until: datetime | None = None,
) -> None:
    """The authority's licence `number` for the destination and HS code of `declaration`,
    valid for a year (or until `valid_until`, issued half a year before it)."""
    until = valid_until if valid_until is not None else book.clock + timedelta(days=365)
    since = until - timedelta(days=366 if valid_until is None else 180)
    issued = {
        "id": number,
        "holder": holder,
        "elements": list(elements),
        "destination": [declaration["destination"]],
        "hs_codes": [declaration["hs_code"]],
        "max_mass_g": max_mass_g,
        "valid_from": rfc3339(since),
        "valid_until": rfc3339(until),
    }
    when = None if valid_until is None else since
    book.post(EXPORT_AUTHORITY, "licence.issue", [], {"licence": issued}, seal=False, when=when)


def elemental_g(lot: Lot, elements: Sequence[str]) -> int:
    """The grams of `elements` in `lot`, rounded down as a licence counts them."""
    return sum(lot.mass_g * lot.composition.get(e, 0) for e in elements) // 1_000_000
