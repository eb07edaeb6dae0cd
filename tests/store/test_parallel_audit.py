"""The audit checks entries and signatures in a process pool, and still names the same first
failure. The replay checks the first page itself (while the workers start): with pages of 200
entries, the workers check the other four; with the default page, none."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from ledger.home import Home, init_home
from ledger.service import audit as audit_service
from ledger.service.audit import TrustedKeys, audit
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from ledger.store.tables import EntryRow
from ledger.tlog import merkle
from ledger.tlog.encoding import b64encode, canonical
from ledger.verify.stored import AuditFailure
from tests.support import Party, extract, register

ORIGIN = "audit.ree-ledger.local/log"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _ledger(tmp_path: Path, database_url: str) -> tuple[Database, TrustedKeys]:
    identity = init_home(tmp_path / "home", database_url, ORIGIN)
    operator = Party("operator", Home(tmp_path / "home").operator_key())
    mine = Party("audit-mine")
    db = Database(database_url)
    ingest(db, identity, [operator.envelope(register(operator, mine, ["mine"]))], NOW)
    for batch in range(3):
        envelopes = [mine.envelope(extract(mine, f"ORE-{batch}-{n}")) for n in range(300)]
        ingest(db, identity, envelopes, NOW)
    return db, TrustedKeys(ORIGIN, identity.log_vkey, identity.operator_public_key)


@pytest.fixture(params=[audit_service.PAGE, 200], ids=["default-pages", "small-pages"])
def page(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(audit_service, "PAGE", request.param)
    return int(request.param)


def _forge_signature(db: Database, index: int) -> None:
    """Replace the entry's signature by another well-formed one (its leaf hash column to
    match): step (4) is the first that can tell."""
    with db.write_session() as session:
        row = session.get(EntryRow, index)
        assert row is not None
        envelope = json.loads(bytes(row.envelope))
        envelope["signatures"][0]["sig"] = b64encode(bytes(64))
        forged = canonical(envelope)
        values = {"envelope": forged, "leaf_hash": merkle.leaf_hash(forged)}
        session.execute(update(EntryRow).where(col(EntryRow.idx) == index).values(**values))
        session.commit()


@pytest.mark.parametrize("jobs", [0, 2])
def test_parallel_and_inline_audits_agree_on_a_clean_log(
    tmp_path: Path, database_url: str, jobs: int, page: int
) -> None:
    db, trusted = _ledger(tmp_path, database_url)
    try:
        report = audit(db, trusted, jobs=jobs)
    finally:
        db.dispose()
    assert (report.entries, report.checkpoints) == (901, 4)


@pytest.mark.parametrize("jobs", [0, 2])
def test_the_first_bad_signature_is_named_before_any_later_fault(
    tmp_path: Path, database_url: str, jobs: int, page: int
) -> None:
    db, trusted = _ledger(tmp_path, database_url)
    try:
        _forge_signature(db, 700)
        _forge_signature(db, 450)
        with pytest.raises(AuditFailure) as failed:
            audit(db, trusted, jobs=jobs)
    finally:
        db.dispose()
    assert (failed.value.index, failed.value.step) == (450, 4)
