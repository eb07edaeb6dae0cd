"""Frauds in the record of custody and processing (DOMAIN §5: 4-8, 10; MIX and SHIP codes)."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ledger.demo import actions
from ledger.demo import plan as plans
from ledger.demo.book import Book, Lot
from ledger.demo.cast import MINES
from ledger.demo.chemistry import REY, Composition, cap
from ledger.demo.model import REJECT, REJECTED
from ledger.demo.plan import Plan
from ledger.demo.tamper import Draft, Tamper

_NOT_CONCENTRATE = ("oxide", "metal", "powder", "magnet")


def _beyond_concentrate(tamper: Tamper, plan: Plan) -> Plan:
    """`plan`, or one that goes at least to separated oxides."""
    if plan.end != "concentrate":
        return plan
    return plans.draw(tamper.rng, plan.chain, tamper.rng.choice(_NOT_CONCENTRATE))


def _plant_target(tamper: Tamper, plan: Plan) -> str:
    """Separation, or reduction when the chain reduces oxides to metal."""
    return "separation" if plan.end == "oxide" else tamper.rng.choice(("separation", "reduction"))


class PhantomProduction(Tamper):
    """A separation or reduction output holding 15-40 % more of an element than went in."""

    pattern, code = "phantom_production", "OUTPUT_EXCEEDS_INPUT"
    target = ""

    def require(self, plan: Plan) -> Plan:
        plan = _beyond_concentrate(self, plan)
        self.target = _plant_target(self, plan)
        return plan

    def outputs(self, process: str, drafts: list[Draft]) -> list[Draft]:
        if self.fired or process != self.target:
            return drafts
        # The output and element with the most rare-earth mass: the one worth inflating.
        index = max(range(len(drafts)), key=lambda i: sum(drafts[i][1].values()))
        lot_id, grams = drafts[index]
        element = max(grams, key=lambda e: grams[e])
        factor = self.rng.uniform(1.17, 1.43)  # over an honest ~0.98 recovery: 15-40 % gain
        self.fire(lot_id, f"{process}: {element} out raised ×{factor:.2f} over the honest output")
        changed = list(drafts)
        changed[index] = (lot_id, {**grams, element: grams[element] * factor})
        return changed


class Diversion(Tamper):
    """A separation or reduction that recovers only 40-60 % of the rare earths."""

    pattern, code = "diversion", "YIELD_BELOW_FLOOR"
    target = ""

    def require(self, plan: Plan) -> Plan:
        plan = _beyond_concentrate(self, plan)
        self.target = _plant_target(self, plan)
        return plan

    def recovery(self, process: str, source: Lot, recovery: float) -> float:
        if self.fired or process != self.target:
            return recovery
        diverted = self.rng.uniform(0.40, 0.60)
        self.fire(source.id, f"{process} of {source.id} recovers {diverted:.2f} of its REE")
        return diverted


class DoubleUse(Tamper):
    """A lot consumed again after a transform used it up (variant 0), or shipped a second
    time while in transit (variant 1): the state machine refuses both."""

    pattern, code = "double_use", REJECTED
    target = ""

    def require(self, plan: Plan) -> Plan:
        processes = ["beneficiation"]
        if plan.end != "concentrate":
            processes += ["cracking", "separation"]
        if plan.end in ("metal", "powder", "magnet"):
            processes.append("reduction")
        self.target = self.rng.choice(processes)
        return plan

    def again(self, book: Book, moment: str, step: dict[str, Any]) -> None:
        if self.fired:
            return
        if self.variant % 2 == 0 and moment == "consumed" and step["process"] == self.target:
            self._consume_again(book, step)
        elif self.variant % 2 == 1 and moment == "shipped":
            self._ship_again(book, step)

    def _consume_again(self, book: Book, step: dict[str, Any]) -> None:
        used = step["inputs"][0]
        lot = book.lots[used["lot"]]
        outputs = [_copy(book, made) for made in step["outputs"]]
        book.wait((2, 12))
        self.fire(lot.id, f"{step['process']} of {lot.id} posted again after it was consumed")
        inputs = [(lot, used["mass_g"])]
        actions.transform(book, step["actor"], step["process"], inputs, outputs, expect=REJECT)

    def _ship_again(self, book: Book, step: dict[str, Any]) -> None:
        sent = step["lots"][0]
        lot = book.lots[sent["lot"]]
        elsewhere = next(t for t in _TRADERS if t not in (step["actor"], step["to"]))
        book.wait((2, 12))
        self.fire(lot.id, f"{lot.id} shipped to {elsewhere} while in transit to {step['to']}")
        actions.ship(book, step["actor"], elsewhere, [(lot, sent["mass_g"])], expect=REJECT)


_TRADERS = ("shanghai-re-trading", "rotterdam-metals-trading", "ruili-border-trading")


def _copy(book: Book, made: dict[str, Any]) -> Lot:
    kind = made["id"].split("-")[0]
    return Lot(
        book.lot_id(kind),
        made["product"],
        made["mass_g"],
        dict(made["composition_ppm"]),
        "",
        made.get("spec"),
    )


class WrongOrigin(Tamper):
    """Heavy ionic-clay ore extracted at a bastnaesite mine under deposit "bastnaesite"."""

    pattern, code = "wrong_origin", "ORIGIN_MISMATCH"

    def require(self, plan: Plan) -> Plan:
        bastnaesite = [mine for mine in MINES if mine.deposit == "bastnaesite"]
        redrawn = plans.draw(self.rng, plan.chain, plan.end, mines=bastnaesite)
        # The heavy pattern has no lanthanum cut of its own: export the PrNd oxide instead.
        oxides = ("ndpr",) if redrawn.end == "oxide" else ()
        return replace(redrawn, blend=False, oxides=oxides)

    def profile(self, profile: str, lot: str) -> str:
        if self.fired:
            return profile
        self.fire(
            lot, "ore with a heavy ionic-clay (Longnan type) REE pattern, declared bastnaesite"
        )
        return "clay_heavy"


class SubstitutionInTransit(Tamper):
    """Goods weighed 5-20 % off the shipped mass at receipt (variant 0), or an assay on arrival
    that finds Dy or Nd 20-40 % below the record (variant 1)."""

    pattern = "substitution_in_transit"
    leg = ""

    def require(self, plan: Plan) -> Plan:
        if self.variant % 2 == 0:
            self.code = "RECEIPT_MISMATCH"
            self.leg = self.rng.choice(plan.legs)
            return plan
        self.code = "COMPOSITION_MISMATCH"
        return replace(_beyond_concentrate(self, plan), arrival_assay=True)

    def weighed(self, leg: str, lot: Lot, honest: int) -> int:
        if self.fired or leg != self.leg:
            return honest
        sign = 1 if self.rng.random() < 0.3 else -1
        weighed = round(honest * (1 + sign * self.rng.uniform(0.05, 0.20)))
        self.fire(lot.id, f"{lot.id} shipped as {lot.mass_g} g, weighed {weighed} g on arrival")
        return weighed

    def arrival(self, lot: Lot, reading: Composition) -> Composition:
        if self.fired or self.variant % 2 == 0:
            return reading
        element = "Dy" if reading.get("Dy", 0) >= 5_000 else "Nd"
        factor = 1 - self.rng.uniform(0.20, 0.40)
        found = round(reading[element] * factor)
        recorded = lot.composition[element]
        note = f"assay on arrival finds {element} {found} ppm; the record has {recorded} ppm"
        self.fire(lot.id, note)
        return {**reading, element: found}


class TimeTravel(Tamper):
    """A transform dated 2-6 days before the last event of its input (the lot named)."""

    pattern, code = "time_travel", "TIME_INCONSISTENT"
    target = ""

    def require(self, plan: Plan) -> Plan:
        plan = _beyond_concentrate(self, plan)
        processes = ["cracking", "separation"]
        if plan.end in ("metal", "powder", "magnet"):
            processes.append("reduction")
        if plan.end in ("powder", "magnet"):
            processes += ["alloying", "milling"]
        if plan.end == "magnet":
            processes += ["sintering", "machining"]
        self.target = self.rng.choice(processes)
        return plan

    def backdate(
        self, process: str, inputs: list[Lot], outputs: list[Lot], floor: datetime
    ) -> datetime | None:
        if self.fired or process != self.target:
            return None
        # The flag names the input whose last event the transform claims to precede.
        latest = max(inputs, key=lambda lot: lot.time)
        when = max(floor, latest.time - timedelta(hours=self.rng.randint(48, 144)))
        note = (
            f"{process} making {outputs[0].id} dated {when:%Y-%m-%d %H:%M}, before the last "
            f"event of its input {latest.id} at {latest.time:%Y-%m-%d %H:%M}"
        )
        self.fire(latest.id, note)
        return when


class MixInconsistent(Tamper):
    """A blend (variant 0) or split (variant 1) output whose rare earths are written 12-25 %
    above the mass-weighted inputs: paper upgrading."""

    pattern, code = "mix_inconsistent", "MIX_INCONSISTENT"

    def require(self, plan: Plan) -> Plan:
        if self.variant % 2 == 0:
            return replace(plan, blend=True)
        # An oxide or metal is nearly all rare earth: there is no room to write more of it.
        if plan.end in ("oxide", "metal"):
            plan = plans.draw(self.rng, plan.chain, self.rng.choice(("magnet", "concentrate")))
        return replace(plan, split=True)

    def mixed(self, process: str, lot: str, composition: Composition) -> Composition:
        wanted = "blend" if self.variant % 2 == 0 else "split"
        if self.fired or process != wanted:
            return composition
        factor = self.rng.uniform(1.12, 1.25)
        upgraded = {e: round(v * factor) if e in REY else v for e, v in composition.items()}
        self.fire(lot, f"{process} output rare earths written ×{factor:.2f} the mixed inputs")
        return cap(upgraded)


class ShipMass(Tamper):
    """A shipment that states 5-20 % less (sometimes more) than the lot's recorded mass."""

    pattern, code = "ship_mass", "SHIP_MASS_MISMATCH"
    leg = ""

    def require(self, plan: Plan) -> Plan:
        self.leg = self.rng.choice(plan.legs)
        return plan

    def shipped(self, leg: str, lot: Lot) -> int:
        if self.fired or leg != self.leg:
            return lot.mass_g
        sign = 1 if self.rng.random() < 0.25 else -1
        stated = round(lot.mass_g * (1 + sign * self.rng.uniform(0.05, 0.20)))
        self.fire(lot.id, f"{lot.id} holds {lot.mass_g} g, shipped as {stated} g")
        return stated


class LineageRatchet(Tamper):
    """The exporter's single-output splits, each writing the rare earths 4-7 % above the lot
    split (inside MIX_INCONSISTENT's 10 %), until the lot claims over 1.3× what it held."""

    pattern, code = "lineage_ratchet", "LINEAGE_IMBALANCE"

    def require(self, plan: Plan) -> Plan:
        # An oxide or metal is nearly all rare earth: there is no room to write more of it.
        if plan.end in ("oxide", "metal"):
            plan = plans.draw(self.rng, plan.chain, self.rng.choice(("magnet", "concentrate")))
        return replace(plan, split=False)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        # The lot was weighed on arrival: its lineage holds it to its claim × 1.1, and the
        # lineage tolerance adds 10 %. Past 1.3× the last split is caught whatever came before.
        total = 1.0
        while not self.fired:
            factor = self.rng.uniform(1.04, 1.07)
            total *= factor
            book.wait((2, 12))
            made = Lot(
                book.lot_id(lot.id.split("-")[0]),
                lot.product,
                lot.mass_g,
                cap({e: round(v * factor) if e in REY else v for e, v in lot.composition.items()}),
                lot.custodian,
                lot.spec,
            )
            if total > 1.3:
                note = f"{made.id}: the rare earths of {lot.id} written ×{total:.2f} in splits"
                self.fire(made.id, note)
            actions.transform(book, lot.custodian, "split", [(lot, lot.mass_g)], [made])
            lot = made
        return lot
