"""The hooks a chain offers a fraud, and the honest answer each gives when nothing is planted."""

import random
from datetime import datetime
from typing import Any

from ledger.demo.book import Book, Lot
from ledger.demo.chemistry import Composition, Masses
from ledger.demo.model import Injection
from ledger.demo.plan import Plan

Draft = tuple[str, Masses]  # an output lot's id and its element grams before they are fixed


class Tamper:
    """No fraud: every hook hands back what the honest chain computed.

    An injector overrides the hook of its step; when it changes something it calls `fire`
    with the lot and a note, and the next event the chain writes becomes the injection.
    """

    pattern = ""
    code = ""

    def __init__(self, rng: random.Random, variant: int) -> None:
        self.rng = rng
        self.variant = variant  # which of the pattern's variants this occurrence plays
        self.injection: Injection | None = None
        self._pending: tuple[str, str] | None = None

    @property
    def fired(self) -> bool:
        return self.injection is not None or self._pending is not None

    def fire(self, lot: str, note: str) -> None:
        if self.fired:
            raise RuntimeError(f"{self.pattern} fired twice in one chain")
        self._pending = (lot, note)

    def seal(self, event_id: str) -> None:
        """The event just written carries the pending fraud, if there is one."""
        if self._pending is not None:
            lot, note = self._pending
            self.injection = Injection(self.pattern, self.code, event_id, lot, note)
            self._pending = None

    # The hooks, in the order a chain meets them.

    def require(self, plan: Plan) -> Plan:
        """The plan, changed so that the step this fraud needs is in it."""
        return plan

    def profile(self, profile: str, lot: str) -> str:
        """The REE pattern the ore lot `lot` about to be extracted really carries."""
        return profile

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        """The mass and composition written for `lot`, made by `process` ("extract" for an
        extracted ore, "beneficiation", "alloying"), given what the honest chain computed."""
        return mass_g, composition

    def quota(self, lot: str, reo_g: int) -> int | None:
        """The quota (REO grams) the authority issues for the extraction of `lot`, whose REO
        is `reo_g`; None: no quota."""
        return reo_g

    def mixed(self, process: str, lot: str, composition: Composition) -> Composition:
        """The composition written for a split or blend output."""
        return composition

    def relabel(self, process: str, lot: str, product: str) -> str:
        """The product written for the split or blend output `lot` of `product`."""
        return product

    def recovery(self, process: str, source: Lot, recovery: float) -> float:
        """The rare-earth recovery of `process`, which consumes `source` (the first input)."""
        return recovery

    def outputs(self, process: str, drafts: list[Draft]) -> list[Draft]:
        """The element grams written for a transform's outputs, before masses are fixed."""
        return drafts

    def backdate(
        self, process: str, inputs: list[Lot], outputs: list[Lot], floor: datetime
    ) -> datetime | None:
        """A time to write on a transform instead of the clock's (never before `floor`)."""
        return None

    def again(self, book: Book, moment: str, step: dict[str, Any]) -> None:
        """After `step` (a transform that consumed its inputs, or a shipment): post more."""

    def shipped(self, leg: str, lot: Lot) -> int:
        """The mass a shipment states for `lot` on `leg`."""
        return lot.mass_g

    def weighed(self, leg: str, lot: Lot, honest: int) -> int:
        """The mass the receiver writes, given what honest scales read."""
        return honest

    def arrival(self, lot: Lot, reading: Composition) -> Composition:
        """What the lab writes for an assay on arrival, given an honest reading."""
        return reading

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        return declaration

    def before_export(self, book: Book, lot: Lot) -> Lot:
        """The lot the exporter declares, given the one it holds (it may post more first)."""
        return lot
