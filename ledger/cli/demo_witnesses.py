"""The demo's two witnesses: `ree-ledger witness serve` processes beside the log, started
before it serves and stopped when it stops, so that a newcomer sees cosigned checkpoints."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from ledger.home import HomeError
from ledger.service import witnesses
from ledger.store.engine import Database
from ledger.witness.home import init_witness

NAMES = ("witness-1.demo.ree-ledger.local", "witness-2.demo.ree-ledger.local")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class DemoWitness:
    name: str
    url: str
    vkey: str


def _command() -> list[str]:
    """This interpreter's `ree-ledger`, whatever the PATH holds."""
    return [sys.executable, "-m", "ledger.cli.main"]


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HomeError(f"the demo witness at {url} exited: see {log}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.1)
    raise HomeError(
        f"the demo witness at {url} did not start in {START_TIMEOUT_S:.0f} s: see {log}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def demo_witnesses(
    home: Path, database_url: str, log_vkey: str, host: str, ports: tuple[int, int]
) -> Iterator[list[DemoWitness]]:
    """Start the two witnesses (their homes under <home>/witnesses, made on first use), make
    them the log's witnesses with quorum 2, and stop them when the block ends."""
    started: list[subprocess.Popen[bytes]] = []
    found: list[DemoWitness] = []
    try:
        for name, port in zip(NAMES, ports, strict=True):
            path = home / "witnesses" / name
            vkey = init_witness(path, name)  # the same key again on a second run
            url = f"http://{host}:{port}"
            log = path / "serve.log"
            args = ["witness", "serve", "--home", str(path), "--log-key", log_vkey]
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [*_command(), *args, "--host", host, "--port", str(port)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(process)
            _wait_ready(process, url, log)
            found.append(DemoWitness(name, url, vkey))
        db = Database(database_url)
        try:
            for witness in found:
                witnesses.add_witness(db, witness.url, witness.vkey)
            witnesses.set_quorum(db, len(found))
        finally:
            db.dispose()
        yield found
    finally:
        for process in started:
            _stop(process)
