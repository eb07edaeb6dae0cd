"""The demo ledger: a generated supply chain from mines in several countries, with frauds."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from ledger.demo import Scenario, generate, span
from ledger.home import Home
from ledger.lots.records import Rejection
from ledger.service import scenario_run
from ledger.service.ingest import ingest
from ledger.service.tokens import issue_token
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.store.tables import DeclarationRow, LicenceRow, LotRow, QuotaRow

DEMO_SEED = 2026
DEMO_CHAINS = 40
# 40 chains × 0.4 = 16 frauds: one of each pattern the generator knows.
DEMO_FRAUD_RATE = 0.4
# The flagged lot the demo points a customs officer to first: a mislabelled export.
SHOWCASE_CODES = ("HS_CODE_MISMATCH", "CONTROLLED_WITHOUT_LICENCE", "COMPOSITION_MISMATCH")


@dataclass(frozen=True)
class SeedReport:
    entries: int
    lots: int
    clean_lot: str
    flagged_lot: str
    flagged_code: str
    token: str
    log_key: str
    operator_key: str
    licensed_lot: str | None = None  # a clean magnet exported under a licence (DESIGN §9.1)
    licences: int = 0
    quotas: int = 0

    def summary(self, base_url: str) -> str:
        sheet = f"{base_url}/labels?lot={self.clean_lot}&lot={self.flagged_lot}"
        return "\n".join(
            [
                f"ree-ledger demo: {self.entries} entries, {self.lots} lots",
                f"  clean lot:     {base_url}/lots/{self.clean_lot}",
                f"  flagged lot:   {base_url}/lots/{self.flagged_lot}   ({self.flagged_code})",
                f"  label sheet:   {sheet}",
                f"  authority:     {self.licences} export licences, {self.quotas} mining quotas"
                + (
                    f"; licensed export: {base_url}/lots/{self.licensed_lot}"
                    if self.licensed_lot
                    else ""
                ),
                f"  log:           {base_url}/v1/log   checkpoint: {base_url}/v1/checkpoint",
                f"  read token (customs): {self.token}",
                f"    sign in at {base_url}/signin, or: curl -H 'Authorization: Bearer "
                f"{self.token}' {base_url}/v1/lots/{self.flagged_lot}/provenance",
                f"  log key:       {self.log_key}",
                f"  operator key:  {self.operator_key}",
            ]
        )


def demo_scenario(now: datetime) -> Scenario:
    start = now - span(DEMO_CHAINS) - timedelta(days=1)
    return generate(DEMO_SEED, chains=DEMO_CHAINS, fraud_rate=DEMO_FRAUD_RATE, start=start)


def seed_demo(home_path: Path, database_url: str, origin: str) -> SeedReport:
    """Post the demo scenario unless the log already has entries; pick lots to show."""
    home = Home(home_path)
    identity = home.identity(origin)
    scenario = demo_scenario(datetime.now(UTC))
    db = Database(database_url)
    try:
        with db.read_session() as session:
            empty = logstore.current_size(session) == 0
        if empty:
            _post(db, home, origin, scenario)
        customs = next(p.id for p in scenario.participants if "customs" in p.roles)
        token = issue_token(db, customs, datetime.now(UTC))
        with db.read_session() as session:
            size = logstore.current_size(session)
            clean = _clean_export(session, scenario)
            licensed = _licensed_export(session, scenario)
            licences = len(session.execute(select(col(LicenceRow.id))).all())
            quotas = len(session.execute(select(col(QuotaRow.id))).all())
    finally:
        db.dispose()
    flagged = next(
        (i for code in SHOWCASE_CODES for i in scenario.injections if i.code == code),
        scenario.injections[0],
    )
    return SeedReport(
        entries=size,
        lots=len(scenario.all_lots),
        clean_lot=clean,
        flagged_lot=flagged.lot,
        flagged_code=flagged.code,
        token=token,
        log_key=identity.log_vkey,
        operator_key=identity.operator_key_b64,
        licensed_lot=licensed,
        licences=licences,
        quotas=quotas,
    )


def _post(db: Database, home: Home, origin: str, scenario: Scenario) -> None:
    identity = home.identity(origin)
    now = datetime.now(UTC)
    ingest(db, identity, scenario_run.registrations(scenario, home.operator_key(), now), now)
    for batch in scenario_run.batches(scenario):
        try:
            ingest(db, identity, list(batch.envelopes), datetime.now(UTC))
        except Rejection:
            if not batch.refused:
                raise  # an honest step refused is a bug in the generator or the ledger


def _clean_export(session: Session, scenario: Scenario) -> str:
    """An exported magnet from a chain with no fraud, or any clean lot."""
    exported = session.execute(
        select(col(LotRow.id))
        .where(col(LotRow.status) == "exported", col(LotRow.product) == "magnet")
        .order_by(col(LotRow.id))
    ).scalars()
    return next((lot for lot in exported if lot in scenario.clean_lots), min(scenario.clean_lots))


def _licensed_export(session: Session, scenario: Scenario) -> str | None:
    """A released declaration's lot from a chain with no fraud that drew a licence: a
    Chinese exporter's Dy (or other controlled) goods, checked against the authority's record."""
    rows = session.execute(
        select(col(DeclarationRow.lots))
        .where(col(DeclarationRow.licence).is_not(None), col(DeclarationRow.status) == "released")
        .order_by(col(DeclarationRow.id))
    ).scalars()
    licensed = [lot for lots in rows for lot in lots if lot in scenario.clean_lots]
    magnets = session.execute(
        select(col(LotRow.id)).where(col(LotRow.id).in_(licensed), col(LotRow.product) == "magnet")
    ).scalars()
    return min(magnets, default=min(licensed, default=None))
