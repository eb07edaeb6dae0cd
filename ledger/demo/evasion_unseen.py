"""Evasions the record cannot show (issue 14), played to measure them and keep them in view:
a backdated extraction onto last year's quota, heavy rare earths under deposit "other", an
element the mine did not measure reported later at the top of its room."""

from dataclasses import replace
from datetime import datetime, timedelta

from ledger.demo import actions, chemistry, processes
from ledger.demo import plan as plans
from ledger.demo import reference as ref
from ledger.demo.book import Book, Lot
from ledger.demo.cast import QUOTA_AUTHORITY, Mine
from ledger.demo.chemistry import Composition, cap
from ledger.demo.evasion_mine import BASTNAESITE_MINES, MINE
from ledger.demo.plan import Plan
from ledger.demo.play import Play
from ledger.lots import licences


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
