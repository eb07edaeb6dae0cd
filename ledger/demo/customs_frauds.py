"""Frauds at the border (DOMAIN §5: 1, 2, 3, 9): a declaration that does not fit the record."""

from dataclasses import replace
from typing import Any

from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.authority_frauds import CN_DY_MAGNETS
from ledger.demo.book import Lot
from ledger.demo.cast import MINES
from ledger.demo.chemistry import mean, three_figures
from ledger.demo.plan import Plan
from ledger.demo.tamper import Tamper

# DOMAIN §4's cases on record: the code and words a mislabelled product travels under.
WRONG_LABELS = {
    "magnet": ("850519", "Permanent magnets of ferrite, for loudspeakers"),
    "magnet_powder": ("321490", "Tile adhesive, non-refractory surfacing preparation"),
    "metal": ("750400", "Nickel powder"),
    "oxide": ("281820", "Aluminium oxide, calcined"),
    "concentrate": ("261400", "Titanium ores and concentrates (ilmenite sand)"),
}
# What a declaration states for the other magnet family (DOMAIN §1 typical compositions).
NDFEB_DECLARED = {"Nd": 225_000, "Pr": 75_000, "Fe": 678_000, "B": 10_000, "Co": 10_000}
SMCO_DECLARED = {"Sm": 250_000, "Co": 500_000, "Fe": 160_000, "Cu": 60_000, "Zr": 25_000}
SMCO_MIN_SM_PPM = 100_000


class Mislabel(Tamper):
    """Goods declared under a code and words for something else (variants: NdFeB magnets as
    ferrite magnets, NdFeB powder as tile adhesive, Dy or PrNd metal as nickel powder)."""

    pattern, code = "mislabel", "HS_CODE_MISMATCH"

    def require(self, plan: Plan) -> Plan:
        end = ("magnet", "powder", "metal")[self.variant % 3]
        if end == "metal":
            heavy = [m for m in MINES if m.profile in ("clay_heavy", "clay_light")]
            redrawn = plans.draw(self.rng, plan.chain, end, mines=heavy)
            return replace(redrawn, metal="dy")
        return plans.draw(self.rng, plan.chain, end, magnets=("ndfeb", "ndfeb_dy"))

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        if self.fired:
            return declaration
        hs_code, words = WRONG_LABELS[lots[0].product]
        note = (
            f"{lots[0].product} ({lots[0].spec}) declared as HS {hs_code} {words!r} "
            f"instead of HS {declaration['hs_code']}"
        )
        self.fire(lots[0].id, note)
        return {**declaration, "hs_code": hs_code, "description": words}


class HiddenControlled(Tamper):
    """A Dy-bearing NdFeB magnet declared without a licence (variant 0), or with one but a
    declared composition that leaves its controlled elements out (variant 1)."""

    pattern, code = "hidden_controlled", "CONTROLLED_WITHOUT_LICENCE"

    def require(self, plan: Plan) -> Plan:
        # A Chinese exporter, judged by China's list (DESIGN §9.1).
        mines = CN_DY_MAGNETS
        redrawn = plans.draw(self.rng, plan.chain, "magnet", mines=mines, magnets=("ndfeb_dy",))
        return replace(redrawn, declared_composition=self.variant % 2 == 1)

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        if self.fired:
            return declaration
        record = lots[0].composition
        held = {e: record[e] for e in sorted(ref.CONTROLLED) if record.get(e, 0) >= 1_000}
        changed = dict(declaration)
        if self.variant % 2 == 0:
            changed.pop("licence", None)
            note = f"holds {held} ppm of controlled elements; declared without a licence"
        else:
            stated = three_figures(mean([(lot.mass_g, lot.composition) for lot in lots]))
            changed["declared_composition_ppm"] = {
                e: v for e, v in stated.items() if e not in ref.CONTROLLED
            }
            note = f"holds {held} ppm of controlled elements; the declared composition omits them"
        self.fire(lots[0].id, note)
        return changed


class MagnetSwap(Tamper):
    """SmCo magnets declared as NdFeB, or NdFeB as SmCo, with the other family's composition."""

    pattern, code = "magnet_swap", "COMPOSITION_MISMATCH"

    def require(self, plan: Plan) -> Plan:
        magnets = ("smco",) if self.variant % 2 == 0 else ("ndfeb", "ndfeb_dy")
        return plans.draw(self.rng, plan.chain, "magnet", magnets=magnets)

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        if self.fired:
            return declaration
        is_smco = lots[0].composition.get("Sm", 0) >= SMCO_MIN_SM_PPM
        stated = NDFEB_DECLARED if is_smco else SMCO_DECLARED
        family = "NdFeB" if is_smco else "samarium-cobalt (SmCo)"
        real = "SmCo" if is_smco else "NdFeB"
        self.fire(lots[0].id, f"{real} magnets declared as {family} with {stated} ppm")
        return {
            **declaration,
            "description": f"Sintered {family} rare earth permanent magnets",
            "declared_composition_ppm": dict(stated),
        }


class DeclaredMass(Tamper):
    """A declaration that states 10-50 % less (sometimes more) than the lots hold."""

    pattern, code = "declared_mass", "DECLARED_MASS_MISMATCH"

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        if self.fired:
            return declaration
        recorded = declaration["declared_mass_g"]
        sign = 1 if self.rng.random() < 0.25 else -1
        stated = round(recorded * (1 + sign * self.rng.uniform(0.10, 0.50)))
        self.fire(lots[0].id, f"declared {stated} g for lots that hold {recorded} g")
        return {**declaration, "declared_mass_g": stated}


class Relabel(Tamper):
    """The exporter splits a Dy metal (variant 0) or PrNd metal into two lots and writes one
    of them as "concentrate": ore-like goods under HS 2530/2612, out of any metal licence."""

    pattern, code = "relabel", "PROCESS_INCONSISTENT"

    def require(self, plan: Plan) -> Plan:
        metal = "dy" if self.variant % 2 == 0 else "ndpr"
        mines = [m for m in MINES if metal in plans.METALS[m.profile]]
        redrawn = plans.draw(self.rng, plan.chain, "metal", mines=mines)
        return replace(redrawn, metal=metal, split=True)

    def relabel(self, process: str, lot: str, product: str) -> str:
        if self.fired or process != "split":
            return product
        self.fire(lot, f"split output {lot} of a {product} lot written as concentrate")
        return "concentrate"
