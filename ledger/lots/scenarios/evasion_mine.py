"""Evasions at the mine and the plant (issue 14): elements lost under a total that stays over
the floor, a heavy spike in a light deposit, ore under-reported to fit the quota, smuggled
feed laundered through a separation, another mine's quota."""

from dataclasses import replace
from datetime import datetime, timedelta

from ledger.lots import licences
from ledger.lots.scenarios import actions, chemistry, processes
from ledger.lots.scenarios import plan as plans
from ledger.lots.scenarios import reference as ref
from ledger.lots.scenarios.authority_frauds import CN_MINES
from ledger.lots.scenarios.book import Book, Lot
from ledger.lots.scenarios.cast import MINES, QUOTA_AUTHORITY, Mine
from ledger.lots.scenarios.chemistry import Composition, cap
from ledger.lots.scenarios.evasion_lineage import dy_magnet
from ledger.lots.scenarios.plan import Plan
from ledger.lots.scenarios.play import Play
from ledger.lots.scenarios.tamper import Draft

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


class QuotaBackdate(Play):
    """A Chinese mine with room left on last year's quota digs in the new year and dates the
    extraction 31 December, after an extraction of the new year was posted under its own
    quota: last year's quota spent on this year's ore."""

    name, expected = "quota_backdate", ("QUOTA_EXCEEDED", "TIME_INCONSISTENT")
    unseen = (
        "an extraction has no earlier event to be dated against, and the log keeps no "
        "trusted time of its own (entries carry only their signed times)"
    )

    def build(self, book: Book, plan: Plan) -> None:
        self.plan = plan
        mine = MINE[self.rng.choice(("longnan-clay-mine", "xunwu-clay-mine", "bayan-obo-mine"))]
        year = book.clock.year
        december = datetime(year - 1, 12, 1, 8, tzinfo=book.clock.tzinfo)
        last, now, late = (self._ore(book, mine) for _ in range(3))
        spare = licences.reo_g(late.mass_g, late.composition)
        used = licences.reo_g(last.mass_g, last.composition)
        book.post(
            QUOTA_AUTHORITY,
            "quota.issue",
            [],
            {"quota": _quota(book, mine, year - 1, used + spare)},
            seal=False,
            when=december,
        )
        book.post(
            mine.id,
            "lot.extract",
            [],
            _extracted(mine, last),
            made=[last],
            when=december + timedelta(days=1),
        )
        actions.quota(book, mine, 2, licences.reo_g(now.mass_g, now.composition))
        actions.extract(book, mine, now, mine.deposit)
        dated = datetime(year - 1, 12, 31, 23, self.rng.randint(0, 59), tzinfo=book.clock.tzinfo)
        self.arm(late.id, f"{mine.id} ore dug in {year} dated {dated:%Y-%m-%d %H:%M}")
        book.wait((24, 72))
        book.post(mine.id, "lot.extract", [], _extracted(mine, late), made=[late], when=dated)

    def _ore(self, book: Book, mine: Mine) -> Lot:
        treo = chemistry.uniform(self.rng, mine.treo)
        composition = chemistry.ore(self.rng, mine.profile, mine.deposit, treo)
        mass = self.rng.randint(*mine.ore_t) * 1_000_000
        return Lot(book.lot_id("ore"), "ore", mass, composition, mine.id, "run-of-mine")


class DepositOther(Play):
    """A US mine records heavy rare earths (a 5-15 % Dy and Y spike, smuggled feed) in a
    bastnaesite ore under deposit "other", which no profile judges, and concentrates it."""

    name, expected = "deposit_other", ("ORIGIN_MISMATCH",)
    unseen = (
        "'other' is a deposit the rules hold no reference for, and a mine may name any "
        "deposit per extraction: no record says what its site yielded before"
    )

    def build(self, book: Book, plan: Plan) -> None:
        self.plan = plan
        mine = MINE["mountain-pass-mine"]
        treo = chemistry.uniform(self.rng, mine.treo)
        composition = chemistry.ore(self.rng, mine.profile, mine.deposit, treo)
        rey = sum(v for e, v in composition.items() if e in ref.REY)
        share = self.rng.uniform(0.05, 0.15)
        added = {"Dy": round(share * rey), "Y": round(share * rey * 2)}
        spiked = cap({**composition, **{e: composition.get(e, 0) + v for e, v in added.items()}})
        mass = self.rng.randint(*mine.ore_t) * 1_000_000
        ore = Lot(book.lot_id("ore"), "ore", mass, spiked, mine.id, "run-of-mine")
        self.arm(
            ore.id, f"Dy and Y added at {share:.0%} and {2 * share:.0%} of the REY, deposit 'other'"
        )
        actions.extract(book, mine, ore, "other")
        book.wait((12, 60))
        recovery = chemistry.uniform(self.rng, ref.RECOVERY["beneficiation"])
        grade, comp = processes.beneficiate(
            self.rng, (ore.mass_g, ore.composition), mine.deposit, recovery
        )
        made = Lot(book.lot_id("conc"), "concentrate", grade, comp, mine.id, "concentrate")
        actions.transform(book, mine.id, "beneficiation", [(ore, ore.mass_g)], [made])


def _quota(book: Book, mine: Mine, year: int, reo_g: int) -> dict[str, object]:
    return {
        "id": f"CN-RQ-{year}-{book.chain:05d}-1",
        "holder": mine.id,
        "year": year,
        "reo_mass_g": reo_g,
        "deposit": mine.deposit,
    }


def _extracted(mine: Mine, lot: Lot) -> dict[str, object]:
    site = {"id": mine.site_id, "name": mine.site_name, "country": "CN", "geo": mine.geo}
    return {"lot": lot.wire, "site": site, "deposit": mine.deposit}


class UnmeasuredOre(Play):
    """A bastnaesite mine lists no Dy in its ore (not measured); the concentrate reports Dy at
    0.12-0.18 % of its rare earths, three times what the ore held, the rest smuggled in."""

    name, expected = "unmeasured_ore", ("LINEAGE_IMBALANCE", "ORIGIN_MISMATCH")
    unseen = (
        "an element the mine did not measure may be reported later up to twice the top of "
        "its deposit's DOMAIN range (bastnaesite Dy: 0.2 % of the rare earths), the room an "
        "honest concentrate reporting what its ore did not list needs (unlisted_tb)"
    )

    def require(self, plan: Plan) -> Plan:
        end = self.rng.choice(("concentrate", "oxide"))
        return replace(plans.draw(self.rng, plan.chain, end, mines=BASTNAESITE_MINES), blend=False)

    def made(
        self, process: str, lot: str, mass_g: int, composition: Composition
    ) -> tuple[int, Composition]:
        if process == "extract":
            self.arm(lot, "ore lists no Dy")
            return mass_g, {e: v for e, v in composition.items() if e != "Dy"}
        if process == "beneficiation":
            rey = sum(v for e, v in composition.items() if e in ref.REY)
            share = self.rng.uniform(0.0012, 0.0018)
            self.notes.append(f"concentrate reports Dy at {share:.2%} of its rare earths")
            return mass_g, cap({**composition, "Dy": round(rey * share / (1 - share))})
        return mass_g, composition
