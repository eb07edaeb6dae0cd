"""The witness as a real `ree-ledger witness serve` process over real HTTP: the spec's answers,
SIGKILL and restart, concurrent requests, forks and smaller trees."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.tlog.encoding import sha256
from ledger.tlog.note import open_checkpoint
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from tests.witness.harness import WitnessProcess, init_witness_home
from tests.witness.logs import Log
from tests.witness.spec import cosignature_time

NAME = "witness.test/served"
PROBLEM = "application/problem+json"


@pytest.fixture
def log() -> Log:
    return Log.make(size=5)


@pytest.fixture
def vkey(tmp_path: Path) -> str:
    return init_witness_home(tmp_path / "w", NAME)


@pytest.fixture
def witness(tmp_path: Path, vkey: str, log: Log) -> Iterator[WitnessProcess]:
    with WitnessProcess(tmp_path / "w", [log.vkey], tmp_path / "witness.log") as process:
        yield process


def _body(note: str) -> str:
    return note.split("\n\n")[0] + "\n"


def _cosigned(response: httpx.Response, log: Log, vkey: str, size: int | None = None) -> int:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return cosignature_time(_body(log.note(size)), response.text, vkey)


def _conflict(response: httpx.Response) -> int:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "text/x.tlog.size"
    assert response.text.endswith("\n")
    return int(response.text)


def test_the_spec_answers_over_http(witness: WitnessProcess, log: Log, vkey: str) -> None:
    assert _conflict(witness.add_checkpoint(log.request(3))) == 0
    # The first request spelled out by hand, as the spec writes it: old size, no proof lines.
    _cosigned(witness.add_checkpoint(f"old 0\n\n{log.note()}".encode()), log, vkey)
    assert _conflict(witness.add_checkpoint(log.request(0))) == 5
    log.grow(4)
    _cosigned(witness.add_checkpoint(log.request(5)), log, vkey)
    bad_proof = format_add_checkpoint(AddCheckpoint(9, (bytes(32),), log.grow(1).note()))
    refused = {
        422: witness.add_checkpoint(bad_proof),
        404: witness.add_checkpoint(Log.make(seed=2, origin="other.test/log", size=1).request(0)),
        403: witness.add_checkpoint(Log(Log.make(seed=3).key, log.origin, log.leaves).request(9)),
        400: witness.add_checkpoint(b"old 09\n\n" + log.note().encode()),
    }
    for status, response in refused.items():
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == status
    assert httpx.get(f"{witness.url}/add-checkpoint").status_code == 405


def test_cosignature_appended_to_the_note_is_served_for_monitors(
    witness: WitnessProcess, log: Log, vkey: str
) -> None:
    answer = witness.add_checkpoint(log.request(0))
    served = httpx.get(f"{witness.url}/{sha256(log.origin.encode()).hex()}/checkpoint")
    assert served.status_code == 200
    assert served.text == log.note() + answer.text


def test_state_survives_sigkill_and_restart(tmp_path: Path, vkey: str, log: Log) -> None:
    process = WitnessProcess(tmp_path / "w", [log.vkey], tmp_path / "witness.log")
    process.start()
    try:
        branch = log.fork()
        log.grow(3, tag="a")
        branch.grow(3, tag="b")
        acknowledged = 0
        for _round in range(3):  # an answer, then a crash at once: the answer must hold
            _cosigned(process.add_checkpoint(log.request(acknowledged)), log, vkey)
            acknowledged = len(log.leaves)
            process.kill()
            process.start()
            assert _conflict(process.add_checkpoint(log.request(0))) == acknowledged
            log.grow(2, tag="a")
        # After the crashes: the other branch, at the size the witness holds, is a fork.
        branch.grow(acknowledged - len(branch.leaves), tag="b")
        fork = process.add_checkpoint(branch.request(acknowledged))
        assert fork.status_code == 422 and "forked" in fork.json()["detail"]
        # A smaller tree after the larger one: refused whichever old size is claimed.
        assert _conflict(process.add_checkpoint(log.request(5, size=8))) == acknowledged
        smaller = format_add_checkpoint(AddCheckpoint(acknowledged, (), log.note(8)))
        assert process.add_checkpoint(smaller).status_code == 400
        process.kill()
        process.start()
        # The fork is refused again after another crash, and the true branch goes on.
        assert process.add_checkpoint(branch.request(acknowledged)).status_code == 422
        _cosigned(process.add_checkpoint(log.request(acknowledged)), log, vkey)
    finally:
        process.stop()


def _race(witnesses: list[WitnessProcess], bodies: list[bytes]) -> list[httpx.Response]:
    """POST each body from its own thread, released together; the answers in order."""
    barrier = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def post(position: int) -> None:
        with httpx.Client() as client:
            target = witnesses[position % len(witnesses)]
            client.get(f"{target.url}/healthz")  # connect before the barrier
            barrier.wait()
            answers[position] = target.add_checkpoint(bodies[position], client)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _race_rounds(witnesses: list[WitnessProcess], log: Log, vkey: str, rounds: int) -> None:
    held = len(log.leaves)  # the caller had the witness cosign the log as it is
    for round_ in range(rounds):
        # Two consistent extensions, or two branches of a fork, both from the size held.
        first, second = (
            log.fork().grow(1 + round_ % 2, tag=f"x{round_}"),
            log.fork().grow(2, tag=f"y{round_}"),
        )
        answers = _race(witnesses, [first.request(held), second.request(held)])
        winners = [i for i, answer in enumerate(answers) if answer.status_code == 200]
        assert len(winners) == 1, [(a.status_code, a.text) for a in answers]
        winner = (first, second)[winners[0]]
        loser = answers[1 - winners[0]]
        _cosigned(answers[winners[0]], winner, vkey)
        assert loser.status_code == 409 and int(loser.text) == len(winner.leaves)
        log.leaves = list(winner.leaves)
        held = len(log.leaves)


def test_two_requests_racing_from_the_same_size_one_wins(
    witness: WitnessProcess, log: Log, vkey: str
) -> None:
    _cosigned(witness.add_checkpoint(log.request(0)), log, vkey)
    _race_rounds([witness], log, vkey, rounds=12)


def test_two_processes_on_one_home_racing_one_wins(tmp_path: Path, vkey: str, log: Log) -> None:
    home = tmp_path / "w"
    first = WitnessProcess(home, [log.vkey], tmp_path / "first.log")
    second = WitnessProcess(home, [log.vkey], tmp_path / "second.log")
    with first, second:
        _cosigned(first.add_checkpoint(log.request(0)), log, vkey)
        _race_rounds([first, second], log, vkey, rounds=12)


class _Poster(threading.Thread):
    """Submits the log's growth back to back, and now and then the other branch of a fork,
    to whichever witness process is up; remembers every 200."""

    def __init__(self, witness: WitnessProcess, log: Log, branch: Log) -> None:
        super().__init__(daemon=True)
        self.witness, self.log, self.branch = witness, log, branch
        self.acknowledged: list[int] = []
        self.fork_cosigned = 0
        self.done = threading.Event()
        self.believed = len(log.leaves)

    def run(self) -> None:
        step = 0
        while not self.done.is_set():
            step += 1
            try:
                self._step(step)
            except httpx.TransportError:
                time.sleep(0.02)  # down, or restarting on a new port

    def _step(self, step: int) -> None:
        with httpx.Client(timeout=5.0) as client:
            if step % 5 == 0:  # the fork, at the size the poster believes the witness holds
                size = max(self.believed, len(self.branch.leaves))
                self.branch.grow(size - len(self.branch.leaves), tag="fork")
                answer = self.witness.add_checkpoint(self.branch.request(self.believed), client)
                self.fork_cosigned += answer.status_code == 200
                return
            if len(self.log.leaves) == self.believed:
                self.log.grow(1 + step % 3)
            answer = self.witness.add_checkpoint(self.log.request(self.believed), client)
            if answer.status_code == 200:
                self.believed = len(self.log.leaves)
                self.acknowledged.append(self.believed)
            elif answer.status_code == 409:
                self.believed = int(answer.text)
            else:
                raise AssertionError(answer.text)


def test_crashes_at_random_moments_lose_no_answer(tmp_path: Path, vkey: str, log: Log) -> None:
    rng = random.Random(20261206)
    process = WitnessProcess(tmp_path / "w", [log.vkey], tmp_path / "witness.log")
    process.start()
    branch = log.fork().grow(1, tag="fork")
    poster = _Poster(process, log, branch)
    poster.start()
    try:
        for _kill in range(4):
            time.sleep(rng.uniform(0.3, 0.8))
            process.kill()  # whatever was in flight
            process.start()
        time.sleep(0.3)
    finally:
        poster.done.set()
        poster.join(timeout=30)
        try:
            served = httpx.get(f"{process.url}/{sha256(log.origin.encode()).hex()}/checkpoint")
        finally:
            process.stop()
    assert len(poster.acknowledged) > 4, "the poster made too little progress to test anything"
    assert poster.fork_cosigned == 0
    # Nothing acknowledged was forgotten, and what is held is the one true history.
    held = open_checkpoint(served.text, log.vkey)
    assert held.size >= max(poster.acknowledged)
    assert held.root == log.root(held.size)
    cosignature_time(
        _body(log.note(held.size)), served.text.split("\n\n")[1].split("\n")[1] + "\n", vkey
    )
