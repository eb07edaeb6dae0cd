"""`ree-ledger audit`: clean on an honest log, and names the entry when any stored byte changes."""

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ledger.cli.context import settings_for
from ledger.home import Home
from ledger.lots.policy import DEFAULT_POLICY, CustodyPolicy
from ledger.service.ingest import ingest
from ledger.store.engine import Database
from tests.cli.conftest import Run
from tests.support import Party, decide, declare, extract, receive, register, ship, transform

ORIGIN = "ree-ledger.local/log"


def _populate(
    run: Run,
    home_dir: Path,
    database_url: str,
    customs_country: str = "CN",
    policy: CustodyPolicy = DEFAULT_POLICY,
) -> int:
    """init, then a registry and a mine-to-export chain, one entry per batch; returns the size.
    The exporter is in CN, its customs in `customs_country`; the ledger applies `policy`."""
    run("init")
    home = Home(home_dir)
    operator = Party("operator", home.operator_key())
    db = Database(database_url)
    identity = home.identity(ORIGIN)
    heads: dict[str, str] = {}

    def post(party: Party, event: dict[str, object]) -> None:
        [accepted] = ingest(db, identity, [party.envelope(event)], datetime.now(UTC), policy=policy)
        touched = list(event["prev"])  # type: ignore[call-overload]
        if event["type"] == "lot.extract":
            touched.append(event["lot"]["id"])  # type: ignore[index]
        if event["type"] == "lot.transform":
            touched.extend(o["id"] for o in event["outputs"])  # type: ignore[attr-defined]
        for lot in touched:
            heads[lot] = accepted.event_hash

    mine, exporter, customs = Party("mine-a"), Party("exporter-b"), Party("customs-c")
    for party, roles, country in (
        (mine, ["mine"], "CN"),
        (exporter, ["processor", "exporter"], "CN"),
        (customs, ["customs"], customs_country),
    ):
        post(operator, register(operator, party, roles, country))
    post(mine, extract(mine, "ORE-1"))
    post(mine, extract(mine, "ORE-2"))
    post(mine, transform(mine, heads, [("ORE-1", 600_000)], [("CON-1", "concentrate", 80_000)]))
    post(mine, ship(mine, heads, exporter.id, [("CON-1", 80_000)]))
    post(exporter, receive(exporter, heads, mine.id, [("CON-1", 79_950)]))
    post(exporter, declare(exporter, heads, "DEC-1", ["CON-1"], 79_950))
    post(customs, decide(customs, heads, "DEC-1", ["CON-1"], "release"))
    db.dispose()
    return 10


def _sql(database_url: str, statement: str, **params: object) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(statement), params)
    engine.dispose()


def _envelope(database_url: str, index: int) -> bytes:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT envelope FROM entries WHERE idx = :i"), {"i": index}
        ).scalar_one()
    engine.dispose()
    return bytes(value)


def test_audit_passes_on_an_honest_log(run: Run, home_dir: Path, database_url: str) -> None:
    size = _populate(run, home_dir, database_url)
    result = run("audit")
    assert f"audit ok: {size} entries, {size} checkpoints, 3 lots" in result.output


def test_audit_replays_the_customs_jurisdictions_the_server_was_given(
    run: Run, home_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The customs rule is a custody rule: the audit takes it from the same REE_LEDGER_*
    settings as the server, and a log written under a wider one fails an audit without it."""
    monkeypatch.setenv("REE_LEDGER_CUSTOMS_JURISDICTIONS", '{"DE": ["CN", "FR"]}')
    union = settings_for(None).custody_policy()
    size = _populate(run, home_dir, database_url, customs_country="DE", policy=union)
    assert f"audit ok: {size} entries" in run("audit").output
    monkeypatch.delenv("REE_LEDGER_CUSTOMS_JURISDICTIONS")
    failed = run("audit", expect=1).output
    assert f"AUDIT FAILED: entry {size - 1}: step (5):" in failed
    assert "exporter in CN; customs of DE decides declarations of exporters in DE only" in failed


def test_audit_refuses_an_event_dated_before_the_earliest_time_it_is_given(
    run: Run, home_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = _populate(run, home_dir, database_url)
    monkeypatch.setenv("REE_LEDGER_EARLIEST_EVENT_TIME", "2030-01-01T00:00:00Z")
    failed = run("audit", expect=1).output
    # Every event carries a time, registry events too: the first entry fails.
    assert size and "AUDIT FAILED: entry 0: step (5): time: 2026-03-01T08:00:00Z" in failed
    assert "is before 2030-01-01T00:00:00Z, the earliest time this ledger accepts" in failed


def test_audit_of_an_empty_log_passes(run: Run) -> None:
    run("init")
    assert "audit ok: 0 entries" in run("audit").output


def test_editing_any_byte_of_any_entry_names_that_entry(
    run: Run, home_dir: Path, database_url: str
) -> None:
    size = _populate(run, home_dir, database_url)
    rng = random.Random(7)
    for index in range(size):
        original = _envelope(database_url, index)
        position = rng.randrange(len(original))
        tampered = bytearray(original)
        tampered[position] ^= 1 << rng.randrange(8)
        _sql(
            database_url,
            "UPDATE entries SET envelope = :e WHERE idx = :i",
            e=bytes(tampered),
            i=index,
        )
        result = run("audit", expect=1)
        assert f"entry {index}:" in result.output, (index, position, result.output)
        _sql(database_url, "UPDATE entries SET envelope = :e WHERE idx = :i", e=original, i=index)
    run("audit")


@pytest.mark.parametrize("index", [0, 4, 9])
def test_a_deleted_entry_is_named(run: Run, home_dir: Path, database_url: str, index: int) -> None:
    _populate(run, home_dir, database_url)
    _sql(database_url, "DELETE FROM entries WHERE idx = :i", i=index)
    assert f"entry {index}:" in run("audit", expect=1).output


def test_reordered_entries_are_named(run: Run, home_dir: Path, database_url: str) -> None:
    _populate(run, home_dir, database_url)
    # Swap the two independent extracts (indices 3 and 4), every column with them.
    _sql(database_url, "UPDATE entries SET idx = -1 WHERE idx = 3")
    _sql(database_url, "UPDATE entries SET idx = 3 WHERE idx = 4")
    _sql(database_url, "UPDATE entries SET idx = 4 WHERE idx = -1")
    assert "entry 3:" in run("audit", expect=1).output


def test_a_resigned_signature_is_named(run: Run, home_dir: Path, database_url: str) -> None:
    _populate(run, home_dir, database_url)
    original = _envelope(database_url, 5)
    marker = b'"sig":"'
    start = original.index(marker) + len(marker)
    tampered = (
        original[:start]
        + (b"B" if original[start : start + 1] == b"A" else b"A")
        + original[start + 1 :]
    )
    _sql(database_url, "UPDATE entries SET envelope = :e WHERE idx = 5", e=tampered)
    assert "entry 5:" in run("audit", expect=1).output


def test_a_changed_tree_node_is_named(run: Run, home_dir: Path, database_url: str) -> None:
    _populate(run, home_dir, database_url)
    _sql(
        database_url, "UPDATE tree_nodes SET hash = :h WHERE level = 0 AND idx = 6", h=b"\x00" * 32
    )
    assert "entry 6:" in run("audit", expect=1).output


def test_a_replaced_checkpoint_fails(run: Run, home_dir: Path, database_url: str) -> None:
    _populate(run, home_dir, database_url)
    _sql(
        database_url,
        "UPDATE checkpoints SET note = replace(note, 'ree-ledger', 'ree-ledgeR') WHERE size = 7",
    )
    output = run("audit", expect=1).output
    assert "checkpoint at size 7" in output


def test_audit_without_init_fails_with_a_reason(run: Run, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        result = run("audit", "--database-url", "sqlite:////nonexistent/ledger.db", expect=2)
        assert "run `ree-ledger init` first" in result.output


def test_an_entry_row_planted_outside_the_log_fails(
    run: Run, home_dir: Path, database_url: str
) -> None:
    _populate(run, home_dir, database_url)
    _sql(
        database_url,
        "INSERT INTO entries (idx, envelope, leaf_hash, event_hash, event_id, type, actor, "
        "keyid) SELECT -1, envelope, leaf_hash, event_hash, 'planted', type, actor, keyid "
        "FROM entries WHERE idx = 0",
    )
    assert "step (6):" in run("audit", expect=1).output
