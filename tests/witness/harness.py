"""A witness as a real process: `ree-ledger witness init`, then `witness serve` on a free
loopback port, in its own process group so that SIGKILL is a crash of the whole server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.reliability.harness import CLI_TIMEOUT_S, REPO, START_TIMEOUT_S, cli, free_port

STOP_TIMEOUT_S = 15.0


def init_witness_home(path: Path, name: str) -> str:
    """`ree-ledger witness init`; returns the verifier key it printed."""
    done = subprocess.run(
        [*cli(), "witness", "init", "--home", str(path), "--name", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class WitnessProcess:
    """`ree-ledger witness serve --home HOME --log-key K...`; start() again after kill()
    restarts it on the same home (a new port)."""

    def __init__(self, home: Path, log_vkeys: list[str], log: Path) -> None:
        self.home = home
        self.log_vkeys = log_vkeys
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        port = free_port()
        args = [*cli(), "witness", "serve", "--home", str(self.home), "--port", str(port)]
        for vkey in self.log_vkeys:
            args += ["--log-key", vkey]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.url = f"http://127.0.0.1:{port}"
        try:
            self.wait_ready()
        except BaseException:
            self.stop()  # never leave a process behind a failed start
            raise
        return self.url

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            assert code is None, f"witness exited {code}:\n{self.log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"no /healthz:\n{self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)

    def add_checkpoint(self, body: bytes, client: httpx.Client | None = None) -> httpx.Response:
        poster = client or httpx
        return poster.post(f"{self.url}/add-checkpoint", content=body, timeout=30.0)

    def kill(self) -> None:
        """SIGKILL: a crash, no shutdown."""
        self._signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        self._reap()

    def _signal(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(timeout=STOP_TIMEOUT_S)
            self.process = None

    def __enter__(self) -> WitnessProcess:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
