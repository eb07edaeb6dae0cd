"""Evasions that make material on paper step by step, each step inside its own tolerance
(issue 14): small lots and fixed allowances, ratchets, metal "cracked" into metal, receipts
shaved or inflated, Dy written where a metal is not measured. LINEAGE_IMBALANCE holds the
lineage to the mines' supply."""

import math
from dataclasses import replace

from ledger.demo import actions
from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.authority_frauds import CN_DY_MAGNETS
from ledger.demo.book import Book, Lot
from ledger.demo.cast import MINES
from ledger.demo.plan import Plan
from ledger.demo.play import Play, blend, move, scaled, single_split, split

DY_METAL_MINES = tuple(mine for mine in MINES if "dy" in plans.METALS[mine.profile])
TRADER = "shanghai-re-trading"


def dy_metal(play: Play, plan: Plan) -> Plan:
    """A chain that ends in Dy metal at its (Chinese) metal exporter."""
    drawn = plans.draw(play.rng, plan.chain, "metal", mines=DY_METAL_MINES)
    return replace(drawn, metal="dy", split=False)


def dy_magnet(play: Play, plan: Plan) -> Plan:
    """A chain that ends in Dy-bearing NdFeB magnets at a Chinese exporter."""
    drawn = plans.draw(play.rng, plan.chain, "magnet", mines=CN_DY_MAGNETS, magnets=("ndfeb_dy",))
    return replace(drawn, split=False)


class SmallLots(Play):
    """Dy metal split into 90-150 g lots, each shipped stating 100 g more than it holds and
    weighed 1 % + 100 g over that (the fixed allowances of ship and receipt), blended back."""

    name, expected = "small_lots", ("LINEAGE_IMBALANCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        exporter, refinery = lot.custodian, self.plan.cluster.metals
        sizes = [self.rng.randint(90, 150) for _ in range(self.rng.randint(3, 8))]
        stated = [size + math.floor(0.005 * size) + 100 for size in sizes]
        weighed = [mass + math.floor(0.01 * mass) + 100 for mass in stated]
        self.arm(
            lot.id,
            f"{len(sizes)} lots of {min(sizes)}-{max(sizes)} g shipped as "
            f"{min(stated)}-{max(stated)} g, weighed {min(weighed)}-{max(weighed)} g",
        )
        *small, rest = split(book, lot, [*sizes, lot.mass_g - sum(sizes)])
        move(book, small, refinery, stated=stated, weighed=weighed)
        pooled = blend(book, small)
        move(book, [pooled], exporter)
        return self.passes(blend(book, [pooled, rest]))


class RatchetUp(Play):
    """Repeated single-output splits of Dy magnets, each writing 0.8-1.5 % more Dy (inside
    MIX_INCONSISTENT's 10 %; variant 1: 0.5-0.95 % more mass, inside the 1 % a split may
    weigh over its input), until the lot claims 1.13-1.45 times its Dy."""

    name, expected = "ratchet_up", ("LINEAGE_IMBALANCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        target, total, steps = self.rng.uniform(1.13, 1.45), 1.0, 0
        by_mass = self.variant % 2 == 1
        what = "mass" if by_mass else "Dy"
        self.arm(lot.id, f"{what} of {lot.id} ratcheted up by single-output splits")
        while total < target:
            if by_mass:
                heavier = round(lot.mass_g * self.rng.uniform(1.005, 1.0095))
                total, steps = total * heavier / lot.mass_g, steps + 1
                lot = single_split(book, lot, lot.composition, mass_g=heavier)
            else:
                factor = self.rng.uniform(1.008, 1.015)
                total, steps = total * factor, steps + 1
                lot = single_split(book, lot, scaled(lot.composition, "Dy", factor))
        self.notes.append(f"{steps} splits, {what} ×{total:.2f}")
        return self.passes(lot)


class RatchetDown(Play):
    """Single-output splits of Dy magnets each writing 8.5-9.9 % less Dy, until the lot
    shows under the 1,000 ppm threshold and leaves without a licence."""

    name, expected = "ratchet_down", ("LINEAGE_IMBALANCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        start, steps = lot.composition["Dy"], 0
        self.arm(lot.id, f"Dy of {lot.id} ({start} ppm) ratcheted down by single-output splits")
        while lot.composition.get("Dy", 0) >= ref.CONTROLLED_PPM:
            factor = 1 - self.rng.uniform(0.085, 0.099)
            lot = single_split(book, lot, scaled(lot.composition, "Dy", factor))
            steps += 1
        self.notes.append(f"{steps} splits to {lot.composition['Dy']} ppm, declared unlicensed")
        return self.passes(lot)


class CrackedMetal(Play):
    """Dy metal shipped to the refinery and "cracked" into metal ten times, each output
    9.0-9.9 % heavier (inside OUTPUT_EXCEEDS_INPUT's 10 %), then shipped back for export."""

    name, expected = "cracked_metal", ("PROCESS_INCONSISTENT", "LINEAGE_IMBALANCE")

    def require(self, plan: Plan) -> Plan:
        return dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        exporter, refinery = lot.custodian, self.plan.cluster.metals
        move(book, [lot], refinery)
        self.arm(lot.id, f"{lot.id} cracked metal to metal ten times")
        start = lot.mass_g
        for _ in range(10):
            book.wait((6, 30))
            heavier = round(lot.mass_g * self.rng.uniform(1.09, 1.099))
            made = Lot(
                book.lot_id("metal"), "metal", heavier, dict(lot.composition), refinery, lot.spec
            )
            actions.transform(book, refinery, "cracking", [(lot, lot.mass_g)], [made])
            lot = made
        self.notes.append(f"{start} g became {lot.mass_g} g")
        move(book, [lot], exporter)
        return self.passes(lot)


class GramToHundred(Play):
    """1-3 g split off Dy metal and "cracked" at the refinery into 80-150 g of Tb and Dy
    metal (the old 50 g per-element allowance), shipped back and exported."""

    name = "gram_to_hundred"
    expected = ("OUTPUT_EXCEEDS_INPUT", "PROCESS_INCONSISTENT", "LINEAGE_IMBALANCE")

    def require(self, plan: Plan) -> Plan:
        return dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        exporter, refinery = lot.custodian, self.plan.cluster.metals
        grams = self.rng.randint(1, 3)
        small, _ = split(book, lot, [grams, lot.mass_g - grams])
        move(book, [small], refinery)
        made_g = self.rng.randint(80, 150)
        terbium = round(self.rng.uniform(0.3, 0.6) * 995_000)
        composition = {"Dy": 995_000 - terbium, "O": 400, "Tb": terbium}
        made = Lot(
            book.lot_id("metal"), "metal", made_g, composition, refinery, "Tb-Dy metal 99.5 %"
        )
        self.arm(made.id, f"{grams} g of Dy metal cracked into {made_g} g of Tb-Dy metal")
        book.wait((6, 30))
        actions.transform(book, refinery, "cracking", [(small, grams)], [made])
        move(book, [made], exporter)
        return made


class ShavedReceipts(Play):
    """The exporter and a trader pass Dy magnets back and forth, each receipt weighed
    0.6-0.95 % light (inside RECEIPT_MISMATCH's 1 %) until 12-30 % went off the record
    (variant 0), or as much heavy until the lot weighs 1.12-1.3 times what it did (variant
    1: material from nowhere)."""

    name, expected = "shaved_receipts", ("LINEAGE_IMBALANCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        exporter, start = lot.custodian, lot.mass_g
        sign = -1 if self.variant % 2 == 0 else 1
        target, legs = 1 + sign * self.rng.uniform(0.12, 0.3), 0
        self.arm(lot.id, f"{lot.id} weighed {'light' if sign < 0 else 'heavy'} at receipts")
        while sign * (start * target - lot.mass_g) > 0 or lot.custodian != exporter:
            to = TRADER if lot.custodian == exporter else exporter
            weighed = math.floor(lot.mass_g * (1 + sign * self.rng.uniform(0.006, 0.0095)))
            move(book, [lot], to, stated=[lot.mass_g], weighed=[weighed])
            legs += 1
        self.notes.append(
            f"{legs} receipts between {exporter} and {TRADER}, {start} g became {lot.mass_g} g"
        )
        return lot


class RatchetAfterLoss(Play):
    """After machining (a loss the lineage cannot recover), single-output splits of the Dy
    magnets raise their Dy 1-1.5 % at a time by 15-19 % in all: inside the 10 % the budget
    is held to after a loss, and the 10 % of the lineage tolerance on top (1.1 × 1.1)."""

    name, expected = "ratchet_after_loss", ("LINEAGE_IMBALANCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        target, total, steps = self.rng.uniform(1.15, 1.19), 1.0, 0
        self.arm(lot.id, f"Dy of machined {lot.id} ratcheted up by single-output splits")
        while True:
            factor = self.rng.uniform(1.01, 1.015)
            if total * factor > target:
                break
            total, steps = total * factor, steps + 1
            lot = single_split(book, lot, scaled(lot.composition, "Dy", factor))
        self.notes.append(f"{steps} splits, Dy ×{total:.3f}")
        return self.passes(lot)


class UnlistedRoom(Play):
    """NdPr metal from a light deposit lists only 99.3-99.8 % of itself; a single-output
    split writes Dy into 80-95 % of the unlisted rest (inside MIX_INCONSISTENT, which lets
    an output report what the input did not measure): smuggled Dy given a clean lineage."""

    name, expected = "unlisted_room", ("LINEAGE_IMBALANCE", "ORIGIN_MISMATCH")

    def require(self, plan: Plan) -> Plan:
        mines = tuple(mine for mine in MINES if mine.profile in ("bastnaesite", "monazite"))
        drawn = plans.draw(self.rng, plan.chain, "metal", mines=mines)
        return replace(drawn, metal="ndpr", split=False)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        room = 1_000_000 - sum(lot.composition.values())
        dy = round(room * self.rng.uniform(0.8, 0.95))
        self.arm(lot.id, f"Dy {dy} ppm written into the {room} ppm {lot.id} does not list")
        written = {**lot.composition, "Dy": lot.composition.get("Dy", 0) + dy}
        return self.passes(single_split(book, lot, written))
