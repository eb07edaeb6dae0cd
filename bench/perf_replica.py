"""Reads from a PostgreSQL streaming replica while ingest runs on the primary (`make bench`).

A durable primary and a hot standby of it (`pg_basebackup -R`, tests/pgreplica.py), one
database: `ree-ledger serve` on the primary takes the workload's setup, then the rest of
the workload in the background, one batch after another, for the whole measurement. Two
reading servers of `workers` API processes each: one with REE_LEDGER_READ_DATABASE_URL on
the standby, one reading the primary. Client threads read the customs page `GET /lots/{lot}`
and `GET /v1/lots/{lot}/provenance` of the deep lot (100 entries of ancestry) in turn, from
one reading server then the other, in alternating rounds, so both see the same ingest;
requests/s of each and the replica's lag (entries behind the primary, sampled) are reported.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import perf_server
from bench.perf_pg import DurablePostgres
from bench.perf_server import Ingest
from bench.perf_workload import SETUP, Workload
from tests.pgreplica import TemporaryStandby

ROUNDS = 4  # replica, primary, replica, primary


class DurableStandby(TemporaryStandby, DurablePostgres):
    """A hot standby with fsync and synchronous_commit on, like the primary it copies."""


@dataclass
class ReplicaReads:
    workers: int
    clients: int
    seconds: float
    replica_requests: int = 0
    primary_requests: int = 0
    replica_seconds: float = 0.0
    primary_seconds: float = 0.0
    ingest: Ingest = field(default_factory=Ingest)
    lag_entries: list[int] = field(default_factory=list)

    @property
    def replica_rate(self) -> float:
        return self.replica_requests / self.replica_seconds if self.replica_seconds else 0.0

    @property
    def primary_rate(self) -> float:
        return self.primary_requests / self.primary_seconds if self.primary_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.replica_rate / self.primary_rate if self.primary_rate else 0.0

    def lag(self) -> str:
        if not self.lag_entries:
            return "lag not sampled"
        median = statistics.median(self.lag_entries)
        return f"replica lag median {median:.0f}, max {max(self.lag_entries)} entries"


def measure(
    workload: Workload, root: Path, keys_from: Path, seconds: float, workers: int
) -> ReplicaReads:
    """Raises tests.pgserver.PostgresNotFound when there is no PostgreSQL on this machine."""
    result = ReplicaReads(workers, 2 * workers, seconds)
    with ExitStack() as stack:
        primary = DurablePostgres()
        stack.callback(primary.stop)
        primary.start()
        url = primary.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        home = root / "replica-home"
        env = perf_server.init_home(home, url, keys_from=keys_from)
        standby = DurableStandby(primary)
        stack.callback(standby.stop)
        standby.start()
        writer = stack.enter_context(perf_server.served(home, env, workers=1))
        setup, first = sum(1 for name, _, _ in workload.batches_of() if name == SETUP), Ingest()
        posted = perf_server.post_sequential(writer.client, workload, 1, first)
        while posted < setup:
            posted = perf_server.post_sequential(writer.client, workload, first.entries + 1, first)
        standby.caught_up()
        quiet = {**env, "REE_LEDGER_WITNESS_INTERVAL": "0"}
        replica_url = standby.database_url(url.rsplit("/", 1)[1])
        on_replica = {**quiet, "REE_LEDGER_READ_DATABASE_URL": replica_url}
        reader = stack.enter_context(perf_server.served(home, on_replica, workers))
        plain = stack.enter_context(perf_server.served(home, quiet, workers))
        paths = [f"/lots/{workload.deep_lot}", f"/v1/lots/{workload.deep_lot}/provenance"]
        for client in (reader.client, plain.client):
            for path in paths:
                client.get(path).raise_for_status()
        with (
            _ingesting(writer.client, workload, posted, result.ingest),
            _lag_samples(writer.client, reader.client, result.lag_entries),
        ):
            for turn in range(ROUNDS):
                server = reader if turn % 2 == 0 else plain
                count, taken = _hammer(server.client, paths, result.clients, seconds / ROUNDS)
                if server is reader:
                    result.replica_requests += count
                    result.replica_seconds += taken
                else:
                    result.primary_requests += count
                    result.primary_seconds += taken
    return result


@contextmanager
def _ingesting(client: httpx.Client, workload: Workload, skip: int, done: Ingest) -> Iterator[None]:
    """Post the workload's batches after the first `skip`, one at a time, until told to stop."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with httpx.Client(base_url=client.base_url, timeout=600) as own:
                for position, (_, count, body) in enumerate(workload.batches_of()):
                    if stop.is_set():
                        return
                    if position < skip:
                        continue
                    started = time.perf_counter()
                    perf_server.post_batch(own, body)
                    done.seconds += time.perf_counter() - started
                    done.entries += count
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if errors:
        raise errors[0]


@contextmanager
def _lag_samples(primary: httpx.Client, replica: httpx.Client, into: list[int]) -> Iterator[None]:
    """Every 0.25 s: the primary's size minus the size the replica answers at."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.25):
            ahead = perf_server.log_size(primary)
            held = int(replica.get("/v1/log").headers["Ree-Ledger-Tree-Size"])
            into.append(max(ahead - held, 0))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _hammer(
    client: httpx.Client, paths: list[str], clients: int, seconds: float
) -> tuple[int, float]:
    """`clients` threads reading `paths` in turn for `seconds`: (requests answered, seconds)."""
    counts = [0] * clients
    errors: list[BaseException] = []
    started = time.perf_counter()
    deadline = started + seconds

    def run(k: int) -> None:
        try:
            with httpx.Client(base_url=client.base_url, timeout=600) as own:
                turn = k
                while time.perf_counter() < deadline:
                    own.get(paths[turn % len(paths)]).raise_for_status()
                    counts[k] += 1
                    turn += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(counts), time.perf_counter() - started
