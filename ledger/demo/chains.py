"""One mine-to-export chain: the flow of DOMAIN §1 written event by event into a book."""

import random
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType

from ledger.demo import actions, chemistry, paperwork, processes
from ledger.demo import reference as ref
from ledger.demo.book import Book, Lot
from ledger.demo.cast import COUNTRY, CUSTOMS_OF, PORT_LAB
from ledger.demo.plan import Plan
from ledger.demo.tamper import Tamper
from ledger.lots import licences
from ledger.lots.domain import QUOTA_COUNTRIES

# Hours between events (ranges); "overseas" is a sea passage, "domestic" rail or road.
GAPS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "extract": (24, 72),
        "process": (12, 60),
        "dispatch": (6, 30),
        "domestic": (24, 96),
        "overseas": (168, 336),
        "assay": (4, 24),
        "declare": (24, 72),
        "decide": (4, 48),
    }
)
OXIDE_SPECS: Mapping[str, str] = MappingProxyType(
    {
        "la": "La2O3 99.9 %", "ce": "CeO2 99.9 %", "ndpr": "PrNd oxide 99.5 %",
        "sm": "Sm2O3 99.9 %", "dy": "Dy2O3 99.9 %", "tb": "Tb4O7 99.9 %",
        "y": "Y2O3 99.99 %", "lace": "La-Ce oxide 99 %", "seg": "SEG-HRE mixed oxide",
    }
)  # fmt: skip
METAL_SPECS: Mapping[str, str] = MappingProxyType(
    {"ndpr": "PrNd metal 99.5 %", "dy": "Dy metal 99.5 %", "sm": "Sm metal 99.9 %"}
)
MAGNET_METALS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"ndfeb": ("ndpr",), "ndfeb_dy": ("ndpr", "dy"), "smco": ("sm",)}
)


class Chain:
    """Builds one chain from its plan; every hook of `tamper` is offered on the way."""

    def __init__(self, plan: Plan, book: Book, tamper: Tamper, rng: random.Random) -> None:
        self.plan = plan
        self.book = book
        self.tamper = tamper
        self.rng = rng
        self.start = book.clock
        self.profile = plan.mine.profile  # the ore's real REE pattern, once extracted
        self.declarations = 0
        self.quotas = 0

    def build(self) -> None:
        plan = self.plan
        concentrate = self._mine_phase()
        if plan.end == "concentrate":
            self._export(self._move("concentrate", [concentrate], plan.exporter))
            return
        via = plan.mine.trader if plan.via_trader else None
        self._move("concentrate", [concentrate], plan.cluster.separation, via)
        if plan.arrival_assay:
            self._assay(concentrate, plan.cluster.lab, arrival=True)
        cuts = self._plant(concentrate)
        if plan.end == "oxide":
            oxides = [cuts[kind] for kind in plan.oxides]
            self._export(self._move("product", oxides, plan.exporter))
            return
        metals = self._metals(cuts)
        if plan.end != "metal":
            metals = [self._magnet(metals)]
        self._export(self._move("product", metals, plan.exporter))

    # Mine: extraction, beneficiation (at the mine or a concentrator), blending.

    def _mine_phase(self) -> Lot:
        plan = self.plan
        ores = [self._extract()]
        if plan.blend:
            self.book.wait(GAPS["extract"])
            ores.append(self._extract())
        holder = plan.mine.id
        if plan.concentrator and plan.mine.concentrator is not None:
            holder = plan.mine.concentrator
            self._move("ore", ores, holder)
        concentrates = [self._beneficiate(ore, holder) for ore in ores]
        if len(concentrates) == 1:
            return concentrates[0]
        return self._blend(concentrates, holder)

    def _extract(self) -> Lot:
        mine, rng = self.plan.mine, self.rng
        lot_id = self.book.lot_id("ore")
        self.profile = self.tamper.profile(mine.profile, lot_id)
        treo = chemistry.uniform(rng, mine.treo)
        composition = chemistry.ore(rng, self.profile, mine.deposit, treo)
        mass = rng.randint(*mine.ore_t) * 1_000_000 + rng.randint(0, 999_999)
        spec = f"run-of-mine, {treo * 100:.2f} % TREO"
        mass, composition = self.tamper.made("extract", lot_id, mass, composition)
        lot = Lot(lot_id, "ore", mass, composition, mine.id, spec)
        if COUNTRY[mine.id] in QUOTA_COUNTRIES:
            # The quota authority issues each extraction its quota, exactly its REO, first.
            self.quotas += 1
            granted = self.tamper.quota(lot_id, licences.reo_g(mass, composition))
            if granted is not None:
                actions.quota(self.book, mine, self.quotas, granted)
        actions.extract(self.book, mine, lot, mine.deposit)
        return lot

    def _beneficiate(self, ore: Lot, actor: str) -> Lot:
        recovery = self._recovery("beneficiation", ore)
        deposit = self.plan.mine.deposit
        mass, composition = processes.beneficiate(self.rng, _lot(ore), deposit, recovery)
        spec = f"{deposit} flotation concentrate" if deposit != "ionic_clay" else "leach product"
        lot_id = self.book.lot_id("conc")
        mass, composition = self.tamper.made("beneficiation", lot_id, mass, composition)
        made = Lot(lot_id, "concentrate", mass, composition, actor, spec)
        self._transform(actor, "beneficiation", [(ore, ore.mass_g)], [made])
        return made

    def _blend(self, parts: Sequence[Lot], actor: str) -> Lot:
        self.book.wait(GAPS["process"])
        lot_id = self.book.lot_id("conc")
        composition = chemistry.mean([_lot(part) for part in parts])
        composition = self.tamper.mixed("blend", lot_id, composition)
        mass = sum(part.mass_g for part in parts)
        made = Lot(lot_id, "concentrate", mass, composition, actor, "blended concentrate")
        self._transform(actor, "blend", [(part, part.mass_g) for part in parts], [made])
        return made

    # Plant: cracking and separation into one oxide lot per cut.

    def _plant(self, concentrate: Lot) -> dict[str, Lot]:
        plant, rng = self.plan.cluster.separation, self.rng
        recovery = self._recovery("cracking", concentrate)
        mass, composition = processes.crack(rng, _lot(concentrate), recovery)
        spec = "mixed rare earth carbonate"
        mixed = Lot(self.book.lot_id("mrec"), "mixed_compound", mass, composition, plant, spec)
        self._transform(plant, "cracking", [(concentrate, concentrate.mass_g)], [mixed])
        recovery = self._recovery("separation", mixed)
        cuts = processes.groups(self.profile, self.plan.extra_cuts)
        grams = processes.separate(rng, _lot(mixed), cuts, recovery)
        kept = [(kind, found) for (kind, _), found in zip(cuts, grams, strict=True) if found]
        drafts = [(self.book.lot_id("oxide"), found) for _, found in kept]
        drafts = self.tamper.outputs("separation", drafts)
        oxides: dict[str, Lot] = {}
        for (kind, _), (lot_id, found) in zip(kept, drafts, strict=True):
            mass, composition = processes.oxide(rng, found)
            oxides[kind] = Lot(lot_id, "oxide", mass, composition, plant, OXIDE_SPECS[kind])
        self._transform(plant, "separation", [(mixed, mixed.mass_g)], list(oxides.values()))
        return oxides

    # Metals: reduction of the oxides a metal or magnet needs.

    def _metals(self, cuts: Mapping[str, Lot]) -> list[Lot]:
        plan = self.plan
        kinds = (plan.metal,) if plan.end == "metal" else MAGNET_METALS[plan.magnet]
        maker = plan.cluster.metals
        oxides = self._move("oxide", [cuts[kind] for kind in kinds], maker)
        metals = []
        for kind, oxide in zip(kinds, oxides, strict=True):
            recovery = self._recovery("reduction", oxide)
            grams = processes.reduce(self.rng, _lot(oxide), recovery)
            [(lot_id, grams)] = self.tamper.outputs(
                "reduction", [(self.book.lot_id("metal"), grams)]
            )
            mass, composition = processes.metal(self.rng, grams)
            made = Lot(lot_id, "metal", mass, composition, maker, METAL_SPECS[kind])
            self._transform(maker, "reduction", [(oxide, oxide.mass_g)], [made])
            metals.append(made)
        return metals

    # Magnets: alloying, milling, sintering, machining at the magnet maker.

    def _magnet(self, metals: list[Lot]) -> Lot:
        plan, rng = self.plan, self.rng
        maker = plan.cluster.smco if plan.magnet == "smco" else plan.cluster.ndfeb
        assert maker is not None, "plans give SmCo only to clusters with a SmCo maker"
        metals = self._move("metal", metals, maker)
        recovery = self._recovery("alloying", metals[0])
        if plan.magnet == "smco":
            mass, composition, grade = processes.smco(rng, _lot(metals[0]), recovery)
            inputs = [(metals[0], metals[0].mass_g)]
        else:
            dy = _lot(metals[1]) if len(metals) > 1 else None
            used, mass, composition = processes.ndfeb(rng, _lot(metals[0]), dy, recovery)
            grade = "N45SH" if dy is not None else "N52"
            inputs = [(metals[0], metals[0].mass_g)] + ([(metals[1], used)] if used else [])
        spec = f"{grade} strip-cast alloy"
        lot_id = self.book.lot_id("alloy")
        mass, composition = self.tamper.made("alloying", lot_id, mass, composition)
        alloy = Lot(lot_id, "alloy", mass, composition, maker, spec)
        self._transform(maker, "alloying", inputs, [alloy])
        powder = self._scaled(alloy, "milling", "magnet_powder", f"{grade} jet-milled powder")
        if plan.end == "powder":
            return powder
        block = self._scaled(powder, "sintering", "magnet", f"{grade} sintered block")
        return self._scaled(block, "machining", "magnet", f"{grade} machined, coated")

    def _scaled(self, source: Lot, process: str, product: str, spec: str) -> Lot:
        mass, composition = processes.scaled(_lot(source), self._recovery(process, source))
        kind = {"magnet_powder": "powder"}.get(product, product)
        made = Lot(self.book.lot_id(kind), product, mass, composition, source.custodian, spec)
        self._transform(source.custodian, process, [(source, source.mass_g)], [made])
        return made

    # Custody: shipments, receipts, assays, export.

    def _move(self, leg: str, lots: list[Lot], to: str, via: str | None = None) -> list[Lot]:
        """Ship `lots` to `to` (through `via`, if given) and receive them there."""
        for stop in (via, to) if via is not None else (to,):
            self._leg(leg, lots, stop)
        return lots

    def _leg(self, leg: str, lots: list[Lot], to: str) -> None:
        book, sender = self.book, lots[0].custodian
        book.wait(GAPS["dispatch"])
        shipped = [(lot, self.tamper.shipped(leg, lot)) for lot in lots]
        actions.ship(book, sender, to, shipped)
        self.tamper.again(book, "shipped", book.steps[-1].event)
        book.wait(GAPS["overseas" if COUNTRY[sender] != COUNTRY[to] else "domestic"])
        noise = ref.RECEIPT_NOISE
        weighed = [
            (
                lot,
                self.tamper.weighed(leg, lot, round(mass * (1 + self.rng.uniform(-noise, noise)))),
            )
            for lot, mass in shipped
        ]
        actions.receive(book, to, sender, weighed)

    def _assay(self, lot: Lot, lab: str, *, arrival: bool = False) -> None:
        self.book.wait(GAPS["assay"])
        reading = chemistry.assay(self.rng, lot.composition, ref.ASSAY_NOISE)
        if arrival:
            reading = self.tamper.arrival(lot, reading)
        method = "ICP-OES" if lot.product in ("ore", "concentrate") else "ICP-MS"
        actions.assay(self.book, lab, lot, reading, method)

    def _export(self, lots: list[Lot]) -> None:
        plan = self.plan
        if plan.export_assay:
            country = COUNTRY[lots[0].custodian]
            lab = PORT_LAB.get(country, plan.cluster.lab)
            self._assay(lots[0], lab)
        if len(lots) == 1:
            lots = [self.tamper.before_export(self.book, lots[0])]
        consignments = [lots]
        if plan.split and len(lots) == 1:
            consignments = [[part] for part in self._split(lots[0])]
        for consignment in consignments:
            self._declare(consignment)

    def _split(self, lot: Lot) -> list[Lot]:
        self.book.wait(GAPS["process"])
        first = round(lot.mass_g * self.rng.uniform(0.35, 0.65))
        parts = []
        for mass in (first, lot.mass_g - first):
            lot_id = self.book.lot_id(lot.id.split("-")[0])
            composition = self.tamper.mixed("split", lot_id, dict(lot.composition))
            product = self.tamper.relabel("split", lot_id, lot.product)
            parts.append(Lot(lot_id, product, mass, composition, lot.custodian, lot.spec))
        self._transform(lot.custodian, "split", [(lot, lot.mass_g)], parts)
        return parts

    def _declare(self, lots: list[Lot]) -> None:
        book, exporter = self.book, lots[0].custodian
        book.wait(GAPS["declare"])
        self.declarations += 1
        filed = paperwork.declaration(self.plan, lots, self.declarations, book.clock.year)
        if "licence" in filed:
            actions.licence(book, filed, lots, paperwork.controlled(lots))
        filed = self.tamper.declaration(filed, lots)
        actions.declare(book, exporter, filed, lots)
        book.wait(GAPS["decide"])
        actions.decide(book, CUSTOMS_OF[exporter], filed["id"], lots)

    # Transforms: the clock, recovery and the hooks every process passes.

    def _recovery(self, process: str, source: Lot) -> float:
        """Wait for the process to run; its recovery on `source`, as the tamper has it."""
        self.book.wait(GAPS["process"])
        honest = chemistry.uniform(self.rng, ref.RECOVERY[process])
        return self.tamper.recovery(process, source, honest)

    def _transform(
        self, actor: str, process: str, inputs: list[tuple[Lot, int]], outputs: list[Lot]
    ) -> None:
        floor = self.start + timedelta(hours=1)
        when = self.tamper.backdate(process, [lot for lot, _ in inputs], outputs, floor)
        actions.transform(self.book, actor, process, inputs, outputs, when=when)
        self.tamper.again(self.book, "consumed", self.book.steps[-1].event)


def _lot(lot: Lot) -> tuple[int, dict[str, int]]:
    return lot.mass_g, lot.composition
