"""Crash safety: `ree-ledger serve` is SIGKILLed at random moments while a client posts batches.

After every kill the server is restarted on the same database. At the end every acknowledged
entry is at the index it was given with the same leaf hash, the indices have no gap, each batch
is wholly present or wholly absent (a batch that got no answer may be either), the checkpoints
the client saw are consistent with each other, and `ree-ledger audit` passes.
"""

from __future__ import annotations

import base64
import hashlib
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
    StoredLog,
    acks_from,
    read_log,
    verify_acknowledged,
    verify_checkpoints,
    verify_inclusions,
)
from tests.reliability.harness import SCALE, Server, make_home
from tests.support import Party, extract, register, transform

MINES = 3
REQUEST_TIMEOUT_S = 20.0
TAIL_BATCHES = 5  # posted after the last restart, so the log ends on a live server
BATCH_LIMIT = 100_000  # a bound, never reached: the kills end the run


@dataclass
class Sent:
    """One batch as sent, and its acks; `acks` is None when no answer came back."""

    event_ids: list[str]
    acks: list[Ack] | None


class Endpoint:
    """The URL of the live server, or None while it is down or restarting."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str | None:
        with self._lock:
            return self._url

    @url.setter
    def url(self, value: str | None) -> None:
        with self._lock:
            self._url = value


class Poster:
    """Posts batches back to back to whichever server is up, and remembers every one."""

    def __init__(
        self, endpoint: Endpoint, mines: list[Party], book: CheckpointBook, seed: int
    ) -> None:
        self.endpoint = endpoint
        self.mines = mines
        self.book = book
        self.rng = random.Random(seed)
        self.ids = CountingIds("crash")
        self.sent: list[Sent] = []
        self.refused: list[str] = []
        self.failure: BaseException | None = None
        self.attempts = 0
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run, name="poster", daemon=True)

    def run(self) -> None:
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT_S) as http:
                while not self.halt.is_set() and len(self.sent) < BATCH_LIMIT:
                    url = self.endpoint.url
                    if url is None:
                        time.sleep(0.005)
                        continue
                    self._post_one(http, url)
        except BaseException as exc:  # reported by the test thread
            self.failure = exc

    def _post_one(self, http: httpx.Client, url: str) -> None:
        envelopes, event_ids = self._batch()
        self.attempts += 1
        try:
            answer = http.post(f"{url}/v1/entries/batch", json={"envelopes": envelopes})
        except httpx.TransportError:
            self.sent.append(Sent(event_ids, None))
            return
        if answer.status_code != 201:
            self.refused.append(f"{answer.status_code} {answer.text[:300]}")
            return
        acks = acks_from(answer.json(), envelopes)
        self.book.add(acks[-1].checkpoint)
        self.sent.append(Sent(event_ids, acks))

    def _batch(self) -> tuple[list[dict[str, Any]], list[str]]:
        """1–4 extracts; sometimes a transform of a lot extracted earlier in the same batch."""
        events: list[tuple[Party, dict[str, Any]]] = []
        for _ in range(self.rng.randint(1, 4)):
            mine = self.rng.choice(self.mines)
            lot = self.ids.next("ORE")
            extracted = extract(mine, lot)
            events.append((mine, extracted))
            if self.rng.random() < 0.3:
                heads = {lot: _hash(mine.envelope(extracted))}
                out = self.ids.next("CON")
                made = transform(mine, heads, [(lot, 600_000)], [(out, "concentrate", 80_000)])
                events.append((mine, made))
        envelopes = [party.envelope(event) for party, event in events]
        return envelopes, [event["id"] for _, event in events]


def _hash(envelope: dict[str, Any]) -> str:
    return hashlib.sha256(base64.b64decode(envelope["payload"])).hexdigest()


def _register(url: str, operator: Party, mines: list[Party], book: CheckpointBook) -> list[Ack]:
    envelopes = [operator.envelope(register(operator, mine, ["mine"])) for mine in mines]
    answer = httpx.post(f"{url}/v1/entries/batch", json={"envelopes": envelopes}, timeout=30)
    assert answer.status_code == 201, answer.text
    acks = acks_from(answer.json(), envelopes)
    book.add(acks[-1].checkpoint)
    return acks


def _kill_and_restart(
    server: Server, endpoint: Endpoint, poster: Poster, rng: random.Random
) -> None:
    """Let the client post for a random while, SIGKILL the server, bring it back."""
    endpoint.url = server.url
    started = poster.attempts
    deadline = time.monotonic() + 10
    while poster.attempts == started and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, SCALE.uptime_s))
    endpoint.url = None  # no new request; the one in flight, if any, meets the kill
    server.kill()
    server.start()
    server.wait_ready()


def _check_batches(stored: StoredLog, sent: list[Sent], registered: list[Ack]) -> dict[str, int]:
    """Each batch is all present or all absent, contiguous; nothing stored that nobody sent."""
    index_of = stored.index_of
    counts = {"acked": 0, "unanswered_committed": 0, "unanswered_absent": 0}
    expected_ids = {ack.event_id for ack in registered}
    for batch in sent:
        found = [index_of.get(event_id) for event_id in batch.event_ids]
        if batch.acks is not None:
            assert found == [ack.index for ack in batch.acks], (batch, found)
            counts["acked"] += 1
        elif all(index is None for index in found):
            counts["unanswered_absent"] += 1
            continue
        else:
            counts["unanswered_committed"] += 1
        assert None not in found, f"batch {batch.event_ids} is half written: {found}"
        first = found[0]
        assert first is not None
        assert found == list(range(first, first + len(found))), f"batch split up: {found}"
        expected_ids.update(batch.event_ids)
    assert set(index_of) == expected_ids, "the log holds entries nobody sent"
    return counts


def test_sigkill_at_random_moments_loses_no_acknowledged_entry(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    home = make_home(tmp_path / "home", database_url)
    mines = [Party(f"crash-mine-{n}") for n in range(MINES)]
    book = CheckpointBook()
    endpoint = Endpoint()
    server = Server(home, tmp_path / "serve.log")
    poster = Poster(endpoint, mines, book, SCALE.seed)
    rng = random.Random(SCALE.seed + 1)
    started = time.monotonic()
    try:
        server.start()
        server.wait_ready()
        registered = _register(server.url, home.operator, mines, book)
        poster.thread.start()
        for _ in range(SCALE.kills):
            _kill_and_restart(server, endpoint, poster, rng)
        endpoint.url = server.url
        tail = len(poster.sent) + TAIL_BATCHES
        deadline = time.monotonic() + 30
        while len(poster.sent) < tail and poster.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        poster.halt.set()
        poster.thread.join(timeout=REQUEST_TIMEOUT_S + 5)
        assert poster.failure is None, repr(poster.failure)
        assert not poster.refused, poster.refused[:3]

        stored = read_log(database_url)
        acks = registered + [ack for batch in poster.sent for ack in batch.acks or []]
        verify_acknowledged(stored, acks)
        counts = _check_batches(stored, poster.sent, registered)
        verify_inclusions(acks, home.log_vkey)
        checkpoints = verify_checkpoints(book, home.log_vkey, server.url)
        assert checkpoints[-1].size <= len(stored.entries)
    finally:
        poster.halt.set()
        endpoint.url = None
        server.stop()
    audit = home.audit()
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "audit ok" in audit.stdout
    assert counts["acked"] >= TAIL_BATCHES, counts
    print(
        f"\ncrash[{backend}]: {SCALE.kills} kills, {len(stored.entries)} entries, {counts}, "
        f"{len(checkpoints)} checkpoints checked, {time.monotonic() - started:.1f}s"
    )
