"""Ingest reads a (mine, year)'s open quotas (StateReader.open_quotas, a range of the partial
index ix_quotas_open) and, beyond them, its last quota (StateReader.last_quota, one row of
ix_quotas_last), never its full list: held to its plain twin on every backend. The same log
ingested with every open-quota read answered by the full list, and every last quota found
in it, records the same findings and the same quota rows, and the audit's replay
(MemoryState) finds the stored state it derives."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session

from ledger.home import Home, init_home
from ledger.lots.memory import MemoryState
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.store.state import DbState, PrefetchedState
from ledger.store.tables import FlagRow, QuotaRow
from tests.support import Party, event, register
from tests.unit.test_open_quotas import DEPOSITS, MINES, YEARS, plain_last, scenario

ORIGIN = "quotas.ree-ledger.local/log"
NOW = datetime(2028, 1, 1, tzinfo=UTC)
BATCH = 40


def _ledger(
    tmp_path: Path, name: str, database_url: str, parties: dict[str, Party]
) -> tuple[Database, LogIdentity]:
    """A log at `database_url` with the authority and the mines registered."""
    identity = init_home(tmp_path / name, database_url, ORIGIN)
    operator = Party("operator", Home(tmp_path / name).operator_key())
    db = Database(database_url)
    registered = [
        operator.envelope(register(operator, party, ["authority" if pid == "mofcom" else "mine"]))
        for pid, party in parties.items()
    ]
    ingest(db, identity, registered, NOW)
    return db, identity


def _stored(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    flags = session.execute(
        select(FlagRow.idx, FlagRow.lot, FlagRow.code, FlagRow.message, FlagRow.evidence).order_by(
            FlagRow.idx, FlagRow.code, FlagRow.lot
        )  # type: ignore[arg-type]
    ).all()
    quotas = session.execute(select(QuotaRow).order_by(QuotaRow.id)).scalars().all()  # type: ignore[arg-type]
    return [tuple(row) for row in flags], [
        tuple(getattr(q, n) for n in QuotaRow.model_fields) for q in quotas
    ]


def test_ingest_of_open_quotas_is_the_full_list_ingest(
    tmp_path: Path, database_url: str, empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain twin's log is made from nothing (init_home migrates it), so migration 0007
    is also run on each backend here."""
    parties = {pid: Party(pid) for pid in ["mofcom", *MINES]}
    bodies = []
    for type_, actor, time, fields in scenario(seed=3, quotas_per_year=50):
        bodies.append((actor, {**event(actor, type_, **fields), "time": time}))
    envelopes = [parties[actor].envelope(body) for actor, body in bodies]
    fast, identity = _ledger(tmp_path, "fast", database_url, parties)
    try:
        with monkeypatch.context() as patch:
            patch.setattr(DbState, "quotas", _refused)
            patch.setattr(MemoryState, "quotas", _refused)
            for start in range(0, len(envelopes), BATCH):
                ingest(fast, identity, envelopes[start : start + BATCH], NOW)
        with fast.read_session() as session:
            found = _stored(session)
            plain, bulk = DbState(session), PrefetchedState(session)
            pairs = [(mine, year) for mine in MINES for year in (*YEARS, 2027)]
            bulk.prefetch(quotas_of=pairs[::2])
            for mine, year in pairs:
                listed = plain.quotas(mine, year)
                opened = tuple(q for q in listed if q.used_g < q.reo_mass_g)
                assert plain.open_quotas(mine, year) == opened == bulk.open_quotas(mine, year)
                assert bulk.quotas(mine, year) == listed
                for deposit in (None, *DEPOSITS, "xenotime"):
                    last = plain_last(listed, deposit)
                    assert plain.last_quota(mine, year, deposit) == last
                    assert bulk.last_quota(mine, year, deposit) == last
            assert max(len(plain.quotas(mine, year)) for mine, year in pairs) >= 50
        audit(fast, TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key), jobs=0)
    finally:
        fast.dispose()
    expected = _plain_ingest(tmp_path, empty_database_url, parties, envelopes, monkeypatch)
    assert found == expected
    exceeded = [flag for flag in expected[0] if flag[2] == "QUOTA_EXCEEDED"]
    assert len(exceeded) >= 10 and sum(flag[4]["excess_on"] is not None for flag in exceeded) >= 5
    # The evidence names the quotas drawn on, not the year's dozens.
    assert max(len(flag[4]["quotas"]) for flag in exceeded) <= 5
    assert any(row[-1] > row[4] for row in expected[1])  # a quota took an excess


def _plain_ingest(
    tmp_path: Path,
    url: str,
    parties: dict[str, Party],
    envelopes: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the log stores when every open-quota read is answered by the full list and the
    last quota is found in it: each extraction then reads all its (mine, year)'s quotas, as
    before open_quotas."""
    with monkeypatch.context() as patch:
        for reader in (PrefetchedState, MemoryState):
            patch.setattr(reader, "open_quotas", reader.quotas)
            patch.setattr(reader, "last_quota", _last_in_full_list)
        db, identity = _ledger(tmp_path, "plain", url, parties)
        try:
            for start in range(0, len(envelopes), BATCH):
                ingest(db, identity, envelopes[start : start + BATCH], NOW)
            with db.read_session() as session:
                return _stored(session)
        finally:
            db.dispose()


def _refused(reader: Any, holder: str, year: int) -> Any:
    raise AssertionError(f"the full list of {holder}'s {year} quotas was read")


def _last_in_full_list(reader: Any, holder: str, year: int, deposit: str | None) -> Any:
    return plain_last(reader.quotas(holder, year), deposit)
