"""A log and its witnesses as real processes (`ree-ledger serve`, `ree-ledger witness serve`):
writes never wait for a witness, a witness that comes back cosigns, the 409 path, the quorum
served, verify-bundle with and without the quorum, and a forked view caught by the audit.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.home import Home
from ledger.tlog.cosignature import parse_witness_vkey, verify_cosignatures
from ledger.tlog.note import open_checkpoint
from ledger.tlog.witness_protocol import AddCheckpoint, format_add_checkpoint
from tests.reliability.harness import (
    REPO,
    LedgerHome,
    Server,
    cli,
    free_port,
    make_home,
)
from tests.support import Party, extract, register
from tests.witness import spec
from tests.witness.harness import WitnessProcess, init_witness_home

ORIGIN = "ree-ledger.local/log"  # what `ree-ledger init` records by default
WAIT_S = 30.0  # how long a cosignature may take to arrive (the submitter runs every 0.1 s)


@pytest.fixture(autouse=True)
def _fast_submitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REE_LEDGER_WITNESS_INTERVAL", "0.1")


class PinnedWitness(WitnessProcess):
    """A witness that comes back on the same port after a stop: the log knows one URL."""

    def __init__(self, home: Path, log_vkeys: list[str], log: Path) -> None:
        super().__init__(home, log_vkeys, log)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        args = [*cli(), "witness", "serve", "--home", str(self.home), "--port", str(self.port)]
        for vkey in self.log_vkeys:
            args += ["--log-key", vkey]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready()
        return self.url


@dataclass
class Site:
    """A log home with its server, and witnesses made for it."""

    tmp: Path
    home: LedgerHome
    operator: Party

    def witness(self, name: str) -> tuple[PinnedWitness, str]:
        path = self.tmp / name
        vkey = init_witness_home(path, f"{name}.witness.example")
        return PinnedWitness(path, [self.home.log_vkey], self.tmp / f"{name}.log"), vkey

    def add(self, witness: PinnedWitness, vkey: str, *quorum: str) -> None:
        self.home.run("witness", "add", witness.url, vkey, *quorum)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """A log on SQLite in its home (the fork test copies the home, database and all)."""
    path = tmp_path / "home"
    home = make_home(path, f"sqlite:///{path}/ledger.db")
    return Site(tmp_path, home, Party("operator", Home(path).operator_key()))


@pytest.fixture
def any_site(tmp_path: Path, database_url: str) -> Site:
    """A log on each backend (the lease, the quorum query and the cosignatures on both)."""
    path = tmp_path / "home"
    home = make_home(path, database_url)
    return Site(tmp_path, home, Party("operator", Home(path).operator_key()))


def _post(url: str, party: Party, event: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(f"{url}/v1/entries", json=party.envelope(event), timeout=30.0)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _enrol(url: str, operator: Party, name: str) -> Party:
    party = Party(name)
    _post(url, operator, register(operator, party, ["mine"], "AU"))
    return party


def _served(url: str, **params: str) -> httpx.Response:
    return httpx.get(f"{url}/v1/checkpoint", params=params, timeout=10.0)


def _wait_cosigned(url: str, size: int, vkeys: list[str]) -> str:
    """The served checkpoint once it is of `size` and cosigned by every witness of `vkeys`."""
    keys = [parse_witness_vkey(vkey) for vkey in vkeys]
    deadline = time.monotonic() + WAIT_S
    last = ""
    while time.monotonic() < deadline:
        answer = _served(url)
        last = answer.text
        if (
            answer.status_code == 200
            and f"\n{size}\n" in answer.text
            and len(verify_cosignatures(answer.text, keys)) == len(keys)
        ):
            return answer.text
        time.sleep(0.1)
    raise AssertionError(f"no checkpoint of size {size} cosigned by {vkeys} in time: {last}")


def _independently_cosigned(note: str, vkeys: list[str]) -> None:
    """Every witness of `vkeys` has a line in `note` that the verifier written from the spec
    alone (tests/witness/spec.py, none of the project's code) accepts."""
    body, _, signatures = note.partition("\n\n")
    lines = [line + "\n" for line in signatures.splitlines()]
    for vkey in vkeys:
        name = vkey.split("+", 1)[0]
        [line] = [line for line in lines if line.split(" ")[1] == name]
        assert spec.cosignature_time(body + "\n", line, vkey) > 0


class HangingWitness:
    """A witness that takes the request and never answers (until released): what a submitter
    would be stuck on if writes waited for it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.asked = threading.Event()
        self.release = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.release.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)
            connection.recv(65536)
            self.asked.set()

    def close(self) -> None:
        self.release.set()
        for connection in self.connections:
            connection.close()
        self.sock.close()


@pytest.fixture
def hanging() -> Iterator[HangingWitness]:
    witness = HangingWitness()
    yield witness
    witness.close()


def test_writes_go_on_while_one_witness_hangs_and_another_is_down_then_it_cosigns(
    any_site: Site, hanging: HangingWitness
) -> None:
    site = any_site
    up, up_vkey = site.witness("up")
    down, down_vkey = site.witness("down")
    stuck_vkey = site.witness("stuck")[1]
    site.home.run("witness", "add", hanging.url, stuck_vkey)
    site.add(up, up_vkey)
    site.add(down, down_vkey, "--quorum", "2")
    with up, Server(site.home, site.tmp / "serve.log", workers=2) as server:
        mine = _enrol(server.url, site.operator, "mine-a")
        assert hanging.asked.wait(WAIT_S), "the submitter never reached the hanging witness"
        # The submitter is now waiting on the hanging witness: writes must not.
        for n in range(5):
            _post(server.url, mine, extract(mine, f"ORE-{n}"))
        assert not hanging.release.is_set() and hanging.connections
        size = httpx.get(f"{server.url}/v1/log").json()["size"]
        assert size == 6
        # `down` is down: no quorum of 2 yet; the newest is there unwitnessed.
        refused = _served(server.url)
        assert refused.status_code == 404 and "unwitnessed=1" in refused.json()["detail"]
        newest = _served(server.url, unwitnessed="1")
        assert open_checkpoint(newest.text, site.home.log_vkey).size == size
        with down:  # it comes back: the next round reaches it
            note = _wait_cosigned(server.url, size, [up_vkey, down_vkey])
    assert open_checkpoint(note, site.home.log_vkey, origin=ORIGIN).size == size
    _independently_cosigned(note, [up_vkey, down_vkey])
    audited = site.home.run("audit", "--witness", up_vkey, "--witness", down_vkey)
    assert "witness up.witness.example: cosigned" in audited.stdout
    listed = site.home.run("witness", "list").stdout
    assert f"down.witness.example  {down.url}  cosigned up to size {size}" in listed
    assert "stuck.witness.example" in listed and "has cosigned nothing yet" in listed


def test_a_witness_ahead_of_what_the_log_stored_answers_409_and_is_caught_up(
    site: Site,
) -> None:
    """The witness cosigned size N for another submitter (say a restored database); the log
    starts from 0, gets 409 with N, and sends a proof from N."""
    witness, vkey = site.witness("ahead")
    with witness, Server(site.home, site.tmp / "serve.log") as server:
        mine = _enrol(server.url, site.operator, "mine-a")
        _post(server.url, mine, extract(mine, "ORE-1"))
        note = _served(server.url).text
        first = httpx.post(
            f"{witness.url}/add-checkpoint",
            content=format_add_checkpoint(AddCheckpoint(0, (), note)),
            timeout=10.0,
        )
        assert first.status_code == 200, first.text
        _post(server.url, mine, extract(mine, "ORE-2"))
        site.add(witness, vkey, "--quorum", "1")
        # Only a proof from size 2 makes this witness cosign size 3.
        cosigned = _wait_cosigned(server.url, 3, [vkey])
    assert open_checkpoint(cosigned, site.home.log_vkey).size == 3


def test_verify_bundle_with_and_without_the_quorum(any_site: Site) -> None:
    site = any_site
    one, one_vkey = site.witness("one")
    two, two_vkey = site.witness("two")
    stranger_vkey = site.witness("stranger")[1]
    site.add(one, one_vkey)
    site.add(two, two_vkey, "--quorum", "2")
    with one, two, Server(site.home, site.tmp / "serve.log") as server:
        mine = _enrol(server.url, site.operator, "mine-a")
        auditor = Party("audit-office")
        _post(server.url, site.operator, register(site.operator, auditor, ["auditor"], "CH"))
        _post(server.url, mine, extract(mine, "ORE-1"))
        _wait_cosigned(server.url, 3, [one_vkey, two_vkey])
        token = site.home.run("token", "issue", auditor.id).stdout.strip().split()[-1]
        answer = httpx.get(
            f"{server.url}/v1/lots/ORE-1/bundle", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
    bundle = site.tmp / "bundle.json"
    bundle.write_text(json.dumps(answer.json()))
    keys = ["--log-key", site.home.log_vkey, "--operator-key", site.home.operator_key_b64]
    witnessed = ["--witness", one_vkey, "--witness", two_vkey]
    ok = site.home.run("verify-bundle", str(bundle), *keys, *witnessed, "--quorum", "2")
    assert "witnesses   cosigned by one.witness.example, two.witness.example" in ok.stdout
    assert site.home.run("verify-bundle", str(bundle), *keys).returncode == 0
    short = site.home.run(
        "verify-bundle", str(bundle), *keys, *witnessed, "--witness", stranger_vkey, check=False
    )
    assert short.returncode == 1
    assert short.stdout.splitlines()[-1] == (
        "BUNDLE FAILED: checkpoint: (14) cosigned by 2 of the 3 trusted witnesses "
        "(one.witness.example, two.witness.example), fewer than the quorum of 3"
    )
    # The bundle's cosigned checkpoint, shown to the auditor of the log: the log has it.
    audited = site.home.run("audit", *keys, *witnessed, "--checkpoint", str(bundle))
    assert (
        f"checkpoint {bundle}: size 3, cosigned by one.witness.example, two.witness.example; "
        "the log has it"
    ) in audited.stdout


def test_a_forked_view_cosigned_by_a_witness_is_caught_by_the_audit(site: Site) -> None:
    """A copy of the log's home taken before a batch; each copy gets different events, both
    signed by the real log key. A witness that only saw the fork cosigns it; shown to the
    auditor of the real log, that checkpoint is a forked view."""
    with Server(site.home, site.tmp / "serve.log") as server:
        mine = _enrol(server.url, site.operator, "mine-a")
    fork_path = site.tmp / "fork"
    shutil.copytree(site.home.path, fork_path)
    fork = LedgerHome(
        fork_path,
        f"sqlite:///{fork_path}/ledger.db",
        site.home.log_vkey,
        site.home.operator_key_b64,
    )
    blind, blind_vkey = site.witness("blind")
    fork.run("witness", "add", blind.url, blind_vkey, "--quorum", "1")
    with blind, Server(fork, site.tmp / "fork.log") as forked:
        _post(forked.url, mine, extract(mine, "ORE-FORK"))
        forked_note = _wait_cosigned(forked.url, 2, [blind_vkey])
    with Server(site.home, site.tmp / "serve.log") as server:
        _post(server.url, mine, extract(mine, "ORE-REAL"))
        real_note = _served(server.url).text
    (site.tmp / "forked.note").write_text(forked_note)
    (site.tmp / "real.note").write_text(real_note)
    trust = ["--log-key", site.home.log_vkey, "--witness", blind_vkey]
    caught = site.home.run(
        "audit", *trust, "--checkpoint", str(site.tmp / "forked.note"), check=False
    )
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "step (19)" in caught.stdout and "a forked view" in caught.stdout
    assert "cosigned by blind.witness.example" in caught.stdout
    fine = site.home.run("audit", *trust, "--checkpoint", str(site.tmp / "real.note"))
    assert "size 2, cosigned by none of the given witnesses; the log has it" in fine.stdout


def test_the_demo_runs_two_witnesses_and_stops_them(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "demo.log"
    with out.open("wb") as log:
        demo = subprocess.Popen(
            [*cli(), "demo", "--home", str(tmp_path / "demo"), "--port", str(port)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while "witness-2.demo" not in out.read_text() or "Uvicorn running" not in out.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        vkeys = [
            (tmp_path / "demo" / "witnesses" / name / "witness.vkey").read_text().strip()
            for name in ("witness-1.demo.ree-ledger.local", "witness-2.demo.ree-ledger.local")
        ]
        size = httpx.get(f"{url}/v1/log").json()["size"]
        _independently_cosigned(_wait_cosigned(url, size, vkeys), vkeys)
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    for witness_port in (port + 1, port + 2):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{witness_port}/healthz", timeout=2.0)
