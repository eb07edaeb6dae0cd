"""Evasions at the mine and the plant (issue 14): elements lost under a total that stays over
the floor, a heavy spike in a light deposit, ore under-reported to fit the quota, smuggled
feed laundered through a separation, another mine's quota."""

from dataclasses import replace

from ledger.demo import actions, chemistry
from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.authority_frauds import CN_MINES
from ledger.demo.book import Book, Lot
from ledger.demo.cast import MINES, Mine
from ledger.demo.chemistry import Composition, cap
from ledger.demo.evasion_lineage import dy_magnet
from ledger.demo.plan import Plan
from ledger.demo.play import Play
from ledger.demo.tamper import Draft
from ledger.lots import licences

RARE_EARTHS = frozenset(ref.REY) | {"Sc"}
LIGHT_MINES = tuple(mine for mine in MINES if mine.profile in ("bastnaesite", "monazite"))
BASTNAESITE_MINES = tuple(mine for mine in MINES if mine.deposit == "bastnaesite")
CLAY_LIGHT_MINES = tuple(mine for mine in MINES if mine.profile == "clay_light")
MINE = {mine.id: mine for mine in MINES}


class AlloyDropsDy(Play):
    """Alloying writes no Dy (variant 0) or 5-30 % of it into the alloy: the Dy goes off
    the record, the total rare-earth recovery stays over the floor, the magnet needs no
    licence."""

    name, expected = "alloy_drops_dy", ("YIELD_BELOW_FLOOR",)

    def require(self, plan: Plan) -> Plan:
        return dy_magnet(self, plan)

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process != "alloying" or "Dy" not in composition:
            return mass_g, composition
        kept = 0.0 if self.variant % 2 == 0 else self.rng.uniform(0.05, 0.3)
        self.arm(lot, f"alloy {lot} written with {kept:.0%} of its Dy")
        return mass_g, {**composition, "Dy": round(composition["Dy"] * kept)}


class SeparationLosesTb(Play):
    """A light ionic-clay separation that writes none of the Tb and 30-50 % of the Dy into
    its outputs; the rare-earth total stays over the floor."""

    name, expected = "separation_loses_tb", ("YIELD_BELOW_FLOOR",)

    def require(self, plan: Plan) -> Plan:
        drawn = plans.draw(self.rng, plan.chain, "metal", mines=CLAY_LIGHT_MINES)
        return replace(drawn, metal="dy", blend=False)

    def outputs(self, process: str, drafts: list[Draft]) -> list[Draft]:
        if process != "separation" or self.began is not None:
            return drafts
        kept = self.rng.uniform(0.3, 0.5)
        changed = [
            (lot, {e: g * kept if e == "Dy" else g for e, g in grams.items() if e != "Tb"})
            for lot, grams in drafts
        ]
        dy_lot = max(drafts, key=lambda draft: draft[1].get("Dy", 0.0))[0]
        self.arm(dy_lot, f"separation keeps no Tb and {kept:.0%} of the Dy")
        return changed


class HeavySpike(Play):
    """An ore whose rare earths carry 3-15 % more Dy (the issue's 12 %), from a bastnaesite
    mine (variant 0) or a light ionic-clay mine (variant 1, which a blend of heavy and light
    clay must not excuse): heavy feed passed through a light deposit's extraction."""

    name, expected = "heavy_spike", ("ORIGIN_MISMATCH",)

    def require(self, plan: Plan) -> Plan:
        end = self.rng.choice(("concentrate", "oxide"))
        mines = BASTNAESITE_MINES if self.variant % 2 == 0 else CLAY_LIGHT_MINES
        return replace(plans.draw(self.rng, plan.chain, end, mines=mines), blend=False)

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process != "extract" or self.began is not None:
            return mass_g, composition
        share = self.rng.uniform(0.03, 0.15)
        rey = sum(v for e, v in composition.items() if e in ref.REY)
        added = round(share * rey / (1 - share))
        self.arm(lot, f"Dy spiked to {share:.1%} of the rare earths")
        return mass_g, cap({**composition, "Dy": composition.get("Dy", 0) + added})


class QuotaUnderreport(Play):
    """A Chinese mine writes its ore's rare earths 1.5-2.0 times too low, so that its quota
    covers the extraction; the concentrate carries what the ore really held."""

    name, expected = "quota_underreport", ("OUTPUT_EXCEEDS_INPUT", "LINEAGE_IMBALANCE")
    factor = 1.0

    def require(self, plan: Plan) -> Plan:
        return replace(plans.draw(self.rng, plan.chain, "concentrate", mines=CN_MINES), blend=False)

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process == "extract" and self.began is None:
            self.factor = self.rng.uniform(1.5, 2.0)
            self.arm(lot, f"ore rare earths written ÷{self.factor:.2f}, the quota to match")
            return mass_g, {
                e: round(v / self.factor) if e in RARE_EARTHS else v for e, v in composition.items()
            }
        if process == "beneficiation":
            return round(mass_g * self.factor), composition
        return mass_g, composition


class FeedLaundering(Play):
    """A separation plant adds unrecorded feed to a recorded lot's: 25-80 % more of every
    rare earth (variant 0), or heavy ionic-clay rare earths, 15-40 % of the feed's, into a
    light feed (variant 1)."""

    name = "feed_laundering"
    expected = ("OUTPUT_EXCEEDS_INPUT", "ORIGIN_MISMATCH", "LINEAGE_IMBALANCE")

    def require(self, plan: Plan) -> Plan:
        end = self.rng.choice(("oxide", "metal"))
        return plans.draw(self.rng, plan.chain, end, mines=LIGHT_MINES)

    def outputs(self, process: str, drafts: list[Draft]) -> list[Draft]:
        if process != "separation" or self.began is not None:
            return drafts
        largest = max(drafts, key=lambda draft: sum(draft[1].values()))[0]
        if self.variant % 2 == 0:
            factor = self.rng.uniform(1.25, 1.8)
            self.arm(largest, f"separation outputs carry ×{factor:.2f} the recorded feed")
            return [(lot, {e: g * factor for e, g in grams.items()}) for lot, grams in drafts]
        share = self.rng.uniform(0.15, 0.4)
        feed = sum(sum(grams.values()) for _, grams in drafts)
        added = _heavy_grams(self, feed * share / (1 - share))
        self.arm(largest, f"heavy-clay rare earths, {share:.0%} of the feed, added unrecorded")
        changed = [dict(grams) for _, grams in drafts]
        for element, grams in added.items():
            home = next((i for i, d in enumerate(changed) if element in d), len(changed) - 1)
            changed[home][element] = changed[home].get(element, 0.0) + grams
        return [(lot, grams) for (lot, _), grams in zip(drafts, changed, strict=True)]


def _heavy_grams(play: Play, total: float) -> dict[str, float]:
    shares = chemistry.distribution(play.rng, "clay_heavy")
    metal = {e: share * ref.METAL_FRACTION[e] for e, share in shares.items()}
    scale = total / sum(metal.values())
    return {e: value * scale for e, value in metal.items()}


class QuotaShift(Play):
    """One owner's two Chinese mines: ore dug at its ionic-clay mine beyond that mine's
    quota is recorded as extracted by its bastnaesite mine, whose quota has room, under
    deposit ionic_clay (variant 0: the quota is for bastnaesite) or bastnaesite (variant 1:
    the pattern is not)."""

    name, expected = "quota_shift", ("QUOTA_EXCEEDED", "ORIGIN_MISMATCH")

    def build(self, book: Book, plan: Plan) -> None:
        self.plan = plan
        dug, owner = MINE["longnan-clay-mine"], MINE["bayan-obo-mine"]
        honest = self._ore(book, dug)
        actions.quota(book, dug, 1, licences.reo_g(honest.mass_g, honest.composition))
        actions.extract(book, dug, honest, dug.deposit)
        book.wait((24, 72))
        shifted = self._ore(book, dug, holder=owner)
        room = licences.reo_g(shifted.mass_g, shifted.composition)
        actions.quota(book, owner, 2, round(room * self.rng.uniform(1.5, 3.0)))
        deposit = "ionic_clay" if self.variant % 2 == 0 else owner.deposit
        self.arm(shifted.id, f"{dug.id} ore recorded by {owner.id} as {deposit}")
        book.wait((1, 6))
        actions.extract(book, owner, shifted, deposit)

    def _ore(self, book: Book, mine: Mine, holder: Mine | None = None) -> Lot:
        treo = chemistry.uniform(self.rng, mine.treo)
        composition = chemistry.ore(self.rng, mine.profile, mine.deposit, treo)
        mass = self.rng.randint(*mine.ore_t) * 1_000_000
        custodian = (holder or mine).id
        return Lot(book.lot_id("ore"), "ore", mass, composition, custodian, "run-of-mine")
