"""Frauds against the authority's record (DESIGN §9.1): a licence that does not cover the
goods, and ore mined without a quota or beyond it."""

from dataclasses import replace
from typing import Any

from ledger.demo import plan as plans
from ledger.demo.book import Lot
from ledger.demo.cast import CLUSTERS, COUNTRY, MINES
from ledger.demo.plan import DESTINATIONS, Plan
from ledger.demo.tamper import Tamper

# The mines whose Dy magnets a Chinese exporter declares, under China's control list.
CN_DY_MAGNETS = tuple(
    mine
    for mine in MINES
    if COUNTRY[CLUSTERS[mine.cluster].magnet_exporter] == "CN"
    and "ndfeb_dy" in plans.MAGNETS[mine.profile]
)
CN_MINES = tuple(mine for mine in MINES if COUNTRY[mine.id] == "CN")


class LicenceMisuse(Tamper):
    """A Chinese exporter's Dy magnets declared under a licence number nobody issued
    (variant 0), or under its real licence but to another destination than it allows
    (variant 1): each looks like a licensed export on paper."""

    pattern, code = "licence_misuse", "LICENCE_INVALID"

    def require(self, plan: Plan) -> Plan:
        return plans.draw(
            self.rng, plan.chain, "magnet", mines=CN_DY_MAGNETS, magnets=("ndfeb_dy",)
        )

    def declaration(self, declaration: dict[str, Any], lots: list[Lot]) -> dict[str, Any]:
        if self.fired or "licence" not in declaration:
            return declaration
        if self.variant % 2 == 0:
            forged = declaration["licence"].replace("-EL-", "-EL-9")
            self.fire(lots[0].id, f"declared under licence {forged}, which no authority issued")
            return {**declaration, "licence": forged}
        licensed = declaration["destination"]
        elsewhere = self.rng.choice([c for c in DESTINATIONS if c not in (licensed, "CN")])
        note = f"licence {declaration['licence']} is for {licensed}; declared to {elsewhere}"
        self.fire(lots[0].id, note)
        return {**declaration, "destination": elsewhere}


class QuotaEvasion(Tamper):
    """A Chinese mine extracts ore with no quota for it (variant 0), or with a quota for
    60-80 % of its REO (variant 1): the extraction itself looks like any other."""

    pattern, code = "quota_evasion", "QUOTA_EXCEEDED"

    def require(self, plan: Plan) -> Plan:
        redrawn = plans.draw(self.rng, plan.chain, plan.end, mines=CN_MINES)
        return replace(redrawn, blend=False)

    def quota(self, lot: str, reo_g: int) -> int | None:
        if self.fired:
            return reo_g
        if self.variant % 2 == 0:
            self.fire(lot, f"extracted {reo_g} g REO with no quota for it")
            return None
        granted = round(reo_g * self.rng.uniform(0.6, 0.8))
        self.fire(lot, f"extracted {reo_g} g REO on a quota of {granted} g")
        return granted
