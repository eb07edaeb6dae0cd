"""The submitter (ledger/service/submitter.py) round by round against a real witness process:
what a log operator sees when a witness is down, has seen another history, or is ahead of a
restored database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from ledger.home import Home, init_home
from ledger.service import witnesses
from ledger.service.ingest import ingest
from ledger.service.submitter import Outcome, Submitter
from ledger.store import witnesses as witnessstore
from ledger.store.engine import Database
from ledger.store.identity import LogIdentity
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from tests.reliability.harness import free_port
from tests.support import Party, extract, register
from tests.witness.harness import WitnessProcess, init_witness_home

ORIGIN = "submitter.ree-ledger.local/log"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Log:
    """A log home written in process, with one mine to post extractions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}/ledger.db"
        self.identity: LogIdentity = init_home(path, self.url, ORIGIN)
        self.db = Database(self.url)
        operator = Party("operator", Home(path).operator_key())
        self.mine = Party("mine-a")
        self.post(operator, register(operator, self.mine, ["mine"], "AU"))

    def post(self, party: Party, event: dict[str, object]) -> None:
        ingest(self.db, self.identity, [party.envelope(event)], datetime.now(UTC))

    def extract(self, lot: str) -> None:
        self.post(self.mine, extract(self.mine, lot))


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Log]:
    made = Log(tmp_path / "log")
    yield made
    made.db.dispose()


@pytest.fixture
def witness(tmp_path: Path, log: Log) -> Iterator[tuple[WitnessProcess, str]]:
    vkey = init_witness_home(tmp_path / "w", "w.submitter.example")
    process = WitnessProcess(tmp_path / "w", [log.identity.log_vkey], tmp_path / "w.log")
    with process:
        yield process, vkey


def _rounds(submitter: Submitter, count: int = 1) -> list[Outcome]:
    """`count` rounds, each waiting for its submissions to come back."""
    outcomes: list[Outcome] = []
    with httpx.Client(timeout=10.0) as client, ThreadPoolExecutor(4) as pool:
        for _ in range(count):
            submitter.round(client, pool)
            wait([future for _, _, future in submitter.in_flight.values()])
            outcomes += submitter.collect()
    return outcomes


def _cosigned(log: Log, vkey: str) -> int:
    with log.db.read_session() as session:
        return witnessstore.last_cosigned_size(session, vkey)


def test_a_round_sends_the_newest_checkpoint_and_stores_the_cosignature(
    log: Log, witness: tuple[WitnessProcess, str]
) -> None:
    process, vkey = witness
    witnesses.add_witness(log.db, process.url, vkey, quorum=1)
    log.extract("ORE-1")
    log.extract("ORE-2")
    submitter = Submitter(log.db)
    [outcome] = _rounds(submitter)
    assert (outcome.problem, outcome.checkpoint, outcome.size) == (None, 3, 3)
    assert _cosigned(log, vkey) == 3
    log.extract("ORE-3")
    # Another process serving the database: the lease is held, it sends nothing.
    assert _rounds(Submitter(log.db)) == []
    # The next round proves 3 -> 4; the one after has nothing to do.
    assert [o.size for o in _rounds(submitter, 2)] == [4]
    assert witnesses.served_checkpoint(log.db).size == 4


def test_a_witness_that_is_down_waits_longer_each_time(log: Log) -> None:
    vkey = init_witness_home(log.path.parent / "gone", "gone.submitter.example")
    witnesses.add_witness(log.db, f"http://127.0.0.1:{free_port()}", vkey)
    clock = Clock()
    submitter = Submitter(log.db, interval=1.0, clock=clock)
    [first] = _rounds(submitter)
    assert first.problem is not None and "unreachable" in first.problem
    assert submitter.standings[vkey].retry_at == clock.now + 2.0
    assert _rounds(submitter) == []  # not due yet
    clock.now += 2.0
    [second] = _rounds(submitter)
    assert second.problem is not None
    assert submitter.standings[vkey].retry_at == clock.now + 4.0


def test_a_witness_that_cosigned_another_history_refuses_and_is_reported(
    log: Log, witness: tuple[WitnessProcess, str], tmp_path: Path
) -> None:
    """A fork: a copy of the log takes other entries, signed by the same key; the witness
    cosigns the fork's checkpoint first; the real log's proof from that size fails (422)."""
    process, vkey = witness
    log.db.dispose()
    shutil.copytree(log.path, tmp_path / "fork")
    fork_db = Database(f"sqlite:///{tmp_path}/fork/ledger.db")
    ingest(
        fork_db, log.identity, [log.mine.envelope(extract(log.mine, "FORK-1"))], datetime.now(UTC)
    )
    from ledger.store import log as logstore

    with fork_db.read_session() as session:
        fork_row = logstore.latest_checkpoint(session)
        assert fork_row is not None
        fork_note = fork_row.note
    fork_db.dispose()
    assert (
        process.add_checkpoint(format_add_checkpoint(AddCheckpoint(0, (), fork_note))).status_code
        == 200
    )
    log.db = Database(log.url)
    log.extract("REAL-1")
    log.extract("REAL-2")
    witnesses.add_witness(log.db, process.url, vkey, quorum=1)
    [outcome] = _rounds(Submitter(log.db))  # from 0: 409 names 2, then from 2: 422
    assert outcome.problem is not None
    assert "refused checkpoint 3 (from 2): 422" in outcome.problem, outcome.problem
    assert _cosigned(log, vkey) == 0


def test_a_witness_ahead_of_a_restored_database_is_reported(
    log: Log, witness: tuple[WitnessProcess, str], tmp_path: Path
) -> None:
    process, vkey = witness
    log.db.dispose()
    shutil.copytree(log.path, tmp_path / "backup")  # size 1
    log.db = Database(log.url)
    log.extract("ORE-1")
    log.extract("ORE-2")
    witnesses.add_witness(log.db, process.url, vkey)
    assert [o.size for o in _rounds(Submitter(log.db))] == [3]
    log.db.dispose()
    shutil.rmtree(log.path)
    shutil.copytree(tmp_path / "backup", log.path)  # the log rolled back to size 1
    log.db = Database(log.url)
    witnesses.add_witness(log.db, process.url, vkey)
    [outcome] = _rounds(Submitter(log.db))
    assert outcome.problem is not None
    assert "has cosigned size 3, beyond the log's 1" in outcome.problem
