"""Evasions at the border (issue 14): relabelling by split, licences as text or used twice,
declared values and words that hide the controlled element, another exporter, the goods
shipped abroad without a declaration, a declaration dated back into a licence's validity."""

import math
from datetime import timedelta
from typing import Any

from ledger.demo import actions, chemistry, paperwork
from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.authority_frauds import CN_DY_MAGNETS
from ledger.demo.book import Book, Lot
from ledger.demo.cast import CUSTOMS_OF
from ledger.demo.chemistry import mean, three_figures
from ledger.demo.evasion_lineage import dy_magnet, dy_metal
from ledger.demo.evasion_mine import CLAY_LIGHT_MINES
from ledger.demo.plan import Plan
from ledger.demo.play import Play, declare, elemental_g, issue_licence, move, split

TEXT_LICENCES = ("L", "LIC", "licence on file", "MOFCOM approved", "EL/2026/117", "N/A - sample")
NEGATED = (
    "REE-free nickel powder",
    "Nickel alloy powder, free of rare earths",
    "Non-rare-earth nickel alloy ingots",
    "Nickel flakes without REE",
    "Nickel alloy, rare earth content: none",
    "0 % rare earth nickel-iron powder",
)
GENERIC_MAGNETS = (
    "Permanent magnets",
    "Sintered permanent magnets",
    "Magnet blocks, coated",
    "Permanent magnet rings",
    "Magnets for motors",
)


def _declaration(play: Play, book: Book, lot: Lot, tag: str) -> dict[str, Any]:
    """The fields of an honest declaration of `lot`, under the id dec-<chain>-<tag>."""
    return {
        "id": f"dec-{book.chain:05d}-{tag}",
        "hs_code": paperwork.hs_code(lot, play.plan),
        "description": paperwork.description(lot, play.plan),
        "destination": play.plan.destination,
    }


class RelabelAsOre(Play):
    """Dy metal split into a lot written as "ore" (variant 0) or "concentrate", declared
    under HS 2530.90 or 2612.20 with a licence that is plain text."""

    name = "relabel_as_ore"
    expected = ("PROCESS_INCONSISTENT", "LICENCE_INVALID", "HS_CODE_MISMATCH")

    def require(self, plan: Plan) -> Plan:
        return dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        product = ("ore", "concentrate")[self.variant % 2]
        first = round(lot.mass_g * self.rng.uniform(0.3, 0.7))
        self.arm(lot.id, f"{first} g of Dy metal split off as {product}")
        relabelled, rest = split(book, lot, [first, lot.mass_g - first], product=product)
        hs = "253090" if product == "ore" else self.rng.choice(("253090", "261220"))
        words = {"ore": "Rare earth ore, run-of-mine", "concentrate": "Mineral concentrate"}
        filed = {
            **_declaration(self, book, lot, "r1"),
            "hs_code": hs,
            "description": words[product],
            "licence": self.rng.choice(TEXT_LICENCES),
        }
        self.passes(relabelled)
        declare(book, lot.custodian, [relabelled], filed)
        return rest


class LicenceText(Play):
    """Dy magnets declared under a licence that is any text: no authority issued it."""

    name, expected = "licence_text", ("LICENCE_INVALID",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        text = self.rng.choice(TEXT_LICENCES)
        self.arm(lots[0].id, f"licence {text!r}")
        return {**declaration, "licence": text}


class TokenDy(Play):
    """Dy magnets with a declared composition stating Dy at 1 ppm, a few ppm, or 5-50 % of
    the record: the licence draws on the declared number."""

    name, expected = "token_dy", ("COMPOSITION_MISMATCH",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        stated = three_figures(mean([(lot.mass_g, lot.composition) for lot in lots]))
        choice = self.variant % 3
        dy = (1, self.rng.randint(2, 60), round(stated["Dy"] * self.rng.uniform(0.05, 0.5)))
        stated["Dy"] = dy[choice]
        self.arm(lots[0].id, f"declared Dy {dy[choice]} ppm for {lots[0].composition['Dy']} ppm")
        return {**declaration, "declared_composition_ppm": stated}


class NegatedWords(Play):
    """Dy metal or Dy NdFeB powder under its right HS code, described as nickel with a
    negated rare-earth word ("REE-free", "free of rare earths", "non-rare-earth")."""

    name, expected = "negated_words", ("HS_CODE_MISMATCH",)

    def require(self, plan: Plan) -> Plan:
        if self.variant % 2 == 0:
            return dy_metal(self, plan)
        return plans.draw(
            self.rng, plan.chain, "powder", mines=CN_DY_MAGNETS, magnets=("ndfeb_dy",)
        )

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        words = self.rng.choice(NEGATED)
        self.arm(lots[0].id, f"{lots[0].product} described as {words!r}")
        return {**declaration, "description": words}


class SmcoGeneric(Play):
    """Chinese SmCo magnets (Sm controlled) described in generic words only."""

    name, expected = "smco_generic", ("HS_CODE_MISMATCH",)

    def require(self, plan: Plan) -> Plan:
        return plans.draw(self.rng, plan.chain, "magnet", mines=CLAY_LIGHT_MINES, magnets=("smco",))

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        words = self.rng.choice(GENERIC_MAGNETS)
        self.arm(lots[0].id, f"SmCo magnets described as {words!r}")
        return {**declaration, "description": words}


class LicenceReuse(Play):
    """One licence sized for one consignment of Dy magnets, cited by 2-5 consignments."""

    name, expected = "licence_reuse", ("LICENCE_INVALID",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        count = self.rng.randint(3, 6)
        each = lot.mass_g // count
        parts = split(book, lot, [each] * (count - 1) + [lot.mass_g - each * (count - 1)])
        number = f"CN-EL-{book.clock.year}-{book.chain:05d}-R"
        first = {**_declaration(self, book, parts[0], "r0"), "licence": number}
        actions.licence(book, first, parts[:1], paperwork.controlled(parts[:1]))
        for i, part in enumerate(parts[:-1]):
            if i == 1:
                self.arm(part.id, f"licence {number} for one consignment cited by {count - 1}")
            declare(book, lot.custodian, [part], {**first, "id": f"dec-{book.chain:05d}-r{i}"})
        return parts[-1]


class SmallDeclarations(Play):
    """Dy metal split into 3-8 lots of 90-150 g, each declared (under a licence for their
    recorded grams) at 100 g more than it holds: the declared-mass floor as a fixed
    allowance, the excess exported off the record."""

    name, expected = "small_declarations", ("DECLARED_MASS_MISMATCH",)

    def require(self, plan: Plan) -> Plan:
        return dy_metal(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        sizes = [self.rng.randint(90, 150) for _ in range(self.rng.randint(3, 8))]
        *small, rest = split(book, lot, [*sizes, lot.mass_g - sum(sizes)])
        number = f"CN-EL-{book.clock.year}-{book.chain:05d}-D"
        fields = {**_declaration(self, book, small[0], "d"), "licence": number}
        elements = paperwork.controlled(small)
        grams = sum(elemental_g(part, elements) for part in small)
        issue_licence(book, number, fields, lot.custodian, elements, grams)
        for i, part in enumerate(small):
            stated = part.mass_g + math.floor(0.005 * part.mass_g) + 100
            if i == 0:
                self.arm(
                    part.id,
                    f"{len(small)} lots of {min(sizes)}-{max(sizes)} g declared 100 g heavier each",
                )
            filed = {**fields, "id": f"dec-{book.chain:05d}-d{i}", "declared_mass_g": stated}
            declare(book, lot.custodian, [part], filed)
        return rest


class OtherExporter(Play):
    """Dy magnets passed to another Chinese exporter, which declares them under the first
    exporter's licence."""

    name, expected = "other_exporter", ("LICENCE_INVALID",)
    borrowed = ""

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        self.borrowed = f"CN-EL-{book.clock.year}-{book.chain:05d}-H"
        held = {**_declaration(self, book, lot, "h"), "licence": self.borrowed}
        actions.licence(book, held, [lot], paperwork.controlled([lot]))
        other = "tianjin-export" if lot.custodian != "tianjin-export" else "ningbo-export"
        move(book, [lot], other)
        return lot

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        self.arm(lots[0].id, f"{lots[0].custodian} declares under licence {self.borrowed}")
        return {**declaration, "licence": self.borrowed}


class Transship(Play):
    """Chinese Dy magnets shipped to a Japanese exporter (no Chinese declaration, no
    licence), which exports them under Japan's rules."""

    name, expected = "transship", ("CONTROLLED_WITHOUT_LICENCE",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        self.arm(lot.id, f"{lot.id} shipped from {lot.custodian} to kobe-export undeclared")
        move(book, [lot], "kobe-export")
        return lot


class BackdatedDeclaration(Play):
    """A licence expired 1-10 hours before the exporter split the Dy magnets; the declaration
    of one part is dated minutes before the expiry (variant 1: after a lab certificate dated
    earlier still was posted for it)."""

    name, expected = "backdated_declaration", ("LICENCE_INVALID", "TIME_INCONSISTENT")

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def before_export(self, book: Book, lot: Lot) -> Lot:
        part, rest = split(book, lot, [lot.mass_g // 2, lot.mass_g - lot.mass_g // 2])
        expiry = part.time - timedelta(minutes=self.rng.randint(60, 600))
        number = f"CN-EL-{book.clock.year}-{book.chain:05d}-X"
        filed = {**_declaration(self, book, part, "x"), "licence": number}
        elements = paperwork.controlled([part])
        grams = elemental_g(part, elements)
        issue_licence(book, number, filed, lot.custodian, elements, grams, valid_until=expiry)
        dated = expiry - timedelta(minutes=self.rng.randint(5, 60))
        self.arm(part.id, f"licence expired {expiry:%Y-%m-%d %H:%M}, declaration dated before")
        if self.variant % 2 == 1:
            # A colluding lab's certificate dated before that, posted first: the lot's clock
            # must not go back with it.
            self.notes.append("a lab certificate dated earlier posted first")
            reading = chemistry.assay(self.rng, part.composition, ref.ASSAY_NOISE)
            fields = {
                "lot": part.id,
                "composition_ppm": reading,
                "method": "ICP-MS",
                "lab": self.plan.cluster.lab,
            }
            book.post(
                self.plan.cluster.lab,
                "lot.assay",
                [part.id],
                fields,
                when=dated - timedelta(minutes=30),
            )
        declared = {**filed, "lots": [part.id], "declared_mass_g": part.mass_g}
        book.post(lot.custodian, "export.declare", [part.id], {"declaration": declared}, when=dated)
        book.wait((4, 48))
        actions.decide(book, CUSTOMS_OF[lot.custodian], declared["id"], [part])
        return rest
