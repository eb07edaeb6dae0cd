"""The audit's replay in parts (ledger/service/audit_parallel.py; two here, as it runs from
audit.PARTS workers) is held to the sequential one: on ledgers of the demo's chains and
frauds and of the adversary's campaigns (licences, quotas, seizures), both give the same
report, the parts vouching for it alone; damage to the tables the replay makes (lot
history, flags, state) is found by the parts, and the failure named is the sequential
audit's. On both backends."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.demo import Scenario
from ledger.demo.adversary import adversary_span, play
from ledger.demo.generator import generate, span
from ledger.home import Home, init_home
from ledger.lots.records import Rejection
from ledger.service import audit as audit_service
from ledger.service import scenario_run
from ledger.service.audit import TrustedKeys
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from tests.store.test_audit_pipeline import _outcome, replays_in_this_process

ORIGIN = "parts.ree-ledger.local/log"


def _demo() -> Scenario:
    start = datetime.now(UTC) - span(10) - timedelta(days=1)
    return generate(11, chains=10, fraud_rate=1.0, start=start)


def _adversary() -> Scenario:
    start = datetime.now(UTC) - adversary_span(40) - timedelta(days=1)
    return play(11, instances=1, start=start).scenario


@pytest.fixture(params=[_demo, _adversary], ids=["demo", "adversary"])
def ledger(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[tuple[Database, TrustedKeys, str]]:
    """A ledger holding a scenario as the ledger took it (its refused steps refused)."""
    make: Callable[[], Scenario] = request.param
    scenario = make()
    identity = init_home(tmp_path / "home", database_url, ORIGIN)
    home = Home(tmp_path / "home")
    db = Database(database_url)
    now = datetime.now(UTC)
    ingest(db, identity, scenario_run.registrations(scenario, home.operator_key(), now), now)
    for batch in scenario_run.batches(scenario, 40):
        try:
            ingest(db, identity, list(batch.envelopes), now)
        except Rejection:
            assert batch.refused, batch.steps[0].event["id"]
    trusted = TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key)
    try:
        yield db, trusted, database_url
    finally:
        db.dispose()


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


LATE = "(SELECT max(idx) FROM lot_events)"
FLAGGED = "(SELECT max(idx) FROM flags)"
DAMAGE: dict[str, tuple[str, ...]] = {
    "clean": (),
    "a late lot history row deleted": (f"DELETE FROM lot_events WHERE idx = {LATE}",),
    "a late flag's message changed": (
        f"UPDATE flags SET message = 'all is well' WHERE idx = {FLAGGED}",
    ),
    "a lot's mass": ("UPDATE lots SET mass_g = mass_g + 1 WHERE id = (SELECT max(id) FROM lots)",),
    "a licence's running total": ("UPDATE licences SET used_g = used_g + 1",),
    "a quota's use": ("UPDATE quotas SET used_g = used_g + 1",),
}


def _agree(
    ledger: tuple[Database, TrustedKeys, str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    db, trusted, url = ledger
    monkeypatch.setattr(audit_service, "PARTS", 2)
    _sql(url, *DAMAGE[damage])
    sequential = _outcome(db, trusted, jobs=0)
    assert sequential.startswith("ok") == (damage == "clean"), sequential
    in_this_process = replays_in_this_process(monkeypatch)
    assert _outcome(db, trusted, jobs=2) == sequential
    assert in_this_process == ([] if damage == "clean" else [2])


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_the_parts_and_the_sequential_replay_agree(
    ledger: tuple[Database, TrustedKeys, str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    _agree(ledger, monkeypatch, damage)


@pytest.mark.parametrize("damage", ["clean", "a late lot history row deleted"])
def test_they_agree_over_pages_of_50_entries(
    ledger: tuple[Database, TrustedKeys, str], monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """Pages handed to the parts and judged a few at a time (audit_parallel.LOOKAHEAD)."""
    monkeypatch.setattr(audit_service, "PAGE", 50)
    _agree(ledger, monkeypatch, damage)
