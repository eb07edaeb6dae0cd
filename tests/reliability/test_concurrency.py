"""Concurrency: four `ree-ledger serve` processes on one database, sixteen client threads.

Besides independent extracts, pairs of rival events name the same head of one lot in `prev`
and are released together from two threads talking to two different servers: exactly one
of each pair is accepted and the other is refused with 409 `stale_prev`. No index is given
twice, the checkpoints every client saw are consistent with one another (no fork), and
`ree-ledger audit` passes.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.reliability.client import (
    Ack,
    CheckpointBook,
    CountingIds,
    acks_from,
    event_hash,
    read_log,
    verify_acknowledged,
    verify_checkpoints,
    verify_inclusions,
)
from tests.reliability.harness import SCALE, Server, make_home
from tests.support import Party, extract, register, ship, transform

SERVERS = 4
MINES = 4
BARRIER_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0
JOIN_TIMEOUT_S = 900.0  # the whole workload, stress scale included


@dataclass(frozen=True)
class Rival:
    """One side of a conflict: an event on lot `lot` built on the same head as its rival."""

    pair: int
    signer: Party
    event: dict[str, Any]


@dataclass
class Outcome:
    kind: str  # "independent" or "rival"
    pair: int | None
    status: int
    code: str | None
    acks: list[Ack]


class ClientThread:
    """One client: a server of its own, a list of tasks, every outcome kept."""

    def __init__(
        self, number: int, url: str, tasks: list[Any], barriers: list[threading.Barrier]
    ) -> None:
        self.url = url
        self.tasks = tasks
        self.barriers = barriers
        self.book = CheckpointBook()
        self.outcomes: list[Outcome] = []
        self.failure: BaseException | None = None
        self.rng = random.Random(SCALE.seed + number)
        self.thread = threading.Thread(target=self._run, name=f"client-{number}", daemon=True)

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=REQUEST_TIMEOUT_S) as http:
                for task in self.tasks:
                    self._do(http, task)
        except BaseException as exc:  # reported by the test thread
            self.failure = exc

    def _do(self, http: httpx.Client, task: Any) -> None:
        if isinstance(task, Rival):
            self.barriers[task.pair].wait()  # both rivals leave together
            envelopes = [task.signer.envelope(task.event)]
            self.outcomes.append(self._post(http, "rival", task.pair, envelopes))
        else:
            envelopes = [signer.envelope(event) for signer, event in task]
            self.outcomes.append(self._post(http, "independent", None, envelopes))
        if self.rng.random() < 0.25:
            answer = http.get("/v1/checkpoint")
            assert answer.status_code == 200, answer.text
            self.book.add(answer.text)

    def _post(
        self, http: httpx.Client, kind: str, pair: int | None, envelopes: list[dict[str, Any]]
    ) -> Outcome:
        if len(envelopes) == 1 and self.rng.random() < 0.5:
            answer = http.post("/v1/entries", json=envelopes[0])
        else:
            answer = http.post("/v1/entries/batch", json={"envelopes": envelopes})
        if answer.status_code != 201:
            code = answer.json().get("code")
            return Outcome(kind, pair, answer.status_code, code, [])
        acks = acks_from(answer.json(), envelopes)
        self.book.add(acks[-1].checkpoint)
        return Outcome(kind, pair, 201, None, acks)


def _post_batch(url: str, envelopes: list[dict[str, Any]], book: CheckpointBook) -> list[Ack]:
    answer = httpx.post(f"{url}/v1/entries/batch", json={"envelopes": envelopes}, timeout=60)
    assert answer.status_code == 201, answer.text
    acks = acks_from(answer.json(), envelopes)
    book.add(acks[-1].checkpoint)
    return acks


def _rivals(pair: int, lot: str, head: str, mine: Party, plant: Party) -> tuple[Rival, Rival]:
    """Two events on `lot` that both name `head`: whichever is sequenced second is stale."""
    heads = {lot: head}
    first = transform(mine, heads, [(lot, 500_000)], [(f"{lot}-A", "concentrate", 60_000)])
    if pair % 2 == 0:
        second = transform(mine, heads, [(lot, 400_000)], [(f"{lot}-B", "concentrate", 50_000)])
    else:
        second = ship(mine, heads, plant.id, [(lot, 1_000_000)])
    return Rival(pair, mine, first), Rival(pair, mine, second)


def _plan(mines: list[Party], ids: CountingIds, rivals: list[tuple[Rival, Rival]]) -> list[list]:
    """Each thread's tasks: its own extracts (singles and pairs) interleaved with its side of
    some rivalries; every thread meets its rivalries in increasing pair order, so the barriers
    cannot deadlock."""
    sides: list[list[Rival]] = [[] for _ in range(SCALE.threads)]
    for pair, (first, second) in enumerate(rivals):
        # Adjacent threads talk to different servers: the rivals meet in the database.
        sides[(2 * pair) % SCALE.threads].append(first)
        sides[(2 * pair + 1) % SCALE.threads].append(second)
    tasks: list[list[Any]] = []
    for number, own_rivals in enumerate(sides):
        mine = mines[number % len(mines)]
        own: list[Any] = []
        for n in range(max(SCALE.events_per_thread, len(own_rivals))):
            if n < SCALE.events_per_thread:
                size = 2 if n % 3 == 2 else 1
                own.append([(mine, extract(mine, ids.next("ORE"))) for _ in range(size)])
            if n < len(own_rivals):
                own.append(own_rivals[n])
        tasks.append(own)
    return tasks


def test_four_servers_sixteen_clients_no_fork_one_winner_per_conflict(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    home = make_home(tmp_path / "home", database_url)
    servers = [Server(home, tmp_path / f"serve-{n}.log") for n in range(SERVERS)]
    mines = [Party(f"conc-mine-{n}") for n in range(MINES)]
    plant = Party("conc-plant")
    ids = CountingIds("conc")
    book = CheckpointBook()
    clients: list[ClientThread] = []
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready()
        operator = home.operator
        acks = _post_batch(
            servers[0].url,
            [operator.envelope(register(operator, mine, ["mine"])) for mine in mines]
            + [operator.envelope(register(operator, plant, ["processor"]))],
            book,
        )
        lots = [ids.next("PAIR") for _ in range(SCALE.conflict_pairs)]
        owners = [mines[n % MINES] for n in range(len(lots))]
        extracts = [extract(owner, lot) for owner, lot in zip(owners, lots, strict=True)]
        acks += _post_batch(
            servers[1].url,
            [owner.envelope(event) for owner, event in zip(owners, extracts, strict=True)],
            book,
        )
        rivals = [
            _rivals(pair, lot, event_hash(event), owner, plant)
            for pair, (lot, owner, event) in enumerate(zip(lots, owners, extracts, strict=True))
        ]
        barriers = [threading.Barrier(2, timeout=BARRIER_TIMEOUT_S) for _ in rivals]
        clients = [
            ClientThread(number, servers[number % SERVERS].url, tasks, barriers)
            for number, tasks in enumerate(_plan(mines, ids, rivals))
        ]
        for client in clients:
            client.thread.start()
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for client in clients:
            client.thread.join(timeout=max(0.0, deadline - time.monotonic()))
            assert not client.thread.is_alive(), "a client thread did not finish"
            assert client.failure is None, repr(client.failure)

        outcomes = [outcome for client in clients for outcome in client.outcomes]
        for client in clients:
            for note in client.book.notes():
                book.add(note)
        _check_outcomes(outcomes, len(rivals))
        acks += [ack for outcome in outcomes for ack in outcome.acks]
        stored = read_log(database_url)
        verify_acknowledged(stored, acks)
        assert len(stored.entries) == len(acks), "entries that no client was told about"
        verify_inclusions(acks, home.log_vkey)
        checkpoints = verify_checkpoints(book, home.log_vkey, servers[2].url)
    finally:
        for server in servers:
            server.stop()
    audit = home.audit()
    assert audit.returncode == 0, audit.stdout + audit.stderr
    print(
        f"\nconcurrency[{backend}]: {SERVERS} servers, {SCALE.threads} threads, "
        f"{len(stored.entries)} entries, {len(rivals)} conflicts, {len(checkpoints)} "
        f"checkpoints consistent, {time.monotonic() - started:.1f}s"
    )


def _check_outcomes(outcomes: list[Outcome], pairs: int) -> None:
    independent = [o for o in outcomes if o.kind == "independent"]
    refused = [(o.status, o.code) for o in independent if o.status != 201]
    assert not refused, f"independent events refused: {refused[:5]}"
    by_pair: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.pair is not None:
            by_pair.setdefault(outcome.pair, []).append(outcome)
    assert sorted(by_pair) == list(range(pairs))
    for pair, sides in by_pair.items():
        results = sorted((side.status, side.code) for side in sides)
        assert results == [(201, None), (409, "stale_prev")], (pair, results)
