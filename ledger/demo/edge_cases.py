"""Honest records at the edges of the rules (issue 14): each must raise no medium or high
flag. An unlisted Tb, a US exporter of Sm-bearing goods, a late lab certificate, blends of
two deposits, 100 g sample lots, processes at their floors, receipts just inside tolerance,
a licence drawn to exactly its maximum, outputs assayed rather than computed."""

from dataclasses import replace
from datetime import datetime, timedelta

from ledger.demo import actions, chemistry, paperwork, processes
from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.book import Book, Lot
from ledger.demo.cast import COUNTRY, Mine
from ledger.demo.chains import GAPS
from ledger.demo.chemistry import Composition, cap
from ledger.demo.evasion_lineage import dy_magnet, dy_metal
from ledger.demo.evasion_mine import LIGHT_MINES, MINE
from ledger.demo.plan import Plan
from ledger.demo.play import Play, declare, elemental_g, issue_licence, move, split
from ledger.demo.tamper import Draft
from ledger.lots import licences
from ledger.lots.domain import QUOTA_COUNTRIES
from ledger.lots.tolerances import Tolerances

FLOORS = Tolerances().recovery_floors


class Honest(Play):
    honest = True


class UnlistedTb(Honest):
    """An ore assay that lists no Tb, and the concentrate reporting the Tb the ore held."""

    name = "unlisted_tb"
    terbium_g = 0.0

    def require(self, plan: Plan) -> Plan:
        end = self.rng.choice(("concentrate", "oxide"))
        return replace(plans.draw(self.rng, plan.chain, end, mines=LIGHT_MINES), blend=False)

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process == "extract":
            self.terbium_g = mass_g * composition.get("Tb", 0) / 1e6
            self.arm(lot, f"ore lists no Tb ({composition.get('Tb', 0)} ppm unlisted)")
            return mass_g, {e: v for e, v in composition.items() if e != "Tb"}
        if process == "beneficiation":
            found = self.terbium_g * self.rng.uniform(0.78, 0.9) * 1e6 / mass_g
            self.notes.append(f"concentrate reports Tb {found:.0f} ppm")
            return mass_g, cap({**composition, "Tb": round(found)})
        return mass_g, composition


class UsExporter(Honest):
    """A US exporter's Mountain Pass concentrate (Sm, Gd, Y above 0.1 %) or NdFeB magnets:
    not judged by China's control list, no licence."""

    name = "us_exporter"

    def require(self, plan: Plan) -> Plan:
        end = ("concentrate", "magnet")[self.variant % 2]
        mines = [MINE["mountain-pass-mine"]]
        return replace(plans.draw(self.rng, plan.chain, end, mines=mines), split=False)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        self.arm(lot.id, f"{lot.product} exported by {lot.custodian}")
        return lot


class LateCertificate(Honest):
    """A lab certificate posted after the lot moved on, dated at its sampling."""

    name = "late_certificate"

    def require(self, plan: Plan) -> Plan:
        # One lot reaches the exporter (an oxide end exports several).
        end = self.rng.choice(("concentrate", "metal", "powder", "magnet"))
        return replace(plans.draw(self.rng, plan.chain, end), split=False)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        created = _created(book, lot.id)
        sampled = created + timedelta(minutes=self.rng.randint(30, 240))
        reading = chemistry.assay(self.rng, lot.composition, ref.ASSAY_NOISE)
        lab = self.plan.cluster.lab
        fields = {
            "lot": lot.id,
            "composition_ppm": reading,
            "method": "ICP-MS",
            "lab": lab,
            "certificate": f"LATE-{book.chain:05d}",
        }
        self.arm(lot.id, f"sampled {sampled:%Y-%m-%d %H:%M}, posted after the lot moved")
        book.wait((2, 24))
        book.post(lab, "lot.assay", [lot.id], fields, when=sampled)
        return lot


def _created(book: Book, lot_id: str) -> datetime:
    """When the event that made `lot_id` is dated."""
    for step, when in zip(book.steps, book.times, strict=True):
        event = step.event
        made = event.get("outputs", []) if event["type"] == "lot.transform" else []
        if event["type"] == "lot.extract":
            made = [event["lot"]]
        if any(new["id"] == lot_id for new in made):
            return when
    raise LookupError(f"{lot_id} was not made in this book")


class BlendTwoDeposits(Honest):
    """Concentrates of two mines blended at one separation plant, cracked and separated:
    Mountain Pass bastnaesite with Mount Weld monazite at La Rochelle (variant 0), Longnan
    heavy clay with Xunwu light clay at Ganzhou (variant 1)."""

    name = "blend_two_deposits"

    def build(self, book: Book, plan: Plan) -> None:
        self.plan = plan
        pair, plant, groups = (
            (
                ("mountain-pass-mine", "mount-weld-mine"),
                "la-rochelle-separation",
                processes.LIGHT_GROUPS,
            ),
            (
                ("longnan-clay-mine", "xunwu-clay-mine"),
                "ganzhou-separation",
                processes.HEAVY_GROUPS,
            ),
        )[self.variant % 2]
        concentrates = [self._concentrate(book, MINE[mine], n) for n, mine in enumerate(pair)]
        for concentrate in concentrates:
            move(book, [concentrate], plant)
        self.arm(concentrates[0].id, f"{pair[0]} and {pair[1]} concentrates blended at {plant}")
        book.wait(GAPS["process"])
        blended = Lot(
            book.lot_id("conc"),
            "concentrate",
            sum(c.mass_g for c in concentrates),
            chemistry.mean([(c.mass_g, c.composition) for c in concentrates]),
            plant,
            "blended concentrate",
        )
        actions.transform(book, plant, "blend", [(c, c.mass_g) for c in concentrates], [blended])
        book.wait(GAPS["process"])
        recovery = chemistry.uniform(self.rng, ref.RECOVERY["cracking"])
        mass, composition = processes.crack(
            self.rng, (blended.mass_g, blended.composition), recovery
        )
        mixed = Lot(book.lot_id("mrec"), "mixed_compound", mass, composition, plant, "carbonate")
        actions.transform(book, plant, "cracking", [(blended, blended.mass_g)], [mixed])
        book.wait(GAPS["process"])
        recovery = chemistry.uniform(self.rng, ref.RECOVERY["separation"])
        cuts = (
            *groups,
            (
                processes.SEG,
                tuple(e for e in ref.REY if not any(e in members for _, members in groups)),
            ),
        )
        found = processes.separate(self.rng, (mixed.mass_g, mixed.composition), cuts, recovery)
        oxides = []
        for grams in found:
            if grams:
                mass, composition = processes.oxide(self.rng, grams)
                oxides.append(Lot(book.lot_id("oxide"), "oxide", mass, composition, plant))
        actions.transform(book, plant, "separation", [(mixed, mixed.mass_g)], oxides)

    def _concentrate(self, book: Book, mine: Mine, number: int) -> Lot:
        book.wait(GAPS["extract"])
        treo = chemistry.uniform(self.rng, mine.treo)
        composition = chemistry.ore(self.rng, mine.profile, mine.deposit, treo)
        mass = self.rng.randint(*mine.ore_t) * 1_000_000 + self.rng.randint(0, 999_999)
        ore = Lot(book.lot_id("ore"), "ore", mass, composition, mine.id, "run-of-mine")
        if COUNTRY[mine.id] in QUOTA_COUNTRIES:
            actions.quota(book, mine, number + 1, licences.reo_g(mass, composition))
        actions.extract(book, mine, ore, mine.deposit)
        book.wait(GAPS["process"])
        recovery = chemistry.uniform(self.rng, ref.RECOVERY["beneficiation"])
        mass, composition = processes.beneficiate(
            self.rng, (ore.mass_g, ore.composition), mine.deposit, recovery
        )
        made = Lot(book.lot_id("conc"), "concentrate", mass, composition, mine.id, "concentrate")
        actions.transform(book, mine.id, "beneficiation", [(ore, ore.mass_g)], [made])
        return made


class SampleLots(Honest):
    """2-4 samples of about 100 g split off Dy metal or magnets, shipped to a lab, weighed
    within 0.3 g, assayed; the rest exported."""

    name = "sample_lots"

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan) if self.variant % 2 else dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        sizes = [self.rng.randint(98, 102) for _ in range(self.rng.randint(2, 4))]
        *samples, rest = split(book, lot, [*sizes, lot.mass_g - sum(sizes)])
        lab = self.plan.cluster.lab
        self.arm(samples[0].id, f"{len(samples)} samples of {min(sizes)}-{max(sizes)} g")
        weighed = [size + self.rng.choice((-0.3, -0.1, 0.0, 0.2, 0.3)) for size in sizes]
        move(book, samples, lab, weighed=[round(w) for w in weighed])
        for sample in samples:
            book.wait(GAPS["assay"])
            reading = chemistry.assay(self.rng, sample.composition, ref.ASSAY_NOISE)
            actions.assay(book, lab, sample, reading, "ICP-MS")
        return rest


class AtTheFloor(Honest):
    """Every process recovers 0.3-1 % above its China 2016 floor (DOMAIN §2)."""

    name = "at_the_floor"

    def recovery(self, process: str, source: Lot, recovery: float) -> float:
        floor = FLOORS[process]
        grade = licences.reo_g(source.mass_g, source.composition) / source.mass_g
        if process == "beneficiation" and grade < 0.02:
            floor = 0.65
        if process == "separation" and self.plan.mine.deposit == "ionic_clay":
            floor = 0.94
        self.arm(source.id, "every process at its floor")
        return floor * self.rng.uniform(1.003, 1.01)


class ReceiptsInside(Honest):
    """Every receipt weighed 0.4-0.9 % off the shipped mass (inside 1 %)."""

    name = "receipts_inside"

    def weighed(self, leg: str, lot: Lot, honest: int) -> int:
        self.arm(lot.id, "every receipt 0.4-0.9 % off")
        sign = self.rng.choice((-1, 1))
        return round(lot.mass_g * (1 + sign * self.rng.uniform(0.004, 0.009)))


class LicenceExact(Honest):
    """Licensed Dy magnets whose declarations draw the licence to exactly its maximum: one
    consignment (variant 0), or two consignments under one licence (variant 1)."""

    name = "licence_exact"

    def require(self, plan: Plan) -> Plan:
        return replace(dy_magnet(self, plan), declared_composition=True)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        self.arm(lot.id, "licences drawn to exactly their max_mass_g")
        if self.variant % 2 == 0:
            return lot
        third = lot.mass_g // 3
        first, second, rest = split(book, lot, [third, third, lot.mass_g - 2 * third])
        number = f"CN-EL-{book.clock.year}-{book.chain:05d}-S"
        filed = {
            "id": f"dec-{book.chain:05d}-s0",
            "hs_code": paperwork.hs_code(first, self.plan),
            "description": paperwork.description(first, self.plan),
            "destination": self.plan.destination,
            "licence": number,
        }
        elements = paperwork.controlled([first])
        exact = elemental_g(first, elements) + elemental_g(second, elements)
        issue_licence(book, number, filed, lot.custodian, elements, exact)
        declare(book, lot.custodian, [first], filed)
        declare(book, lot.custodian, [second], {**filed, "id": f"dec-{book.chain:05d}-s1"})
        return rest


class AssayedOutputs(Honest):
    """Every output a plant records is its own assay, not a computation: each element read
    with 1.5 % RSD noise (at most 4 %) at beneficiation, separation, reduction and alloying,
    so claims scatter around what the lineage supplied."""

    name = "assayed_outputs"

    def _read(self, value: float) -> float:
        return value * (1 + max(-0.04, min(0.04, self.rng.gauss(0, 0.015))))

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process == "extract":
            return mass_g, composition
        self.arm(lot, "outputs read with 1.5 % RSD")
        return mass_g, cap({e: round(self._read(v)) for e, v in composition.items()})

    def outputs(self, process: str, drafts: list[Draft]) -> list[Draft]:
        return [(lot, {e: self._read(g) for e, g in grams.items()}) for lot, grams in drafts]
