"""The ledger as real processes: a home made by `ree-ledger init`, `serve` that can be killed,
and `audit`; the client side of the checks is tests/reliability/client.py.

Scale: the fast defaults keep `make test` short; `bench/stress.py` sets the REE_LEDGER_STRESS_*
variables read by `Scale` for the long runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ledger.home import Home
from tests.support import Party

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0
CLI_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


# --- scale -------------------------------------------------------------------------------


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


@dataclass(frozen=True)
class Scale:
    """How hard the reliability tests push; fast defaults, overridden by bench/stress.py."""

    kills: int  # SIGKILLs per backend in the crash test
    uptime_s: float  # the longest a server lives between two kills
    threads: int  # client threads in the concurrency test
    events_per_thread: int  # independent events each of them posts
    conflict_pairs: int  # pairs of rival events on one lot
    fuzz_examples: int  # schemathesis cases per operation and generation mode
    parser_examples: int  # hypothesis examples per parser property
    seed: int

    @classmethod
    def from_env(cls) -> Scale:
        return cls(
            kills=_env_int("REE_LEDGER_STRESS_KILLS", 5),
            uptime_s=_env_int("REE_LEDGER_STRESS_UPTIME_MS", 700) / 1000,
            threads=_env_int("REE_LEDGER_STRESS_THREADS", 16),
            events_per_thread=_env_int("REE_LEDGER_STRESS_EVENTS", 4),
            conflict_pairs=_env_int("REE_LEDGER_STRESS_PAIRS", 8),
            fuzz_examples=_env_int("REE_LEDGER_STRESS_FUZZ_EXAMPLES", 12),
            parser_examples=_env_int("REE_LEDGER_STRESS_PARSER_EXAMPLES", 300),
            seed=_env_int("REE_LEDGER_STRESS_SEED", 20261128),
        )


SCALE = Scale.from_env()


# --- the command and its processes -----------------------------------------------------------


def cli() -> list[str]:
    """The installed `ree-ledger` script next to this interpreter, else its entry point."""
    script = Path(sys.executable).with_name("ree-ledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from ledger.cli.main import main; main()"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LedgerHome:
    """A home made by `ree-ledger init`, its database and the keys it published."""

    path: Path
    database_url: str
    log_vkey: str
    operator_key_b64: str

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "REE_LEDGER_HOME": str(self.path),
            "REE_LEDGER_DATABASE_URL": self.database_url,
        }

    @property
    def operator(self) -> Party:
        return Party("operator", Home(self.path).operator_key())

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`ree-ledger ARGS…` in this home; with `check`, a non-zero exit fails the test."""
        done = subprocess.run(
            [*cli(), *args],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        if check:
            assert done.returncode == 0, f"ree-ledger {args}:\n{done.stdout}\n{done.stderr}"
        return done

    def audit(self) -> subprocess.CompletedProcess[str]:
        """`ree-ledger audit`, trusting the keys `init` printed (not those in the database)."""
        return self.run(
            "audit",
            "--log-key",
            self.log_vkey,
            "--operator-key",
            self.operator_key_b64,
            check=False,
        )


def make_home(path: Path, database_url: str) -> LedgerHome:
    """`ree-ledger init` a fresh home on `database_url`; returns the keys it printed."""
    home = LedgerHome(path, database_url, "", "")
    printed = dict(
        line.split(":", 1) for line in home.run("init").stdout.splitlines() if ":" in line
    )
    home.log_vkey = printed["log key"].strip()
    home.operator_key_b64 = printed["operator key"].strip()
    return home


class Server:
    """`ree-ledger serve` on a free loopback port, in its own process group so that a kill
    takes its workers with it."""

    def __init__(self, home: LedgerHome, log: Path, workers: int = 1) -> None:
        self.home = home
        self.log = log
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        """Spawn; call `wait_ready` before sending requests."""
        port = free_port()
        args = [*cli(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args,
                env=self.home.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> str:
        """Wait until /healthz answers 200."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            assert code is None, f"serve exited {code}:\n{self.log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"no /healthz:\n{self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return self.url
            except httpx.TransportError:
                pass
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the server and its workers at once: a crash, no shutdown."""
        self._signal(signal.SIGKILL)
        self._reap(STOP_TIMEOUT_S)

    def stop(self) -> None:
        """Shut down cleanly (SIGTERM), SIGKILL if that takes too long; idempotent."""
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        self._reap(STOP_TIMEOUT_S)

    def _signal(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)  # the group we made with start_new_session

    def _reap(self, timeout: float) -> None:
        if self.process is not None:
            self.process.wait(timeout=timeout)
            self.process = None

    def __enter__(self) -> Server:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
